//! Operation handlers, one file per family; names follow the OSS API.

pub mod bucket;
pub mod bucket_config;
pub mod bucket_tags;
pub mod callback;
pub mod copy;
pub mod encryption;
pub mod logging;
pub mod multipart;
pub mod object;
pub mod post_object;
pub mod process;
pub mod public_access;
pub mod referer;
pub mod restore;
pub mod service;
pub mod transfer;
pub mod versioning;
pub mod website;
pub mod worm;

use axum::body::Body;
use axum::response::Response;
use http_body_util::BodyExt;

use super::Ctx;
use super::error::{ApiResult, OssError};
use super::route::Operation;

/// Run `op`, with the body transfer options OSS applies around its handlers: the
/// `x-oss-traffic-limit` throttle on the operations that take it, and gzip on reads.
pub async fn execute(op: Operation, ctx: &Ctx, body: Body) -> ApiResult<Response> {
    use Operation::*;
    // The operations OSS's single-connection bandwidth throttling applies to.
    let limit = match op {
        PutObject | AppendObject | PostObject | UploadPart | CopyObject | UploadPartCopy
        | GetObject => transfer::traffic_limit(&ctx.headers, &ctx.query)?,
        _ => None,
    };
    let body = match (op, limit) {
        (PutObject | AppendObject | PostObject | UploadPart, Some(rate)) => {
            transfer::throttle_body(body, rate)
        }
        _ => body,
    };
    let response = dispatch(op, ctx, body).await?;
    let response = match op {
        GetObject | HeadObject if !ctx.query.has("x-oss-process") => {
            transfer::gzip_response(&ctx.method, &ctx.headers, response)
        }
        _ => response,
    };
    Ok(match (op, limit) {
        (GetObject, Some(rate)) => transfer::throttle_response(response, rate),
        _ => response,
    })
}

