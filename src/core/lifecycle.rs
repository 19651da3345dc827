//! Lifecycle rules, one model under both dialects: the checks OSS PutBucketLifecycle
//! and S3 PutBucketLifecycleConfiguration make before storing rules, and which
//! objects a stored rule selects (the sweeper in `crate::lifecycle` applies them).
//! The dialects only turn their XML or DTOs into [`LifecycleRule`]s.

use super::bucket_tags::{TagLimits, TagProblem};
use super::{CoreError, CoreResult, Store};
use crate::storage::{BucketRecord, LifecycleRule, LifecycleWhen};

/// Rules in one configuration (both services).
pub const MAX_RULES: usize = 1000;
/// Bytes of a rule ID (both services).
pub const MAX_ID: usize = 255;
/// Characters of a rule prefix (OSS).
pub const MAX_PREFIX: usize = 1023;
/// The largest size filter: 5 TiB (OSS ObjectSizeGreaterThan/LessThan).
pub const MAX_SIZE_FILTER: u64 = 5 << 40;
const DAY_MS: i64 = 86_400_000;

/// Whose rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OSS refuses rules whose prefixes overlap unless the request says
    /// `x-oss-allow-same-action-overlap: true`.
    Oss {
        allow_overlap: bool,
    },
    S3,
}

impl Dialect {
    fn tag_limits(self) -> TagLimits {
        match self {
            Self::Oss { .. } => TagLimits::OSS_LIFECYCLE_FILTER,
            Self::S3 => TagLimits::S3_OBJECT,
        }
    }
}

/// The lifecycle actions a rule can hold, named as OSS names their elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Expiration,
    Transition,
    AbortMultipartUpload,
    NoncurrentVersionExpiration,
    NoncurrentVersionTransition,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Self::Expiration => "Expiration",
            Self::Transition => "Transition",
            Self::AbortMultipartUpload => "AbortMultipartUpload",
            Self::NoncurrentVersionExpiration => "NoncurrentVersionExpiration",
            Self::NoncurrentVersionTransition => "NoncurrentVersionTransition",
        }
    }
}

/// Why a lifecycle configuration was refused; `id` names the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleProblem {
    NoRules,
    TooManyRules,
    IdTooLong {
        id: String,
    },
    DuplicateId {
        id: String,
    },
    PrefixTooLong {
        id: String,
    },
    NoAction {
        id: String,
    },
    /// Days (or NoncurrentDays) of 0.
    ZeroDays {
        id: String,
        action: Action,
    },
    /// A date that is not midnight UTC.
    NotMidnight {
        id: String,
        action: Action,
    },
    /// Expiration and Transition of one rule mix Days and a date.
    MixedDaysAndDate {
        id: String,
    },
    BadStorageClass {
        id: String,
        class: String,
    },
    /// Transitions to colder classes must come later (IA, Archive, ColdArchive,
    /// DeepColdArchive), each class once.
    TransitionOrder {
        id: String,
        action: Action,
    },
    /// Expiration (or NoncurrentVersionExpiration) must come after every transition.
    ExpirationBeforeTransition {
        id: String,
        action: Action,
    },
    /// ObjectSizeGreaterThan must be below ObjectSizeLessThan, both at most 5 TiB.
    SizeRange {
        id: String,
    },
    /// A Filter/Not prefix must start with the rule's prefix and, without a tag,
    /// be longer than it.
    NotPrefix {
        id: String,
    },
    /// A Filter/Not tag that the rule itself requires leaves nothing to select.
    NotTag {
        id: String,
    },
    /// AbortMultipartUpload and ExpiredObjectDeleteMarker cannot have tag filters.
    TagsWith {
        id: String,
        action: &'static str,
    },
    Tag {
        id: String,
        problem: TagProblem,
    },
    /// Two rules with overlapping prefixes and the same action (OSS); `action` is the
    /// type of the first action they share (`Expiration`, `Transition`, ...), None when
    /// they share only the prefix.
    Overlap {
        first: String,
        second: String,
        same_prefix: bool,
        action: Option<String>,
    },
}

