//! Object operations: durable writes with digests, reads with ranges and conditions,
//! delete, append, symlinks, ACL and tagging changes.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use md5::{Digest, Md5};

use super::access::refuse_public_object_acl;
use super::bucket_tags::TagLimits;
use super::checksum::{Checksum, ChecksumRequest};
use super::conditions::WriteCondition;
use super::conditions::{ByteRange, Conditions, Precondition, RangeRequest};
use super::crc64::{self, Crc64};
use super::sse::KeyRing;
use super::{CoreError, CoreResult, Refusal, Requester, Store, now_ms, worm};
use crate::access::{Action, Grant, ObjectAcl};
use crate::names::ObjectKey;
use crate::storage::{
    self, BlobId, BlobReader, BlobStore, BucketRecord, InlineBytes, NULL_VERSION, ObjectRecord,
    PartRecord, SealedKey, Segment, Sse, VersionSeek, Versioning,
};

/// A body that sends nothing for this long is abandoned (`RequestTimeout`).
const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Tag limits (the same in OSS and S3).
/// Bodies up to this size are read into memory in one go rather than streamed.
const SMALL_BODY: u64 = 256 * 1024;

/// A body written to the blob store (or kept for its record), with its digests.
pub struct StoredBody {
    /// Empty when the bytes are `inline`.
    pub blob: BlobId,
    /// The bytes, when small enough to be kept in the object record
    /// ([`BodyHome::RecordIfSmall`]).
    pub inline: Option<bytes::Bytes>,
    pub size: u64,
    pub md5: [u8; 16],
    pub crc64: u64,
    pub checksum: Option<Checksum>,
    /// The blob's data key, when it is encrypted.
    pub key: Option<SealedKey>,
}

impl StoredBody {
    pub fn segment(&self) -> Segment {
        Segment {
            blob: self.blob.clone(),
            size: self.size,
            key: self.key.clone(),
            inline: self.inline.clone().map(InlineBytes),
        }
    }

    /// The blob written for this body, if any: to remove when its commit fails.
    pub fn new_blobs(&self) -> &[BlobId] {
        match self.inline {
            Some(_) => &[],
            None => std::slice::from_ref(&self.blob),
        }
    }

    /// Make `record` describe these bytes: one segment, size, ETag, CRC-64, Content-MD5.
    pub fn fill(&self, record: &mut ObjectRecord) {
        record.segments = vec![self.segment()];
        record.size = self.size;
        record.etag = hex::encode_upper(self.md5);
        record.crc64 = self.crc64;
        record.content_md5 = Some(STANDARD.encode(self.md5));
        record.checksum = self.checksum.clone();
    }

    /// The record of these bytes as an upload part (stored with [`BodyHome::Blob`]).
    pub fn part(&self) -> PartRecord {
        debug_assert!(self.inline.is_none(), "parts are blobs");
        PartRecord {
            blob: self.blob.clone(),
            size: self.size,
            key: self.key.clone(),
            etag: hex::encode_upper(self.md5),
            crc64: self.crc64,
            last_modified: now_ms(),
            checksum: self.checksum.clone(),
        }
    }
}

/// The record of a new object without bytes yet: `object_type` (`Normal`,
/// `Appendable`, `Multipart`, `Symlink`), private-by-default ACL, no metadata.
pub fn new_record(object_type: &str, storage_class: &str) -> ObjectRecord {
    ObjectRecord {
        segments: vec![],
        size: 0,
        etag: String::new(),
        crc64: 0,
        content_md5: None,
        last_modified: now_ms(),
        object_type: object_type.into(),
        storage_class: storage_class.into(),
        acl: ObjectAcl::Default,
        grants: None,
        owner: None,
        headers: Default::default(),
        user_meta: vec![],
        tags: vec![],
        symlink_target: None,
        checksum: None,
        part_checksums: vec![],
        version_id: None,
        delete_marker: false,
        restore: None,
        sse: None,
    }
}

/// A new object without its own server-side encryption gets the bucket's default
/// (PutBucketEncryption).
pub fn apply_default_encryption(bucket: &BucketRecord, record: &mut ObjectRecord) {
    if record.sse.is_none() {
        record.sse = bucket.config.encryption.clone();
    }
}

/// The version id a new object written into `bucket` gets: a new one while versioning
/// is enabled, `null` while it is suspended, none if it was never enabled.
pub fn version_for_write(bucket: &BucketRecord) -> Option<String> {
    match bucket.config.versioning? {
        Versioning::Enabled => Some(storage::new_version_id()),
        Versioning::Suspended => Some(NULL_VERSION.into()),
    }
}

