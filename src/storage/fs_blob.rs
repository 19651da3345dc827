//! Blobs as files under `<data>/blobs/<2 hex>/<id>`, written to `<data>/tmp` first.
//! Write path: temp file → fsync → rename → fsync directory, so a crash leaves
//! either no blob or a complete one. A write that runs out of space removes what it
//! wrote and releases the [`SpaceReserve`]; while the disk is full new blobs are refused.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;

use super::{BlobId, BlobReader, BlobStore, BlobWriter, SpaceReserve};

pub struct FsBlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
    space: Arc<SpaceReserve>,
    open: OpenBlobs,
}

/// Descriptors of blobs read lately by [`BlobStore::read_cached`], which saves small GETs
/// an open and a close (a tenth of their cost). A blob never changes once written, so a
/// kept descriptor reads what a fresh open would; this store's deletes drop theirs. At
/// most [`OPEN_BLOBS`] are kept (an arbitrary one goes past that), so a blob that
/// another node deletes, or that is deleted while being opened here, keeps its space
/// until then.
#[derive(Default)]
struct OpenBlobs(Mutex<HashMap<BlobId, Arc<std::fs::File>>>);

const OPEN_BLOBS: usize = 256;

impl OpenBlobs {
    fn lock(&self) -> MutexGuard<'_, HashMap<BlobId, Arc<std::fs::File>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get_or_open(&self, id: &BlobId, path: &Path) -> io::Result<Arc<std::fs::File>> {
        if let Some(file) = self.lock().get(id) {
            return Ok(file.clone());
        }
        let file = Arc::new(std::fs::File::open(path)?);
        let mut open = self.lock();
        if open.len() >= OPEN_BLOBS
            && let Some(other) = open.keys().next().cloned()
        {
            open.remove(&other);
        }
        open.insert(id.clone(), file.clone());
        Ok(file)
    }

    fn forget(&self, id: &BlobId) {
        self.lock().remove(id);
    }
}

impl FsBlobStore {
    pub fn open(data_dir: &Path, space: Arc<SpaceReserve>) -> io::Result<Self> {
        let blobs = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        std::fs::create_dir_all(&blobs)?;
        std::fs::create_dir_all(&tmp)?;
        Ok(Self {
            blobs,
            tmp,
            space,
            open: OpenBlobs::default(),
        })
    }

    fn path(&self, id: &BlobId) -> io::Result<PathBuf> {
        // Ids are generated here as hex; anything else is refused before touching paths.
        if id.0.len() < 8 || !id.0.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "malformed blob id",
            ));
        }
        Ok(self.blobs.join(&id.0[..2]).join(&id.0))
    }
}

fn new_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex::encode(bytes)
}

/// Bytes gathered before one blocking `write(2)`.
const WRITE_CHUNK: usize = 1 << 20;
/// Dirty bytes after which writeback is started (Linux `sync_file_range`), so the final
/// fsync waits only for the tail instead of the whole object.
const WRITEBACK_EVERY: u64 = 8 << 20;

struct FsBlobWriter {
    /// The temp file, created with the first write to the blocking pool: a body that
    /// fits one chunk is created, written, synced and renamed in one trip there.
    file: Option<Arc<std::fs::File>>,
    buf: Vec<u8>,
    /// The write in flight on the blocking pool (one at a time, so receiving the next
    /// chunk overlaps writing the previous one); it hands its buffer back for reuse.
    pending: Option<JoinHandle<(io::Result<()>, Vec<u8>)>>,
    written: u64,
    flushed_to: u64,
    temp: PathBuf,
    id: BlobId,
    dest: PathBuf,
    space: Arc<SpaceReserve>,
}

impl FsBlobWriter {
    async fn wait_pending(&mut self) -> io::Result<Vec<u8>> {
        match self.pending.take() {
            Some(job) => {
                let (result, buf) = job.await.map_err(io::Error::other)?;
                result.map(|()| buf)
            }
            None => Ok(Vec::new()),
        }
    }

    /// Hand the buffer to the blocking pool; waits for the previous write first.
    async fn submit(&mut self) -> io::Result<()> {
        let mut spare = self.wait_pending().await?;
        spare.clear();
        let buf = std::mem::replace(&mut self.buf, spare);
        let file = match &self.file {
            Some(file) => file.clone(),
            None => {
                let temp = self.temp.clone();
                let file = tokio::task::spawn_blocking(move || create_temp(&temp))
                    .await
                    .map_err(io::Error::other)??;
                self.file.insert(Arc::new(file)).clone()
            }
        };
        self.written += buf.len() as u64;
        let writeback = (self.written - self.flushed_to >= WRITEBACK_EVERY).then(|| {
            let range = (self.flushed_to, self.written - self.flushed_to);
            self.flushed_to = self.written;
            range
        });
        self.pending = Some(tokio::task::spawn_blocking(move || {
            let result = (&*file).write_all(&buf).and_then(|()| match writeback {
                Some((offset, len)) => start_writeback(&file, offset, len),
                None => Ok(()),
            });
            (result, buf)
        }));
        Ok(())
    }
}

