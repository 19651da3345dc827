//! The wire dialects over [`crate::core`]: OSS (`oss`) and S3 (`s3`), and the choice
//! of one for each request.

mod admin;
mod console;
pub mod oss;
pub mod s3;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;

use crate::server::ListenerState;

/// Serve one request in its dialect: S3 on an `s3_listen` address or when signed the
/// AWS way, OSS otherwise. CORS preflights are unsigned and answered the same for
/// both from the bucket's rules (the OSS spine does it).
pub async fn handle(
    listener: ListenerState,
    peer: SocketAddr,
    request: http::Request<Body>,
) -> Response {
    let host = request.headers().get("host").and_then(|h| h.to_str().ok());
    if admin::is_admin(&listener, host, request.uri().path()) {
        let slot = request.extensions().get::<crate::observe::RequestSlot>();
        return admin::handle(
            &listener,
            peer,
            request.method(),
            request.uri().path(),
            slot,
        )
        .await;
    }
    let preflight = request.method() == http::Method::OPTIONS;
    if !preflight && (listener.s3_only || s3::is_s3_request(request.headers(), request.uri())) {
        s3::handle(&listener, peer, request).await
    } else {
        oss::handle(State(listener), ConnectInfo(peer), request).await
    }
}

/// Put a bucket's CORS headers on a response. `Vary` is added to, not replaced: a
/// negotiated image already varies by `Accept`, a compressed body by `Accept-Encoding`.
fn add_cors_headers(headers: &mut http::HeaderMap, cors: Vec<(&'static str, String)>) {
    for (name, value) in cors {
        let Ok(value) = http::HeaderValue::from_str(&value) else {
            continue;
        };
        if name == "vary" {
            headers.append(name, value);
        } else {
            headers.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cors_vary_is_added_to_the_responses() {
        let mut h = http::HeaderMap::new();
        h.insert("vary", http::HeaderValue::from_static("Accept"));
        h.insert("access-control-allow-origin", "old".parse().unwrap());
        super::add_cors_headers(
            &mut h,
            vec![
                ("access-control-allow-origin", "https://a.example".into()),
                ("vary", "Origin".into()),
            ],
        );
        let vary: Vec<_> = h.get_all("vary").iter().collect();
        assert_eq!(vary, ["Accept", "Origin"]);
        assert_eq!(h["access-control-allow-origin"], "https://a.example");
    }
}
