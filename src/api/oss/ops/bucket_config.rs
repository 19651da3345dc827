//! Bucket configuration: GetBucketStat, CORS (with preflight), lifecycle, bucket policy.

use axum::body::Body;
use axum::response::Response;
use http::StatusCode;

use super::object::{check_content_md5, set};
use super::{MAX_SMALL_BODY, read_small_body};
use crate::access::Policy;
use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::{header, http_date, iso8601};
use crate::api::oss::xml::{self, Element, XmlWriter};
use crate::api::oss::{Ctx, empty, xml_response};
use crate::core::cors::matching_rule;
use crate::core::lifecycle::{self, Dialect};
use crate::core::now_ms;
use crate::storage::{
    BucketRecord, CorsConfig, CorsRule, LifecycleNot, LifecycleRule, LifecycleWhen, ProcessConfig,
    RequestPayer, Style,
};

pub async fn get_bucket_stat(ctx: &Ctx) -> ApiResult<Response> {
    let bucket = ctx.bucket_str().to_owned();
    let stat = crate::core::bucket::bucket_stat(ctx.store(), &bucket).await?;
    let mut w = XmlWriter::new("BucketStat");
    let n = |v: u64| v.to_string();
    w.elem("Storage", n(stat.storage));
    w.elem("ObjectCount", n(stat.object_count));
    w.elem("MultipartUploadCount", n(stat.multipart_upload_count));
    w.elem("LiveChannelCount", "0");
    w.elem("LastModifiedTime", (stat.last_modified / 1000).to_string());
    w.elem("StandardStorage", n(stat.storage));
    w.elem("StandardObjectCount", n(stat.object_count));
    for class in [
        "InfrequentAccess",
        "Archive",
        "ColdArchive",
        "DeepColdArchive",
    ] {
        w.elem(&format!("{class}Storage"), "0");
        w.elem(&format!("{class}RealStorage"), "0");
        w.elem(&format!("{class}ObjectCount"), "0");
    }
    w.elem("MultipartPartCount", n(stat.multipart_part_count));
    w.elem("DeleteMarkerCount", "0");
    Ok(xml_response(w.finish()))
}

/// Store a changed copy of the request's bucket record.
async fn update_bucket(ctx: &Ctx, change: impl FnOnce(&mut BucketRecord)) -> ApiResult<()> {
    Ok(crate::core::bucket::update_bucket(ctx.store(), ctx.bucket()?, change).await?)
}

pub(super) async fn config_body(ctx: &Ctx, body: Body) -> ApiResult<bytes::Bytes> {
    let body = read_small_body(body, MAX_SMALL_BODY).await?;
    check_content_md5(&ctx.headers, &body, false)?;
    Ok(body)
}

// ---- CORS ----

const MAX_CORS_RULES: usize = 10;
const CORS_METHODS: &[&str] = &["GET", "PUT", "DELETE", "POST", "HEAD"];

fn texts(e: &Element, name: &str) -> Vec<String> {
    e.children_named(name)
        .map(|c| c.text.trim().to_owned())
        .collect()
}

