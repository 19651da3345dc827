//! Cold storage classes (Archive, ColdArchive, DeepColdArchive): whether an object's
//! bytes can be read now, and what a RestoreObject does at a given time. The state is
//! computed from the times stored on the record when it is read, never by a background
//! job, so every node of a deployment answers the same.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::object::try_update_record;
use super::{CoreError, CoreResult, Store, now_ms};
use crate::storage::{BucketRecord, ObjectRecord, RestoreRecord};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A storage class whose bytes need a restore before they can be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColdClass {
    Archive,
    ColdArchive,
    DeepColdArchive,
}

impl ColdClass {
    /// The cold class of a stored OSS storage class, if it is one.
    pub fn of(storage_class: &str) -> Option<Self> {
        match storage_class {
            "Archive" => Some(Self::Archive),
            "ColdArchive" => Some(Self::ColdArchive),
            "DeepColdArchive" => Some(Self::DeepColdArchive),
            _ => None,
        }
    }

    /// The longest restored state one request may ask for, in days (OSS: 7 for
    /// Archive, 365 for the cold archive classes).
    pub fn max_days(self) -> i64 {
        match self {
            Self::Archive => 7,
            Self::ColdArchive | Self::DeepColdArchive => 365,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Archive => "Archive",
            Self::ColdArchive => "ColdArchive",
            Self::DeepColdArchive => "DeepColdArchive",
        }
    }
}

/// The priority of a ColdArchive or DeepColdArchive restore (OSS's `JobParameters`,
/// S3's `GlacierJobParameters`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Expedited,
    Standard,
    Bulk,
}

impl Tier {
    pub fn parse(tier: &str) -> CoreResult<Self> {
        match tier {
            "Expedited" => Ok(Self::Expedited),
            "Standard" => Ok(Self::Standard),
            "Bulk" => Ok(Self::Bulk),
            _ => Err(CoreError::InvalidRestoreTier {
                tier: tier.to_owned(),
            }),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Expedited => "Expedited",
            Self::Standard => "Standard",
            Self::Bulk => "Bulk",
        }
    }
}

/// Where a cold object stands at some time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreState {
    /// Not restored, or its restored copy expired.
    Frozen,
    Restoring,
    Restored {
        expires_at: i64,
    },
}

/// The state of `record` at `now`; None when its class needs no restore (a symlink
/// has no bytes of its own: its target's class counts when it is read).
pub fn state(record: &ObjectRecord, now: i64) -> Option<RestoreState> {
    ColdClass::of(&record.storage_class).filter(|_| record.symlink_target.is_none())?;
    Some(match &record.restore {
        Some(r) if now < r.ready_at => RestoreState::Restoring,
        Some(r) if now < r.expires_at => RestoreState::Restored {
            expires_at: r.expires_at,
        },
        _ => RestoreState::Frozen,
    })
}

/// The restore status as OSS's `x-oss-restore`, S3's `x-amz-restore` and the
/// `RestoreInfo` of listings write it; None for an object with no restore under way or
/// in effect.
pub fn restore_info(record: &ObjectRecord, now: i64) -> Option<String> {
    match state(record, now)? {
        RestoreState::Frozen => None,
        RestoreState::Restoring => Some("ongoing-request=\"true\"".into()),
        RestoreState::Restored { expires_at } => Some(format!(
            "ongoing-request=\"false\", expiry-date=\"{}\"",
            rfc1123(expires_at)
        )),
    }
}

/// `Thu, 24 Sep 2020 12:40:33 GMT`.
fn rfc1123(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// Refuse reading the bytes of `record` (GetObject, a copy source, image processing)
/// while it is cold and not restored. HEAD and GetObjectMeta never ask. With archive
/// direct read on the bucket, Archive objects (not the colder classes) read at once.
pub fn check_readable(bucket: &BucketRecord, record: &ObjectRecord, now: i64) -> CoreResult<()> {
    match state(record, now) {
        None | Some(RestoreState::Restored { .. }) => Ok(()),
        Some(_)
            if bucket.config.archive_direct_read
                && ColdClass::of(&record.storage_class) == Some(ColdClass::Archive) =>
        {
            Ok(())
        }
        Some(_) => Err(CoreError::InvalidObjectState {
            storage_class: record.storage_class.clone(),
        }),
    }
}

/// What a RestoreObject request asks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreObject {
    /// `Days` as the request gives it (None: one day). Its range depends on the
    /// object's class, so it is checked here, text that is no number included.
    pub days: Option<String>,
    /// The priority (ColdArchive and DeepColdArchive only; Standard by default).
    pub tier: Option<Tier>,
    /// Refuse a priority for an Archive object, as OSS refuses `JobParameters` there
    /// (MalformedXML); S3 takes a `GlacierJobParameters` tier for every class.
    pub archive_refuses_tier: bool,
}

/// What a RestoreObject did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// A restore began (202).
    Started,
    /// The object was restored already; its restored state now lasts longer (200).
    Extended,
}

