//! The wire dialects over [`crate::core`]: OSS (`oss`), and the request spine that
//! picks one for each request.

pub mod oss;
