//! The default metadata engine: redb, an embedded transactional B-tree database.
//! Objects are keyed by `(bucket, key)`, so listings are ordered range scans.
//!
//! After an I/O error in a commit (a full disk, typically) redb refuses every later
//! operation with `PreviousIo` until the database is closed and reopened, which repairs
//! it. So an operation that fails that way reopens the database and runs once more; a
//! "no space left" error first releases the [`SpaceReserve`], which gives that second
//! run the room a delete or a small metadata change needs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use std::ops::Bound;

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};

use super::Stored;
use super::reserve::is_storage_full;
use super::{
    AccountConfig, BlobId, BucketRecord, BucketStat, CacheChange, CacheEntry, Created, ListQuery,
    Listing, MetaStore, NULL_VERSION, ObjectRecord, PartRecord, SpaceReserve, StorageError,
    UploadListing, UploadQuery, UploadRecord, VersionRow, VersionSeek, after_prefix,
};

const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
/// Account id → its settings ([`AccountConfig`]).
const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
/// (bucket, key) → the current version (never a delete marker).
const OBJECTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("objects");
/// (bucket, key, order) → a noncurrent version or a delete marker, newest first
/// (see [`ObjectRecord::version_order`]).
const VERSIONS: TableDefinition<(&str, &str, &str), &[u8]> = TableDefinition::new("versions");
/// (bucket, key, version id) → the order of a version in [`VERSIONS`].
const VERSION_ORDERS: TableDefinition<(&str, &str, &str), &str> =
    TableDefinition::new("version_orders");
/// (bucket, key, upload id) → upload record.
const UPLOADS: TableDefinition<(&str, &str, &str), &[u8]> = TableDefinition::new("uploads");
/// (upload id, part number) → part record.
const PARTS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("parts");
/// Result-cache key → entry.
const CACHE: TableDefinition<&str, &[u8]> = TableDefinition::new("image_cache");
/// (last use, key): the result cache in eviction order.
const CACHE_USE: TableDefinition<(i64, &str), ()> = TableDefinition::new("image_cache_use");
/// Named totals kept with the records they sum (`image_cache_bytes`).
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
const CACHE_BYTES: &str = "image_cache_bytes";

pub struct RedbMeta {
    path: PathBuf,
    db: RwLock<Opened>,
    space: Arc<SpaceReserve>,
    /// Some account has stored settings: until then `get_bucket` need not look (this
    /// process is the database's only user).
    accounts_stored: AtomicBool,
    /// Decoded bucket records (with their account settings): every request reads one,
    /// and decoding it cost more than the rest of a small GET's metadata work.
    buckets: BucketCache,
    /// Object writes commit without a sync and then wait for one that covers them.
    group: GroupCommit,
}

/// Group commit of object writes. Each commits without a sync (redb's
/// `Durability::None`: visible at once, persisted by the next durable commit), counts
/// itself in `committed` (under the database's read lock, so that no reopen falls
/// between the two), and returns only once a durable commit made after it has ended.
/// A writer that finds none makes one, an empty durable transaction, holding `leader`
/// meanwhile; most writers queued behind it are covered by it when they get there, so
/// concurrent writers share one sync instead of paying one each.
///
/// A reopen (after an I/O error) drops the commits no durable commit had persisted:
/// their writers fail, though their records were visible for a moment.
#[derive(Default)]
struct GroupCommit {
    committed: AtomicU64,
    /// How many commits the last durable commit covered.
    synced: AtomicU64,
    leader: Mutex<()>,
    /// The commits each reopen dropped, as `(synced, committed]` at the time.
    lost: Mutex<Vec<(u64, u64)>>,
}

impl GroupCommit {
    fn was_lost(&self, mine: u64) -> bool {
        let lost = self.lost.lock().unwrap_or_else(PoisonError::into_inner);
        lost.iter()
            .any(|&(after, upto)| mine > after && mine <= upto)
    }
}

/// Bucket records as of the last commit that changed a bucket or an account. A reader
/// that began before such a commit must not fill the cache after it: each change bumps
/// the generation, and a record read under an older generation is not kept.
#[derive(Default)]
struct BucketCache(Mutex<(u64, HashMap<String, BucketRecord>)>);

impl BucketCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, BucketRecord>)> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached record, or the generation to give [`Self::keep`] after reading it.
    fn get(&self, name: &str) -> Result<BucketRecord, u64> {
        let cache = self.lock();
        cache.1.get(name).cloned().ok_or(cache.0)
    }

    fn keep(&self, generation: u64, bucket: &BucketRecord) {
        let mut cache = self.lock();
        if cache.0 == generation {
            cache.1.insert(bucket.name.to_string(), bucket.clone());
        }
    }

    /// Called after every write to the buckets or accounts tables, committed or not.
    fn changed(&self) {
        let mut cache = self.lock();
        cache.0 += 1;
        cache.1.clear();
    }
}

/// The open database (None after a reopen failed) and how many times it was reopened.
struct Opened {
    db: Option<Database>,
    generation: u64,
}

/// What an operation does to the database: while the disk is full only reads and
/// deletions run, so that the reserve stays available to free space.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Delete,
    Write,
}

/// Why one run of an operation failed: its own answer, or the database.
enum Failure {
    Answer(StorageError),
    Db(redb::Error),
}

impl From<StorageError> for Failure {
    fn from(e: StorageError) -> Self {
        Self::Answer(e)
    }
}

fn db_err(e: impl Into<redb::Error>) -> Failure {
    Failure::Db(e.into())
}

/// The database may be usable again once closed and reopened.
fn needs_reopen(e: &redb::Error) -> bool {
    matches!(
        e,
        redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed
    )
}

fn is_full(e: &redb::Error) -> bool {
    matches!(e, redb::Error::Io(io) if is_storage_full(io))
}

fn storage_error(e: &redb::Error) -> StorageError {
    if is_full(e) {
        StorageError::InsufficientStorage
    } else {
        StorageError::Io(e.to_string())
    }
}

