//! Image processing shared by the dialects: the worker pool, and rendering an object
//! through a pipeline with every watermark object authorized for the requester.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use md5::{Digest, Md5};

use super::conditions::{Conditions, Precondition};
use super::image_cache::{self, CacheUse, Cluster, ResultCache};
use super::object::{read_range_blocking, resolve_symlink};
use super::restore::check_readable;
use super::{CoreError, CoreResult, Requester, Store, now_ms};
use crate::access::{Action, Principal};
use crate::image::{self, Limits, OutFormat, Output, Pipeline};
use crate::observe::METRICS;
use crate::storage::{BucketRecord, ObjectRecord, Style};

type Job = Box<dyn FnOnce() + Send>;

/// Runs CPU-heavy image work off the async runtime on its own threads, one per core and
/// pinned to it (so two jobs never share a core while another idles), with at most
/// `max_waiting` jobs queued; beyond that requests are refused at once.
pub struct ImagePool {
    queue: mpsc::Sender<Job>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    pub limits: Limits,
    /// `limits` as the result cache keys them, written once rather than per request.
    limits_key: String,
    cache: Option<Arc<ResultCache>>,
    /// Formats a request's `Accept` may choose (`[image] auto_format`).
    auto_format: AutoFormat,
}

/// Formats a request's `Accept` may choose, in order of preference: `default` for
/// every bucket but those in `buckets`.
#[derive(Debug, Clone, Default)]
pub struct AutoFormat {
    pub default: Vec<OutFormat>,
    pub buckets: HashMap<String, Vec<OutFormat>>,
}

impl AutoFormat {
    pub fn for_bucket(&self, bucket: &str) -> &[OutFormat] {
        self.buckets.get(bucket).unwrap_or(&self.default)
    }
}

impl ImagePool {
    pub fn new(workers: usize, max_waiting: usize) -> std::io::Result<Self> {
        let workers = workers.max(1);
        let (queue, jobs) = mpsc::channel::<Job>();
        let jobs = Arc::new(Mutex::new(jobs));
        let waiting = Arc::new(AtomicUsize::new(0));
        // Pin only when every worker gets a core of its own.
        let cores = core_affinity::get_core_ids()
            .filter(|c| c.len() >= workers)
            .unwrap_or_default();
        for i in 0..workers {
            let (jobs, waiting, core) = (jobs.clone(), waiting.clone(), cores.get(i).copied());
            std::thread::Builder::new()
                .name(format!("ossify-image-{i}"))
                .spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    // Ends when the pool (the sender) is dropped.
                    loop {
                        let job = jobs
                            .lock()
                            .map_err(|_| ())
                            .and_then(|q| q.recv().map_err(|_| ()));
                        let Ok(job) = job else { return };
                        METRICS.image_queue(waiting.fetch_sub(1, Ordering::SeqCst) - 1);
                        job();
                    }
                })?;
        }
        Ok(Self {
            queue,
            waiting,
            max_waiting,
            limits_key: image_cache::limits_key(&Limits::default()),
            limits: Limits::default(),
            cache: None,
            auto_format: AutoFormat::default(),
        })
    }

    /// The pool with these image limits (`[image]` in the config).
    pub fn with_limits(self, limits: Limits) -> Self {
        Self {
            limits_key: image_cache::limits_key(&limits),
            limits,
            ..self
        }
    }

    /// The pool with a result cache of at most `max_bytes` (none for 0), shared with
    /// the other nodes of `cluster`.
    pub fn with_cache(self, max_bytes: u64, cluster: Option<Cluster>) -> Self {
        Self {
            cache: ResultCache::new(max_bytes, cluster),
            ..self
        }
    }

    /// The pool answering `Accept` with these formats.
    pub fn with_auto_format(self, auto_format: AutoFormat) -> Self {
        Self {
            auto_format,
            ..self
        }
    }

    /// Accept negotiation: for a chain that leaves the format open, the first format
    /// configured for `bucket` that the request accepts. The flag says whether the
    /// answer depends on `Accept` (the response then carries `Vary: Accept`).
    pub fn negotiate(
        &self,
        bucket: &str,
        pipeline: Pipeline,
        accept: Option<&str>,
    ) -> (Pipeline, bool) {
        let formats = self.auto_format.for_bucket(bucket);
        if formats.is_empty() || !pipeline.format_open() {
            return (pipeline, false);
        }
        match formats
            .iter()
            .find(|f| accepts(accept.unwrap_or_default(), f.content_type()))
        {
            Some(&f) => (pipeline.with_auto_format(f), true),
            None => (pipeline, true),
        }
    }

    /// Run `job` on a worker. The job gets a check that turns true once the caller has
    /// gone (the awaiting future was dropped, e.g. the client disconnected).
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&dyn Fn() -> bool) -> T + Send + 'static,
    ) -> CoreResult<T> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        if queued >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            METRICS.image_rejected();
            return Err(CoreError::ServiceUnavailable(
                "Too many image processing requests are waiting; retry later.".into(),
            ));
        }
        METRICS.image_queue(queued + 1);
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            // Skip the work when the client has gone away while it waited.
            if done.is_closed() {
                return;
            }
            // A panic is reported as an internal error and leaves the worker running.
            let gone = || done.is_closed();
            if let Ok(v) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&gone))) {
                let _ = done.send(v);
            }
        });
        if self.queue.send(job).is_err() {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(CoreError::internal("the image workers have stopped"));
        }
        result
            .await
            .map_err(|_| CoreError::internal("the image job failed"))
    }
}

