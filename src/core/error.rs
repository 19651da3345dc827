//! Domain errors of the core operations. Each wire dialect maps them to its own codes
//! in one place (`api::error` for OSS).

use super::bucket_tags::TagProblem;
use crate::access::Denied;
use crate::storage::StorageError;

/// What an operation refused, named after the wire codes. Names that identify the
/// resource are carried so the dialect can report them.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    #[error("the bucket {bucket:?} does not exist")]
    NoSuchBucket { bucket: String },
    #[error("the key {key:?} does not exist")]
    NoSuchKey { key: String },
    #[error("the multipart upload {upload_id:?} does not exist")]
    NoSuchUpload { upload_id: String },
    #[error("version {version_id:?} of {key:?} does not exist")]
    NoSuchVersion { key: String, version_id: String },
    /// A `versionId` that cannot name a version.
    #[error("invalid version id {version_id:?}")]
    InvalidVersionId { version_id: String },
    /// The version a read names (or the latest one) is a delete marker; `requested`:
    /// the request named it by version id.
    #[error("{key:?} is a delete marker")]
    DeleteMarker {
        key: String,
        version_id: String,
        requested: bool,
    },
    #[error("the bucket {bucket:?} is not empty")]
    BucketNotEmpty { bucket: String },
    #[error("the bucket name {bucket:?} is taken")]
    BucketAlreadyExists { bucket: String },
    #[error("more than {max} buckets in region {region}")]
    TooManyBuckets { max: usize, region: String },
    /// A write with forbid-overwrite found the key taken.
    #[error("the object already exists")]
    FileAlreadyExists,
    /// A retention policy (WORM) protects the object from overwrite and deletion.
    #[error("the object is protected by the bucket's retention policy")]
    FileImmutable,
    #[error("the bucket has no retention policy, or not the one named")]
    NoSuchWormConfiguration,
    #[error("the retention policy is locked")]
    WormConfigurationLocked,
    /// A retention policy change its state does not allow.
    #[error("invalid retention policy change")]
    InvalidWormConfiguration,
    /// A RetentionPeriodInDays outside 1..=25550.
    #[error("invalid retention period {days:?}")]
    InvalidWormDays { days: String },
    #[error("the append position is not the object's length ({next_position})")]
    PositionNotEqualToLength { next_position: u64 },
    #[error("the object is not appendable")]
    ObjectNotAppendable,
    /// The body's MD5 (`calculated`, base64) differs from the one declared.
    #[error("the body's MD5 does not match the declared digest")]
    InvalidDigest { calculated: String },
    /// The body's additional checksum differs from the one the client sent.
    #[error("the body's {algorithm:?} checksum does not match")]
    BadChecksum {
        algorithm: super::checksum::ChecksumAlgorithm,
    },
    /// An image-processing refusal, with the engine's code, status and message.
    #[error("image processing: {}", .0.message)]
    Image(crate::image::ImageError),
    #[error("the style {name:?} does not exist")]
    NoSuchStyle { name: String },
    /// Too much work is waiting (the image queue is full).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// A parameter the operation cannot use (the message says which).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A request the operation cannot accept as given (the message says why).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The upload's `callback` or `callback-var` parameter is refused.
    #[error("invalid callback: {0}")]
    InvalidCallback(super::callback::Problem),
    #[error("the body exceeds {limit} bytes")]
    EntityTooLarge { limit: u64 },
    #[error("a part of {size} bytes is smaller than {min}")]
    EntityTooSmall { min: u64, size: u64 },
    #[error("part {number} was not uploaded or has another ETag")]
    InvalidPart {
        number: u32,
        reason: Option<&'static str>,
    },
    #[error("the parts are not in ascending order")]
    InvalidPartOrder,
    #[error("invalid tag: {0}")]
    InvalidTag(TagProblem),
    /// A lifecycle configuration the dialect's rules refuse.
    #[error("invalid lifecycle configuration: {0}")]
    InvalidLifecycle(super::lifecycle::LifecycleProblem),
    /// A bucket tag set the dialect's limits refuse.
    #[error("invalid bucket tag: {0}")]
    InvalidBucketTag(super::bucket_tags::TagProblem),
    #[error("the symlink target {target:?} does not exist")]
    SymlinkTargetNotExist { target: String },
    /// A symlink read through names another symlink; OSS follows one link only.
    #[error("the symlink target {target:?} is itself a symlink")]
    InvalidTargetType { target: String },
    #[error("the object is not a symlink")]
    NotSymlink { key: String },
    /// A read of the bytes of a cold object that is not restored.
    #[error("the {storage_class} object must be restored before it is read")]
    InvalidObjectState { storage_class: String },
    /// RestoreObject of an object whose class has nothing to restore.
    #[error("a {storage_class} object cannot be restored")]
    RestoreNotSupported { storage_class: String },
    #[error("the object is being restored")]
    RestoreAlreadyInProgress,
    /// A restore's `Days` outside the range of the object's class.
    #[error("invalid restore days {days:?}")]
    InvalidRestoreDays {
        days: String,
        class: super::restore::ColdClass,
    },
    #[error("invalid restore tier {tier:?}")]
    InvalidRestoreTier { tier: String },
    /// A restore priority for an Archive object, which has none (OSS only).
    #[error("an Archive object takes no restore priority")]
    RestoreTierForArchive,
    /// A saveas target in another account than the source.
    #[error("the saveas target {target} belongs to another account")]
    SaveAsOtherAccount {
        target: String,
        source_bucket: String,
    },
    #[error("the saveas target {target} is in another region")]
    SaveAsOtherRegion {
        target: String,
        target_region: String,
        source_bucket: String,
        source_region: String,
    },
    /// `condition` names the failed header, e.g. `If-Match`.
    #[error("the precondition {condition} failed")]
    PreconditionFailed { condition: String },
    #[error("the range {requested:?} cannot be satisfied for {size} bytes")]
    InvalidRange { requested: String, size: u64 },
    #[error("the request body stalled")]
    RequestTimeout,
    #[error("the request body could not be read: {0}")]
    IncompleteBody(String),
    /// The access engine refused `action` on `bucket` (empty at service level);
    /// `endpoint` is the host of the bucket's region (for a wrong-region refusal).
    #[error("access denied ({action})")]
    AccessDenied {
        denied: Denied,
        action: &'static str,
        endpoint: String,
        bucket: String,
    },
    /// Block Public Access refused a public ACL or bucket policy.
    #[error("public access is blocked")]
    PublicAccessBlocked,
    /// A refusal that is not a policy decision (anonymous bucket creation, ...).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The disk holding the data is full: nothing was stored.
    #[error("the data directory is out of space")]
    InsufficientStorage,
    #[error("internal: {0}")]
    Internal(String),
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    pub fn internal(what: impl std::fmt::Display) -> Self {
        Self::Internal(what.to_string())
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::NoSuchBucket {
            bucket: bucket.to_owned(),
        }
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::NoSuchKey {
            key: key.to_owned(),
        }
    }
}

