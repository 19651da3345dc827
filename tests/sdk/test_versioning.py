"""Bucket versioning as OSS (and S3) serve it, through oss2 (V1 and V4), the v2 SDK and
boto3 on the same data.

* Put/GetBucketVersioning: no Status until versioning is first enabled; then Enabled or
  Suspended (never back to unversioned).
* Every write to a versioned bucket answers `x-oss-version-id`; the previous object stays
  as a noncurrent version. Objects written before versioning are the `null` version.
* DELETE without versionId leaves a delete marker (`x-oss-delete-marker: true`); with
  versionId it removes that version for good, and the newest remaining version (unless a
  delete marker) becomes current again.
* While suspended, writes and deletes make the `null` version, replacing the previous
  `null` version.
* GET/HEAD/GetObjectMeta/ACL/tagging and copy sources take `versionId`; a missing version
  is 404 NoSuchVersion, a malformed one 400 InvalidArgument, a delete marker 405
  MethodNotAllowed.
"""

import base64
import datetime
import hashlib
import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BatchDeleteObjectVersion, BatchDeleteObjectVersionList, BucketVersioningConfig

from conftest import HZ, Oss2Ctx, error_of, make_image, make_v2_client, v2_service_error
from s3util import expect_error, s3_client


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


def versioning(bucket, status):
    config = BucketVersioningConfig()
    config.status = status
    assert bucket.put_bucket_versioning(config).status == 200


@pytest.fixture
def vbucket(ctx):
    b = ctx.new_bucket("ver")
    versioning(b, "Enabled")
    return b


def test_configuration_round_trip_and_errors(ctx):
    b = ctx.new_bucket("vercfg")
    assert b.get_bucket_versioning().status is None
    assert b.get_bucket_info().versioning_status is None
    versioning(b, "Enabled")
    assert b.get_bucket_versioning().status == "Enabled"
    assert b.get_bucket_info().versioning_status == "Enabled"
    versioning(b, "Suspended")
    assert b.get_bucket_versioning().status == "Suspended"
    for body in (b"<VersioningConfiguration><Status>Off</Status></VersioningConfiguration>",
                 b"<VersioningConfiguration></VersioningConfiguration>", b"<Versioning"):
        headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
        resp = ctx.raw("PUT", b.bucket_name, params={"versioning": ""}, data=body,
                       headers=headers)
        assert resp.status_code == 400
        assert error_of(resp)["Code"] == "MalformedXML"
    assert b.get_bucket_versioning().status == "Suspended"


def test_versions_of_a_key(ctx, vbucket):
    b = vbucket
    r1 = b.put_object("k", b"one")
    r2 = b.put_object("k", b"two")
    assert r1.versionid and r2.versionid and r1.versionid != r2.versionid
    assert b.get_object("k").read() == b"two"
    old = b.get_object("k", params={"versionId": r1.versionid})
    assert old.read() == b"one"
    assert old.headers["x-oss-version-id"] == r1.versionid
    head = b.head_object("k", params={"versionId": r1.versionid})
    assert head.content_length == 3 and head.versionid == r1.versionid
    meta = b.get_object_meta("k", params={"versionId": r1.versionid})
    assert meta.headers["x-oss-version-id"] == r1.versionid
    assert b.head_object("k").versionid == r2.versionid
    # The current listing shows the latest version only.
    assert [o.key for o in oss2.ObjectIterator(b)] == ["k"]
    listed = b.list_object_versions()
    assert [(v.versionid, v.is_latest) for v in listed.versions] == [
        (r2.versionid, True), (r1.versionid, False)]
    assert [v.size for v in listed.versions] == [3, 3]
    assert listed.versions[0].etag == hashlib.md5(b"two").hexdigest().upper()


