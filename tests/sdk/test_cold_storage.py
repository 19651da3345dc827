"""Cold storage classes (Archive, ColdArchive, DeepColdArchive): reads refused until a
RestoreObject completes, the restore's states (202, 409, readable with an expiry),
RestoreInfo in listings, copies and image processing of cold objects, archive direct
read, restoring one version, with oss2 (V1 and V4), alibabacloud-oss-v2 and boto3.

The module's server completes restores after RESTORE_DELAY seconds
(`[storage] restore_delay_secs`)."""

import email.utils
import re
import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import BucketVersioningConfig, RestoreConfiguration, RestoreJobParameters

from conftest import (OssifyEnv, OssifyServer, Oss2Ctx, error_of, make_config, make_image,
                      make_v2_client, unique_bucket_name, v2_service_error)
from s3util import BucketMaker, expect_error, s3_client

RESTORE_DELAY = 2
DAY = 24 * 3600
COLD_STATE = "The operation is not valid for the object's state"
NOT_SUPPORTED = "The operation is not supported for this resource"
IN_PROGRESS = "The restore operation is in progress."
ONGOING = 'ongoing-request="true"'
RESTORED_RE = re.compile(r'^ongoing-request="false", expiry-date="([^"]+)"$')


def cold_config(data_dir):
    """The standard test configuration with a short restore delay."""
    text = make_config(data_dir)
    line = "restore_delay_secs = %d\n" % RESTORE_DELAY
    if "[storage]\n" in text:
        return text.replace("[storage]\n", "[storage]\n" + line, 1)
    return text + "\n[storage]\n" + line


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cold-storage")
    data = workdir / "data"
    data.mkdir()
    server = OssifyServer(workdir, data_dir=data, config_text=cold_config(data), name="cold")
    server.start()
    yield OssifyEnv(server)
    server.stop()


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(env, request):
    c = Oss2Ctx(env, request.param)
    yield c
    c.cleanup()


def put(bucket, key, data, storage_class):
    return bucket.put_object(key, data, headers={"x-oss-storage-class": storage_class})


def restore_body(days, tier=None):
    body = "<RestoreRequest><Days>%s</Days>" % days
    if tier:
        body += "<JobParameters><Tier>%s</Tier></JobParameters>" % tier
    return (body + "</RestoreRequest>").encode()


def expect_oss_error(status, code, message, ec, fn, *args, **kwargs):
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        fn(*args, **kwargs)
    e = excinfo.value
    assert (e.status, e.code, e.message, e.ec) == (status, code, message, ec), e
    return e


def expiry_of(info):
    """The expiry date (epoch seconds) of an `ongoing-request="false"` status."""
    m = RESTORED_RE.match(info or "")
    assert m, info
    assert m.group(1).endswith(" GMT"), info
    return email.utils.parsedate_to_datetime(m.group(1)).timestamp()


