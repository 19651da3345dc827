"""alibabacloud-oss-v2 (V4 signatures, path style) against ossify."""

import base64
import datetime
import hashlib
import os
import time

import alibabacloud_oss_v2 as oss
import pytest
import requests

from conftest import SH, crc64, make_v2_client, md5_upper, unique_bucket_name, v2_service_error


class V2(object):
    def __init__(self, env):
        self.env = env
        self.client = make_v2_client(env)
        self.created = []

    def new_bucket(self, tag="", acl=None, client=None):
        name = unique_bucket_name("v2-" + tag)
        r = (client or self.client).put_bucket(oss.PutBucketRequest(bucket=name, acl=acl))
        assert r.status_code == 200
        assert r.request_id
        self.created.append((client or self.client, name))
        return name

    def cleanup(self):
        for client, name in reversed(self.created):
            try:
                for page in client.list_objects_v2_paginator().iter_page(
                        oss.ListObjectsV2Request(bucket=name, max_keys=1000)):
                    for o in page.contents or []:
                        client.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
                client.delete_bucket(oss.DeleteBucketRequest(bucket=name))
            except Exception:
                pass


@pytest.fixture
def v2(ossify):
    c = V2(ossify)
    yield c
    c.cleanup()


@pytest.fixture
def bucket(v2, request):
    return v2.new_bucket(request.node.name.replace("test_", ""))


# ---------------------------------------------------------------------------
def test_put_bucket_and_acl(v2):
    c = v2.client
    name = v2.new_bucket("acl", acl="public-read")
    r = c.get_bucket_acl(oss.GetBucketAclRequest(bucket=name))
    assert r.acl == "public-read"
    assert r.owner.id == v2.env.root1.account_id
    r = c.put_bucket_acl(oss.PutBucketAclRequest(bucket=name, acl="private"))
    assert r.status_code == 200
    assert c.get_bucket_acl(oss.GetBucketAclRequest(bucket=name)).acl == "private"


def test_list_buckets(v2):
    c = v2.client
    tag = unique_bucket_name("v2lb")
    names = []
    for s in ("x", "y", "z"):
        c.put_bucket(oss.PutBucketRequest(bucket=tag + "-" + s))
        v2.created.append((c, tag + "-" + s))
        names.append(tag + "-" + s)
    r = c.list_buckets(oss.ListBucketsRequest(prefix=tag))
    assert r.status_code == 200
    assert [b.name for b in r.buckets] == names
    for b in r.buckets:
        assert b.location == "oss-cn-hangzhou"
        assert b.extranet_endpoint and b.intranet_endpoint
        assert b.storage_class == "Standard"
        assert b.creation_date is not None
    assert r.owner.id == v2.env.root1.account_id

    r = c.list_buckets(oss.ListBucketsRequest(prefix=tag, max_keys=2))
    assert [b.name for b in r.buckets] == names[:2]
    assert r.is_truncated is True
    assert r.next_marker == names[1]

    pages = list(c.list_buckets_paginator(limit=1).iter_page(oss.ListBucketsRequest(prefix=tag)))
    assert [p.buckets[0].name for p in pages] == names


def test_get_bucket_info_and_location(v2, bucket):
    c = v2.client
    r = c.get_bucket_info(oss.GetBucketInfoRequest(bucket=bucket))
    assert r.status_code == 200
    info = r.bucket_info
    assert info.name == bucket
    assert info.location == "oss-cn-hangzhou"
    assert info.acl == "private"
    assert info.storage_class == "Standard"
    assert info.owner.id == v2.env.root1.account_id
    assert info.extranet_endpoint and info.intranet_endpoint
    r = c.get_bucket_location(oss.GetBucketLocationRequest(bucket=bucket))
    assert r.location == "oss-cn-hangzhou"
    assert c.is_bucket_exist(bucket) is True
    assert c.is_bucket_exist(unique_bucket_name("v2-none")) is False


