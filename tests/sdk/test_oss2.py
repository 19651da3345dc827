"""oss2 (aliyun-oss-python-sdk 2.x) against ossify, with V1 and V4 signatures."""

import base64
import datetime
import hashlib
import os
import re
import time

import oss2
import pytest
import requests
from oss2 import exceptions as oe

from conftest import (HZ, SH, Oss2Ctx, assert_request_id, crc64, error_of, md5_upper,
                      parse_error, unique_bucket_name)

GMT_RE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$")


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def http_date(ts):
    return oss2.utils.http_date(ts)


Ctx = Oss2Ctx


@pytest.fixture(params=["v1", "v4"])
def ctx(request, ossify):
    c = Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture
def bucket(ctx, request):
    return ctx.new_bucket(request.node.name.split("[")[0].replace("test_", ""))


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------
def test_create_bucket_default_acl_is_private(ctx):
    b = ctx.new_bucket("create")
    acl = b.get_bucket_acl()
    assert acl.status == 200
    assert acl.acl == "private"
    assert_request_id(acl.headers)


@pytest.mark.parametrize("acl", ["private", "public-read", "public-read-write"])
def test_create_bucket_with_acl(ctx, acl):
    b = ctx.new_bucket("acl", acl=acl)
    assert b.get_bucket_acl().acl == acl
    assert b.get_bucket_info().acl.grant == acl


def test_create_existing_own_bucket_is_ok(ctx):
    b = ctx.new_bucket("again")
    r = b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    assert r.status == 200
    # re-creating an own bucket updates its ACL (spec §4.3)
    assert b.get_bucket_acl().acl == "public-read"


def test_create_bucket_owned_by_other_account(ctx, ossify):
    b = ctx.new_bucket("taken")
    other = ctx.bucket(b.bucket_name, keys=ossify.root2)
    with pytest.raises(oe.ServerError) as ei:
        other.create_bucket()
    assert ei.value.status == 409
    assert ei.value.code == "BucketAlreadyExists"


def test_list_buckets_prefix_marker_max_keys(ctx, ossify):
    tag = unique_bucket_name("lb")
    names = []
    for suffix in ("a", "b", "c"):
        name = tag + "-" + suffix
        b = ctx.bucket(name)
        b.create_bucket()
        ctx.created.append((HZ, name, None))
        names.append(name)

    svc = ctx.service()
    r = svc.list_buckets(prefix=tag)
    assert r.status == 200
    assert_request_id(r.headers)
    assert [b.name for b in r.buckets] == names
    assert r.is_truncated is False
    for info in r.buckets:
        assert info.location == "oss-cn-hangzhou"
        assert info.extranet_endpoint
        assert info.intranet_endpoint
        assert info.storage_class == "Standard"
        assert isinstance(info.creation_date, int)
        assert abs(info.creation_date - time.time()) < 600
        if info.region is not None:
            assert info.region == "cn-hangzhou"
    assert r.owner.id == ossify.root1.account_id

    p1 = svc.list_buckets(prefix=tag, max_keys=2)
    assert [b.name for b in p1.buckets] == names[:2]
    assert p1.is_truncated is True
    assert p1.next_marker == names[1]
    p2 = svc.list_buckets(prefix=tag, marker=p1.next_marker, max_keys=2)
    assert [b.name for b in p2.buckets] == names[2:]
    assert p2.is_truncated is False

    r = svc.list_buckets(prefix=tag, marker=names[0])
    assert [b.name for b in r.buckets] == names[1:]

    assert [b.name for b in oss2.BucketIterator(svc, prefix=tag, max_keys=1)] == names

    # another account does not see them
    other = ctx.service(keys=ossify.root2)
    assert other.list_buckets(prefix=tag).buckets == []


def test_get_bucket_info(ctx, ossify):
    b = ctx.new_bucket("info", acl="public-read")
    info = b.get_bucket_info()
    assert info.status == 200
    assert info.name == b.bucket_name
    assert info.location == "oss-cn-hangzhou"
    assert info.storage_class == "Standard"
    assert info.extranet_endpoint
    assert info.intranet_endpoint
    assert info.creation_date
    assert info.owner.id == ossify.root1.account_id
    assert info.acl.grant == "public-read"


def test_get_bucket_location(ctx):
    b = ctx.new_bucket("loc")
    r = b.get_bucket_location()
    assert r.status == 200
    assert r.location == "oss-cn-hangzhou"


def test_bucket_in_second_region(ctx, ossify):
    b = ctx.new_bucket("sh", region=SH)
    assert b.get_bucket_location().location == "oss-cn-shanghai"
    assert b.get_bucket_info().location == "oss-cn-shanghai"
    b.put_object("k", b"shanghai")
    assert b.get_object("k").read() == b"shanghai"
    # ListBuckets lists the account's buckets of every region, each with its Location
    listed = {x.name: x.location for x in ctx.service(region=HZ).list_buckets(prefix=ossify.prefix,
                                                                              max_keys=1000).buckets}
    assert listed.get(b.bucket_name) == "oss-cn-shanghai"


def test_put_get_bucket_acl(ctx):
    b = ctx.new_bucket("pacl")
    for acl in ("public-read", "public-read-write", "private"):
        r = b.put_bucket_acl(acl)
        assert r.status == 200
        assert b.get_bucket_acl().acl == acl


def test_put_bucket_acl_creates_a_missing_bucket(ctx, ossify):
    # OSS documents that PutBucketAcl on a bucket that does not exist creates it.
    name = unique_bucket_name("aclnew")
    b = ctx.bucket(name)
    # Refused first: anonymously, and with a bad ACL; neither creates anything.
    with pytest.raises(oe.AccessDenied):
        ctx.anon_bucket(name).put_bucket_acl("public-read")
    with pytest.raises(oe.ServerError) as ei:
        b.put_bucket_acl("everyone")
    assert (ei.value.status, ei.value.code) == (400, "InvalidArgument")
    with pytest.raises(oe.NoSuchBucket):
        b.get_bucket_info()
    r = b.put_bucket_acl("public-read")
    ctx.created.append((HZ, name, None))
    assert r.status == 200 and r.headers["Location"] == "/" + name
    info = b.get_bucket_info()
    assert (info.acl.grant, info.storage_class, info.data_redundancy_type) == (
        "public-read", "Standard", "LRS")
    assert info.owner.id == ossify.root1.account_id
    # On an existing bucket it only changes the ACL; another account's bucket is refused.
    b.put_bucket_acl("private")
    assert b.get_bucket_acl().acl == "private"
    with pytest.raises(oe.AccessDenied):
        ctx.bucket(name, keys=ossify.root2).put_bucket_acl("public-read")
    assert b.get_bucket_acl().acl == "private"


