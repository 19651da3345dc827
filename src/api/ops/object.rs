//! Object operations: PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject,
//! Put/GetObjectACL, AppendObject, Put/GetSymlink, object tagging.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::{StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use md5::{Digest, Md5};
use percent_encoding::{percent_decode_str, utf8_percent_encode};

use super::{MAX_SMALL_BODY, read_small_body};
use crate::access::ObjectAcl;
use crate::api::crc64::{self, Crc64};
use crate::api::error::{ApiResult, OssError, Refusal};
use crate::api::headers::{self, Precondition, header, http_date, now_ms};
use crate::api::ops::service::write_owner;
use crate::api::xml::{self, XmlWriter};
use crate::api::{Ctx, URL_ENCODE, empty, xml_response};
use crate::storage::{
    BlobId, BlobReader, BlobStore, BucketRecord, ContentHeaders, ObjectRecord, PartRecord, Segment,
};

const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
/// A body that sends nothing for this long is abandoned (OSS `RequestTimeout`).
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// OSS tag limits.
const MAX_TAGS: usize = 10;
const MAX_TAG_KEY: usize = 128;
const MAX_TAG_VALUE: usize = 256;

/// A body written to the blob store, with its digests.
pub struct StoredBody {
    pub blob: BlobId,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
}

impl StoredBody {
    pub fn segment(&self) -> Segment {
        Segment {
            blob: self.blob.clone(),
            size: self.size,
        }
    }

    /// Make `record` describe these bytes: one segment, size, ETag, CRC-64, Content-MD5.
    pub fn fill(&self, record: &mut ObjectRecord) {
        record.segments = vec![self.segment()];
        record.size = self.size;
        record.etag = hex::encode_upper(self.md5);
        record.crc64 = self.crc64;
        record.content_md5 = Some(STANDARD.encode(self.md5));
    }

    /// The record of these bytes as an upload part.
    pub fn part(&self) -> PartRecord {
        PartRecord {
            blob: self.blob.clone(),
            size: self.size,
            etag: hex::encode_upper(self.md5),
            crc64: self.crc64,
            last_modified: now_ms(),
        }
    }
}

/// Stream bytes into a new blob, computing MD5 and CRC-64 on the way. Memory stays
/// bounded whatever the size; `limit` is the largest size accepted and
/// `expected_md5` (Content-MD5) is checked before the blob becomes durable.
pub async fn store_stream<S, E>(
    ctx: &Ctx,
    mut stream: S,
    limit: u64,
    expected_md5: Option<[u8; 16]>,
) -> ApiResult<StoredBody>
where
    S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut writer = ctx.app.blobs.create().await.map_err(OssError::internal)?;
    let mut md5 = Md5::new();
    let mut crc = Crc64::default();
    let mut size = 0u64;
    loop {
        let next = tokio::time::timeout(BODY_IDLE_TIMEOUT, stream.next()).await.map_err(|_| {
            OssError::new(
                StatusCode::BAD_REQUEST,
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            )
        })?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|e| {
            OssError::new(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                format!("The request body ended early or could not be read: {e}"),
            )
        })?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(entity_too_large(limit));
        }
        md5.update(&chunk);
        crc.update(&chunk);
        writer.write(&chunk).await.map_err(OssError::internal)?;
    }
    let md5: [u8; 16] = md5.finalize().into();
    if let Some(expected) = expected_md5
        && expected != md5
    {
        return Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "InvalidDigest",
            "The Content-MD5 you specified does not match the MD5 of the body received.",
        )
        .with("CalculatedDigest", STANDARD.encode(md5))
        .ec("0017-00000503"));
    }
    let blob = writer.finish().await.map_err(OssError::internal)?;
    Ok(StoredBody {
        blob,
        size,
        md5,
        crc64: crc.finish(),
    })
}

/// Store a request body (see [`store_stream`]), checking Content-Length and Content-MD5.
pub async fn store_body(ctx: &Ctx, body: Body) -> ApiResult<StoredBody> {
    let limit = ctx.app.max_object_size;
    declared_length(&ctx.headers, limit)?;
    let expected = content_md5(&ctx.headers)?;
    store_stream(ctx, body.into_data_stream(), limit, expected).await
}

