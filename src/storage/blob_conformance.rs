//! The behaviour every [`BlobStore`] must have, run against the file store and (when
//! a service is configured) the S3 store. Each store under test is private to its
//! test (a temp directory, a random key prefix), so exact counts can be asserted.

use std::collections::HashSet;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::s3_blob::PART_SIZE;
use super::{BlobId, BlobStore, FsBlobStore, S3BlobStore, SpaceReserve};
use crate::config::S3BlobsConfig;

/// Run every check in order. `live` collects finished blobs not deleted yet, which the
/// sweep checks must keep or count.
pub(crate) async fn run(store: &dyn BlobStore) {
    let mut live = HashSet::new();
    write_read_whole(store, &mut live).await;
    ranges(store, &mut live).await;
    empty_blob(store, &mut live).await;
    large_body(store, &mut live).await;
    read_blocking_from_std_thread(store).await;
    read_cached_is_all_or_nothing(store).await;
    unfinished_writes_leave_nothing(store, &live).await;
    delete_is_idempotent(store, &mut live).await;
    missing_blobs_are_not_found(store).await;
    sweep(store, &mut live).await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Deterministic bytes that differ at every offset of a 256-byte cycle and between
/// cycles, so a shifted or repeated range cannot compare equal.
fn pattern(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

async fn write(store: &dyn BlobStore, chunks: &[&[u8]]) -> BlobId {
    let mut w = store.create().await.expect("create");
    for chunk in chunks {
        w.write(chunk).await.expect("write");
    }
    w.finish().await.expect("finish")
}

async fn read(store: &dyn BlobStore, id: &BlobId, offset: u64, len: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    store
        .open(id, offset, len)
        .await?
        .read_to_end(&mut out)
        .await?;
    Ok(out)
}

fn assert_not_found<T>(result: io::Result<T>, what: &str) {
    match result {
        Err(e) => assert_eq!(e.kind(), io::ErrorKind::NotFound, "{what}: {e}"),
        Ok(_) => panic!("{what}: expected NotFound, got a blob"),
    }
}

async fn write_read_whole(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let id = write(store, &[b"hello ", b"world"]).await;
    assert_eq!(read(store, &id, 0, 11).await.unwrap(), b"hello world");
    let other = write(store, &[b"hello world"]).await;
    assert_ne!(id, other, "every blob gets its own id");
    assert_eq!(read(store, &other, 0, 11).await.unwrap(), b"hello world");
    live.extend([id, other]);
}

async fn ranges(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let body = pattern(1000);
    let id = write(store, &[&body[..333], &body[333..]]).await;
    for (offset, len) in [
        (0, 10),
        (500, 37),
        (990, 10),
        (0, 1000),
        (0, 0),
        (500, 0),
        (1000, 0),
    ] {
        let got = read(store, &id, offset, len).await.unwrap();
        let (o, l) = (offset as usize, len as usize);
        assert_eq!(got, &body[o..o + l], "range {offset}+{len}");
    }
    live.insert(id);
}

async fn empty_blob(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let id = write(store, &[]).await;
    assert!(read(store, &id, 0, 0).await.unwrap().is_empty());
    live.insert(id);
}

/// Odd chunk sizes, so writes straddle the part boundaries at every alignment.
const CHUNKS: [usize; 5] = [1, 4093, 65_537, 1_000_003, 333_331];

async fn large_body(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let size = 2 * PART_SIZE + PART_SIZE / 2 + 12_345;
    let body = pattern(size);
    let mut w = store.create().await.unwrap();
    let mut at = 0;
    for n in CHUNKS.iter().cycle() {
        if at == size {
            break;
        }
        let end = (at + n).min(size);
        w.write(&body[at..end]).await.unwrap();
        at = end;
    }
    let id = w.finish().await.unwrap();

    // Streamed back in small reads and compared by hash, not collected.
    let mut reader = store.open(&id, 0, size as u64).await.unwrap();
    let (mut hash, mut total, mut buf) = (Sha256::new(), 0, vec![0u8; 64 << 10]);
    loop {
        let n = reader.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        total += n;
    }
    assert_eq!(total, size);
    assert_eq!(hash.finalize(), Sha256::digest(&body), "large body differs");

    for (offset, len) in [
        (PART_SIZE - 7, 14),
        (2 * PART_SIZE - 1, 2),
        (PART_SIZE / 2, PART_SIZE + 3),
        (size - 5, 5),
    ] {
        let got = read(store, &id, offset as u64, len as u64).await.unwrap();
        assert!(
            got == body[offset..offset + len],
            "large body range {offset}+{len} differs"
        );
    }
    live.insert(id);
}

async fn read_blocking_from_std_thread(store: &dyn BlobStore) {
    let body = pattern(5000);
    let id = write(store, &[&body]).await;
    let missing = BlobId("0123456789abcdef0123456789abcdef".into());
    // Image workers are plain threads outside the runtime; block_in_place lets this
    // runtime thread wait for one without stalling the requests it runs.
    let (whole, part, empty, gone) = tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let mut whole = b"prefix:".to_vec();
                store.read_blocking(&id, 0, 5000, &mut whole).unwrap();
                let mut part = Vec::new();
                store.read_blocking(&id, 4990, 10, &mut part).unwrap();
                let mut empty = Vec::new();
                store.read_blocking(&id, 5000, 0, &mut empty).unwrap();
                let gone = store.read_blocking(&missing, 0, 1, &mut Vec::new());
                (whole, part, empty, gone)
            })
            .join()
            .unwrap()
        })
    });
    assert_eq!(&whole[..7], b"prefix:", "read_blocking appends");
    assert!(whole[7..] == body[..], "read_blocking whole body");
    assert_eq!(part, &body[4990..]);
    assert!(empty.is_empty());
    assert_not_found(gone, "read_blocking of a missing blob");
    store.delete(&id).await.unwrap();
}

