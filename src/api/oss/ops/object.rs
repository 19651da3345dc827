//! Object operations: PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject,
//! Put/GetObjectACL, AppendObject, Put/GetSymlink, object tagging.

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use md5::{Digest, Md5};
use percent_encoding::{percent_decode_str, utf8_percent_encode};

use super::encryption::{request_encryption, set_encryption_headers};
use super::{MAX_SMALL_BODY, read_small_body};
use crate::access::ObjectAcl;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{self, header, http_date};
use crate::api::oss::ops::service::write_owner;
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, URL_ENCODE, empty, xml_response};
use crate::core::bucket_tags::TagLimits;
use crate::core::conditions::{Conditions, RangeRequest, WriteCondition};
use crate::core::object::{
    self, ByteStream, GetObject, GetOutcome, ObjectBody, check_tags, new_record,
};
use crate::core::{CoreError, now_ms, restore};
use crate::storage::{BucketRecord, ContentHeaders, ObjectRecord};

const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];

/// A request body as the core reads it, after the Content-Length check, with its
/// declared Content-MD5.
pub fn request_body(ctx: &Ctx, body: Body) -> ApiResult<(ByteStream<'static>, Option<[u8; 16]>)> {
    declared_length(&ctx.headers, ctx.store().max_object_size)?;
    let expected = content_md5(&ctx.headers)?;
    Ok((body_stream(body), expected))
}

/// The bytes of a body; a read failure is reported as the core's IncompleteBody.
pub fn body_stream(body: Body) -> ByteStream<'static> {
    body.into_data_stream().map_err(|e| e.to_string()).boxed()
}

fn content_md5(h: &HeaderMap) -> ApiResult<Option<[u8; 16]>> {
    let Some(value) = header(h, "content-md5") else {
        return Ok(None);
    };
    STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|d| <[u8; 16]>::try_from(d).ok())
        .map(Some)
        .ok_or_else(|| {
            OssError::new(
                StatusCode::BAD_REQUEST,
                "InvalidDigest",
                "The Content-MD5 you specified is not the Base64 of a 16-byte MD5 digest.",
            )
            .with("ContentMD5", value)
            .ec("0017-00000502")
        })
}

/// Check a small body against its Content-MD5 header; `required` for DeleteMultipleObjects.
pub fn check_content_md5(h: &HeaderMap, body: &[u8], required: bool) -> ApiResult<()> {
    match content_md5(h)? {
        Some(expected) if expected != <[u8; 16]>::from(Md5::digest(body)) => Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The Content-MD5 you specified does not match the MD5 of the body received.",
        )),
        None if required => Err(OssError::missing_argument(
            "Content-MD5",
            "This operation needs the Content-MD5 header (Base64 MD5 of the body).",
        )),
        _ => Ok(()),
    }
}

/// `x-oss-forbid-overwrite`, which OSS ignores in a bucket that has had versioning
/// (a write there never replaces a version).
pub fn forbid_overwrite(h: &HeaderMap, bucket: &BucketRecord) -> ApiResult<WriteCondition> {
    match header(h, "x-oss-forbid-overwrite") {
        None => Ok(WriteCondition::Any),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(bucket.config.versioning.is_none().into()),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(WriteCondition::Any),
        Some(v) => Err(OssError::invalid_argument(
            "x-oss-forbid-overwrite must be true or false.",
            "x-oss-forbid-overwrite",
            v,
        )),
    }
}

fn object_acl(h: &HeaderMap) -> ApiResult<ObjectAcl> {
    Ok(requested_object_acl(h)?.unwrap_or(ObjectAcl::Default))
}

/// The `x-oss-object-acl` a request sets, if any.
pub(super) fn requested_object_acl(h: &HeaderMap) -> ApiResult<Option<ObjectAcl>> {
    match header(h, "x-oss-object-acl") {
        None => Ok(None),
        Some(v) => ObjectAcl::parse(v).map(Some).ok_or_else(|| {
            OssError::invalid_argument(
                "x-oss-object-acl must be default, private, public-read or public-read-write.",
                "x-oss-object-acl",
                v,
            )
        }),
    }
}