fn create_temp(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Start writing `len` dirty bytes from `offset` to disk without waiting for them.
#[cfg(target_os = "linux")]
fn start_writeback(file: &std::fs::File, offset: u64, len: u64) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; sync_file_range only schedules writeback.
    let r = unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &std::fs::File, _offset: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

/// `preadv2(RWF_NOWAIT)`: up to `len` bytes at `offset` if the page cache holds them
/// (Linux 4.14+), `None` when the read would wait for the device (or the kernel or file
/// system cannot tell).
///
/// # Safety
/// `ptr` must be valid for writes of `len` bytes.
#[cfg(target_os = "linux")]
unsafe fn pread_cached(
    file: &std::fs::File,
    ptr: *mut u8,
    len: usize,
    offset: u64,
) -> io::Result<Option<usize>> {
    use std::os::fd::AsRawFd;
    let iov = libc::iovec {
        iov_base: ptr.cast(),
        iov_len: len,
    };
    loop {
        // SAFETY: one iovec the caller vouches for; the descriptor is open.
        let n = unsafe {
            libc::preadv2(
                file.as_raw_fd(),
                &iov,
                1,
                offset as libc::off_t,
                libc::RWF_NOWAIT,
            )
        };
        if n >= 0 {
            return Ok(Some(n as usize));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN | libc::EOPNOTSUPP | libc::EINVAL | libc::ENOSYS) => return Ok(None),
            _ => return Err(e),
        }
    }
}

/// Fill `buf` from `offset` with [`pread_cached`]: false as soon as some of it is not
/// in the page cache.
#[cfg(target_os = "linux")]
fn fill_cached(file: &std::fs::File, buf: &mut [u8], offset: u64) -> io::Result<bool> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is valid for writes of its length.
        match unsafe { pread_cached(file, rest.as_mut_ptr(), rest.len(), offset + done as u64) }? {
            Some(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Some(n) => done += n,
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// A blob's range as a stream: each read takes what the page cache holds on the async
/// worker, and only what it lacks is read on the blocking pool (a chunk at a time), so
/// a GET of a blob read lately makes no trip there.
#[cfg(target_os = "linux")]
struct CachedFirstReader {
    file: Arc<std::fs::File>,
    offset: u64,
    remaining: u64,
    /// A chunk being read on the blocking pool, then what is left of it.
    pending: Option<JoinHandle<io::Result<Vec<u8>>>>,
    ready: bytes::Bytes,
}

#[cfg(target_os = "linux")]
impl tokio::io::AsyncRead for CachedFirstReader {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        use std::task::Poll;
        const CHUNK: u64 = 256 << 10;
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready.split_to(n));
                return Poll::Ready(Ok(()));
            }
            if let Some(job) = &mut this.pending {
                let read = std::task::ready!(std::pin::Pin::new(job).poll(cx));
                this.pending = None;
                let chunk = read.map_err(io::Error::other)??;
                this.offset += chunk.len() as u64;
                this.remaining -= chunk.len() as u64;
                this.ready = chunk.into();
                continue;
            }
            let want = (buf.remaining() as u64).min(this.remaining) as usize;
            if want == 0 {
                return Poll::Ready(Ok(()));
            }
            // SAFETY: the unfilled part of `buf` is valid for writes of `want` bytes, and
            // exactly the `n` the kernel wrote are then marked initialized.
            let cached = unsafe {
                let unfilled = buf.unfilled_mut();
                pread_cached(&this.file, unfilled.as_mut_ptr().cast(), want, this.offset)
            };
            match cached? {
                Some(0) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                Some(n) => {
                    // SAFETY: see above.
                    unsafe { buf.assume_init(n) };
                    buf.advance(n);
                    this.offset += n as u64;
                    this.remaining -= n as u64;
                    return Poll::Ready(Ok(()));
                }
                None => {
                    let (file, offset) = (this.file.clone(), this.offset);
                    let len = this.remaining.min(CHUNK) as usize;
                    this.pending = Some(tokio::task::spawn_blocking(move || {
                        use std::os::unix::fs::FileExt;
                        let mut chunk = vec![0; len];
                        file.read_exact_at(&mut chunk, offset)?;
                        Ok(chunk)
                    }));
                }
            }
        }
    }
}

