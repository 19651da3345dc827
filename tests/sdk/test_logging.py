"""Access logging: Put/Get/DeleteBucketLogging with oss2 (V1 and V4) and
alibabacloud-oss-v2, and its effect: the requests on the source bucket appear, in
OSS's access-log line format, in log objects
`<TargetPrefix><SourceBucket><YYYY-mm-DD-HH-MM-SS>-<UniqueString>` of the target
bucket (the test server flushes every second)."""

import re
import shlex
import time

import oss2
import pytest
import requests
from oss2.models import BucketLogging

from conftest import (HZ, ROOT1, ROOT2, SH, make_v2_client, object_url, parse_error, signed_request,
                      unique_bucket_name)


def make_bucket(ossify, auth, tag, region=HZ, acl=None):
    b = oss2.Bucket(auth, ossify.endpoint(region), unique_bucket_name(tag),
                    region=region.replace("oss-", ""))
    b.create_bucket(acl)
    return b


def drop(bucket):
    for o in oss2.ObjectIterator(bucket):
        bucket.delete_object(o.key)
    bucket.delete_bucket()


@pytest.fixture
def pair(ossify, auth):
    source = make_bucket(ossify, auth, "logsrc", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    target = make_bucket(ossify, auth, "logdst")
    yield source, target
    source.delete_bucket_logging()
    drop(source)
    drop(target)


def test_put_get_delete(pair):
    source, target = pair
    # An empty <BucketLoggingStatus/> (oss2 reads it as empty strings).
    got = source.get_bucket_logging()
    assert (got.target_bucket, got.target_prefix) == ("", "")
    source.put_bucket_logging(BucketLogging(target.bucket_name, "logs/"))
    got = source.get_bucket_logging()
    assert (got.target_bucket, got.target_prefix) == (target.bucket_name, "logs/")
    assert source.delete_bucket_logging().status == 204
    got = source.get_bucket_logging()
    assert (got.target_bucket, got.target_prefix) == ("", "")


def test_refusals_change_nothing(ossify, auth, pair):
    source, target = pair
    source.put_bucket_logging(BucketLogging(target.bucket_name, "keep/"))
    other_owner = make_bucket(ossify, oss2.Auth(ROOT2.id, ROOT2.secret), "logother")
    other_region = make_bucket(ossify, auth, "logsh", region=SH)
    try:
        body = ("<BucketLoggingStatus><LoggingEnabled><TargetBucket>%s</TargetBucket>"
                "<TargetPrefix>%s</TargetPrefix></LoggingEnabled></BucketLoggingStatus>")
        cases = [
            (body % ("missing-" + target.bucket_name, "p"), "InvalidTargetBucketForLogging", "0032-00000008"),
            (body % ("x", "p"), "InvalidTargetBucketForLogging", "0032-00000004"),
            (body % (other_owner.bucket_name, "p"), "InvalidTargetBucketForLogging", None),
            (body % (other_region.bucket_name, "p"), "InvalidTargetBucketForLogging", None),
            (body % (target.bucket_name, "/abc"), "InvalidArgument", "0032-00000005"),
            (body % (target.bucket_name, "a" * 257), "InvalidArgument", "0032-00000006"),
            ("<BucketLoggingStatus><LoggingEnabled/></BucketLoggingStatus>", "MalformedXML", None),
            ("<BucketLoggingStatus>", "MalformedXML", None),
        ]
        for xml, code, ec in cases:
            r = signed_request(auth, "PUT", ossify.endpoint(HZ), source.bucket_name, params={"logging": ""},
                               data=xml)
            err = parse_error(r.content)
            assert (r.status_code, err["Code"]) == (400, code), (xml, r.text)
            if ec:
                assert err.get("EC") == ec, r.text
        got = source.get_bucket_logging()
        assert (got.target_bucket, got.target_prefix) == (target.bucket_name, "keep/")
    finally:
        drop(other_owner)
        drop(other_region)


def log_objects(target, prefix):
    return [o.key for o in oss2.ObjectIterator(target, prefix=prefix)]


def wait_for_lines(target, prefix, request_ids, timeout=10):
    """Every line under `prefix` once all of `request_ids` have appeared."""
    deadline = time.time() + timeout
    while True:
        lines = []
        for key in log_objects(target, prefix):
            lines += target.get_object(key).read().decode().splitlines()
        if all(any(rid in line for line in lines) for rid in request_ids) or time.time() > deadline:
            return lines
        time.sleep(0.3)


def test_requests_are_logged(ossify, pair):
    source, target = pair
    source.put_bucket_logging(BucketLogging(target.bucket_name, "access/"))
    put = source.put_object("dir/a b.txt", b"hello")
    got = source.get_object("dir/a b.txt")
    assert got.read() == b"hello"
    with pytest.raises(oss2.exceptions.NoSuchKey) as missing:
        source.get_object("nope")
    anonymous = requests.get(object_url(ossify.endpoint(HZ), source.bucket_name, "dir/a b.txt"),
                             headers={"Referer": "http://site.test/", "User-Agent": "probe/1"})
    assert anonymous.status_code == 200
    ids = [put.request_id, got.request_id, missing.value.request_id, anonymous.headers["x-oss-request-id"]]

    prefix = "access/" + source.bucket_name
    lines = wait_for_lines(target, prefix, ids)
    for key in log_objects(target, prefix):
        assert re.fullmatch(re.escape(prefix) + r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}", key), key
    by_id = {}
    for line in lines:
        fields = shlex.split(line)
        # 28 fields; the time holds a space, so shlex counts 29.
        assert len(fields) == 29, line
        by_id[fields[12]] = fields
    # Fields: 0 remote IP, 1-2 reserved, 3-4 time, 5 request line, 6 status, 7 sent
    # bytes, 8 request time, 9 Referer, 10 User-Agent, 11 host, 12 request id, 13 logging
    # flag, 14 requester, 15 operation, 16 bucket, 17 key, 18 object size, 19 server
    # time, 20 error code, 21 request length, 22 owner, 23-27 delta size, sync request,
    # storage classes, acceleration point, 28 AccessKey ID.
    f = by_id[put.request_id]
    # The request line as the client sent it (oss2 encodes the key's `/`).
    assert f[5] == "PUT /%s/dir%%2Fa%%20b.txt HTTP/1.1" % source.bucket_name, f
    assert (f[6], f[13], f[14], f[15], f[16], f[17], f[18], f[21], f[22], f[25], f[28]) == (
        "200", "true", ROOT1.account_id, "PutObject", source.bucket_name, "dir%2Fa%20b.txt", "-", "5",
        ROOT1.account_id, "Standard", ROOT1.id), f
    f = by_id[got.request_id]
    assert (f[6], f[7], f[15], f[18], f[20]) == ("200", "5", "GetObject", "5", "-"), f
    f = by_id[missing.value.request_id]
    assert (f[6], f[15], f[17], f[20]) == ("404", "GetObject", "nope", "NoSuchKey"), f
    f = by_id[anonymous.headers["x-oss-request-id"]]
    assert (f[6], f[9], f[10], f[14], f[28]) == ("200", "http://site.test/", "probe/1", "-", "-"), f
    assert f[0] == "127.0.0.1" and f[4] == "+0000]"

    # Off again: nothing more is written (after the lines of requests made before).
    source.delete_bucket_logging()
    time.sleep(2.5)
    before = len(log_objects(target, prefix))
    source.get_object("dir/a b.txt").read()
    time.sleep(2.5)
    assert len(log_objects(target, prefix)) == before


def test_v2_sdk(ossify):
    import alibabacloud_oss_v2 as oss
    client = make_v2_client(ossify)
    source, target = unique_bucket_name("logv2s"), unique_bucket_name("logv2t")
    for name in (source, target):
        client.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        got = client.get_bucket_logging(oss.GetBucketLoggingRequest(bucket=source)).bucket_logging_status
        assert got.logging_enabled is None
        client.put_bucket_logging(oss.PutBucketLoggingRequest(
            bucket=source, bucket_logging_status=oss.BucketLoggingStatus(
                logging_enabled=oss.LoggingEnabled(target_bucket=target, target_prefix="v2/"))))
        got = client.get_bucket_logging(oss.GetBucketLoggingRequest(bucket=source)).bucket_logging_status
        assert (got.logging_enabled.target_bucket, got.logging_enabled.target_prefix) == (target, "v2/")
        result = client.put_object(oss.PutObjectRequest(bucket=source, key="k", body=b"v"))
        deadline = time.time() + 10
        found = []
        while time.time() < deadline and not found:
            listing = client.list_objects_v2(oss.ListObjectsV2Request(bucket=target, prefix="v2/" + source))
            found = [o.key for o in (listing.contents or [])]
            time.sleep(0.3)
        assert found
        body = client.get_object(oss.GetObjectRequest(bucket=target, key=found[0])).body.read().decode()
        assert result.request_id in body and '"PutObject"' in body
        client.delete_bucket_logging(oss.DeleteBucketLoggingRequest(bucket=source))
    finally:
        for name in (source, target):
            listing = client.list_objects_v2(oss.ListObjectsV2Request(bucket=name))
            for o in listing.contents or []:
                client.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
            client.delete_bucket(oss.DeleteBucketRequest(bucket=name))
