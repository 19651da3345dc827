//! Upload callbacks (OSS "Callback"): after PutObject, PostObject or
//! CompleteMultipartUpload has stored an object, POST a body built from the object's
//! facts to the URL the request named, signed with the server's RSA key, and hand the
//! answer to the client.
//!
//! [`Callbacks::prepare`] checks the parameters and resolves and vets the target
//! before anything is stored; [`Callbacks::invoke`] runs the request, bounded in
//! time and size, connecting only to the addresses that were vetted.

pub mod params;
pub mod signer;
pub mod target;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;

pub use params::{BodyType, Callback, CallbackUrl, Problem};
pub use signer::Signer;
pub use target::{Rule, TargetPolicy};

use super::{CoreError, CoreResult, Store};
use crate::storage::{BucketRecord, CallbackPolicy, ObjectRecord};
use params::{Facts, ImageInfo, Parsed};

/// Every callback request must be answered within this time (OSS: 5 s, not
/// configurable); it also bounds resolving the callback host.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest callback answer (OSS: 1 MB, with a valid Content-Length).
pub const MAX_RESPONSE: u64 = 1024 * 1024;
/// Largest callback body after variable substitution.
pub const MAX_BODY: usize = 1024 * 1024;
/// Bytes of an object read to learn its image format and size (`imageInfo`).
const IMAGE_HEAD: u64 = 256 * 1024;
/// Most callback policies one bucket keeps (ossify's bound; each is read with every
/// request on the bucket).
pub const MAX_POLICIES: usize = 5;

/// Check the policies of PutBucketCallbackPolicy: at most [`MAX_POLICIES`], unique
/// non-empty names, each `callback` a callback (not a policy reference) and each
/// non-empty `callback-var` valid.
pub fn check_policies(policies: &[CallbackPolicy]) -> CoreResult<()> {
    if policies.len() > MAX_POLICIES {
        return Err(CoreError::InvalidArgument(format!(
            "A bucket has at most {MAX_POLICIES} callback policies; this request has {}.",
            policies.len()
        )));
    }
    for (i, policy) in policies.iter().enumerate() {
        if policy.name.is_empty() {
            return Err(CoreError::InvalidArgument(
                "Every PolicyItem needs a non-empty PolicyName.".into(),
            ));
        }
        if policies[..i].iter().any(|p| p.name == policy.name) {
            return Err(CoreError::InvalidArgument(format!(
                "The PolicyName {:?} appears more than once; policy names are unique.",
                policy.name
            )));
        }
        match params::parse_callback(&policy.callback) {
            Ok(Parsed::Callback(_)) => {}
            Ok(Parsed::Policy(name)) => {
                return Err(CoreError::InvalidCallback(Problem::NoSuchPolicy { name }));
            }
            Err(e) => return Err(CoreError::InvalidCallback(e)),
        }
        if !policy.callback_var.is_empty() {
            params::parse_callback_var(&policy.callback_var).map_err(CoreError::InvalidCallback)?;
        }
    }
    Ok(())
}

/// The callback parameters of a request, as the dialect found them.
#[derive(Debug, Default)]
pub struct Params<'a> {
    /// `callback` (query, header or form field).
    pub callback: &'a str,
    /// `callback-var` (query or header).
    pub var: Option<&'a str>,
    /// Custom variables given as PostObject form fields (`x:name`).
    pub form_vars: Vec<(String, String)>,
}

/// A checked callback with the addresses each URL may be reached at.
#[derive(Debug)]
pub struct Prepared {
    callback: Callback,
    /// Per URL: the vetted addresses (empty: the name did not resolve).
    addrs: Vec<Vec<IpAddr>>,
    /// Where the callback server fetches the public key (`x-oss-pub-key-url`).
    key_url: String,
}

/// The object a callback reports.
pub struct Upload<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub record: &'a ObjectRecord,
    /// `PutObject`, `PostObject` or `CompleteMultipartUpload`.
    pub operation: &'a str,
    pub client_ip: IpAddr,
    pub request_id: &'a str,
}

/// The callback server's answer, for the client.
#[derive(Debug)]
pub struct Reply {
    pub content_type: String,
    pub body: Bytes,
}

