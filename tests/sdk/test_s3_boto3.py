"""boto3 against ossify's S3 dialect, with boto3's current defaults (default CRC32
request checksums, payload signing over http; the trailer uploads boto3 makes over
https are forced where noted).

Path style only: the S3 dialect has no virtual-hosted addressing yet.
"""

import datetime
import hashlib
import io
import os
import random
import string
import xml.etree.ElementTree as ET
from unittest import mock
from urllib.parse import unquote_plus, urlsplit, parse_qsl, urlencode, urlunsplit

import pytest
import requests

from conftest import ROOT1, ROOT2, READER, unique_bucket_name
from s3util import (buckets, S3Server, checksum, composite, expect_error, md5_hex,
                    multipart_etag, s3_client)

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def ossify(tmp_path_factory):
    """This module's own server: ordinary listeners plus `s3_listen` ones, where
    anonymous requests are S3 too."""
    server = S3Server(tmp_path_factory.mktemp("s3-boto3")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(ossify):
    return s3_client(ossify.hz)


@pytest.fixture(scope="module")
def anon(ossify):
    return s3_client(ossify.s3_hz, anonymous=True)


@pytest.fixture(scope="module")
def s3_root2(ossify):
    return s3_client(ossify.hz, keys=ROOT2)


@pytest.fixture(scope="module")
def s3_reader(ossify):
    return s3_client(ossify.hz, keys=READER)


@pytest.fixture
def bucket(buckets):
    return buckets()


def body(resp):
    return resp["Body"].read()


def lower_quoted_md5(data):
    return '"%s"' % md5_hex(data)


def error_xml(text):
    root = ET.fromstring(text)
    return {child.tag: child.text or "" for child in root}


def force_trailer(client):
    """Make a client send its request checksum as an aws-chunked trailer
    (STREAMING-UNSIGNED-PAYLOAD-TRAILER), as boto3 does over https."""
    def handler(params, context, **kw):
        algorithm = context.get("checksum", {}).get("request_algorithm")
        if isinstance(algorithm, dict):
            algorithm["in"] = "trailer"
            algorithm["name"] = "x-amz-checksum-%s" % algorithm["algorithm"]

    client.meta.events.register("before-call.s3.PutObject", handler)
    client.meta.events.register("before-call.s3.UploadPart", handler)
    return client


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------
def test_list_buckets_prefix_and_continuation(s3, buckets):
    tag = "lb" + "".join(random.choice(string.ascii_lowercase) for _ in range(6))
    names = sorted(buckets(tag) for _ in range(3))
    # Bucket names are RUN_PREFIX-NNNN-tag; list by the part they share.
    prefix = names[0].rsplit("-", 2)[0]
    listed = [b["Name"] for b in s3.list_buckets(Prefix=prefix)["Buckets"]]
    for n in names:
        assert n in listed
    page = s3.list_buckets(Prefix=prefix, MaxBuckets=1)
    assert page["Prefix"] == prefix
    assert len(page["Buckets"]) == 1
    assert page["ContinuationToken"]
    seen = [page["Buckets"][0]["Name"]]
    while "ContinuationToken" in page:
        page = s3.list_buckets(Prefix=prefix, MaxBuckets=1,
                               ContinuationToken=page["ContinuationToken"])
        seen += [b["Name"] for b in page["Buckets"]]
    assert seen == sorted(listed)
    assert page["Owner"]["ID"] == ROOT1.account_id
    assert all(b["BucketRegion"] == "cn-hangzhou" for b in s3.list_buckets(Prefix=names[0])["Buckets"])
    expect_error("InvalidArgument", 400, s3.list_buckets, ContinuationToken="!!not-a-token!!")


def test_create_bucket_location_constraint(ossify, s3, buckets):
    a = buckets(CreateBucketConfiguration={"LocationConstraint": "cn-hangzhou"})
    b = buckets(CreateBucketConfiguration={"LocationConstraint": "oss-cn-hangzhou"})
    for name in (a, b):
        assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "cn-hangzhou"
    name = unique_bucket_name("wrongloc")
    r = expect_error("IllegalLocationConstraintException", 400, s3.create_bucket, Bucket=name,
                     CreateBucketConfiguration={"LocationConstraint": "cn-shanghai"})
    assert "cn-shanghai" in r["Error"]["Message"]
    expect_error("404", 404, s3.head_bucket, Bucket=name)
    # The second region's endpoint, signed for its own region.
    sh = s3_client(ossify.sh, region="cn-shanghai")
    c = buckets(client=sh)
    assert sh.get_bucket_location(Bucket=c)["LocationConstraint"] == "cn-shanghai"
    assert sh.head_bucket(Bucket=c)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "cn-shanghai"


def test_create_bucket_existing_and_invalid(s3, s3_root2, bucket):
    expect_error("BucketAlreadyOwnedByYou", 409, s3.create_bucket, Bucket=bucket)
    expect_error("BucketAlreadyExists", 409, s3_root2.create_bucket, Bucket=bucket)
    expect_error("InvalidBucketName", 400, s3.create_bucket, Bucket="Not_Valid")


def test_create_bucket_canned_acl(s3, buckets):
    public = buckets(ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=public)["Grants"]
    perms = sorted((g["Grantee"]["Type"], g["Permission"]) for g in grants)
    assert perms == [("CanonicalUser", "FULL_CONTROL"), ("Group", "READ")]
    assert [g["Grantee"]["URI"] for g in grants if g["Grantee"]["Type"] == "Group"] == [
        "http://acs.amazonaws.com/groups/global/AllUsers"]
    prw = buckets(ACL="public-read-write")
    perms = sorted(g["Permission"] for g in s3.get_bucket_acl(Bucket=prw)["Grants"])
    assert perms == ["FULL_CONTROL", "READ", "WRITE"]
    private = buckets()
    acl = s3.get_bucket_acl(Bucket=private)
    assert acl["Owner"]["ID"] == ROOT1.account_id
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in acl["Grants"]] == [
        (ROOT1.account_id, "FULL_CONTROL")]
    s3.put_bucket_acl(Bucket=private, ACL="public-read")
    assert len(s3.get_bucket_acl(Bucket=private)["Grants"]) == 2
    # An AccessControlPolicy body equivalent to "private".
    s3.put_bucket_acl(Bucket=private, AccessControlPolicy={
        "Owner": {"ID": ROOT1.account_id},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": ROOT1.account_id},
                    "Permission": "FULL_CONTROL"}]})
    assert len(s3.get_bucket_acl(Bucket=private)["Grants"]) == 1


