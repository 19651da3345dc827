//! Cold storage: RestoreObject, and Put/GetBucketArchiveDirectRead. Which reads a cold
//! object refuses is the core's (`core::restore`), for both dialects.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::object::{check_content_md5, set, set_version_id};
use super::{MAX_SMALL_BODY, read_small_body};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::restore::{self, RestoreObject, Restored, Tier};

/// A RestoreObject body: none (one day, Standard priority), or `RestoreRequest` with
/// `Days` and, for the cold archive classes, `JobParameters/Tier`.
fn parse_restore_request(body: &[u8]) -> ApiResult<RestoreObject> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RestoreObject::default());
    }
    let doc = xml::parse(body, "RestoreRequest")?;
    for child in &doc.children {
        match child.name.as_str() {
            "Days" | "JobParameters" => {}
            // S3's restore elements, which OSS refuses with these ECs.
            "GlacierJobParameters" => {
                return Err(unsupported("GlacierJobParameters").ec("0016-00000709"));
            }
            "OutputLocation" => return Err(unsupported("OutputLocation").ec("0016-00000710")),
            other => return Err(unsupported(other)),
        }
    }
    let days = doc
        .child_text("Days")
        .ok_or_else(|| OssError::malformed_xml("<RestoreRequest> needs <Days>"))?;
    let tier = doc
        .child("JobParameters")
        .and_then(|j| j.child_text("Tier"))
        .map(|t| Tier::parse(t.trim()))
        .transpose()?;
    Ok(RestoreObject {
        days: Some(days.to_owned()),
        tier,
        archive_refuses_tier: true,
    })
}

fn unsupported(element: &str) -> OssError {
    OssError::malformed_xml(format!(
        "RestoreObject does not take <{element}>; give <Days> and, for ColdArchive and DeepColdArchive objects, <JobParameters><Tier>"
    ))
}

/// RestoreObject: 202 when a restore starts, 200 when a restored object's stay is
/// extended; a cold archive restore says its priority.
pub async fn restore_object(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let request = parse_restore_request(&body)?;
    let (record, outcome) = restore::restore_object(
        ctx.store(),
        ctx.bucket()?,
        ctx.key_str(),
        ctx.version_id(),
        request,
    )
    .await?;
    let mut response = empty(match outcome {
        Restored::Started => StatusCode::ACCEPTED,
        Restored::Extended => StatusCode::OK,
    });
    set_version_id(response.headers_mut(), &record);
    if let Some(tier) = record.restore.as_ref().and_then(|r| r.tier.as_deref()) {
        set(
            response.headers_mut(),
            "x-oss-object-restore-priority",
            tier,
        );
    }
    Ok(response)
}

pub async fn put_bucket_archive_direct_read(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let enabled = xml::parse(&body, "ArchiveDirectReadConfiguration")?.child_bool("Enabled")?;
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.archive_direct_read = enabled
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

/// GetBucketArchiveDirectRead: `false` for a bucket never configured.
pub fn get_bucket_archive_direct_read(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("ArchiveDirectReadConfiguration");
    w.elem(
        "Enabled",
        ctx.bucket()?.config.archive_direct_read.to_string(),
    );
    Ok(xml_response(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &str) -> ApiResult<RestoreObject> {
        parse_restore_request(body.as_bytes())
    }

    #[test]
    fn restore_requests() {
        assert_eq!(parsed("").unwrap(), RestoreObject::default());
        assert_eq!(
            parsed("<RestoreRequest><Days>3</Days><JobParameters><Tier>Bulk</Tier></JobParameters></RestoreRequest>")
                .unwrap(),
            RestoreObject {
                days: Some("3".into()),
                tier: Some(Tier::Bulk),
                archive_refuses_tier: true,
            }
        );
        // Days are checked against the object's class later, so any text passes here.
        assert_eq!(
            parsed("<RestoreRequest><Days>x</Days></RestoreRequest>")
                .unwrap()
                .days
                .as_deref(),
            Some("x")
        );
        let code = |body: &str| {
            let e = parsed(body).unwrap_err();
            (e.code, e.ec)
        };
        assert_eq!(code("<RestoreRequest>"), ("MalformedXML", None));
        assert_eq!(
            code("<Restore><Days>1</Days></Restore>"),
            ("MalformedXML", None)
        );
        assert_eq!(
            code("<RestoreRequest><JobParameters/></RestoreRequest>"),
            ("MalformedXML", None)
        );
        assert_eq!(
            code(
                "<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Bulk</Tier></GlacierJobParameters></RestoreRequest>"
            ),
            ("MalformedXML", Some("0016-00000709"))
        );
        assert_eq!(
            code(
                "<RestoreRequest><Days>1</Days><JobParameters><Tier>Fast</Tier></JobParameters></RestoreRequest>"
            ),
            ("InvalidArgument", Some("0016-00000703"))
        );
    }
}
