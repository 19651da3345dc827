//! PostObject: browser form uploads (`POST /` to a bucket, multipart/form-data)
//! signed with a policy document (V1 or V4), per spec/oss-api.md §5.11.

use std::collections::HashMap;

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{StreamExt, TryStreamExt};
use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde_json::Value;

use super::object::{forbid_overwrite, record_from_headers, set};
use crate::access::{Action, Principal};
use crate::api::oss::auth::{v1_signature, v4_signing_key};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::header;
use crate::api::oss::xml::XmlWriter;
use crate::api::oss::{Ctx, URL_ENCODE, empty, xml_response};
use crate::core::CoreError;
use crate::core::object::{self, BodyHome};
use crate::names::ObjectKey;

/// Longest non-file form field (OSS: 4 KB) and all of them together.
const MAX_FIELD: usize = 4 * 1024;
const MAX_FIELDS_TOTAL: usize = 64 * 1024;

fn malformed(message: impl Into<String>) -> OssError {
    OssError::new(StatusCode::BAD_REQUEST, "MalformedPOSTRequest", message)
}

fn policy_failed(why: impl std::fmt::Display) -> OssError {
    OssError::access_denied(format!("Invalid according to Policy: {why}"))
}

/// Form fields by lower-case name.
type Fields = HashMap<String, String>;

/// Check the policy's expiration and conditions against the form (`size` is the
/// file's length, checked after upload). Field names compare case-insensitively.
pub fn check_policy(
    policy_b64: &str,
    fields: &Fields,
    bucket: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<(u64, u64)> {
    let invalid =
        |why: String| OssError::new(StatusCode::BAD_REQUEST, "InvalidPolicyDocument", why);
    let json = STANDARD
        .decode(policy_b64.trim())
        .map_err(|_| invalid("The policy is not valid base64.".into()))?;
    let doc: Value = serde_json::from_slice(&json)
        .map_err(|e| invalid(format!("The policy is not valid JSON: {e}")))?;
    let expiration = doc
        .get("expiration")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("The policy needs an \"expiration\".".into()))?;
    let expires = chrono::DateTime::parse_from_rfc3339(expiration)
        .map_err(|_| invalid(format!("Bad expiration {expiration:?}.")))?;
    if expires < now {
        return Err(policy_failed("Policy expired."));
    }
    let conditions = doc
        .get("conditions")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("The policy needs a \"conditions\" array.".into()))?;
    let value_of = |name: &str| -> String {
        let name = name.trim_start_matches('$').to_ascii_lowercase();
        if name == "bucket" {
            bucket.to_owned()
        } else {
            fields.get(&name).cloned().unwrap_or_default()
        }
    };
    let mut length_range = (0, u64::MAX);
    for condition in conditions {
        let failed = || policy_failed(format!("Policy Condition failed: {condition}"));
        match condition {
            Value::Object(map) => {
                for (name, want) in map {
                    if value_of(name) != want.as_str().unwrap_or_default() {
                        return Err(failed());
                    }
                }
            }
            Value::Array(items) => {
                let op = items
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                match (op.as_str(), items.get(1), items.get(2)) {
                    ("content-length-range", Some(min), Some(max)) => {
                        let (Some(min), Some(max)) = (min.as_u64(), max.as_u64()) else {
                            return Err(invalid(format!("Bad condition {condition}")));
                        };
                        length_range = (min, max);
                    }
                    ("eq", Some(Value::String(name)), Some(Value::String(want))) => {
                        if value_of(name) != *want {
                            return Err(failed());
                        }
                    }
                    ("starts-with", Some(Value::String(name)), Some(Value::String(prefix))) => {
                        if !value_of(name).starts_with(prefix.as_str()) {
                            return Err(failed());
                        }
                    }
                    ("in", Some(Value::String(name)), Some(Value::Array(options))) => {
                        let actual = value_of(name);
                        if !options.iter().any(|o| o.as_str() == Some(actual.as_str())) {
                            return Err(failed());
                        }
                    }
                    ("not-in", Some(Value::String(name)), Some(Value::Array(options))) => {
                        let actual = value_of(name);
                        if options.iter().any(|o| o.as_str() == Some(actual.as_str())) {
                            return Err(failed());
                        }
                    }
                    _ => {
                        return Err(invalid(format!(
                            "Unknown or malformed condition {condition}"
                        )));
                    }
                }
            }
            _ => return Err(invalid(format!("Malformed condition {condition}"))),
        }
    }
    Ok(length_range)
}

