//! Retention policies (WORM): InitiateBucketWorm, AbortBucketWorm, CompleteBucketWorm,
//! ExtendBucketWorm, GetBucketWorm. The rules are `core::worm`'s; the protection of
//! objects is checked by the core writes and deletes.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bucket_config::config_body;
use super::object::set;
use crate::api::oss::Ctx;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{empty, xml_response};
use crate::core::{bucket::update_bucket, now_ms, worm};
use crate::storage::{WormConfig, WormState};

/// The RetentionPeriodInDays of an `<InitiateWormConfiguration>` or
/// `<ExtendWormConfiguration>` body.
async fn retention_days(ctx: &Ctx, body: Body, root: &str) -> ApiResult<u32> {
    let doc = xml::parse(&config_body(ctx, body).await?, root)?;
    let days = doc.child_text("RetentionPeriodInDays").ok_or_else(|| {
        OssError::malformed_xml(format!("<{root}> needs a <RetentionPeriodInDays>"))
    })?;
    Ok(worm::parse_days(days)?)
}

/// The `wormId` parameter of CompleteBucketWorm and ExtendBucketWorm.
fn worm_id(ctx: &Ctx) -> &str {
    ctx.query.get("wormId").unwrap_or_default()
}

async fn store(ctx: &Ctx, config: Option<WormConfig>) -> ApiResult<()> {
    Ok(update_bucket(ctx.store(), ctx.bucket()?, |b| b.config.worm = config).await?)
}

/// `POST /?worm`: a new InProgress policy; its id comes back in `x-oss-worm-id`.
pub async fn initiate_bucket_worm(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let days = retention_days(ctx, body, "InitiateWormConfiguration").await?;
    let id = hex::encode_upper(rand::random::<[u8; 16]>());
    let config = worm::initiate(ctx.bucket()?, id, days, now_ms())?;
    let id = config.id.clone();
    store(ctx, Some(config)).await?;
    let mut response = empty(StatusCode::OK);
    set(response.headers_mut(), "x-oss-worm-id", &id);
    Ok(response)
}

/// `DELETE /?worm`: removes an unlocked policy.
pub async fn abort_bucket_worm(ctx: &Ctx) -> ApiResult<Response> {
    worm::abort(ctx.bucket()?, now_ms())?;
    store(ctx, None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /?wormId=ID`: locks the policy.
pub async fn complete_bucket_worm(ctx: &Ctx) -> ApiResult<Response> {
    let config = worm::complete(ctx.bucket()?, worm_id(ctx), now_ms())?;
    store(ctx, Some(config)).await?;
    Ok(empty(StatusCode::OK))
}

/// `POST /?wormId=ID&wormExtend`: a locked policy's period made longer.
pub async fn extend_bucket_worm(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let days = retention_days(ctx, body, "ExtendWormConfiguration").await?;
    let config = worm::extend(ctx.bucket()?, worm_id(ctx), days, now_ms())?;
    store(ctx, Some(config)).await?;
    Ok(empty(StatusCode::OK))
}

/// `GET /?worm`: the policy in force (a lapsed InProgress one is gone).
pub fn get_bucket_worm(ctx: &Ctx) -> ApiResult<Response> {
    let config = worm::current(ctx.bucket()?, now_ms())?;
    let mut w = XmlWriter::new("WormConfiguration");
    w.elem("WormId", &config.id);
    w.elem(
        "State",
        match config.state {
            WormState::InProgress => "InProgress",
            WormState::Locked => "Locked",
        },
    );
    w.elem("RetentionPeriodInDays", config.retention_days.to_string());
    // OSS writes CreationDate without fraction or zone: 2020-10-15T15:50:32.
    w.elem(
        "CreationDate",
        chrono::DateTime::from_timestamp_millis(config.created)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
    );
    Ok(xml_response(w.finish()))
}
