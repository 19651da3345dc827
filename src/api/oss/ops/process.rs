//! Image processing over HTTP: `GET ?x-oss-process=...` returns the processed image;
//! `POST ?x-oss-process` (ProcessObject) does the same or, with `sys/saveas`, writes
//! the result into a bucket (spec/img.md §1, §10, §11).

use axum::body::Body;
use axum::response::Response;
use base64::Engine;
use http::StatusCode;

use super::object::{check_content_md5, conditions, set};
use super::read_small_body;
use crate::access::Action;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{header, http_date};
use crate::api::oss::{Ctx, empty};
use crate::core::CoreError;
use crate::core::object;
use crate::core::process::{self, Processed};
use crate::core::saveas;
use crate::image::{self, ImageError, Pipeline};
use crate::names::{BucketName, ObjectKey};
use crate::storage::{BucketRecord, ObjectRecord};

fn image_error(e: ImageError) -> OssError {
    CoreError::Image(e).into()
}

fn invalid(message: impl Into<String>) -> OssError {
    OssError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

/// Where `sys/saveas` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveAs {
    pub object: String,
    /// None: the source bucket (and `"bucket": ""` in the answer).
    pub bucket: Option<String>,
}

/// base64 as OSS accepts it: URL-safe or standard, padded or not.
fn decode_b64(value: &str, what: &str) -> ApiResult<String> {
    let cleaned: String = value
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cleaned)
        .map_err(|_| {
            invalid(format!(
                "The value of {what} in sys/saveas is not valid base64."
            ))
        })?;
    String::from_utf8(bytes)
        .map_err(|_| invalid(format!("The value of {what} in sys/saveas is not UTF-8.")))
}

/// Split `<chain>[|sys/saveas,o_..,b_..]` and expand `style/<name>[/more actions]`.
pub fn parse_spec(value: &str, bucket: &BucketRecord) -> ApiResult<(String, Option<SaveAs>)> {
    let mut parts = value.split('|');
    let chain = parts.next().unwrap_or_default().trim();
    let mut saveas = None;
    for extra in parts {
        let Some(params) = extra.strip_prefix("sys/saveas") else {
            return Err(invalid(format!("operation not support post: {extra}")));
        };
        if saveas.is_some() {
            return Err(invalid("sys/saveas appears more than once."));
        }
        let (mut object, mut target) = (None, None);
        for param in params.split(',').filter(|p| !p.is_empty()) {
            match param.split_once('_') {
                Some(("o", v)) => object = Some(decode_b64(v, "o")?),
                Some(("b", v)) => target = Some(decode_b64(v, "b")?),
                _ => {
                    return Err(invalid(format!(
                        "Unknown sys/saveas parameter {param:?}: use o_<base64 key> and b_<base64 bucket>."
                    )));
                }
            }
        }
        let object = object.ok_or_else(|| invalid("sys/saveas needs o_<base64 object key>."))?;
        saveas = Some(SaveAs {
            object,
            bucket: target,
        });
    }
    let chain = process::expand_style(bucket, chain)?;
    Ok((chain, saveas))
}

/// GET ?x-oss-process=... (also through presigned URLs and anonymous public-read access).
pub async fn get_processed(ctx: &Ctx) -> ApiResult<Response> {
    let value = ctx.query.get("x-oss-process").unwrap_or_default();
    check_source_protection(ctx, Some(value))?;
    let (chain, saveas) = parse_spec(value, ctx.bucket()?)?;
    if saveas.is_some() {
        return Err(invalid(
            "sys/saveas is allowed only in POST requests (ProcessObject), not with GET.",
        ));
    }
    let pipeline = image::parse(&chain).map_err(image_error)?;
    let link = ctx.object()?.clone();
    serve_processed(ctx, link, pipeline).await
}