pub fn parse_cors(body: &[u8]) -> ApiResult<CorsConfig> {
    let doc = xml::parse(body, "CORSConfiguration")?;
    let invalid = |m: String| OssError::invalid_argument(m, "CORSRule", "");
    let mut rules = Vec::new();
    for rule in doc.children_named("CORSRule") {
        let r = CorsRule {
            allowed_origins: texts(rule, "AllowedOrigin"),
            allowed_methods: texts(rule, "AllowedMethod"),
            // OSS stores AllowedHeader lower-case (header names are case-insensitive).
            allowed_headers: texts(rule, "AllowedHeader")
                .into_iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
            expose_headers: texts(rule, "ExposeHeader"),
            // OSS names the element itself in ArgumentName (the oss2 suite's
            // test_invalid_argument reads MaxAgeSeconds = -1 back from the error).
            max_age_seconds: match rule.child_text("MaxAgeSeconds") {
                None => None,
                Some(v) => Some(v.trim().parse().map_err(|_| {
                    OssError::invalid_argument(
                        format!("MaxAgeSeconds must be a non-negative integer, not {v:?}."),
                        "MaxAgeSeconds",
                        v,
                    )
                })?),
            },
        };
        if r.allowed_origins.is_empty() || r.allowed_methods.is_empty() {
            return Err(invalid(
                "Every CORSRule needs at least one AllowedOrigin and one AllowedMethod.".into(),
            ));
        }
        if let Some(m) = r
            .allowed_methods
            .iter()
            .find(|m| !CORS_METHODS.contains(&m.as_str()))
        {
            return Err(invalid(format!(
                "AllowedMethod must be one of {}, not {m:?}.",
                CORS_METHODS.join(", ")
            )));
        }
        if let Some(o) = r
            .allowed_origins
            .iter()
            .chain(&r.allowed_headers)
            .find(|o| o.matches('*').count() > 1)
        {
            return Err(invalid(format!("{o:?} has more than one '*'.")));
        }
        rules.push(r);
    }
    if rules.is_empty() || rules.len() > MAX_CORS_RULES {
        return Err(invalid(format!(
            "A CORS configuration has 1 to {MAX_CORS_RULES} CORSRule elements."
        )));
    }
    let response_vary = doc
        .child_text("ResponseVary")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    Ok(CorsConfig {
        rules,
        response_vary,
    })
}

pub async fn put_bucket_cors(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let config = parse_cors(&config_body(ctx, body).await?)?;
    update_bucket(ctx, |b| b.config.cors = Some(config)).await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_cors(ctx: &Ctx) -> ApiResult<Response> {
    let config = ctx.bucket()?.config.cors.as_ref().ok_or_else(|| {
        OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchCORSConfiguration",
            "The CORS Configuration does not exist.",
        )
        .with("BucketName", ctx.bucket_str())
    })?;
    let mut w = XmlWriter::new("CORSConfiguration");
    for rule in &config.rules {
        w.open("CORSRule");
        for (name, values) in [
            ("AllowedOrigin", &rule.allowed_origins),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedHeader", &rule.allowed_headers),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            for v in values {
                w.elem(name, v);
            }
        }
        if let Some(age) = rule.max_age_seconds {
            w.elem("MaxAgeSeconds", age.to_string());
        }
        w.close("CORSRule");
    }
    w.elem("ResponseVary", config.response_vary.to_string());
    Ok(xml_response(w.finish()))
}