def test_put_bucket_acl_invalid_value(ctx):
    b = ctx.new_bucket("badacl")
    with pytest.raises(oe.ServerError) as ei:
        b.put_bucket_acl("everyone")
    assert ei.value.status == 400
    assert ei.value.code == "InvalidArgument"


def test_delete_bucket(ctx):
    b = ctx.new_bucket("del")
    b.put_object("obj", b"x")
    with pytest.raises(oe.BucketNotEmpty) as ei:
        b.delete_bucket()
    assert ei.value.status == 409
    assert ei.value.code == "BucketNotEmpty"
    b.delete_object("obj")
    r = b.delete_bucket()
    assert r.status == 204
    with pytest.raises(oe.NoSuchBucket) as ei:
        b.get_bucket_info()
    assert ei.value.status == 404
    assert ei.value.details.get("BucketName") in (None, b.bucket_name)
    with pytest.raises(oe.NoSuchBucket) as ei:
        b.delete_bucket()
    assert ei.value.code == "NoSuchBucket"
    with pytest.raises(oe.NoSuchBucket):
        b.put_object("obj", b"x")
    with pytest.raises(oe.NoSuchBucket):
        b.get_object("obj")


def test_missing_bucket_errors(ctx):
    b = ctx.bucket(unique_bucket_name("never"))
    with pytest.raises(oe.NoSuchBucket) as ei:
        b.list_objects()
    assert ei.value.status == 404
    assert ei.value.request_id


@pytest.mark.parametrize("name", ["ab", "Upper", "-bad", "bad-", "a_b", "a" * 64, "bad.dot"])
def test_invalid_bucket_name(ctx, name):
    # oss2 validates names client-side, so send a signed raw PutBucket
    r = ctx.raw("PUT", bucket=name)
    assert r.status_code == 400, r.text
    assert_request_id(r.headers)
    assert error_of(r).get("Code") == "InvalidBucketName"


def test_bucket_name_63_chars_is_valid(ctx):
    name = (unique_bucket_name("max") + "-" + "x" * 63)[:63]
    b = ctx.bucket(name)
    assert b.create_bucket().status == 200
    ctx.created.append((HZ, name, None))
    assert b.get_bucket_info().name == name


# ---------------------------------------------------------------------------
# objects: put / get / head / delete
# ---------------------------------------------------------------------------
PUT_HEADERS = {
    "Content-Type": "text/x-ossify; charset=utf-8",
    "Cache-Control": "no-cache, max-age=0",
    "Content-Disposition": 'attachment; filename="report.txt"',
    "Content-Encoding": "identity",
    "Expires": "Wed, 21 Oct 2015 07:28:00 GMT",
    "x-oss-meta-author": "alice",
    "x-oss-meta-Mixed-Case": "Some Value",
}


def _check_stored_headers(h):
    assert h["Content-Type"] == PUT_HEADERS["Content-Type"]
    assert h["Cache-Control"] == PUT_HEADERS["Cache-Control"]
    assert h["Content-Disposition"] == PUT_HEADERS["Content-Disposition"]
    assert h["Content-Encoding"] == PUT_HEADERS["Content-Encoding"]
    assert h["Expires"] == PUT_HEADERS["Expires"]
    assert h["x-oss-meta-author"] == "alice"
    assert h["x-oss-meta-mixed-case"] == "Some Value"
    # user metadata names come back lower-case
    assert any(k == "x-oss-meta-mixed-case" for k in h.keys()), list(h.keys())


def test_put_object_with_headers_and_get(ctx, bucket):
    data = os.urandom(1000)
    r = bucket.put_object("dir/obj.bin", data, headers=PUT_HEADERS)
    assert r.status == 200
    assert_request_id(r.headers)
    assert r.etag == md5_upper(data)
    assert r.headers["ETag"] == '"%s"' % md5_upper(data)
    assert r.crc == crc64(data)

    g = bucket.get_object("dir/obj.bin")
    assert g.status == 200
    assert g.read() == data
    h = g.headers
    assert_request_id(h)
    _check_stored_headers(h)
    assert g.content_length == 1000
    assert g.etag == md5_upper(data)
    assert h["ETag"] == '"%s"' % md5_upper(data)
    assert g.object_type == "Normal"
    assert h["x-oss-storage-class"] == "Standard"
    assert int(h["x-oss-hash-crc64ecma"]) == crc64(data)
    assert GMT_RE.match(h["Last-Modified"]), h["Last-Modified"]
    assert GMT_RE.match(h["Date"]), h["Date"]
    assert abs(g.last_modified - time.time()) < 600


def test_head_object(ctx, bucket):
    data = b"hello head"
    bucket.put_object("h.txt", data, headers=PUT_HEADERS)
    r = bucket.head_object("h.txt")
    assert r.status == 200
    assert_request_id(r.headers)
    _check_stored_headers(r.headers)
    assert r.content_length == len(data)
    assert r.etag == md5_upper(data)
    assert r.object_type == "Normal"
    assert r.server_crc == crc64(data)
    assert GMT_RE.match(r.headers["Last-Modified"])


def test_head_object_missing_has_x_oss_err(ctx, bucket):
    with pytest.raises(oe.NotFound) as ei:
        bucket.head_object("missing")
    e = ei.value
    assert e.status == 404
    assert e.request_id
    # the error code is only available through x-oss-err on a HEAD
    assert e.code == "NoSuchKey"
    assert "x-oss-err" in e.headers
    # raw view
    r = ctx.raw("HEAD", bucket.bucket_name, "missing")
    assert r.status_code == 404
    assert r.content == b""
    assert_request_id(r.headers)
    err = parse_error(base64.b64decode(r.headers["x-oss-err"]))
    assert err["Code"] == "NoSuchKey"
    assert err["RequestId"] == r.headers["x-oss-request-id"]