/// `read_cached` either appends exactly the bytes asked for or leaves `out` alone
/// (a store may never have them in memory); a missing blob is never "read".
async fn read_cached_is_all_or_nothing(store: &dyn BlobStore) {
    let body = pattern(5000);
    let id = write(store, &[&body]).await;
    for (offset, len) in [(0, 5000), (4990, 10), (1234, 0)] {
        let mut out = b"prefix:".to_vec();
        if store.read_cached(&id, offset, len, &mut out).unwrap() {
            assert!(
                out[7..] == body[offset as usize..(offset + len) as usize],
                "read_cached {offset}+{len}"
            );
        }
        assert_eq!(&out[..7], b"prefix:", "read_cached appends");
        assert!(out.len() == 7 || out.len() == 7 + len as usize);
    }
    store.delete(&id).await.unwrap();
    let mut out = Vec::new();
    match store.read_cached(&id, 0, 1, &mut out) {
        Ok(read) => assert!(!read && out.is_empty(), "read_cached of a deleted blob"),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
    }
}

async fn unfinished_writes_leave_nothing(store: &dyn BlobStore, live: &HashSet<BlobId>) {
    drop(store.create().await.unwrap());
    let mut small = store.create().await.unwrap();
    small.write(b"partial").await.unwrap();
    drop(small);
    // Past the multipart threshold: parts are stored but the blob never completes.
    let mut large = store.create().await.unwrap();
    let body = pattern(PART_SIZE + PART_SIZE / 2);
    for chunk in body.chunks(CHUNKS[3]) {
        large.write(chunk).await.unwrap();
    }
    drop(large);
    // Everything but the finished blobs would be swept: nothing is there to sweep.
    assert_eq!(
        store.sweep(live, None).await.unwrap(),
        0,
        "an unfinished write left something behind"
    );
    for id in live {
        assert!(
            read(store, id, 0, 0).await.is_ok(),
            "finished blob {id:?} lost"
        );
    }
}

async fn delete_is_idempotent(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let id = write(store, &[b"doomed"]).await;
    store.delete(&id).await.unwrap();
    assert_not_found(read(store, &id, 0, 6).await, "open after delete");
    assert_not_found(read(store, &id, 0, 0).await, "empty open after delete");
    store.delete(&id).await.expect("second delete");
    for id in live.iter() {
        assert!(
            read(store, id, 0, 0).await.is_ok(),
            "delete removed another blob"
        );
    }
}

