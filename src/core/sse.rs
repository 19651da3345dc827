//! Server-side encryption at rest. Every encrypted blob has its own random data key,
//! wrapped (AES-256-GCM) by a key derived from the master key: the master key itself
//! for AES256 and SM4, a key derived per KMS key id for KMS (local named keys). The
//! blob is a run of chunks of [`CHUNK`] plaintext bytes, each sealed on its own
//! (AES-256-GCM, or SM4-GCM for SM4) under a nonce made of the blob's random prefix,
//! the chunk index and a final-chunk flag (the STREAM construction), so that chunks
//! cannot be reordered, dropped or cut short, and a ranged read decrypts only the
//! chunks it needs. Sizes, ETags and CRC-64s stay those of the plaintext.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, AesGcm};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::AsyncReadExt;

use crate::storage::{BlobId, BlobReader, BlobWriter, DataCipher, SealedKey, Sse, SseAlgorithm};

/// Plaintext bytes per chunk.
pub const CHUNK: u64 = 64 * 1024;
/// The name of the KMS key used when a KMS write names none. OSS answers such a write
/// with its default CMK's id in `x-oss-server-side-encryption-key-id` (SDKs and the
/// oss2 suite read it back); this is ossify's, and naming it picks the same key.
pub const DEFAULT_KMS_KEY_ID: &str = "ossify-default-kms-key";

/// The KMS key id an object encrypted with `sse` reports: the one named, or the
/// default key's (None when `sse` is no KMS encryption).
pub fn kms_key_id(sse: &Sse) -> Option<&str> {
    (sse.algorithm == SseAlgorithm::Kms)
        .then(|| sse.key_id.as_deref().unwrap_or(DEFAULT_KMS_KEY_ID))
}
/// What sealing adds to each chunk (the GCM tag).
const TAG: u64 = 16;
const PREFIX: usize = 7;

type Sm4Gcm = AesGcm<sm4::Sm4, aes_gcm::aead::consts::U12>;

/// The master key: a file of 32 random bytes (mode 0600), read when the server starts
/// if it exists, created on the first encrypted write otherwise.
pub struct KeyRing {
    path: PathBuf,
    master: OnceLock<[u8; 32]>,
    /// Whether a missing key may be created here. Not on one node of many with
    /// per-node data directories: each would make its own, and none could read the
    /// others' objects.
    may_create: bool,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("path", &self.path).finish()
    }
}

