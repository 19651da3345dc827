//! The lifecycle sweeper: expires objects (and in versioned buckets noncurrent
//! versions and lone delete markers) and aborts stale multipart uploads according to
//! each bucket's lifecycle rules (filters as `core::lifecycle::selects` reads them).

use crate::core::Store;
use crate::core::lifecycle::{selects, selects_upload};
use crate::core::object::{new_record, remove_blob, version_for_write};
use crate::core::worm;
use crate::storage::{
    BlobId, BucketRecord, LifecycleRule, LifecycleWhen, ListQuery, MetaStore, ObjectRecord,
    StorageError, UploadQuery, VersionQuery,
};

const DAY_MS: i64 = 86_400_000;

/// Is something last changed at `modified` (unix ms) due at `now`?
pub fn due(when: &LifecycleWhen, modified: i64, now: i64) -> bool {
    match when {
        LifecycleWhen::Days(days) => modified + i64::from(*days) * DAY_MS <= now,
        // Everything last modified before the date, whether the date has passed or not (OSS).
        LifecycleWhen::CreatedBeforeDate(date) => modified < *date,
        LifecycleWhen::Date(date) => now >= *date,
    }
}

/// The rule's filters (prefix, tags, sizes, Filter/Not) on one version of `key`.
fn applies(rule: &LifecycleRule, key: &str, record: &ObjectRecord) -> bool {
    selects(rule, key, record.size, &record.tags)
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub objects_deleted: usize,
    pub uploads_aborted: usize,
}

/// One pass over every bucket. The blobs of what it removes go as those of a
/// DeleteObject do, after `store.blob_delete_delay` (for GETs already reading them).
pub async fn sweep(store: &Store, now: i64) -> Result<Swept, StorageError> {
    let meta = store.meta.clone();
    let mut swept = Swept::default();
    let m = meta.clone();
    let buckets = tokio::task::spawn_blocking(move || m.all_buckets())
        .await
        .map_err(|e| StorageError::Io(e.to_string()))??;
    for bucket in buckets {
        for rule in bucket
            .config
            .lifecycle
            .iter()
            .flatten()
            .filter(|r| r.enabled)
        {
            let (m, b, r) = (meta.clone(), bucket.clone(), rule.clone());
            let (counts, doomed) = tokio::task::spawn_blocking(move || {
                let mut counts = Swept::default();
                let mut doomed = Vec::new();
                if let Some(when) = &r.expiration {
                    counts.objects_deleted += expire_current(&*m, &b, &r, when, now, &mut doomed)?;
                }
                if r.noncurrent_days.is_some() || r.expired_object_delete_marker {
                    counts.objects_deleted += expire_versions(&*m, &b.name, &r, now, &mut doomed)?;
                }
                if let Some(when) = &r.abort_multipart {
                    counts.uploads_aborted +=
                        abort_uploads(&*m, &b.name, &r, when, now, &mut doomed)?;
                }
                Ok::<_, StorageError>((counts, doomed))
            })
            .await
            .map_err(|e| StorageError::Io(e.to_string()))??;
            for blob in doomed {
                remove_blob(store, &blob).await;
            }
            let (objects, uploads) = (counts.objects_deleted, counts.uploads_aborted);
            swept.objects_deleted += objects;
            swept.uploads_aborted += uploads;
            if objects + uploads > 0 {
                tracing::info!(bucket = %bucket.name, rule = %rule.id, objects, uploads, "lifecycle rule applied");
            }
        }
    }
    Ok(swept)
}