async fn missing_blobs_are_not_found(store: &dyn BlobStore) {
    let never = BlobId("00000000000000000000000000000000".into());
    assert_not_found(read(store, &never, 0, 1).await, "open of a missing blob");
    assert_not_found(
        read(store, &never, 0, 0).await,
        "empty open of a missing blob",
    );
    store
        .delete(&never)
        .await
        .expect("delete of a missing blob");
    let bad = BlobId("../../etc/passwd".into());
    assert!(
        store.open(&bad, 0, 1).await.is_err(),
        "malformed id accepted"
    );
}

async fn sweep(store: &dyn BlobStore, live: &mut HashSet<BlobId>) {
    let kept = write(store, &[b"kept"]).await;
    let old = write(store, &[b"old"]).await;
    live.insert(kept.clone());
    assert_eq!(
        store.sweep(live, Some(0)).await.unwrap(),
        0,
        "a cut-off before every write spares all"
    );
    assert!(read(store, &old, 0, 3).await.is_ok());

    // S3 may round modification times down to the second and clocks may differ a
    // little: keep the cut-off seconds away from both writes.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let cutoff = now_ms() - 2000;
    let new = write(store, &[b"new"]).await;
    assert_eq!(
        store.sweep(live, Some(cutoff)).await.unwrap(),
        1,
        "only the old unreferenced blob goes"
    );
    assert_not_found(read(store, &old, 0, 3).await, "swept blob");
    assert_eq!(read(store, &kept, 0, 4).await.unwrap(), b"kept");
    assert_eq!(read(store, &new, 0, 3).await.unwrap(), b"new");
    for id in live.iter() {
        assert!(
            read(store, id, 0, 0).await.is_ok(),
            "kept blob {id:?} swept"
        );
    }

    // No cut-off and nothing kept: everything goes, and the store is left empty.
    assert_eq!(
        store.sweep(&HashSet::new(), None).await.unwrap(),
        live.len() + 1
    );
    assert_not_found(read(store, &kept, 0, 0).await, "unkept blob");
    assert_eq!(store.sweep(&HashSet::new(), None).await.unwrap(), 0);
    live.clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fs_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let space = Arc::new(SpaceReserve::open(dir.path(), 0).unwrap());
    let store = FsBlobStore::open(dir.path(), space).unwrap();
    run(&store).await;
}

/// The S3 service of the scale-out tests, under a random prefix of its bucket; None
/// (after saying so) when it is not configured and not required.
pub(crate) fn s3_test_config(test: &str) -> Option<S3BlobsConfig> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(endpoint), Some(bucket), Some(access_key_id), Some(secret_access_key)) = (
        var("OSSIFY_TEST_S3_ENDPOINT"),
        var("OSSIFY_TEST_S3_BUCKET"),
        var("OSSIFY_TEST_S3_ACCESS_KEY_ID"),
        var("OSSIFY_TEST_S3_SECRET_ACCESS_KEY"),
    ) else {
        assert!(
            var("OSSIFY_REQUIRE_SCALEOUT").as_deref() != Some("1"),
            "{test}: OSSIFY_REQUIRE_SCALEOUT=1 but OSSIFY_TEST_S3_ENDPOINT, _BUCKET, \
             _ACCESS_KEY_ID and _SECRET_ACCESS_KEY are not all set"
        );
        eprintln!("{test}: skipped, no S3 service (set OSSIFY_TEST_S3_*)");
        return None;
    };
    let suffix: [u8; 8] = rand::random();
    Some(S3BlobsConfig {
        endpoint,
        bucket,
        region: "us-east-1".into(),
        access_key_id,
        secret_access_key,
        path_style: true,
        prefix: format!("test-{}/", hex::encode(suffix)),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_conforms() {
    let Some(cfg) = s3_test_config("s3_conforms") else {
        return;
    };
    let store = S3BlobStore::open(&cfg).await.unwrap();
    run(&store).await;
}
