//! Access logging: Put/Get/DeleteBucketLogging. The lines and their flush into the
//! target bucket are `core::access_log`'s.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bucket_config::config_body;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::access_log::check_prefix;
use crate::core::bucket::update_bucket;
use crate::names::BucketName;
use crate::storage::LoggingConfig;

fn invalid_target(message: &str, ec: Option<&'static str>) -> OssError {
    let e = OssError::new(
        StatusCode::BAD_REQUEST,
        "InvalidTargetBucketForLogging",
        message,
    );
    match ec {
        Some(ec) => e.ec(ec),
        None => e,
    }
}

/// `PUT /?logging`: a `<BucketLoggingStatus>` with `<LoggingEnabled>` (TargetBucket,
/// TargetPrefix) turns logging on; without LoggingEnabled, off. The target bucket
/// must exist, belong to the same owner and be in the same region.
pub async fn put_bucket_logging(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let doc = xml::parse(&config_body(ctx, body).await?, "BucketLoggingStatus")?;
    let source = ctx.bucket()?;
    let config = match doc.child("LoggingEnabled") {
        None => None,
        Some(enabled) => {
            let target = enabled
                .child_text("TargetBucket")
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| {
                    OssError::malformed_xml("<LoggingEnabled> needs a <TargetBucket>")
                })?;
            let prefix = enabled
                .child_text("TargetPrefix")
                .unwrap_or_default()
                .trim();
            // OSS's ECs: 0032-00000004 for a name no bucket can have, -00000008 for a
            // bucket that does not exist.
            BucketName::parse(target).map_err(|_| {
                invalid_target(
                    "The target bucket for logging is not a valid bucket name.",
                    Some("0032-00000004"),
                )
            })?;
            check_prefix(prefix).map_err(|e| {
                let ec = match prefix.starts_with(['/', '\\']) {
                    true => "0032-00000005",
                    false => "0032-00000006",
                };
                OssError::from(e).ec(ec)
            })?;
            let name = target.to_owned();
            let found = ctx.store().meta(move |m| m.get_bucket(&name)).await?;
            let target_bucket = found.ok_or_else(|| {
                invalid_target(
                    "The target bucket for logging does not exist: create it first.",
                    Some("0032-00000008"),
                )
            })?;
            if target_bucket.owner != source.owner {
                return Err(invalid_target(
                    "The owner for the bucket to be logged and the target bucket must be the same.",
                    None,
                ));
            }
            if target_bucket.region != source.region {
                return Err(invalid_target(
                    "The target bucket for logging must be in the same region as the bucket to be logged.",
                    None,
                ));
            }
            Some(LoggingConfig {
                target_bucket: target.to_owned(),
                target_prefix: prefix.to_owned(),
            })
        }
    };
    update_bucket(ctx.store(), source, |b| b.config.logging = config).await?;
    Ok(empty(StatusCode::OK))
}

/// `GET /?logging`: an empty `<BucketLoggingStatus/>` while logging is off.
pub fn get_bucket_logging(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("BucketLoggingStatus");
    if let Some(config) = &ctx.bucket()?.config.logging {
        w.open("LoggingEnabled");
        w.elem("TargetBucket", &config.target_bucket);
        w.elem("TargetPrefix", &config.target_prefix);
        w.close("LoggingEnabled");
    }
    Ok(xml_response(w.finish()))
}

pub async fn delete_bucket_logging(ctx: &Ctx) -> ApiResult<Response> {
    update_bucket(ctx.store(), ctx.bucket()?, |b| b.config.logging = None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