/// `GET /<object><delimiter><style>` for a bucket with style delimiters: used when
/// no object has the full name.
pub async fn get_with_style_delimiter(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket()?;
    let key = ctx.key_str();
    for delimiter in bucket.config.process.iter().flat_map(|c| &c.delimiters) {
        let Some((base, style)) = key.rsplit_once(delimiter.as_str()) else {
            continue;
        };
        let Ok(style) = process::style(bucket, style) else {
            continue;
        };
        let (b, k) = (bucket.name.clone(), base.to_owned());
        let Some(record) = ctx.store().meta_read(move |m| m.get_object(&b, &k)).await? else {
            continue;
        };
        ctx.authorize(Action::GetObject, Some(bucket), Some(base), Some(&record))?;
        let pipeline = image::parse(&style.content).map_err(image_error)?;
        return serve_processed(ctx, record, pipeline).await;
    }
    // No style applies: the key's own answer (NoSuchKey, or its delete marker).
    Err(object::missing_current(ctx.store(), bucket, key)
        .await
        .into())
}

/// Source-image protection (see [`process::check_source_protection`]).
pub fn check_source_protection(ctx: &Ctx, spec: Option<&str>) -> ApiResult<()> {
    let (requester, bucket) = (&ctx.requester, ctx.bucket()?);
    Ok(process::check_source_protection(
        requester,
        bucket,
        ctx.key_str(),
        spec,
    )?)
}

/// Answer with the processed image, honouring the conditions on its derived ETag.
async fn serve_processed(ctx: &Ctx, link: ObjectRecord, pipeline: Pipeline) -> ApiResult<Response> {
    let processed = process::get_processed(
        ctx.store(),
        &ctx.app.images,
        &ctx.requester,
        ctx.bucket()?,
        link,
        pipeline,
        &conditions(&ctx.headers, ""),
        header(&ctx.headers, "accept"),
    )
    .await?;
    Ok(match processed {
        Processed::NotModified { etag, vary_accept } => {
            let mut response = empty(StatusCode::NOT_MODIFIED);
            let h = response.headers_mut();
            h.remove("content-length");
            set(h, "etag", &format!("\"{etag}\""));
            if vary_accept {
                set(h, "vary", "Accept");
            }
            response
        }
        Processed::Image {
            output,
            etag,
            last_modified,
            vary_accept,
            cache,
        } => {
            let mut response = Response::new(Body::from(output.bytes));
            let h = response.headers_mut();
            set(h, "content-type", output.content_type);
            set(h, "etag", &format!("\"{etag}\""));
            set(h, "last-modified", &http_date(last_modified));
            if vary_accept {
                set(h, "vary", "Accept");
            }
            if let Some(cache) = cache {
                set(h, "x-ossify-image-cache", cache.header());
            }
            response
        }
    })
}

/// The spec from a ProcessObject body: `x-oss-process=<spec>`, raw or form-encoded
/// (ali-oss form-encodes; '+' stays literal since specs carry standard base64).
fn body_spec(body: &[u8]) -> ApiResult<String> {
    let text = std::str::from_utf8(body)
        .map_err(|_| invalid("The ProcessObject body is not UTF-8."))?
        .trim();
    let value = text
        .strip_prefix("x-oss-process=")
        .ok_or_else(|| invalid("The ProcessObject body must be x-oss-process=<spec>."))?;
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| invalid("The ProcessObject body is not valid percent-encoded UTF-8."))
}