def test_head_and_delete_bucket(s3, s3_root2, buckets):
    name = buckets()
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "cn-hangzhou"
    expect_error("403", 403, s3_root2.head_bucket, Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=name)
    expect_error("AccessDenied", 403, s3_root2.delete_bucket, Bucket=name)
    s3.delete_object(Bucket=name, Key="k")
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("404", 404, s3.head_bucket, Bucket=name)
    expect_error("NoSuchBucket", 404, s3.delete_bucket, Bucket=name)
    expect_error("NoSuchBucket", 404, s3.list_objects_v2, Bucket=name)


# ---------------------------------------------------------------------------
# listing
# ---------------------------------------------------------------------------
LIST_KEYS = ["a/1", "a/2", "a/b/3", "b/1", "c", "d"]


@pytest.fixture
def listed_bucket(s3, bucket):
    for k in LIST_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    return bucket


def test_list_objects_v1(s3, listed_bucket):
    r = s3.list_objects(Bucket=listed_bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert [o["Key"] for o in r["Contents"]] == ["c", "d"]
    assert r["Contents"][0]["ETag"] == lower_quoted_md5(b"c")
    assert r["Contents"][0]["Size"] == 1
    assert r["Contents"][0]["StorageClass"] == "STANDARD"
    assert r["Contents"][0]["Owner"]["ID"] == ROOT1.account_id
    assert r["IsTruncated"] is False
    r = s3.list_objects(Bucket=listed_bucket, Prefix="a/", Marker="a/1")
    assert [o["Key"] for o in r["Contents"]] == ["a/2", "a/b/3"]
    assert r["Marker"] == "a/1"
    r = s3.list_objects(Bucket=listed_bucket, MaxKeys=2)
    assert r["IsTruncated"] is True and "NextMarker" not in r
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    r = s3.list_objects(Bucket=listed_bucket, MaxKeys=2, Delimiter="/")
    assert r["IsTruncated"] is True
    assert r["NextMarker"] == "b/"
    keys = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=listed_bucket,
                                                          PaginationConfig={"PageSize": 2}):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert keys == LIST_KEYS


def test_list_objects_v2(s3, listed_bucket):
    r = s3.list_objects_v2(Bucket=listed_bucket, Delimiter="/")
    assert r["KeyCount"] == 4
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/"]
    assert "Owner" not in r["Contents"][0]
    r = s3.list_objects_v2(Bucket=listed_bucket, FetchOwner=True, StartAfter="b/1")
    assert [o["Key"] for o in r["Contents"]] == ["c", "d"]
    assert r["StartAfter"] == "b/1"
    assert r["Contents"][0]["Owner"]["ID"] == ROOT1.account_id
    r = s3.list_objects_v2(Bucket=listed_bucket, MaxKeys=4)
    assert r["IsTruncated"] and r["KeyCount"] == 4
    token = r["NextContinuationToken"]
    r2 = s3.list_objects_v2(Bucket=listed_bucket, MaxKeys=4, ContinuationToken=token)
    assert r2["ContinuationToken"] == token
    assert [o["Key"] for o in r2["Contents"]] == ["c", "d"]
    assert r2["IsTruncated"] is False and "NextContinuationToken" not in r2
    pages = list(s3.get_paginator("list_objects_v2").paginate(
        Bucket=listed_bucket, PaginationConfig={"PageSize": 1}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == LIST_KEYS
    r = s3.list_objects_v2(Bucket=listed_bucket, MaxKeys=0)
    assert r["KeyCount"] == 0 and "Contents" not in r
    r = s3.list_objects_v2(Bucket=listed_bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["a/1", "a/2"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=listed_bucket, MaxKeys=-1)


ODD_KEYS = ["sp ace/plus+sign", "percent%20/x", "amp&lt;<tag>", "unicode/ü中", "ctl\x01char"]


def test_list_encoding_type_url(s3, bucket):
    for k in ODD_KEYS:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    # boto3 asks for encoding-type=url on its own and decodes the answer.
    keys = sorted(ODD_KEYS)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == keys
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]] == keys
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert sorted(p["Prefix"] for p in r["CommonPrefixes"]) == ["percent%20/", "sp ace/",
                                                                 "unicode/"]
    # Asked for explicitly, boto3 hands back what the server wrote.
    raw = s3.list_objects_v2(Bucket=bucket, EncodingType="url")
    assert raw["EncodingType"] == "url"
    encoded = [o["Key"] for o in raw["Contents"]]
    assert [unquote_plus(k) for k in encoded] == keys
    assert all(c not in k for k in encoded for c in " <>&\x01")
    expect_error("InvalidArgument", 400, s3.list_objects_v2, Bucket=bucket,
                 EncodingType="base64")


# ---------------------------------------------------------------------------
# objects
# ---------------------------------------------------------------------------
def test_put_get_head_object(s3, bucket):
    data = os.urandom(3000)
    expires = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    put = s3.put_object(Bucket=bucket, Key="dir/obj.bin", Body=data, ContentType="text/x-test",
                        CacheControl="max-age=60", ContentDisposition='attachment; filename="o.bin"',
                        ContentEncoding="identity", ContentLanguage="de", Expires=expires,
                        Metadata={"Color": "blue", "empty": ""})
    assert put["ETag"] == lower_quoted_md5(data)
    assert put["ChecksumCRC32"] == checksum("CRC32", data)
    headers = put["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amz-request-id"] and headers["x-amz-id-2"]
    assert "x-oss-hash-crc64ecma" in headers
    for fn in (s3.get_object, s3.head_object):
        r = fn(Bucket=bucket, Key="dir/obj.bin")
        assert r["ETag"] == lower_quoted_md5(data)
        assert r["ContentLength"] == len(data)
        assert r["ContentType"] == "text/x-test"
        assert r["CacheControl"] == "max-age=60"
        assert r["ContentDisposition"] == 'attachment; filename="o.bin"'
        assert r["ContentEncoding"] == "identity"
        assert r["ContentLanguage"] == "de"
        assert r["Expires"] == expires
        assert r["Metadata"] == {"color": "blue", "empty": ""}
        assert r["AcceptRanges"] == "bytes"
        assert isinstance(r["LastModified"], datetime.datetime)
    # boto3 asks GetObject for the checksum (x-amz-checksum-mode) by default, not HEAD.
    assert s3.get_object(Bucket=bucket, Key="dir/obj.bin")["ChecksumCRC32"] == checksum("CRC32", data)
    assert "ChecksumCRC32" not in s3.head_object(Bucket=bucket, Key="dir/obj.bin")
    assert body(s3.get_object(Bucket=bucket, Key="dir/obj.bin")) == data
    # Empty objects and a default content type.
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    r = s3.get_object(Bucket=bucket, Key="empty")
    assert body(r) == b"" and r["ETag"] == lower_quoted_md5(b"")
    assert r["ContentType"] in ("binary/octet-stream", "application/octet-stream")


def test_missing_object_errors(s3, bucket):
    r = expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="no/such")
    assert r["Error"]["Message"] == "The specified key does not exist."
    assert r["Error"]["Resource"] == "/%s/no/such" % bucket
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key="no/such")
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket=bucket + "-none", Key="k")
    expect_error("NoSuchKey", 404, s3.get_object_tagging, Bucket=bucket, Key="no/such")


