//! Multipart upload: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
//! ListMultipartUploads.

use http::HeaderMap;
use s3s::dto::*;
use s3s::{S3Response, S3Result, TrailingHeaders, s3_error};

use super::convert;
use super::error::from_core;
use super::object::{body_stream, content_md5, copy_conditions, copy_source, write_condition};
use super::{Cx, R};
use crate::access::Action;
use crate::core::CoreError;
use crate::core::checksum::{ChecksumAlgorithm, ChecksumType as CoreChecksumType};
use crate::core::conditions::ByteRange;
use crate::core::multipart::{self, MAX_PARTS, UploadRef};
use crate::core::object::Expected;
use crate::storage::{BucketRecord, UploadQuery, UploadRecord};

fn part_number(n: i32) -> S3Result<u32> {
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_PARTS).contains(n))
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            )
        })
}

/// The bucket of an upload request, authorized for `action` on the key (S3: by the
/// bucket's ACL, never the ACL of an object already there).
async fn authorized(cx: &Cx, bucket: &str, key: &str, action: Action) -> S3Result<BucketRecord> {
    let record = cx.bucket(bucket).await?;
    let key = super::parse_key(key)?;
    cx.authorize(action, &record, Some(key.as_str()), None)?;
    Ok(record)
}

fn upload<'a>(bucket: &'a BucketRecord, key: &'a str, upload_id: &'a str) -> UploadRef<'a> {
    UploadRef {
        bucket: &bucket.name,
        key,
        upload_id,
    }
}

pub async fn create_multipart_upload(
    cx: Cx,
    input: CreateMultipartUploadInput,
) -> R<CreateMultipartUploadOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::PutObject).await?;
    let storage_class =
        convert::oss_storage_class(input.storage_class.as_ref(), &bucket.storage_class)?;
    let template = convert::requested_record!(input, cx, bucket, "Multipart", &storage_class);
    let algorithm = match &input.checksum_algorithm {
        Some(a) => Some(ChecksumAlgorithm::parse(a.as_str()).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "Checksum algorithm provided is unsupported."
            )
        })?),
        None => None,
    };
    let kind = match input.checksum_type.as_ref().map(|t| t.as_str()) {
        None => match algorithm {
            // S3's default: CRC-64/NVME is full-object only, the others composite.
            Some(ChecksumAlgorithm::Crc64Nvme) => CoreChecksumType::FullObject,
            _ => CoreChecksumType::Composite,
        },
        Some("COMPOSITE") => CoreChecksumType::Composite,
        Some("FULL_OBJECT") => CoreChecksumType::FullObject,
        Some(other) => {
            return Err(s3_error!(
                InvalidRequest,
                "The checksum type {other:?} is not valid."
            ));
        }
    };
    if algorithm.is_none() && input.checksum_type.is_some() {
        return Err(s3_error!(
            InvalidRequest,
            "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
        ));
    }
    let upload = multipart::initiate_multipart_upload(
        cx.store(),
        &bucket,
        &input.key,
        template,
        algorithm.map(|a| (a, kind)),
        &cx.requester,
    )
    .await
    .map_err(from_core)?;
    let (server_side_encryption, ssekms_key_id) = convert::sse_output(upload.template.sse.as_ref());
    Ok(S3Response::new(CreateMultipartUploadOutput {
        bucket: Some(bucket.name.clone()),
        key: Some(input.key),
        upload_id: Some(upload.upload_id),
        checksum_algorithm: algorithm.map(convert::algorithm),
        checksum_type: algorithm.map(|_| ChecksumType::from(kind.name().to_owned())),
        server_side_encryption,
        ssekms_key_id,
        ..Default::default()
    }))
}

pub async fn upload_part(
    cx: Cx,
    input: UploadPartInput,
    headers: &HeaderMap,
    trailer: Option<TrailingHeaders>,
) -> R<UploadPartOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::PutObject).await?;
    let number = part_number(input.part_number)?;
    let expected = Expected {
        md5: content_md5(input.content_md5.as_deref())?,
        checksum: convert::checksum_headers!(input).request(headers, trailer)?,
    };
    let uploaded = multipart::upload_part(
        cx.store(),
        upload(&bucket, &input.key, &input.upload_id),
        number,
        body_stream(input.body),
        expected,
    )
    .await
    .map_err(from_core)?;
    let sums = convert::checksum_fields(uploaded.part.checksum.as_ref());
    let (server_side_encryption, ssekms_key_id) = convert::sse_output(uploaded.sse.as_ref());
    Ok(S3Response::new(convert::with_checksums!(
        sums,
        UploadPartOutput {
            e_tag: Some(convert::etag(&uploaded.part.etag)),
            server_side_encryption,
            ssekms_key_id,
            ..Default::default()
        }
    )))
}