/// Expiration of current objects: deleted, or in a versioned bucket hidden behind a
/// delete marker (the expired version stays as a noncurrent one).
fn expire_current(
    m: &dyn MetaStore,
    bucket: &BucketRecord,
    rule: &LifecycleRule,
    when: &LifecycleWhen,
    now: i64,
    doomed: &mut Vec<BlobId>,
) -> Result<usize, StorageError> {
    let b = &bucket.name;
    // Objects under a retention policy (WORM) outlive their expiration.
    let expired = |key: &str, record: &ObjectRecord| {
        due(when, record.last_modified, now)
            && applies(rule, key, record)
            && !worm::is_protected(bucket, record, now)
    };
    let mut query = ListQuery {
        prefix: rule.prefix.clone(),
        max_keys: 1000,
        ..Default::default()
    };
    let mut count = 0;
    loop {
        let page = m.list_objects(b, &query)?;
        for (key, record) in page.objects.iter().filter(|(k, r)| expired(k, r)) {
            // Re-checked inside the transaction: a fresh write survives.
            let removed = match version_for_write(bucket) {
                None => m
                    .delete_object_if(b, key, &mut |current| expired(key, current))?
                    .into_iter()
                    .collect(),
                Some(id) => {
                    let mut marker = new_record("DeleteMarker", &record.storage_class);
                    marker.delete_marker = true;
                    marker.version_id = Some(id);
                    match m.put_object_with(b, key, &mut |current| match current {
                        Some(c) if expired(key, c) => Ok(marker.clone()),
                        _ => Err(StorageError::Refused("no longer expired".into())),
                    }) {
                        Ok(replaced) => replaced,
                        Err(StorageError::Refused(_)) => continue,
                        Err(e) => return Err(e),
                    }
                }
            };
            doomed.extend(removed.iter().flat_map(|r| r.blobs().cloned()));
            count += 1;
        }
        match page.next_marker {
            Some(next) if page.truncated => query.start_after = next,
            _ => return Ok(count),
        }
    }
}

/// NoncurrentVersionExpiration and ExpiredObjectDeleteMarker: a pass over the
/// versions under the rule's prefix, one key at a time (newest version first).
fn expire_versions(
    m: &dyn MetaStore,
    bucket: &str,
    rule: &LifecycleRule,
    now: i64,
    doomed: &mut Vec<BlobId>,
) -> Result<usize, StorageError> {
    let mut query = VersionQuery {
        prefix: rule.prefix.clone(),
        max_keys: 1000,
        ..Default::default()
    };
    let mut count = 0;
    let mut key = String::new();
    let mut versions: Vec<ObjectRecord> = Vec::new();
    loop {
        let page = m.list_object_versions(bucket, &query)?;
        for entry in page.versions {
            if entry.key != key && !versions.is_empty() {
                count += expire_key(m, bucket, &key, &versions, rule, now, doomed)?;
                versions.clear();
            }
            key = entry.key;
            versions.push(entry.record);
        }
        match (page.next_key_marker, page.truncated) {
            (Some(next), true) => {
                query.key_marker = next;
                query.version_id_marker = page.next_version_id_marker.unwrap_or_default();
            }
            _ => break,
        }
    }
    if !versions.is_empty() {
        count += expire_key(m, bucket, &key, &versions, rule, now, doomed)?;
    }
    Ok(count)
}

/// The versions of `key` (newest first) that a rule removes, removed.
fn expire_key(
    m: &dyn MetaStore,
    bucket: &str,
    key: &str,
    versions: &[ObjectRecord],
    rule: &LifecycleRule,
    now: i64,
    doomed: &mut Vec<BlobId>,
) -> Result<usize, StorageError> {
    let mut removed = vec![false; versions.len()];
    if let Some(days) = rule.noncurrent_days {
        // A version became noncurrent when the next newer one was written.
        for i in 1..versions.len() {
            let since = versions[i - 1].last_modified;
            removed[i] =
                due(&LifecycleWhen::Days(days), since, now) && applies(rule, key, &versions[i]);
        }
    }
    let mut left = versions.iter().zip(&removed).filter(|(_, gone)| !**gone);
    if rule.expired_object_delete_marker
        && let (Some((only, _)), None) = (left.next(), left.next())
        && only.delete_marker
    {
        removed[0] = true;
    }
    let mut count = 0;
    for (version, _) in versions.iter().zip(&removed).filter(|(_, gone)| **gone) {
        if let Some(old) = m.delete_object_version(bucket, key, version.version_label())? {
            doomed.extend(old.blobs().cloned());
            count += 1;
        }
    }
    Ok(count)
}

