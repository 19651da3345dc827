//! The S3 dialect through an S3 client crate: `rusty-s3` signs (SigV4 presigned URLs,
//! written independently of the server and of s3s) and reqwest sends. Buckets,
//! objects, ListObjectsV2, multipart, regions, and objects written through S3 and read
//! through OSS (tests/common's V1 client).

mod common;

use std::time::Duration;

use common::*;
use md5::{Digest, Md5};
use reqwest::{Response, Url};
use rusty_s3::actions::{
    CompleteMultipartUpload, CreateMultipartUpload, ListObjectsV2, ListParts, S3Action,
};
use rusty_s3::{Bucket, Credentials, UrlStyle};

const HOUR: Duration = Duration::from_secs(3600);

/// An S3 view of region `region` of `s`, signing for `sign_region`.
struct S3<'a> {
    s: &'a TestServer,
    region: usize,
    sign_region: &'static str,
    credentials: Credentials,
}

impl<'a> S3<'a> {
    fn new(s: &'a TestServer) -> Self {
        Self {
            s,
            region: 0,
            sign_region: "us-east-1",
            credentials: Credentials::new(ROOT_ID, ROOT_SECRET),
        }
    }

    fn bucket(&self, name: &str) -> Bucket {
        let endpoint: Url = format!("http://{}", self.s.addrs[self.region])
            .parse()
            .unwrap();
        Bucket::new(endpoint, UrlStyle::Path, name.to_owned(), self.sign_region).unwrap()
    }

    async fn send(&self, method: &str, url: Url, body: impl Into<reqwest::Body>) -> Response {
        self.s
            .http
            .request(method.parse().unwrap(), url)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    async fn create_bucket(&self, name: &str) {
        let b = self.bucket(name);
        let action = b.create_bucket(&self.credentials);
        let r = self.send("PUT", action.sign(HOUR), action.body()).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    }

    async fn put(&self, bucket: &str, key: &str, body: &[u8]) -> Response {
        let b = self.bucket(bucket);
        let url = b.put_object(Some(&self.credentials), key).sign(HOUR);
        self.send("PUT", url, body.to_vec()).await
    }

    async fn get(&self, bucket: &str, key: &str) -> Response {
        let b = self.bucket(bucket);
        let url = b.get_object(Some(&self.credentials), key).sign(HOUR);
        self.send("GET", url, "").await
    }
}

fn md5_hex(data: &[u8]) -> String {
    hex::encode(Md5::digest(data))
}

/// The value of `<name>` in an XML body.
fn xml_value(body: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].to_owned())
}

