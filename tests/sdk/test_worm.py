"""Retention policies (WORM) with oss2 (V1 and V4) and alibabacloud-oss-v2:
InitiateBucketWorm, AbortBucketWorm, CompleteBucketWorm, ExtendBucketWorm,
GetBucketWorm, and their effect: protected objects are neither overwritten nor deleted
(through the OSS or the S3 dialect, or by lifecycle expiration)."""

import datetime
import re
import time

import oss2
import pytest
from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule

from conftest import HZ, ROOT1, make_v2_client, signed_request, unique_bucket_name, v2_service_error
from s3util import expect_error, s3_client

WORM_ID = re.compile(r"^[0-9A-F]{32}$")


@pytest.fixture
def bucket(ossify, auth):
    """A fresh bucket; an unlocked policy is aborted afterwards so it can be emptied
    (a locked one keeps its protected objects: the bucket is left in place)."""
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("worm"), region="cn-hangzhou")
    b.create_bucket()
    yield b
    try:
        if b.get_bucket_worm().state == "Locked":
            return
        b.abort_bucket_worm()
    except oss2.exceptions.NoSuchWORMConfiguration:
        pass
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


def xml(root, days):
    return "<%s><RetentionPeriodInDays>%s</RetentionPeriodInDays></%s>" % (root, days, root)


def test_policy_lifecycle(bucket):
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration) as e:
        bucket.get_bucket_worm()
    assert e.value.status == 404
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    worm_id = bucket.init_bucket_worm(3).worm_id
    assert WORM_ID.match(worm_id)
    got = bucket.get_bucket_worm()
    assert (got.worm_id, got.state, got.retention_period_days) == (worm_id, "InProgress", 3)
    created = datetime.datetime.strptime(got.creation_date, "%Y-%m-%dT%H:%M:%S")
    assert abs((created - started).total_seconds()) <= 2

    # Only a locked policy is extended; an unlocked one is aborted before another starts.
    with pytest.raises(oss2.exceptions.InvalidWORMConfiguration) as e:
        bucket.extend_bucket_worm(worm_id, 5)
    assert e.value.status == 400
    with pytest.raises(oss2.exceptions.InvalidWORMConfiguration):
        bucket.init_bucket_worm(4)
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.complete_bucket_worm("0" * 32)
    assert bucket.get_bucket_worm().state == "InProgress"

    assert bucket.abort_bucket_worm().status == 204
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.get_bucket_worm()
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.abort_bucket_worm()

    worm_id = bucket.init_bucket_worm(1).worm_id
    assert bucket.complete_bucket_worm(worm_id).status == 200
    assert bucket.get_bucket_worm().state == "Locked"
    with pytest.raises(oss2.exceptions.WORMConfigurationLocked) as e:
        bucket.abort_bucket_worm()
    assert e.value.status == 403
    with pytest.raises(oss2.exceptions.WORMConfigurationLocked):
        bucket.init_bucket_worm(9)
    # Never as long or shorter.
    with pytest.raises(oss2.exceptions.InvalidWORMConfiguration):
        bucket.extend_bucket_worm(worm_id, 1)
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.extend_bucket_worm("0" * 32, 5)
    bucket.extend_bucket_worm(worm_id, 2)
    got = bucket.get_bucket_worm()
    assert (got.worm_id, got.state, got.retention_period_days) == (worm_id, "Locked", 2)