pub async fn upload_part_copy(cx: Cx, input: UploadPartCopyInput) -> R<UploadPartCopyOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::PutObject).await?;
    let number = part_number(input.part_number)?;
    let conditions = copy_conditions(
        input.copy_source_if_match,
        input.copy_source_if_none_match,
        input.copy_source_if_modified_since,
        input.copy_source_if_unmodified_since,
    );
    let source = copy_source(&cx, &input.copy_source, conditions).await?;
    let range = match &input.copy_source_range {
        Some(spec) => Some(copy_source_range(spec, source.record.size)?),
        None => None,
    };
    let part = multipart::upload_part_copy(
        cx.store(),
        upload(&bucket, &input.key, &input.upload_id),
        number,
        &source,
        range,
    )
    .await
    .map_err(from_core)?;
    let sums = convert::checksum_fields(part.checksum.as_ref());
    Ok(S3Response::new(UploadPartCopyOutput {
        copy_part_result: Some(convert::with_checksums!(
            sums,
            CopyPartResult {
                e_tag: Some(convert::etag(&part.etag)),
                last_modified: Some(convert::timestamp(part.last_modified)),
            }
        )),
        copy_source_version_id: source.record.version_id.clone(),
        ..Default::default()
    }))
}

/// `x-amz-copy-source-range: bytes=first-last`, both given and inside the source
/// (S3 neither clamps nor accepts open ranges here, unlike a GET's Range).
fn copy_source_range(spec: &str, size: u64) -> S3Result<ByteRange> {
    let parsed = spec
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .and_then(|(first, last)| {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            (digits(first) && digits(last))
                .then(|| Some((first.parse::<u64>().ok()?, last.parse::<u64>().ok()?)))
                .flatten()
        });
    let Some((start, end)) = parsed else {
        return Err(s3_error!(
            InvalidArgument,
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy"
        ));
    };
    if start > end || end >= size {
        return Err(s3_error!(
            InvalidArgument,
            "Range specified is not valid for source object of size: {size}"
        ));
    }
    Ok(ByteRange { start, end })
}

pub async fn complete_multipart_upload(
    cx: Cx,
    input: CompleteMultipartUploadInput,
) -> R<CompleteMultipartUploadOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::PutObject).await?;
    let parts = input
        .multipart_upload
        .and_then(|m| m.parts)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            s3_error!(
                MalformedXML,
                "The XML you provided was not well-formed or did not validate against our published schema"
            )
        })?;
    let mut requested = Vec::with_capacity(parts.len());
    for p in parts {
        let number = part_number(p.part_number.unwrap_or(0))?;
        let etag = p
            .e_tag
            .map(|t| t.value().trim_matches('"').to_ascii_uppercase())
            .unwrap_or_default();
        requested.push((number, etag));
    }
    let condition = write_condition(input.if_match.as_ref(), input.if_none_match.as_ref())?;
    let retry_etag = multipart::multipart_etag(requested.iter().map(|(_, e)| e.as_str()));
    let completed = multipart::complete_multipart_upload(
        cx.store(),
        &bucket,
        upload(&bucket, &input.key, &input.upload_id),
        Some(requested),
        None,
        condition,
    )
    .await;
    let record = match completed {
        // S3 answers a retried completion with the object it made: the upload is
        // gone, the key holds the object of exactly these parts.
        Err(e @ CoreError::NoSuchUpload { .. }) => {
            match cx.object(&input.bucket, &input.key, None).await?.2 {
                Some(current) if retry_etag.as_ref() == Some(&current.etag) => current,
                _ => return Err(from_core(e)),
            }
        }
        done => done.map_err(from_core)?,
    };
    let (server_side_encryption, ssekms_key_id) = convert::sse_output(record.sse.as_ref());
    let sums = convert::checksum_fields(record.checksum.as_ref());
    Ok(S3Response::new(convert::with_checksums!(
        sums,
        CompleteMultipartUploadOutput {
            bucket: Some(bucket.name.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(convert::etag(&record.etag)),
            location: Some(format!("/{}/{}", bucket.name, input.key)),
            checksum_type: sums.kind,
            version_id: convert::written_version(&record),
            server_side_encryption,
            ssekms_key_id,
            ..Default::default()
        }
    )))
}

pub async fn abort_multipart_upload(
    cx: Cx,
    input: AbortMultipartUploadInput,
) -> R<AbortMultipartUploadOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::AbortMultipartUpload).await?;
    multipart::abort_multipart_upload(cx.store(), upload(&bucket, &input.key, &input.upload_id))
        .await
        .map_err(from_core)?;
    Ok(super::no_content())
}