/// A `versionId` parameter: `null`, an id this server made, or one in the form real
/// OSS gives its ids (base64 of a record starting `CAEQ`), which names no version here
/// but is well-formed (NoSuchVersion rather than InvalidArgument, for ids carried over
/// from OSS).
pub fn parse_version_id(id: &str) -> CoreResult<&str> {
    let oss_form = id.starts_with("CAEQ")
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if storage::is_version_id(id) || oss_form {
        Ok(id)
    } else {
        Err(CoreError::InvalidVersionId {
            version_id: id.to_owned(),
        })
    }
}

/// Version `version_id` of `key` (None: the current one) for a read, or the error a
/// read of it gets: NoSuchKey or NoSuchVersion when it does not exist, DeleteMarker
/// when it is one. `current` is the current version when already loaded.
pub async fn read_version(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    version_id: Option<&str>,
    current: Option<ObjectRecord>,
) -> CoreResult<ObjectRecord> {
    let Some(id) = version_id else {
        return match current {
            Some(record) => Ok(record),
            None => Err(missing_current(store, bucket, key).await),
        };
    };
    let id = parse_version_id(id)?.to_owned();
    let record = match current.filter(|c| c.version_label() == id) {
        Some(record) => Some(record),
        None => {
            let (b, k, v) = (bucket.name.clone(), key.to_owned(), id.clone());
            store
                .meta(move |m| m.get_object_version(&b, &k, &v))
                .await?
        }
    };
    match record {
        Some(r) if r.delete_marker => Err(CoreError::DeleteMarker {
            key: key.to_owned(),
            version_id: id,
            requested: true,
        }),
        Some(r) => Ok(r),
        None => Err(CoreError::NoSuchVersion {
            key: key.to_owned(),
            version_id: id,
        }),
    }
}

/// The error for a key without a current version: NoSuchKey, saying so when the
/// latest version is a delete marker.
pub async fn missing_current(store: &Store, bucket: &BucketRecord, key: &str) -> CoreError {
    if bucket.config.versioning.is_some() {
        let (b, k) = (bucket.name.clone(), key.to_owned());
        let latest = store
            .meta(move |m| m.scan_versions(&b, &VersionSeek::AtOrAfter(k), 1))
            .await;
        if let Ok(rows) = latest
            && let Some(row) = rows
                .first()
                .filter(|r| r.key == key && r.record.delete_marker)
        {
            return CoreError::DeleteMarker {
                key: key.to_owned(),
                version_id: row.record.version_label().to_owned(),
                requested: false,
            };
        }
    }
    CoreError::no_such_key(key)
}

/// Bytes arriving from a client (or read from another object).
pub type ByteStream<'a> = BoxStream<'a, Result<bytes::Bytes, String>>;

/// What the client says a body hashes to: its Content-MD5 and an additional checksum.
#[derive(Default)]
pub struct Expected {
    pub md5: Option<[u8; 16]>,
    pub checksum: Option<ChecksumRequest>,
}

impl From<Option<[u8; 16]>> for Expected {
    fn from(md5: Option<[u8; 16]>) -> Self {
        Self {
            md5,
            checksum: None,
        }
    }
}

/// Where [`store_stream`] may keep a body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BodyHome {
    /// In the object record when it is unencrypted and at most [`Store::inline_max`]
    /// bytes, else a blob.
    RecordIfSmall,
    /// Always a blob: upload parts and appends, whose records gather many segments.
    Blob,
}

