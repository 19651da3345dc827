//! Multipart upload: Initiate, UploadPart, UploadPartCopy, Complete, Abort,
//! ListParts, ListMultipartUploads.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use md5::{Digest, Md5};

use super::bucket::url_encoding;
use super::copy::{copy_source, not_modified};
use super::object::{
    file_already_exists, forbid_overwrite, open_range, record_from_headers, remove_blob,
    remove_unused, set, set_digests, store_body, store_stream,
};
use super::{MAX_SMALL_BODY, bounded_number, read_small_body};
use crate::api::crc64;
use crate::api::error::{ApiResult, OssError, Refusal};
use crate::api::headers::{self, header, iso8601, now_ms};
use crate::api::xml::{self, XmlWriter};
use crate::api::{Ctx, empty, xml_response};
use crate::storage::{PartRecord, Segment, StorageError, UploadQuery, UploadRecord};

pub const MAX_PARTS: u32 = 10_000;
/// Every part but the last must have at least this many bytes (checked at Complete).
pub const MIN_PART_SIZE: u64 = 100 * 1024;

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn upload_id(ctx: &Ctx) -> &str {
    ctx.query.get("uploadId").unwrap_or_default()
}

fn no_such_upload(id: &str) -> OssError {
    OssError::new(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    .with("UploadId", id)
    .ec("0042-00000002")
}

fn explain_upload(ctx: &Ctx, e: OssError) -> OssError {
    if e.code == "NoSuchUpload" {
        no_such_upload(upload_id(ctx))
    } else {
        e
    }
}

pub async fn initiate_multipart_upload(ctx: &Ctx) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let template = record_from_headers(&ctx.headers, ctx.bucket()?, "Multipart")?;
    let upload = UploadRecord {
        // Time first, so a key's uploads list in initiation order (OSS).
        upload_id: format!(
            "{:016X}{}",
            now_nanos(),
            hex::encode_upper(rand::random::<[u8; 8]>())
        ),
        key: ctx.key_str().to_owned(),
        initiated: now_ms(),
        template,
    };
    let (bucket, stored) = (ctx.bucket_str().to_owned(), upload.clone());
    ctx.meta(move |m| m.create_upload(&bucket, &stored)).await?;
    let mut w = XmlWriter::new("InitiateMultipartUploadResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("UploadId", &upload.upload_id);
    Ok(xml_response(w.finish()))
}

fn part_number(ctx: &Ctx) -> ApiResult<u32> {
    let raw = ctx.query.get("partNumber").unwrap_or_default();
    match raw.parse::<u32>() {
        Ok(n) if (1..=MAX_PARTS).contains(&n) => Ok(n),
        _ => Err(OssError::invalid_argument(
            format!("Part number must be an integer between 1 and {MAX_PARTS}, inclusive."),
            "partNumber",
            raw,
        )),
    }
}

async fn existing_upload(ctx: &Ctx) -> ApiResult<UploadRecord> {
    let (bucket, key, id) = (
        ctx.bucket_str().to_owned(),
        ctx.key_str().to_owned(),
        upload_id(ctx).to_owned(),
    );
    ctx.meta(move |m| m.get_upload(&bucket, &key, &id))
        .await?
        .ok_or_else(|| no_such_upload(upload_id(ctx)))
}

/// Record a stored part; a part replaced by it is removed, and so is the new one
/// when the upload vanished meanwhile.
async fn save_part(ctx: &Ctx, number: u32, part: PartRecord) -> ApiResult<()> {
    let (bucket, key, id) = (
        ctx.bucket_str().to_owned(),
        ctx.key_str().to_owned(),
        upload_id(ctx).to_owned(),
    );
    let stored = part.clone();
    match ctx
        .meta(move |m| m.put_part(&bucket, &key, &id, number, &stored))
        .await
    {
        Ok(replaced) => {
            if let Some(old) = replaced {
                remove_blob(ctx, &old.blob).await;
            }
            Ok(())
        }
        Err(e) => {
            remove_blob(ctx, &part.blob).await;
            Err(explain_upload(ctx, e))
        }
    }
}

pub async fn upload_part(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let number = part_number(ctx)?;
    existing_upload(ctx).await?;
    let stored = store_body(ctx, body).await?;
    let part = stored.part();
    save_part(ctx, number, part.clone()).await?;
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set_digests(out, &part.etag, part.crc64);
    set(
        out,
        "content-md5",
        &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, stored.md5),
    );
    Ok(response)
}