#[tokio::test]
async fn buckets_and_objects_round_trip() {
    let s = TestServer::start().await;
    let c = S3::new(&s);
    c.create_bucket("rusty").await;

    let b = c.bucket("rusty");
    let r = c
        .send("HEAD", b.head_bucket(Some(&c.credentials)).sign(HOUR), "")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-amz-request-id"));

    let body = b"hello from rusty-s3".to_vec();
    let r = c.put("rusty", "dir/a b+c.txt", &body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    // S3 ETags are lower-case hex.
    assert_eq!(r.headers()["etag"], format!("\"{}\"", md5_hex(&body)));

    // The owner creating the same name again (200 as in us-east-1, or 409
    // BucketAlreadyOwnedByYou as elsewhere) keeps the bucket and its objects.
    let action = b.create_bucket(&c.credentials);
    let r = c.send("PUT", action.sign(HOUR), action.body()).await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(
        status == 200 || (status == 409 && text.contains("BucketAlreadyOwnedByYou")),
        "{status} {text}"
    );

    let r = c.get("rusty", "dir/a b+c.txt").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], body.len().to_string());
    assert_eq!(r.bytes().await.unwrap(), body);

    let url = b
        .head_object(Some(&c.credentials), "dir/a b+c.txt")
        .sign(HOUR);
    let r = c.send("HEAD", url, "").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], format!("\"{}\"", md5_hex(&body)));
    assert_eq!(r.headers()["content-length"], body.len().to_string());

    // A ranged GET through a presigned URL with a Range header.
    let url = b
        .get_object(Some(&c.credentials), "dir/a b+c.txt")
        .sign(HOUR);
    let r = s
        .http
        .get(url)
        .header("range", "bytes=6-9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.bytes().await.unwrap(), &body[6..10]);

    let url = b
        .delete_object(Some(&c.credentials), "dir/a b+c.txt")
        .sign(HOUR);
    let r = c.send("DELETE", url.clone(), "").await;
    assert_eq!(r.status(), 204);
    let r = c.get("rusty", "dir/a b+c.txt").await;
    assert_eq!(r.status(), 404);
    assert_eq!(code(r).await, "NoSuchKey");
    // Deleting what is gone is still a success in S3.
    let r = c.send("DELETE", url, "").await;
    assert_eq!(r.status(), 204);

    let r = c
        .send("DELETE", b.delete_bucket(&c.credentials).sign(HOUR), "")
        .await;
    assert_eq!(r.status(), 204);
    let r = c
        .send("HEAD", b.head_bucket(Some(&c.credentials)).sign(HOUR), "")
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn list_objects_v2_with_prefix_delimiter_and_pages() {
    let s = TestServer::start().await;
    let c = S3::new(&s);
    c.create_bucket("listing").await;
    let keys = ["a/1", "a/2", "a/b/3", "c", "d/4", "e"];
    for k in keys {
        assert_eq!(c.put("listing", k, k.as_bytes()).await.status(), 200);
    }
    let b = c.bucket("listing");

    let mut action = ListObjectsV2::new(&b, Some(&c.credentials));
    action.with_delimiter("/");
    let r = c.send("GET", action.sign(HOUR), "").await;
    assert_eq!(r.status(), 200);
    let list = ListObjectsV2::parse_response(&r.text().await.unwrap()).unwrap();
    let names: Vec<_> = list.contents.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["c", "e"]);
    let prefixes: Vec<_> = list
        .common_prefixes
        .iter()
        .map(|p| p.prefix.as_str())
        .collect();
    assert_eq!(prefixes, ["a/", "d/"]);
    assert_eq!(list.contents[0].size, Some(1));
    assert_eq!(
        list.contents[0].etag.as_deref(),
        Some(format!("\"{}\"", md5_hex(b"c")).as_str())
    );

    let mut action = ListObjectsV2::new(&b, Some(&c.credentials));
    action.with_prefix("a/");
    let r = c.send("GET", action.sign(HOUR), "").await;
    let list = ListObjectsV2::parse_response(&r.text().await.unwrap()).unwrap();
    let names: Vec<_> = list.contents.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["a/1", "a/2", "a/b/3"]);

    let mut action = ListObjectsV2::new(&b, Some(&c.credentials));
    action.with_start_after("c");
    let r = c.send("GET", action.sign(HOUR), "").await;
    let list = ListObjectsV2::parse_response(&r.text().await.unwrap()).unwrap();
    let names: Vec<_> = list.contents.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(names, ["d/4", "e"]);

    // Pages of two, followed by continuation token, give every key once, in order.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let mut action = ListObjectsV2::new(&b, Some(&c.credentials));
        action.with_max_keys(2);
        if let Some(t) = &token {
            action.with_continuation_token(t.clone());
        }
        let r = c.send("GET", action.sign(HOUR), "").await;
        assert_eq!(r.status(), 200);
        let list = ListObjectsV2::parse_response(&r.text().await.unwrap()).unwrap();
        assert!(list.contents.len() <= 2);
        seen.extend(list.contents.into_iter().map(|o| o.key));
        token = list.next_continuation_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, keys);
}

