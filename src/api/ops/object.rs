//! Object operations: PutObject, GetObject, HeadObject, GetObjectMeta, DeleteObject.

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use md5::{Digest, Md5};

use crate::access::ObjectAcl;
use crate::api::error::{ApiResult, OssError};
use crate::api::headers::{self, Precondition, header, http_date, now_ms};
use crate::api::ops::service::write_owner;
use crate::api::xml::XmlWriter;
use crate::api::{Ctx, empty, xml_response};
use crate::storage::{BlobId, ContentHeaders, ObjectRecord};

const STORAGE_CLASSES: &[&str] = &[
    "Standard",
    "IA",
    "Archive",
    "ColdArchive",
    "DeepColdArchive",
];
static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_XZ);

/// A body written to the blob store, with its digests.
pub struct StoredBody {
    pub blob: BlobId,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
}

/// Stream a request body into a new blob, computing MD5 and CRC-64 on the way.
/// Memory stays bounded whatever the size; `limit` is the largest size accepted and
/// `expected_md5` (Content-MD5) is checked before the blob becomes durable.
pub async fn store_body(
    ctx: &Ctx,
    body: Body,
    limit: u64,
    expected_md5: Option<[u8; 16]>,
) -> ApiResult<StoredBody> {
    let mut writer = ctx.app.blobs.create().await.map_err(OssError::internal)?;
    let mut md5 = Md5::new();
    let mut crc = CRC64.digest();
    let mut size = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
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
        crc64: crc.finalize(),
    })
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

fn forbid_overwrite(h: &HeaderMap) -> ApiResult<bool> {
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

pub async fn put_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let h = &ctx.headers;
    let limit = ctx.app.max_object_size;
    declared_length(h, limit)?;
    let expected_md5 = content_md5(h)?;
    let forbid = forbid_overwrite(h)?;
    let acl = object_acl(h)?;
    let storage_class = storage_class(h, &bucket.storage_class)?;
    let user_meta = headers::user_meta(h)?;
    let stored = store_body(ctx, body, limit, expected_md5).await?;
    let record = ObjectRecord {
        blob: stored.blob.clone(),
        size: stored.size,
        etag: hex::encode_upper(stored.md5),
        crc64: stored.crc64,
        content_md5: Some(STANDARD.encode(stored.md5)),
        last_modified: now_ms(),
        object_type: "Normal".into(),
        storage_class,
        acl,
        headers: content_headers(h),
        user_meta,
    };
    commit_object(ctx, record.clone(), forbid).await?;
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set(out, "etag", &format!("\"{}\"", record.etag));
    set(out, "x-oss-hash-crc64ecma", &record.crc64.to_string());
    if let Some(md5) = &record.content_md5 {
        set(out, "content-md5", md5);
    }
    Ok(response)
}

/// Commit a record whose blob is already durable; on failure the blob is removed,
/// on success the blob it replaced is.
pub async fn commit_object(
    ctx: &Ctx,
    record: ObjectRecord,
    forbid_overwrite: bool,
) -> ApiResult<()> {
    let (bucket, key) = (ctx.bucket_str().to_owned(), ctx.key_str().to_owned());
    let blob = record.blob.clone();
    let result = ctx
        .meta(move |m| m.put_object(&bucket, &key, &record, forbid_overwrite))
        .await;
    match result {
        Ok(replaced) => {
            if let Some(old) = replaced {
                remove_blob(ctx, &old.blob).await;
            }
            Ok(())
        }
        Err(e) => {
            remove_blob(ctx, &blob).await;
            Err(if e.code == "NoSuchBucket" {
                OssError::no_such_bucket(ctx.bucket_str())
            } else {
                e
            })
        }
    }
}

async fn remove_blob(ctx: &Ctx, blob: &BlobId) {
    if let Err(e) = ctx.app.blobs.delete(blob).await {
        // The start-up sweep removes it later.
        tracing::warn!(blob = %blob.0, "cannot delete unreferenced blob: {e}");
    }
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
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

pub async fn get_object(ctx: &Ctx, head: bool) -> ApiResult<Response> {
    let mut record = ctx
        .object
        .clone()
        .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    // A concurrent overwrite may delete the blob between reading the record and
    // opening it; the newer record then names a blob that exists.
    for _ in 0..3 {
        if let Some(response) = respond_with(ctx, &record, head).await? {
            return Ok(response);
        }
        let (bucket, key) = (ctx.bucket_str().to_owned(), ctx.key_str().to_owned());
        record = ctx
            .meta(move |m| m.get_object(&bucket, &key))
            .await?
            .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    }
    Err(OssError::internal(format!(
        "the blob of {}/{} keeps disappearing",
        ctx.bucket_str(),
        ctx.key_str()
    )))
}

/// The response for one record, or None when its blob has just been replaced.
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
        match ctx.app.blobs.open(&o.blob, offset, len).await {
            Ok(reader) => Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                reader,
                256 * 1024,
            )),
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
    let o = ctx
        .object
        .as_ref()
        .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    let mut response = Response::new(Body::empty());
    let out = response.headers_mut();
    set(out, "etag", &format!("\"{}\"", o.etag));
    set(out, "last-modified", &http_date(o.last_modified));
    set(out, "content-length", &o.size.to_string());
    set(out, "x-oss-hash-crc64ecma", &o.crc64.to_string());
    Ok(response)
}

pub async fn put_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    if header(&ctx.headers, "x-oss-object-acl").is_none() {
        return Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "MissingArgument",
            "PutObjectACL needs the x-oss-object-acl header.",
        )
        .with("ArgumentName", "x-oss-object-acl"));
    }
    let acl = object_acl(&ctx.headers)?;
    let (bucket, key) = (ctx.bucket_str().to_owned(), ctx.key_str().to_owned());
    ctx.meta(move |m| m.update_object(&bucket, &key, &mut |r| r.acl = acl))
        .await?
        .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    Ok(empty(StatusCode::OK))
}

pub fn get_object_acl(ctx: &Ctx) -> ApiResult<Response> {
    let o = ctx
        .object
        .as_ref()
        .ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    let mut w = XmlWriter::new("AccessControlPolicy");
    write_owner(&mut w, &ctx.bucket()?.owner);
    w.open("AccessControlList");
    w.elem("Grant", o.acl.as_str());
    w.close("AccessControlList");
    Ok(xml_response(w.finish()))
}

pub async fn delete_object(ctx: &Ctx) -> ApiResult<Response> {
    let (bucket, key) = (ctx.bucket_str().to_owned(), ctx.key_str().to_owned());
    // Deleting a missing key still succeeds with 204, as in OSS.
    if let Some(old) = ctx.meta(move |m| m.delete_object(&bucket, &key)).await? {
        remove_blob(ctx, &old.blob).await;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc64_matches_oss() {
        assert_eq!(super::CRC64.checksum(b"123456789"), 11051210869376104954);
        assert_eq!(super::CRC64.checksum(b"hello world"), 5981764153023615706);
        assert_eq!(super::CRC64.checksum(b""), 0);
    }
}
