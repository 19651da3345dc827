//! Protocol-neutral operation semantics: typed requests and results for put, get,
//! copy, append, multipart, listing, tagging and ACLs, and the access check with the
//! requester. Knows nothing of headers, XML or axum; the wire dialects (`api`) parse
//! requests into these calls and serialise what they return.

pub mod access;
pub mod access_log;
pub mod bucket;
pub mod bucket_tags;
pub mod callback;
pub mod checksum;
pub mod conditions;
pub mod copy;
pub mod cors;
pub mod crc64;
pub mod error;
pub mod image_cache;
pub mod lifecycle;
pub mod multipart;
pub mod object;
pub mod process;
pub mod restore;
pub mod saveas;
pub mod sse;
pub mod throttle;
pub mod website;
pub mod worm;

use std::sync::Arc;

pub use access::Requester;
pub use error::{CoreError, CoreResult, Refusal};

use crate::storage::{BlobStore, MetaStore, StorageError};

/// The storage an operation runs on, and the limits that are not a wire's.
#[derive(Clone)]
pub struct Store {
    pub meta: Arc<dyn MetaStore>,
    pub blobs: Arc<dyn BlobStore>,
    /// Largest object a single upload may create.
    pub max_object_size: u64,
    /// How long a replaced or deleted object's blobs outlive its record. With several
    /// nodes a GET elsewhere may have read the old record and not yet opened (or not
    /// finished reading) its blobs; `None` (one process) deletes at once.
    pub blob_delete_delay: Option<std::time::Duration>,
    /// How long a RestoreObject of a cold object takes to complete.
    pub restore_delay: std::time::Duration,
    /// Bodies up to this size may be kept in their object record
    /// ([`object::BodyHome::RecordIfSmall`]); 0: none.
    pub inline_max: u64,
    /// The master key of server-side encryption.
    pub keys: Arc<sse::KeyRing>,
}

impl Store {
    /// Run a metadata call on the blocking pool.
    pub async fn meta<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T, StorageError> + Send + 'static,
    ) -> CoreResult<T> {
        let meta = self.meta.clone();
        tokio::task::spawn_blocking(move || f(meta.as_ref()))
            .await
            .map_err(CoreError::internal)?
            .map_err(CoreError::from)
    }

    /// A metadata call that only reads: on this async worker when the engine's reads
    /// are cheap ([`MetaStore::cheap_reads`]), else on the blocking pool.
    pub async fn meta_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn MetaStore) -> Result<T, StorageError> + Send + 'static,
    ) -> CoreResult<T> {
        if self.meta.cheap_reads() {
            return f(self.meta.as_ref()).map_err(CoreError::from);
        }
        self.meta(f).await
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
