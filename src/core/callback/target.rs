//! Which hosts upload callbacks may reach: the operator's `[callback]` allow and deny
//! lists, checked against the URL's host name and every address it resolves to (OSS
//! refuses private addresses; ossify refuses what its lists say, by default the
//! link-local and cloud metadata endpoints). Pure: the caller resolves.

use std::net::IpAddr;
use std::str::FromStr;

/// One entry of an allow or deny list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `10.0.0.0/8`, or one address.
    Net(ipnet::IpNet),
    /// A host name (lower-case), or `*.suffix` for every name under it.
    Name(String),
}

impl FromStr for Rule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(Rule::Net(net));
        }
        if let Ok(ip) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Rule::Net(ip.into()));
        }
        let name = s.strip_prefix("*.").unwrap_or(s);
        let valid = !name.is_empty()
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        if !valid {
            return Err(format!(
                "{s:?} is neither a network (\"169.254.0.0/16\"), an address nor a host name (\"metadata.google.internal\", \"*.internal\")"
            ));
        }
        Ok(Rule::Name(s.to_ascii_lowercase()))
    }
}

impl Rule {
    fn matches_name(&self, host: &str) -> bool {
        match self {
            Rule::Name(pattern) => match pattern.strip_prefix("*.") {
                Some(suffix) => host
                    .strip_suffix(suffix)
                    .is_some_and(|rest| rest.ends_with('.')),
                None => host == pattern,
            },
            Rule::Net(_) => false,
        }
    }

    fn matches_addr(&self, ip: IpAddr) -> bool {
        matches!(self, Rule::Net(net) if net.contains(&ip))
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Net(net) => write!(f, "{net}"),
            Rule::Name(name) => f.write_str(name),
        }
    }
}

/// The default deny list: link-local addresses (where clouds serve instance
/// metadata and credentials) and the metadata services' names and addresses.
pub const DEFAULT_DENY: &[&str] = &[
    "169.254.0.0/16",
    "fe80::/10",
    "fd00:ec2::254",
    "100.100.100.200",
    "metadata.google.internal",
    "metadata.goog",
];

/// The operator's allow and deny lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Empty: every target not denied.
    pub allow: Vec<Rule>,
    pub deny: Vec<Rule>,
}

impl Default for TargetPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: DEFAULT_DENY
                .iter()
                .map(|r| r.parse().expect("valid default"))
                .collect(),
        }
    }
}

impl TargetPolicy {
    /// May a callback go to `host` (lower-case name or address literal) at `addrs`
    /// (what it resolved to)? A deny entry matching the name or any address refuses;
    /// with an allow list, the name or every address must match one of its entries.
    pub fn check(&self, host: &str, addrs: &[IpAddr]) -> Result<(), String> {
        // An IPv4 address may arrive as ::ffff:a.b.c.d.
        let addrs: Vec<IpAddr> = addrs.iter().map(|ip| ip.to_canonical()).collect();
        for rule in &self.deny {
            if rule.matches_name(host) {
                return Err(format!("the host {host} is in the [callback] deny list"));
            }
            if let Some(ip) = addrs.iter().find(|ip| rule.matches_addr(**ip)) {
                return Err(format!(
                    "{host} resolves to {ip}, which the [callback] deny list refuses ({rule})"
                ));
            }
        }
        if self.allow.is_empty() || self.allow.iter().any(|r| r.matches_name(host)) {
            return Ok(());
        }
        match addrs
            .iter()
            .find(|ip| !self.allow.iter().any(|r| r.matches_addr(**ip)))
        {
            None if !addrs.is_empty() => Ok(()),
            None => Err(format!(
                "{host} resolves to no address and is not in the [callback] allow list"
            )),
            Some(ip) => Err(format!(
                "{host} resolves to {ip}, which is not in the [callback] allow list"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(list: &[&str]) -> Vec<IpAddr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn default_denies_metadata_and_allows_the_rest() {
        let p = TargetPolicy::default();
        assert!(p.check("127.0.0.1", &ips(&["127.0.0.1"])).is_ok());
        assert!(p.check("example.com", &ips(&["93.184.216.34"])).is_ok());
        assert!(p.check("10.0.0.5", &ips(&["10.0.0.5"])).is_ok());
        let e = p
            .check("169.254.169.254", &ips(&["169.254.169.254"]))
            .unwrap_err();
        assert!(e.contains("169.254.0.0/16"), "{e}");
        // A name resolving to a metadata address, or one of several addresses.
        assert!(
            p.check("evil.example", &ips(&["93.184.216.34", "169.254.169.254"]))
                .is_err()
        );
        assert!(
            p.check("x", &ips(&["::ffff:169.254.169.254"]))
                .unwrap_err()
                .contains("169.254.169.254")
        );
        assert!(p.check("x", &ips(&["fd00:ec2::254"])).is_err());
        assert!(p.check("x", &ips(&["100.100.100.200"])).is_err());
        assert!(p.check("metadata.google.internal", &[]).is_err());
    }

    #[test]
    fn allow_lists_and_names() {
        let p = TargetPolicy {
            allow: ["10.0.0.0/8", "*.example.com", "hooks.internal"]
                .iter()
                .map(|r| r.parse().unwrap())
                .collect(),
            deny: vec!["127.0.0.2".parse().unwrap()],
        };
        assert!(p.check("a.example.com", &ips(&["1.2.3.4"])).is_ok());
        assert!(p.check("example.com", &ips(&["1.2.3.4"])).is_err());
        assert!(p.check("hooks.internal", &[]).is_ok());
        assert!(p.check("svc", &ips(&["10.1.2.3", "10.9.9.9"])).is_ok());
        assert!(
            p.check("svc", &ips(&["10.1.2.3", "11.0.0.1"]))
                .unwrap_err()
                .contains("11.0.0.1")
        );
        assert!(p.check("svc", &[]).is_err());
        assert!(
            p.check("127.0.0.2", &ips(&["127.0.0.2"]))
                .unwrap_err()
                .contains("deny")
        );
        for bad in ["10.0.0.0/33", "a..b", "*.", "http://x"] {
            assert!(bad.parse::<Rule>().is_err(), "{bad}");
        }
        assert_eq!(
            "[::1]".parse::<Rule>().unwrap(),
            Rule::Net("::1/128".parse().unwrap())
        );
    }
}