impl From<StorageError> for CoreError {
    fn from(e: StorageError) -> Self {
        if matches!(e, StorageError::Io(_) | StorageError::InsufficientStorage) {
            crate::observe::METRICS.storage_error("metadata");
        }
        match e {
            StorageError::NoSuchBucket => Self::no_such_bucket(""),
            StorageError::BucketNotEmpty => Self::BucketNotEmpty {
                bucket: String::new(),
            },
            StorageError::FileAlreadyExists => Self::FileAlreadyExists,
            StorageError::NoSuchKey => Self::no_such_key(""),
            StorageError::NoSuchUpload => Self::NoSuchUpload {
                upload_id: String::new(),
            },
            StorageError::NoSuchVersion => Self::NoSuchVersion {
                key: String::new(),
                version_id: String::new(),
            },
            StorageError::InsufficientStorage => Self::InsufficientStorage,
            // The operation's own rule refused; callers keep the real error (see `Refusal`).
            StorageError::Refused(e) | StorageError::Io(e) => Self::Internal(e),
        }
    }
}

/// I/O errors reach the core from the blob store.
impl From<std::io::Error> for CoreError {
    fn from(e: std::io::Error) -> Self {
        crate::observe::METRICS.storage_error("blobs");
        if crate::storage::reserve::is_storage_full(&e) {
            Self::InsufficientStorage
        } else {
            Self::Internal(e.to_string())
        }
    }
}

/// Carries a domain error out of a storage transaction: the closure stores the error
/// here and aborts the transaction with `StorageError::Refused`.
#[derive(Default)]
pub struct Refusal(std::sync::Mutex<Option<CoreError>>);

impl Refusal {
    pub fn refuse(&self, e: CoreError) -> StorageError {
        let message = e.to_string();
        *self.0.lock().expect("not poisoned") = Some(e);
        StorageError::Refused(message)
    }

    /// The error to report for a failed transaction.
    pub fn explain(&self, e: StorageError) -> CoreError {
        self.0
            .lock()
            .expect("not poisoned")
            .take()
            .unwrap_or_else(|| e.into())
    }
}