/// The bucket's image style `name`.
pub fn style<'a>(bucket: &'a BucketRecord, name: &str) -> CoreResult<&'a Style> {
    bucket
        .config
        .styles
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| CoreError::NoSuchStyle {
            name: name.to_owned(),
        })
}

/// The action chain of a spec: `style/<name>[/more actions]` is the style's content
/// followed by the extra actions; any other spec is itself.
pub fn expand_style(bucket: &BucketRecord, spec: &str) -> CoreResult<String> {
    let Some(rest) = spec.strip_prefix("style/") else {
        return Ok(spec.to_owned());
    };
    let (name, more) = rest.split_once('/').unwrap_or((rest, ""));
    let content = &style(bucket, name)?.content;
    Ok(if more.is_empty() {
        content.clone()
    } else {
        format!("{content}/{more}")
    })
}

/// Source-image protection: anonymous requests for protected objects must name a
/// style (OSS: "The channel can be only accessed using style."), in either dialect.
pub fn check_source_protection(
    requester: &Requester,
    bucket: &BucketRecord,
    key: &str,
    spec: Option<&str>,
) -> CoreResult<()> {
    let Some(config) = bucket.config.process.as_ref().filter(|c| c.source_protect) else {
        return Ok(());
    };
    if !matches!(requester.principal, Principal::Anonymous)
        || spec.is_some_and(|s| s.starts_with("style/"))
    {
        return Ok(());
    }
    let extension = key.rsplit_once('.').map(|(_, ext)| ext).unwrap_or_default();
    if config
        .protect_suffixes
        .iter()
        .any(|s| s == "*" || s.eq_ignore_ascii_case(extension))
    {
        return Err(CoreError::Forbidden(
            "The channel can be only accessed using style.".into(),
        ));
    }
    Ok(())
}

/// Refuse sources over the engine's limit before reading them.
fn check_source_size(record: &ObjectRecord, limit: u64) -> CoreResult<()> {
    if record.size > limit {
        return Err(CoreError::InvalidArgument(format!(
            "The source image is {} bytes; image processing accepts at most {limit} bytes.",
            record.size
        )));
    }
    Ok(())
}

/// The watermark objects `pipeline` composites (key and record), each read as a
/// GetObject of the requester's, so a private image is never composited into a
/// readable one.
async fn watermarks(
    store: &Store,
    pool: &ImagePool,
    requester: &Requester,
    bucket: &BucketRecord,
    pipeline: &Pipeline,
) -> CoreResult<Vec<(String, ObjectRecord)>> {
    let now = now_ms();
    let mut records = Vec::new();
    for key in pipeline.watermark_objects() {
        let (b, k) = (bucket.name.clone(), key.clone());
        let record = store.meta(move |m| m.get_object(&b, &k)).await?;
        requester.authorize(
            Action::GetObject,
            Some(bucket),
            None,
            Some(&key),
            record.as_ref(),
        )?;
        let record = record.ok_or_else(|| {
            CoreError::InvalidArgument(format!(
                "The watermark object {key:?} does not exist in bucket {}.",
                bucket.name
            ))
        })?;
        let record = resolve_symlink(store, requester, bucket, record).await?;
        check_readable(bucket, &record, now)?;
        check_source_size(&record, pool.limits.max_source_bytes)?;
        records.push((key, record));
    }
    Ok(records)
}

