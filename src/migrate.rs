//! `ossify migrate`: copy an embedded store (redb + files in a data directory) into
//! the configured `[storage]` (PostgreSQL and S3 blobs). Buckets keep their records
//! and configuration; objects (every version and delete marker of a versioned bucket)
//! and unfinished multipart uploads keep their records, with every blob copied under a
//! new id. It is resumable: versions already present in the target with the same ETag
//! and modification time are skipped.

use std::sync::Arc;

use anyhow::Context;

use crate::core::sse::stored_size;
use tokio::io::AsyncReadExt;

use crate::storage::{
    BlobId, BlobStore, Created, MetaStore, ObjectRecord, Segment, StorageError, UploadQuery,
    VersionQuery,
};

/// One side of a migration.
pub struct Side {
    pub meta: Arc<dyn MetaStore>,
    pub blobs: Arc<dyn BlobStore>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    pub buckets: usize,
    pub objects: usize,
    /// Objects found already copied by an earlier run.
    pub skipped: usize,
    pub uploads: usize,
    pub parts: usize,
    pub bytes: u64,
}

/// Metadata calls run on the blocking pool (a PostgreSQL store blocks on its runtime).
async fn meta<T: Send + 'static>(
    meta: &Arc<dyn MetaStore>,
    f: impl FnOnce(&dyn MetaStore) -> Result<T, StorageError> + Send + 'static,
) -> anyhow::Result<T> {
    let meta = meta.clone();
    Ok(tokio::task::spawn_blocking(move || f(meta.as_ref())).await??)
}

/// Copy the `size` stored bytes of blob `id` from `from` into a new blob of `to`
/// (encrypted blobs as they are: the target needs the same master key).
async fn copy_blob(
    from: &dyn BlobStore,
    to: &dyn BlobStore,
    id: &BlobId,
    size: u64,
) -> anyhow::Result<BlobId> {
    let mut reader = from
        .open(id, 0, size)
        .await
        .with_context(|| format!("cannot read blob {}", id.0))?;
    let mut writer = to.create().await.context("cannot create a target blob")?;
    let mut buf = vec![0; 1 << 20];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        writer.write(&buf[..n]).await?;
    }
    Ok(writer.finish().await?)
}

async fn copy_segments(
    from: &Side,
    to: &Side,
    segments: &[Segment],
    done: &mut Migrated,
) -> anyhow::Result<Vec<Segment>> {
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        if s.inline.is_some() {
            out.push(s.clone());
            continue;
        }
        let stored = stored_size(s.size, s.key.as_ref());
        let blob = copy_blob(from.blobs.as_ref(), to.blobs.as_ref(), &s.blob, stored).await?;
        done.bytes += s.size;
        out.push(Segment { blob, ..s.clone() });
    }
    Ok(out)
}

/// Copy everything in `from` into `to`, logging progress per bucket.
pub async fn run(from: &Side, to: &Side) -> anyhow::Result<Migrated> {
    let mut done = Migrated::default();
    for bucket in meta(&from.meta, |m| m.all_buckets()).await? {
        let record = bucket.clone();
        match meta(&to.meta, move |m| m.create_bucket(&record)).await? {
            Created::Existing(existing) if existing.owner != bucket.owner => anyhow::bail!(
                "bucket {} exists in the target with another owner ({}); remove it or migrate into an empty store",
                bucket.name,
                existing.owner
            ),
            _ => {}
        }
        let record = bucket.clone();
        meta(&to.meta, move |m| m.update_bucket(&record)).await?;
        done.buckets += 1;

        // Every version of each key (the current object alone in a bucket that never
        // had versioning), written oldest first so that the target keeps the order.
        let mut query = VersionQuery {
            max_keys: 1000,
            ..Default::default()
        };
        let (mut key, mut history) = (String::new(), Vec::new());
        loop {
            let (b, q) = (bucket.name.clone(), query.clone());
            let page = meta(&from.meta, move |m| m.list_object_versions(&b, &q)).await?;
            for entry in page.versions {
                if entry.key != key && !history.is_empty() {
                    copy_history(from, to, &bucket.name, &key, &mut history, &mut done).await?;
                }
                key = entry.key;
                history.push(entry.record);
            }
            match (page.next_key_marker, page.truncated) {
                (Some(next), true) => {
                    query.key_marker = next;
                    query.version_id_marker = page.next_version_id_marker.unwrap_or_default();
                }
                _ => break,
            }
        }
        if !history.is_empty() {
            copy_history(from, to, &bucket.name, &key, &mut history, &mut done).await?;
        }
        migrate_uploads(from, to, &bucket.name, &mut done).await?;
        tracing::info!(bucket = %bucket.name, objects = done.objects, bytes = done.bytes, "bucket migrated");
    }
    Ok(done)
}

