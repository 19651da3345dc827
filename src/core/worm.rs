//! Bucket retention policies (OSS WORM): InitiateBucketWorm, AbortBucketWorm,
//! CompleteBucketWorm, ExtendBucketWorm, GetBucketWorm, and the rule every write and
//! delete of either dialect obeys: while a policy is in force, an object cannot be
//! overwritten or deleted until `last_modified + RetentionPeriodInDays`.
//!
//! The rules are pure functions of the stored policy and a time; the callers store.

use super::{CoreError, CoreResult};
use crate::storage::{BucketRecord, ObjectRecord, WormConfig, WormState};

const DAY_MS: i64 = 86_400_000;
/// An InProgress policy that is not locked within 24 hours lapses (OSS).
const IN_PROGRESS_MS: i64 = DAY_MS;
/// RetentionPeriodInDays: 1 day to 70 years (OSS).
pub const MIN_DAYS: u32 = 1;
pub const MAX_DAYS: u32 = 25_550;

/// The policy in force at `now`: a locked one, or an InProgress one younger than a day.
pub fn in_force(config: Option<&WormConfig>, now: i64) -> Option<&WormConfig> {
    config.filter(|c| c.state == WormState::Locked || now < c.created + IN_PROGRESS_MS)
}

/// Is an object last modified at `last_modified` still protected at `now`?
pub fn protects(config: &WormConfig, last_modified: i64, now: i64) -> bool {
    now < last_modified + i64::from(config.retention_days) * DAY_MS
}

/// Is `object` of `bucket` protected from overwrite and deletion at `now`?
pub fn is_protected(bucket: &BucketRecord, object: &ObjectRecord, now: i64) -> bool {
    in_force(bucket.config.worm.as_ref(), now)
        .is_some_and(|c| protects(c, object.last_modified, now))
}

/// The check of every overwrite and delete: FileImmutable while `current` is protected.
pub fn check_change(
    bucket: &BucketRecord,
    current: Option<&ObjectRecord>,
    now: i64,
) -> CoreResult<()> {
    match current {
        Some(o) if is_protected(bucket, o, now) => Err(CoreError::FileImmutable),
        _ => Ok(()),
    }
}

/// A RetentionPeriodInDays as given (`text`), in 1..=25550.
pub fn parse_days(text: &str) -> CoreResult<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| (MIN_DAYS..=MAX_DAYS).contains(d))
        .ok_or_else(|| CoreError::InvalidWormDays {
            days: text.to_owned(),
        })
}

/// InitiateBucketWorm: a new InProgress policy with id `id`. Versioning and retention
/// policies do not coexist on a bucket (OSS), and a policy in force is not replaced.
pub fn initiate(
    bucket: &BucketRecord,
    id: String,
    retention_days: u32,
    now: i64,
) -> CoreResult<WormConfig> {
    if bucket.config.versioning.is_some() {
        return Err(CoreError::InvalidRequest(
            "A retention policy cannot be configured for a bucket that has versioning enabled or suspended; use a bucket that never had versioning.".into(),
        ));
    }
    match in_force(bucket.config.worm.as_ref(), now).map(|c| c.state) {
        Some(WormState::Locked) => Err(CoreError::WormConfigurationLocked),
        // Abort the unlocked one first (AbortBucketWorm).
        Some(WormState::InProgress) => Err(CoreError::InvalidWormConfiguration),
        None => Ok(WormConfig {
            id,
            state: WormState::InProgress,
            retention_days,
            created: now,
        }),
    }
}

/// The policy in force, or NoSuchWORMConfiguration (GetBucketWorm, AbortBucketWorm).
pub fn current(bucket: &BucketRecord, now: i64) -> CoreResult<&WormConfig> {
    in_force(bucket.config.worm.as_ref(), now).ok_or(CoreError::NoSuchWormConfiguration)
}

/// The policy in force with id `id`, or NoSuchWORMConfiguration (OSS answers 404 for an
/// unknown id).
fn named<'a>(bucket: &'a BucketRecord, id: &str, now: i64) -> CoreResult<&'a WormConfig> {
    current(bucket, now).and_then(|c| {
        if c.id == id {
            Ok(c)
        } else {
            Err(CoreError::NoSuchWormConfiguration)
        }
    })
}

/// AbortBucketWorm: only an unlocked policy can be removed.
pub fn abort(bucket: &BucketRecord, now: i64) -> CoreResult<()> {
    match current(bucket, now)?.state {
        WormState::Locked => Err(CoreError::WormConfigurationLocked),
        WormState::InProgress => Ok(()),
    }
}

/// CompleteBucketWorm: the policy `id`, locked (locking a locked one changes nothing).
pub fn complete(bucket: &BucketRecord, id: &str, now: i64) -> CoreResult<WormConfig> {
    let mut config = named(bucket, id, now)?.clone();
    config.state = WormState::Locked;
    Ok(config)
}