/// Render `source` (already read-authorized, symlink resolved) through `pipeline`,
/// with its watermark objects authorized for the requester.
pub async fn render(
    store: &Store,
    pool: &ImagePool,
    requester: &Requester,
    bucket: &BucketRecord,
    source: &ObjectRecord,
    pipeline: Pipeline,
) -> CoreResult<(Output, Option<CacheUse>)> {
    let marks = watermarks(store, pool, requester, bucket, &pipeline).await?;
    render_with(store, pool, bucket, source, pipeline, marks).await
}

/// Render `source` through `pipeline` compositing `marks` (see [`watermarks`]).
/// Served from the result cache when it holds this result (`None`: no cache).
async fn render_with(
    store: &Store,
    pool: &ImagePool,
    bucket: &BucketRecord,
    source: &ObjectRecord,
    pipeline: Pipeline,
    marks: Vec<(String, ObjectRecord)>,
) -> CoreResult<(Output, Option<CacheUse>)> {
    // The pixels of a cold object need a restore, as any read of its bytes.
    check_readable(bucket, source, now_ms())?;
    check_source_size(source, pool.limits.max_source_bytes)?;
    // Results of encrypted images are not kept: the cache stores them unencrypted.
    let encrypted = source.sse.is_some() || marks.iter().any(|(_, r)| r.sse.is_some());
    let Some(cache) = pool.cache.as_ref().filter(|_| !encrypted) else {
        return Ok((run(store, pool, source, pipeline, marks).await?, None));
    };
    let key = image_cache::key(&bucket.name, source, &pipeline, &marks, &pool.limits_key);
    let (output, how) = cache
        .get_or_render(store, key, async move || {
            run(store, pool, source, pipeline, marks).await
        })
        .await?;
    Ok((output, Some(how)))
}

/// Decode, process and encode on the pool.
async fn run(
    store: &Store,
    pool: &ImagePool,
    source: &ObjectRecord,
    pipeline: Pipeline,
    marks: Vec<(String, ObjectRecord)>,
) -> CoreResult<Output> {
    let limits = pool.limits.clone();
    let store = store.clone();
    let source = source.clone();
    pool.run(move |gone| {
        let bytes = read_range_blocking(&store, &source, 0, source.size)?;
        let mut loaded = HashMap::new();
        for (key, record) in marks {
            loaded.insert(key, read_range_blocking(&store, &record, 0, record.size)?);
        }
        Ok::<_, std::io::Error>(image::process_cancellable(
            &pipeline, &bytes, &loaded, &limits, gone,
        ))
    })
    .await?
    .map_err(CoreError::internal)?
    .map_err(CoreError::Image)
    .inspect(|out| {
        for &(stage, took) in &out.timings {
            METRICS.image_step(stage, took);
        }
    })
}

/// What a processed GET answers, in either dialect.
pub enum Processed {
    NotModified {
        etag: String,
        vary_accept: bool,
    },
    Image {
        output: Output,
        etag: String,
        last_modified: i64,
        vary_accept: bool,
        cache: Option<CacheUse>,
    },
}

/// GET of `link` (read-authorized) through `pipeline`: the symlink resolved, the
/// format negotiated from `accept`, the conditions checked on the derived ETag.
#[allow(clippy::too_many_arguments)]
pub async fn get_processed(
    store: &Store,
    pool: &ImagePool,
    requester: &Requester,
    bucket: &BucketRecord,
    link: ObjectRecord,
    pipeline: Pipeline,
    conditions: &Conditions,
    accept: Option<&str>,
) -> CoreResult<Processed> {
    let source = resolve_symlink(store, requester, bucket, link).await?;
    let (pipeline, vary_accept) = pool.negotiate(&bucket.name, pipeline, accept);
    let marks = watermarks(store, pool, requester, bucket, &pipeline).await?;
    // The result changes with the source and with each watermark object.
    let etag = processed_etag(&source, &pipeline, &marks);
    let last_modified = marks
        .iter()
        .map(|(_, r)| r.last_modified)
        .fold(source.last_modified, i64::max);
    if conditions.check(&etag, last_modified)? == Precondition::NotModified {
        return Ok(Processed::NotModified { etag, vary_accept });
    }
    let (output, cache) = render_with(store, pool, bucket, &source, pipeline, marks).await?;
    Ok(Processed::Image {
        output,
        etag,
        last_modified,
        vary_accept,
        cache,
    })
}

/// Whether an `Accept` header lists `mime` explicitly with a non-zero quality
/// (wildcards do not count: `image/*` does not promise AVIF).
fn accepts(accept: &str, mime: &str) -> bool {
    accept.split(',').any(|item| {
        let mut parts = item.split(';');
        let listed = parts.next().unwrap_or_default().trim();
        listed.eq_ignore_ascii_case(mime)
            && parts.all(|p| {
                let p = p.trim();
                !(p.starts_with("q=") || p.starts_with("Q="))
                    || p[2..].trim().parse::<f32>().is_ok_and(|q| q > 0.0)
            })
    })
}