impl std::fmt::Display for LifecycleProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NoRules => write!(f, "the configuration has no rule"),
            Self::TooManyRules => write!(f, "the configuration has more than {MAX_RULES} rules"),
            Self::IdTooLong { id } => write!(f, "rule ID {id:?} is longer than {MAX_ID} bytes"),
            Self::DuplicateId { id } => write!(f, "rule ID {id:?} is used more than once"),
            Self::PrefixTooLong { id } => {
                write!(
                    f,
                    "rule {id:?} has a prefix longer than {MAX_PREFIX} characters"
                )
            }
            Self::NoAction { id } => write!(f, "rule {id:?} has no action"),
            Self::ZeroDays { id, action } => write!(
                f,
                "rule {id:?}: the days of {} must be a positive integer",
                action.name()
            ),
            Self::NotMidnight { id, action } => write!(
                f,
                "rule {id:?}: the date of {} must be midnight UTC, like 2024-10-11T00:00:00.000Z",
                action.name()
            ),
            Self::MixedDaysAndDate { id } => write!(
                f,
                "rule {id:?} mixes Days and a date across Expiration and Transition; use one kind"
            ),
            Self::BadStorageClass { id, class } => write!(
                f,
                "rule {id:?}: {class:?} is not a storage class a transition can go to (IA, Archive, ColdArchive, DeepColdArchive)"
            ),
            Self::TransitionOrder { id, action } => write!(
                f,
                "rule {id:?}: each {} goes to a different class, and colder classes (IA, Archive, ColdArchive, DeepColdArchive) come strictly later",
                action.name()
            ),
            Self::ExpirationBeforeTransition { id, action } => write!(
                f,
                "rule {id:?}: {} must come strictly later than every transition",
                action.name()
            ),
            Self::SizeRange { id } => write!(
                f,
                "rule {id:?}: ObjectSizeGreaterThan must be less than ObjectSizeLessThan, both at most {MAX_SIZE_FILTER} bytes"
            ),
            Self::NotPrefix { id } => write!(
                f,
                "rule {id:?}: a Filter/Not prefix must start with the rule's prefix (and be longer, unless the Not has a Tag)"
            ),
            Self::NotTag { id } => write!(
                f,
                "rule {id:?}: the Filter/Not tag is one the rule requires, so the rule would select nothing"
            ),
            Self::TagsWith { id, action } => {
                write!(f, "rule {id:?}: {action} cannot be used with a Tag filter")
            }
            Self::Tag { id, problem } => write!(f, "rule {id:?}: {problem}"),
            Self::Overlap {
                first,
                second,
                same_prefix: true,
                ..
            } => write!(f, "rules {first:?} and {second:?} have the same prefix"),
            Self::Overlap { first, second, .. } => write!(
                f,
                "rules {first:?} and {second:?} have overlapping prefixes and the same action"
            ),
        }
    }
}

/// Storage classes a transition goes to, warmest first.
const TRANSITION_CLASSES: [&str; 4] = ["IA", "Archive", "ColdArchive", "DeepColdArchive"];

fn class_rank(id: &str, class: &str) -> Result<usize, LifecycleProblem> {
    TRANSITION_CLASSES
        .iter()
        .position(|c| *c == class)
        .ok_or_else(|| LifecycleProblem::BadStorageClass {
            id: id.to_owned(),
            class: class.to_owned(),
        })
}

/// How far into an object's life an action comes, comparable within one rule: days,
/// or a date in ms. A CreatedBeforeDate reaches objects older than it, so an earlier
/// date comes later in their life: OSS takes Expiration before 2016-12-20 with a
/// transition before 2016-12-25 (the oss2 suite's test_lifecycle_storage_transitions_date).
fn when_key(when: &LifecycleWhen) -> (bool, i64) {
    match when {
        LifecycleWhen::Days(d) => (false, i64::from(*d)),
        LifecycleWhen::CreatedBeforeDate(ms) => (true, -*ms),
        LifecycleWhen::Date(ms) => (true, *ms),
    }
}