fn encode<T: Stored>(value: &T) -> Vec<u8> {
    value.to_stored().expect("records serialize")
}

fn decode<T: Stored>(bytes: &[u8]) -> Result<T, StorageError> {
    T::from_stored(bytes).map_err(|e| StorageError::Io(format!("corrupt record: {e}")))
}

fn open_db(path: &Path) -> Result<Database, redb::Error> {
    let db = Database::create(path)?;
    let txn = db.begin_write()?;
    txn.open_table(BUCKETS)?;
    txn.open_table(ACCOUNTS)?;
    txn.open_table(OBJECTS)?;
    txn.open_table(VERSIONS)?;
    txn.open_table(VERSION_ORDERS)?;
    txn.open_table(UPLOADS)?;
    txn.open_table(PARTS)?;
    txn.open_table(CACHE)?;
    txn.open_table(CACHE_USE)?;
    txn.open_table(COUNTERS)?;
    txn.commit()?;
    Ok(db)
}

impl RedbMeta {
    pub fn open(path: &Path, space: Arc<SpaceReserve>) -> Result<Self, StorageError> {
        let db = open_db(path).map_err(|e| StorageError::Io(e.to_string()))?;
        let accounts_stored = (|| -> Result<bool, redb::Error> {
            let txn = db.begin_read()?;
            Ok(!txn.open_table(ACCOUNTS)?.is_empty()?)
        })()
        .map_err(|e| StorageError::Io(e.to_string()))?;
        Ok(Self {
            path: path.to_owned(),
            db: RwLock::new(Opened {
                db: Some(db),
                generation: 0,
            }),
            space,
            accounts_stored: AtomicBool::new(accounts_stored),
            buckets: BucketCache::default(),
            group: GroupCommit::default(),
        })
    }

    /// Run `op` on the database; after a failure that reopening may cure, reopen
    /// and run it once more.
    fn run<T>(
        &self,
        kind: Kind,
        mut op: impl FnMut(&Database) -> Result<T, Failure>,
    ) -> Result<T, StorageError> {
        let mut again = true;
        loop {
            if kind == Kind::Write && self.space.is_full() {
                self.space.admit_write()?;
            }
            let (generation, result) = {
                let opened = self.db.read().unwrap_or_else(PoisonError::into_inner);
                let result = match &opened.db {
                    Some(db) => op(db),
                    None => Err(Failure::Db(redb::Error::DatabaseClosed)),
                };
                (opened.generation, result)
            };
            let e = match result {
                Ok(value) => return Ok(value),
                Err(Failure::Answer(e)) => return Err(e),
                Err(Failure::Db(e)) => e,
            };
            if !(self.recover(&e, generation) && again) {
                return Err(storage_error(&e));
            }
            again = false;
        }
    }

    /// Return once a durable commit covers the `mine`-th commit of [`GroupCommit`].
    fn wait_durable(&self, mine: u64) -> Result<(), StorageError> {
        let group = &self.group;
        let _leader = group.leader.lock().unwrap_or_else(PoisonError::into_inner);
        // No reopen while the read lock is held: the lost commits are known, and every
        // commit counted by now that was not lost is in this database, so the durable
        // commit persists it.
        let opened = self.db.read().unwrap_or_else(PoisonError::into_inner);
        if group.was_lost(mine) {
            return Err(StorageError::Io(
                "the metadata database was reopened after an I/O error before this write \
                 was persisted; retry it"
                    .into(),
            ));
        }
        if group.synced.load(Ordering::Acquire) >= mine {
            return Ok(());
        }
        let covers = group.committed.load(Ordering::Acquire);
        let db = opened
            .db
            .as_ref()
            .ok_or_else(|| StorageError::Io(redb::Error::DatabaseClosed.to_string()))?;
        let synced = (|| -> Result<(), redb::Error> { Ok(db.begin_write()?.commit()?) })();
        if let Err(e) = synced {
            // As `run` does, except that this write is not run again: a reopen drops it.
            let generation = opened.generation;
            drop(opened);
            self.recover(&e, generation);
            return Err(storage_error(&e));
        }
        group.synced.store(covers, Ordering::Release);
        Ok(())
    }

    /// After a database error: note a full disk, and reopen the database when that may
    /// cure it (true then).
    fn recover(&self, e: &redb::Error, generation: u64) -> bool {
        if is_full(e) {
            self.space.note_full();
        }
        let reopen = needs_reopen(e);
        if reopen {
            self.reopen(generation);
        }
        reopen
    }

    /// Close and reopen the database, unless another thread already did since `seen`.
    fn reopen(&self, seen: u64) {
        let mut opened = self.db.write().unwrap_or_else(PoisonError::into_inner);
        if opened.generation != seen {
            return;
        }
        opened.generation += 1;
        let (synced, committed) = (
            self.group.synced.load(Ordering::Acquire),
            self.group.committed.load(Ordering::Acquire),
        );
        if committed > synced {
            let mut lost = self
                .group
                .lost
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            lost.push((synced, committed));
        }
        if let Some(db) = opened.db.take()
            && let Err(e) = db.close()
        {
            tracing::warn!("closing the metadata database after an I/O error: {e}");
        }
        match open_db(&self.path) {
            Ok(db) => {
                tracing::info!("reopened the metadata database after an I/O error");
                opened.db = Some(db);
            }
            Err(e) => {
                if is_full(&e) {
                    self.space.note_full();
                }
                tracing::error!("cannot reopen the metadata database: {e}");
            }
        }
    }
}

/// The current version of `key`, in a write transaction.
fn current_in(
    txn: &WriteTransaction,
    bucket: &str,
    key: &str,
) -> Result<Option<ObjectRecord>, Failure> {
    let objects = txn.open_table(OBJECTS).map_err(db_err)?;
    let current = match objects.get((bucket, key)).map_err(db_err)? {
        Some(v) => Some(decode::<ObjectRecord>(v.value())?),
        None => None,
    };
    Ok(current)
}

