//! Multipart upload: Initiate, UploadPart, UploadPartCopy, Complete, Abort,
//! ListParts, ListMultipartUploads.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bucket::url_encoding;
use super::copy::{copy_source, not_modified, set_source_version};
use super::encryption::set_encryption_headers;
use super::object::{
    forbid_overwrite, record_from_headers, request_body, requested_object_acl, set, set_digests,
    set_version_id,
};
use super::{MAX_SMALL_BODY, bounded_number, read_small_body};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{header, iso8601};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::conditions::RangeRequest;
use crate::core::multipart::{self, MAX_PARTS, UploadRef};
use crate::storage::UploadQuery;

fn upload_id(ctx: &Ctx) -> &str {
    ctx.query.get("uploadId").unwrap_or_default()
}

/// The upload a request names.
fn upload_ref(ctx: &Ctx) -> UploadRef<'_> {
    UploadRef {
        bucket: ctx.bucket_str(),
        key: ctx.key_str(),
        upload_id: upload_id(ctx),
    }
}

pub async fn initiate_multipart_upload(ctx: &Ctx) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    let template = record_from_headers(&ctx.headers, ctx.bucket()?, "Multipart")?;
    let upload = multipart::initiate_multipart_upload(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        template,
        None,
        &ctx.requester,
    )
    .await?;
    let mut w = XmlWriter::new("InitiateMultipartUploadResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("UploadId", &upload.upload_id);
    let mut response = xml_response(w.finish());
    set_encryption_headers(response.headers_mut(), upload.template.sse.as_ref());
    Ok(response)
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

/// Parts and the completed object follow the upload's encryption: OSS refuses
/// encryption headers on UploadPart and CompleteMultipartUpload (the oss2 suite's
/// test_server_side_encryotion::test_multipart_upload).
fn refuse_encryption_headers(ctx: &Ctx, operation: &str) -> ApiResult<()> {
    match [
        "x-oss-server-side-encryption",
        "x-oss-server-side-data-encryption",
    ]
    .into_iter()
    .find(|name| ctx.headers.contains_key(*name))
    {
        Some(name) => Err(OssError::invalid_argument(
            format!(
                "{operation} takes no {name}: the upload is encrypted as InitiateMultipartUpload asked."
            ),
            name,
            header(&ctx.headers, name).unwrap_or_default(),
        )),
        None => Ok(()),
    }
}

pub async fn upload_part(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let number = part_number(ctx)?;
    refuse_encryption_headers(ctx, "UploadPart")?;
    let (body, expected_md5) = request_body(ctx, body)?;
    let uploaded =
        multipart::upload_part(ctx.store(), upload_ref(ctx), number, body, expected_md5).await?;
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set_digests(out, &uploaded.part.etag, uploaded.part.crc64);
    set(
        out,
        "content-md5",
        &base64::Engine::encode(&base64::engine::general_purpose::STANDARD, uploaded.md5),
    );
    set_encryption_headers(out, uploaded.sse.as_ref());
    Ok(response)
}

pub async fn upload_part_copy(ctx: &Ctx) -> ApiResult<Response> {
    let number = part_number(ctx)?;
    multipart::existing_upload(ctx.store(), upload_ref(ctx)).await?;
    let Some(source) = copy_source(ctx).await? else {
        return Ok(not_modified());
    };
    let size = source.record.size;
    let range = match header(&ctx.headers, "x-oss-copy-source-range") {
        None => None,
        Some(range) => {
            // The range must be satisfiable: the standard Range rules apply.
            RangeRequest {
                spec: range.to_owned(),
                strict: true,
            }
            .resolve(size)?
        }
    };
    let part =
        multipart::upload_part_copy(ctx.store(), upload_ref(ctx), number, &source, range).await?;
    let mut w = XmlWriter::new("CopyPartResult");
    w.elem("LastModified", iso8601(part.last_modified));
    w.elem("ETag", format!("\"{}\"", part.etag));
    let mut response = xml_response(w.finish());
    set_digests(response.headers_mut(), &part.etag, part.crc64);
    set_source_version(response.headers_mut(), &source);
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

pub async fn complete_multipart_upload(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
    refuse_encryption_headers(ctx, "CompleteMultipartUpload")?;
    let forbid = forbid_overwrite(&ctx.headers, ctx.bucket()?)?;
    // OSS lets CompleteMultipartUpload set the object's ACL (x-oss-object-acl), as the
    // v2 SDK's copier does for a multipart copy with an ACL.
    let acl = requested_object_acl(&ctx.headers)?;
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    let requested = requested_parts(ctx, &body)?;
    let callback = super::callback::prepare(ctx).await?;
    let record = multipart::complete_multipart_upload(
        ctx.store(),
        ctx.bucket()?,
        upload_ref(ctx),
        requested,
        acl,
        forbid,
    )
    .await?;
    let host = header(&ctx.headers, "host").unwrap_or_default();
    let mut w = XmlWriter::new("CompleteMultipartUploadResult");
    encoding.write_type(&mut w);
    w.elem(
        "Location",
        format!(
            "{}://{host}/{}/{}",
            ctx.scheme,
            ctx.bucket_str(),
            encoding.apply(ctx.key_str())
        ),
    );
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("ETag", format!("\"{}\"", record.etag));
    let mut response = xml_response(w.finish());
    set_digests(response.headers_mut(), &record.etag, record.crc64);
    set_version_id(response.headers_mut(), &record);
    set_encryption_headers(response.headers_mut(), record.sse.as_ref());
    Ok(super::callback::respond(
        ctx,
        callback,
        ctx.key_str(),
        &record,
        "CompleteMultipartUpload",
        response,
    )
    .await)
}

pub async fn abort_multipart_upload(ctx: &Ctx) -> ApiResult<Response> {
    multipart::abort_multipart_upload(ctx.store(), upload_ref(ctx)).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// User metadata of a client-side-encrypted upload and its ListParts element.
pub(super) const CLIENT_ENCRYPTION: [(&str, &str); 6] = [
    ("client-side-encryption-key", "ClientEncryptionKey"),
    ("client-side-encryption-start", "ClientEncryptionStart"),
    ("client-side-encryption-cek-alg", "ClientEncryptionCekAlg"),
    ("client-side-encryption-wrap-alg", "ClientEncryptionWrapAlg"),
    (
        "client-side-encryption-data-size",
        "ClientEncryptionDataSize",
    ),
    (
        "client-side-encryption-part-size",
        "ClientEncryptionPartSize",
    ),
];

pub async fn list_parts(ctx: &Ctx) -> ApiResult<Response> {
    let encoding = url_encoding(ctx)?;
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
    let (upload, parts, truncated) =
        multipart::list_parts(ctx.store(), upload_ref(ctx), marker, max).await?;
    let mut w = XmlWriter::new("ListPartsResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("Key", encoding.apply(ctx.key_str()));
    w.elem("UploadId", &upload.upload_id);
    w.elem("StorageClass", &upload.template.storage_class);
    // The client-side-encryption metadata given at initiate, as OSS lists it (the v2
    // SDK's EncryptionClient rebuilds its envelope from these elements).
    for (meta, element) in CLIENT_ENCRYPTION {
        if let Some((_, v)) = upload.template.user_meta.iter().find(|(n, _)| n == meta) {
            w.elem(element, v);
        }
    }
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
    let listing =
        multipart::list_multipart_uploads(ctx.store(), ctx.bucket_str(), query.clone()).await?;
    let mut w = XmlWriter::new("ListMultipartUploadsResult");
    encoding.write_type(&mut w);
    w.elem("Bucket", ctx.bucket_str());
    w.elem("KeyMarker", encoding.apply(&query.key_marker));
    w.elem("UploadIdMarker", &query.upload_id_marker);
    // OSS names the last upload listed even when the listing is complete.
    let (next_key, next_id) = listing.last_markers().unwrap_or_default();
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
