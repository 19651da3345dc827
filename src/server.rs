//! Wiring: state, router, listeners.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

mod body_rate;
mod counted;
mod linger;

use body_rate::{MinRate, MinRateBody};
use counted::{Counted, Direction};

use crate::observe::Exchange;

use crate::access::{Policy, Principal};
use crate::api::oss::target::RegionHosts;
use crate::config::BlobsConfig;
use crate::config::{Config, ConnectionConfig};
use crate::storage::pg_meta::PgMeta;
use crate::storage::{BlobStore, FsBlobStore, MetaStore, RedbMeta, S3BlobStore, SpaceReserve};

/// Image requests that may wait for a worker before new ones are refused (503).
const IMAGE_QUEUE: usize = 64;

/// A configured region as requests see it.
pub struct Region {
    /// `oss-cn-hangzhou`.
    pub name: String,
    /// Host (and port) returned as ExtranetEndpoint/IntranetEndpoint.
    pub endpoint: String,
}

impl Region {
    /// The region id used by V4 signatures: `cn-hangzhou`.
    pub fn v4_name(&self) -> &str {
        self.name.strip_prefix("oss-").unwrap_or(&self.name)
    }
}

pub struct Credential {
    pub secret: String,
    pub principal: Principal,
}

pub struct AppState {
    pub store: crate::core::Store,
    pub regions: Vec<Region>,
    /// Endpoint host of each region, by region name.
    pub endpoints: Arc<HashMap<String, String>>,
    pub region_hosts: Vec<RegionHosts>,
    pub credentials: HashMap<String, Credential>,
    pub images: crate::core::process::ImagePool,
    /// Who may read `/-/metrics`.
    pub metrics_allow: crate::config::MetricsConfig,
    /// Upload callbacks: signing key and allowed targets.
    pub callbacks: crate::core::callback::Callbacks,
}

impl crate::api::oss::auth::SecretLookup for AppState {
    fn secret(&self, access_key_id: &str) -> Option<String> {
        self.credentials
            .get(access_key_id)
            .map(|c| c.secret.clone())
    }
}

/// State of one listener: the shared state plus the region the socket belongs to.
#[derive(Clone)]
pub struct ListenerState {
    pub app: Arc<AppState>,
    pub region: usize,
    /// An `s3_listen` address: every request is S3, anonymous ones included.
    pub s3_only: bool,
    pub s3: s3s::service::S3Service,
    /// Serves the web console at `/-/console/`.
    pub console: bool,
    /// Speaks HTTPS.
    pub tls: bool,
}

/// One request: counted both ways for its log line and metrics, the body under the
/// minimum-rate rule, then the dialect's handler.
async fn serve_request(
    state: ListenerState,
    peer: SocketAddr,
    rate: Option<MinRate>,
    request: http::Request<Incoming>,
) -> axum::response::Response {
    let exchange = Exchange::begin(
        request.method().clone(),
        request.uri().path().to_owned(),
        peer,
    );
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(exchange.slot.clone());
    let body = Counted::new(body, exchange.clone(), Direction::Received);
    let response = match rate {
        None => {
            let request = http::Request::from_parts(parts, axum::body::Body::new(body));
            crate::api::handle(state, peer, request).await
        }
        Some(rule) => {
            let tripped = Arc::new(AtomicBool::new(false));
            let request = http::Request::from_parts(
                parts,
                axum::body::Body::new(MinRateBody::new(body, rule, tripped.clone())),
            );
            let host = request
                .headers()
                .get("host")
                .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
                .unwrap_or_default();
            let head = request.method() == http::Method::HEAD;
            let response = crate::api::handle(state, peer, request).await;
            if tripped.load(Ordering::Acquire) {
                too_slow(&response, &host, head)
            } else {
                response
            }
        }
    };
    exchange.status(response.status());
    response.map(|body| axum::body::Body::new(Counted::new(body, exchange, Direction::Sent)))
}

/// The handler saw a failed body; OSS answers a too-slow upload with RequestTimeout.
fn too_slow(
    response: &axum::response::Response,
    host: &str,
    head: bool,
) -> axum::response::Response {
    let request_id = response
        .headers()
        .get("x-oss-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut timeout = crate::api::oss::error::OssError::new(
        http::StatusCode::BAD_REQUEST,
        "RequestTimeout",
        "Your socket connection to the server was not read from or written to within the timeout period.",
    )
    .into_response(&request_id, host, head);
    let h = timeout.headers_mut();
    for name in ["x-oss-request-id", "server", "date"] {
        if let Some(v) = response.headers().get(name) {
            h.insert(name, v.clone());
        }
    }
    h.insert("connection", http::HeaderValue::from_static("close"));
    timeout
}

