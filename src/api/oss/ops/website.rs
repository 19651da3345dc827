//! Static website hosting: Put/Get/DeleteBucketWebsite, and the anonymous reads a
//! bucket with a website configuration answers as a website (index and error
//! documents, routing rules). The rules are `core::website`'s; every document is
//! read with the requester's rights, as a GetObject of it.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::bucket_config::config_body;
use super::object::{send_object, set};
use crate::access::{Action, Principal};
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::header;
use crate::api::oss::route::Operation;
use crate::api::oss::xml::{self, Element, XmlWriter};
use crate::api::oss::{Ctx, URL_ENCODE, empty, xml_response};
use crate::core::bucket::update_bucket;
use crate::core::website::{self, SUB_DIR_NOT_FOUND, SUB_DIR_REDIRECT, SUB_DIR_SERVE};
use crate::storage::{
    ErrorDocument, IncludeHeader, IndexDocument, ObjectRecord, Redirect, RedirectType, RoutingRule,
    WebsiteConfig,
};

// ---- configuration ----

fn text(e: &Element, name: &str) -> Option<String> {
    e.child_text(name).map(|t| t.trim().to_owned())
}

fn flag(e: &Element, name: &str) -> ApiResult<bool> {
    match text(e, name) {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(OssError::invalid_argument(
            format!("{name} must be true or false."),
            name,
            &v,
        )),
    }
}

fn integer<T: std::str::FromStr>(e: &Element, name: &str) -> ApiResult<Option<T>> {
    match text(e, name) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            OssError::invalid_argument(format!("{name} must be an integer."), name, &v)
        }),
    }
}

fn parse_rule(e: &Element) -> ApiResult<RoutingRule> {
    let number = integer::<u32>(e, "RuleNumber")?
        .ok_or_else(|| OssError::malformed_xml("every <RoutingRule> needs a <RuleNumber>"))?;
    let condition = e
        .child("Condition")
        .ok_or_else(|| OssError::malformed_xml("every <RoutingRule> needs a <Condition>"))?;
    let r = e
        .child("Redirect")
        .ok_or_else(|| OssError::malformed_xml("every <RoutingRule> needs a <Redirect>"))?;
    let redirect_type = match text(r, "RedirectType").as_deref() {
        Some("External") => RedirectType::External,
        Some("Internal") => RedirectType::Internal,
        // Back-to-origin needs the network and CDN; neither is offered here.
        Some(kind @ ("Mirror" | "AliCDN")) => {
            return Err(OssError::not_implemented(&format!(
                "RedirectType {kind} (use External or Internal)"
            )));
        }
        Some(other) => {
            return Err(OssError::invalid_argument(
                "RedirectType must be External, Internal, Mirror or AliCDN.",
                "RedirectType",
                other,
            ));
        }
        None => {
            return Err(OssError::malformed_xml(
                "every <Redirect> needs a <RedirectType>",
            ));
        }
    };
    Ok(RoutingRule {
        number,
        key_prefix_equals: text(condition, "KeyPrefixEquals"),
        key_suffix_equals: text(condition, "KeySuffixEquals"),
        http_error_code_returned_equals: integer(condition, "HttpErrorCodeReturnedEquals")?,
        include_headers: condition
            .children_named("IncludeHeader")
            .map(|h| IncludeHeader {
                key: text(h, "Key").unwrap_or_default(),
                equals: text(h, "Equals"),
                starts_with: text(h, "StartsWith"),
                ends_with: text(h, "EndsWith"),
            })
            .collect(),
        redirect: Redirect {
            redirect_type,
            protocol: text(r, "Protocol"),
            host_name: text(r, "HostName"),
            http_redirect_code: integer(r, "HttpRedirectCode")?,
            replace_key_with: text(r, "ReplaceKeyWith"),
            replace_key_prefix_with: text(r, "ReplaceKeyPrefixWith"),
            enable_replace_prefix: flag(r, "EnableReplacePrefix")?,
            pass_query_string: flag(r, "PassQueryString")?,
        },
    })
}

/// A `<WebsiteConfiguration>` body. An IndexDocument without a Suffix or an
/// ErrorDocument without a Key counts as absent (oss2 sends them empty).
pub fn parse_website(body: &[u8]) -> ApiResult<WebsiteConfig> {
    let doc = xml::parse(body, "WebsiteConfiguration")?;
    let index = match doc.child("IndexDocument") {
        Some(i) if text(i, "Suffix").is_some_and(|s| !s.is_empty()) => Some(IndexDocument {
            suffix: text(i, "Suffix").unwrap_or_default(),
            support_sub_dir: flag(i, "SupportSubDir")?,
            sub_dir_type: integer(i, "Type")?.unwrap_or(SUB_DIR_REDIRECT),
        }),
        _ => None,
    };
    let error = match doc.child("ErrorDocument") {
        Some(e) if text(e, "Key").is_some_and(|k| !k.is_empty()) => Some(ErrorDocument {
            key: text(e, "Key").unwrap_or_default(),
            http_status: integer(e, "HttpStatus")?.unwrap_or(404),
        }),
        _ => None,
    };
    let mut rules = doc
        .child("RoutingRules")
        .map(|r| r.children_named("RoutingRule").map(parse_rule).collect())
        .transpose()?
        .unwrap_or_else(Vec::new);
    if index.is_none() && error.is_none() && rules.is_empty() {
        return Err(OssError::malformed_xml(
            "<WebsiteConfiguration> needs an IndexDocument, an ErrorDocument or RoutingRules",
        ));
    }
    rules.sort_by_key(|r| r.number);
    let config = WebsiteConfig {
        index,
        error,
        rules,
    };
    website::validate(&config)?;
    Ok(config)
}