fn entity_too_large(limit: u64) -> OssError {
    OssError::new(
        StatusCode::BAD_REQUEST,
        "EntityTooLarge",
        format!("Your proposed upload exceeds the maximum allowed size of {limit} bytes."),
    )
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

pub fn forbid_overwrite(h: &HeaderMap) -> ApiResult<bool> {
    match header(h, "x-oss-forbid-overwrite") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(OssError::invalid_argument(
            "x-oss-forbid-overwrite must be true or false.",
            "x-oss-forbid-overwrite",
            v,
        )),
    }
}

fn object_acl(h: &HeaderMap) -> ApiResult<ObjectAcl> {
    match header(h, "x-oss-object-acl") {
        None => Ok(ObjectAcl::Default),
        Some(v) => ObjectAcl::parse(v).ok_or_else(|| {
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

/// Validate a tag set against the OSS limits.
pub fn check_tags(tags: &[(String, String)]) -> ApiResult<()> {
    let bad = |message: String| OssError::new(StatusCode::BAD_REQUEST, "InvalidTag", message);
    if tags.len() > MAX_TAGS {
        return Err(bad(format!(
            "An object can have at most {MAX_TAGS} tags; {} were given.",
            tags.len()
        )));
    }
    for (i, (k, v)) in tags.iter().enumerate() {
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY {
            return Err(bad(format!(
                "Tag keys must be 1 to {MAX_TAG_KEY} characters long: {k:?}."
            )));
        }
        if v.chars().count() > MAX_TAG_VALUE {
            return Err(bad(format!(
                "Tag values must be at most {MAX_TAG_VALUE} characters long (tag {k:?})."
            )));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(bad(format!("The tag key {k:?} appears more than once.")));
        }
    }
    Ok(())
}

/// `x-oss-tagging: k1=v1&k2=v2` (URL-encoded).
pub fn tagging_header(h: &HeaderMap) -> ApiResult<Vec<(String, String)>> {
    let Some(value) = header(h, "x-oss-tagging") else {
        return Ok(vec![]);
    };
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                OssError::invalid_argument(
                    "x-oss-tagging is not valid URL-encoded UTF-8.",
                    "x-oss-tagging",
                    value,
                )
            })
    };
    let tags = value
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    check_tags(&tags)?;
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
                return Err(entity_too_large(limit));
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
    Ok(ObjectRecord {
        segments: vec![],
        size: 0,
        etag: String::new(),
        crc64: 0,
        content_md5: None,
        last_modified: now_ms(),
        object_type: object_type.into(),
        storage_class: storage_class(h, &bucket.storage_class)?,
        acl: object_acl(h)?,
        headers: content_headers(h),
        user_meta: headers::user_meta(h)?,
        tags: tagging_header(h)?,
        symlink_target: None,
    })
}

pub async fn put_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let forbid = forbid_overwrite(&ctx.headers)?;
    let mut record = record_from_headers(&ctx.headers, ctx.bucket()?, "Normal")?;
    let stored = store_body(ctx, body).await?;
    stored.fill(&mut record);
    commit_record(
        ctx,
        ctx.bucket_str(),
        ctx.key_str(),
        &[stored.blob],
        record,
        forbid,
    )
    .await
    .map(|r| written_response(&r))
}

pub fn file_already_exists() -> OssError {
    OssError::new(
        StatusCode::CONFLICT,
        "FileAlreadyExists",
        "The object you specified already exists and can not be overwritten (x-oss-forbid-overwrite is true).",
    )
    .ec("0026-00000002")
}

/// 200 with the ETag, CRC-64 and Content-MD5 of a written object.
fn written_response(record: &ObjectRecord) -> Response {
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set_digests(out, &record.etag, record.crc64);
    if let Some(md5) = &record.content_md5 {
        set(out, "content-md5", md5);
    }
    response
}

/// Store the record `build` makes from the current one, in one transaction.
/// `new_blobs` are blobs written for this request: removed if the commit fails.
/// Blobs of the replaced record that the new one no longer uses are removed.
pub async fn commit(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    refusal: &Arc<Refusal>,
    new_blobs: &[BlobId],
    build: impl Fn(
        Option<&ObjectRecord>,
        &Refusal,
    ) -> Result<ObjectRecord, crate::storage::StorageError>
    + Send
    + 'static,
) -> ApiResult<ObjectRecord> {
    let target_bucket = bucket.to_owned();
    let (bucket, key) = (bucket.to_owned(), key.to_owned());
    let slot = refusal.clone();
    let result = ctx
        .meta(move |m| {
            let mut made = None;
            let replaced = m.put_object_with(&bucket, &key, &mut |current| {
                let record = build(current, &slot)?;
                made = Some(record.clone());
                Ok(record)
            })?;
            Ok((replaced, made.expect("built on success")))
        })
        .await;
    match result {
        Ok((replaced, record)) => {
            if let Some(old) = replaced {
                remove_unused(ctx, old.blobs(), &record).await;
            }
            Ok(record)
        }
        Err(e) => {
            for blob in new_blobs {
                remove_blob(ctx, blob).await;
            }
            let e = refusal.explain(e);
            Err(if e.code == "NoSuchBucket" {
                OssError::no_such_bucket(&target_bucket)
            } else {
                e
            })
        }
    }
}

