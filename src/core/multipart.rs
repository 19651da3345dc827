//! Multipart upload: initiate, upload a part (from a body or a copy), complete,
//! abort, list parts and uploads.

use md5::{Digest, Md5};

use super::access::refuse_public_object_acl;
use super::checksum::{self, ChecksumAlgorithm, ChecksumRequest, ChecksumType, Claimed};
use super::conditions::{ByteRange, WriteCondition};
use super::copy::CopySource;
use super::object::{
    BodyHome, ByteStream, Expected, apply_default_encryption, copy_stream, open_range, remove_blob,
    remove_unused, store_stream, version_for_write,
};
use super::{CoreError, CoreResult, Refusal, Requester, Store, crc64, now_ms, worm};
use crate::access::ObjectAcl;
use crate::storage::{
    BucketRecord, ObjectRecord, PartRecord, Segment, Sse, StorageError, UploadListing, UploadQuery,
    UploadRecord,
};

pub const MAX_PARTS: u32 = 10_000;
/// Every part but the last must have at least this many bytes (checked at Complete).
pub const MIN_PART_SIZE: u64 = 100 * 1024;

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// One upload of one key in one bucket.
#[derive(Debug, Clone, Copy)]
pub struct UploadRef<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub upload_id: &'a str,
}

impl UploadRef<'_> {
    fn no_such_upload(&self) -> CoreError {
        CoreError::NoSuchUpload {
            upload_id: self.upload_id.to_owned(),
        }
    }

    /// Name the upload in a refusal that lost it.
    fn explain(&self, e: CoreError) -> CoreError {
        match e {
            CoreError::NoSuchUpload { .. } => self.no_such_upload(),
            e => e,
        }
    }

    fn owned(&self) -> (String, String, String) {
        (
            self.bucket.to_owned(),
            self.key.to_owned(),
            self.upload_id.to_owned(),
        )
    }
}

/// Start an upload whose object will carry the metadata of `template`; with
/// `checksum`, every part gets that checksum and the object one of that type.
pub async fn initiate_multipart_upload(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    mut template: ObjectRecord,
    checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    initiator: &Requester,
) -> CoreResult<UploadRecord> {
    refuse_public_object_acl(bucket, &template)?;
    // The parts are encrypted as the upload was initiated (or the bucket's default).
    apply_default_encryption(bucket, &mut template);
    let upload = UploadRecord {
        // Time first, so a key's uploads list in initiation order (OSS).
        upload_id: format!(
            "{:016X}{}",
            now_nanos(),
            hex::encode_upper(rand::random::<[u8; 8]>())
        ),
        key: key.to_owned(),
        initiated: now_ms(),
        template,
        checksum,
        initiator: initiator.principal.account().map(str::to_owned),
    };
    let (b, stored) = (bucket.name.clone(), upload.clone());
    store.meta(move |m| m.create_upload(&b, &stored)).await?;
    Ok(upload)
}

pub async fn existing_upload(store: &Store, upload: UploadRef<'_>) -> CoreResult<UploadRecord> {
    let (b, k, id) = upload.owned();
    store
        .meta(move |m| m.get_upload(&b, &k, &id))
        .await?
        .ok_or_else(|| upload.no_such_upload())
}

/// Record a stored part; a part replaced by it is removed, and so is the new one
/// when the upload vanished meanwhile.
async fn save_part(
    store: &Store,
    upload: UploadRef<'_>,
    number: u32,
    part: PartRecord,
) -> CoreResult<PartRecord> {
    let (b, k, id) = upload.owned();
    let stored = part.clone();
    match store
        .meta(move |m| m.put_part(&b, &k, &id, number, &stored))
        .await
    {
        Ok(replaced) => {
            if let Some(old) = replaced {
                remove_blob(store, &old.blob).await;
            }
            Ok(part)
        }
        Err(e) => {
            remove_blob(store, &part.blob).await;
            Err(upload.explain(e))
        }
    }
}

