//! Upload callbacks on the OSS wire: the `callback`/`callback-var` parameters of
//! PutObject, CompleteMultipartUpload (header or query string) and PostObject (form
//! fields), the answer that replaces the upload's, and the bucket callback policies
//! (Put/Get/DeleteBucketCallbackPolicy, `?policy&comp=callback`). The semantics are
//! `core::callback`'s.

use std::collections::HashMap;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode};

use super::object::check_content_md5;
use super::{MAX_SMALL_BODY, read_small_body};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::header;
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::CoreError;
use crate::core::callback::{Params, Prepared, Problem, Upload, check_policies, params};
use crate::storage::{CallbackPolicy, ObjectRecord};

/// A parameter given either in the query string or as a header, never both.
fn query_or_header<'a>(
    ctx: &'a Ctx,
    name: &'static str,
    header_name: &str,
) -> ApiResult<Option<&'a str>> {
    match (ctx.query.get(name), header(&ctx.headers, header_name)) {
        (Some(_), Some(_)) => Err(CoreError::InvalidCallback(Problem::Duplicate { name }).into()),
        (query, header) => Ok(query.or(header)),
    }
}

/// The callback a PutObject or CompleteMultipartUpload asks for (`x-oss-callback` or
/// `?callback`, with `callback-var`), checked and its target vetted before anything is
/// stored. An empty `callback` asks for none, as in OSS.
pub async fn prepare(ctx: &Ctx) -> ApiResult<Option<Prepared>> {
    let callback = query_or_header(ctx, "callback", "x-oss-callback")?;
    let var = query_or_header(ctx, "callback-var", "x-oss-callback-var")?;
    let Some(callback) = callback.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    prepare_params(
        ctx,
        Params {
            callback,
            var,
            form_vars: Vec::new(),
        },
    )
    .await
}

/// PostObject's callback: the `callback` form field, its variables the `x:` fields.
pub async fn prepare_form(
    ctx: &Ctx,
    fields: &HashMap<String, String>,
) -> ApiResult<Option<Prepared>> {
    let Some(callback) = fields.get("callback").filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let form_vars = fields
        .iter()
        .filter(|(name, _)| params::is_var_name(name))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    prepare_params(
        ctx,
        Params {
            callback,
            var: None,
            form_vars,
        },
    )
    .await
}

async fn prepare_params(ctx: &Ctx, params: Params<'_>) -> ApiResult<Option<Prepared>> {
    let prepared = ctx
        .app
        .callbacks
        .prepare(ctx.bucket()?, params, public_key_url(ctx))
        .await?;
    Ok(Some(prepared))
}

/// Where callback servers fetch this server's public key: `/-/callback-public-key.pem`
/// on the endpoint the request reached (a bucket's virtual host serves objects, so its
/// endpoint is the host without the bucket).
fn public_key_url(ctx: &Ctx) -> String {
    let host = header(&ctx.headers, "host").unwrap_or_default();
    let endpoint = ctx
        .bucket_name
        .as_ref()
        .and_then(|b| host.strip_prefix(&format!("{}.", b.as_str())))
        .unwrap_or(host);
    format!(
        "{}://{endpoint}{}",
        ctx.scheme,
        crate::api::admin::CALLBACK_PUBLIC_KEY_PATH
    )
}

/// Headers of a written object that every answer to its upload keeps.
const WRITTEN_HEADERS: [&str; 4] = [
    "etag",
    "x-oss-hash-crc64ecma",
    "content-md5",
    "x-oss-version-id",
];

/// Run the callback of a stored object and answer with the callback server's body
/// (200) or 203 CallbackFailed; either way with the object's ETag, CRC-64, Content-MD5
/// and version id from `written`, the answer without a callback.
pub async fn respond(
    ctx: &Ctx,
    prepared: Option<Prepared>,
    key: &str,
    record: &ObjectRecord,
    operation: &str,
    written: Response,
) -> Response {
    let Some(prepared) = prepared else {
        return written;
    };
    let upload = Upload {
        bucket: ctx.bucket_str(),
        key,
        record,
        operation,
        client_ip: ctx.requester.source_ip,
        request_id: &ctx.request_id,
    };
    let mut response = match ctx
        .app
        .callbacks
        .invoke(ctx.store(), &prepared, upload)
        .await
    {
        Ok(reply) => {
            let mut r = Response::new(Body::from(reply.body.clone()));
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&reply.content_type) {
                h.insert("content-type", v);
            }
            h.insert("content-length", HeaderValue::from(reply.body.len()));
            r
        }
        Err(failure) => {
            let host = header(&ctx.headers, "host").unwrap_or_default();
            OssError::from(failure).into_response(&ctx.request_id, host, false)
        }
    };
    for name in WRITTEN_HEADERS {
        if let Some(v) = written.headers().get(name) {
            response.headers_mut().insert(name, v.clone());
        }
    }
    response
}

/// PutBucketCallbackPolicy: replaces the bucket's policies with the body's
/// `<BucketCallbackPolicy><PolicyItem><PolicyName/><Callback/><CallbackVar/>...`, the
/// form oss2 and the Java SDK send (an empty document removes them all).
pub async fn put_bucket_callback_policy(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let doc = xml::parse(&body, "BucketCallbackPolicy")?;
    let policies = doc
        .children_named("PolicyItem")
        .map(|item| {
            let text = |name| item.child_text(name).unwrap_or_default().trim().to_owned();
            CallbackPolicy {
                name: text("PolicyName"),
                callback: text("Callback"),
                callback_var: text("CallbackVar"),
            }
        })
        .collect::<Vec<_>>();
    check_policies(&policies)?;
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.callback_policies = policies
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_callback_policy(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("BucketCallbackPolicy");
    for p in &ctx.bucket()?.config.callback_policies {
        w.open("PolicyItem");
        w.elem("PolicyName", &p.name);
        w.elem("Callback", &p.callback);
        if !p.callback_var.is_empty() {
            w.elem("CallbackVar", &p.callback_var);
        }
        w.close("PolicyItem");
    }
    Ok(xml_response(w.finish()))
}

pub async fn delete_bucket_callback_policy(ctx: &Ctx) -> ApiResult<Response> {
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.callback_policies.clear()
    })
    .await?;
    Ok(empty(StatusCode::NO_CONTENT))
}
