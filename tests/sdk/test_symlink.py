"""Symlinks as OSS serves them.

* GET/HEAD of a link return the target's bytes; Content-Length, ETag, Content-MD5 and the
  CRC-64 are the target's, Last-Modified is the later of link and target, and everything
  else is the link's own: `x-oss-object-type: Symlink`, its storage class, user metadata,
  tag count (OSS GetObject: "for a symbolic link ... other metadata is the link's").
* PutSymlink honours `x-oss-meta-*`, `x-oss-tagging`, `x-oss-object-acl`,
  `x-oss-storage-class` and `x-oss-forbid-overwrite`; it checks neither that the target
  exists nor its type (deferred to the read).
* A link to a link is refused when read through: 400 InvalidTargetType.
"""

import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from conftest import Oss2Ctx, error_of, make_v2_client, unique_bucket_name, v2_service_error


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def bucket(ctx):
    return ctx.new_bucket("symlink")


def test_head_and_get_through_a_link(ctx, bucket):
    bucket.put_object("target.txt", b"target bytes", headers={
        "Content-Type": "text/plain", "x-oss-meta-side": "target"})
    target = bucket.head_object("target.txt")
    time.sleep(1.1)  # the link is strictly newer than the target
    bucket.put_symlink("target.txt", "link.txt", headers={
        "x-oss-meta-side": "link", "x-oss-storage-class": "IA"})
    for result in (bucket.head_object("link.txt"), bucket.get_object("link.txt")):
        h = result.headers
        assert result.object_type == "Symlink"
        assert h["x-oss-object-type"] == "Symlink"
        assert result.content_length == len(b"target bytes")
        assert result.etag == target.etag
        assert h["x-oss-hash-crc64ecma"] == target.headers["x-oss-hash-crc64ecma"]
        assert h["Content-MD5"] == target.headers["Content-MD5"]
        assert result.last_modified > target.last_modified  # the link's, the later one
        assert h["x-oss-meta-side"] == "link"
        assert h["x-oss-storage-class"] == "IA"
    # oss2 checks the CRC-64 of the bytes it reads against the header.
    assert bucket.get_object("link.txt").read() == b"target bytes"
    # Ranges and conditions apply to the target's bytes and ETag.
    assert bucket.get_object("link.txt", byte_range=(0, 5)).read() == b"target"
    with pytest.raises(oss2.exceptions.PreconditionFailed):
        bucket.get_object("link.txt", headers={"If-Match": '"0123"'})
    with pytest.raises(oss2.exceptions.NotModified):
        bucket.get_object("link.txt", headers={"If-None-Match": '"%s"' % target.etag})
    # Listed as the link.
    listed = {o.key: o for o in oss2.ObjectIterator(bucket)}
    assert listed["link.txt"].type == "Symlink"
    assert listed["link.txt"].storage_class == "IA"


