//! Checks between s3s's routing and the operations, where S3 refuses a request that
//! s3s would serve as something else.
//!
//! s3s picks an operation by the sub-resources it knows and falls back to the plain
//! one otherwise: `DELETE /bucket?acl` would be DeleteBucket, `DELETE /b/k?website`
//! DeleteObject, `PUT /b/k?symlink` PutObject. Here a request must name exactly the
//! sub-resource of the operation it was routed to, and a value-less parameter S3 does
//! not know is a sub-resource it does not implement: NotImplemented, nothing run.
//! Parameters with values that S3 does not use are ignored, as S3 does (cache
//! busters). The header section and the user metadata are held to S3's limits.

use axum::body::Body;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode, Uri};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

/// Query names that select an operation (s3s's route table), and `uploadId`.
const SELECTORS: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    "website",
];

/// Parameters of S3 operations that do not select one.
const PARAMETERS: &[&str] = &[
    "continuation-token",
    "delimiter",
    "encoding-type",
    "fetch-owner",
    "id",
    "key-marker",
    "list-type",
    "marker",
    "max-buckets",
    "max-keys",
    "max-parts",
    "max-uploads",
    "part-number-marker",
    "partNumber",
    "prefix",
    "select-type",
    "start-after",
    "upload-id-marker",
    "version-id-marker",
    "versionId",
    "x-id",
    "bucket-region",
    // SigV2 presigned URLs (SigV4's are X-Amz-*).
    "AWSAccessKeyId",
    "Expires",
    "Signature",
];

/// Operations that take no sub-resource.
const PLAIN: &[&str] = &[
    "ListBuckets",
    "CreateBucket",
    "HeadBucket",
    "DeleteBucket",
    "ListObjects",
    "ListObjectsV2",
    "PutObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "CopyObject",
    "PostObject",
];

/// S3's limit on the request header section, and on the user metadata in it.
const MAX_HEADER_SECTION: usize = 8 * 1024;
const MAX_USER_METADATA: usize = 2 * 1024;

fn not_implemented(name: &str) -> S3Error {
    let mut e = s3_error!(
        NotImplemented,
        "A parameter you provided implies functionality that is not implemented: {name}"
    );
    e.set_status_code(StatusCode::NOT_IMPLEMENTED);
    e
}

fn known(name: &str) -> bool {
    SELECTORS.contains(&name)
        || PARAMETERS.contains(&name)
        || name.starts_with("response-")
        || name.len() > 6 && name[..6].eq_ignore_ascii_case("x-amz-")
        || name.starts_with("x-oss-")
}

