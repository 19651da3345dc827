"""Cross-dialect: what one dialect writes the other reads, lists and deletes — oss2
(V1 and V4 signatures) on one side, boto3 (S3 SigV4, default checksums) on the other:
the same bytes, user metadata (x-oss-meta-* / x-amz-meta-*), Content-* headers, tags,
ACLs, ETags (case aside), multipart ETags and CRC-64."""

import datetime
import os

import pytest

from conftest import ROOT2, Oss2Ctx, crc64, md5_upper
from s3util import buckets, expect_error, md5_hex, multipart_etag, s3_client

MiB = 1024 * 1024

EXPIRES = "Wed, 02 Jan 2030 03:04:05 GMT"


@pytest.fixture(scope="module")
def s3(ossify):
    return s3_client(ossify.hz)


@pytest.fixture(params=["v1", "v4"])
def oss(request, ossify):
    ctx = Oss2Ctx(ossify, request.param)
    yield ctx
    ctx.cleanup()


@pytest.fixture
def pair(oss, buckets):
    """One bucket (made through S3) and its oss2 handle."""
    name = buckets("cross")
    return name, oss.bucket(name)


def tags_of(s3, bucket, key):
    return sorted((t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def grants_of(response):
    return sorted(g["Permission"] for g in response["Grants"])


# ---------------------------------------------------------------------------
# buckets
# ---------------------------------------------------------------------------
def test_bucket_made_by_one_seen_by_other(oss, s3):
    ob = oss.new_bucket("byoss", acl=oss.oss2.BUCKET_ACL_PUBLIC_READ)
    assert s3.head_bucket(Bucket=ob.bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ob.bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert s3.get_bucket_location(Bucket=ob.bucket_name)["LocationConstraint"] == "cn-hangzhou"
    assert grants_of(s3.get_bucket_acl(Bucket=ob.bucket_name)) == ["FULL_CONTROL", "READ"]
    s3.put_bucket_acl(Bucket=ob.bucket_name, ACL="public-read-write")
    assert ob.get_bucket_acl().acl == "public-read-write"
    s3.delete_bucket(Bucket=ob.bucket_name)
    with pytest.raises(oss.oss2.exceptions.NoSuchBucket):
        ob.get_bucket_info()

    name = "%s-s3made" % ob.bucket_name[:40]
    s3.create_bucket(Bucket=name, ACL="public-read")
    sb = oss.bucket(name)
    try:
        info = sb.get_bucket_info()
        assert info.acl.grant == "public-read"
        assert info.owner.id == oss.env.root1.account_id
        assert sb.get_bucket_location().location == "oss-cn-hangzhou"
        assert name in [b.name for b in oss.service().list_buckets(prefix=name).buckets]
        sb.put_bucket_acl(oss.oss2.BUCKET_ACL_PRIVATE)
        assert grants_of(s3.get_bucket_acl(Bucket=name)) == ["FULL_CONTROL"]
    finally:
        sb.delete_bucket()
    expect_error("404", 404, s3.head_bucket, Bucket=name)


# ---------------------------------------------------------------------------
# objects
# ---------------------------------------------------------------------------
def test_oss_put_s3_read(oss, s3, pair):
    name, ob = pair
    data = os.urandom(4000)
    r = ob.put_object("dir/from oss ü", data, headers={
        "Content-Type": "text/x-oss", "Cache-Control": "no-store",
        "Content-Disposition": "attachment", "Content-Encoding": "identity",
        "Content-Language": "zh-CN", "Expires": EXPIRES,
        "x-oss-meta-Color": "red", "x-oss-meta-empty": "", "x-oss-tagging": "a=1&b=2",
        "x-oss-object-acl": "public-read"})
    assert r.etag == md5_upper(data)
    g = s3.get_object(Bucket=name, Key="dir/from oss ü")
    assert g["Body"].read() == data
    assert g["ETag"] == '"%s"' % md5_hex(data)
    assert g["ETag"].strip('"').upper() == r.etag
    assert g["ContentType"] == "text/x-oss"
    assert g["CacheControl"] == "no-store"
    assert g["ContentDisposition"] == "attachment"
    assert g["ContentEncoding"] == "identity"
    assert g["ContentLanguage"] == "zh-CN"
    assert g["Expires"] == datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert g["Metadata"] == {"color": "red", "empty": ""}
    assert g["TagCount"] == 2
    assert g["ResponseMetadata"]["HTTPHeaders"]["x-oss-hash-crc64ecma"] == str(crc64(data))
    assert tags_of(s3, name, "dir/from oss ü") == [("a", "1"), ("b", "2")]
    assert grants_of(s3.get_object_acl(Bucket=name, Key="dir/from oss ü")) == ["FULL_CONTROL", "READ"]
    listed = s3.list_objects_v2(Bucket=name, Prefix="dir/")["Contents"]
    assert [(o["Key"], o["Size"], o["ETag"]) for o in listed] == [
        ("dir/from oss ü", 4000, '"%s"' % md5_hex(data))]
    s3.delete_object(Bucket=name, Key="dir/from oss ü")
    assert not ob.object_exists("dir/from oss ü")


def test_s3_put_oss_read(oss, s3, pair):
    name, ob = pair
    data = os.urandom(5000)
    p = s3.put_object(Bucket=name, Key="from s3/ü", Body=data, ContentType="text/x-s3",
                      CacheControl="max-age=5", ContentDisposition="inline",
                      ContentEncoding="identity", ContentLanguage="en",
                      Expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
                      Metadata={"Shape": "round", "blank": ""}, Tagging="x=1&y=two",
                      ACL="public-read")
    g = ob.get_object("from s3/ü")
    assert g.read() == data
    h = g.headers
    assert g.etag == md5_upper(data) == p["ETag"].strip('"').upper()
    assert h["Content-Type"] == "text/x-s3"
    assert h["Cache-Control"] == "max-age=5"
    assert h["Content-Disposition"] == "inline"
    assert h["Content-Encoding"] == "identity"
    assert h["Content-Language"] == "en"
    assert h["Expires"] == EXPIRES
    assert h["x-oss-meta-shape"] == "round" and h["x-oss-meta-blank"] == ""
    assert int(h["x-oss-hash-crc64ecma"]) == crc64(data)
    assert h["x-oss-tagging-count"] == "2"
    assert ob.get_object_tagging("from s3/ü").tag_set.tagging_rule == {"x": "1", "y": "two"}
    assert ob.get_object_acl("from s3/ü").acl == "public-read"
    assert ob.head_object("from s3/ü").content_length == 5000
    assert [o.key for o in ob.list_objects_v2(prefix="from").object_list] == ["from s3/ü"]
    assert [(o.key, o.etag) for o in ob.list_objects(prefix="from").object_list] == [
        ("from s3/ü", md5_upper(data))]
    ob.delete_object("from s3/ü")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=name, Key="from s3/ü")


def test_empty_object_and_append(oss, s3, pair):
    name, ob = pair
    ob.put_object("empty", b"")
    g = s3.get_object(Bucket=name, Key="empty")
    assert g["Body"].read() == b"" and g["ETag"] == '"%s"' % md5_hex(b"")
    r = ob.append_object("appended", 0, b"first ")
    ob.append_object("appended", r.next_position, b"second")
    g = s3.get_object(Bucket=name, Key="appended")
    assert g["Body"].read() == b"first second"
    assert int(g["ResponseMetadata"]["HTTPHeaders"]["x-oss-hash-crc64ecma"]) == crc64(b"first second")
    assert s3.get_object(Bucket=name, Key="appended", Range="bytes=6-")["Body"].read() == b"second"


def test_tags_and_acls_both_ways(oss, s3, pair):
    name, ob = pair
    oss2 = oss.oss2
    ob.put_object("t", b"tagged")
    rule = oss2.models.TaggingRule()
    rule.add("from", "oss")
    ob.put_object_tagging("t", oss2.models.Tagging(rule))
    assert tags_of(s3, name, "t") == [("from", "oss")]
    s3.put_object_tagging(Bucket=name, Key="t", Tagging={"TagSet": [{"Key": "from", "Value": "s3"},
                                                                    {"Key": "k", "Value": "v"}]})
    assert ob.get_object_tagging("t").tag_set.tagging_rule == {"from": "s3", "k": "v"}
    s3.delete_object_tagging(Bucket=name, Key="t")
    assert ob.get_object_tagging("t").tag_set.tagging_rule == {}

    assert ob.get_object_acl("t").acl == "default"
    s3.put_object_acl(Bucket=name, Key="t", ACL="public-read-write")
    assert ob.get_object_acl("t").acl == "public-read-write"
    ob.put_object_acl("t", oss2.OBJECT_ACL_PRIVATE)
    assert grants_of(s3.get_object_acl(Bucket=name, Key="t")) == ["FULL_CONTROL"]
    ob.put_object_acl("t", oss2.OBJECT_ACL_PUBLIC_READ)
    assert grants_of(s3.get_object_acl(Bucket=name, Key="t")) == ["FULL_CONTROL", "READ"]


def test_copy_across_dialects(oss, s3, pair):
    name, ob = pair
    ob.put_object("oss-src", b"oss source", headers={"x-oss-meta-m": "1", "Content-Type": "a/b",
                                                      "x-oss-tagging": "t=1"})
    s3.copy_object(Bucket=name, Key="s3-copy", CopySource={"Bucket": name, "Key": "oss-src"})
    h = ob.head_object("s3-copy").headers
    assert h["x-oss-meta-m"] == "1" and h["Content-Type"] == "a/b"
    assert ob.get_object("s3-copy").read() == b"oss source"
    assert ob.get_object_tagging("s3-copy").tag_set.tagging_rule == {"t": "1"}
    s3.put_object(Bucket=name, Key="s3-src", Body=b"s3 source", Metadata={"n": "2"})
    ob.copy_object(name, "s3-src", "oss-copy")
    g = s3.get_object(Bucket=name, Key="oss-copy")
    assert g["Body"].read() == b"s3 source" and g["Metadata"] == {"n": "2"}
    assert g["ETag"] == '"%s"' % md5_hex(b"s3 source")


def test_delete_across_dialects(oss, s3, pair):
    name, ob = pair
    for k in ("a", "b", "c"):
        ob.put_object(k, k.encode())
    r = s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "a"}, {"Key": "b"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["a", "b"]
    assert [o.key for o in ob.list_objects().object_list] == ["c"]
    for k in ("x", "y"):
        s3.put_object(Bucket=name, Key=k, Body=b"s3")
    r = ob.batch_delete_objects(["x", "y", "c"])
    assert sorted(r.deleted_keys) == ["c", "x", "y"]
    assert "Contents" not in s3.list_objects_v2(Bucket=name)


# ---------------------------------------------------------------------------
# multipart
# ---------------------------------------------------------------------------
def test_oss_multipart_s3_read(oss, s3, pair):
    name, ob = pair
    oss2 = oss.oss2
    parts = [os.urandom(5 * MiB), os.urandom(3 * MiB), b"end"]
    uid = ob.init_multipart_upload("mp", headers={"x-oss-meta-mp": "yes",
                                                  "Content-Type": "video/mp"}).upload_id
    # The upload is visible and its parts listed through S3 before completion.
    infos = []
    for i, p in enumerate(parts):
        infos.append(oss2.models.PartInfo(i + 1, ob.upload_part("mp", uid, i + 1, p).etag))
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=name)["Uploads"]] == [uid]
    listed = s3.list_parts(Bucket=name, Key="mp", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed] == [
        (i + 1, len(p), '"%s"' % md5_hex(p)) for i, p in enumerate(parts)]
    ob.complete_multipart_upload("mp", uid, infos)
    h = s3.head_object(Bucket=name, Key="mp")
    assert h["ETag"] == multipart_etag(parts)
    assert h["ContentType"] == "video/mp" and h["Metadata"] == {"mp": "yes"}
    assert int(h["ResponseMetadata"]["HTTPHeaders"]["x-oss-hash-crc64ecma"]) == crc64(b"".join(parts))
    p2 = s3.get_object(Bucket=name, Key="mp", PartNumber=2)
    assert p2["PartsCount"] == 3 and p2["Body"].read() == parts[1]
    assert s3.get_object(Bucket=name, Key="mp")["Body"].read() == b"".join(parts)


