//! Object operations: PutObject, GetObject/HeadObject, DeleteObject, CopyObject,
//! object tagging and ACLs.

use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderValue, StatusCode};
use s3s::dto::*;
use s3s::{S3Response, TrailingHeaders, s3_error};

use super::convert;
use super::error::from_core;
use super::{Cx, R};
use crate::access::Action;
use crate::core::bucket_tags::TagLimits;
use crate::core::checksum::Checksum as CoreChecksum;
use crate::core::conditions::{Conditions, RangeRequest, WriteCondition};
use crate::core::copy::{self, CopyObject};
use crate::core::object::{self, Expected, GetOutcome, ObjectBody};
use crate::core::process;
use crate::core::restore::{self, RestoreObject, Restored, Tier};
use crate::names::BucketName;
use crate::storage::ObjectRecord;

/// A Content-MD5 header (base64 of 16 bytes).
pub fn content_md5(value: Option<&str>) -> s3s::S3Result<Option<[u8; 16]>> {
    use base64::Engine;
    let Some(value) = value else { return Ok(None) };
    base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(Some)
        .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))
}

/// The body of a write as the core reads it.
/// s3s does not hold an aws-chunked body to its x-amz-decoded-content-length: a body
/// of another length fails here.
pub fn body_stream(body: Option<StreamingBlob>) -> object::ByteStream<'static> {
    let Some(body) = body else {
        return futures_util::stream::empty().boxed();
    };
    let declared = s3s::stream::ByteStream::remaining_length(&body).exact();
    futures_util::stream::unfold(Some((body, 0usize)), move |state| async move {
        let (mut body, seen) = state?;
        match (body.next().await, declared) {
            (Some(Ok(chunk)), Some(n)) if seen + chunk.len() > n => Some((
                Err(format!("the body is longer than the {n} bytes declared")),
                None,
            )),
            (Some(Ok(chunk)), _) => {
                let seen = seen + chunk.len();
                Some((Ok(chunk), Some((body, seen))))
            }
            (Some(Err(e)), _) => Some((Err(e.to_string()), None)),
            (None, Some(n)) if seen != n => Some((
                Err(format!(
                    "the body ended after {seen} of the {n} bytes declared"
                )),
                None,
            )),
            (None, _) => None,
        }
    })
    .boxed()
}

/// `x-oss-hash-crc64ecma` on S3 answers too, so either dialect can check it.
fn with_crc64<T>(output: T, record: &ObjectRecord) -> S3Response<T> {
    let mut response = S3Response::new(output);
    if let Ok(v) = HeaderValue::from_str(&record.crc64.to_string()) {
        response.headers.insert("x-oss-hash-crc64ecma", v);
    }
    response
}