/// The sub-resources of `uri` must be those of the operation `op` it was routed to.
pub fn check_sub_resources(op: &str, uri: &Uri) -> S3Result<()> {
    let mut selectors = Vec::new();
    for pair in uri.query().unwrap_or_default().split('&') {
        if pair.is_empty() {
            continue;
        }
        let (raw, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
        if SELECTORS.contains(&name.as_ref()) {
            selectors.push(name.into_owned());
        } else if value.is_empty() && !known(&name) {
            return Err(not_implemented(&name));
        }
    }
    // s3s routes a selector operation on its own selector only; a plain operation
    // was reached with none, or by falling back (`?uploadId` without partNumber on
    // PUT is PutObject). `?select&select-type=2` is one sub-resource.
    match selectors.as_slice() {
        [] => Ok(()),
        [one] if PLAIN.contains(&op) => Err(not_implemented(one)),
        [_] => Ok(()),
        [_, second, ..] => Err(not_implemented(second)),
    }
}

/// S3's limits on the header section and the user metadata of a request.
pub fn check_headers(headers: &HeaderMap) -> S3Result<()> {
    let mut total = 0usize;
    let mut meta = 0usize;
    for (name, value) in headers {
        let n = name.as_str().len() + value.len();
        total += n;
        if let Some(key) = name.as_str().strip_prefix("x-amz-meta-") {
            meta += key.len() + value.len();
        }
    }
    if total > MAX_HEADER_SECTION {
        let mut e = s3_error!(
            RequestHeaderSectionTooLarge,
            "Your request header section exceeds the maximum allowed size."
        );
        e.set_status_code(StatusCode::BAD_REQUEST);
        return Err(e);
    }
    if meta > MAX_USER_METADATA {
        let mut e = S3Error::with_message(
            S3ErrorCode::MetadataTooLarge,
            "Your metadata headers exceed the maximum allowed metadata size.",
        );
        e.set_status_code(StatusCode::BAD_REQUEST);
        return Err(e);
    }
    Ok(())
}

/// The final chunk of a signed aws-chunked body: `0;chunk-signature=<64 hex>\r\n\r\n`.
const FINAL_CHUNK_LEN: usize = 18 + 64 + 4;

fn ends_with_final_chunk(tail: &[u8]) -> bool {
    let Some(start) = tail.len().checked_sub(FINAL_CHUNK_LEN) else {
        return false;
    };
    let last = &tail[start..];
    (start == 0 || tail[start - 1] == b'\n')
        && last.starts_with(b"0;chunk-signature=")
        && last[18..82].iter().all(u8::is_ascii_hexdigit)
        && last.ends_with(b"\r\n\r\n")
}

/// s3s ends a signed aws-chunked body where the input ends, with or without its
/// final zero-length chunk: a body cut short at a chunk boundary fails here instead
/// (its stream errs at the end, and the write stores nothing).
pub fn require_final_chunk(request: http::Request<Body>) -> http::Request<Body> {
    let signed_chunks = request
        .headers()
        .get("x-amz-content-sha256")
        .is_some_and(|v| v == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
    if !signed_chunks {
        return request;
    }
    request.map(|body| {
        let stream = body.into_data_stream();
        let checked = futures_util::stream::unfold(Some((stream, Vec::new())), |state| async {
            let (mut stream, mut tail) = state?;
            match stream.next().await {
                Some(Ok(chunk)) => {
                    tail.extend_from_slice(&chunk);
                    let excess = tail.len().saturating_sub(FINAL_CHUNK_LEN + 1);
                    tail.drain(..excess);
                    Some((Ok(chunk), Some((stream, tail))))
                }
                Some(Err(e)) => Some((Err(e), None)),
                None if ends_with_final_chunk(&tail) => None,
                None => Some((
                    Err(axum::Error::new(
                        "the aws-chunked body ended before its final chunk",
                    )),
                    None,
                )),
            }
        });
        Body::from_stream(checked)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "" when allowed, else the error code.
    fn check(op: &str, query: &str) -> String {
        let uri: Uri = format!("/b/k?{query}").parse().unwrap();
        check_sub_resources(op, &uri)
            .err()
            .map(|e| e.code().as_str().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn plain_operations_take_no_sub_resource() {
        assert_eq!(check("PutObject", "x-id=PutObject"), "");
        assert_eq!(check("GetObject", "partNumber=1&versionId=v"), "");
        assert_eq!(check("GetObject", "cache-buster=123"), "");
        assert_eq!(check("ListObjectsV2", "list-type=2&prefix="), "");
        for q in ["acl", "website", "uploadId=x", "foo", "symlink", "foo="] {
            assert_eq!(check("DeleteObject", q), "NotImplemented", "{q}");
            assert_eq!(check("DeleteBucket", q), "NotImplemented", "{q}");
        }
    }

    #[test]
    fn selector_operations_take_one() {
        assert_eq!(check("GetBucketAcl", "acl"), "");
        assert_eq!(check("UploadPart", "partNumber=1&uploadId=x"), "");
        assert_eq!(check("SelectObjectContent", "select&select-type=2"), "");
        assert_eq!(check("GetBucketAcl", "acl&tagging"), "NotImplemented");
        assert_eq!(check("GetBucketAcl", "acl&foo"), "NotImplemented");
    }

    #[test]
    fn the_final_chunk_is_recognised() {
        let last = format!("0;chunk-signature={}\r\n\r\n", "ab".repeat(32));
        assert!(ends_with_final_chunk(last.as_bytes()));
        assert!(ends_with_final_chunk(format!("x\r\n{last}").as_bytes()));
        assert!(!ends_with_final_chunk(format!("x10;{last}").as_bytes()));
        assert!(!ends_with_final_chunk(&last.as_bytes()[..last.len() - 2]));
        let data_chunk = format!("4;chunk-signature={}\r\ndata\r\n", "ab".repeat(32));
        assert!(!ends_with_final_chunk(data_chunk.as_bytes()));
    }
}