def test_shanghai_bucket(v2):
    sh = make_v2_client(v2.env, region=SH)
    name = v2.new_bucket("sh", client=sh)
    assert sh.get_bucket_location(oss.GetBucketLocationRequest(bucket=name)).location == "oss-cn-shanghai"
    # the hangzhou endpoint refuses it
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.client.get_object(oss.GetObjectRequest(bucket=name, key="k"))
    se = v2_service_error(ei)
    assert se.status_code == 403
    assert se.code == "AccessDenied"


def test_delete_bucket_errors(v2):
    c = v2.client
    name = v2.new_bucket("del")
    c.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"x"))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
    se = v2_service_error(ei)
    assert se.status_code == 409 and se.code == "BucketNotEmpty"
    assert se.request_id
    c.delete_object(oss.DeleteObjectRequest(bucket=name, key="k"))
    r = c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
    assert r.status_code == 204
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
    se = v2_service_error(ei)
    assert se.status_code == 404 and se.code == "NoSuchBucket"


def test_put_get_head_delete_object(v2, bucket):
    c = v2.client
    data = os.urandom(4321)
    r = c.put_object(oss.PutObjectRequest(
        bucket=bucket, key="dir/file.dat", body=data,
        content_type="application/x-v2", cache_control="no-store",
        content_disposition='attachment; filename="f.dat"', expires="Wed, 21 Oct 2015 07:28:00 GMT",
        metadata={"author": "bob", "Project": "ossify"}))
    assert r.status_code == 200
    assert r.request_id
    assert r.etag == '"%s"' % md5_upper(data)
    assert r.hash_crc64 == str(crc64(data))
    if r.content_md5 is not None:
        assert r.content_md5 == base64.b64encode(hashlib.md5(data).digest()).decode()

    h = c.head_object(oss.HeadObjectRequest(bucket=bucket, key="dir/file.dat"))
    assert h.status_code == 200
    assert h.content_length == len(data)
    assert h.content_type == "application/x-v2"
    assert h.cache_control == "no-store"
    assert h.content_disposition == 'attachment; filename="f.dat"'
    assert h.expires == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert h.etag == '"%s"' % md5_upper(data)
    assert h.object_type == "Normal"
    assert h.storage_class == "Standard"
    assert h.hash_crc64 == str(crc64(data))
    assert h.metadata == {"author": "bob", "project": "ossify"}
    assert abs(h.last_modified.timestamp() - time.time()) < 600

    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="dir/file.dat"))
    assert g.status_code == 200
    assert g.body.content == data
    assert g.content_length == len(data)
    assert g.metadata == {"author": "bob", "project": "ossify"}
    assert g.etag == h.etag

    m = c.get_object_meta(oss.GetObjectMetaRequest(bucket=bucket, key="dir/file.dat"))
    assert m.content_length == len(data)
    assert m.etag == h.etag

    assert c.is_object_exist(bucket, "dir/file.dat") is True
    assert c.is_object_exist(bucket, "dir/nope") is False

    d = c.delete_object(oss.DeleteObjectRequest(bucket=bucket, key="dir/file.dat"))
    assert d.status_code == 204
    d = c.delete_object(oss.DeleteObjectRequest(bucket=bucket, key="dir/file.dat"))
    assert d.status_code == 204

    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.get_object(oss.GetObjectRequest(bucket=bucket, key="dir/file.dat"))
    se = v2_service_error(ei)
    assert se.status_code == 404
    assert se.code == "NoSuchKey"
    assert se.request_id
    assert se.message

    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.head_object(oss.HeadObjectRequest(bucket=bucket, key="dir/file.dat"))
    se = v2_service_error(ei)
    assert se.status_code == 404
    assert se.code == "NoSuchKey"  # through x-oss-err


def test_forbid_overwrite_and_content_md5(v2, bucket):
    c = v2.client
    c.put_object(oss.PutObjectRequest(bucket=bucket, key="f", body=b"1", forbid_overwrite=True))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.put_object(oss.PutObjectRequest(bucket=bucket, key="f", body=b"2", forbid_overwrite=True))
    se = v2_service_error(ei)
    assert se.status_code == 409 and se.code == "FileAlreadyExists"

    bad_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.put_object(oss.PutObjectRequest(bucket=bucket, key="m", body=b"data",
                                          headers={"Content-MD5": bad_md5}))
    se = v2_service_error(ei)
    assert se.status_code == 400 and se.code == "InvalidDigest"


