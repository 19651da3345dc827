//! ListBuckets (GetService).

use axum::response::Response;

use super::bounded_number;
use crate::api::oss::error::ApiResult;
use crate::api::oss::headers::iso8601;
use crate::api::oss::xml::XmlWriter;
use crate::api::oss::{Ctx, xml_response};
use crate::storage::BucketRecord;

/// Writes the `ExtranetEndpoint`, `IntranetEndpoint`, `Location` and `Region` of a bucket.
pub fn write_location(w: &mut XmlWriter, ctx: &Ctx, bucket: &BucketRecord) {
    let endpoint = ctx
        .app
        .regions
        .iter()
        .find(|r| r.name == bucket.region)
        .map(|r| r.endpoint.as_str())
        .unwrap_or_default();
    w.elem("ExtranetEndpoint", endpoint);
    w.elem("IntranetEndpoint", endpoint);
    w.elem("Location", &bucket.region);
    w.elem(
        "Region",
        bucket.region.strip_prefix("oss-").unwrap_or(&bucket.region),
    );
}

pub fn write_owner(w: &mut XmlWriter, owner: &str) {
    w.open("Owner");
    w.elem("ID", owner);
    w.elem("DisplayName", owner);
    w.close("Owner");
}

pub async fn list_buckets(ctx: &Ctx) -> ApiResult<Response> {
    let prefix = ctx.query.get("prefix").unwrap_or_default().to_owned();
    let marker = ctx.query.get("marker").unwrap_or_default().to_owned();
    let max = bounded_number(ctx, "max-keys", 100, 1000)?;
    let (owner, buckets, truncated) =
        crate::core::bucket::list_buckets(ctx.store(), &ctx.requester, &prefix, &marker, max)
            .await?;
    let mut w = XmlWriter::new("ListAllMyBucketsResult");
    w.elem("Prefix", &prefix);
    w.elem("Marker", &marker);
    w.elem("MaxKeys", max.to_string());
    w.elem("IsTruncated", truncated.to_string());
    if truncated && let Some(last) = buckets.last() {
        w.elem("NextMarker", &last.name);
    }
    write_owner(&mut w, &owner);
    w.open("Buckets");
    for bucket in &buckets {
        w.open("Bucket");
        w.elem("CreationDate", iso8601(bucket.created));
        write_location(&mut w, ctx, bucket);
        w.elem("Name", &bucket.name);
        w.elem("StorageClass", &bucket.storage_class);
        w.close("Bucket");
    }
    w.close("Buckets");
    Ok(xml_response(w.finish()))
}