/// POST ?x-oss-process: needs oss:PostProcessTask (checked by the route) and read
/// access to the source; with saveas also oss:PutObject on the target, which must
/// be in the same account and region. Every rule is checked before any pixel work.
pub async fn process_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, 64 * 1024).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let source_bucket = ctx.bucket()?;
    let (chain, saveas) = parse_spec(&body_spec(&body)?, source_bucket)?;
    let pipeline = image::parse(&chain).map_err(image_error)?;
    let link = ctx.object.clone();
    ctx.authorize(
        Action::GetObject,
        Some(source_bucket),
        Some(ctx.key_str()),
        link.as_ref(),
    )?;
    let link = link.ok_or_else(|| OssError::no_such_key(ctx.key_str()))?;
    let Some(saveas) = saveas else {
        return serve_processed(ctx, link, pipeline).await;
    };
    let source = object::resolve_symlink(ctx.store(), &ctx.requester, ctx.bucket()?, link).await?;

    let target_name = saveas
        .bucket
        .clone()
        .unwrap_or_else(|| source_bucket.name.clone());
    let target_name = BucketName::parse(&target_name)
        .map_err(|e| OssError::invalid_bucket_name(&target_name, e.0))?;
    let key = ObjectKey::parse(&saveas.object).map_err(|e| OssError::invalid_object_name(e.0))?;
    let target = saveas::saveas_target(
        ctx.store(),
        &ctx.requester,
        source_bucket,
        &target_name,
        &key,
    )
    .await?;

    let (store, pool) = (ctx.store(), &ctx.app.images);
    let (output, _) = process::render(
        store,
        pool,
        &ctx.requester,
        source_bucket,
        &source,
        pipeline,
    )
    .await?;
    let size = output.bytes.len() as u64;
    saveas::save(
        ctx.store(),
        &target,
        &key,
        output.bytes,
        output.content_type,
    )
    .await?;
    let answer = serde_json::json!({
        "bucket": saveas.bucket.unwrap_or_default(),
        "fileSize": size,
        "object": key.as_str(),
        "status": "OK",
    });
    let body = serde_json::to_string_pretty(&answer).expect("JSON");
    Ok(Response::builder()
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .body(Body::from(body))
        .expect("valid response"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Style;

    fn bucket() -> BucketRecord {
        let mut b = crate::storage::meta_conformance::bucket("b", "1");
        b.config.styles = vec![Style {
            name: "thumb".into(),
            content: "image/resize,w_100".into(),
            category: "image".into(),
            created: 0,
            modified: 0,
        }];
        b
    }

    #[test]
    fn specs_styles_and_saveas() {
        let b = bucket();
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("out/a.jpg");
        let std_key = base64::engine::general_purpose::STANDARD.encode("out/a?.jpg");
        assert_eq!(
            parse_spec("image/resize,w_10", &b).unwrap(),
            ("image/resize,w_10".into(), None)
        );
        assert_eq!(
            parse_spec("style/thumb", &b).unwrap().0,
            "image/resize,w_100"
        );
        assert_eq!(
            parse_spec("style/thumb/rotate,90", &b).unwrap().0,
            "image/resize,w_100/rotate,90"
        );
        assert_eq!(
            parse_spec("style/nope", &b).unwrap_err().code,
            "NoSuchStyle"
        );
        let (_, saveas) =
            parse_spec(&format!("image/resize,w_10|sys/saveas,o_{key},b_Yg"), &b).unwrap();
        assert_eq!(
            saveas,
            Some(SaveAs {
                object: "out/a.jpg".into(),
                bucket: Some("b".into())
            })
        );
        let (_, saveas) =
            parse_spec(&format!("image/resize,w_10|sys/saveas,o_{std_key}"), &b).unwrap();
        assert_eq!(saveas.unwrap().object, "out/a?.jpg");
        for bad in [
            "image/x|saveas,o_YQ",
            "image/x|sys/saveas",
            "image/x|sys/saveas,o_!!!",
            "image/x|sys/saveas,z_1",
        ] {
            assert_eq!(
                parse_spec(bad, &b).unwrap_err().code,
                "InvalidArgument",
                "{bad}"
            );
        }
    }

    #[test]
    fn bodies_raw_and_form_encoded() {
        assert_eq!(
            body_spec(b"x-oss-process=image/resize,w_1|sys/saveas,o_YS+b").unwrap(),
            "image/resize,w_1|sys/saveas,o_YS+b"
        );
        assert_eq!(
            body_spec(b"x-oss-process=image%2Fresize%2Cw_1%7Csys%2Fsaveas%2Co_YS%2Bb").unwrap(),
            "image/resize,w_1|sys/saveas,o_YS+b"
        );
        assert!(body_spec(b"image/resize").is_err());
    }
}