/// AbortMultipartUpload: uploads started long enough ago are aborted.
fn abort_uploads(
    m: &dyn MetaStore,
    bucket: &str,
    rule: &LifecycleRule,
    when: &LifecycleWhen,
    now: i64,
    doomed: &mut Vec<BlobId>,
) -> Result<usize, StorageError> {
    let listing = m.list_uploads(
        bucket,
        &UploadQuery {
            prefix: rule.prefix.clone(),
            max: usize::MAX,
            ..Default::default()
        },
    )?;
    let mut count = 0;
    for upload in listing
        .uploads
        .iter()
        .filter(|u| due(when, u.initiated, now) && selects_upload(rule, &u.key))
    {
        match m.abort_upload(bucket, &upload.key, &upload.upload_id) {
            Ok(parts) => {
                doomed.extend(parts.into_iter().map(|p| p.blob));
                count += 1;
            }
            Err(StorageError::NoSuchUpload) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::core::sse::KeyRing;
    use crate::storage::{
        BlobStore, FsBlobStore, RedbMeta, SpaceReserve, Versioning, new_version_id,
    };

    /// A versioned bucket `b` on redb and files, with `rule` as its only rule; blobs
    /// are deleted at once.
    fn versioned(rule: LifecycleRule) -> (tempfile::TempDir, Arc<dyn MetaStore>, Store) {
        let dir = tempfile::tempdir().unwrap();
        let space = Arc::new(SpaceReserve::open(dir.path(), 0).unwrap());
        let meta: Arc<dyn MetaStore> =
            Arc::new(RedbMeta::open(&dir.path().join("meta.redb"), space.clone()).unwrap());
        let blobs: Arc<dyn BlobStore> = Arc::new(FsBlobStore::open(dir.path(), space).unwrap());
        let mut bucket = crate::storage::meta_conformance::bucket("b", "1");
        bucket.config.versioning = Some(Versioning::Enabled);
        bucket.config.lifecycle = Some(vec![rule]);
        meta.create_bucket(&bucket).unwrap();
        let store = Store {
            meta: meta.clone(),
            blobs,
            max_object_size: u64::MAX,
            blob_delete_delay: None,
            restore_delay: Duration::ZERO,
            inline_max: 4096,
            keys: Arc::new(KeyRing::open(&dir.path().join("master.key"), true).unwrap()),
        };
        (dir, meta, store)
    }

    fn rule(prefix: &str) -> LifecycleRule {
        LifecycleRule {
            id: "r".into(),
            prefix: prefix.into(),
            enabled: true,
            ..Default::default()
        }
    }

    /// A version of `key` written at `at` (unix ms).
    fn write(meta: &dyn MetaStore, key: &str, at: i64, marker: bool) -> String {
        write_blob(meta, key, at, marker, None)
    }

    /// [`write`] with its bytes in `blob`.
    fn write_blob(
        meta: &dyn MetaStore,
        key: &str,
        at: i64,
        marker: bool,
        blob: Option<BlobId>,
    ) -> String {
        let id = new_version_id();
        let mut record = crate::storage::meta_conformance::object(&id);
        if let Some(blob) = blob {
            record.segments[0].blob = blob;
        }
        record.version_id = Some(id.clone());
        record.last_modified = at;
        record.delete_marker = marker;
        meta.put_object("b", key, &record, false).unwrap();
        id
    }

    fn ids(meta: &dyn MetaStore, key: &str) -> Vec<(String, bool)> {
        let query = VersionQuery {
            prefix: key.into(),
            max_keys: 1000,
            ..Default::default()
        };
        let listing = meta.list_object_versions("b", &query).unwrap();
        listing
            .versions
            .into_iter()
            .map(|v| (v.record.version_label().to_owned(), v.record.delete_marker))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn noncurrent_versions_expire_days_after_they_were_replaced() {
        let (_dir, meta, store) = versioned(LifecycleRule {
            noncurrent_days: Some(2),
            ..rule("logs/")
        });
        write(&*meta, "logs/a", 0, false);
        let v2 = write(&*meta, "logs/a", 5 * DAY_MS, false);
        let v3 = write(&*meta, "logs/a", 6 * DAY_MS, false);
        let other = write(&*meta, "keep", 0, false);
        write(&*meta, "keep", DAY_MS, false);
        // v1 became noncurrent on day 5, v2 on day 6: at day 7.5 only v1 is due.
        let swept = sweep(&store, 7 * DAY_MS + DAY_MS / 2).await.unwrap();
        assert_eq!(swept.objects_deleted, 1);
        assert_eq!(ids(&*meta, "logs/a"), [(v3.clone(), false), (v2, false)]);
        sweep(&store, 8 * DAY_MS).await.unwrap();
        assert_eq!(ids(&*meta, "logs/a"), [(v3, false)]);
        // Outside the prefix nothing goes.
        assert_eq!(ids(&*meta, "keep").len(), 2);
        assert!(ids(&*meta, "keep").iter().any(|(id, _)| *id == other));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn expiration_leaves_a_marker_and_lone_markers_go() {
        let (_dir, meta, store) = versioned(LifecycleRule {
            expiration: Some(LifecycleWhen::Days(1)),
            noncurrent_days: Some(1),
            ..rule("")
        });
        let v1 = write(&*meta, "k", 0, false);
        // Day 2: the current version expires behind a delete marker and stays noncurrent.
        sweep(&store, 2 * DAY_MS).await.unwrap();
        let after = ids(&*meta, "k");
        assert_eq!(after.len(), 2);
        assert!(after[0].1, "a delete marker is the latest version");
        assert_eq!(after[1], (v1, false));
        assert_eq!(meta.get_object("b", "k").unwrap(), None);
        // A lone marker stays without ExpiredObjectDeleteMarker.
        let (_dir2, meta2, store2) = versioned(rule(""));
        write(&*meta2, "m", 0, true);
        sweep(&store2, 9 * DAY_MS).await.unwrap();
        assert_eq!(ids(&*meta2, "m").len(), 1);
        // With it, a marker that is the only version left goes.
        let (_dir3, meta3, store3) = versioned(LifecycleRule {
            expired_object_delete_marker: true,
            ..rule("")
        });
        write(&*meta3, "m", 0, true);
        let kept = write(&*meta3, "n", 0, false);
        write(&*meta3, "n", 1, true);
        sweep(&store3, 9 * DAY_MS).await.unwrap();
        assert_eq!(ids(&*meta3, "m"), []);
        assert_eq!(ids(&*meta3, "n").len(), 2, "a marker over a version stays");
        assert!(ids(&*meta3, "n").contains(&(kept, false)));
    }

    /// Removed versions' blobs outlive the sweep by the delete delay, as those of a
    /// DeleteObject do: a GET on another node may be reading them.
    #[tokio::test(flavor = "multi_thread")]
    async fn blobs_of_expired_versions_go_after_the_delete_delay() {
        let (_dir, meta, mut store) = versioned(LifecycleRule {
            noncurrent_days: Some(1),
            ..rule("")
        });
        store.blob_delete_delay = Some(Duration::from_millis(500));
        let mut writer = store.blobs.create().await.unwrap();
        writer.write(b"old").await.unwrap();
        let blob = writer.finish().await.unwrap();
        write_blob(&*meta, "k", 0, false, Some(blob.clone()));
        let current = write(&*meta, "k", 0, false);
        let swept = sweep(&store, 2 * DAY_MS).await.unwrap();
        assert_eq!(swept.objects_deleted, 1);
        assert_eq!(ids(&*meta, "k"), [(current, false)]);
        let mut read = Vec::new();
        store.blobs.read_blocking(&blob, 0, 3, &mut read).unwrap();
        assert_eq!(read, b"old", "deleted before the delay");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let gone = store.blobs.read_blocking(&blob, 0, 3, &mut Vec::new());
        assert_eq!(gone.unwrap_err().kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn due_dates() {
        let now = 10 * DAY_MS;
        assert!(due(&LifecycleWhen::Days(3), now - 3 * DAY_MS, now));
        assert!(!due(&LifecycleWhen::Days(3), now - 3 * DAY_MS + 1, now));
        assert!(due(
            &LifecycleWhen::CreatedBeforeDate(5 * DAY_MS),
            4 * DAY_MS,
            now
        ));
        assert!(!due(
            &LifecycleWhen::CreatedBeforeDate(5 * DAY_MS),
            6 * DAY_MS,
            now
        ));
        assert!(due(
            &LifecycleWhen::CreatedBeforeDate(20 * DAY_MS),
            6 * DAY_MS,
            now
        ));
    }
}
