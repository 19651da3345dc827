//! CORS rules of a bucket (set through either dialect): which rule allows a request,
//! and the headers an ordinary cross-origin request gets.

use crate::access::policy::glob;
use crate::storage::{BucketRecord, CorsConfig, CorsRule};

/// The first rule that allows `origin` to use `method` with `headers`.
pub fn matching_rule<'a>(
    config: &'a CorsConfig,
    origin: &str,
    method: &str,
    headers: &[String],
) -> Option<&'a CorsRule> {
    config.rules.iter().find(|rule| {
        rule.allowed_origins.iter().any(|o| glob(o, origin))
            && rule.allowed_methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                rule.allowed_headers
                    .iter()
                    .any(|allowed| glob(&allowed.to_ascii_lowercase(), &h.to_ascii_lowercase()))
            })
    })
}

/// CORS headers for an ordinary request with an `Origin` header. OSS echoes the
/// origin; S3 (`star_for_any`) answers `*` when the rule allows any origin.
pub fn cors_headers(
    bucket: &BucketRecord,
    origin: Option<&str>,
    method: &str,
    star_for_any: bool,
) -> Vec<(&'static str, String)> {
    let (Some(config), Some(origin)) = (&bucket.config.cors, origin) else {
        return vec![];
    };
    let Some(rule) = matching_rule(config, origin, method, &[]) else {
        return vec![];
    };
    let any = star_for_any && rule.allowed_origins.iter().any(|o| o == "*");
    let mut out = vec![
        (
            "access-control-allow-origin",
            if any { "*" } else { origin }.to_owned(),
        ),
        (
            "access-control-allow-methods",
            rule.allowed_methods.join(", "),
        ),
    ];
    if !rule.expose_headers.is_empty() {
        out.push((
            "access-control-expose-headers",
            rule.expose_headers.join(", "),
        ));
    }
    if config.response_vary {
        out.push(("vary", "Origin".into()));
    }
    out
}
