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