/// Resolves once shutdown is requested (or the server is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Accept connections on `listener` until `stop`, at most `limits.max_per_listener` at
/// once (further clients wait in the accept backlog), each with header and body timeouts.
async fn serve_listener(
    listener: TcpListener,
    state: ListenerState,
    limits: ConnectionConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_per_listener));
    let rate = (limits.min_body_rate > 0).then(|| MinRate {
        min_rate: limits.min_body_rate,
        window: Duration::from_secs(limits.body_rate_window_secs),
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs));
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(limits.header_read_timeout_secs));
    let builder = Arc::new(builder);
    let mut connections = JoinSet::new();
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("never closed"),
            _ = stopped(&mut stop) => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait and retry rather than stop.
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        // Small responses go out at once instead of waiting on Nagle's algorithm.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("cannot set TCP_NODELAY: {e}");
        }
        let (state, builder, stop, tls) =
            (state.clone(), builder.clone(), stop.clone(), tls.clone());
        let handshake_timeout = Duration::from_secs(limits.header_read_timeout_secs);
        connections.spawn(async move {
            let serve = Connection {
                state,
                builder,
                peer,
                rate,
                stop,
            };
            match tls {
                None => serve.run(tcp).await,
                // The handshake counts against the header timeout, so a silent client
                // cannot hold a connection slot.
                Some(acceptor) => {
                    match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve.run(stream).await,
                        Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
        // Reap finished connection tasks so the set stays small.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One accepted connection, served until it ends or the server stops.
struct Connection {
    state: ListenerState,
    builder: Arc<auto::Builder<TokioExecutor>>,
    peer: SocketAddr,
    rate: Option<MinRate>,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn run<I>(mut self, io: I)
    where
        I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (state, peer, rate) = (self.state, self.peer, self.rate);
        let service = hyper::service::service_fn(move |request| {
            let response = serve_request(state.clone(), peer, rate, request);
            async move { Ok::<_, std::convert::Infallible>(response.await) }
        });
        let conn = self
            .builder
            .serve_connection_with_upgrades(TokioIo::new(linger::Lingering::new(io)), service);
        tokio::pin!(conn);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
            }
            _ = stopped(&mut self.stop) => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

/// The TLS settings of a region with `tls_cert` and `tls_key`: HTTP/2 and HTTP/1.1 by ALPN.
fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("cannot read the certificate chain {}", cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read the private key {}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("the TLS certificate and key do not make a usable pair")?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A running server: its bound addresses and a way to stop it.
pub struct Server {
    /// (region name, bound address) per listener.
    pub listeners: Vec<(String, SocketAddr)>,
    /// (region name, bound address) per `s3_listen` listener.
    pub s3_listeners: Vec<(String, SocketAddr)>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<std::io::Result<()>>,
    background: tokio::task::JoinHandle<()>,
}

/// The metadata engine and blob store that `config.storage` names, checked to be
/// reachable; the embedded ones live in `server.data_dir`.
pub async fn open_storage(
    config: &Config,
) -> anyhow::Result<(Arc<dyn MetaStore>, Arc<dyn BlobStore>)> {
    let data_dir = &config.server.data_dir;
    let local =
        config.storage.metadata.is_none() || matches!(config.storage.blobs, BlobsConfig::Fs);
    let space = if local {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        Some(Arc::new(
            SpaceReserve::open(data_dir, config.server.disk_reserve_mb << 20).with_context(
                || format!("cannot create the space reserve in {}", data_dir.display()),
            )?,
        ))
    } else {
        None
    };
    let meta: Arc<dyn MetaStore> = match (&config.storage.metadata, &space) {
        (Some(url), _) => Arc::new(PgMeta::open(url, config.storage.metadata_pool_size).await?),
        (None, Some(space)) => Arc::new(
            RedbMeta::open(&data_dir.join("meta.redb"), space.clone()).with_context(|| {
                format!(
                    "cannot open the metadata database in {} (is another ossify using it?)",
                    data_dir.display()
                )
            })?,
        ),
        (None, None) => unreachable!("embedded metadata opens the data directory"),
    };
    let blobs: Arc<dyn BlobStore> = match (&config.storage.blobs, space) {
        (BlobsConfig::Fs, Some(space)) => Arc::new(
            FsBlobStore::open(data_dir, space)
                .with_context(|| format!("cannot open blob storage in {}", data_dir.display()))?,
        ),
        (BlobsConfig::Fs, None) => unreachable!("file blobs open the data directory"),
        (BlobsConfig::S3(s3), _) => Arc::new(S3BlobStore::open(s3).await?),
    };
    Ok((meta, blobs))
}

impl Server {
    /// Open storage, sweep what a crash left behind, bind every listener.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let (meta, blobs) = open_storage(&config).await?;
        crate::image::install_embedded_fonts()
            .map_err(|e| anyhow::anyhow!("embedded fonts: {e}"))?;
        if config.storage.is_embedded() {
            // Nobody else writes here: whatever no record references is a crash's leftover.
            let m = meta.clone();
            let referenced = tokio::task::spawn_blocking(move || m.referenced_blobs())
                .await??
                .into_iter()
                .collect();
            let swept = blobs
                .sweep(&referenced, None)
                .await
                .context("start-up sweep of unfinished writes failed")?;
            if swept > 0 {
                tracing::info!(swept, "removed blobs left behind by interrupted writes");
            }
        }

        let key_path = config.callback.key_path(&config.server.data_dir);
        let (signer, generated) = {
            let path = key_path.clone();
            tokio::task::spawn_blocking(move || crate::core::callback::Signer::load_or_create(&path))
                .await?
                .with_context(|| {
                    format!(
                        "cannot read or create the upload-callback signing key {} (a PKCS#8 PEM RSA key; see [callback] key_file)",
                        key_path.display()
                    )
                })?
        };
        if generated {
            tracing::info!(path = %key_path.display(), "generated the upload-callback signing key");
        }
        let callbacks = crate::core::callback::Callbacks::new(
            signer,
            config.callback.targets(),
            config.callback.public_key_url.clone(),
        );

        let key_path = config.server.master_key_path();
        // On a shared store each node would make its own key: there it must be given.
        let may_create = config.storage.metadata.is_none();
        let keys = Arc::new(
            crate::core::sse::KeyRing::open(&key_path, may_create).with_context(|| {
                format!(
                    "cannot read the server-side encryption master key {} (64 hex digits; see [server] master_key_file)",
                    key_path.display()
                )
            })?,
        );

        let mut credentials = HashMap::new();
        for account in &config.accounts {
            credentials.insert(
                account.access_key_id.clone(),
                Credential {
                    secret: account.access_key_secret.clone(),
                    principal: Principal::Root {
                        account: account.id.clone(),
                    },
                },
            );
            for user in &account.users {
                let policy = user
                    .policy
                    .as_deref()
                    .map(Policy::parse)
                    .transpose()?
                    .map(Arc::new);
                credentials.insert(
                    user.access_key_id.clone(),
                    Credential {
                        secret: user.access_key_secret.clone(),
                        principal: Principal::User {
                            account: account.id.clone(),
                            name: user.name.clone(),
                            policy,
                        },
                    },
                );
            }
        }

        let tls = config
            .regions
            .iter()
            .map(|r| match (&r.tls_cert, &r.tls_key) {
                (Some(cert), Some(key)) => tls_acceptor(cert, key)
                    .with_context(|| format!("HTTPS for region {}", r.name))
                    .map(Some),
                _ => Ok(None),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut bound = Vec::new();
        for (i, region) in config.regions.iter().enumerate() {
            for addr in &region.listen {
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!(
                        "cannot listen on {addr} for region {} (is the port in use?)",
                        region.name
                    )
                })?;
                bound.push((i, listener.local_addr()?, listener, false));
            }
            for addr in &region.s3_listen {
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!(
                        "cannot listen on {addr} (S3) for region {} (is the port in use?)",
                        region.name
                    )
                })?;
                bound.push((i, listener.local_addr()?, listener, true));
            }
        }
        let regions = config
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let first = bound
                    .iter()
                    .find(|(region, .., s3)| *region == i && !s3)
                    .map(|(_, addr, ..)| addr.to_string());
                Region {
                    name: r.name.clone(),
                    endpoint: r.endpoint.clone().or(first).unwrap_or_default(),
                }
            })
            .collect::<Vec<Region>>();
        let endpoints = regions
            .iter()
            .map(|r| (r.name.clone(), r.endpoint.clone()))
            .collect();
        let region_hosts = config
            .regions
            .iter()
            .map(|r| RegionHosts::new(&r.name, r.endpoint.as_deref()))
            .collect();
        // This node's name in leases (background jobs, image renders).
        let node = crate::background::node_name();
        let app = Arc::new(AppState {
            store: crate::core::Store {
                meta,
                blobs,
                max_object_size: config.server.max_object_size,
                blob_delete_delay: (!config.storage.is_embedded())
                    .then(|| Duration::from_secs(config.storage.blob_delete_delay_secs)),
                restore_delay: Duration::from_secs(config.storage.restore_delay_secs),
                inline_max: config.storage.inline_bytes,
                keys,
            },
            regions,
            endpoints: Arc::new(endpoints),
            region_hosts,
            credentials,
            images: crate::core::process::ImagePool::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
                IMAGE_QUEUE,
            )?
            .with_limits(config.image.limits())
            .with_cache(
                config.image.cache_bytes,
                // Several nodes on shared storage render each result once between them.
                (!config.storage.is_embedded()).then(|| crate::core::image_cache::Cluster {
                    node: node.clone(),
                    render_ttl: Duration::from_millis(config.image.max_time_ms)
                        + Duration::from_secs(30),
                }),
            )
            .with_auto_format(config.image.auto_formats()),
            metrics_allow: config.metrics.clone(),
            callbacks,
        });

        tokio::spawn(crate::core::image_cache::trim(
            app.store.clone(),
            config.image.cache_bytes,
            !config.storage.is_embedded(),
        ));
        let background = crate::background::spawn(
            crate::background::Jobs {
                node,
                lifecycle_interval: Duration::from_secs(config.server.lifecycle_interval_secs),
                // The embedded default has no other writer: its start-up sweep suffices.
                blob_gc: (!config.storage.is_embedded()).then(|| crate::background::BlobGc {
                    interval: Duration::from_secs(config.storage.blob_gc_interval_secs),
                    grace: Duration::from_secs(config.storage.blob_gc_grace_secs),
                }),
                blob_uploads: matches!(config.storage.blobs, BlobsConfig::S3(_)).then(|| {
                    crate::background::BlobGc {
                        interval: Duration::from_secs(config.storage.blob_gc_interval_secs),
                        grace: Duration::from_secs(config.storage.blob_upload_grace_secs),
                    }
                }),
                access_log_flush: Duration::from_secs(config.server.access_log_flush_secs),
            },
            app.store.clone(),
        );
        let (shutdown, watcher) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut listeners = Vec::new();
        let mut s3_listeners = Vec::new();
        let s3 = crate::api::s3::service(app.clone());
        for (region, addr, listener, s3_only) in bound {
            let name = config.regions[region].name.clone();
            if s3_only {
                s3_listeners.push((name, addr));
            } else {
                listeners.push((name, addr));
            }
            let state = ListenerState {
                app: app.clone(),
                region,
                s3_only,
                s3: s3.clone(),
                console: config.console.enabled_on(&addr),
                tls: tls[region].is_some(),
            };
            tasks.spawn(serve_listener(
                listener,
                state,
                config.server.connections.clone(),
                tls[region].clone(),
                watcher.clone(),
            ));
        }
        Ok(Self {
            listeners,
            s3_listeners,
            shutdown,
            tasks,
            background,
        })
    }

    /// Stop accepting, finish in-flight requests, return.
    pub async fn shutdown(mut self) {
        self.background.abort();
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Serve until a listener fails or `signal` resolves; then stop accepting and give
    /// in-flight requests `grace` (or until `signal` resolves again) before cutting
    /// their connections. A cut upload never commits, so its object keeps its old data.
    pub async fn run_until<S: std::future::Future<Output = ()>>(
        mut self,
        mut signal: impl FnMut() -> S,
        grace: Duration,
    ) -> anyhow::Result<()> {
        tokio::select! {
            _ = signal() => {}
            Some(result) = self.tasks.join_next() => {
                result?.context("a listener stopped")?;
                return Ok(());
            }
        }
        tracing::info!(
            grace_secs = grace.as_secs(),
            "shutting down: no new connections; waiting for requests in flight"
        );
        self.background.abort();
        let _ = self.shutdown.send(true);
        let drained = async { while self.tasks.join_next().await.is_some() {} };
        tokio::select! {
            _ = drained => tracing::info!("every request finished"),
            _ = tokio::time::sleep(grace) => {
                tracing::warn!("grace period over: cutting the connections still open");
            }
            _ = signal() => tracing::warn!("signalled again: cutting the connections still open"),
        }
        // Dropping a listener's task drops its connections with it.
        self.tasks.shutdown().await;
        Ok(())
    }
}