def test_range_reads(s3, bucket):
    data = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=data)
    r = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["ContentRange"] == "bytes 10-19/1024"
    assert r["ContentLength"] == 10 and body(r) == data[10:20]
    assert body(s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")) == data[-5:]
    assert body(s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")) == data[1000:]
    assert body(s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-5000")) == data[1000:]
    h = s3.head_object(Bucket=bucket, Key="r", Range="bytes=0-0")
    assert h["ContentLength"] == 1 and h["ContentRange"] == "bytes 0-0/1024"
    r = expect_error("InvalidRange", 416, s3.get_object, Bucket=bucket, Key="r",
                     Range="bytes=2000-3000")
    assert r["ResponseMetadata"]["HTTPHeaders"].get("content-range") in (None, "bytes */1024")


def test_conditional_reads(s3, bucket):
    put = s3.put_object(Bucket=bucket, Key="c", Body=b"conditional")
    etag = put["ETag"]
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    assert body(s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)) == b"conditional"
    assert body(s3.get_object(Bucket=bucket, Key="c", IfMatch=etag.upper())) == b"conditional"
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="c",
                 IfMatch='"0123"')
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    expect_error("304", 304, s3.head_object, Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert body(s3.get_object(Bucket=bucket, Key="c", IfNoneMatch='"0123"')) == b"conditional"
    expect_error("304", 304, s3.get_object, Bucket=bucket, Key="c", IfModifiedSince=future)
    assert body(s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)) == b"conditional"
    expect_error("PreconditionFailed", 412, s3.get_object, Bucket=bucket, Key="c",
                 IfUnmodifiedSince=past)
    expect_error("412", 412, s3.head_object, Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    # If-Match wins over If-Unmodified-Since (RFC 7232 as S3 applies it).
    assert body(s3.get_object(Bucket=bucket, Key="c", IfMatch=etag,
                              IfUnmodifiedSince=past)) == b"conditional"
    # Conditional writes.
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="c", Body=b"x",
                 IfNoneMatch="*")
    s3.put_object(Bucket=bucket, Key="new", Body=b"x", IfNoneMatch="*")
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="c", Body=b"x",
                 IfMatch='"0123"')
    s3.put_object(Bucket=bucket, Key="c", Body=b"y", IfMatch=etag)
    assert body(s3.get_object(Bucket=bucket, Key="c")) == b"y"


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"override", ContentType="text/plain")
    r = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                      ResponseContentDisposition="inline", ResponseCacheControl="no-cache",
                      ResponseContentEncoding="gzip", ResponseContentLanguage="fr",
                      ResponseExpires=datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc))
    assert r["ContentType"] == "application/json"
    assert r["ContentDisposition"] == "inline"
    assert r["CacheControl"] == "no-cache"
    assert r["ContentEncoding"] == "gzip"
    assert r["ContentLanguage"] == "fr"
    assert r["Expires"].year == 2031
    assert r["Body"].read() == b"override"
    assert s3.head_object(Bucket=bucket, Key="o")["ContentType"] == "text/plain"


def test_response_overrides_need_signed_request(anon, bucket, s3):
    s3.put_object(Bucket=bucket, Key="pub", Body=b"p", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="pub")["Body"].read() == b"p"
    expect_error("InvalidRequest", 400, anon.get_object, Bucket=bucket, Key="pub",
                 ResponseContentType="text/html")


def test_part_number_reads(s3, bucket):
    s3.put_object(Bucket=bucket, Key="simple", Body=b"simple body")
    r = s3.get_object(Bucket=bucket, Key="simple", PartNumber=1)
    assert body(r) == b"simple body"
    assert "PartsCount" not in r
    expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=bucket, Key="simple",
                 PartNumber=2)
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=bucket, Key="simple",
                 PartNumber=0)
    expect_error("InvalidArgument", 400, s3.get_object, Bucket=bucket, Key="simple",
                 PartNumber=10001)
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(parts)]
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e}
                                                            for i, e in enumerate(etags)]})
    r = s3.get_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert r["PartsCount"] == 2
    assert r["ContentRange"] == "bytes %d-%d/%d" % (5 * MiB, 5 * MiB + 999, 5 * MiB + 1000)
    assert body(r) == parts[1]
    h = s3.head_object(Bucket=bucket, Key="mp", PartNumber=1)
    assert h["ContentLength"] == 5 * MiB and h["PartsCount"] == 2
    assert h["ETag"] == multipart_etag(parts)
    expect_error("InvalidPartNumber", 416, s3.get_object, Bucket=bucket, Key="mp", PartNumber=3)
    expect_error("InvalidRequest", 400, s3.get_object, Bucket=bucket, Key="mp", PartNumber=1,
                 Range="bytes=0-1")


def test_delete_object_and_objects(s3, bucket):
    for k in ("d1", "d2", "d3", "keep"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    r = s3.delete_object(Bucket=bucket, Key="d1")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    # A missing key deletes fine.
    assert s3.delete_object(Bucket=bucket, Key="d1")["ResponseMetadata"]["HTTPStatusCode"] == 204
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d2"}, {"Key": "missing"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["d2", "missing"]
    assert "Errors" not in r
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d3"}], "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]