async fn dispatch(op: Operation, ctx: &Ctx, body: Body) -> ApiResult<Response> {
    use Operation::*;
    match op {
        ListBuckets => service::list_buckets(ctx).await,
        PutBucket => bucket::put_bucket(ctx, body).await,
        DeleteBucket => bucket::delete_bucket(ctx).await,
        GetBucketInfo => bucket::get_bucket_info(ctx),
        GetBucketLocation => bucket::get_bucket_location(ctx),
        PutBucketAcl => bucket::put_bucket_acl(ctx).await,
        GetBucketAcl => bucket::get_bucket_acl(ctx),
        ListObjects => bucket::list_objects(ctx, false).await,
        ListObjectsV2 => bucket::list_objects(ctx, true).await,
        PutObject => object::put_object(ctx, body).await,
        GetObject if ctx.query.has("x-oss-process") => process::get_processed(ctx).await,
        // `object<delimiter>style` when the bucket configures style delimiters.
        GetObject if ctx.object.is_none() && ctx.version_id().is_none() => {
            process::get_with_style_delimiter(ctx).await
        }
        GetObject => {
            process::check_source_protection(ctx, None)?;
            object::get_object(ctx, false).await
        }
        // HEAD answers with the processed image's headers (hyper sends no body for HEAD).
        HeadObject if ctx.query.has("x-oss-process") => process::get_processed(ctx).await,
        HeadObject => object::get_object(ctx, true).await,
        GetObjectMeta => object::get_object_meta(ctx),
        DeleteObject => object::delete_object(ctx).await,
        PutObjectAcl => object::put_object_acl(ctx).await,
        GetObjectAcl => object::get_object_acl(ctx),
        DeleteMultipleObjects => bucket::delete_multiple_objects(ctx, body).await,
        CopyObject => copy::copy_object(ctx).await,
        AppendObject => object::append_object(ctx, body).await,
        PutSymlink => object::put_symlink(ctx).await,
        GetSymlink => object::get_symlink(ctx),
        PutObjectTagging => object::put_object_tagging(ctx, body).await,
        GetObjectTagging => object::get_object_tagging(ctx),
        DeleteObjectTagging => object::delete_object_tagging(ctx).await,
        InitiateMultipartUpload => multipart::initiate_multipart_upload(ctx).await,
        UploadPart => multipart::upload_part(ctx, body).await,
        UploadPartCopy => multipart::upload_part_copy(ctx).await,
        CompleteMultipartUpload => multipart::complete_multipart_upload(ctx, body).await,
        AbortMultipartUpload => multipart::abort_multipart_upload(ctx).await,
        ListParts => multipart::list_parts(ctx).await,
        ListMultipartUploads => multipart::list_multipart_uploads(ctx).await,
        GetBucketStat => bucket_config::get_bucket_stat(ctx).await,
        PutBucketCors => bucket_config::put_bucket_cors(ctx, body).await,
        GetBucketCors => bucket_config::get_bucket_cors(ctx),
        DeleteBucketCors => bucket_config::delete_bucket_cors(ctx).await,
        Options => bucket_config::preflight(ctx),
        PostObject => post_object::post_object(ctx, body).await,
        PutBucketLifecycle => bucket_config::put_bucket_lifecycle(ctx, body).await,
        GetBucketLifecycle => bucket_config::get_bucket_lifecycle(ctx),
        DeleteBucketLifecycle => bucket_config::delete_bucket_lifecycle(ctx).await,
        PutBucketPolicy => bucket_config::put_bucket_policy(ctx, body).await,
        GetBucketPolicy => bucket_config::get_bucket_policy(ctx),
        DeleteBucketPolicy => bucket_config::delete_bucket_policy(ctx).await,
        PutStyle => bucket_config::put_style(ctx, body).await,
        GetStyle => bucket_config::get_style(ctx),
        ListStyle => bucket_config::list_style(ctx),
        DeleteStyle => bucket_config::delete_style(ctx).await,
        ProcessObject => process::process_object(ctx, body).await,
        PutProcessConfiguration => bucket_config::put_process_configuration(ctx, body).await,
        GetProcessConfiguration => bucket_config::get_process_configuration(ctx),
        PutBucketTags => bucket_tags::put_bucket_tags(ctx, body).await,
        GetBucketTags => bucket_tags::get_bucket_tags(ctx),
        DeleteBucketTags => bucket_tags::delete_bucket_tags(ctx).await,
        PutBucketReferer => referer::put_bucket_referer(ctx, body).await,
        GetBucketReferer => referer::get_bucket_referer(ctx),
        DescribeRegions => service::describe_regions(ctx),
        PutPublicAccessBlock | PutBucketPublicAccessBlock => {
            public_access::put_public_access_block(ctx, body).await
        }
        GetPublicAccessBlock | GetBucketPublicAccessBlock => {
            public_access::get_public_access_block(ctx).await
        }
        DeletePublicAccessBlock | DeleteBucketPublicAccessBlock => {
            public_access::delete_public_access_block(ctx).await
        }
        GetBucketPolicyStatus => public_access::get_bucket_policy_status(ctx),
        PutBucketVersioning => versioning::put_bucket_versioning(ctx, body).await,
        GetBucketVersioning => versioning::get_bucket_versioning(ctx),
        ListObjectVersions => versioning::list_object_versions(ctx).await,
        RestoreObject => restore::restore_object(ctx, body).await,
        PutBucketArchiveDirectRead => restore::put_bucket_archive_direct_read(ctx, body).await,
        GetBucketArchiveDirectRead => restore::get_bucket_archive_direct_read(ctx),
        PutBucketRequestPayment => bucket_config::put_bucket_request_payment(ctx, body).await,
        GetBucketRequestPayment => bucket_config::get_bucket_request_payment(ctx),
        PutBucketTransferAcceleration => {
            bucket_config::put_bucket_transfer_acceleration(ctx, body).await
        }
        GetBucketTransferAcceleration => bucket_config::get_bucket_transfer_acceleration(ctx),
        PutBucketEncryption => encryption::put_bucket_encryption(ctx, body).await,
        GetBucketEncryption => encryption::get_bucket_encryption(ctx),
        DeleteBucketEncryption => encryption::delete_bucket_encryption(ctx).await,
        PutBucketCallbackPolicy => callback::put_bucket_callback_policy(ctx, body).await,
        GetBucketCallbackPolicy => callback::get_bucket_callback_policy(ctx),
        DeleteBucketCallbackPolicy => callback::delete_bucket_callback_policy(ctx).await,
        PutBucketWebsite => website::put_bucket_website(ctx, body).await,
        GetBucketWebsite => website::get_bucket_website(ctx),
        DeleteBucketWebsite => website::delete_bucket_website(ctx).await,
        PutBucketLogging => logging::put_bucket_logging(ctx, body).await,
        GetBucketLogging => logging::get_bucket_logging(ctx),
        DeleteBucketLogging => logging::delete_bucket_logging(ctx).await,
        InitiateBucketWorm => worm::initiate_bucket_worm(ctx, body).await,
        AbortBucketWorm => worm::abort_bucket_worm(ctx).await,
        CompleteBucketWorm => worm::complete_bucket_worm(ctx).await,
        ExtendBucketWorm => worm::extend_bucket_worm(ctx, body).await,
        GetBucketWorm => worm::get_bucket_worm(ctx),
    }
}

/// Largest XML/JSON configuration body accepted.
pub const MAX_SMALL_BODY: usize = 1024 * 1024;

/// A small body must arrive within this time.
const SMALL_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Read a small request body (XML configuration) with a size bound.
pub async fn read_small_body(body: Body, limit: usize) -> ApiResult<bytes::Bytes> {
    let limited = http_body_util::Limited::new(body, limit);
    let collected = tokio::time::timeout(SMALL_BODY_TIMEOUT, limited.collect()).await.map_err(|_| {
        OssError::new(
            http::StatusCode::BAD_REQUEST,
            "RequestTimeout",
            "Your socket connection to the server was not read from or written to within the timeout period.",
        )
    })?;
    match collected {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(OssError::new(
            http::StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            format!(
                "The request body is larger than the {limit} bytes allowed for this operation."
            ),
        )),
        Err(e) => Err(OssError::new(
            http::StatusCode::BAD_REQUEST,
            "IncompleteBody",
            format!("The request body could not be read: {e}"),
        )),
    }
}

/// `max-keys`-style parameters: an integer in 1..=max, `default` when absent.
pub fn bounded_number(ctx: &Ctx, name: &str, default: usize, max: usize) -> ApiResult<usize> {
    match ctx.query.get(name) {
        None | Some("") => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(OssError::invalid_argument(
                format!("{name} must be an integer between 1 and {max}."),
                name,
                v,
            )),
        },
    }
}
