//! CopyObject, and the copy source shared with UploadPartCopy.

use super::conditions::{Conditions, Precondition, WriteCondition};
use super::object::{
    BodyHome, apply_default_encryption, commit_record, copy_stream, open_range, parse_version_id,
    read_version, store_stream,
};
use super::restore::check_readable;
use super::{CoreError, CoreResult, Requester, Store, now_ms};
use crate::access::Action;
use crate::names::{BucketName, ObjectKey};
use crate::storage::{BucketRecord, ObjectRecord};

/// The object a copy reads, after the requester's read access was checked.
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub record: ObjectRecord,
    /// Bytes per second the copy may read (OSS `x-oss-traffic-limit`), if limited.
    pub traffic_limit: Option<u64>,
}

/// Load the copy source (its current version, or version `version_id`), check
/// `GetObject` on it for the requester and the copy conditions; `None` when a
/// condition answers "not modified".
pub async fn copy_source(
    store: &Store,
    requester: &Requester,
    bucket: &BucketName,
    key: &ObjectKey,
    version_id: Option<&str>,
    conditions: &Conditions,
) -> CoreResult<Option<CopySource>> {
    let name = bucket.as_str().to_owned();
    let record = store
        .meta(move |m| m.get_bucket(&name))
        .await?
        .ok_or_else(|| CoreError::no_such_bucket(bucket.as_str()))?;
    let (b, k) = (bucket.as_str().to_owned(), key.as_str().to_owned());
    let version = version_id
        .map(|v| parse_version_id(v).map(str::to_owned))
        .transpose()?;
    let object = store
        .meta(move |m| match version {
            Some(v) => m.get_object_version(&b, &k, &v),
            None => m.get_object(&b, &k),
        })
        .await?;
    requester.authorize(
        Action::GetObject,
        Some(&record),
        None,
        Some(key.as_str()),
        object.as_ref(),
    )?;
    let object = read_version(store, &record, key.as_str(), version_id, object).await?;
    // Copying reads the bytes: a cold source must be restored first.
    check_readable(&record, &object, now_ms())?;
    Ok(
        match conditions.check(&object.etag, object.last_modified)? {
            Precondition::NotModified => None,
            Precondition::Proceed => Some(CopySource {
                bucket: bucket.as_str().to_owned(),
                key: key.as_str().to_owned(),
                record: object,
                traffic_limit: None,
            }),
        },
    )
}

/// What a CopyObject request asks for the new object.
pub struct CopyObject {
    /// The metadata the request gives (headers, ACL, storage class, tags).
    pub requested: ObjectRecord,
    /// Metadata directive REPLACE: take `requested`'s metadata instead of the source's.
    pub replace_meta: bool,
    /// Tagging directive REPLACE: take `requested`'s tags.
    pub replace_tags: bool,
    /// The request names an object ACL / a storage class explicitly.
    pub acl_given: bool,
    pub storage_class_given: bool,
    pub condition: WriteCondition,
}

pub async fn copy_object(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    source: CopySource,
    request: CopyObject,
) -> CoreResult<ObjectRecord> {
    let CopyObject {
        requested,
        replace_meta,
        replace_tags,
        acl_given,
        storage_class_given,
        condition,
    } = request;
    let src = &source.record;
    let mut record = if replace_meta {
        let mut requested = requested.clone();
        // REPLACE without a Content-Type keeps the source's (OSS; oss2's
        // update_object_meta relies on it).
        if requested.headers.content_type.is_none() {
            requested.headers.content_type = src.headers.content_type.clone();
        }
        ObjectRecord {
            segments: src.segments.clone(),
            size: src.size,
            etag: src.etag.clone(),
            crc64: src.crc64,
            content_md5: src.content_md5.clone(),
            symlink_target: src.symlink_target.clone(),
            checksum: src.checksum.clone(),
            object_type: src.object_type.clone(),
            ..requested
        }
    } else {
        src.clone()
    };
    record.tags = if replace_tags {
        requested.tags.clone()
    } else {
        src.tags.clone()
    };
    if acl_given || replace_meta {
        record.acl = requested.acl;
        record.grants = requested.grants.clone();
    }
    // A copy belongs to the account that made it.
    record.owner = requested.owner.clone();
    if storage_class_given {
        record.storage_class = requested.storage_class.clone();
    }
    // The copy is encrypted only as the request (or the bucket's default) asks,
    // whatever the source's encryption (OSS).
    record.sse = requested.sse.clone();
    apply_default_encryption(bucket, &mut record);
    record.last_modified = now_ms();
    // A copy is a new object: the source's restored state is not its own.
    record.restore = None;
    // Copying onto itself only changes metadata (oss2's update_object_meta), unless
    // the bucket keeps versions, which never share blobs; a symlink copies the link;
    // anything else copies the bytes into a new blob.
    let shares_blobs = source.bucket == bucket.name
        && source.key == key
        && bucket.config.versioning.is_none()
        && record.sse == src.sse;
    let mut new_blobs = vec![];
    if !shares_blobs && record.symlink_target.is_none() {
        let stream = open_range(store, src, 0, src.size).await?;
        let stored = store_stream(
            store,
            copy_stream(stream, source.traffic_limit),
            u64::MAX,
            None,
            record.sse.as_ref(),
            BodyHome::RecordIfSmall,
        )
        .await?;
        // Same bytes, so size and CRC-64 equal the source's; the ETag becomes their MD5.
        stored.fill(&mut record);
        record.object_type = "Normal".into();
        new_blobs.extend_from_slice(stored.new_blobs());
    }
    commit_record(store, bucket, key, &new_blobs, record, condition).await
}