/// Who signed the form: V1 (`OSSAccessKeyId`, `Signature`), V4
/// (`x-oss-credential`, `x-oss-signature`), or nobody.
fn form_principal(
    ctx: &Ctx,
    fields: &Fields,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<(Principal, Option<String>)> {
    let get = |n: &str| fields.get(n).map(String::as_str);
    let lookup = |id: &str| {
        ctx.app.credentials.get(id).ok_or_else(|| {
            OssError::new(
                StatusCode::FORBIDDEN,
                "InvalidAccessKeyId",
                "The OSS Access Key Id you provided does not exist in our records.",
            )
            .with("OSSAccessKeyId", id)
        })
    };
    let mismatch = || {
        OssError::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
    };
    if get("x-oss-signature-version") == Some("OSS4-HMAC-SHA256") {
        let (Some(credential), Some(date), Some(signature), Some(policy)) = (
            get("x-oss-credential"),
            get("x-oss-date"),
            get("x-oss-signature"),
            get("policy"),
        ) else {
            return Err(malformed(
                "A V4 form needs x-oss-credential, x-oss-date, x-oss-signature and policy.",
            ));
        };
        let parts: Vec<&str> = credential.split('/').collect();
        let [id, day, region, "oss", "aliyun_v4_request"] = parts[..] else {
            return Err(OssError::invalid_argument(
                "x-oss-credential must be <AccessKeyId>/<yyyymmdd>/<region>/oss/aliyun_v4_request.",
                "x-oss-credential",
                credential,
            ));
        };
        let signed_at = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| {
                OssError::invalid_argument(
                    "x-oss-date must look like 20231203T121212Z.",
                    "x-oss-date",
                    date,
                )
            })?
            .and_utc();
        if !date.starts_with(day) {
            return Err(OssError::invalid_argument(
                "The credential date must be the date of x-oss-date.",
                "x-oss-credential",
                credential,
            ));
        }
        // OSS: 15 minutes of skew, and a form is never valid 7 days after x-oss-date.
        if signed_at - now > chrono::Duration::minutes(15)
            || now - signed_at > chrono::Duration::days(7)
        {
            return Err(OssError::access_denied(
                "The form's x-oss-date is too far from the server time (or more than 7 days old).",
            ));
        }
        let cred = lookup(id)?;
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(&v4_signing_key(&cred.secret, day, region))
                .expect("any key length");
        mac.update(policy.as_bytes());
        if !hex::encode(mac.finalize().into_bytes()).eq_ignore_ascii_case(signature) {
            return Err(mismatch().with("StringToSign", policy));
        }
        return Ok((cred.principal.clone(), Some(policy.to_owned())));
    }
    match (get("ossaccesskeyid"), get("policy"), get("signature")) {
        (None, None, None) => Ok((Principal::Anonymous, None)),
        (Some(id), Some(policy), Some(signature)) => {
            let cred = lookup(id)?;
            if v1_signature(&cred.secret, policy) != signature {
                return Err(mismatch().with("StringToSign", policy));
            }
            Ok((cred.principal.clone(), Some(policy.to_owned())))
        }
        // A policy without a signature is still checked (public-read-write buckets).
        (None, Some(policy), None) => Ok((Principal::Anonymous, Some(policy.to_owned()))),
        _ => Err(malformed(
            "OSSAccessKeyId, policy and Signature go together: send all three or none.",
        )),
    }
}

pub async fn post_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let content_type = header(&ctx.headers, "content-type").unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        OssError::new(
            StatusCode::BAD_REQUEST,
            "RequestIsNotMultiPartContent",
            "Bucket POST must be of the enclosure-type multipart/form-data.",
        )
    })?;
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut fields = Fields::new();
    let mut total = 0;
    let now = chrono::Utc::now();
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| malformed(format!("The form could not be read: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_ascii_lowercase();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let file_type = field.content_type().map(|m| m.to_string());
            return store_file(ctx, fields, field, file_name, file_type, now).await;
        }
        let mut value = Vec::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| malformed(format!("The form could not be read: {e}")))?
        {
            value.extend_from_slice(&chunk);
            if value.len() > MAX_FIELD {
                return Err(OssError::new(
                    StatusCode::BAD_REQUEST,
                    "FieldItemTooLong",
                    format!("The form field {name:?} is longer than {MAX_FIELD} bytes."),
                ));
            }
        }
        total += value.len();
        if total > MAX_FIELDS_TOTAL {
            return Err(OssError::new(
                StatusCode::BAD_REQUEST,
                "MaxPOSTPreDataLengthExceededError",
                "The form fields before the file are too large.",
            ));
        }
        let value = String::from_utf8(value)
            .map_err(|_| malformed(format!("The form field {name:?} is not UTF-8.")))?;
        fields.insert(name, value);
    }
    Err(OssError::new(
        StatusCode::BAD_REQUEST,
        "IncorrectNumberOfFilesInPOSTRequest",
        "POST requires exactly one file upload per request, in a field named \"file\" after all other fields.",
    ))
}

