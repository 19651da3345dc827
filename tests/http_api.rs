//! The server over HTTP: buckets, objects, errors and bad input.

mod common;

use base64::Engine;
use common::*;
use md5::{Digest, Md5};

async fn bucket(s: &TestServer, name: &str) {
    let r = s.req("PUT", &format!("/{name}")).send().await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn object_round_trip_with_headers_and_meta() {
    let s = TestServer::start().await;
    bucket(&s, "photos").await;
    let body = b"hello world".to_vec();
    let md5 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
    let r = s
        .req("PUT", "/photos/dir/a%20b%2Bc.txt")
        .header("content-type", "text/plain")
        .header("content-md5", &md5)
        .header("cache-control", "no-cache")
        .header("content-disposition", "attachment")
        .header("x-oss-meta-Author", "alice")
        .body(body.clone())
        .send()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"");
    assert_eq!(r.headers()["x-oss-hash-crc64ecma"], "5981764153023615706");
    assert_eq!(r.headers()["x-oss-request-id"].len(), 24);

    let r = s.req("GET", "/photos/dir/a%20b+c.txt").send().await;
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "text/plain");
    assert_eq!(h["cache-control"], "no-cache");
    assert_eq!(h["content-disposition"], "attachment");
    assert_eq!(h["x-oss-meta-author"], "alice");
    assert_eq!(h["x-oss-object-type"], "Normal");
    assert_eq!(h["server"], "AliyunOSS");
    assert_eq!(r.bytes().await.unwrap(), body);

    let r = s.req("GET", "/photos/dir/a%20b+c.txt?response-content-type=image/png&response-cache-control=max-age%3D1").send().await;
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["cache-control"], "max-age=1");

    let r = s
        .req("HEAD", "/photos/dir/a%20b+c.txt?objectMeta")
        .send()
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "11");

    let r = s.req("DELETE", "/photos/dir/a%20b+c.txt").send().await;
    assert_eq!(r.status(), 204);
    let r = s.req("DELETE", "/photos/dir/a%20b+c.txt").send().await;
    assert_eq!(r.status(), 204, "deleting a missing key is still 204");
    let r = s.req("HEAD", "/photos/dir/a%20b+c.txt").send().await;
    assert_eq!(r.status(), 404);
    let err = r.headers()["x-oss-err"].to_str().unwrap();
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(err)
            .unwrap(),
    )
    .unwrap();
    assert!(xml.contains("<Code>NoSuchKey</Code>"), "{xml}");
}