/// Stream bytes into a new blob, computing MD5, CRC-64 and any requested checksum on
/// the way, encrypted as `sse` asks. Memory stays bounded whatever the size; `limit`
/// is the largest size accepted, and the digests are checked against `expected`
/// before the blob becomes durable. A small body may instead be kept for its record
/// (`home`).
pub async fn store_stream(
    store: &Store,
    mut stream: ByteStream<'_>,
    limit: u64,
    expected: impl Into<Expected>,
    sse: Option<&Sse>,
    home: BodyHome,
) -> CoreResult<StoredBody> {
    let Expected {
        md5: expected_md5,
        checksum,
    } = expected.into();
    let (key, mut sealer) = match sse {
        Some(sse) => {
            let (keys, sse) = (store.keys.clone(), sse.clone());
            let (key, chunks) = tokio::task::spawn_blocking(move || keys.new_key(&sse))
                .await
                .map_err(CoreError::internal)??;
            (Some(key), Some(chunks))
        }
        None => (None, None),
    };
    let inline_max = match (home, &sealer) {
        (BodyHome::RecordIfSmall, None) if store.inline_max > 0 => store.inline_max,
        _ => 0,
    };
    // The bytes so far while they may still be kept inline; the blob writer once not.
    let mut held = (inline_max > 0).then(Vec::new);
    let mut writer = None;
    let mut md5 = Md5::new();
    let mut crc = Crc64::default();
    let mut extra = checksum.as_ref().map(|c| c.algorithm.hasher());
    let mut size = 0u64;
    loop {
        let next = tokio::time::timeout(BODY_IDLE_TIMEOUT, stream.next())
            .await
            .map_err(|_| CoreError::RequestTimeout)?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(CoreError::IncompleteBody)?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(CoreError::EntityTooLarge { limit });
        }
        md5.update(&chunk);
        crc.update(&chunk);
        if let Some(h) = &mut extra {
            h.update(&chunk);
        }
        if let Some(bytes) = held.as_mut().filter(|_| size <= inline_max) {
            bytes.extend_from_slice(&chunk);
            continue;
        }
        let writer = match &mut writer {
            Some(w) => w,
            None => writer.insert(open_blob(store, sealer.take()).await?),
        };
        if let Some(bytes) = held.take() {
            writer.write(&bytes).await?;
        }
        writer.write(&chunk).await?;
    }
    let md5: [u8; 16] = md5.finalize().into();
    if let Some(expected) = expected_md5
        && expected != md5
    {
        return Err(CoreError::InvalidDigest {
            calculated: STANDARD.encode(md5),
        });
    }
    let checksum = match (checksum, extra) {
        (Some(request), Some(h)) => Some(request.verify(h.finish())?),
        _ => None,
    };
    let (blob, inline) = match (writer, held) {
        (Some(writer), _) => (writer.finish().await?, None),
        (None, Some(bytes)) => (BlobId::default(), Some(bytes.into())),
        (None, None) => (open_blob(store, sealer).await?.finish().await?, None),
    };
    Ok(StoredBody {
        blob,
        inline,
        size,
        md5,
        crc64: crc.finish(),
        checksum,
        key,
    })
}

/// A new blob writer, sealing what is written when `sealer` is given.
async fn open_blob(
    store: &Store,
    sealer: Option<super::sse::Chunks>,
) -> CoreResult<Box<dyn storage::BlobWriter>> {
    let writer = store.blobs.create().await?;
    Ok(match sealer {
        Some(chunks) => Box::new(super::sse::SealingWriter::new(writer, chunks)),
        None => writer,
    })
}

/// The stream of an object's bytes, as a [`ByteStream`] for [`store_stream`], paced to
/// `bytes_per_second` when the copy is throttled.
pub fn copy_stream(
    stream: BoxStream<'static, std::io::Result<bytes::Bytes>>,
    bytes_per_second: Option<u64>,
) -> ByteStream<'static> {
    let stream = stream.map_err(|e| e.to_string());
    match bytes_per_second {
        Some(rate) => super::throttle::throttle(stream, rate).boxed(),
        None => stream.boxed(),
    }
}

