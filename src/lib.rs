//! ossify: an OSS-compatible object storage server with built-in image processing.
//! See ARCHITECTURE notes in docs/ and the module docs.

pub mod access;
pub mod api;
pub mod background;
pub mod config;
pub mod core;
pub mod image;
pub mod lifecycle;
pub mod migrate;
pub mod names;
pub mod observe;
pub mod server;
pub mod storage;

/// reqwest is built without a default TLS crypto provider (aws-lc builds C code for
/// minutes): its clients (S3 blobs, upload callbacks) use ring unless the process
/// already chose one.
pub fn install_tls_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
