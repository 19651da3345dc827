//! Block Public Access: Put/Get/DeletePublicAccessBlock for the requester's account
//! and for a bucket, and GetBucketPolicyStatus.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bucket_config::config_body;
use crate::access::{Policy, PublicAccessBlock};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::bucket;

/// The bucket of a bucket-level request, None for the account (service level).
fn target(ctx: &Ctx) -> ApiResult<Option<&crate::storage::BucketRecord>> {
    match ctx.bucket_name {
        Some(_) => ctx.bucket().map(Some),
        None => Ok(None),
    }
}

pub async fn put_public_access_block(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = config_body(ctx, body).await?;
    let doc = xml::parse(&body, "PublicAccessBlockConfiguration")?;
    // BlockPublicAccess is optional; false by default (OSS).
    let block = match doc.child_text("BlockPublicAccess").map(str::trim) {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(OssError::malformed_xml(format!(
                "<BlockPublicAccess> must be true or false, not {v:?}"
            )));
        }
    };
    let block = Some(PublicAccessBlock::oss(block));
    bucket::put_public_access_block(ctx.store(), &ctx.requester, target(ctx)?, block).await?;
    Ok(empty(StatusCode::OK))
}

pub async fn get_public_access_block(ctx: &Ctx) -> ApiResult<Response> {
    let block = match target(ctx)? {
        Some(b) => b.config.block_public_access,
        None => {
            bucket::account_config(ctx.store(), &ctx.requester)
                .await?
                .block_public_access
        }
    };
    // OSS's one switch reads as on when S3's four are.
    let block = block.is_some_and(PublicAccessBlock::is_all);
    let mut w = XmlWriter::new("PublicAccessBlockConfiguration");
    w.elem("BlockPublicAccess", block.to_string());
    Ok(xml_response(w.finish()))
}

pub async fn delete_public_access_block(ctx: &Ctx) -> ApiResult<Response> {
    bucket::put_public_access_block(ctx.store(), &ctx.requester, target(ctx)?, None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// Whether the bucket policy grants public access (false without a policy).
pub fn get_bucket_policy_status(ctx: &Ctx) -> ApiResult<Response> {
    let public = match &ctx.bucket()?.config.policy {
        Some(text) => Policy::parse(text)
            .map_err(|e| OssError::from(crate::core::CoreError::internal(e)))?
            .is_public(),
        None => false,
    };
    let mut w = XmlWriter::new("PolicyStatus");
    w.elem("IsPublic", public.to_string());
    Ok(xml_response(w.finish()))
}