impl KeyRing {
    /// The key ring of the master key file at `path`, read now if it exists; created
    /// on the first encrypted write only if `may_create`.
    pub fn open(path: &Path, may_create: bool) -> io::Result<Self> {
        let ring = Self {
            path: path.to_owned(),
            master: OnceLock::new(),
            may_create,
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let _ = ring.master.set(parse_master(path, &bytes)?);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(ring)
    }

    /// The master key, created (and written with mode 0600) if there is none yet.
    /// Several nodes racing to create it agree: the file is linked into place only
    /// if absent, and the loser reads the winner's.
    fn master(&self, create: bool) -> io::Result<&[u8; 32]> {
        if let Some(key) = self.master.get() {
            return Ok(key);
        }
        let key = match std::fs::read(&self.path) {
            Ok(bytes) => parse_master(&self.path, &bytes)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound && create && !self.may_create => {
                return Err(io::Error::other(format!(
                    "server-side encryption needs one master key on every node of a shared store: put one (64 hex digits; `openssl rand -hex 32`) in a file every node reads and name it in [server] master_key_file (now {})",
                    self.path.display()
                )));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && create => self.create()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(io::Error::other(format!(
                    "the master key {} is missing: encrypted objects cannot be read without it (restore it from a backup)",
                    self.path.display()
                )));
            }
            Err(e) => return Err(e),
        };
        Ok(self.master.get_or_init(|| key))
    }

    fn create(&self) -> io::Result<[u8; 32]> {
        use std::io::Write;
        let key: [u8; 32] = rand::random();
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temp = self
            .path
            .with_extension(format!("tmp{:016x}", rand::random::<u64>()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(hex::encode(key).as_bytes())?;
        file.sync_all()?;
        drop(file);
        let linked = std::fs::hard_link(&temp, &self.path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => {
                tracing::info!(path = %self.path.display(), "created the server-side encryption master key; back it up: objects encrypted with it are lost without it");
                Ok(key)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                parse_master(&self.path, &std::fs::read(&self.path)?)
            }
            Err(e) => Err(e),
        }
    }

    /// The key that wraps data keys: one per KMS key id, one for everything else.
    fn wrapping_key(&self, kms_key: Option<&str>, create: bool) -> io::Result<Aes256Gcm> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(self.master(create)?)
            .expect("HMAC takes any key");
        match kms_key {
            Some(id) => {
                mac.update(b"ossify kms key\0");
                mac.update(id.as_bytes());
            }
            None => mac.update(b"ossify master key\0"),
        }
        let key = mac.finalize().into_bytes();
        Ok(Aes256Gcm::new_from_slice(&key).expect("32-byte key"))
    }

    /// A new data key for a blob written with `sse`, wrapped, and its chunk sealer.
    pub fn new_key(&self, sse: &Sse) -> io::Result<(SealedKey, Chunks)> {
        let cipher = match sse.algorithm {
            SseAlgorithm::Sm4 => DataCipher::Sm4Gcm,
            SseAlgorithm::Kms if sse.data_sm4 => DataCipher::Sm4Gcm,
            _ => DataCipher::Aes256Gcm,
        };
        // A KMS request without a key id, or naming the default one, uses the default
        // key (OSS: the managed CMK), whose wrapping key is derived from "".
        let kms_key =
            kms_key_id(sse).map(|id| if id == DEFAULT_KMS_KEY_ID { "" } else { id }.to_owned());
        let data_key: [u8; 32] = rand::random();
        let prefix: [u8; PREFIX] = rand::random();
        let nonce: [u8; 12] = rand::random();
        let wrapped = self
            .wrapping_key(kms_key.as_deref(), true)?
            .encrypt(
                &nonce.into(),
                Payload {
                    msg: &data_key[..key_len(cipher)],
                    aad: &wrap_aad(cipher, kms_key.as_deref()),
                },
            )
            .map_err(|_| io::Error::other("cannot wrap a data key"))?;
        let sealed = SealedKey {
            cipher,
            kms_key,
            wrapped: STANDARD.encode([&nonce[..], &wrapped].concat()),
            prefix: hex::encode(prefix),
        };
        let chunks = Chunks::new(cipher, &data_key[..key_len(cipher)], prefix)?;
        Ok((sealed, chunks))
    }

    /// The chunk opener of a blob sealed with `key`; fails when the key cannot be
    /// unwrapped (another master key, or a changed record).
    pub fn chunks(&self, key: &SealedKey) -> io::Result<Chunks> {
        let bad = || {
            io::Error::other(
                "cannot unwrap the data key of an encrypted blob: is this the master key it was written with?",
            )
        };
        let wrapped = STANDARD.decode(&key.wrapped).map_err(|_| bad())?;
        let prefix: [u8; PREFIX] = hex::decode(&key.prefix)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or_else(bad)?;
        if wrapped.len() < 12 {
            return Err(bad());
        }
        let (nonce, sealed) = wrapped.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().expect("12 bytes");
        let data_key = self
            .wrapping_key(key.kms_key.as_deref(), false)?
            .decrypt(
                &nonce.into(),
                Payload {
                    msg: sealed,
                    aad: &wrap_aad(key.cipher, key.kms_key.as_deref()),
                },
            )
            .map_err(|_| bad())?;
        Chunks::new(key.cipher, &data_key, prefix)
    }
}

fn parse_master(path: &Path, bytes: &[u8]) -> io::Result<[u8; 32]> {
    hex::decode(String::from_utf8_lossy(bytes).trim())
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| {
            io::Error::other(format!(
                "the master key {} is not 64 hex digits (32 bytes)",
                path.display()
            ))
        })
}

fn key_len(cipher: DataCipher) -> usize {
    match cipher {
        DataCipher::Aes256Gcm => 32,
        DataCipher::Sm4Gcm => 16,
    }
}

/// What a wrapped key is bound to: its cipher and wrapping key.
fn wrap_aad(cipher: DataCipher, kms_key: Option<&str>) -> Vec<u8> {
    let name = match cipher {
        DataCipher::Aes256Gcm => "AES-256-GCM",
        DataCipher::Sm4Gcm => "SM4-GCM",
    };
    format!("{name}\0{}", kms_key.map_or("-", |k| k)).into_bytes()
}

enum ChunkCipher {
    Aes(Box<Aes256Gcm>),
    Sm4(Box<Sm4Gcm>),
}

/// Seals and opens the chunks of one blob.
pub struct Chunks {
    cipher: ChunkCipher,
    prefix: [u8; PREFIX],
}

impl Chunks {
    fn new(cipher: DataCipher, key: &[u8], prefix: [u8; PREFIX]) -> io::Result<Self> {
        let bad = || io::Error::other("a data key of the wrong length");
        let cipher = match cipher {
            DataCipher::Aes256Gcm => {
                ChunkCipher::Aes(Box::new(Aes256Gcm::new_from_slice(key).map_err(|_| bad())?))
            }
            DataCipher::Sm4Gcm => {
                ChunkCipher::Sm4(Box::new(Sm4Gcm::new_from_slice(key).map_err(|_| bad())?))
            }
        };
        Ok(Self { cipher, prefix })
    }

