//! TOML configuration (documented in docs/configuration.md) and the built-in default.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rand::RngExt;
use serde::Deserialize;

use crate::access::Policy;
use crate::core::callback::{Rule, TargetPolicy};

pub const DEFAULT_REGION: &str = "oss-cn-hangzhou";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
pub const DEFAULT_ACCOUNT_ID: &str = "1000000000000001";
/// File in the data directory holding the generated root key of the default account.
pub const GENERATED_KEY_FILE: &str = "root-access-key.toml";
/// File in the data directory holding the generated key that signs upload callbacks.
pub const CALLBACK_KEY_FILE: &str = "callback-private-key.pem";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub regions: Vec<RegionConfig>,
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub image: ImageConfig,
    #[serde(default)]
    pub storage: StorageConfig,
    #[serde(default)]
    pub console: ConsoleConfig,
    #[serde(default)]
    pub metrics: MetricsConfig,
    #[serde(default)]
    pub callback: CallbackConfig,
}

/// `[callback]`: where upload callbacks may go and the key that signs them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallbackConfig {
    /// Networks, addresses and host names (`*.suffix` too) callbacks may reach; empty:
    /// every target the deny list does not refuse.
    #[serde(default, deserialize_with = "deserialize_rules")]
    pub allow: Vec<Rule>,
    /// Targets refused; replaces the default (link-local and cloud metadata endpoints).
    #[serde(
        default = "default_callback_deny",
        deserialize_with = "deserialize_rules"
    )]
    pub deny: Vec<Rule>,
    /// PEM file of the signing key (PKCS#8), created when missing; default
    /// `<data_dir>/callback-private-key.pem`. Nodes serving one store need the same key.
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// `x-oss-pub-key-url` to announce instead of `/-/callback-public-key.pem` on the
    /// endpoint each request reached (behind a proxy that rewrites hosts).
    #[serde(default)]
    pub public_key_url: Option<String>,
}

impl Default for CallbackConfig {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: default_callback_deny(),
            key_file: None,
            public_key_url: None,
        }
    }
}

impl CallbackConfig {
    pub fn targets(&self) -> TargetPolicy {
        TargetPolicy {
            allow: self.allow.clone(),
            deny: self.deny.clone(),
        }
    }

    /// Where the signing key lives.
    pub fn key_path(&self, data_dir: &Path) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| data_dir.join(CALLBACK_KEY_FILE))
    }
}

fn default_callback_deny() -> Vec<Rule> {
    TargetPolicy::default().deny
}

fn deserialize_rules<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Rule>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| s.parse::<Rule>().map_err(serde::de::Error::custom))
        .collect()
}

/// `[console]`: the web console at `/-/console/`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// `true`: on every listener; `false`: on none; unset: on loopback listeners only.
    #[serde(default)]
    pub enabled: Option<bool>,
}

impl ConsoleConfig {
    /// Whether a listener bound to `addr` serves the console.
    pub fn enabled_on(&self, addr: &SocketAddr) -> bool {
        self.enabled.unwrap_or(addr.ip().is_loopback())
    }
}

/// `[metrics]`: who may read `/-/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Client networks (CIDR or single addresses) allowed to scrape; empty: nobody.
    #[serde(
        default = "default_metrics_allow",
        deserialize_with = "deserialize_networks"
    )]
    pub allow: Vec<ipnet::IpNet>,
}

/// `"10.0.0.0/8"`, or one address (`"10.1.2.3"`, `"::1"`).
fn deserialize_networks<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<ipnet::IpNet>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| {
            s.parse::<ipnet::IpNet>()
                .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| {
                    serde::de::Error::custom(format!(
                        "{s:?} is neither a network (\"10.0.0.0/8\") nor an address"
                    ))
                })
        })
        .collect()
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            allow: default_metrics_allow(),
        }
    }
}

fn default_metrics_allow() -> Vec<ipnet::IpNet> {
    vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()]
}

impl MetricsConfig {
    pub fn allows(&self, ip: std::net::IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket arrives as ::ffff:a.b.c.d.
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_canonical(),
            v4 => v4,
        };
        self.allow.iter().any(|net| net.contains(&ip))
    }
}