#[tokio::test]
async fn ranges_and_conditions() {
    let s = TestServer::start().await;
    bucket(&s, "ranges").await;
    let body: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    s.req("PUT", "/ranges/k").body(body.clone()).send().await;
    let get = |range: &str, standard: bool| {
        let mut r = s.req("GET", "/ranges/k").header("range", range);
        if standard {
            r = r.header("x-oss-range-behavior", "standard");
        }
        r.send()
    };
    let r = get("bytes=10-19", false).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(r.bytes().await.unwrap(), body[10..20]);
    let r = get("bytes=-5", false).await;
    assert_eq!(r.bytes().await.unwrap(), body[995..]);
    // OSS ignores an unsatisfiable range unless the standard behaviour is asked for.
    let r = get("bytes=1000-", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().len(), 1000);
    let r = get("bytes=500-2000", true).await;
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 500-999/1000");
    let r = get("bytes=1000-", true).await;
    assert_eq!(r.status(), 416);
    assert_eq!(code(r).await, "InvalidRange");

    let etag = s.req("HEAD", "/ranges/k").send().await.headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let r = s
        .req("GET", "/ranges/k")
        .header("if-none-match", &etag)
        .send()
        .await;
    assert_eq!(r.status(), 304);
    let r = s
        .req("GET", "/ranges/k")
        .header("if-match", "\"0000\"")
        .send()
        .await;
    assert_eq!(r.status(), 412);
    assert_eq!(code(r).await, "PreconditionFailed");
    let r = s
        .req("GET", "/ranges/k")
        .header("if-match", etag.trim_matches('"'))
        .send()
        .await;
    assert_eq!(r.status(), 200);
    let r = s
        .req("GET", "/ranges/k")
        .header("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT")
        .send()
        .await;
    assert_eq!(r.status(), 412);
    let r = s
        .req("GET", "/ranges/k")
        .header("if-modified-since", "Fri, 01 Jan 2100 00:00:00 GMT")
        .send()
        .await;
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn bucket_lifecycle_and_listing() {
    let s = TestServer::start().await;
    bucket(&s, "list-me").await;
    bucket(&s, "list-me").await; // re-creating your own bucket is fine
    for key in ["a", "a/1", "a/2", "b/x/1", "b/y", "c d", "e+f"] {
        assert_eq!(
            s.req(
                "PUT",
                &format!("/list-me/{}", key.replace(' ', "%20").replace('+', "%2B"))
            )
            .body("x")
            .send()
            .await
            .status(),
            200
        );
    }
    let text = s
        .req("GET", "/list-me?delimiter=/&max-keys=2")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<IsTruncated>true</IsTruncated>")
            && text.contains("<NextMarker>a/</NextMarker>"),
        "{text}"
    );
    assert!(
        text.contains("<Key>a</Key>") && text.contains("<Prefix>a/</Prefix>"),
        "{text}"
    );
    let text = s
        .req("GET", "/list-me?delimiter=/&marker=a/&encoding-type=url")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<Prefix>b%2F</Prefix>")
            && text.contains("<Key>c%20d</Key>")
            && text.contains("<Key>e%2Bf</Key>"),
        "{text}"
    );
    assert!(!text.contains("<Prefix>a%2F</Prefix>"), "{text}");
    let text = s
        .req("GET", "/list-me?list-type=2&prefix=a/&max-keys=1")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<KeyCount>1</KeyCount>") && text.contains("<Key>a/1</Key>"),
        "{text}"
    );
    let token = text
        .split("<NextContinuationToken>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_owned();
    let text = s
        .req(
            "GET",
            &format!("/list-me?list-type=2&prefix=a/&continuation-token={token}"),
        )
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<Key>a/2</Key>") && !text.contains("<Key>a/1</Key>"),
        "{text}"
    );

    let r = s.req("DELETE", "/list-me").send().await;
    assert_eq!(r.status(), 409);
    assert_eq!(code(r).await, "BucketNotEmpty");
    let text = s
        .req("GET", "/?prefix=list")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("<Name>list-me</Name>")
            && text.contains("<Location>oss-cn-hangzhou</Location>"),
        "{text}"
    );
    let info = s
        .req("GET", "/list-me?bucketInfo")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        info.contains("<Grant>private</Grant>") && info.contains("<ExtranetEndpoint>127.0.0.1:"),
        "{info}"
    );
    let loc = s
        .req("GET", "/list-me?location")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(
        loc.contains("<LocationConstraint>oss-cn-hangzhou</LocationConstraint>"),
        "{loc}"
    );
    assert_eq!(
        s.req("PUT", "/list-me?acl")
            .header("x-oss-acl", "public-read")
            .send()
            .await
            .status(),
        200
    );
    let acl = s
        .req("GET", "/list-me?acl")
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(acl.contains("<Grant>public-read</Grant>"), "{acl}");
}