#[tokio::test]
async fn multipart_upload_with_presigned_parts() {
    let s = TestServer::start().await;
    let c = S3::new(&s);
    c.create_bucket("parts").await;
    let b = c.bucket("parts");
    let key = "big/object.bin";

    let action = CreateMultipartUpload::new(&b, Some(&c.credentials), key);
    let r = c.send("POST", action.sign(HOUR), "").await;
    assert_eq!(r.status(), 200);
    let created = CreateMultipartUpload::parse_response(&r.text().await.unwrap()).unwrap();
    let upload_id = created.upload_id().to_owned();

    // Two 5 MiB parts and a short last one, uploaded out of order.
    let parts: Vec<Vec<u8>> = [5 << 20, 5 << 20, 1234]
        .iter()
        .enumerate()
        .map(|(i, &n)| (0..n).map(|j| (j * 7 + i * 13) as u8).collect())
        .collect();
    let mut etags = vec![String::new(); parts.len()];
    for i in [2usize, 0, 1] {
        let url = b
            .upload_part(Some(&c.credentials), key, (i + 1) as u16, &upload_id)
            .sign(HOUR);
        let r = c.send("PUT", url, parts[i].clone()).await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        assert_eq!(etag, format!("\"{}\"", md5_hex(&parts[i])));
        etags[i] = etag;
    }

    let r = c
        .send(
            "GET",
            ListParts::new(&b, Some(&c.credentials), key, &upload_id).sign(HOUR),
            "",
        )
        .await;
    assert_eq!(r.status(), 200);
    let listed = ListParts::parse_response(&r.text().await.unwrap()).unwrap();
    let numbers: Vec<_> = listed.parts.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(listed.parts[2].size, 1234);

    // The object does not exist before Complete.
    assert_eq!(c.get("parts", key).await.status(), 404);

    let action = CompleteMultipartUpload::new(
        &b,
        Some(&c.credentials),
        key,
        &upload_id,
        etags.iter().map(String::as_str),
    );
    let url = action.sign(HOUR);
    let r = c.send("POST", url, action.body()).await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    let etag = xml_value(&text, "ETag").unwrap().replace("&quot;", "\"");
    let mut md5s = Vec::new();
    for p in &parts {
        md5s.extend_from_slice(&Md5::digest(p));
    }
    assert_eq!(etag, format!("\"{}-3\"", md5_hex(&md5s)));

    let r = c.get("parts", key).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], etag.as_str());
    assert_eq!(r.bytes().await.unwrap(), parts.concat());

    // Aborting another upload leaves nothing behind.
    let action = CreateMultipartUpload::new(&b, Some(&c.credentials), "aborted");
    let r = c.send("POST", action.sign(HOUR), "").await;
    let id = CreateMultipartUpload::parse_response(&r.text().await.unwrap())
        .unwrap()
        .upload_id()
        .to_owned();
    let url = b
        .upload_part(Some(&c.credentials), "aborted", 1, &id)
        .sign(HOUR);
    assert_eq!(c.send("PUT", url, vec![1u8; 100]).await.status(), 200);
    let url = b
        .abort_multipart_upload(Some(&c.credentials), "aborted", &id)
        .sign(HOUR);
    assert_eq!(c.send("DELETE", url, "").await.status(), 204);
    let r = c
        .send(
            "GET",
            ListParts::new(&b, Some(&c.credentials), "aborted", &id).sign(HOUR),
            "",
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(code(r).await, "NoSuchUpload");
    assert_eq!(c.get("parts", "aborted").await.status(), 404);
}