impl BlobWriter for FsBlobWriter {
    fn write<'a>(&'a mut self, data: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            self.buf.extend_from_slice(data);
            if self.buf.len() >= WRITE_CHUNK {
                self.submit().await.inspect_err(|e| self.space.note(e))?;
            }
            Ok(())
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        Box::pin(async move {
            let written = async {
                // A body that was never handed over is written in the trip that syncs it.
                let body = if self.file.is_none() {
                    std::mem::take(&mut self.buf)
                } else {
                    if !self.buf.is_empty() {
                        self.submit().await?;
                    }
                    Vec::new()
                };
                self.wait_pending().await?;
                let file = self.file.clone();
                let (temp, dest) = (self.temp.clone(), self.dest.clone());
                tokio::task::spawn_blocking(move || {
                    let file = match file {
                        Some(file) => file,
                        None => {
                            let file = create_temp(&temp)?;
                            (&file).write_all(&body)?;
                            Arc::new(file)
                        }
                    };
                    file.sync_all()?;
                    drop(file);
                    let dir = dest.parent().expect("blob path has a parent");
                    std::fs::create_dir_all(dir)?;
                    std::fs::rename(&temp, &dest)?;
                    // The rename is durable only once the directory entry is.
                    let synced = std::fs::File::open(dir).and_then(|d| d.sync_all());
                    if synced.is_err() {
                        let _ = std::fs::remove_file(&dest);
                    }
                    synced
                })
                .await
                .map_err(io::Error::other)?
            };
            written.await.inspect_err(|e| self.space.note(e))?;
            self.temp = PathBuf::new();
            Ok(self.id.clone())
        })
    }
}

impl Drop for FsBlobWriter {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl BlobStore for FsBlobStore {
    fn create(&self) -> BoxFuture<'_, io::Result<Box<dyn BlobWriter>>> {
        Box::pin(async move {
            if self.space.is_full() {
                let space = self.space.clone();
                tokio::task::spawn_blocking(move || space.admit_write())
                    .await
                    .map_err(io::Error::other)??;
            }
            let id = BlobId(new_id());
            let temp = self.tmp.join(&id.0);
            let dest = self.path(&id)?;
            Ok(Box::new(FsBlobWriter {
                file: None,
                buf: Vec::with_capacity(WRITE_CHUNK),
                pending: None,
                written: 0,
                flushed_to: 0,
                temp,
                id,
                dest,
                space: self.space.clone(),
            }) as Box<dyn BlobWriter>)
        })
    }

    #[cfg(target_os = "linux")]
    fn open(&self, id: &BlobId, offset: u64, len: u64) -> BoxFuture<'_, io::Result<BlobReader>> {
        // On the worker, as `read_cached`'s open (not kept: these blobs may be large).
        let file = self.path(id).and_then(std::fs::File::open);
        Box::pin(async move {
            Ok(Box::pin(CachedFirstReader {
                file: Arc::new(file?),
                offset,
                remaining: len,
                pending: None,
                ready: bytes::Bytes::new(),
            }) as BlobReader)
        })
    }

    #[cfg(not(target_os = "linux"))]
    fn open(&self, id: &BlobId, offset: u64, len: u64) -> BoxFuture<'_, io::Result<BlobReader>> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let path = self.path(id);
        Box::pin(async move {
            let mut file = tokio::fs::File::open(path?).await?;
            if offset > 0 {
                file.seek(io::SeekFrom::Start(offset)).await?;
            }
            Ok(Box::pin(file.take(len)) as BlobReader)
        })
    }

    fn read_blocking(
        &self,
        id: &BlobId,
        offset: u64,
        len: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        use std::os::unix::fs::FileExt;
        let file = std::fs::File::open(self.path(id)?)?;
        let start = out.len();
        out.resize(start + len as usize, 0);
        file.read_exact_at(&mut out[start..], offset)
    }

    /// Reads only what the page cache holds ([`pread_cached`]); the open is saved by
    /// [`OpenBlobs`] for a blob read lately.
    #[cfg(target_os = "linux")]
    fn read_cached(
        &self,
        id: &BlobId,
        offset: u64,
        len: u64,
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        let file = self.open.get_or_open(id, &self.path(id)?)?;
        let start = out.len();
        out.resize(start + len as usize, 0);
        let filled = fill_cached(&file, &mut out[start..], offset);
        if !matches!(filled, Ok(true)) {
            out.truncate(start);
        }
        filled
    }

    fn delete(&self, id: &BlobId) -> BoxFuture<'_, io::Result<()>> {
        self.open.forget(id);
        let path = self.path(id);
        Box::pin(async move {
            match tokio::fs::remove_file(path?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }

    fn sweep<'a>(
        &'a self,
        keep: &'a HashSet<BlobId>,
        written_before: Option<i64>,
    ) -> BoxFuture<'a, io::Result<usize>> {
        let (tmp, blobs) = (self.tmp.clone(), self.blobs.clone());
        let keep = keep.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || sweep_dirs(&tmp, &blobs, &keep, written_before))
                .await
                .map_err(io::Error::other)?
        })
    }

    fn abort_stale_uploads(&self, _begun_before: i64) -> BoxFuture<'_, io::Result<usize>> {
        // A dead writer leaves a file in the temp directory, which `sweep` removes.
        Box::pin(async { Ok(0) })
    }
}