/// `[storage]`: where metadata and object bytes live. The defaults are embedded
/// (redb and files in `server.data_dir`); PostgreSQL plus an S3-compatible service
/// let several nodes serve one store.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `postgres://user:password@host:port/database`; unset: redb in the data directory.
    #[serde(default)]
    pub metadata: Option<String>,
    /// PostgreSQL connections of this node; each metadata call holds one.
    #[serde(default = "default_metadata_pool_size")]
    pub metadata_pool_size: usize,
    #[serde(default)]
    pub blobs: BlobsConfig,
    /// Seconds between sweeps for orphan blobs (left by a node that died between
    /// storing a blob and committing its record). Not used by the embedded default,
    /// which sweeps once at start-up.
    #[serde(default = "default_blob_gc_interval")]
    pub blob_gc_interval_secs: u64,
    /// Orphan blobs younger than this many seconds are spared: their upload may still
    /// be committing on another node.
    #[serde(default = "default_blob_gc_grace")]
    pub blob_gc_grace_secs: u64,
    /// S3 multipart uploads of blobs begun more than this many seconds ago are
    /// aborted (left by a node killed mid-upload; listings of objects never show
    /// them). Checked every `blob_gc_interval_secs`; only with S3 blobs.
    #[serde(default = "default_blob_upload_grace")]
    pub blob_upload_grace_secs: u64,
    /// Seconds a replaced or deleted object's blobs outlive its record, for GETs on
    /// other nodes still reading them. Not used by the embedded default (deletes at once).
    #[serde(default = "default_blob_delete_delay")]
    pub blob_delete_delay_secs: u64,
    /// Seconds a RestoreObject of an Archive, ColdArchive or DeepColdArchive object
    /// takes before the object can be read (OSS takes minutes to hours).
    #[serde(default = "default_restore_delay")]
    pub restore_delay_secs: u64,
    /// Unencrypted objects written in one piece of at most this many bytes are kept
    /// in the metadata store with their record instead of in a blob: one durable
    /// write per PUT, no blob to open per GET. 0: every object in a blob.
    #[serde(default = "default_inline_bytes")]
    pub inline_bytes: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            metadata: None,
            metadata_pool_size: default_metadata_pool_size(),
            blobs: BlobsConfig::Fs,
            blob_gc_interval_secs: default_blob_gc_interval(),
            blob_gc_grace_secs: default_blob_gc_grace(),
            blob_upload_grace_secs: default_blob_upload_grace(),
            blob_delete_delay_secs: default_blob_delete_delay(),
            restore_delay_secs: default_restore_delay(),
            inline_bytes: default_inline_bytes(),
        }
    }
}

impl std::fmt::Debug for StorageConfig {
    // The metadata URL holds the database password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageConfig")
            .field("metadata", &self.metadata.as_ref().map(|_| "postgres://…"))
            .field("metadata_pool_size", &self.metadata_pool_size)
            .field("blobs", &self.blobs)
            .field("blob_gc_interval_secs", &self.blob_gc_interval_secs)
            .field("blob_gc_grace_secs", &self.blob_gc_grace_secs)
            .field("blob_upload_grace_secs", &self.blob_upload_grace_secs)
            .field("blob_delete_delay_secs", &self.blob_delete_delay_secs)
            .field("restore_delay_secs", &self.restore_delay_secs)
            .field("inline_bytes", &self.inline_bytes)
            .finish()
    }
}

impl StorageConfig {
    /// Both metadata and blobs live in the data directory of this one process.
    pub fn is_embedded(&self) -> bool {
        self.metadata.is_none() && matches!(self.blobs, BlobsConfig::Fs)
    }
}

/// Environment variables that may hold the storage secrets instead of the file.
pub const STORAGE_ENV: [&str; 3] = [
    "OSSIFY_STORAGE_METADATA",
    "OSSIFY_BLOBS_ACCESS_KEY_ID",
    "OSSIFY_BLOBS_SECRET_ACCESS_KEY",
];

impl StorageConfig {
    /// Take the secrets in [`STORAGE_ENV`] from `var` where set and non-empty; they
    /// override the file.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        if let Some(url) = var(STORAGE_ENV[0]) {
            self.metadata = Some(url);
        }
        if let BlobsConfig::S3(s3) = &mut self.blobs {
            if let Some(id) = var(STORAGE_ENV[1]) {
                s3.access_key_id = id;
            }
            if let Some(secret) = var(STORAGE_ENV[2]) {
                s3.secret_access_key = secret;
            }
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.metadata
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError(
                "storage.metadata: give a PostgreSQL URL such as \"postgres://ossify:secret@127.0.0.1:5432/ossify\", or leave it out for the embedded database".into(),
            ));
        }
        if let BlobsConfig::S3(s3) = &self.blobs {
            if !(s3.endpoint.starts_with("http://") || s3.endpoint.starts_with("https://")) {
                return Err(ConfigError(format!(
                    "storage.blobs.endpoint = {:?}: give a URL such as \"http://127.0.0.1:8333\"",
                    s3.endpoint
                )));
            }
            if s3.bucket.is_empty() {
                return Err(ConfigError(
                    "storage.blobs.bucket: name the (existing) bucket that holds the blobs".into(),
                ));
            }
            if s3.access_key_id.is_empty() != s3.secret_access_key.is_empty() {
                return Err(ConfigError(
                    "storage.blobs: set both access_key_id and secret_access_key (or OSSIFY_BLOBS_ACCESS_KEY_ID and OSSIFY_BLOBS_SECRET_ACCESS_KEY), or neither for anonymous access".into(),
                ));
            }
        }
        for (key, value) in [
            ("metadata_pool_size", self.metadata_pool_size as u64),
            ("blob_gc_interval_secs", self.blob_gc_interval_secs),
            ("blob_gc_grace_secs", self.blob_gc_grace_secs),
            ("blob_upload_grace_secs", self.blob_upload_grace_secs),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("storage.{key} must be at least 1")));
            }
        }
        if self.restore_delay_secs > MAX_RESTORE_DELAY_SECS {
            return Err(ConfigError(format!(
                "storage.restore_delay_secs = {}: give at most {MAX_RESTORE_DELAY_SECS} (48 hours, OSS's longest restore)",
                self.restore_delay_secs
            )));
        }
        if self.inline_bytes > MAX_INLINE_BYTES {
            return Err(ConfigError(format!(
                "storage.inline_bytes = {}: give at most {MAX_INLINE_BYTES} (larger objects belong in blobs)",
                self.inline_bytes
            )));
        }
        Ok(())
    }
}