def test_delete_marker_and_undelete(ctx, vbucket):
    b = vbucket
    r1 = b.put_object("gone", b"data")
    d = b.delete_object("gone")
    assert d.status == 204 and d.delete_marker is True
    assert d.versionid and d.versionid != r1.versionid
    with pytest.raises(oss2.exceptions.NoSuchKey) as excinfo:
        b.get_object("gone")
    assert excinfo.value.headers["x-oss-delete-marker"] == "true"
    assert excinfo.value.headers["x-oss-version-id"] == d.versionid
    assert not b.object_exists("gone")
    assert [o.key for o in oss2.ObjectIterator(b)] == []
    listed = b.list_object_versions()
    assert [(m.key, m.versionid, m.is_latest) for m in listed.delete_marker] == [
        ("gone", d.versionid, True)]
    assert [(v.versionid, v.is_latest) for v in listed.versions] == [(r1.versionid, False)]
    # The old version is still readable by id.
    assert b.get_object("gone", params={"versionId": r1.versionid}).read() == b"data"
    # Reading the marker by its id is refused with 405 (EC 0017-00000002), saying it is a
    # marker; HEAD gets the same status without a body.
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.get_object("gone", params={"versionId": d.versionid})
    e = excinfo.value
    assert (e.status, e.code, e.ec) == (405, "MethodNotAllowed", "0017-00000002")
    assert e.message == "The specified method is not allowed against this resource."
    assert e.headers["x-oss-delete-marker"] == "true"
    assert e.headers["x-oss-version-id"] == d.versionid
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.head_object("gone", params={"versionId": d.versionid})
    assert excinfo.value.status == 405
    assert excinfo.value.headers["x-oss-delete-marker"] == "true"
    # The marker is still there: reading by its id changed nothing.
    assert [m.versionid for m in b.list_object_versions().delete_marker] == [d.versionid]
    # Removing the marker brings the object back.
    r = b.delete_object("gone", params={"versionId": d.versionid})
    assert r.status == 204 and r.delete_marker is True and r.versionid == d.versionid
    assert b.get_object("gone").read() == b"data"


def test_permanent_delete_promotes_the_previous_version(ctx, vbucket):
    b = vbucket
    r1 = b.put_object("p", b"first")
    r2 = b.put_object("p", b"second")
    r = b.delete_object("p", params={"versionId": r2.versionid})
    assert r.status == 204 and r.versionid == r2.versionid and not r.delete_marker
    assert b.get_object("p").read() == b"first"
    assert b.head_object("p").versionid == r1.versionid
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.get_object("p", params={"versionId": r2.versionid})
    assert excinfo.value.status == 404 and excinfo.value.code == "NoSuchVersion"
    # Deleting a version that does not exist succeeds, as OSS answers.
    assert b.delete_object("p", params={"versionId": r2.versionid}).status == 204
    # An id in real OSS's form names no version here.
    with pytest.raises(oss2.exceptions.OssError) as excinfo:
        b.get_object("p", params={"versionId": "CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0"})
    assert (excinfo.value.status, excinfo.value.code) == (404, "NoSuchVersion")
    # A malformed version id is refused before anything is looked up.
    for call in (lambda: b.get_object("p", params={"versionId": "not-a-version"}),
                 lambda: b.delete_object("p", params={"versionId": "../x"})):
        with pytest.raises(oss2.exceptions.OssError) as excinfo:
            call()
        assert (excinfo.value.status, excinfo.value.code) == (400, "InvalidArgument")
    assert b.get_object("p").read() == b"first"


def test_null_version_and_suspension(ctx):
    b = ctx.new_bucket("vernull")
    b.put_object("n", b"before versioning")
    versioning(b, "Enabled")
    r1 = b.put_object("n", b"versioned")
    ids = [(v.versionid, v.is_latest) for v in b.list_object_versions().versions]
    assert ids == [(r1.versionid, True), ("null", False)]
    assert b.get_object("n", params={"versionId": "null"}).read() == b"before versioning"
    versioning(b, "Suspended")
    s1 = b.put_object("n", b"suspended one")
    assert s1.versionid == "null"
    s2 = b.put_object("n", b"suspended two")
    assert s2.versionid == "null"
    # The null version was replaced each time; the real version stays.
    listed = b.list_object_versions().versions
    assert [(v.versionid, v.is_latest) for v in listed] == [("null", True), (r1.versionid, False)]
    assert b.get_object("n", params={"versionId": "null"}).read() == b"suspended two"
    # A delete while suspended leaves a null delete marker in place of the null version.
    d = b.delete_object("n")
    assert d.delete_marker is True and d.versionid == "null"
    listed = b.list_object_versions()
    assert [(m.versionid, m.is_latest) for m in listed.delete_marker] == [("null", True)]
    assert [v.versionid for v in listed.versions] == [r1.versionid]


