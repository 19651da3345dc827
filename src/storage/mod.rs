//! Storage behind two traits: a metadata engine (buckets, object records, ordered
//! listings) and a blob store (object bytes). Defaults: redb in the data directory
//! and files named by an internal id.

#[cfg(test)]
mod blob_conformance;
pub mod fs_blob;
#[cfg(test)]
pub(crate) mod meta_conformance;
pub mod pg_meta;
mod pg_tls;
pub mod redb_meta;
pub mod reserve;
pub mod s3_blob;

use std::collections::HashSet;
use std::io;

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::access::{Acl, Grant, ObjectAcl, PublicAccessBlock, RefererConfig};
use crate::core::checksum::{Checksum, ChecksumAlgorithm, ChecksumType};

pub use fs_blob::FsBlobStore;
pub use redb_meta::RedbMeta;
pub use reserve::SpaceReserve;
pub use s3_blob::S3BlobStore;

/// Internal name of a blob; never derived from an object key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobId(pub String);

impl BlobId {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

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
    /// Optional configuration set by later requests.
    #[serde(default)]
    pub config: BucketConfig,
    /// The owner account's settings, filled in by [`MetaStore::get_bucket`] (not part
    /// of the stored record).
    #[serde(skip)]
    pub account: AccountConfig,
}

/// Settings of an account that apply to all its buckets (PutPublicAccessBlock).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountConfig {
    /// The account's Block Public Access; None: never set, or deleted.
    #[serde(
        default,
        deserialize_with = "crate::access::acl::deserialize_public_access_block"
    )]
    pub block_public_access: Option<PublicAccessBlock>,
}

impl BucketRecord {
    /// Block Public Access of the bucket and of its owner's account together.
    pub fn public_access_block(&self) -> PublicAccessBlock {
        self.config
            .block_public_access
            .unwrap_or_default()
            .union(self.account.block_public_access.unwrap_or_default())
    }

    /// The bucket's S3 grants: those set through S3, else those of its canned ACL.
    pub fn grants(&self) -> Vec<Grant> {
        match &self.config.grants {
            Some(grants) => grants.clone(),
            None => self.acl.grants(&self.owner),
        }
    }
}

/// Bucket sub-resources: CORS, lifecycle, policy, image styles and processing, tags,
/// hotlink protection, versioning, callback policies, retention (WORM), static website,
/// access logging.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BucketConfig {
    #[serde(default)]
    pub cors: Option<CorsConfig>,
    #[serde(default)]
    pub lifecycle: Option<Vec<LifecycleRule>>,
    /// Bucket policy document (JSON, as given).
    #[serde(default)]
    pub policy: Option<String>,
    /// Image styles, in creation order.
    #[serde(default)]
    pub styles: Vec<Style>,
    /// PutBucketProcessConfiguration: style delimiters and source-image protection.
    #[serde(default)]
    pub process: Option<ProcessConfig>,
    /// Bucket tags (PutBucketTags, S3 PutBucketTagging), in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Hotlink protection (PutBucketReferer).
    #[serde(default)]
    pub referer: Option<RefererConfig>,
    /// PutBucketPublicAccessBlock (OSS's one switch or S3's four); None: never set,
    /// or deleted.
    #[serde(
        default,
        deserialize_with = "crate::access::acl::deserialize_public_access_block"
    )]
    pub block_public_access: Option<PublicAccessBlock>,
    /// The bucket's ACL as S3 grants, when set through S3 with grants OSS's canned
    /// ACLs cannot say; `acl` then holds what OSS shows (see [`Acl::of_grants`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    /// PutBucketVersioning; None while versioning was never enabled.
    #[serde(default)]
    pub versioning: Option<Versioning>,
    /// PutBucketArchiveDirectRead: Archive objects are read without a restore.
    #[serde(default)]
    pub archive_direct_read: bool,
    /// PutBucketRequestPayment: who pays for requests; `Requester` makes other
    /// accounts accept the charges and refuses anonymous requests.
    #[serde(default)]
    pub request_payer: RequestPayer,
    /// PutBucketTransferAcceleration; None while never configured.
    #[serde(default)]
    pub transfer_acceleration: Option<bool>,
    /// Named upload callbacks (PutBucketCallbackPolicy), in the order given.
    #[serde(default)]
    pub callback_policies: Vec<CallbackPolicy>,
    /// PutBucketEncryption: the encryption of new objects that ask for none.
    #[serde(default)]
    pub encryption: Option<Sse>,
    /// The retention policy (InitiateBucketWorm); its rules are `core::worm`'s.
    #[serde(default)]
    pub worm: Option<WormConfig>,
    /// Static website hosting (PutBucketWebsite); its rules are `core::website`'s.
    #[serde(default)]
    pub website: Option<WebsiteConfig>,
    /// Access logging (PutBucketLogging): where this bucket's access logs go.
    #[serde(default)]
    pub logging: Option<LoggingConfig>,
}

/// The payer of a bucket's requests (PutBucketRequestPayment `Payer`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestPayer {
    #[default]
    BucketOwner,
    Requester,
}

impl RequestPayer {
    /// OSS's name, as `<Payer>` carries it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BucketOwner => "BucketOwner",
            Self::Requester => "Requester",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::BucketOwner, Self::Requester]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