fn check_when(id: &str, action: Action, when: &LifecycleWhen) -> Result<(), LifecycleProblem> {
    match when {
        LifecycleWhen::Days(0) => Err(LifecycleProblem::ZeroDays {
            id: id.to_owned(),
            action,
        }),
        LifecycleWhen::CreatedBeforeDate(ms) | LifecycleWhen::Date(ms)
            if ms.rem_euclid(DAY_MS) != 0 =>
        {
            Err(LifecycleProblem::NotMidnight {
                id: id.to_owned(),
                action,
            })
        }
        _ => Ok(()),
    }
}

/// Transitions `(rank, time)` sorted by class must have strictly increasing times
/// and distinct classes.
fn check_order(
    id: &str,
    action: Action,
    mut steps: Vec<(usize, i64)>,
) -> Result<Option<i64>, LifecycleProblem> {
    steps.sort();
    if steps
        .windows(2)
        .any(|w| w[0].0 == w[1].0 || w[0].1 >= w[1].1)
    {
        return Err(LifecycleProblem::TransitionOrder {
            id: id.to_owned(),
            action,
        });
    }
    Ok(steps.last().map(|s| s.1))
}

/// One rule on its own.
fn check_rule(rule: &LifecycleRule, dialect: Dialect) -> Result<(), LifecycleProblem> {
    let id = rule.id.as_str();
    let owned = || id.to_owned();
    if id.len() > MAX_ID {
        return Err(LifecycleProblem::IdTooLong { id: owned() });
    }
    if rule.prefix.chars().count() > MAX_PREFIX {
        return Err(LifecycleProblem::PrefixTooLong { id: owned() });
    }
    if rule.expiration.is_none()
        && !rule.expired_object_delete_marker
        && rule.noncurrent_days.is_none()
        && rule.abort_multipart.is_none()
        && rule.transitions.is_empty()
        && rule.noncurrent_transitions.is_empty()
    {
        return Err(LifecycleProblem::NoAction { id: owned() });
    }
    let mut filter_tags = rule.tags.clone();
    filter_tags.extend(rule.not.iter().filter_map(|n| n.tag.clone()));
    dialect
        .tag_limits()
        .check(&rule.tags)
        .and_then(|()| {
            let not_tags: Vec<_> = rule.not.iter().filter_map(|n| n.tag.clone()).collect();
            dialect.tag_limits().check(&not_tags)
        })
        .map_err(|problem| LifecycleProblem::Tag {
            id: owned(),
            problem,
        })?;
    if !filter_tags.is_empty() {
        if rule.abort_multipart.is_some() {
            return Err(LifecycleProblem::TagsWith {
                id: owned(),
                action: "AbortMultipartUpload",
            });
        }
        if rule.expired_object_delete_marker {
            return Err(LifecycleProblem::TagsWith {
                id: owned(),
                action: "ExpiredObjectDeleteMarker",
            });
        }
    }
    for not in &rule.not {
        if !not.prefix.starts_with(&rule.prefix)
            || (not.tag.is_none() && not.prefix.len() <= rule.prefix.len())
        {
            return Err(LifecycleProblem::NotPrefix { id: owned() });
        }
        if not.tag.as_ref().is_some_and(|t| rule.tags.contains(t)) {
            return Err(LifecycleProblem::NotTag { id: owned() });
        }
    }
    let sizes = (rule.size_greater_than, rule.size_less_than);
    if sizes.0.is_some_and(|s| s > MAX_SIZE_FILTER)
        || sizes.1.is_some_and(|s| s > MAX_SIZE_FILTER)
        || matches!(sizes, (Some(g), Some(l)) if g >= l)
    {
        return Err(LifecycleProblem::SizeRange { id: owned() });
    }
    // Current versions: Expiration after the transitions, all by Days or all by date.
    if let Some(when) = &rule.expiration {
        check_when(id, Action::Expiration, when)?;
    }
    if let Some(when) = &rule.abort_multipart {
        check_when(id, Action::AbortMultipartUpload, when)?;
    }
    let mut steps = Vec::new();
    for (when, class) in &rule.transitions {
        check_when(id, Action::Transition, when)?;
        steps.push((class_rank(id, class)?, when_key(when)));
    }
    let expiration = rule.expiration.as_ref().map(when_key);
    let kinds = steps.iter().map(|s| s.1.0).chain(expiration.map(|e| e.0));
    if kinds.clone().any(|k| k) && kinds.clone().any(|k| !k) {
        return Err(LifecycleProblem::MixedDaysAndDate { id: owned() });
    }
    let steps = steps.into_iter().map(|(r, (_, t))| (r, t)).collect();
    let last = check_order(id, Action::Transition, steps)?;
    if let (Some(last), Some((_, expires))) = (last, expiration)
        && expires <= last
    {
        return Err(LifecycleProblem::ExpirationBeforeTransition {
            id: owned(),
            action: Action::Expiration,
        });
    }
    // Noncurrent versions: the same ordering, in NoncurrentDays.
    let mut steps = Vec::new();
    for (days, class) in &rule.noncurrent_transitions {
        if *days == 0 {
            return Err(LifecycleProblem::ZeroDays {
                id: owned(),
                action: Action::NoncurrentVersionTransition,
            });
        }
        steps.push((class_rank(id, class)?, i64::from(*days)));
    }
    let last = check_order(id, Action::NoncurrentVersionTransition, steps)?;
    match rule.noncurrent_days {
        Some(0) => Err(LifecycleProblem::ZeroDays {
            id: owned(),
            action: Action::NoncurrentVersionExpiration,
        }),
        Some(days) if last.is_some_and(|last| i64::from(days) <= last) => {
            Err(LifecycleProblem::ExpirationBeforeTransition {
                id: owned(),
                action: Action::NoncurrentVersionExpiration,
            })
        }
        _ => Ok(()),
    }
}

