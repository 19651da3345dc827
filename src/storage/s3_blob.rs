//! Blobs in an S3-compatible service (SeaweedFS, MinIO, Ceph, Garage, AWS) at
//! `<prefix>blobs/<id>`. A blob is one PUT when it fits in [`PART_SIZE`], otherwise a
//! multipart upload with at most [`PARTS_IN_FLIGHT`] parts buffered, so memory stays
//! flat whatever the body size. Nothing is visible under the id before `finish`.

use std::collections::HashSet;
use std::error::Error as StdError;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use bytes::Bytes;
use futures_util::future::BoxFuture;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::multipart::MultipartStore;
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, GetRange, MultipartUpload, ObjectStore,
    ObjectStoreExt, PutPayloadMut, RetryConfig,
};
use tokio::runtime::Handle;
use tokio::task::JoinSet;

use super::{BlobId, BlobReader, BlobStore, BlobWriter};
use crate::config::S3BlobsConfig;

/// Bodies up to this size are one PUT; larger ones are uploaded in parts of this size
/// (S3 wants at least 5 MiB per part but the last, and at most 10,000 parts: 80 GiB).
pub const PART_SIZE: usize = 8 << 20;
/// Parts uploading at once per writer; the writer waits for one to finish before
/// buffering past this, so a writer holds at most about `PARTS_IN_FLIGHT + 1` parts.
pub const PARTS_IN_FLIGHT: usize = 2;
const MAX_PARTS: usize = 10_000;
/// Every blob lives under this folder of the configured prefix, so a sweep never
/// touches other data the bucket holds under the same prefix.
const BLOB_DIR: &str = "blobs";
/// Deletions sent per sweep batch (S3 DeleteObjects takes up to 1,000 keys).
const SWEEP_BATCH: usize = 1000;

pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    /// `<prefix>blobs`.
    dir: Path,
    uploads: UploadLister,
    /// Runs the requests of [`BlobStore::read_blocking`] and the aborts of dropped writers.
    handle: Handle,
}

impl std::fmt::Debug for S3BlobStore {
    // The store's configuration holds the secret; show only where blobs go.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("store", &self.store.to_string())
            .field("dir", &self.dir.as_ref())
            .finish()
    }
}

impl S3BlobStore {
    /// Connect and check that the bucket can be listed with the given keys. Fails within
    /// about 20 s with a message naming the `storage.blobs` setting to fix. The endpoint,
    /// bucket and key pairing were checked by `Config::finish`.
    pub async fn open(cfg: &S3BlobsConfig) -> anyhow::Result<S3BlobStore> {
        let endpoint = cfg.endpoint.trim_end_matches('/');
        let dir = blob_dir(&cfg.prefix)?;

        crate::install_tls_provider();

        let probe = build(
            cfg,
            endpoint,
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(3))
                .with_timeout(Duration::from_secs(10)),
            RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(200),
                    max_backoff: Duration::from_secs(2),
                    base: 2.,
                },
                max_retries: 2,
                retry_timeout: Duration::from_secs(10),
            },
        )?;
        let listed = tokio::time::timeout(
            Duration::from_secs(20),
            probe.list_paginated(
                Some(&format!("{dir}/")),
                PaginatedListOptions {
                    max_keys: Some(1),
                    ..Default::default()
                },
            ),
        )
        .await;
        match listed {
            Err(_) => {
                return Err(anyhow!(
                    "storage.blobs.endpoint {endpoint}: no answer to a bucket listing within \
                     20 s; check the address and that the service is running"
                ));
            }
            Ok(Err(e)) => return Err(startup_error(cfg, endpoint, &e)),
            Ok(Ok(_)) => {}
        }

        // Normal requests: no total timeout (a large GET streams for as long as the
        // client reads), but an idle read or a missing answer fails after a minute.
        let store = build(
            cfg,
            endpoint,
            ClientOptions::new()
                .with_connect_timeout(Duration::from_secs(5))
                .with_timeout_disabled()
                .with_read_timeout(Duration::from_secs(60)),
            RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 5,
                retry_timeout: Duration::from_secs(60),
            },
        )?;
        let uploads = UploadLister {
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(60))
                .build()
                .context("storage.blobs: cannot set up the HTTP client")?,
            bucket_url: bucket_url(cfg, endpoint),
            region: cfg.region.clone(),
            credential: (!cfg.access_key_id.is_empty()).then(|| AwsCredential {
                key_id: cfg.access_key_id.clone(),
                secret_key: cfg.secret_access_key.clone(),
                token: None,
            }),
        };
        Ok(S3BlobStore {
            store: Arc::new(store),
            dir,
            uploads,
            handle: Handle::current(),
        })
    }

    fn path(&self, id: &BlobId) -> io::Result<Path> {
        // Ids are generated here as hex; anything else is refused before making a key.
        if !is_blob_id(&id.0) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("malformed blob id {:?}", id.0),
            ));
        }
        Ok(self.dir.clone().join(id.0.as_str()))
    }
}

