//! Conditional requests (If-Match and friends) and byte ranges, evaluated against an
//! object record. The wires parse their headers into these types.

use super::{CoreError, CoreResult};
use crate::storage::ObjectRecord;

/// What the current object must be for a write to replace it, checked inside the
/// write's transaction so that two racing writers cannot both pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum WriteCondition {
    #[default]
    Any,
    /// No current object: OSS `x-oss-forbid-overwrite: true`, S3 `If-None-Match: *`.
    Absent,
    /// S3 `If-None-Match: <etag>`: no current object with this ETag.
    NotETag(String),
    /// S3 `If-Match`: a current object, with this ETag unless `*` was sent.
    Exists(Option<String>),
}

impl From<bool> for WriteCondition {
    /// From a forbid-overwrite switch.
    fn from(forbid_overwrite: bool) -> Self {
        if forbid_overwrite {
            Self::Absent
        } else {
            Self::Any
        }
    }
}

impl WriteCondition {
    /// S3's conditional-write answers: a missing key for If-Match is NoSuchKey.
    pub fn check(&self, key: &str, current: Option<&ObjectRecord>) -> CoreResult<()> {
        let failed = |condition: &str| {
            Err(CoreError::PreconditionFailed {
                condition: condition.into(),
            })
        };
        match (self, current) {
            (Self::Absent, Some(_)) => Err(CoreError::FileAlreadyExists),
            (Self::NotETag(tag), Some(o)) if same_etag(tag, &o.etag) => failed("If-None-Match"),
            (Self::Exists(_), None) => Err(CoreError::no_such_key(key)),
            (Self::Exists(Some(tag)), Some(o)) if !same_etag(tag, &o.etag) => failed("If-Match"),
            _ => Ok(()),
        }
    }
}

/// ETags compare without quotes and case (S3 sends lower case, OSS stores upper).
fn same_etag(given: &str, stored: &str) -> bool {
    given.trim_matches('"').eq_ignore_ascii_case(stored)
}

/// A byte range of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    /// Inclusive.
    pub end: u64,
}

impl ByteRange {
    /// Bytes in the range (never zero: the end is inclusive).
    pub fn size(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// A `Range` request as sent (`bytes=first-last`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeRequest {
    pub spec: String,
    /// Refuse an unsatisfiable range (416) and clamp an end past EOF. OSS does so
    /// only with `x-oss-range-behavior: standard`; otherwise it ignores the range.
    pub strict: bool,
}

impl RangeRequest {
    /// Resolve against an object of `size` bytes; `None` means the whole object.
    pub fn resolve(&self, size: u64) -> CoreResult<Option<ByteRange>> {
        let invalid = || -> CoreResult<Option<ByteRange>> {
            if self.strict {
                Err(CoreError::InvalidRange {
                    requested: self.spec.clone(),
                    size,
                })
            } else {
                Ok(None)
            }
        };
        let Some(spec) = self.spec.trim().strip_prefix("bytes=") else {
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
            return if self.strict {
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
}

/// Outcome of the conditional headers.
#[derive(Debug, PartialEq, Eq)]
pub enum Precondition {
    Proceed,
    NotModified,
}

/// If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304.
/// A failed condition is named without the copy-source prefix of copies: OSS answers
/// a failed `x-oss-copy-source-if-match` with `<Condition>If-Match</Condition>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    /// Unix seconds.
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(|t| t.trim().trim_start_matches("W/").trim_matches('"'))
        .any(|t| t == "*" || t.eq_ignore_ascii_case(etag))
}

impl Conditions {
    pub fn check(&self, etag: &str, last_modified_ms: i64) -> CoreResult<Precondition> {
        let modified = last_modified_ms.div_euclid(1000);
        let failed = |name: &str| CoreError::PreconditionFailed {
            condition: name.to_owned(),
        };
        if let Some(list) = &self.if_match {
            if !etag_matches(list, etag) {
                return Err(failed("If-Match"));
            }
        } else if let Some(since) = self.if_unmodified_since
            && modified > since
        {
            return Err(failed("If-Unmodified-Since"));
        }
        if let Some(list) = &self.if_none_match {
            if etag_matches(list, etag) {
                return Ok(Precondition::NotModified);
            }
        } else if let Some(since) = self.if_modified_since
            && modified <= since
        {
            return Ok(Precondition::NotModified);
        }
        Ok(Precondition::Proceed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code<T>(r: CoreResult<T>) -> Result<T, String> {
        r.map_err(|e| {
            format!("{e:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap()
                .to_owned()
        })
    }

    #[test]
    fn ranges_follow_oss_leniency() {
        let resolve = |spec: &str, size, strict| {
            code(
                RangeRequest {
                    spec: spec.into(),
                    strict,
                }
                .resolve(size),
            )
        };
        let r = |v: &str, size| resolve(v, size, false);
        let s = |v: &str, size| resolve(v, size, true);
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
        assert_eq!(s("bytes=100-", 100), Err("InvalidRange".into()));
        assert_eq!(s("bytes=0-1,3-4", 100), Err("InvalidRange".into()));
    }

    #[test]
    fn failed_conditions_name_the_bare_header() {
        let failed = |conditions: Conditions| match conditions.check("ABC", 1_700_000_000_000) {
            Err(CoreError::PreconditionFailed { condition }) => condition,
            other => panic!("expected PreconditionFailed, got {other:?}"),
        };
        let if_match = Conditions {
            if_match: Some("\"other\"".into()),
            ..Conditions::default()
        };
        assert_eq!(failed(if_match), "If-Match");
        let unmodified = Conditions {
            if_unmodified_since: Some(1_600_000_000),
            ..Conditions::default()
        };
        assert_eq!(failed(unmodified), "If-Unmodified-Since");
    }

    #[test]
    fn preconditions() {
        let lm = 1_700_000_000_000;
        let secs = lm / 1000;
        let c = |conditions: Conditions| code(conditions.check("ABC", lm));
        let failed = Err("PreconditionFailed".to_owned());
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(c(Conditions::default()), Ok(Precondition::Proceed));
        for (list, expected) in [("\"abc\"", true), ("ABC", true), ("\"X\"", false)] {
            let r = c(Conditions {
                if_match: some(list),
                ..Default::default()
            });
            assert_eq!(r.is_ok(), expected, "{list}");
        }
        assert_eq!(
            c(Conditions {
                if_none_match: some("\"ABC\""),
                ..Default::default()
            }),
            Ok(Precondition::NotModified)
        );
        assert_eq!(
            c(Conditions {
                if_none_match: some("\"X\""),
                ..Default::default()
            }),
            Ok(Precondition::Proceed)
        );
        assert_eq!(
            c(Conditions {
                if_modified_since: Some(secs + 10),
                ..Default::default()
            }),
            Ok(Precondition::NotModified)
        );
        assert_eq!(
            c(Conditions {
                if_modified_since: Some(secs - 10),
                ..Default::default()
            }),
            Ok(Precondition::Proceed)
        );
        assert_eq!(
            c(Conditions {
                if_unmodified_since: Some(secs - 10),
                ..Default::default()
            }),
            failed
        );
        assert_eq!(
            c(Conditions {
                if_unmodified_since: Some(secs + 10),
                ..Default::default()
            }),
            Ok(Precondition::Proceed)
        );
    }
}
