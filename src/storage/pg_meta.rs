//! The metadata engine for several ossify nodes: PostgreSQL, shared by every node.
//!
//! Records are stored as the same JSON as redb's (in `bytea`: JSON text may hold NUL,
//! which `jsonb` refuses), with the columns that order, filter or sum them beside it.
//! Names are `text COLLATE "C"`, so that every order is bytewise (code point) order
//! whatever the database's locale, and every listing is an index range scan.
//!
//! Concurrency between nodes (every transaction is READ COMMITTED):
//! - Writers of one object key (`put_object_with`, `complete_upload`) first take a
//!   transaction-scoped advisory lock on the hashed `(bucket, key)`, then read the
//!   current record `FOR UPDATE`; so they run one after the other, each seeing the
//!   previous one's result. `delete_object_if` locks the row itself.
//! - Writes that need a bucket lock its row `FOR KEY SHARE` (foreign keys do as well);
//!   `delete_bucket` locks it `FOR UPDATE`, so it waits for those writes and then sees
//!   their objects, or they wait for it and then find no bucket.
//! - `complete_upload` and `abort_upload` lock the upload row `FOR UPDATE`, `put_part`
//!   `FOR KEY SHARE`: one completion or abort wins, the others find no upload, and a
//!   part is either stored before (and returned by the winner) or refused.
//! - Leases compare expiry with the database clock, never a node's.

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{
    GenericClient, Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures_util::TryStreamExt;
use tokio::runtime::Handle;
use tokio_postgres::config::Host;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{IsolationLevel, Row};

use super::Stored;
use super::{
    AccountConfig, BlobId, BucketRecord, BucketStat, CacheChange, CacheEntry, Created, ListQuery,
    Listing, MetaStore, NULL_VERSION, ObjectRecord, PartRecord, StorageError, UploadListing,
    UploadQuery, UploadRecord, VersionRow, VersionSeek, after_prefix,
};

/// Schema migrations, applied in order; the database records how many ran. Never edit
/// one that shipped: append a new one.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE buckets (
    name text COLLATE "C" PRIMARY KEY,
    owner text COLLATE "C" NOT NULL,
    record bytea NOT NULL
);
CREATE INDEX buckets_by_owner ON buckets (owner, name);
CREATE TABLE objects (
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name),
    key text COLLATE "C" NOT NULL,
    size bigint NOT NULL,
    last_modified bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE TABLE uploads (
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name),
    key text COLLATE "C" NOT NULL,
    upload_id text COLLATE "C" NOT NULL UNIQUE,
    record bytea NOT NULL,
    PRIMARY KEY (bucket, key, upload_id)
);
CREATE TABLE parts (
    upload_id text COLLATE "C" NOT NULL REFERENCES uploads (upload_id),
    number bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (upload_id, number)
);
CREATE TABLE leases (
    name text COLLATE "C" PRIMARY KEY,
    holder text NOT NULL,
    expires_at timestamptz NOT NULL
);
"#,
    r#"
CREATE TABLE image_cache (
    key text COLLATE "C" PRIMARY KEY,
    blob text NOT NULL,
    size bigint NOT NULL,
    content_type text NOT NULL,
    used bigint NOT NULL
);
CREATE INDEX image_cache_by_use ON image_cache (used, key);
CREATE TABLE counters (
    name text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters (name, value) VALUES ('image_cache_bytes', 0);
"#,
    r#"
CREATE TABLE object_versions (
    bucket text COLLATE "C" NOT NULL REFERENCES buckets (name),
    key text COLLATE "C" NOT NULL,
    version_id text COLLATE "C" NOT NULL,
    ord text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (bucket, key, version_id)
);
CREATE UNIQUE INDEX object_versions_in_order ON object_versions (bucket, key, ord);
"#,
    r#"
CREATE TABLE accounts (
    id text COLLATE "C" PRIMARY KEY,
    record bytea NOT NULL
);
"#,
];

/// Advisory lock (two-int4 form, so it never meets the bigint key locks) held while
/// migrating, so that nodes starting together migrate one at a time.
const MIGRATION_LOCK: (i32, i32) = (0x6f73_7366, 1);

/// Connections per node unless `storage.metadata_pool_size` says otherwise. Each
/// metadata call holds one for its duration.
pub const DEFAULT_POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call waits for a free connection before failing.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// Transactions that lost a race (serialization failure, deadlock, a concurrent
/// insert of the same row) run again, up to this many times.
const RETRIES: u32 = 8;
/// Rows fetched per round trip while a listing may roll keys up at a delimiter (where
/// most rows of a batch may be skipped); grows while no rollup happens.
const ROLLUP_BATCH: i64 = 8;

/// PostgreSQL metadata, for several nodes sharing one database.
///
/// [`MetaStore`] is synchronous: ossify calls it on tokio's blocking pool. Each method
/// runs its queries on a pool of async connections with `Handle::block_on`, using the
/// runtime that was current in [`PgMeta::open`] (it must be a multi-thread runtime, whose
/// workers drive the connections meanwhile). Calling from a runtime worker thread works
/// (through `block_in_place`), but stalls that worker; a current-thread runtime panics.
pub struct PgMeta {
    pool: Pool,
    handle: Handle,
}

/// Why one run of an operation failed: its own answer, or the database.
enum Failure {
    Answer(StorageError),
    Pg(tokio_postgres::Error),
    Pool(PoolError),
    /// A row this transaction relied on changed meanwhile.
    Race,
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Self::Answer(e)
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Pg(e)
    }
}

impl From<PoolError> for Failure {
    fn from(e: PoolError) -> Self {
        Self::Pool(e)
    }
}

impl Failure {
    /// Lost a race with another transaction: running it again may succeed.
    fn is_retryable(&self) -> bool {
        let e = match self {
            Self::Race => return true,
            Self::Pg(e) => e,
            _ => return false,
        };
        matches!(
            e.code(),
            Some(&SqlState::T_R_SERIALIZATION_FAILURE)
                | Some(&SqlState::T_R_DEADLOCK_DETECTED)
                | Some(&SqlState::UNIQUE_VIOLATION)
        )
    }

    /// In words; `pool_size` is the pool's number of connections.
    fn into_storage(self, pool_size: usize) -> StorageError {
        match self {
            Self::Answer(e) => e,
            Self::Pg(e) => StorageError::Io(describe_pg(&e)),
            Self::Pool(PoolError::Backend(e)) => StorageError::Io(describe_pg(&e)),
            Self::Pool(PoolError::Timeout(_)) => StorageError::Io(format!(
                "metadata database (PostgreSQL): no connection available within {} s \
                 (all {pool_size} busy, or the server does not answer; \
                 see storage.metadata_pool_size)",
                POOL_WAIT.as_secs()
            )),
            Self::Pool(e) => StorageError::Io(format!("metadata database (PostgreSQL): {e}")),
            Self::Race => StorageError::Io(format!(
                "metadata database (PostgreSQL): lost {RETRIES} races in a row with other writers"
            )),
        }
    }
}

/// A database error in words: the server's message when it sent one.
fn describe_pg(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!(
            "metadata database (PostgreSQL): {} ({})",
            db.message(),
            db.code().code()
        ),
        None => match std::error::Error::source(e) {
            Some(cause) => format!("metadata database (PostgreSQL): {e}: {cause}"),
            None => format!("metadata database (PostgreSQL): {e}"),
        },
    }
}

fn encode<T: Stored>(value: &T) -> Result<Vec<u8>, Failure> {
    value
        .to_stored()
        .map_err(|e| StorageError::Io(format!("cannot encode a record: {e}")).into())
}

fn decode<T: Stored>(bytes: &[u8]) -> Result<T, Failure> {
    T::from_stored(bytes).map_err(|e| StorageError::Io(format!("corrupt record: {e}")).into())
}

fn decode_col<T: Stored>(row: &Row, column: usize) -> Result<T, Failure> {
    decode(row.try_get::<_, &[u8]>(column)?)
}

/// A row of `blob, size, content_type, used` from `image_cache`.
fn cache_entry(row: &Row) -> Result<CacheEntry, Failure> {
    Ok(CacheEntry {
        blob: BlobId(row.try_get(0)?),
        size: row.try_get::<_, i64>(1)?.max(0) as u64,
        content_type: row.try_get(2)?,
        used: row.try_get(3)?,
    })
}