/// What a RestoreObject of `record` does at `now`, a restore taking `delay_ms`: the
/// restore record the object gets, or the refusal. Checked in this order: the class
/// (Standard and IA have nothing to restore), a priority for an Archive object when
/// refused, `Days`, a restore still running.
pub fn plan(
    record: &ObjectRecord,
    request: &RestoreObject,
    delay_ms: i64,
    now: i64,
) -> CoreResult<(RestoreRecord, Restored)> {
    let (Some(class), Some(state)) = (ColdClass::of(&record.storage_class), state(record, now))
    else {
        return Err(CoreError::RestoreNotSupported {
            storage_class: record.storage_class.clone(),
        });
    };
    if class == ColdClass::Archive && request.archive_refuses_tier && request.tier.is_some() {
        return Err(CoreError::RestoreTierForArchive);
    }
    let days = match &request.days {
        None => 1,
        Some(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=class.max_days()).contains(d))
            .ok_or_else(|| CoreError::InvalidRestoreDays {
                days: text.clone(),
                class,
            })?,
    };
    match state {
        RestoreState::Restoring => Err(CoreError::RestoreAlreadyInProgress),
        // Extended from now, never shortened.
        RestoreState::Restored { expires_at } => {
            let mut extended = record.restore.clone().expect("restored");
            extended.expires_at = expires_at.max(now + days * DAY_MS);
            Ok((extended, Restored::Extended))
        }
        RestoreState::Frozen => {
            let ready_at = now + delay_ms;
            let tier = (class != ColdClass::Archive)
                .then(|| request.tier.unwrap_or(Tier::Standard).as_str().to_owned());
            Ok((
                RestoreRecord {
                    ready_at,
                    expires_at: ready_at + days * DAY_MS,
                    tier,
                },
                Restored::Started,
            ))
        }
    }
}

