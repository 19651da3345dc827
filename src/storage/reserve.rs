//! Headroom for a full disk: a file of a few MiB (`<data>/reserve`) released on the
//! first "no space left" error, so that deletes and metadata commits still succeed and
//! space can be freed through the API. While the disk is full, new object data is
//! refused before it is written; once twice the reserve is free again the reserve is
//! re-created and writes are accepted, without a restart.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `e` says the filesystem (or the user's quota) is out of space.
pub fn is_storage_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// The "no space left" error handed to writers while the disk is full.
pub fn storage_full() -> io::Error {
    io::Error::new(
        io::ErrorKind::StorageFull,
        "the data directory is out of space",
    )
}

pub struct SpaceReserve {
    dir: PathBuf,
    path: PathBuf,
    size: u64,
    full: AtomicBool,
    /// Serialises creating and releasing the reserve file.
    lock: Mutex<()>,
}

impl SpaceReserve {
    /// Keep `size` bytes reserved in `data_dir` (0: no reserve file). A disk already too
    /// full for the reserve starts in the full state instead of failing.
    pub fn open(data_dir: &Path, size: u64) -> io::Result<Self> {
        let reserve = Self {
            dir: data_dir.to_owned(),
            path: data_dir.join("reserve"),
            size,
            full: AtomicBool::new(false),
            lock: Mutex::new(()),
        };
        if size == 0 {
            match std::fs::remove_file(&reserve.path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
            return Ok(reserve);
        }
        match reserve.create_file() {
            Ok(()) => {}
            Err(e) if is_storage_full(&e) => {
                tracing::warn!(
                    dir = %data_dir.display(),
                    "the data directory is full: object writes are refused until space is freed"
                );
                reserve.full.store(true, Ordering::Release);
            }
            Err(e) => return Err(e),
        }
        Ok(reserve)
    }

    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }

    /// Record an error: a "no space left" one releases the reserve.
    pub fn note(&self, e: &io::Error) {
        if is_storage_full(e) {
            self.note_full();
        }
    }

    /// The disk is full: release the reserve for metadata and deletes.
    pub fn note_full(&self) {
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.full.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(
            dir = %self.dir.display(),
            reserve = self.size,
            "the data directory is full: releasing the reserve; object writes are refused until space is freed"
        );
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::error!(
                "cannot release the space reserve {}: {e}",
                self.path.display()
            );
        }
    }

    /// Whether new object data may be written. While full, checks whether space is back
    /// (twice the reserve free) and re-creates the reserve before accepting again.
    pub fn admit_write(&self) -> io::Result<()> {
        if !self.is_full() {
            return Ok(());
        }
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if !self.is_full() {
            return Ok(());
        }
        if free_bytes(&self.dir)? < self.size.saturating_mul(2) {
            return Err(storage_full());
        }
        if self.size > 0 {
            self.create_file().inspect_err(|e| {
                if !is_storage_full(e) {
                    tracing::error!("cannot re-create the space reserve: {e}");
                }
            })?;
        }
        self.full.store(false, Ordering::Release);
        tracing::info!(dir = %self.dir.display(), "space is free again: object writes are accepted");
        Ok(())
    }

    /// Allocate the reserve file (kept when it already has its size).
    fn create_file(&self) -> io::Result<()> {
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() == self.size) {
            return Ok(());
        }
        let result = (|| {
            let mut file = std::fs::File::create(&self.path)?;
            allocate(&mut file, self.size)?;
            file.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
        result
    }
}

/// Bytes an unprivileged writer can still use in the filesystem of `dir`.
fn free_bytes(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: a NUL-terminated path and a buffer of the right type.
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs succeeded, so it filled the buffer.
    let stat = unsafe { stat.assume_init() };
    // The field types differ between platforms (u32 or u64).
    #[allow(clippy::useless_conversion)]
    let (blocks, block_size) = (u64::from(stat.f_bavail), u64::from(stat.f_frsize));
    Ok(blocks.saturating_mul(block_size))
}

/// Give `file` `size` bytes of real disk blocks (not a sparse hole).
fn allocate(file: &mut std::fs::File, size: u64) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a valid open descriptor.
        match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, size as libc::off_t) } {
            0 => return Ok(()),
            libc::EINVAL | libc::EOPNOTSUPP => {} // write the bytes instead
            e => return Err(io::Error::from_raw_os_error(e)),
        }
    }
    // Not zeros, which a compressing filesystem would not store.
    let chunk: Vec<u8> = (0..1 << 16).map(|i| (i * 7 + 1) as u8).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn released_when_full_and_recreated_when_space_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let reserve = SpaceReserve::open(dir.path(), 1 << 16).unwrap();
        let path = dir.path().join("reserve");
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 16);
        assert!(reserve.admit_write().is_ok());
        reserve.note(&io::Error::other("not a full disk"));
        assert!(!reserve.is_full());
        reserve.note(&storage_full());
        assert!(reserve.is_full());
        assert!(!path.exists());
        // A temp directory has far more than 128 KiB free.
        reserve.admit_write().unwrap();
        assert!(!reserve.is_full());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 16);
    }
}
