"""Object keys with control characters, as OSS takes them: any UTF-8 key of 1-1023 bytes
not starting with `/` or `\\` is stored exactly (`\\x01`, `\\t`, `\\n`, `\\r`, `\\x0c`, DEL,
...), and comes back from listings, DeleteMultipleObjects and copies unchanged. With
`encoding-type=url` (which oss2 and the v2 SDK always send) the keys are percent-encoded;
without it, CR and the characters XML 1.0 cannot carry literally are written as
character references, the way the SDKs write them in request bodies."""

import re

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from conftest import Oss2Ctx, make_v2_client, unique_bucket_name

# The keys of the SDKs' own integration tests, and one of each awkward character.
KEYS = [
    "中文!@#$%^&*()-=文件\x0c-1.txt",
    "?{测}\r\n[试];,/?:@&=+$<中>-_.!~*'(文)\"￥#%！（字）^ `符|\\test.txt",
    "文件!@#$%^&*()-=\x0d\x0e\x7f名",
    "tab\there",
    "bell\x01\x02\x1f-end",
    "trailing-newline\n",
    "<hello>",
]
IDS = ["ff", "crlf", "cr-so-del", "tab", "low", "lf", "angle"]


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def bucket(ctx):
    return ctx.new_bucket("keys")


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_oss2_put_get_head_list_delete(ctx, bucket, key):
    bucket.put_object(key, "中文内容")
    assert bucket.get_object(key).read() == "中文内容".encode("utf-8")
    assert bucket.head_object(key).content_length == len("中文内容".encode("utf-8"))
    assert bucket.object_exists(key)
    listed = [o.key for o in oss2.ObjectIterator(bucket, prefix=key[:3])]
    assert key in listed
    listed_v2 = [o.key for o in oss2.ObjectIteratorV2(bucket, prefix=key[:3])]
    assert key in listed_v2
    bucket.delete_object(key)
    assert not bucket.object_exists(key)


def test_oss2_batch_delete_copy_and_prefixes(ctx, bucket):
    keys = ["batch/" + k for k in KEYS]
    for k in keys:
        bucket.put_object(k, b"v")
    # Copy with a control character in the source and in the destination key.
    bucket.copy_object(bucket.bucket_name, keys[0], keys[0] + "\x0b-copy")
    assert bucket.get_object(keys[0] + "\x0b-copy").read() == b"v"
    keys.append(keys[0] + "\x0b-copy")
    # A delimiter rolls keys up into prefixes that keep their control characters.
    bucket.put_object("dir\x0c/a", b"1")
    bucket.put_object("dir\r\n/b", b"2")
    r = bucket.list_objects(prefix="dir", delimiter="/")
    assert sorted(r.prefix_list) == sorted(["dir\x0c/", "dir\r\n/"])
    r = bucket.list_objects_v2(prefix="dir", delimiter="/")
    assert sorted(r.prefix_list) == sorted(["dir\x0c/", "dir\r\n/"])
    # A marker with control characters is honoured.
    r = bucket.list_objects(prefix="dir", marker="dir\x0c/a")
    assert [o.key for o in r.object_list] == ["dir\r\n/b"]
    r = bucket.list_objects_v2(prefix="dir", start_after="dir\x0c/a")
    assert [o.key for o in r.object_list] == ["dir\r\n/b"]
    result = bucket.batch_delete_objects(keys + ["dir\x0c/a", "dir\r\n/b"])
    assert sorted(result.deleted_keys) == sorted(keys + ["dir\x0c/a", "dir\r\n/b"])
    assert [o.key for o in oss2.ObjectIterator(bucket)] == []


def test_oss2_symlink_to_control_character_key(ctx, bucket):
    target, link = KEYS[0], "中文!@#$%^&*()-=文件\x0c-2.txt"
    bucket.put_object(target, b"content")
    bucket.put_symlink(target, link)
    assert bucket.get_symlink(link).target_key == target
    assert bucket.get_object(link).read() == b"content"
    bucket.batch_delete_objects([target, link])


