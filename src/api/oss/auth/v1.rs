//! OSS V1 signature: Base64(HMAC-SHA1(secret, StringToSign)), sent as
//! `Authorization: OSS <ak>:<sig>` or as `OSSAccessKeyId`/`Expires`/`Signature` URL parameters (spec §2.2–2.3).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::{
    AuthError, Authenticated, RequestView, SecretLookup, SigVersion, access_denied,
    canonical_headers, check_url_expires, ct_eq, header, header_request_date, invalid_argument,
    lookup_secret, query_value, resource_path, signed_prefix,
};

/// Sub-resources listed in the OSS documentation.
#[rustfmt::skip]
const DOCUMENTED_SUBRESOURCES: &[&str] = &[
    "acl", "uploads", "location", "cors", "logging", "website", "referer", "lifecycle", "delete",
    "append", "tagging", "objectMeta", "uploadId", "partNumber", "security-token", "position",
    "img", "style", "styleName", "replication", "replicationProgress", "replicationLocation",
    "cname", "bucketInfo", "comp", "qos", "live", "status", "vod", "startTime", "endTime",
    "symlink", "x-oss-process", "response-content-type", "response-content-language",
    "response-expires", "response-cache-control", "response-content-disposition",
    "response-content-encoding",
];

/// Further sub-resources the SDKs sign (union of oss2, Go v1, Java v1, Python/Go v2 lists).
#[rustfmt::skip]
const SDK_SUBRESOURCES: &[&str] = &[
    "stat", "policy", "encryption", "versions", "versioning", "versionId", "requestPayment",
    "restore", "callback", "callback-var", "x-oss-traffic-limit", "x-oss-request-payer", "qosInfo",
    "asyncFetch", "sequential", "inventory", "inventoryId", "continuation-token", "worm", "wormId",
    "wormExtend", "transferAcceleration", "metaQuery", "resourceGroup", "regionList", "cloudboxes",
    "x-oss-async-process", "x-oss-write-get-object-response", "x-oss-ac-source-ip",
    "x-oss-ac-subnet-mask", "x-oss-ac-vpc-id", "x-oss-ac-forward-allow", "bucketArchiveDirectRead",
    "httpsConfig", "redundancyTransition", "x-oss-target-redundancy-type",
    "x-oss-redundancy-transition-taskid", "accessPoint", "accessPointPolicy", "publicAccessBlock",
    "policyStatus", "x-oss-access-point-name", "requesterQosInfo", "qosRequester",
    "resourcePoolInfo", "resourcePool", "resourcePoolBuckets", "group", "link", "objectInfo", "udf",
    "udfName", "udfImage", "udfImageDesc", "udfApplication", "udfApplicationLog", "udfId",
    "processConfiguration", "rtc", "responseHeader", "withHashContext", "x-oss-enable-md5",
    "x-oss-enable-sha1", "x-oss-enable-sha256", "x-oss-hash-ctx", "x-oss-md5-ctx", "vpcip", "vip",
    "x-oss-dir", "x-oss-rename", "x-oss-delete", "seal", "overwriteConfig",
    "userDefinedLogFieldsConfig", "retention", "legalHold", "objectWorm", "cleanRestoredObject",
    "dataPipeline",
];

/// The set of query names that are V1 sub-resources (union list from spec §2.2) and are thus signed by V1.
pub fn is_v1_subresource(name: &str) -> bool {
    is_documented_subresource(name) || SDK_SUBRESOURCES.contains(&name)
}

fn is_documented_subresource(name: &str) -> bool {
    DOCUMENTED_SUBRESOURCES.contains(&name)
}

