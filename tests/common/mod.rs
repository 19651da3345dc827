//! A real server on 127.0.0.1:0 with a temp data directory, and a small V1-signing
//! HTTP client written independently of the server's signer.

#![allow(dead_code)]

use std::net::SocketAddr;

use ossify::config::Config;
use ossify::server::Server;
use reqwest::{Method, Response};

pub const ROOT_ID: &str = "LTAIroot1";
pub const ROOT_SECRET: &str = "root-secret-1";
pub const OTHER_ID: &str = "LTAIroot2";
pub const OTHER_SECRET: &str = "root-secret-2";
pub const READER_ID: &str = "LTAIreader";
pub const READER_SECRET: &str = "reader-secret";

pub fn config_toml(data_dir: &std::path::Path) -> String {
    config_toml_with(data_dir, "")
}

/// The standard configuration with `server_keys` added to `[server]`.
pub fn config_toml_with(data_dir: &std::path::Path, server_keys: &str) -> String {
    format!(
        r#"
[server]
data_dir = "{}"
{server_keys}

[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:0"]

[[regions]]
name = "oss-cn-shanghai"
listen = ["127.0.0.1:0"]

[[accounts]]
id = "1000000000000001"
access_key_id = "{ROOT_ID}"
access_key_secret = "{ROOT_SECRET}"

[[accounts.users]]
name = "reader"
access_key_id = "{READER_ID}"
access_key_secret = "{READER_SECRET}"
policy = '''{{"Version":"1","Statement":[{{"Effect":"Allow","Action":["oss:GetObject","oss:ListObjects"],"Resource":["acs:oss:*:*:*"]}}]}}'''

[[accounts]]
id = "1000000000000002"
access_key_id = "{OTHER_ID}"
access_key_secret = "{OTHER_SECRET}"
"#,
        data_dir.display()
    )
}

pub struct TestServer {
    pub server: Option<Server>,
    pub dir: tempfile::TempDir,
    /// hangzhou, shanghai
    pub addrs: Vec<SocketAddr>,
    pub http: reqwest::Client,
}

impl TestServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir).await
    }

    pub async fn start_in(dir: tempfile::TempDir) -> Self {
        Self::start_with(dir, "").await
    }

    /// A server whose configuration is the standard one followed by `extra` TOML.
    pub async fn start_with(dir: tempfile::TempDir, extra: &str) -> Self {
        Self::start_configured(dir, "", extra).await
    }

    /// A server with `server_keys` in `[server]` and `extra` TOML after the standard
    /// configuration.
    pub async fn start_configured(dir: tempfile::TempDir, server_keys: &str, extra: &str) -> Self {
        let text = format!("{}\n{extra}\n", config_toml_with(dir.path(), server_keys));
        let mut config = Config::from_toml(&text).unwrap();
        config.finish().unwrap();
        let server = Server::start(config).await.unwrap();
        let addrs = server.listeners.iter().map(|(_, a)| *a).collect();
        Self {
            server: Some(server),
            dir,
            addrs,
            http: http_client(),
        }
    }

    pub async fn restart(mut self) -> Self {
        self.server.take().unwrap().shutdown().await;
        Self::start_in(self.dir).await
    }

    pub fn req(&self, method: &str, path: &str) -> Req<'_> {
        Req {
            server: self,
            region: 0,
            method: method.parse().unwrap(),
            path: path.to_owned(),
            headers: vec![],
            body: vec![],
            key: Some((ROOT_ID.into(), ROOT_SECRET.into())),
        }
    }
}

pub struct Req<'a> {
    server: &'a TestServer,
    region: usize,
    method: Method,
    /// Path and query as sent, e.g. `/bucket/key?acl`.
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    key: Option<(String, String)>,
}

/// Sub-resources the test signer includes in the canonical resource.
const SUBRESOURCES: &[&str] = &[
    "acl",
    "append",
    "position",
    "bucketInfo",
    "location",
    "objectMeta",
    "uploads",
    "continuation-token",
    "response-content-type",
    "response-cache-control",
];

impl Req<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
    pub fn anonymous(mut self) -> Self {
        self.key = None;
        self
    }
    pub fn signed_by(mut self, id: &str, secret: &str) -> Self {
        self.key = Some((id.into(), secret.into()));
        self
    }
    pub fn region(mut self, region: usize) -> Self {
        self.region = region;
        self
    }

    fn string_to_sign(&self, date: &str) -> String {
        let get = |n: &str| {
            self.headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let mut oss: Vec<_> = self
            .headers
            .iter()
            .filter(|(k, _)| k.starts_with("x-oss-"))
            .collect();
        oss.sort();
        let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
        let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
        let mut resource = if decoded.matches('/').count() == 1 && decoded.len() > 1 {
            format!("{decoded}/")
        } else {
            decoded.into_owned()
        };
        let mut subs: Vec<String> = query
            .split('&')
            .filter(|p| SUBRESOURCES.contains(&p.split('=').next().unwrap()))
            .map(|p| {
                percent_encoding::percent_decode_str(p.trim_end_matches('='))
                    .decode_utf8()
                    .unwrap()
                    .into_owned()
            })
            .collect();
        subs.sort();
        if !subs.is_empty() {
            resource = format!("{resource}?{}", subs.join("&"));
        }
        let mut s = format!(
            "{}\n{}\n{}\n{}\n",
            self.method,
            get("content-md5"),
            get("content-type"),
            date
        );
        for (k, v) in oss {
            s.push_str(&format!("{k}:{}\n", v.trim()));
        }
        s + &resource
    }

    pub async fn send(self) -> Response {
        let url = format!("http://{}{}", self.server.addrs[self.region], self.path);
        let mut builder = self.server.http.request(self.method.clone(), url);
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        if let Some((id, secret)) = &self.key {
            let signature =
                ossify::api::oss::auth::v1_signature(secret, &self.string_to_sign(&date));
            builder = builder.header("authorization", format!("OSS {id}:{signature}"));
        }
        builder = builder.header("date", date);
        for (k, v) in &self.headers {
            builder = builder.header(k, v);
        }
        builder.body(self.body).send().await.unwrap()
    }
}

/// `<Code>` of an error body.
pub async fn code(response: Response) -> String {
    let body = response.text().await.unwrap();
    let start = body.find("<Code>").map(|i| i + 6).unwrap_or(0);
    let end = body.find("</Code>").unwrap_or(0);
    body.get(start..end).unwrap_or_default().to_owned()
}

/// A plain HTTP client. reqwest is built without a default TLS provider (ossify's S3
/// blob store installs ring at start-up); install it here too, as a client needs one.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}
