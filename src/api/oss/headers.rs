//! Request header rules shared by the operations: user metadata, dates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

use super::error::{ApiResult, OssError};

/// Total size of `x-oss-meta-*` names and values OSS accepts.
pub const MAX_USER_META_BYTES: usize = 8 * 1024;

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn system_time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}

/// `Wdy, DD Mon YYYY HH:MM:SS GMT`.
pub fn http_date(ms: i64) -> String {
    httpdate::fmt_http_date(system_time(ms))
}

/// `YYYY-MM-DDTHH:MM:SS.000Z`: oss2 requires the literal `.000Z`.
pub fn iso8601(ms: i64) -> String {
    chrono::DateTime::from_timestamp(ms.div_euclid(1000), 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

/// `x-oss-meta-*` headers: names lower-cased without the prefix, values verbatim
/// (UTF-8, as the SDKs send them).
pub fn user_meta(headers: &HeaderMap) -> ApiResult<Vec<(String, String)>> {
    let mut meta = Vec::new();
    let mut total = 0;
    for (name, value) in headers {
        let Some(short) = name.as_str().strip_prefix("x-oss-meta-") else {
            continue;
        };
        let value = std::str::from_utf8(value.as_bytes()).map_err(|_| {
            OssError::invalid_argument("User metadata values must be UTF-8.", name.as_str(), "")
        })?;
        total += short.len() + value.len();
        meta.push((short.to_owned(), value.to_owned()));
    }
    if total > MAX_USER_META_BYTES {
        return Err(OssError::invalid_argument(
            format!(
                "The user metadata (x-oss-meta-*) is {total} bytes; the limit is {MAX_USER_META_BYTES} bytes."
            ),
            "x-oss-meta-*",
            "",
        ));
    }
    meta.sort();
    Ok(meta)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, v.parse().unwrap());
        }
        m
    }

    #[test]
    fn dates_have_oss_shapes() {
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.000Z");
        assert_eq!(
            http_date(1_700_000_000_000),
            "Tue, 14 Nov 2023 22:13:20 GMT"
        );
    }

    #[test]
    fn user_meta_is_bounded() {
        let m = user_meta(&h(&[("x-oss-meta-Author", "alice"), ("content-type", "x")])).unwrap();
        assert_eq!(m, vec![("author".to_string(), "alice".to_string())]);
        let big = "v".repeat(9000);
        assert_eq!(
            user_meta(&h(&[("x-oss-meta-a", &big)])).unwrap_err().code,
            "InvalidArgument"
        );
    }
}
