//! The processed-image result cache (`[image] cache_bytes`): rendered results kept as
//! blobs with an entry in the metadata engine, so every node on shared storage uses
//! one cache, evicted least recently used first.
//!
//! An entry's key is a digest of everything the result depends on: the source's and
//! each watermark object's identity (ETag, size, blobs, version and Last-Modified,
//! which every write changes), the normalized pipeline (styles already expanded, the
//! negotiated format included) and this build. An overwrite, append or delete gives the
//! next request a different key, or no source at all, so a stale result is never
//! served; orphaned entries age out. Identical concurrent requests render once (single
//! flight): the first renders, the others wait for its result or its error. On several
//! nodes the first also takes a lease on the key in the metadata engine, and identical
//! requests on other nodes wait for its stored result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::object::remove_blob;
use super::{CoreError, CoreResult, Store, now_ms};
use crate::image::{Limits, Output, Pipeline};
use crate::observe::METRICS;
use crate::storage::{BlobId, CacheEntry, ObjectRecord};

/// Recorded uses kept in memory before they are written without waiting for a store.
const USES_HELD: usize = 4096;
/// Entries this node remembers (key → blob), so that a hit need not ask the metadata
/// engine; forgotten all at once when full.
const KNOWN_HELD: usize = 65536;

/// How a processed image was served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheUse {
    /// Read from the cache.
    Hit,
    /// An identical request rendered it meanwhile.
    Shared,
    /// Rendered by this request (and stored).
    Miss,
}

impl CacheUse {
    /// `x-ossify-image-cache`: `hit` when this request did not render.
    pub fn header(self) -> &'static str {
        match self {
            CacheUse::Hit | CacheUse::Shared => "hit",
            CacheUse::Miss => "miss",
        }
    }

    fn metric(self) -> &'static str {
        match self {
            CacheUse::Hit => "hit",
            CacheUse::Shared => "shared",
            CacheUse::Miss => "miss",
        }
    }
}

/// What a render in flight ends with: its output, or its error, which the identical
/// requests waiting for it answer with too (it depends only on the key).
type Rendered = Option<Result<Arc<Output>, CoreError>>;
type Flights = Mutex<HashMap<String, watch::Receiver<Rendered>>>;

/// How long a node waiting for another node's render looks for its result between
/// attempts at the lease.
const CLUSTER_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// This node among several on shared storage.
pub struct Cluster {
    /// The lease holder name of this node.
    pub node: String,
    /// How long a render's lease lasts: longer than any render and its store, so that
    /// only a node that died loses it.
    pub render_ttl: std::time::Duration,
}

pub struct ResultCache {
    max_bytes: u64,
    cluster: Option<Cluster>,
    /// Renders in progress, and rendered results until they are stored.
    flights: Flights,
    /// Hits not yet written to the entries' last-use times.
    uses: Mutex<HashMap<String, i64>>,
    /// Entries seen or stored here. An entry never changes (its key names its
    /// content), so a remembered one is right as long as its blob is there; a blob
    /// evicted meanwhile fails to read and sends the lookup to the metadata engine.
    known: Mutex<HashMap<String, CacheEntry>>,
}

/// The image limits as part of a cache key (they decide whether a render succeeds, and
/// `default_quality` its bytes).
pub fn limits_key(limits: &Limits) -> String {
    format!("{limits:?}")
}

/// The cache key of `pipeline` applied to `source` in `bucket`, with the watermark
/// objects it composites (key and record), under the limits of [`limits_key`].
pub fn key(
    bucket: &str,
    source: &ObjectRecord,
    pipeline: &Pipeline,
    marks: &[(String, ObjectRecord)],
    limits: &str,
) -> String {
    fn field(h: &mut Sha256, s: &str) {
        h.update(s.as_bytes());
        h.update([0]);
    }
    fn identity(h: &mut Sha256, r: &ObjectRecord) {
        field(h, &r.etag);
        field(h, &r.size.to_string());
        for s in &r.segments {
            field(h, &s.blob.0);
            field(h, &s.size.to_string());
        }
        // Inline bytes have no blob id that changes with every write.
        field(h, r.version_label());
        field(h, &r.last_modified.to_string());
    }
    let mut h = Sha256::new();
    field(&mut h, env!("CARGO_PKG_VERSION"));
    field(&mut h, limits);
    field(&mut h, bucket);
    field(&mut h, &pipeline.normalized());
    identity(&mut h, source);
    for (key, record) in marks {
        field(&mut h, key);
        identity(&mut h, record);
    }
    hex::encode(h.finalize())
}

