//! Bucket access logging (PutBucketLogging): each request on a bucket with logging
//! enabled becomes one line in OSS's access-log format; lines wait in a bounded
//! buffer and a periodic flush writes them as objects named
//! `<TargetPrefix><SourceBucket><YYYY-mm-DD-HH-MM-SS>-<UniqueString>` into the target
//! bucket. Each node flushes what it served.

use std::collections::BTreeMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::conditions::WriteCondition;
use super::{CoreError, CoreResult, Store, object};
use crate::names::URL_ENCODE;
use crate::storage::LoggingConfig;

/// Lines kept between flushes; beyond this new lines are dropped (and counted).
const MAX_BUFFERED_LINES: usize = 100_000;
/// TargetPrefix: at most 256 characters, not starting with `/` or `\` (OSS).
pub const MAX_PREFIX_CHARS: usize = 256;

/// What the dialect knows of a request when it is routed; the rest comes when its
/// response ends ([`Pending::finish`]).
#[derive(Debug, Clone, Default)]
pub struct Pending {
    /// Where the line goes.
    pub target: LoggingConfig,
    pub remote_ip: String,
    pub time: DateTime<Utc>,
    /// `GET /bucket/key?query HTTP/1.1`
    pub request_line: String,
    pub referer: Option<String>,
    pub user_agent: Option<String>,
    pub host: String,
    pub request_id: String,
    /// The requester's account (`-` anonymous).
    pub requester: Option<String>,
    pub operation: String,
    pub bucket: String,
    pub key: Option<String>,
    pub object_size: Option<u64>,
    pub owner: String,
    pub storage_class: String,
    pub access_key_id: Option<String>,
    pub error_code: Option<String>,
}

/// How the response went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    pub status: u16,
    pub sent: u64,
    pub received: u64,
    pub took: Duration,
}

fn quoted(value: Option<&str>) -> String {
    let v = value.filter(|v| !v.is_empty()).unwrap_or("-");
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Pending {
    /// The access-log line, fields in OSS's order: remote IP, two reserved, time,
    /// request line, status, sent bytes, request time (ms), Referer, User-Agent, host,
    /// request id, logging flag, requester id, operation, bucket, key (URL-encoded),
    /// object size, server cost time (ms), error code, request length, owner id,
    /// delta data size, sync request, storage class, target storage class,
    /// acceleration access point, AccessKey ID.
    pub fn line(&self, outcome: Outcome) -> String {
        let ms = outcome.took.as_millis();
        let key = self
            .key
            .as_deref()
            .map(|k| percent_encoding::utf8_percent_encode(k, URL_ENCODE).to_string());
        [
            self.remote_ip.clone(),
            "-".into(),
            "-".into(),
            self.time.format("[%d/%b/%Y:%H:%M:%S %z]").to_string(),
            quoted(Some(&self.request_line)),
            outcome.status.to_string(),
            outcome.sent.to_string(),
            ms.to_string(),
            quoted(self.referer.as_deref()),
            quoted(self.user_agent.as_deref()),
            quoted(Some(&self.host)),
            quoted(Some(&self.request_id)),
            quoted(Some("true")),
            quoted(self.requester.as_deref()),
            quoted(Some(&self.operation)),
            quoted(Some(&self.bucket)),
            quoted(key.as_deref()),
            self.object_size
                .map_or_else(|| "-".into(), |s| s.to_string()),
            ms.to_string(),
            quoted(self.error_code.as_deref()),
            outcome.received.to_string(),
            quoted(Some(&self.owner)),
            "-".into(),
            quoted(None),
            quoted(Some(&self.storage_class)),
            quoted(None),
            quoted(None),
            quoted(self.access_key_id.as_deref()),
        ]
        .join(" ")
    }
}

/// The name of a log object (OSS's naming rule).
pub fn object_key(prefix: &str, source: &str, at: DateTime<Utc>, unique: &str) -> String {
    format!(
        "{prefix}{source}{}-{unique}",
        at.format("%Y-%m-%d-%H-%M-%S")
    )
}

/// PutBucketLogging's check of a TargetPrefix.
pub fn check_prefix(prefix: &str) -> CoreResult<()> {
    if prefix.starts_with(['/', '\\']) {
        return Err(CoreError::InvalidArgument(
            "TargetPrefix cannot start with / or \\.".into(),
        ));
    }
    if prefix.chars().count() > MAX_PREFIX_CHARS {
        return Err(CoreError::InvalidArgument(format!(
            "TargetPrefix is at most {MAX_PREFIX_CHARS} characters."
        )));
    }
    Ok(())
}

/// Lines waiting for a flush, by (target bucket, target prefix, source bucket).
#[derive(Default)]
struct Buffer {
    lines: BTreeMap<(String, String, String), Vec<String>>,
    count: usize,
    dropped: u64,
}

static BUFFER: LazyLock<Mutex<Buffer>> = LazyLock::new(Default::default);

/// Keep the line of a finished request on a bucket with logging enabled.
pub fn record(pending: &Pending, outcome: Outcome) {
    let target = &pending.target;
    let line = pending.line(outcome);
    let Ok(mut buffer) = BUFFER.lock() else {
        return;
    };
    if buffer.count >= MAX_BUFFERED_LINES {
        buffer.dropped += 1;
        return;
    }
    buffer.count += 1;
    buffer
        .lines
        .entry((
            target.target_bucket.clone(),
            target.target_prefix.clone(),
            pending.bucket.clone(),
        ))
        .or_default()
        .push(line);
}

/// Write every buffered line as log objects; returns how many objects were written.
/// Lines for a target bucket that is gone are dropped.
pub async fn flush(store: &Store) -> usize {
    let (lines, dropped) = match BUFFER.lock() {
        Ok(mut b) => {
            b.count = 0;
            (std::mem::take(&mut b.lines), std::mem::take(&mut b.dropped))
        }
        Err(_) => return 0,
    };
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "access log: the buffer was full; lines were dropped (flush more often)"
        );
    }
    let mut written = 0;
    for ((target, prefix, source), lines) in lines {
        let now = Utc::now();
        let key = object_key(
            &prefix,
            &source,
            now,
            &hex::encode_upper(rand::random::<[u8; 8]>()),
        );
        match write(store, &target, &key, lines.join("\n") + "\n").await {
            Ok(()) => written += 1,
            Err(e) => tracing::warn!(
                bucket = %source,
                target = %target,
                "access log: cannot write {key}: {e}"
            ),
        }
    }
    written
}