/// Copy the versions of `key` (newest first, as listed) oldest first, skipping those
/// an earlier run copied; `history` is emptied.
async fn copy_history(
    from: &Side,
    to: &Side,
    bucket: &str,
    key: &str,
    history: &mut Vec<ObjectRecord>,
    done: &mut Migrated,
) -> anyhow::Result<()> {
    for record in history.drain(..).rev() {
        let (b, k, v) = (
            bucket.to_owned(),
            key.to_owned(),
            record.version_label().to_owned(),
        );
        let present = meta(&to.meta, move |m| m.get_object_version(&b, &k, &v)).await?;
        if present.is_some_and(|p| p.etag == record.etag && p.last_modified == record.last_modified)
        {
            done.skipped += 1;
            continue;
        }
        let mut copied = record.clone();
        copied.segments = copy_segments(from, to, &record.segments, done).await?;
        let (b, k) = (bucket.to_owned(), key.to_owned());
        let replaced = meta(&to.meta, move |m| m.put_object(&b, &k, &copied, false)).await?;
        // A half-copied object of an interrupted run.
        for blob in replaced.iter().flat_map(|r| r.blobs()) {
            to.blobs.delete(blob).await?;
        }
        done.objects += 1;
    }
    Ok(())
}

async fn migrate_uploads(
    from: &Side,
    to: &Side,
    bucket: &str,
    done: &mut Migrated,
) -> anyhow::Result<()> {
    let mut query = UploadQuery {
        max: 1000,
        ..Default::default()
    };
    loop {
        let (b, q) = (bucket.to_string(), query.clone());
        let page = meta(&from.meta, move |m| m.list_uploads(&b, &q)).await?;
        for upload in &page.uploads {
            let (b, u) = (bucket.to_string(), upload.clone());
            let exists = meta(&to.meta, move |m| m.get_upload(&b, &u.key, &u.upload_id)).await?;
            // Parts an earlier run copied already, by number and ETag.
            let mut present = std::collections::HashSet::new();
            if exists.is_none() {
                let (b, u) = (bucket.to_string(), upload.clone());
                meta(&to.meta, move |m| m.create_upload(&b, &u)).await?;
            } else {
                let id = upload.upload_id.clone();
                let (parts, _) = meta(&to.meta, move |m| m.list_parts(&id, 0, 10_000)).await?;
                present.extend(parts.into_iter().map(|(n, p)| (n, p.etag)));
            }
            let mut after = 0;
            loop {
                let id = upload.upload_id.clone();
                let (parts, more) =
                    meta(&from.meta, move |m| m.list_parts(&id, after, 1000)).await?;
                for (number, part) in &parts {
                    after = *number;
                    if present.contains(&(*number, part.etag.clone())) {
                        continue;
                    }
                    let mut copied = part.clone();
                    copied.blob = copy_blob(
                        from.blobs.as_ref(),
                        to.blobs.as_ref(),
                        &part.blob,
                        stored_size(part.size, part.key.as_ref()),
                    )
                    .await?;
                    done.bytes += part.size;
                    let (b, u, n) = (bucket.to_string(), upload.clone(), *number);
                    let replaced = meta(&to.meta, move |m| {
                        m.put_part(&b, &u.key, &u.upload_id, n, &copied)
                    })
                    .await?;
                    if let Some(old) = replaced {
                        to.blobs.delete(&old.blob).await?;
                    }
                    done.parts += 1;
                }
                if !more {
                    break;
                }
            }
            done.uploads += 1;
        }
        match (page.truncated, page.uploads.last()) {
            (true, Some(last)) => {
                query.key_marker = last.key.clone();
                query.upload_id_marker = last.upload_id.clone();
            }
            _ => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ObjectAcl;
    use crate::storage::{
        ContentHeaders, FsBlobStore, ListQuery, ObjectRecord, PartRecord, RedbMeta, SpaceReserve,
        UploadRecord, new_version_id,
    };

    fn side(dir: &std::path::Path) -> Side {
        let space = Arc::new(SpaceReserve::open(dir, 0).unwrap());
        Side {
            meta: Arc::new(RedbMeta::open(&dir.join("meta.redb"), space.clone()).unwrap()),
            blobs: Arc::new(FsBlobStore::open(dir, space).unwrap()),
        }
    }

    async fn blob(store: &dyn BlobStore, data: &[u8]) -> BlobId {
        let mut w = store.create().await.unwrap();
        w.write(data).await.unwrap();
        w.finish().await.unwrap()
    }

    async fn read(store: &dyn BlobStore, segments: &[Segment]) -> Vec<u8> {
        let mut out = Vec::new();
        for s in segments {
            store
                .open(&s.blob, 0, s.size)
                .await
                .unwrap()
                .read_to_end(&mut out)
                .await
                .unwrap();
        }
        out
    }

    fn record(segments: Vec<Segment>, etag: &str) -> ObjectRecord {
        ObjectRecord {
            sse: None,
            size: segments.iter().map(|s| s.size).sum(),
            segments,
            etag: etag.into(),
            crc64: 0,
            content_md5: None,
            last_modified: 1,
            object_type: "Normal".into(),
            storage_class: "Standard".into(),
            acl: ObjectAcl::Default,
            grants: None,
            owner: None,
            headers: ContentHeaders::default(),
            user_meta: vec![("a".into(), "b".into())],
            tags: vec![],
            symlink_target: None,
            checksum: None,
            part_checksums: vec![],
            version_id: None,
            delete_marker: false,
            restore: None,
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn copies_buckets_objects_and_uploads_and_resumes() {
        let (src_dir, dst_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (src, dst) = (side(src_dir.path()), side(dst_dir.path()));
        let bucket = crate::storage::meta_conformance::bucket("photos", "1");
        src.meta.create_bucket(&bucket).unwrap();
        for (i, key) in ["a", "a/b", "é"].iter().enumerate() {
            let parts = vec![
                Segment {
                    blob: blob(src.blobs.as_ref(), key.as_bytes()).await,
                    size: key.len() as u64,
                    key: None,
                    inline: None,
                },
                Segment {
                    blob: blob(src.blobs.as_ref(), b"-tail").await,
                    size: 5,
                    key: None,
                    inline: None,
                },
            ];
            let r = record(parts, &format!("E{i}"));
            src.meta.put_object("photos", key, &r, false).unwrap();
        }
        let upload = UploadRecord {
            upload_id: "U1".into(),
            key: "big".into(),
            initiated: 1,
            template: record(vec![], ""),
            checksum: None,
            initiator: None,
        };
        src.meta.create_upload("photos", &upload).unwrap();
        let part = PartRecord {
            blob: blob(src.blobs.as_ref(), b"part-one").await,
            size: 8,
            key: None,
            etag: "P".into(),
            crc64: 0,
            last_modified: 1,
            checksum: None,
        };
        src.meta.put_part("photos", "big", "U1", 1, &part).unwrap();

        let done = run(&src, &dst).await.unwrap();
        assert_eq!(
            (done.buckets, done.objects, done.uploads, done.parts),
            (1, 3, 1, 1)
        );
        let listing = dst
            .meta
            .list_objects(
                "photos",
                &ListQuery {
                    max_keys: 10,
                    ..Default::default()
                },
            )
            .unwrap();
        let keys: Vec<_> = listing.objects.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "a/b", "é"]);
        for (key, r) in &listing.objects {
            assert_eq!(
                read(dst.blobs.as_ref(), &r.segments).await,
                format!("{key}-tail").into_bytes()
            );
            assert_eq!(r.user_meta, vec![("a".to_string(), "b".to_string())]);
        }
        let (parts, _) = dst.meta.list_parts("U1", 0, 10).unwrap();
        let copied = &parts[0].1;
        let mut body = Vec::new();
        dst.blobs
            .open(&copied.blob, 0, 8)
            .await
            .unwrap()
            .read_to_end(&mut body)
            .await
            .unwrap();
        assert_eq!(body, b"part-one");

        // A second run finds everything in place.
        let again = run(&src, &dst).await.unwrap();
        assert_eq!((again.objects, again.skipped, again.parts), (0, 3, 0));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn copies_encrypted_blobs_whole() {
        use crate::core::sse::{KeyRing, SealingWriter};
        use crate::storage::{BlobWriter, Sse, SseAlgorithm};
        let (src_dir, dst_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (src, dst) = (side(src_dir.path()), side(dst_dir.path()));
        src.meta
            .create_bucket(&crate::storage::meta_conformance::bucket("enc", "1"))
            .unwrap();
        let keys = KeyRing::open(&src_dir.path().join("master.key"), true).unwrap();
        let sse = Sse {
            algorithm: SseAlgorithm::Sm4,
            key_id: None,
            data_sm4: false,
        };
        let (key, chunks) = keys.new_key(&sse).unwrap();
        let plain: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut writer = Box::new(SealingWriter::new(
            src.blobs.create().await.unwrap(),
            chunks,
        ));
        writer.write(&plain).await.unwrap();
        let segment = Segment {
            blob: writer.finish().await.unwrap(),
            size: plain.len() as u64,
            key: Some(key),
            inline: None,
        };
        let mut r = record(vec![segment], "E");
        r.sse = Some(sse);
        src.meta.put_object("enc", "k", &r, false).unwrap();

        run(&src, &dst).await.unwrap();
        let copied = dst.meta.get_object("enc", "k").unwrap().unwrap();
        let s = &copied.segments[0];
        let mut out = Vec::new();
        crate::core::sse::read_blocking(
            &keys.chunks(s.key.as_ref().unwrap()).unwrap(),
            s.size,
            0,
            s.size,
            |at, n, buf| dst.blobs.read_blocking(&s.blob, at, n, buf),
            &mut out,
        )
        .unwrap();
        assert_eq!(out, plain);
        assert_eq!(copied.sse, r.sse);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn copies_every_version_in_order() {
        let (src_dir, dst_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (src, dst) = (side(src_dir.path()), side(dst_dir.path()));
        let mut bucket = crate::storage::meta_conformance::bucket("v", "1");
        bucket.config.versioning = Some(crate::storage::Versioning::Enabled);
        src.meta.create_bucket(&bucket).unwrap();
        // The null version (written before versioning), two versions, a delete marker.
        let mut written = Vec::new();
        for (i, id) in [None, Some(new_version_id()), Some(new_version_id())]
            .into_iter()
            .enumerate()
        {
            let body = format!("body {i}");
            let segment = Segment {
                blob: blob(src.blobs.as_ref(), body.as_bytes()).await,
                size: body.len() as u64,
                key: None,
                inline: None,
            };
            let mut r = record(vec![segment], &format!("E{i}"));
            r.version_id = id;
            src.meta.put_object("v", "k", &r, false).unwrap();
            written.push(r.version_label().to_owned());
        }
        let mut marker = record(vec![], "");
        marker.version_id = Some(new_version_id());
        marker.delete_marker = true;
        src.meta.put_object("v", "k", &marker, false).unwrap();
        written.push(marker.version_label().to_owned());

        let done = run(&src, &dst).await.unwrap();
        assert_eq!(done.objects, 4);
        let query = VersionQuery {
            max_keys: 10,
            ..Default::default()
        };
        let listed = dst.meta.list_object_versions("v", &query).unwrap();
        let ids: Vec<&str> = listed
            .versions
            .iter()
            .map(|v| v.record.version_label())
            .collect();
        written.reverse();
        assert_eq!(ids, written, "newest first, as in the source");
        assert!(listed.versions[0].is_latest && listed.versions[0].record.delete_marker);
        let oldest = &listed.versions[3].record;
        assert_eq!(read(dst.blobs.as_ref(), &oldest.segments).await, b"body 0");
        assert_eq!(dst.meta.get_object("v", "k").unwrap(), None);
        let again = run(&src, &dst).await.unwrap();
        assert_eq!((again.objects, again.skipped), (0, 4));
    }
}
