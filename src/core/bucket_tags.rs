//! Bucket tags: one tag set per bucket, set through either dialect under that
//! dialect's limits (OSS PutBucketTags, S3 PutBucketTagging), and the ListBuckets
//! filter on them.

use super::{CoreError, CoreResult, Store};
use crate::storage::BucketRecord;

/// What a dialect allows in a bucket's tag set.
#[derive(Debug, Clone, Copy)]
pub struct TagLimits {
    pub max_tags: usize,
    pub max_key: usize,
    pub max_value: usize,
    /// Lengths are in bytes (OSS) rather than characters (S3).
    pub in_bytes: bool,
    /// Key prefixes the service keeps for itself (compared ignoring ASCII case).
    pub reserved: &'static [&'static str],
    /// The characters keys and values may hold, where the service restricts them.
    pub chars: Option<fn(char) -> bool>,
}

/// OSS object tags: letters and digits (any script: OSS stores Chinese tags, as the
/// oss2 suite's copy-with-tagging test shows), space and `+ - = . _ : /`.
fn oss_object_tag_char(c: char) -> bool {
    c.is_alphanumeric() || " +-=._:/".contains(c)
}

/// S3 object tags: Unicode letters, digits and spaces, and `+ - = . _ : / @`.
fn s3_object_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "+-=._:/@".contains(c)
}

impl TagLimits {
    /// OSS PutBucketTags: 20 tags; keys of 1 to 64 bytes that do not start with
    /// `http://`, `https://`, `Aliyun` or `acs`; values up to 128 bytes.
    pub const OSS: Self = Self {
        max_tags: 20,
        max_key: 64,
        max_value: 128,
        in_bytes: true,
        reserved: &["http://", "https://", "aliyun", "acs"],
        chars: None,
    };
    /// S3 PutBucketTagging: 50 tags; keys of 1 to 128 characters outside `aws:`;
    /// values up to 256 characters.
    pub const S3: Self = Self {
        max_tags: 50,
        max_key: 128,
        max_value: 256,
        in_bytes: false,
        reserved: &["aws:"],
        chars: None,
    };
    /// OSS object tags (PutObjectTagging, `x-oss-tagging`): 10
    /// tags; keys of 1 to 128 characters, values up to 256, of [`oss_object_tag_char`].
    pub const OSS_OBJECT: Self = Self {
        max_tags: 10,
        max_key: 128,
        max_value: 256,
        in_bytes: false,
        reserved: &[],
        chars: Some(oss_object_tag_char),
    };
    /// OSS lifecycle Tag filters: the characters of object tags, without their count
    /// or lengths. OSS stores such a rule, which then selects nothing (the oss2 suite's
    /// test_lifecycle_object_tagging_exceptions_*).
    pub const OSS_LIFECYCLE_FILTER: Self = Self {
        max_tags: usize::MAX,
        max_key: usize::MAX,
        max_value: usize::MAX,
        in_bytes: false,
        reserved: &[],
        chars: Some(oss_object_tag_char),
    };
    /// S3 object tags (PutObjectTagging, `x-amz-tagging`, lifecycle filters): 10 tags;
    /// keys of 1 to 128 characters outside `aws:`, values up to 256.
    pub const S3_OBJECT: Self = Self {
        max_tags: 10,
        max_key: 128,
        max_value: 256,
        in_bytes: false,
        reserved: &["aws:"],
        chars: Some(s3_object_tag_char),
    };

    fn len(&self, s: &str) -> usize {
        if self.in_bytes {
            s.len()
        } else {
            s.chars().count()
        }
    }

    /// The first rule `tags` breaks, checked tag by tag after the count.
    pub fn check(&self, tags: &[(String, String)]) -> Result<(), TagProblem> {
        if tags.len() > self.max_tags {
            return Err(TagProblem::TooMany { max: self.max_tags });
        }
        for (i, (key, value)) in tags.iter().enumerate() {
            if key.is_empty() {
                return Err(TagProblem::EmptyKey);
            }
            if self.len(key) > self.max_key {
                return Err(TagProblem::KeyTooLong {
                    key: key.clone(),
                    max: self.max_key,
                });
            }
            if self.chars.is_some_and(|ok| !key.chars().all(ok)) {
                return Err(TagProblem::KeyChars { key: key.clone() });
            }
            if let Some(prefix) = self.reserved.iter().find(|p| {
                key.get(..p.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(p))
            }) {
                return Err(TagProblem::ReservedPrefix {
                    key: key.clone(),
                    prefix,
                });
            }
            if self.len(value) > self.max_value {
                return Err(TagProblem::ValueTooLong {
                    key: key.clone(),
                    max: self.max_value,
                });
            }
            if self.chars.is_some_and(|ok| !value.chars().all(ok)) {
                return Err(TagProblem::ValueChars { key: key.clone() });
            }
            if tags[..i].iter().any(|(other, _)| other == key) {
                return Err(TagProblem::Duplicate { key: key.clone() });
            }
        }
        Ok(())
    }
}

/// Why a bucket or object tag set was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagProblem {
    TooMany { max: usize },
    EmptyKey,
    KeyTooLong { key: String, max: usize },
    ValueTooLong { key: String, max: usize },
    ReservedPrefix { key: String, prefix: &'static str },
    KeyChars { key: String },
    ValueChars { key: String },
    Duplicate { key: String },
}