/// What UploadPart stored.
pub struct UploadedPart {
    pub part: PartRecord,
    pub md5: [u8; 16],
    /// The upload's encryption, which the part was stored with.
    pub sse: Option<Sse>,
}

/// UploadPart: store `body` as part `number`.
pub async fn upload_part(
    store: &Store,
    upload: UploadRef<'_>,
    number: u32,
    body: ByteStream<'_>,
    expected: impl Into<Expected>,
) -> CoreResult<UploadedPart> {
    let record = existing_upload(store, upload).await?;
    let mut expected = expected.into();
    // The parts of an upload with a checksum all carry it (S3).
    if let Some((algorithm, _)) = record.checksum {
        match &expected.checksum {
            None => {
                expected.checksum = Some(ChecksumRequest {
                    algorithm,
                    claimed: Claimed::Nothing,
                })
            }
            Some(c) if c.algorithm != algorithm => {
                return Err(CoreError::InvalidRequest(format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                    algorithm.name().to_ascii_lowercase(),
                    c.algorithm.name().to_ascii_lowercase()
                )));
            }
            Some(_) => {}
        }
    }
    let stored = store_stream(
        store,
        body,
        store.max_object_size,
        expected,
        record.template.sse.as_ref(),
        BodyHome::Blob,
    )
    .await?;
    let part = save_part(store, upload, number, stored.part()).await?;
    Ok(UploadedPart {
        part,
        md5: stored.md5,
        sse: record.template.sse,
    })
}

/// UploadPartCopy: part `number` from `range` of the source (all of it by default).
pub async fn upload_part_copy(
    store: &Store,
    upload: UploadRef<'_>,
    number: u32,
    source: &CopySource,
    range: Option<ByteRange>,
) -> CoreResult<PartRecord> {
    let (offset, len) = range.map_or((0, source.record.size), |r| (r.start, r.size()));
    let stream = open_range(store, &source.record, offset, len).await?;
    let record = existing_upload(store, upload).await?;
    let checksum = record.checksum.map(|(algorithm, _)| ChecksumRequest {
        algorithm,
        claimed: Claimed::Nothing,
    });
    let expected = Expected {
        md5: None,
        checksum,
    };
    let stored = store_stream(
        store,
        copy_stream(stream, source.traffic_limit),
        u64::MAX,
        expected,
        record.template.sse.as_ref(),
        BodyHome::Blob,
    )
    .await?;
    save_part(store, upload, number, stored.part()).await
}

/// Choose and check the parts of the final object (ascending numbers, existing
/// parts with matching ETags, every part but the last ≥ 100 KB). `requested` lists
/// `(number, upper-case ETag)`; `None` takes every uploaded part.
pub fn select_parts(
    requested: &Option<Vec<(u32, String)>>,
    uploaded: &[(u32, PartRecord)],
) -> CoreResult<Vec<PartRecord>> {
    let invalid_part = |number: u32| CoreError::InvalidPart {
        number,
        reason: None,
    };
    let chosen: Vec<PartRecord> = match requested {
        None => uploaded.iter().map(|(_, p)| p.clone()).collect(),
        Some(list) => {
            let mut chosen = Vec::with_capacity(list.len());
            let mut previous = 0;
            for (number, etag) in list {
                if *number <= previous {
                    return Err(CoreError::InvalidPartOrder);
                }
                previous = *number;
                let part = uploaded
                    .iter()
                    .find(|(n, _)| n == number)
                    .map(|(_, p)| p)
                    .ok_or_else(|| invalid_part(*number))?;
                if part.etag != *etag {
                    return Err(invalid_part(*number));
                }
                chosen.push(part.clone());
            }
            chosen
        }
    };
    if chosen.is_empty() {
        return Err(CoreError::InvalidPart {
            number: 0,
            reason: Some("no parts were uploaded"),
        });
    }
    if let Some(small) = chosen[..chosen.len() - 1]
        .iter()
        .find(|p| p.size < MIN_PART_SIZE)
    {
        return Err(CoreError::EntityTooSmall {
            min: MIN_PART_SIZE,
            size: small.size,
        });
    }
    Ok(chosen)
}

