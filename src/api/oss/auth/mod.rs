//! Request authentication for the OSS wire protocol (spec §2): V1 (HMAC-SHA1), V2
//! (`OSS2`, HMAC-SHA256) and V4 (OSS4-HMAC-SHA256), each as an `Authorization` header or a
//! presigned URL.
//!
//! Pure functions over an already-parsed request; no I/O.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

mod v1;
mod v2;
mod v4;

pub use v1::{is_v1_subresource, v1_signature};
pub use v4::v4_signing_key;

/// Header-signed requests may differ from server time by at most 15 minutes (spec §2.8).
const MAX_SKEW_SECS: i64 = 15 * 60;
/// V4 presigned URLs are valid for at most 7 days (spec §2.5).
const MAX_PRESIGN_SECS: i64 = 604_800;
/// `Date` / `x-oss-date` of V1 and V2 header signatures.
const RFC1123: &str = "%a, %d %b %Y %H:%M:%S GMT";
/// Everything but `A-Z a-z 0-9 - _ . ~` is percent-encoded, `/` included (V2 resources,
/// V2 and V4 query strings).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The parts of a request that signatures cover.
pub struct RequestView<'a> {
    /// "GET", "PUT", ...
    pub method: &'a str,
    /// Decoded bucket name, `None` for service-level requests.
    pub bucket: Option<&'a str>,
    /// Decoded object key, `None` for bucket-level/service requests.
    pub key: Option<&'a str>,
    /// Decoded query pairs in wire order (`acl` with no `=` => `("acl", "")`).
    pub query: &'a [(String, String)],
    pub headers: &'a HeaderMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigVersion {
    V1,
    V2,
    V4,
}

impl SigVersion {
    /// OSS's `<EC>` of a `SignatureDoesNotMatch` for this signature version.
    pub fn mismatch_ec(self) -> &'static str {
        match self {
            SigVersion::V1 => "0002-00000040",
            SigVersion::V2 => "0002-00000101",
            SigVersion::V4 => "0002-00000201",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub access_key_id: String,
    pub version: SigVersion,
    pub presigned: bool,
    /// Region from the V4 credential scope; the caller decides whether it is acceptable.
    pub v4_region: Option<String>,
    pub security_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Anonymous,
    Signed(Authenticated),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    InvalidAccessKeyId {
        access_key_id: String,
    },
    SignatureDoesNotMatch {
        access_key_id: String,
        provided: String,
        string_to_sign: String,
        canonical_request: Option<String>,
        version: SigVersion,
    },
    RequestTimeTooSkewed {
        request_time: String,
        server_time: String,
    },
    /// 403 AccessDenied with this message and optional EC ("Request has expired", missing/bad date, ...)
    AccessDenied {
        message: String,
        ec: Option<&'static str>,
    },
    /// 400 InvalidArgument (malformed Authorization header, bad x-oss-expires, empty AdditionalHeaders,
    /// unsupported x-oss-content-sha256, both header and URL signature ...)
    InvalidArgument {
        message: String,
        ec: Option<&'static str>,
    },
}

impl AuthError {
    /// OSS error code for the `<Code>` element.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidAccessKeyId { .. } => "InvalidAccessKeyId",
            AuthError::SignatureDoesNotMatch { .. } => "SignatureDoesNotMatch",
            AuthError::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            AuthError::AccessDenied { .. } => "AccessDenied",
            AuthError::InvalidArgument { .. } => "InvalidArgument",
        }
    }

    /// HTTP status: 400 for InvalidArgument, 403 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::InvalidArgument { .. } => 400,
            _ => 403,
        }
    }

    /// OSS detail code for the `<EC>` element / `x-oss-ec` header, when known.
    pub fn ec(&self) -> Option<&'static str> {
        match self {
            AuthError::SignatureDoesNotMatch { version, .. } => Some(version.mismatch_ec()),
            AuthError::AccessDenied { ec, .. } | AuthError::InvalidArgument { ec, .. } => *ec,
            _ => None,
        }
    }
}