/// [`BlobStore::sweep`] over the temp directory and the blob shards.
fn sweep_dirs(
    tmp: &Path,
    blobs: &Path,
    keep: &HashSet<BlobId>,
    written_before: Option<i64>,
) -> io::Result<usize> {
    let old_enough = |entry: &std::fs::DirEntry| -> io::Result<bool> {
        let Some(cutoff) = written_before else {
            return Ok(true);
        };
        let modified = entry.metadata()?.modified()?;
        let ms = modified
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Ok(ms < cutoff)
    };
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp)? {
        let entry = entry?;
        if old_enough(&entry)? {
            remove_if_present(&entry.path())?;
            removed += 1;
        }
    }
    for shard in std::fs::read_dir(blobs)? {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        for blob in std::fs::read_dir(shard.path())? {
            let blob = blob?;
            let id = BlobId(blob.file_name().to_string_lossy().into_owned());
            if !keep.contains(&id) && old_enough(&blob)? {
                remove_if_present(&blob.path())?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

/// Another node's sweep may have removed it first.
fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

// Behaviour shared with every blob store is checked in `blob_conformance`; these
// tests are about the files.
#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &Path) -> FsBlobStore {
        FsBlobStore::open(dir, Arc::new(SpaceReserve::open(dir, 0).unwrap())).unwrap()
    }

    /// A range read as a stream is whole and exact, in small reads too, when the page
    /// cache lacks it (the blocking pool reads it) as when it holds it.
    #[tokio::test]
    async fn streamed_ranges_are_exact_cached_or_not() {
        use std::os::fd::AsRawFd;
        use tokio::io::AsyncReadExt;
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut w = store.create().await.unwrap();
        w.write(&body).await.unwrap();
        let id = w.finish().await.unwrap();
        for evict in [true, false] {
            if evict {
                let file = std::fs::File::open(store.path(&id).unwrap()).unwrap();
                // SAFETY: an open descriptor; advice only.
                unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
            }
            let (offset, len) = (12_345, 2_500_000);
            let mut reader = store.open(&id, offset, len).await.unwrap();
            let mut got = Vec::new();
            let mut small = [0u8; 1000];
            loop {
                let n = reader.read(&mut small).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&small[..n]);
            }
            assert!(
                got == body[offset as usize..(offset + len) as usize],
                "evicted: {evict}"
            );
        }
    }

    /// Kept descriptors are bounded, and a delete drops the blob's.
    #[tokio::test]
    async fn open_blobs_are_bounded_and_forgotten_on_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut ids = Vec::new();
        for i in 0..OPEN_BLOBS + 10 {
            let mut w = store.create().await.unwrap();
            w.write(format!("blob {i}").as_bytes()).await.unwrap();
            let id = w.finish().await.unwrap();
            let mut out = Vec::new();
            if store.read_cached(&id, 0, 4, &mut out).unwrap() {
                assert_eq!(out, b"blob");
            }
            ids.push(id);
        }
        assert!(store.open.lock().len() <= OPEN_BLOBS);
        let last = ids.last().unwrap();
        store.delete(last).await.unwrap();
        assert!(!store.open.lock().contains_key(last));
        let gone = store.read_cached(last, 0, 1, &mut Vec::new());
        assert_eq!(gone.unwrap_err().kind(), io::ErrorKind::NotFound);
    }

    #[tokio::test]
    async fn unfinished_writes_leave_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let mut w = store.create().await.unwrap();
        w.write(&vec![7; 3 * WRITE_CHUNK + 1]).await.unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            1
        );
        drop(w);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn sweep_removes_temp_files_of_crashed_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        let crashed = dir.path().join("tmp").join("crashed-upload");
        std::fs::write(&crashed, b"x").unwrap();
        // Written after the cut-off: a write in flight, left alone.
        assert_eq!(store.sweep(&HashSet::new(), Some(0)).await.unwrap(), 0);
        assert!(crashed.exists());
        assert_eq!(store.sweep(&HashSet::new(), None).await.unwrap(), 1);
        assert!(!crashed.exists());
    }

    #[test]
    fn ids_cannot_escape_the_blob_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path());
        assert!(store.path(&BlobId("../../etc/passwd".into())).is_err());
    }
}