def test_conditional_get(v2, bucket):
    c = v2.client
    data = b"cond"
    c.put_object(oss.PutObjectRequest(bucket=bucket, key="c", body=data))
    etag = '"%s"' % md5_upper(data)
    assert c.get_object(oss.GetObjectRequest(bucket=bucket, key="c", if_match=etag)).body.content == data
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.get_object(oss.GetObjectRequest(bucket=bucket, key="c", if_match='"ABC"'))
    assert v2_service_error(ei).status_code == 412
    assert v2_service_error(ei).code == "PreconditionFailed"
    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.get_object(oss.GetObjectRequest(bucket=bucket, key="c", if_none_match=etag))
    assert v2_service_error(ei).status_code == 304


@pytest.fixture
def thousand(v2, bucket):
    data = os.urandom(1000)
    v2.client.put_object(oss.PutObjectRequest(bucket=bucket, key="r", body=data))
    return data


def test_range_behavior_standard(v2, bucket, thousand):
    c = v2.client
    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="r", range_header="bytes=100-199",
                                          range_behavior="standard"))
    assert g.status_code == 206
    assert g.content_range == "bytes 100-199/1000"
    assert g.body.content == thousand[100:200]

    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="r", range_header="bytes=500-2000",
                                          range_behavior="standard"))
    assert g.status_code == 206
    assert g.content_range == "bytes 500-999/1000"
    assert g.body.content == thousand[500:]

    with pytest.raises(oss.exceptions.OperationError) as ei:
        c.get_object(oss.GetObjectRequest(bucket=bucket, key="r", range_header="bytes=1000-",
                                          range_behavior="standard"))
    se = v2_service_error(ei)
    assert se.status_code == 416
    assert se.code == "InvalidRange"

    # without the standard behaviour OSS ignores the unsatisfiable range
    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="r", range_header="bytes=1000-"))
    assert g.status_code == 200
    assert g.body.content == thousand


def test_response_overrides(v2, bucket):
    c = v2.client
    c.put_object(oss.PutObjectRequest(bucket=bucket, key="o", body=b"o"))
    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="o", response_content_type="text/csv",
                                          response_content_disposition="inline",
                                          response_cache_control="max-age=1"))
    assert g.content_type == "text/csv"
    assert g.content_disposition == "inline"
    assert g.cache_control == "max-age=1"


LIST_KEYS = ["p/a b", "p/c+d", "p/\u00e9t\u00e9", "p/100%", "p/sub/x", "p/sub/y", "q"] + \
    ["p/n%03d" % i for i in range(20)]


def test_list_objects_v2_paginator(v2, bucket):
    c = v2.client
    for k in LIST_KEYS:
        c.put_object(oss.PutObjectRequest(bucket=bucket, key=k, body=k.encode()))
    expected = sorted([k for k in LIST_KEYS if k.startswith("p/")], key=lambda k: k.encode())

    pages = list(c.list_objects_v2_paginator(limit=10).iter_page(
        oss.ListObjectsV2Request(bucket=bucket, prefix="p/")))
    assert len(pages) == 3
    keys = [o.key for p in pages for o in (p.contents or [])]
    assert keys == expected
    assert pages[0].is_truncated is True and pages[-1].is_truncated is False
    assert pages[0].key_count == 10
    for p in pages:
        for o in p.contents or []:
            assert o.size == len(o.key.encode())
            assert o.etag == '"%s"' % md5_upper(o.key.encode())

    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket, prefix="p/", delimiter="/", max_keys=1000))
    assert [cp.prefix for cp in r.common_prefixes] == ["p/sub/"]
    assert "p/sub/x" not in [o.key for o in r.contents]
    assert r.key_count == len(r.contents) + len(r.common_prefixes)

    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket, start_after="p/sub/x"))
    # byte order: "p/\u00e9..." (0xC3) sorts after "p/sub/y"
    assert [o.key for o in r.contents] == ["p/sub/y", "p/\u00e9t\u00e9", "q"]

    # v1 listing through the paginator
    pages = list(c.list_objects_paginator(limit=7).iter_page(
        oss.ListObjectsRequest(bucket=bucket, prefix="p/")))
    assert [o.key for p in pages for o in (p.contents or [])] == expected