def test_get_object_missing_key_error_body(ctx, bucket):
    with pytest.raises(oe.NoSuchKey) as ei:
        bucket.get_object("nope/missing.txt")
    e = ei.value
    assert e.status == 404
    assert e.code == "NoSuchKey"
    assert e.request_id
    assert e.details.get("Message")
    assert e.details.get("RequestId") == e.request_id
    assert "HostId" in e.details
    if "Key" in e.details:
        assert e.details["Key"] == "nope/missing.txt"
    r = ctx.raw("GET", bucket.bucket_name, "nope/missing.txt")
    assert r.status_code == 404
    assert "xml" in r.headers.get("Content-Type", "")
    err = parse_error(r.content)
    assert err["_root"] == "Error"
    for field in ("Code", "Message", "RequestId", "HostId"):
        assert field in err, err
    assert err["RequestId"] == r.headers["x-oss-request-id"]


def test_get_object_meta(ctx, bucket):
    data = b"meta data"
    bucket.put_object("m", data)
    r = bucket.get_object_meta("m")
    assert r.status == 200
    assert r.content_length == len(data)
    assert r.etag == md5_upper(data)
    assert r.last_modified
    assert int(r.headers["x-oss-hash-crc64ecma"]) == crc64(data)
    with pytest.raises(oe.NoSuchKey) as ei:
        bucket.get_object_meta("missing")
    assert ei.value.status == 404


def test_object_exists(ctx, bucket):
    bucket.put_object("exists", b"1")
    assert bucket.object_exists("exists") is True
    assert bucket.object_exists("does-not-exist") is False
    nb = ctx.bucket(unique_bucket_name("nobucket"))
    with pytest.raises(oe.NoSuchBucket) as ei:
        nb.object_exists("exists")
    assert ei.value.status == 404


def test_delete_object(ctx, bucket):
    bucket.put_object("gone", b"x")
    r = bucket.delete_object("gone")
    assert r.status == 204
    assert_request_id(r.headers)
    with pytest.raises(oe.NoSuchKey):
        bucket.get_object("gone")
    # deleting a missing key is still 204
    r = bucket.delete_object("gone")
    assert r.status == 204
    r = bucket.delete_object("never-existed")
    assert r.status == 204


def test_put_object_overwrite(ctx, bucket):
    bucket.put_object("k", b"first", headers={"x-oss-meta-v": "1"})
    bucket.put_object("k", b"second")
    g = bucket.get_object("k")
    assert g.read() == b"second"
    assert g.etag == md5_upper(b"second")
    # metadata is replaced, not merged
    assert "x-oss-meta-v" not in g.headers


def test_empty_object(ctx, bucket):
    r = bucket.put_object("empty", b"")
    assert r.etag == md5_upper(b"")
    g = bucket.get_object("empty")
    assert g.read() == b""
    assert g.content_length == 0
    assert int(g.headers["x-oss-hash-crc64ecma"]) == 0


def test_default_content_type(ctx, bucket):
    # oss2 guesses by extension; the raw request sends none -> OSS default
    r = ctx.raw("PUT", bucket.bucket_name, "noext", data=b"abc")
    assert r.status_code == 200, r.text
    h = bucket.head_object("noext")
    assert h.content_type == "application/octet-stream"
    bucket.put_object("page.html", b"<html/>")
    assert bucket.head_object("page.html").content_type == "text/html"


def test_etag_is_uppercase_md5(ctx, bucket):
    for i, size in enumerate((1, 17, 4096, 100000)):
        data = os.urandom(size)
        r = bucket.put_object("e%d" % i, data)
        assert r.etag == md5_upper(data)
        assert re.match(r'^"[0-9A-F]{32}"$', r.headers["ETag"])
        assert bucket.head_object("e%d" % i).etag == md5_upper(data)


def test_crc_check_on_put_and_get_object_to_file(ctx, bucket, tmp_path):
    assert bucket.enable_crc is True
    data = os.urandom(3 * 1024 * 1024 + 7)
    r = bucket.put_object("big.bin", data)
    # the header must be present, otherwise oss2 silently skips its CRC check
    assert "x-oss-hash-crc64ecma" in r.headers
    assert r.crc == crc64(data)
    path = tmp_path / "out.bin"
    g = bucket.get_object_to_file("big.bin", str(path))
    assert g.server_crc == crc64(data)
    assert path.read_bytes() == data
    # streaming read with crc adapter
    g = bucket.get_object("big.bin")
    assert g.read() == data
    assert g.client_crc == g.server_crc


def test_put_object_streaming_chunked(ctx, bucket):
    chunks = [os.urandom(64 * 1024) for _ in range(20)] + [b"tail"]

    def gen():
        for c in chunks:
            yield c

    r = bucket.put_object("chunked.bin", gen())  # no length -> Transfer-Encoding: chunked
    data = b"".join(chunks)
    assert r.status == 200
    assert r.etag == md5_upper(data)
    assert r.crc == crc64(data)
    assert bucket.get_object("chunked.bin").read() == data


def test_put_object_from_file(ctx, bucket, tmp_path):
    p = tmp_path / "in.txt"
    data = b"file content\n" * 1000
    p.write_bytes(data)
    r = bucket.put_object_from_file("from-file.txt", str(p))
    assert r.etag == md5_upper(data)
    assert bucket.head_object("from-file.txt").content_type.startswith("text/plain")


def test_content_md5(ctx, bucket):
    data = b"digest me"
    r = bucket.put_object("md5ok", data, headers={"Content-MD5": md5_b64(data)})
    assert r.status == 200
    with pytest.raises(oe.InvalidDigest) as ei:
        bucket.put_object("md5bad", data, headers={"Content-MD5": md5_b64(b"other")})
    assert ei.value.status == 400
    assert ei.value.code == "InvalidDigest"
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object("md5bad", data, headers={"Content-MD5": "not-a-digest"})
    assert ei.value.status == 400
    assert ei.value.code == "InvalidDigest"
    assert bucket.object_exists("md5bad") is False