    fn nonce(&self, index: u64, last: bool) -> io::Result<[u8; 12]> {
        let index = u32::try_from(index).map_err(|_| io::Error::other("blob too large"))?;
        let mut nonce = [0u8; 12];
        nonce[..PREFIX].copy_from_slice(&self.prefix);
        nonce[PREFIX..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = last as u8;
        Ok(nonce)
    }

    fn seal(&self, index: u64, last: bool, plain: &[u8]) -> io::Result<Vec<u8>> {
        let nonce = self.nonce(index, last)?.into();
        match &self.cipher {
            ChunkCipher::Aes(c) => c.encrypt(&nonce, plain),
            ChunkCipher::Sm4(c) => c.encrypt(&nonce, plain),
        }
        .map_err(|_| io::Error::other("cannot seal a chunk"))
    }

    fn open(&self, index: u64, last: bool, sealed: &[u8]) -> io::Result<Vec<u8>> {
        let nonce = self.nonce(index, last)?.into();
        match &self.cipher {
            ChunkCipher::Aes(c) => c.decrypt(&nonce, sealed),
            ChunkCipher::Sm4(c) => c.decrypt(&nonce, sealed),
        }
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("encrypted chunk {index} fails authentication: the blob was altered"),
            )
        })
    }
}

/// Chunks of a blob of `size` plaintext bytes (an empty blob has one, empty).
fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK).max(1)
}

/// The stored length of a blob of `size` plaintext bytes.
fn stored_len(size: u64) -> u64 {
    size + TAG * chunk_count(size)
}

/// The stored length of a blob of `size` plaintext bytes, encrypted with `key` or not.
pub fn stored_size(size: u64, key: Option<&SealedKey>) -> u64 {
    match key {
        Some(_) => stored_len(size),
        None => size,
    }
}

/// Which stored bytes hold plaintext `offset..offset + len` (len > 0) of a blob of
/// `size` bytes: the first chunk, where its stored bytes start, and how many.
fn stored_range(size: u64, offset: u64, len: u64) -> (u64, u64, u64) {
    let first = offset / CHUNK;
    let last = (offset + len - 1) / CHUNK;
    let start = first * (CHUNK + TAG);
    let end = ((last + 1) * (CHUNK + TAG)).min(stored_len(size));
    (first, start, end - start)
}