/// Server-side encryption as requested (`x-oss-server-side-encryption` and its
/// companions, or a bucket's default rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sse {
    pub algorithm: SseAlgorithm,
    /// KMS: the key id named (`x-oss-server-side-encryption-key-id`, KMSMasterKeyID).
    #[serde(default)]
    pub key_id: Option<String>,
    /// KMS: the data is encrypted with SM4 (`x-oss-server-side-data-encryption: SM4`).
    #[serde(default)]
    pub data_sm4: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SseAlgorithm {
    Aes256,
    Kms,
    Sm4,
}

/// The AEAD an encrypted blob's chunks are sealed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DataCipher {
    Aes256Gcm,
    Sm4Gcm,
}

/// How a blob is encrypted: its data key, wrapped by the master key (or by the
/// local KMS key `kms_key`), and the nonce prefix of its chunks (see `core::sse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedKey {
    pub cipher: DataCipher,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms_key: Option<String>,
    /// Base64 of nonce, wrapped key and tag.
    pub wrapped: String,
    /// Hex of the random prefix of every chunk nonce.
    pub prefix: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggingConfig {
    pub target_bucket: String,
    pub target_prefix: String,
}

/// A bucket's static website: index and error documents, routing rules (OSS names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebsiteConfig {
    pub index: Option<IndexDocument>,
    pub error: Option<ErrorDocument>,
    /// In RuleNumber order.
    pub rules: Vec<RoutingRule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexDocument {
    pub suffix: String,
    pub support_sub_dir: bool,
    /// What a missing key without a trailing `/` gets (`Type`, 0 to 2).
    pub sub_dir_type: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDocument {
    pub key: String,
    pub http_status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub number: u32,
    pub key_prefix_equals: Option<String>,
    pub key_suffix_equals: Option<String>,
    pub http_error_code_returned_equals: Option<u16>,
    pub include_headers: Vec<IncludeHeader>,
    pub redirect: Redirect,
}

/// A request header a routing rule requires: present, and equal to, starting with or
/// ending with the values given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncludeHeader {
    pub key: String,
    pub equals: Option<String>,
    pub starts_with: Option<String>,
    pub ends_with: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redirect {
    pub redirect_type: RedirectType,
    pub protocol: Option<String>,
    pub host_name: Option<String>,
    pub http_redirect_code: Option<u16>,
    pub replace_key_with: Option<String>,
    pub replace_key_prefix_with: Option<String>,
    pub enable_replace_prefix: bool,
    pub pass_query_string: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RedirectType {
    /// A 3xx answer to another address.
    External,
    /// The other key of the same bucket, served in place.
    Internal,
}

/// A bucket's time-based retention policy, as InitiateBucketWorm made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WormConfig {
    /// The `x-oss-worm-id` it was created with.
    pub id: String,
    pub state: WormState,
    pub retention_days: u32,
    /// Unix milliseconds.
    pub created: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WormState {
    /// Created, not locked yet: it lapses 24 hours after creation.
    InProgress,
    /// Locked by CompleteBucketWorm: it can only be extended.
    Locked,
}

/// A named upload callback, selected by an upload's `{"callbackPolicy": name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackPolicy {
    pub name: String,
    /// The `callback` parameter (base64 JSON) it stands for.
    pub callback: String,
    /// The `callback-var` parameter (base64 JSON); empty when none.
    #[serde(default)]
    pub callback_var: String,
}

/// The versioning state of a bucket that has had versioning enabled (OSS and S3 never
/// return a bucket to "unversioned").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Versioning {
    Enabled,
    Suspended,
}

impl Versioning {
    /// The status as both APIs spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Suspended => "Suspended",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProcessConfig {
    /// `Img` or `Both`.
    pub complied_host: String,
    pub source_protect: bool,
    /// Suffixes (without the dot) or `*`, protected when `source_protect`.
    pub protect_suffixes: Vec<String>,
    /// A subset of `-`, `_`, `/`, `!`.
    pub delimiters: Vec<String>,
    pub oss_domain_support: bool,
}

/// A named image-processing chain (PutStyle).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Style {
    pub name: String,
    pub content: String,
    pub category: String,
    /// Unix milliseconds.
    pub created: i64,
    pub modified: i64,
}

/// PutBucketCors configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorsConfig {
    pub rules: Vec<CorsRule>,
    pub response_vary: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CorsRule {
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
}

/// When a lifecycle action applies (dates in unix ms, at midnight UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifecycleWhen {
    /// An age in days.
    Days(u32),
    /// OSS: to everything last modified before the date.
    CreatedBeforeDate(i64),
    /// S3 `Date`: to everything once the date has come.
    Date(i64),
}