def test_copy_object_directives(s3, bucket, buckets):
    data = os.urandom(2048)
    s3.put_object(Bucket=bucket, Key="src", Body=data, ContentType="text/src",
                  Metadata={"origin": "src"}, Tagging="t1=v1&t2=v%202")
    other = buckets()
    r = s3.copy_object(Bucket=other, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == lower_quoted_md5(data)
    h = s3.head_object(Bucket=other, Key="copy")
    assert h["ContentType"] == "text/src" and h["Metadata"] == {"origin": "src"}
    assert body(s3.get_object(Bucket=other, Key="copy")) == data
    tags = s3.get_object_tagging(Bucket=other, Key="copy")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("t1", "v1"), ("t2", "v 2")]
    s3.copy_object(Bucket=bucket, Key="replaced", CopySource="%s/src" % bucket,
                   MetadataDirective="REPLACE", ContentType="text/new", Metadata={"new": "1"},
                   TaggingDirective="REPLACE", Tagging="only=this")
    h = s3.head_object(Bucket=bucket, Key="replaced")
    assert h["ContentType"] == "text/new" and h["Metadata"] == {"new": "1"}
    assert s3.get_object_tagging(Bucket=bucket, Key="replaced")["TagSet"] == [
        {"Key": "only", "Value": "this"}]
    # COPY metadata, REPLACE tags (with none: the copy has no tags).
    s3.copy_object(Bucket=bucket, Key="notags", CopySource={"Bucket": bucket, "Key": "src"},
                   TaggingDirective="REPLACE")
    assert s3.get_object_tagging(Bucket=bucket, Key="notags")["TagSet"] == []
    assert s3.head_object(Bucket=bucket, Key="notags")["Metadata"] == {"origin": "src"}
    # Onto itself: only with a change.
    expect_error("InvalidRequest", 400, s3.copy_object, Bucket=bucket, Key="src",
                 CopySource={"Bucket": bucket, "Key": "src"})
    s3.copy_object(Bucket=bucket, Key="src", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", Metadata={"again": "yes"})
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"again": "yes"}
    assert body(s3.get_object(Bucket=bucket, Key="src")) == data
    expect_error("NoSuchKey", 404, s3.copy_object, Bucket=bucket, Key="x",
                 CopySource={"Bucket": bucket, "Key": "missing"})
    expect_error("InvalidArgument", 400, s3.copy_object, Bucket=bucket, Key="x",
                 CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="MERGE")


def test_copy_object_odd_key_and_conditions(s3, bucket):
    key = "dir/sp ace+ü%2F"
    put = s3.put_object(Bucket=bucket, Key=key, Body=b"copy me")
    etag = put["ETag"]
    past = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)
    future = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)
    src = {"Bucket": bucket, "Key": key}
    s3.copy_object(Bucket=bucket, Key="ok1", CopySource=src, CopySourceIfMatch=etag)
    s3.copy_object(Bucket=bucket, Key="ok2", CopySource=src, CopySourceIfNoneMatch='"00"')
    s3.copy_object(Bucket=bucket, Key="ok3", CopySource=src, CopySourceIfModifiedSince=past)
    s3.copy_object(Bucket=bucket, Key="ok4", CopySource=src, CopySourceIfUnmodifiedSince=future)
    for kw in ({"CopySourceIfMatch": '"00"'}, {"CopySourceIfNoneMatch": etag},
               {"CopySourceIfModifiedSince": future}, {"CopySourceIfUnmodifiedSince": past}):
        expect_error("PreconditionFailed", 412, s3.copy_object, Bucket=bucket, Key="bad",
                     CopySource=src, **kw)
    assert body(s3.get_object(Bucket=bucket, Key="ok1")) == b"copy me"
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key="bad")


def test_copy_object_across_accounts(s3, s3_root2, bucket, buckets):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    theirs = buckets(client=s3_root2)
    expect_error("AccessDenied", 403, s3_root2.copy_object, Bucket=theirs, Key="stolen",
                 CopySource={"Bucket": bucket, "Key": "private"})
    s3.put_object_acl(Bucket=bucket, Key="private", ACL="public-read")
    s3_root2.copy_object(Bucket=theirs, Key="copied",
                         CopySource={"Bucket": bucket, "Key": "private"})
    assert body(s3_root2.get_object(Bucket=theirs, Key="copied")) == b"secret"


# ---------------------------------------------------------------------------
# multipart
# ---------------------------------------------------------------------------
def test_multipart_full_cycle(s3, bucket):
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=bucket, Key="source", Body=source)
    part1 = os.urandom(5 * MiB)
    part3 = b"tail" * 100
    up = s3.create_multipart_upload(Bucket=bucket, Key="big", ContentType="video/x-test",
                                    Metadata={"m": "1"}, Tagging="k=v")
    uid = up["UploadId"]
    assert up["Bucket"] == bucket and up["Key"] == "big"
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    assert e1 == lower_quoted_md5(part1)
    copied = s3.upload_part_copy(Bucket=bucket, Key="big", UploadId=uid, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "source"},
                                 CopySourceRange="bytes=100-%d" % (100 + 5 * MiB - 1))
    part2 = source[100:100 + 5 * MiB]
    e2 = copied["CopyPartResult"]["ETag"]
    assert e2 == lower_quoted_md5(part2)
    e3 = s3.upload_part(Bucket=bucket, Key="big", UploadId=uid, PartNumber=3, Body=part3)["ETag"]

    listing = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in listing["Parts"]] == [1, 2]
    assert listing["IsTruncated"] is True and listing["NextPartNumberMarker"] == 2
    assert listing["Parts"][0]["Size"] == 5 * MiB and listing["Parts"][0]["ETag"] == e1
    rest = s3.list_parts(Bucket=bucket, Key="big", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in rest["Parts"]] == [3] and rest["IsTruncated"] is False

    other = s3.create_multipart_upload(Bucket=bucket, Key="dir/other")["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert sorted((u["Key"], u["UploadId"]) for u in uploads) == sorted(
        [("big", uid), ("dir/other", other)])
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["big"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"]
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="dir/")
    assert [u["UploadId"] for u in r["Uploads"]] == [other]
    r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=1)
    assert r["IsTruncated"] is True and r["NextKeyMarker"] == "big"
    r = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="big")
    assert [u["Key"] for u in r["Uploads"]] == ["dir/other"]

    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2},
                                   {"PartNumber": 3, "ETag": e3}]})
    assert done["ETag"] == multipart_etag([part1, part2, part3])
    assert done["Key"] == "big" and done["Bucket"] == bucket
    r = s3.get_object(Bucket=bucket, Key="big")
    assert r["ContentType"] == "video/x-test" and r["Metadata"] == {"m": "1"}
    assert r["TagCount"] == 1
    assert hashlib.md5(body(r)).digest() == hashlib.md5(part1 + part2 + part3).digest()
    expect_error("NoSuchUpload", 404, s3.list_parts, Bucket=bucket, Key="big", UploadId=uid)

    r = s3.abort_multipart_upload(Bucket=bucket, Key="dir/other", UploadId=other)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key="dir/other",
                 UploadId=other, PartNumber=1, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.abort_multipart_upload, Bucket=bucket,
                 Key="dir/other", UploadId=other)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=bucket)


