//! CopyObject, and the `x-oss-copy-source` header shared with UploadPartCopy.

use axum::response::Response;
use http::StatusCode;
use percent_encoding::percent_decode_str;

use super::multipart::CLIENT_ENCRYPTION;
use super::object::{
    conditions, forbid_overwrite, record_from_headers, set, set_digests, set_version_id,
};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{header, iso8601};
use crate::api::oss::xml::XmlWriter;
use crate::api::oss::{Ctx, xml_response};
use crate::core::copy::{self, CopyObject, CopySource};
use crate::names::{BucketName, ObjectKey};

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
    let (path, source_query) = raw.split_once('?').unwrap_or((raw, ""));
    let version_id = match source_query.strip_prefix("versionId=") {
        Some(v) => Some(
            percent_decode_str(v)
                .decode_utf8()
                .map_err(|_| invalid("has an invalid versionId"))?
                .into_owned(),
        ),
        None if source_query.is_empty() => None,
        None => return Err(invalid("may carry only ?versionId=")),
    };
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
    let conditions = conditions(&ctx.headers, "x-oss-copy-source-");
    let source = copy::copy_source(
        ctx.store(),
        &ctx.requester,
        &bucket,
        &key,
        version_id.as_deref(),
        &conditions,
    )
    .await?;
    let traffic_limit = super::transfer::traffic_limit(&ctx.headers, &ctx.query)?;
    Ok(source.map(|s| CopySource { traffic_limit, ..s }))
}

/// `x-oss-copy-source-version-id` of a copy from a versioned object.
pub fn set_source_version(headers: &mut http::HeaderMap, source: &CopySource) {
    if let Some(id) = &source.record.version_id {
        set(headers, "x-oss-copy-source-version-id", id);
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

/// Metadata REPLACE keeps the source's client-side-encryption envelope the request
/// does not set: without it the copy could not be decrypted (OSS; the v2 SDK suite's
/// test_different_bucket_single_replace_meta_and_tag).
fn keep_client_encryption_meta(requested: &mut Vec<(String, String)>, source: &[(String, String)]) {
    for (name, value) in source {
        if CLIENT_ENCRYPTION.iter().any(|(meta, _)| meta == name)
            && !requested.iter().any(|(n, _)| n == name)
        {
            requested.push((name.clone(), value.clone()));
        }
    }
}

pub async fn copy_object(ctx: &Ctx) -> ApiResult<Response> {
    let mut request = CopyObject {
        replace_meta: directive(ctx, "x-oss-metadata-directive")?,
        replace_tags: directive(ctx, "x-oss-tagging-directive")?,
        condition: forbid_overwrite(&ctx.headers, ctx.bucket()?)?,
        requested: record_from_headers(&ctx.headers, ctx.bucket()?, "Normal")?,
        acl_given: header(&ctx.headers, "x-oss-object-acl").is_some(),
        storage_class_given: header(&ctx.headers, "x-oss-storage-class").is_some(),
    };
    let Some(source) = copy_source(ctx).await? else {
        return Ok(not_modified());
    };
    if request.replace_meta {
        keep_client_encryption_meta(&mut request.requested.user_meta, &source.record.user_meta);
    }
    let mut response_headers = http::HeaderMap::new();
    set_source_version(&mut response_headers, &source);
    let record =
        copy::copy_object(ctx.store(), ctx.bucket()?, ctx.key_str(), source, request).await?;
    let mut w = XmlWriter::new("CopyObjectResult");
    w.elem("ETag", format!("\"{}\"", record.etag));
    w.elem("LastModified", iso8601(record.last_modified));
    let mut response = xml_response(w.finish());
    response.headers_mut().extend(response_headers);
    set_digests(response.headers_mut(), &record.etag, record.crc64);
    set_version_id(response.headers_mut(), &record);
    super::encryption::set_encryption_headers(response.headers_mut(), record.sse.as_ref());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::keep_client_encryption_meta;

    fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn replace_keeps_the_sources_client_encryption_envelope() {
        let source = meta(&[
            ("client-side-encryption-key", "old-key"),
            ("client-side-encryption-start", "old-iv"),
            ("flag", "false"),
        ]);
        let mut requested = meta(&[("client-side-encryption-key", "new-key"), ("flag", "true")]);
        keep_client_encryption_meta(&mut requested, &source);
        assert_eq!(
            requested,
            meta(&[
                ("client-side-encryption-key", "new-key"),
                ("flag", "true"),
                ("client-side-encryption-start", "old-iv"),
            ])
        );
    }
}