/// Store `record` as a new version of `key` (refused with FileAlreadyExists when
/// `forbid_overwrite` and the key exists); see [`commit`].
pub async fn commit_record(
    ctx: &Ctx,
    bucket: &str,
    key: &str,
    new_blobs: &[BlobId],
    record: ObjectRecord,
    forbid_overwrite: bool,
) -> ApiResult<ObjectRecord> {
    let refusal = Arc::new(Refusal::default());
    commit(
        ctx,
        bucket,
        key,
        &refusal,
        new_blobs,
        move |current, refusal| {
            if forbid_overwrite && current.is_some() {
                return Err(refusal.refuse(file_already_exists()));
            }
            Ok(record.clone())
        },
    )
    .await
}

/// Remove `blobs` that `kept` does not reference.
pub async fn remove_unused<'a>(
    ctx: &Ctx,
    blobs: impl Iterator<Item = &'a BlobId>,
    kept: &ObjectRecord,
) {
    for blob in blobs {
        if !kept.blobs().any(|b| b == blob) {
            remove_blob(ctx, blob).await;
        }
    }
}

pub async fn remove_blob(ctx: &Ctx, blob: &BlobId) {
    if let Err(e) = ctx.app.blobs.delete(blob).await {
        // The start-up sweep removes it later.
        tracing::warn!(blob = %blob.0, "cannot delete unreferenced blob: {e}");
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
            HeaderValue::from_str(value),
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

/// The blob pieces `(blob, offset, len)` holding `len` bytes of `o` from `offset`.
fn pieces(o: &ObjectRecord, offset: u64, len: u64) -> Vec<(BlobId, u64, u64)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for s in &o.segments {
        let end = start + s.size;
        if end > offset && start < offset + len {
            let from = offset.max(start) - start;
            let to = (offset + len).min(end) - start;
            pieces.push((s.blob.clone(), from, to - from));
        }
        start = end;
    }
    pieces
}

/// Read `len` bytes from `offset` of an object, across its segments. The first
/// segment is opened before returning, so a blob replaced meanwhile is noticed
/// (NotFound) while the response can still change.
pub async fn open_range(
    ctx: &Ctx,
    o: &ObjectRecord,
    offset: u64,
    len: u64,
) -> std::io::Result<futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>> {
    let blobs = ctx.app.blobs.clone();
    let mut pieces = pieces(o, offset, len).into_iter();
    let first: Option<BlobReader> = match pieces.next() {
        Some((blob, from, n)) => Some(blobs.open(&blob, from, n).await?),
        None => None,
    };
    let rest = futures_util::stream::iter(pieces).then(move |(blob, from, n)| {
        let blobs = blobs.clone();
        async move { blobs.open(&blob, from, n).await }
    });
    let readers = futures_util::stream::iter(first.map(Ok)).chain(rest);
    Ok(readers
        .map_ok(|r| tokio_util::io::ReaderStream::with_capacity(r, 256 * 1024))
        .try_flatten()
        .boxed())
}

/// `len` bytes of `o` from `offset`, read on the calling thread into one buffer.
pub fn read_range_blocking(
    blobs: &dyn BlobStore,
    o: &ObjectRecord,
    offset: u64,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len as usize);
    for (blob, from, n) in pieces(o, offset, len) {
        blobs.read_blocking(&blob, from, n, &mut out)?;
    }
    Ok(out)
}