def test_forbid_overwrite(ctx, bucket):
    r = bucket.put_object("fo", b"one", headers={"x-oss-forbid-overwrite": "true"})
    assert r.status == 200
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object("fo", b"two", headers={"x-oss-forbid-overwrite": "true"})
    assert ei.value.status == 409
    assert ei.value.code == "FileAlreadyExists"
    assert bucket.get_object("fo").read() == b"one"
    bucket.put_object("fo", b"three", headers={"x-oss-forbid-overwrite": "false"})
    assert bucket.get_object("fo").read() == b"three"
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object("fo", b"four", headers={"x-oss-forbid-overwrite": "maybe"})
    assert ei.value.status == 400
    assert ei.value.code == "InvalidArgument"
    assert bucket.get_object("fo").read() == b"three"


@pytest.mark.parametrize("key", [
    "/leading-slash",
    "\\leading-backslash",
    "k" * 1024,
    "nul\x00inside",
    "a/../b",
    "../up",
], ids=["slash", "backslash", "1024bytes", "nul", "dotdot", "dotdot-first"])
def test_invalid_object_name(ctx, bucket, key):
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object(key, b"x")
    assert ei.value.status == 400, ei.value
    assert ei.value.code == "InvalidObjectName"


def test_invalid_object_name_raw(ctx, bucket):
    r = ctx.raw("PUT", bucket.bucket_name, "/abs", data=b"x")
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidObjectName"
    r = ctx.raw("PUT", bucket.bucket_name, "\xe9" * 512, data=b"x")  # 1024 UTF-8 bytes
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidObjectName"


def test_longest_valid_object_name(ctx, bucket):
    key = "d/" + "k" * 1021  # 1023 bytes
    bucket.put_object(key, b"x")
    assert bucket.get_object(key).read() == b"x"
    key = "\u00e9" * 511 + "z"  # 1023 bytes of UTF-8
    bucket.put_object(key, b"y")
    assert bucket.get_object(key).read() == b"y"


# ---------------------------------------------------------------------------
# ranges
# ---------------------------------------------------------------------------
@pytest.fixture
def thousand(bucket):
    data = bytes(range(256)) * 3 + os.urandom(232)
    assert len(data) == 1000
    bucket.put_object("r.bin", data)
    return data


def test_range_get(ctx, bucket, thousand):
    data = thousand
    g = bucket.get_object("r.bin", byte_range=(10, 19))
    assert g.status == 206
    assert g.headers["Content-Range"] == "bytes 10-19/1000"
    assert g.content_length == 10
    assert g.read() == data[10:20]
    # the CRC header on a range is the whole object's
    if "x-oss-hash-crc64ecma" in g.headers:
        assert int(g.headers["x-oss-hash-crc64ecma"]) == crc64(data)

    g = bucket.get_object("r.bin", headers={"Range": "bytes=990-"})
    assert g.status == 206
    assert g.headers["Content-Range"] == "bytes 990-999/1000"
    assert g.read() == data[990:]

    g = bucket.get_object("r.bin", headers={"Range": "bytes=-5"})
    assert g.status == 206
    assert g.headers["Content-Range"] == "bytes 995-999/1000"
    assert g.read() == data[995:]

    g = bucket.get_object("r.bin", headers={"Range": "bytes=0-0"})
    assert g.status == 206
    assert g.read() == data[:1]

    g = bucket.get_object("r.bin", headers={"Range": "bytes=999-999"})
    assert g.status == 206
    assert g.read() == data[999:]


@pytest.mark.parametrize("rng", ["bytes=1000-", "bytes=0-1000", "bytes=500-2000", "byte=0-1",
                                 "bytes=20-10", "bytes=abc"])
def test_invalid_range_is_ignored_by_default(ctx, bucket, thousand, rng):
    g = bucket.get_object("r.bin", headers={"Range": rng})
    assert g.status == 200
    assert "Content-Range" not in g.headers
    assert g.content_length == 1000
    assert g.read() == thousand


def test_range_behavior_standard(ctx, bucket, thousand):
    std = {"x-oss-range-behavior": "standard"}
    g = bucket.get_object("r.bin", headers=dict(std, Range="bytes=500-2000"))
    assert g.status == 206
    assert g.headers["Content-Range"] == "bytes 500-999/1000"
    assert g.read() == thousand[500:]

    with pytest.raises(oe.ServerError) as ei:
        bucket.get_object("r.bin", headers=dict(std, Range="bytes=1000-"))
    assert ei.value.status == 416
    assert ei.value.code == "InvalidRange"

    with pytest.raises(oe.ServerError) as ei:
        bucket.get_object("r.bin", headers=dict(std, Range="bytes=5000-6000"))
    assert ei.value.status == 416
    assert ei.value.code == "InvalidRange"

    g = bucket.get_object("r.bin", headers=dict(std, Range="bytes=0-9"))
    assert g.status == 206
    assert g.read() == thousand[:10]


# ---------------------------------------------------------------------------
# conditional requests
# ---------------------------------------------------------------------------
def test_conditional_get(ctx, bucket):
    data = b"conditional"
    bucket.put_object("c", data)
    etag = md5_upper(data)
    lm = bucket.head_object("c").headers["Last-Modified"]
    past = "Sat, 01 Jan 2000 00:00:00 GMT"
    future = http_date(int(time.time()) + 86400)

    # If-Match
    assert bucket.get_object("c", headers={"If-Match": '"%s"' % etag}).read() == data
    assert bucket.get_object("c", headers={"If-Match": etag}).read() == data  # unquoted
    assert bucket.get_object("c", headers={"If-Match": etag.lower()}).read() == data
    with pytest.raises(oe.PreconditionFailed) as ei:
        bucket.get_object("c", headers={"If-Match": '"0123456789ABCDEF0123456789ABCDEF"'})
    assert ei.value.status == 412
    assert ei.value.code == "PreconditionFailed"

    # If-None-Match
    with pytest.raises(oe.NotModified) as ei:
        bucket.get_object("c", headers={"If-None-Match": '"%s"' % etag})
    assert ei.value.status == 304
    assert bucket.get_object("c", headers={"If-None-Match": '"ABC"'}).read() == data

    # If-Modified-Since
    with pytest.raises(oe.NotModified) as ei:
        bucket.get_object("c", headers={"If-Modified-Since": lm})
    assert ei.value.status == 304
    assert bucket.get_object("c", headers={"If-Modified-Since": past}).read() == data

    # If-Unmodified-Since
    with pytest.raises(oe.PreconditionFailed) as ei:
        bucket.get_object("c", headers={"If-Unmodified-Since": past})
    assert ei.value.status == 412
    assert ei.value.code == "PreconditionFailed"
    assert bucket.get_object("c", headers={"If-Unmodified-Since": lm}).read() == data
    assert bucket.get_object("c", headers={"If-Unmodified-Since": future}).read() == data