pub async fn put_bucket_website(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let config = parse_website(&config_body(ctx, body).await?)?;
    update_bucket(ctx.store(), ctx.bucket()?, |b| {
        b.config.website = Some(config)
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_website(ctx: &Ctx) -> ApiResult<Response> {
    let config = ctx.bucket()?.config.website.as_ref().ok_or_else(|| {
        OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchWebsiteConfiguration",
            "The specified bucket does not have a website configuration: set one with PutBucketWebsite.",
        )
        .with("BucketName", ctx.bucket_str())
    })?;
    let mut w = XmlWriter::new("WebsiteConfiguration");
    if let Some(index) = &config.index {
        w.open("IndexDocument");
        w.elem("Suffix", &index.suffix);
        w.elem("SupportSubDir", index.support_sub_dir.to_string());
        w.elem("Type", index.sub_dir_type.to_string());
        w.close("IndexDocument");
    }
    if let Some(error) = &config.error {
        w.open("ErrorDocument");
        w.elem("Key", &error.key);
        w.elem("HttpStatus", error.http_status.to_string());
        w.close("ErrorDocument");
    }
    if !config.rules.is_empty() {
        w.open("RoutingRules");
        for rule in &config.rules {
            write_rule(&mut w, rule);
        }
        w.close("RoutingRules");
    }
    Ok(xml_response(w.finish()))
}

fn write_rule(w: &mut XmlWriter, rule: &RoutingRule) {
    let optional = |w: &mut XmlWriter, name: &str, value: &Option<String>| {
        if let Some(v) = value {
            w.elem(name, v);
        }
    };
    w.open("RoutingRule");
    w.elem("RuleNumber", rule.number.to_string());
    w.open("Condition");
    optional(w, "KeyPrefixEquals", &rule.key_prefix_equals);
    optional(w, "KeySuffixEquals", &rule.key_suffix_equals);
    if let Some(code) = rule.http_error_code_returned_equals {
        w.elem("HttpErrorCodeReturnedEquals", code.to_string());
    }
    for h in &rule.include_headers {
        w.open("IncludeHeader");
        w.elem("Key", &h.key);
        optional(w, "Equals", &h.equals);
        optional(w, "StartsWith", &h.starts_with);
        optional(w, "EndsWith", &h.ends_with);
        w.close("IncludeHeader");
    }
    w.close("Condition");
    let r = &rule.redirect;
    w.open("Redirect");
    w.elem(
        "RedirectType",
        match r.redirect_type {
            RedirectType::External => "External",
            RedirectType::Internal => "Internal",
        },
    );
    w.elem("PassQueryString", r.pass_query_string.to_string());
    optional(w, "ReplaceKeyWith", &r.replace_key_with);
    optional(w, "ReplaceKeyPrefixWith", &r.replace_key_prefix_with);
    w.elem("EnableReplacePrefix", r.enable_replace_prefix.to_string());
    optional(w, "Protocol", &r.protocol);
    optional(w, "HostName", &r.host_name);
    if let Some(code) = r.http_redirect_code {
        w.elem("HttpRedirectCode", code.to_string());
    }
    w.close("Redirect");
    w.close("RoutingRule");
}

pub async fn delete_bucket_website(ctx: &Ctx) -> ApiResult<Response> {
    update_bucket(ctx.store(), ctx.bucket()?, |b| b.config.website = None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- serving ----

/// Whether `op` is answered as a website (and whether it is a HEAD): an anonymous GET
/// or HEAD of an object, or a GET of the bucket root without parameters, on a bucket
/// with a website configuration (signed requests get the API's answers, as in OSS).
pub fn serves(op: Operation, ctx: &Ctx) -> Option<bool> {
    let configured = ctx
        .bucket
        .as_ref()
        .is_some_and(|b| b.config.website.is_some());
    if !configured || !matches!(ctx.requester.principal, Principal::Anonymous) {
        return None;
    }
    match op {
        Operation::ListObjects if ctx.query.pairs.is_empty() => Some(false),
        Operation::GetObject | Operation::HeadObject
            if !ctx.query.has("x-oss-process") && ctx.version_id().is_none() =>
        {
            Some(op == Operation::HeadObject)
        }
        _ => None,
    }
}

/// The website's answer to the request's key (`""` for the bucket root).
pub async fn serve(ctx: &Ctx, head: bool) -> ApiResult<Response> {
    let config = ctx.bucket()?.config.website.clone().unwrap_or_default();
    let key = ctx.key_str();
    let headers = |name: &str| header(&ctx.headers, name).map(str::to_owned);
    if let Some(rule) = website::matching_rule(&config, key, None, &headers) {
        return follow(ctx, &config, rule, key, head).await;
    }
    let wanted = website::index_key(&config, key).unwrap_or_else(|| key.to_owned());
    if let Some(record) = lookup(ctx, &wanted).await? {
        return read(ctx, &wanted, record, head).await;
    }
    // Type 1 (SUB_DIR_NOT_FOUND) goes on to the 404 at once.
    if let Some((kind, index)) = website::sub_dir_index(&config, key)
        && kind != SUB_DIR_NOT_FOUND
        && let Some(record) = lookup(ctx, &index).await?
    {
        if kind == SUB_DIR_SERVE {
            return read(ctx, &index, record, head).await;
        }
        // `abc` with `abc/index.html` present: 302 to `/abc/`.
        let location = format!("{}{}/", site_root(ctx), website::encode_path(key));
        return Ok(redirect(StatusCode::FOUND, &location));
    }
    if let Some(rule) = website::matching_rule(&config, key, Some(404), &headers) {
        return follow(ctx, &config, rule, key, head).await;
    }
    not_found(ctx, &config, &wanted, head).await
}

/// The current record of `key` (the one the spine loaded when it is the request's).
async fn lookup(ctx: &Ctx, key: &str) -> ApiResult<Option<ObjectRecord>> {
    if ctx.key.is_some() && key == ctx.key_str() {
        return Ok(ctx.object.clone());
    }
    let (b, k) = (ctx.bucket_str().to_owned(), key.to_owned());
    Ok(ctx.store().meta_read(move |m| m.get_object(&b, &k)).await?)
}

/// A document read as a GetObject of it, with the requester's rights.
async fn read(ctx: &Ctx, key: &str, record: ObjectRecord, head: bool) -> ApiResult<Response> {
    ctx.authorize(
        Action::GetObject,
        ctx.bucket.as_ref(),
        Some(key),
        Some(&record),
    )?;
    send_object(ctx, key, record, head).await
}

/// A 404: the error document with its status, or NoSuchKey without one.
async fn not_found(
    ctx: &Ctx,
    config: &WebsiteConfig,
    key: &str,
    head: bool,
) -> ApiResult<Response> {
    if let Some(error) = &config.error
        && let Some(record) = lookup(ctx, &error.key).await?
    {
        let mut response = read(ctx, &error.key, record, head).await?;
        if response.status() == StatusCode::OK {
            *response.status_mut() =
                StatusCode::from_u16(error.http_status).unwrap_or(StatusCode::NOT_FOUND);
        }
        return Ok(response);
    }
    // As a GetObject of it: who may not read the key is not told it is missing.
    ctx.authorize(Action::GetObject, ctx.bucket.as_ref(), Some(key), None)?;
    Err(OssError::no_such_key(key))
}

/// A matched routing rule: a 3xx to the new address (External), or the new key of
/// this bucket served in place (Internal; its 404 is the error document's).
async fn follow(
    ctx: &Ctx,
    config: &WebsiteConfig,
    rule: &RoutingRule,
    key: &str,
    head: bool,
) -> ApiResult<Response> {
    let target = website::redirect_key(rule, key);
    match rule.redirect.redirect_type {
        RedirectType::External => {
            // Without a HostName the address is this endpoint's: keep the bucket in the
            // path of a path-style request.
            let path = match rule.redirect.host_name {
                None => format!("{}{target}", site_root(ctx).trim_start_matches('/')),
                Some(_) => target,
            };
            let location = website::location(
                rule,
                ctx.scheme,
                header(&ctx.headers, "host").unwrap_or_default(),
                &path,
                Some(&query_string(ctx)),
            );
            let status =
                StatusCode::from_u16(website::redirect_status(rule)).unwrap_or(StatusCode::FOUND);
            Ok(redirect(status, &location))
        }
        RedirectType::Internal => match lookup(ctx, &target).await? {
            Some(record) => read(ctx, &target, record, head).await,
            None => not_found(ctx, config, &target, head).await,
        },
    }
}

/// The request's query parameters, encoded again (PassQueryString).
fn query_string(ctx: &Ctx) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URL_ENCODE).to_string();
    ctx.query
        .pairs
        .iter()
        .map(|(name, value)| match value.is_empty() {
            true => enc(name),
            false => format!("{}={}", enc(name), enc(value)),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The path of the site's root as the request addressed it: `/` on a virtual-hosted
/// name, `/<bucket>/` path-style.
fn site_root(ctx: &Ctx) -> String {
    let host = header(&ctx.headers, "host").unwrap_or_default();
    match host.starts_with(&format!("{}.", ctx.bucket_str())) {
        true => "/".into(),
        false => format!("/{}/", ctx.bucket_str()),
    }
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut response = empty(status);
    set(response.headers_mut(), "location", location);
    response
}