/// The one render of a key in progress; removed from the flights when dropped.
struct Flight {
    cache: Arc<ResultCache>,
    key: String,
    result: watch::Sender<Rendered>,
}

impl Drop for Flight {
    fn drop(&mut self) {
        lock(&self.cache.flights).remove(&self.key);
    }
}

/// This node's lease on rendering one key, released when dropped: once the result is
/// stored, or when the render fails or its client leaves (else it would lapse).
struct RenderLease {
    store: Store,
    name: String,
    node: String,
}

impl Drop for RenderLease {
    fn drop(&mut self) {
        let (store, name, node) = (
            self.store.clone(),
            std::mem::take(&mut self.name),
            std::mem::take(&mut self.node),
        );
        tokio::spawn(async move {
            if let Err(e) = store.meta(move |m| m.release_lease(&name, &node)).await {
                tracing::debug!("image cache: cannot release a render lease: {e}");
            }
        });
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ResultCache {
    /// A cache of at most `max_bytes` (none when 0), shared with other nodes when
    /// `cluster` is given.
    pub fn new(max_bytes: u64, cluster: Option<Cluster>) -> Option<Arc<Self>> {
        (max_bytes > 0).then(|| {
            Arc::new(Self {
                max_bytes,
                cluster,
                flights: Mutex::default(),
                uses: Mutex::default(),
                known: Mutex::default(),
            })
        })
    }

    /// The result under `key`: stored, rendered by an identical request in flight,
    /// or rendered now by `render` and stored after the answer.
    pub async fn get_or_render(
        self: &Arc<Self>,
        store: &Store,
        key: String,
        render: impl AsyncFnOnce() -> CoreResult<Output>,
    ) -> CoreResult<(Output, CacheUse)> {
        // Counted however the render ended.
        let served = |result: CoreResult<Output>, how: CacheUse| {
            METRICS.image_cache(how.metric());
            result.map(|output| (output, how))
        };
        if let Some(output) = self.lookup(store, &key).await {
            return served(Ok(output), CacheUse::Hit);
        }
        loop {
            let joined = {
                let mut flights = lock(&self.flights);
                match flights.get(&key) {
                    Some(waiting) => Err(waiting.clone()),
                    None => {
                        let (result, waiting) = watch::channel(None);
                        flights.insert(key.clone(), waiting);
                        Ok(Flight {
                            cache: self.clone(),
                            key: key.clone(),
                            result,
                        })
                    }
                }
            };
            let flight = match joined {
                Ok(flight) => flight,
                Err(mut waiting) => match waiting.wait_for(Option::is_some).await {
                    Ok(result) => {
                        let result = result.as_ref().expect("waited for");
                        let result = result.as_deref().cloned().map_err(CoreError::clone);
                        return served(result, CacheUse::Shared);
                    }
                    // That render's client left: try again, maybe leading.
                    Err(_) => continue,
                },
            };
            // Stored since the first look (by the flight that just ended)?
            if let Some(output) = self.lookup(store, &key).await {
                return served(Ok(output), CacheUse::Hit);
            }
            let lease = match self.lead_cluster(store, &key).await {
                Ok(lease) => lease,
                Err(output) => {
                    flight
                        .result
                        .send_replace(Some(Ok(Arc::new(output.clone()))));
                    return served(Ok(output), CacheUse::Shared);
                }
            };
            // Leading ends here whatever happens, so `render` runs at most once.
            let output = match render().await {
                Ok(output) => output,
                Err(e) => {
                    flight.result.send_replace(Some(Err(e.clone())));
                    return served(Err(e), CacheUse::Miss);
                }
            };
            let shared = Arc::new(output.clone());
            flight.result.send_replace(Some(Ok(shared.clone())));
            let store = store.clone();
            tokio::spawn(async move {
                flight.cache.store(&store, &flight.key, &shared).await;
                drop((lease, flight));
            });
            return served(Ok(output), CacheUse::Miss);
        }
    }

    /// On several nodes: the lease on rendering `key`, taken once no other node holds
    /// it, or the result another node rendered meanwhile. Without the metadata engine's
    /// answer the render goes ahead, as on one node.
    async fn lead_cluster(&self, store: &Store, key: &str) -> Result<Option<RenderLease>, Output> {
        let Some(cluster) = &self.cluster else {
            return Ok(None);
        };
        let name = format!("image-render/{key}");
        let ttl_ms = cluster.render_ttl.as_millis() as i64;
        loop {
            let (n, node) = (name.clone(), cluster.node.clone());
            match store.meta(move |m| m.try_lease(&n, &node, ttl_ms)).await {
                Ok(true) => {
                    return Ok(Some(RenderLease {
                        store: store.clone(),
                        name,
                        node: cluster.node.clone(),
                    }));
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!("image cache: cannot take the render lease: {e}");
                    return Ok(None);
                }
            }
            tokio::time::sleep(CLUSTER_POLL).await;
            if let Some(output) = self.lookup(store, key).await {
                return Err(output);
            }
        }
    }

    /// The stored result under `key`; a missing entry or blob (evicted meanwhile, or
    /// unreadable) is a miss.
    async fn lookup(&self, store: &Store, key: &str) -> Option<Output> {
        let known = lock(&self.known).get(key).cloned();
        // A remembered entry whose bytes are in the page cache is read here, as a plain
        // GET reads a small blob: a trip to the blocking pool would cost more.
        if let Some(entry) = &known {
            let mut bytes = Vec::with_capacity(entry.size as usize);
            if let Ok(true) = store
                .blobs
                .read_cached(&entry.blob, 0, entry.size, &mut bytes)
            {
                return self.found(store, key, entry.clone(), bytes, true);
            }
        }
        let (meta, blobs, k) = (store.meta.clone(), store.blobs.clone(), key.to_owned());
        let read = tokio::task::spawn_blocking(move || {
            let read = |entry: &CacheEntry| {
                let mut bytes = Vec::with_capacity(entry.size as usize);
                blobs
                    .read_blocking(&entry.blob, 0, entry.size, &mut bytes)
                    .map(|()| bytes)
            };
            if let Some(entry) = known
                && let Ok(bytes) = read(&entry)
            {
                return Ok((entry, bytes, true));
            }
            let Some(entry) = meta.cache_get(&k).map_err(|e| e.to_string())? else {
                return Err(String::new());
            };
            let bytes = read(&entry).map_err(|e| e.to_string())?;
            Ok((entry, bytes, false))
        })
        .await;
        match read {
            Ok(Ok((entry, bytes, remembered))) => self.found(store, key, entry, bytes, remembered),
            Ok(Err(e)) => {
                lock(&self.known).remove(key);
                if !e.is_empty() {
                    tracing::debug!(key, "result cache entry unreadable, rendering: {e}");
                }
                None
            }
            Err(e) => {
                tracing::warn!(key, "result cache lookup failed: {e}");
                None
            }
        }
    }

    /// A hit on `entry`, whose result is `bytes`.
    fn found(
        &self,
        store: &Store,
        key: &str,
        entry: CacheEntry,
        bytes: Vec<u8>,
        remembered: bool,
    ) -> Option<Output> {
        let content_type = crate::image::known_content_type(&entry.content_type)?;
        if !remembered {
            self.remember(key, entry);
        }
        self.used(store, key);
        Some(Output {
            bytes,
            content_type,
            timings: Vec::new(),
        })
    }

    fn remember(&self, key: &str, entry: CacheEntry) {
        let mut known = lock(&self.known);
        if known.len() >= KNOWN_HELD {
            known.clear();
        }
        known.insert(key.to_owned(), entry);
    }

    /// Note a hit; uses are written with the next store, or on their own once many
    /// have gathered.
    fn used(&self, store: &Store, key: &str) {
        let mut uses = lock(&self.uses);
        uses.insert(key.to_owned(), now_ms());
        if uses.len() >= USES_HELD {
            let uses: Vec<_> = uses.drain().collect();
            let (store, max) = (store.clone(), self.max_bytes);
            tokio::spawn(async move { update(&store, None, uses, max).await });
        }
    }

    /// Keep `output` under `key`: its bytes as a blob, then the entry (evicting
    /// others to stay within the bound). Failures only cost a later render.
    async fn store(&self, store: &Store, key: &str, output: &Output) {
        let size = output.bytes.len() as u64;
        if size > self.max_bytes {
            return;
        }
        let blob = match write_blob(store, &output.bytes).await {
            Ok(blob) => blob,
            Err(e) => {
                tracing::warn!(key, "cannot store a result in the image cache: {e}");
                return;
            }
        };
        let entry = CacheEntry {
            blob,
            size,
            content_type: output.content_type.to_owned(),
            used: now_ms(),
        };
        let uses: Vec<_> = lock(&self.uses).drain().collect();
        if update(
            store,
            Some((key.to_owned(), entry.clone())),
            uses,
            self.max_bytes,
        )
        .await
        {
            self.remember(key, entry);
        }
    }
}

/// At start-up: hold the stored results to `max_bytes`, so that a lowered
/// `cache_bytes` applies at once. With the cache off (0), one node's results are of
/// no further use and are all deleted; on shared storage (`shared`) they are left to
/// the other nodes.
pub async fn trim(store: Store, max_bytes: u64, shared: bool) {
    if max_bytes == 0 && shared {
        return;
    }
    update(&store, None, Vec::new(), max_bytes).await;
}

/// Apply a cache update, delete the blobs it freed and publish the cache's size.
/// Returns whether `put` is stored.
async fn update(
    store: &Store,
    put: Option<(String, CacheEntry)>,
    uses: Vec<(String, i64)>,
    max_bytes: u64,
) -> bool {
    let put_blob = put.as_ref().map(|(_, e)| e.blob.clone());
    let change = store
        .meta(move |m| {
            let put = put.as_ref().map(|(k, e)| (k.as_str(), e));
            m.cache_update(put, &uses, max_bytes)
        })
        .await;
    match change {
        Ok(change) => {
            let evicted = change
                .unused
                .iter()
                .filter(|b| Some(*b) != put_blob.as_ref())
                .count();
            METRICS.image_cache_stored(change.total, evicted);
            for blob in &change.unused {
                remove_blob(store, blob).await;
            }
            put_blob.is_some_and(|b| !change.unused.contains(&b))
        }
        Err(e) => {
            tracing::warn!("cannot update the image cache: {e}");
            if let Some(blob) = put_blob {
                remove_blob(store, &blob).await;
            }
            false
        }
    }
}

async fn write_blob(store: &Store, bytes: &[u8]) -> std::io::Result<BlobId> {
    let mut writer = store.blobs.create().await?;
    writer.write(bytes).await?;
    writer.finish().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Segment;

    fn record(etag: &str, blob: &str) -> ObjectRecord {
        let mut r = super::super::object::new_record("Normal", "Standard");
        r.etag = etag.into();
        r.size = 10;
        r.segments = vec![Segment {
            blob: BlobId(blob.into()),
            size: 10,
            key: None,
            inline: None,
        }];
        r
    }

    #[test]
    fn keys_change_with_everything_a_result_depends_on() {
        let k =
            |bucket: &str, src: &ObjectRecord, p: &Pipeline, marks: &[(String, ObjectRecord)]| {
                key(bucket, src, p, marks, &limits_key(&Limits::default()))
            };
        let p = crate::image::parse("image/resize,w_10").unwrap();
        let src = record("E", "b1");
        let mark = ("m.png".to_string(), record("M", "m1"));
        let base = k("b", &src, &p, std::slice::from_ref(&mark));
        assert_eq!(base, k("b", &src, &p, std::slice::from_ref(&mark)));
        let others = [
            k("c", &src, &p, std::slice::from_ref(&mark)),
            k("b", &record("E", "b2"), &p, std::slice::from_ref(&mark)),
            k("b", &record("F", "b1"), &p, std::slice::from_ref(&mark)),
            k(
                "b",
                &src,
                &crate::image::parse("image/resize,w_11").unwrap(),
                std::slice::from_ref(&mark),
            ),
            k(
                "b",
                &src,
                &p.clone().with_auto_format(crate::image::OutFormat::Webp),
                std::slice::from_ref(&mark),
            ),
            k("b", &src, &p, &[("m.png".to_string(), record("M", "m2"))]),
            k("b", &src, &p, &[]),
            key(
                "b",
                &src,
                &p,
                std::slice::from_ref(&mark),
                &limits_key(&Limits {
                    default_quality: 75,
                    ..Limits::default()
                }),
            ),
        ];
        for (i, other) in others.iter().enumerate() {
            assert_ne!(&base, other, "variant {i}");
        }
        // Equal pipelines written differently share a key.
        let same = crate::image::parse("image/resize,w_10,m_lfit").unwrap();
        assert_eq!(base, k("b", &src, &same, std::slice::from_ref(&mark)));
    }
}