pub async fn delete_bucket_cors(ctx: &Ctx) -> ApiResult<Response> {
    update_bucket(ctx, |b| b.config.cors = None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `OPTIONS` preflight: answered from the bucket's CORS rules, without authentication.
pub fn preflight(ctx: &Ctx) -> ApiResult<Response> {
    let forbidden = |why: &str| {
        OssError::new(
            StatusCode::FORBIDDEN,
            "AccessForbidden",
            format!("CORSResponse: {why}"),
        )
    };
    let origin = header(&ctx.headers, "origin").ok_or_else(|| {
        OssError::invalid_argument("A CORS preflight needs the Origin header.", "Origin", "")
    })?;
    let method = header(&ctx.headers, "access-control-request-method").ok_or_else(|| {
        OssError::invalid_argument(
            "A CORS preflight needs Access-Control-Request-Method.",
            "Access-Control-Request-Method",
            "",
        )
    })?;
    let requested: Vec<String> = header(&ctx.headers, "access-control-request-headers")
        .map(|h| {
            h.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let config = ctx
        .bucket()?
        .config
        .cors
        .as_ref()
        .ok_or_else(|| forbidden("CORS is not enabled for this bucket."))?;
    let rule = matching_rule(config, origin, method, &requested).ok_or_else(|| {
        forbidden("This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
    })?;
    let mut response = empty(StatusCode::OK);
    let out = response.headers_mut();
    set(out, "access-control-allow-origin", origin);
    set(
        out,
        "access-control-allow-methods",
        &rule.allowed_methods.join(", "),
    );
    if !requested.is_empty() {
        set(out, "access-control-allow-headers", &requested.join(", "));
    }
    if !rule.expose_headers.is_empty() {
        set(
            out,
            "access-control-expose-headers",
            &rule.expose_headers.join(", "),
        );
    }
    if let Some(age) = rule.max_age_seconds {
        set(out, "access-control-max-age", &age.to_string());
    }
    if config.response_vary {
        set(out, "vary", "Origin");
    }
    Ok(response)
}

// ---- Lifecycle ----

fn parse_when(e: &Element, what: &str) -> ApiResult<LifecycleWhen> {
    let invalid = |m: String| OssError::invalid_argument(m, what, "");
    match (
        e.child_text("Days"),
        e.child_text("CreatedBeforeDate").or(e.child_text("Date")),
    ) {
        (Some(days), None) => days.trim().parse::<u32>().map(LifecycleWhen::Days).map_err(|_| {
            invalid(format!("{what}/Days must be a positive integer, not {days:?}."))
        }),
        (None, Some(date)) => chrono::DateTime::parse_from_rfc3339(date.trim())
            .map(|d| LifecycleWhen::CreatedBeforeDate(d.timestamp_millis()))
            .map_err(|_| {
                invalid(format!(
                    "{what}/CreatedBeforeDate must be an ISO8601 date at midnight UTC like 2023-10-11T00:00:00.000Z, not {date:?}."
                ))
            }),
        _ => Err(invalid(format!(
            "{what} needs exactly one of Days and CreatedBeforeDate."
        ))),
    }
}

fn parse_tag(t: &Element) -> (String, String) {
    (
        t.child_text("Key").unwrap_or_default().to_owned(),
        t.child_text("Value").unwrap_or_default().to_owned(),
    )
}

fn parse_u64(e: &Element, name: &str) -> ApiResult<Option<u64>> {
    e.child_text(name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                OssError::invalid_argument(
                    format!(
                        "Filter/{name} must be a whole number of bytes from 0 to 5 TiB, not {v:?}."
                    ),
                    name,
                    v,
                )
            })
        })
        .transpose()
}

/// IsAccessTime (and ReturnToStdWhenVisit) need access tracking, which no bucket
/// here has (GetBucketInfo reports AccessMonitor Disabled): OSS refuses
/// last-access-time rules on such buckets.
fn refuse_access_time(e: &Element, what: &str) -> ApiResult<()> {
    for flag in ["IsAccessTime", "ReturnToStdWhenVisit"] {
        if e.child_text(flag)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        {
            return Err(OssError::invalid_argument(
                format!(
                    "{what}/{flag}: rules on the last access time need the bucket's access tracking (AccessMonitor), which is not enabled; use rules on the last modified time."
                ),
                flag,
                "true",
            ));
        }
    }
    Ok(())
}

/// The rules of a PutBucketLifecycle body, as written; [`crate::core::lifecycle`]
/// checks what they mean.
pub fn parse_lifecycle(body: &[u8]) -> ApiResult<Vec<LifecycleRule>> {
    let doc = xml::parse(body, "LifecycleConfiguration")?;
    let mut rules = Vec::new();
    for (i, rule) in doc.children_named("Rule").enumerate() {
        let id = rule
            .child_text("ID")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| format!("rule-{}", i + 1));
        let invalid = |m: String| OssError::invalid_argument(m, "Rule", &id);
        // OSS requires Rule/Prefix (empty for the whole bucket).
        let prefix = rule
            .child_text("Prefix")
            .or_else(|| rule.child("Filter").and_then(|f| f.child_text("Prefix")))
            .ok_or_else(|| {
                OssError::malformed_xml(format!(
                    "rule {id:?} needs a <Prefix> (empty for the whole bucket)"
                ))
            })?
            .to_owned();
        let enabled = match rule.child_text("Status").map(str::trim) {
            Some("Enabled") => true,
            Some("Disabled") => false,
            other => {
                return Err(invalid(format!(
                    "Rule {id:?}: Status must be Enabled or Disabled, not {other:?}."
                )));
            }
        };
        let tags = rule.children_named("Tag").map(parse_tag).collect();
        // Expiration holds Days, CreatedBeforeDate or ExpiredObjectDeleteMarker.
        let (mut expiration, mut expired_object_delete_marker) = (None, false);
        if let Some(e) = rule.child("Expiration") {
            // oss2 writes the flag as Python does, `True`.
            let flag = e
                .child_text("ExpiredObjectDeleteMarker")
                .map(|f| f.trim().to_ascii_lowercase());
            match flag.as_deref() {
                None => expiration = Some(parse_when(e, "Expiration")?),
                Some(flag @ ("true" | "false"))
                    if e.child("Days").is_none()
                        && e.child("CreatedBeforeDate").is_none()
                        && e.child("Date").is_none() =>
                {
                    expired_object_delete_marker = flag == "true";
                }
                Some(_) => {
                    return Err(invalid(format!(
                        "Rule {id:?}: Expiration/ExpiredObjectDeleteMarker must be true or false, without Days or CreatedBeforeDate."
                    )));
                }
            }
        }
        let noncurrent_days = |e: &Element, what: &str| {
            e.child_text("NoncurrentDays")
                .and_then(|d| d.trim().parse::<u32>().ok())
                .ok_or_else(|| {
                    invalid(format!(
                        "Rule {id:?}: {what}/NoncurrentDays must be a positive integer."
                    ))
                })
        };
        let noncurrent = rule
            .child("NoncurrentVersionExpiration")
            .map(|e| noncurrent_days(e, "NoncurrentVersionExpiration"))
            .transpose()?;
        let abort_multipart = rule
            .child("AbortMultipartUpload")
            .map(|e| parse_when(e, "AbortMultipartUpload"))
            .transpose()?;
        let mut transitions = Vec::new();
        for t in rule.children_named("Transition") {
            refuse_access_time(t, "Transition")?;
            transitions.push((
                parse_when(t, "Transition")?,
                t.child_text("StorageClass").unwrap_or("IA").to_owned(),
            ));
        }
        let mut noncurrent_transitions = Vec::new();
        for t in rule.children_named("NoncurrentVersionTransition") {
            refuse_access_time(t, "NoncurrentVersionTransition")?;
            noncurrent_transitions.push((
                noncurrent_days(t, "NoncurrentVersionTransition")?,
                t.child_text("StorageClass").unwrap_or("IA").to_owned(),
            ));
        }
        let (mut not, mut size_greater_than, mut size_less_than) = (Vec::new(), None, None);
        if let Some(filter) = rule.child("Filter") {
            size_greater_than = parse_u64(filter, "ObjectSizeGreaterThan")?;
            size_less_than = parse_u64(filter, "ObjectSizeLessThan")?;
            not = filter
                .children_named("Not")
                .map(|n| LifecycleNot {
                    prefix: n.child_text("Prefix").unwrap_or_default().to_owned(),
                    tag: n.child("Tag").map(parse_tag),
                })
                .collect();
        }
        rules.push(LifecycleRule {
            id,
            prefix,
            enabled,
            tags,
            expiration,
            abort_multipart,
            transitions,
            expired_object_delete_marker,
            noncurrent_days: noncurrent,
            noncurrent_transitions,
            not,
            size_greater_than,
            size_less_than,
            s3_filter: false,
        });
    }
    Ok(rules)
}

pub async fn put_bucket_lifecycle(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let allow_overlap = header(&ctx.headers, "x-oss-allow-same-action-overlap")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let rules = parse_lifecycle(&config_body(ctx, body).await?)?;
    lifecycle::put_bucket_lifecycle(
        ctx.store(),
        ctx.bucket()?,
        rules,
        Dialect::Oss { allow_overlap },
    )
    .await?;
    Ok(empty(StatusCode::OK))
}

fn write_when(w: &mut XmlWriter, when: &LifecycleWhen) {
    match when {
        LifecycleWhen::Days(d) => w.elem("Days", d.to_string()),
        LifecycleWhen::CreatedBeforeDate(ms) => w.elem("CreatedBeforeDate", iso8601(*ms)),
        // An S3 Date: OSS's own name for it (oss2 reads Expiration/Date).
        LifecycleWhen::Date(ms) => w.elem("Date", iso8601(*ms)),
    }
}

fn write_tag(w: &mut XmlWriter, (k, v): &(String, String)) {
    w.open("Tag");
    w.elem("Key", k);
    w.elem("Value", v);
    w.close("Tag");
}

/// GetBucketLifecycle: the rules either dialect stored, in OSS's element order.
pub fn get_bucket_lifecycle(ctx: &Ctx) -> ApiResult<Response> {
    let rules = ctx.bucket()?.config.lifecycle.as_ref().ok_or_else(|| {
        OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchLifecycle",
            "No Row found in Lifecycle Table.",
        )
        .with("BucketName", ctx.bucket_str())
    })?;
    let mut w = XmlWriter::new("LifecycleConfiguration");
    for rule in rules {
        w.open("Rule");
        w.elem("ID", &rule.id);
        w.elem("Prefix", &rule.prefix);
        w.elem("Status", if rule.enabled { "Enabled" } else { "Disabled" });
        for tag in &rule.tags {
            write_tag(&mut w, tag);
        }
        if let Some(when) = &rule.expiration {
            w.open("Expiration");
            write_when(&mut w, when);
            w.close("Expiration");
        } else if rule.expired_object_delete_marker {
            w.open("Expiration");
            w.elem("ExpiredObjectDeleteMarker", "true");
            w.close("Expiration");
        }
        for (when, class) in &rule.transitions {
            w.open("Transition");
            write_when(&mut w, when);
            w.elem("StorageClass", class);
            // Every stored transition is on the last modified time (last-access-time
            // rules are refused): OSS lists such a transition with IsAccessTime false.
            w.elem("IsAccessTime", "false");
            w.close("Transition");
        }
        if let Some(days) = rule.noncurrent_days {
            w.open("NoncurrentVersionExpiration");
            w.elem("NoncurrentDays", days.to_string());
            w.close("NoncurrentVersionExpiration");
        }
        for (days, class) in &rule.noncurrent_transitions {
            w.open("NoncurrentVersionTransition");
            w.elem("NoncurrentDays", days.to_string());
            w.elem("StorageClass", class);
            w.close("NoncurrentVersionTransition");
        }
        if let Some(when) = &rule.abort_multipart {
            w.open("AbortMultipartUpload");
            write_when(&mut w, when);
            w.close("AbortMultipartUpload");
        }
        if rule.size_greater_than.is_some() || rule.size_less_than.is_some() || !rule.not.is_empty()
        {
            w.open("Filter");
            if let Some(size) = rule.size_greater_than {
                w.elem("ObjectSizeGreaterThan", size.to_string());
            }
            if let Some(size) = rule.size_less_than {
                w.elem("ObjectSizeLessThan", size.to_string());
            }
            for not in &rule.not {
                w.open("Not");
                w.elem("Prefix", &not.prefix);
                if let Some(tag) = &not.tag {
                    write_tag(&mut w, tag);
                }
                w.close("Not");
            }
            w.close("Filter");
        }
        w.close("Rule");
    }
    Ok(xml_response(w.finish()))
}