def test_conditional_head(ctx, bucket):
    data = b"conditional head"
    bucket.put_object("ch", data)
    etag = md5_upper(data)
    with pytest.raises(oe.NotModified) as ei:
        bucket.head_object("ch", headers={"If-None-Match": '"%s"' % etag})
    assert ei.value.status == 304
    with pytest.raises(oe.PreconditionFailed) as ei:
        bucket.head_object("ch", headers={"If-Match": '"0123456789ABCDEF0123456789ABCDEF"'})
    assert ei.value.status == 412
    assert bucket.head_object("ch", headers={"If-Match": '"%s"' % etag}).status == 200


def test_304_has_no_body(ctx, bucket):
    bucket.put_object("nb", b"body")
    r = ctx.raw("GET", bucket.bucket_name, "nb", headers={"If-None-Match": '"%s"' % md5_upper(b"body")})
    assert r.status_code == 304
    assert r.content == b""
    assert_request_id(r.headers)
    r = ctx.raw("GET", bucket.bucket_name, "nb", headers={"If-Match": '"ABC"'})
    assert r.status_code == 412
    err = parse_error(r.content)
    assert err["Code"] == "PreconditionFailed"


def test_response_header_overrides(ctx, bucket):
    bucket.put_object("o.txt", b"override me", headers={"Content-Type": "text/plain"})
    params = {
        "response-content-type": "application/x-override",
        "response-content-language": "fr-FR",
        "response-expires": "Thu, 01 Dec 1994 16:00:00 GMT",
        "response-cache-control": "max-age=7",
        "response-content-disposition": 'inline; filename="o v.txt"',
        "response-content-encoding": "identity",
    }
    g = bucket.get_object("o.txt", params=params)
    assert g.status == 200
    assert g.read() == b"override me"
    h = g.headers
    assert h["Content-Type"] == "application/x-override"
    assert h["Content-Language"] == "fr-FR"
    assert h["Expires"] == "Thu, 01 Dec 1994 16:00:00 GMT"
    assert h["Cache-Control"] == "max-age=7"
    assert h["Content-Disposition"] == 'inline; filename="o v.txt"'
    assert h["Content-Encoding"] == "identity"
    # the stored metadata is unchanged
    assert bucket.head_object("o.txt").content_type == "text/plain"


# ---------------------------------------------------------------------------
# listing
# ---------------------------------------------------------------------------
# "c!d" sorts between "c d" and "c+d": a server that reads a '+' in the query
# (requests form-encodes the space of marker="c d" as "c+d") as a literal plus skips it.
LIST_KEYS = ["a/1", "a/2", "a/b/3", "b", "c d", "c!d", "e+f", "g%h", "g%20i", "\u00fc/\u00f1", "z~",
             "zz*?"]
TOP_LEVEL_KEYS = [k for k in LIST_KEYS if "/" not in k]