fn storage_class(h: &HeaderMap, bucket_default: &str) -> ApiResult<String> {
    match header(h, "x-oss-storage-class") {
        None => Ok(bucket_default.to_owned()),
        Some(v) if STORAGE_CLASSES.contains(&v) => Ok(v.to_owned()),
        Some(v) => Err(OssError::invalid_argument(
            format!(
                "x-oss-storage-class must be one of {}.",
                STORAGE_CLASSES.join(", ")
            ),
            "x-oss-storage-class",
            v,
        )),
    }
}

fn content_headers(h: &HeaderMap) -> ContentHeaders {
    let get = |name| header(h, name).map(str::to_owned);
    ContentHeaders {
        content_type: get("content-type"),
        cache_control: get("cache-control"),
        content_disposition: get("content-disposition"),
        content_encoding: get("content-encoding"),
        content_language: get("content-language"),
        expires: get("expires"),
    }
}

/// `x-oss-tagging: k1=v1&k2=v2` (URL-encoded).
pub fn tagging_header(h: &HeaderMap) -> ApiResult<Vec<(String, String)>> {
    let Some(value) = header(h, "x-oss-tagging") else {
        return Ok(vec![]);
    };
    let tags = crate::core::object::parse_tagging(value).ok_or_else(|| {
        OssError::invalid_argument(
            "x-oss-tagging is not valid URL-encoded UTF-8.",
            "x-oss-tagging",
            value,
        )
    })?;
    check_tags(&tags, TagLimits::OSS_OBJECT)?;
    Ok(tags)
}

/// The declared body length: Content-Length, or none for chunked bodies.
fn declared_length(h: &HeaderMap, limit: u64) -> ApiResult<Option<u64>> {
    match header(h, "content-length") {
        Some(v) => {
            let n = v.parse::<u64>().map_err(|_| {
                OssError::invalid_argument("Content-Length is not a number.", "Content-Length", v)
            })?;
            if n > limit {
                return Err(CoreError::EntityTooLarge { limit }.into());
            }
            Ok(Some(n))
        }
        None if header(h, "transfer-encoding")
            .is_some_and(|t| t.to_ascii_lowercase().contains("chunked")) =>
        {
            Ok(None)
        }
        None => Err(OssError::new(
            StatusCode::LENGTH_REQUIRED,
            "MissingContentLength",
            "You must provide the Content-Length HTTP header (or send the body chunked).",
        )),
    }
}

/// The record a PutObject-style request describes (headers, ACL, metadata, tags),
/// without its bytes.
pub fn record_from_headers(
    h: &HeaderMap,
    bucket: &BucketRecord,
    object_type: &str,
) -> ApiResult<ObjectRecord> {
    // Checked in this order: storage class, ACL, metadata, tags, encryption.
    let base = new_record(object_type, &storage_class(h, &bucket.storage_class)?);
    Ok(ObjectRecord {
        acl: object_acl(h)?,
        headers: content_headers(h),
        user_meta: headers::user_meta(h)?,
        tags: tagging_header(h)?,
        sse: request_encryption(h)?,
        ..base
    })
}

pub async fn put_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let forbid = forbid_overwrite(&ctx.headers, ctx.bucket()?)?;
    let template = record_from_headers(&ctx.headers, ctx.bucket()?, "Normal")?;
    let callback = super::callback::prepare(ctx).await?;
    let (body, expected_md5) = request_body(ctx, body)?;
    let record = object::put_object(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        template,
        body,
        expected_md5,
        forbid,
    )
    .await?;
    let written = written_response(&record);
    Ok(super::callback::respond(ctx, callback, ctx.key_str(), &record, "PutObject", written).await)
}

/// 200 with the ETag, CRC-64, Content-MD5 and version id of a written object.
fn written_response(record: &ObjectRecord) -> Response {
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set_digests(out, &record.etag, record.crc64);
    if let Some(md5) = &record.content_md5 {
        set(out, "content-md5", md5);
    }
    set_version_id(out, record);
    set_encryption_headers(out, record.sse.as_ref());
    response
}

/// `x-oss-version-id` of a record of a bucket that has had versioning.
pub fn set_version_id(headers: &mut HeaderMap, record: &ObjectRecord) {
    if let Some(id) = &record.version_id {
        set(headers, "x-oss-version-id", id);
    }
}