/// Why a callback failed (the object stays stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No connection (refused, unreachable, name not resolved, TLS failure).
    Unreachable,
    /// No complete answer within [`TIMEOUT`].
    Timeout,
    /// An answer other than 200.
    Status(u16),
    /// An answer without Content-Length, or larger than [`MAX_RESPONSE`].
    ResponseTooLarge,
    /// An answer body that is not JSON.
    ResponseNotJson,
    /// The object could not be read for its `imageInfo`.
    ImageInfo,
    /// The substituted body is larger than [`MAX_BODY`].
    BodyTooLong,
}

/// Upload callbacks of this server: its signing key and the targets it may call.
#[derive(Debug)]
pub struct Callbacks {
    signer: Signer,
    targets: TargetPolicy,
    /// Replaces the URL the dialect derives for `x-oss-pub-key-url`.
    public_key_url: Option<String>,
}

impl Callbacks {
    pub fn new(signer: Signer, targets: TargetPolicy, public_key_url: Option<String>) -> Self {
        crate::install_tls_provider();
        Self {
            signer,
            targets,
            public_key_url,
        }
    }

    /// The PEM public key callback servers verify signatures with.
    pub fn public_pem(&self) -> &str {
        self.signer.public_pem()
    }

    /// Check the parameters (a `callbackPolicy` reference is looked up in `bucket`),
    /// resolve every URL's host once and vet it; nothing is stored yet. `key_url` is
    /// where this server serves its public key, as the request reached it.
    pub async fn prepare(
        &self,
        bucket: &BucketRecord,
        params: Params<'_>,
        key_url: String,
    ) -> CoreResult<Prepared> {
        let problem = CoreError::InvalidCallback;
        let (mut callback, policy_var) = match params::parse_callback(params.callback) {
            Ok(Parsed::Callback(c)) => (c, None),
            Ok(Parsed::Policy(name)) => {
                let policy = bucket
                    .config
                    .callback_policies
                    .iter()
                    .find(|p| p.name == name)
                    .ok_or_else(|| problem(Problem::NoSuchPolicy { name: name.clone() }))?;
                match params::parse_callback(&policy.callback).map_err(problem)? {
                    Parsed::Callback(c) => (c, Some(policy.callback_var.as_str())),
                    // A policy does not name another policy.
                    Parsed::Policy(name) => return Err(problem(Problem::NoSuchPolicy { name })),
                }
            }
            Err(e) => return Err(problem(e)),
        };
        // The request's own callback-var wins over the policy's.
        if let Some(var) = params.var.or(policy_var.filter(|v| !v.is_empty())) {
            callback.vars = params::parse_callback_var(var).map_err(problem)?;
        }
        callback.vars.extend(params.form_vars);
        let mut addrs = Vec::with_capacity(callback.urls.len());
        for url in &callback.urls {
            let resolved = resolve(url).await;
            self.targets.check(&url.host, &resolved).map_err(|why| {
                problem(Problem::Refused {
                    url: url.url(),
                    why,
                })
            })?;
            addrs.push(resolved);
        }
        Ok(Prepared {
            callback,
            addrs,
            key_url: self.public_key_url.clone().unwrap_or(key_url),
        })
    }

    /// Send the callback of a stored object: each URL in turn until one answers 200
    /// with a JSON body. The error is the last URL's.
    pub async fn invoke(
        &self,
        store: &Store,
        prepared: &Prepared,
        upload: Upload<'_>,
    ) -> Result<Reply, Failure> {
        let callback = &prepared.callback;
        let image = match callback.body.contains("${imageInfo.") {
            true => image_info(store, upload.record).await?,
            false => None,
        };
        let o = upload.record;
        let facts = Facts {
            bucket: upload.bucket,
            object: upload.key,
            etag: &o.etag,
            size: o.size,
            mime_type: o
                .headers
                .content_type
                .as_deref()
                .unwrap_or("application/octet-stream"),
            crc64: o.crc64,
            content_md5: o.content_md5.as_deref(),
            image,
            client_ip: upload.client_ip.to_canonical().to_string(),
            request_id: upload.request_id,
            operation: upload.operation,
        };
        let body = params::render(callback, &facts);
        if body.len() > MAX_BODY {
            return Err(Failure::BodyTooLong);
        }
        let mut last = Failure::Unreachable;
        for (url, addrs) in callback.urls.iter().zip(&prepared.addrs) {
            match self
                .send(callback, url, addrs, &prepared.key_url, &body)
                .await
            {
                Ok(reply) => {
                    tracing::debug!(url = %url.url(), "upload callback answered");
                    return Ok(reply);
                }
                Err(failure) => {
                    tracing::warn!(url = %url.url(), ?failure, bucket = upload.bucket, key = upload.key, "upload callback failed");
                    last = failure;
                }
            }
        }
        Err(last)
    }