pub async fn upload_part_copy(ctx: &Ctx) -> ApiResult<Response> {
    let number = part_number(ctx)?;
    existing_upload(ctx).await?;
    let Some(source) = copy_source(ctx).await? else {
        return Ok(not_modified());
    };
    let size = source.record.size;
    let (offset, len) = match header(&ctx.headers, "x-oss-copy-source-range") {
        None => (0, size),
        Some(range) => {
            // The range must be satisfiable: the standard Range rules apply.
            let mut h = HeaderMap::new();
            h.insert(
                "range",
                range.parse().map_err(|_| {
                    OssError::invalid_argument(
                        "Bad x-oss-copy-source-range.",
                        "x-oss-copy-source-range",
                        range,
                    )
                })?,
            );
            h.insert("x-oss-range-behavior", "standard".parse().expect("static"));
            match headers::range(&h, size)? {
                Some(r) => (r.start, r.end - r.start + 1),
                None => (0, size),
            }
        }
    };
    let stream = open_range(ctx, &source.record, offset, len)
        .await
        .map_err(OssError::internal)?;
    let stored = store_stream(ctx, stream, u64::MAX, None).await?;
    let part = stored.part();
    save_part(ctx, number, part.clone()).await?;
    let mut w = XmlWriter::new("CopyPartResult");
    w.elem("LastModified", iso8601(part.last_modified));
    w.elem("ETag", format!("\"{}\"", part.etag));
    let mut response = xml_response(w.finish());
    set_digests(response.headers_mut(), &part.etag, part.crc64);
    Ok(response)
}