/// One lifecycle rule, as OSS PutBucketLifecycle and S3 PutBucketLifecycleConfiguration
/// set it. Transitions are kept for GET only (one storage class here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LifecycleRule {
    pub id: String,
    pub prefix: String,
    pub enabled: bool,
    pub tags: Vec<(String, String)>,
    pub expiration: Option<LifecycleWhen>,
    pub abort_multipart: Option<LifecycleWhen>,
    pub transitions: Vec<(LifecycleWhen, String)>,
    /// Versioned buckets: remove a delete marker that is the only version of its key.
    #[serde(default)]
    pub expired_object_delete_marker: bool,
    /// Versioned buckets: remove noncurrent versions this many days after they
    /// became noncurrent.
    #[serde(default)]
    pub noncurrent_days: Option<u32>,
    /// NoncurrentVersionTransition: (NoncurrentDays, storage class), kept for GET only.
    #[serde(default)]
    pub noncurrent_transitions: Vec<(u32, String)>,
    /// Filter/Not: objects under one of these prefixes (carrying the tag, if one is
    /// given) are left alone.
    #[serde(default)]
    pub not: Vec<LifecycleNot>,
    /// Filter/ObjectSizeGreaterThan: only objects larger than this many bytes.
    #[serde(default)]
    pub size_greater_than: Option<u64>,
    /// Filter/ObjectSizeLessThan: only objects smaller than this many bytes.
    #[serde(default)]
    pub size_less_than: Option<u64>,
    /// Written through S3 with a `Filter` (S3 reads a rule back in the form it was
    /// written: `Filter` or the rule-level `Prefix` that OSS rules use).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub s3_filter: bool,
}

/// One Filter/Not of a lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleNot {
    pub prefix: String,
    pub tag: Option<(String, String)>,
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

/// A run of object bytes stored as one blob, or kept in the record itself. Normal
/// objects have one segment, multipart objects one per part, appendable objects one
/// per append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Empty when the bytes are `inline`.
    #[serde(default, skip_serializing_if = "BlobId::is_empty")]
    pub blob: BlobId,
    /// Plaintext bytes.
    pub size: u64,
    /// Set when the blob is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SealedKey>,
    /// The bytes of a small unencrypted object, kept in its record instead of a blob
    /// (`[storage] inline_bytes`): its PUT is one durable metadata write and its GET
    /// opens no blob.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<InlineBytes>,
}

impl Segment {
    /// The blob holding the bytes; None when they are inline.
    pub fn stored_blob(&self) -> Option<&BlobId> {
        self.inline.is_none().then_some(&self.blob)
    }
}

/// Bytes kept in a record. The metadata engines store them raw after the record's
/// JSON ([`Stored`]); anywhere else they serialize as base64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineBytes(pub bytes::Bytes);

/// How the metadata engines store a record: its JSON; for an object record with
/// inline segments, the JSON with those left empty, a NUL (which JSON text never
/// holds), and the segments' bytes in order, so that reading a small object decodes no
/// base64.
pub(crate) trait Stored: Sized {
    fn to_stored(&self) -> serde_json::Result<Vec<u8>>;
    fn from_stored(bytes: &[u8]) -> serde_json::Result<Self>;
}

macro_rules! stored_as_json {
    ($($t:ty),*) => {$(
        impl Stored for $t {
            fn to_stored(&self) -> serde_json::Result<Vec<u8>> {
                serde_json::to_vec(self)
            }
            fn from_stored(bytes: &[u8]) -> serde_json::Result<Self> {
                serde_json::from_slice(bytes)
            }
        }
    )*};
}

stored_as_json!(
    BucketRecord,
    AccountConfig,
    UploadRecord,
    PartRecord,
    CacheEntry
);

impl Stored for ObjectRecord {
    fn to_stored(&self) -> serde_json::Result<Vec<u8>> {
        if self.segments.iter().all(|s| s.inline.is_none()) {
            return serde_json::to_vec(self);
        }
        let mut record = self.clone();
        let mut tail = Vec::new();
        for inline in record.segments.iter_mut().filter_map(|s| s.inline.as_mut()) {
            tail.extend_from_slice(&std::mem::take(&mut inline.0));
        }
        let mut out = serde_json::to_vec(&record)?;
        out.push(0);
        out.extend_from_slice(&tail);
        Ok(out)
    }

    fn from_stored(bytes: &[u8]) -> serde_json::Result<Self> {
        let Some(nul) = memchr::memchr(0, bytes) else {
            return serde_json::from_slice(bytes);
        };
        let (json, tail) = (&bytes[..nul], &bytes[nul + 1..]);
        let mut record: ObjectRecord = serde_json::from_slice(json)?;
        let mut at = 0usize;
        for segment in &mut record.segments {
            if let Some(inline) = &mut segment.inline {
                let end = usize::try_from(segment.size)
                    .ok()
                    .and_then(|n| at.checked_add(n));
                let Some(data) = end.and_then(|end| tail.get(at..end)) else {
                    return Err(serde::de::Error::custom("inline bytes cut short"));
                };
                inline.0 = bytes::Bytes::copy_from_slice(data);
                at += data.len();
            }
        }
        if at != tail.len() {
            return Err(serde::de::Error::custom("inline bytes left over"));
        }
        Ok(record)
    }
}