/// The kinds of action a rule takes, for OSS's overlap check: deletions,
/// noncurrent deletions, upload aborts, and each transition's class.
fn action_kinds(rule: &LifecycleRule) -> Vec<String> {
    let mut kinds = Vec::new();
    if rule.expiration.is_some() || rule.expired_object_delete_marker {
        kinds.push("Expiration".to_owned());
    }
    if rule.noncurrent_days.is_some() {
        kinds.push("NoncurrentVersionExpiration".to_owned());
    }
    if rule.abort_multipart.is_some() {
        kinds.push("AbortMultipartUpload".to_owned());
    }
    kinds.extend(
        rule.transitions
            .iter()
            .map(|(_, c)| format!("Transition {c}")),
    );
    kinds.extend(
        rule.noncurrent_transitions
            .iter()
            .map(|(_, c)| format!("NoncurrentVersionTransition {c}")),
    );
    kinds
}

/// A whole configuration, in the order the services check it: each rule, then
/// IDs, then (OSS) overlapping prefixes.
pub fn check_rules(rules: &[LifecycleRule], dialect: Dialect) -> Result<(), LifecycleProblem> {
    if rules.is_empty() {
        return Err(LifecycleProblem::NoRules);
    }
    if rules.len() > MAX_RULES {
        return Err(LifecycleProblem::TooManyRules);
    }
    for (i, rule) in rules.iter().enumerate() {
        check_rule(rule, dialect)?;
        if rules[..i].iter().any(|r| r.id == rule.id) {
            return Err(LifecycleProblem::DuplicateId {
                id: rule.id.clone(),
            });
        }
    }
    if dialect
        != (Dialect::Oss {
            allow_overlap: false,
        })
    {
        return Ok(());
    }
    // OSS: the same prefix twice, or overlapping prefixes with an action in common.
    for (i, rule) in rules.iter().enumerate() {
        let kinds = action_kinds(rule);
        for other in &rules[..i] {
            let same_prefix = other.prefix == rule.prefix;
            let overlap =
                rule.prefix.starts_with(&other.prefix) || other.prefix.starts_with(&rule.prefix);
            let shared = action_kinds(other).into_iter().find(|k| kinds.contains(k));
            if same_prefix || (overlap && shared.is_some()) {
                return Err(LifecycleProblem::Overlap {
                    first: other.id.clone(),
                    second: rule.id.clone(),
                    same_prefix,
                    // "Transition IA" is of type Transition.
                    action: shared.map(|k| k.split(' ').next().unwrap_or_default().to_owned()),
                });
            }
        }
    }
    Ok(())
}

