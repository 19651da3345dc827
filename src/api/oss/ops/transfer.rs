//! How bodies travel, around the operation handlers: `x-oss-traffic-limit`
//! (single-connection bandwidth throttling) and `Accept-Encoding: gzip` on GetObject.

use std::io::Write;
use std::ops::RangeInclusive;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures_util::Stream;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::api::oss::error::{ApiResult, OssError};
use crate::api::oss::headers::header;
use crate::api::oss::query::Query;
use crate::core::throttle::throttle;

/// OSS's single-connection limits in bit/s: 100 KB/s to 100 MB/s.
const TRAFFIC_LIMIT_BITS: RangeInclusive<u64> = 819_200..=838_860_800;

/// The request's `x-oss-traffic-limit` (header, or query parameter of a presigned URL)
/// in bytes per second.
pub fn traffic_limit(headers: &HeaderMap, query: &Query) -> ApiResult<Option<u64>> {
    let value = match (
        header(headers, "x-oss-traffic-limit"),
        query.get("x-oss-traffic-limit"),
    ) {
        (None, None) => return Ok(None),
        (Some(v), None) | (None, Some(v)) => v,
        // OSS refuses the limit in both places (EC 0004-00000501).
        (Some(v), Some(_)) => {
            return Err(OssError::invalid_argument(
                "x-oss-traffic-limit is given both as a header and as a query parameter; send it in one place.",
                "x-oss-traffic-limit",
                v,
            )
            .ec("0004-00000501"));
        }
    };
    match value.parse::<u64>() {
        Ok(bits) if TRAFFIC_LIMIT_BITS.contains(&bits) => Ok(Some(bits / 8)),
        _ => Err(OssError::invalid_argument(
            format!(
                "x-oss-traffic-limit must be an integer number of bit/s from {} (100 KB/s) to {} (100 MB/s).",
                TRAFFIC_LIMIT_BITS.start(),
                TRAFFIC_LIMIT_BITS.end()
            ),
            "x-oss-traffic-limit",
            value,
        )
        .ec("0004-00000502")),
    }
}

/// A body (request or response) paced to `bytes_per_second`.
pub fn throttle_body(body: Body, bytes_per_second: u64) -> Body {
    Body::from_stream(throttle(body.into_data_stream(), bytes_per_second))
}

/// [`throttle_body`] on a response; hyper keeps the handler's Content-Length.
pub fn throttle_response(response: Response, bytes_per_second: u64) -> Response {
    response.map(|body| throttle_body(body, bytes_per_second))
}

/// Content types OSS compresses when the client accepts gzip.
const GZIP_TYPES: &[&str] = &[
    "text/cache-manifest",
    "text/xml",
    "text/css",
    "text/html",
    "text/plain",
    "application/javascript",
    "application/x-javascript",
    "application/rss+xml",
    "application/json",
    "text/json",
];

/// OSS compresses objects of at least 1 KB.
const GZIP_MIN_SIZE: u64 = 1024;

/// Does `Accept-Encoding` accept gzip (a `gzip` coding whose q is not 0)?
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut params = coding.split(';');
            let name = params.next().unwrap_or_default().trim();
            let q_zero = params.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            name.eq_ignore_ascii_case("gzip") && !q_zero
        })
}

/// Would OSS gzip this whole-object 200 answer? Its Content-Type is one of
/// [`GZIP_TYPES`], it is at least [`GZIP_MIN_SIZE`] long, and it carries no
/// Content-Encoding of its own (an object stored compressed is sent as stored).
fn compressible(response: &Response) -> bool {
    let h = response.headers();
    let media_type = header(h, "content-type")
        .and_then(|t| t.split(';').next())
        .map(str::trim)
        .unwrap_or_default();
    let size = header(h, "content-length").and_then(|l| l.parse::<u64>().ok());
    response.status() == StatusCode::OK
        && !h.contains_key(http::header::CONTENT_ENCODING)
        && GZIP_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(media_type))
        && size.is_some_and(|s| s >= GZIP_MIN_SIZE)
}

/// GetObject/HeadObject with `Accept-Encoding: gzip`: as OSS does, a compressible object
/// is sent gzip-compressed (streamed, chunked) with `Content-Encoding: gzip` and
/// `Vary: Accept-Encoding`, and without ETag, Content-Length and Accept-Ranges;
/// `x-oss-hash-crc64ecma` and Content-MD5 still describe the stored object.
pub fn gzip_response(method: &Method, request: &HeaderMap, response: Response) -> Response {
    if !accepts_gzip(request) || !compressible(&response) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    for name in ["etag", "content-length", "accept-ranges"] {
        parts.headers.remove(name);
    }
    parts
        .headers
        .insert("content-encoding", HeaderValue::from_static("gzip"));
    parts
        .headers
        .insert("vary", HeaderValue::from_static("Accept-Encoding"));
    // A HEAD answer has no body to compress.
    let body = if method == Method::HEAD {
        body
    } else {
        Body::from_stream(Gzip {
            inner: body.into_data_stream(),
            encoder: Some(GzEncoder::new(Vec::new(), Compression::fast())),
        })
    };
    Response::from_parts(parts, body)
}