/// Follow a symlink record to its target (same bucket).
pub async fn resolve_symlink(ctx: &Ctx, link: ObjectRecord) -> ApiResult<ObjectRecord> {
    let Some(target) = link.symlink_target else {
        return Ok(link);
    };
    let bucket = ctx.bucket_str().to_owned();
    let t = target.clone();
    ctx.meta(move |m| m.get_object(&bucket, &t))
        .await?
        .filter(|r| r.symlink_target.is_none())
        .ok_or_else(|| {
            OssError::new(
                StatusCode::NOT_FOUND,
                "SymlinkTargetNotExist",
                "The symlink target object does not exist.",
            )
            .with("SymlinkTarget", target)
        })
}

pub async fn get_object(ctx: &Ctx, head: bool) -> ApiResult<Response> {
    let link = ctx.object()?.clone();
    let mut record = resolve_symlink(ctx, link.clone()).await?;
    // A concurrent overwrite may delete a blob between reading the record and
    // opening it; the newer record then names blobs that exist.
    for _ in 0..3 {
        if let Some(response) = respond_with(ctx, &record, head).await? {
            return Ok(response);
        }
        let (bucket, key) = (
            ctx.bucket_str().to_owned(),
            link.symlink_target
                .clone()
                .unwrap_or_else(|| ctx.key_str().to_owned()),
        );
        record = ctx
            .meta(move |m| m.get_object(&bucket, &key))
            .await?
            .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    }
    Err(OssError::internal(format!(
        "the data of {}/{} keeps disappearing",
        ctx.bucket_str(),
        ctx.key_str()
    )))
}

/// Bodies up to this size are read into memory in one go rather than streamed.
const SMALL_BODY: u64 = 256 * 1024;

/// The response for one record, or None when its blobs have just been replaced.
async fn respond_with(ctx: &Ctx, o: &ObjectRecord, head: bool) -> ApiResult<Option<Response>> {
    if headers::check_preconditions(&ctx.headers, "", &o.etag, o.last_modified)?
        == Precondition::NotModified
    {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        set(response.headers_mut(), "etag", &format!("\"{}\"", o.etag));
        set(
            response.headers_mut(),
            "last-modified",
            &http_date(o.last_modified),
        );
        return Ok(Some(response));
    }
    let range = headers::range(&ctx.headers, o.size)?;
    let (offset, len) = match range {
        Some(r) => (r.start, r.end - r.start + 1),
        None => (0, o.size),
    };
    let body = if head {
        Body::empty()
    } else {
        let body = if len <= SMALL_BODY {
            // One trip to the blocking pool instead of one per open/read.
            let (blobs, o) = (ctx.app.blobs.clone(), o.clone());
            tokio::task::spawn_blocking(move || {
                read_range_blocking(blobs.as_ref(), &o, offset, len)
            })
            .await
            .map_err(OssError::internal)?
            .map(Body::from)
        } else {
            open_range(ctx, o, offset, len).await.map(Body::from_stream)
        };
        match body {
            Ok(body) => body,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(OssError::internal(e)),
        }
    };
    let mut response = Response::new(body);
    let out = response.headers_mut();
    object_headers(out, o);
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
    Ok(Some(response))
}

pub fn get_object_meta(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let mut response = Response::new(Body::empty());
    let out = response.headers_mut();
    set(out, "etag", &format!("\"{}\"", o.etag));
    set(out, "last-modified", &http_date(o.last_modified));
    set(out, "content-length", &o.size.to_string());
    set(out, "x-oss-hash-crc64ecma", &o.crc64.to_string());
    Ok(response)
}

pub async fn delete_object(ctx: &Ctx) -> ApiResult<Response> {
    delete_key(ctx, ctx.key_str()).await?;
    // Deleting a missing key still succeeds with 204, as in OSS.
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Delete one key of the request's bucket and its blobs.
pub async fn delete_key(ctx: &Ctx, key: &str) -> ApiResult<()> {
    let (bucket, key) = (ctx.bucket_str().to_owned(), key.to_owned());
    if let Some(old) = ctx.meta(move |m| m.delete_object(&bucket, &key)).await? {
        for blob in old.blobs() {
            remove_blob(ctx, blob).await;
        }
    }
    Ok(())
}

/// Change an existing object's record without touching its bytes.
async fn update_record(
    ctx: &Ctx,
    change: impl Fn(&mut ObjectRecord) + Send + 'static,
) -> ApiResult<ObjectRecord> {
    let key = ctx.key_str().to_owned();
    let refusal = Arc::new(Refusal::default());
    commit(
        ctx,
        ctx.bucket_str(),
        ctx.key_str(),
        &refusal,
        &[],
        move |current, refusal| {
            let mut record = current
                .cloned()
                .ok_or_else(|| refusal.refuse(OssError::no_such_key(&key)))?;
            change(&mut record);
            Ok(record)
        },
    )
    .await
}

pub async fn put_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    if header(&ctx.headers, "x-oss-object-acl").is_none() {
        return Err(OssError::missing_argument(
            "x-oss-object-acl",
            "PutObjectACL needs the x-oss-object-acl header.",
        ));
    }
    let acl = object_acl(&ctx.headers)?;
    update_record(ctx, move |r| r.acl = acl).await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let mut w = XmlWriter::new("AccessControlPolicy");
    write_owner(&mut w, &ctx.bucket()?.owner);
    w.open("AccessControlList");
    w.elem("Grant", o.acl.as_str());
    w.close("AccessControlList");
    Ok(xml_response(w.finish()))
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
    check_tags(&tags)?;
    update_record(ctx, move |r| r.tags = tags.clone()).await?;
    Ok(empty(StatusCode::OK))
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
    Ok(xml_response(w.finish()))
}

