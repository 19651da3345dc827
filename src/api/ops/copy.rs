//! CopyObject, and the copy source shared with UploadPartCopy.

use axum::response::Response;
use http::StatusCode;
use percent_encoding::percent_decode_str;

use super::object::{
    commit_record, forbid_overwrite, open_range, record_from_headers, set_digests, store_stream,
    tagging_header,
};
use crate::access::Action;
use crate::api::error::{ApiResult, OssError};
use crate::api::headers::{self, Precondition, header, iso8601, now_ms};
use crate::api::xml::XmlWriter;
use crate::api::{Ctx, xml_response};
use crate::names::{BucketName, ObjectKey};
use crate::storage::ObjectRecord;

/// The object named by `x-oss-copy-source`, after the requester's read access was checked.
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    pub record: ObjectRecord,
}

/// Parse `x-oss-copy-source: /<bucket>/<url-encoded key>[?versionId=..]`, load the
/// object and check `oss:GetObject` on it and the `x-oss-copy-source-if-*` conditions.
pub async fn copy_source(ctx: &Ctx) -> ApiResult<Option<CopySource>> {
    let raw = header(&ctx.headers, "x-oss-copy-source").unwrap_or_default();
    let invalid = |why: &str| {
        OssError::invalid_argument(
            format!("x-oss-copy-source {why}: use /<bucket>/<url-encoded key>."),
            "x-oss-copy-source",
            raw,
        )
    };
    let path = raw.split('?').next().unwrap_or_default();
    let (bucket, key) = path
        .strip_prefix('/')
        .unwrap_or(path)
        .split_once('/')
        .ok_or_else(|| invalid("has no key"))?;
    // Go v1 encodes spaces as '+' (url.QueryEscape) and every SDK encodes '+' as %2B.
    let key = percent_decode_str(&key.replace('+', " "))
        .decode_utf8()
        .map_err(|_| invalid("is not valid UTF-8"))?
        .into_owned();
    let bucket =
        BucketName::parse(bucket).map_err(|e| OssError::invalid_bucket_name(bucket, e.0))?;
    let key = ObjectKey::parse(&key).map_err(|e| OssError::invalid_object_name(e.0))?;
    let name = bucket.as_str().to_owned();
    let record = ctx
        .meta(move |m| m.get_bucket(&name))
        .await?
        .ok_or_else(|| OssError::no_such_bucket(bucket.as_str()))?;
    let (b, k) = (bucket.as_str().to_owned(), key.as_str().to_owned());
    let object = ctx.meta(move |m| m.get_object(&b, &k)).await?;
    ctx.authorize(
        Action::GetObject,
        Some(&record),
        Some(key.as_str()),
        object.as_ref(),
    )?;
    let object = object.ok_or_else(|| OssError::no_such_key(key.as_str()))?;
    match headers::check_preconditions(
        &ctx.headers,
        "x-oss-copy-source-",
        &object.etag,
        object.last_modified,
    )? {
        Precondition::NotModified => Ok(None),
        Precondition::Proceed => Ok(Some(CopySource {
            bucket: bucket.as_str().to_owned(),
            key: key.as_str().to_owned(),
            record: object,
        })),
    }
}

fn directive(ctx: &Ctx, name: &str) -> ApiResult<bool> {
    match header(&ctx.headers, name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("copy") => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("replace") => Ok(true),
        Some(v) => Err(OssError::invalid_argument(
            format!("{name} must be COPY or REPLACE."),
            name,
            v,
        )),
    }
}

pub fn not_modified() -> Response {
    let mut response = Response::new(axum::body::Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    response
}

pub async fn copy_object(ctx: &Ctx) -> ApiResult<Response> {
    let replace_meta = directive(ctx, "x-oss-metadata-directive")?;
    let replace_tags = directive(ctx, "x-oss-tagging-directive")?;
    let forbid = forbid_overwrite(&ctx.headers)?;
    let requested = record_from_headers(&ctx.headers, ctx.bucket()?, "Normal")?;
    let Some(source) = copy_source(ctx).await? else {
        return Ok(not_modified());
    };
    let mut record = if replace_meta {
        requested.clone()
    } else {
        source.record.clone()
    };
    if replace_meta {
        record.segments = source.record.segments.clone();
        record.size = source.record.size;
        record.etag = source.record.etag.clone();
        record.crc64 = source.record.crc64;
        record.content_md5 = source.record.content_md5.clone();
        record.symlink_target = source.record.symlink_target.clone();
        record.object_type = source.record.object_type.clone();
    }
    record.tags = if replace_tags {
        tagging_header(&ctx.headers)?
    } else {
        source.record.tags.clone()
    };
    if header(&ctx.headers, "x-oss-object-acl").is_some() || replace_meta {
        record.acl = requested.acl;
    }
    if header(&ctx.headers, "x-oss-storage-class").is_some() {
        record.storage_class = requested.storage_class.clone();
    }
    record.last_modified = now_ms();
    let same_object = source.bucket == ctx.bucket_str() && source.key == ctx.key_str();
    let mut new_blobs = vec![];
    // Copying onto itself only changes metadata (oss2's update_object_meta); a symlink
    // copies the link; anything else copies the bytes into a new blob.
    if !same_object && record.symlink_target.is_none() {
        let stream = open_range(ctx, &source.record, 0, source.record.size)
            .await
            .map_err(OssError::internal)?;
        let stored = store_stream(ctx, stream, u64::MAX, None).await?;
        // Same bytes, so size and CRC-64 equal the source's; the ETag becomes their MD5.
        stored.fill(&mut record);
        record.object_type = "Normal".into();
        new_blobs.push(stored.blob);
    }
    let record = commit_record(
        ctx,
        ctx.bucket_str(),
        ctx.key_str(),
        &new_blobs,
        record,
        forbid,
    )
    .await?;
    let mut w = XmlWriter::new("CopyObjectResult");
    w.elem("ETag", format!("\"{}\"", record.etag));
    w.elem("LastModified", iso8601(record.last_modified));
    let mut response = xml_response(w.finish());
    set_digests(response.headers_mut(), &record.etag, record.crc64);
    Ok(response)
}