def test_s3_multipart_oss_read(oss, s3, pair):
    name, ob = pair
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    uid = s3.create_multipart_upload(Bucket=name, Key="smp", Metadata={"k": "v"},
                                     ContentType="x/y")["UploadId"]
    done = []
    for i, p in enumerate(parts):
        e = s3.upload_part(Bucket=name, Key="smp", UploadId=uid, PartNumber=i + 1, Body=p)["ETag"]
        done.append({"PartNumber": i + 1, "ETag": e})
    ups = ob.list_multipart_uploads().upload_list
    assert [(u.key, u.upload_id) for u in ups] == [("smp", uid)]
    assert [(p.part_number, p.size, p.etag) for p in ob.list_parts("smp", uid).parts] == [
        (i + 1, len(p), md5_upper(p)) for i, p in enumerate(parts)]
    c = s3.complete_multipart_upload(Bucket=name, Key="smp", UploadId=uid,
                                     MultipartUpload={"Parts": done})
    g = ob.get_object("smp")
    assert g.read() == b"".join(parts)
    assert '"%s"' % g.etag.lower() == c["ETag"] == multipart_etag(parts)
    assert g.headers["x-oss-object-type"] == "Multipart"
    assert int(g.headers["x-oss-hash-crc64ecma"]) == crc64(b"".join(parts))
    assert g.headers["x-oss-meta-k"] == "v" and g.headers["Content-Type"] == "x/y"