pub async fn delete_object_tagging(ctx: &Ctx) -> ApiResult<Response> {
    update_record(ctx, |r| r.tags.clear()).await?;
    Ok(empty(StatusCode::NO_CONTENT))
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
    let forbid = forbid_overwrite(&ctx.headers)?;
    let mut record = record_from_headers(&ctx.headers, ctx.bucket()?, "Symlink")?;
    record.etag = hex::encode_upper(Md5::digest(target.as_str().as_bytes()));
    record.symlink_target = Some(target.as_str().to_owned());
    let record = commit_record(ctx, ctx.bucket_str(), ctx.key_str(), &[], record, forbid).await?;
    let mut response = empty(StatusCode::OK);
    set(
        response.headers_mut(),
        "etag",
        &format!("\"{}\"", record.etag),
    );
    Ok(response)
}

pub fn get_symlink(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx.object()?;
    let target = o.symlink_target.as_deref().ok_or_else(|| {
        OssError::new(
            StatusCode::BAD_REQUEST,
            "NotSymlink",
            "The specified object is not a symlink.",
        )
        .with("Key", ctx.key_str())
    })?;
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
    let mismatch = |current: u64| {
        OssError::new(
            StatusCode::CONFLICT,
            "PositionNotEqualToLength",
            "Position is not equal to file length.",
        )
        .ec("0026-00000016")
        .with_header("x-oss-next-append-position", current.to_string())
    };
    let not_appendable = || {
        OssError::new(
            StatusCode::CONFLICT,
            "ObjectNotAppendable",
            "The object is not appendable.",
        )
    };
    // Refuse before reading the body when the answer is already known.
    let (bucket, key) = (ctx.bucket_str().to_owned(), ctx.key_str().to_owned());
    match ctx.meta(move |m| m.get_object(&bucket, &key)).await? {
        Some(o) if o.object_type != "Appendable" => return Err(not_appendable()),
        Some(o) if o.size != position => return Err(mismatch(o.size)),
        None if position != 0 => return Err(mismatch(0)),
        _ => {}
    }
    let template = record_from_headers(&ctx.headers, ctx.bucket()?, "Appendable")?;
    let stored = store_body(ctx, body).await?;
    let segment = stored.segment();
    let (size, crc) = (stored.size, stored.crc64);
    let limit = ctx.app.max_object_size;
    let refusal = Arc::new(Refusal::default());
    let record = commit(
        ctx,
        ctx.bucket_str(),
        ctx.key_str(),
        &refusal,
        &[stored.blob],
        move |current, refusal| {
            let mut record = match current {
                None if position == 0 => template.clone(),
                None => return Err(refusal.refuse(mismatch(0))),
                Some(o) if o.object_type != "Appendable" => {
                    return Err(refusal.refuse(not_appendable()));
                }
                Some(o) if o.size != position => return Err(refusal.refuse(mismatch(o.size))),
                Some(o) => o.clone(),
            };
            if record.size + size > limit {
                return Err(refusal.refuse(entity_too_large(limit)));
            }
            record.crc64 = crc64::combine(record.crc64, crc, size);
            record.size += size;
            record.segments.push(segment.clone());
            record.last_modified = now_ms();
            // OSS does not document the appendable ETag; it changes with every append.
            record.etag = format!("{:016X}{:016X}", record.crc64, record.size);
            Ok(record)
        },
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