def test_multipart_errors(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    small = [b"a" * 100, b"b" * 100]
    etags = [s3.upload_part(Bucket=bucket, Key="m", UploadId=uid, PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(small)]
    parts = [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]
    expect_error("EntityTooSmall", 400, s3.complete_multipart_upload, Bucket=bucket, Key="m",
                 UploadId=uid, MultipartUpload={"Parts": parts})
    expect_error("InvalidPartOrder", 400, s3.complete_multipart_upload, Bucket=bucket, Key="m",
                 UploadId=uid, MultipartUpload={"Parts": parts[::-1]})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=bucket, Key="m",
                 UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]})
    expect_error("InvalidPart", 400, s3.complete_multipart_upload, Bucket=bucket, Key="m",
                 UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": etags[0]}]})
    expect_error("InvalidArgument", 400, s3.upload_part, Bucket=bucket, Key="m", UploadId=uid,
                 PartNumber=10001, Body=b"x")
    expect_error("NoSuchUpload", 404, s3.upload_part, Bucket=bucket, Key="m",
                 UploadId="nonexistent", PartNumber=1, Body=b"x")
    # A single small part is fine (the last part may be small).
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=uid,
                                 MultipartUpload={"Parts": parts[:1]})
    assert body(s3.get_object(Bucket=bucket, Key="m")) == small[0]


def test_upload_fileobj_and_download(s3, bucket, tmp_path):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(17 * MiB + 3)
    cfg = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=2)
    s3.upload_fileobj(io.BytesIO(data), bucket, "transfer", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="transfer", ChecksumMode="ENABLED")
    assert h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-3"')
    parts = [data[i:i + 8 * MiB] for i in range(0, len(data), 8 * MiB)]
    assert h["ETag"] == multipart_etag(parts)
    assert h["ChecksumCRC32"] in (composite("CRC32", parts), checksum("CRC32", data))
    target = tmp_path / "down"
    s3.download_file(bucket, "transfer", str(target), Config=cfg)
    assert target.read_bytes() == data


# ---------------------------------------------------------------------------
# tagging and ACLs
# ---------------------------------------------------------------------------
def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="a=1&b=%20two")
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("a", "1"), ("b", " two")]
    assert s3.get_object(Bucket=bucket, Key="t")["TagCount"] == 2
    s3.put_object_tagging(Bucket=bucket, Key="t",
                          Tagging={"TagSet": [{"Key": "only", "Value": "é"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "only", "Value": "é"}]
    r = s3.delete_object_tagging(Bucket=bucket, Key="t")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == []
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="t")
    too_many = [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]
    expect_error("InvalidTag", 400, s3.put_object_tagging,
                 Bucket=bucket, Key="t", Tagging={"TagSet": too_many})


def test_object_canned_acls(anon, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"p")
    s3.put_object(Bucket=bucket, Key="public", Body=b"q", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="public")["Body"].read() == b"q"
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="private")
    grants = s3.get_object_acl(Bucket=bucket, Key="public")["Grants"]
    assert sorted(g["Permission"] for g in grants) == ["FULL_CONTROL", "READ"]
    acl = s3.get_object_acl(Bucket=bucket, Key="private")
    assert acl["Owner"]["ID"] == ROOT1.account_id
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    s3.put_object_acl(Bucket=bucket, Key="private", ACL="public-read")
    assert anon.get_object(Bucket=bucket, Key="private")["Body"].read() == b"p"
    s3.put_object_acl(Bucket=bucket, Key="private", ACL="private")
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="private")
    # What the AWS CLI and many tools send when writing into a bucket they own.
    s3.put_object(Bucket=bucket, Key="bofc", Body=b"b", ACL="bucket-owner-full-control")
    assert [g["Permission"] for g in s3.get_object_acl(Bucket=bucket, Key="bofc")["Grants"]] == [
        "FULL_CONTROL"]
    expect_error("NoSuchKey", 404, s3.get_object_acl, Bucket=bucket, Key="nope")


def test_public_read_write_bucket(anon, s3, s3_root2, buckets):
    name = buckets(ACL="public-read-write")
    s3_root2.put_object(Bucket=name, Key="from2", Body=b"2")
    # S3: the object is private to its writer, not public like its bucket.
    expect_error("AccessDenied", 403, anon.get_object, Bucket=name, Key="from2")
    assert body(s3_root2.get_object(Bucket=name, Key="from2")) == b"2"
    s3_root2.put_object(Bucket=name, Key="from2", Body=b"2", ACL="public-read")
    assert body(anon.get_object(Bucket=name, Key="from2")) == b"2"
    assert [o["Key"] for o in s3_root2.list_objects_v2(Bucket=name)["Contents"]] == ["from2"]


# ---------------------------------------------------------------------------
# checksums
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ["CRC32", "SHA1", "SHA256"])
def test_checksum_computed_by_boto3(s3, bucket, algorithm):
    data = os.urandom(10000)
    r = s3.put_object(Bucket=bucket, Key="c", Body=data, ChecksumAlgorithm=algorithm)
    assert r["Checksum" + algorithm] == checksum(algorithm, data)
    got = s3.get_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert got["Checksum" + algorithm] == checksum(algorithm, data)
    assert got["ChecksumType"] == "FULL_OBJECT"
    assert body(got) == data  # boto3 verifies the checksum while reading
    h = s3.head_object(Bucket=bucket, Key="c", ChecksumMode="ENABLED")
    assert h["Checksum" + algorithm] == checksum(algorithm, data)
    assert "Checksum" + algorithm not in s3.head_object(Bucket=bucket, Key="c")
    # Not for a range.
    assert "Checksum" + algorithm not in s3.get_object(Bucket=bucket, Key="c", Range="bytes=0-9",
                                                       ChecksumMode="ENABLED")
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["ChecksumAlgorithm"] == [algorithm]


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_checksum_given_and_bad_digest(s3, bucket, algorithm):
    data = b"checksummed " * 100
    r = s3.put_object(Bucket=bucket, Key="g", Body=data, **{"Checksum" + algorithm:
                                                            checksum(algorithm, data)})
    assert r["Checksum" + algorithm] == checksum(algorithm, data)
    h = s3.head_object(Bucket=bucket, Key="g", ChecksumMode="ENABLED")
    assert h["Checksum" + algorithm] == checksum(algorithm, data)
    wrong = checksum(algorithm, b"other data")
    r = expect_error("BadDigest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=data,
                     **{"Checksum" + algorithm: wrong})
    assert algorithm in r["Error"]["Message"]
    expect_error("404", 404, s3.head_object, Bucket=bucket, Key="bad")
    expect_error("InvalidRequest", 400, s3.put_object, Bucket=bucket, Key="bad", Body=data,
                 **{"Checksum" + algorithm: "not-base64!"})


def test_upload_listing_pages_through_common_prefixes(s3, bucket):
    # A page that ends on a common prefix resumes after everything under it.
    ids = {k: s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]
           for k in ["d1/x", "d1/y", "d2/x", "z"]}
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=2)
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d1/", "d2/"]
    assert r["IsTruncated"] is True and r["NextKeyMarker"] == "d2/"
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=2,
                                  KeyMarker=r["NextKeyMarker"])
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == [("z", ids["z"])]
    assert "CommonPrefixes" not in r and r["IsTruncated"] is False