/// Keep `record` as a noncurrent version (or delete marker) of `key`.
fn archive(
    txn: &WriteTransaction,
    bucket: &str,
    key: &str,
    record: &ObjectRecord,
) -> Result<(), Failure> {
    let order = record.version_order();
    let mut versions = txn.open_table(VERSIONS).map_err(db_err)?;
    versions
        .insert((bucket, key, order.as_str()), encode(record).as_slice())
        .map_err(db_err)?;
    let mut orders = txn.open_table(VERSION_ORDERS).map_err(db_err)?;
    orders
        .insert((bucket, key, record.version_label()), order.as_str())
        .map_err(db_err)?;
    Ok(())
}

/// The order of noncurrent version `label` of `key`.
fn archived_order(
    txn: &WriteTransaction,
    bucket: &str,
    key: &str,
    label: &str,
) -> Result<Option<String>, Failure> {
    let orders = txn.open_table(VERSION_ORDERS).map_err(db_err)?;
    let order = orders
        .get((bucket, key, label))
        .map_err(db_err)?
        .map(|v| v.value().to_owned());
    Ok(order)
}

/// Remove noncurrent version `label` of `key`; returns it.
fn unarchive(
    txn: &WriteTransaction,
    bucket: &str,
    key: &str,
    label: &str,
) -> Result<Option<ObjectRecord>, Failure> {
    let Some(order) = archived_order(txn, bucket, key, label)? else {
        return Ok(None);
    };
    txn.open_table(VERSION_ORDERS)
        .map_err(db_err)?
        .remove((bucket, key, label))
        .map_err(db_err)?;
    let mut versions = txn.open_table(VERSIONS).map_err(db_err)?;
    let removed = match versions
        .remove((bucket, key, order.as_str()))
        .map_err(db_err)?
    {
        Some(v) => Some(decode(v.value())?),
        None => None,
    };
    Ok(removed)
}

/// Store `record` as the latest version of `key` over `current`, as
/// [`MetaStore::put_object_with`] says; returns the replaced records.
fn write_latest(
    txn: &WriteTransaction,
    bucket: &str,
    key: &str,
    current: Option<ObjectRecord>,
    record: &ObjectRecord,
) -> Result<Vec<ObjectRecord>, Failure> {
    let mut replaced = Vec::new();
    if record.version_id.as_deref() == Some(NULL_VERSION) {
        replaced.extend(unarchive(txn, bucket, key, NULL_VERSION)?);
    }
    if let Some(current) = current {
        if current.archived_by(record) {
            archive(txn, bucket, key, &current)?;
        } else {
            replaced.push(current);
        }
    }
    let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
    if record.delete_marker {
        objects.remove((bucket, key)).map_err(db_err)?;
        drop(objects);
        archive(txn, bucket, key, record)?;
    } else {
        objects
            .insert((bucket, key), encode(record).as_slice())
            .map_err(db_err)?;
    }
    Ok(replaced)
}

