//! Hotlink protection: PutBucketReferer, GetBucketReferer. The check itself is the
//! access engine's (`access::referer`), run for every object read.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::object::check_content_md5;
use super::{MAX_SMALL_BODY, read_small_body};
use crate::access::RefererConfig;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::xml::{self, Element, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};

/// A `true`/`false` element, `default` when absent (None: it is required).
fn flag(doc: &Element, name: &str, default: Option<bool>) -> ApiResult<bool> {
    match doc.child_text(name).map(str::trim) {
        None => default.ok_or_else(|| {
            OssError::malformed_xml(format!("<RefererConfiguration> needs <{name}>"))
                .ec("0033-00000002")
        }),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => {
            let e = OssError::malformed_xml(format!("<{name}> must be true or false, not {v:?}"));
            // OSS documents an EC for AllowEmptyReferer only.
            Err(if name == "AllowEmptyReferer" {
                e.ec("0033-00000003")
            } else {
                e
            })
        }
    }
}

/// The patterns of a `RefererList` or `RefererBlacklist` (blank entries dropped).
fn patterns(list: Option<&Element>) -> Vec<String> {
    list.into_iter()
        .flat_map(|l| l.children_named("Referer"))
        .map(|r| r.text.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect()
}

/// A PutBucketReferer body, checked in OSS's order: the document, then
/// AllowEmptyReferer, then RefererList (both required).
pub fn parse_referer_configuration(body: &[u8]) -> ApiResult<RefererConfig> {
    let doc = xml::parse(body, "RefererConfiguration").map_err(|e| e.ec("0033-00000001"))?;
    let allow_empty = flag(&doc, "AllowEmptyReferer", None)?;
    let truncate_query_string = flag(&doc, "AllowTruncateQueryString", Some(true))?;
    let truncate_path = flag(&doc, "TruncatePath", Some(false))?;
    let Some(allowed) = doc.child("RefererList") else {
        return Err(
            OssError::malformed_xml("<RefererConfiguration> needs <RefererList>")
                .ec("0033-00000005"),
        );
    };
    Ok(RefererConfig {
        allow_empty,
        truncate_query_string,
        truncate_path,
        allowed: patterns(Some(allowed)),
        blocked: patterns(doc.child("RefererBlacklist")),
    })
}

/// PutBucketReferer replaces the whole configuration.
pub async fn put_bucket_referer(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    let config = parse_referer_configuration(&body)?;
    crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.referer = Some(config)
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

/// GetBucketReferer: a bucket never configured answers the defaults (empty
/// Referer allowed, an empty whitelist), as OSS does.
pub fn get_bucket_referer(ctx: &Ctx) -> ApiResult<Response> {
    let c = ctx.bucket()?.config.referer.clone().unwrap_or_default();
    let mut w = XmlWriter::new("RefererConfiguration");
    w.elem("AllowEmptyReferer", c.allow_empty.to_string());
    w.elem(
        "AllowTruncateQueryString",
        c.truncate_query_string.to_string(),
    );
    w.elem("TruncatePath", c.truncate_path.to_string());
    let list = |w: &mut XmlWriter, name: &str, patterns: &[String]| {
        w.open(name);
        for p in patterns {
            w.elem("Referer", p);
        }
        w.close(name);
    };
    // The whitelist is always there (empty when none), the blacklist when set.
    list(&mut w, "RefererList", &c.allowed);
    if !c.blocked.is_empty() {
        list(&mut w, "RefererBlacklist", &c.blocked);
    }
    Ok(xml_response(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str) -> (&'static str, Option<&'static str>) {
        let e = parse_referer_configuration(body.as_bytes()).unwrap_err();
        (e.code, e.ec)
    }

    #[test]
    fn bodies_are_checked_in_order() {
        let c = parse_referer_configuration(
            b"<RefererConfiguration><RefererList><Referer> http://a.com </Referer><Referer/></RefererList>\
              <AllowEmptyReferer>false</AllowEmptyReferer><RefererBlacklist><Referer>*bad*</Referer>\
              </RefererBlacklist></RefererConfiguration>",
        )
        .unwrap();
        assert_eq!(
            c,
            RefererConfig {
                allow_empty: false,
                truncate_query_string: true,
                truncate_path: false,
                allowed: vec!["http://a.com".into()],
                blocked: vec!["*bad*".into()],
            }
        );
        assert_eq!(
            err("<RefererConfiguration>"),
            ("MalformedXML", Some("0033-00000001"))
        );
        assert_eq!(err("<Referer/>"), ("MalformedXML", Some("0033-00000001")));
        assert_eq!(
            err("<RefererConfiguration><RefererList/></RefererConfiguration>"),
            ("MalformedXML", Some("0033-00000002"))
        );
        assert_eq!(
            err(
                "<RefererConfiguration><AllowEmptyReferer>32</AllowEmptyReferer><RefererList/></RefererConfiguration>"
            ),
            ("MalformedXML", Some("0033-00000003"))
        );
        assert_eq!(
            err(
                "<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer></RefererConfiguration>"
            ),
            ("MalformedXML", Some("0033-00000005"))
        );
        assert_eq!(
            err(
                "<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><TruncatePath>yes</TruncatePath><RefererList/></RefererConfiguration>"
            ),
            ("MalformedXML", None)
        );
    }
}