pub trait SecretLookup {
    fn secret(&self, access_key_id: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> SecretLookup for F {
    fn secret(&self, access_key_id: &str) -> Option<String> {
        self(access_key_id)
    }
}

/// Detect the mechanism (V1 header `Authorization: OSS ak:sig`, V1 URL `OSSAccessKeyId/Expires/Signature`,
/// V2 header `OSS2 AccessKeyId:...`, V2 URL `x-oss-signature-version=OSS2`,
/// V4 header `OSS4-HMAC-SHA256 Credential=...`, V4 URL `x-oss-signature-version=OSS4-HMAC-SHA256`),
/// or anonymous when none present; verify.
pub fn authenticate(
    req: &RequestView,
    now: DateTime<Utc>,
    secrets: &dyn SecretLookup,
) -> Result<AuthOutcome, AuthError> {
    let authorization = header(req.headers, "authorization");
    let v1_url = query_value(req.query, "OSSAccessKeyId").is_some()
        || query_value(req.query, "Signature").is_some();
    let v4_url = query_value(req.query, "x-oss-signature-version");
    let authenticated = match (authorization, v1_url, v4_url) {
        (None, false, None) => return Ok(AuthOutcome::Anonymous),
        (Some(auth), false, None) => {
            if let Some(fields) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
                v4::verify_header(req, fields, now, secrets)?
            } else if let Some(fields) = auth.strip_prefix("OSS2 ") {
                v2::verify_header(req, fields, now, secrets)?
            } else if let Some(credentials) = auth.strip_prefix("OSS ") {
                v1::verify_header(req, credentials, now, secrets)?
            } else {
                return Err(invalid_argument(
                    "Authorization header is invalid: unsupported signature scheme.",
                    None,
                ));
            }
        }
        (None, true, None) => v1::verify_query(req, now, secrets)?,
        (None, false, Some("OSS4-HMAC-SHA256")) => v4::verify_query(req, now, secrets)?,
        (None, false, Some("OSS2")) => v2::verify_query(req, now, secrets)?,
        (None, false, Some(other)) => {
            return Err(invalid_argument(
                &format!("Unsupported x-oss-signature-version: {other}"),
                None,
            ));
        }
        // Spec §2.1: a request carrying more than one signature is ambiguous.
        _ => {
            return Err(invalid_argument(
                "Only one authentication mechanism (header or URL signature) is allowed.",
                None,
            ));
        }
    };
    Ok(AuthOutcome::Signed(authenticated))
}

fn access_denied(message: &str, ec: Option<&'static str>) -> AuthError {
    AuthError::AccessDenied {
        message: message.to_string(),
        ec,
    }
}

fn invalid_argument(message: &str, ec: Option<&'static str>) -> AuthError {
    AuthError::InvalidArgument {
        message: message.to_string(),
        ec,
    }
}

/// First value of a header, lossily decoded (OSS user metadata may be raw UTF-8).
fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()))
}

fn query_value<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `/`, `/bucket/` or `/bucket/key`, with the decoded (raw) bucket and key.
fn resource_path(req: &RequestView) -> String {
    let mut path = String::from("/");
    if let Some(bucket) = req.bucket {
        path.push_str(bucket);
        path.push('/');
        path.push_str(req.key.unwrap_or_default());
    }
    path
}

fn uri_encode(s: &str) -> String {
    utf8_percent_encode(s, URI_ENCODE).to_string()
}