#[tokio::test]
async fn written_with_s3_read_with_oss() {
    let s = TestServer::start().await;
    let c = S3::new(&s);
    c.create_bucket("cross").await;

    let b = c.bucket("cross");
    let body = b"the same bytes through both dialects".to_vec();
    let mut action = b.put_object(Some(&c.credentials), "k.txt");
    action.headers_mut().insert("x-amz-meta-colour", "blue");
    action.headers_mut().insert("content-type", "text/plain");
    let r = s
        .http
        .put(action.sign(HOUR))
        .header("x-amz-meta-colour", "blue")
        .header("content-type", "text/plain")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    // OSS sees the bucket, the object, its metadata and the ETag in upper case.
    let r = s.req("GET", "/cross/k.txt").send().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-oss-meta-colour"], "blue");
    assert_eq!(r.headers()["content-type"], "text/plain");
    assert_eq!(
        r.headers()["etag"],
        format!("\"{}\"", md5_hex(&body).to_uppercase())
    );
    assert!(r.headers().contains_key("x-oss-hash-crc64ecma"));
    assert_eq!(r.bytes().await.unwrap(), body);

    let r = s.req("GET", "/cross/?list-type=2").send().await;
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert_eq!(xml_value(&text, "Key").as_deref(), Some("k.txt"));

    // Deleted through OSS, gone for S3.
    assert_eq!(s.req("DELETE", "/cross/k.txt").send().await.status(), 204);
    assert_eq!(c.get("cross", "k.txt").await.status(), 404);
}

#[tokio::test]
async fn signing_regions_keys_and_expiry() {
    let s = TestServer::start().await;
    let mut c = S3::new(&s);
    c.create_bucket("regions").await;
    assert_eq!(c.put("regions", "k", b"v").await.status(), 200);

    // The region's own names sign too.
    for name in ["oss-cn-hangzhou", "cn-hangzhou"] {
        c.sign_region = name;
        assert_eq!(c.get("regions", "k").await.status(), 200, "{name}");
    }
    // Another region's name is refused, naming the expected one (a presigned URL's
    // credential is a query parameter, so S3 names that error).
    c.sign_region = "cn-shanghai";
    let r = c.get("regions", "k").await;
    assert_eq!(r.status(), 400);
    let text = r.text().await.unwrap();
    assert_eq!(
        xml_value(&text, "Code").as_deref(),
        Some("AuthorizationQueryParametersError")
    );
    assert!(text.contains("cn-hangzhou"), "{text}");
    // us-east-1 stands for the first region only.
    c.region = 1;
    c.sign_region = "us-east-1";
    let r = c.get("regions", "k").await;
    assert_eq!(code(r).await, "AuthorizationQueryParametersError");
    c.sign_region = "cn-shanghai";
    let r = c.get("regions", "k").await;
    assert_ne!(r.status(), 400);
    c.region = 0;
    c.sign_region = "us-east-1";

    // An unknown key and a wrong secret.
    c.credentials = Credentials::new("AKIDUNKNOWN", ROOT_SECRET);
    let r = c.get("regions", "k").await;
    assert_eq!(r.status(), 403);
    assert_eq!(code(r).await, "InvalidAccessKeyId");
    c.credentials = Credentials::new(ROOT_ID, "not-the-secret");
    let r = c.get("regions", "k").await;
    assert_eq!(r.status(), 403);
    assert_eq!(code(r).await, "SignatureDoesNotMatch");
    let r = c.put("regions", "other", b"x").await;
    assert_eq!(code(r).await, "SignatureDoesNotMatch");
    c.credentials = Credentials::new(ROOT_ID, ROOT_SECRET);
    assert_eq!(c.get("regions", "other").await.status(), 404);

    // Another account's keys are authenticated but not authorized on this bucket.
    c.credentials = Credentials::new(OTHER_ID, OTHER_SECRET);
    let r = c.get("regions", "k").await;
    assert_eq!(r.status(), 403);
    assert_eq!(code(r).await, "AccessDenied");
    c.credentials = Credentials::new(ROOT_ID, ROOT_SECRET);

    // A presigned URL whose X-Amz-Expires has passed (signed two hours ago for one).
    let b = c.bucket("regions");
    let then = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2);
    let url = b
        .get_object(Some(&c.credentials), "k")
        .sign_with_time(HOUR, &then);
    let r = c.send("GET", url, "").await;
    assert_eq!(r.status(), 403);
    assert_eq!(code(r).await, "AccessDenied");
}