/// The S3-style ETag of a multipart object made of parts with these ETags (hex): MD5
/// of the part MD5s, then the part count. None when an ETag is not hex.
pub fn multipart_etag<'a>(part_etags: impl ExactSizeIterator<Item = &'a str>) -> Option<String> {
    let count = part_etags.len();
    let mut md5s = Md5::new();
    for etag in part_etags {
        md5s.update(hex::decode(etag).ok()?);
    }
    Some(format!("{}-{count}", hex::encode_upper(md5s.finalize())))
}

/// CompleteMultipartUpload: the object of the chosen parts, in one transaction that
/// removes the upload. Parts not chosen and the blobs of a replaced object go. An
/// `acl` replaces the one given at initiate (OSS's x-oss-object-acl on Complete).
pub async fn complete_multipart_upload(
    store: &Store,
    bucket: &BucketRecord,
    upload: UploadRef<'_>,
    requested: Option<Vec<(u32, String)>>,
    acl: Option<ObjectAcl>,
    condition: WriteCondition,
) -> CoreResult<ObjectRecord> {
    let version_id = version_for_write(bucket);
    let bucket_record = bucket.clone();
    let refusal = std::sync::Arc::new(Refusal::default());
    let ((b, k, id), slot) = (upload.owned(), refusal.clone());
    let meta = store.meta.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut built = None;
        let (replaced, parts) =
            meta.complete_upload(&b, &k, &id, &mut |upload, uploaded, current| {
                condition.check(&k, current).map_err(|e| slot.refuse(e))?;
                worm::check_change(&bucket_record, current, now_ms())
                    .map_err(|e| slot.refuse(e))?;
                let chosen = select_parts(&requested, uploaded).map_err(|e| slot.refuse(e))?;
                let mut record = upload.template.clone();
                record.version_id = version_id.clone();
                if let Some(acl) = acl {
                    record.acl = acl;
                    refuse_public_object_acl(&bucket_record, &record)
                        .map_err(|e| slot.refuse(e))?;
                }
                for part in &chosen {
                    record.crc64 = crc64::combine(record.crc64, part.crc64, part.size);
                    record.size += part.size;
                    record.segments.push(Segment {
                        blob: part.blob.clone(),
                        size: part.size,
                        key: part.key.clone(),
                        inline: None,
                    });
                }
                if let Some((algorithm, kind)) = upload.checksum {
                    let mut sums = Vec::with_capacity(chosen.len());
                    for (i, part) in chosen.iter().enumerate() {
                        let sum = part.checksum.as_ref().filter(|c| c.algorithm == algorithm);
                        let sum = sum.ok_or_else(|| {
                            slot.refuse(CoreError::InvalidPart {
                                number: requested
                                    .as_ref()
                                    .and_then(|r| r.get(i))
                                    .map_or(i as u32 + 1, |(n, _)| *n),
                                reason: Some("the part has no checksum of the upload's algorithm"),
                            })
                        })?;
                        sums.push((sum, part.size));
                    }
                    record.checksum = Some(
                        checksum::of_parts(algorithm, kind, &sums).map_err(|e| slot.refuse(e))?,
                    );
                    record.part_checksums = sums.iter().map(|(c, _)| c.value.clone()).collect();
                }
                record.etag = multipart_etag(chosen.iter().map(|p| p.etag.as_str()))
                    .ok_or_else(|| StorageError::Io("a part's ETag is not hex".into()))?;
                record.last_modified = now_ms();
                built = Some(record.clone());
                Ok(record)
            })?;
        Ok::<_, StorageError>((replaced, parts, built.expect("built on success")))
    })
    .await
    .map_err(CoreError::internal)?;
    let (replaced, parts, record) = result.map_err(|e| upload.explain(refusal.explain(e)))?;
    remove_unused(store, parts.iter().map(|p| &p.blob), &record).await;
    for old in replaced {
        remove_unused(store, old.blobs(), &record).await;
    }
    Ok(record)
}

