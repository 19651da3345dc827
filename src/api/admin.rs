//! ossify's own pages under `/-/` (`-` is never a bucket name, so no bucket is
//! shadowed): `healthz`, `readyz`, `metrics`, the web console and the public key of
//! upload callbacks.

use std::net::SocketAddr;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};

use crate::observe::RequestSlot;
use crate::server::ListenerState;

/// The public key callback servers verify upload callbacks with (`x-oss-pub-key-url`),
/// served to anyone, as OSS serves its own.
pub const CALLBACK_PUBLIC_KEY_PATH: &str = "/-/callback-public-key.pem";

/// Whether a request is for one of ossify's own pages: a path-style `/-/…` (on a
/// bucket's virtual host, `/-/x` is the object `-/x`).
pub fn is_admin(listener: &ListenerState, host: Option<&str>, path: &str) -> bool {
    (path == "/-" || path.starts_with("/-/"))
        && crate::api::oss::target::resolve(host, path, &listener.app.region_hosts, listener.region)
            .is_ok_and(|t| t.bucket.as_deref() == Some("-"))
}

pub async fn handle(
    listener: &ListenerState,
    peer: SocketAddr,
    method: &Method,
    path: &str,
    slot: Option<&RequestSlot>,
) -> Response {
    let page = path.strip_prefix("/-").unwrap_or_default();
    if let Some(slot) = slot {
        slot.update(|i| {
            i.dialect = "admin";
            i.operation = match page {
                "/healthz" | "/readyz" | "/metrics" => page[1..].to_owned(),
                _ if page.starts_with("/console") => "console".into(),
                _ if path == CALLBACK_PUBLIC_KEY_PATH => "callback-public-key".into(),
                _ => String::new(),
            };
        });
    }
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    }
    match page {
        "/healthz" => text(StatusCode::OK, "ok\n"),
        _ if path == CALLBACK_PUBLIC_KEY_PATH => {
            let mut response = text(StatusCode::OK, listener.app.callbacks.public_pem());
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-pem-file"),
            );
            response
        }
        "/readyz" => match ready(listener).await {
            Ok(()) => text(StatusCode::OK, "ready\n"),
            Err(why) => {
                tracing::warn!("not ready: {why}");
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("not ready: {why}\n"),
                )
            }
        },
        "/metrics" if listener.app.metrics_allow.allows(peer.ip()) => {
            let mut response = Response::new(Body::from(crate::observe::METRICS.render()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            response
        }
        "/metrics" => text(
            StatusCode::FORBIDDEN,
            "metrics are not served to this address; see [metrics] allow in docs/configuration.md\n",
        ),
        "/console" if listener.console => {
            let mut response = text(StatusCode::MOVED_PERMANENTLY, "");
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/-/console/"));
            response
        }
        // The region this listener serves, for the console's V4 signatures.
        "/console/region" if listener.console => {
            let region = &listener.app.regions[listener.region];
            let body =
                serde_json::json!({"region": region.name, "signingRegion": region.v4_name()});
            let mut response = Response::new(Body::from(body.to_string()));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            response
        }
        _ => match page.strip_prefix("/console/") {
            Some(file) if listener.console => match super::console::asset(file) {
                Some((content_type, bytes)) => console_file(content_type, bytes),
                None => text(StatusCode::NOT_FOUND, "no such console file\n"),
            },
            _ => text(StatusCode::NOT_FOUND, "no such page\n"),
        },
    }
}

/// Storage reachable and writable: the metadata engine commits a write and the blob
/// store stores, reads back and deletes a blob.
async fn ready(listener: &ListenerState) -> Result<(), String> {
    let store = &listener.app.store;
    store
        .meta(|m| m.probe())
        .await
        .map_err(|e| format!("metadata: {e}"))?;
    let blobs = &store.blobs;
    let blob_err = |e: std::io::Error| format!("blobs: {e}");
    let mut writer = blobs.create().await.map_err(blob_err)?;
    writer.write(b"ready").await.map_err(blob_err)?;
    let id = writer.finish().await.map_err(blob_err)?;
    let mut back = Vec::new();
    let read = {
        let mut reader = blobs.open(&id, 0, 5).await.map_err(blob_err)?;
        tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut back).await
    };
    blobs.delete(&id).await.map_err(blob_err)?;
    read.map_err(blob_err)?;
    if back != b"ready" {
        return Err("blobs: a probe blob read back differently".into());
    }
    Ok(())
}

fn text(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A console file, with headers that keep the page's scripts its own: no inline or
/// foreign scripts, nothing framed, requests only to this origin.
fn console_file(content_type: &'static str, bytes: &'static [u8]) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}