/// S3 conditional writes: `If-None-Match` (`*` or an ETag) and `If-Match`.
pub fn write_condition(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> s3s::S3Result<WriteCondition> {
    Ok(match (if_match, if_none_match) {
        (None, None) => WriteCondition::Any,
        (Some(ETagCondition::Any), None) => WriteCondition::Exists(None),
        (Some(ETagCondition::ETag(tag)), None) => WriteCondition::Exists(Some(tag.value().into())),
        (None, Some(ETagCondition::Any)) => WriteCondition::Absent,
        (None, Some(ETagCondition::ETag(tag))) => WriteCondition::NotETag(tag.value().into()),
        (Some(_), Some(_)) => {
            return Err(s3_error!(
                NotImplemented,
                "A write takes If-Match or If-None-Match, not both."
            ));
        }
    })
}

pub async fn put_object(
    cx: Cx,
    input: PutObjectInput,
    headers: &HeaderMap,
    trailer: Option<TrailingHeaders>,
) -> R<PutObjectOutput> {
    let (bucket, key, _) = cx.object(&input.bucket, &input.key, None).await?;
    // S3: writing a key is the bucket's WRITE permission; the ACL of the object
    // being replaced does not count (it does in OSS).
    cx.authorize(Action::PutObject, &bucket, Some(key.as_str()), None)?;
    let condition = write_condition(input.if_match.as_ref(), input.if_none_match.as_ref())?;
    let storage_class =
        convert::oss_storage_class(input.storage_class.as_ref(), &bucket.storage_class)?;
    let template = convert::requested_record!(input, cx, bucket, "Normal", &storage_class);
    let expected = Expected {
        // The raw header: s3s reads an empty Content-MD5 as none, S3 as invalid.
        md5: content_md5(header(headers, "content-md5"))?,
        checksum: convert::checksum_headers!(input).request(headers, trailer)?,
    };
    let record = object::put_object(
        cx.store(),
        &bucket,
        key.as_str(),
        template,
        body_stream(input.body),
        expected,
        condition,
    )
    .await
    .map_err(from_core)?;
    let (server_side_encryption, ssekms_key_id) = convert::sse_output(record.sse.as_ref());
    let sums = convert::checksum_fields(record.checksum.as_ref());
    let output = convert::with_checksums!(
        sums,
        PutObjectOutput {
            e_tag: Some(convert::etag(&record.etag)),
            checksum_type: sums.kind,
            version_id: convert::written_version(&record),
            server_side_encryption,
            ssekms_key_id,
            ..Default::default()
        }
    );
    Ok(with_crc64(output, &record))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn http_date_secs(value: Option<&str>) -> Option<i64> {
    let t = httpdate::parse_http_date(value?).ok()?;
    t.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

/// The If-* headers as sent (lists and weak tags included).
fn conditions(headers: &HeaderMap) -> Conditions {
    Conditions {
        if_match: header(headers, "if-match").map(str::to_owned),
        if_none_match: header(headers, "if-none-match").map(str::to_owned),
        if_modified_since: http_date_secs(header(headers, "if-modified-since")),
        if_unmodified_since: http_date_secs(header(headers, "if-unmodified-since")),
    }
}

/// What a GET or HEAD found, before it becomes either output.
struct Read {
    record: ObjectRecord,
    content_range: Option<String>,
    length: u64,
    body: ObjectBody,
    parts_count: Option<i32>,
}

async fn read(
    cx: &Cx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    part_number: Option<i32>,
    headers: &HeaderMap,
    head: bool,
) -> s3s::S3Result<Read> {
    let (bucket, link) = existing(cx, bucket, key, version_id, Action::GetObject).await?;
    if !head {
        process::check_source_protection(&cx.requester, &bucket, key, None).map_err(from_core)?;
    }
    let mut range = header(headers, "range").map(|spec| RangeRequest {
        spec: spec.to_owned(),
        strict: true,
    });
    let mut parts_count = None;
    if let Some(n) = part_number {
        if !(1..=crate::core::multipart::MAX_PARTS as i32).contains(&n) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        if range.is_some() {
            return Err(s3_error!(
                InvalidRequest,
                "Cannot specify both Range header and partNumber query parameter."
            ));
        }
        // A multipart object's parts are its segments; anything else is one part.
        let segments: Vec<u64> = if link.object_type == "Multipart" {
            link.segments.iter().map(|s| s.size).collect()
        } else {
            vec![link.size]
        };
        let index = usize::try_from(n - 1)
            .ok()
            .filter(|i| *i < segments.len())
            .ok_or_else(|| {
                let mut e = s3s::S3Error::with_message(
                    s3s::S3ErrorCode::Custom("InvalidPartNumber".into()),
                    "The requested partnumber is not satisfiable",
                );
                e.set_status_code(StatusCode::RANGE_NOT_SATISFIABLE);
                e
            })?;
        let start: u64 = segments[..index].iter().sum();
        let end = (start + segments[index]).saturating_sub(1);
        if link.object_type == "Multipart" {
            parts_count = Some(segments.len() as i32);
        }
        range = (segments[index] > 0).then(|| RangeRequest {
            spec: format!("bytes={start}-{end}"),
            strict: true,
        });
    }
    let request = object::GetObject {
        conditions: conditions(headers),
        range,
        head,
    };
    match object::get_object(cx.store(), &cx.requester, &bucket, key, link, &request)
        .await
        .map_err(from_core)?
    {
        // A 304 names the current ETag and Last-Modified, as S3 answers.
        GetOutcome::NotModified(record) => {
            let mut e = s3_error!(NotModified, "Not Modified");
            e.set_status_code(StatusCode::NOT_MODIFIED);
            let mut h = HeaderMap::new();
            let etag = format!("\"{}\"", record.etag.to_ascii_lowercase());
            let modified = httpdate::fmt_http_date(
                std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(record.last_modified.max(0) as u64),
            );
            for (name, value) in [
                (http::header::ETAG, etag),
                (http::header::LAST_MODIFIED, modified),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.insert(name, v);
                }
            }
            e.set_headers(h);
            Err(e)
        }
        GetOutcome::Found {
            record,
            range,
            body,
        } => Ok(Read {
            content_range: range.map(|r| format!("bytes {}-{}/{}", r.start, r.end, record.size)),
            length: range.map_or(record.size, |r| r.size()),
            record,
            body,
            parts_count,
        }),
    }
}

fn checksum_wanted(headers: &HeaderMap, read: &Read) -> bool {
    // S3 returns the object's checksum only for whole-object reads.
    header(headers, "x-amz-checksum-mode").is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        && read.content_range.is_none()
}

fn status(read: &Read) -> Option<StatusCode> {
    read.content_range
        .as_ref()
        .map(|_| StatusCode::PARTIAL_CONTENT)
}

/// The output of a GET or HEAD (two DTOs with the same fields) from what was read,
/// with the request's `response-*` overrides and `extra` fields.
macro_rules! read_output {
    ($ty:ident, $read:expr, $input:expr, $headers:expr, { $($extra:tt)* }) => {{
        let read = &$read;
        let sums = if checksum_wanted($headers, read) {
            convert::checksum_fields(read.record.checksum.as_ref())
        } else {
            Default::default()
        };
        let r = &read.record;
        let h = &r.headers;
        let (server_side_encryption, ssekms_key_id) = convert::sse_output(r.sse.as_ref());
        convert::with_checksums!(sums, $ty {
            accept_ranges: Some("bytes".into()),
            content_length: Some(read.length as i64),
            content_range: read.content_range.clone(),
            content_type: $input
                .response_content_type
                .or_else(|| h.content_type.clone())
                .or_else(|| Some("application/octet-stream".into())),
            cache_control: $input
                .response_cache_control
                .or_else(|| h.cache_control.clone()),
            content_disposition: $input
                .response_content_disposition
                .or_else(|| h.content_disposition.clone()),
            content_encoding: $input
                .response_content_encoding
                .or_else(|| h.content_encoding.clone()),
            content_language: $input
                .response_content_language
                .or_else(|| h.content_language.clone()),
            expires: $input.response_expires.or_else(|| convert::expires(h)),
            e_tag: Some(convert::etag(&r.etag)),
            last_modified: Some(convert::timestamp(r.last_modified)),
            metadata: convert::metadata(r),
            storage_class: Some(StorageClass::from(
                convert::s3_storage_class(&r.storage_class).to_owned(),
            )),
            parts_count: read.parts_count,
            checksum_type: sums.kind,
            version_id: r.version_id.clone(),
            restore: restore::restore_info(r, crate::core::now_ms()),
            server_side_encryption,
            ssekms_key_id,
            $($extra)*
            ..Default::default()
        })
    }};
}

/// The answer of a GET or HEAD: 206 for a range, and the CRC-64 header.
fn read_response<T>(output: T, read: &Read) -> S3Response<T> {
    let mut response = with_crc64(output, &read.record);
    response.status = status(read);
    response
}

/// S3 honours the `response-*` overrides only on signed requests.
fn overrides_signed(cx: &Cx, overrides: &[bool]) -> s3s::S3Result<()> {
    if matches!(cx.requester.principal, crate::access::Principal::Anonymous)
        && overrides.iter().any(|given| *given)
    {
        return Err(s3_error!(
            InvalidRequest,
            "Request specific response headers cannot be used for anonymous GET requests."
        ));
    }
    Ok(())
}

pub async fn get_object(cx: Cx, input: GetObjectInput, headers: &HeaderMap) -> R<GetObjectOutput> {
    overrides_signed(
        &cx,
        &[
            input.response_content_type.is_some(),
            input.response_cache_control.is_some(),
            input.response_content_disposition.is_some(),
            input.response_content_encoding.is_some(),
            input.response_content_language.is_some(),
            input.response_expires.is_some(),
        ],
    )?;
    let mut read = read(
        &cx,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        input.part_number,
        headers,
        false,
    )
    .await?;
    let body = match std::mem::replace(&mut read.body, ObjectBody::Empty) {
        ObjectBody::Empty => StreamingBlob::from(s3s::Body::empty()),
        ObjectBody::Bytes(bytes) => StreamingBlob::from(s3s::Body::from(bytes)),
        // s3s wants a Sync stream; an unsync body wrapper makes one of ours.
        ObjectBody::Stream(stream) => StreamingBlob::from(s3s::Body::http_body_unsync(
            http_body_util::StreamBody::new(stream.map_ok(http_body::Frame::data)),
        )),
    };
    let tags = read.record.tags.len() as i32;
    let output = read_output!(GetObjectOutput, read, input, headers, {
        body: Some(body),
        tag_count: (tags > 0).then_some(tags),
    });
    Ok(read_response(output, &read))
}

pub async fn head_object(
    cx: Cx,
    input: HeadObjectInput,
    headers: &HeaderMap,
) -> R<HeadObjectOutput> {
    let read = read(
        &cx,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        input.part_number,
        headers,
        true,
    )
    .await?;
    let output = read_output!(HeadObjectOutput, read, input, headers, {});
    let mut response = read_response(output, &read);
    // S3 names the tag count on HEAD too, though its model has no field for it.
    if !read.record.tags.is_empty() {
        response
            .headers
            .insert("x-amz-tagging-count", read.record.tags.len().into());
    }
    Ok(response)
}

pub async fn delete_object(cx: Cx, input: DeleteObjectInput) -> R<DeleteObjectOutput> {
    let version_id = input.version_id.as_deref();
    let bucket = cx.bucket(&input.bucket).await?;
    let key = super::parse_key(&input.key)?;
    // S3: deleting is the bucket's WRITE permission, whatever the object's ACL.
    cx.authorize(
        versioned(Action::DeleteObject, version_id),
        &bucket,
        Some(key.as_str()),
        None,
    )?;
    let deleted = object::delete_object(cx.store(), &bucket, key.as_str(), version_id)
        .await
        .map_err(from_core)?;
    let mut response = super::no_content::<DeleteObjectOutput>();
    response.output.delete_marker = deleted.delete_marker.then_some(true);
    response.output.version_id = deleted.version_id;
    Ok(response)
}

/// `action` on the version a request names, or on the current object.
fn versioned(action: Action, version_id: Option<&str>) -> Action {
    match version_id {
        Some(_) => action.on_version(),
        None => action,
    }
}

/// An S3 ETag condition in the form the core compares.
fn etag_condition(c: Option<ETagCondition>) -> Option<String> {
    c.map(|c| match c {
        ETagCondition::Any => "*".to_owned(),
        ETagCondition::ETag(tag) => format!("\"{}\"", tag.value()),
    })
}

/// The source of a CopyObject or UploadPartCopy, read-authorized for the requester,
/// after the copy conditions (a failed one is 412 in S3, also for If-None-Match).
pub async fn copy_source(
    cx: &Cx,
    source: &CopySource,
    conditions: Conditions,
) -> s3s::S3Result<copy::CopySource> {
    let CopySource::Bucket {
        bucket,
        key,
        version_id,
    } = source
    else {
        return Err(s3_error!(
            NotImplemented,
            "Access point copy sources are not supported."
        ));
    };
    let name = BucketName::parse(bucket)
        .map_err(|_| s3_error!(InvalidArgument, "Invalid copy source bucket name"))?;
    let key = super::parse_key(key)?;
    copy::copy_source(
        cx.store(),
        &cx.requester,
        &name,
        &key,
        version_id.as_deref(),
        &conditions,
    )
    .await
    .map_err(from_core)?
    .ok_or_else(|| {
        from_core(crate::core::CoreError::PreconditionFailed {
            condition: "x-amz-copy-source-If-None-Match".into(),
        })
    })
}

pub fn copy_conditions(
    if_match: Option<ETagCondition>,
    if_none_match: Option<ETagCondition>,
    if_modified_since: Option<Timestamp>,
    if_unmodified_since: Option<Timestamp>,
) -> Conditions {
    Conditions {
        if_match: etag_condition(if_match),
        if_none_match: etag_condition(if_none_match),
        if_modified_since: if_modified_since.map(convert::unix_secs),
        if_unmodified_since: if_unmodified_since.map(convert::unix_secs),
    }
}

pub async fn copy_object(cx: Cx, input: CopyObjectInput) -> R<CopyObjectOutput> {
    let bucket = cx.bucket(&input.bucket).await?;
    let key = super::parse_key(&input.key)?;
    // S3: writing a key is the bucket's WRITE permission; the ACL of the object
    // being replaced does not count (it does in OSS).
    cx.authorize(Action::PutObject, &bucket, Some(key.as_str()), None)?;
    let replace = |d: Option<&str>| -> s3s::S3Result<bool> {
        match d {
            None | Some("COPY") => Ok(false),
            Some("REPLACE") => Ok(true),
            Some(other) => Err(s3_error!(
                InvalidArgument,
                "Unknown directive {other:?}; use COPY or REPLACE."
            )),
        }
    };
    let replace_meta = replace(input.metadata_directive.as_ref().map(|d| d.as_str()))?;
    let replace_tags = replace(input.tagging_directive.as_ref().map(|d| d.as_str()))?;
    let conditions = copy_conditions(
        input.copy_source_if_match,
        input.copy_source_if_none_match,
        input.copy_source_if_modified_since,
        input.copy_source_if_unmodified_since,
    );
    let source = copy_source(&cx, &input.copy_source, conditions).await?;
    let same = source.bucket == bucket.name && source.key == key.as_str();
    if same && !replace_meta && input.storage_class.is_none() && input.acl.is_none() {
        return Err(s3_error!(
            InvalidRequest,
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
        ));
    }
    let storage_class =
        convert::oss_storage_class(input.storage_class.as_ref(), &source.record.storage_class)?;
    let requested = convert::requested_record!(input, cx, bucket, "Normal", &storage_class);
    let request = CopyObject {
        requested,
        replace_meta,
        replace_tags,
        // S3: a copy gets the ACL the request asks for (private by default), never
        // the source's.
        acl_given: true,
        storage_class_given: input.storage_class.is_some(),
        condition: WriteCondition::Any,
    };
    let source_version = source.record.version_id.clone();
    let record = copy::copy_object(cx.store(), &bucket, key.as_str(), source, request)
        .await
        .map_err(from_core)?;
    let sums = convert::checksum_fields(record.checksum.as_ref());
    let (server_side_encryption, ssekms_key_id) = convert::sse_output(record.sse.as_ref());
    let output = CopyObjectOutput {
        copy_object_result: Some(convert::with_checksums!(
            sums,
            CopyObjectResult {
                e_tag: Some(convert::etag(&record.etag)),
                last_modified: Some(convert::timestamp(record.last_modified)),
                checksum_type: sums.kind,
            }
        )),
        copy_source_version_id: source_version,
        version_id: convert::written_version(&record),
        server_side_encryption,
        ssekms_key_id,
        ..Default::default()
    };
    Ok(with_crc64(output, &record))
}

/// The object (or version `version_id`) of a read or sub-resource request, authorized
/// for `action` (on a version, when named).
async fn existing(
    cx: &Cx,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    action: Action,
) -> s3s::S3Result<(crate::storage::BucketRecord, ObjectRecord)> {
    let (bucket, key, record) = cx.object(bucket, key, version_id).await?;
    cx.authorize(
        versioned(action, version_id),
        &bucket,
        Some(key.as_str()),
        record.as_ref(),
    )?;
    let record = object::read_version(cx.store(), &bucket, key.as_str(), version_id, record)
        .await
        .map_err(from_core)?;
    Ok((bucket, record))
}

/// RestoreObject over the core's rules: 202 when a restore starts, 200 when a restored
/// object's stay is extended. S3's SELECT restores are not offered.
pub async fn restore_object(cx: Cx, input: RestoreObjectInput) -> R<RestoreObjectOutput> {
    let version_id = input.version_id.as_deref();
    let (bucket, key, current) = cx.object(&input.bucket, &input.key, version_id).await?;
    cx.authorize(
        Action::RestoreObject,
        &bucket,
        Some(key.as_str()),
        current.as_ref(),
    )?;
    let request = match input.restore_request {
        None => RestoreObject::default(),
        Some(r)
            if r.type_.is_some()
                || r.select_parameters.is_some()
                || r.output_location.is_some() =>
        {
            return Err(s3_error!(
                NotImplemented,
                "SELECT restores are not supported: give Days and GlacierJobParameters only."
            ));
        }
        Some(r) => RestoreObject {
            days: r.days.map(|d| d.to_string()),
            tier: r
                .glacier_job_parameters
                .map(|g| Tier::parse(g.tier.as_str()))
                .transpose()
                .map_err(from_core)?,
            archive_refuses_tier: false,
        },
    };
    let (_, outcome) =
        restore::restore_object(cx.store(), &bucket, key.as_str(), version_id, request)
            .await
            .map_err(from_core)?;
    let mut response = S3Response::new(RestoreObjectOutput::default());
    if outcome == Restored::Started {
        response
            .extensions
            .insert(super::SuccessStatus(StatusCode::ACCEPTED));
    }
    Ok(response)
}

pub async fn get_object_tagging(cx: Cx, input: GetObjectTaggingInput) -> R<GetObjectTaggingOutput> {
    let version_id = input.version_id.as_deref();
    let (_, record) = existing(
        &cx,
        &input.bucket,
        &input.key,
        version_id,
        Action::GetObjectTagging,
    )
    .await?;
    Ok(S3Response::new(GetObjectTaggingOutput {
        tag_set: convert::sorted_tag_set(&record.tags),
        version_id: record.version_id,
    }))
}

pub async fn put_object_tagging(cx: Cx, input: PutObjectTaggingInput) -> R<PutObjectTaggingOutput> {
    let version_id = input.version_id.as_deref();
    let (bucket, record) = existing(
        &cx,
        &input.bucket,
        &input.key,
        version_id,
        Action::PutObjectTagging,
    )
    .await?;
    let tags = convert::tags_of(input.tagging.tag_set);
    object::put_object_tagging(
        cx.store(),
        &bucket.name,
        &input.key,
        version_id,
        tags,
        TagLimits::S3_OBJECT,
    )
    .await
    .map_err(from_core)?;
    Ok(S3Response::new(PutObjectTaggingOutput {
        version_id: record.version_id,
    }))
}

pub async fn delete_object_tagging(
    cx: Cx,
    input: DeleteObjectTaggingInput,
) -> R<DeleteObjectTaggingOutput> {
    let version_id = input.version_id.as_deref();
    let (bucket, record) = existing(
        &cx,
        &input.bucket,
        &input.key,
        version_id,
        Action::DeleteObjectTagging,
    )
    .await?;
    object::delete_object_tagging(cx.store(), &bucket.name, &input.key, version_id)
        .await
        .map_err(from_core)?;
    let mut response = super::no_content::<DeleteObjectTaggingOutput>();
    response.output.version_id = record.version_id;
    Ok(response)
}

pub async fn get_object_acl(cx: Cx, input: GetObjectAclInput) -> R<GetObjectAclOutput> {
    let (bucket, record) = existing(
        &cx,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        Action::GetObjectAcl,
    )
    .await?;
    let (owner, grants) = convert::grants(record.owner(&bucket), &record.grants(&bucket));
    Ok(S3Response::new(GetObjectAclOutput {
        owner: Some(owner),
        grants: Some(grants),
        ..Default::default()
    }))
}

pub async fn put_object_acl(cx: Cx, input: PutObjectAclInput) -> R<PutObjectAclOutput> {
    let version_id = input.version_id.as_deref();
    let (bucket, record) = existing(
        &cx,
        &input.bucket,
        &input.key,
        version_id,
        Action::PutObjectAcl,
    )
    .await?;
    // Canned ACLs are relative to the object's owner.
    let owner = record.owner(&bucket);
    let acl = convert::acl_request!(
        input,
        input.grant_write.as_deref(),
        input.access_control_policy
    )
    .resolve(owner, &bucket.owner, |id| cx.account_exists(id))?;
    object::put_object_acl(
        cx.store(),
        &bucket,
        &input.key,
        version_id,
        crate::access::ObjectAcl::Set(acl.acl),
        acl.grants,
    )
    .await
    .map_err(from_core)?;
    Ok(S3Response::new(PutObjectAclOutput::default()))
}

/// `GET ?x-oss-process=image/...` (or `style/<name>`) on an S3-signed request: the
/// same image engine, rules and derived ETag as on the OSS path.
pub async fn get_processed(
    cx: Cx,
    input: GetObjectInput,
    spec: &str,
    headers: &HeaderMap,
) -> R<GetObjectOutput> {
    use crate::core::CoreError;
    let (bucket, link) = existing(
        &cx,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        Action::GetObject,
    )
    .await?;
    process::check_source_protection(&cx.requester, &bucket, &input.key, Some(spec))
        .map_err(from_core)?;
    if spec.contains('|') {
        return Err(s3_error!(
            InvalidArgument,
            "sys/saveas is allowed only in POST requests (ProcessObject), not with GET."
        ));
    }
    let chain = process::expand_style(&bucket, spec).map_err(from_core)?;
    let pipeline = crate::image::parse(&chain).map_err(|e| from_core(CoreError::Image(e)))?;
    let processed = process::get_processed(
        cx.store(),
        &cx.app.images,
        &cx.requester,
        &bucket,
        link,
        pipeline,
        &conditions(headers),
        header(headers, "accept"),
    )
    .await
    .map_err(from_core)?;
    let (output, etag, last_modified, vary_accept, cache) = match processed {
        process::Processed::NotModified { etag, vary_accept } => {
            let mut e = s3_error!(NotModified, "Not Modified");
            e.set_status_code(StatusCode::NOT_MODIFIED);
            let mut h = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
                h.insert(http::header::ETAG, v);
            }
            if vary_accept {
                h.insert(http::header::VARY, HeaderValue::from_static("Accept"));
            }
            e.set_headers(h);
            return Err(e);
        }
        process::Processed::Image {
            output,
            etag,
            last_modified,
            vary_accept,
            cache,
        } => (output, etag, last_modified, vary_accept, cache),
    };
    let length = output.bytes.len() as i64;
    let mut response = S3Response::new(GetObjectOutput {
        body: Some(StreamingBlob::from(s3s::Body::from(output.bytes))),
        content_length: Some(length),
        content_type: Some(output.content_type.to_owned()),
        e_tag: Some(convert::etag(&etag)),
        last_modified: Some(convert::timestamp(last_modified)),
        ..Default::default()
    });
    if vary_accept {
        response
            .headers
            .insert(http::header::VARY, HeaderValue::from_static("Accept"));
    }
    if let Some(cache) = cache {
        response.headers.insert(
            "x-ossify-image-cache",
            HeaderValue::from_static(cache.header()),
        );
    }
    Ok(response)
}

/// GetObjectAttributes: what HEAD tells, chosen by `x-amz-object-attributes`, with the
/// parts of a multipart object.
pub async fn get_object_attributes(
    cx: Cx,
    input: GetObjectAttributesInput,
) -> R<GetObjectAttributesOutput> {
    let (bucket, link) = existing(
        &cx,
        &input.bucket,
        &input.key,
        input.version_id.as_deref(),
        Action::GetObject,
    )
    .await?;
    let r = object::resolve_symlink(cx.store(), &cx.requester, &bucket, link)
        .await
        .map_err(from_core)?;
    // One header, comma-separated (s3s may hand it over as one entry).
    let wanted = |name: &str| {
        input
            .object_attributes
            .iter()
            .flat_map(|a| a.as_str().split(','))
            .any(|a| a.trim() == name)
    };
    let sums = convert::checksum_fields(r.checksum.as_ref());
    let parts = (r.object_type == "Multipart").then(|| {
        let marker = input.part_number_marker.unwrap_or(0).max(0) as usize;
        let max = input.max_parts.unwrap_or(1000).clamp(0, 1000) as usize;
        let all = &r.segments;
        let page: Vec<ObjectPart> = all
            .iter()
            .enumerate()
            .skip(marker)
            .take(max)
            .map(|(i, s)| {
                let sum = r.checksum.as_ref().zip(r.part_checksums.get(i));
                let sum = sum.map(|(object, value)| CoreChecksum {
                    value: value.clone(),
                    ..object.clone()
                });
                let sums = convert::checksum_fields(sum.as_ref());
                convert::with_checksums!(
                    sums,
                    ObjectPart {
                        part_number: Some(i as i32 + 1),
                        size: Some(s.size as i64),
                    }
                )
            })
            .collect();
        let truncated = marker + page.len() < all.len();
        GetObjectAttributesParts {
            total_parts_count: Some(all.len() as i32),
            part_number_marker: input.part_number_marker,
            next_part_number_marker: truncated.then(|| (marker + page.len()) as i32),
            max_parts: Some(max as i32),
            is_truncated: Some(truncated),
            parts: Some(page),
        }
    });
    let mut response = S3Response::new(GetObjectAttributesOutput {
        e_tag: wanted("ETag").then(|| convert::etag(&r.etag)),
        object_size: wanted("ObjectSize").then_some(r.size as i64),
        storage_class: wanted("StorageClass")
            .then(|| StorageClass::from(convert::s3_storage_class(&r.storage_class).to_owned())),
        checksum: (wanted("Checksum") && r.checksum.is_some()).then_some(convert::with_checksums!(
            sums,
            Checksum {
                checksum_type: sums.kind,
            }
        )),
        object_parts: parts.filter(|_| wanted("ObjectParts")),
        last_modified: Some(convert::timestamp(r.last_modified)),
        version_id: r.version_id.clone(),
        ..Default::default()
    });
    // S3 writes this ETag without quotes, unlike everywhere else.
    response.extensions.insert(super::UnquotedETag);
    Ok(response)
}
