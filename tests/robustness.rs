//! Slow, idle and malformed clients against the real server over raw TCP.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound for "the server closed it": far above the 1 s timeouts configured.
const CLOSED_WITHIN: Duration = Duration::from_secs(15);

async fn start_with(connections: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    TestServer::start_with(dir, &format!("[server.connections]\n{connections}")).await
}

/// Read until the server closes the connection; returns what it sent.
async fn read_to_close(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tcp.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn slowloris_connections_are_closed_after_the_header_timeout() {
    let s = start_with("header_read_timeout_secs = 1").await;
    let addr = s.addrs[0];
    let mut clients = Vec::new();
    for _ in 0..50 {
        clients.push(tokio::spawn(async move {
            let mut tcp = TcpStream::connect(addr).await.unwrap();
            // One header byte every 300 ms: the head never completes.
            let trickle = async {
                for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
                    if tcp.write_all(&[*b]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            };
            tokio::time::timeout(CLOSED_WITHIN, trickle)
                .await
                .expect("the server kept a slowloris connection open");
        }));
    }
    for client in clients {
        client.await.unwrap();
    }
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let s = start_with("header_read_timeout_secs = 1").await;
    let mut tcp = TcpStream::connect(s.addrs[0]).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = tokio::time::timeout(CLOSED_WITHIN, read_to_close(&mut tcp))
        .await
        .expect("an idle keep-alive connection was kept open");
    assert!(response.starts_with("HTTP/1.1 "), "{response}");
}

#[tokio::test]
async fn a_trickling_body_gets_request_timeout() {
    let s = start_with("min_body_rate = 100\nbody_rate_window_secs = 1").await;
    let r = s.req("PUT", "/slow").send().await;
    assert_eq!(r.status(), 200);
    // An anonymous upload over raw TCP needs a public-read-write bucket.
    let r = s
        .req("PUT", "/slow?acl")
        .header("x-oss-acl", "public-read-write")
        .send()
        .await;
    assert_eq!(r.status(), 200);
    let mut tcp = TcpStream::connect(s.addrs[0]).await.unwrap();
    tcp.write_all(b"PUT /slow/k HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        .await
        .unwrap();
    let trickle = async {
        for _ in 0..1000 {
            if tcp.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(CLOSED_WITHIN, trickle)
        .await
        .expect("a trickling body was accepted for too long");
    let response = tokio::time::timeout(CLOSED_WITHIN, read_to_close(&mut tcp))
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 400"), "{response}");
    assert!(
        response.contains("<Code>RequestTimeout</Code>"),
        "{response}"
    );
}

async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request).await.unwrap();
    tokio::time::timeout(CLOSED_WITHIN, read_to_close(&mut tcp))
        .await
        .expect("no answer to a malformed request")
}

#[tokio::test]
async fn malformed_framing_gets_400() {
    let s = start_with("header_read_timeout_secs = 2").await;
    for request in [
        &b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"[..],
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: five\r\n\r\nhello",
    ] {
        let response = raw(s.addrs[0], request).await;
        assert!(
            response.starts_with("HTTP/1.1 400"),
            "{:?} -> {response:?}",
            String::from_utf8_lossy(request)
        );
    }
    // Leading whitespace before the value is legal (RFC 9110 OWS): a normal request.
    let response = raw(
        s.addrs[0],
        b"PUT /nobucket/k HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length:  5\r\n\r\nhello",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 4"), "{response:?}");
    assert!(!response.starts_with("HTTP/1.1 400"), "{response:?}");
}

/// A small tmpfs mounted on a temp directory (needs root), unmounted on drop.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    /// None (with a message) where tmpfs cannot be mounted, unless
    /// `OSSIFY_REQUIRE_TMPFS` is set, as in CI, which runs as root.
    fn mount(size: &str) -> Option<(Self, tempfile::TempDir)> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::piped())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some((
                Self {
                    path: dir.path().to_owned(),
                },
                dir,
            )),
            other => {
                let why = match other {
                    Ok(out) => String::from_utf8_lossy(&out.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var_os("OSSIFY_REQUIRE_TMPFS").is_none(),
                    "cannot mount a tmpfs: {why}"
                );
                eprintln!("skipped: cannot mount a tmpfs (needs root): {why}");
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: files the stopped server still has open do not keep it mounted.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
        let _ = std::fs::remove_dir(&self.path);
    }
}

/// `len` bytes that differ for every `seed`.
fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn get_bytes(s: &TestServer, path: &str) -> Vec<u8> {
    let r = s.req("GET", path).send().await;
    assert_eq!(r.status(), 200, "GET {path}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn a_full_disk_refuses_writes_keeps_deletes_and_recovers_without_restart() {
    let Some((_mount, dir)) = Tmpfs::mount("16m") else {
        return;
    };
    let data = dir.path().to_owned();
    let s = TestServer::start_configured(dir, "disk_reserve_mb = 2", "").await;
    assert_eq!(
        std::fs::metadata(data.join("reserve")).unwrap().len(),
        2 << 20
    );
    assert_eq!(s.req("PUT", "/full").send().await.status(), 200);

    // Fill the disk through the API: every write answers 200 until one gets the
    // clear insufficient-storage error.
    let mut stored = Vec::new();
    let refused = loop {
        let i = stored.len() as u64;
        assert!(i < 32, "16 MiB never filled up");
        let body = pattern(i, 1 << 20);
        let r = s
            .req("PUT", &format!("/full/o{i}"))
            .body(body.clone())
            .send()
            .await;
        if r.status() != 200 {
            break r;
        }
        stored.push(body);
    };
    assert_eq!(refused.status(), 507);
    let text = refused.text().await.unwrap();
    assert!(text.contains("<Code>InsufficientStorage</Code>"), "{text}");
    assert!(text.contains("disk is full"), "{text}");
    assert!(stored.len() >= 8, "only {} MiB stored", stored.len());
    // The partial blob of the refused write is gone; the reserve was released.
    assert_eq!(std::fs::read_dir(data.join("tmp")).unwrap().count(), 0);
    assert!(!data.join("reserve").exists());

    // Still full: even a small write is refused, before it is stored.
    let r = s.req("PUT", "/full/small").body("x").send().await;
    assert_eq!(code(r).await, "InsufficientStorage");
    let r = s
        .req("POST", "/full/app?append&position=0")
        .body("x")
        .send()
        .await;
    assert_eq!(code(r).await, "InsufficientStorage");

    // Metadata changes are writes too (the reserve is kept for deletes).
    let r = s
        .req("PUT", "/full/o0?acl")
        .header("x-oss-object-acl", "public-read")
        .send()
        .await;
    assert_eq!(code(r).await, "InsufficientStorage");
    // Reads still work, and every acknowledged object is intact.
    for (i, body) in stored.iter().enumerate() {
        assert!(
            get_bytes(&s, &format!("/full/o{i}")).await == *body,
            "o{i} changed"
        );
    }
    let r = s.req("GET", "/full?max-keys=100").send().await;
    assert_eq!(r.status(), 200);

    // DELETE frees space; writes are accepted again without a restart.
    for i in 1..4 {
        let r = s.req("DELETE", &format!("/full/o{i}")).send().await;
        assert_eq!(r.status(), 204, "DELETE o{i}");
    }
    let body = pattern(100, 1 << 20);
    let r = s.req("PUT", "/full/again").body(body.clone()).send().await;
    assert_eq!(r.status(), 200);
    assert!(get_bytes(&s, "/full/again").await == body);
    assert_eq!(
        std::fs::metadata(data.join("reserve")).unwrap().len(),
        2 << 20,
        "the reserve is back"
    );
    for (i, body) in stored
        .iter()
        .enumerate()
        .filter(|(i, _)| !(1..4).contains(i))
    {
        assert!(
            get_bytes(&s, &format!("/full/o{i}")).await == *body,
            "o{i} changed"
        );
    }
    // Another process fills the disk: the same answers, from whichever write notices.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![7u8; 64 << 10];
        while f.write_all(&chunk).is_ok() {}
        let _ = f.sync_all();
    }
    // A metadata change fits when the database has free pages inside its file.
    let r = s
        .req("PUT", "/full/o0?acl")
        .header("x-oss-object-acl", "private")
        .send()
        .await;
    assert!(matches!(r.status().as_u16(), 200 | 507), "{}", r.status());
    // So does a small object kept in its record ([storage] inline_bytes); a blob does not.
    let r = s.req("PUT", "/full/tiny").body("x").send().await;
    assert!(matches!(r.status().as_u16(), 200 | 507), "{}", r.status());
    let r = s
        .req("PUT", "/full/small")
        .body(pattern(7, 8192))
        .send()
        .await;
    assert_eq!(code(r).await, "InsufficientStorage");
    let r = s.req("DELETE", "/full/again").send().await;
    assert_eq!(r.status(), 204);
    assert!(get_bytes(&s, "/full/o0").await == stored[0]);
    std::fs::remove_file(&filler).unwrap();
    let r = s.req("PUT", "/full/small").body("x").send().await;
    assert_eq!(r.status(), 200);
    assert_eq!(get_bytes(&s, "/full/small").await, b"x");
    s.server.unwrap().shutdown().await;
}