/// The endpoint with the bucket in its host when requests are virtual-hosted.
fn bucket_endpoint(cfg: &S3BlobsConfig, endpoint: &str) -> String {
    if cfg.path_style {
        endpoint.to_string()
    } else {
        let (scheme, host) = endpoint.split_once("://").expect("checked by open");
        format!("{scheme}://{}.{host}", cfg.bucket)
    }
}

/// The URL of the bucket itself: `endpoint/bucket` or `bucket.endpoint`.
fn bucket_url(cfg: &S3BlobsConfig, endpoint: &str) -> String {
    let base = bucket_endpoint(cfg, endpoint);
    if cfg.path_style {
        format!("{base}/{}", cfg.bucket)
    } else {
        base
    }
}

fn build(
    cfg: &S3BlobsConfig,
    endpoint: &str,
    options: ClientOptions,
    retry: RetryConfig,
) -> anyhow::Result<AmazonS3> {
    // object_store takes a virtual-hosted endpoint with the bucket already in the host.
    let endpoint = bucket_endpoint(cfg, endpoint);
    let mut builder = AmazonS3Builder::new()
        .with_endpoint(endpoint.as_str())
        .with_bucket_name(cfg.bucket.as_str())
        .with_region(cfg.region.as_str())
        .with_virtual_hosted_style_request(!cfg.path_style)
        .with_client_options(options.with_allow_http(endpoint.starts_with("http://")))
        .with_retry(retry);
    builder = if cfg.access_key_id.is_empty() {
        // Without keys object_store would ask the EC2 metadata service for some.
        builder.with_skip_signature(true)
    } else {
        builder
            .with_access_key_id(cfg.access_key_id.as_str())
            .with_secret_access_key(cfg.secret_access_key.as_str())
    };
    builder
        .build()
        .with_context(|| format!("storage.blobs: cannot set up the S3 client for {endpoint}"))
}

/// `<prefix>blobs` as an object_store path; `prefix` is empty or ends in `/`.
fn blob_dir(prefix: &str) -> anyhow::Result<Path> {
    if !prefix.is_empty() && !prefix.ends_with('/') || prefix.starts_with('/') {
        return Err(anyhow!(
            "storage.blobs.prefix {prefix:?} must be empty or end with '/' (and not start with it)"
        ));
    }
    Path::parse(format!("{prefix}{BLOB_DIR}")).map_err(|e| {
        anyhow!(
            "storage.blobs.prefix {prefix:?} is not a usable key prefix \
             (no leading '/', empty segments, '.' or '..'): {e}"
        )
    })
}

fn is_blob_id(id: &str) -> bool {
    id.len() >= 8 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// The error and its causes on one line (reqwest leaves "connection refused" and
/// the like to its sources).
fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The text of `<tag>` in an XML error body, such as the S3 code `NoSuchBucket`.
fn xml_tag<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&format!("</{tag}>"))?;
    Some(&text[start..start + len])
}

fn s3_code(text: &str) -> Option<&str> {
    xml_tag(text, "Code")
}

/// [`chain`] with an XML error body cut down to its code and message, on one line.
fn describe(e: &(dyn StdError + 'static)) -> String {
    let text = chain(e);
    let Some(body) = text.find("<?xml").or_else(|| text.find("<Error>")) else {
        return text;
    };
    let code = s3_code(&text).unwrap_or("no code");
    let message = xml_tag(&text, "Message").unwrap_or("");
    format!("{} {code}: {message}", text[..body].trim_end())
}

fn find_source<'a, T: StdError + 'static>(e: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        current = err.source();
    }
    None
}