/// With no current version of `key` left, make the newest noncurrent one current,
/// unless it is a delete marker.
fn promote(txn: &WriteTransaction, bucket: &str, key: &str) -> Result<(), Failure> {
    if current_in(txn, bucket, key)?.is_some() {
        return Ok(());
    }
    let newest: Option<ObjectRecord> = {
        let versions = txn.open_table(VERSIONS).map_err(db_err)?;
        let mut range = versions.range((bucket, key, "")..).map_err(db_err)?;
        match range.next() {
            Some(entry) => {
                let (k, v) = entry.map_err(db_err)?;
                let (b, k, _) = k.value();
                if b == bucket && k == key {
                    Some(decode(v.value())?)
                } else {
                    None
                }
            }
            None => None,
        }
    };
    if let Some(newest) = newest.filter(|n| !n.delete_marker) {
        unarchive(txn, bucket, key, newest.version_label())?;
        txn.open_table(OBJECTS)
            .map_err(db_err)?
            .insert((bucket, key), encode(&newest).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

/// Marks the bucket cache changed when a write to buckets or accounts ends, however
/// it ends.
struct BucketsChanged<'a>(&'a BucketCache);

impl Drop for BucketsChanged<'_> {
    fn drop(&mut self) {
        self.0.changed();
    }
}

impl MetaStore for RedbMeta {
    fn cheap_reads(&self) -> bool {
        true
    }

    fn create_bucket(&self, bucket: &BucketRecord) -> Result<Created, StorageError> {
        let _changed = BucketsChanged(&self.buckets);
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let existing = {
                let mut table = txn.open_table(BUCKETS).map_err(db_err)?;
                let existing = match table.get(bucket.name.as_str()).map_err(db_err)? {
                    Some(v) => Some(decode::<BucketRecord>(v.value())?),
                    None => None,
                };
                if existing.is_none() {
                    table
                        .insert(bucket.name.as_str(), encode(bucket).as_slice())
                        .map_err(db_err)?;
                }
                existing
            };
            txn.commit().map_err(db_err)?;
            Ok(existing.map_or(Created::New, |e| Created::Existing(Box::new(e))))
        })
    }

    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError> {
        let generation = match self.buckets.get(name) {
            Ok(bucket) => return Ok(Some(bucket)),
            Err(generation) => generation,
        };
        let bucket = self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(BUCKETS).map_err(db_err)?;
            let Some(v) = table.get(name).map_err(db_err)? else {
                return Ok(None);
            };
            let mut bucket: BucketRecord = decode(v.value())?;
            if self.accounts_stored.load(Ordering::Acquire) {
                let accounts = txn.open_table(ACCOUNTS).map_err(db_err)?;
                if let Some(a) = accounts.get(bucket.owner.as_str()).map_err(db_err)? {
                    bucket.account = decode(a.value())?;
                }
            }
            Ok(Some(bucket))
        })?;
        if let Some(bucket) = &bucket {
            self.buckets.keep(generation, bucket);
        }
        Ok(bucket)
    }

    fn get_account_config(&self, account: &str) -> Result<AccountConfig, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(ACCOUNTS).map_err(db_err)?;
            match table.get(account).map_err(db_err)? {
                Some(v) => Ok(decode(v.value())?),
                None => Ok(AccountConfig::default()),
            }
        })
    }

    fn put_account_config(
        &self,
        account: &str,
        config: &AccountConfig,
    ) -> Result<(), StorageError> {
        let _changed = BucketsChanged(&self.buckets);
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            txn.open_table(ACCOUNTS)
                .map_err(db_err)?
                .insert(account, encode(config).as_slice())
                .map_err(db_err)?;
            txn.commit().map_err(db_err)?;
            self.accounts_stored.store(true, Ordering::Release);
            Ok(())
        })
    }

    fn update_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError> {
        let _changed = BucketsChanged(&self.buckets);
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut table = txn.open_table(BUCKETS).map_err(db_err)?;
                if table.get(bucket.name.as_str()).map_err(db_err)?.is_none() {
                    return Err(StorageError::NoSuchBucket.into());
                }
                table
                    .insert(bucket.name.as_str(), encode(bucket).as_slice())
                    .map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
    }

    fn delete_bucket(&self, name: &str) -> Result<(), StorageError> {
        let _changed = BucketsChanged(&self.buckets);
        self.run(Kind::Delete, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let objects = txn.open_table(OBJECTS).map_err(db_err)?;
                let mut range = objects.range((name, "")..).map_err(db_err)?;
                if let Some(entry) = range.next() {
                    let (k, _) = entry.map_err(db_err)?;
                    if k.value().0 == name {
                        return Err(StorageError::BucketNotEmpty.into());
                    }
                }
                let versions = txn.open_table(VERSIONS).map_err(db_err)?;
                if let Some(entry) = versions.range((name, "", "")..).map_err(db_err)?.next() {
                    let (k, _) = entry.map_err(db_err)?;
                    if k.value().0 == name {
                        return Err(StorageError::BucketNotEmpty.into());
                    }
                }
                let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
                if let Some(entry) = uploads.range((name, "", "")..).map_err(db_err)?.next() {
                    let (k, _) = entry.map_err(db_err)?;
                    if k.value().0 == name {
                        return Err(StorageError::BucketNotEmpty.into());
                    }
                }
                let mut buckets = txn.open_table(BUCKETS).map_err(db_err)?;
                if buckets.remove(name).map_err(db_err)?.is_none() {
                    return Err(StorageError::NoSuchBucket.into());
                }
            }
            txn.commit().map_err(db_err)
        })
    }

    fn list_buckets(
        &self,
        owner: &str,
        prefix: &str,
        marker: &str,
        max: usize,
    ) -> Result<(Vec<BucketRecord>, bool), StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(BUCKETS).map_err(db_err)?;
            let start = if marker > prefix { marker } else { prefix };
            let mut out = Vec::new();
            for entry in table.range(start..).map_err(db_err)? {
                let (name, value) = entry.map_err(db_err)?;
                let name = name.value();
                if name == marker {
                    continue;
                }
                if !name.starts_with(prefix) {
                    break;
                }
                let record: BucketRecord = decode(value.value())?;
                if record.owner != owner {
                    continue;
                }
                if out.len() == max {
                    return Ok((out, true));
                }
                out.push(record);
            }
            Ok((out, false))
        })
    }

    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(OBJECTS).map_err(db_err)?;
            match table.get((bucket, key)).map_err(db_err)? {
                Some(v) => Ok(Some(decode(v.value())?)),
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
        let (replaced, mine) = self.run(Kind::Write, |db| {
            let mut txn = db.begin_write().map_err(db_err)?;
            txn.set_durability(Durability::None)
                .expect("no persistent savepoint in this transaction");
            {
                let buckets = txn.open_table(BUCKETS).map_err(db_err)?;
                if buckets.get(bucket).map_err(db_err)?.is_none() {
                    return Err(StorageError::NoSuchBucket.into());
                }
            }
            let current = current_in(&txn, bucket, key)?;
            let record = build(current.as_ref())?;
            let replaced = write_latest(&txn, bucket, key, current, &record)?;
            txn.commit().map_err(db_err)?;
            Ok((
                replaced,
                self.group.committed.fetch_add(1, Ordering::AcqRel) + 1,
            ))
        })?;
        // The caller deletes the replaced blobs: only once the new record is durable.
        self.wait_durable(mine)?;
        Ok(replaced)
    }

    fn delete_object_if(
        &self,
        bucket: &str,
        key: &str,
        condition: &mut dyn FnMut(&ObjectRecord) -> bool,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        self.run(Kind::Delete, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let removed = {
                let mut objects = txn.open_table(OBJECTS).map_err(db_err)?;
                let current = match objects.get((bucket, key)).map_err(db_err)? {
                    Some(v) => Some(decode::<ObjectRecord>(v.value())?),
                    None => None,
                };
                match current {
                    Some(record) if condition(&record) => {
                        objects.remove((bucket, key)).map_err(db_err)?;
                        Some(record)
                    }
                    _ => None,
                }
            };
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
    }

    fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(OBJECTS).map_err(db_err)?;
            let mut listing = Listing::default();
            let mut start = query
                .start_after
                .as_str()
                .max(query.prefix.as_str())
                .to_owned();
            let mut count = 0;
            'scan: loop {
                let mut skip_to = None;
                for entry in table.range((bucket, start.as_str())..).map_err(db_err)? {
                    let (k, v) = entry.map_err(db_err)?;
                    let (b, key) = k.value();
                    if b != bucket || !key.starts_with(&query.prefix) {
                        break 'scan;
                    }
                    if key <= query.start_after.as_str() {
                        continue;
                    }
                    let rest = &key[query.prefix.len()..];
                    let common = (!query.delimiter.is_empty())
                        .then(|| rest.find(&query.delimiter))
                        .flatten()
                        .map(|i| &key[..query.prefix.len() + i + query.delimiter.len()]);
                    if let Some(common) = common {
                        // A prefix at or before the marker was returned on an earlier page.
                        if common <= query.start_after.as_str()
                            || listing.common_prefixes.last().map(String::as_str) == Some(common)
                        {
                            continue;
                        }
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
                            skip_to = Some(after_prefix(common));
                            break;
                        }
                        None => {
                            listing.objects.push((key.to_owned(), decode(v.value())?));
                            listing.next_marker = Some(key.to_owned());
                        }
                    }
                }
                match skip_to {
                    Some(Some(next)) => start = next,
                    _ => break,
                }
            }
            if !listing.truncated {
                listing.next_marker = None;
            }
            Ok(listing)
        })
    }

    fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let objects = txn.open_table(OBJECTS).map_err(db_err)?;
            if let Some(v) = objects.get((bucket, key)).map_err(db_err)? {
                let current: ObjectRecord = decode(v.value())?;
                if current.version_label() == version_id {
                    return Ok(Some(current));
                }
            }
            let orders = txn.open_table(VERSION_ORDERS).map_err(db_err)?;
            let Some(order) = orders.get((bucket, key, version_id)).map_err(db_err)? else {
                return Ok(None);
            };
            let versions = txn.open_table(VERSIONS).map_err(db_err)?;
            match versions.get((bucket, key, order.value())).map_err(db_err)? {
                Some(v) => Ok(Some(decode(v.value())?)),
                None => Ok(None),
            }
        })
    }

    fn update_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        change: &mut dyn FnMut(&ObjectRecord) -> Result<ObjectRecord, StorageError>,
    ) -> Result<ObjectRecord, StorageError> {
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let record = match current_in(&txn, bucket, key)? {
                Some(current) if current.version_label() == version_id => {
                    let record = change(&current)?;
                    txn.open_table(OBJECTS)
                        .map_err(db_err)?
                        .insert((bucket, key), encode(&record).as_slice())
                        .map_err(db_err)?;
                    record
                }
                _ => {
                    let Some(order) = archived_order(&txn, bucket, key, version_id)? else {
                        return Err(StorageError::NoSuchVersion.into());
                    };
                    let mut versions = txn.open_table(VERSIONS).map_err(db_err)?;
                    let old: ObjectRecord = match versions
                        .get((bucket, key, order.as_str()))
                        .map_err(db_err)?
                    {
                        Some(v) => decode(v.value())?,
                        None => return Err(StorageError::NoSuchVersion.into()),
                    };
                    let record = change(&old)?;
                    versions
                        .insert((bucket, key, order.as_str()), encode(&record).as_slice())
                        .map_err(db_err)?;
                    record
                }
            };
            txn.commit().map_err(db_err)?;
            Ok(record)
        })
    }

    fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError> {
        self.run(Kind::Delete, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let removed = match current_in(&txn, bucket, key)? {
                Some(current) if current.version_label() == version_id => {
                    txn.open_table(OBJECTS)
                        .map_err(db_err)?
                        .remove((bucket, key))
                        .map_err(db_err)?;
                    Some(current)
                }
                _ => unarchive(&txn, bucket, key, version_id)?,
            };
            if removed.is_some() {
                promote(&txn, bucket, key)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
    }

    fn scan_versions(
        &self,
        bucket: &str,
        from: &VersionSeek,
        limit: usize,
    ) -> Result<Vec<VersionRow>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let objects = txn.open_table(OBJECTS).map_err(db_err)?;
            let versions = txn.open_table(VERSIONS).map_err(db_err)?;
            let (mut currents, mut olds) = match from {
                VersionSeek::AtOrAfter(k) => (
                    objects.range((bucket, k.as_str())..).map_err(db_err)?,
                    versions.range((bucket, k.as_str(), "")..).map_err(db_err)?,
                ),
                VersionSeek::After { key, order } => (
                    objects
                        .range::<(&str, &str)>((
                            Bound::Excluded((bucket, key.as_str())),
                            Bound::Unbounded,
                        ))
                        .map_err(db_err)?,
                    versions
                        .range::<(&str, &str, &str)>((
                            Bound::Excluded((bucket, key.as_str(), order.as_str())),
                            Bound::Unbounded,
                        ))
                        .map_err(db_err)?,
                ),
            };
            let mut next_current = || -> Result<Option<VersionRow>, Failure> {
                let Some(entry) = currents.next() else {
                    return Ok(None);
                };
                let (k, v) = entry.map_err(db_err)?;
                let (b, key) = k.value();
                if b != bucket {
                    return Ok(None);
                }
                Ok(Some(VersionRow {
                    key: key.to_owned(),
                    order: String::new(),
                    record: decode(v.value())?,
                }))
            };
            let mut next_old = || -> Result<Option<VersionRow>, Failure> {
                let Some(entry) = olds.next() else {
                    return Ok(None);
                };
                let (k, v) = entry.map_err(db_err)?;
                let (b, key, order) = k.value();
                if b != bucket {
                    return Ok(None);
                }
                Ok(Some(VersionRow {
                    key: key.to_owned(),
                    order: order.to_owned(),
                    record: decode(v.value())?,
                }))
            };
            let (mut c, mut o) = (next_current()?, next_old()?);
            let mut rows = Vec::new();
            while rows.len() < limit {
                let take_current = match (&c, &o) {
                    (None, None) => break,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (Some(c), Some(o)) => {
                        (c.key.as_str(), "") <= (o.key.as_str(), o.order.as_str())
                    }
                };
                if take_current {
                    rows.extend(std::mem::replace(&mut c, next_current()?));
                } else {
                    rows.extend(std::mem::replace(&mut o, next_old()?));
                }
            }
            Ok(rows)
        })
    }

    fn create_upload(&self, bucket: &str, upload: &UploadRecord) -> Result<(), StorageError> {
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let buckets = txn.open_table(BUCKETS).map_err(db_err)?;
                if buckets.get(bucket).map_err(db_err)?.is_none() {
                    return Err(StorageError::NoSuchBucket.into());
                }
                let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
                uploads
                    .insert(
                        (bucket, upload.key.as_str(), upload.upload_id.as_str()),
                        encode(upload).as_slice(),
                    )
                    .map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
    }

    fn get_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<UploadRecord>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(UPLOADS).map_err(db_err)?;
            match table.get((bucket, key, upload_id)).map_err(db_err)? {
                Some(v) => Ok(Some(decode(v.value())?)),
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
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let replaced = {
                let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
                if uploads
                    .get((bucket, key, upload_id))
                    .map_err(db_err)?
                    .is_none()
                {
                    return Err(StorageError::NoSuchUpload.into());
                }
                let mut parts = txn.open_table(PARTS).map_err(db_err)?;
                let replaced = parts
                    .insert((upload_id, number), encode(part).as_slice())
                    .map_err(db_err)?;
                match replaced {
                    Some(v) => Some(decode::<PartRecord>(v.value())?),
                    None => None,
                }
            };
            txn.commit().map_err(db_err)?;
            Ok(replaced)
        })
    }

    fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> Result<(Vec<(u32, PartRecord)>, bool), StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let parts = txn.open_table(PARTS).map_err(db_err)?;
            let mut out = Vec::new();
            let Some(start) = after.checked_add(1) else {
                return Ok((out, false));
            };
            for entry in parts
                .range((upload_id, start)..=(upload_id, u32::MAX))
                .map_err(db_err)?
            {
                let (k, v) = entry.map_err(db_err)?;
                if out.len() == max {
                    return Ok((out, true));
                }
                out.push((k.value().1, decode(v.value())?));
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
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let result = {
                let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
                let upload: UploadRecord =
                    match uploads.get((bucket, key, upload_id)).map_err(db_err)? {
                        Some(v) => decode(v.value())?,
                        None => return Err(StorageError::NoSuchUpload.into()),
                    };
                let mut parts_table = txn.open_table(PARTS).map_err(db_err)?;
                let mut parts = Vec::new();
                for entry in parts_table
                    .range((upload_id, 0)..=(upload_id, u32::MAX))
                    .map_err(db_err)?
                {
                    let (k, v) = entry.map_err(db_err)?;
                    parts.push((k.value().1, decode::<PartRecord>(v.value())?));
                }
                uploads.remove((bucket, key, upload_id)).map_err(db_err)?;
                for (number, _) in &parts {
                    parts_table.remove((upload_id, *number)).map_err(db_err)?;
                }
                drop((uploads, parts_table));
                let current = current_in(&txn, bucket, key)?;
                let record = build(&upload, &parts, current.as_ref())?;
                let replaced = write_latest(&txn, bucket, key, current, &record)?;
                (replaced, parts.into_iter().map(|(_, p)| p).collect())
            };
            txn.commit().map_err(db_err)?;
            Ok(result)
        })
    }

    fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<PartRecord>, StorageError> {
        self.run(Kind::Delete, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let removed = {
                let mut uploads = txn.open_table(UPLOADS).map_err(db_err)?;
                if uploads
                    .remove((bucket, key, upload_id))
                    .map_err(db_err)?
                    .is_none()
                {
                    return Err(StorageError::NoSuchUpload.into());
                }
                let mut parts_table = txn.open_table(PARTS).map_err(db_err)?;
                let mut removed = Vec::new();
                for entry in parts_table
                    .extract_from_if((upload_id, 0)..=(upload_id, u32::MAX), |_, _| true)
                    .map_err(db_err)?
                {
                    let (_, v) = entry.map_err(db_err)?;
                    removed.push(decode::<PartRecord>(v.value())?);
                }
                removed
            };
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
    }

    fn list_uploads(
        &self,
        bucket: &str,
        query: &UploadQuery,
    ) -> Result<UploadListing, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(UPLOADS).map_err(db_err)?;
            let mut listing = UploadListing::default();
            let start = query.key_marker.as_str().max(query.prefix.as_str());
            let mut count = 0;
            for entry in table.range((bucket, start, "")..).map_err(db_err)? {
                let (k, v) = entry.map_err(db_err)?;
                let (b, key, id) = k.value();
                if b != bucket || !key.starts_with(&query.prefix) {
                    break;
                }
                // After the key marker: later keys, or the marker key with a later upload id.
                let (km, im) = (query.key_marker.as_str(), query.upload_id_marker.as_str());
                if !(km.is_empty() || key > km || (key == km && !im.is_empty() && id > im)) {
                    continue;
                }
                let common = (!query.delimiter.is_empty())
                    .then(|| key[query.prefix.len()..].find(&query.delimiter))
                    .flatten()
                    .map(|i| &key[..query.prefix.len() + i + query.delimiter.len()]);
                if let Some(common) = common
                    // A prefix at or before the marker was returned on an earlier page.
                    && (common <= km || listing.common_prefixes.last().map(String::as_str) == Some(common))
                {
                    continue;
                }
                if count == query.max {
                    listing.truncated = true;
                    break;
                }
                count += 1;
                match common {
                    Some(common) => listing.common_prefixes.push(common.to_owned()),
                    None => listing.uploads.push(decode(v.value())?),
                }
            }
            Ok(listing)
        })
    }

    fn cache_get(&self, key: &str) -> Result<Option<CacheEntry>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(CACHE).map_err(db_err)?;
            match table.get(key).map_err(db_err)? {
                Some(v) => Ok(Some(decode(v.value())?)),
                None => Ok(None),
            }
        })
    }

    fn cache_update(
        &self,
        put: Option<(&str, &CacheEntry)>,
        used: &[(String, i64)],
        max_bytes: u64,
    ) -> Result<CacheChange, StorageError> {
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            let mut change = CacheChange::default();
            {
                let mut cache = txn.open_table(CACHE).map_err(db_err)?;
                let mut order = txn.open_table(CACHE_USE).map_err(db_err)?;
                let mut counters = txn.open_table(COUNTERS).map_err(db_err)?;
                let mut total = counters
                    .get(CACHE_BYTES)
                    .map_err(db_err)?
                    .map_or(0, |v| v.value());
                for (key, at) in used {
                    let Some(mut entry) = cache
                        .get(key.as_str())
                        .map_err(db_err)?
                        .map(|v| decode::<CacheEntry>(v.value()))
                        .transpose()?
                    else {
                        continue;
                    };
                    if *at <= entry.used {
                        continue;
                    }
                    order.remove((entry.used, key.as_str())).map_err(db_err)?;
                    entry.used = *at;
                    order
                        .insert((entry.used, key.as_str()), ())
                        .map_err(db_err)?;
                    cache
                        .insert(key.as_str(), encode(&entry).as_slice())
                        .map_err(db_err)?;
                }
                match put {
                    Some((_, entry)) if entry.size > max_bytes => {
                        change.unused.push(entry.blob.clone())
                    }
                    Some((key, entry)) => {
                        let old = cache
                            .insert(key, encode(entry).as_slice())
                            .map_err(db_err)?
                            .map(|v| decode::<CacheEntry>(v.value()))
                            .transpose()?;
                        if let Some(old) = old {
                            order.remove((old.used, key)).map_err(db_err)?;
                            total = total.saturating_sub(old.size);
                            change.unused.push(old.blob);
                        }
                        order.insert((entry.used, key), ()).map_err(db_err)?;
                        total += entry.size;
                    }
                    None => {}
                }
                while total > max_bytes {
                    let Some((first, _)) = order.pop_first().map_err(db_err)? else {
                        break;
                    };
                    let key = first.value().1.to_owned();
                    drop(first);
                    if let Some(v) = cache.remove(key.as_str()).map_err(db_err)? {
                        let old: CacheEntry = decode(v.value())?;
                        total = total.saturating_sub(old.size);
                        change.unused.push(old.blob);
                    }
                }
                counters.insert(CACHE_BYTES, total).map_err(db_err)?;
                change.total = total;
            }
            txn.commit().map_err(db_err)?;
            Ok(change)
        })
    }

    fn all_buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(BUCKETS).map_err(db_err)?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(db_err)? {
                out.push(decode(entry.map_err(db_err)?.1.value())?);
            }
            Ok(out)
        })
    }

    fn bucket_stat(&self, bucket: &str) -> Result<BucketStat, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let mut stat = BucketStat::default();
            let objects = txn.open_table(OBJECTS).map_err(db_err)?;
            for entry in objects.range((bucket, "")..).map_err(db_err)? {
                let (k, v) = entry.map_err(db_err)?;
                if k.value().0 != bucket {
                    break;
                }
                let record: ObjectRecord = decode(v.value())?;
                stat.storage += record.size;
                stat.object_count += 1;
                stat.last_modified = stat.last_modified.max(record.last_modified);
            }
            let uploads = txn.open_table(UPLOADS).map_err(db_err)?;
            let parts = txn.open_table(PARTS).map_err(db_err)?;
            for entry in uploads.range((bucket, "", "")..).map_err(db_err)? {
                let (k, _) = entry.map_err(db_err)?;
                let (b, _, id) = k.value();
                if b != bucket {
                    break;
                }
                stat.multipart_upload_count += 1;
                stat.multipart_part_count += parts
                    .range((id, 0)..=(id, u32::MAX))
                    .map_err(db_err)?
                    .count() as u64;
            }
            Ok(stat)
        })
    }

    fn referenced_blobs(&self) -> Result<Vec<BlobId>, StorageError> {
        self.run(Kind::Read, |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(OBJECTS).map_err(db_err)?;
            let mut out = Vec::new();
            for entry in table.iter().map_err(db_err)? {
                let (_, v) = entry.map_err(db_err)?;
                out.extend(decode::<ObjectRecord>(v.value())?.blobs().cloned());
            }
            let versions = txn.open_table(VERSIONS).map_err(db_err)?;
            for entry in versions.iter().map_err(db_err)? {
                let (_, v) = entry.map_err(db_err)?;
                out.extend(decode::<ObjectRecord>(v.value())?.blobs().cloned());
            }
            let parts = txn.open_table(PARTS).map_err(db_err)?;
            for entry in parts.iter().map_err(db_err)? {
                let (_, v) = entry.map_err(db_err)?;
                out.push(decode::<PartRecord>(v.value())?.blob);
            }
            let cache = txn.open_table(CACHE).map_err(db_err)?;
            for entry in cache.iter().map_err(db_err)? {
                let (_, v) = entry.map_err(db_err)?;
                out.push(decode::<CacheEntry>(v.value())?.blob);
            }
            Ok(out)
        })
    }

    /// redb holds an exclusive lock on its file: this process is the only node.
    fn try_lease(&self, _name: &str, _holder: &str, _ttl_ms: i64) -> Result<bool, StorageError> {
        Ok(true)
    }

    fn probe(&self) -> Result<(), StorageError> {
        self.run(Kind::Write, |db| {
            let txn = db.begin_write().map_err(db_err)?;
            txn.open_table(BUCKETS).map_err(db_err)?;
            txn.commit().map_err(db_err)
        })
    }
}