    /// One callback request to `url`, connecting only to `addrs`.
    async fn send(
        &self,
        callback: &Callback,
        url: &CallbackUrl,
        addrs: &[IpAddr],
        key_url: &str,
        body: &str,
    ) -> Result<Reply, Failure> {
        if addrs.is_empty() {
            return Err(Failure::Unreachable);
        }
        let mut client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(TIMEOUT)
            .timeout(TIMEOUT)
            .tls_sni(callback.sni);
        if url.host.parse::<IpAddr>().is_err() {
            let pinned: Vec<SocketAddr> = addrs.iter().map(|ip| (*ip, url.port).into()).collect();
            client = client.resolve_to_addrs(&url.host, &pinned);
        }
        let client = client.build().map_err(|e| {
            tracing::error!("cannot build the callback HTTP client: {e}");
            Failure::Unreachable
        })?;
        let host = callback.host.clone().unwrap_or_else(|| url.authority());
        let request = client
            .post(url.url())
            .header(http::header::HOST, host)
            .header(
                http::header::CONTENT_TYPE,
                callback.body_type.content_type(),
            )
            .header(
                http::header::AUTHORIZATION,
                self.signer.sign(&url.string_to_sign(body.as_bytes())),
            )
            .header("x-oss-pub-key-url", STANDARD.encode(key_url))
            .header(http::header::USER_AGENT, "ossify-callback")
            .body(body.to_owned());
        let failed = |e: reqwest::Error| match e.is_timeout() {
            true => Failure::Timeout,
            false => Failure::Unreachable,
        };
        let mut response = request.send().await.map_err(failed)?;
        if response.status() != http::StatusCode::OK {
            return Err(Failure::Status(response.status().as_u16()));
        }
        let declared = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_none_or(|n| n > MAX_RESPONSE) {
            return Err(Failure::ResponseTooLarge);
        }
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(failed)? {
            answer.extend_from_slice(&chunk);
            if answer.len() as u64 > MAX_RESPONSE {
                return Err(Failure::ResponseTooLarge);
            }
        }
        if serde_json::from_slice::<serde::de::IgnoredAny>(&answer).is_err() {
            return Err(Failure::ResponseNotJson);
        }
        Ok(Reply {
            content_type,
            body: answer.into(),
        })
    }
}

/// The addresses of a URL's host: the literal, or what the name resolves to (none
/// when it does not resolve in time).
async fn resolve(url: &CallbackUrl) -> Vec<IpAddr> {
    if let Ok(ip) = url.host.parse::<IpAddr>() {
        return vec![ip];
    }
    let lookup = tokio::net::lookup_host((url.host.as_str(), url.port));
    match tokio::time::timeout(TIMEOUT, lookup).await {
        Ok(Ok(found)) => {
            let mut ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            ips.dedup();
            ips
        }
        _ => Vec::new(),
    }
}

/// `imageInfo` of a stored object, from its first bytes; None when not an image.
async fn image_info(store: &Store, record: &ObjectRecord) -> Result<Option<ImageInfo>, Failure> {
    use futures_util::TryStreamExt;
    let len = record.size.min(IMAGE_HEAD);
    let stream = super::object::open_range(store, record, 0, len)
        .await
        .map_err(|_| Failure::ImageInfo)?;
    let head: Vec<Bytes> = stream.try_collect().await.map_err(|_| Failure::ImageInfo)?;
    Ok(
        crate::image::header_info(&head.concat()).map(|(format, width, height)| ImageInfo {
            width,
            height,
            format,
        }),
    )
}