/// Open sealed chunks `first..` of a blob of `size` bytes, held in `stored`, and
/// keep plaintext `offset..offset + len`.
fn open_run(
    chunks: &Chunks,
    size: u64,
    first: u64,
    stored: &[u8],
    offset: u64,
    len: u64,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let count = chunk_count(size);
    let mut at = first * CHUNK;
    for (i, sealed) in stored.chunks((CHUNK + TAG) as usize).enumerate() {
        let index = first + i as u64;
        let plain = chunks.open(index, index + 1 == count, sealed)?;
        let from = offset.max(at) - at;
        let to = (offset + len).min(at + plain.len() as u64) - at;
        out.extend_from_slice(&plain[from as usize..to as usize]);
        at += CHUNK;
    }
    Ok(())
}

/// Append plaintext `offset..offset + len` of an encrypted blob to `out`, from the
/// stored bytes `read` returns for (offset, len).
pub fn read_blocking(
    chunks: &Chunks,
    size: u64,
    offset: u64,
    len: u64,
    read: impl FnOnce(u64, u64, &mut Vec<u8>) -> io::Result<()>,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let (first, start, n) = stored_range(size, offset, len);
    let mut stored = Vec::with_capacity(n as usize);
    read(start, n, &mut stored)?;
    if stored.len() as u64 != n {
        return Err(short());
    }
    open_run(chunks, size, first, &stored, offset, len, out)
}

fn short() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, "an encrypted blob is cut short")
}

/// The stored bytes of plaintext (offset, len) of a blob of `size` bytes, for
/// [`decrypt_stream`].
pub fn stored_span(size: u64, offset: u64, len: u64) -> (u64, u64) {
    let (_, start, n) = stored_range(size, offset, len);
    (start, n)
}

/// Plaintext `offset..offset + len` of an encrypted blob, from `reader` over the
/// stored bytes [`stored_span`] names, a chunk at a time.
pub fn decrypt_stream(
    chunks: Chunks,
    size: u64,
    offset: u64,
    len: u64,
    reader: BlobReader,
) -> BoxStream<'static, io::Result<bytes::Bytes>> {
    let (first, _, stored) = stored_range(size, offset, len);
    let state = (reader, chunks, first, stored);
    futures_util::stream::try_unfold(state, move |(mut reader, chunks, index, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let n = left.min(CHUNK + TAG);
        let mut sealed = vec![0u8; n as usize];
        reader.read_exact(&mut sealed).await.map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                short()
            } else {
                e
            }
        })?;
        let mut plain = Vec::new();
        open_run(&chunks, size, index, &sealed, offset, len, &mut plain)?;
        Ok(Some((
            bytes::Bytes::from(plain),
            (reader, chunks, index + 1, left - n),
        )))
    })
    .into_stream()
    .boxed()
}

/// A [`BlobWriter`] that seals what is written, chunk by chunk, into `inner`.
pub struct SealingWriter {
    inner: Box<dyn BlobWriter>,
    chunks: Chunks,
    buf: Vec<u8>,
    index: u64,
}

impl SealingWriter {
    pub fn new(inner: Box<dyn BlobWriter>, chunks: Chunks) -> Self {
        Self {
            inner,
            chunks,
            buf: Vec::with_capacity(CHUNK as usize),
            index: 0,
        }
    }
}