/// Base64(HMAC-SHA1(secret, string_to_sign)); also the PostObject policy signature.
pub fn v1_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(string_to_sign.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// VERB, Content-MD5, Content-Type, date slot, canonical `x-oss-*` headers, canonical resource.
fn string_to_sign(req: &RequestView, date_slot: &str, is_subresource: fn(&str) -> bool) -> String {
    let oss_headers = canonical_headers(req.headers, |name| name.starts_with("x-oss-"));
    format!(
        "{}{oss_headers}{}",
        signed_prefix(req, date_slot),
        canonical_resource(req, is_subresource)
    )
}

/// `/`, `/bucket/` or `/bucket/key` (raw decoded key), then `?` + sorted sub-resources.
fn canonical_resource(req: &RequestView, is_subresource: fn(&str) -> bool) -> String {
    let mut resource = resource_path(req);
    let mut subresources: Vec<&(String, String)> = req
        .query
        .iter()
        .filter(|(name, _)| is_subresource(name))
        .collect();
    subresources.sort();
    for (i, (name, value)) in subresources.into_iter().enumerate() {
        resource.push(if i == 0 { '?' } else { '&' });
        resource.push_str(name);
        if !value.is_empty() {
            resource.push('=');
            resource.push_str(value);
        }
    }
    resource
}

/// `Authorization: OSS <ak>:<signature>`; `credentials` is the part after `OSS `.
pub(super) fn verify_header(
    req: &RequestView,
    credentials: &str,
    now: DateTime<Utc>,
    secrets: &dyn SecretLookup,
) -> Result<Authenticated, AuthError> {
    let (access_key_id, provided) = credentials
        .split_once(':')
        .map(|(ak, sig)| (ak.trim(), sig.trim()))
        .filter(|(ak, sig)| !ak.is_empty() && !sig.is_empty())
        .ok_or_else(|| {
            invalid_argument(
                "Authorization header is invalid. Expected OSS AccessKeyId:Signature",
                None,
            )
        })?;
    let date = header_request_date(req, now)?;
    let secret = lookup_secret(secrets, access_key_id)?;
    verify_signature(req, access_key_id, provided, &date, &secret)?;
    // Python v2 in V1 mode sends the STS token in an unsigned `security-token` header.
    let security_token = header(req.headers, "x-oss-security-token")
        .or_else(|| header(req.headers, "security-token"))
        .map(|t| t.into_owned());
    Ok(authenticated(access_key_id, false, security_token))
}

/// Presigned URL: `OSSAccessKeyId`, `Expires` (absolute unix seconds, also the date slot), `Signature`.
pub(super) fn verify_query(
    req: &RequestView,
    now: DateTime<Utc>,
    secrets: &dyn SecretLookup,
) -> Result<Authenticated, AuthError> {
    let param = |name| query_value(req.query, name);
    let (Some(access_key_id), Some(expires), Some(provided)) = (
        param("OSSAccessKeyId"),
        param("Expires"),
        param("Signature"),
    ) else {
        return Err(access_denied(
            "Query-string authentication requires the Signature, Expires and OSSAccessKeyId parameters",
            param("Expires").is_none().then_some("0002-00000067"),
        ));
    };
    check_url_expires("Expires", expires, now, "0002-00000068")?;
    let secret = lookup_secret(secrets, access_key_id)?;
    // Users pasting raw base64 into curl get '+' decoded as space.
    let provided = provided.replace(' ', "+");
    verify_signature(req, access_key_id, &provided, expires, &secret)?;
    let security_token = param("security-token").map(str::to_string);
    Ok(authenticated(access_key_id, true, security_token))
}

fn authenticated(
    access_key_id: &str,
    presigned: bool,
    security_token: Option<String>,
) -> Authenticated {
    Authenticated {
        access_key_id: access_key_id.to_string(),
        version: SigVersion::V1,
        presigned,
        v4_region: None,
        security_token,
    }
}

/// Check against the union sub-resource list, then (spec §2.2 robustness note) against the
/// documented list only, for clients that leave SDK-only names unsigned.
fn verify_signature(
    req: &RequestView,
    access_key_id: &str,
    provided: &str,
    date_slot: &str,
    secret: &str,
) -> Result<(), AuthError> {
    let matches = |sts: &str| ct_eq(v1_signature(secret, sts).as_bytes(), provided.as_bytes());
    let union = string_to_sign(req, date_slot, is_v1_subresource);
    if matches(&union) {
        return Ok(());
    }
    let documented = string_to_sign(req, date_slot, is_documented_subresource);
    if documented != union && matches(&documented) {
        return Ok(());
    }
    Err(AuthError::SignatureDoesNotMatch {
        access_key_id: access_key_id.to_string(),
        provided: provided.to_string(),
        string_to_sign: union,
        canonical_request: None,
        version: SigVersion::V1,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_view as view;
    use super::super::tests::{at, headers, keys, query};
    use super::super::{AuthOutcome, authenticate};
    use super::*;

    /// 2022-12-28T10:27:41Z, the time of the spec §2.2 vectors.
    const T_2022: i64 = 1_672_223_261;
    const DATE_2022: &str = "Wed, 28 Dec 2022 10:27:41 GMT";

    fn put_headers(extra: &[(&str, &str)]) -> http::HeaderMap {
        let mut pairs = vec![
            ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
            ("Content-Type", "text/html"),
            ("Date", DATE_2022),
            ("x-oss-date", DATE_2022),
            ("x-oss-meta-author", "alice"),
            ("X-OSS-Meta-Magic", " abracadabra"),
        ];
        pairs.extend_from_slice(extra);
        headers(&pairs)
    }

    #[test]
    fn spec_2_2_vectors() {
        let put = "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson";
        let put_acl = format!("{put}?acl");
        let get = "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?acl&resourceGroup";
        assert_eq!(v1_signature("sk", put), "kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
        assert_eq!(v1_signature("sk", &put_acl), "/afkugFbmWDQ967j1vr6zygBLQk=");
        assert_eq!(v1_signature("sk", get), "x3E5TgOvl/i7PN618s5mEvpJDYk=");

        // The same strings built from requests (query names in non-sorted wire order).
        let h = put_headers(&[]);
        let none = query(&[]);
        let acl = query(&[("acl", ""), ("prefix", "ignored")]);
        let sts = |r: &RequestView| string_to_sign(r, DATE_2022, is_v1_subresource);
        assert_eq!(sts(&view("PUT", Some("nelson"), &none, &h)), put);
        assert_eq!(sts(&view("PUT", Some("nelson"), &acl, &h)), put_acl);
        let h = headers(&[("Date", DATE_2022), ("x-oss-date", DATE_2022)]);
        let q = query(&[("resourceGroup", ""), ("acl", "")]);
        assert_eq!(sts(&view("GET", None, &q, &h)), get);
    }

    #[test]
    fn spec_2_3_vectors() {
        let plain = "GET\n\n\n1699807420\n/bucket/key?versionId=versionId";
        let sts_token =
            "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId";
        assert_eq!(v1_signature("sk", plain), "dcLTea+Yh9ApirQ8o8dOPqtvJXQ=");
        assert_eq!(
            v1_signature("sk", sts_token),
            "jzKYRrM5y6Br0dRFPaTGOsbrDhY="
        );

        let h = headers(&[]);
        let run = |key: &str, q: &[(&str, &str)], now: i64| {
            let q = query(q);
            let req = RequestView {
                method: "GET",
                bucket: Some("bucket"),
                key: Some(key),
                query: &q,
                headers: &h,
            };
            authenticate(&req, at(now), &keys)
        };
        let signed = [
            ("versionId", "versionId"),
            ("OSSAccessKeyId", "ak"),
            ("Expires", "1699807420"),
            ("Signature", "dcLTea+Yh9ApirQ8o8dOPqtvJXQ="),
        ];
        let ok = run("key", &signed, 1_699_807_000).unwrap();
        let AuthOutcome::Signed(a) = ok else {
            panic!("anonymous")
        };
        assert!(a.presigned && a.version == SigVersion::V1 && a.security_token.is_none());

        // curl users paste raw base64: '+' arrives decoded as ' '.
        let mut spaced = signed;
        spaced[3].1 = "dcLTea Yh9ApirQ8o8dOPqtvJXQ=";
        assert!(run("key", &spaced, 1_699_807_000).is_ok());

        let with_token = [
            ("OSSAccessKeyId", "ak"),
            ("Expires", "1699808204"),
            ("Signature", "jzKYRrM5y6Br0dRFPaTGOsbrDhY="),
            ("versionId", "versionId"),
            ("security-token", "token"),
        ];
        let Ok(AuthOutcome::Signed(a)) = run("key+123", &with_token, 1_699_808_000) else {
            panic!("token URL rejected")
        };
        assert_eq!(a.security_token.as_deref(), Some("token"));

        let expired = run("key", &signed, 1_699_807_421).unwrap_err();
        assert_eq!(
            expired,
            AuthError::AccessDenied {
                message: "Request has expired.".into(),
                ec: Some("0002-00000069")
            }
        );

        // V1 URLs have no cap: one valid for years works (the oss2 suite's
        // test_sign_v1_x_oss_date_url signs for ~52 years).
        assert!(run("key", &signed, 1_699_807_420 - 40 * 365 * 86_400).is_ok());

        let missing = run("key", &signed[..2], 0).unwrap_err();
        assert_eq!(missing.code(), "AccessDenied");
        let no_expires = [signed[0], signed[1], signed[3]];
        assert_eq!(
            run("key", &no_expires, 0).unwrap_err().ec(),
            Some("0002-00000067")
        );
        let mut bad = signed;
        bad[2].1 = "";
        assert_eq!(run("key", &bad, 0).unwrap_err().ec(), Some("0002-00000068"));
        bad[2].1 = "abc";
        assert_eq!(run("key", &bad, 0).unwrap_err().ec(), Some("0002-00000070"));
    }

    fn header_request(
        auth: &str,
        extra: &[(&str, &str)],
        now: i64,
    ) -> Result<AuthOutcome, AuthError> {
        let h = put_headers(&[&[("Authorization", auth)], extra].concat());
        let q = query(&[]);
        authenticate(&view("PUT", Some("nelson"), &q, &h), at(now), &keys)
    }

    #[test]
    fn header_signature_end_to_end() {
        let good = "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=";
        let Ok(AuthOutcome::Signed(a)) = header_request(good, &[], T_2022 + 60) else {
            panic!("valid request rejected")
        };
        assert_eq!(a.access_key_id, "ak");
        assert!(!a.presigned && a.v4_region.is_none());

        // Python v2 V1 quirk: unsigned `security-token` header.
        let Ok(AuthOutcome::Signed(a)) = header_request(good, &[("security-token", "tok")], T_2022)
        else {
            panic!("security-token header rejected")
        };
        assert_eq!(a.security_token.as_deref(), Some("tok"));

        let wrong = "OSS ak:AAAAmLxlyEAKtZPkJhG9bZb5k7M=";
        assert_eq!(
            header_request(wrong, &[], T_2022),
            Err(AuthError::SignatureDoesNotMatch {
                access_key_id: "ak".into(),
                provided: "AAAAmLxlyEAKtZPkJhG9bZb5k7M=".into(),
                string_to_sign: "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\nx-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\nx-oss-meta-magic:abracadabra\n/examplebucket/nelson".into(),
                canonical_request: None,
                version: SigVersion::V1,
            })
        );

        assert_eq!(
            header_request("OSS nobody:kSHKmLxlyEAKtZPkJhG9bZb5k7M=", &[], T_2022),
            Err(AuthError::InvalidAccessKeyId {
                access_key_id: "nobody".into()
            })
        );

        let skewed = header_request(good, &[], T_2022 + 15 * 60 + 1).unwrap_err();
        assert_eq!(
            skewed,
            AuthError::RequestTimeTooSkewed {
                request_time: DATE_2022.into(),
                server_time: "Wed, 28 Dec 2022 10:42:42 GMT".into()
            }
        );
        assert!(header_request(good, &[], T_2022 - 15 * 60).is_ok());

        for malformed in ["OSS ak", "OSS :sig", "OSS ak:"] {
            assert!(matches!(
                header_request(malformed, &[], T_2022),
                Err(AuthError::InvalidArgument { .. })
            ));
        }
    }

    /// `x-oss-date` is the request time and the Date slot (oss2 and ali-oss sign it so),
    /// whatever `Date` says; ali-oss sends no `Date` at all.
    #[test]
    fn x_oss_date_is_request_time_and_date_slot() {
        let stale = "Wed, 28 Dec 2022 08:00:00 GMT";
        let run = |pairs: &[(&str, &str)]| {
            let sts = format!("GET\n\n\n{DATE_2022}\nx-oss-date:{DATE_2022}\n/examplebucket/");
            let auth = format!("OSS ak:{}", v1_signature("sk", &sts));
            let h = headers(&[pairs, &[("Authorization", auth.as_str())]].concat());
            let q = query(&[]);
            authenticate(&view("GET", None, &q, &h), at(T_2022), &keys)
        };
        assert!(run(&[("Date", stale), ("x-oss-date", DATE_2022)]).is_ok());
        assert!(run(&[("x-oss-date", DATE_2022)]).is_ok());
        let h = headers(&[
            ("Date", DATE_2022),
            ("x-oss-date", stale),
            ("Authorization", "OSS ak:x"),
        ]);
        let q = query(&[("acl", "")]);
        assert_eq!(
            authenticate(&view("GET", None, &q, &h), at(T_2022), &keys),
            Err(AuthError::RequestTimeTooSkewed {
                request_time: stale.into(),
                server_time: DATE_2022.into()
            })
        );
    }

    #[test]
    fn wrong_secret_reports_string_to_sign() {
        let h = put_headers(&[("Authorization", "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=")]);
        let q = query(&[]);
        let other = |_: &str| Some("not-sk".to_string());
        let err = authenticate(&view("PUT", Some("nelson"), &q, &h), at(T_2022), &other);
        let Err(AuthError::SignatureDoesNotMatch { string_to_sign, .. }) = err else {
            panic!("expected SignatureDoesNotMatch")
        };
        assert!(string_to_sign.ends_with("\n/examplebucket/nelson"));
    }

    #[test]
    fn missing_or_bad_date_is_access_denied() {
        let h = headers(&[("Authorization", "OSS ak:x")]);
        let q = query(&[]);
        let err = authenticate(&view("GET", None, &q, &h), at(T_2022), &keys).unwrap_err();
        assert_eq!(err.ec(), Some("0002-00000503"));
        for bad in [
            "Wed, 28 Dec 2022 10:27:41 +0000",
            "Wed, 8 Dec 2022 10:27:41 GMT",
            "20221228T102741Z",
        ] {
            let h = headers(&[("Authorization", "OSS ak:x"), ("Date", bad)]);
            let err = authenticate(&view("GET", None, &q, &h), at(T_2022), &keys).unwrap_err();
            assert_eq!(err.ec(), Some("0002-00000502"), "{bad}");
        }
    }

    #[test]
    fn documented_list_fallback() {
        // A client that does not sign `continuation-token` (not in the documented list).
        let h0 = headers(&[("Date", DATE_2022)]);
        let sig = v1_signature("sk", &format!("GET\n\n\n{DATE_2022}\n/examplebucket/"));
        let auth = format!("OSS ak:{sig}");
        let h = headers(&[("Date", DATE_2022), ("Authorization", &auth)]);
        let q = query(&[("list-type", "2"), ("continuation-token", "abc")]);
        assert!(authenticate(&view("GET", None, &q, &h), at(T_2022), &keys).is_ok());
        assert_eq!(
            string_to_sign(&view("GET", None, &q, &h0), DATE_2022, is_v1_subresource),
            format!("GET\n\n\n{DATE_2022}\n/examplebucket/?continuation-token=abc")
        );
    }

    #[test]
    fn url_signature_params_never_in_resource() {
        let h = headers(&[]);
        let q = query(&[
            ("OSSAccessKeyId", "ak"),
            ("Expires", "1"),
            ("Signature", "s"),
            ("uploadId", "u"),
            ("partNumber", "2"),
        ]);
        assert_eq!(
            canonical_resource(&view("PUT", Some("a/b c"), &q, &h), is_v1_subresource),
            "/examplebucket/a/b c?partNumber=2&uploadId=u"
        );
        assert!(is_v1_subresource("continuation-token") && !is_v1_subresource("prefix"));
    }
}