def test_copy_from_a_version_and_version_sub_resources(ctx, vbucket):
    b = vbucket
    r1 = b.put_object("src", b"old bytes")
    b.put_object("src", b"new bytes")
    c = b.copy_object(b.bucket_name, "src", "dst", params={"versionId": r1.versionid})
    assert c.headers["x-oss-copy-source-version-id"] == r1.versionid
    assert c.versionid
    assert b.get_object("dst").read() == b"old bytes"
    # Copying a version onto its own key makes it the newest version.
    again = b.copy_object(b.bucket_name, "src", "src", params={"versionId": r1.versionid})
    assert b.get_object("src").read() == b"old bytes"
    assert len(b.list_object_versions(prefix="src").versions) == 3
    # The copy does not share bytes with its source: removing the source keeps it.
    b.delete_object("src", params={"versionId": r1.versionid})
    assert b.get_object("src", params={"versionId": again.versionid}).read() == b"old bytes"
    # ACL and tags of one version.
    r = b.put_object_acl("dst", oss2.OBJECT_ACL_PUBLIC_READ, params={"versionId": c.versionid})
    assert r.status == 200
    assert b.get_object_acl("dst", params={"versionId": c.versionid}).acl == "public-read"
    tags = oss2.models.Tagging(oss2.models.TaggingRule())
    tags.tag_set.add("state", "kept")
    b.put_object_tagging("dst", tags, params={"versionId": c.versionid})
    got = b.get_object_tagging("dst", params={"versionId": c.versionid})
    assert got.tag_set.tagging_rule == {"state": "kept"}
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.get_object_tagging("dst", params={"versionId": r1.versionid})
    assert (excinfo.value.status, excinfo.value.code) == (404, "NoSuchVersion")


def test_batch_delete_with_and_without_versions(ctx, vbucket):
    b = vbucket
    a1 = b.put_object("a", b"a1")
    b.put_object("a", b"a2")
    c1 = b.put_object("c", b"c1")
    result = b.batch_delete_objects(["a"])
    # Without versions: delete markers.
    assert result.deleted_keys == ["a"]
    marker = result.delete_versions[0]
    assert marker.delete_marker is True and marker.delete_marker_versionid
    versions = BatchDeleteObjectVersionList()
    versions.append(BatchDeleteObjectVersion("a", a1.versionid))
    versions.append(BatchDeleteObjectVersion("c", c1.versionid))
    versions.append(BatchDeleteObjectVersion("a", marker.delete_marker_versionid))
    result = b.delete_object_versions(versions)
    got = {(d.key, d.versionid, d.delete_marker) for d in result.delete_versions}
    assert got == {("a", a1.versionid, False), ("c", c1.versionid, False),
                   ("a", marker.delete_marker_versionid, True)}
    assert b.get_object("a").read() == b"a2"
    assert not b.object_exists("c")
    # A malformed VersionId fails the whole request, deleting nothing (oss2 suite:
    # test_delete_object_versions_with_invalid_arguments).
    versions = BatchDeleteObjectVersionList()
    versions.append(BatchDeleteObjectVersion("a"))
    versions.append(BatchDeleteObjectVersion("a", "234"))
    with pytest.raises(oss2.exceptions.InvalidArgument) as e:
        b.delete_object_versions(versions)
    assert (e.value.status, e.value.details.get("ArgumentName")) == (400, "versionId")
    assert b.get_object("a").read() == b"a2"