#[tokio::test]
async fn bad_input_gets_oss_errors() {
    let s = TestServer::start().await;
    bucket(&s, "bad-input").await;
    s.req("PUT", "/bad-input/keep")
        .body("precious")
        .send()
        .await;
    let long = "k".repeat(1024);
    let cases: Vec<(Req, u16, &str)> = vec![
        (s.req("PUT", "/Bad_Name"), 400, "InvalidBucketName"),
        (s.req("PUT", "/ab"), 400, "InvalidBucketName"),
        (s.req("PUT", &format!("/bad-input/{long}")).body("x"), 400, "InvalidObjectName"),
        (s.req("PUT", "/bad-input/a%00b").body("x"), 400, "InvalidObjectName"),
        (s.req("PUT", "/bad-input/a/..%2Fkeep").body("x"), 400, "InvalidObjectName"),
        (s.req("PUT", "/bad-input/%FF").body("x"), 400, "InvalidObjectName"),
        (s.req("PUT", "/bad-input/keep").header("content-md5", "bm90IGFuIG1kNQ==").body("x"), 400, "InvalidDigest"),
        (s.req("PUT", "/bad-input/keep").header("content-md5", "!!!").body("x"), 400, "InvalidDigest"),
        (s.req("PUT", "/bad-input/keep").header("x-oss-forbid-overwrite", "true").body("x"), 409, "FileAlreadyExists"),
        (s.req("PUT", "/bad-input/keep").header("x-oss-forbid-overwrite", "maybe").body("x"), 400, "InvalidArgument"),
        (s.req("PUT", "/bad-input/keep").header("x-oss-object-acl", "open").body("x"), 400, "InvalidArgument"),
        (s.req("PUT", "/bad-input/keep").header("x-oss-storage-class", "Cold").body("x"), 400, "InvalidArgument"),
        (s.req("PUT", "/bad-input/keep").header("x-oss-meta-big", &"v".repeat(9000)).body("x"), 400, "InvalidArgument"),
        (s.req("PUT", "/bad-bucket-2").body("<CreateBucketConfiguration><StorageClass>"), 400, "MalformedXML"),
        (s.req("PUT", "/bad-bucket-2").body("<CreateBucketConfiguration><StorageClass>Gold</StorageClass></CreateBucketConfiguration>"), 400, "InvalidArgument"),
        (s.req("PUT", "/bad-input?acl").header("x-oss-acl", "everyone"), 400, "InvalidArgument"),
        (s.req("GET", "/bad-input?max-keys=5000"), 400, "InvalidArgument"),
        (s.req("GET", "/bad-input?encoding-type=base64"), 400, "InvalidArgument"),
        (s.req("GET", "/bad-input?list-type=2&continuation-token=%25%25"), 400, "InvalidArgument"),
        (s.req("GET", "/bad-input?prefix=a&prefix=b"), 400, "InvalidArgument"),
        (s.req("GET", "/no-such-bucket/k"), 404, "NoSuchBucket"),
        (s.req("GET", "/bad-input/missing"), 404, "NoSuchKey"),
        (s.req("POST", "/bad-input/keep"), 405, "MethodNotAllowed"),
        (s.req("PUT", "/bad-input/keep").signed_by("LTAIroot1", "wrong-secret").body("x"), 403, "SignatureDoesNotMatch"),
        (s.req("PUT", "/bad-input/keep").signed_by("LTAInobody", "x").body("x"), 403, "InvalidAccessKeyId"),
        (s.req("PUT", "/bad-input/keep").anonymous().body("x"), 403, "AccessDenied"),
        (s.req("PUT", "/bad-input/keep").signed_by(OTHER_ID, OTHER_SECRET).body("x"), 403, "AccessDenied"),
        (s.req("PUT", "/bad-input/keep").signed_by(READER_ID, READER_SECRET).body("x"), 403, "AccessDenied"),
        (s.req("PUT", "/bad-input/keep").region(1).body("x"), 403, "AccessDenied"),
    ];
    for (req, status, want) in cases {
        let r = req.send().await;
        assert_eq!(
            (r.status().as_u16(), code(r).await.as_str()),
            (status, want)
        );
    }
    let r = s.req("GET", "/bad-input/keep").send().await;
    assert_eq!(
        r.text().await.unwrap(),
        "precious",
        "no refused request changed the object"
    );
    let r = s
        .req("PUT", "/bad-input/keep")
        .signed_by("LTAIroot1", "wrong-secret")
        .body("x")
        .send()
        .await;
    let text = r.text().await.unwrap();
    assert!(text.contains("<StringToSign>PUT\n\n\n"), "{text}");
}