async fn store_file(
    ctx: &Ctx,
    fields: Fields,
    file: multer::Field<'static>,
    file_name: String,
    file_type: Option<String>,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = fields
        .get("key")
        .ok_or_else(|| malformed("The form needs a \"key\" field."))?
        .replace("${filename}", &file_name);
    let key = ObjectKey::parse(&key).map_err(|e| OssError::invalid_object_name(e.0))?;
    let (principal, policy) = form_principal(ctx, &fields, now)?;
    let (min, max) = match &policy {
        Some(policy) => check_policy(policy, &fields, &bucket.name, now)?,
        None => (0, u64::MAX),
    };
    ctx.authorize_as(
        &principal,
        Action::PutObject,
        Some(bucket),
        Some(key.as_str()),
        None,
    )?;
    // The object's headers come from the form fields.
    let mut headers = HeaderMap::new();
    for (name, value) in &fields {
        let name = if name == "content-type"
            || name.starts_with("x-oss-")
            || [
                "cache-control",
                "content-disposition",
                "content-encoding",
                "expires",
            ]
            .contains(&name.as_str())
        {
            name.as_str()
        } else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(n, v);
        }
    }
    if !headers.contains_key("content-type")
        && let Some(t) = file_type
            .as_deref()
            .and_then(|t| HeaderValue::from_str(t).ok())
    {
        headers.insert("content-type", t);
    }
    let forbid = forbid_overwrite(&headers, bucket)?;
    let mut record = record_from_headers(&headers, bucket, "Normal")?;
    let callback = super::callback::prepare_form(ctx, &fields).await?;
    let limit = max.min(ctx.store().max_object_size);
    let file = file.map_err(|e| e.to_string()).boxed();
    object::apply_default_encryption(bucket, &mut record);
    let stored = object::store_stream(
        ctx.store(),
        file,
        limit,
        None,
        record.sse.as_ref(),
        BodyHome::RecordIfSmall,
    )
    .await
    .map_err(|e| match e {
        CoreError::EntityTooLarge { .. } if limit == max => policy_failed(
            "Your proposed upload exceeds the maximum allowed size (content-length-range).",
        ),
        e => e.into(),
    })?;
    if stored.size < min {
        for blob in stored.new_blobs() {
            object::remove_blob(ctx.store(), blob).await;
        }
        return Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size (content-length-range).",
        ));
    }
    stored.fill(&mut record);
    let record = object::commit_record(
        ctx.store(),
        bucket,
        key.as_str(),
        stored.new_blobs(),
        record,
        forbid,
    )
    .await?;
    let etag = format!("\"{}\"", record.etag);
    let mut response = if let Some(url) = fields
        .get("success_action_redirect")
        .filter(|u| !u.is_empty())
    {
        let sep = if url.contains('?') { '&' } else { '?' };
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URL_ENCODE).to_string();
        let location = format!(
            "{url}{sep}bucket={}&key={}&etag={}",
            enc(&bucket.name),
            enc(key.as_str()),
            enc(&etag)
        );
        let mut r = empty(StatusCode::SEE_OTHER);
        set(r.headers_mut(), "location", &location);
        r
    } else {
        match fields.get("success_action_status").map(String::as_str) {
            Some("200") => empty(StatusCode::OK),
            Some("201") => {
                let host = header(&ctx.headers, "host").unwrap_or_default();
                let mut w = XmlWriter::new("PostResponse");
                w.elem("Bucket", &bucket.name);
                w.elem(
                    "Location",
                    format!("{}://{host}/{}/{}", ctx.scheme, bucket.name, key),
                );
                w.elem("Key", key.as_str());
                w.elem("ETag", &etag);
                let mut r = xml_response(w.finish());
                *r.status_mut() = StatusCode::CREATED;
                r
            }
            _ => empty(StatusCode::NO_CONTENT),
        }
    };
    set(response.headers_mut(), "etag", &etag);
    set(
        response.headers_mut(),
        "x-oss-hash-crc64ecma",
        &record.crc64.to_string(),
    );
    super::object::set_version_id(response.headers_mut(), &record);
    Ok(
        super::callback::respond(ctx, callback, key.as_str(), &record, "PostObject", response)
            .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> String {
        STANDARD.encode(json)
    }

    #[test]
    fn policy_conditions() {
        let now = chrono::Utc::now();
        let fields: Fields = [
            ("key", "user/a.jpg"),
            ("content-type", "image/jpeg"),
            ("x-oss-meta-tag", "t"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let ok = policy(
            r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["starts-with","$key","user/"],
               ["content-length-range",1,100],["in","$content-type",["image/jpeg","image/png"]],{"x-oss-meta-tag":"t"},["eq","$Key","user/a.jpg"]]}"#,
        );
        assert_eq!(check_policy(&ok, &fields, "b", now).unwrap(), (1, 100));
        let cases = [
            (
                r#"{"expiration":"2000-01-01T00:00:00.000Z","conditions":[]}"#,
                "AccessDenied",
            ),
            (
                r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[{"bucket":"other"}]}"#,
                "AccessDenied",
            ),
            (
                r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["starts-with","$key","admin/"]]}"#,
                "AccessDenied",
            ),
            (
                r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["in","$content-type",["text/plain"]]]}"#,
                "AccessDenied",
            ),
            (
                r#"{"expiration":"2099-01-01T00:00:00.000Z","conditions":[["matches","$key","x"]]}"#,
                "InvalidPolicyDocument",
            ),
            (r#"{"conditions":[]}"#, "InvalidPolicyDocument"),
        ];
        for (doc, code) in cases {
            assert_eq!(
                check_policy(&policy(doc), &fields, "b", now)
                    .unwrap_err()
                    .code,
                code,
                "{doc}"
            );
        }
        assert_eq!(
            check_policy("%%%", &fields, "b", now).unwrap_err().code,
            "InvalidPolicyDocument"
        );
    }
}
