//! Request header rules shared by the operations: Range, conditional requests,
//! user metadata, dates.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, StatusCode};

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

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `x-oss-meta-*` headers: names lower-cased without the prefix, values verbatim.
pub fn user_meta(headers: &HeaderMap) -> ApiResult<Vec<(String, String)>> {
    let mut meta = Vec::new();
    let mut total = 0;
    for (name, value) in headers {
        let Some(short) = name.as_str().strip_prefix("x-oss-meta-") else {
            continue;
        };
        let value = value.to_str().map_err(|_| {
            OssError::invalid_argument(
                "User metadata values must be printable ASCII.",
                name.as_str(),
                "",
            )
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

/// A byte range of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
}

/// Resolve a `Range` header against an object of `size` bytes. OSS ignores an
/// invalid or unsatisfiable range and returns the whole object, unless the client
/// sends `x-oss-range-behavior: standard` (then an end past EOF is clamped and a
/// start at or past EOF is 416 InvalidRange).
pub fn range(headers: &HeaderMap, size: u64) -> ApiResult<Option<ByteRange>> {
    let Some(value) = header(headers, "range") else {
        return Ok(None);
    };
    let standard =
        header(headers, "x-oss-range-behavior").is_some_and(|v| v.eq_ignore_ascii_case("standard"));
    let invalid = || -> ApiResult<Option<ByteRange>> {
        if standard {
            Err(OssError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                format!("The requested range {value:?} cannot be satisfied for an object of {size} bytes."),
            )
            .with("RangeRequested", value)
            .with("ActualObjectSize", size.to_string()))
        } else {
            Ok(None)
        }
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return invalid();
    };
    if spec.contains(',') {
        return invalid();
    }
    let Some((first, last)) = spec.split_once('-') else {
        return invalid();
    };
    let num = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (start, end) = match (num(first.trim()), num(last.trim())) {
        (Some(start), Some(end)) if start <= end => (start, end),
        (Some(start), None) if last.trim().is_empty() => (start, size.saturating_sub(1)),
        (None, Some(n)) if first.trim().is_empty() && n > 0 => {
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return invalid(),
    };
    if size == 0 || start >= size {
        return invalid();
    }
    if end >= size {
        return if standard {
            Ok(Some(ByteRange {
                start,
                end: size - 1,
            }))
        } else {
            invalid()
        };
    }
    Ok(Some(ByteRange { start, end }))
}

/// Outcome of the conditional headers.
#[derive(Debug, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    NotModified,
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t.eq_ignore_ascii_case(etag))
}

/// If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304.
/// `prefix` is "" for GET/HEAD and "x-oss-copy-source-" for copies.
pub fn check_preconditions(
    headers: &HeaderMap,
    prefix: &str,
    etag: &str,
    last_modified_ms: i64,
) -> ApiResult<Precondition> {
    let modified = last_modified_ms.div_euclid(1000);
    let date = |name: &str| {
        header(headers, &format!("{prefix}{name}"))
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .map(|t| {
                t.duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            })
    };
    let failed = |name: &str| {
        OssError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold.",
        )
        .with("Condition", format!("{prefix}{name}"))
    };
    if let Some(list) = header(headers, &format!("{prefix}if-match")) {
        if !etag_matches(list, etag) {
            return Err(failed("If-Match"));
        }
    } else if let Some(since) = date("if-unmodified-since")
        && modified > since
    {
        return Err(failed("If-Unmodified-Since"));
    }
    if let Some(list) = header(headers, &format!("{prefix}if-none-match")) {
        if etag_matches(list, etag) {
            return Ok(Precondition::NotModified);
        }
    } else if let Some(since) = date("if-modified-since")
        && modified <= since
    {
        return Ok(Precondition::NotModified);
    }
    Ok(Precondition::Proceed)
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
    fn ranges_follow_oss_leniency() {
        let r = |v: &str, size| range(&h(&[("range", v)]), size).map_err(|e| e.code);
        let s = |v: &str, size| {
            range(
                &h(&[("range", v), ("x-oss-range-behavior", "standard")]),
                size,
            )
            .map_err(|e| e.code)
        };
        let br = |start, end| Ok(Some(ByteRange { start, end }));
        assert_eq!(r("bytes=0-9", 100), br(0, 9));
        assert_eq!(r("bytes=90-", 100), br(90, 99));
        assert_eq!(r("bytes=-10", 100), br(90, 99));
        assert_eq!(r("bytes=-200", 100), br(0, 99));
        assert_eq!(r("bytes=0-1000", 100), Ok(None));
        assert_eq!(r("bytes=1000-", 100), Ok(None));
        assert_eq!(r("byte=0-1", 100), Ok(None));
        assert_eq!(r("bytes=5-2", 100), Ok(None));
        assert_eq!(r("bytes=0-1,3-4", 100), Ok(None));
        assert_eq!(r("bytes=0-0", 0), Ok(None));
        assert_eq!(s("bytes=50-2000", 100), br(50, 99));
        assert_eq!(s("bytes=100-", 100), Err("InvalidRange"));
        assert_eq!(s("bytes=0-1,3-4", 100), Err("InvalidRange"));
    }

    #[test]
    fn preconditions() {
        let lm = 1_700_000_000_000;
        let before = httpdate::fmt_http_date(system_time(lm - 10_000));
        let after = httpdate::fmt_http_date(system_time(lm + 10_000));
        let c = |pairs: &[(&'static str, &str)]| {
            check_preconditions(&h(pairs), "", "ABC", lm).map_err(|e| e.code)
        };
        assert_eq!(c(&[]), Ok(Precondition::Proceed));
        assert_eq!(c(&[("if-match", "\"abc\"")]), Ok(Precondition::Proceed));
        assert_eq!(c(&[("if-match", "ABC")]), Ok(Precondition::Proceed));
        assert_eq!(c(&[("if-match", "\"X\"")]), Err("PreconditionFailed"));
        assert_eq!(
            c(&[("if-none-match", "\"ABC\"")]),
            Ok(Precondition::NotModified)
        );
        assert_eq!(c(&[("if-none-match", "\"X\"")]), Ok(Precondition::Proceed));
        assert_eq!(
            c(&[("if-modified-since", &after)]),
            Ok(Precondition::NotModified)
        );
        assert_eq!(
            c(&[("if-modified-since", &before)]),
            Ok(Precondition::Proceed)
        );
        assert_eq!(
            c(&[("if-unmodified-since", &before)]),
            Err("PreconditionFailed")
        );
        assert_eq!(
            c(&[("if-unmodified-since", &after)]),
            Ok(Precondition::Proceed)
        );
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