fn default_metadata_pool_size() -> usize {
    crate::storage::pg_meta::DEFAULT_POOL_SIZE
}

fn default_blob_gc_interval() -> u64 {
    3600
}

fn default_blob_gc_grace() -> u64 {
    3600
}

/// A day: far longer than any one blob upload takes.
fn default_blob_upload_grace() -> u64 {
    86_400
}

fn default_blob_delete_delay() -> u64 {
    120
}

/// Short, so that restores are quick to try out locally.
fn default_restore_delay() -> u64 {
    1
}

fn default_inline_bytes() -> u64 {
    4096
}

/// Records stay small enough for every metadata engine to keep and list them quickly.
const MAX_INLINE_BYTES: u64 = 64 * 1024;

const MAX_RESTORE_DELAY_SECS: u64 = 48 * 3600;

/// `[storage.blobs]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BlobsConfig {
    /// Files under `<data_dir>/blobs`.
    #[default]
    Fs,
    S3(S3BlobsConfig),
}

/// `[storage.blobs]` with `kind = "s3"`: any S3-compatible service.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3BlobsConfig {
    /// `http://host:port` or `https://host`.
    pub endpoint: String,
    /// An existing bucket; ossify writes only under `prefix` in it.
    pub bucket: String,
    #[serde(default = "default_s3_region")]
    pub region: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub secret_access_key: String,
    /// Path-style requests (`endpoint/bucket/key`) rather than `bucket.endpoint`.
    #[serde(default = "default_true")]
    pub path_style: bool,
    /// Key prefix of every blob, so several stores (or other data) can share a bucket.
    #[serde(default)]
    pub prefix: String,
}

impl std::fmt::Debug for S3BlobsConfig {
    // Never the secret, should the configuration be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3BlobsConfig")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("path_style", &self.path_style)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn default_s3_region() -> String {
    "us-east-1".into()
}

fn default_true() -> bool {
    true
}

/// `[image]`: the work budget of one image-processing request, the result cache and
/// Accept negotiation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImageConfig {
    /// Most steps in one processing spec.
    pub max_steps: usize,
    /// Largest estimated cost, in millions of pixel operations.
    pub max_cost: u64,
    /// Largest estimated peak of pixel buffers, in MiB.
    pub max_memory_mb: u64,
    /// Longest a request may work, in milliseconds.
    pub max_time_ms: u64,
    /// Bytes of processed results kept for repeated requests; 0 turns the cache off.
    pub cache_bytes: u64,
    /// Output formats (`avif`, `webp`) chosen from a request's `Accept` for specs that
    /// name no format, in order of preference; empty (the default, as OSS): never.
    pub auto_format: Vec<String>,
    /// `auto_format` for the buckets named here instead (`[]` turns it off for one).
    pub auto_format_buckets: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for ImageConfig {
    fn default() -> Self {
        let l = crate::image::Limits::default();
        Self {
            max_steps: l.max_steps,
            max_cost: l.max_cost,
            max_memory_mb: l.max_memory >> 20,
            max_time_ms: l.max_time_ms,
            cache_bytes: 1 << 30,
            auto_format: Vec::new(),
            auto_format_buckets: Default::default(),
        }
    }
}

impl ImageConfig {
    /// The formats of `auto_format` and `auto_format_buckets` (checked by
    /// [`Config::finish`]).
    pub fn auto_formats(&self) -> crate::core::process::AutoFormat {
        let formats = |names: &[String]| {
            names
                .iter()
                .filter_map(|f| crate::image::OutFormat::parse(f))
                .collect()
        };
        crate::core::process::AutoFormat {
            default: formats(&self.auto_format),
            buckets: self
                .auto_format_buckets
                .iter()
                .map(|(bucket, names)| (bucket.clone(), formats(names)))
                .collect(),
        }
    }

