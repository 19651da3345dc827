"""Transfer options of OSS: GetObject with ``Accept-Encoding: gzip`` (oss2 V1/V4, the v2
SDK, raw requests) and single-connection bandwidth throttling with
``x-oss-traffic-limit`` (header and presigned-URL parameter)."""

import gzip
import json
import os
import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests

from conftest import (HZ, ROOT1, crc64, error_of, make_v2_client, md5_upper,
                      signed_request, unique_bucket_name, v2_service_error)

TEXT = ("ossify serves this line again and again.\n" * 200).encode()  # 8200 bytes
JSON = json.dumps({"items": list(range(600))}).encode()
# 400 KB/s: 1 MiB takes about 2.5 s (the first tenth of a second's worth goes at once).
LIMIT = 819200 * 4
MIB = os.urandom(1024 * 1024)
PRE = gzip.compress(TEXT, mtime=0)
# Lower bound for 1 MiB at LIMIT, with slack for the first piece and timer rounding.
MIN_SECONDS = 2.0


@pytest.fixture(params=["v1", "v4"])
def bucket(ossify, request):
    auth = oss2.Auth(ROOT1.id, ROOT1.secret) if request.param == "v1" else oss2.AuthV4(ROOT1.id, ROOT1.secret)
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("xfer"), region="cn-hangzhou")
    b.create_bucket()
    yield b
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


@pytest.fixture
def v4_bucket(ossify):
    b = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), ossify.endpoint(HZ), unique_bucket_name("limit"),
                    region="cn-hangzhou")
    b.create_bucket()
    yield b
    for u in oss2.MultipartUploadIterator(b):
        b.abort_multipart_upload(u.key, u.upload_id)
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


def raw_get(bucket, key, headers=None, method="GET"):
    """A presigned GET with the given headers (by default none but an explicit
    `Accept-Encoding: identity`, which requests would otherwise set to gzip); the body is
    kept as sent (not decoded)."""
    url = bucket.sign_url(method, key, 60)
    r = requests.request(method, url, headers=headers or {"Accept-Encoding": "identity"}, stream=True,
                         timeout=30)
    body = r.raw.read(decode_content=False)
    return r, body