def test_put_symlink_honours_acl_tags_and_metadata(ctx, bucket):
    bucket.put_object("t2", b"data")
    bucket.put_symlink("t2", "l2", headers={
        "x-oss-object-acl": "public-read",
        "x-oss-tagging": "k1=v1&k%202=v%202",
        "x-oss-meta-owner": "me",
        "Content-Type": "image/png",
    })
    assert bucket.get_object_acl("l2").acl == "public-read"
    assert bucket.get_object_acl("t2").acl == "default"
    tags = bucket.get_object_tagging("l2").tag_set.tagging_rule
    assert tags == {"k1": "v1", "k 2": "v 2"}
    assert bucket.get_object_tagging("t2").tag_set.tagging_rule == {}
    head = bucket.head_object("l2")
    assert head.headers["x-oss-tagging-count"] == "2"
    assert head.headers["x-oss-meta-owner"] == "me"
    assert head.content_type == "image/png"
    got = bucket.get_symlink("l2")
    assert got.target_key == "t2"
    assert got.headers["x-oss-meta-owner"] == "me"
    # The link's public-read ACL alone does not open the private target.
    anon = ctx.anon_bucket(bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object("l2")
    bucket.put_object_acl("t2", "public-read")
    assert anon.get_object("l2").read() == b"data"


def test_put_symlink_refusals(ctx, bucket):
    bucket.put_object("t3", b"x")
    bucket.put_symlink("t3", "l3")
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.put_symlink("t3", "l3", headers={"x-oss-forbid-overwrite": "true"})
    assert (ei.value.status, ei.value.code) == (409, "FileAlreadyExists")
    for headers, code in (({"x-oss-storage-class": "Gold"}, "InvalidArgument"),
                          ({"x-oss-object-acl": "open"}, "InvalidArgument"),
                          ({"x-oss-tagging": "=no-key"}, "InvalidTag")):
        with pytest.raises(oss2.exceptions.ServerError) as ei:
            bucket.put_symlink("t3", "l3-bad", headers=headers)
        assert (ei.value.status, ei.value.code) == (400, code), headers
        assert not bucket.object_exists("l3-bad")


def test_link_to_a_link_is_invalid_target_type(ctx, bucket):
    bucket.put_object("t4", b"x")
    bucket.put_symlink("t4", "l4")
    # PutSymlink does not look at the target: a link to a link is stored...
    bucket.put_symlink("l4", "l4-of-l4")
    assert bucket.get_symlink("l4-of-l4").target_key == "l4"
    # ...and refused when read through.
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.get_object("l4-of-l4")
    assert (ei.value.status, ei.value.code) == (400, "InvalidTargetType")
    r = ctx.raw("HEAD", bucket.bucket_name, "l4-of-l4")
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidTargetType"
    # A link to itself is the same case.
    bucket.put_symlink("self", "self")
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.get_object("self")
    assert ei.value.code == "InvalidTargetType"


def test_dangling_link(ctx, bucket):
    bucket.put_symlink("nowhere", "dangling")
    with pytest.raises(oss2.exceptions.ServerError) as ei:
        bucket.get_object("dangling")
    assert (ei.value.status, ei.value.code) == (404, "SymlinkTargetNotExist")
    assert bucket.get_symlink("dangling").target_key == "nowhere"


# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def v2(ossify):
    client = make_v2_client(ossify)
    name = unique_bucket_name("v2-symlink")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    yield client, name
    for page in client.list_objects_v2_paginator().iter_page(
            oss.ListObjectsV2Request(bucket=name)):
        for o in page.contents or []:
            client.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
    client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def test_delete_with_symlink_parameter(ctx):
    # DELETE ?symlink is DeleteObject (oss2 passes GetSymlink's params on; the oss2
    # suite's test_put_symlink_with_version deletes link versions so).
    b = ctx.new_bucket("sym-ver")
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    b.put_object("target", b"data")
    link = b.put_symlink("target", "link").versionid
    params = {"versionId": link}
    assert b.get_symlink("link", params=params).target_key == "target"
    assert "symlink" in params  # oss2 added it
    marker = b.delete_object("link").versionid
    r = b.delete_object("link", params=params)
    assert (r.status, r.versionid) == (204, link)
    params["versionId"] = marker
    assert b.delete_object("link", params=params).status == 204
    assert [v.key for v in b.list_object_versions().versions] == ["target"]
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.get_symlink("link")


def test_v2_symlink(v2):
    client, name = v2
    put = client.put_object(oss.PutObjectRequest(bucket=name, key="t", body=b"v2 target"))
    client.put_symlink(oss.PutSymlinkRequest(
        bucket=name, key="l", target="t", acl="private", storage_class="IA",
        metadata={"tier": "gold"}))
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="l"))
    assert head.object_type == "Symlink"
    assert head.storage_class == "IA"
    assert head.metadata == {"tier": "gold"}
    assert head.content_length == len(b"v2 target")
    assert head.etag == put.etag
    # The v2 client checks the CRC-64 of what it downloads.
    got = client.get_object(oss.GetObjectRequest(bucket=name, key="l"))
    assert got.object_type == "Symlink"
    assert got.body.read() == b"v2 target"
    assert client.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="l")).acl == "private"
    sym = client.get_symlink(oss.GetSymlinkRequest(bucket=name, key="l"))
    assert sym.target == "t"
    assert sym.metadata == {"tier": "gold"}

    client.put_symlink(oss.PutSymlinkRequest(bucket=name, key="ll", target="l"))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        client.get_object(oss.GetObjectRequest(bucket=name, key="ll"))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (400, "InvalidTargetType")
