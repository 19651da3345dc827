//! Static website hosting (PutBucketWebsite): the checks of a configuration and the
//! rules of serving, as OSS applies them to anonymous reads of a bucket with a website
//! configuration: routing rules first, then the index document (with SupportSubDir
//! and its `Type`), then rules on the 404, then the error document.
//!
//! Pure functions of the configuration and the request; the dialect reads the objects.

use super::{CoreError, CoreResult};
use crate::storage::{RedirectType, RoutingRule, WebsiteConfig};

/// At most 20 routing rules, 10 IncludeHeader conditions each (OSS).
const MAX_RULES: usize = 20;
const MAX_INCLUDE_HEADERS: usize = 10;
/// The `Type` values of IndexDocument.
pub const SUB_DIR_REDIRECT: u8 = 0;
pub const SUB_DIR_NOT_FOUND: u8 = 1;
pub const SUB_DIR_SERVE: u8 = 2;

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidArgument(message.into())
}

/// PutBucketWebsite's checks of a parsed configuration.
pub fn validate(config: &WebsiteConfig) -> CoreResult<()> {
    if let Some(index) = &config.index {
        if index.suffix.is_empty() {
            return Err(invalid("IndexDocument needs a non-empty Suffix."));
        }
        if index.sub_dir_type > SUB_DIR_SERVE {
            return Err(invalid("IndexDocument Type must be 0, 1 or 2."));
        }
    }
    if let Some(error) = &config.error {
        if error.key.is_empty() {
            return Err(invalid("ErrorDocument needs a non-empty Key."));
        }
        if !matches!(error.http_status, 200 | 404) {
            return Err(invalid("ErrorDocument HttpStatus must be 200 or 404."));
        }
    }
    if config.rules.len() > MAX_RULES {
        return Err(invalid(format!(
            "A website configuration has at most {MAX_RULES} RoutingRule elements."
        )));
    }
    for (i, rule) in config.rules.iter().enumerate() {
        let number = rule.number;
        let bad = |what: &str| invalid(format!("RoutingRule {number}: {what}"));
        if number == 0 {
            return Err(invalid("RuleNumber must be a positive integer."));
        }
        if config.rules[..i].iter().any(|r| r.number == number) {
            return Err(bad("RuleNumber is used twice; every rule needs its own."));
        }
        if rule.include_headers.len() > MAX_INCLUDE_HEADERS {
            return Err(bad("a Condition has at most 10 IncludeHeader elements."));
        }
        if rule.include_headers.iter().any(|h| h.key.is_empty()) {
            return Err(bad("every IncludeHeader needs a Key."));
        }
        if rule
            .http_error_code_returned_equals
            .is_some_and(|c| !(100..=599).contains(&c))
        {
            return Err(bad(
                "HttpErrorCodeReturnedEquals must be an HTTP status code.",
            ));
        }
        let r = &rule.redirect;
        if r.replace_key_with.is_some() && r.replace_key_prefix_with.is_some() {
            return Err(bad(
                "give ReplaceKeyWith or ReplaceKeyPrefixWith, not both.",
            ));
        }
        if r.replace_key_with.is_some() && r.enable_replace_prefix {
            return Err(bad(
                "EnableReplacePrefix cannot be true together with ReplaceKeyWith.",
            ));
        }
        match r.redirect_type {
            RedirectType::External => {
                if r.http_redirect_code
                    .is_some_and(|c| !matches!(c, 301 | 302 | 307))
                {
                    return Err(bad("HttpRedirectCode must be 301, 302 or 307."));
                }
                if r.protocol
                    .as_deref()
                    .is_some_and(|p| !matches!(p, "http" | "https"))
                {
                    return Err(bad("Protocol must be http or https."));
                }
            }
            RedirectType::Internal => {
                if r.protocol.is_some() || r.host_name.is_some() || r.http_redirect_code.is_some() {
                    return Err(bad(
                        "an Internal redirect takes no Protocol, HostName or HttpRedirectCode.",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The index document that answers `key` (`""` is the bucket root): for the root and
/// for keys ending in `/`; a subdirectory gets its own index only with SupportSubDir
/// (otherwise the root's).
pub fn index_key(config: &WebsiteConfig, key: &str) -> Option<String> {
    let index = config.index.as_ref()?;
    if !key.is_empty() && !key.ends_with('/') {
        return None;
    }
    Some(match index.support_sub_dir {
        true => format!("{key}{}", index.suffix),
        false => index.suffix.clone(),
    })
}

/// For a missing `key` without a trailing `/` under SupportSubDir: the `Type` and the
/// `key/<Suffix>` it looks for.
pub fn sub_dir_index(config: &WebsiteConfig, key: &str) -> Option<(u8, String)> {
    let index = config.index.as_ref().filter(|i| i.support_sub_dir)?;
    if key.is_empty() || key.ends_with('/') {
        return None;
    }
    Some((index.sub_dir_type, format!("{key}/{}", index.suffix)))
}

/// The first rule (in RuleNumber order) matching `key`, the request `header`s and
/// the status so far: `None` before the object is looked up (rules without
/// HttpErrorCodeReturnedEquals), the error status after (rules naming it).
pub fn matching_rule<'a>(
    config: &'a WebsiteConfig,
    key: &str,
    status: Option<u16>,
    header: &dyn Fn(&str) -> Option<String>,
) -> Option<&'a RoutingRule> {
    config.rules.iter().find(|rule| {
        rule.http_error_code_returned_equals == status
            && rule
                .key_prefix_equals
                .as_deref()
                .is_none_or(|p| key.starts_with(p))
            && rule
                .key_suffix_equals
                .as_deref()
                .is_none_or(|s| key.ends_with(s))
            && rule.include_headers.iter().all(|h| {
                header(&h.key).is_some_and(|v| {
                    h.equals.as_deref().is_none_or(|e| v == e)
                        && h.starts_with.as_deref().is_none_or(|p| v.starts_with(p))
                        && h.ends_with.as_deref().is_none_or(|s| v.ends_with(s))
                })
            })
    })
}

/// The key a matched rule sends `key` to: ReplaceKeyWith (`${key}` stands for the
/// key), or the KeyPrefixEquals prefix replaced by ReplaceKeyPrefixWith (put in front
/// when the rule has no prefix), or the key itself.
pub fn redirect_key(rule: &RoutingRule, key: &str) -> String {
    let r = &rule.redirect;
    if let Some(with) = &r.replace_key_with {
        return with.replace("${key}", key);
    }
    match (&r.replace_key_prefix_with, &rule.key_prefix_equals) {
        (Some(with), Some(prefix)) => format!("{with}{}", &key[prefix.len()..]),
        (Some(with), None) => format!("{with}{key}"),
        // EnableReplacePrefix without a replacement truncates the prefix (OSS).
        (None, Some(prefix)) if r.enable_replace_prefix => key[prefix.len()..].to_owned(),
        (None, _) => key.to_owned(),
    }
}

/// The Location of an External redirect to `key`: the rule's protocol and host, or
/// the request's; `query` (without `?`) kept when PassQueryString is true.
pub fn location(
    rule: &RoutingRule,
    scheme: &str,
    host: &str,
    key: &str,
    query: Option<&str>,
) -> String {
    let r = &rule.redirect;
    let mut out = format!(
        "{}://{}/{}",
        r.protocol.as_deref().unwrap_or(scheme),
        r.host_name.as_deref().unwrap_or(host),
        encode_path(key)
    );
    if let Some(q) = query.filter(|q| r.pass_query_string && !q.is_empty()) {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A key as a URL path: each segment percent-encoded, `/` kept.
pub fn encode_path(key: &str) -> String {
    key.split('/')
        .map(|s| percent_encoding::utf8_percent_encode(s, crate::names::URL_ENCODE).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// The status of an External redirect (302 unless the rule says otherwise).
pub fn redirect_status(rule: &RoutingRule) -> u16 {
    rule.redirect.http_redirect_code.unwrap_or(302)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{ErrorDocument, IncludeHeader, IndexDocument, Redirect};

    fn redirect(redirect_type: RedirectType) -> Redirect {
        Redirect {
            redirect_type,
            protocol: None,
            host_name: None,
            http_redirect_code: None,
            replace_key_with: None,
            replace_key_prefix_with: None,
            enable_replace_prefix: false,
            pass_query_string: false,
        }
    }

    fn rule(number: u32, prefix: Option<&str>, status: Option<u16>) -> RoutingRule {
        RoutingRule {
            number,
            key_prefix_equals: prefix.map(Into::into),
            key_suffix_equals: None,
            http_error_code_returned_equals: status,
            include_headers: vec![],
            redirect: redirect(RedirectType::External),
        }
    }

    fn site(support_sub_dir: bool, sub_dir_type: u8) -> WebsiteConfig {
        WebsiteConfig {
            index: Some(IndexDocument {
                suffix: "index.html".into(),
                support_sub_dir,
                sub_dir_type,
            }),
            error: Some(ErrorDocument {
                key: "error.html".into(),
                http_status: 404,
            }),
            rules: vec![],
        }
    }

    #[test]
    fn index_documents() {
        let flat = site(false, 0);
        assert_eq!(index_key(&flat, ""), Some("index.html".into()));
        assert_eq!(index_key(&flat, "a/b/"), Some("index.html".into()));
        assert_eq!(index_key(&flat, "a/b"), None);
        assert_eq!(sub_dir_index(&flat, "a"), None);
        let sub = site(true, SUB_DIR_SERVE);
        assert_eq!(index_key(&sub, "a/b/"), Some("a/b/index.html".into()));
        assert_eq!(index_key(&sub, ""), Some("index.html".into()));
        assert_eq!(sub_dir_index(&sub, "a"), Some((2, "a/index.html".into())));
        assert_eq!(sub_dir_index(&sub, "a/"), None);
        assert_eq!(index_key(&WebsiteConfig::default(), ""), None);
    }

    #[test]
    fn rules_match_in_order_before_and_after_the_lookup() {
        let mut config = site(false, 0);
        let mut with_header = rule(1, Some("img/"), None);
        with_header.include_headers.push(IncludeHeader {
            key: "x-app".into(),
            equals: Some("1".into()),
            starts_with: None,
            ends_with: None,
        });
        config.rules = vec![
            with_header,
            rule(2, Some("img/"), None),
            rule(3, None, Some(404)),
        ];
        let none = |_: &str| None;
        let app = |name: &str| (name == "x-app").then(|| "1".to_owned());
        assert_eq!(
            matching_rule(&config, "img/a", None, &app).map(|r| r.number),
            Some(1)
        );
        assert_eq!(
            matching_rule(&config, "img/a", None, &none).map(|r| r.number),
            Some(2)
        );
        assert_eq!(matching_rule(&config, "doc/a", None, &none), None);
        assert_eq!(
            matching_rule(&config, "doc/a", Some(404), &none).map(|r| r.number),
            Some(3)
        );
        assert_eq!(matching_rule(&config, "doc/a", Some(403), &none), None);
    }

    #[test]
    fn redirect_keys_and_locations() {
        let mut r = rule(1, Some("abc/"), None);
        assert_eq!(redirect_key(&r, "abc/x.txt"), "abc/x.txt");
        r.redirect.replace_key_prefix_with = Some("def/".into());
        assert_eq!(redirect_key(&r, "abc/x.txt"), "def/x.txt");
        r.redirect.replace_key_prefix_with = None;
        r.redirect.enable_replace_prefix = true;
        assert_eq!(redirect_key(&r, "abc/x.txt"), "x.txt");
        r.redirect.enable_replace_prefix = false;
        r.redirect.replace_key_with = Some("prefix/${key}.suffix".into());
        assert_eq!(redirect_key(&r, "test"), "prefix/test.suffix");

        r.redirect.protocol = Some("https".into());
        r.redirect.host_name = Some("example.com".into());
        assert_eq!(
            location(&r, "http", "h:1", "a b/c", Some("a=b&c=d")),
            "https://example.com/a%20b/c"
        );
        r.redirect.pass_query_string = true;
        assert_eq!(
            location(&r, "http", "h:1", "t", Some("a=b&c=d")),
            "https://example.com/t?a=b&c=d"
        );
        let plain = rule(1, None, None);
        assert_eq!(location(&plain, "http", "h:1", "k", None), "http://h:1/k");
        assert_eq!(redirect_status(&plain), 302);
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&site(true, 2)), Ok(()));
        let mut bad = site(true, 3);
        assert!(validate(&bad).is_err());
        bad = site(false, 0);
        bad.error.as_mut().unwrap().http_status = 500;
        assert!(validate(&bad).is_err());
        let mut config = site(false, 0);
        config.rules = vec![rule(1, None, None), rule(1, None, None)];
        assert!(validate(&config).is_err());
        config.rules = vec![rule(1, None, None)];
        config.rules[0].redirect.http_redirect_code = Some(303);
        assert!(validate(&config).is_err());
        config.rules[0].redirect = redirect(RedirectType::Internal);
        config.rules[0].redirect.host_name = Some("h".into());
        assert!(validate(&config).is_err());
        config.rules[0].redirect.host_name = None;
        config.rules[0].redirect.replace_key_with = Some("a".into());
        config.rules[0].redirect.replace_key_prefix_with = Some("b".into());
        assert!(validate(&config).is_err());
        config.rules[0].redirect.replace_key_prefix_with = None;
        assert_eq!(validate(&config), Ok(()));
        config.rules = (1..=21).map(|n| rule(n, None, None)).collect();
        assert!(validate(&config).is_err());
    }
}