def test_oss2_multipart_with_control_character_key(ctx, bucket):
    key = "mp\x01\r\n\x0c-key"
    # oss2 does not ask for encoding-type=url here; without it no XML parser could read
    # the key in the response.
    upload_id = bucket.init_multipart_upload(key, params={"encoding-type": "url"}).upload_id
    uploads = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, prefix="mp")]
    assert uploads == [(key, upload_id)]
    part = bucket.upload_part(key, upload_id, 1, b"part-data")
    bucket.complete_multipart_upload(key, upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object(key).read() == b"part-data"
    bucket.delete_object(key)


def test_raw_listing_without_encoding_type(ctx, bucket):
    """Without encoding-type the key travels in the XML itself: characters XML 1.0 cannot
    carry literally (and CR, which parsers would turn into LF) are character references;
    TAB and LF stay literal."""
    bucket.put_object("raw\x01\x0c\r\n\t-key", b"x")
    try:
        r = ctx.raw("GET", bucket.bucket_name, params={"prefix": "raw"})
        assert r.status_code == 200
        body = r.content.decode("utf-8")
        assert "<Key>raw&#1;&#12;&#13;\n\t-key</Key>" in body
        assert not re.search("[\x00-\x08\x0b-\x1f]", body)
        # The same key percent-encoded with encoding-type=url.
        r = ctx.raw("GET", bucket.bucket_name, params={"prefix": "raw", "encoding-type": "url"})
        assert "<Key>raw%01%0C%0D%0A%09-key</Key>" in r.content.decode("utf-8")
    finally:
        bucket.delete_object("raw\x01\x0c\r\n\t-key")


def test_nul_and_leading_slash_still_refused(ctx, bucket):
    for key in ["nul\x00inside", "/lead\x0c", "\\lead\x01"]:
        with pytest.raises(oss2.exceptions.ServerError) as ei:
            bucket.put_object(key, b"x")
        assert (ei.value.status, ei.value.code) == (400, "InvalidObjectName")


# ---------------------------------------------------------------------------
# alibabacloud-oss-v2: writes control characters as character references in request
# XML (DeleteMultipleObjects) and decodes url-encoded listings.
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def v2(ossify):
    client = make_v2_client(ossify)
    name = unique_bucket_name("v2-keys")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    for page in client.list_objects_v2_paginator().iter_page(
            oss.ListObjectsV2Request(bucket=name)):
        for o in page.contents or []:
            client.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
    client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def test_v2_keys_round_trip(v2):
    client, name = v2
    for key in KEYS:
        client.put_object(oss.PutObjectRequest(bucket=name, key=key, body=key.encode("utf-8")))
        got = client.get_object(oss.GetObjectRequest(bucket=name, key=key))
        assert got.body.read() == key.encode("utf-8")
        assert client.is_object_exist(name, key)
    listed = []
    for page in client.list_objects_v2_paginator().iter_page(
            oss.ListObjectsV2Request(bucket=name, max_keys=2)):
        listed += [o.key for o in page.contents or []]
    assert sorted(listed) == sorted(KEYS)
    page = client.list_objects(oss.ListObjectsRequest(bucket=name, max_keys=1000))
    assert sorted(o.key for o in page.contents) == sorted(KEYS)

    client.copy_object(oss.CopyObjectRequest(bucket=name, key=KEYS[1] + "\x0b", source_key=KEYS[1]))
    got = client.get_object(oss.GetObjectRequest(bucket=name, key=KEYS[1] + "\x0b"))
    assert got.body.read() == KEYS[1].encode("utf-8")

    r = client.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(
        bucket=name, objects=[oss.DeleteObject(key=k) for k in KEYS + [KEYS[1] + "\x0b"]]))
    assert sorted(d.key for d in r.deleted_objects) == sorted(KEYS + [KEYS[1] + "\x0b"])
    for key in KEYS:
        assert not client.is_object_exist(name, key)
