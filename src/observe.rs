//! What ossify tells its operator: Prometheus metrics (served at `/-/metrics`) and one
//! access-log line per request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    dialect: &'static str,
    operation: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    dialect: &'static str,
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    store: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// The process's metrics (one registry, as Prometheus scrapes a process).
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Histograms<OperationLabels>,
    in_flight: Gauge,
    received: Counter,
    sent: Counter,
    image_steps: Histograms<ActionLabels>,
    image_waiting: Gauge,
    image_rejected: Counter,
    image_cache: Family<CacheLabels, Counter>,
    image_cache_bytes: Gauge,
    image_cache_evicted: Counter,
    storage_errors: Family<StoreLabels, Counter>,
}

/// Request and image latencies: 0.5 ms to about 65 s.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 18))
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("ossify");
        let m = Self {
            registry: Registry::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(seconds_histogram),
            in_flight: Gauge::default(),
            received: Counter::default(),
            sent: Counter::default(),
            image_steps: Family::new_with_constructor(seconds_histogram),
            image_waiting: Gauge::default(),
            image_rejected: Counter::default(),
            image_cache: Family::default(),
            image_cache_bytes: Gauge::default(),
            image_cache_evicted: Counter::default(),
            storage_errors: Family::default(),
        };
        registry.register(
            "requests",
            "Requests answered, by dialect (oss, s3, admin), operation and HTTP status",
            m.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time from the request head to the end of the response body, by operation",
            Unit::Seconds,
            m.request_duration.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Requests being served",
            m.in_flight.clone(),
        );
        registry.register_with_unit(
            "received",
            "Request body bytes read",
            Unit::Bytes,
            m.received.clone(),
        );
        registry.register_with_unit(
            "sent",
            "Response body bytes written",
            Unit::Bytes,
            m.sent.clone(),
        );
        registry.register_with_unit(
            "image_step_duration",
            "Image processing time by step (decode, each action, encode)",
            Unit::Seconds,
            m.image_steps.clone(),
        );
        registry.register(
            "image_jobs_queued",
            "Image jobs waiting for a worker",
            m.image_waiting.clone(),
        );
        registry.register(
            "image_jobs_rejected",
            "Image jobs refused with 503 because the queue was full",
            m.image_rejected.clone(),
        );
        registry.register(
            "image_cache_lookups",
            "Processed-image requests by result-cache outcome: hit (stored result), \
             shared (waited for an identical request's render), miss (rendered)",
            m.image_cache.clone(),
        );
        registry.register_with_unit(
            "image_cache",
            "Bytes in the result cache (shared by all nodes), as of this node's last store",
            Unit::Bytes,
            m.image_cache_bytes.clone(),
        );
        registry.register(
            "image_cache_evictions",
            "Result-cache entries this node replaced or evicted",
            m.image_cache_evicted.clone(),
        );
        registry.register(
            "storage_errors",
            "Failed storage operations, by store (metadata, blobs)",
            m.storage_errors.clone(),
        );
        Self { registry, ..m }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }

    /// One image step took `took`.
    pub fn image_step(&self, action: &'static str, took: Duration) {
        self.image_steps
            .get_or_create(&ActionLabels { action })
            .observe(took.as_secs_f64());
    }

    /// The image queue now holds `waiting` jobs.
    pub fn image_queue(&self, waiting: usize) {
        self.image_waiting.set(waiting as i64);
    }

    pub fn image_rejected(&self) {
        self.image_rejected.inc();
    }

    /// A processed-image request was a cache `hit`, `shared` or `miss`.
    pub fn image_cache(&self, result: &'static str) {
        self.image_cache
            .get_or_create(&CacheLabels { result })
            .inc();
    }

    /// The result cache holds `bytes` after this node freed `evicted` entries.
    pub fn image_cache_stored(&self, bytes: u64, evicted: usize) {
        self.image_cache_bytes.set(bytes as i64);
        self.image_cache_evicted.inc_by(evicted as u64);
    }

    /// A storage operation failed; `store` is `metadata` or `blobs`.
    pub fn storage_error(&self, store: &'static str) {
        self.storage_errors
            .get_or_create(&StoreLabels { store })
            .inc();
    }
}