/// `ETag` (quoted) and `x-oss-hash-crc64ecma` of a written object or part.
pub fn set_digests(headers: &mut HeaderMap, etag: &str, crc64: u64) {
    set(headers, "etag", &format!("\"{etag}\""));
    set(headers, "x-oss-hash-crc64ecma", &crc64.to_string());
}

pub fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Headers every GET/HEAD of an object carries.
fn object_headers(out: &mut HeaderMap, o: &ObjectRecord) {
    set(out, "etag", &format!("\"{}\"", o.etag));
    set(out, "last-modified", &http_date(o.last_modified));
    set(out, "x-oss-object-type", &o.object_type);
    set(out, "x-oss-storage-class", &o.storage_class);
    set(out, "x-oss-hash-crc64ecma", &o.crc64.to_string());
    set(out, "accept-ranges", "bytes");
    if o.object_type == "Appendable" {
        set(out, "x-oss-next-append-position", &o.size.to_string());
    }
    if !o.tags.is_empty() {
        set(out, "x-oss-tagging-count", &o.tags.len().to_string());
    }
    if let Some(md5) = &o.content_md5 {
        set(out, "content-md5", md5);
    }
    set_version_id(out, o);
    set_encryption_headers(out, o.sse.as_ref());
    if let Some(info) = restore::restore_info(o, now_ms()) {
        set(out, "x-oss-restore", &info);
    }
    let c = &o.headers;
    set(
        out,
        "content-type",
        c.content_type
            .as_deref()
            .unwrap_or("application/octet-stream"),
    );
    for (name, value) in [
        ("cache-control", &c.cache_control),
        ("content-disposition", &c.content_disposition),
        ("content-encoding", &c.content_encoding),
        ("content-language", &c.content_language),
        ("expires", &c.expires),
    ] {
        if let Some(v) = value {
            set(out, name, v);
        }
    }
    for (name, value) in &o.user_meta {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(format!("x-oss-meta-{name}").as_bytes()),
            // UTF-8 bytes go back exactly as they came.
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.insert(n, v);
        }
    }
}

/// `response-*` query parameters replace the matching response headers.
fn apply_overrides(ctx: &Ctx, out: &mut HeaderMap) -> ApiResult<()> {
    for (param, name) in [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ] {
        if let Some(v) = ctx.query.get(param) {
            let value = HeaderValue::from_str(v).map_err(|_| {
                OssError::invalid_argument(
                    format!("{param} is not a valid header value."),
                    param,
                    v,
                )
            })?;
            out.insert(name, value);
        }
    }
    Ok(())
}

/// If-Match and friends; `prefix` is "" for GET/HEAD and "x-oss-copy-source-" for copies.
/// An empty ETag condition is no condition (ali-oss's multipartUploadCopy may send
/// `x-oss-copy-source-if-match:` with no value, which OSS ignores).
pub fn conditions(h: &HeaderMap, prefix: &'static str) -> Conditions {
    let get = |name: &str| {
        header(h, &format!("{prefix}{name}"))
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    };
    let date = |name: &str| {
        header(h, &format!("{prefix}{name}"))
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .map(|t| {
                t.duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0)
            })
    };
    Conditions {
        if_match: get("if-match"),
        if_none_match: get("if-none-match"),
        if_modified_since: date("if-modified-since"),
        if_unmodified_since: date("if-unmodified-since"),
    }
}

/// `Range`; OSS ignores a bad range unless `x-oss-range-behavior: standard`.
pub fn range_request(h: &HeaderMap) -> Option<RangeRequest> {
    header(h, "range").map(|spec| RangeRequest {
        spec: spec.to_owned(),
        strict: header(h, "x-oss-range-behavior")
            .is_some_and(|v| v.eq_ignore_ascii_case("standard")),
    })
}

pub async fn get_object(ctx: &Ctx, head: bool) -> ApiResult<Response> {
    send_object(ctx, ctx.key_str(), ctx.read_object().await?, head).await
}