/// Turn a failed start-up listing into what the operator has to change.
fn startup_error(cfg: &S3BlobsConfig, endpoint: &str, e: &object_store::Error) -> anyhow::Error {
    let raw = chain(e);
    let text = describe(e);
    let lower = text.to_ascii_lowercase();
    let bucket = &cfg.bucket;
    let hint = match s3_code(&raw) {
        Some("NoSuchBucket") => format!(
            "storage.blobs.bucket {bucket:?} does not exist at {endpoint}; create it \
             (ossify does not create buckets)"
        ),
        Some("InvalidAccessKeyId") => format!(
            "storage.blobs.access_key_id {:?} is not known to {endpoint}",
            cfg.access_key_id
        ),
        Some("SignatureDoesNotMatch") => format!(
            "storage.blobs.secret_access_key was rejected by {endpoint} (the signature \
             does not match) for access key {:?}",
            cfg.access_key_id
        ),
        Some("AccessDenied") => format!(
            "storage.blobs.access_key_id {:?} may not list bucket {bucket:?} at {endpoint}; \
             it needs read, write, list and delete rights there",
            cfg.access_key_id
        ),
        Some(
            "AuthorizationHeaderMalformed"
            | "PermanentRedirect"
            | "IllegalLocationConstraintException",
        ) => format!(
            "storage.blobs.region {:?} is not the region of bucket {bucket:?}",
            cfg.region
        ),
        _ if find_source::<io::Error>(e)
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionRefused)
            || lower.contains("connection refused") =>
        {
            format!(
                "storage.blobs.endpoint {endpoint}: connection refused; is the service running on that port?"
            )
        }
        _ if lower.contains("dns error") || lower.contains("failed to lookup address") => {
            format!("storage.blobs.endpoint {endpoint}: the host name does not resolve")
        }
        _ if lower.contains("certificate") || lower.contains("tls") => {
            format!("storage.blobs.endpoint {endpoint}: the TLS connection failed")
        }
        _ if lower.contains("timed out") || lower.contains("timeout") => {
            format!("storage.blobs.endpoint {endpoint}: no answer in time")
        }
        _ => match e {
            object_store::Error::NotFound { .. } => format!(
                "storage.blobs.bucket {bucket:?} was not found at {endpoint} (404); create \
                 it, or check storage.blobs.endpoint and storage.blobs.path_style"
            ),
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => format!(
                "storage.blobs.access_key_id / storage.blobs.secret_access_key were \
                 rejected by {endpoint}"
            ),
            _ => format!("storage.blobs: listing bucket {bucket:?} at {endpoint} failed"),
        },
    };
    anyhow!("{hint} ({text})")
}

/// An object_store error as an io::Error saying which operation on which blob failed.
fn io_error(op: &str, id: &str, e: object_store::Error) -> io::Error {
    let kind = match &e {
        object_store::Error::NotFound { .. } => io::ErrorKind::NotFound,
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(
        kind,
        format!("S3 blob store: {op} blob {id}: {}", describe(&e)),
    )
}

/// Lists the S3 multipart uploads of the bucket (ListMultipartUploads), which
/// object_store cannot; requests are signed with object_store's SigV4.
struct UploadLister {
    client: reqwest::Client,
    bucket_url: String,
    region: String,
    /// `None`: anonymous access.
    credential: Option<AwsCredential>,
}

/// An unfinished multipart upload.
#[derive(Debug, PartialEq, Eq)]
struct Upload {
    key: String,
    id: String,
    /// Unix ms.
    initiated: i64,
}

/// One page of a ListMultipartUploads answer, and the (key, upload id) markers of the
/// next one when it was truncated.
#[derive(Debug, PartialEq, Eq)]
struct UploadPage {
    uploads: Vec<Upload>,
    next: Option<(String, String)>,
}

/// Query values as SigV4 canonicalizes them: everything but unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl UploadLister {
    /// The uploads of keys under `prefix`, from the `after` markers.
    async fn page(&self, prefix: &str, after: Option<&(String, String)>) -> io::Result<UploadPage> {
        let encode = |v: &str| percent_encoding::utf8_percent_encode(v, QUERY_VALUE).to_string();
        let mut url = format!("{}?uploads&prefix={}", self.bucket_url, encode(prefix));
        if let Some((key, id)) = after {
            url.push_str(&format!(
                "&key-marker={}&upload-id-marker={}",
                encode(key),
                encode(id)
            ));
        }
        let failed = |what: String| {
            io::Error::other(format!("S3 blob store: listing unfinished uploads: {what}"))
        };
        let mut request = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .body(object_store::client::HttpRequestBody::from(Bytes::new()))
            .map_err(|e| failed(e.to_string()))?;
        if let Some(credential) = &self.credential {
            AwsAuthorizer::new(credential, "s3", &self.region)
                .try_authorize(&mut request, None)
                .map_err(|e| failed(e.to_string()))?;
        }
        let response = self
            .client
            .get(url.as_str())
            .headers(request.headers().clone())
            .send()
            .await
            .map_err(|e| failed(chain(&e)))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| failed(chain(&e)))?;
        if !status.is_success() {
            return Err(failed(format!(
                "{status} {}: {}",
                s3_code(&body).unwrap_or("no code"),
                xml_tag(&body, "Message").unwrap_or("")
            )));
        }
        parse_uploads(&body).map_err(failed)
    }
}