/// The ETag of a processed image: derived from the source's, the normalized spec and
/// the ETag of each watermark object.
fn processed_etag(
    source: &ObjectRecord,
    pipeline: &Pipeline,
    marks: &[(String, ObjectRecord)],
) -> String {
    let mut text = format!("{}\n{}", source.etag, pipeline.normalized());
    for (key, record) in marks {
        text.push_str(&format!("\n{key}\n{}", record.etag));
    }
    hex::encode_upper(Md5::digest(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pool_bounds_its_queue_and_survives_panics() {
        let pool = Arc::new(ImagePool::new(1, 1).unwrap());
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        // One job holds the only worker, a second waits, a third is refused.
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move |_| {
                    started.send(()).unwrap();
                    gate.recv().is_ok()
                })
                .await
            }
        });
        running.await.unwrap();
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|_| 7).await }
        });
        while pool.waiting.load(Ordering::SeqCst) != 1 {
            tokio::task::yield_now().await;
        }
        let refused = pool.run(|_| 0).await.unwrap_err();
        assert!(matches!(refused, CoreError::ServiceUnavailable(_)));
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        assert_eq!(queued.await.unwrap().unwrap(), 7);
        // A panicking job is an internal error; the worker keeps serving.
        let e = pool.run(|_| -> u8 { panic!("boom") }).await.unwrap_err();
        assert!(matches!(e, CoreError::Internal(_)));
        assert_eq!(pool.run(|_| 8).await.unwrap(), 8);
    }

    #[test]
    fn accept_lists_a_type_explicitly() {
        let chrome = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8";
        assert!(accepts(chrome, "image/avif") && accepts(chrome, "image/webp"));
        assert!(!accepts("image/*,*/*", "image/webp"));
        assert!(!accepts("image/webp;q=0, image/png", "image/webp"));
        assert!(accepts("image/png, IMAGE/WEBP ; q=0.5", "image/webp"));
        assert!(!accepts("", "image/webp"));
    }

    #[test]
    fn negotiation_picks_the_first_configured_accepted_format() {
        let pool = ImagePool::new(1, 1).unwrap().with_auto_format(AutoFormat {
            default: vec![OutFormat::Avif, OutFormat::Webp],
            buckets: HashMap::from([("plain".to_owned(), Vec::new())]),
        });
        let p = |spec| image::parse(spec).unwrap();
        let chosen = |spec, accept| {
            let (pipeline, vary) = pool.negotiate("b", p(spec), accept);
            (pipeline.normalized(), vary)
        };
        let resize = p("image/resize,w_10").normalized();
        assert_eq!(
            chosen("image/resize,w_10", Some("image/webp,image/avif")),
            (format!("{resize}|auto-format,avif"), true)
        );
        assert_eq!(
            chosen("image/resize,w_10", Some("image/webp")),
            (format!("{resize}|auto-format,webp"), true)
        );
        // Nothing acceptable: the source's format, but the answer still varies.
        assert_eq!(chosen("image/resize,w_10", None), (resize, true));
        // An explicit format, and queries, are never changed.
        for spec in [
            "image/resize,w_10/format,png",
            "image/info",
            "image/average-hue",
        ] {
            assert_eq!(
                chosen(spec, Some("image/avif")),
                (p(spec).normalized(), false),
                "{spec}"
            );
        }
        // Off for a bucket configured so, and by default.
        let resized = |pool: &ImagePool, bucket| {
            pool.negotiate(bucket, p("image/resize,w_10"), Some("image/avif"))
                .1
        };
        assert!(!resized(&pool, "plain"));
        assert!(!resized(&ImagePool::new(1, 1).unwrap(), "b"));
    }

    #[tokio::test]
    async fn a_job_sees_its_caller_go() {
        let pool = ImagePool::new(1, 1).unwrap();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let (seen, saw) = std::sync::mpsc::channel::<bool>();
        let job = pool.run(move |gone| {
            started.send(()).unwrap();
            // Spin until the awaiting future is dropped.
            while !gone() {
                std::thread::yield_now();
            }
            seen.send(true).unwrap();
        });
        tokio::select! {
            _ = job => unreachable!("the job ends only once its caller is gone"),
            _ = running => {}
        }
        assert!(saw.recv().unwrap());
    }
}
