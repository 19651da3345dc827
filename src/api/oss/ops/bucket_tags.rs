//! Bucket tags: PutBucketTags, GetBucketTags, DeleteBucketTags; the `Tagging`
//! document they share with object tagging.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::object::check_content_md5;
use super::{MAX_SMALL_BODY, read_small_body};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::bucket_tags::{self, TagLimits};

/// `<Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>`; a missing
/// `Value` is an empty one.
pub fn parse_tagging(body: &[u8]) -> ApiResult<Vec<(String, String)>> {
    let doc = xml::parse(body, "Tagging")?;
    let tag_set = doc
        .child("TagSet")
        .ok_or_else(|| OssError::malformed_xml("<Tagging> needs a <TagSet>"))?;
    tag_set
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
        .collect()
}

/// The `Tagging` document of a tag set (an empty `TagSet` when there are none).
pub fn tagging_xml(tags: &[(String, String)]) -> String {
    let mut w = XmlWriter::new("Tagging");
    w.open("TagSet");
    for (k, v) in tags {
        w.open("Tag");
        w.elem("Key", k);
        w.elem("Value", v);
        w.close("Tag");
    }
    w.close("TagSet");
    w.finish()
}

/// PutBucketTags replaces the whole tag set (OSS: "覆盖语义").
pub async fn put_bucket_tags(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let tags = parse_tagging(&body)?;
    bucket_tags::put_bucket_tags(ctx.store(), ctx.bucket()?, tags, TagLimits::OSS).await?;
    Ok(empty(StatusCode::OK))
}

/// GetBucketTags: a bucket without tags answers an empty `TagSet`, not an error.
pub fn get_bucket_tags(ctx: &Ctx) -> ApiResult<Response> {
    Ok(xml_response(tagging_xml(&ctx.bucket()?.config.tags)))
}

/// DeleteBucketTags: `?tagging` removes every tag, `?tagging=k1,k2` those keys.
pub async fn delete_bucket_tags(ctx: &Ctx) -> ApiResult<Response> {
    let keys: Option<Vec<String>> = ctx
        .query
        .get("tagging")
        .filter(|v| !v.is_empty())
        .map(|v| v.split(',').map(str::to_owned).collect());
    bucket_tags::delete_bucket_tags(ctx.store(), ctx.bucket()?, keys.as_deref()).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