def test_abort_across_dialects(oss, s3, pair):
    name, ob = pair
    uid = ob.init_multipart_upload("ab").upload_id
    s3.abort_multipart_upload(Bucket=name, Key="ab", UploadId=uid)
    assert ob.list_multipart_uploads().upload_list == []
    uid = s3.create_multipart_upload(Bucket=name, Key="ab2")["UploadId"]
    ob.abort_multipart_upload("ab2", uid)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=name)


def test_upload_part_copy_from_oss_object(oss, s3, pair):
    name, ob = pair
    src = os.urandom(6 * MiB)
    ob.put_object("src", src)
    uid = s3.create_multipart_upload(Bucket=name, Key="pc")["UploadId"]
    e1 = s3.upload_part_copy(Bucket=name, Key="pc", UploadId=uid, PartNumber=1,
                             CopySource={"Bucket": name, "Key": "src"},
                             CopySourceRange="bytes=0-%d" % (5 * MiB - 1))["CopyPartResult"]["ETag"]
    e2 = s3.upload_part_copy(Bucket=name, Key="pc", UploadId=uid, PartNumber=2,
                             CopySource={"Bucket": name, "Key": "src"},
                             CopySourceRange="bytes=%d-%d" % (5 * MiB, 6 * MiB - 1))["CopyPartResult"]["ETag"]
    s3.complete_multipart_upload(Bucket=name, Key="pc", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert ob.get_object("pc").read() == src


# ---------------------------------------------------------------------------
# access: the same ACLs decide for both dialects
# ---------------------------------------------------------------------------
def test_acl_set_by_one_enforced_for_other(oss, s3, ossify, pair):
    name, ob = pair
    other_s3 = s3_client(ossify.hz, keys=ROOT2)
    other_oss = oss.bucket(name, keys=ROOT2)
    ob.put_object("k", b"guarded")
    expect_error("AccessDenied", 403, other_s3.get_object, Bucket=name, Key="k")
    ob.put_object_acl("k", oss.oss2.OBJECT_ACL_PUBLIC_READ)
    assert other_s3.get_object(Bucket=name, Key="k")["Body"].read() == b"guarded"
    s3.put_object_acl(Bucket=name, Key="k", ACL="private")
    with pytest.raises(oss.oss2.exceptions.AccessDenied):
        other_oss.get_object("k")
    s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    other_oss.put_object("w", b"written by root2 over OSS")
    assert s3.get_object(Bucket=name, Key="w")["Body"].read() == b"written by root2 over OSS"