impl BlobWriter for SealingWriter {
    fn write<'a>(&'a mut self, data: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            self.buf.extend_from_slice(data);
            // A full chunk is sealed once more bytes follow it: only then is it
            // known not to be the last.
            while self.buf.len() as u64 > CHUNK {
                let sealed = self
                    .chunks
                    .seal(self.index, false, &self.buf[..CHUNK as usize])?;
                self.buf.drain(..CHUNK as usize);
                self.index += 1;
                self.inner.write(&sealed).await?;
            }
            Ok(())
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        Box::pin(async move {
            let sealed = self.chunks.seal(self.index, true, &self.buf)?;
            self.inner.write(&sealed).await?;
            self.inner.finish().await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(dir: &Path) -> KeyRing {
        KeyRing::open(&dir.join("master.key"), true).unwrap()
    }

    fn sse(algorithm: SseAlgorithm, key_id: Option<&str>, data_sm4: bool) -> Sse {
        Sse {
            algorithm,
            key_id: key_id.map(str::to_owned),
            data_sm4,
        }
    }

    /// Seal `plain` as a blob would be written (in pieces of `step` bytes).
    fn seal_all(chunks: &Chunks, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let count = chunk_count(plain.len() as u64);
        for i in 0..count {
            let from = (i * CHUNK) as usize;
            let to = (from + CHUNK as usize).min(plain.len());
            out.extend(chunks.seal(i, i + 1 == count, &plain[from..to]).unwrap());
        }
        assert_eq!(out.len() as u64, stored_len(plain.len() as u64));
        out
    }

    fn read(
        chunks: &Chunks,
        stored: &[u8],
        size: u64,
        offset: u64,
        len: u64,
    ) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        read_blocking(
            chunks,
            size,
            offset,
            len,
            |at, n, buf| {
                let end = ((at + n) as usize).min(stored.len());
                buf.extend_from_slice(&stored[at as usize..end]);
                Ok(())
            },
            &mut out,
        )?;
        Ok(out)
    }

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn the_default_kms_key_has_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let unnamed = sse(SseAlgorithm::Kms, None, false);
        let named = sse(SseAlgorithm::Kms, Some(DEFAULT_KMS_KEY_ID), false);
        assert_eq!(kms_key_id(&unnamed), Some(DEFAULT_KMS_KEY_ID));
        assert_eq!(
            kms_key_id(&sse(SseAlgorithm::Kms, Some("k1"), true)),
            Some("k1")
        );
        assert_eq!(kms_key_id(&sse(SseAlgorithm::Aes256, None, false)), None);
        let (a, _) = ring.new_key(&unnamed).unwrap();
        let (b, _) = ring.new_key(&named).unwrap();
        assert_eq!(
            (a.kms_key.as_deref(), b.kms_key.as_deref()),
            (Some(""), Some(""))
        );
    }