/// A tagging header (`x-oss-tagging`, `x-amz-tagging`): URL-encoded `k=v` pairs joined
/// by `&` (a pair without `=` is a key with an empty value). None when a part is not
/// UTF-8 once decoded.
pub fn parse_tagging(value: &str) -> Option<Vec<(String, String)>> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    };
    value
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Check an object's tag set against a dialect's limits (every write that sets tags
/// and lifecycle Tag filters).
pub fn check_tags(tags: &[(String, String)], limits: TagLimits) -> CoreResult<()> {
    limits.check(tags).map_err(CoreError::InvalidTag)
}

/// PutObject: store `body` as `key` with the metadata of `template`.
pub async fn put_object(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    mut template: ObjectRecord,
    body: ByteStream<'_>,
    expected: impl Into<Expected>,
    condition: WriteCondition,
) -> CoreResult<ObjectRecord> {
    // Refused before the body is read.
    refuse_public_object_acl(bucket, &template)?;
    refuse_immutable(store, bucket, key).await?;
    apply_default_encryption(bucket, &mut template);
    let stored = store_stream(
        store,
        body,
        store.max_object_size,
        expected,
        template.sse.as_ref(),
        BodyHome::RecordIfSmall,
    )
    .await?;
    stored.fill(&mut template);
    commit_record(store, bucket, key, stored.new_blobs(), template, condition).await
}

/// FileImmutable when a retention policy protects the current `key`, known before a
/// body is read (the commit checks again).
async fn refuse_immutable(store: &Store, bucket: &BucketRecord, key: &str) -> CoreResult<()> {
    if worm::in_force(bucket.config.worm.as_ref(), now_ms()).is_none() {
        return Ok(());
    }
    let (b, k) = (bucket.name.clone(), key.to_owned());
    let current = store.meta_read(move |m| m.get_object(&b, &k)).await?;
    worm::check_change(bucket, current.as_ref(), now_ms())
}

/// Store the record `build` makes from the current one, in one transaction.
/// `new_blobs` are blobs written for this request: removed if the commit fails.
/// Blobs of the replaced record that the new one no longer uses are removed.
pub async fn commit(
    store: &Store,
    bucket: &str,
    key: &str,
    new_blobs: &[BlobId],
    build: impl Fn(
        Option<&ObjectRecord>,
        &Refusal,
    ) -> Result<ObjectRecord, crate::storage::StorageError>
    + Send
    + 'static,
) -> CoreResult<ObjectRecord> {
    let refusal = Arc::new(Refusal::default());
    let (b, k, slot) = (bucket.to_owned(), key.to_owned(), refusal.clone());
    let meta = store.meta.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut made = None;
        let replaced = meta.put_object_with(&b, &k, &mut |current| {
            let record = build(current, &slot)?;
            made = Some(record.clone());
            Ok(record)
        })?;
        Ok((replaced, made.expect("built on success")))
    })
    .await
    .map_err(CoreError::internal)?;
    match result {
        Ok((replaced, record)) => {
            for old in replaced {
                remove_unused(store, old.blobs(), &record).await;
            }
            Ok(record)
        }
        Err(e) => {
            for blob in new_blobs {
                remove_blob(store, blob).await;
            }
            Err(match refusal.explain(e) {
                CoreError::NoSuchBucket { .. } => CoreError::no_such_bucket(bucket),
                e => e,
            })
        }
    }
}

/// Store `record` as a new version of `key` if the current object meets
/// `condition`; see [`commit`].
pub async fn commit_record(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    new_blobs: &[BlobId],
    mut record: ObjectRecord,
    condition: WriteCondition,
) -> CoreResult<ObjectRecord> {
    if let Err(e) = refuse_public_object_acl(bucket, &record) {
        for blob in new_blobs {
            remove_blob(store, blob).await;
        }
        return Err(e);
    }
    record.version_id = version_for_write(bucket);
    let key_owned = key.to_owned();
    let bucket_record = bucket.clone();
    commit(
        store,
        &bucket.name,
        key,
        new_blobs,
        move |current, refusal| {
            condition
                .check(key_owned.as_str(), current)
                .map_err(|e| refusal.refuse(e))?;
            worm::check_change(&bucket_record, current, now_ms()).map_err(|e| refusal.refuse(e))?;
            Ok(record.clone())
        },
    )
    .await
}

/// Remove `blobs` that `kept` does not reference.
pub async fn remove_unused<'a>(
    store: &Store,
    blobs: impl Iterator<Item = &'a BlobId>,
    kept: &ObjectRecord,
) {
    for blob in blobs {
        if !kept.blobs().any(|b| b == blob) {
            remove_blob(store, blob).await;
        }
    }
}

pub async fn remove_blob(store: &Store, blob: &BlobId) {
    let (blobs, blob) = (store.blobs.clone(), blob.clone());
    let delete = async move {
        if let Err(e) = blobs.delete(&blob).await {
            // The orphan sweep removes it later.
            tracing::warn!(blob = %blob.0, "cannot delete unreferenced blob: {e}");
        }
    };
    match store.blob_delete_delay {
        None => delete.await,
        // Should this node die first, the orphan sweep removes it.
        Some(delay) => {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                delete.await
            });
        }
    }
}

/// The segment pieces `(segment, offset, len)` holding `len` bytes of `o` from `offset`.
fn pieces(o: &ObjectRecord, offset: u64, len: u64) -> Vec<(Segment, u64, u64)> {
    let mut pieces = Vec::new();
    let mut start = 0;
    for s in &o.segments {
        let end = start + s.size;
        if end > offset && start < offset + len {
            let from = offset.max(start) - start;
            let to = (offset + len).min(end) - start;
            pieces.push((s.clone(), from, to - from));
        }
        start = end;
    }
    pieces
}

/// `len` bytes from `offset` of a segment kept in its record.
fn inline_piece(segment: &Segment, offset: u64, len: u64) -> Option<bytes::Bytes> {
    let bytes = &segment.inline.as_ref()?.0;
    Some(bytes.slice(offset as usize..(offset + len) as usize))
}