pub async fn delete_bucket_lifecycle(ctx: &Ctx) -> ApiResult<Response> {
    lifecycle::delete_bucket_lifecycle(ctx.store(), ctx.bucket()?).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- Bucket policy ----

pub async fn put_bucket_policy(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = config_body(ctx, body).await?;
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        OssError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPolicyDocument",
            "The policy is not UTF-8.",
        )
    })?;
    let policy = Policy::parse(&text).map_err(|e| {
        OssError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPolicyDocument",
            e.to_string(),
        )
    })?;
    crate::core::bucket::put_bucket_policy(ctx.store(), ctx.bucket()?, &policy, text).await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_policy(ctx: &Ctx) -> ApiResult<Response> {
    let policy = ctx.bucket()?.config.policy.clone().ok_or_else(|| {
        OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucketPolicy",
            "The bucket policy does not exist.",
        )
        .with("BucketName", ctx.bucket_str())
    })?;
    Ok(Response::builder()
        .header("content-type", "application/json")
        .header("content-length", policy.len())
        .body(Body::from(policy))
        .expect("valid response"))
}

pub async fn delete_bucket_policy(ctx: &Ctx) -> ApiResult<Response> {
    update_bucket(ctx, |b| b.config.policy = None).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- Image styles ----

/// Styles one bucket may hold (OSS).
const MAX_STYLES: usize = 50;

fn style_name(ctx: &Ctx) -> ApiResult<&str> {
    let name = ctx.query.get("styleName").ok_or_else(|| {
        OssError::missing_argument("styleName", "The styleName parameter is required.")
    })?;
    let valid = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
    if !valid {
        return Err(OssError::invalid_argument(
            "A style name has 1 to 63 characters: letters, digits, '_', '-' and '.'.",
            "styleName",
            name,
        ));
    }
    Ok(name)
}

pub async fn put_style(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let name = style_name(ctx)?.to_owned();
    let doc = xml::parse(&config_body(ctx, body).await?, "Style")?;
    let content = doc
        .child_text("Content")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if content.is_empty() {
        return Err(OssError::invalid_argument(
            "Style content is invalid.",
            "Content",
            "",
        ));
    }
    let category = ctx
        .query
        .get("category")
        .or(doc.child_text("Category"))
        .unwrap_or("image")
        .to_owned();
    let bucket = ctx.bucket()?;
    if bucket.config.styles.len() >= MAX_STYLES
        && !bucket.config.styles.iter().any(|s| s.name == name)
    {
        return Err(OssError::access_denied(format!(
            "Your style count is exceeded {MAX_STYLES}."
        )));
    }
    let now = now_ms();
    update_bucket(ctx, |b| {
        match b.config.styles.iter_mut().find(|s| s.name == name) {
            // Putting an existing name overwrites it.
            Some(style) => {
                style.content = content;
                style.category = category;
                style.modified = now;
            }
            None => b.config.styles.push(Style {
                name,
                content,
                category,
                created: now,
                modified: now,
            }),
        }
    })
    .await?;
    Ok(empty(StatusCode::OK))
}

fn write_style(w: &mut XmlWriter, s: &Style) {
    w.elem("Name", &s.name);
    w.elem("Content", &s.content);
    w.elem("Category", &s.category);
    w.elem("CreateTime", http_date(s.created));
    w.elem("LastModifyTime", http_date(s.modified));
}

pub fn get_style(ctx: &Ctx) -> ApiResult<Response> {
    let name = style_name(ctx)?;
    let style = crate::core::process::style(ctx.bucket()?, name)?;
    let mut w = XmlWriter::new("Style");
    write_style(&mut w, style);
    Ok(xml_response(w.finish()))
}

pub fn list_style(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("StyleList");
    for style in &ctx.bucket()?.config.styles {
        w.open("Style");
        write_style(&mut w, style);
        w.close("Style");
    }
    Ok(xml_response(w.finish()))
}

pub async fn delete_style(ctx: &Ctx) -> ApiResult<Response> {
    let name = style_name(ctx)?.to_owned();
    // Deleting a missing style is 204 too (OSS).
    update_bucket(ctx, |b| b.config.styles.retain(|s| s.name != name)).await?;
    Ok(empty(StatusCode::NO_CONTENT))
}

// ---- Image processing configuration (style delimiters, source protection) ----

/// Style delimiters OSS allows, in the order they are tried and listed.
pub const STYLE_DELIMITERS: [&str; 4] = ["-", "_", "/", "!"];

fn enabled(value: Option<&str>, name: &str) -> ApiResult<bool> {
    match value.map(str::trim) {
        None | Some("Disabled") => Ok(false),
        Some("Enabled") => Ok(true),
        Some(v) => Err(OssError::invalid_argument(
            format!("{name} must be Enabled or Disabled."),
            name,
            v,
        )),
    }
}

pub fn parse_process_configuration(body: &[u8]) -> ApiResult<ProcessConfig> {
    let doc = xml::parse(body, "BucketProcessConfiguration")?;
    let complied_host = match doc.child_text("CompliedHost").map(str::trim) {
        Some(h @ ("Img" | "Both")) => h.to_owned(),
        other => {
            return Err(OssError::invalid_argument(
                "CompliedHost must be Img or Both.",
                "CompliedHost",
                other.unwrap_or_default(),
            ));
        }
    };
    let source_protect = enabled(doc.child_text("SourceFileProtect"), "SourceFileProtect")?;
    let list = |name: &str| -> Vec<String> {
        doc.child_text(name)
            .unwrap_or_default()
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let delimiters = list("StyleDelimiters");
    if let Some(bad) = delimiters
        .iter()
        .find(|d| !STYLE_DELIMITERS.contains(&d.as_str()))
    {
        return Err(OssError::invalid_argument(
            "StyleDelimiters may only contain -, _, / and !.",
            "StyleDelimiters",
            bad,
        ));
    }
    Ok(ProcessConfig {
        complied_host,
        source_protect,
        // OSS reads back an empty suffix list while protection is off.
        protect_suffixes: if source_protect {
            list("SourceFileProtectSuffix")
        } else {
            vec![]
        },
        delimiters: STYLE_DELIMITERS
            .iter()
            .filter(|d| delimiters.iter().any(|x| x == *d))
            .map(|d| d.to_string())
            .collect(),
        oss_domain_support: enabled(
            doc.child_text("OssDomainSupportAtProcess"),
            "OssDomainSupportAtProcess",
        )?,
    })
}

pub async fn put_process_configuration(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let config = parse_process_configuration(&config_body(ctx, body).await?)?;
    update_bucket(ctx, |b| b.config.process = Some(config)).await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_process_configuration(ctx: &Ctx) -> ApiResult<Response> {
    let c = ctx
        .bucket()?
        .config
        .process
        .clone()
        .unwrap_or_else(|| ProcessConfig {
            complied_host: "Both".into(),
            ..Default::default()
        });
    let on_off = |b: bool| if b { "Enabled" } else { "Disabled" };
    let mut w = XmlWriter::new("BucketProcessConfiguration");
    w.elem("Version", "2");
    w.elem("CompliedHost", &c.complied_host);
    w.elem("SourceFileProtect", on_off(c.source_protect));
    w.elem("SourceFileProtectSuffix", c.protect_suffixes.join(","));
    w.elem("StyleDelimiters", c.delimiters.join(","));
    w.elem("OssDomainSupportAtProcess", on_off(c.oss_domain_support));
    Ok(xml_response(w.finish()))
}

// ---- Request payment ----

pub async fn put_bucket_request_payment(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = config_body(ctx, body).await?;
    let doc = xml::parse(&body, "RequestPaymentConfiguration")?;
    let payer = match doc.child_text("Payer").map(str::trim) {
        Some(v) => RequestPayer::parse(v).ok_or_else(|| {
            OssError::malformed_xml(format!(
                "<Payer> must be BucketOwner or Requester, not {v:?}"
            ))
        })?,
        None => {
            return Err(OssError::malformed_xml(
                "<RequestPaymentConfiguration> needs <Payer>",
            ));
        }
    };
    update_bucket(ctx, |b| b.config.request_payer = payer).await?;
    Ok(empty(StatusCode::OK))
}

/// GetBucketRequestPayment: `BucketOwner` for a bucket never configured.
pub fn get_bucket_request_payment(ctx: &Ctx) -> ApiResult<Response> {
    let mut w = XmlWriter::new("RequestPaymentConfiguration");
    w.elem("Payer", ctx.bucket()?.config.request_payer.as_str());
    Ok(xml_response(w.finish()))
}

// ---- Transfer acceleration ----

/// The switch is kept and reported (GetBucketInfo too); this server has no
/// accelerated endpoints, so it changes no request.
pub async fn put_bucket_transfer_acceleration(ctx: &Ctx, body: Body) -> ApiResult<Response> {
    let body = config_body(ctx, body).await?;
    let enabled = xml::parse(&body, "TransferAccelerationConfiguration")?.child_bool("Enabled")?;
    update_bucket(ctx, |b| b.config.transfer_acceleration = Some(enabled)).await?;
    Ok(empty(StatusCode::OK))
}

pub fn get_bucket_transfer_acceleration(ctx: &Ctx) -> ApiResult<Response> {
    let enabled = ctx.bucket()?.config.transfer_acceleration.ok_or_else(|| {
        OssError::new(
            StatusCode::NOT_FOUND,
            "NoSuchTransferAccelerationConfiguration",
            "The bucket has no transfer acceleration configuration: set one with PutBucketTransferAcceleration.",
        )
        .with("BucketName", ctx.bucket_str())
        .ec("0028-00000004")
    })?;
    let mut w = XmlWriter::new("TransferAccelerationConfiguration");
    w.elem("Enabled", enabled.to_string());
    Ok(xml_response(w.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_rules_match_origin_method_and_headers() {
        let config = parse_cors(
            b"<CORSConfiguration><CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>\
              <AllowedMethod>PUT</AllowedMethod><AllowedHeader>x-oss-*</AllowedHeader><AllowedHeader>Content-Type</AllowedHeader>\
              <MaxAgeSeconds>100</MaxAgeSeconds></CORSRule></CORSConfiguration>",
        )
        .unwrap();
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(
            matching_rule(
                &config,
                "https://app.example.com",
                "PUT",
                &h(&["X-OSS-Meta-A", "content-type"])
            )
            .is_some()
        );
        assert!(matching_rule(&config, "https://app.example.com", "DELETE", &[]).is_none());
        assert!(matching_rule(&config, "https://evil.com", "GET", &[]).is_none());
        assert!(
            matching_rule(
                &config,
                "https://app.example.com",
                "GET",
                &h(&["authorization"])
            )
            .is_none()
        );
        for bad in [
            &b"<CORSConfiguration></CORSConfiguration>"[..],
            b"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>",
            b"<CORSConfiguration><CORSRule><AllowedOrigin>**</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        ] {
            assert_eq!(parse_cors(bad).unwrap_err().code, "InvalidArgument");
        }
    }

    /// Parse and check as PutBucketLifecycle does, with the wire error.
    fn lifecycle_of(body: &[u8], allow_overlap: bool) -> ApiResult<Vec<LifecycleRule>> {
        let rules = parse_lifecycle(body)?;
        lifecycle::check_rules(&rules, Dialect::Oss { allow_overlap })
            .map_err(|p| OssError::from(crate::core::CoreError::InvalidLifecycle(p)))?;
        Ok(rules)
    }

    #[test]
    fn lifecycle_rules_are_validated() {
        let ok = b"<LifecycleConfiguration><Rule><ID>a</ID><Prefix>logs/</Prefix><Status>Enabled</Status>\
                   <Expiration><Days>3</Days></Expiration></Rule><Rule><Prefix>tmp/</Prefix><Status>Disabled</Status>\
                   <AbortMultipartUpload><CreatedBeforeDate>2030-01-01T00:00:00.000Z</CreatedBeforeDate></AbortMultipartUpload></Rule>\
                   </LifecycleConfiguration>";
        let rules = lifecycle_of(ok, false).unwrap();
        assert_eq!(rules[0].expiration, Some(LifecycleWhen::Days(3)));
        assert_eq!(rules[1].id, "rule-2");
        let overlap = b"<LifecycleConfiguration><Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>\
                        <Rule><Prefix>ab</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
        let e = lifecycle_of(overlap, false).unwrap_err();
        assert_eq!((e.code, e.ec), ("InvalidArgument", Some("0014-00000084")));
        assert!(lifecycle_of(overlap, true).is_ok());
        let filtered = b"<LifecycleConfiguration><Rule><ID>f</ID><Prefix>logs/</Prefix><Status>Enabled</Status>\
                         <Expiration><Days>3</Days></Expiration><Filter><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan>\
                         <Not><Prefix>logs/keep/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Not></Filter></Rule></LifecycleConfiguration>";
        let rules = lifecycle_of(filtered, false).unwrap();
        assert_eq!(rules[0].size_greater_than, Some(10));
        assert_eq!(rules[0].not[0].tag, Some(("k".into(), "v".into())));
        for bad in [
            &b"<LifecycleConfiguration><Rule><Prefix/><Status>On</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>"[..],
            b"<LifecycleConfiguration><Rule><Prefix/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule><Prefix/><Status>Enabled</Status></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule><Prefix/><Status>Enabled</Status><Expiration><CreatedBeforeDate>2030-01-01T05:00:00.000Z</CreatedBeforeDate></Expiration></Rule></LifecycleConfiguration>",
            b"<LifecycleConfiguration><Rule><Prefix/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>IA</StorageClass><IsAccessTime>true</IsAccessTime></Transition></Rule></LifecycleConfiguration>",
        ] {
            assert_eq!(lifecycle_of(bad, false).unwrap_err().code, "InvalidArgument");
        }
        let no_prefix = b"<LifecycleConfiguration><Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
        assert_eq!(
            lifecycle_of(no_prefix, false).unwrap_err().code,
            "MalformedXML"
        );
    }
}
