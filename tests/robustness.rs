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
