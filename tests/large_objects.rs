//! The `ossify` binary as a separate process: a 2 GiB object streams in and out
//! while the server's peak RSS grows by a few tens of MiB at most, no more than
//! for a 64 MiB object; on the embedded store, and on PostgreSQL + S3 blobs when
//! the test services are set (`OSSIFY_TEST_POSTGRES_URL`, `OSSIFY_TEST_S3_*`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use futures_util::StreamExt;
use md5::{Digest, Md5};

const ID: &str = "LTAIlarge";
const SECRET: &str = "large-secret";
const SIZE: u64 = 2 << 30;
const WARM_UP: u64 = 64 << 20;
const CHUNK: usize = 1 << 20;
/// How far above its idle size streaming may take the server's peak RSS, and how
/// much more a 2 GiB object may add to the peak than a 64 MiB one: files.
const EMBEDDED: Bounds = Bounds {
    growth_kib: 48 * 1024,
    size_growth_kib: 16 * 1024,
};
/// S3 blobs buffer up to `PARTS_IN_FLIGHT` 8 MiB parts being sent and the one being
/// filled, and the HTTP client copies them; freed part buffers stay in the
/// allocator's arenas. Measured 55-60 MiB (64 MiB object) and 88-97 MiB (2 GiB)
/// above idle: bounded, where holding the object would add 2 GiB.
const S3_BLOBS: Bounds = Bounds {
    growth_kib: 160 * 1024,
    size_growth_kib: 80 * 1024,
};

struct Bounds {
    growth_kib: u64,
    size_growth_kib: u64,
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server on `data`, with the configuration file `config` if given.
fn start(data: &Path, config: Option<&Path>) -> (Running, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ossify"));
    command.arg("serve");
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    let mut child = command
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
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

/// A configuration on a new database of the test PostgreSQL and a fresh prefix of
/// the test S3 bucket; None (the test skips) without those services, unless
/// `OSSIFY_REQUIRE_SCALEOUT=1`.
async fn scaleout_config(dir: &Path) -> Option<PathBuf> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(admin), Some(endpoint), Some(bucket), Some(key_id), Some(secret)) = (
        var("OSSIFY_TEST_POSTGRES_URL"),
        var("OSSIFY_TEST_S3_ENDPOINT"),
        var("OSSIFY_TEST_S3_BUCKET"),
        var("OSSIFY_TEST_S3_ACCESS_KEY_ID"),
        var("OSSIFY_TEST_S3_SECRET_ACCESS_KEY"),
    ) else {
        assert!(
            var("OSSIFY_REQUIRE_SCALEOUT").as_deref() != Some("1"),
            "OSSIFY_REQUIRE_SCALEOUT=1 but OSSIFY_TEST_POSTGRES_URL or OSSIFY_TEST_S3_* is not set"
        );
        eprintln!(
            "skipped: no PostgreSQL or S3 service (OSSIFY_TEST_POSTGRES_URL, OSSIFY_TEST_S3_*)"
        );
        return None;
    };
    let suffix = hex::encode(rand::random::<[u8; 6]>());
    let database = format!("ossify_large_{suffix}");
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE DATABASE {database}"))
        .await
        .unwrap();
    let url = format!("{}/{database}", admin.rsplit_once('/').unwrap().0);
    let config = dir.join("ossify.toml");
    std::fs::write(
        &config,
        format!(
            "[storage]\nmetadata = \"{url}\"\n[storage.blobs]\nkind = \"s3\"\n\
             endpoint = \"{endpoint}\"\nbucket = \"{bucket}\"\naccess_key_id = \"{key_id}\"\n\
             secret_access_key = \"{secret}\"\nprefix = \"large-{suffix}/\"\n"
        ),
    )
    .unwrap();
    Some(config)
}

/// Streams a 64 MiB and then a 2 GiB object through a server on `config` (None: the
/// embedded store) and bounds what that adds to the server's memory.
async fn streams_with_flat_memory(config: Option<&Path>, bounds: Bounds) {
    let dir = tempfile::tempdir().unwrap();
    let (server, addr) = start(dir.path(), config);
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
        after_large - idle < bounds.growth_kib,
        "streaming 2 GiB grew the server from {idle} KiB to a peak of {after_large} KiB"
    );
    assert!(
        after_large - after_small < bounds.size_growth_kib,
        "the peak grew from {after_small} KiB (64 MiB object) to {after_large} KiB (2 GiB)"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gib_streams_with_flat_memory() {
    streams_with_flat_memory(None, EMBEDDED).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gib_through_postgres_and_s3_with_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    if let Some(config) = scaleout_config(dir.path()).await {
        streams_with_flat_memory(Some(&config), S3_BLOBS).await;
    }
}