    /// The engine's limits with these budgets.
    pub fn limits(&self) -> crate::image::Limits {
        crate::image::Limits {
            max_steps: self.max_steps,
            max_cost: self.max_cost,
            max_memory: self.max_memory_mb << 20,
            max_time_ms: self.max_time_ms,
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Largest single PutObject body, in bytes (OSS: 5 GiB).
    #[serde(default = "default_max_object_size")]
    pub max_object_size: u64,
    /// Seconds between lifecycle sweeps (expiring objects, aborting stale uploads).
    #[serde(default = "default_lifecycle_interval")]
    pub lifecycle_interval_secs: u64,
    /// Seconds between flushes of buffered access-log lines (PutBucketLogging) into
    /// their target buckets.
    #[serde(default = "default_access_log_flush")]
    pub access_log_flush_secs: u64,
    /// MiB kept free in the data directory (`<data_dir>/reserve`) for deletes and
    /// metadata once the disk is full; 0: no reserve.
    #[serde(default = "default_disk_reserve_mb")]
    pub disk_reserve_mb: u64,
    /// `[server.connections]`: timeouts and limits of every listener.
    #[serde(default)]
    pub connections: ConnectionConfig,
    /// On SIGTERM or SIGINT: seconds in-flight requests may take to finish before
    /// their connections are cut (an upload cut short leaves the previous object).
    #[serde(default = "default_shutdown_grace")]
    pub shutdown_grace_secs: u64,
    /// The master key of server-side encryption (64 hex digits), created with mode
    /// 0600 on the first encrypted write; default `<data_dir>/master.key`. Nodes
    /// serving one store need the same file; without it encrypted objects are lost.
    #[serde(default)]
    pub master_key_file: Option<PathBuf>,
}

impl ServerConfig {
    /// Where the master key of server-side encryption lives.
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

/// Limits that keep slow or idle clients from holding connections.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Seconds a client has to send a complete request head, counted from the end of the
    /// previous response on a keep-alive connection (so also the idle keep-alive timeout).
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: u64,
    /// Connections served at once per listener; further ones wait to be accepted.
    #[serde(default = "default_max_connections")]
    pub max_per_listener: usize,
    /// Slowest accepted request body, in bytes per second over each window (0: no minimum).
    #[serde(default = "default_min_body_rate")]
    pub min_body_rate: u64,
    #[serde(default = "default_body_rate_window")]
    pub body_rate_window_secs: u64,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            header_read_timeout_secs: default_header_read_timeout(),
            max_per_listener: default_max_connections(),
            min_body_rate: default_min_body_rate(),
            body_rate_window_secs: default_body_rate_window(),
        }
    }
}

fn default_header_read_timeout() -> u64 {
    30
}

fn default_max_connections() -> usize {
    4096
}

fn default_min_body_rate() -> u64 {
    1024
}

fn default_body_rate_window() -> u64 {
    20
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            data_dir: default_data_dir(),
            max_object_size: default_max_object_size(),
            lifecycle_interval_secs: default_lifecycle_interval(),
            access_log_flush_secs: default_access_log_flush(),
            disk_reserve_mb: default_disk_reserve_mb(),
            connections: ConnectionConfig::default(),
            shutdown_grace_secs: default_shutdown_grace(),
            master_key_file: None,
        }
    }
}

fn default_shutdown_grace() -> u64 {
    30
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("./data")
}

fn default_disk_reserve_mb() -> u64 {
    8
}

fn default_lifecycle_interval() -> u64 {
    3600
}

fn default_access_log_flush() -> u64 {
    300
}

fn default_max_object_size() -> u64 {
    5 * 1024 * 1024 * 1024
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    /// OSS region id with the `oss-` prefix, e.g. `oss-cn-hangzhou`.
    pub name: String,
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// Addresses that speak only S3, so anonymous S3 clients work too (on `listen`
    /// addresses an unsigned request is OSS).
    #[serde(default)]
    pub s3_listen: Vec<SocketAddr>,
    /// Host name for virtual-hosted (`bucket.<endpoint>`) and regional addressing.
    pub endpoint: Option<String>,
    /// PEM certificate chain and private key: every listener of the region speaks
    /// HTTPS (HTTP/1.1 and HTTP/2) instead of plain HTTP.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
}