/// The text of `<tag>` in `xml`, unescaped.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let raw = xml_tag(xml, tag)?;
    Some(quick_xml::escape::unescape(raw).map_or_else(|_| raw.to_string(), |t| t.into_owned()))
}

/// A ListMultipartUploadsResult body.
fn parse_uploads(xml: &str) -> Result<UploadPage, String> {
    let mut uploads = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<Upload>") {
        let block = &rest[start..];
        let end = block
            .find("</Upload>")
            .ok_or("an <Upload> element is not closed")?;
        let (upload, after) = (&block[..end], &block[end..]);
        let field = |tag| xml_text(upload, tag).ok_or(format!("an <Upload> lacks <{tag}>"));
        let initiated = field("Initiated")?;
        uploads.push(Upload {
            key: field("Key")?,
            id: field("UploadId")?,
            initiated: chrono::DateTime::parse_from_rfc3339(&initiated)
                .map_err(|e| format!("<Initiated>{initiated}</Initiated>: {e}"))?
                .timestamp_millis(),
        });
        rest = after;
    }
    let next = match xml_tag(xml, "IsTruncated") {
        Some("true") => Some((
            xml_text(xml, "NextKeyMarker").ok_or("a truncated listing lacks <NextKeyMarker>")?,
            xml_text(xml, "NextUploadIdMarker").unwrap_or_default(),
        )),
        _ => None,
    };
    Ok(UploadPage { uploads, next })
}

/// Parts of one multipart upload; aborted when dropped before completion.
struct Multipart {
    upload: Option<Box<dyn MultipartUpload>>,
    buf: PutPayloadMut,
    uploading: JoinSet<object_store::Result<()>>,
    parts: usize,
    handle: Handle,
}

impl Multipart {
    fn send_part(&mut self) -> io::Result<()> {
        let part = std::mem::take(&mut self.buf).freeze();
        self.parts += 1;
        if self.parts > MAX_PARTS {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "a blob may hold at most {} GiB",
                    (MAX_PARTS * PART_SIZE) >> 30
                ),
            ));
        }
        let upload = self.upload.as_mut().expect("upload until completed");
        self.uploading.spawn_on(upload.put_part(part), &self.handle);
        Ok(())
    }

    /// Wait until at most `n` parts are uploading.
    async fn wait_at_most(&mut self, n: usize) -> object_store::Result<()> {
        while self.uploading.len() > n {
            if let Some(done) = self.uploading.join_next().await {
                done??;
            }
        }
        Ok(())
    }

    async fn write(&mut self, mut data: &[u8], id: &str) -> io::Result<()> {
        while !data.is_empty() {
            let take = (PART_SIZE - self.buf.content_length()).min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.content_length() == PART_SIZE {
                self.wait_at_most(PARTS_IN_FLIGHT - 1)
                    .await
                    .map_err(|e| io_error("uploading a part of", id, e))?;
                self.send_part()?;
            }
        }
        Ok(())
    }

    async fn complete(&mut self, id: &str) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.send_part()?;
        }
        self.wait_at_most(0)
            .await
            .map_err(|e| io_error("uploading a part of", id, e))?;
        let upload = self.upload.as_mut().expect("upload until completed");
        upload
            .complete()
            .await
            .map_err(|e| io_error("completing the multipart upload of", id, e))?;
        self.upload = None;
        Ok(())
    }
}

