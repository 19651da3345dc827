//! Background work that must run once per cluster, not once per node: the lifecycle
//! sweeper, the orphan-blob collector (which also purges expired leases) and the
//! aborter of stale blob uploads. Each runs on the node holding its lease in the
//! metadata store; when that node dies its lease lapses and another takes over.
//! The access-log flush runs on every node: each writes the lines it buffered.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::storage::{BlobStore, MetaStore, StorageError};

/// What runs in the background, and how often.
#[derive(Debug, Clone)]
pub struct Jobs {
    /// This node's name in leases.
    pub node: String,
    pub lifecycle_interval: Duration,
    /// `None`: no periodic collection (the embedded default sweeps at start-up).
    pub blob_gc: Option<BlobGc>,
    /// `None`: blobs are files, whose dead writes `blob_gc` or the start-up sweep removes.
    pub blob_uploads: Option<BlobGc>,
    pub access_log_flush: Duration,
}

#[derive(Debug, Clone)]
pub struct BlobGc {
    pub interval: Duration,
    /// Blobs (or uploads) younger than this are spared: their write may still be going on.
    pub grace: Duration,
}

/// A name for this node that differs between processes and restarts.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    format!(
        "{host}:{}:{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// Run every job until the returned task is aborted.
pub fn spawn(jobs: Jobs, store: crate::core::Store) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let (meta, blobs) = (store.meta.clone(), store.blobs.clone());
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(crate::core::access_log::run(
            store.clone(),
            jobs.access_log_flush,
        ));
        tasks.spawn(leased(
            "lifecycle",
            jobs.node.clone(),
            jobs.lifecycle_interval,
            meta.clone(),
            move |_| {
                let store = store.clone();
                async move {
                    crate::lifecycle::sweep(&store, crate::core::now_ms())
                        .await
                        .map(|_| ())
                }
            },
        ));
        if let Some(gc) = jobs.blob_gc {
            let (b, node) = (blobs.clone(), jobs.node.clone());
            tasks.spawn(leased(
                "blob-gc",
                node,
                gc.interval,
                meta.clone(),
                move |m| collect_garbage(m, b.clone(), gc.grace),
            ));
        }
        if let Some(gc) = jobs.blob_uploads {
            tasks.spawn(leased(
                "blob-uploads",
                jobs.node,
                gc.interval,
                meta,
                move |_| abort_stale_uploads(blobs.clone(), gc.grace),
            ));
        }
        while tasks.join_next().await.is_some() {}
    })
}

/// Every `interval`, take or renew lease `name` and run `job` while holding it. The
/// lease outlives a missed tick or two, so a live holder keeps it and a dead one
/// loses it after about three intervals.
async fn leased<F, Fut>(
    name: &'static str,
    node: String,
    interval: Duration,
    meta: Arc<dyn MetaStore>,
    job: F,
) where
    F: Fn(Arc<dyn MetaStore>) -> Fut,
    Fut: std::future::Future<Output = Result<(), StorageError>>,
{
    let ttl_ms = (interval * 3).max(Duration::from_secs(3)).as_millis() as i64;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let (m, n) = (meta.clone(), node.clone());
        let held = tokio::task::spawn_blocking(move || m.try_lease(name, &n, ttl_ms)).await;
        match held {
            Ok(Ok(true)) => {
                if let Err(e) = job(meta.clone()).await {
                    tracing::error!(job = name, "background job failed: {e}");
                }
            }
            Ok(Ok(false)) => tracing::trace!(job = name, "another node holds the lease"),
            Ok(Err(e)) => tracing::warn!(job = name, "cannot take the lease: {e}"),
            Err(e) => tracing::error!(job = name, "lease check panicked: {e}"),
        }
    }
}

/// A metadata call on the blocking pool (the engines block).
async fn on_blocking_pool<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::Io(e.to_string()))?
}

/// Remove blobs no record references that were written more than `grace` before the
/// reference scan began: a write still in flight (blob stored, record not yet
/// committed) is younger than that, so it survives.
pub async fn collect_blobs(
    meta: Arc<dyn MetaStore>,
    blobs: Arc<dyn BlobStore>,
    grace: Duration,
) -> Result<(), StorageError> {
    let cutoff = crate::core::now_ms() - grace.as_millis() as i64;
    let keep: HashSet<_> = on_blocking_pool(move || meta.referenced_blobs())
        .await?
        .into_iter()
        .collect();
    let removed = blobs.sweep(&keep, Some(cutoff)).await?;
    if removed > 0 {
        tracing::info!(removed, "removed orphan blobs");
    }
    Ok(())
}

/// The periodic collection on shared storage: orphan blobs, then expired leases.
async fn collect_garbage(
    meta: Arc<dyn MetaStore>,
    blobs: Arc<dyn BlobStore>,
    grace: Duration,
) -> Result<(), StorageError> {
    collect_blobs(meta.clone(), blobs, grace).await?;
    let purged = on_blocking_pool(move || meta.purge_leases()).await?;
    if purged > 0 {
        tracing::debug!(purged, "purged expired leases");
    }
    Ok(())
}

/// Abort the blob uploads (S3 multipart uploads) begun more than `grace` ago: a node
/// killed mid-upload leaves its upload, and the parts' storage, behind.
pub async fn abort_stale_uploads(
    blobs: Arc<dyn BlobStore>,
    grace: Duration,
) -> Result<(), StorageError> {
    let cutoff = crate::core::now_ms() - grace.as_millis() as i64;
    let aborted = blobs.abort_stale_uploads(cutoff).await?;
    if aborted > 0 {
        tracing::info!(aborted, "aborted stale blob uploads");
    }
    Ok(())
}