def _sorted(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


@pytest.fixture
def listed(bucket):
    for k in LIST_KEYS:
        bucket.put_object(k, k.encode("utf-8"))
    return bucket


def test_list_objects(ctx, listed):
    b = listed
    r = b.list_objects(max_keys=1000)
    assert r.status == 200
    assert_request_id(r.headers)
    assert [o.key for o in r.object_list] == _sorted(LIST_KEYS)
    assert r.is_truncated is False
    assert r.prefix_list == []
    for o in r.object_list:
        assert o.etag == md5_upper(o.key.encode("utf-8"))
        assert o.size == len(o.key.encode("utf-8"))
        assert o.type == "Normal"
        assert o.storage_class == "Standard"
        assert abs(o.last_modified - time.time()) < 600


def test_list_objects_prefix_delimiter(ctx, listed):
    b = listed
    r = b.list_objects(prefix="a/")
    assert [o.key for o in r.object_list] == ["a/1", "a/2", "a/b/3"]

    r = b.list_objects(delimiter="/")
    assert [o.key for o in r.object_list] == _sorted(TOP_LEVEL_KEYS)
    assert r.prefix_list == _sorted(["a/", "\u00fc/"])

    r = b.list_objects(prefix="a/", delimiter="/")
    assert [o.key for o in r.object_list] == ["a/1", "a/2"]
    assert r.prefix_list == ["a/b/"]

    r = b.list_objects(prefix="\u00fc/")
    assert [o.key for o in r.object_list] == ["\u00fc/\u00f1"]

    r = b.list_objects(prefix="nothing-here")
    assert r.object_list == [] and r.prefix_list == []


def test_list_objects_marker_and_paging(ctx, listed):
    b = listed
    everything = _sorted(LIST_KEYS)
    r = b.list_objects(marker="b")
    assert [o.key for o in r.object_list] == [k for k in everything if k.encode() > b"b"]
    r = b.list_objects(marker="c d")  # marker with a space round-trips
    assert [o.key for o in r.object_list] == [k for k in everything if k.encode() > b"c d"]

    r = b.list_objects(max_keys=2)
    assert [o.key for o in r.object_list] == everything[:2]
    assert r.is_truncated is True
    assert r.next_marker == everything[1]

    keys, marker, pages = [], "", 0
    while True:
        r = b.list_objects(marker=marker, max_keys=3)
        pages += 1
        keys += [o.key for o in r.object_list]
        if not r.is_truncated:
            break
        marker = r.next_marker
    assert keys == everything
    assert pages == 4

    assert [o.key for o in oss2.ObjectIterator(b, max_keys=2)] == everything

    # delimiter + paging: common prefixes count towards max-keys
    it = list(oss2.ObjectIterator(b, delimiter="/", max_keys=2))
    assert [o.key for o in it if not o.is_prefix()] == _sorted(TOP_LEVEL_KEYS)
    assert [o.key for o in it if o.is_prefix()] == _sorted(["a/", "\u00fc/"])


def test_list_objects_raw_encoding_type_url(ctx, listed):
    r = ctx.raw("GET", listed.bucket_name, params={"encoding-type": "url", "prefix": "c d"})
    assert r.status_code == 200
    body = r.content.decode("utf-8")
    assert "<EncodingType>url</EncodingType>" in body
    assert "<Key>c%20d</Key>" in body
    assert "<Prefix>c%20d</Prefix>" in body
    r = ctx.raw("GET", listed.bucket_name, params={"encoding-type": "url", "prefix": "e+"})
    assert "<Key>e%2Bf</Key>" in r.content.decode("utf-8")
    # timestamps with literal .000Z
    assert re.search(r"<LastModified>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z</LastModified>",
                     r.content.decode("utf-8"))
    # and without encoding, the raw key is in the XML
    r = ctx.raw("GET", listed.bucket_name, params={"prefix": "c d"})
    assert "<Key>c d</Key>" in r.content.decode("utf-8")


@pytest.mark.parametrize("encoded", ["c%20d", "c+d"], ids=["pct20", "plus"])
def test_query_space_encodings(ctx, listed, encoded):
    """A space in a query value may arrive as %20 or as '+' (Python requests, and so
    oss2, form-encode query parameters); both mean a space."""
    url = ctx.env.hz + "/" + listed.bucket_name + "/"
    auth = oss2.Auth(ctx.env.root1.id, ctx.env.root1.secret)  # prefix is not signed in V1
    req = oss2.http.Request("GET", url, params={}, headers={})
    auth._sign_request(req, listed.bucket_name, "")
    r = requests.get(url + "?prefix=" + encoded, headers={k: v for k, v in req.headers.items() if v})
    assert r.status_code == 200, r.text
    assert "<Key>c d</Key>" in r.content.decode("utf-8")


def test_list_objects_v2(ctx, listed, ossify):
    b = listed
    everything = _sorted(LIST_KEYS)
    r = b.list_objects_v2(max_keys=1000)
    assert r.status == 200
    assert [o.key for o in r.object_list] == everything
    assert r.is_truncated is False
    assert all(o.owner is None for o in r.object_list)

    r = b.list_objects_v2(prefix="a/", delimiter="/")
    assert [o.key for o in r.object_list] == ["a/1", "a/2"]
    assert r.prefix_list == ["a/b/"]

    r = b.list_objects_v2(start_after="e+f")
    assert [o.key for o in r.object_list] == [k for k in everything if k.encode() > b"e+f"]

    r = b.list_objects_v2(fetch_owner=True, max_keys=2)
    assert all(o.owner is not None and o.owner.id == ossify.root1.account_id for o in r.object_list)

    r1 = b.list_objects_v2(max_keys=4)
    assert r1.is_truncated is True
    assert r1.next_continuation_token
    assert [o.key for o in r1.object_list] == everything[:4]
    r2 = b.list_objects_v2(max_keys=4, continuation_token=r1.next_continuation_token)
    assert [o.key for o in r2.object_list] == everything[4:8]

    assert [o.key for o in oss2.ObjectIteratorV2(b, max_keys=3)] == everything
    assert [o.key for o in oss2.ObjectIteratorV2(b, max_keys=2, start_after="b")] == \
        [k for k in everything if k.encode() > b"b"]
    it = list(oss2.ObjectIteratorV2(b, delimiter="/", max_keys=1))
    assert [o.key for o in it if o.is_prefix()] == _sorted(["a/", "\u00fc/"])


def test_list_objects_v2_key_count_raw(ctx, listed):
    r = ctx.raw("GET", listed.bucket_name, params={"list-type": "2", "max-keys": "3", "delimiter": "/"})
    assert r.status_code == 200
    body = r.content.decode("utf-8")
    m = re.search(r"<KeyCount>(\d+)</KeyCount>", body)
    assert m and int(m.group(1)) == 3, body
    assert "<NextContinuationToken>" in body


def test_list_many_objects_paged(ctx, bucket):
    keys = ["many/%04d" % i for i in range(120)]
    for k in keys:
        bucket.put_object(k, b"")
    got = [o.key for o in oss2.ObjectIterator(bucket, prefix="many/", max_keys=50)]
    assert got == keys
    r = bucket.list_objects(prefix="many/")  # default max-keys is 100
    assert len(r.object_list) == 100
    assert r.is_truncated is True
    got = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="many/", max_keys=50)]
    assert got == keys


# ---------------------------------------------------------------------------
# presigned URLs
# ---------------------------------------------------------------------------
def _assert_presign_style(ctx, url):
    if ctx.version == "v4":
        assert "x-oss-signature-version=OSS4-HMAC-SHA256" in url
        assert "x-oss-signature=" in url
    else:
        assert "OSSAccessKeyId=" in url and "Signature=" in url and "Expires=" in url


@pytest.mark.parametrize("key", ["plain.txt", "dir/sub file+1 \u00e4.txt"])
def test_sign_url_get(ctx, bucket, key):
    data = os.urandom(300)
    bucket.put_object(key, data)
    url = bucket.sign_url("GET", key, 120)
    _assert_presign_style(ctx, url)
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.content == data
    assert_request_id(r.headers)
    # oss2's own helper
    assert bucket.get_object_with_url(url).read() == data
    # ranged presigned GET
    r = requests.get(url, headers={"Range": "bytes=0-9"})
    assert r.status_code == 206
    assert r.content == data[:10]


def test_sign_url_get_with_response_override(ctx, bucket):
    bucket.put_object("ov.txt", b"data")
    url = bucket.sign_url("GET", "ov.txt", 120, params={"response-content-type": "image/png"})
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"