pub async fn abort_multipart_upload(store: &Store, upload: UploadRef<'_>) -> CoreResult<()> {
    let (b, k, id) = upload.owned();
    let parts = store
        .meta(move |m| m.abort_upload(&b, &k, &id))
        .await
        .map_err(|e| upload.explain(e))?;
    for part in parts {
        remove_blob(store, &part.blob).await;
    }
    Ok(())
}

/// ListParts: the upload and its parts after `marker`; the flag says more follow.
pub async fn list_parts(
    store: &Store,
    upload: UploadRef<'_>,
    marker: u32,
    max: usize,
) -> CoreResult<(UploadRecord, Vec<(u32, PartRecord)>, bool)> {
    let record = existing_upload(store, upload).await?;
    let id = record.upload_id.clone();
    let (parts, truncated) = store.meta(move |m| m.list_parts(&id, marker, max)).await?;
    Ok((record, parts, truncated))
}

pub async fn list_multipart_uploads(
    store: &Store,
    bucket: &str,
    query: UploadQuery,
) -> CoreResult<UploadListing> {
    let b = bucket.to_owned();
    store.meta(move |m| m.list_uploads(&b, &query)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::BlobId;

    fn part(n: u32, size: u64) -> (u32, PartRecord) {
        (
            n,
            PartRecord {
                blob: BlobId(format!("{n:0>8}")),
                size,
                key: None,
                etag: format!("E{n}"),
                crc64: 0,
                last_modified: 0,
                checksum: None,
            },
        )
    }

    #[test]
    fn part_selection_rules() {
        let big = MIN_PART_SIZE;
        let uploaded = vec![part(1, big), part(2, 10), part(3, big), part(5, 1)];
        let list = |items: &[(u32, &str)]| {
            Some(
                items
                    .iter()
                    .map(|(n, e)| (*n, e.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        let code = |r: CoreResult<Vec<PartRecord>>| {
            r.map(|v| v.len()).map_err(|e| match e {
                CoreError::InvalidPartOrder => "InvalidPartOrder",
                CoreError::InvalidPart { .. } => "InvalidPart",
                CoreError::EntityTooSmall { .. } => "EntityTooSmall",
                _ => "other",
            })
        };
        assert_eq!(
            code(select_parts(
                &list(&[(1, "E1"), (3, "E3"), (5, "E5")]),
                &uploaded
            )),
            Ok(3)
        );
        assert_eq!(
            code(select_parts(&list(&[(3, "E3"), (1, "E1")]), &uploaded)),
            Err("InvalidPartOrder")
        );
        assert_eq!(
            code(select_parts(&list(&[(1, "E1"), (1, "E1")]), &uploaded)),
            Err("InvalidPartOrder")
        );
        assert_eq!(
            code(select_parts(&list(&[(1, "E1"), (4, "E4")]), &uploaded)),
            Err("InvalidPart")
        );
        assert_eq!(
            code(select_parts(&list(&[(1, "WRONG")]), &uploaded)),
            Err("InvalidPart")
        );
        assert_eq!(
            code(select_parts(&list(&[(2, "E2"), (3, "E3")]), &uploaded)),
            Err("EntityTooSmall")
        );
        assert_eq!(
            code(select_parts(&list(&[(1, "E1"), (2, "E2")]), &uploaded)),
            Ok(2),
            "the last part may be small"
        );
        assert_eq!(code(select_parts(&None, &uploaded)), Err("EntityTooSmall"));
        assert_eq!(code(select_parts(&None, &[])), Err("InvalidPart"));
    }
}
