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