/// GetObject/HeadObject of `record`, the object `key` (the request's, or the document
/// a static website answers with), with the request's conditions, range and overrides.
pub async fn send_object(
    ctx: &Ctx,
    key: &str,
    record: ObjectRecord,
    head: bool,
) -> ApiResult<Response> {
    let request = GetObject {
        conditions: conditions(&ctx.headers, ""),
        range: range_request(&ctx.headers),
        head,
    };
    let outcome = object::get_object(
        ctx.store(),
        &ctx.requester,
        ctx.bucket()?,
        key,
        record,
        &request,
    )
    .await?;
    let (o, range, body) = match outcome {
        GetOutcome::NotModified(o) => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            set(response.headers_mut(), "etag", &format!("\"{}\"", o.etag));
            set(
                response.headers_mut(),
                "last-modified",
                &http_date(o.last_modified),
            );
            return Ok(response);
        }
        GetOutcome::Found {
            record,
            range,
            body,
        } => (record, range, body),
    };
    let len = range.map_or(o.size, |r| r.size());
    let mut response = Response::new(match body {
        ObjectBody::Empty => Body::empty(),
        ObjectBody::Bytes(bytes) => Body::from(bytes),
        ObjectBody::Stream(stream) => Body::from_stream(stream),
    });
    let out = response.headers_mut();
    object_headers(out, &o);
    set(out, "content-length", &len.to_string());
    if let Some(r) = range {
        set(
            out,
            "content-range",
            &format!("bytes {}-{}/{}", r.start, r.end, o.size),
        );
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
    }
    apply_overrides(ctx, response.headers_mut())?;
    Ok(response)
}

pub fn get_object_meta(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let mut response = Response::new(Body::empty());
    let out = response.headers_mut();
    set(out, "etag", &format!("\"{}\"", o.etag));
    set(out, "last-modified", &http_date(o.last_modified));
    set(out, "content-length", &o.size.to_string());
    set(out, "x-oss-hash-crc64ecma", &o.crc64.to_string());
    set_version_id(out, o);
    Ok(response)
}

pub async fn delete_object(ctx: &Ctx) -> ApiResult<Response> {
    let deleted =
        object::delete_object(ctx.store(), ctx.bucket()?, ctx.key_str(), ctx.version_id()).await?;
    // Deleting a missing key (or version) still succeeds with 204, as in OSS.
    let mut response = empty(StatusCode::NO_CONTENT);
    let out = response.headers_mut();
    if let Some(id) = &deleted.version_id {
        set(out, "x-oss-version-id", id);
    }
    if deleted.delete_marker {
        set(out, "x-oss-delete-marker", "true");
    }
    Ok(response)
}

/// 200 or 204 naming the version a sub-resource change applied to, if any.
fn version_response(ctx: &Ctx, status: StatusCode) -> Response {
    let mut response = empty(status);
    if let Some(id) = ctx.version_id() {
        set(response.headers_mut(), "x-oss-version-id", id);
    }
    response
}

pub async fn put_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    if header(&ctx.headers, "x-oss-object-acl").is_none() {
        return Err(OssError::missing_argument(
            "x-oss-object-acl",
            "PutObjectACL needs the x-oss-object-acl header.",
        ));
    }
    let acl = object_acl(&ctx.headers)?;
    object::put_object_acl(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        ctx.version_id(),
        acl,
        None,
    )
    .await?;
    Ok(version_response(ctx, StatusCode::OK))
}

pub fn get_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let mut w = XmlWriter::new("AccessControlPolicy");
    write_owner(&mut w, &ctx.bucket()?.owner);
    w.open("AccessControlList");
    w.elem("Grant", o.acl.as_str());
    w.close("AccessControlList");
    let mut response = xml_response(w.finish());
    set_version_id(response.headers_mut(), o);
    Ok(response)
}

