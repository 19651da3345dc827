//! Versioning: Put/GetBucketVersioning and ListObjectVersions (the reads, writes and
//! deletes of versions are the object operations with `versionId`).

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bounded_number;
use super::bucket::{list_param, url_encoding};
use super::bucket_config::config_body;
use super::service::write_owner;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::iso8601;
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::bucket;
use crate::storage::{VersionQuery, Versioning};

pub async fn put_bucket_versioning(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = config_body(ctx, body).await?;
    let doc = xml::parse(&body, "VersioningConfiguration")?;
    let versioning = match doc.child_text("Status").map(str::trim) {
        Some("Enabled") => Versioning::Enabled,
        Some("Suspended") => Versioning::Suspended,
        Some(other) => {
            return Err(OssError::malformed_xml(format!(
                "<Status> must be Enabled or Suspended, not {other:?}"
            )));
        }
        None => {
            return Err(OssError::malformed_xml(
                "<VersioningConfiguration> needs a <Status>",
            ));
        }
    };
    bucket::put_bucket_versioning(ctx.store(), ctx.bucket()?, versioning).await?;
    Ok(empty(StatusCode::OK))
}

/// `<VersioningConfiguration/>` without a status while versioning was never enabled.
pub fn get_bucket_versioning(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("VersioningConfiguration");
    if let Some(v) = ctx.bucket()?.config.versioning {
        w.elem("Status", v.as_str());
    }
    Ok(xml_response(w.finish()))
}

/// ListObjectVersions (`GET /?versions`): versions and delete markers in key order,
/// newest first, each marked IsLatest.
pub async fn list_object_versions(ctx: &Ctx) -> ApiResult<Response> {
    let record = ctx.bucket()?;
    let param = |name: &str| list_param(ctx, name);
    let encoding = url_encoding(ctx)?;
    let enc = |s: &str| encoding.apply(s);
    let query = VersionQuery {
        prefix: param("prefix")?,
        delimiter: param("delimiter")?,
        key_marker: param("key-marker")?,
        version_id_marker: param("version-id-marker")?,
        max_keys: bounded_number(ctx, "max-keys", 100, 1000)?,
    };
    if !query.version_id_marker.is_empty() && query.key_marker.is_empty() {
        return Err(OssError::invalid_argument(
            "A version-id-marker cannot be given without a key-marker.",
            "version-id-marker",
            &query.version_id_marker,
        ));
    }
    let (prefix, delimiter, key_marker, version_id_marker, max_keys) = (
        query.prefix.clone(),
        query.delimiter.clone(),
        query.key_marker.clone(),
        query.version_id_marker.clone(),
        query.max_keys,
    );
    let listing = bucket::list_object_versions(ctx.store(), &record.name, query).await?;

    let mut w = XmlWriter::new("ListVersionsResult");
    w.elem("Name", &record.name);
    w.elem("Prefix", enc(&prefix));
    w.elem("KeyMarker", enc(&key_marker));
    w.elem("VersionIdMarker", &version_id_marker);
    w.elem("MaxKeys", max_keys.to_string());
    w.elem("Delimiter", enc(&delimiter));
    encoding.write_type(&mut w);
    w.elem("IsTruncated", listing.truncated.to_string());
    if let Some(next) = &listing.next_key_marker {
        w.elem("NextKeyMarker", enc(next));
    }
    if let Some(next) = &listing.next_version_id_marker {
        w.elem("NextVersionIdMarker", next);
    }
    let now = crate::core::now_ms();
    for entry in &listing.versions {
        let o = &entry.record;
        w.open(if o.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        });
        w.elem("Key", enc(&entry.key));
        w.elem("VersionId", o.version_label());
        w.elem("IsLatest", entry.is_latest.to_string());
        w.elem("LastModified", iso8601(o.last_modified));
        if !o.delete_marker {
            w.elem("ETag", format!("\"{}\"", o.etag));
            w.elem("Type", &o.object_type);
            w.elem("Size", o.size.to_string());
            w.elem("StorageClass", &o.storage_class);
            if let Some(info) = crate::core::restore::restore_info(o, now) {
                w.elem("RestoreInfo", info);
            }
        }
        write_owner(&mut w, &record.owner);
        w.close(if o.delete_marker {
            "DeleteMarker"
        } else {
            "Version"
        });
    }
    for p in &listing.common_prefixes {
        w.open("CommonPrefixes");
        w.elem("Prefix", enc(p));
        w.close("CommonPrefixes");
    }
    Ok(xml_response(w.finish()))
}