impl Serialize for InlineBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for InlineBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(|b| Self(b.into()))
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectRecord {
    pub segments: Vec<Segment>,
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
    /// The object's ACL as S3 grants, when set through S3 with grants OSS's canned
    /// ACLs cannot say (another owner, authenticated-read, bucket-owner-*); `acl`
    /// then holds what OSS shows (see [`Acl::of_grants`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Vec<Grant>>,
    /// The account that wrote the object through S3, when not the bucket owner (S3
    /// objects belong to their writer; OSS's to the bucket owner).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub headers: ContentHeaders,
    /// `x-oss-meta-*` names (lower-case, without the prefix) and values.
    pub user_meta: Vec<(String, String)>,
    /// Object tags, in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Target key of a symlink (`x-oss-object-type: Symlink`).
    #[serde(default)]
    pub symlink_target: Option<String>,
    /// The additional checksum the object was uploaded with (S3 `x-amz-checksum-*`).
    #[serde(default)]
    pub checksum: Option<Checksum>,
    /// Each part's checksum (base64) of a multipart object uploaded with one
    /// (S3 GetObjectAttributes lists them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_checksums: Vec<String>,
    /// The version id; None for objects written while the bucket never had versioning
    /// (they are its "null" version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// A delete marker of a versioned bucket: no bytes, hides the older versions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// The last RestoreObject of a cold object (`core::restore` reads its state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreRecord>,
    /// The server-side encryption the object was written with (its segments carry
    /// the keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<Sse>,
}

impl ObjectRecord {
    /// The account that owns the object in `bucket`.
    pub fn owner<'a>(&'a self, bucket: &'a BucketRecord) -> &'a str {
        self.owner.as_deref().unwrap_or(&bucket.owner)
    }

    /// The object's S3 grants: those set through S3, else those of its canned ACL
    /// (owned by the bucket owner), else the bucket's (OSS `default`).
    pub fn grants(&self, bucket: &BucketRecord) -> Vec<Grant> {
        match (&self.grants, self.acl) {
            (Some(grants), _) => grants.clone(),
            (None, ObjectAcl::Set(acl)) => acl.grants(&bucket.owner),
            (None, ObjectAcl::Default) => bucket.grants(),
        }
    }
}

/// A RestoreObject of a cold object: the restored copy is readable from `ready_at`
/// until `expires_at` (unix milliseconds). The state at any time follows from these
/// two times, so every node answers the same without a background job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreRecord {
    pub ready_at: i64,
    pub expires_at: i64,
    /// The priority a ColdArchive or DeepColdArchive restore runs at (`Expedited`,
    /// `Standard`, `Bulk`); None for Archive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

/// The version id of objects written while versioning was off or suspended.
pub const NULL_VERSION: &str = "null";

impl ObjectRecord {
    pub fn blobs(&self) -> impl Iterator<Item = &BlobId> {
        self.segments.iter().filter_map(Segment::stored_blob)
    }

    /// The version id as the APIs name it (`null` for unversioned writes).
    pub fn version_label(&self) -> &str {
        self.version_id.as_deref().unwrap_or(NULL_VERSION)
    }

    /// When storing `new` over this current record keeps this one as a noncurrent
    /// version: `new` is another version (an overwrite of the same version, or an
    /// in-place change of ACL or tags, replaces it).
    pub(crate) fn archived_by(&self, new: &ObjectRecord) -> bool {
        new.version_id.is_some() && self.version_label() != new.version_label()
    }

    /// Where this version sorts among the noncurrent versions of its key, newest first:
    /// a version id starts with its creation time (see [`new_version_id`]); a `null`
    /// version sorts by its Last-Modified.
    pub(crate) fn version_order(&self) -> String {
        let micros =
            id_micros(self.version_label()).unwrap_or(self.last_modified.max(0) as u64 * 1000);
        format!("{:016x}{}", u64::MAX - micros, self.version_label())
    }
}

/// The creation time a version id made by [`new_version_id`] starts with.
fn id_micros(id: &str) -> Option<u64> {
    id.get(..16).and_then(|t| u64::from_str_radix(t, 16).ok())
}

/// A new version id: the creation time in microseconds (strictly increasing on this
/// node) and 64 random bits, in hex, so that versions sort by age.
pub fn new_version_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let prev = LAST.fetch_max(now, Ordering::Relaxed);
    let micros = if prev >= now {
        LAST.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        now
    };
    format!("{micros:016x}{:016x}", rand::random::<u64>())
}

/// Whether `id` can name a version: `null` or an id [`new_version_id`] made.
pub fn is_version_id(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A processed image kept by the result cache (see `core::image_cache`), under a key
/// derived from everything the result depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheEntry {
    pub blob: BlobId,
    pub size: u64,
    pub content_type: String,
    /// Last use, unix milliseconds: the order of eviction.
    pub used: i64,
}

/// What [`MetaStore::cache_update`] did: the blobs no entry holds any more (the
/// caller deletes them) and the cache's size after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CacheChange {
    pub unused: Vec<BlobId>,
    pub total: u64,
}