def test_sign_url_put(ctx, bucket):
    data = os.urandom(2048)
    headers = {"Content-Type": "application/x-presigned", "x-oss-meta-via": "url"}
    url = bucket.sign_url("PUT", "up/load.bin", 120, headers=headers)
    _assert_presign_style(ctx, url)
    r = requests.put(url, data=data, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"].strip('"') == md5_upper(data)
    h = bucket.head_object("up/load.bin")
    assert h.content_type == "application/x-presigned"
    assert h.headers["x-oss-meta-via"] == "url"
    assert bucket.get_object("up/load.bin").read() == data

    # oss2's put_object_with_url checks the CRC
    url = bucket.sign_url("PUT", "up/load2.bin", 120, headers={"Content-Type": "text/plain"})
    r = bucket.put_object_with_url(url, b"via helper", headers={"Content-Type": "text/plain"})
    assert r.status == 200
    assert r.crc == crc64(b"via helper")


def test_sign_url_v4_additional_headers(ctx, bucket):
    if ctx.version != "v4":
        pytest.skip("AdditionalHeaders exist only in V4")
    bucket.put_object("ah", b"additional")
    host = bucket.endpoint[len("http://"):]
    url = bucket.sign_url("GET", "ah", 120, headers={"Host": host}, additional_headers=["host"])
    assert "x-oss-additional-headers=host" in url
    r = requests.get(url)
    assert r.status_code == 200, r.text
    assert r.content == b"additional"


def test_sign_url_tampered(ctx, bucket):
    bucket.put_object("t", b"x")
    url = bucket.sign_url("GET", "t", 120)
    # using a GET URL for PUT must fail signature verification
    r = requests.put(url, data=b"evil")
    assert r.status_code == 403
    assert error_of(r).get("Code") == "SignatureDoesNotMatch"
    assert bucket.get_object("t").read() == b"x"


class _PastDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return datetime.datetime.utcnow() - datetime.timedelta(hours=2)


def test_sign_url_expired(ctx, bucket, monkeypatch):
    bucket.put_object("exp", b"x")
    if ctx.version == "v4":
        # V4: x-oss-expires is a duration from x-oss-date: sign "two hours ago" for 60 s
        monkeypatch.setattr(oss2.auth, "datetime", _PastDatetime)
        url = bucket.sign_url("GET", "exp", 60)
        monkeypatch.undo()
    else:
        # V1: Expires is an absolute unix time, already past
        url = bucket.sign_url("GET", "exp", -60)
    r = requests.get(url)
    assert r.status_code == 403, r.text
    assert_request_id(r.headers)
    assert error_of(r).get("Code") == "AccessDenied"


# ---------------------------------------------------------------------------
# authentication and authorisation
# ---------------------------------------------------------------------------
def test_wrong_secret_signature_does_not_match(ctx, bucket, ossify):
    bucket.put_object("s", b"x")
    bad = oss2.Auth(ossify.root1.id, "wrong-secret") if ctx.version == "v1" \
        else oss2.AuthV4(ossify.root1.id, "wrong-secret")
    b = ctx.bucket(bucket.bucket_name, auth=bad)
    with pytest.raises(oe.SignatureDoesNotMatch) as ei:
        b.get_object("s")
    e = ei.value
    assert e.status == 403
    assert e.code == "SignatureDoesNotMatch"
    assert e.request_id
    assert "StringToSign" in e.details, e.details
    sts = e.details["StringToSign"]
    if ctx.version == "v1":
        assert sts.startswith("GET\n")
        assert sts.endswith("/%s/s" % bucket.bucket_name)
    else:
        assert sts.startswith("OSS4-HMAC-SHA256\n")
        assert "/cn-hangzhou/oss/aliyun_v4_request" in sts
    with pytest.raises(oe.SignatureDoesNotMatch):
        b.put_object("s2", b"y")
    assert bucket.object_exists("s2") is False


def test_request_time_too_skewed(ctx, bucket, monkeypatch):
    bucket.put_object("skew", b"x")
    if ctx.version == "v4":
        monkeypatch.setattr(oss2.auth, "datetime", _PastDatetime)  # x-oss-date 2 h ago
    else:
        monkeypatch.setattr(oss2.utils, "http_date", lambda t=None: _old_http_date())  # Date 1 h ago
    with pytest.raises(oe.ServerError) as ei:
        bucket.get_object("skew")
    assert ei.value.status == 403
    assert ei.value.code == "RequestTimeTooSkewed"
    # OSS's exact wording and error-page code (applications match on them).
    assert ei.value.message == ("The difference between the request time and the current "
                                "time is too large.")
    assert ei.value.details["EC"] == "0002-00000504"
    assert ei.value.details["MaxAllowedSkewMilliseconds"] == "900000"


def _old_http_date():
    import email.utils
    return email.utils.formatdate(time.time() - 3600, usegmt=True)


def test_unknown_access_key(ctx, bucket):
    from conftest import Keys
    b = ctx.bucket(bucket.bucket_name, keys=Keys("LTAInobody", "whatever"))
    with pytest.raises(oe.ServerError) as ei:
        b.get_object("anything")
    assert ei.value.status == 403
    assert ei.value.code == "InvalidAccessKeyId"
    svc = oss2.Service(ctx.auth(Keys("LTAInobody", "whatever")), ctx.env.hz, region="cn-hangzhou")
    with pytest.raises(oe.ServerError) as ei:
        svc.list_buckets()
    assert ei.value.code == "InvalidAccessKeyId"


def test_anonymous_public_read_bucket(ctx):
    b = ctx.new_bucket("pubr", acl="public-read")
    b.put_object("pub.txt", b"public data")
    anon = ctx.anon_bucket(b.bucket_name)
    assert anon.get_object("pub.txt").read() == b"public data"
    assert anon.head_object("pub.txt").content_length == len(b"public data")
    assert anon.object_exists("pub.txt") is True
    r = requests.get(ctx.env.hz + "/%s/pub.txt" % b.bucket_name)
    assert r.status_code == 200 and r.content == b"public data"
    # writes are refused
    with pytest.raises(oe.AccessDenied) as ei:
        anon.put_object("evil.txt", b"x")
    assert ei.value.status == 403
    with pytest.raises(oe.AccessDenied):
        anon.delete_object("pub.txt")
    assert b.get_object("pub.txt").read() == b"public data"
    # bucket configuration always needs authentication
    with pytest.raises(oe.AccessDenied):
        anon.put_bucket_acl("public-read-write")


def test_anonymous_public_read_write_bucket(ctx):
    b = ctx.new_bucket("pubrw", acl="public-read-write")
    anon = ctx.anon_bucket(b.bucket_name)
    anon.put_object("anon.txt", b"from anonymous")
    assert anon.get_object("anon.txt").read() == b"from anonymous"
    assert b.get_object("anon.txt").read() == b"from anonymous"


def test_anonymous_private_bucket_denied(ctx):
    b = ctx.new_bucket("priv")
    b.put_object("secret.txt", b"secret")
    anon = ctx.anon_bucket(b.bucket_name)
    with pytest.raises(oe.AccessDenied) as ei:
        anon.get_object("secret.txt")
    assert ei.value.status == 403
    assert ei.value.code == "AccessDenied"
    r = requests.get(ctx.env.hz + "/%s/secret.txt" % b.bucket_name)
    assert r.status_code == 403
    assert_request_id(r.headers)
    assert parse_error(r.content)["Code"] == "AccessDenied"
    with pytest.raises(oe.AccessDenied):
        anon.put_object("x", b"x")
    with pytest.raises(oe.ServerError) as ei:
        anon.head_object("secret.txt")
    assert ei.value.status == 403


def test_object_acl_public_read_in_private_bucket(ctx):
    b = ctx.new_bucket("oacl")
    b.put_object("open.txt", b"open", headers={"x-oss-object-acl": "public-read"})
    b.put_object("closed.txt", b"closed")
    b.put_object("later.txt", b"later")
    b.put_object_acl("later.txt", oss2.OBJECT_ACL_PUBLIC_READ)
    assert b.get_object_acl("later.txt").acl == "public-read"
    assert b.get_object_acl("closed.txt").acl == "default"
    anon = ctx.anon_bucket(b.bucket_name)
    assert anon.get_object("open.txt").read() == b"open"
    assert anon.get_object("later.txt").read() == b"later"
    with pytest.raises(oe.AccessDenied):
        anon.get_object("closed.txt")


def test_object_acl_private_in_public_bucket(ctx):
    b = ctx.new_bucket("oaclp", acl="public-read")
    b.put_object("hidden.txt", b"hidden", headers={"x-oss-object-acl": "private"})
    anon = ctx.anon_bucket(b.bucket_name)
    with pytest.raises(oe.AccessDenied):
        anon.get_object("hidden.txt")


def test_other_account_access_denied(ctx, ossify):
    b = ctx.new_bucket("mine")
    b.put_object("k", b"mine")
    other = ctx.bucket(b.bucket_name, keys=ossify.root2)
    for call in (lambda: other.get_object("k"),
                 lambda: other.put_object("k", b"theirs"),
                 lambda: other.delete_object("k"),
                 lambda: other.list_objects(),
                 lambda: other.get_bucket_info(),
                 lambda: other.get_bucket_acl(),
                 lambda: other.put_bucket_acl("public-read"),
                 lambda: other.delete_bucket()):
        with pytest.raises(oe.ServerError) as ei:
            call()
        assert ei.value.status == 403, ei.value
        assert ei.value.code == "AccessDenied"
    with pytest.raises(oe.ServerError) as ei:
        other.head_object("k")
    assert ei.value.status == 403
    assert b.get_object("k").read() == b"mine"
    assert b.get_bucket_acl().acl == "private"


def test_other_account_can_read_public_bucket(ctx, ossify):
    b = ctx.new_bucket("pubother", acl="public-read")
    b.put_object("k", b"shared")
    other = ctx.bucket(b.bucket_name, keys=ossify.root2)
    assert other.get_object("k").read() == b"shared"
    with pytest.raises(oe.AccessDenied):
        other.put_object("k", b"x")


def test_ram_user_reader(ctx, ossify):
    b = ctx.new_bucket("ram")
    b.put_object("doc.txt", b"readable")
    rb = ctx.bucket(b.bucket_name, keys=ossify.reader)
    g = rb.get_object("doc.txt")
    assert g.read() == b"readable"
    assert rb.head_object("doc.txt").content_length == 8
    with pytest.raises(oe.AccessDenied) as ei:
        rb.put_object("doc.txt", b"overwrite")
    assert ei.value.status == 403
    assert ei.value.code == "AccessDenied"
    with pytest.raises(oe.AccessDenied):
        rb.put_object("new.txt", b"new")
    with pytest.raises(oe.AccessDenied):
        rb.delete_object("doc.txt")
    with pytest.raises(oe.AccessDenied):
        rb.list_objects()
    with pytest.raises(oe.AccessDenied):
        ctx.service(keys=ossify.reader).list_buckets()
    with pytest.raises(oe.AccessDenied):
        ctx.bucket(unique_bucket_name("ramcreate"), keys=ossify.reader).create_bucket()
    assert b.get_object("doc.txt").read() == b"readable"


def test_cross_region_access_refused(ctx):
    b = ctx.new_bucket("xr")  # lives in oss-cn-hangzhou
    b.put_object("k", b"hangzhou")
    wrong = ctx.bucket(b.bucket_name, endpoint_region=SH)
    with pytest.raises(oe.ServerError) as ei:
        wrong.get_object("k")
    e = ei.value
    assert e.status == 403
    assert e.code == "AccessDenied"
    assert "endpoint" in (e.message or "").lower(), e.details
    with pytest.raises(oe.ServerError) as ei:
        wrong.put_object("k", b"shanghai")
    assert ei.value.status == 403
    with pytest.raises(oe.ServerError) as ei:
        wrong.list_objects()
    assert ei.value.status == 403
    assert b.get_object("k").read() == b"hangzhou"


def test_request_id_on_every_response(ctx, bucket):
    rs = [
        bucket.put_object("rid", b"x").headers,
        bucket.get_object("rid").headers,
        bucket.head_object("rid").headers,
        bucket.list_objects().headers,
        bucket.delete_object("rid").headers,
        ctx.service().list_buckets().headers,
    ]
    ids = [assert_request_id(h) for h in rs]
    assert len(set(ids)) == len(ids), "request ids should be unique"
    r = requests.get(ctx.env.hz + "/")  # anonymous ListBuckets
    assert r.status_code == 403
    assert_request_id(r.headers)