def test_get_object_to_file_and_downloader_crc(v2, bucket, tmp_path):
    c = v2.client
    data = os.urandom(3 * 1024 * 1024 + 123)
    c.put_object(oss.PutObjectRequest(bucket=bucket, key="big", body=data))

    p = tmp_path / "a.bin"
    r = c.get_object_to_file(oss.GetObjectRequest(bucket=bucket, key="big"), str(p))
    assert r.hash_crc64 == str(crc64(data))
    assert p.read_bytes() == data

    d = c.downloader(part_size=1024 * 1024, parallel_num=2)
    p2 = tmp_path / "b.bin"
    res = d.download_file(oss.GetObjectRequest(bucket=bucket, key="big"), str(p2))
    assert res.written == len(data)
    assert p2.read_bytes() == data


def test_presign_get_and_put(v2, bucket):
    c = v2.client
    c.put_object(oss.PutObjectRequest(bucket=bucket, key="dir/pre sign+.txt", body=b"presigned"))
    pr = c.presign(oss.GetObjectRequest(bucket=bucket, key="dir/pre sign+.txt"),
                   expires=datetime.timedelta(minutes=5))
    assert pr.method == "GET"
    assert "x-oss-signature" in pr.url
    r = requests.get(pr.url)
    assert r.status_code == 200, r.text
    assert r.content == b"presigned"

    pr = c.presign(oss.PutObjectRequest(bucket=bucket, key="up", content_type="text/plain"))
    r = requests.put(pr.url, data=b"uploaded", headers=pr.signed_headers)
    assert r.status_code == 200, r.text
    g = c.get_object(oss.GetObjectRequest(bucket=bucket, key="up"))
    assert g.body.content == b"uploaded"
    assert g.content_type == "text/plain"


def test_auth_errors(v2, bucket):
    from conftest import Keys
    bad = make_v2_client(v2.env, keys=Keys(v2.env.root1.id, "wrong"))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        bad.get_object(oss.GetObjectRequest(bucket=bucket, key="x"))
    se = v2_service_error(ei)
    assert se.status_code == 403
    assert se.code == "SignatureDoesNotMatch"
    assert se.request_id

    unknown = make_v2_client(v2.env, keys=Keys("LTAIunknown", "x"))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        unknown.list_buckets(oss.ListBucketsRequest())
    se = v2_service_error(ei)
    assert se.status_code == 403
    assert se.code == "InvalidAccessKeyId"

    other = make_v2_client(v2.env, keys=v2.env.root2)
    with pytest.raises(oss.exceptions.OperationError) as ei:
        other.put_object(oss.PutObjectRequest(bucket=bucket, key="x", body=b"x"))
    se = v2_service_error(ei)
    assert se.status_code == 403 and se.code == "AccessDenied"

    reader = make_v2_client(v2.env, keys=v2.env.reader)
    v2.client.put_object(oss.PutObjectRequest(bucket=bucket, key="r", body=b"r"))
    assert reader.get_object(oss.GetObjectRequest(bucket=bucket, key="r")).body.content == b"r"
    with pytest.raises(oss.exceptions.OperationError) as ei:
        reader.put_object(oss.PutObjectRequest(bucket=bucket, key="r", body=b"w"))
    se = v2_service_error(ei)
    assert se.status_code == 403 and se.code == "AccessDenied"


def test_nonexistent_bucket(v2):
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.client.put_object(oss.PutObjectRequest(bucket=unique_bucket_name("v2-missing"), key="k",
                                                  body=b"x"))
    se = v2_service_error(ei)
    assert se.status_code == 404 and se.code == "NoSuchBucket"