def test_content_md5(s3, bucket):
    import base64
    data = b"md5 body"
    good = base64.b64encode(hashlib.md5(data).digest()).decode()
    s3.put_object(Bucket=bucket, Key="m", Body=data, ContentMD5=good)
    bad = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    expect_error("BadDigest", 400, s3.put_object, Bucket=bucket, Key="m2", Body=data,
                 ContentMD5=bad)
    expect_error("InvalidDigest", 400, s3.put_object, Bucket=bucket, Key="m2", Body=data,
                 ContentMD5="short")


def test_trailer_checksum_uploads(ossify, bucket):
    """boto3 over https sends aws-chunked bodies with the CRC32 as a trailer."""
    client = force_trailer(s3_client(ossify.hz))
    data = os.urandom(300000)
    r = client.put_object(Bucket=bucket, Key="trailer", Body=io.BytesIO(data))
    assert r["ChecksumCRC32"] == checksum("CRC32", data)
    got = client.get_object(Bucket=bucket, Key="trailer", ChecksumMode="ENABLED")
    assert body(got) == data and got["ChecksumCRC32"] == checksum("CRC32", data)
    # Stored Content-Encoding never keeps aws-chunked.
    assert "ContentEncoding" not in got or "aws-chunked" not in got["ContentEncoding"]
    r = client.put_object(Bucket=bucket, Key="trailer256", Body=io.BytesIO(data),
                          ChecksumAlgorithm="SHA256", ContentEncoding="gzip")
    assert r["ChecksumSHA256"] == checksum("SHA256", data)
    assert client.head_object(Bucket=bucket, Key="trailer256")["ContentEncoding"] == "gzip"
    uid = client.create_multipart_upload(Bucket=bucket, Key="mpt", ChecksumAlgorithm="CRC32")["UploadId"]
    parts = [os.urandom(5 * MiB), os.urandom(1234)]
    done = []
    for i, p in enumerate(parts):
        u = client.upload_part(Bucket=bucket, Key="mpt", UploadId=uid, PartNumber=i + 1,
                               Body=io.BytesIO(p), ChecksumAlgorithm="CRC32")
        assert u["ChecksumCRC32"] == checksum("CRC32", p)
        done.append({"PartNumber": i + 1, "ETag": u["ETag"], "ChecksumCRC32": u["ChecksumCRC32"]})
    c = client.complete_multipart_upload(Bucket=bucket, Key="mpt", UploadId=uid,
                                         MultipartUpload={"Parts": done})
    assert c["ChecksumCRC32"] == composite("CRC32", parts)
    assert body(client.get_object(Bucket=bucket, Key="mpt")) == b"".join(parts)


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_multipart_composite_checksum(s3, bucket, algorithm):
    parts = [os.urandom(5 * MiB), os.urandom(777)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="cmp", ChecksumAlgorithm=algorithm)
    assert up["ChecksumAlgorithm"] == algorithm
    uid = up["UploadId"]
    done = []
    for i, p in enumerate(parts):
        u = s3.upload_part(Bucket=bucket, Key="cmp", UploadId=uid, PartNumber=i + 1, Body=p,
                           ChecksumAlgorithm=algorithm)
        assert u["Checksum" + algorithm] == checksum(algorithm, p)
        done.append({"PartNumber": i + 1, "ETag": u["ETag"],
                     "Checksum" + algorithm: u["Checksum" + algorithm]})
    listed = s3.list_parts(Bucket=bucket, Key="cmp", UploadId=uid)
    assert listed["ChecksumAlgorithm"] == algorithm
    assert [p["Checksum" + algorithm] for p in listed["Parts"]] == [
        checksum(algorithm, p) for p in parts]
    c = s3.complete_multipart_upload(Bucket=bucket, Key="cmp", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    assert c["Checksum" + algorithm] == composite(algorithm, parts)
    assert c["ChecksumType"] == "COMPOSITE"
    h = s3.head_object(Bucket=bucket, Key="cmp", ChecksumMode="ENABLED")
    assert h["Checksum" + algorithm] == composite(algorithm, parts)
    assert h["ChecksumType"] == "COMPOSITE"
    # Each part's own checksum with partNumber.
    p1 = s3.head_object(Bucket=bucket, Key="cmp", PartNumber=1, ChecksumMode="ENABLED")
    assert p1.get("Checksum" + algorithm) in (None, checksum(algorithm, parts[0]))


def test_multipart_wrong_part_checksum(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="w", ChecksumAlgorithm="SHA256")["UploadId"]
    expect_error("BadDigest", 400, s3.upload_part, Bucket=bucket, Key="w", UploadId=uid,
                 PartNumber=1, Body=b"data", ChecksumSHA256=checksum("SHA256", b"other"))
    assert "Parts" not in s3.list_parts(Bucket=bucket, Key="w", UploadId=uid)


def test_multipart_full_object_crc64nvme(s3, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(4321)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="f", ChecksumAlgorithm="CRC64NVME")
    assert up["ChecksumType"] == "FULL_OBJECT"
    uid = up["UploadId"]
    done = []
    for i, p in enumerate(parts):
        u = s3.upload_part(Bucket=bucket, Key="f", UploadId=uid, PartNumber=i + 1, Body=p,
                           ChecksumCRC64NVME=checksum("CRC64NVME", p))
        done.append({"PartNumber": i + 1, "ETag": u["ETag"],
                     "ChecksumCRC64NVME": checksum("CRC64NVME", p)})
    c = s3.complete_multipart_upload(Bucket=bucket, Key="f", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    whole = checksum("CRC64NVME", b"".join(parts))
    assert c["ChecksumCRC64NVME"] == whole and c["ChecksumType"] == "FULL_OBJECT"
    h = s3.head_object(Bucket=bucket, Key="f", ChecksumMode="ENABLED")
    assert h["ChecksumCRC64NVME"] == whole


# ---------------------------------------------------------------------------
# presigned URLs
# ---------------------------------------------------------------------------
def test_presigned_get_and_put(s3, bucket):
    s3.put_object(Bucket=bucket, Key="pre/sign d", Body=b"presigned")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre/sign d"},
                                    ExpiresIn=3600)
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"presigned"
    assert r.headers["ETag"] == lower_quoted_md5(b"presigned")
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "pre/sign d", "ResponseContentType": "text/x-over"}, ExpiresIn=60)
    assert requests.get(url).headers["Content-Type"] == "text/x-over"
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "uploaded"},
                                    ExpiresIn=600)
    r = requests.put(url, data=b"via presigned put")
    assert r.status_code == 200, r.text
    assert body(s3.get_object(Bucket=bucket, Key="uploaded")) == b"via presigned put"
    # A tampered signature.
    sig = url.split("X-Amz-Signature=")[1][:64]
    bad = url.replace(sig, sig[:-1] + ("0" if sig[-1] != "0" else "1"))
    r = requests.put(bad, data=b"x")
    assert r.status_code == 403 and error_xml(r.content)["Code"] == "SignatureDoesNotMatch"
    # Seven days is the longest S3 allows.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "uploaded"},
                                    ExpiresIn=604800)
    assert requests.get(url).status_code == 200