/// The plaintext of `len` bytes from `offset` of one segment, as a stream.
async fn open_piece(
    blobs: &dyn BlobStore,
    keys: &KeyRing,
    segment: &Segment,
    offset: u64,
    len: u64,
) -> std::io::Result<BoxStream<'static, std::io::Result<bytes::Bytes>>> {
    if let Some(bytes) = inline_piece(segment, offset, len) {
        return Ok(futures_util::stream::once(std::future::ready(Ok(bytes))).boxed());
    }
    let Some(key) = &segment.key else {
        let reader = blobs.open(&segment.blob, offset, len).await?;
        return Ok(tokio_util::io::ReaderStream::with_capacity(reader, 256 * 1024).boxed());
    };
    let chunks = keys.chunks(key)?;
    let (start, n) = super::sse::stored_span(segment.size, offset, len);
    let reader: BlobReader = blobs.open(&segment.blob, start, n).await?;
    Ok(super::sse::decrypt_stream(
        chunks,
        segment.size,
        offset,
        len,
        reader,
    ))
}

/// Read `len` bytes from `offset` of an object, across its segments, decrypting
/// encrypted ones. The first segment is opened before returning, so a blob replaced
/// meanwhile is noticed (NotFound) while the response can still change.
pub async fn open_range(
    store: &Store,
    o: &ObjectRecord,
    offset: u64,
    len: u64,
) -> std::io::Result<BoxStream<'static, std::io::Result<bytes::Bytes>>> {
    let (blobs, keys) = (store.blobs.clone(), store.keys.clone());
    let mut pieces = pieces(o, offset, len).into_iter();
    let first = match pieces.next() {
        Some((segment, from, n)) => {
            Some(open_piece(blobs.as_ref(), &keys, &segment, from, n).await?)
        }
        None => None,
    };
    let rest = futures_util::stream::iter(pieces).then(move |(segment, from, n)| {
        let (blobs, keys) = (blobs.clone(), keys.clone());
        async move { open_piece(blobs.as_ref(), &keys, &segment, from, n).await }
    });
    let streams = futures_util::stream::iter(first.map(Ok)).chain(rest);
    Ok(streams.try_flatten().boxed())
}

/// `len` bytes of `o` from `offset`, read (and decrypted) on the calling thread into
/// one buffer.
pub fn read_range_blocking(
    store: &Store,
    o: &ObjectRecord,
    offset: u64,
    len: u64,
) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len as usize);
    for (segment, from, n) in pieces(o, offset, len) {
        if let Some(bytes) = inline_piece(&segment, from, n) {
            out.extend_from_slice(&bytes);
            continue;
        }
        match &segment.key {
            None => store
                .blobs
                .read_blocking(&segment.blob, from, n, &mut out)?,
            Some(key) => super::sse::read_blocking(
                &store.keys.chunks(key)?,
                segment.size,
                from,
                n,
                |at, n, buf| store.blobs.read_blocking(&segment.blob, at, n, buf),
                &mut out,
            )?,
        }
    }
    Ok(out)
}