pub async fn put_object_tagging(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let doc = xml::parse(&body, "Tagging")?;
    let tag_set = doc
        .child("TagSet")
        .ok_or_else(|| OssError::malformed_xml("<Tagging> needs a <TagSet>"))?;
    let tags = tag_set
        .children_named("Tag")
        .map(|t| {
            let key = t
                .child_text("Key")
                .ok_or_else(|| OssError::malformed_xml("every <Tag> needs a <Key>"))?;
            Ok((
                key.to_owned(),
                t.child_text("Value").unwrap_or_default().to_owned(),
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    object::put_object_tagging(
        ctx.store(),
        ctx.bucket_str(),
        ctx.key_str(),
        ctx.version_id(),
        tags,
        TagLimits::OSS_OBJECT,
    )
    .await?;
    Ok(version_response(ctx, StatusCode::OK))
}

pub fn get_object_tagging(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let mut w = XmlWriter::new("Tagging");
    w.open("TagSet");
    for (k, v) in &o.tags {
        w.open("Tag");
        w.elem("Key", k);
        w.elem("Value", v);
        w.close("Tag");
    }
    w.close("TagSet");
    let mut response = xml_response(w.finish());
    set_version_id(response.headers_mut(), o);
    Ok(response)
}

pub async fn delete_object_tagging(ctx: &Ctx) -> ApiResult<Response> {
    object::delete_object_tagging(
        ctx.store(),
        ctx.bucket_str(),
        ctx.key_str(),
        ctx.version_id(),
    )
    .await?;
    Ok(version_response(ctx, StatusCode::NO_CONTENT))
}

/// PutSymlink; the target travels URL-encoded (oss2 encodes it with `safe=''`).
pub async fn put_symlink(ctx: &Ctx) -> ApiResult<Response> {
    let raw = header(&ctx.headers, "x-oss-symlink-target").ok_or_else(|| {
        OssError::missing_argument(
            "x-oss-symlink-target",
            "PutSymlink needs the x-oss-symlink-target header.",
        )
    })?;
    let target = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| OssError::invalid_object_name("the symlink target is not valid UTF-8"))?;
    let target =
        crate::names::ObjectKey::parse(&target).map_err(|e| OssError::invalid_object_name(e.0))?;
    let forbid = forbid_overwrite(&ctx.headers, ctx.bucket()?)?;
    let template = record_from_headers(&ctx.headers, ctx.bucket()?, "Symlink")?;
    let record = object::put_symlink(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        &target,
        template,
        forbid,
    )
    .await?;
    let mut response = empty(StatusCode::OK);
    set(
        response.headers_mut(),
        "etag",
        &format!("\"{}\"", record.etag),
    );
    set_version_id(response.headers_mut(), &record);
    Ok(response)
}

pub fn get_symlink(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let target = object::get_symlink(ctx.key_str(), o)?;
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    object_headers(out, o);
    set(out, "content-length", "0");
    set(
        out,
        "x-oss-symlink-target",
        &utf8_percent_encode(target, URL_ENCODE).to_string(),
    );
    Ok(response)
}

pub async fn append_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let position = ctx.query.get("position").ok_or_else(|| {
        OssError::missing_argument("position", "AppendObject needs the position parameter.")
    })?;
    let position: u64 = position.parse().map_err(|_| {
        OssError::invalid_argument(
            "position must be a non-negative integer.",
            "position",
            position,
        )
    })?;
    // The headers describe the object only on the append that creates it; OSS ignores
    // x-oss-tagging on later appends, even a tag set it would refuse.
    let template = if position == 0 {
        record_from_headers(&ctx.headers, ctx.bucket()?, "Appendable")?
    } else {
        let mut headers = ctx.headers.clone();
        headers.remove("x-oss-tagging");
        record_from_headers(&headers, ctx.bucket()?, "Appendable")?
    };
    let (body, expected_md5) = request_body(ctx, body)?;
    let record = object::append_object(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        position,
        template,
        body,
        expected_md5,
    )
    .await?;
    let mut response = written_response(&record);
    set(
        response.headers_mut(),
        "x-oss-next-append-position",
        &record.size.to_string(),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_etag_conditions_are_no_conditions() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-copy-source-if-match", "".parse().unwrap());
        h.insert("x-oss-copy-source-if-none-match", " ".parse().unwrap());
        h.insert("if-match", "\"abc\"".parse().unwrap());
        let copy = conditions(&h, "x-oss-copy-source-");
        assert_eq!((copy.if_match, copy.if_none_match), (None, None));
        // The plain headers are a GET's, not a copy's.
        assert_eq!(conditions(&h, "").if_match.as_deref(), Some("\"abc\""));
    }
}