/// ExtendBucketWorm: a locked policy's period made longer, never shorter.
pub fn extend(
    bucket: &BucketRecord,
    id: &str,
    retention_days: u32,
    now: i64,
) -> CoreResult<WormConfig> {
    let mut config = named(bucket, id, now)?.clone();
    // OSS refuses to extend an unlocked policy with InvalidWORMConfiguration.
    if config.state != WormState::Locked || retention_days <= config.retention_days {
        return Err(CoreError::InvalidWormConfiguration);
    }
    config.retention_days = retention_days;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Versioning;

    const T0: i64 = 1_700_000_000_000;

    fn bucket(worm: Option<WormConfig>) -> BucketRecord {
        let mut b = crate::storage::meta_conformance::bucket("b", "o");
        b.config.worm = worm;
        b
    }

    fn config(state: WormState, days: u32) -> WormConfig {
        WormConfig {
            id: "ID".into(),
            state,
            retention_days: days,
            created: T0,
        }
    }

    fn object(last_modified: i64) -> ObjectRecord {
        let mut o = crate::core::object::new_record("Normal", "Standard");
        o.last_modified = last_modified;
        o
    }

    #[test]
    fn in_progress_lapses_after_a_day_locked_never() {
        let p = config(WormState::InProgress, 1);
        assert!(in_force(Some(&p), T0 + DAY_MS - 1).is_some());
        assert!(in_force(Some(&p), T0 + DAY_MS).is_none());
        let l = config(WormState::Locked, 1);
        assert!(in_force(Some(&l), T0 + 100 * DAY_MS).is_some());
        assert!(in_force(None, T0).is_none());
    }

    #[test]
    fn objects_are_protected_for_the_period_from_their_last_change() {
        let b = bucket(Some(config(WormState::Locked, 2)));
        let o = object(T0 + 5);
        assert_eq!(
            check_change(&b, Some(&o), T0 + 5 + 2 * DAY_MS - 1),
            Err(CoreError::FileImmutable)
        );
        assert_eq!(check_change(&b, Some(&o), T0 + 5 + 2 * DAY_MS), Ok(()));
        // A new key is never protected.
        assert_eq!(check_change(&b, None, T0), Ok(()));
        // An InProgress policy protects too, until it lapses.
        let b = bucket(Some(config(WormState::InProgress, 30)));
        assert!(is_protected(&b, &o, T0 + DAY_MS - 1));
        assert!(!is_protected(&b, &o, T0 + DAY_MS));
        assert!(!is_protected(&bucket(None), &o, T0));
    }

    #[test]
    fn days_are_1_to_25550() {
        assert_eq!(parse_days("1"), Ok(1));
        assert_eq!(parse_days(" 25550 "), Ok(25_550));
        for bad in ["0", "25551", "-1", "x", "", "1.5"] {
            assert!(
                matches!(parse_days(bad), Err(CoreError::InvalidWormDays { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn lifecycle_of_a_policy() {
        let none = bucket(None);
        assert_eq!(current(&none, T0), Err(CoreError::NoSuchWormConfiguration));
        assert_eq!(abort(&none, T0), Err(CoreError::NoSuchWormConfiguration));
        let made = initiate(&none, "ID".into(), 3, T0).unwrap();
        assert_eq!(made, config(WormState::InProgress, 3));

        let pending = bucket(Some(made));
        assert_eq!(abort(&pending, T0), Ok(()));
        assert_eq!(
            initiate(&pending, "X".into(), 3, T0),
            Err(CoreError::InvalidWormConfiguration)
        );
        // Extending needs a locked policy.
        assert_eq!(
            extend(&pending, "ID", 5, T0),
            Err(CoreError::InvalidWormConfiguration)
        );
        assert_eq!(
            complete(&pending, "other", T0),
            Err(CoreError::NoSuchWormConfiguration)
        );
        // Lapsed: gone for every operation, and a new one can be made.
        let later = T0 + DAY_MS;
        assert_eq!(
            complete(&pending, "ID", later),
            Err(CoreError::NoSuchWormConfiguration)
        );
        assert!(initiate(&pending, "N".into(), 1, later).is_ok());

        let locked = bucket(Some(complete(&pending, "ID", T0).unwrap()));
        assert_eq!(current(&locked, T0).unwrap().state, WormState::Locked);
        assert_eq!(abort(&locked, T0), Err(CoreError::WormConfigurationLocked));
        assert_eq!(
            initiate(&locked, "X".into(), 3, later),
            Err(CoreError::WormConfigurationLocked)
        );
        assert_eq!(
            extend(&locked, "ID", 3, T0),
            Err(CoreError::InvalidWormConfiguration)
        );
        assert_eq!(extend(&locked, "ID", 4, T0).unwrap().retention_days, 4);
        assert_eq!(
            extend(&locked, "nope", 4, T0),
            Err(CoreError::NoSuchWormConfiguration)
        );
    }

    #[test]
    fn versioned_buckets_get_no_policy() {
        let mut b = bucket(None);
        b.config.versioning = Some(Versioning::Suspended);
        assert!(matches!(
            initiate(&b, "ID".into(), 1, T0),
            Err(CoreError::InvalidRequest(_))
        ));
    }
}