/// PutBucketLifecycle(Configuration): replace the bucket's rules with `rules` once
/// they pass `dialect`'s checks; refused rules change nothing.
pub async fn put_bucket_lifecycle(
    store: &Store,
    bucket: &BucketRecord,
    rules: Vec<LifecycleRule>,
    dialect: Dialect,
) -> CoreResult<()> {
    check_rules(&rules, dialect).map_err(CoreError::InvalidLifecycle)?;
    super::bucket::update_bucket(store, bucket, |b| b.config.lifecycle = Some(rules)).await
}

/// DeleteBucketLifecycle (both dialects).
pub async fn delete_bucket_lifecycle(store: &Store, bucket: &BucketRecord) -> CoreResult<()> {
    super::bucket::update_bucket(store, bucket, |b| b.config.lifecycle = None).await
}

/// Does `rule` select the object `key` of `size` bytes with `tags`? Prefix, the
/// rule's tags, the size bounds, and none of the Filter/Not exclusions.
pub fn selects(rule: &LifecycleRule, key: &str, size: u64, tags: &[(String, String)]) -> bool {
    key.starts_with(&rule.prefix)
        && rule.tags.iter().all(|tag| tags.contains(tag))
        && rule.size_greater_than.is_none_or(|min| size > min)
        && rule.size_less_than.is_none_or(|max| size < max)
        && !rule.not.iter().any(|not| {
            key.starts_with(&not.prefix) && not.tag.as_ref().is_none_or(|t| tags.contains(t))
        })
}