/// The parts a CompleteMultipartUpload body lists, in order: `None` means "all
/// uploaded parts" (`x-oss-complete-all: yes`).
fn requested_parts(ctx: &Ctx, body: &[u8]) -> ApiResult<Option<Vec<(u32, String)>>> {
    if header(&ctx.headers, "x-oss-complete-all").is_some_and(|v| v.eq_ignore_ascii_case("yes")) {
        if !body.iter().all(u8::is_ascii_whitespace) {
            return Err(OssError::invalid_argument(
                "With x-oss-complete-all: yes the body must be empty.",
                "x-oss-complete-all",
                "yes",
            ));
        }
        return Ok(None);
    }
    let doc = xml::parse(body, "CompleteMultipartUpload")?;
    let parts = doc
        .children_named("Part")
        .map(|p| {
            let number = p
                .child_text("PartNumber")
                .and_then(|n| n.trim().parse::<u32>().ok())
                .ok_or_else(|| {
                    OssError::malformed_xml("every <Part> needs a numeric <PartNumber>")
                })?;
            let etag = p
                .child_text("ETag")
                .ok_or_else(|| OssError::malformed_xml("every <Part> needs an <ETag>"))?;
            Ok((number, etag.trim().trim_matches('"').to_ascii_uppercase()))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    if parts.is_empty() {
        return Err(OssError::malformed_xml(
            "<CompleteMultipartUpload> lists no <Part>",
        ));
    }
    Ok(Some(parts))
}

/// Choose and check the parts of the final object (OSS rules: ascending numbers,
/// existing parts with matching ETags, every part but the last ≥ 100 KB).
fn select_parts(
    requested: &Option<Vec<(u32, String)>>,
    uploaded: &[(u32, PartRecord)],
) -> Result<Vec<PartRecord>, OssError> {
    let invalid_part = |n: u32| {
        OssError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPart",
            format!("Part {n} was not uploaded or its ETag does not match the one given; list the parts with ListParts."),
        )
        .with("PartNumber", n.to_string())
    };
    let chosen: Vec<PartRecord> = match requested {
        None => uploaded.iter().map(|(_, p)| p.clone()).collect(),
        Some(list) => {
            let mut chosen = Vec::with_capacity(list.len());
            let mut previous = 0;
            for (number, etag) in list {
                if *number <= previous {
                    return Err(OssError::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidPartOrder",
                        "The list of parts was not in ascending order. Parts must be ordered by part number.",
                    ));
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
        return Err(invalid_part(0).with("Reason", "no parts were uploaded"));
    }
    if let Some(small) = chosen[..chosen.len() - 1]
        .iter()
        .find(|p| p.size < MIN_PART_SIZE)
    {
        return Err(OssError::new(
            StatusCode::BAD_REQUEST,
            "EntityTooSmall",
            format!(
                "Your proposed upload is smaller than the minimum allowed size: every part but the last must be at least {MIN_PART_SIZE} bytes (a part has {}).",
                small.size
            ),
        ));
    }
    Ok(chosen)
}

pub async fn complete_multipart_upload(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let forbid = forbid_overwrite(&ctx.headers)?;
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    let requested = requested_parts(ctx, &body)?;
    let refusal = Arc::new(Refusal::default());
    let (bucket, key, id, slot) = (
        ctx.bucket_str().to_owned(),
        ctx.key_str().to_owned(),
        upload_id(ctx).to_owned(),
        refusal.clone(),
    );
    let result = ctx
        .meta(move |m| {
            let mut built = None;
            let (replaced, parts) =
                m.complete_upload(&bucket, &key, &id, &mut |upload, uploaded, current| {
                    if forbid && current.is_some() {
                        return Err(slot.refuse(file_already_exists()));
                    }
                    let chosen = select_parts(&requested, uploaded).map_err(|e| slot.refuse(e))?;
                    let mut record = upload.template.clone();
                    let mut md5s = Md5::new();
                    for part in &chosen {
                        md5s.update(
                            hex::decode(&part.etag).map_err(|e| StorageError::Io(e.to_string()))?,
                        );
                        record.crc64 = crc64::combine(record.crc64, part.crc64, part.size);
                        record.size += part.size;
                        record.segments.push(Segment {
                            blob: part.blob.clone(),
                            size: part.size,
                        });
                    }
                    // S3-style multipart ETag: MD5 of the part MD5s, then the part count.
                    record.etag =
                        format!("{}-{}", hex::encode_upper(md5s.finalize()), chosen.len());
                    record.last_modified = now_ms();
                    built = Some(record.clone());
                    Ok(record)
                })?;
            Ok((replaced, parts, built.expect("built on success")))
        })
        .await;
    let (replaced, parts, record) = result.map_err(|e| explain_upload(ctx, refusal.explain(e)))?;
    // Parts not named in the list, and the blobs of the object replaced, go.
    remove_unused(ctx, parts.iter().map(|p| &p.blob), &record).await;
    if let Some(old) = replaced {
        remove_unused(ctx, old.blobs(), &record).await;
    }
    let host = header(&ctx.headers, "host").unwrap_or_default();
    let mut w = XmlWriter::new("CompleteMultipartUploadResult");
    encoding.write_type(&mut w);
    w.elem(
        "Location",
        format!(
            "http://{host}/{}/{}",
            ctx.bucket_str(),
            encoding.apply(ctx.key_str())
        ),
    );
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("ETag", format!("\"{}\"", record.etag));
    let mut response = xml_response(w.finish());
    set_digests(response.headers_mut(), &record.etag, record.crc64);
    Ok(response)
}

pub async fn abort_multipart_upload(ctx: &Ctx) -> ApiResult<Response> {
    let (bucket, key, id) = (
        ctx.bucket_str().to_owned(),
        ctx.key_str().to_owned(),
        upload_id(ctx).to_owned(),
    );
    let parts = ctx
        .meta(move |m| m.abort_upload(&bucket, &key, &id))
        .await
        .map_err(|e| explain_upload(ctx, e))?;
    for part in parts {
        remove_blob(ctx, &part.blob).await;
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

pub async fn list_parts(ctx: &Ctx) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let upload = existing_upload(ctx).await?;
    let max = bounded_number(ctx, "max-parts", 1000, 1000)?;
    // oss2 sends an empty marker by default.
    let marker_raw = ctx
        .query
        .get("part-number-marker")
        .filter(|m| !m.is_empty())
        .unwrap_or("0");
    let marker: u32 = marker_raw.parse().map_err(|_| {
        OssError::invalid_argument(
            "part-number-marker must be an integer.",
            "part-number-marker",
            marker_raw,
        )
    })?;
    let id = upload.upload_id.clone();
    let (parts, truncated) = ctx.meta(move |m| m.list_parts(&id, marker, max)).await?;
    let mut w = XmlWriter::new("ListPartsResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("UploadId", &upload.upload_id);
    w.elem("StorageClass", &upload.template.storage_class);
    w.elem("PartNumberMarker", marker.to_string());
    w.elem(
        "NextPartNumberMarker",
        parts.last().map(|(n, _)| *n).unwrap_or(marker).to_string(),
    );
    w.elem("MaxParts", max.to_string());
    w.elem("IsTruncated", truncated.to_string());
    for (number, part) in &parts {
        w.open("Part");
        w.elem("PartNumber", number.to_string());
        w.elem("LastModified", iso8601(part.last_modified));
        w.elem("ETag", format!("\"{}\"", part.etag));
        w.elem("HashCrc64ecma", part.crc64.to_string());
        w.elem("Size", part.size.to_string());
        w.close("Part");
    }
    Ok(xml_response(w.finish()))
}

pub async fn list_multipart_uploads(ctx: &Ctx) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let query = UploadQuery {
        prefix: ctx.query.get("prefix").unwrap_or_default().to_owned(),
        delimiter: ctx.query.get("delimiter").unwrap_or_default().to_owned(),
        key_marker: ctx.query.get("key-marker").unwrap_or_default().to_owned(),
        upload_id_marker: ctx
            .query
            .get("upload-id-marker")
            .unwrap_or_default()
            .to_owned(),
        max: bounded_number(ctx, "max-uploads", 1000, 1000)?,
    };
    let (bucket, q) = (ctx.bucket_str().to_owned(), query.clone());
    let listing = ctx.meta(move |m| m.list_uploads(&bucket, &q)).await?;
    let mut w = XmlWriter::new("ListMultipartUploadsResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("KeyMarker", encoding.apply(&query.key_marker));
    w.elem("UploadIdMarker", &query.upload_id_marker);
    let last = listing.uploads.last();
    let next_key = if listing.truncated {
        last.map(|u| u.key.as_str()).unwrap_or_default()
    } else {
        ""
    };
    let next_id = if listing.truncated {
        last.map(|u| u.upload_id.as_str()).unwrap_or_default()
    } else {
        ""
    };
    w.elem("NextKeyMarker", encoding.apply(next_key));
    w.elem("NextUploadIdMarker", next_id);
    w.elem("Delimiter", encoding.apply(&query.delimiter));
    w.elem("Prefix", encoding.apply(&query.prefix));
    w.elem("MaxUploads", query.max.to_string());
    w.elem("IsTruncated", listing.truncated.to_string());
    for upload in &listing.uploads {
        w.open("Upload");
        w.elem("Key", encoding.apply(&upload.key));
        w.elem("UploadId", &upload.upload_id);
        w.elem("StorageClass", &upload.template.storage_class);
        w.elem("Initiated", iso8601(upload.initiated));
        w.close("Upload");
    }
    for prefix in &listing.common_prefixes {
        w.open("CommonPrefixes");
        w.elem("Prefix", encoding.apply(prefix));
        w.close("CommonPrefixes");
    }
    Ok(xml_response(w.finish()))
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
                etag: format!("E{n}"),
                crc64: 0,
                last_modified: 0,
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
        let code = |r: Result<Vec<PartRecord>, OssError>| r.map(|v| v.len()).map_err(|e| e.code);
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