#[tokio::test]
async fn acls_and_other_principals() {
    let s = TestServer::start().await;
    bucket(&s, "acl-test").await;
    s.req("PUT", "/acl-test/k").body("data").send().await;
    assert_eq!(
        s.req("GET", "/acl-test/k")
            .anonymous()
            .send()
            .await
            .status(),
        403
    );
    assert_eq!(
        s.req("GET", "/acl-test/k")
            .signed_by(READER_ID, READER_SECRET)
            .send()
            .await
            .status(),
        200
    );
    assert_eq!(
        s.req("GET", "/acl-test/k")
            .signed_by(OTHER_ID, OTHER_SECRET)
            .send()
            .await
            .status(),
        403
    );
    s.req("PUT", "/acl-test?acl")
        .header("x-oss-acl", "public-read")
        .send()
        .await;
    assert_eq!(
        s.req("GET", "/acl-test/k")
            .anonymous()
            .send()
            .await
            .status(),
        200
    );
    assert_eq!(
        s.req("GET", "/acl-test/k")
            .signed_by(OTHER_ID, OTHER_SECRET)
            .send()
            .await
            .status(),
        200
    );
    assert_eq!(
        s.req("PUT", "/acl-test/k")
            .anonymous()
            .body("x")
            .send()
            .await
            .status(),
        403
    );
    s.req("PUT", "/acl-test?acl")
        .header("x-oss-acl", "public-read-write")
        .send()
        .await;
    assert_eq!(
        s.req("PUT", "/acl-test/new")
            .anonymous()
            .body("x")
            .send()
            .await
            .status(),
        200
    );
    // An object ACL overrides the bucket's.
    s.req("PUT", "/acl-test/secret")
        .header("x-oss-object-acl", "private")
        .body("s")
        .send()
        .await;
    assert_eq!(
        s.req("GET", "/acl-test/secret")
            .anonymous()
            .send()
            .await
            .status(),
        403
    );
    // Another account cannot take the name, and a bucket answers only in its region.
    let r = s
        .req("PUT", "/acl-test")
        .signed_by(OTHER_ID, OTHER_SECRET)
        .send()
        .await;
    assert_eq!(
        (r.status().as_u16(), code(r).await.as_str()),
        (409, "BucketAlreadyExists")
    );
    let r = s.req("GET", "/acl-test/k").region(1).send().await;
    let text = r.text().await.unwrap();
    assert!(text.contains("<Endpoint>127.0.0.1:"), "{text}");
    // Buckets list per account.
    let text = s
        .req("GET", "/")
        .signed_by(OTHER_ID, OTHER_SECRET)
        .send()
        .await
        .text()
        .await
        .unwrap();
    assert!(!text.contains("acl-test"), "{text}");
}

#[tokio::test]
async fn data_survives_restart() {
    let s = TestServer::start().await;
    bucket(&s, "durable").await;
    // Larger than `[storage] inline_bytes`: kept in blobs.
    let (first, second) = ("1".repeat(5000), "2".repeat(5000));
    s.req("PUT", "/durable/a").body(first).send().await;
    s.req("PUT", "/durable/a").body(second.clone()).send().await;
    // Small: kept in its record.
    s.req("PUT", "/durable/small").body("first").send().await;
    s.req("PUT", "/durable/small").body("second").send().await;
    let s = s.restart().await;
    let r = s.req("GET", "/durable/a").send().await;
    assert_eq!(r.text().await.unwrap(), second);
    let r = s.req("GET", "/durable/small").send().await;
    assert_eq!(r.text().await.unwrap(), "second");
    // Replaced blobs were removed; only the live one remains.
    let blobs = walk(&s.dir.path().join("blobs"));
    assert_eq!(blobs, 1);
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| if p.is_dir() { walk(&p) } else { 1 })
        .sum()
}

#[tokio::test]
async fn chunked_upload_without_length() {
    let s = TestServer::start().await;
    bucket(&s, "chunky").await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|i| Ok(vec![i as u8; 100_000])).collect();
    let url = format!("http://{}/chunky/streamed", s.addrs[0]);
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let sig = ossify::api::oss::auth::v1_signature(
        ROOT_SECRET,
        &format!("PUT\n\n\n{date}\n/chunky/streamed"),
    );
    let r = s
        .http
        .put(url)
        .header("date", date)
        .header("authorization", format!("OSS {ROOT_ID}:{sig}"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = s.req("GET", "/chunky/streamed").send().await;
    assert_eq!(r.bytes().await.unwrap().len(), 1_000_000);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_concurrent_connections() {
    let s = TestServer::start().await;
    bucket(&s, "many").await;
    s.req("PUT", "/many/k")
        .body(vec![7u8; 64 * 1024])
        .send()
        .await;
    s.req("PUT", "/many?acl")
        .header("x-oss-acl", "public-read")
        .send()
        .await;
    let url = format!("http://{}/many/k", s.addrs[0]);
    // One client per request: 200 separate connections open at once.
    let requests = (0..200).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let client = common::http_client();
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.bytes().await.unwrap().len())
        })
    });
    for result in futures_util::future::join_all(requests).await {
        assert_eq!(result.unwrap(), (200, 64 * 1024));
    }
}