fn to_i64(n: u64) -> Result<i64, Failure> {
    i64::try_from(n).map_err(|_| StorageError::Io(format!("{n} is too large to store")).into())
}

/// PostgreSQL text cannot hold NUL, and no stored name contains one: a name with NUL
/// names nothing.
fn storable(name: &str) -> Option<&str> {
    (!name.contains('\0')).then_some(name)
}

/// A lower bound for names after `marker` (which may hold NUL): for names without NUL,
/// "after `m\0...`" is "after `m`". The caller still compares with `marker` itself.
fn nul_free(marker: &str) -> &str {
    marker.split('\0').next().unwrap_or("")
}

const NO_PARAMS: [&str; 0] = [];

/// Where the next batch of a scan starts.
enum Seek {
    /// At this name or after it.
    AtOrAfter(String),
    /// After this row (name, and upload id for uploads).
    After(String, String),
}

/// Size of the next batch: all that is left when nothing rolls up, otherwise small
/// batches that double while no rollup skips rows.
fn batch_size(rollup: bool, batch: &mut i64, left: usize) -> i64 {
    let all = i64::try_from(left).unwrap_or(i64::MAX).saturating_add(1);
    if !rollup {
        return all;
    }
    let n = (*batch).min(all);
    *batch = batch.saturating_mul(2);
    n
}

fn connect_target(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

/// Why connecting failed, in words a user can act on (never with the password).
fn describe_connect(config: &tokio_postgres::Config, e: &tokio_postgres::Error) -> String {
    let target = connect_target(config);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    if let Some(db_err) = e.as_db_error() {
        let code = db_err.code();
        return if *code == SqlState::INVALID_PASSWORD {
            format!(
                "password authentication failed for user \"{user}\" at {target}: check the user and password"
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!(
                "database \"{db}\" does not exist at {target}: create it, e.g. with `createdb -h {} -p {} -U {user} {db}`",
                target.rsplit_once(':').map_or("", |t| t.0),
                target.rsplit_once(':').map_or("", |t| t.1),
            )
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            format!("{target} refused user \"{user}\": {}", db_err.message())
        } else {
            format!("{target} refused the connection: {}", db_err.message())
        };
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            // rustls' verdict travels inside an I/O error (which hides it from `source`).
            if let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
                return format!(
                    "cannot connect to {target}: TLS handshake failed: {tls} (check that \
                     sslrootcert names the CA that signed the server's certificate, and for \
                     sslmode=verify-full that the certificate names the host of the URL)"
                );
            }
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => format!(
                    "cannot connect to {target}: connection refused (is PostgreSQL running and listening there?)"
                ),
                std::io::ErrorKind::TimedOut => format!(
                    "cannot connect to {target}: no answer within {} s (is the host reachable, and PostgreSQL listening there?)",
                    config
                        .get_connect_timeout()
                        .unwrap_or(&CONNECT_TIMEOUT)
                        .as_secs()
                ),
                _ => format!("cannot connect to {target}: {io}"),
            };
        }
        cause = c.source();
    }
    let text = e.to_string();
    if text.contains("TLS") {
        return match std::error::Error::source(e) {
            Some(c) => format!(
                "cannot connect to {target}: {text}: {c} (turn ssl on in the server's \
                 postgresql.conf, or connect with sslmode=prefer or sslmode=disable)"
            ),
            None => format!("cannot connect to {target}: {text}"),
        };
    }
    match std::error::Error::source(e) {
        Some(c) => format!("cannot connect to {target}: {text}: {c}"),
        None => format!("cannot connect to {target}: {text}"),
    }
}

