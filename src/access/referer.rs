//! Hotlink protection (PutBucketReferer): which `Referer` may read a bucket's
//! objects. Pure: the caller says whether the request is subject to it (OSS checks
//! anonymous and presigned-URL reads, never requests signed in an `Authorization`
//! header) and passes the header.

use serde::{Deserialize, Serialize};

use super::policy::glob;

/// A bucket's Referer configuration, as PutBucketReferer stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefererConfig {
    /// A request without a `Referer` (or with an empty one) passes.
    pub allow_empty: bool,
    /// The query string of the `Referer` is dropped before matching.
    pub truncate_query_string: bool,
    /// Everything from the path on is dropped before matching (`scheme://host:port`).
    pub truncate_path: bool,
    /// Whitelist patterns (`*` any run of characters, `?` one character).
    pub allowed: Vec<String>,
    /// Blacklist patterns; a match is refused whatever the whitelist says.
    pub blocked: Vec<String>,
}

impl Default for RefererConfig {
    /// What GetBucketReferer answers for a bucket never configured: everything passes.
    fn default() -> Self {
        Self {
            allow_empty: true,
            truncate_query_string: true,
            truncate_path: false,
            allowed: vec![],
            blocked: vec![],
        }
    }
}

/// Why a `Referer` was refused; each has its own OSS error code (EC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefererDenial {
    /// No (or an empty) `Referer`, and `AllowEmptyReferer` is false with a whitelist.
    Empty,
    /// The `Referer` matches the blacklist.
    Blacklisted,
    /// The `Referer` matches no whitelist entry.
    NotWhitelisted,
}

impl RefererConfig {
    /// OSS's order: an empty `Referer` is settled by `AllowEmptyReferer` (an empty
    /// whitelist lets it through too); then the blacklist refuses; then the
    /// whitelist, when it has entries, must match.
    pub fn check(&self, referer: Option<&str>) -> Result<(), RefererDenial> {
        let Some(referer) = referer.filter(|r| !r.is_empty()) else {
            return if self.allow_empty || self.allowed.is_empty() {
                Ok(())
            } else {
                Err(RefererDenial::Empty)
            };
        };
        let seen = self.truncate(referer);
        if self.blocked.iter().any(|p| matches(p, seen)) {
            return Err(RefererDenial::Blacklisted);
        }
        if self.allowed.is_empty() || self.allowed.iter().any(|p| matches(p, seen)) {
            Ok(())
        } else {
            Err(RefererDenial::NotWhitelisted)
        }
    }

    /// The part of `referer` that patterns are matched against.
    fn truncate<'a>(&self, referer: &'a str) -> &'a str {
        if self.truncate_path {
            let host_at = referer.find("://").map_or(0, |i| i + 3);
            let end = referer[host_at..]
                .find(['/', '?', '#'])
                .map_or(referer.len(), |i| host_at + i);
            &referer[..end]
        } else if self.truncate_query_string {
            referer
                .split_once('?')
                .map_or(referer, |(before, _)| before)
        } else {
            referer
        }
    }
}

/// OSS matches a pattern against the start of the `Referer` ("http://a.com" lets
/// "http://a.com/page" and "http://a.com.cn" in), ignoring ASCII case as host
/// names do.
fn matches(pattern: &str, referer: &str) -> bool {
    glob(
        &format!("{}*", pattern.to_ascii_lowercase()),
        &referer.to_ascii_lowercase(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use RefererDenial::*;

    fn config(allow_empty: bool, allowed: &[&str], blocked: &[&str]) -> RefererConfig {
        RefererConfig {
            allow_empty,
            allowed: allowed.iter().map(|s| s.to_string()).collect(),
            blocked: blocked.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn decision_table() {
        let white = &[
            "http://www.example.com",
            "https://*.example.com",
            "https://img?.cdn.com/",
        ][..];
        let black = &["https://bad.example.com", "*evil*"][..];
        let cases: &[(RefererConfig, Option<&str>, Result<(), RefererDenial>)] = &[
            // The default configuration lets everything through.
            (RefererConfig::default(), None, Ok(())),
            (RefererConfig::default(), Some("http://any.where/"), Ok(())),
            // Empty Referer: AllowEmptyReferer decides, unless the whitelist is empty.
            (config(true, white, &[]), None, Ok(())),
            (config(true, white, &[]), Some(""), Ok(())),
            (config(false, white, &[]), None, Err(Empty)),
            (config(false, white, &[]), Some(""), Err(Empty)),
            (config(false, &[], &[]), None, Ok(())),
            (config(false, &[], black), None, Ok(())),
            // Whitelist: prefix match with wildcards.
            (
                config(false, white, &[]),
                Some("http://www.example.com"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("http://www.example.com/a/b.html"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("http://www.example.com.cn/"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("https://www.example.com/"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("https://api.example.com/x"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("HTTP://WWW.EXAMPLE.COM/"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("https://img1.cdn.com/p.png"),
                Ok(()),
            ),
            (
                config(false, white, &[]),
                Some("https://img12.cdn.com/p.png"),
                Err(NotWhitelisted),
            ),
            (
                config(false, white, &[]),
                Some("https://example.com/"),
                Err(NotWhitelisted),
            ),
            (
                config(false, white, &[]),
                Some("http://other.com/"),
                Err(NotWhitelisted),
            ),
            (
                config(true, white, &[]),
                Some("http://other.com/"),
                Err(NotWhitelisted),
            ),
            // Blacklist wins over the whitelist, and works without one.
            (
                config(false, white, black),
                Some("https://bad.example.com/"),
                Err(Blacklisted),
            ),
            (
                config(false, white, black),
                Some("https://good.example.com/"),
                Ok(()),
            ),
            (
                config(true, &[], black),
                Some("https://an.evil.site/"),
                Err(Blacklisted),
            ),
            (config(true, &[], black), Some("https://fine.site/"), Ok(())),
        ];
        for (config, referer, want) in cases {
            assert_eq!(config.check(*referer), *want, "{config:?} {referer:?}");
        }
    }

    #[test]
    fn truncation_decides_what_is_matched() {
        // A blacklist pattern that only the query string would match.
        let mut c = config(true, &[], &["*utm=evil*"]);
        let referer = Some("https://site.com/page?utm=evil");
        assert_eq!(c.check(referer), Ok(()));
        c.truncate_query_string = false;
        assert_eq!(c.check(referer), Err(Blacklisted));
        // A whitelist entry with a path stops matching once paths are cut.
        let mut c = config(false, &["https://site.com/app/"], &[]);
        assert_eq!(c.check(Some("https://site.com/app/x")), Ok(()));
        c.truncate_path = true;
        assert_eq!(c.check(Some("https://site.com/app/x")), Err(NotWhitelisted));
        assert_eq!(
            c.truncate("https://site.com:8080/a?b"),
            "https://site.com:8080"
        );
        assert_eq!(c.truncate("https://site.com?q"), "https://site.com");
        assert_eq!(c.truncate("site.com/a"), "site.com");
    }
}