async fn write(store: &Store, target: &str, key: &str, body: String) -> CoreResult<()> {
    let t = target.to_owned();
    let bucket = store
        .meta(move |m| m.get_bucket(&t))
        .await?
        .ok_or_else(|| CoreError::no_such_bucket(target))?;
    let mut template = object::new_record("Normal", &bucket.storage_class);
    template.headers.content_type = Some("text/plain".into());
    let bytes = bytes::Bytes::from(body);
    let stream = futures_util::stream::once(async move { Ok(bytes) });
    object::put_object(
        store,
        &bucket,
        key,
        template,
        Box::pin(stream),
        None::<[u8; 16]>,
        WriteCondition::Any,
    )
    .await?;
    Ok(())
}

/// Flush every `interval` until aborted.
pub async fn run(store: Store, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let written = flush(&store).await;
        if written > 0 {
            tracing::debug!(objects = written, "access log flushed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_in_oss_field_order() {
        let p = Pending {
            target: LoggingConfig::default(),
            remote_ip: "10.0.0.1".into(),
            time: DateTime::from_timestamp(1_335_916_804, 0).unwrap(),
            request_line: "GET /b/a%20b HTTP/1.1".into(),
            referer: None,
            user_agent: Some("curl/8 \"x\"".into()),
            host: "127.0.0.1:9000".into(),
            request_id: "RID".into(),
            requester: Some("1000".into()),
            operation: "GetObject".into(),
            bucket: "b".into(),
            key: Some("a b".into()),
            object_size: Some(5),
            owner: "1000".into(),
            storage_class: "Standard".into(),
            access_key_id: Some("AK".into()),
            error_code: None,
        };
        let outcome = Outcome {
            status: 200,
            sent: 5,
            received: 0,
            took: Duration::from_millis(7),
        };
        assert_eq!(
            p.line(outcome),
            "10.0.0.1 - - [02/May/2012:00:00:04 +0000] \"GET /b/a%20b HTTP/1.1\" 200 5 7 \"-\" \
             \"curl/8 \\\"x\\\"\" \"127.0.0.1:9000\" \"RID\" \"true\" \"1000\" \"GetObject\" \"b\" \
             \"a%20b\" 5 7 \"-\" 0 \"1000\" - \"-\" \"Standard\" \"-\" \"-\" \"AK\""
        );
    }

    #[test]
    fn names_and_prefixes() {
        let at = DateTime::from_timestamp(1_504_915_200, 0).unwrap();
        assert_eq!(
            object_key("MyLog-", "oss-example", at, "0000"),
            "MyLog-oss-example2017-09-09-00-00-00-0000"
        );
        assert!(check_prefix("logs/").is_ok());
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("/abc").is_err());
        assert!(check_prefix("\\abc").is_err());
        assert!(check_prefix(&"x".repeat(256)).is_ok());
        assert!(check_prefix(&"x".repeat(257)).is_err());
    }
}