/// Does `rule` select a multipart upload of `key`? Uploads have no tags or size:
/// only the prefix and the tagless Filter/Not prefixes count.
pub fn selects_upload(rule: &LifecycleRule, key: &str) -> bool {
    key.starts_with(&rule.prefix)
        && !rule
            .not
            .iter()
            .any(|not| not.tag.is_none() && key.starts_with(&not.prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LifecycleNot;

    fn rule(id: &str, prefix: &str) -> LifecycleRule {
        LifecycleRule {
            id: id.into(),
            prefix: prefix.into(),
            enabled: true,
            expiration: Some(LifecycleWhen::Days(30)),
            ..Default::default()
        }
    }

    const OSS: Dialect = Dialect::Oss {
        allow_overlap: false,
    };

    fn tag(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn ids_counts_and_days() {
        assert_eq!(check_rules(&[], OSS), Err(LifecycleProblem::NoRules));
        assert_eq!(check_rules(&[rule("a", "x/")], OSS), Ok(()));
        assert!(matches!(
            check_rules(&[rule("a", "x/"), rule("a", "y/")], Dialect::S3),
            Err(LifecycleProblem::DuplicateId { .. })
        ));
        assert!(matches!(
            check_rules(&[rule(&"i".repeat(256), "")], Dialect::S3),
            Err(LifecycleProblem::IdTooLong { .. })
        ));
        let zero = LifecycleRule {
            expiration: Some(LifecycleWhen::Days(0)),
            ..rule("z", "")
        };
        assert!(matches!(
            check_rules(&[zero], OSS),
            Err(LifecycleProblem::ZeroDays { .. })
        ));
        let noon = LifecycleRule {
            expiration: Some(LifecycleWhen::CreatedBeforeDate(DAY_MS / 2)),
            ..rule("n", "")
        };
        assert!(matches!(
            check_rules(&[noon], Dialect::S3),
            Err(LifecycleProblem::NotMidnight { .. })
        ));
        let none = LifecycleRule {
            expiration: None,
            ..rule("e", "")
        };
        assert!(matches!(
            check_rules(&[none], OSS),
            Err(LifecycleProblem::NoAction { .. })
        ));
    }

    #[test]
    fn oss_tag_filters_check_characters_only() {
        let tagged = |tags: Vec<(String, String)>| LifecycleRule {
            tags,
            ..rule("t", "")
        };
        let many = (0..19).map(|i| (format!("k{i}"), "v".into())).collect();
        let long = vec![("a".repeat(129), "v".repeat(257))];
        for tags in [many, long] {
            assert_eq!(check_rules(&[tagged(tags.clone())], OSS), Ok(()));
            assert!(check_rules(&[tagged(tags)], Dialect::S3).is_err());
        }
        assert!(matches!(
            check_rules(&[tagged(vec![("%&".into(), "v".into())])], OSS),
            Err(LifecycleProblem::Tag {
                problem: TagProblem::KeyChars { .. },
                ..
            })
        ));
    }

    #[test]
    fn transitions_are_ordered_and_before_expiration() {
        let with = |transitions: Vec<(LifecycleWhen, &str)>, expiration| LifecycleRule {
            transitions: transitions
                .into_iter()
                .map(|(w, c)| (w, c.to_owned()))
                .collect(),
            expiration,
            ..rule("t", "")
        };
        let d = LifecycleWhen::Days;
        let ok = with(
            vec![(d(30), "IA"), (d(60), "Archive"), (d(90), "ColdArchive")],
            Some(d(120)),
        );
        assert_eq!(check_rules(&[ok], OSS), Ok(()));
        for bad in [
            with(vec![(d(60), "IA"), (d(30), "Archive")], None),
            with(vec![(d(30), "IA"), (d(30), "Archive")], None),
            with(vec![(d(30), "IA"), (d(60), "IA")], None),
        ] {
            assert!(matches!(
                check_rules(&[bad], OSS),
                Err(LifecycleProblem::TransitionOrder { .. })
            ));
        }
        assert!(matches!(
            check_rules(&[with(vec![(d(30), "IA")], Some(d(30)))], OSS),
            Err(LifecycleProblem::ExpirationBeforeTransition { .. })
        ));
        assert!(matches!(
            check_rules(&[with(vec![(d(30), "Standard")], None)], OSS),
            Err(LifecycleProblem::BadStorageClass { .. })
        ));
        // By CreatedBeforeDate, an earlier date reaches older objects: it comes later.
        let c = |days| LifecycleWhen::CreatedBeforeDate(DAY_MS * days);
        let dated = with(vec![(c(25), "IA"), (c(20), "Archive")], Some(c(10)));
        assert_eq!(check_rules(&[dated], OSS), Ok(()));
        assert!(matches!(
            check_rules(&[with(vec![(c(20), "IA"), (c(25), "Archive")], None)], OSS),
            Err(LifecycleProblem::TransitionOrder { .. })
        ));
        assert!(matches!(
            check_rules(&[with(vec![(c(25), "IA")], Some(c(25)))], OSS),
            Err(LifecycleProblem::ExpirationBeforeTransition { .. })
        ));
        let mixed = with(
            vec![(d(30), "IA")],
            Some(LifecycleWhen::CreatedBeforeDate(DAY_MS * 400)),
        );
        assert!(matches!(
            check_rules(&[mixed], OSS),
            Err(LifecycleProblem::MixedDaysAndDate { .. })
        ));
        let noncurrent = LifecycleRule {
            noncurrent_transitions: vec![(30, "IA".into()), (20, "Archive".into())],
            ..rule("v", "")
        };
        assert!(matches!(
            check_rules(&[noncurrent], OSS),
            Err(LifecycleProblem::TransitionOrder { .. })
        ));
        let noncurrent = LifecycleRule {
            noncurrent_transitions: vec![(30, "IA".into())],
            noncurrent_days: Some(10),
            ..rule("v", "")
        };
        assert!(matches!(
            check_rules(&[noncurrent], OSS),
            Err(LifecycleProblem::ExpirationBeforeTransition { .. })
        ));
    }

    #[test]
    fn filters() {
        let sized = |g, l| LifecycleRule {
            size_greater_than: g,
            size_less_than: l,
            ..rule("s", "")
        };
        assert_eq!(check_rules(&[sized(Some(10), Some(20))], OSS), Ok(()));
        assert!(check_rules(&[sized(Some(20), Some(20))], OSS).is_err());
        assert!(check_rules(&[sized(None, Some(MAX_SIZE_FILTER + 1))], OSS).is_err());
        let not = |prefix: &str, t: Option<(String, String)>| LifecycleRule {
            not: vec![LifecycleNot {
                prefix: prefix.into(),
                tag: t,
            }],
            tags: vec![tag("a", "1")],
            ..rule("n", "logs/")
        };
        assert_eq!(check_rules(&[not("logs/keep/", None)], OSS), Ok(()));
        assert_eq!(
            check_rules(&[not("logs/", Some(tag("b", "2")))], OSS),
            Ok(())
        );
        for bad in [not("other/", None), not("logs/", None), not("", None)] {
            assert!(matches!(
                check_rules(&[bad], OSS),
                Err(LifecycleProblem::NotPrefix { .. })
            ));
        }
        assert!(matches!(
            check_rules(&[not("logs/x", Some(tag("a", "1")))], OSS),
            Err(LifecycleProblem::NotTag { .. })
        ));
        assert!(matches!(
            check_rules(&[not("logs/x", Some(tag("bad!", "1")))], OSS),
            Err(LifecycleProblem::Tag { .. })
        ));
        let abort = LifecycleRule {
            abort_multipart: Some(LifecycleWhen::Days(1)),
            tags: vec![tag("a", "1")],
            ..rule("m", "")
        };
        assert!(matches!(
            check_rules(&[abort], Dialect::S3),
            Err(LifecycleProblem::TagsWith { .. })
        ));
    }

    #[test]
    fn oss_refuses_overlap_of_the_same_action() {
        let transition = |id, prefix, class: &str| LifecycleRule {
            expiration: None,
            transitions: vec![(LifecycleWhen::Days(30), class.to_owned())],
            ..rule(id, prefix)
        };
        let same = [rule("a", "test"), rule("b", "test/log")];
        assert!(matches!(
            check_rules(&same, OSS),
            Err(LifecycleProblem::Overlap {
                same_prefix: false,
                action: Some(a),
                ..
            }) if a == "Expiration"
        ));
        let allowed = Dialect::Oss {
            allow_overlap: true,
        };
        assert_eq!(check_rules(&same, allowed), Ok(()));
        assert_eq!(check_rules(&same, Dialect::S3), Ok(()));
        // Different actions may overlap, but never share the prefix exactly.
        let different = [rule("a", "test"), transition("b", "test/log", "IA")];
        assert_eq!(check_rules(&different, OSS), Ok(()));
        let archive = [
            transition("a", "test", "IA"),
            transition("b", "test/log", "Archive"),
        ];
        assert_eq!(check_rules(&archive, OSS), Ok(()));
        let ia = [
            transition("a", "test", "IA"),
            transition("b", "test/log", "IA"),
        ];
        assert!(matches!(
            check_rules(&ia, OSS),
            Err(LifecycleProblem::Overlap { action: Some(a), .. }) if a == "Transition"
        ));
        let exact = [rule("a", "test"), transition("b", "test", "IA")];
        assert!(matches!(
            check_rules(&exact, OSS),
            Err(LifecycleProblem::Overlap {
                same_prefix: true,
                ..
            })
        ));
        assert_eq!(
            check_rules(&[rule("a", "x/"), rule("b", "y/")], OSS),
            Ok(())
        );
    }

    #[test]
    fn selection() {
        let r = LifecycleRule {
            tags: vec![tag("k", "v")],
            size_greater_than: Some(10),
            size_less_than: Some(100),
            not: vec![
                LifecycleNot {
                    prefix: "logs/keep/".into(),
                    tag: None,
                },
                LifecycleNot {
                    prefix: "logs/".into(),
                    tag: Some(tag("hold", "yes")),
                },
            ],
            ..rule("r", "logs/")
        };
        let tagged = [tag("k", "v")];
        assert!(selects(&r, "logs/a", 50, &tagged));
        assert!(!selects(&r, "other/a", 50, &tagged));
        assert!(!selects(&r, "logs/a", 50, &[]));
        assert!(!selects(&r, "logs/a", 10, &tagged));
        assert!(!selects(&r, "logs/a", 100, &tagged));
        assert!(!selects(&r, "logs/keep/a", 50, &tagged));
        assert!(!selects(
            &r,
            "logs/a",
            50,
            &[tag("k", "v"), tag("hold", "yes")]
        ));
        assert!(selects_upload(&r, "logs/a"));
        assert!(!selects_upload(&r, "logs/keep/a"));
    }
}