/// An unfinished multipart upload: the record the object will get (without
/// segments) and when it started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadRecord {
    pub upload_id: String,
    pub key: String,
    /// Unix milliseconds.
    pub initiated: i64,
    pub template: ObjectRecord,
    /// The checksum every part carries and the object gets (S3 CreateMultipartUpload).
    #[serde(default)]
    pub checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
    /// The account that initiated the upload (S3 lists it as Initiator and Owner);
    /// None for anonymous uploads and uploads stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initiator: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub blob: BlobId,
    pub size: u64,
    /// Set when the blob is encrypted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<SealedKey>,
    /// Upper-case hex MD5, without quotes.
    pub etag: String,
    pub crc64: u64,
    pub last_modified: i64,
    #[serde(default)]
    pub checksum: Option<Checksum>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("the bucket does not exist")]
    NoSuchBucket,
    #[error("the bucket is not empty")]
    BucketNotEmpty,
    #[error("the object already exists")]
    FileAlreadyExists,
    #[error("the object does not exist")]
    NoSuchKey,
    #[error("the multipart upload does not exist")]
    NoSuchUpload,
    #[error("the version does not exist")]
    NoSuchVersion,
    /// A rule of the operation refused the change (the API layer made the error).
    #[error("refused: {0}")]
    Refused(String),
    /// The disk holding the data is full ("no space left on device", or a quota).
    #[error("the data directory is out of space")]
    InsufficientStorage,
    #[error("storage failure: {0}")]
    Io(String),
}

impl From<io::Error> for StorageError {
    fn from(e: io::Error) -> Self {
        if reserve::is_storage_full(&e) {
            Self::InsufficientStorage
        } else {
            Self::Io(e.to_string())
        }
    }
}

/// The smallest string greater than every string that starts with `prefix`
/// (None when no such string exists): where an ordered scan of a prefix ends.
pub(crate) fn after_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if next == 0xD800 {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
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

/// ListObjectVersions parameters.
#[derive(Debug, Clone, Default)]
pub struct VersionQuery {
    pub prefix: String,
    pub delimiter: String,
    /// Start after this key (after all its versions, or after `version_id_marker` of it).
    pub key_marker: String,
    pub version_id_marker: String,
    pub max_keys: usize,
}

/// One entry of a version listing.
#[derive(Debug, Clone)]
pub struct VersionEntry {
    pub key: String,
    pub record: ObjectRecord,
    pub is_latest: bool,
}

#[derive(Debug, Clone, Default)]
pub struct VersionListing {
    pub versions: Vec<VersionEntry>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts, when truncated.
    pub next_key_marker: Option<String>,
    pub next_version_id_marker: Option<String>,
}

/// Where a scan of versions starts: at a key, or after one version of a key (`order`
/// "" is the current version, which sorts before the noncurrent ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSeek {
    AtOrAfter(String),
    After { key: String, order: String },
}

/// An order after that of every version of a key (orders are hex digits and a
/// version id).
pub const AFTER_EVERY_VERSION: &str = "~";

/// A row of a version scan: the key, the version's order ("" for the current
/// version) and its record.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub key: String,
    pub order: String,
    pub record: ObjectRecord,
}

/// ListObjectVersions over a backend's merged scan of current and noncurrent versions
/// in (key, newest first) order, rolled up at the delimiter. The scan begins at
/// `start`; with `skip_through` (key, order), that key's versions no older than the
/// order are passed over.
fn list_versions(
    query: &VersionQuery,
    start: VersionSeek,
    skip_through: Option<(&String, &String)>,
    mut scan: impl FnMut(&VersionSeek, usize) -> Result<Vec<VersionRow>, StorageError>,
) -> Result<VersionListing, StorageError> {
    const ROLLUP_BATCH: usize = 8;
    let mut listing = VersionListing::default();
    // Versions of the marker's key after the marker are never the latest.
    let mut seen_key = match &start {
        VersionSeek::After { key, .. } => Some(key.clone()),
        VersionSeek::AtOrAfter(_) => None,
    };
    // Keys before the prefix are skipped by seeking to it.
    let mut from = match start {
        VersionSeek::After { key, .. } if key < query.prefix => {
            VersionSeek::AtOrAfter(query.prefix.clone())
        }
        VersionSeek::AtOrAfter(k) => VersionSeek::AtOrAfter(k.max(query.prefix.clone())),
        after => after,
    };
    let mut batch = ROLLUP_BATCH;
    let mut count = 0;
    'scan: loop {
        let left = query.max_keys - count + 1;
        let limit = if query.delimiter.is_empty() {
            left
        } else {
            let n = batch.min(left);
            batch = batch.saturating_mul(2);
            n
        };
        let rows = scan(&from, limit)?;
        let fetched = rows.len();
        let mut next = None;
        for row in rows {
            if !row.key.starts_with(&query.prefix) {
                break 'scan;
            }
            next = Some(VersionSeek::After {
                key: row.key.clone(),
                order: row.order.clone(),
            });
            // Versions of the marker key up to the marker (by age) were listed before.
            if let Some((key, order)) = skip_through
                && row.key == *key
                && row.record.version_order() <= *order
            {
                seen_key = Some(row.key);
                continue;
            }
            let rest = &row.key[query.prefix.len()..];
            let common = (!query.delimiter.is_empty())
                .then(|| rest.find(&query.delimiter))
                .flatten()
                .map(|i| row.key[..query.prefix.len() + i + query.delimiter.len()].to_owned());
            if let Some(common) = &common
                // A prefix at or before the marker was returned on an earlier page.
                && (common.as_str() <= query.key_marker.as_str()
                    || listing.common_prefixes.last() == Some(common))
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
                    listing.next_key_marker = Some(common.clone());
                    listing.next_version_id_marker = None;
                    // Jump past every key under this common prefix.
                    match after_prefix(&common) {
                        Some(after) => next = Some(VersionSeek::AtOrAfter(after)),
                        None => break 'scan,
                    }
                    listing.common_prefixes.push(common);
                    batch = ROLLUP_BATCH;
                    break;
                }
                None => {
                    let is_latest = seen_key.as_deref() != Some(row.key.as_str());
                    seen_key = Some(row.key.clone());
                    listing.next_key_marker = Some(row.key.clone());
                    listing.next_version_id_marker = Some(row.record.version_label().to_owned());
                    listing.versions.push(VersionEntry {
                        key: row.key,
                        record: row.record,
                        is_latest,
                    });
                }
            }
        }
        let skipped = matches!(next, Some(VersionSeek::AtOrAfter(_)));
        match next {
            Some(n) if skipped || fetched == limit => from = n,
            _ => break,
        }
    }
    if !listing.truncated {
        listing.next_key_marker = None;
        listing.next_version_id_marker = None;
    }
    Ok(listing)
}