impl RegionConfig {
    /// The region id used in V4 signatures (`cn-hangzhou` for `oss-cn-hangzhou`).
    pub fn v4_region(&self) -> &str {
        self.name.strip_prefix("oss-").unwrap_or(&self.name)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    #[serde(default)]
    pub users: Vec<UserConfig>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub name: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// RAM policy document (JSON). Without one the user may do nothing.
    #[serde(default)]
    pub policy: Option<String>,
}

/// A configuration error that names the offending key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Self::from_toml(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Fill in the defaults (one region, listen address) and check every rule that
    /// TOML types alone cannot express.
    pub fn finish(&mut self) -> Result<(), ConfigError> {
        if self.regions.is_empty() {
            self.regions.push(RegionConfig {
                name: DEFAULT_REGION.into(),
                listen: vec![],
                s3_listen: vec![],
                endpoint: None,
                tls_cert: None,
                tls_key: None,
            });
        }
        if self.regions[0].listen.is_empty() {
            self.regions[0].listen.push(DEFAULT_LISTEN.parse().unwrap());
        }
        for (key, value) in [
            ("max_steps", self.image.max_steps as u64),
            ("max_cost", self.image.max_cost),
            ("max_memory_mb", self.image.max_memory_mb),
            ("max_time_ms", self.image.max_time_ms),
        ] {
            if value == 0 {
                return Err(ConfigError(format!("image.{key} must be at least 1")));
            }
        }
        let lists = std::iter::once(("image.auto_format".to_owned(), &self.image.auto_format))
            .chain(
                self.image
                    .auto_format_buckets
                    .iter()
                    .map(|(b, list)| (format!("image.auto_format_buckets.{b}"), list)),
            );
        for (name, list) in lists {
            for (i, format) in list.iter().enumerate() {
                if !matches!(format.as_str(), "avif" | "webp") {
                    return Err(ConfigError(format!(
                        "{name}: {format:?} is not a format Accept can choose; use \"avif\" and/or \"webp\""
                    )));
                }
                if list[..i].contains(format) {
                    return Err(ConfigError(format!("{name} lists {format:?} twice")));
                }
            }
        }
        for bucket in self.image.auto_format_buckets.keys() {
            if let Err(e) = crate::names::BucketName::parse(bucket) {
                return Err(ConfigError(format!(
                    "image.auto_format_buckets: {bucket:?} is not a bucket name: {}",
                    e.0
                )));
            }
        }
        if self.server.lifecycle_interval_secs == 0 {
            return Err(ConfigError(
                "server.lifecycle_interval_secs must be at least 1".into(),
            ));
        }
        if self.server.access_log_flush_secs == 0 {
            return Err(ConfigError(
                "server.access_log_flush_secs must be at least 1".into(),
            ));
        }
        self.storage.check()?;
        if let Some(url) = &self.callback.public_key_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError(format!(
                "callback.public_key_url = {url:?}: give an http:// or https:// URL where callback servers can fetch the key, such as \"https://oss.example.com/-/callback-public-key.pem\""
            )));
        }
        let c = &self.server.connections;
        for (key, value) in [
            ("header_read_timeout_secs", c.header_read_timeout_secs),
            ("max_per_listener", c.max_per_listener as u64),
            ("body_rate_window_secs", c.body_rate_window_secs),
        ] {
            if value == 0 {
                return Err(ConfigError(format!(
                    "server.connections.{key} must be at least 1"
                )));
            }
        }
        let mut names = HashSet::new();
        let mut addrs = HashSet::new();
        for (i, region) in self.regions.iter().enumerate() {
            let at = format!("regions[{i}]");
            let suffix = region.name.strip_prefix("oss-").unwrap_or("");
            if suffix.is_empty()
                || !suffix
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(ConfigError(format!(
                    "{at}.name = {:?}: a region name looks like \"oss-cn-hangzhou\" (\"oss-\" followed by lower-case letters, digits and hyphens)",
                    region.name
                )));
            }
            if !names.insert(region.name.as_str()) {
                return Err(ConfigError(format!(
                    "{at}.name = {:?}: region names must be unique",
                    region.name
                )));
            }
            if region.tls_cert.is_some() != region.tls_key.is_some() {
                return Err(ConfigError(format!(
                    "{at}: set both tls_cert and tls_key (PEM files) for HTTPS, or neither"
                )));
            }
            if region.listen.is_empty() {
                return Err(ConfigError(format!(
                    "{at}.listen: region {:?} needs at least one listen address, e.g. listen = [\"127.0.0.1:9001\"]",
                    region.name
                )));
            }
            for addr in region.listen.iter().chain(&region.s3_listen) {
                if addr.port() != 0 && !addrs.insert(*addr) {
                    return Err(ConfigError(format!(
                        "{at}.listen: address {addr} is used twice; each listener belongs to one region"
                    )));
                }
            }
            if let Some(endpoint) = &region.endpoint
                && (endpoint.is_empty() || endpoint.contains(['/', ':', ' ']))
            {
                return Err(ConfigError(format!(
                    "{at}.endpoint = {endpoint:?}: give a bare host name such as \"oss-cn-hangzhou.example.com\" (no scheme, port or path)"
                )));
            }
        }
        let mut ids = HashSet::new();
        let mut keys = HashSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            let at = format!("accounts[{i}]");
            if account.id.is_empty() || !account.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ConfigError(format!(
                    "{at}.id = {:?}: an account id is a string of digits such as \"1000000000000001\"",
                    account.id
                )));
            }
            if !ids.insert(account.id.as_str()) {
                return Err(ConfigError(format!(
                    "{at}.id = {:?}: account ids must be unique",
                    account.id
                )));
            }
            check_key(
                &at,
                &account.access_key_id,
                &account.access_key_secret,
                &mut keys,
            )?;
            let mut user_names = HashSet::new();
            for (j, user) in account.users.iter().enumerate() {
                let at = format!("{at}.users[{j}]");
                if user.name.is_empty() || !user_names.insert(user.name.as_str()) {
                    return Err(ConfigError(format!(
                        "{at}.name = {:?}: user names must be non-empty and unique within the account",
                        user.name
                    )));
                }
                check_key(&at, &user.access_key_id, &user.access_key_secret, &mut keys)?;
                if let Some(policy) = &user.policy {
                    Policy::parse(policy).map_err(|e| ConfigError(format!("{at}.policy: {e}")))?;
                }
            }
        }
        Ok(())
    }

    /// When no account is configured, the default account's root key comes from
    /// `OSSIFY_ACCESS_KEY_ID` / `OSSIFY_ACCESS_KEY_SECRET`, else from a key generated
    /// once and kept in the data directory. Returns true when a key was generated now.
    pub fn ensure_default_account(
        &mut self,
        env_key: Option<(String, String)>,
    ) -> Result<bool, ConfigError> {
        if !self.accounts.is_empty() {
            return Ok(false);
        }
        let path = self.server.data_dir.join(GENERATED_KEY_FILE);
        let (access_key_id, access_key_secret, generated) = if let Some((id, secret)) = env_key {
            (id, secret, false)
        } else if path.exists() {
            let stored: StoredKey = toml::from_str(
                &std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?,
            )
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
            (stored.access_key_id, stored.access_key_secret, false)
        } else {
            let id = format!("LTAI{}", random_alnum(20));
            let secret = random_alnum(30);
            std::fs::create_dir_all(&self.server.data_dir).map_err(|e| {
                ConfigError(format!(
                    "cannot create data directory {}: {e}",
                    self.server.data_dir.display()
                ))
            })?;
            let text = format!(
                "# Root AccessKey of the default account, generated on first start.\naccess_key_id = {id:?}\naccess_key_secret = {secret:?}\n"
            );
            write_private(&path, &text)
                .map_err(|e| ConfigError(format!("cannot write {}: {e}", path.display())))?;
            (id, secret, true)
        };
        self.accounts.push(AccountConfig {
            id: DEFAULT_ACCOUNT_ID.into(),
            access_key_id,
            access_key_secret,
            users: vec![],
        });
        Ok(generated)
    }
}