/// A gzip stream over a byte stream, one compressed piece out per piece in: memory
/// stays at one chunk plus the deflate window, whatever the object's size.
struct Gzip<S> {
    inner: S,
    /// None once the trailer has been sent.
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl<S> Stream for Gzip<S>
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Unpin,
{
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            let Some(encoder) = this.encoder.as_mut() else {
                return Poll::Ready(None);
            };
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(chunk))) => {
                    if let Err(e) = encoder.write_all(&chunk) {
                        return Poll::Ready(Some(Err(axum::Error::new(e))));
                    }
                    let out = std::mem::take(encoder.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(out.into())));
                    }
                }
                Poll::Ready(None) => {
                    let finished = this.encoder.take().expect("encoder present").finish();
                    return Poll::Ready(Some(finished.map(Bytes::from).map_err(axum::Error::new)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use std::io::Read;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("accept-encoding", value.parse().unwrap());
        h
    }

    #[test]
    fn accept_encoding_parsing() {
        assert!(accepts_gzip(&accept("gzip")));
        assert!(accepts_gzip(&accept("deflate, GZIP;q=0.5")));
        assert!(!accepts_gzip(&accept("gzip;q=0")));
        assert!(!accepts_gzip(&accept("identity")));
        assert!(!accepts_gzip(&accept("x-gzip2")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    fn object(content_type: &str, text: &str) -> Response {
        Response::builder()
            .header("content-type", content_type)
            .header("content-length", text.len())
            .header("etag", "\"x\"")
            .header("accept-ranges", "bytes")
            .header("x-oss-hash-crc64ecma", "1")
            .body(Body::from(text.to_owned()))
            .unwrap()
    }

    #[tokio::test]
    async fn compresses_only_what_oss_compresses() {
        let text = "hello ossify\n".repeat(200);
        let r = gzip_response(
            &Method::GET,
            &accept("gzip"),
            object("text/plain; charset=utf-8", &text),
        );
        let h = r.headers();
        assert_eq!(h["content-encoding"], "gzip");
        assert_eq!(h["vary"], "Accept-Encoding");
        assert_eq!(h["x-oss-hash-crc64ecma"], "1");
        for gone in ["etag", "content-length", "accept-ranges"] {
            assert!(!h.contains_key(gone), "{gone}");
        }
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert!(body.len() < text.len());
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, text);

        for (content_type, text, accepted) in [
            ("image/jpeg", text.as_str(), "gzip"),
            ("text/plain", &text[..1023], "gzip"),
            ("application/json", text.as_str(), "identity"),
        ] {
            let r = gzip_response(&Method::GET, &accept(accepted), object(content_type, text));
            assert!(!r.headers().contains_key("content-encoding"));
            assert_eq!(r.headers()["etag"], "\"x\"");
        }
        let mut partial = object("text/plain", &text);
        *partial.status_mut() = StatusCode::PARTIAL_CONTENT;
        let r = gzip_response(&Method::GET, &accept("gzip"), partial);
        assert!(!r.headers().contains_key("content-encoding"));
    }

    fn ctx_limit(header_value: Option<&str>, query: Option<&str>) -> Result<Option<u64>, String> {
        let mut headers = HeaderMap::new();
        if let Some(v) = header_value {
            headers.insert("x-oss-traffic-limit", v.parse().unwrap());
        }
        traffic_limit(&headers, &Query::parse(query).unwrap())
            .map_err(|e| format!("{} {}", e.code, e.ec.unwrap_or_default()))
    }

    #[test]
    fn traffic_limit_range() {
        assert_eq!(ctx_limit(None, None), Ok(None));
        assert_eq!(ctx_limit(Some("819200"), None), Ok(Some(102_400)));
        assert_eq!(
            ctx_limit(None, Some("x-oss-traffic-limit=838860800")),
            Ok(Some(104_857_600))
        );
        for bad in ["819199", "838860801", "abc", "", "-1", "8192000.5"] {
            assert_eq!(
                ctx_limit(Some(bad), None),
                Err("InvalidArgument 0004-00000502".into()),
                "{bad:?}"
            );
        }
        assert_eq!(
            ctx_limit(Some("819200"), Some("x-oss-traffic-limit=819200")),
            Err("InvalidArgument 0004-00000501".into())
        );
    }
}