def test_bad_requests_change_nothing(ossify, bucket, auth):
    endpoint = ossify.endpoint(HZ)

    def post(params, body):
        return signed_request(auth, "POST", endpoint, bucket.bucket_name, params=params, data=body)

    for days in ("0", "25551", "-1", "ten"):
        r = post({"worm": ""}, xml("InitiateWormConfiguration", days))
        assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text, r.text
        assert "<ArgumentName>RetentionPeriodInDays</ArgumentName>" in r.text
    for body in ("<InitiateWormConfiguration>", "<Other><RetentionPeriodInDays>1</RetentionPeriodInDays></Other>",
                 "<InitiateWormConfiguration/>"):
        r = post({"worm": ""}, body)
        assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text, (body, r.text)
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.get_bucket_worm()

    worm_id = bucket.init_bucket_worm(25550).worm_id
    bucket.complete_bucket_worm(worm_id)
    for days in ("25551", "x"):
        r = post({"wormId": worm_id, "wormExtend": ""}, xml("ExtendWormConfiguration", days))
        assert r.status_code == 400 and "<Code>InvalidArgument</Code>" in r.text
    got = bucket.get_bucket_worm()
    assert (got.worm_id, got.state, got.retention_period_days) == (worm_id, "Locked", 25550)


def test_protected_objects_are_not_overwritten_or_deleted(ossify, bucket):
    bucket.put_object("before", b"old")
    bucket.append_object("app", 0, b"1")
    worm_id = bucket.init_bucket_worm(1).worm_id

    for call in (lambda: bucket.delete_object("before"),
                 lambda: bucket.put_object("before", b"new"),
                 lambda: bucket.copy_object(bucket.bucket_name, "app", "before"),
                 lambda: bucket.append_object("app", 1, b"2"),
                 lambda: bucket.put_symlink("app", "before")):
        with pytest.raises(oss2.exceptions.ServerError) as e:
            call()
        assert (e.value.status, e.value.code) == (409, "FileImmutable"), e.value
        assert e.value.ec == "0026-00000005"
    upload = bucket.init_multipart_upload("before").upload_id
    part = bucket.upload_part("before", upload, 1, b"part")
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.complete_multipart_upload("before", upload, [oss2.models.PartInfo(1, part.etag)])
    assert e.value.code == "FileImmutable"
    bucket.abort_multipart_upload("before", upload)
    # DeleteMultipleObjects reports the key as not deleted.
    assert bucket.batch_delete_objects(["before"]).deleted_keys == []

    assert bucket.get_object("before").read() == b"old"
    assert bucket.get_object("app").read() == b"1"
    # New keys are written freely (and are protected in turn); ACL and tags may change.
    bucket.put_object("new", b"n")
    bucket.put_object_acl("new", oss2.OBJECT_ACL_PUBLIC_READ)
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.delete_object("new")
    assert e.value.code == "FileImmutable"

    # The bucket cannot go while it holds protected objects.
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()

    # Aborting the unlocked policy lifts the protection.
    bucket.abort_bucket_worm()
    bucket.put_object("before", b"new")
    assert bucket.get_object("before").read() == b"new"
    bucket.delete_object("before")
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.complete_bucket_worm(worm_id)


def test_s3_dialect_obeys_the_policy(ossify, bucket):
    bucket.put_object("k", b"v")
    bucket.init_bucket_worm(1)
    s3 = s3_client(ossify.endpoint(HZ))
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket.bucket_name, Key="k")
    expect_error("AccessDenied", 403, s3.put_object, Bucket=bucket.bucket_name, Key="k", Body=b"x")
    assert bucket.get_object("k").read() == b"v"
    s3.put_object(Bucket=bucket.bucket_name, Key="s3-new", Body=b"x")
    assert bucket.get_object("s3-new").read() == b"x"


def test_lifecycle_keeps_protected_objects(bucket):
    bucket.put_object("logs/kept", b"x")
    bucket.init_bucket_worm(1)
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    bucket.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("expire", "logs/", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(created_before_date=tomorrow))]))
    # The sweeper runs every second in the tests: give it a few passes.
    time.sleep(3)
    assert bucket.object_exists("logs/kept")
    bucket.abort_bucket_worm()
    deadline = time.time() + 10
    while time.time() < deadline and bucket.object_exists("logs/kept"):
        time.sleep(0.3)
    assert not bucket.object_exists("logs/kept")