@pytest.mark.parametrize("expires,words", [(604801, "604800"), (-7, "non-negative")])
def test_presigned_expiry_out_of_range_refused(s3, bucket, expires, words):
    # 403, as ceph/s3-tests expects of S3 (test_object_raw_get_x_amz_expires_out_*).
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                    ExpiresIn=expires)
    r = requests.get(url)
    assert r.status_code == 403, r.text
    err = error_xml(r.content)
    assert err["Code"] == "AuthorizationQueryParametersError"
    assert words in err["Message"]


def test_presigned_expired_refused(s3, bucket):
    import botocore.auth
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    signed_at = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - \
        datetime.timedelta(hours=2)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=signed_at):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                        ExpiresIn=3600)
    assert signed_at.strftime("%Y%m%dT%H") in url
    r = requests.get(url)
    assert r.status_code == 403
    err = error_xml(r.content)
    assert err["Code"] == "AccessDenied" and "expired" in err["Message"].lower()
    assert r.headers["x-amz-request-id"] == err["RequestId"]


def test_presigned_sigv2(ossify, bucket, s3):
    s3.put_object(Bucket=bucket, Key="v2", Body=b"sigv2")
    v2 = s3_client(ossify.hz, signature_version="s3")
    url = v2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "v2"},
                                    ExpiresIn=300)
    assert "AWSAccessKeyId=" in url and "Signature=" in url
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"sigv2"
    # An Expires in the past.
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    q["Expires"] = "1000000000"
    r = requests.get(urlunsplit(parts._replace(query=urlencode(q))))
    assert r.status_code == 403


# ---------------------------------------------------------------------------
# signing: regions and SigV2
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("region", ["us-east-1", "cn-hangzhou", "oss-cn-hangzhou"])
def test_sigv4_accepted_regions(ossify, bucket, region):
    client = s3_client(ossify.hz, region=region)
    client.put_object(Bucket=bucket, Key="r", Body=b"region")
    assert body(client.get_object(Bucket=bucket, Key="r")) == b"region"


@pytest.mark.parametrize("region", ["cn-shanghai", "eu-west-1"])
def test_sigv4_wrong_region(ossify, bucket, region):
    client = s3_client(ossify.hz, region=region)
    r = expect_error("AuthorizationHeaderMalformed", 400, client.list_objects_v2, Bucket=bucket)
    assert region in r["Error"]["Message"] and "cn-hangzhou" in r["Error"]["Message"]
    assert r["Error"].get("Region") in (None, "cn-hangzhou")


def test_sigv4_us_east_1_only_for_first_region(ossify):
    sh = s3_client(ossify.sh, region="us-east-1")
    r = expect_error("AuthorizationHeaderMalformed", 400, sh.list_buckets)
    assert "cn-shanghai" in r["Error"]["Message"]
    ok = s3_client(ossify.sh, region="cn-shanghai")
    assert ok.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_sigv2_client(ossify, buckets):
    v2 = s3_client(ossify.hz, signature_version="s3")
    name = buckets(client=v2)
    data = os.urandom(5000)
    r = v2.put_object(Bucket=name, Key="k 2/ü", Body=data, Metadata={"a": "b"})
    assert r["ETag"] == lower_quoted_md5(data)
    g = v2.get_object(Bucket=name, Key="k 2/ü")
    assert body(g) == data and g["Metadata"] == {"a": "b"}
    assert [o["Key"] for o in v2.list_objects(Bucket=name)["Contents"]] == ["k 2/ü"]
    v2.copy_object(Bucket=name, Key="c", CopySource={"Bucket": name, "Key": "k 2/ü"})
    v2.delete_object(Bucket=name, Key="k 2/ü")
    bad = s3_client(ossify.hz, signature_version="s3",
                    keys=type(ROOT1)(ROOT1.id, "wrong-secret"))
    expect_error("SignatureDoesNotMatch", 403, bad.list_objects, Bucket=name)


def test_unknown_access_key(ossify, bucket):
    from conftest import Keys
    client = s3_client(ossify.hz, keys=Keys("LTAInobody", "x"))
    expect_error("InvalidAccessKeyId", 403, client.list_objects_v2, Bucket=bucket)
    wrong = s3_client(ossify.hz, keys=Keys(ROOT1.id, "wrong"))
    expect_error("SignatureDoesNotMatch", 403, wrong.list_objects_v2, Bucket=bucket)


# ---------------------------------------------------------------------------
# access across accounts and for RAM users
# ---------------------------------------------------------------------------
def test_cross_account_private_and_public(s3, s3_root2, buckets):
    private = buckets()
    s3.put_object(Bucket=private, Key="k", Body=b"mine")
    expect_error("AccessDenied", 403, s3_root2.get_object, Bucket=private, Key="k")
    expect_error("AccessDenied", 403, s3_root2.list_objects_v2, Bucket=private)
    expect_error("AccessDenied", 403, s3_root2.put_object, Bucket=private, Key="x", Body=b"x")
    expect_error("AccessDenied", 403, s3_root2.delete_object, Bucket=private, Key="k")
    expect_error("AccessDenied", 403, s3_root2.get_bucket_acl, Bucket=private)
    expect_error("AccessDenied", 403, s3_root2.put_bucket_acl, Bucket=private, ACL="public-read")
    public = buckets(ACL="public-read")
    s3.put_object(Bucket=public, Key="k", Body=b"shared")
    # S3 objects are private to their writer, whatever the bucket's ACL.
    expect_error("AccessDenied", 403, s3_root2.get_object, Bucket=public, Key="k")
    s3.put_object_acl(Bucket=public, Key="k", ACL="public-read")
    assert body(s3_root2.get_object(Bucket=public, Key="k")) == b"shared"
    assert [o["Key"] for o in s3_root2.list_objects_v2(Bucket=public)["Contents"]] == ["k"]
    expect_error("AccessDenied", 403, s3_root2.put_object, Bucket=public, Key="x", Body=b"x")
    expect_error("AccessDenied", 403, s3_root2.delete_object, Bucket=public, Key="k")
    r = s3_root2.delete_objects(Bucket=public, Delete={"Objects": [{"Key": "k"}]})
    assert [e["Code"] for e in r["Errors"]] == ["AccessDenied"]
    assert body(s3.get_object(Bucket=public, Key="k")) == b"shared"
    # ListBuckets shows only one's own.
    theirs = [b["Name"] for b in s3_root2.list_buckets()["Buckets"]]
    assert private not in theirs and public not in theirs