/// Every query parameter but `exclude` (a presigned URL's own signature), name and value
/// URI-encoded, sorted, rendered `name=value` (bare `name` when the value is empty) and
/// joined by `&` (V2 and V4).
fn canonical_query(query: &[(String, String)], exclude: Option<&str>) -> String {
    let mut params: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| Some(name.as_str()) != exclude)
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    params.sort();
    params
        .iter()
        .map(|(name, value)| match value.is_empty() {
            true => name.clone(),
            false => format!("{name}={value}"),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Lower-cased names in an `AdditionalHeaders` list (`;`-separated), empty items dropped.
fn additional_header_names(list: &str) -> Vec<String> {
    list.split(';')
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// `VERB\nContent-MD5\nContent-Type\n<date slot>\n`: the start of V1 and V2 strings to sign
/// (header values verbatim, empty when absent).
fn signed_prefix(req: &RequestView, date_slot: &str) -> String {
    let md5 = header(req.headers, "content-md5").unwrap_or_default();
    let content_type = header(req.headers, "content-type").unwrap_or_default();
    format!("{}\n{md5}\n{content_type}\n{date_slot}\n", req.method)
}

/// The time of a header-signed V1/V2 request, which is also the Date slot of its string to
/// sign: `x-oss-date` when present (ali-oss sends only it; oss2 V1 signs it in place of
/// `Date`), else `Date`. Strict RFC 1123, at most 15 minutes from `now`.
fn header_request_date<'h>(
    req: &RequestView<'h>,
    now: DateTime<Utc>,
) -> Result<Cow<'h, str>, AuthError> {
    let date = header(req.headers, "x-oss-date")
        .filter(|d| !d.is_empty())
        .or_else(|| header(req.headers, "date"))
        .ok_or_else(|| {
            access_denied(
                "Authentication requires a valid Date or x-oss-date header.",
                Some("0002-00000503"),
            )
        })?;
    let request_time = parse_rfc1123(&date).ok_or_else(|| {
        access_denied(
            &format!("Invalid date format: {date}"),
            Some("0002-00000502"),
        )
    })?;
    check_skew(request_time, &date, now, RFC1123)?;
    Ok(date)
}

/// Strict RFC 1123 (`Wed, 28 Dec 2022 10:27:41 GMT`): OSS rejects other date forms.
fn parse_rfc1123(s: &str) -> Option<DateTime<Utc>> {
    let t = httpdate::parse_http_date(s).ok()?;
    (httpdate::fmt_http_date(t) == s).then(|| t.into())
}

/// The absolute expiry (unix seconds) of a V1 (`Expires`) or V2 (`x-oss-expires`) presigned
/// URL, `name` being the parameter: empty (EC `empty_ec`), not a number (0002-00000070) or
/// past (0002-00000069). Unlike V4 these URLs have no 7-day cap: OSS serves a V1 URL
/// signed for decades (the oss2 suite's test_sign_v1_x_oss_date_url).
fn check_url_expires(
    name: &str,
    expires: &str,
    now: DateTime<Utc>,
    empty_ec: &'static str,
) -> Result<(), AuthError> {
    if expires.is_empty() {
        return Err(access_denied(
            &format!("{name} is empty in the signed URL."),
            Some(empty_ec),
        ));
    }
    let expires_at: i64 = expires.parse().map_err(|_| {
        access_denied(
            &format!("Invalid {name} in the signed URL: {expires}"),
            Some("0002-00000070"),
        )
    })?;
    if now.timestamp() > expires_at {
        return Err(access_denied("Request has expired.", Some("0002-00000069")));
    }
    Ok(())
}

/// `name:value\n` for each selected header (names are lower-case in `HeaderMap`), values trimmed,
/// repeated headers joined by `,`, sorted by name.
fn canonical_headers(headers: &HeaderMap, include: impl Fn(&str) -> bool) -> String {
    let mut lines: Vec<(&str, String)> = headers
        .keys()
        .map(|name| name.as_str())
        .filter(|name| include(name))
        .map(|name| {
            let values: Vec<String> = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
                .collect();
            (name, values.join(","))
        })
        .collect();
    lines.sort();
    lines
        .into_iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect()
}

fn lookup_secret(secrets: &dyn SecretLookup, access_key_id: &str) -> Result<String, AuthError> {
    secrets
        .secret(access_key_id)
        .ok_or_else(|| AuthError::InvalidAccessKeyId {
            access_key_id: access_key_id.to_string(),
        })
}

/// `RequestTimeTooSkewed` when `request_time` is more than 15 minutes from `now`;
/// `server_fmt` renders the server time in the same style as the request's date.
fn check_skew(
    request_time: DateTime<Utc>,
    raw: &str,
    now: DateTime<Utc>,
    server_fmt: &str,
) -> Result<(), AuthError> {
    if (now - request_time).num_seconds().abs() > MAX_SKEW_SECS {
        return Err(AuthError::RequestTimeTooSkewed {
            request_time: raw.to_string(),
            server_time: now.format(server_fmt).to_string(),
        });
    }
    Ok(())
}

/// `RequestTimeTooSkewed` when a presigned URL's signing time is more than 15 minutes
/// ahead of `now` (a past signing time is bounded by the expiry instead).
fn check_not_future(
    request_time: DateTime<Utc>,
    raw: &str,
    now: DateTime<Utc>,
    server_fmt: &str,
) -> Result<(), AuthError> {
    if (request_time - now).num_seconds() > MAX_SKEW_SECS {
        return Err(AuthError::RequestTimeTooSkewed {
            request_time: raw.to_string(),
            server_time: now.format(server_fmt).to_string(),
        });
    }
    Ok(())
}

/// Equality whose running time does not depend on where the inputs differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    a.len() == b.len() && std::hint::black_box(diff) == 0
}

