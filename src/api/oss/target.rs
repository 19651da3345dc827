//! Request target: region, bucket and key from the `Host` header and the path
//! (spec/oss-api.md §1.3).

use std::net::IpAddr;

use percent_encoding::percent_decode_str;

use super::error::{ApiResult, OssError};

/// Host names that address one region.
#[derive(Debug, Clone)]
pub struct RegionHosts {
    /// `endpoint` from the configuration, plus `<name>.aliyuncs.com` and
    /// `<name>-internal.aliyuncs.com` (what ali-oss writes into `Host` for IP endpoints).
    pub hosts: Vec<String>,
}

impl RegionHosts {
    pub fn new(name: &str, endpoint: Option<&str>) -> Self {
        let mut hosts: Vec<String> = endpoint
            .map(|e| e.to_ascii_lowercase())
            .into_iter()
            .collect();
        hosts.push(format!("{name}.aliyuncs.com"));
        hosts.push(format!("{name}-internal.aliyuncs.com"));
        Self { hosts }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Index into the configured regions.
    pub region: usize,
    /// Decoded, not yet validated.
    pub bucket: Option<String>,
    pub key: Option<String>,
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

fn decode(part: &str) -> ApiResult<String> {
    percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| OssError::invalid_object_name("the name is not valid UTF-8"))
}

/// Resolve where a request goes. `listener_region` is the region of the socket
/// the request arrived on; a host name that belongs to a region overrides it.
pub fn resolve(
    host: Option<&str>,
    raw_path: &str,
    regions: &[RegionHosts],
    listener_region: usize,
) -> ApiResult<Target> {
    let host = host
        .map(|h| strip_port(h.trim()).to_ascii_lowercase())
        .unwrap_or_default();
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    let path_style = |region| -> ApiResult<Target> {
        // Bucket names never contain '/', so split before decoding: a key's `%2F` stays in the key.
        let (bucket, key) = match path.split_once('/') {
            Some((b, k)) => (b, Some(k)),
            None => (path, None),
        };
        if bucket.is_empty() {
            return Ok(Target {
                region,
                bucket: None,
                key: None,
            });
        }
        let key = match key {
            Some(k) if !k.is_empty() => Some(decode(k)?),
            _ => None,
        };
        Ok(Target {
            region,
            bucket: Some(decode(bucket)?),
            key,
        })
    };
    let virtual_hosted = |label: &str, region| -> ApiResult<Target> {
        // Virtual-hosted: the whole path is the key (`//x` is the key `/x`, which OSS refuses later).
        let bucket = (!label.is_empty()).then(|| label.to_owned());
        let key = match (&bucket, path.is_empty()) {
            (Some(_), false) => Some(decode(path)?),
            _ => None,
        };
        Ok(Target {
            region,
            bucket,
            key,
        })
    };
    if host.is_empty() || host == "localhost" || host.parse::<IpAddr>().is_ok() {
        return path_style(listener_region);
    }
    for (i, region) in regions.iter().enumerate() {
        for service in &region.hosts {
            if host == *service {
                return path_style(i);
            }
            if let Some(label) = host
                .strip_suffix(service.as_str())
                .and_then(|l| l.strip_suffix('.'))
            {
                return virtual_hosted(label, i);
            }
        }
    }
    if let Some(label) = host.strip_suffix(".localhost") {
        return virtual_hosted(label, listener_region);
    }
    path_style(listener_region)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<RegionHosts> {
        vec![
            RegionHosts::new("oss-cn-hangzhou", Some("oss.example.com")),
            RegionHosts::new("oss-cn-shanghai", None),
        ]
    }

    fn t(region: usize, bucket: Option<&str>, key: Option<&str>) -> Target {
        Target {
            region,
            bucket: bucket.map(Into::into),
            key: key.map(Into::into),
        }
    }

    #[test]
    fn addressing_table() {
        let r = regions();
        let cases = [
            (Some("127.0.0.1:9000"), "/", t(1, None, None)),
            (Some("127.0.0.1:9000"), "/b", t(1, Some("b"), None)),
            (Some("127.0.0.1:9000"), "/b/", t(1, Some("b"), None)),
            (
                Some("127.0.0.1:9000"),
                "/b/dir%2Fa%20b+c",
                t(1, Some("b"), Some("dir/a b+c")),
            ),
            (
                Some("127.0.0.1:9000"),
                "/b/dir/x",
                t(1, Some("b"), Some("dir/x")),
            ),
            (Some("[::1]:9000"), "/b/k", t(1, Some("b"), Some("k"))),
            (Some("localhost:9000"), "/b/k", t(1, Some("b"), Some("k"))),
            (Some("b.localhost:9000"), "/k", t(1, Some("b"), Some("k"))),
            (Some("OSS.example.com"), "/b/k", t(0, Some("b"), Some("k"))),
            (
                Some("b.oss.example.com"),
                "/k/x",
                t(0, Some("b"), Some("k/x")),
            ),
            (Some("b.oss.example.com"), "/", t(0, Some("b"), None)),
            (
                Some("b.oss.example.com"),
                "//k",
                t(0, Some("b"), Some("/k")),
            ),
            (
                Some("b.oss-cn-shanghai.aliyuncs.com"),
                "/k",
                t(1, Some("b"), Some("k")),
            ),
            // ali-oss with an IP endpoint sends an empty bucket label for ListBuckets.
            (Some(".oss-cn-hangzhou.aliyuncs.com"), "/", t(0, None, None)),
            (
                Some("unknown.example.org"),
                "/b/k",
                t(1, Some("b"), Some("k")),
            ),
            (None, "/b/k", t(1, Some("b"), Some("k"))),
        ];
        for (host, path, want) in cases {
            assert_eq!(resolve(host, path, &r, 1).unwrap(), want, "{host:?} {path}");
        }
        assert_eq!(
            resolve(None, "/b/%FF", &r, 0).unwrap_err().code,
            "InvalidObjectName"
        );
    }
}