def test_ram_user_reader(s3, s3_reader, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"readable")
    assert body(s3_reader.get_object(Bucket=bucket, Key="k")) == b"readable"
    expect_error("AccessDenied", 403, s3_reader.put_object, Bucket=bucket, Key="k2", Body=b"x")
    expect_error("AccessDenied", 403, s3_reader.delete_object, Bucket=bucket, Key="k")
    expect_error("AccessDenied", 403, s3_reader.list_objects_v2, Bucket=bucket)
    expect_error("AccessDenied", 403, s3_reader.create_multipart_upload, Bucket=bucket, Key="m")
    expect_error("AccessDenied", 403, s3_reader.get_object_tagging, Bucket=bucket, Key="k")
    expect_error("AccessDenied", 403, s3_reader.copy_object, Bucket=bucket, Key="c",
                 CopySource={"Bucket": bucket, "Key": "k"})


# ---------------------------------------------------------------------------
# error shapes and wire details
# ---------------------------------------------------------------------------
def test_error_body_shape(s3, bucket):
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a/missing"})
    r = requests.get(url)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/xml"
    err = error_xml(r.content)
    assert err["Code"] == "NoSuchKey"
    assert err["Message"] == "The specified key does not exist."
    assert err["Resource"] == "/%s/a/missing" % bucket
    assert err["RequestId"] == r.headers["x-amz-request-id"]
    assert r.headers["x-amz-id-2"]
    assert err.get("Key") in (None, "a/missing")
    url = s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": "a/missing"})
    r = requests.head(url)
    assert r.status_code == 404 and r.content == b"" and r.headers["x-amz-request-id"]
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": bucket + "-gone"})
    r = requests.get(url)
    err = error_xml(r.content)
    assert (r.status_code, err["Code"]) == (404, "NoSuchBucket")
    assert err["Message"] == "The specified bucket does not exist"
    assert err["Resource"] == "/%s" % (bucket + "-gone")
    assert err.get("BucketName") in (None, bucket + "-gone")


def test_error_through_boto3(s3, bucket):
    r = expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="missing")
    assert r["ResponseMetadata"]["RequestId"] == r["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-request-id"]
    assert r["ResponseMetadata"]["HostId"]


def test_request_ids_on_success(s3, bucket):
    r = s3.list_objects_v2(Bucket=bucket)
    assert r["ResponseMetadata"]["RequestId"]
    assert r["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]


def test_lower_case_etags_everywhere(s3, bucket):
    data = b"etag case"
    want = lower_quoted_md5(data)
    assert s3.put_object(Bucket=bucket, Key="e", Body=data)["ETag"] == want
    assert s3.head_object(Bucket=bucket, Key="e")["ETag"] == want
    assert s3.get_object(Bucket=bucket, Key="e")["ETag"] == want
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["ETag"] == want
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["ETag"] == want
    c = s3.copy_object(Bucket=bucket, Key="e2", CopySource={"Bucket": bucket, "Key": "e"})
    assert c["CopyObjectResult"]["ETag"] == want


def test_presigned_wrong_region(ossify, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    other = s3_client(ossify.hz, region="eu-west-1")
    url = other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = requests.get(url)
    assert r.status_code == 400
    err = error_xml(r.content)
    assert err["Code"] == "AuthorizationQueryParametersError"
    assert "eu-west-1" in err["Message"] and "cn-hangzhou" in err["Message"]


def test_sigv2_presigned_put(ossify, s3, bucket):
    v2 = s3_client(ossify.hz, signature_version="s3")
    url = v2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2put"},
                                    ExpiresIn=300)
    r = requests.put(url, data=b"put with v2")
    assert r.status_code == 200, r.text
    assert body(s3.get_object(Bucket=bucket, Key="v2put")) == b"put with v2"


def test_anonymous_on_s3_listener(ossify, anon, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"p")
    expect_error("AccessDenied", 403, anon.list_buckets)
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket=bucket)
    expect_error("AccessDenied", 403, anon.put_object, Bucket=bucket, Key="x", Body=b"x")
    expect_error("403", 403, anon.head_object, Bucket=bucket, Key="private")
    expect_error("NoSuchBucket", 404, anon.list_objects_v2, Bucket=bucket + "-none")
    r = requests.get("%s/%s/private" % (ossify.s3_hz, bucket))
    err = error_xml(r.content)
    assert r.status_code == 403 and err["Code"] == "AccessDenied"
    assert err["Message"] == "Access Denied"
    assert r.headers["x-amz-request-id"] == err["RequestId"]


def test_upload_part_copy_conditions_and_range(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789")["ETag"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    src = {"Bucket": bucket, "Key": "src"}
    expect_error("PreconditionFailed", 412, s3.upload_part_copy, Bucket=bucket, Key="dst",
                 UploadId=uid, PartNumber=1, CopySource=src, CopySourceIfMatch='"00"')
    expect_error("PreconditionFailed", 412, s3.upload_part_copy, Bucket=bucket, Key="dst",
                 UploadId=uid, PartNumber=1, CopySource=src, CopySourceIfNoneMatch=etag)
    expect_error("InvalidArgument", 400, s3.upload_part_copy, Bucket=bucket, Key="dst",
                 UploadId=uid, PartNumber=1, CopySource=src, CopySourceRange="bytes=5-100")
    r = s3.upload_part_copy(Bucket=bucket, Key="dst", UploadId=uid, PartNumber=1,
                            CopySource=src, CopySourceIfMatch=etag, CopySourceRange="bytes=2-5")
    assert r["CopyPartResult"]["ETag"] == lower_quoted_md5(b"2345")
    s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}]})
    assert body(s3.get_object(Bucket=bucket, Key="dst")) == b"2345"


def test_copy_source_version_id(s3, bucket):
    s3.put_object(Bucket=bucket, Key="v", Body=b"versioned?")
    s3.copy_object(Bucket=bucket, Key="v2", CopySource={"Bucket": bucket, "Key": "v",
                                                        "VersionId": "null"})
    assert body(s3.get_object(Bucket=bucket, Key="v2")) == b"versioned?"
    expect_error("InvalidArgument", 400, s3.copy_object, Bucket=bucket, Key="v3",
                 CopySource={"Bucket": bucket, "Key": "v", "VersionId": "nope"})