def wait_restored(head, timeout=RESTORE_DELAY + 15):
    """Poll `head()` (-> x-oss-restore value) until the restore completes; return it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        info = head()
        if info != ONGOING:
            return info
        time.sleep(0.25)
    raise AssertionError("the restore did not complete within %ss" % timeout)


def oss2_restore_header(bucket, key, params=None):
    return bucket.head_object(key, params=params).headers.get("x-oss-restore")


# ---------------------------------------------------------------------------
# oss2
# ---------------------------------------------------------------------------
def test_archive_read_refused_until_restored(ctx):
    b = ctx.new_bucket("cold-read")
    put(b, "a.txt", b"frozen bytes", "Archive")
    head = b.head_object("a.txt")
    assert head.headers["x-oss-storage-class"] == "Archive"
    assert "x-oss-restore" not in head.headers
    assert b.get_object_meta("a.txt").content_length == 12
    expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", b.get_object, "a.txt")
    r = ctx.raw("GET", b.bucket_name, "a.txt", params={"response-content-type": "text/plain"})
    assert r.status_code == 403
    err = error_of(r)
    assert (err["Code"], err["Message"], err["EC"]) == ("InvalidObjectState", COLD_STATE,
                                                        "0016-00000404")
    assert r.headers["x-oss-ec"] == "0016-00000404"

    # First request: 202, and the restore runs.
    r = b.restore_object("a.txt")
    assert r.status == 202
    assert "x-oss-object-restore-priority" not in r.headers
    assert oss2_restore_header(b, "a.txt") == ONGOING
    expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", b.get_object, "a.txt")
    e = expect_oss_error(409, "RestoreAlreadyInProgress", IN_PROGRESS, "0016-00000701",
                         b.restore_object, "a.txt")
    assert isinstance(e, oss2.exceptions.RestoreAlreadyInProgress)
    listed = {o.key: o for o in b.list_objects().object_list}
    assert listed["a.txt"].restore_info == ONGOING

    # Done: readable for one day (the default).
    info = wait_restored(lambda: oss2_restore_header(b, "a.txt"))
    assert abs(expiry_of(info) - (time.time() + DAY)) < 60
    assert b.get_object("a.txt").read() == b"frozen bytes"
    assert b.head_object("a.txt").headers["x-oss-storage-class"] == "Archive"
    assert b.list_objects().object_list[0].restore_info == info
    assert b.list_objects_v2().object_list[0].restore_info == info

    # Once restored, a request extends the stay: 200.
    r = b.restore_object("a.txt", input=RestoreConfiguration(3))
    assert r.status == 200
    extended = oss2_restore_header(b, "a.txt")
    assert abs(expiry_of(extended) - (time.time() + 3 * DAY)) < 60
    assert b.get_object("a.txt").read() == b"frozen bytes"


def test_restore_of_warm_classes_and_missing_keys(ctx):
    b = ctx.new_bucket("cold-warm")
    for key, cls in (("std", "Standard"), ("ia", "IA")):
        put(b, key, b"warm", cls)
        e = expect_oss_error(400, "OperationNotSupported", NOT_SUPPORTED, "0016-00000702",
                             b.restore_object, key)
        assert isinstance(e, oss2.exceptions.OperationNotSupported)
        assert "x-oss-restore" not in b.head_object(key).headers
        assert b.get_object(key).read() == b"warm"
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.restore_object("missing")
    # Listings say nothing of restores for objects that have none.
    assert all(o.restore_info is None for o in b.list_objects().object_list)


def test_bad_restore_requests_change_nothing(ctx):
    b = ctx.new_bucket("cold-bad")
    put(b, "arch", b"a", "Archive")
    put(b, "cold", b"c", "ColdArchive")
    put(b, "deep", b"d", "DeepColdArchive")

    def refused(key, body, status, code, ec):
        r = ctx.raw("POST", b.bucket_name, key, params={"restore": ""}, data=body)
        err = error_of(r)
        assert (r.status_code, err.get("Code"), err.get("EC")) == (status, code, ec), r.content
        return err

    # Days: 1..7 for Archive, 1..365 for the cold archive classes, each with its EC.
    err = refused("arch", restore_body(8), 400, "InvalidArgument", "0016-00000708")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("Days", "8")
    refused("arch", restore_body("a"), 400, "InvalidArgument", "0016-00000708")
    refused("arch", restore_body(0), 400, "InvalidArgument", "0016-00000708")
    refused("cold", restore_body(366), 400, "InvalidArgument", "0016-00000704")
    refused("deep", restore_body(-1, "Standard"), 400, "InvalidArgument", "0016-00000704")
    err = refused("cold", restore_body(2, "Fast"), 400, "InvalidArgument", "0016-00000703")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("Tier", "Fast")
    refused("cold", b"<RestoreRequest><Days>2", 400, "MalformedXML", None)
    refused("cold", b"<Restore><Days>2</Days></Restore>", 400, "MalformedXML", None)
    refused("arch", b"<RestoreRequest><Days>1</Days><GlacierJobParameters><Tier>Bulk</Tier>"
                    b"</GlacierJobParameters></RestoreRequest>", 400, "MalformedXML",
            "0016-00000709")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        b.restore_object("arch", input=RestoreConfiguration(30))
    # JobParameters are for the cold archive classes: an Archive object refuses them,
    # before Days are checked (as OSS answers ali-oss's restore of type ColdArchive).
    for days in (1, 8):
        err = refused("arch", restore_body(days, "Standard"), 400, "MalformedXML", None)
        assert "<JobParameters> is for ColdArchive and DeepColdArchive objects" in err["Message"]
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.restore_object("arch", input=RestoreConfiguration(
            1, job_parameters=RestoreJobParameters(oss2.models.RESTORE_TIER_BULK)))
    assert (excinfo.value.status, excinfo.value.code) == (400, "MalformedXML")
    # Nothing started: no restore status, still cold, and a good request starts one.
    for key in ("arch", "cold", "deep"):
        assert "x-oss-restore" not in b.head_object(key).headers
        with pytest.raises(oss2.exceptions.ServerError) as excinfo:
            b.get_object(key)
        assert excinfo.value.code == "InvalidObjectState"
        assert b.restore_object(key).status == 202


def test_cold_archive_tiers_and_days(ctx):
    b = ctx.new_bucket("cold-tiers")
    put(b, "cold", b"cold data", "ColdArchive")
    put(b, "deep", b"deep data", "DeepColdArchive")
    r = b.restore_object("cold", input=RestoreConfiguration(
        30, job_parameters=RestoreJobParameters(oss2.models.RESTORE_TIER_EXPEDITED)))
    assert r.status == 202
    assert r.headers["x-oss-object-restore-priority"] == "Expedited"
    r = b.restore_object("deep", input=RestoreConfiguration(365))
    assert (r.status, r.headers["x-oss-object-restore-priority"]) == (202, "Standard")
    info = wait_restored(lambda: oss2_restore_header(b, "cold"))
    assert abs(expiry_of(info) - (time.time() + 30 * DAY)) < 60
    assert b.get_object("cold").read() == b"cold data"
    info = wait_restored(lambda: oss2_restore_header(b, "deep"))
    assert abs(expiry_of(info) - (time.time() + 365 * DAY)) < 60
    assert b.get_object("deep").read() == b"deep data"
    # Extending keeps the priority the restore ran at.
    r = b.restore_object("cold", input=RestoreConfiguration(
        40, job_parameters=RestoreJobParameters(oss2.models.RESTORE_TIER_BULK)))
    assert (r.status, r.headers["x-oss-object-restore-priority"]) == (200, "Expedited")


def test_copy_and_processing_of_cold_objects(ctx):
    b = ctx.new_bucket("cold-copy")
    png = make_image("PNG", size=(40, 20))
    put(b, "pic.png", png, "Archive")

    def cold(fn, *args, **kwargs):
        expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", fn, *args,
                         **kwargs)

    cold(b.copy_object, b.bucket_name, "pic.png", "copy.png")
    upload = b.init_multipart_upload("parts.png").upload_id
    cold(b.upload_part_copy, b.bucket_name, "pic.png", (0, 9), "parts.png", upload, 1)
    cold(b.get_object, "pic.png", process="image/resize,w_10")
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.head_object("copy.png")

    assert b.restore_object("pic.png").status == 202
    wait_restored(lambda: oss2_restore_header(b, "pic.png"))
    assert b.get_object("pic.png", process="image/resize,w_10").read()[:4] == b"\x89PNG"
    r = b.upload_part_copy(b.bucket_name, "pic.png", (0, len(png) - 1), "parts.png", upload, 1)
    assert r.status == 200
    b.abort_multipart_upload("parts.png", upload)
    # A copy is a new object of its own class: restored bytes do not make it restored.
    b.copy_object(b.bucket_name, "pic.png", "copy.png",
                  headers={"x-oss-storage-class": "Archive"})
    assert "x-oss-restore" not in b.head_object("copy.png").headers
    cold(b.get_object, "copy.png")
    b.copy_object(b.bucket_name, "pic.png", "warm.png", headers={"x-oss-storage-class": "IA"})
    assert b.get_object("warm.png").read() == png


def test_archive_direct_read(ctx):
    b = ctx.new_bucket("cold-direct")
    put(b, "arch", b"archive", "Archive")
    put(b, "cold", b"cold archive", "ColdArchive")
    assert b.get_bucket_archive_direct_read().enabled is False
    assert b.put_bucket_archive_direct_read(True).status == 200
    assert b.get_bucket_archive_direct_read().enabled is True
    # Archive objects read at once (and copy); the colder classes still need a restore.
    assert b.get_object("arch").read() == b"archive"
    b.copy_object(b.bucket_name, "arch", "arch-copy", headers={"x-oss-storage-class": "IA"})
    assert b.get_object("arch-copy").read() == b"archive"
    assert "x-oss-restore" not in b.head_object("arch").headers
    expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", b.get_object, "cold")
    # A bad body is refused and changes nothing.
    for body in (b"<ArchiveDirectReadConfiguration><Enabled>yes</Enabled>"
                 b"</ArchiveDirectReadConfiguration>",
                 b"<ArchiveDirectReadConfiguration/>", b"<Enabled>false</Enabled>", b"<a"):
        r = ctx.raw("PUT", b.bucket_name, params={"bucketArchiveDirectRead": ""}, data=body)
        assert (r.status_code, error_of(r)["Code"]) == (400, "MalformedXML"), r.content
    assert b.get_bucket_archive_direct_read().enabled is True
    r = ctx.raw("GET", b.bucket_name, params={"bucketArchiveDirectRead": ""})
    assert r.content.endswith(
        b"<ArchiveDirectReadConfiguration><Enabled>true</Enabled>"
        b"</ArchiveDirectReadConfiguration>"), r.content
    b.put_bucket_archive_direct_read(False)
    assert b.get_bucket_archive_direct_read().enabled is False
    expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", b.get_object, "arch")


def test_restore_of_one_version(ctx):
    b = ctx.new_bucket("cold-versions")
    b.put_bucket_versioning(BucketVersioningConfig("Enabled"))
    old = put(b, "k", b"old version", "Archive").versionid
    new = put(b, "k", b"new version", "Archive").versionid
    assert old and new and old != new
    r = b.restore_object("k", params={"versionId": old})
    assert (r.status, r.headers["x-oss-version-id"]) == (202, old)
    assert oss2_restore_header(b, "k", params={"versionId": old}) == ONGOING
    assert oss2_restore_header(b, "k") is None
    wait_restored(lambda: oss2_restore_header(b, "k", params={"versionId": old}))
    assert b.get_object("k", params={"versionId": old}).read() == b"old version"
    for params in (None, {"versionId": new}):
        expect_oss_error(403, "InvalidObjectState", COLD_STATE, "0016-00000404", b.get_object,
                         "k", params=params)
    with pytest.raises(oss2.exceptions.ServerError) as excinfo:
        b.restore_object("k", params={"versionId": "0" * 32})
    assert (excinfo.value.status, excinfo.value.code) == (404, "NoSuchVersion")
    # The current version restores as the key's.
    r = b.restore_object("k")
    assert (r.status, r.headers["x-oss-version-id"]) == (202, new)


# ---------------------------------------------------------------------------
# alibabacloud-oss-v2
# ---------------------------------------------------------------------------
def test_v2_restore_and_direct_read(env):
    v2 = make_v2_client(env)
    name = unique_bucket_name("cold-v2")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        v2.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"v2 cold",
                                           storage_class="ColdArchive"))
        with pytest.raises(oss.exceptions.OperationError) as excinfo:
            v2.get_object(oss.GetObjectRequest(bucket=name, key="k"))
        err = v2_service_error(excinfo)
        assert (err.status_code, err.code, err.message, err.ec) == (
            403, "InvalidObjectState", COLD_STATE, "0016-00000404")
        request = oss.RestoreObjectRequest(
            bucket=name, key="k",
            restore_request=oss.RestoreRequest(days=2, job_parameters=oss.JobParameters(tier="Bulk")))
        result = v2.restore_object(request)
        assert (result.status_code, result.restore_priority) == (202, "Bulk")
        with pytest.raises(oss.exceptions.OperationError) as excinfo:
            v2.restore_object(request)
        err = v2_service_error(excinfo)
        assert (err.status_code, err.code, err.message, err.ec) == (
            409, "RestoreAlreadyInProgress", IN_PROGRESS, "0016-00000701")
        info = wait_restored(
            lambda: v2.head_object(oss.HeadObjectRequest(bucket=name, key="k")).restore)
        assert abs(expiry_of(info) - (time.time() + 2 * DAY)) < 60
        got = v2.get_object(oss.GetObjectRequest(bucket=name, key="k"))
        assert got.body.read() == b"v2 cold"
        listed = v2.list_objects_v2(oss.ListObjectsV2Request(bucket=name))
        assert [(o.key, o.restore_info) for o in listed.contents] == [("k", info)]

        v2.put_object(oss.PutObjectRequest(bucket=name, key="a", body=b"v2 archive",
                                           storage_class="Archive"))
        v2.put_bucket_archive_direct_read(oss.PutBucketArchiveDirectReadRequest(
            bucket=name,
            archive_direct_read_configuration=oss.ArchiveDirectReadConfiguration(enabled=True)))
        conf = v2.get_bucket_archive_direct_read(
            oss.GetBucketArchiveDirectReadRequest(bucket=name))
        assert conf.archive_direct_read_configuration.enabled is True
        assert v2.get_object(oss.GetObjectRequest(bucket=name, key="a")).body.read() == \
            b"v2 archive"

        v2.put_object(oss.PutObjectRequest(bucket=name, key="s", body=b"std"))
        with pytest.raises(oss.exceptions.OperationError) as excinfo:
            v2.restore_object(oss.RestoreObjectRequest(bucket=name, key="s"))
        err = v2_service_error(excinfo)
        assert (err.status_code, err.code, err.ec) == (400, "OperationNotSupported",
                                                       "0016-00000702")
    finally:
        for key in ("k", "a", "s"):
            v2.delete_object(oss.DeleteObjectRequest(bucket=name, key=key))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# boto3 (S3 dialect, same objects)
# ---------------------------------------------------------------------------
@pytest.fixture
def s3_buckets(env):
    maker = BucketMaker(s3_client(env.endpoint()))
    yield maker
    maker.cleanup()


S3_COLD = "The operation is not valid for the object's storage class"


def test_s3_glacier_reads_and_restore(env, s3_buckets):
    s3 = s3_buckets.client
    name = s3_buckets("cold-s3")
    s3.put_object(Bucket=name, Key="g", Body=b"glacier", StorageClass="GLACIER")
    head = s3.head_object(Bucket=name, Key="g")
    assert head["StorageClass"] == "GLACIER" and "Restore" not in head
    r = expect_error("InvalidObjectState", 403, s3.get_object, Bucket=name, Key="g")
    assert r["Error"]["Message"] == S3_COLD
    expect_error("InvalidObjectState", 403, s3.copy_object, Bucket=name, Key="g2",
                 CopySource={"Bucket": name, "Key": "g"})

    request = {"Days": 2, "GlacierJobParameters": {"Tier": "Standard"}}
    r = s3.restore_object(Bucket=name, Key="g", RestoreRequest=request)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert s3.head_object(Bucket=name, Key="g")["Restore"] == ONGOING
    r = expect_error("RestoreAlreadyInProgress", 409, s3.restore_object, Bucket=name, Key="g",
                     RestoreRequest=request)
    info = wait_restored(lambda: s3.head_object(Bucket=name, Key="g").get("Restore"))
    assert abs(expiry_of(info) - (time.time() + 2 * DAY)) < 60
    assert s3.get_object(Bucket=name, Key="g")["Body"].read() == b"glacier"
    # The same state through the OSS dialect.
    ob = oss2.Bucket(oss2.Auth(env.root1.id, env.root1.secret), env.endpoint(), name)
    assert ob.head_object("g").headers["x-oss-restore"] == info
    r = s3.restore_object(Bucket=name, Key="g", RestoreRequest={"Days": 5})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert abs(expiry_of(s3.head_object(Bucket=name, Key="g")["Restore"])
               - (time.time() + 5 * DAY)) < 60

    # Days beyond Archive's 7, a bad tier: refused, nothing changed.
    s3.put_object(Bucket=name, Key="g3", Body=b"x", StorageClass="GLACIER")
    expect_error("InvalidArgument", 400, s3.restore_object, Bucket=name, Key="g3",
                 RestoreRequest={"Days": 8})
    expect_error("MalformedXML", 400, s3.restore_object, Bucket=name, Key="g3",
                 RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Slow"}})
    assert "Restore" not in s3.head_object(Bucket=name, Key="g3")

    s3.put_object(Bucket=name, Key="std", Body=b"std")
    r = expect_error("InvalidObjectState", 403, s3.restore_object, Bucket=name, Key="std",
                     RestoreRequest={"Days": 1})
    assert r["Error"]["Message"] == "Restore is not allowed for the object's current storage class"


def test_s3_storage_classes_map_by_how_they_read(env, s3_buckets):
    s3 = s3_buckets.client
    name = s3_buckets("cold-s3-classes")
    ob = oss2.Bucket(oss2.Auth(env.root1.id, env.root1.secret), env.endpoint(), name)
    s3.put_object(Bucket=name, Key="deep", Body=b"d", StorageClass="DEEP_ARCHIVE")
    assert ob.head_object("deep").headers["x-oss-storage-class"] == "ColdArchive"
    assert s3.head_object(Bucket=name, Key="deep")["StorageClass"] == "DEEP_ARCHIVE"
    expect_error("InvalidObjectState", 403, s3.get_object, Bucket=name, Key="deep")
    # Glacier Instant Retrieval reads at once: it is stored as IA, not Archive.
    s3.put_object(Bucket=name, Key="ir", Body=b"instant", StorageClass="GLACIER_IR")
    assert ob.head_object("ir").headers["x-oss-storage-class"] == "IA"
    assert s3.get_object(Bucket=name, Key="ir")["Body"].read() == b"instant"
    # A DeepColdArchive object written through OSS reads as DEEP_ARCHIVE, cold.
    put(ob, "dca", b"x", "DeepColdArchive")
    assert s3.head_object(Bucket=name, Key="dca")["StorageClass"] == "DEEP_ARCHIVE"
    expect_error("InvalidObjectState", 403, s3.get_object, Bucket=name, Key="dca")
    # Archive direct read opens Archive objects to S3 reads too.
    s3.put_object(Bucket=name, Key="g", Body=b"glacier", StorageClass="GLACIER")
    ob.put_bucket_archive_direct_read(True)
    assert s3.get_object(Bucket=name, Key="g")["Body"].read() == b"glacier"
    expect_error("InvalidObjectState", 403, s3.get_object, Bucket=name, Key="deep")