/// A request of bucket `examplebucket` (the spec's signature vectors) for the
/// signature tests of each version.
#[cfg(test)]
pub(super) fn test_view<'a>(
    method: &'a str,
    key: Option<&'a str>,
    q: &'a [(String, String)],
    h: &'a http::HeaderMap,
) -> RequestView<'a> {
    RequestView {
        method,
        bucket: Some("examplebucket"),
        key,
        query: q,
        headers: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderName, HeaderValue};

    pub(super) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    pub(super) fn query(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    pub(super) fn at(unix_secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(unix_secs, 0).unwrap()
    }

    /// The test credential store: `ak` → `sk`.
    pub(super) fn keys(access_key_id: &str) -> Option<String> {
        (access_key_id == "ak").then(|| "sk".to_string())
    }

    fn run(hdrs: &[(&str, &str)], q: &[(&str, &str)]) -> Result<AuthOutcome, AuthError> {
        let (h, q) = (headers(hdrs), query(q));
        let req = RequestView {
            method: "GET",
            bucket: Some("bucket"),
            key: Some("key"),
            query: &q,
            headers: &h,
        };
        authenticate(&req, at(1_700_000_000), &keys)
    }

    #[test]
    fn no_signature_is_anonymous() {
        let outcome = run(&[("host", "bucket.localhost")], &[("acl", "")]);
        assert_eq!(outcome, Ok(AuthOutcome::Anonymous));
    }

    #[test]
    fn header_and_url_signature_together_are_rejected() {
        let err = run(
            &[("authorization", "OSS ak:sig")],
            &[
                ("OSSAccessKeyId", "ak"),
                ("Expires", "1"),
                ("Signature", "x"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.code(), "InvalidArgument");
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn unknown_scheme_and_version_are_rejected() {
        for (hdrs, q) in [
            (
                vec![("authorization", "OSS3 AccessKeyId:ak,Signature:x")],
                vec![],
            ),
            (vec![("authorization", "Bearer x")], vec![]),
            (vec![], vec![("x-oss-signature-version", "OSS3")]),
        ] {
            assert!(matches!(
                run(&hdrs, &q),
                Err(AuthError::InvalidArgument { .. })
            ));
        }
    }

    /// SplitMix64: a fixed-seed generator, so every run fuzzes the same cases.
    struct SplitMix(u64);

    impl SplitMix {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.next() as usize % items.len()]
        }
        /// A few fragments glued together, sometimes with a random byte.
        fn value(&mut self, fragments: &[&str]) -> String {
            let mut out = String::new();
            for _ in 0..self.next() % 5 {
                out.push_str(self.pick(fragments));
                if self.next().is_multiple_of(4) {
                    out.push(char::from(b' ' + (self.next() % 95) as u8));
                }
            }
            out
        }
    }

    /// Bounded fuzz of the signature and header parsers: thousands of malformed V1/V2/V4
    /// headers and URLs; every outcome is anonymous, signed, or a 400/403 (no panic).
    #[test]
    fn fuzz_signature_parsers() {
        const FRAGMENTS: &[&str] = &[
            "OSS ",
            "OSS2 ",
            "OSS2",
            "OSS4-HMAC-SHA256 ",
            "AccessKeyId:",
            "AdditionalHeaders:",
            "Signature:",
            "1672223861",
            "ak",
            ":",
            ",",
            ", ",
            "=",
            "/",
            ";",
            "Credential=",
            "Signature=",
            "AdditionalHeaders=",
            "ak/20231216/cn-hangzhou/oss/aliyun_v4_request",
            "/oss/aliyun_v4_request",
            "20231216",
            "20231216T162057Z",
            "99991231T235959Z",
            "Wed, 28 Dec 2022 10:27:41 GMT",
            "-1",
            "0",
            "604800",
            "604801",
            "9223372036854775807",
            "99999999999999999999",
            "host",
            "x-oss-date",
            "abc",
            "é",
            "%",
            "+",
            " ",
            "",
        ];
        const QUERY_NAMES: &[&str] = &[
            "OSSAccessKeyId",
            "Expires",
            "Signature",
            "x-oss-signature-version",
            "x-oss-credential",
            "x-oss-date",
            "x-oss-expires",
            "x-oss-signature",
            "x-oss-additional-headers",
            "x-oss-access-key-id",
            "security-token",
            "acl",
        ];
        const HEADER_NAMES: &[&str] = &[
            "authorization",
            "date",
            "x-oss-date",
            "x-oss-content-sha256",
            "content-md5",
            "content-type",
            "x-oss-security-token",
            "security-token",
        ];
        let mut rng = SplitMix(0x05_51F7);
        for case in 0..4000 {
            let mut h = HeaderMap::new();
            for _ in 0..rng.next() % 4 {
                let name = HeaderName::from_static(rng.pick(HEADER_NAMES));
                if let Ok(value) = HeaderValue::from_str(&rng.value(FRAGMENTS)) {
                    h.append(name, value);
                }
            }
            let q: Vec<(String, String)> = (0..rng.next() % 6)
                .map(|_| (rng.pick(QUERY_NAMES).to_string(), rng.value(FRAGMENTS)))
                .collect();
            let req = RequestView {
                method: "GET",
                bucket: Some("bucket"),
                key: Some("key"),
                query: &q,
                headers: &h,
            };
            let now = at(1_702_743_657 + (rng.next() % 1_000_000) as i64 - 500_000);
            if let Err(e) = authenticate(&req, now, &keys) {
                assert!(
                    [400, 403].contains(&e.status()),
                    "case {case}: {e:?} for {h:?} {q:?}"
                );
            }
        }
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
    }

    #[test]
    fn canonical_headers_sorted_trimmed_joined() {
        let h = headers(&[
            ("X-Oss-B", " 2 "),
            ("x-oss-a", "1"),
            ("x-oss-b", "3"),
            ("other", "x"),
        ]);
        assert_eq!(
            canonical_headers(&h, |n| n.starts_with("x-oss-")),
            "x-oss-a:1\nx-oss-b:2,3\n"
        );
    }
}
