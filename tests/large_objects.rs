//! The `ossify` binary as a separate process: a 2 GiB object streams in and out
//! while the server's peak RSS grows by a few tens of MiB at most, no more than
//! for a 64 MiB object.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use futures_util::StreamExt;
use md5::{Digest, Md5};

const ID: &str = "LTAIlarge";
const SECRET: &str = "large-secret";
const SIZE: u64 = 2 << 30;
const WARM_UP: u64 = 64 << 20;
const CHUNK: usize = 1 << 20;
/// How far above its idle size streaming may take the server's peak RSS.
const MAX_GROWTH_KIB: u64 = 48 * 1024;
/// How much more a 2 GiB object may add to the peak than a 64 MiB one.
const MAX_SIZE_GROWTH_KIB: u64 = 16 * 1024;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(data: &std::path::Path) -> (Running, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ossify"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("OSSIFY_ACCESS_KEY_ID", ID)
        .env("OSSIFY_ACCESS_KEY_SECRET", SECRET)
        .env("OSSIFY_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stdout = BufReader::new(stdout);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let addr = line.trim().rsplit("http://").next().unwrap().to_owned();
    (Running(child), addr)
}

/// A `/proc/<pid>/status` memory field (`VmRSS:`, `VmHWM:`) in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn signed(
    client: &reqwest::Client,
    method: reqwest::Method,
    addr: &str,
    resource: &str,
) -> reqwest::RequestBuilder {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let signature =
        ossify::api::oss::auth::v1_signature(SECRET, &format!("{method}\n\n\n{date}\n{resource}"));
    client
        .request(method, format!("http://{addr}{resource}"))
        .header("date", date)
        .header("authorization", format!("OSS {ID}:{signature}"))
}

fn chunk(i: u64) -> Vec<u8> {
    let mut data = vec![(i % 251) as u8; CHUNK];
    data[..8].copy_from_slice(&i.to_le_bytes());
    data
}

/// PUTs `size` bytes to `key` as a stream of 1 MiB chunks, GETs it back and checks
/// the ETag and the MD5 of what came back.
async fn put_and_get(client: &reqwest::Client, addr: &str, key: &str, size: u64) {
    let chunks = size / CHUNK as u64;
    let mut expected = Md5::new();
    for i in 0..chunks {
        expected.update(chunk(i));
    }
    let expected = hex::encode_upper(expected.finalize());
    let body = futures_util::stream::iter((0..chunks).map(|i| Ok::<_, std::io::Error>(chunk(i))));
    let resource = format!("/big/{key}");
    let r = signed(client, reqwest::Method::PUT, addr, &resource)
        .header("content-length", size)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["etag"].to_str().unwrap(),
        format!("\"{expected}\"")
    );

    let r = signed(client, reqwest::Method::GET, addr, &resource)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    let mut md5 = Md5::new();
    let mut received = 0u64;
    while let Some(bytes) = stream.next().await {
        let bytes = bytes.unwrap();
        received += bytes.len() as u64;
        md5.update(&bytes);
    }
    assert_eq!(received, size);
    assert_eq!(hex::encode_upper(md5.finalize()), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gib_streams_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path());
    // reqwest is built without a default TLS provider (see tests/common).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let r = signed(&client, reqwest::Method::PUT, &addr, "/big/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // What the process itself holds (code, runtime, pools) is not the object's
    // doing: the bound is on what streaming adds, first for a small object, then for
    // one 32 times larger, which must add (almost) nothing more.
    let idle = status_kib(server.0.id(), "VmRSS:");
    put_and_get(&client, &addr, "warm-up", WARM_UP).await;
    let after_small = status_kib(server.0.id(), "VmHWM:");
    put_and_get(&client, &addr, "two-gib", SIZE).await;
    let after_large = status_kib(server.0.id(), "VmHWM:");
    println!(
        "server RSS: {} MiB idle, peak {} MiB after 64 MiB PUT + GET, {} MiB after 2 GiB",
        idle / 1024,
        after_small / 1024,
        after_large / 1024
    );
    assert!(
        after_large - idle < MAX_GROWTH_KIB,
        "streaming 2 GiB grew the server from {idle} KiB to a peak of {after_large} KiB"
    );
    assert!(
        after_large - after_small < MAX_SIZE_GROWTH_KIB,
        "the peak grew from {after_small} KiB (64 MiB object) to {after_large} KiB (2 GiB)"
    );
}
