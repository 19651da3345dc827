//! Blobs as files under `<data>/blobs/<2 hex>/<id>`, written to `<data>/tmp` first.
//! Write path: temp file → fsync → rename → fsync directory, so a crash leaves
//! either no blob or a complete one.

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};

use super::{BlobId, BlobReader, BlobStore, BlobWriter};

pub struct FsBlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
}

impl FsBlobStore {
    pub fn open(data_dir: &Path) -> io::Result<Self> {
        let blobs = data_dir.join("blobs");
        let tmp = data_dir.join("tmp");
        std::fs::create_dir_all(&blobs)?;
        std::fs::create_dir_all(&tmp)?;
        Ok(Self { blobs, tmp })
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

struct FsBlobWriter {
    file: Option<BufWriter<tokio::fs::File>>,
    temp: PathBuf,
    id: BlobId,
    dest: PathBuf,
}

impl BlobWriter for FsBlobWriter {
    fn write<'a>(&'a mut self, data: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let file = self.file.as_mut().expect("writer used after finish");
            file.write_all(data).await
        })
    }

    fn finish(mut self: Box<Self>) -> BoxFuture<'static, io::Result<BlobId>> {
        Box::pin(async move {
            let mut file = self.file.take().expect("finish called twice");
            file.flush().await?;
            let file = file.into_inner();
            file.sync_all().await?;
            drop(file);
            let dir = self
                .dest
                .parent()
                .expect("blob path has a parent")
                .to_path_buf();
            tokio::fs::create_dir_all(&dir).await?;
            tokio::fs::rename(&self.temp, &self.dest).await?;
            let id = self.id.clone();
            // The rename is durable only once the directory entry is.
            tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
                .await
                .map_err(io::Error::other)??;
            self.temp = PathBuf::new();
            Ok(id)
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
            let id = BlobId(new_id());
            let temp = self.tmp.join(&id.0);
            let file = tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
                .await?;
            let dest = self.path(&id)?;
            Ok(Box::new(FsBlobWriter {
                file: Some(BufWriter::with_capacity(256 * 1024, file)),
                temp,
                id,
                dest,
            }) as Box<dyn BlobWriter>)
        })
    }

    fn open(&self, id: &BlobId, offset: u64, len: u64) -> BoxFuture<'_, io::Result<BlobReader>> {
        let path = self.path(id);
        Box::pin(async move {
            let mut file = tokio::fs::File::open(path?).await?;
            if offset > 0 {
                file.seek(io::SeekFrom::Start(offset)).await?;
            }
            Ok(Box::pin(file.take(len)) as BlobReader)
        })
    }

    fn delete(&self, id: &BlobId) -> BoxFuture<'_, io::Result<()>> {
        let path = self.path(id);
        Box::pin(async move {
            match tokio::fs::remove_file(path?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        })
    }

    fn sweep(&self, keep: &[BlobId]) -> io::Result<usize> {
        let keep: HashSet<&str> = keep.iter().map(|b| b.0.as_str()).collect();
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.tmp)? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        for shard in std::fs::read_dir(&self.blobs)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            for blob in std::fs::read_dir(shard.path())? {
                let blob = blob?;
                if !keep.contains(blob.file_name().to_string_lossy().as_ref()) {
                    std::fs::remove_file(blob.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn write(store: &FsBlobStore, data: &[u8]) -> BlobId {
        let mut w = store.create().await.unwrap();
        w.write(data).await.unwrap();
        w.finish().await.unwrap()
    }

    #[tokio::test]
    async fn write_read_range_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let id = write(&store, b"hello world").await;
        let mut out = String::new();
        store
            .open(&id, 6, 5)
            .await
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        assert_eq!(out, "world");
        store.delete(&id).await.unwrap();
        assert!(store.open(&id, 0, 1).await.is_err());
        store.delete(&id).await.unwrap();
    }

    #[tokio::test]
    async fn unfinished_writes_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut w = store.create().await.unwrap();
        w.write(b"partial").await.unwrap();
        drop(w);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn sweep_keeps_referenced_blobs_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let keep = write(&store, b"keep").await;
        let orphan = write(&store, b"orphan").await;
        std::fs::write(dir.path().join("tmp").join("crashed-upload"), b"x").unwrap();
        assert_eq!(store.sweep(std::slice::from_ref(&keep)).unwrap(), 2);
        assert!(store.open(&keep, 0, 4).await.is_ok());
        assert!(store.open(&orphan, 0, 1).await.is_err());
    }

    #[test]
    fn ids_cannot_escape_the_blob_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        assert!(store.path(&BlobId("../../etc/passwd".into())).is_err());
    }
}
