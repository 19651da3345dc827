//! Service-level operations: ListBuckets (GetService), DescribeRegions.

use axum::response::Response;
use http::StatusCode;

use super::bounded_number;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::iso8601;
use crate::api::oss::xml::XmlWriter;
use crate::api::oss::{Ctx, xml_response};
use crate::core::bucket_tags::TagFilter;
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
    let tag = tag_filter(ctx)?;
    let (owner, buckets, truncated) = crate::core::bucket::list_buckets(
        ctx.store(),
        &ctx.requester,
        &prefix,
        &marker,
        max,
        tag.as_ref(),
    )
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

/// `tag-key` (and `tag-value`): only buckets with that tag.
fn tag_filter(ctx: &Ctx) -> ApiResult<Option<TagFilter>> {
    let value = ctx.query.get("tag-value");
    match ctx.query.get("tag-key") {
        Some(key) => Ok(Some(TagFilter {
            key: key.to_owned(),
            value: value.map(str::to_owned),
        })),
        None => match value {
            Some(v) => Err(OssError::invalid_argument(
                "tag-value filters buckets only together with tag-key; add tag-key.",
                "tag-value",
                v,
            )),
            None => Ok(None),
        },
    }
}

/// DescribeRegions: the regions this server serves (all, or the one `?regions=`
/// names), with the endpoint each is reached at. There is no transfer acceleration
/// here, so `AccelerateEndpoint` is empty.
pub fn describe_regions(ctx: &Ctx) -> ApiResult<Response> {
    let wanted = ctx.query.get("regions").filter(|r| !r.is_empty());
    let regions: Vec<_> = ctx
        .app
        .regions
        .iter()
        .filter(|r| wanted.is_none_or(|w| w == r.name))
        .collect();
    if let Some(name) = wanted
        && regions.is_empty()
    {
        let served: Vec<&str> = ctx.app.regions.iter().map(|r| r.name.as_str()).collect();
        return Err(OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchRegion",
            format!(
                "The region {name:?} does not exist here; this server serves {}.",
                served.join(", ")
            ),
        ));
    }
    let mut w = XmlWriter::new("RegionInfoList");
    for region in regions {
        w.open("RegionInfo");
        w.elem("Region", &region.name);
        w.elem("InternetEndpoint", &region.endpoint);
        w.elem("InternalEndpoint", &region.endpoint);
        w.elem("AccelerateEndpoint", "");
        w.close("RegionInfo");
    }
    Ok(xml_response(w.finish()))
}
