//! Server-side encryption on the OSS wire: the `x-oss-server-side-encryption` request
//! headers and their echo, and Put/Get/DeleteBucketEncryption. The encryption itself
//! is the core's (`core::sse`).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};

use super::object::{check_content_md5, set};
use super::{MAX_SMALL_BODY, read_small_body};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::header;
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::storage::{BucketRecord, Sse, SseAlgorithm};

/// The names OSS gives the three settings, in headers or in a bucket rule.
struct Names {
    algorithm: &'static str,
    key_id: &'static str,
    data: &'static str,
}

const HEADERS: Names = Names {
    algorithm: "x-oss-server-side-encryption",
    key_id: "x-oss-server-side-encryption-key-id",
    data: "x-oss-server-side-data-encryption",
};

const RULE: Names = Names {
    algorithm: "SSEAlgorithm",
    key_id: "KMSMasterKeyID",
    data: "KMSDataEncryption",
};

fn algorithm_name(a: SseAlgorithm) -> &'static str {
    match a {
        SseAlgorithm::Aes256 => "AES256",
        SseAlgorithm::Kms => "KMS",
        SseAlgorithm::Sm4 => "SM4",
    }
}

/// Check the settings as OSS does: a known algorithm; a key id (not empty) and a
/// data encryption (only `SM4`) only with KMS.
fn settings(
    names: &Names,
    algorithm: &str,
    key_id: Option<&str>,
    data: Option<&str>,
    bad_algorithm: impl FnOnce() -> OssError,
) -> ApiResult<Sse> {
    let algorithm = match algorithm {
        "AES256" => SseAlgorithm::Aes256,
        "KMS" => SseAlgorithm::Kms,
        "SM4" => SseAlgorithm::Sm4,
        _ => return Err(bad_algorithm()),
    };
    let kms = algorithm == SseAlgorithm::Kms;
    if let Some(id) = key_id {
        if !kms {
            return Err(OssError::invalid_argument(
                format!(
                    "{} is only valid when {} is KMS.",
                    names.key_id, names.algorithm
                ),
                names.key_id,
                id,
            ));
        }
        if id.is_empty() {
            return Err(OssError::invalid_argument(
                format!(
                    "{} is empty: name a KMS key, or leave it out to use the default key.",
                    names.key_id
                ),
                names.key_id,
                id,
            ));
        }
    }
    // OSS ignores a data encryption without KMS (the oss2 suite's
    // test_put_object_with_encryption and test_put_bucket_encryption).
    let data_sm4 = match data.filter(|_| kms) {
        None => false,
        Some("SM4") => true,
        Some(v) => {
            return Err(OssError::invalid_argument(
                format!("{} must be SM4 (with {} KMS).", names.data, names.algorithm),
                names.data,
                v,
            ));
        }
    };
    Ok(Sse {
        algorithm,
        key_id: key_id.map(str::to_owned),
        data_sm4,
    })
}

fn bad_algorithm(name: &str, value: &str) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidEncryptionAlgorithmError",
        "The Encryption request you specified is not valid. Supported value: AES256/KMS/SM4.",
    )
    .with("ArgumentName", name)
    .with("ArgumentValue", value)
}

/// The encryption a PutObject-style request asks for (None: none named).
pub fn request_encryption(h: &HeaderMap) -> ApiResult<Option<Sse>> {
    let key_id = header(h, HEADERS.key_id);
    let data = header(h, HEADERS.data);
    let Some(algorithm) = header(h, HEADERS.algorithm) else {
        return match key_id {
            None => Ok(None),
            Some(v) => Err(OssError::invalid_argument(
                format!("{} needs {}: KMS.", HEADERS.key_id, HEADERS.algorithm),
                HEADERS.key_id,
                v,
            )),
        };
    };
    settings(&HEADERS, algorithm, key_id, data, || {
        bad_algorithm(HEADERS.algorithm, algorithm)
    })
    .map(Some)
}

/// Echo an object's encryption as OSS does (nothing for an unencrypted object).
pub fn set_encryption_headers(out: &mut HeaderMap, sse: Option<&Sse>) {
    let Some(sse) = sse else { return };
    set(out, HEADERS.algorithm, algorithm_name(sse.algorithm));
    if let Some(id) = crate::core::sse::kms_key_id(sse) {
        set(out, HEADERS.key_id, id);
    }
    if sse.data_sm4 {
        set(out, HEADERS.data, "SM4");
    }
}

/// The `ServerSideEncryptionRule` children of a bucket's default encryption, shared by
/// GetBucketEncryption and GetBucketInfo (`None` when there is no rule).
pub fn write_rule(w: &mut XmlWriter, bucket: &BucketRecord) {
    match &bucket.config.encryption {
        None => w.elem(RULE.algorithm, "None"),
        Some(sse) => {
            w.elem(RULE.algorithm, algorithm_name(sse.algorithm));
            if sse.algorithm == SseAlgorithm::Kms {
                w.elem(RULE.key_id, sse.key_id.as_deref().unwrap_or(""));
            }
            if sse.data_sm4 {
                w.elem(RULE.data, "SM4");
            }
        }
    }
}