impl Drop for Multipart {
    fn drop(&mut self) {
        if let Some(mut upload) = self.upload.take() {
            // Dropping the JoinSet cancels the part uploads; the abort runs on its own
            // so that dropping a writer never blocks.
            self.uploading.abort_all();
            self.handle.spawn(async move {
                if let Err(e) = upload.abort().await {
                    tracing::warn!("S3 blob store: aborting an unfinished multipart upload: {e}");
                }
            });
        }
    }
}

enum Pending {
    /// Not past one part yet: one PUT at finish.
    Small(PutPayloadMut),
    Multipart(Multipart),
    Done,
}

struct S3BlobWriter {
    store: Arc<AmazonS3>,
    path: Path,
    id: BlobId,
    pending: Pending,
    handle: Handle,
}

impl S3BlobWriter {
    async fn write_inner(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.pending {
            Pending::Small(buf) if buf.content_length() + data.len() <= PART_SIZE => {
                buf.extend_from_slice(data);
                Ok(())
            }
            Pending::Small(_) => {
                let upload = self
                    .store
                    .put_multipart(&self.path)
                    .await
                    .map_err(|e| io_error("starting a multipart upload of", &self.id.0, e))?;
                let Pending::Small(buf) = std::mem::replace(&mut self.pending, Pending::Done)
                else {
                    unreachable!("matched Small above")
                };
                let mut multipart = Multipart {
                    upload: Some(upload),
                    buf: PutPayloadMut::new(),
                    uploading: JoinSet::new(),
                    parts: 0,
                    handle: self.handle.clone(),
                };
                for chunk in buf.freeze() {
                    multipart.buf.push(chunk);
                }
                let written = multipart.write(data, &self.id.0).await;
                self.pending = Pending::Multipart(multipart);
                written
            }
            Pending::Multipart(multipart) => multipart.write(data, &self.id.0).await,
            Pending::Done => Err(io::Error::other(format!(
                "S3 blob store: blob {} was written to after a failure",
                self.id.0
            ))),
        }
    }
}

impl BlobWriter for S3BlobWriter {
    fn write<'a>(&'a mut self, data: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let written = self.write_inner(data).await;
            if written.is_err() {
                // A part may be missing: never complete this upload (dropping aborts it).
                self.pending = Pending::Done;
            }
            written
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        Box::pin(async move {
            match std::mem::replace(&mut self.pending, Pending::Done) {
                Pending::Small(buf) => {
                    self.store
                        .put(&self.path, buf.freeze())
                        .await
                        .map_err(|e| io_error("storing", &self.id.0, e))?;
                }
                // On failure (or if this future is dropped) the Multipart drop aborts.
                Pending::Multipart(mut multipart) => multipart.complete(&self.id.0).await?,
                Pending::Done => {
                    return Err(io::Error::other(format!(
                        "S3 blob store: blob {} cannot be finished after a failure",
                        self.id.0
                    )));
                }
            }
            Ok(self.id.clone())
        })
    }
}