def put_samples(bucket):
    bucket.put_object("t.txt", TEXT, headers={"Content-Type": "text/plain"})
    bucket.put_object("d.json", JSON, headers={"Content-Type": "application/json; charset=utf-8"})
    bucket.put_object("p.jpg", TEXT, headers={"Content-Type": "image/jpeg"})
    bucket.put_object("small.txt", TEXT[:1023], headers={"Content-Type": "text/plain"})
    bucket.put_object("edge.css", TEXT[:1024], headers={"Content-Type": "text/css"})
    bucket.put_object("pre.txt", PRE,
                      headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"})


# ---------------------------------------------------------------------------
# Accept-Encoding: gzip
# ---------------------------------------------------------------------------
def test_gzip_raw_headers_and_bytes(bucket):
    put_samples(bucket)
    for key, data, ctype in [("t.txt", TEXT, "text/plain"), ("d.json", JSON, "application/json; charset=utf-8"),
                             ("edge.css", TEXT[:1024], "text/css")]:
        r, body = raw_get(bucket, key, {"Accept-Encoding": "gzip"})
        assert r.status_code == 200, key
        h = r.headers
        assert h["Content-Encoding"] == "gzip"
        assert h["Vary"] == "Accept-Encoding"
        assert h["Transfer-Encoding"] == "chunked"
        assert h["Content-Type"] == ctype
        for gone in ("Content-Length", "ETag", "Accept-Ranges"):
            assert gone not in h, (key, gone)
        # The CRC-64 still describes the stored (uncompressed) object.
        assert h["x-oss-hash-crc64ecma"] == str(crc64(data))
        assert body != data and gzip.decompress(body) == data
        if len(data) > 4096:
            assert len(body) < len(data) // 4

        # Without Accept-Encoding: the object as stored.
        r, body = raw_get(bucket, key)
        assert r.status_code == 200 and body == data
        assert "Content-Encoding" not in r.headers and "Vary" not in r.headers
        assert r.headers["Content-Length"] == str(len(data))
        assert r.headers["ETag"] == '"%s"' % md5_upper(data)

    # Accept-Encoding that refuses gzip, or names only other codings: uncompressed.
    for value in ("identity", "gzip;q=0", "br, deflate"):
        r, body = raw_get(bucket, "t.txt", {"Accept-Encoding": value})
        assert "Content-Encoding" not in r.headers and body == TEXT, value
    r, body = raw_get(bucket, "t.txt", {"Accept-Encoding": "br, GZIP;q=0.8"})
    assert r.headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == TEXT


def test_gzip_not_applied(bucket):
    put_samples(bucket)
    accept = {"Accept-Encoding": "gzip"}
    # image/jpeg is not among the types OSS compresses; 1023 bytes is under 1 KB.
    for key, data in [("p.jpg", TEXT), ("small.txt", TEXT[:1023])]:
        r, body = raw_get(bucket, key, accept)
        assert r.status_code == 200 and body == data, key
        assert "Content-Encoding" not in r.headers
        assert r.headers["Content-Length"] == str(len(data))
        assert r.headers["ETag"] == '"%s"' % md5_upper(data)
    # An object stored with its own Content-Encoding is sent as stored.
    r, body = raw_get(bucket, "pre.txt", accept)
    assert r.headers["Content-Encoding"] == "gzip" and body == PRE
    assert r.headers["ETag"] == '"%s"' % md5_upper(PRE)
    assert r.headers["Content-Length"] == str(len(body))
    # A Range request gets the exact bytes, uncompressed.
    r, body = raw_get(bucket, "t.txt", {"Accept-Encoding": "gzip", "Range": "bytes=100-2099"})
    assert r.status_code == 206 and body == TEXT[100:2100]
    assert "Content-Encoding" not in r.headers
    assert r.headers["Content-Range"] == "bytes 100-2099/%d" % len(TEXT)
    assert r.headers["Content-Length"] == "2000"
    # Conditional GET: 304 as always.
    etag = '"%s"' % md5_upper(TEXT)
    r, body = raw_get(bucket, "t.txt", {"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert r.status_code == 304 and body == b""


def test_gzip_head(bucket):
    put_samples(bucket)
    r = requests.head(bucket.sign_url("HEAD", "t.txt", 60), headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert "ETag" not in r.headers
    assert r.headers.get("Content-Length") in (None, "0")
    assert r.headers["x-oss-hash-crc64ecma"] == str(crc64(TEXT))
    r = requests.head(bucket.sign_url("HEAD", "t.txt", 60), headers={"Accept-Encoding": "identity"})
    assert r.headers["Content-Length"] == str(len(TEXT)) and "Content-Encoding" not in r.headers


def test_gzip_oss2(bucket, tmp_path):
    put_samples(bucket)
    # oss2 decodes through requests; it skips its CRC check only for get_object_to_file.
    for key, data in [("t.txt", TEXT), ("d.json", JSON), ("p.jpg", TEXT), ("small.txt", TEXT[:1023])]:
        res = bucket.get_object(key, headers={"Accept-Encoding": "gzip"})
        assert res.read() == data, key
        compressed = key in ("t.txt", "d.json")
        assert (res.headers.get("Content-Encoding") == "gzip") == compressed
        assert (res.etag is None) == compressed
        assert res.content_length == (None if compressed else len(data))
        path = tmp_path / key
        bucket.get_object_to_file(key, str(path), headers={"Accept-Encoding": "gzip"})
        assert path.read_bytes() == data
        # Without the header: CRC checked, same bytes.
        bucket.get_object_to_file(key, str(path))
        assert path.read_bytes() == data
    res = bucket.get_object("t.txt", byte_range=(0, 99), headers={"Accept-Encoding": "gzip"})
    assert res.read() == TEXT[:100] and res.status == 206
    meta = bucket.head_object("t.txt", headers={"Accept-Encoding": "gzip"})
    assert meta.headers["Content-Encoding"] == "gzip"


def test_gzip_v2(ossify, bucket):
    put_samples(bucket)
    c = make_v2_client(ossify)
    name = bucket.bucket_name
    g = c.get_object(oss.GetObjectRequest(bucket=name, key="t.txt", accept_encoding="gzip"))
    assert g.content_encoding == "gzip" and g.etag is None
    assert g.body.content == TEXT
    g = c.get_object(oss.GetObjectRequest(bucket=name, key="d.json", accept_encoding="gzip"))
    assert g.body.content == JSON and g.content_encoding == "gzip"
    g = c.get_object(oss.GetObjectRequest(bucket=name, key="p.jpg", accept_encoding="gzip"))
    assert g.body.content == TEXT and g.content_encoding is None and g.content_length == len(TEXT)
    g = c.get_object(oss.GetObjectRequest(bucket=name, key="t.txt"))
    assert g.body.content == TEXT and g.content_encoding is None
    assert g.etag == '"%s"' % md5_upper(TEXT)
    g = c.get_object(oss.GetObjectRequest(bucket=name, key="t.txt", accept_encoding="gzip",
                                          range_header="bytes=10-19"))
    assert g.body.content == TEXT[10:20] and g.content_encoding is None


# ---------------------------------------------------------------------------
# x-oss-traffic-limit
# ---------------------------------------------------------------------------
def timed(fn, *args, **kw):
    start = time.monotonic()
    result = fn(*args, **kw)
    return result, time.monotonic() - start


def test_traffic_limit_oss2(v4_bucket):
    b = v4_bucket
    limit = {"x-oss-traffic-limit": str(LIMIT)}
    res, took = timed(b.put_object, "up", MIB, headers=limit)
    assert took >= MIN_SECONDS, took
    assert res.crc == crc64(MIB) and res.etag == md5_upper(MIB)
    res, took = timed(lambda: b.get_object("up", headers=limit))
    data, read_took = timed(res.read)
    assert data == MIB and took + read_took >= MIN_SECONDS, (took, read_took)
    # A throttled GET still announces its length.
    assert res.content_length == len(MIB)
    # Without the limit the same transfer is not throttled (loopback moves 1 MiB quickly).
    _, took = timed(lambda: b.get_object("up").read())
    assert took < MIN_SECONDS / 2, took


def test_traffic_limit_upload_part_append_and_copies(v4_bucket):
    b = v4_bucket
    fast = {"x-oss-traffic-limit": str(LIMIT * 2)}  # 800 KB/s: 1 MiB in about 1.25 s
    upload_id = b.init_multipart_upload("mp").upload_id
    part, took = timed(b.upload_part, "mp", upload_id, 1, MIB, headers=fast)
    assert took >= 1.0, took
    b.complete_multipart_upload("mp", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert b.get_object("mp").read() == MIB
    res, took = timed(b.append_object, "ap", 0, MIB, headers=fast)
    assert took >= 1.0, took
    assert res.next_position == len(MIB)
    # Server-side copies read the source at the limit too.
    res, took = timed(b.copy_object, b.bucket_name, "mp", "copied", headers=fast)
    assert took >= 1.0, took
    assert b.get_object("copied").read() == MIB
    upload_id = b.init_multipart_upload("mp2").upload_id
    part, took = timed(b.upload_part_copy, b.bucket_name, "mp", (0, len(MIB) - 1), "mp2", upload_id, 1,
                       headers=fast)
    assert took >= 1.0, took
    b.complete_multipart_upload("mp2", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert b.get_object("mp2").read() == MIB
    # Unthrottled copies are quick.
    _, took = timed(b.copy_object, b.bucket_name, "mp", "copied2")
    assert took < 0.5, took


def test_traffic_limit_v2(ossify, v4_bucket):
    c = make_v2_client(ossify)
    name = v4_bucket.bucket_name
    _, took = timed(c.put_object, oss.PutObjectRequest(bucket=name, key="v2", body=MIB, traffic_limit=LIMIT))
    assert took >= MIN_SECONDS, took

    def get():
        return c.get_object(oss.GetObjectRequest(bucket=name, key="v2", traffic_limit=LIMIT)).body.content

    data, took = timed(get)
    assert data == MIB and took >= MIN_SECONDS, took


def test_traffic_limit_presigned(v4_bucket):
    b = v4_bucket

    def params():  # oss2's sign_url adds its signing parameters to the dict it is given
        return {"x-oss-traffic-limit": str(LIMIT)}

    url = b.sign_url("PUT", "signed", 60, params=params())
    assert "x-oss-traffic-limit=%d" % LIMIT in url
    r, took = timed(requests.put, url, data=MIB, timeout=30)
    assert r.status_code == 200 and took >= MIN_SECONDS, (r.status_code, r.text, took)
    url = b.sign_url("GET", "signed", 60, params=params())
    r, took = timed(requests.get, url, timeout=30)
    assert r.status_code == 200 and r.content == MIB and took >= MIN_SECONDS, (r.text[:600], took)
    # Also with V1 presigning (x-oss-traffic-limit is a signed sub-resource there).
    v1 = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), b.endpoint, b.bucket_name)
    r, took = timed(requests.get, v1.sign_url("GET", "signed", 60, params=params()), timeout=30)
    assert r.status_code == 200 and r.content == MIB and took >= MIN_SECONDS, took


BAD_LIMITS = ["abc", "819199", "838860801", "", "-819200", "1e6", "819200.0"]


def assert_bad_limit(r, value, ec="0004-00000502"):
    assert r.status_code == 400, (value, r.status_code, r.text)
    err = error_of(r)
    assert err["Code"] == "InvalidArgument", (value, err)
    assert err["EC"] == ec
    assert err["ArgumentName"] == "x-oss-traffic-limit"
    assert r.headers["x-oss-ec"] == ec


def test_traffic_limit_bad_values(ossify, v4_bucket):
    b = v4_bucket
    auth = b.auth
    ep = ossify.endpoint(HZ)
    name = b.bucket_name
    b.put_object("exists", b"old")
    for value in BAD_LIMITS:
        h = {"x-oss-traffic-limit": value}
        r = signed_request(auth, "PUT", ep, name, "new", headers=h, data=b"data")
        assert_bad_limit(r, value)
        r = signed_request(auth, "PUT", ep, name, "exists", headers=h, data=b"replaced")
        assert_bad_limit(r, value)
        r = signed_request(auth, "POST", ep, name, "app", headers=h, params={"append": "", "position": "0"},
                           data=b"data")
        assert_bad_limit(r, value)
        r = signed_request(auth, "GET", ep, name, "exists", headers=h)
        assert_bad_limit(r, value)
        r = signed_request(auth, "PUT", ep, name, "copy", data=b"",
                           headers=dict(h, **{"x-oss-copy-source": "/%s/exists" % name}))
        assert_bad_limit(r, value)
    # Stored data is unchanged: nothing new, the old object intact.
    for key in ("new", "app", "copy"):
        assert not b.object_exists(key), key
    assert b.get_object("exists").read() == b"old"
    # Presigned URL with a bad limit.
    r = requests.put(b.sign_url("PUT", "new", 60, params={"x-oss-traffic-limit": "100"}), data=b"x")
    assert_bad_limit(r, "100")
    assert not b.object_exists("new")
    # In both the header and the query string: OSS refuses (EC 0004-00000501).
    r = signed_request(auth, "GET", ep, name, "exists", headers={"x-oss-traffic-limit": str(LIMIT)},
                       params={"x-oss-traffic-limit": str(LIMIT)})
    assert_bad_limit(r, "both", ec="0004-00000501")
    # The SDKs surface it as a 400 InvalidArgument.
    with pytest.raises(oss2.exceptions.ServerError) as e:
        b.put_object("new", b"x", headers={"x-oss-traffic-limit": "1"})
    assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    with pytest.raises(Exception) as e:
        make_v2_client(ossify).get_object(oss.GetObjectRequest(bucket=name, key="exists", traffic_limit=1))
    se = v2_service_error(e)
    assert (se.status_code, se.code, se.ec) == (400, "InvalidArgument", "0004-00000502")
    assert not b.object_exists("new")


def test_traffic_limit_multipart_bad_value_stores_no_part(v4_bucket):
    b = v4_bucket
    upload_id = b.init_multipart_upload("mp").upload_id
    with pytest.raises(oss2.exceptions.ServerError) as e:
        b.upload_part("mp", upload_id, 1, b"data", headers={"x-oss-traffic-limit": "abc"})
    assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    assert b.list_parts("mp", upload_id).parts == []
    b.abort_multipart_upload("mp", upload_id)


def test_traffic_limit_ignored_on_other_operations(ossify, v4_bucket):
    # OSS reads the limit only on the transfer operations; a HEAD or a listing ignores it.
    b = v4_bucket
    b.put_object("k", b"v")
    h = {"x-oss-traffic-limit": "abc"}
    assert b.head_object("k", headers=h).content_length == 1
    r = signed_request(b.auth, "GET", ossify.endpoint(HZ), b.bucket_name, headers=h)
    assert r.status_code == 200