def test_versioning_and_worm_do_not_coexist(ossify, auth):
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("wormv"), region="cn-hangzhou")
    b.create_bucket()
    b.init_bucket_worm(1)
    with pytest.raises(oss2.exceptions.ServerError) as e:
        b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    assert (e.value.status, e.value.code) == (400, "InvalidRequest")
    assert b.get_bucket_versioning().status is None
    b.abort_bucket_worm()
    b.put_bucket_versioning(oss2.models.BucketVersioningConfig("Enabled"))
    with pytest.raises(oss2.exceptions.ServerError) as e:
        b.init_bucket_worm(1)
    assert (e.value.status, e.value.code) == (400, "InvalidRequest")
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        b.get_bucket_worm()
    b.delete_bucket()


def test_v2_sdk(ossify):
    import alibabacloud_oss_v2 as oss
    client = make_v2_client(ossify)
    name = unique_bucket_name("wormv2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    with pytest.raises(Exception) as e:
        client.get_bucket_worm(oss.GetBucketWormRequest(bucket=name))
    err = v2_service_error(e)
    assert (err.status_code, err.code) == (404, "NoSuchWORMConfiguration")

    made = client.initiate_bucket_worm(oss.InitiateBucketWormRequest(
        bucket=name, initiate_worm_configuration=oss.InitiateWormConfiguration(retention_period_in_days=7)))
    assert WORM_ID.match(made.worm_id)
    got = client.get_bucket_worm(oss.GetBucketWormRequest(bucket=name)).worm_configuration
    assert (got.worm_id, got.state, got.retention_period_in_days) == (made.worm_id, "InProgress", 7)

    client.complete_bucket_worm(oss.CompleteBucketWormRequest(bucket=name, worm_id=made.worm_id))
    client.extend_bucket_worm(oss.ExtendBucketWormRequest(
        bucket=name, worm_id=made.worm_id,
        extend_worm_configuration=oss.ExtendWormConfiguration(retention_period_in_days=8)))
    got = client.get_bucket_worm(oss.GetBucketWormRequest(bucket=name)).worm_configuration
    assert (got.state, got.retention_period_in_days) == ("Locked", 8)
    with pytest.raises(Exception) as e:
        client.abort_bucket_worm(oss.AbortBucketWormRequest(bucket=name))
    err = v2_service_error(e)
    assert (err.status_code, err.code) == (403, "WORMConfigurationLocked")

    client.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"v"))
    with pytest.raises(Exception) as e:
        client.delete_object(oss.DeleteObjectRequest(bucket=name, key="k"))
    err = v2_service_error(e)
    assert (err.status_code, err.code) == (409, "FileImmutable")

    # An empty bucket can go with its locked policy.
    empty = unique_bucket_name("wormv2e")
    client.put_bucket(oss.PutBucketRequest(bucket=empty))
    made = client.initiate_bucket_worm(oss.InitiateBucketWormRequest(
        bucket=empty, initiate_worm_configuration=oss.InitiateWormConfiguration(retention_period_in_days=1)))
    client.complete_bucket_worm(oss.CompleteBucketWormRequest(bucket=empty, worm_id=made.worm_id))
    assert client.delete_bucket(oss.DeleteBucketRequest(bucket=empty)).status_code == 204


def test_anonymous_and_other_accounts_are_refused(ossify, bucket):
    r = signed_request(oss2.AnonymousAuth(), "POST", ossify.endpoint(HZ), bucket.bucket_name,
                       params={"worm": ""}, data=xml("InitiateWormConfiguration", 1))
    assert r.status_code == 403
    r = signed_request(oss2.AnonymousAuth(), "GET", ossify.endpoint(HZ), bucket.bucket_name,
                       params={"worm": ""})
    assert r.status_code == 403
    with pytest.raises(oss2.exceptions.NoSuchWORMConfiguration):
        bucket.get_bucket_worm()