def test_listing_pages_and_delimiter(ctx, vbucket):
    b = vbucket
    made = {}
    for key in ("dir/x", "dir/y", "file"):
        made[key] = [b.put_object(key, key.encode() + b"%d" % i).versionid for i in range(3)]
    b.delete_object("file")
    whole = b.list_object_versions(max_keys=1000)
    seen, key_marker, id_marker = [], "", ""
    while True:
        page = b.list_object_versions(max_keys=2, key_marker=key_marker,
                                      versionid_marker=id_marker)
        assert len(page.versions) + len(page.delete_marker) <= 2
        seen += [(v.key, v.versionid) for v in page.versions]
        seen += [(m.key, m.versionid) for m in page.delete_marker]
        if not page.is_truncated:
            break
        key_marker, id_marker = page.next_key_marker, page.next_versionid_marker
    everything = [(v.key, v.versionid) for v in whole.versions]
    everything += [(m.key, m.versionid) for m in whole.delete_marker]
    assert sorted(seen) == sorted(everything)
    assert len(everything) == 10
    rolled = b.list_object_versions(delimiter="/")
    assert rolled.common_prefix == ["dir/"]
    assert [v.key for v in rolled.versions] == ["file"] * 3
    assert [m.key for m in rolled.delete_marker] == ["file"]
    # Each key's versions come newest first.
    assert [v.versionid for v in whole.versions if v.key == "dir/x"] == made["dir/x"][::-1]
    # A version marker without a key marker is refused.
    resp = ctx.raw("GET", b.bucket_name, params={"versions": "", "version-id-marker": "null"})
    assert resp.status_code == 400 and error_of(resp)["Code"] == "InvalidArgument"


def test_multipart_append_image_and_bucket_deletion(ctx, vbucket):
    b = vbucket
    upload = b.init_multipart_upload("mp")
    part = b.upload_part("mp", upload.upload_id, 1, b"x" * 1024)
    done = b.complete_multipart_upload("mp", upload.upload_id,
                                       [oss2.models.PartInfo(1, part.etag)])
    assert done.versionid
    assert b.head_object("mp").versionid == done.versionid
    # An appendable object of a versioned bucket is its null version.
    appended = b.append_object("log", 0, b"line 1\n")
    assert appended.headers["x-oss-version-id"] == "null"
    b.append_object("log", appended.next_position, b"line 2\n")
    assert b.get_object("log", params={"versionId": "null"}).read() == b"line 1\nline 2\n"
    # Image processing reads the version asked for.
    small = make_image("PNG", size=(40, 20))
    first = b.put_object("img.png", small)
    b.put_object("img.png", make_image("PNG", size=(80, 40)))
    info = b.get_object("img.png", process="image/info",
                        params={"versionId": first.versionid}).read()
    assert b'"ImageWidth": {"value": "40"}' in info or b'"value":"40"' in info.replace(b" ", b"")
    # A bucket with versions left is not empty.
    for key in ("mp", "log", "img.png"):
        b.delete_object(key)
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        b.delete_bucket()


def test_version_rights_are_their_own(ctx, ossify):
    """oss:GetObject does not grant reading an old version (oss:GetObjectVersion)."""
    b = ctx.new_bucket("verauth")
    versioning(b, "Enabled")
    r1 = b.put_object("k", b"one")
    b.put_object("k", b"two")
    policy = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
              '"Principal":["*"],"Resource":["acs:oss:*:*:%s/*"]}]}' % b.bucket_name)
    b.put_bucket_policy(policy)
    anon = ctx.anon_bucket(b.bucket_name)
    assert anon.get_object("k").read() == b"two"
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object("k", params={"versionId": r1.versionid})
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.list_object_versions()


def test_v2_sdk(ossify):
    client = make_v2_client(ossify)
    ctx2 = Oss2Ctx(ossify, "v1")
    bucket = ctx2.new_bucket("verv2").bucket_name
    try:
        client.put_bucket_versioning(oss.PutBucketVersioningRequest(
            bucket=bucket,
            versioning_configuration=oss.VersioningConfiguration(status="Enabled")))
        got = client.get_bucket_versioning(oss.GetBucketVersioningRequest(bucket=bucket))
        assert got.version_status == "Enabled"
        p1 = client.put_object(oss.PutObjectRequest(bucket=bucket, key="k", body=b"one"))
        p2 = client.put_object(oss.PutObjectRequest(bucket=bucket, key="k", body=b"two"))
        assert p1.version_id and p2.version_id and p1.version_id != p2.version_id
        old = client.get_object(oss.GetObjectRequest(bucket=bucket, key="k",
                                                     version_id=p1.version_id))
        assert old.body.read() == b"one" and old.version_id == p1.version_id
        d = client.delete_object(oss.DeleteObjectRequest(bucket=bucket, key="k"))
        assert d.delete_marker is True and d.version_id
        listed = client.list_object_versions(oss.ListObjectVersionsRequest(bucket=bucket))
        assert [(v.version_id, v.is_latest) for v in listed.version] == [
            (p2.version_id, False), (p1.version_id, False)]
        assert [(m.version_id, m.is_latest) for m in listed.delete_marker] == [
            (d.version_id, True)]
        with pytest.raises(oss.exceptions.OperationError) as excinfo:
            client.get_object(oss.GetObjectRequest(bucket=bucket, key="k",
                                                   version_id="f" * 32))
        assert v2_service_error(excinfo).code == "NoSuchVersion"
    finally:
        ctx2.cleanup()