impl BlobStore for S3BlobStore {
    fn create(&self) -> BoxFuture<'_, io::Result<Box<dyn BlobWriter>>> {
        Box::pin(async move {
            let id = BlobId(new_id());
            Ok(Box::new(S3BlobWriter {
                store: self.store.clone(),
                path: self.path(&id)?,
                id,
                pending: Pending::Small(PutPayloadMut::new()),
                handle: self.handle.clone(),
            }) as Box<dyn BlobWriter>)
        })
    }

    fn open(&self, id: &BlobId, offset: u64, len: u64) -> BoxFuture<'_, io::Result<BlobReader>> {
        let path = self.path(id);
        let id = id.0.clone();
        Box::pin(async move {
            let path = path?;
            if len == 0 {
                // S3 has no empty range; a HEAD still reports a missing blob.
                self.store
                    .head(&path)
                    .await
                    .map_err(|e| io_error("opening", &id, e))?;
                return Ok(Box::pin(tokio::io::empty()) as BlobReader);
            }
            let options = GetOptions {
                range: Some(GetRange::Bounded(offset..offset + len)),
                ..Default::default()
            };
            let got = self
                .store
                .get_opts(&path, options)
                .await
                .map_err(|e| io_error("opening", &id, e))?;
            let stream = got
                .into_stream()
                .map_err(move |e| io_error("reading", &id, e));
            Ok(Box::pin(tokio_util::io::StreamReader::new(stream)) as BlobReader)
        })
    }

    fn read_blocking(
        &self,
        id: &BlobId,
        offset: u64,
        len: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let path = self.path(id)?;
        // Callers run off the runtime's worker threads (the blocking pool, image
        // workers), where block_on is allowed; on a worker thread it would panic.
        let bytes: Bytes = self
            .handle
            .block_on(async {
                if len == 0 {
                    self.store.head(&path).await.map(|_| Bytes::new())
                } else {
                    self.store.get_range(&path, offset..offset + len).await
                }
            })
            .map_err(|e| io_error("reading", &id.0, e))?;
        if bytes.len() as u64 != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "S3 blob store: blob {} has {} bytes from offset {offset}, {len} wanted",
                    id.0,
                    bytes.len()
                ),
            ));
        }
        out.extend_from_slice(&bytes);
        Ok(())
    }

    fn delete(&self, id: &BlobId) -> BoxFuture<'_, io::Result<()>> {
        let path = self.path(id);
        let id = id.0.clone();
        Box::pin(async move {
            match self.store.delete(&path?).await {
                Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
                Err(e) => Err(io_error("deleting", &id, e)),
            }
        })
    }

    fn sweep<'a>(
        &'a self,
        keep: &'a HashSet<BlobId>,
        written_before: Option<i64>,
    ) -> BoxFuture<'a, io::Result<usize>> {
        Box::pin(async move {
            let mut listing = self.store.list(Some(&self.dir)).try_chunks(SWEEP_BATCH);
            let mut removed = 0;
            while let Some(page) = listing.next().await {
                let page = page.map_err(|e| io_error("listing for a sweep", "*", e.1))?;
                let doomed: Vec<Path> = page
                    .into_iter()
                    .filter(|meta| {
                        // Only what this store writes: `<dir>/<hex id>`.
                        let Some(name) = meta.location.filename() else {
                            return false;
                        };
                        is_blob_id(name)
                            && meta.location.parts_count() == self.dir.parts_count() + 1
                            && !keep.contains(&BlobId(name.to_string()))
                            && written_before
                                .is_none_or(|cutoff| meta.last_modified.timestamp_millis() < cutoff)
                    })
                    .map(|meta| meta.location)
                    .collect();
                if doomed.is_empty() {
                    continue;
                }
                let mut deleted = self
                    .store
                    .delete_stream(futures_util::stream::iter(doomed.into_iter().map(Ok)).boxed());
                while let Some(result) = deleted.next().await {
                    match result {
                        // Another node's sweep got there first.
                        Ok(_) | Err(object_store::Error::NotFound { .. }) => removed += 1,
                        Err(e) => return Err(io_error("deleting in a sweep", "*", e)),
                    }
                }
            }
            Ok(removed)
        })
    }

    fn abort_stale_uploads(&self, begun_before: i64) -> BoxFuture<'_, io::Result<usize>> {
        Box::pin(async move {
            let prefix = format!("{}/", self.dir);
            let mut after = None;
            let mut aborted = 0;
            loop {
                let page = self.uploads.page(&prefix, after.as_ref()).await?;
                for upload in page.uploads.iter().filter(|u| u.initiated < begun_before) {
                    // Only what this store writes: `<dir>/<hex id>`.
                    let Ok(path) = Path::parse(&upload.key) else {
                        continue;
                    };
                    if path.parts_count() != self.dir.parts_count() + 1
                        || !path.filename().is_some_and(is_blob_id)
                    {
                        continue;
                    }
                    match self.store.abort_multipart(&path, &upload.id).await {
                        Ok(()) => aborted += 1,
                        // Another node's job got there first.
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(io_error("aborting the upload of", &upload.key, e)),
                    }
                }
                match page.next {
                    // A service that repeats the markers would loop forever.
                    Some(next) if after.as_ref() != Some(&next) => after = Some(next),
                    _ => return Ok(aborted),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::storage::blob_conformance::s3_test_config;

    #[test]
    fn prefixes_are_normalized_or_refused() {
        assert_eq!(blob_dir("").unwrap().as_ref(), "blobs");
        assert_eq!(blob_dir("a/b/").unwrap().as_ref(), "a/b/blobs");
        for bad in ["a", "/a/", "a//", "../"] {
            let e = blob_dir(bad).unwrap_err().to_string();
            assert!(e.contains("storage.blobs.prefix"), "{bad}: {e}");
        }
    }

    #[test]
    fn error_codes_are_found_in_bodies() {
        let body = "Server returned non-2xx status code: 404 Not Found: <?xml version=\"1.0\"?>\
                    <Error><Code>NoSuchBucket</Code><Message>x</Message></Error>";
        assert_eq!(s3_code(body), Some("NoSuchBucket"));
        let e = object_store::Error::Generic {
            store: "S3",
            source: body.into(),
        };
        assert_eq!(
            describe(&e),
            "Generic S3 error: Server returned non-2xx status code: 404 Not Found: NoSuchBucket: x"
        );
        assert_eq!(s3_code("connection refused"), None);
    }

    #[test]
    fn upload_listings_are_parsed() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
<NextKeyMarker>p/blobs/0b</NextKeyMarker><NextUploadIdMarker>u&amp;2</NextUploadIdMarker>
<MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>
<Upload><Key>p/blobs/0a</Key><UploadId>u1</UploadId><Initiator><ID>x</ID></Initiator>
<Initiated>2026-12-07T10:00:00.000Z</Initiated></Upload>
<Upload><Key>p/blobs/0b</Key><UploadId>u&amp;2</UploadId><Initiated>2026-12-07T10:00:01Z</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let page = parse_uploads(body).unwrap();
        assert_eq!(
            page,
            UploadPage {
                uploads: vec![
                    Upload {
                        key: "p/blobs/0a".into(),
                        id: "u1".into(),
                        initiated: 1_796_637_600_000,
                    },
                    Upload {
                        key: "p/blobs/0b".into(),
                        id: "u&2".into(),
                        initiated: 1_796_637_601_000,
                    },
                ],
                next: Some(("p/blobs/0b".into(), "u&2".into())),
            }
        );
        let last = parse_uploads("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>").unwrap();
        assert_eq!(
            last,
            UploadPage {
                uploads: vec![],
                next: None
            }
        );
        let bad =
            "<Upload><Key>k</Key><UploadId>u</UploadId><Initiated>yesterday</Initiated></Upload>";
        assert!(
            parse_uploads(bad)
                .unwrap_err()
                .starts_with("<Initiated>yesterday</Initiated>: ")
        );
    }

    /// A writer killed mid-upload leaves an S3 multipart upload that no listing of
    /// objects shows: once older than the cut-off it is aborted, and nothing outside
    /// the blob folder is touched.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stale_blob_uploads_are_aborted() {
        let Some(cfg) = s3_test_config("stale_blob_uploads_are_aborted") else {
            return;
        };
        let store = S3BlobStore::open(&cfg).await.unwrap();
        let dead = store.dir.clone().join(new_id().as_str());
        let dead_id = store.store.create_multipart(&dead).await.unwrap();
        store
            .store
            .put_part(&dead, &dead_id, 0, vec![7u8; 1024].into())
            .await
            .unwrap();
        let foreign = Path::parse(format!("{}other/{}", cfg.prefix, new_id())).unwrap();
        let foreign_id = store.store.create_multipart(&foreign).await.unwrap();
        let pending = async || {
            let page = store.uploads.page(&cfg.prefix, None).await.unwrap();
            assert_eq!(page.next, None);
            let mut ids: Vec<_> = page.uploads.into_iter().map(|u| u.id).collect();
            ids.sort();
            ids
        };
        let mut both = vec![dead_id.clone(), foreign_id.clone()];
        both.sort();
        assert_eq!(pending().await, both);

        // Begun after the cut-off: still being written, kept.
        let now = crate::core::now_ms();
        assert_eq!(store.abort_stale_uploads(now - 3_600_000).await.unwrap(), 0);
        assert_eq!(pending().await, both);
        assert_eq!(store.abort_stale_uploads(now + 60_000).await.unwrap(), 1);
        assert_eq!(pending().await, std::slice::from_ref(&foreign_id));
        // Again, or on a second node: nothing left to abort.
        assert_eq!(store.abort_stale_uploads(now + 60_000).await.unwrap(), 0);
        store
            .store
            .abort_multipart(&foreign, &foreign_id)
            .await
            .unwrap();
    }

    /// `open` must fail, soon, with a message naming `setting` and never the secret.
    async fn open_fails(cfg: &S3BlobsConfig, setting: &str, cause: &str) {
        let start = Instant::now();
        let e = S3BlobStore::open(cfg)
            .await
            .expect_err("open with a bad configuration")
            .to_string();
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "took {:?}",
            start.elapsed()
        );
        eprintln!("{setting}: {e}");
        assert!(e.contains(setting), "{setting} not named: {e}");
        assert!(e.to_lowercase().contains(cause), "{cause} not said: {e}");
        assert!(
            !e.contains(&cfg.secret_access_key),
            "the secret was printed: {e}"
        );
    }

    #[tokio::test]
    async fn open_names_the_setting_to_fix() {
        // A port nobody listens on: refused, over plain HTTP and over TLS (which also
        // shows the TLS client can be built with the ring provider).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let closed = S3BlobsConfig {
            endpoint: format!("http://127.0.0.1:{port}"),
            bucket: "b".into(),
            region: "us-east-1".into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very-secret-value".into(),
            path_style: true,
            prefix: String::new(),
        };
        open_fails(&closed, "storage.blobs.endpoint", "connection refused").await;
        let tls = S3BlobsConfig {
            endpoint: format!("https://127.0.0.1:{port}"),
            ..closed.clone()
        };
        open_fails(&tls, "storage.blobs.endpoint", "connection refused").await;

        let Some(good) = s3_test_config("open_names_the_setting_to_fix") else {
            return;
        };
        let wrong_secret = S3BlobsConfig {
            secret_access_key: format!("{}x", good.secret_access_key),
            ..good.clone()
        };
        open_fails(&wrong_secret, "storage.blobs.secret_access_key", "rejected").await;
        let unknown_key = S3BlobsConfig {
            access_key_id: "NOSUCHKEY123".into(),
            ..good.clone()
        };
        open_fails(&unknown_key, "storage.blobs.access_key_id", "not known").await;
        let no_bucket = S3BlobsConfig {
            bucket: format!("{}-missing", good.bucket),
            ..good.clone()
        };
        open_fails(&no_bucket, "storage.blobs.bucket", "create it").await;
        S3BlobStore::open(&good)
            .await
            .expect("the right configuration opens");
    }

    /// Multipart uploads open under `cfg`'s blob folder (ListMultipartUploads, which
    /// object_store does not offer).
    async fn open_uploads(cfg: &S3BlobsConfig) -> usize {
        let prefix = format!("{}{BLOB_DIR}/", cfg.prefix);
        // Sorted by name, as the signer wants.
        let query = [("prefix", prefix.as_str()), ("uploads", "")];
        let url = rusty_s3::signing::sign(
            &jiff::Timestamp::now(),
            rusty_s3::Method::Get,
            format!("{}/{}", cfg.endpoint, cfg.bucket).parse().unwrap(),
            &cfg.access_key_id,
            &cfg.secret_access_key,
            None,
            &cfg.region,
            60,
            query.iter().copied(),
            std::iter::empty(),
        );
        let response = reqwest::get(url).await.unwrap();
        assert!(response.status().is_success(), "{response:?}");
        response.text().await.unwrap().matches("<Upload>").count()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropped_writers_abort_their_multipart_upload() {
        let Some(cfg) = s3_test_config("dropped_writers_abort_their_multipart_upload") else {
            return;
        };
        let store = S3BlobStore::open(&cfg).await.unwrap();
        let mut w = store.create().await.unwrap();
        w.write(&vec![1; PART_SIZE + 1]).await.unwrap();
        assert_eq!(
            open_uploads(&cfg).await,
            1,
            "past one part, a multipart upload"
        );
        drop(w);
        let deadline = Instant::now() + Duration::from_secs(10);
        while open_uploads(&cfg).await != 0 {
            assert!(Instant::now() < deadline, "the upload was not aborted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A finished one leaves no upload either, and one blob.
        let mut w = store.create().await.unwrap();
        w.write(&vec![2; PART_SIZE + 1]).await.unwrap();
        let id = w.finish().await.unwrap();
        assert_eq!(open_uploads(&cfg).await, 0);
        assert_eq!(store.sweep(&HashSet::new(), None).await.unwrap(), 1);
        assert!(store.open(&id, 0, 1).await.is_err());
    }
}