/// A PutBucketEncryption body.
fn parse_rule(body: &[u8]) -> ApiResult<Sse> {
    let doc = xml::parse(body, "ServerSideEncryptionRule")?;
    let by_default = doc
        .child("ApplyServerSideEncryptionByDefault")
        .ok_or_else(|| {
            OssError::malformed_xml(
                "<ServerSideEncryptionRule> needs <ApplyServerSideEncryptionByDefault>",
            )
        })?;
    let algorithm = by_default.child_text(RULE.algorithm).ok_or_else(|| {
        OssError::malformed_xml("<ApplyServerSideEncryptionByDefault> needs <SSEAlgorithm>")
    })?;
    // An empty KMSMasterKeyID (as OSS's own example sends) means the default key.
    let key_id = by_default
        .child_text(RULE.key_id)
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let data = by_default.child_text(RULE.data).map(str::trim);
    let algorithm = algorithm.trim();
    // A bad algorithm is the error of the object headers (the oss2 suite's
    // test_bucket_encryption_wrong).
    settings(&RULE, algorithm, key_id, data, || {
        bad_algorithm(RULE.algorithm, algorithm)
    })
}

/// PutBucketEncryption: the encryption of new objects that ask for none.
pub async fn put_bucket_encryption(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let rule = parse_rule(&body)?;
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.encryption = Some(rule)
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_encryption(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    if bucket.config.encryption.is_none() {
        return Err(OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchServerSideEncryptionRule",
            "The server side encryption rule does not exist: set one with PutBucketEncryption.",
        )
        .with("BucketName", &bucket.name));
    }
    let mut w = XmlWriter::new("ServerSideEncryptionRule");
    w.open("ApplyServerSideEncryptionByDefault");
    write_rule(&mut w, bucket);
    w.close("ApplyServerSideEncryptionByDefault");
    Ok(xml_response(w.finish()))
}

/// DeleteBucketEncryption: 204, also when there was no rule.
pub async fn delete_bucket_encryption(ctx: &Ctx) -> ApiResult<Response> {
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| b.config.encryption = None)
        .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn request_headers() {
        assert_eq!(request_encryption(&headers(&[])).unwrap(), None);
        let kms = request_encryption(&headers(&[
            ("x-oss-server-side-encryption", "KMS"),
            ("x-oss-server-side-encryption-key-id", "k1"),
            ("x-oss-server-side-data-encryption", "SM4"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            kms,
            Sse {
                algorithm: SseAlgorithm::Kms,
                key_id: Some("k1".into()),
                data_sm4: true
            }
        );
        let code =
            |pairs: &[(&'static str, &str)]| request_encryption(&headers(pairs)).unwrap_err().code;
        assert_eq!(
            code(&[("x-oss-server-side-encryption", "aes256")]),
            "InvalidEncryptionAlgorithmError"
        );
        assert_eq!(
            code(&[
                ("x-oss-server-side-encryption", "AES256"),
                ("x-oss-server-side-encryption-key-id", "k1")
            ]),
            "InvalidArgument"
        );
        assert_eq!(
            code(&[
                ("x-oss-server-side-encryption", "KMS"),
                ("x-oss-server-side-data-encryption", "AES256")
            ]),
            "InvalidArgument"
        );
        assert_eq!(
            code(&[("x-oss-server-side-encryption-key-id", "k1")]),
            "InvalidArgument"
        );
        // A data encryption without KMS is ignored.
        for algorithm in [Some("AES256"), Some("SM4"), None] {
            let mut pairs = vec![("x-oss-server-side-data-encryption", "SM4")];
            pairs.extend(algorithm.map(|a| ("x-oss-server-side-encryption", a)));
            let sse = request_encryption(&headers(&pairs)).unwrap();
            assert_eq!(sse.map(|s| s.data_sm4), algorithm.map(|_| false));
        }
    }

    #[test]
    fn bucket_rules() {
        let rule = |body: &str| parse_rule(body.as_bytes());
        assert_eq!(
            rule("<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID></KMSMasterKeyID></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>").unwrap(),
            Sse { algorithm: SseAlgorithm::Aes256, key_id: None, data_sm4: false }
        );
        assert_eq!(
            rule("<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>").unwrap_err().code,
            "InvalidEncryptionAlgorithmError"
        );
        // A data encryption without KMS is ignored.
        assert_eq!(
            rule("<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>SM4</SSEAlgorithm><KMSDataEncryption>SM4</KMSDataEncryption></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>").unwrap(),
            Sse { algorithm: SseAlgorithm::Sm4, key_id: None, data_sm4: false }
        );
        assert_eq!(
            rule("<ServerSideEncryptionRule></ServerSideEncryptionRule>")
                .unwrap_err()
                .code,
            "MalformedXML"
        );
    }
}