#[cfg(test)]
mod tests {
    //! What every metadata engine must do is checked in `meta_conformance`; these are
    //! redb's own concerns.

    use super::*;
    use crate::access::PublicAccessBlock;
    use crate::storage::meta_conformance::{bucket, object};

    /// Concurrent writers share syncs, and every write acknowledged is there after a
    /// reopen; commits a reopen dropped are told apart from those synced before it.
    #[test]
    fn group_commit_persists_every_acknowledged_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.redb");
        let space = || Arc::new(SpaceReserve::open(dir.path(), 0).unwrap());
        let meta = RedbMeta::open(&path, space()).unwrap();
        meta.create_bucket(&bucket("b", "1")).unwrap();
        std::thread::scope(|s| {
            for t in 0..8 {
                let meta = &meta;
                s.spawn(move || {
                    for i in 0..25 {
                        meta.put_object("b", &format!("t{t}-{i}"), &object("x"), false)
                            .unwrap();
                    }
                });
            }
        });
        let group = &meta.group;
        assert_eq!(group.committed.load(Ordering::Acquire), 200);
        assert_eq!(group.synced.load(Ordering::Acquire), 200);
        drop(meta);
        let meta = RedbMeta::open(&path, space()).unwrap();
        for t in 0..8 {
            for i in 0..25 {
                assert!(
                    meta.get_object("b", &format!("t{t}-{i}"))
                        .unwrap()
                        .is_some()
                );
            }
        }
        // A reopen with commits 201..=203 unsynced drops them, and only them.
        meta.group.committed.store(203, Ordering::Release);
        meta.group.synced.store(200, Ordering::Release);
        meta.reopen(0);
        assert!(!meta.group.was_lost(200) && meta.group.was_lost(201));
        assert!(meta.group.was_lost(203) && !meta.group.was_lost(204));
        assert!(meta.wait_durable(202).is_err());
    }

    /// A record read before a change is not cached after it; changes drop the cache.
    #[test]
    fn the_bucket_cache_keeps_no_record_older_than_a_change() {
        let cache = BucketCache::default();
        let old = bucket("b", "1");
        let generation = cache.get("b").unwrap_err();
        cache.changed();
        cache.keep(generation, &old);
        let now = cache.get("b").unwrap_err();
        assert_ne!(now, generation);
        cache.keep(now, &old);
        assert_eq!(cache.get("b").unwrap().name, old.name);
        cache.changed();
        assert!(cache.get("b").is_err());
    }

    /// Writes through the engine are seen by the next `get_bucket`, cached or not (for
    /// account settings, see the next test).
    #[test]
    fn bucket_changes_are_read_back_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let meta = RedbMeta::open(
            &dir.path().join("m.redb"),
            Arc::new(SpaceReserve::open(dir.path(), 0).unwrap()),
        )
        .unwrap();
        let mut b = bucket("b", "1");
        meta.create_bucket(&b).unwrap();
        assert!(
            meta.get_bucket("b")
                .unwrap()
                .unwrap()
                .config
                .tags
                .is_empty()
        );
        b.config.tags = vec![("k".into(), "v".into())];
        meta.update_bucket(&b).unwrap();
        assert_eq!(
            meta.get_bucket("b").unwrap().unwrap().config.tags,
            b.config.tags
        );
        meta.delete_bucket("b").unwrap();
        assert!(meta.get_bucket("b").unwrap().is_none());
    }

    /// `get_bucket` skips the account table until a setting is stored, and knows
    /// after a restart that one was.
    #[test]
    fn account_settings_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.redb");
        let space = || Arc::new(SpaceReserve::open(dir.path(), 0).unwrap());
        let meta = RedbMeta::open(&path, space()).unwrap();
        meta.create_bucket(&bucket("b", "1")).unwrap();
        assert!(
            !meta
                .get_bucket("b")
                .unwrap()
                .unwrap()
                .public_access_block()
                .is_all()
        );
        let on = AccountConfig {
            block_public_access: Some(PublicAccessBlock::ALL),
        };
        meta.put_account_config("1", &on).unwrap();
        assert!(
            meta.get_bucket("b")
                .unwrap()
                .unwrap()
                .public_access_block()
                .is_all()
        );
        drop(meta);
        let meta = RedbMeta::open(&path, space()).unwrap();
        assert_eq!(meta.get_bucket("b").unwrap().unwrap().account, on);
    }

    /// A tmpfs of `size` on a temp directory (needs root; see tests/robustness.rs).
    fn tmpfs(size: &str) -> Option<tempfile::TempDir> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            return Some(dir);
        }
        assert!(
            std::env::var_os("OSSIFY_REQUIRE_TMPFS").is_none(),
            "cannot mount a tmpfs"
        );
        eprintln!("skipped: cannot mount a tmpfs (needs root)");
        None
    }

    #[test]
    fn a_commit_out_of_space_reopens_the_database_and_keeps_deletes_working() {
        let Some(dir) = tmpfs("1m") else { return };
        let space = Arc::new(SpaceReserve::open(dir.path(), 128 << 10).unwrap());
        let meta = RedbMeta::open(&dir.path().join("meta.redb"), space.clone()).unwrap();
        meta.create_bucket(&bucket("b", "1")).unwrap();
        let mut record = object("x");
        record.user_meta = vec![("m".into(), "v".repeat(4000))];
        let mut stored = 0;
        let refused = loop {
            assert!(stored < 1000, "1 MiB never filled up");
            match meta.put_object("b", &format!("k{stored}"), &record, false) {
                Ok(_) => stored += 1,
                Err(e) => break e,
            }
        };
        assert_eq!(refused, StorageError::InsufficientStorage);
        assert!(space.is_full() && !dir.path().join("reserve").exists());
        assert!(stored > 10, "only {stored} records");
        // The failed commit made redb refuse everything (PreviousIo) until reopened.
        assert!(meta.db.read().unwrap().generation > 0);
        for i in 0..stored {
            assert!(meta.get_object("b", &format!("k{i}")).unwrap().is_some());
        }
        for i in 0..stored {
            meta.delete_object("b", &format!("k{i}")).unwrap();
        }
        assert_eq!(meta.get_object("b", "k0").unwrap(), None);
        drop(meta);
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(dir.path())
            .status();
    }
}