#[derive(Debug, Clone, Default)]
pub struct UploadQuery {
    pub prefix: String,
    pub delimiter: String,
    pub key_marker: String,
    pub upload_id_marker: String,
    pub max: usize,
}

#[derive(Debug, Clone, Default)]
pub struct UploadListing {
    pub uploads: Vec<UploadRecord>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
}

impl UploadListing {
    /// The key and upload-id markers after this page: the last upload, or the last
    /// common prefix (with no upload id) when that sorts later. OSS gives them even on
    /// the last page; S3 only when truncated.
    pub fn last_markers(&self) -> Option<(&str, &str)> {
        let upload = self
            .uploads
            .last()
            .map(|u| (u.key.as_str(), u.upload_id.as_str()));
        let prefix = self.common_prefixes.last().map(|p| (p.as_str(), ""));
        upload.into_iter().chain(prefix).max_by_key(|(key, _)| *key)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketStat {
    pub storage: u64,
    pub object_count: u64,
    pub multipart_upload_count: u64,
    pub multipart_part_count: u64,
    /// Unix milliseconds of the newest object.
    pub last_modified: i64,
}

/// Result of CreateBucket: OSS returns success for a bucket the caller already owns.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New,
    Existing(Box<BucketRecord>),
}

/// Metadata engine. Calls are synchronous and short; the API layer runs them on
/// the blocking pool.
pub trait MetaStore: Send + Sync + 'static {
    /// Reads are short work on this process's memory and page cache (an embedded
    /// engine), cheaper than a trip to the blocking pool: the server runs them on its
    /// async workers. Engines that wait on a network answer false.
    fn cheap_reads(&self) -> bool {
        false
    }
    /// Create `bucket` unless the name is taken; returns the existing record if it is.
    fn create_bucket(&self, bucket: &BucketRecord) -> Result<Created, StorageError>;
    /// The bucket's record, with its owner's [`AccountConfig`].
    fn get_bucket(&self, name: &str) -> Result<Option<BucketRecord>, StorageError>;
    /// An account's settings (the defaults when none were stored).
    fn get_account_config(&self, account: &str) -> Result<AccountConfig, StorageError>;
    fn put_account_config(&self, account: &str, config: &AccountConfig)
    -> Result<(), StorageError>;
    fn update_bucket(&self, bucket: &BucketRecord) -> Result<(), StorageError>;
    /// Refuses with `BucketNotEmpty` while objects or multipart uploads remain.
    fn delete_bucket(&self, name: &str) -> Result<(), StorageError>;
    /// Buckets of `owner` in name order, after `marker`, with `prefix`.
    fn list_buckets(
        &self,
        owner: &str,
        prefix: &str,
        marker: &str,
        max: usize,
    ) -> Result<(Vec<BucketRecord>, bool), StorageError>;