def test_s3_and_cross_dialect(ossify, ctx):
    s3 = s3_client(ossify.endpoint(HZ))
    b = ctx.new_bucket("vers3")
    name = b.bucket_name
    assert "Status" not in s3.get_bucket_versioning(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    assert b.get_bucket_versioning().status == "Enabled"
    o1 = b.put_object("k", b"from oss")
    s1 = s3.put_object(Bucket=name, Key="k", Body=b"from s3")
    assert s1["VersionId"] and s1["VersionId"] != o1.versionid
    got = s3.get_object(Bucket=name, Key="k", VersionId=o1.versionid)
    assert got["Body"].read() == b"from oss" and got["VersionId"] == o1.versionid
    assert b.get_object("k", params={"versionId": s1["VersionId"]}).read() == b"from s3"
    d = s3.delete_object(Bucket=name, Key="k")
    assert d["DeleteMarker"] is True
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=name, Key="k")
    # S3 answers 405 for a delete marker named by id.
    expect_error("MethodNotAllowed", 405, s3.get_object, Bucket=name, Key="k",
                 VersionId=d["VersionId"])
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=name, Key="k",
                 VersionId="0" * 32)
    listed = s3.list_object_versions(Bucket=name)
    assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [
        (s1["VersionId"], False), (o1.versionid, False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [
        (d["VersionId"], True)]
    oss_listed = b.list_object_versions()
    assert [m.versionid for m in oss_listed.delete_marker] == [d["VersionId"]]
    # Copy from a version through S3, delete versions through DeleteObjects.
    c = s3.copy_object(Bucket=name, Key="copy",
                       CopySource={"Bucket": name, "Key": "k", "VersionId": o1.versionid})
    assert c["CopySourceVersionId"] == o1.versionid
    assert b.get_object("copy").read() == b"from oss"
    res = s3.delete_objects(Bucket=name, Delete={"Objects": [
        {"Key": "k", "VersionId": d["VersionId"]}, {"Key": "copy"}]})
    by_key = {e["Key"]: e for e in res["Deleted"]}
    assert by_key["k"]["DeleteMarker"] is True
    assert by_key["copy"]["DeleteMarker"] is True and by_key["copy"]["DeleteMarkerVersionId"]
    assert b.get_object("k").read() == b"from s3"
    # Tags of one version through S3, read through OSS.
    s3.put_object_tagging(Bucket=name, Key="k", VersionId=o1.versionid,
                          Tagging={"TagSet": [{"Key": "v", "Value": "old"}]})
    got = b.get_object_tagging("k", params={"versionId": o1.versionid})
    assert got.tag_set.tagging_rule == {"v": "old"}
    assert b.get_object_tagging("k").tag_set.tagging_rule == {}
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Suspended"
    # S3 names no version on a write while versioning is suspended; OSS says `null`.
    assert "VersionId" not in s3.put_object(Bucket=name, Key="k", Body=b"null")
    assert b.head_object("k").versionid == "null"


def test_lifecycle_of_versions(ctx, vbucket):
    """Expiration hides current objects behind delete markers; lone markers go with
    ExpiredObjectDeleteMarker; NoncurrentVersionExpiration is kept and echoed (its
    timing is checked by the sweeper's unit tests)."""
    from oss2.models import (BucketLifecycle, LifecycleExpiration, LifecycleRule,
                             NoncurrentVersionExpiration)
    b = vbucket
    kept = b.put_object("logs/a", b"a")
    b.put_object("lone", b"x")
    lone = b.delete_object("lone")
    b.delete_object("lone", params={"versionId": b.list_object_versions(
        prefix="lone").versions[0].versionid})
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    rules = [
        LifecycleRule("logs", "logs/", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(created_before_date=tomorrow),
                      noncurrent_version_expiration=NoncurrentVersionExpiration(30)),
        LifecycleRule("markers", "lone", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(expired_detete_marker=True)),
    ]
    b.put_bucket_lifecycle(BucketLifecycle(rules))
    got = {r.id: r for r in b.get_bucket_lifecycle().rules}
    assert got["logs"].noncurrent_version_expiration.noncurrent_days == 30
    assert got["markers"].expiration.expired_detete_marker is True
    deadline = time.time() + 15
    while time.time() < deadline and (
            b.object_exists("logs/a") or b.list_object_versions(prefix="lone").delete_marker):
        time.sleep(0.3)
    assert not b.object_exists("logs/a")
    listed = b.list_object_versions(prefix="logs/")
    assert [(v.versionid, v.is_latest) for v in listed.versions] == [(kept.versionid, False)]
    assert [m.is_latest for m in listed.delete_marker] == [True]
    assert b.list_object_versions(prefix="lone").delete_marker == []
    assert lone.versionid
    # ExpiredObjectDeleteMarker cannot be combined with Days.
    body = (b"<LifecycleConfiguration><Rule><ID>x</ID><Prefix></Prefix><Status>Enabled</Status>"
            b"<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"
            b"</Expiration></Rule></LifecycleConfiguration>")
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    resp = ctx.raw("PUT", b.bucket_name, params={"lifecycle": ""}, data=body, headers=headers)
    assert resp.status_code == 400 and error_of(resp)["Code"] == "InvalidArgument"
    assert {r.id for r in b.get_bucket_lifecycle().rules} == {"logs", "markers"}


def test_forbid_overwrite_is_ignored_in_versioned_buckets(ctx, vbucket):
    """OSS: x-oss-forbid-overwrite has no effect once a bucket has had versioning (a
    write never replaces a version there)."""
    b = vbucket
    first = b.put_object("k", b"one", headers={"x-oss-forbid-overwrite": "true"})
    second = b.put_object("k", b"two", headers={"x-oss-forbid-overwrite": "true"})
    assert first.versionid != second.versionid
    assert b.get_object("k").read() == b"two"
    plain = ctx.new_bucket("verforbid")
    plain.put_object("k", b"one")
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        plain.put_object("k", b"two", headers={"x-oss-forbid-overwrite": "true"})
    assert (excinfo.value.status, excinfo.value.code) == (409, "FileAlreadyExists")


def test_s3_listing_resumes_after_a_removed_version_and_rb_aborts_uploads(ossify):
    """S3 clients page versions while deleting them (the version-id-marker may name a
    version already gone), and S3 DeleteBucket aborts unfinished uploads (OSS refuses
    with BucketNotEmpty)."""
    s3 = s3_client(ossify.endpoint(HZ))
    name = "vers3rb-%d" % int(time.time() * 1000)
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=name, Key="k", Body=b"%d" % i)["VersionId"] for i in range(3)]
    page = s3.list_object_versions(Bucket=name, MaxKeys=1)
    marker = page["NextVersionIdMarker"]
    s3.delete_object(Bucket=name, Key="k", VersionId=marker)
    rest = s3.list_object_versions(Bucket=name, KeyMarker="k", VersionIdMarker=marker)
    assert [v["VersionId"] for v in rest["Versions"]] == ids[:2][::-1]
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=name, Key="n", Body=b"null version")
    s3.delete_object(Bucket=name, Key="n", VersionId="null")
    after_null = s3.list_object_versions(Bucket=name, KeyMarker="n", VersionIdMarker="null")
    assert after_null.get("Versions", []) == []
    for v in ids[:2]:
        s3.delete_object(Bucket=name, Key="k", VersionId=v)
    s3.create_multipart_upload(Bucket=name, Key="pending")
    s3.delete_bucket(Bucket=name)
    expect_error("NoSuchBucket", 404, s3.get_object, Bucket=name, Key="k")