fn check_key(
    at: &str,
    id: &str,
    secret: &str,
    seen: &mut HashSet<String>,
) -> Result<(), ConfigError> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ConfigError(format!(
            "{at}.access_key_id = {id:?}: must be non-empty printable ASCII without spaces"
        )));
    }
    if secret.is_empty() {
        return Err(ConfigError(format!(
            "{at}.access_key_secret: must not be empty"
        )));
    }
    if !seen.insert(id.to_owned()) {
        return Err(ConfigError(format!(
            "{at}.access_key_id = {id:?}: AccessKey ids must be unique across all accounts and users"
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct StoredKey {
    access_key_id: String,
    access_key_secret: String,
}

fn random_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
[server]
data_dir = "/var/lib/ossify"

[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:9000"]
endpoint = "oss-cn-hangzhou.example.com"

[[regions]]
name = "oss-cn-shanghai"
listen = ["127.0.0.1:9001"]

[[accounts]]
id = "1000000000000001"
access_key_id = "LTAIroot"
access_key_secret = "secret"

[[accounts.users]]
name = "thumbnailer"
access_key_id = "LTAIuser"
access_key_secret = "secret2"
policy = '''{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:photos/*"]}]}'''
"#;

    #[test]
    fn documented_example_parses() {
        let mut config = Config::from_toml(EXAMPLE).unwrap();
        config.finish().unwrap();
        assert_eq!(config.regions.len(), 2);
        assert_eq!(config.regions[1].v4_region(), "cn-shanghai");
        assert_eq!(config.accounts[0].users[0].name, "thumbnailer");
    }

    #[test]
    fn storage_section_and_its_secrets_from_the_environment() {
        let text = r#"
[storage]
metadata = "postgres://ossify:secret@127.0.0.1:5432/ossify"
blob_gc_grace_secs = 60

[storage.blobs]
kind = "s3"
endpoint = "http://127.0.0.1:8333"
bucket = "ossify-blobs"
region = "us-east-1"
path_style = true
"#;
        let mut config = Config::from_toml(text).unwrap();
        let env = |name: &str| match name {
            "OSSIFY_BLOBS_ACCESS_KEY_ID" => Some("AK".to_string()),
            "OSSIFY_BLOBS_SECRET_ACCESS_KEY" => Some("SK".to_string()),
            "OSSIFY_STORAGE_METADATA" => Some(String::new()),
            _ => None,
        };
        config.storage.apply_env(env);
        config.finish().unwrap();
        assert!(!config.storage.is_embedded());
        assert_eq!(config.storage.blob_gc_grace_secs, 60);
        let BlobsConfig::S3(s3) = &config.storage.blobs else {
            panic!("kind = s3")
        };
        assert_eq!(
            (s3.access_key_id.as_str(), s3.secret_access_key.as_str()),
            ("AK", "SK")
        );
        assert_eq!(
            config.storage.metadata.as_deref(),
            Some("postgres://ossify:secret@127.0.0.1:5432/ossify")
        );
        assert!(Config::from_toml("").unwrap().storage.is_embedded());
        assert_eq!(config.storage.restore_delay_secs, 1);
        assert_eq!(config.storage.metadata_pool_size, 16);
        assert_eq!(config.storage.blob_upload_grace_secs, 86_400);
        let pooled = Config::from_toml("[storage]\nmetadata_pool_size = 64\n").unwrap();
        assert_eq!(pooled.storage.metadata_pool_size, 64);
        for key in ["metadata_pool_size", "blob_upload_grace_secs"] {
            let mut zero = Config::from_toml(&format!("[storage]\n{key} = 0\n")).unwrap();
            assert_eq!(
                zero.finish().unwrap_err().0,
                format!("storage.{key} must be at least 1")
            );
        }
        let mut quick = Config::from_toml("[storage]\nrestore_delay_secs = 0\n").unwrap();
        quick.finish().unwrap();
        assert_eq!(quick.storage.restore_delay_secs, 0);
        let mut slow = Config::from_toml("[storage]\nrestore_delay_secs = 172801\n").unwrap();
        assert!(
            slow.finish()
                .unwrap_err()
                .0
                .contains("storage.restore_delay_secs")
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("SK") && !shown.contains("secret@"),
            "{shown}"
        );

        let mut half = Config::from_toml(text).unwrap();
        let BlobsConfig::S3(s3) = &mut half.storage.blobs else {
            unreachable!()
        };
        s3.access_key_id = "AK".into();
        assert!(half.finish().unwrap_err().0.contains("storage.blobs"));
        let mut url = Config::from_toml(&text.replace("postgres://", "mysql://")).unwrap();
        assert!(url.finish().unwrap_err().0.contains("storage.metadata"));
        let kind = Config::from_toml(&text.replace("\"s3\"", "\"gcs\"")).unwrap_err();
        assert!(kind.0.contains("gcs"), "{kind}");
    }

    #[test]
    fn operator_sections() {
        let defaults = Config::from_toml("").unwrap();
        let (local, public): (SocketAddr, SocketAddr) = (
            "127.0.0.1:1".parse().unwrap(),
            "10.0.0.1:1".parse().unwrap(),
        );
        assert!(defaults.console.enabled_on(&local) && !defaults.console.enabled_on(&public));
        assert!(defaults.metrics.allows("127.0.0.5".parse().unwrap()));
        assert!(defaults.metrics.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(defaults.metrics.allows("::1".parse().unwrap()));
        assert!(!defaults.metrics.allows("10.0.0.1".parse().unwrap()));
        assert_eq!(defaults.server.shutdown_grace_secs, 30);

        let set = Config::from_toml(
            "[console]\nenabled = true\n[metrics]\nallow = [\"10.0.0.0/8\", \"192.168.1.7\"]\n",
        )
        .unwrap();
        assert!(set.console.enabled_on(&public));
        assert!(set.metrics.allows("10.9.8.7".parse().unwrap()));
        assert!(set.metrics.allows("192.168.1.7".parse().unwrap()));
        assert!(!set.metrics.allows("192.168.1.8".parse().unwrap()));
        assert!(!set.metrics.allows("127.0.0.1".parse().unwrap()));
        let bad = Config::from_toml("[metrics]\nallow = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert!(bad.0.contains("10.0.0.0/33"), "{bad}");

        assert_eq!(defaults.callback.targets(), TargetPolicy::default());
        assert_eq!(
            defaults.callback.key_path(Path::new("/d")),
            Path::new("/d/callback-private-key.pem")
        );
        let callback = Config::from_toml(
            "[callback]\nallow = [\"*.example.com\", \"10.0.0.0/8\"]\ndeny = [\"127.0.0.2\"]\nkey_file = \"/k.pem\"\n",
        )
        .unwrap()
        .callback;
        assert_eq!(callback.allow.len(), 2);
        assert_eq!(callback.deny, vec!["127.0.0.2".parse::<Rule>().unwrap()]);
        assert_eq!(callback.key_path(Path::new("/d")), Path::new("/k.pem"));
        let server = Config::from_toml("[server]\ndata_dir = \"/d\"\n")
            .unwrap()
            .server;
        assert_eq!(server.master_key_path(), Path::new("/d/master.key"));
        let server = Config::from_toml("[server]\nmaster_key_file = \"/k/master.key\"\n")
            .unwrap()
            .server;
        assert_eq!(server.master_key_path(), Path::new("/k/master.key"));
        let bad = Config::from_toml("[callback]\ndeny = [\"http://x\"]\n").unwrap_err();
        assert!(bad.0.contains("http://x"), "{bad}");
        let mut url = Config::from_toml("[callback]\npublic_key_url = \"ftp://x\"\n").unwrap();
        assert!(
            url.finish()
                .unwrap_err()
                .0
                .contains("callback.public_key_url")
        );

        let mut half = Config::from_toml(
            "[[regions]]\nname = \"oss-cn-hangzhou\"\nlisten = [\"127.0.0.1:0\"]\ntls_cert = \"c.pem\"\n",
        )
        .unwrap();
        assert!(
            half.finish()
                .unwrap_err()
                .0
                .contains("regions[0]: set both tls_cert and tls_key")
        );
    }

    #[test]
    fn errors_name_the_key() {
        let err = Config::from_toml("[server]\ndata_dirr = 1\n").unwrap_err();
        assert!(err.0.contains("data_dirr"), "{err}");
        let mut bad = Config::from_toml(&EXAMPLE.replace("oss-cn-shanghai", "shanghai")).unwrap();
        assert!(bad.finish().unwrap_err().0.contains("regions[1].name"));
        let mut dup = Config::from_toml(&EXAMPLE.replace("LTAIuser", "LTAIroot")).unwrap();
        assert!(
            dup.finish()
                .unwrap_err()
                .0
                .contains("accounts[0].users[0].access_key_id")
        );
        let mut policy = Config::from_toml(&EXAMPLE.replace("\"Allow\"", "\"Maybe\"")).unwrap();
        assert!(
            policy
                .finish()
                .unwrap_err()
                .0
                .contains("accounts[0].users[0].policy")
        );
    }

    #[test]
    fn image_budgets() {
        let mut config = Config::from_toml("").unwrap();
        config.finish().unwrap();
        assert_eq!(config.image.limits(), crate::image::Limits::default());
        let mut config = Config::from_toml("[image]\nmax_steps = 5\nmax_memory_mb = 64\n").unwrap();
        config.finish().unwrap();
        let limits = config.image.limits();
        assert_eq!((limits.max_steps, limits.max_memory), (5, 64 << 20));
        assert_eq!(
            limits.max_time_ms,
            crate::image::Limits::default().max_time_ms
        );
        let mut zero = Config::from_toml("[image]\nmax_time_ms = 0\n").unwrap();
        assert!(zero.finish().unwrap_err().0.contains("image.max_time_ms"));
        let typo = Config::from_toml("[image]\nmax_step = 5\n").unwrap_err();
        assert!(typo.0.contains("max_step"), "{typo}");
        assert_eq!(config.image.cache_bytes, 1 << 30);
        assert!(config.image.auto_formats().for_bucket("b").is_empty());
        let mut auto = Config::from_toml(
            "[image]\nauto_format = [\"webp\", \"avif\"]\ncache_bytes = 0\n\
             [image.auto_format_buckets]\nplain = []\nphotos = [\"avif\"]\n",
        )
        .unwrap();
        auto.finish().unwrap();
        use crate::image::OutFormat;
        let formats = auto.image.auto_formats();
        assert_eq!(formats.for_bucket("b"), [OutFormat::Webp, OutFormat::Avif]);
        assert_eq!(formats.for_bucket("photos"), [OutFormat::Avif]);
        assert!(formats.for_bucket("plain").is_empty());
        assert_eq!(auto.image.cache_bytes, 0);
        for (bad, what) in [
            ("auto_format = [\"png\"]", "image.auto_format"),
            ("auto_format = [\"webp\", \"webp\"]", "image.auto_format"),
            (
                "auto_format_buckets = { b1 = [\"gif\"] }",
                "image.auto_format_buckets.b1",
            ),
            (
                "auto_format_buckets = { B_1 = [\"webp\"] }",
                "\"B_1\" is not a bucket name",
            ),
        ] {
            let mut c = Config::from_toml(&format!("[image]\n{bad}\n")).unwrap();
            let e = c.finish().unwrap_err().0;
            assert!(e.contains(what), "{bad}: {e}");
        }
    }

    #[test]
    fn default_account_key_is_generated_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::from_toml("").unwrap();
        config.server.data_dir = dir.path().to_path_buf();
        config.finish().unwrap();
        assert!(config.ensure_default_account(None).unwrap());
        let first = config.accounts[0].access_key_id.clone();
        let mut again = Config::from_toml("").unwrap();
        again.server.data_dir = dir.path().to_path_buf();
        assert!(!again.ensure_default_account(None).unwrap());
        assert_eq!(again.accounts[0].access_key_id, first);
        let mut env = Config::from_toml("").unwrap();
        env.server.data_dir = dir.path().to_path_buf();
        env.ensure_default_account(Some(("AK".into(), "SK".into())))
            .unwrap();
        assert_eq!(env.accounts[0].access_key_id, "AK");
    }
}