/// RestoreObject of `key` (its current version, or version `version_id`), in one
/// transaction with the state it finds.
pub async fn restore_object(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    version_id: Option<&str>,
    request: RestoreObject,
) -> CoreResult<(ObjectRecord, Restored)> {
    let delay_ms = store.restore_delay.as_millis() as i64;
    let now = now_ms();
    let extended = Arc::new(AtomicBool::new(false));
    let seen = extended.clone();
    let record = try_update_record(store, &bucket.name, key, version_id, move |record| {
        let (restore, outcome) = plan(record, &request, delay_ms, now)?;
        record.restore = Some(restore);
        seen.store(outcome == Restored::Extended, Ordering::Relaxed);
        Ok(())
    })
    .await?;
    tracing::info!(bucket = %bucket.name, key, "restore requested");
    let outcome = match extended.load(Ordering::Relaxed) {
        true => Restored::Extended,
        false => Restored::Started,
    };
    Ok((record, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::object::new_record;

    const T: i64 = 1_600_000_000_000;

    fn cold(class: &str) -> ObjectRecord {
        new_record("Normal", class)
    }

    fn bucket(direct_read: bool) -> BucketRecord {
        let mut b = crate::storage::meta_conformance::bucket("b", "1");
        b.config.archive_direct_read = direct_read;
        b
    }

    fn request(days: Option<&str>, tier: Option<Tier>) -> RestoreObject {
        RestoreObject {
            days: days.map(Into::into),
            tier,
            archive_refuses_tier: false,
        }
    }

    /// `record` after a RestoreObject at `at`.
    fn restored(mut record: ObjectRecord, req: &RestoreObject, at: i64) -> ObjectRecord {
        let (r, _) = plan(&record, req, 1000, at).unwrap();
        record.restore = Some(r);
        record
    }

    #[test]
    fn a_restore_runs_then_lasts_its_days_then_freezes_again() {
        let o = restored(cold("Archive"), &request(Some("2"), None), T);
        let b = bucket(false);
        assert_eq!(state(&o, T), Some(RestoreState::Restoring));
        assert!(matches!(
            check_readable(&b, &o, T + 999),
            Err(CoreError::InvalidObjectState { .. })
        ));
        assert_eq!(
            restore_info(&o, T).as_deref(),
            Some("ongoing-request=\"true\"")
        );
        let expires_at = T + 1000 + 2 * DAY_MS;
        assert_eq!(
            state(&o, T + 1000),
            Some(RestoreState::Restored { expires_at })
        );
        check_readable(&b, &o, T + 1000).unwrap();
        assert_eq!(
            restore_info(&o, T + 1000).as_deref(),
            Some("ongoing-request=\"false\", expiry-date=\"Tue, 15 Sep 2020 12:26:41 GMT\"")
        );
        assert_eq!(state(&o, expires_at), Some(RestoreState::Frozen));
        assert_eq!(restore_info(&o, expires_at), None);
        assert!(check_readable(&b, &o, expires_at).is_err());
        // Frozen again: a new request starts a new restore.
        let (again, outcome) = plan(&o, &request(None, None), 1000, expires_at).unwrap();
        assert_eq!(outcome, Restored::Started);
        assert_eq!(again.ready_at, expires_at + 1000);
        assert_eq!(again.expires_at, expires_at + 1000 + DAY_MS);
    }

    #[test]
    fn requests_while_running_are_refused_and_after_it_extend() {
        let o = restored(cold("ColdArchive"), &request(Some("3"), None), T);
        assert_eq!(
            o.restore.as_ref().unwrap().tier.as_deref(),
            Some("Standard")
        );
        assert_eq!(
            plan(&o, &request(Some("3"), None), 1000, T + 10),
            Err(CoreError::RestoreAlreadyInProgress)
        );
        let first = o.restore.clone().unwrap();
        // A longer stay extends from now; a shorter one never shortens.
        let (longer, outcome) = plan(&o, &request(Some("10"), None), 1000, T + DAY_MS).unwrap();
        assert_eq!(outcome, Restored::Extended);
        assert_eq!(longer.expires_at, T + 11 * DAY_MS);
        assert_eq!((longer.ready_at, longer.tier), (first.ready_at, first.tier));
        let (shorter, _) = plan(&o, &request(Some("1"), None), 1000, T + DAY_MS).unwrap();
        assert_eq!(shorter.expires_at, first.expires_at);
    }

    #[test]
    fn refusals_in_order_class_days_state() {
        for class in ["Standard", "IA"] {
            assert_eq!(
                plan(&cold(class), &request(Some("abc"), None), 0, T),
                Err(CoreError::RestoreNotSupported {
                    storage_class: class.into()
                })
            );
        }
        let mut link = cold("Archive");
        link.symlink_target = Some("t".into());
        assert!(matches!(
            plan(&link, &request(None, None), 0, T),
            Err(CoreError::RestoreNotSupported { .. })
        ));
        for (class, ok, bad) in [
            ("Archive", "7", "8"),
            ("ColdArchive", "365", "366"),
            ("DeepColdArchive", "365", "0"),
        ] {
            let o = cold(class);
            plan(&o, &request(Some(ok), None), 0, T).unwrap();
            for days in [bad, "-1", "a", ""] {
                assert_eq!(
                    plan(&o, &request(Some(days), None), 0, T),
                    Err(CoreError::InvalidRestoreDays {
                        days: days.into(),
                        class: ColdClass::of(class).unwrap()
                    }),
                    "{class} {days}"
                );
            }
        }
        // Days are checked before the running restore.
        let running = restored(cold("Archive"), &request(None, None), T);
        assert!(matches!(
            plan(&running, &request(Some("9"), None), 0, T),
            Err(CoreError::InvalidRestoreDays { .. })
        ));
    }

    #[test]
    fn an_archive_object_refuses_a_tier_before_anything_else_when_asked_to() {
        let strict = |tier| RestoreObject {
            archive_refuses_tier: true,
            ..request(Some("0"), tier)
        };
        // Checked before Days (0 is out of range) and before a running restore.
        let running = restored(cold("Archive"), &request(None, None), T);
        for o in [cold("Archive"), running] {
            assert_eq!(
                plan(&o, &strict(Some(Tier::Standard)), 0, T).unwrap_err(),
                CoreError::RestoreTierForArchive
            );
        }
        // Without a tier, or for the cold archive classes, the usual checks apply.
        assert!(matches!(
            plan(&cold("Archive"), &strict(None), 0, T),
            Err(CoreError::InvalidRestoreDays { .. })
        ));
        let ok = RestoreObject {
            days: Some("1".into()),
            ..strict(Some(Tier::Bulk))
        };
        let (r, _) = plan(&cold("ColdArchive"), &ok, 0, T).unwrap();
        assert_eq!(r.tier.as_deref(), Some("Bulk"));
    }

    #[test]
    fn tiers_belong_to_the_cold_archive_classes() {
        assert_eq!(Tier::parse("Bulk"), Ok(Tier::Bulk));
        assert_eq!(
            Tier::parse("bulk"),
            Err(CoreError::InvalidRestoreTier {
                tier: "bulk".into()
            })
        );
        let tier = |class: &str| {
            let (r, _) = plan(&cold(class), &request(None, Some(Tier::Expedited)), 0, T).unwrap();
            r.tier
        };
        assert_eq!(tier("Archive"), None);
        assert_eq!(tier("DeepColdArchive").as_deref(), Some("Expedited"));
    }

    #[test]
    fn direct_read_opens_archive_only() {
        let on = bucket(true);
        check_readable(&on, &cold("Archive"), T).unwrap();
        for class in ["ColdArchive", "DeepColdArchive"] {
            assert_eq!(
                check_readable(&on, &cold(class), T),
                Err(CoreError::InvalidObjectState {
                    storage_class: class.into()
                })
            );
        }
        for class in ["Standard", "IA"] {
            check_readable(&bucket(false), &cold(class), T).unwrap();
            assert_eq!(state(&cold(class), T), None);
        }
        assert!(check_readable(&bucket(false), &cold("Archive"), T).is_err());
    }
}
