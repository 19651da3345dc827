//! Wiring: state, router, listeners.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::access::{Policy, Principal};
use crate::api::target::RegionHosts;
use crate::config::Config;
use crate::storage::{BlobStore, FsBlobStore, MetaStore, RedbMeta};

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
    pub images: crate::api::ops::process::ImagePool,
}

impl crate::api::auth::SecretLookup for AppState {
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
}

pub fn app(state: ListenerState) -> Router {
    Router::new()
        .fallback(crate::api::handle)
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// A running server: its bound addresses and a way to stop it.
pub struct Server {
    /// (region name, bound address) per listener.
    pub listeners: Vec<(String, SocketAddr)>,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<std::io::Result<()>>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Open storage, sweep what a crash left behind, bind every listener.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let data_dir = &config.server.data_dir;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        let meta = RedbMeta::open(&data_dir.join("meta.redb")).with_context(|| {
            format!(
                "cannot open the metadata database in {} (is another ossify using it?)",
                data_dir.display()
            )
        })?;
        let blobs = FsBlobStore::open(data_dir)
            .with_context(|| format!("cannot open blob storage in {}", data_dir.display()))?;
        crate::api::ops::process::install_fonts()
            .map_err(|e| anyhow::anyhow!("embedded fonts: {e}"))?;
        let referenced = meta.referenced_blobs()?;
        let swept = blobs
            .sweep(&referenced)
            .context("start-up sweep of unfinished writes failed")?;
        if swept > 0 {
            tracing::info!(swept, "removed blobs left behind by interrupted writes");
        }

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

        let mut bound = Vec::new();
        for (i, region) in config.regions.iter().enumerate() {
            for addr in &region.listen {
                let listener = TcpListener::bind(addr).await.with_context(|| {
                    format!(
                        "cannot listen on {addr} for region {} (is the port in use?)",
                        region.name
                    )
                })?;
                bound.push((i, listener.local_addr()?, listener));
            }
        }
        let regions = config
            .regions
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let first = bound
                    .iter()
                    .find(|(region, ..)| *region == i)
                    .map(|(_, addr, _)| addr.to_string());
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
        let app = Arc::new(AppState {
            store: crate::core::Store {
                meta: Arc::new(meta),
                blobs: Arc::new(blobs),
                max_object_size: config.server.max_object_size,
            },
            regions,
            endpoints: Arc::new(endpoints),
            region_hosts,
            credentials,
            images: crate::api::ops::process::ImagePool::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
                IMAGE_QUEUE,
            )?
            .with_limits(config.image.limits()),
        });

        let sweeper = tokio::spawn(crate::lifecycle::run(
            app.store.meta.clone(),
            app.store.blobs.clone(),
            std::time::Duration::from_secs(config.server.lifecycle_interval_secs),
        ));
        let (shutdown, watcher) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut listeners = Vec::new();
        for (region, addr, listener) in bound {
            listeners.push((config.regions[region].name.clone(), addr));
            let router = self::app(ListenerState {
                app: app.clone(),
                region,
            });
            let mut watcher = watcher.clone();
            // Small responses go out at once instead of waiting on Nagle's algorithm.
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!("cannot set TCP_NODELAY: {e}");
                }
            });
            tasks.spawn(async move {
                axum::serve(
                    listener,
                    router.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async move {
                    let _ = watcher.wait_for(|stop| *stop).await;
                })
                .await
            });
        }
        Ok(Self {
            listeners,
            shutdown,
            tasks,
            sweeper,
        })
    }

    /// Stop accepting, finish in-flight requests, return.
    pub async fn shutdown(mut self) {
        self.sweeper.abort();
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Serve until a listener fails or `signal` resolves.
    pub async fn run_until(
        mut self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        tokio::select! {
            _ = signal => {
                tracing::info!("shutting down");
                self.shutdown().await;
                Ok(())
            }
            Some(result) = self.tasks.join_next() => {
                result?.context("a listener stopped")?;
                Ok(())
            }
        }
    }
}