impl PgMeta {
    /// Connect to `url` (`postgres://user:password@host:port/database`) and bring its
    /// schema up to date; calls then share up to `pool_size` connections. Errors name
    /// the `storage.metadata` setting and say what to fix.
    pub async fn open(url: &str, pool_size: usize) -> anyhow::Result<PgMeta> {
        let tls = super::pg_tls::prepare(url)?;
        let mut config = tokio_postgres::Config::from_str(&tls.url).map_err(|e| {
            anyhow::anyhow!(
                "storage.metadata: not a valid PostgreSQL URL ({e}); expected postgres://user:password@host:port/database"
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            // A query to a vanished server fails instead of waiting forever.
            config.tcp_user_timeout(Duration::from_secs(60));
        }
        if config.get_application_name().is_none() {
            config.application_name("ossify");
        }
        let (mut client, connection) = config
            .connect(tls.connector.clone())
            .await
            .map_err(|e| anyhow::anyhow!("storage.metadata: {}", describe_connect(&config, &e)))?;
        let driver = tokio::spawn(connection);
        let migrated = migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated
            .map_err(|e| anyhow::anyhow!("storage.metadata ({}): {e}", connect_target(&config)))?;

        let manager = Manager::from_config(
            config,
            tls.connector,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| anyhow::anyhow!("storage.metadata: {e}"))?;
        Ok(PgMeta {
            pool,
            handle: Handle::current(),
        })
    }

    /// Run `op` to completion on this thread.
    fn block<T>(&self, op: impl Future<Output = Result<T, Failure>>) -> Result<T, StorageError> {
        tokio::task::block_in_place(|| self.handle.block_on(op))
            .map_err(|f| f.into_storage(self.pool.status().max_size))
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, Failure> {
        Ok(self.pool.get().await?)
    }

    /// Run the transaction `once` again while it loses races.
    async fn retrying<T>(
        &self,
        mut once: impl AsyncFnMut(&mut deadpool_postgres::Object) -> Result<T, Failure>,
    ) -> Result<T, Failure> {
        let mut client = self.client().await?;
        let mut attempt = 0;
        loop {
            match once(&mut client).await {
                Err(e) if e.is_retryable() && attempt < RETRIES => attempt += 1,
                result => return result,
            }
        }
    }
}

/// Apply the migrations this database lacks, in one transaction under a lock.
async fn migrate(client: &mut tokio_postgres::Client) -> Result<(), String> {
    let e = |e: tokio_postgres::Error| pg_text(&e);
    let tx = client.transaction().await.map_err(e)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&MIGRATION_LOCK.0, &MIGRATION_LOCK.1],
    )
    .await
    .map_err(e)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS ossify_schema (
            version integer PRIMARY KEY,
            applied timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await
    .map_err(|e| format!("cannot create the table ossify_schema: {}", pg_text(&e)))?;
    let applied: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM ossify_schema", &[])
        .await
        .and_then(|row| row.try_get(0))
        .map_err(e)?;
    let known = MIGRATIONS.len() as i32;
    if applied > known {
        return Err(format!(
            "the database has schema version {applied}, newer than this ossify knows ({known}); \
             run a newer ossify, or point storage.metadata at another database"
        ));
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(applied.max(0) as usize) {
        let version = version as i32 + 1;
        tx.batch_execute(sql)
            .await
            .map_err(|e| format!("schema migration {version} failed: {}", pg_text(&e)))?;
        tx.execute(
            "INSERT INTO ossify_schema (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(e)?;
    }
    tx.commit().await.map_err(e)
}

/// The server's message, or the client's description of what went wrong.
fn pg_text(e: &tokio_postgres::Error) -> String {
    match (e.as_db_error(), std::error::Error::source(e)) {
        (Some(db), _) => db.message().to_owned(),
        (None, Some(cause)) => format!("{e}: {cause}"),
        (None, None) => e.to_string(),
    }
}

async fn bucket_exists_locked(c: &impl GenericClient, bucket: &str) -> Result<bool, Failure> {
    let stmt = c
        .prepare_cached("SELECT 1 FROM buckets WHERE name = $1 FOR KEY SHARE")
        .await?;
    Ok(c.query_opt(&stmt, &[&bucket]).await?.is_some())
}

/// Serialize the writers of one object key until the transaction ends.
async fn lock_key(c: &impl GenericClient, bucket: &str, key: &str) -> Result<(), Failure> {
    // Bucket names have no '/', so the joined string names one (bucket, key).
    let stmt = c
        .prepare_cached("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
        .await?;
    c.execute(&stmt, &[&bucket, &key]).await?;
    Ok(())
}

async fn current_object_locked(
    c: &impl GenericClient,
    bucket: &str,
    key: &str,
) -> Result<Option<ObjectRecord>, Failure> {
    let stmt = c
        .prepare_cached("SELECT record FROM objects WHERE bucket = $1 AND key = $2 FOR UPDATE")
        .await?;
    match c.query_opt(&stmt, &[&bucket, &key]).await? {
        Some(row) => Ok(Some(decode_col(&row, 0)?)),
        None => Ok(None),
    }
}

async fn store_object(
    c: &impl GenericClient,
    bucket: &str,
    key: &str,
    record: &ObjectRecord,
) -> Result<(), Failure> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO objects (bucket, key, size, last_modified, record)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (bucket, key) DO UPDATE
             SET size = excluded.size, last_modified = excluded.last_modified,
                 record = excluded.record",
        )
        .await?;
    c.execute(
        &stmt,
        &[
            &bucket,
            &key,
            &to_i64(record.size)?,
            &record.last_modified,
            &encode(record)?,
        ],
    )
    .await?;
    Ok(())
}

/// Keep `record` as a noncurrent version (or delete marker) of `key`.
async fn archive(
    c: &impl GenericClient,
    bucket: &str,
    key: &str,
    record: &ObjectRecord,
) -> Result<(), Failure> {
    let stmt = c
        .prepare_cached(
            "INSERT INTO object_versions (bucket, key, version_id, ord, record)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .await?;
    let (label, order) = (record.version_label(), record.version_order());
    c.execute(&stmt, &[&bucket, &key, &label, &order, &encode(record)?])
        .await?;
    Ok(())
}

/// Remove noncurrent version `label` of `key`; returns it.
async fn unarchive(
    c: &impl GenericClient,
    bucket: &str,
    key: &str,
    label: &str,
) -> Result<Option<ObjectRecord>, Failure> {
    let stmt = c
        .prepare_cached(
            "DELETE FROM object_versions WHERE bucket = $1 AND key = $2 AND version_id = $3
             RETURNING record",
        )
        .await?;
    match c.query_opt(&stmt, &[&bucket, &key, &label]).await? {
        Some(row) => Ok(Some(decode_col(&row, 0)?)),
        None => Ok(None),
    }
}

async fn delete_current(c: &impl GenericClient, bucket: &str, key: &str) -> Result<(), Failure> {
    let stmt = c
        .prepare_cached("DELETE FROM objects WHERE bucket = $1 AND key = $2")
        .await?;
    c.execute(&stmt, &[&bucket, &key]).await?;
    Ok(())
}

/// Store `record` as the latest version of `key` over `current`, as
/// [`MetaStore::put_object_with`] says; returns the replaced records. The caller holds
/// the key's lock.
async fn write_latest(
    c: &impl GenericClient,
    bucket: &str,
    key: &str,
    current: Option<ObjectRecord>,
    record: &ObjectRecord,
) -> Result<Vec<ObjectRecord>, Failure> {
    let mut replaced = Vec::new();
    if record.version_id.as_deref() == Some(NULL_VERSION) {
        replaced.extend(unarchive(c, bucket, key, NULL_VERSION).await?);
    }
    let had_current = current.is_some();
    if let Some(current) = current {
        if current.archived_by(record) {
            archive(c, bucket, key, &current).await?;
        } else {
            replaced.push(current);
        }
    }
    if record.delete_marker {
        if had_current {
            delete_current(c, bucket, key).await?;
        }
        archive(c, bucket, key, record).await?;
    } else {
        store_object(c, bucket, key, record).await?;
    }
    Ok(replaced)
}

/// With no current version of `key` left, make the newest noncurrent one current,
/// unless it is a delete marker. The caller holds the key's lock.
async fn promote(c: &impl GenericClient, bucket: &str, key: &str) -> Result<(), Failure> {
    if current_object_locked(c, bucket, key).await?.is_some() {
        return Ok(());
    }
    let stmt = c
        .prepare_cached(
            "SELECT record FROM object_versions WHERE bucket = $1 AND key = $2
             ORDER BY ord LIMIT 1",
        )
        .await?;
    let Some(row) = c.query_opt(&stmt, &[&bucket, &key]).await? else {
        return Ok(());
    };
    let newest: ObjectRecord = decode_col(&row, 0)?;
    if !newest.delete_marker {
        unarchive(c, bucket, key, newest.version_label()).await?;
        store_object(c, bucket, key, &newest).await?;
    }
    Ok(())
}

/// Rows `(key, record)` of `bucket` from `from`, below `upper`, in key order.
async fn object_rows(
    c: &impl GenericClient,
    bucket: &str,
    from: &Seek,
    upper: Option<&str>,
    limit: i64,
) -> Result<Vec<Row>, Failure> {
    let (op, lower) = match from {
        Seek::AtOrAfter(k) => (">=", k.as_str()),
        Seek::After(k, _) => (">", k.as_str()),
    };
    let bound = if upper.is_some() { "AND key < $4" } else { "" };
    let sql = format!(
        "SELECT key, record FROM objects WHERE bucket = $1 AND key {op} $2 {bound}
         ORDER BY key LIMIT $3"
    );
    let stmt = c.prepare_cached(&sql).await?;
    Ok(match upper {
        Some(u) => c.query(&stmt, &[&bucket, &lower, &limit, &u]).await?,
        None => c.query(&stmt, &[&bucket, &lower, &limit]).await?,
    })
}

/// Rows `(key, upload_id, record)` of `bucket` from `from`, below `upper`, in
/// (key, upload id) order.
async fn upload_rows(
    c: &impl GenericClient,
    bucket: &str,
    from: &Seek,
    upper: Option<&str>,
    limit: i64,
) -> Result<Vec<Row>, Failure> {
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&bucket, &limit];
    let lower = match from {
        Seek::AtOrAfter(k) => {
            params.push(k);
            "key >= $3"
        }
        Seek::After(k, id) => {
            params.extend([k as &(dyn ToSql + Sync), id]);
            "(key, upload_id) > ($3, $4)"
        }
    };
    let bound = upper.as_ref().map(|u| {
        params.push(u);
        format!("AND key < ${}", params.len())
    });
    let sql = format!(
        "SELECT key, upload_id, record FROM uploads WHERE bucket = $1 AND {lower} {}
         ORDER BY key, upload_id LIMIT $2",
        bound.unwrap_or_default()
    );
    let stmt = c.prepare_cached(&sql).await?;
    Ok(c.query(&stmt, &params).await?)
}

/// The common prefix `key` rolls up to: `prefix` and what follows up to and including
/// the first `delimiter` after it.
fn rollup<'k>(key: &'k str, prefix: &str, delimiter: &str) -> Option<&'k str> {
    if delimiter.is_empty() {
        return None;
    }
    key[prefix.len()..]
        .find(delimiter)
        .map(|i| &key[..prefix.len() + i + delimiter.len()])
}

impl MetaStore for PgMeta {
    fn create_bucket(&self, bucket: &BucketRecord) -> Result<Created, StorageError> {
        let name = storable(&bucket.name)
            .ok_or_else(|| StorageError::Io("a bucket name cannot hold NUL".into()))?;
        self.block(async {
            let record = encode(bucket)?;
            self.retrying(async |c| {
                let insert = c
                    .prepare_cached(
                        "INSERT INTO buckets (name, owner, record) VALUES ($1, $2, $3)
                         ON CONFLICT (name) DO NOTHING RETURNING 1",
                    )
                    .await?;
                if c.query_opt(&insert, &[&name, &bucket.owner, &record])
                    .await?
                    .is_some()
                {
                    return Ok(Created::New);
                }
                let select = c
                    .prepare_cached("SELECT record FROM buckets WHERE name = $1")
                    .await?;
                match c.query_opt(&select, &[&name]).await? {
                    Some(row) => Ok(Created::Existing(Box::new(decode_col(&row, 0)?))),
                    // Deleted meanwhile: try again.
                    None => Err(Failure::Race),
                }
            })
            .await
        })
    }

    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError> {
        let Some(name) = storable(name) else {
            return Ok(None);
        };
        self.block(async {
            let c = self.client().await?;
            // The owner's settings come in the same round trip.
            let stmt = c
                .prepare_cached(
                    "SELECT b.record, a.record FROM buckets b
                     LEFT JOIN accounts a ON a.id = b.owner WHERE b.name = $1",
                )
                .await?;
            let Some(row) = c.query_opt(&stmt, &[&name]).await? else {
                return Ok(None);
            };
            let mut bucket: BucketRecord = decode_col(&row, 0)?;
            if let Some(account) = row.try_get::<_, Option<&[u8]>>(1)? {
                bucket.account = decode(account)?;
            }
            Ok(Some(bucket))
        })
    }