/// The bytes of a small read when the blob store holds them all in memory (see
/// [`crate::storage::BlobStore::read_cached`]); None when some would need a wait for a
/// device, or decryption.
fn read_range_cached(
    store: &Store,
    o: &ObjectRecord,
    offset: u64,
    len: u64,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut out = Vec::with_capacity(len as usize);
    for (segment, from, n) in pieces(o, offset, len) {
        if let Some(bytes) = inline_piece(&segment, from, n) {
            out.extend_from_slice(&bytes);
        } else if segment.key.is_some()
            || !store.blobs.read_cached(&segment.blob, from, n, &mut out)?
        {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// Follow a symlink record to its target (same bucket). Reading through a link needs
/// the same GetObject right on the target as reading the target directly, so a link
/// never grants what the target's ACL or a policy refuses. A target that is itself a
/// symlink is refused (OSS follows one link only).
pub async fn resolve_symlink(
    store: &Store,
    requester: &Requester,
    bucket: &BucketRecord,
    link: ObjectRecord,
) -> CoreResult<ObjectRecord> {
    let Some(target) = link.symlink_target else {
        return Ok(link);
    };
    let (b, t) = (bucket.name.clone(), target.clone());
    let record = match store.meta_read(move |m| m.get_object(&b, &t)).await? {
        None => return Err(CoreError::SymlinkTargetNotExist { target }),
        Some(r) if r.symlink_target.is_some() => {
            return Err(CoreError::InvalidTargetType { target });
        }
        Some(r) => r,
    };
    requester.authorize(
        Action::GetObject,
        Some(bucket),
        None,
        Some(&target),
        Some(&record),
    )?;
    Ok(record)
}

/// What a GET or HEAD of a symlink describes, as OSS answers it: the target's bytes,
/// size, ETag, Content-MD5 and CRC-64, the later of the two Last-Modified times, and
/// the link's own type (`Symlink`), storage class, ACL, metadata and tags. The link's
/// Content-Type wins when it has one.
pub fn seen_through(link: &ObjectRecord, target: ObjectRecord) -> ObjectRecord {
    let mut out = link.clone();
    out.last_modified = link.last_modified.max(target.last_modified);
    if out.headers.content_type.is_none() {
        out.headers.content_type = target.headers.content_type;
    }
    out.segments = target.segments;
    out.size = target.size;
    out.etag = target.etag;
    out.crc64 = target.crc64;
    out.content_md5 = target.content_md5;
    out.sse = target.sse;
    out
}

/// What a GetObject asks beyond the object itself.
#[derive(Debug, Clone, Default)]
pub struct GetObject {
    pub conditions: Conditions,
    pub range: Option<RangeRequest>,
    /// HEAD: the record and range only, no bytes.
    pub head: bool,
}

/// The bytes of a read.
pub enum ObjectBody {
    Empty,
    Bytes(Vec<u8>),
    Stream(BoxStream<'static, std::io::Result<bytes::Bytes>>),
}

pub enum GetOutcome {
    /// A condition says the client's copy is current (304).
    NotModified(ObjectRecord),
    Found {
        record: ObjectRecord,
        range: Option<ByteRange>,
        body: ObjectBody,
    },
}

/// GetObject/HeadObject of `link` (the record the request's key names), following a
/// symlink, checking conditions and resolving the range.
pub async fn get_object(
    store: &Store,
    requester: &Requester,
    bucket: &BucketRecord,
    key: &str,
    link: ObjectRecord,
    request: &GetObject,
) -> CoreResult<GetOutcome> {
    let target_key = link
        .symlink_target
        .clone()
        .unwrap_or_else(|| key.to_owned());
    let through = link.symlink_target.is_some().then(|| link.clone());
    let view = |target: ObjectRecord| match &through {
        Some(link) => seen_through(link, target),
        None => target,
    };
    let target = resolve_symlink(store, requester, bucket, link).await?;
    // The bytes of a cold object need a restore; its metadata (HEAD) does not.
    if !request.head {
        super::restore::check_readable(bucket, &target, now_ms())?;
    }
    let mut record = view(target);
    // A concurrent overwrite may delete a blob between reading the record and
    // opening it; the newer record then names blobs that exist.
    for _ in 0..3 {
        if let Some(outcome) = read_record(store, record, request).await? {
            return Ok(outcome);
        }
        let (b, k) = (bucket.name.clone(), target_key.clone());
        record = view(
            store
                .meta_read(move |m| m.get_object(&b, &k))
                .await?
                .ok_or_else(|| CoreError::no_such_key(key))?,
        );
    }
    Err(CoreError::internal(format!(
        "the data of {}/{key} keeps disappearing",
        bucket.name
    )))
}

/// The outcome for one record, or None when its blobs have just been replaced.
async fn read_record(
    store: &Store,
    o: ObjectRecord,
    request: &GetObject,
) -> CoreResult<Option<GetOutcome>> {
    if request.conditions.check(&o.etag, o.last_modified)? == Precondition::NotModified {
        return Ok(Some(GetOutcome::NotModified(o)));
    }
    let range = match &request.range {
        Some(r) => r.resolve(o.size)?,
        None => None,
    };
    let (offset, len) = range.map_or((0, o.size), |r| (r.start, r.size()));
    let body = if request.head {
        Ok(ObjectBody::Empty)
    } else if len <= SMALL_BODY {
        match read_range_cached(store, &o, offset, len) {
            Ok(Some(bytes)) => Ok(ObjectBody::Bytes(bytes)),
            // One trip to the blocking pool instead of one per open/read.
            Ok(None) => {
                let (store, record) = (store.clone(), o.clone());
                tokio::task::spawn_blocking(move || {
                    read_range_blocking(&store, &record, offset, len)
                })
                .await
                .map_err(CoreError::internal)?
                .map(ObjectBody::Bytes)
            }
            Err(e) => Err(e),
        }
    } else {
        open_range(store, &o, offset, len)
            .await
            .map(ObjectBody::Stream)
    };
    match body {
        Ok(body) => Ok(Some(GetOutcome::Found {
            record: o,
            range,
            body,
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What a DeleteObject did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The version removed, or the delete marker made (versioned buckets).
    pub version_id: Option<String>,
    /// A delete marker was made, or the version removed was one.
    pub delete_marker: bool,
}

/// DeleteObject: without `version_id`, the current version goes (its blobs with it), or
/// in a versioned bucket a delete marker hides it; with `version_id`, that version is
/// removed for good. Deleting what does not exist succeeds.
pub async fn delete_object(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    version_id: Option<&str>,
) -> CoreResult<Deleted> {
    let (b, k) = (bucket.name.clone(), key.to_owned());
    if let Some(id) = version_id {
        let id = parse_version_id(id)?.to_owned();
        let v = id.clone();
        let removed = store
            .meta(move |m| m.delete_object_version(&b, &k, &v))
            .await?;
        let delete_marker = removed.as_ref().is_some_and(|r| r.delete_marker);
        for blob in removed.iter().flat_map(ObjectRecord::blobs) {
            remove_blob(store, blob).await;
        }
        return Ok(Deleted {
            version_id: Some(id),
            delete_marker,
        });
    }
    let Some(marker_id) = version_for_write(bucket) else {
        let bucket_record = bucket.clone();
        let (removed, immutable) = store
            .meta(move |m| {
                let mut immutable = false;
                let removed = m.delete_object_if(&b, &k, &mut |current| {
                    immutable = worm::is_protected(&bucket_record, current, now_ms());
                    !immutable
                })?;
                Ok((removed, immutable))
            })
            .await?;
        if immutable {
            return Err(CoreError::FileImmutable);
        }
        for blob in removed.iter().flat_map(ObjectRecord::blobs) {
            remove_blob(store, blob).await;
        }
        return Ok(Deleted::default());
    };
    let mut marker = new_record("DeleteMarker", &bucket.storage_class);
    marker.delete_marker = true;
    marker.version_id = Some(marker_id.clone());
    commit(
        store,
        &bucket.name,
        key,
        &[],
        move |_, _| Ok(marker.clone()),
    )
    .await?;
    Ok(Deleted {
        version_id: Some(marker_id),
        delete_marker: true,
    })
}

/// Change an existing object's record without touching its bytes: the current
/// version, or version `version_id`. A delete marker has nothing to change.
pub async fn update_record(
    store: &Store,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    change: impl Fn(&mut ObjectRecord) + Send + 'static,
) -> CoreResult<ObjectRecord> {
    try_update_record(store, bucket, key, version_id, move |r| {
        change(r);
        Ok(())
    })
    .await
}

/// [`update_record`] with a change that may refuse, in the same transaction.
pub async fn try_update_record(
    store: &Store,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    change: impl Fn(&mut ObjectRecord) -> CoreResult<()> + Send + 'static,
) -> CoreResult<ObjectRecord> {
    let Some(id) = version_id else {
        let k = key.to_owned();
        return commit(store, bucket, key, &[], move |current, refusal| {
            let mut record = current
                .cloned()
                .ok_or_else(|| refusal.refuse(CoreError::no_such_key(&k)))?;
            change(&mut record).map_err(|e| refusal.refuse(e))?;
            Ok(record)
        })
        .await;
    };
    let id = parse_version_id(id)?.to_owned();
    let refusal = Arc::new(Refusal::default());
    let (b, k, v, slot) = (
        bucket.to_owned(),
        key.to_owned(),
        id.clone(),
        refusal.clone(),
    );
    let result = store
        .meta(move |m| {
            Ok(m.update_object_version(&b, &k, &v, &mut |old| {
                if old.delete_marker {
                    return Err(slot.refuse(CoreError::DeleteMarker {
                        key: k.clone(),
                        version_id: v.clone(),
                        requested: true,
                    }));
                }
                let mut record = old.clone();
                change(&mut record).map_err(|e| slot.refuse(e))?;
                Ok(record)
            }))
        })
        .await?;
    result.map_err(|e| match refusal.explain(e) {
        CoreError::NoSuchVersion { .. } => CoreError::NoSuchVersion {
            key: key.to_owned(),
            version_id: id,
        },
        e => e,
    })
}

pub async fn put_object_acl(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    version_id: Option<&str>,
    acl: ObjectAcl,
    grants: Option<Vec<Grant>>,
) -> CoreResult<()> {
    let new = ObjectRecord {
        acl,
        grants,
        ..new_record("Normal", "")
    };
    refuse_public_object_acl(bucket, &new)?;
    update_record(store, &bucket.name, key, version_id, move |r| {
        r.acl = new.acl;
        r.grants = new.grants.clone();
    })
    .await?;
    Ok(())
}

pub async fn put_object_tagging(
    store: &Store,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    tags: Vec<(String, String)>,
    limits: TagLimits,
) -> CoreResult<()> {
    check_tags(&tags, limits)?;
    update_record(store, bucket, key, version_id, move |r| {
        r.tags = tags.clone()
    })
    .await?;
    Ok(())
}

pub async fn delete_object_tagging(
    store: &Store,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> CoreResult<()> {
    update_record(store, bucket, key, version_id, |r| r.tags.clear()).await?;
    Ok(())
}

/// PutSymlink: a record without bytes naming `target`, with the metadata of `template`.
pub async fn put_symlink(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    target: &ObjectKey,
    mut template: ObjectRecord,
    condition: WriteCondition,
) -> CoreResult<ObjectRecord> {
    // A link has no bytes to encrypt.
    template.sse = None;
    template.etag = hex::encode_upper(Md5::digest(target.as_str().as_bytes()));
    template.symlink_target = Some(target.as_str().to_owned());
    commit_record(store, bucket, key, &[], template, condition).await
}

/// The target of a symlink record.
pub fn get_symlink<'a>(key: &str, record: &'a ObjectRecord) -> CoreResult<&'a str> {
    record
        .symlink_target
        .as_deref()
        .ok_or_else(|| CoreError::NotSymlink {
            key: key.to_owned(),
        })
}

/// AppendObject: add `body` at `position`, which must be the object's length (0 for
/// a new object), as one transaction with the position check.
#[allow(clippy::too_many_arguments)]
pub async fn append_object(
    store: &Store,
    bucket: &BucketRecord,
    key: &str,
    position: u64,
    template: ObjectRecord,
    body: ByteStream<'_>,
    expected_md5: Option<[u8; 16]>,
) -> CoreResult<ObjectRecord> {
    let mismatch = |current: u64| CoreError::PositionNotEqualToLength {
        next_position: current,
    };
    // Refuse before reading the body when the answer is already known.
    let mut template = template;
    let (b, k) = (bucket.name.clone(), key.to_owned());
    let sse = match store.meta(move |m| m.get_object(&b, &k)).await? {
        Some(o) if o.object_type != "Appendable" => return Err(CoreError::ObjectNotAppendable),
        Some(o) if o.size != position => return Err(mismatch(o.size)),
        None if position != 0 => return Err(mismatch(0)),
        Some(o) => {
            worm::check_change(bucket, Some(&o), now_ms())?;
            // The first append's encryption holds for the later ones (OSS).
            o.sse
        }
        None => {
            apply_default_encryption(bucket, &mut template);
            template.sse.clone()
        }
    };
    let limit = store.max_object_size;
    let stored = store_stream(
        store,
        body,
        limit,
        expected_md5,
        sse.as_ref(),
        BodyHome::Blob,
    )
    .await?;
    let segment = stored.segment();
    let (size, crc) = (stored.size, stored.crc64);
    // An appendable object of a versioned bucket is its `null` version (OSS).
    if bucket.config.versioning.is_some() {
        template.version_id = Some(NULL_VERSION.into());
    }
    let bucket_record = bucket.clone();
    commit(
        store,
        &bucket.name,
        key,
        stored.new_blobs(),
        move |current, refusal| {
            let mut record = match current {
                None if position == 0 => template.clone(),
                None => return Err(refusal.refuse(mismatch(0))),
                Some(o) if o.object_type != "Appendable" => {
                    return Err(refusal.refuse(CoreError::ObjectNotAppendable));
                }
                Some(o) if o.size != position => return Err(refusal.refuse(mismatch(o.size))),
                Some(o) => {
                    worm::check_change(&bucket_record, Some(o), now_ms())
                        .map_err(|e| refusal.refuse(e))?;
                    o.clone()
                }
            };
            if record.size + size > limit {
                return Err(refusal.refuse(CoreError::EntityTooLarge { limit }));
            }
            record.crc64 = crc64::combine(record.crc64, crc, size);
            record.size += size;
            record.segments.push(segment.clone());
            record.last_modified = now_ms();
            // OSS does not document the appendable ETag; it changes with every append.
            record.etag = format!("{:016X}{:016X}", record.crc64, record.size);
            Ok(record)
        },
    )
    .await
}