impl std::fmt::Display for TagProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooMany { max } => write!(f, "at most {max} tags are allowed"),
            Self::EmptyKey => write!(f, "a tag key cannot be empty"),
            Self::KeyTooLong { key, max } => write!(f, "the tag key {key:?} is longer than {max}"),
            Self::ValueTooLong { key, max } => {
                write!(f, "the value of tag {key:?} is longer than {max}")
            }
            Self::ReservedPrefix { key, prefix } => {
                write!(f, "the tag key {key:?} starts with the reserved {prefix:?}")
            }
            Self::KeyChars { key } => write!(f, "the tag key {key:?} has a character not allowed"),
            Self::ValueChars { key } => {
                write!(f, "the value of tag {key:?} has a character not allowed")
            }
            Self::Duplicate { key } => write!(f, "the tag key {key:?} appears more than once"),
        }
    }
}

/// PutBucketTags: replace the bucket's tag set with `tags` (OSS and S3 both
/// overwrite the whole set), after checking it against `limits`.
pub async fn put_bucket_tags(
    store: &Store,
    bucket: &BucketRecord,
    tags: Vec<(String, String)>,
    limits: TagLimits,
) -> CoreResult<()> {
    limits.check(&tags).map_err(CoreError::InvalidBucketTag)?;
    super::bucket::update_bucket(store, bucket, |b| b.config.tags = tags).await
}

/// DeleteBucketTags: remove the tags named in `keys`, or all of them. Keys the
/// bucket does not have are ignored (OSS answers 204 either way).
pub async fn delete_bucket_tags(
    store: &Store,
    bucket: &BucketRecord,
    keys: Option<&[String]>,
) -> CoreResult<()> {
    super::bucket::update_bucket(store, bucket, |b| match keys {
        Some(keys) => b.config.tags.retain(|(k, _)| !keys.contains(k)),
        None => b.config.tags.clear(),
    })
    .await
}

/// The ListBuckets filter `tag-key` (and `tag-value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

impl TagFilter {
    pub fn matches(&self, bucket: &BucketRecord) -> bool {
        bucket
            .config
            .tags
            .iter()
            .any(|(k, v)| *k == self.key && self.value.as_ref().is_none_or(|want| v == want))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn limits_of_each_dialect() {
        let oss = TagLimits::OSS;
        let s3 = TagLimits::S3;
        let k64 = "k".repeat(64);
        let ok = tags(&[("env", "prod"), ("empty", ""), (&k64, "v")]);
        assert_eq!(oss.check(&ok), Ok(()));
        assert_eq!(s3.check(&ok), Ok(()));
        let twenty_one: Vec<_> = (0..21).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(oss.check(&twenty_one), Err(TagProblem::TooMany { max: 20 }));
        assert_eq!(s3.check(&twenty_one), Ok(()));
        let fifty_one: Vec<_> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(s3.check(&fifty_one), Err(TagProblem::TooMany { max: 50 }));
        // 22 three-byte characters: 66 bytes, 22 characters.
        let wide = "漢".repeat(22);
        assert!(matches!(
            oss.check(&tags(&[(&wide, "v")])),
            Err(TagProblem::KeyTooLong { max: 64, .. })
        ));
        assert_eq!(s3.check(&tags(&[(&wide, "v")])), Ok(()));
        assert!(matches!(
            oss.check(&tags(&[("k", &"v".repeat(129))])),
            Err(TagProblem::ValueTooLong { max: 128, .. })
        ));
        assert_eq!(oss.check(&tags(&[("", "v")])), Err(TagProblem::EmptyKey));
        for key in ["http://x", "HTTPS://x", "aliyun-x", "Aliyun", "acs:x"] {
            assert!(
                matches!(
                    oss.check(&tags(&[(key, "v")])),
                    Err(TagProblem::ReservedPrefix { .. })
                ),
                "{key}"
            );
        }
        assert!(matches!(
            s3.check(&tags(&[("aws:cloudformation", "v")])),
            Err(TagProblem::ReservedPrefix { prefix: "aws:", .. })
        ));
        assert_eq!(
            oss.check(&tags(&[("a", "1"), ("b", "2"), ("a", "3")])),
            Err(TagProblem::Duplicate { key: "a".into() })
        );
    }

    #[test]
    fn oss_object_tags_take_letters_of_any_script() {
        let oss = TagLimits::OSS_OBJECT;
        assert_eq!(
            oss.check(&tags(&[(" +/ ", "中文"), ("中文", "test++/")])),
            Ok(())
        );
        assert_eq!(
            oss.check(&tags(&[("a", "v"), ("k", "x&y")])),
            Err(TagProblem::ValueChars { key: "k".into() })
        );
        assert_eq!(
            oss.check(&tags(&[("a@b", "v")])),
            Err(TagProblem::KeyChars { key: "a@b".into() })
        );
    }

    #[test]
    fn filter_by_key_and_value() {
        let mut b = crate::storage::meta_conformance::bucket("b", "o");
        b.config.tags = tags(&[("team", "img"), ("env", "")]);
        let f = |key: &str, value: Option<&str>| TagFilter {
            key: key.into(),
            value: value.map(Into::into),
        };
        assert!(f("team", None).matches(&b));
        assert!(f("team", Some("img")).matches(&b));
        assert!(f("env", Some("")).matches(&b));
        assert!(!f("team", Some("web")).matches(&b));
        assert!(!f("other", None).matches(&b));
        assert!(!f("Team", None).matches(&b));
    }
}