    fn get_account_config(&self, account: &str) -> Result<AccountConfig, StorageError> {
        let Some(account) = storable(account) else {
            return Ok(AccountConfig::default());
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached("SELECT record FROM accounts WHERE id = $1")
                .await?;
            match c.query_opt(&stmt, &[&account]).await? {
                Some(row) => decode_col(&row, 0),
                None => Ok(AccountConfig::default()),
            }
        })
    }

    fn put_account_config(
        &self,
        account: &str,
        config: &AccountConfig,
    ) -> Result<(), StorageError> {
        let account = storable(account)
            .ok_or_else(|| StorageError::Io("an account id cannot hold NUL".into()))?;
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "INSERT INTO accounts (id, record) VALUES ($1, $2)
                     ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                )
                .await?;
            c.execute(&stmt, &[&account, &encode(config)?]).await?;
            Ok(())
        })
    }

    fn update_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        let Some(name) = storable(&bucket.name) else {
            return Err(StorageError::NoSuchBucket);
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached("UPDATE buckets SET owner = $2, record = $3 WHERE name = $1")
                .await?;
            match c
                .execute(&stmt, &[&name, &bucket.owner, &encode(bucket)?])
                .await?
            {
                0 => Err(StorageError::NoSuchBucket.into()),
                _ => Ok(()),
            }
        })
    }

    fn delete_bucket(&self, name: &str) -> Result<(), StorageError> {
        let Some(name) = storable(name) else {
            return Err(StorageError::NoSuchBucket);
        };
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let lock = tx
                .prepare_cached("SELECT 1 FROM buckets WHERE name = $1 FOR UPDATE")
                .await?;
            if tx.query_opt(&lock, &[&name]).await?.is_none() {
                return Err(StorageError::NoSuchBucket.into());
            }
            let used = tx
                .prepare_cached(
                    "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = $1)
                         OR EXISTS (SELECT 1 FROM object_versions WHERE bucket = $1)
                         OR EXISTS (SELECT 1 FROM uploads WHERE bucket = $1)",
                )
                .await?;
            if tx.query_one(&used, &[&name]).await?.try_get::<_, bool>(0)? {
                return Err(StorageError::BucketNotEmpty.into());
            }
            let delete = tx
                .prepare_cached("DELETE FROM buckets WHERE name = $1")
                .await?;
            tx.execute(&delete, &[&name]).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn list_buckets(
        &self,
        owner: &str,
        prefix: &str,
        marker: &str,
        max: usize,
    ) -> Result<(Vec<BucketRecord>, bool), StorageError> {
        let (Some(owner), Some(prefix)) = (storable(owner), storable(prefix)) else {
            return Ok((Vec::new(), false));
        };
        self.block(async {
            let c = self.client().await?;
            let start = nul_free(marker).max(prefix);
            let upper = if prefix.is_empty() {
                None
            } else {
                after_prefix(prefix)
            };
            // One more than asked, and one more for the marker itself.
            let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(2);
            let rows = match &upper {
                Some(upper) => {
                    let stmt = c
                        .prepare_cached(
                            "SELECT name, record FROM buckets
                             WHERE owner = $1 AND name >= $2 AND name < $4
                             ORDER BY name LIMIT $3",
                        )
                        .await?;
                    c.query(&stmt, &[&owner, &start, &limit, upper]).await?
                }
                None => {
                    let stmt = c
                        .prepare_cached(
                            "SELECT name, record FROM buckets WHERE owner = $1 AND name >= $2
                             ORDER BY name LIMIT $3",
                        )
                        .await?;
                    c.query(&stmt, &[&owner, &start, &limit]).await?
                }
            };
            let mut out = Vec::new();
            for row in rows {
                let name: &str = row.try_get(0)?;
                // `<=`: a marker with NUL sorts after the row at its NUL-free part.
                if name <= marker || !name.starts_with(prefix) {
                    continue;
                }
                if out.len() == max {
                    return Ok((out, true));
                }
                out.push(decode_col(&row, 1)?);
            }
            Ok((out, false))
        })
    }

    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError> {
        let (Some(bucket), Some(key)) = (storable(bucket), storable(key)) else {
            return Ok(None);
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached("SELECT record FROM objects WHERE bucket = $1 AND key = $2")
                .await?;
            match c.query_opt(&stmt, &[&bucket, &key]).await? {
                Some(row) => Ok(Some(decode_col(&row, 0)?)),
                None => Ok(None),
            }
        })
    }

    fn put_object_with(
        &self,
        bucket: &str,
        key: &str,
        build: &mut dyn FnMut(Option<&ObjectRecord>) -> Result<ObjectRecord, StorageError>,
    ) -> Result<Vec<ObjectRecord>, StorageError> {
        let Some(bucket) = storable(bucket) else {
            return Err(StorageError::NoSuchBucket);
        };
        let key = storable(key)
            .ok_or_else(|| StorageError::Io("an object key cannot hold NUL".into()))?;
        self.block(self.retrying(async |c| {
            let tx = c.transaction().await?;
            lock_key(&tx, bucket, key).await?;
            if !bucket_exists_locked(&tx, bucket).await? {
                return Err(StorageError::NoSuchBucket.into());
            }
            let current = current_object_locked(&tx, bucket, key).await?;
            let record = build(current.as_ref())?;
            let replaced = write_latest(&tx, bucket, key, current, &record).await?;
            tx.commit().await?;
            Ok(replaced)
        }))
    }

    fn delete_object_if(
        &self,
        bucket: &str,
        key: &str,
        condition: &mut dyn FnMut(&ObjectRecord) -> bool,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        let (Some(bucket), Some(key)) = (storable(bucket), storable(key)) else {
            return Ok(None);
        };
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let Some(current) = current_object_locked(&tx, bucket, key).await? else {
                return Ok(None);
            };
            if !condition(&current) {
                return Ok(None);
            }
            let stmt = tx
                .prepare_cached("DELETE FROM objects WHERE bucket = $1 AND key = $2")
                .await?;
            tx.execute(&stmt, &[&bucket, &key]).await?;
            tx.commit().await?;
            Ok(Some(current))
        })
    }

    fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StorageError> {
        let (Some(bucket), Some(prefix)) = (storable(bucket), storable(&query.prefix)) else {
            return Ok(Listing::default());
        };
        let (delimiter, start_after) = (query.delimiter.as_str(), query.start_after.as_str());
        self.block(async {
            let mut c = self.client().await?;
            // One snapshot for every batch, as one read transaction in redb.
            let tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let upper = if prefix.is_empty() {
                None
            } else {
                after_prefix(prefix)
            };
            let mut listing = Listing::default();
            let mut from = Seek::AtOrAfter(nul_free(start_after).max(prefix).to_owned());
            let mut batch = ROLLUP_BATCH;
            let mut count = 0;
            'scan: loop {
                let limit = batch_size(!delimiter.is_empty(), &mut batch, query.max_keys - count);
                let rows = object_rows(&tx, bucket, &from, upper.as_deref(), limit).await?;
                let fetched = rows.len() as i64;
                let mut next = None;
                for row in &rows {
                    let key: &str = row.try_get(0)?;
                    if !key.starts_with(prefix) {
                        break 'scan;
                    }
                    next = Some(Seek::After(key.to_owned(), String::new()));
                    if key <= start_after {
                        continue;
                    }
                    let common = rollup(key, prefix, delimiter);
                    if let Some(common) = common
                        // A prefix at or before the marker was returned on an earlier page.
                        && (common <= start_after
                            || listing.common_prefixes.last().map(String::as_str)
                                == Some(common))
                    {
                        continue;
                    }
                    if count == query.max_keys {
                        listing.truncated = true;
                        break 'scan;
                    }
                    count += 1;
                    match common {
                        Some(common) => {
                            listing.common_prefixes.push(common.to_owned());
                            listing.next_marker = Some(common.to_owned());
                            // Jump past every key under this common prefix.
                            match after_prefix(common) {
                                Some(after) => next = Some(Seek::AtOrAfter(after)),
                                None => break 'scan,
                            }
                            batch = ROLLUP_BATCH;
                            break;
                        }
                        None => {
                            listing.objects.push((key.to_owned(), decode_col(row, 1)?));
                            listing.next_marker = Some(key.to_owned());
                        }
                    }
                }
                let skipped = matches!(next, Some(Seek::AtOrAfter(_)));
                match next {
                    Some(n) if skipped || fetched == limit => from = n,
                    _ => break,
                }
            }
            if !listing.truncated {
                listing.next_marker = None;
            }
            tx.commit().await?;
            Ok(listing)
        })
    }

    fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(version_id))
        else {
            return Ok(None);
        };
        self.block(async {
            let c = self.client().await?;
            // The current version is in `objects`, keyed by key alone.
            let stmt = c
                .prepare_cached(
                    "SELECT record FROM objects WHERE bucket = $1 AND key = $2
                     UNION ALL
                     SELECT record FROM object_versions
                     WHERE bucket = $1 AND key = $2 AND version_id = $3",
                )
                .await?;
            for row in c.query(&stmt, &[&bucket, &key, &id]).await? {
                let record: ObjectRecord = decode_col(&row, 0)?;
                if record.version_label() == id {
                    return Ok(Some(record));
                }
            }
            Ok(None)
        })
    }

    fn update_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        change: &mut dyn FnMut(&ObjectRecord) -> Result<ObjectRecord, StorageError>,
    ) -> Result<ObjectRecord, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(version_id))
        else {
            return Err(StorageError::NoSuchVersion);
        };
        self.block(self.retrying(async |c| {
            let tx = c.transaction().await?;
            lock_key(&tx, bucket, key).await?;
            let record = match current_object_locked(&tx, bucket, key).await? {
                Some(current) if current.version_label() == id => {
                    let record = change(&current)?;
                    store_object(&tx, bucket, key, &record).await?;
                    record
                }
                _ => {
                    let stmt = tx
                        .prepare_cached(
                            "SELECT record FROM object_versions
                             WHERE bucket = $1 AND key = $2 AND version_id = $3",
                        )
                        .await?;
                    let Some(row) = tx.query_opt(&stmt, &[&bucket, &key, &id]).await? else {
                        return Err(StorageError::NoSuchVersion.into());
                    };
                    let record = change(&decode_col(&row, 0)?)?;
                    let stmt = tx
                        .prepare_cached(
                            "UPDATE object_versions SET record = $4
                             WHERE bucket = $1 AND key = $2 AND version_id = $3",
                        )
                        .await?;
                    tx.execute(&stmt, &[&bucket, &key, &id, &encode(&record)?])
                        .await?;
                    record
                }
            };
            tx.commit().await?;
            Ok(record)
        }))
    }

    fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(version_id))
        else {
            return Ok(None);
        };
        self.block(self.retrying(async |c| {
            let tx = c.transaction().await?;
            lock_key(&tx, bucket, key).await?;
            let removed = match current_object_locked(&tx, bucket, key).await? {
                Some(current) if current.version_label() == id => {
                    delete_current(&tx, bucket, key).await?;
                    Some(current)
                }
                _ => unarchive(&tx, bucket, key, id).await?,
            };
            if removed.is_some() {
                promote(&tx, bucket, key).await?;
            }
            tx.commit().await?;
            Ok(removed)
        }))
    }

    fn scan_versions(
        &self,
        bucket: &str,
        from: &VersionSeek,
        limit: usize,
    ) -> Result<Vec<VersionRow>, StorageError> {
        let Some(bucket) = storable(bucket) else {
            return Ok(vec![]);
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let (current_cond, old_cond, key, order) = match from {
            VersionSeek::AtOrAfter(k) => ("key >= $2", ">=", nul_free(k), ""),
            VersionSeek::After { key, order } => ("key > $2", ">", nul_free(key), order.as_str()),
        };
        self.block(async {
            let c = self.client().await?;
            let sql = format!(
                "SELECT key, ord, record FROM (
                   (SELECT key, ''::text COLLATE \"C\" AS ord, record FROM objects
                    WHERE bucket = $1 AND {current_cond}
                    ORDER BY key LIMIT $4)
                   UNION ALL
                   (SELECT key, ord, record FROM object_versions
                    WHERE bucket = $1 AND (key, ord) {old_cond} ($2, $3::text COLLATE \"C\")
                    ORDER BY key, ord LIMIT $4)
                 ) v ORDER BY key, ord LIMIT $4"
            );
            let stmt = c.prepare_cached(&sql).await?;
            c.query(&stmt, &[&bucket, &key, &order, &limit])
                .await?
                .iter()
                .map(|row| {
                    Ok(VersionRow {
                        key: row.try_get(0)?,
                        order: row.try_get(1)?,
                        record: decode_col(row, 2)?,
                    })
                })
                .collect()
        })
    }

    fn create_upload(&self, bucket: &str, upload: &UploadRecord) -> Result<(), StorageError> {
        let Some(bucket) = storable(bucket) else {
            return Err(StorageError::NoSuchBucket);
        };
        let (Some(key), Some(id)) = (storable(&upload.key), storable(&upload.upload_id)) else {
            return Err(StorageError::Io(
                "an object key or upload id cannot hold NUL".into(),
            ));
        };
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            if !bucket_exists_locked(&tx, bucket).await? {
                return Err(StorageError::NoSuchBucket.into());
            }
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO uploads (bucket, key, upload_id, record) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (bucket, key, upload_id) DO UPDATE SET record = excluded.record",
                )
                .await?;
            tx.execute(&stmt, &[&bucket, &key, &id, &encode(upload)?])
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn get_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<UploadRecord>, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(upload_id))
        else {
            return Ok(None);
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT record FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3",
                )
                .await?;
            match c.query_opt(&stmt, &[&bucket, &key, &id]).await? {
                Some(row) => Ok(Some(decode_col(&row, 0)?)),
                None => Ok(None),
            }
        })
    }

    fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        part: &PartRecord,
    ) -> Result<Option<PartRecord>, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(upload_id))
        else {
            return Err(StorageError::NoSuchUpload);
        };
        let number = i64::from(number);
        self.block(async {
            let record = encode(part)?;
            self.retrying(async |c| {
                let tx = c.transaction().await?;
                let upload = tx
                    .prepare_cached(
                        "SELECT 1 FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3
                         FOR KEY SHARE",
                    )
                    .await?;
                if tx
                    .query_opt(&upload, &[&bucket, &key, &id])
                    .await?
                    .is_none()
                {
                    return Err(StorageError::NoSuchUpload.into());
                }
                let current = tx
                    .prepare_cached(
                        "SELECT record FROM parts WHERE upload_id = $1 AND number = $2 FOR UPDATE",
                    )
                    .await?;
                let replaced = match tx.query_opt(&current, &[&id, &number]).await? {
                    Some(row) => {
                        let replaced: PartRecord = decode_col(&row, 0)?;
                        let update = tx
                            .prepare_cached(
                                "UPDATE parts SET record = $3 WHERE upload_id = $1 AND number = $2",
                            )
                            .await?;
                        tx.execute(&update, &[&id, &number, &record]).await?;
                        Some(replaced)
                    }
                    None => {
                        // A concurrent first store of this part makes this fail with a
                        // unique violation; the retry then replaces it.
                        let insert = tx
                            .prepare_cached(
                                "INSERT INTO parts (upload_id, number, record) VALUES ($1, $2, $3)",
                            )
                            .await?;
                        tx.execute(&insert, &[&id, &number, &record]).await?;
                        None
                    }
                };
                tx.commit().await?;
                Ok(replaced)
            })
            .await
        })
    }

    fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> Result<(Vec<(u32, PartRecord)>, bool), StorageError> {
        let Some(id) = storable(upload_id) else {
            return Ok((Vec::new(), false));
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT number, record FROM parts WHERE upload_id = $1 AND number > $2
                     ORDER BY number LIMIT $3",
                )
                .await?;
            let limit = i64::try_from(max).unwrap_or(i64::MAX).saturating_add(1);
            let rows = c.query(&stmt, &[&id, &i64::from(after), &limit]).await?;
            let mut out = Vec::new();
            for row in rows {
                if out.len() == max {
                    return Ok((out, true));
                }
                let number = u32::try_from(row.try_get::<_, i64>(0)?)
                    .map_err(|_| StorageError::Io("corrupt part number".into()))?;
                out.push((number, decode_col(&row, 1)?));
            }
            Ok((out, false))
        })
    }

    fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        build: &mut dyn FnMut(
            &UploadRecord,
            &[(u32, PartRecord)],
            Option<&ObjectRecord>,
        ) -> Result<ObjectRecord, StorageError>,
    ) -> Result<(Vec<ObjectRecord>, Vec<PartRecord>), StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(upload_id))
        else {
            return Err(StorageError::NoSuchUpload);
        };
        self.block(self.retrying(async |c| {
            let tx = c.transaction().await?;
            lock_key(&tx, bucket, key).await?;
            let upload = tx
                .prepare_cached(
                    "SELECT record FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3
                     FOR UPDATE",
                )
                .await?;
            let upload: UploadRecord = match tx.query_opt(&upload, &[&bucket, &key, &id]).await? {
                Some(row) => decode_col(&row, 0)?,
                None => return Err(StorageError::NoSuchUpload.into()),
            };
            // Under the upload's lock no part can be added or replaced any more.
            let parts = tx
                .prepare_cached("DELETE FROM parts WHERE upload_id = $1 RETURNING number, record")
                .await?;
            let mut parts = tx
                .query(&parts, &[&id])
                .await?
                .iter()
                .map(|row| {
                    let number = u32::try_from(row.try_get::<_, i64>(0)?)
                        .map_err(|_| StorageError::Io("corrupt part number".into()))?;
                    Ok((number, decode_col::<PartRecord>(row, 1)?))
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            parts.sort_by_key(|(n, _)| *n);
            let current = current_object_locked(&tx, bucket, key).await?;
            // A refusal drops the transaction, which rolls the deletes back.
            let record = build(&upload, &parts, current.as_ref())?;
            let replaced = write_latest(&tx, bucket, key, current, &record).await?;
            let remove = tx
                .prepare_cached(
                    "DELETE FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3",
                )
                .await?;
            tx.execute(&remove, &[&bucket, &key, &id]).await?;
            tx.commit().await?;
            Ok((replaced, parts.into_iter().map(|(_, p)| p).collect()))
        }))
    }

    fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<PartRecord>, StorageError> {
        let (Some(bucket), Some(key), Some(id)) =
            (storable(bucket), storable(key), storable(upload_id))
        else {
            return Err(StorageError::NoSuchUpload);
        };
        self.block(async {
            let mut c = self.client().await?;
            let tx = c.transaction().await?;
            let lock = tx
                .prepare_cached(
                    "SELECT 1 FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3
                     FOR UPDATE",
                )
                .await?;
            if tx.query_opt(&lock, &[&bucket, &key, &id]).await?.is_none() {
                return Err(StorageError::NoSuchUpload.into());
            }
            let parts = tx
                .prepare_cached(
                    "WITH removed AS (DELETE FROM parts WHERE upload_id = $1 RETURNING number, record)
                     SELECT record FROM removed ORDER BY number",
                )
                .await?;
            let removed = tx
                .query(&parts, &[&id])
                .await?
                .iter()
                .map(|row| decode_col(row, 0))
                .collect::<Result<Vec<PartRecord>, Failure>>()?;
            let remove = tx
                .prepare_cached(
                    "DELETE FROM uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3",
                )
                .await?;
            tx.execute(&remove, &[&bucket, &key, &id]).await?;
            tx.commit().await?;
            Ok(removed)
        })
    }

    fn list_uploads(
        &self,
        bucket: &str,
        query: &UploadQuery,
    ) -> Result<UploadListing, StorageError> {
        let (Some(bucket), Some(prefix)) = (storable(bucket), storable(&query.prefix)) else {
            return Ok(UploadListing::default());
        };
        let delimiter = query.delimiter.as_str();
        let (km, im) = (query.key_marker.as_str(), query.upload_id_marker.as_str());
        self.block(async {
            let mut c = self.client().await?;
            let tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let upper = if prefix.is_empty() {
                None
            } else {
                after_prefix(prefix)
            };
            let mut listing = UploadListing::default();
            let mut from = Seek::AtOrAfter(nul_free(km).max(prefix).to_owned());
            let mut batch = ROLLUP_BATCH;
            let mut count = 0;
            'scan: loop {
                let limit = batch_size(!delimiter.is_empty(), &mut batch, query.max - count);
                let rows = upload_rows(&tx, bucket, &from, upper.as_deref(), limit).await?;
                let fetched = rows.len() as i64;
                let mut next = None;
                for row in &rows {
                    let key: &str = row.try_get(0)?;
                    let id: &str = row.try_get(1)?;
                    if !key.starts_with(prefix) {
                        break 'scan;
                    }
                    next = Some(Seek::After(key.to_owned(), id.to_owned()));
                    // After the key marker: later keys, or the marker key with a later upload id.
                    if !(km.is_empty() || key > km || (key == km && !im.is_empty() && id > im)) {
                        continue;
                    }
                    let common = rollup(key, prefix, delimiter);
                    // A prefix at or before the marker was returned on an earlier page.
                    if let Some(common) = common
                        && (common <= km
                            || listing.common_prefixes.last().map(String::as_str) == Some(common))
                    {
                        continue;
                    }
                    if count == query.max {
                        listing.truncated = true;
                        break 'scan;
                    }
                    count += 1;
                    match common {
                        Some(common) => {
                            listing.common_prefixes.push(common.to_owned());
                            // Every later upload under it rolls up to it again.
                            match after_prefix(common) {
                                Some(after) => next = Some(Seek::AtOrAfter(after)),
                                None => break 'scan,
                            }
                            batch = ROLLUP_BATCH;
                            break;
                        }
                        None => listing.uploads.push(decode_col(row, 2)?),
                    }
                }
                let skipped = matches!(next, Some(Seek::AtOrAfter(_)));
                match next {
                    Some(n) if skipped || fetched == limit => from = n,
                    _ => break,
                }
            }
            tx.commit().await?;
            Ok(listing)
        })
    }

    fn cache_get(&self, key: &str) -> Result<Option<CacheEntry>, StorageError> {
        let Some(key) = storable(key) else {
            return Ok(None);
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT blob, size, content_type, used FROM image_cache WHERE key = $1",
                )
                .await?;
            c.query_opt(&stmt, &[&key])
                .await?
                .map(|row| cache_entry(&row))
                .transpose()
        })
    }

    fn cache_update(
        &self,
        put: Option<(&str, &CacheEntry)>,
        used: &[(String, i64)],
        max_bytes: u64,
    ) -> Result<CacheChange, StorageError> {
        let put = put.and_then(|(key, entry)| Some((storable(key)?, entry)));
        let (keys, times): (Vec<&str>, Vec<i64>) = used
            .iter()
            .filter_map(|(k, at)| Some((storable(k)?, *at)))
            .unzip();
        let max = i64::try_from(max_bytes).unwrap_or(i64::MAX);
        self.block(self.retrying(async |c| {
            let tx = c.transaction().await?;
            // The counter's row lock orders every change to the cache.
            let counter = tx
                .prepare_cached(
                    "SELECT value FROM counters WHERE name = 'image_cache_bytes' FOR UPDATE",
                )
                .await?;
            let mut total: i64 = tx.query_one(&counter, &[]).await?.try_get(0)?;
            let mut change = CacheChange::default();
            if !keys.is_empty() {
                let touch = tx
                    .prepare_cached(
                        "UPDATE image_cache AS c SET used = t.used
                         FROM unnest($1::text[], $2::bigint[]) AS t (key, used)
                         WHERE c.key = t.key AND c.used < t.used",
                    )
                    .await?;
                tx.execute(&touch, &[&keys, &times]).await?;
            }
            match put {
                Some((_, entry)) if entry.size > max_bytes => {
                    change.unused.push(entry.blob.clone())
                }
                Some((key, entry)) => {
                    let remove = tx
                        .prepare_cached(
                            "DELETE FROM image_cache WHERE key = $1 RETURNING blob, size",
                        )
                        .await?;
                    if let Some(old) = tx.query_opt(&remove, &[&key]).await? {
                        change.unused.push(BlobId(old.try_get(0)?));
                        total -= old.try_get::<_, i64>(1)?;
                    }
                    let insert = tx
                        .prepare_cached(
                            "INSERT INTO image_cache (key, blob, size, content_type, used)
                             VALUES ($1, $2, $3, $4, $5)",
                        )
                        .await?;
                    let size = to_i64(entry.size)?;
                    tx.execute(
                        &insert,
                        &[&key, &entry.blob.0, &size, &entry.content_type, &entry.used],
                    )
                    .await?;
                    total += size;
                }
                None => {}
            }
            if total > max {
                let oldest = tx
                    .prepare_cached(
                        "SELECT key, blob, size FROM image_cache ORDER BY used, key LIMIT 64",
                    )
                    .await?;
                let remove = tx
                    .prepare_cached("DELETE FROM image_cache WHERE key = ANY($1)")
                    .await?;
                while total > max {
                    let rows = tx.query(&oldest, &[]).await?;
                    if rows.is_empty() {
                        break;
                    }
                    let mut gone = Vec::new();
                    for row in &rows {
                        if total <= max {
                            break;
                        }
                        gone.push(row.try_get::<_, String>(0)?);
                        change.unused.push(BlobId(row.try_get(1)?));
                        total -= row.try_get::<_, i64>(2)?;
                    }
                    tx.execute(&remove, &[&gone]).await?;
                }
            }
            total = total.max(0);
            let store = tx
                .prepare_cached("UPDATE counters SET value = $1 WHERE name = 'image_cache_bytes'")
                .await?;
            tx.execute(&store, &[&total]).await?;
            tx.commit().await?;
            change.total = total as u64;
            Ok(change)
        }))
    }

    fn all_buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached("SELECT record FROM buckets ORDER BY name")
                .await?;
            c.query(&stmt, &[])
                .await?
                .iter()
                .map(|row| decode_col(row, 0))
                .collect()
        })
    }

    fn bucket_stat(&self, bucket: &str) -> Result<BucketStat, StorageError> {
        let Some(bucket) = storable(bucket) else {
            return Ok(BucketStat::default());
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "SELECT o.storage, o.count, o.newest, u.count, p.count
                     FROM (SELECT coalesce(sum(size), 0)::bigint AS storage, count(*) AS count,
                                  greatest(coalesce(max(last_modified), 0), 0) AS newest
                           FROM objects WHERE bucket = $1) o,
                          (SELECT count(*) AS count FROM uploads WHERE bucket = $1) u,
                          (SELECT count(*) AS count FROM parts
                           JOIN uploads USING (upload_id) WHERE uploads.bucket = $1) p",
                )
                .await?;
            let row = c.query_one(&stmt, &[&bucket]).await?;
            let count = |i| -> Result<u64, Failure> {
                u64::try_from(row.try_get::<_, i64>(i)?)
                    .map_err(|_| StorageError::Io("negative count".into()).into())
            };
            Ok(BucketStat {
                storage: count(0)?,
                object_count: count(1)?,
                last_modified: row.try_get(2)?,
                multipart_upload_count: count(3)?,
                multipart_part_count: count(4)?,
            })
        })
    }

    fn referenced_blobs(&self) -> Result<Vec<BlobId>, StorageError> {
        self.block(async {
            let mut c = self.client().await?;
            let tx = c
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let mut out = Vec::new();
            // Streamed: a sweep reads every record once, and need not hold them all.
            for table in ["objects", "object_versions"] {
                let objects = tx
                    .prepare_cached(&format!("SELECT record FROM {table}"))
                    .await?;
                let rows = tx.query_raw(&objects, NO_PARAMS).await?;
                let mut rows = std::pin::pin!(rows);
                while let Some(row) = rows.try_next().await? {
                    let record: ObjectRecord = decode_col(&row, 0)?;
                    out.extend(record.blobs().cloned());
                }
            }
            let parts = tx.prepare_cached("SELECT record FROM parts").await?;
            let rows = tx.query_raw(&parts, NO_PARAMS).await?;
            let mut rows = std::pin::pin!(rows);
            while let Some(row) = rows.try_next().await? {
                out.push(decode_col::<PartRecord>(&row, 0)?.blob);
            }
            let cache = tx.prepare_cached("SELECT blob FROM image_cache").await?;
            for row in tx.query(&cache, &[]).await? {
                out.push(BlobId(row.try_get(0)?));
            }
            tx.commit().await?;
            Ok(out)
        })
    }

    // LAZY_COMMIT: lease statements turn `synchronous_commit` off for their own
    // transaction (`set_config(.., true)`, read in a CTE the statement uses). A lease
    // that a database crash loses is one that lapsed early: another node may run a job
    // or a render once more, which is harmless (each deletion re-checks its condition,
    // renders are idempotent). On a cache miss this takes 0.23-0.5 ms instead of
    // 0.7-1.3 ms with fsync on (docs/benchmarks.md).
    fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StorageError> {
        let (Some(name), Some(holder)) = (storable(name), storable(holder)) else {
            return Err(StorageError::Io(
                "a lease name or holder cannot hold NUL".into(),
            ));
        };
        self.block(async {
            let c = self.client().await?;
            // The database's clock decides, so node clocks need not agree. A lease
            // needs no flush of the WAL before the answer (`LAZY_COMMIT`).
            let stmt = c
                .prepare_cached(
                    "WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true))
                     INSERT INTO leases AS l (name, holder, expires_at)
                     SELECT $1, $2, now() + $3::bigint * interval '1 millisecond' FROM lazy
                     ON CONFLICT (name) DO UPDATE
                     SET holder = excluded.holder, expires_at = excluded.expires_at
                     WHERE l.holder = excluded.holder OR l.expires_at <= now()
                     RETURNING 1",
                )
                .await?;
            Ok(c.query_opt(&stmt, &[&name, &holder, &ttl_ms])
                .await?
                .is_some())
        })
    }

    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StorageError> {
        let (Some(name), Some(holder)) = (storable(name), storable(holder)) else {
            return Ok(());
        };
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached(
                    "WITH lazy AS (SELECT set_config('synchronous_commit', 'off', true))
                     DELETE FROM leases USING lazy WHERE name = $1 AND holder = $2",
                )
                .await?;
            c.execute(&stmt, &[&name, &holder]).await?;
            Ok(())
        })
    }

    fn purge_leases(&self) -> Result<u64, StorageError> {
        self.block(async {
            let c = self.client().await?;
            let stmt = c
                .prepare_cached("DELETE FROM leases WHERE expires_at <= now()")
                .await?;
            Ok(c.execute(&stmt, &[]).await?)
        })
    }

    fn probe(&self) -> Result<(), StorageError> {
        self.block(async {
            let c = self.client().await?;
            // A lease nobody holds: writing it proves the database takes writes.
            let stmt = c
                .prepare_cached(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ('-probe', '', now())
                     ON CONFLICT (name) DO UPDATE SET expires_at = excluded.expires_at",
                )
                .await?;
            c.execute(&stmt, &[]).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    //! PgMeta's own concerns; the MetaStore contract is checked in `meta_conformance`.

    use super::*;
    use crate::storage::meta_conformance::pg;

    #[test]
    fn bounds_of_names() {
        assert_eq!(after_prefix("a/").as_deref(), Some("a0"));
        assert_eq!(after_prefix("a\u{D7FF}").as_deref(), Some("a\u{E000}"));
        assert_eq!(after_prefix("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(after_prefix("\u{10FFFF}\u{10FFFF}"), None);
        assert_eq!(nul_free("ab\0c"), "ab");
        assert_eq!(nul_free("ab"), "ab");
        assert_eq!(storable("a\0"), None);
        let mut batch = ROLLUP_BATCH;
        assert_eq!(batch_size(false, &mut batch, 1000), 1001);
        assert_eq!(batch_size(true, &mut batch, 1000), ROLLUP_BATCH);
        assert_eq!(batch_size(true, &mut batch, 1000), 2 * ROLLUP_BATCH);
        assert_eq!(batch_size(true, &mut batch, 3), 4);
        assert_eq!(batch_size(false, &mut batch, usize::MAX), i64::MAX);
    }

    async fn open_error(url: &str) -> String {
        match PgMeta::open(url, DEFAULT_POOL_SIZE).await {
            Ok(_) => panic!("{url} opened"),
            Err(e) => e.to_string(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn open_errors_say_what_to_fix_without_the_password() {
        let e = open_error("postgres://u:s3cret@127.0.0.1:notaport/db").await;
        assert!(
            e.starts_with("storage.metadata: not a valid PostgreSQL URL"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = open_error(&format!("postgres://u:s3cret@127.0.0.1:{port}/db")).await;
        assert_eq!(
            e,
            format!(
                "storage.metadata: cannot connect to 127.0.0.1:{port}: connection refused \
                 (is PostgreSQL running and listening there?)"
            )
        );

        let Some(admin) = pg::admin_url() else { return };
        let config = tokio_postgres::Config::from_str(&admin).unwrap();
        let user = config.get_user().unwrap().to_owned();
        let target = connect_target(&config);
        let wrong = admin.replacen(&format!("{user}:"), &format!("{user}:wrong-s3cret"), 1);
        let e = open_error(&wrong).await;
        assert_eq!(
            e,
            format!(
                "storage.metadata: password authentication failed for user \"{user}\" at {target}: check the user and password"
            )
        );
        let e = open_error(&pg::with_database(&admin, "ossify_no_such_db")).await;
        assert!(
            e.starts_with(&format!(
                "storage.metadata: database \"ossify_no_such_db\" does not exist at {target}: create it, e.g. with `createdb -h "
            )),
            "{e}"
        );
        for e in [e, open_error(&wrong).await] {
            assert!(!e.contains("s3cret") && !e.contains("wrong-"), "{e}");
            let password = std::str::from_utf8(config.get_password().unwrap()).unwrap();
            assert!(!e.contains(password), "the password leaked: {e}");
        }
    }

    /// Migrations: nodes starting together, a restart, and a database from the future.
    #[test]
    fn migrations_run_once_and_refuse_a_newer_schema() {
        let Some(admin) = pg::admin_url() else { return };
        let db = pg::Database::create(admin.clone());
        let url = db.url.clone();
        let opened = db.runtime.block_on(async {
            let starts: Vec<_> = (0..4)
                .map(|_| {
                    let url = url.clone();
                    tokio::spawn(async move { PgMeta::open(&url, DEFAULT_POOL_SIZE).await })
                })
                .collect();
            let mut opened = Vec::new();
            for s in starts {
                opened.push(s.await.unwrap().unwrap());
            }
            opened
        });
        // A second application would have failed on ossify_schema's primary key.
        drop(opened);
        db.runtime
            .block_on(PgMeta::open(&db.url, DEFAULT_POOL_SIZE))
            .unwrap();
        let newer = format!(
            "INSERT INTO ossify_schema (version) VALUES ({})",
            MIGRATIONS.len() + 1
        );
        db.runtime.block_on(pg::admin_sql(&db.url, &newer)).unwrap();
        let e = match db
            .runtime
            .block_on(PgMeta::open(&db.url, DEFAULT_POOL_SIZE))
        {
            Ok(_) => panic!("a newer schema was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains(&format!(
                "the database has schema version {}, newer than this ossify knows ({})",
                MIGRATIONS.len() + 1,
                MIGRATIONS.len()
            )),
            "{e}"
        );
    }

    /// A CA certificate of its own, made with openssl, that signed nothing.
    fn other_ca(dir: &std::path::Path) -> String {
        let cert = dir.join("other-ca.crt");
        let made = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"])
            .args(["-subj", "/CN=not the test CA", "-keyout"])
            .arg(dir.join("other-ca.key"))
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success(), "{made:?}");
        cert.display().to_string()
    }

    /// sslmode=verify-full with the test server's CA connects over TLS; a CA that did
    /// not sign its certificate, or a host the certificate does not name, fails at
    /// start-up naming `storage.metadata` and the cause; verify-ca ignores the name.
    #[test]
    fn tls_verifies_the_server_certificate() {
        let Some(admin) = pg::admin_url() else { return };
        let Some(ca) = pg::tls_ca() else { return };
        let db = pg::Database::create(admin);
        let url = |params: String| format!("{}?{params}", db.url);
        let meta = db
            .runtime
            .block_on(PgMeta::open(
                &url(format!("sslmode=verify-full&sslrootcert={ca}")),
                DEFAULT_POOL_SIZE,
            ))
            .unwrap();
        let encrypted: bool = db.runtime.block_on(async {
            let client = meta.client().await.ok().unwrap();
            let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
            client.query_one(sql, &[]).await.unwrap().get(0)
        });
        assert!(encrypted, "the pooled connection is not encrypted");
        assert_eq!(meta.get_bucket("b"), Ok(None));

        let dir = tempfile::tempdir().unwrap();
        let other = other_ca(dir.path());
        let config = tokio_postgres::Config::from_str(&db.url).unwrap();
        let target = connect_target(&config);
        let hint = "(check that sslrootcert names the CA that signed the server's certificate, \
                    and for sslmode=verify-full that the certificate names the host of the URL)";
        for mode in ["verify-full", "verify-ca", "require"] {
            let e = db.runtime.block_on(open_error(&url(format!(
                "sslmode={mode}&sslrootcert={other}"
            ))));
            assert_eq!(
                e,
                format!(
                    "storage.metadata: cannot connect to {target}: TLS handshake failed: \
                     invalid peer certificate: UnknownIssuer {hint}"
                ),
                "{mode}"
            );
        }

        // A host name the certificate does not name, at the server's address.
        let port = config.get_ports()[0];
        let elsewhere = db
            .url
            .replacen(&target, &format!("ossify-test.invalid:{port}"), 1);
        let elsewhere =
            |mode: &str| format!("{elsewhere}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={ca}");
        let e = db.runtime.block_on(open_error(&elsewhere("verify-full")));
        assert!(
            e.starts_with(&format!(
                "storage.metadata: cannot connect to ossify-test.invalid:{port}: TLS handshake failed: invalid peer certificate: certificate not valid for name"
            )),
            "{e}"
        );
        db.runtime
            .block_on(PgMeta::open(&elsewhere("verify-ca"), DEFAULT_POOL_SIZE))
            .unwrap();
    }

    /// Connections the server dropped fail a call with an I/O error, never a panic,
    /// and the pool replaces them.
    #[test]
    fn lost_connections_are_errors_then_replaced() {
        let Some(admin) = pg::admin_url() else { return };
        let db = pg::Database::create(admin.clone());
        // storage.metadata_pool_size connections at most.
        let meta = db.runtime.block_on(PgMeta::open(&db.url, 3)).unwrap();
        assert_eq!(meta.pool.status().max_size, 3);
        assert_eq!(meta.get_bucket("b"), Ok(None));
        let kill = format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{}' AND pid <> pg_backend_pid()",
            db.name
        );
        db.runtime.block_on(pg::admin_sql(&admin, &kill)).unwrap();
        match meta.get_bucket("b") {
            Ok(None) => {}
            Err(StorageError::Io(message)) => {
                assert!(
                    message.starts_with("metadata database (PostgreSQL): "),
                    "{message}"
                )
            }
            other => panic!("{other:?}"),
        }
        let recovered = (0..50).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            meta.get_bucket("b") == Ok(None)
        });
        assert!(recovered, "the pool did not reconnect");
    }
}