/// What the dialect learns about a request as it serves it, for its log line and
/// metrics. A shared slot travels in the request's extensions.
#[derive(Debug, Default)]
pub struct RequestInfo {
    pub dialect: &'static str,
    /// `GetObject`, `ListObjectsV2`, …; empty until routed.
    pub operation: String,
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// [`crate::access::Principal::log_name`].
    pub principal: Option<String>,
    pub request_id: String,
    /// The access-log line being made, when the bucket has logging enabled.
    pub access_log: Option<Box<crate::core::access_log::Pending>>,
}

#[derive(Clone, Default)]
pub struct RequestSlot(pub Arc<Mutex<RequestInfo>>);

impl RequestSlot {
    pub fn update(&self, f: impl FnOnce(&mut RequestInfo)) {
        if let Ok(mut info) = self.0.lock() {
            f(&mut info);
        }
    }
}

/// One request from its head to the end of its response body: counts the bytes each
/// way and, when the response is done (or the client gone), logs the request and
/// records its metrics.
pub struct Exchange {
    pub slot: RequestSlot,
    received: AtomicU64,
    sent: AtomicU64,
    method: http::Method,
    path: String,
    peer: std::net::SocketAddr,
    started: Instant,
    status: AtomicU64,
}

impl Exchange {
    pub fn begin(method: http::Method, path: String, peer: std::net::SocketAddr) -> Arc<Self> {
        METRICS.in_flight.inc();
        Arc::new(Self {
            slot: RequestSlot::default(),
            received: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            method,
            path,
            peer,
            started: Instant::now(),
            status: AtomicU64::new(0),
        })
    }

    pub fn received(&self, n: usize) {
        self.received.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn sent(&self, n: usize) {
        self.sent.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn status(&self, status: http::StatusCode) {
        self.status
            .store(u64::from(status.as_u16()), Ordering::Relaxed);
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        let m = &*METRICS;
        m.in_flight.dec();
        let took = self.started.elapsed();
        let received = *self.received.get_mut();
        let sent = *self.sent.get_mut();
        m.received.inc_by(received);
        m.sent.inc_by(sent);
        let status = *self.status.get_mut() as u16;
        let info = self
            .slot
            .0
            .lock()
            .map(|mut i| std::mem::take(&mut *i))
            .unwrap_or_default();
        if let Some(pending) = &info.access_log {
            crate::core::access_log::record(
                pending,
                crate::core::access_log::Outcome {
                    status,
                    sent,
                    received,
                    took,
                },
            );
        }
        let operation = if info.operation.is_empty() {
            "Unknown".to_owned()
        } else {
            info.operation
        };
        m.requests
            .get_or_create(&RequestLabels {
                dialect: info.dialect,
                operation: operation.clone(),
                status,
            })
            .inc();
        m.request_duration
            .get_or_create(&OperationLabels {
                dialect: info.dialect,
                operation: operation.clone(),
            })
            .observe(took.as_secs_f64());
        tracing::info!(
            target: "ossify::access",
            dialect = info.dialect,
            operation,
            method = %self.method,
            path = %self.path,
            bucket = info.bucket.as_deref().unwrap_or(""),
            key = info.key.as_deref().unwrap_or(""),
            status,
            received,
            sent,
            duration_ms = took.as_secs_f64() * 1000.0,
            request_id = info.request_id,
            principal = info.principal.as_deref().unwrap_or("anonymous"),
            peer = %self.peer,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exchange_is_counted_when_it_ends() {
        let peer = "127.0.0.1:1".parse().unwrap();
        let before = METRICS.render();
        assert!(!before.contains("operation=\"ObserveTest\""));
        let exchange = Exchange::begin(http::Method::GET, "/b/k".into(), peer);
        exchange.slot.update(|i| {
            i.dialect = "oss";
            i.operation = "ObserveTest".into();
        });
        exchange.sent(10);
        exchange.status(http::StatusCode::NOT_FOUND);
        drop(exchange);
        let after = METRICS.render();
        assert!(
            after.contains(
                "ossify_requests_total{dialect=\"oss\",operation=\"ObserveTest\",status=\"404\"} 1"
            ),
            "{after}"
        );
        assert!(after.contains(
            "ossify_request_duration_seconds_count{dialect=\"oss\",operation=\"ObserveTest\"} 1"
        ));
    }
}