    /// The current version of `key` (never a delete marker).
    fn get_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError>;
    /// In one transaction: give `build` the current record (if any) and store what
    /// it returns as the current version (a delete marker hides the key instead). When
    /// the new record is another version (see [`ObjectRecord::archived_by`]) the
    /// current one is kept as a noncurrent version; a new `null` version replaces the
    /// noncurrent `null` version. Returns the replaced records; the caller deletes
    /// their blobs that the new record no longer uses.
    fn put_object_with(
        &self,
        bucket: &str,
        key: &str,
        build: &mut dyn FnMut(Option<&ObjectRecord>) -> Result<ObjectRecord, StorageError>,
    ) -> Result<Vec<ObjectRecord>, StorageError>;
    /// Store `record`; with `forbid_overwrite`, refuse when the key exists.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        record: &ObjectRecord,
        forbid_overwrite: bool,
    ) -> Result<Vec<ObjectRecord>, StorageError> {
        self.put_object_with(bucket, key, &mut |current| match current {
            Some(_) if forbid_overwrite => Err(StorageError::FileAlreadyExists),
            _ => Ok(record.clone()),
        })
    }
    /// Delete `key` if `condition` holds for its record; returns the deleted record.
    fn delete_object_if(
        &self,
        bucket: &str,
        key: &str,
        condition: &mut dyn FnMut(&ObjectRecord) -> bool,
    ) -> Result<Option<ObjectRecord>, StorageError>;
    fn delete_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>, StorageError> {
        self.delete_object_if(bucket, key, &mut |_| true)
    }
    /// An ordered range scan: keys after `start_after` that start with `prefix`,
    /// rolled up at `delimiter`.
    fn list_objects(&self, bucket: &str, query: &ListQuery) -> Result<Listing, StorageError>;

    /// Version `version_id` of `key`: the current one, a noncurrent one or a delete marker.
    fn get_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError>;
    /// In one transaction: replace version `version_id` of `key` by what `change` makes
    /// of it (ACL, tags: the same version, the same bytes). Returns the new record.
    fn update_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
        change: &mut dyn FnMut(&ObjectRecord) -> Result<ObjectRecord, StorageError>,
    ) -> Result<ObjectRecord, StorageError>;
    /// Remove version `version_id` of `key` for good. When no current version remains,
    /// the newest noncurrent one becomes current, unless it is a delete marker.
    /// Returns the removed record.
    fn delete_object_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<Option<ObjectRecord>, StorageError>;
    /// Up to `limit` versions from `from`, current and noncurrent merged in (key,
    /// order) order, the current version of a key (order "") first.
    fn scan_versions(
        &self,
        bucket: &str,
        from: &VersionSeek,
        limit: usize,
    ) -> Result<Vec<VersionRow>, StorageError>;
    /// ListObjectVersions: versions in key order, newest first, after the markers.
    fn list_object_versions(
        &self,
        bucket: &str,
        query: &VersionQuery,
    ) -> Result<VersionListing, StorageError> {
        let start = if query.key_marker.is_empty() {
            VersionSeek::AtOrAfter(String::new())
        } else if query.version_id_marker.is_empty() {
            VersionSeek::After {
                key: query.key_marker.clone(),
                order: AFTER_EVERY_VERSION.into(),
            }
        } else {
            // The marker key's versions newer than (or the same as) the marker are
            // skipped by their age, so a marker version removed meanwhile, or a version
            // made current since, still resumes at the right place (S3 accepts such
            // markers). A version id says its age; `null` needs its record (and when
            // it is gone, it was the oldest).
            let (key, id) = (&query.key_marker, &query.version_id_marker);
            let order = match id_micros(id).filter(|_| is_version_id(id)) {
                Some(micros) => format!("{:016x}{id}", u64::MAX - micros),
                None => match self.get_object_version(bucket, key, id)? {
                    Some(v) => v.version_order(),
                    None => AFTER_EVERY_VERSION.into(),
                },
            };
            return list_versions(
                query,
                VersionSeek::AtOrAfter(key.clone()),
                Some((key, &order)),
                |from, limit| self.scan_versions(bucket, from, limit),
            );
        };
        list_versions(query, start, None, |from, limit| {
            self.scan_versions(bucket, from, limit)
        })
    }

    fn create_upload(&self, bucket: &str, upload: &UploadRecord) -> Result<(), StorageError>;
    fn get_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Option<UploadRecord>, StorageError>;
    /// Store a part of an existing upload; returns the part it replaced.
    fn put_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        part: &PartRecord,
    ) -> Result<Option<PartRecord>, StorageError>;
    /// Parts after `after`, in number order.
    fn list_parts(
        &self,
        upload_id: &str,
        after: u32,
        max: usize,
    ) -> Result<(Vec<(u32, PartRecord)>, bool), StorageError>;
    /// In one transaction: give `build` the upload and all its parts, store the
    /// object it returns (as [`MetaStore::put_object_with`] does), remove the upload.
    /// Returns the replaced records and every part (the caller deletes blobs no record
    /// uses).
    #[allow(clippy::type_complexity)]
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
    ) -> Result<(Vec<ObjectRecord>, Vec<PartRecord>), StorageError>;
    /// Remove an upload; returns its parts.
    fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<PartRecord>, StorageError>;
    /// Uploads in (key, upload id) order after the markers, with `prefix`, rolled up at `delimiter`.
    fn list_uploads(
        &self,
        bucket: &str,
        query: &UploadQuery,
    ) -> Result<UploadListing, StorageError>;

    /// The result-cache entry under `key`.
    fn cache_get(&self, key: &str) -> Result<Option<CacheEntry>, StorageError>;
    /// In one transaction: record later uses of existing entries (`used`: key, unix
    /// ms), store `put` (replacing an entry under the same key), then evict the least
    /// recently used entries until the cache holds at most `max_bytes`.
    fn cache_update(
        &self,
        put: Option<(&str, &CacheEntry)>,
        used: &[(String, i64)],
        max_bytes: u64,
    ) -> Result<CacheChange, StorageError>;

    /// Every bucket, for background jobs.
    fn all_buckets(&self) -> Result<Vec<BucketRecord>, StorageError>;
    /// Sizes and counts for GetBucketStat (a scan of the bucket).
    fn bucket_stat(&self, bucket: &str) -> Result<BucketStat, StorageError>;
    /// Every blob referenced by a record (objects and their noncurrent versions, parts
    /// of open uploads, result-cache entries), for the orphan sweep.
    fn referenced_blobs(&self) -> Result<Vec<BlobId>, StorageError>;
    /// Take or renew the cluster-wide lease `name` for `holder` until `ttl_ms` from
    /// now; false while another holder's lease is unexpired. Background jobs run
    /// only on the node holding their lease; a dead holder's lease lapses.
    fn try_lease(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StorageError>;
    /// End `holder`'s lease `name` before it expires (nothing when another holds it), so
    /// that a short-lived lease leaves no row behind. One process (leases always held):
    /// nothing to do.
    fn release_lease(&self, _name: &str, _holder: &str) -> Result<(), StorageError> {
        Ok(())
    }
    /// Delete the leases that have expired, returning how many: a node that dies while
    /// it renders leaves one per render in flight, under a name nobody asks for again.
    /// An expired lease is free to take whether its row is there or not.
    fn purge_leases(&self) -> Result<u64, StorageError> {
        Ok(0)
    }
    /// Commit a write transaction that changes nothing a request sees, for `/-/readyz`:
    /// fails when the engine is unreachable or cannot write.
    fn probe(&self) -> Result<(), StorageError>;
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
    /// Append `len` bytes from `offset` to `out`, blocking the calling thread (for small
    /// bodies and for workers that need the bytes in memory anyway, such as images).
    fn read_blocking(
        &self,
        id: &BlobId,
        offset: u64,
        len: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<()>;
    /// As [`Self::read_blocking`], but only if that needs no wait for a device: false
    /// (and `out` as it was) when some of the bytes are not in memory. Called on async
    /// workers for small reads, which the blocking pool would cost more than.
    fn read_cached(
        &self,
        _id: &BlobId,
        _offset: u64,
        _len: u64,
        _out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        Ok(false)
    }
    fn delete(&self, id: &BlobId) -> BoxFuture<'_, io::Result<()>>;
    /// Remove unfinished writes and every blob not in `keep`; returns how many were
    /// removed. With `written_before` (unix ms), only what was written before it, so
    /// that blobs of writes still in flight on other nodes (stored, not yet
    /// committed) survive; without it, everything (no writer is running).
    fn sweep<'a>(
        &'a self,
        keep: &'a HashSet<BlobId>,
        written_before: Option<i64>,
    ) -> BoxFuture<'a, io::Result<usize>>;
    /// Abort the unfinished uploads of blobs begun before `begun_before` (unix ms) that
    /// the service keeps out of sight of `sweep` (S3 multipart uploads of a writer that
    /// died); returns how many were aborted.
    fn abort_stale_uploads(&self, begun_before: i64) -> BoxFuture<'_, io::Result<usize>>;
}