/// The owner S3 lists for an upload: the account that initiated it (the bucket's
/// owner for uploads kept without one).
fn initiated_by(upload: &UploadRecord, bucket_owner: &str) -> Owner {
    convert::owner(upload.initiator.as_deref().unwrap_or(bucket_owner))
}

fn initiator(owner: Owner) -> Initiator {
    Initiator {
        display_name: owner.display_name,
        id: owner.id,
    }
}

pub async fn list_parts(cx: Cx, input: ListPartsInput) -> R<ListPartsOutput> {
    let bucket = authorized(&cx, &input.bucket, &input.key, Action::ListParts).await?;
    let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
    let marker = input
        .part_number_marker
        .and_then(|m| u32::try_from(m).ok())
        .unwrap_or(0);
    let (record, parts, truncated) = multipart::list_parts(
        cx.store(),
        upload(&bucket, &input.key, &input.upload_id),
        marker,
        max,
    )
    .await
    .map_err(from_core)?;
    let next = truncated
        .then(|| parts.last().map(|(n, _)| *n as i32))
        .flatten();
    Ok(S3Response::new(ListPartsOutput {
        bucket: Some(bucket.name.clone()),
        key: Some(input.key),
        upload_id: Some(input.upload_id),
        part_number_marker: input.part_number_marker,
        next_part_number_marker: next,
        max_parts: Some(max as i32),
        is_truncated: Some(truncated),
        storage_class: Some(StorageClass::from(
            convert::s3_storage_class(&record.template.storage_class).to_owned(),
        )),
        checksum_algorithm: record.checksum.map(|(a, _)| convert::algorithm(a)),
        checksum_type: record
            .checksum
            .map(|(_, k)| ChecksumType::from(k.name().to_owned())),
        initiator: Some(initiator(initiated_by(&record, &bucket.owner))),
        owner: Some(initiated_by(&record, &bucket.owner)),
        parts: Some(
            parts
                .into_iter()
                .map(|(n, p)| {
                    let sums = convert::checksum_fields(p.checksum.as_ref());
                    convert::with_checksums!(
                        sums,
                        Part {
                            part_number: Some(n as i32),
                            e_tag: Some(convert::etag(&p.etag)),
                            size: Some(p.size as i64),
                            last_modified: Some(convert::timestamp(p.last_modified)),
                        }
                    )
                })
                .collect(),
        ),
        ..Default::default()
    }))
}

pub async fn list_multipart_uploads(
    cx: Cx,
    input: ListMultipartUploadsInput,
) -> R<ListMultipartUploadsOutput> {
    let bucket = cx.bucket(&input.bucket).await?;
    cx.authorize(Action::ListMultipartUploads, &bucket, None, None)?;
    let max = input.max_uploads.unwrap_or(1000).clamp(1, 1000) as usize;
    let query = UploadQuery {
        prefix: input.prefix.clone().unwrap_or_default(),
        delimiter: input.delimiter.clone().unwrap_or_default(),
        key_marker: input.key_marker.clone().unwrap_or_default(),
        upload_id_marker: input.upload_id_marker.clone().unwrap_or_default(),
        max,
    };
    let listing = multipart::list_multipart_uploads(cx.store(), &bucket.name, query)
        .await
        .map_err(from_core)?;
    let next = listing.last_markers().filter(|_| listing.truncated);
    Ok(S3Response::new(ListMultipartUploadsOutput {
        bucket: Some(bucket.name.clone()),
        prefix: input.prefix,
        delimiter: input.delimiter,
        key_marker: input.key_marker,
        upload_id_marker: input.upload_id_marker,
        next_key_marker: next.map(|(key, _)| key.to_owned()),
        next_upload_id_marker: next
            .map(|(_, id)| id.to_owned())
            .filter(|id| !id.is_empty()),
        max_uploads: Some(max as i32),
        is_truncated: Some(listing.truncated),
        common_prefixes: Some(
            listing
                .common_prefixes
                .iter()
                .map(|p| CommonPrefix {
                    prefix: Some(p.clone()),
                })
                .collect(),
        ),
        uploads: Some(
            listing
                .uploads
                .iter()
                .map(|u| MultipartUpload {
                    key: Some(u.key.clone()),
                    upload_id: Some(u.upload_id.clone()),
                    initiated: Some(convert::timestamp(u.initiated)),
                    storage_class: Some(StorageClass::from(
                        convert::s3_storage_class(&u.template.storage_class).to_owned(),
                    )),
                    owner: Some(initiated_by(u, &bucket.owner)),
                    initiator: Some(initiator(initiated_by(u, &bucket.owner))),
                    checksum_algorithm: u.checksum.map(|(a, _)| convert::algorithm(a)),
                    checksum_type: u
                        .checksum
                        .map(|(_, k)| ChecksumType::from(k.name().to_owned())),
                })
                .collect(),
        ),
        ..Default::default()
    }))
}