    #[test]
    fn round_trip_and_ranges_across_chunk_edges() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        for algorithm in [
            sse(SseAlgorithm::Aes256, None, false),
            sse(SseAlgorithm::Sm4, None, false),
            sse(SseAlgorithm::Kms, Some("k1"), true),
            sse(SseAlgorithm::Kms, None, false),
        ] {
            let plain = data(3 * CHUNK as usize + 10);
            let (key, chunks) = ring.new_key(&algorithm).unwrap();
            let stored = seal_all(&chunks, &plain);
            assert!(!stored.windows(64).any(|w| w == &plain[1000..1064]));
            let opened = ring.chunks(&key).unwrap();
            let size = plain.len() as u64;
            for (offset, len) in [
                (0, size),
                (0, 1),
                (CHUNK - 1, 2),
                (CHUNK, CHUNK),
                (CHUNK - 5, CHUNK + 10),
                (size - 1, 1),
                (3 * CHUNK, 10),
                (100, 2 * CHUNK + 3),
            ] {
                let got = read(&opened, &stored, size, offset, len).unwrap();
                assert_eq!(got, &plain[offset as usize..(offset + len) as usize]);
            }
        }
    }

    #[test]
    fn empty_and_exact_multiple_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let (_, chunks) = ring
            .new_key(&sse(SseAlgorithm::Aes256, None, false))
            .unwrap();
        assert_eq!(seal_all(&chunks, &[]).len(), 16);
        let plain = data(2 * CHUNK as usize);
        let stored = seal_all(&chunks, &plain);
        assert_eq!(stored.len() as u64, 2 * (CHUNK + TAG));
        let got = read(&chunks, &stored, plain.len() as u64, CHUNK, CHUNK).unwrap();
        assert_eq!(got, &plain[CHUNK as usize..]);
    }

    #[test]
    fn tampering_reordering_and_truncation_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let ring = ring(dir.path());
        let (_, chunks) = ring
            .new_key(&sse(SseAlgorithm::Aes256, None, false))
            .unwrap();
        let plain = data(2 * CHUNK as usize + 5);
        let size = plain.len() as u64;
        let stored = seal_all(&chunks, &plain);
        let mut flipped = stored.clone();
        flipped[10] ^= 1;
        assert!(read(&chunks, &flipped, size, 0, 5).is_err());
        // Swap the first two chunks.
        let c = (CHUNK + TAG) as usize;
        let mut swapped = stored.clone();
        swapped[..2 * c].rotate_left(c);
        assert!(read(&chunks, &swapped, size, 0, 5).is_err());
        // Drop the last chunk and claim the object ends at the second one.
        let cut = &stored[..2 * c];
        assert!(read(&chunks, cut, 2 * CHUNK, CHUNK, 5).is_err());
        assert!(read(&chunks, cut, size, 2 * CHUNK, 5).is_err());
    }

    #[test]
    fn wrong_master_key_or_kms_key_cannot_unwrap() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (ring_a, ring_b) = (ring(a.path()), ring(b.path()));
        let (key, _) = ring_a
            .new_key(&sse(SseAlgorithm::Kms, Some("alpha"), false))
            .unwrap();
        assert!(ring_a.chunks(&key).is_ok());
        assert!(
            ring_b
                .new_key(&sse(SseAlgorithm::Aes256, None, false))
                .is_ok()
        );
        assert!(ring_b.chunks(&key).is_err());
        let mut other = key.clone();
        other.kms_key = Some("beta".into());
        assert!(ring_a.chunks(&other).is_err());
        let mut other = key;
        other.cipher = DataCipher::Sm4Gcm;
        assert!(ring_a.chunks(&other).is_err());
    }

    #[test]
    fn master_key_file_is_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("master.key");
        let first = KeyRing::open(&path, true).unwrap();
        assert!(!path.exists(), "created on first use only");
        let (key, _) = first.new_key(&sse(SseAlgorithm::Sm4, None, false)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = KeyRing::open(&path, true).unwrap();
        assert!(again.chunks(&key).is_ok());
        std::fs::remove_file(&path).unwrap();
        let lost = KeyRing::open(&path, true).unwrap();
        let e = lost.chunks(&key).err().unwrap();
        assert!(e.to_string().contains("missing"), "{e}");
    }

    #[test]
    fn a_shared_store_never_makes_its_own_master_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let ring = KeyRing::open(&path, false).unwrap();
        let e = ring
            .new_key(&sse(SseAlgorithm::Aes256, None, false))
            .err()
            .unwrap();
        assert!(e.to_string().contains("master_key_file"), "{e}");
        assert!(!path.exists());
        std::fs::write(&path, "11".repeat(32)).unwrap();
        let given = KeyRing::open(&path, false).unwrap();
        assert!(
            given
                .new_key(&sse(SseAlgorithm::Aes256, None, false))
                .is_ok()
        );
    }

    #[tokio::test]
    async fn sealing_writer_output_reads_back_as_a_stream() {
        let dir = tempfile::tempdir().unwrap();
        let space = crate::storage::SpaceReserve::open(dir.path(), 0).unwrap();
        let blobs =
            crate::storage::FsBlobStore::open(dir.path(), std::sync::Arc::new(space)).unwrap();
        let ring = ring(dir.path());
        let (key, chunks) = ring.new_key(&sse(SseAlgorithm::Sm4, None, false)).unwrap();
        let plain = data(2 * CHUNK as usize + 77);
        let mut writer = SealingWriter::new(
            crate::storage::BlobStore::create(&blobs).await.unwrap(),
            chunks,
        );
        for piece in plain.chunks(10_000) {
            writer.write(piece).await.unwrap();
        }
        let id = Box::new(writer).finish().await.unwrap();
        let size = plain.len() as u64;
        for (offset, len) in [(0, size), (CHUNK + 3, CHUNK), (5, 1)] {
            let (start, n) = stored_span(size, offset, len);
            let reader = crate::storage::BlobStore::open(&blobs, &id, start, n)
                .await
                .unwrap();
            let got: Vec<bytes::Bytes> =
                decrypt_stream(ring.chunks(&key).unwrap(), size, offset, len, reader)
                    .try_collect()
                    .await
                    .unwrap();
            let got = got.concat();
            assert_eq!(got, &plain[offset as usize..(offset + len) as usize]);
        }
    }
}
