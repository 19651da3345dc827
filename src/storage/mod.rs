//! Storage behind two traits: a metadata engine (buckets, object records, ordered
//! listings) and a blob store (object bytes). Defaults: redb in the data directory
//! and files named by an internal id.

pub mod fs_blob;
pub mod redb_meta;

use std::io;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::access::{Acl, ObjectAcl};

pub use fs_blob::FsBlobStore;
pub use redb_meta::RedbMeta;

/// Internal name of a blob; never derived from an object key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobId(pub String);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BucketRecord {
    pub name: String,
    pub owner: String,
    /// Region name with the `oss-` prefix.
    pub region: String,
    pub acl: Acl,
    /// Unix milliseconds.
    pub created: i64,
    pub storage_class: String,
    pub redundancy: String,
}

/// Standard HTTP headers stored with an object and returned on GET/HEAD.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentHeaders {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub blob: BlobId,
    pub size: u64,
    /// Upper-case hex, without quotes.
    pub etag: String,
    pub crc64: u64,
    /// Base64 MD5 of the body, for objects uploaded in one piece.
    pub content_md5: Option<String>,
    /// Unix milliseconds.
    pub last_modified: i64,
    pub object_type: String,
    pub storage_class: String,
    pub acl: ObjectAcl,
    pub headers: ContentHeaders,
    /// `x-oss-meta-*` names (lower-case, without the prefix) and values.
    pub user_meta: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("the bucket does not exist")]
    NoSuchBucket,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("the object already exists")]
    FileAlreadyExists,
    #[error("storage failure: {0}")]
    Io(String),
}

impl From<io::Error> for StorageError {
    fn from(e: io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// Listing parameters shared by ListObjects v1 and v2.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: String,
    /// Exclusive start: the v1 marker, v2 start-after or continuation token.
    pub start_after: String,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub objects: Vec<(String, ObjectRecord)>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Last key or common prefix returned, when truncated.
    pub next_marker: Option<String>,
}

/// Result of CreateBucket: OSS returns success for a bucket the caller already owns.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    Existing(BucketRecord),
}

/// Metadata engine. Calls are synchronous and short; the API layer runs them on
/// the blocking pool.
pub trait MetaStore: Send + Sync + 'static {
    /// Create `bucket` unless the name is taken; returns the existing record if it is.
    fn create_bucket(&self, bucket: &BucketRecord) -> Result<Created, StorageError>;
    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError>;
    fn update_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError>;
    /// Refuses with `BucketNotEmpty` while objects remain.
    fn delete_bucket(&self, name: &str) -> Result<(), StorageError>;
    /// Buckets of `owner` in name order, after `marker`, with `prefix`.
    fn list_buckets(
        &self,
        owner: &str,
        prefix: &str,
        marker: &str,
        max: usize,
    ) -> Result<(Vec<BucketRecord>, bool), StorageError>;

    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError>;
    /// Store `record` under `key` in one transaction; returns the replaced record
    /// (whose blob the caller deletes).
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        record: &ObjectRecord,
        forbid_overwrite: bool,
    ) -> Result<Option<ObjectRecord>, StorageError>;
    fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError>;
    /// Change an object's record in place (same blob); returns the new record, or
    /// None when the object does not exist.
    fn update_object(
        &self,
        bucket: &str,
        key: &str,
        change: &mut dyn FnMut(&mut ObjectRecord),
    ) -> Result<Option<ObjectRecord>, StorageError>;
    /// An ordered range scan: keys after `start_after` that start with `prefix`,
    /// rolled up at `delimiter`.
    fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StorageError>;
    /// Every blob referenced by a record, for the start-up orphan sweep.
    fn referenced_blobs(&self) -> Result<Vec<BlobId>, StorageError>;
}

/// A blob being written. Dropping it without [`BlobWriter::finish`] discards it.
pub trait BlobWriter: Send {
    fn write<'a>(&'a mut self, data: &'a [u8]) -> BoxFuture<'a, io::Result<()>>;
    /// Make the blob durable and visible under its id.
    fn finish(self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>>;
}

pub type BlobReader = std::pin::Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Blob store: immutable blobs written once, read by range, deleted when unreferenced.
pub trait BlobStore: Send + Sync + 'static {
    fn create(&self) -> BoxFuture<'_, io::Result<Box<dyn BlobWriter>>>;
    /// `len` bytes from `offset`.
    fn open(&self, id: &BlobId, offset: u64, len: u64) -> BoxFuture<'_, io::Result<BlobReader>>;
    fn delete(&self, id: &BlobId) -> BoxFuture<'_, io::Result<()>>;
    /// Remove unfinished writes and every blob not in `keep`; returns how many were removed.
    fn sweep(&self, keep: &[BlobId]) -> io::Result<usize>;
}