#[cfg(test)]
mod tests {
    use super::meta_conformance::{object, upload};
    use super::*;

    fn inline(bytes: &[u8]) -> Segment {
        Segment {
            blob: BlobId::default(),
            size: bytes.len() as u64,
            key: None,
            inline: Some(InlineBytes(bytes.to_vec().into())),
        }
    }

    #[test]
    fn inline_bytes_are_stored_raw_after_the_json() {
        let mut r = object("x");
        r.user_meta = vec![("m".into(), "nul\0inside".into())];
        r.segments = vec![
            inline(b"\0first\0"),
            r.segments[0].clone(),
            inline(b""),
            inline(b"end"),
        ];
        let stored = r.to_stored().unwrap();
        assert!(stored.ends_with(b"\0\0first\0end"), "{stored:?}");
        assert!(
            !stored.windows(4).any(|w| w == b"Zmly"),
            "no base64 of the bytes"
        );
        assert_eq!(ObjectRecord::from_stored(&stored).unwrap(), r);
        // A record without inline bytes is plain JSON, as before.
        let plain = object("y");
        assert_eq!(
            plain.to_stored().unwrap(),
            serde_json::to_vec(&plain).unwrap()
        );
        // Inline bytes written as base64 inside the JSON read back too.
        let json = serde_json::to_vec(&r).unwrap();
        assert_eq!(ObjectRecord::from_stored(&json).unwrap(), r);
        // A tail that does not match the segments is a corrupt record, not wrong bytes.
        for bad in [
            &stored[..stored.len() - 1],
            &[stored.as_slice(), b"!"].concat(),
        ] {
            assert!(ObjectRecord::from_stored(bad).is_err());
        }
        // A size no tail can hold is refused, not added up.
        let mut huge = r.clone();
        huge.segments[3].size = u64::MAX;
        assert!(ObjectRecord::from_stored(&huge.to_stored().unwrap()).is_err());
    }

    #[test]
    fn last_markers_name_the_last_upload_or_a_later_prefix() {
        let mut listing = UploadListing {
            uploads: vec![upload("a", "1"), upload("c", "2")],
            common_prefixes: vec!["b/".into()],
            truncated: false,
        };
        // Given on a complete listing too (OSS); S3 filters on `truncated`.
        assert_eq!(listing.last_markers(), Some(("c", "2")));
        listing.common_prefixes.push("d/".into());
        assert_eq!(listing.last_markers(), Some(("d/", "")));
        assert_eq!(UploadListing::default().last_markers(), None);
    }
}
