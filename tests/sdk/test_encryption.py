"""Server-side encryption (issue #12) with oss2 (V1 and V4) and alibabacloud-oss-v2:
x-oss-server-side-encryption AES256 / KMS (with and without a key id) / SM4 on PUT,
append, multipart and copy, echoed on writes, GET and HEAD; ranged GET; bucket default
encryption (Put/Get/DeleteBucketEncryption, GetBucketInfo); image processing of an
encrypted JPEG; bad headers refused with OSS's codes and nothing stored; and the bytes
on disk are not the plaintext."""

import base64
import gzip
import hashlib
import hmac
import json
import os
import re
from pathlib import Path

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2.models import ServerSideEncryptionRule

from conftest import (HZ, ROOT1, STORAGE, blob_files, crc64, make_image, make_v2_client,
                      open_image, unique_bucket_name, v2_service_error)

KB = 1024
CHUNK = 64 * KB

SSE = "x-oss-server-side-encryption"
KEY_ID = "x-oss-server-side-encryption-key-id"
DATA = "x-oss-server-side-data-encryption"

# (request headers, what GET/HEAD echo)
MODES = {
    "AES256": ({SSE: "AES256"}, {SSE: "AES256"}),
    "SM4": ({SSE: "SM4"}, {SSE: "SM4"}),
    # Without a key id OSS names its default CMK (the oss2 suite reads it back).
    "KMS": ({SSE: "KMS"}, {SSE: "KMS", KEY_ID: "ossify-default-kms-key"}),
    "KMS-default": ({SSE: "KMS", KEY_ID: "ossify-default-kms-key"},
                    {SSE: "KMS", KEY_ID: "ossify-default-kms-key"}),
    "KMS-key": ({SSE: "KMS", KEY_ID: "app-key-1"}, {SSE: "KMS", KEY_ID: "app-key-1"}),
    "KMS-SM4": ({SSE: "KMS", KEY_ID: "k2", DATA: "SM4"}, {SSE: "KMS", KEY_ID: "k2", DATA: "SM4"}),
}


@pytest.fixture
def bucket(ctx):
    return ctx.new_bucket("sse")


def body_of(n):
    """`n` random bytes: a pattern that cannot appear on disk by chance."""
    return os.urandom(n)


def assert_not_stored_in_clear(ossify, plain):
    """No blob file holds a 48-byte run of `plain` (fs backend only)."""
    if STORAGE:
        return
    probes = [plain[i:i + 48] for i in range(0, max(len(plain) - 48, 1), max(len(plain) // 8, 1))]
    found = 0
    for path in blob_files(ossify.server.data_dir):
        data = path.read_bytes()
        for p in probes:
            assert p not in data, "plaintext found in %s" % path
        found += 1
    assert found > 0


def assert_stored_in_clear(ossify, plain):
    if STORAGE:
        return
    assert any(plain[:48] in p.read_bytes() for p in blob_files(ossify.server.data_dir))


def echoed(headers):
    return {k: headers[k] for k in (SSE, KEY_ID, DATA) if k in headers}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_put_get_head_and_ranges(ossify, bucket, mode):
    request, expect = MODES[mode]
    plain = body_of(3 * CHUNK + 123)
    r = bucket.put_object("obj", plain, headers=request)
    assert echoed(r.headers) == expect
    assert r.crc == crc64(plain)
    got = bucket.get_object("obj")
    assert got.read() == plain
    assert echoed(got.headers) == expect
    assert got.headers["x-oss-hash-crc64ecma"] == str(crc64(plain))
    head = bucket.head_object("obj")
    assert echoed(head.headers) == expect
    assert head.content_length == len(plain)
    import hashlib
    assert head.etag == hashlib.md5(plain).hexdigest().upper()
    for start, end in [(0, 0), (CHUNK - 3, CHUNK + 2), (CHUNK, 2 * CHUNK - 1), (100, 3 * CHUNK + 50),
                       (len(plain) - 5, len(plain) - 1)]:
        part = bucket.get_object("obj", byte_range=(start, end))
        assert part.status == 206
        assert part.read() == plain[start:end + 1]
    assert_not_stored_in_clear(ossify, plain)


def test_unencrypted_objects_stay_plain_and_say_nothing(ossify, bucket):
    # Larger than `[storage] inline_bytes`, so that it is stored in a blob.
    plain = body_of(20000)
    r = bucket.put_object("plain", plain)
    assert echoed(r.headers) == {}
    assert echoed(bucket.head_object("plain").headers) == {}
    assert_stored_in_clear(ossify, plain)


@pytest.mark.parametrize("headers,code,status", [
    ({SSE: "AES128"}, "InvalidEncryptionAlgorithmError", 400),
    ({SSE: "aes256"}, "InvalidEncryptionAlgorithmError", 400),
    ({SSE: ""}, "InvalidEncryptionAlgorithmError", 400),
    ({SSE: "AES256", KEY_ID: "k1"}, "InvalidArgument", 400),
    ({SSE: "KMS", KEY_ID: ""}, "InvalidArgument", 400),
    ({SSE: "KMS", DATA: "AES256"}, "InvalidArgument", 400),
    ({KEY_ID: "k1"}, "InvalidArgument", 400),
])
def test_bad_headers_are_refused_and_store_nothing(bucket, headers, code, status):
    bucket.put_object("kept", b"old", headers={SSE: "AES256"})
    for write in (lambda: bucket.put_object("new", b"x", headers=headers),
                  lambda: bucket.put_object("kept", b"overwritten", headers=headers),
                  lambda: bucket.append_object("app", 0, b"x", headers=headers),
                  lambda: bucket.init_multipart_upload("mp", headers=headers),
                  lambda: bucket.copy_object(bucket.bucket_name, "kept", "copied", headers=headers)):
        with pytest.raises(oss2.exceptions.OssError) as e:
            write()
        assert (e.value.status, e.value.code) == (status, code)
    assert not bucket.object_exists("new")
    assert not bucket.object_exists("app")
    assert not bucket.object_exists("copied")
    assert list(oss2.MultipartUploadIterator(bucket)) == []
    got = bucket.get_object("kept")
    assert got.read() == b"old" and got.headers[SSE] == "AES256"


def test_append_keeps_the_first_setting(ossify, bucket):
    first, second, third = body_of(CHUNK + 10), body_of(500), body_of(70 * KB)
    r = bucket.append_object("log", 0, first, headers={SSE: "SM4"})
    assert r.headers[SSE] == "SM4"
    # A later append's header does not change the object's encryption (OSS).
    r = bucket.append_object("log", r.next_position, second, headers={SSE: "AES256"})
    assert r.headers[SSE] == "SM4"
    bucket.append_object("log", r.next_position, third)
    plain = first + second + third
    got = bucket.get_object("log")
    assert got.read() == plain and got.headers[SSE] == "SM4"
    assert got.headers["x-oss-hash-crc64ecma"] == str(crc64(plain))
    start = len(first) - 7
    assert bucket.get_object("log", byte_range=(start, start + 600)).read() == plain[start:start + 601]
    assert_not_stored_in_clear(ossify, plain)


def test_multipart_parts_are_encrypted_as_initiated(ossify, bucket):
    init = bucket.init_multipart_upload("big", headers={SSE: "KMS", KEY_ID: "mp-key"})
    assert init.headers[SSE] == "KMS" and init.headers[KEY_ID] == "mp-key"
    parts = [body_of(100 * KB + 1), body_of(100 * KB), body_of(333)]
    done = []
    for i, p in enumerate(parts, 1):
        r = bucket.upload_part("big", init.upload_id, i, p)
        assert echoed(r.headers) == {SSE: "KMS", KEY_ID: "mp-key"}
        done.append(oss2.models.PartInfo(i, r.etag))
    r = bucket.complete_multipart_upload("big", init.upload_id, done)
    assert r.headers[SSE] == "KMS" and r.headers[KEY_ID] == "mp-key"
    plain = b"".join(parts)
    got = bucket.get_object("big")
    assert got.read() == plain
    assert echoed(got.headers) == {SSE: "KMS", KEY_ID: "mp-key"}
    # A range across the part boundary.
    start = 100 * KB - 10
    assert bucket.get_object("big", byte_range=(start, start + 30)).read() == plain[start:start + 31]
    assert_not_stored_in_clear(ossify, plain)


def test_upload_part_copy_from_an_encrypted_source(ossify, bucket):
    src = body_of(150 * KB)
    bucket.put_object("src", src, headers={SSE: "AES256"})
    init = bucket.init_multipart_upload("assembled")
    r1 = bucket.upload_part_copy(bucket.bucket_name, "src", (0, 100 * KB - 1), "assembled", init.upload_id, 1)
    r2 = bucket.upload_part_copy(bucket.bucket_name, "src", (100 * KB, 150 * KB - 1), "assembled",
                                 init.upload_id, 2)
    bucket.complete_multipart_upload("assembled", init.upload_id,
                                     [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)])
    got = bucket.get_object("assembled")
    assert got.read() == src and echoed(got.headers) == {}


def test_copy_into_and_out_of_encryption(ossify, bucket):
    plain = body_of(CHUNK * 2 + 9)
    bucket.put_object("clear", plain)
    r = bucket.copy_object(bucket.bucket_name, "clear", "sealed", headers={SSE: "SM4"})
    assert r.headers[SSE] == "SM4"
    got = bucket.get_object("sealed")
    assert got.read() == plain and got.headers[SSE] == "SM4"
    # Without the header the copy is not encrypted, whatever the source (OSS).
    r = bucket.copy_object(bucket.bucket_name, "sealed", "clear-again")
    assert SSE not in r.headers
    got = bucket.get_object("clear-again")
    assert got.read() == plain and SSE not in got.headers
    # Encrypting an object in place (copy onto itself) rewrites its bytes.
    bucket.copy_object(bucket.bucket_name, "clear", "clear", headers={SSE: "AES256"})
    got = bucket.get_object("clear")
    assert got.read() == plain and got.headers[SSE] == "AES256"
    bucket.delete_object("clear-again")
    assert_not_stored_in_clear(ossify, plain)


def test_symlink_reads_the_encrypted_target(bucket):
    plain = body_of(1000)
    bucket.put_object("target", plain, headers={SSE: "KMS"})
    bucket.put_symlink("target", "link")
    got = bucket.get_object("link")
    assert got.read() == plain and got.headers[SSE] == "KMS"


def test_bucket_default_encryption(ossify, bucket):
    with pytest.raises(oss2.exceptions.NoSuchServerSideEncryptionRule) as e:
        bucket.get_bucket_encryption()
    assert e.value.status == 404
    assert bucket.get_bucket_info().bucket_encryption_rule.sse_algorithm is None
    bucket.put_bucket_encryption(ServerSideEncryptionRule("KMS", "bucket-key", "SM4"))
    rule = bucket.get_bucket_encryption()
    assert (rule.sse_algorithm, rule.kms_master_keyid, rule.kms_data_encryption) == ("KMS", "bucket-key", "SM4")
    info = bucket.get_bucket_info().bucket_encryption_rule
    assert (info.sse_algorithm, info.kms_master_keyid) == ("KMS", "bucket-key")
    # New objects without their own header get the default; their own header wins.
    plain = body_of(5000)
    r = bucket.put_object("defaulted", plain)
    assert echoed(r.headers) == {SSE: "KMS", KEY_ID: "bucket-key", DATA: "SM4"}
    assert bucket.get_object("defaulted").read() == plain
    r = bucket.put_object("own", b"abc", headers={SSE: "AES256"})
    assert echoed(r.headers) == {SSE: "AES256"}
    init = bucket.init_multipart_upload("mp")
    assert init.headers[SSE] == "KMS"
    bucket.abort_multipart_upload("mp", init.upload_id)
    assert_not_stored_in_clear(ossify, plain)
    bucket.put_bucket_encryption(ServerSideEncryptionRule("AES256"))
    rule = bucket.get_bucket_encryption()
    assert (rule.sse_algorithm, rule.kms_master_keyid) == ("AES256", None)
    r = bucket.delete_bucket_encryption()
    assert r.status == 204
    with pytest.raises(oss2.exceptions.NoSuchServerSideEncryptionRule):
        bucket.get_bucket_encryption()
    r = bucket.put_object("after", b"x")
    assert SSE not in r.headers
    # Objects written under the old default keep it.
    assert bucket.head_object("defaulted").headers[SSE] == "KMS"


def test_bad_bucket_rules_are_refused(ctx, bucket):
    body = ("<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>%s</SSEAlgorithm>"
            "%s</ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>")
    for algorithm, extra, code in [("DES", "", "InvalidEncryptionAlgorithmError"),
                                   ("AES256", "<KMSMasterKeyID>k</KMSMasterKeyID>", "InvalidArgument"),
                                   ("KMS", "<KMSDataEncryption>AES</KMSDataEncryption>", "InvalidArgument")]:
        r = ctx.raw("PUT", bucket.bucket_name, params={"encryption": ""}, data=(body % (algorithm, extra)).encode())
        assert r.status_code == 400 and "<Code>%s</Code>" % code in r.text, r.text
    r = ctx.raw("PUT", bucket.bucket_name, params={"encryption": ""}, data=b"<ServerSideEncryptionRule/>")
    assert r.status_code == 400 and "<Code>MalformedXML</Code>" in r.text
    with pytest.raises(oss2.exceptions.NoSuchServerSideEncryptionRule):
        bucket.get_bucket_encryption()


def test_put_bucket_with_encryption_headers(ctx):
    # PutBucket's x-oss-server-side-encryption headers set the new bucket's default rule
    # (oss2 suite: test_bucket_header_SM4, test_bucket_header_SSE_KMS, ..._KMS_SM4).
    cases = [({SSE: "SM4"}, ("SM4", None, None)),
             ({SSE: "KMS", KEY_ID: "9468da86-3509"}, ("KMS", "9468da86-3509", None)),
             ({SSE: "KMS", DATA: "SM4"}, ("KMS", None, "SM4"))]
    for headers, want in cases:
        name = unique_bucket_name("sse-hdr")
        b = ctx.bucket(name)
        b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ,
                        oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA), headers)
        ctx.created.append((HZ, name, None))
        info = b.get_bucket_info()
        assert (info.acl.grant, info.storage_class) == ("public-read", "IA")
        rule = info.bucket_encryption_rule
        assert (rule.sse_algorithm, rule.kms_master_keyid, rule.kms_data_encryption) == want
        got = b.get_bucket_encryption()
        assert (got.sse_algorithm, got.kms_master_keyid, got.kms_data_encryption) == want
        assert b.put_object("k", b"x").headers[SSE] == want[0]
    # A bad algorithm creates no bucket.
    name = unique_bucket_name("sse-bad")
    with pytest.raises(oss2.exceptions.ServerError) as e:
        ctx.bucket(name).create_bucket(headers={SSE: "DES"})
    assert (e.value.status, e.value.code) == (400, "InvalidEncryptionAlgorithmError")
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        ctx.bucket(name).get_bucket_info()


def test_upload_part_and_complete_refuse_encryption_headers(bucket):
    # Parts follow the upload's encryption; OSS refuses the headers on UploadPart
    # (oss2 suite: test_server_side_encryotion::test_multipart_upload).
    upload = bucket.init_multipart_upload("mp", headers={SSE: "KMS", DATA: "SM4"}).upload_id
    for headers in ({SSE: "KMS", DATA: "SM4"}, {SSE: "AES256"}, {DATA: "SM4"}):
        with pytest.raises(oss2.exceptions.InvalidArgument) as e:
            bucket.upload_part("mp", upload, 1, b"part", headers=headers)
        assert e.value.status == 400
    assert bucket.list_parts("mp", upload).parts == []
    r = bucket.upload_part("mp", upload, 1, b"part")
    assert echoed(r.headers) == {SSE: "KMS", KEY_ID: "ossify-default-kms-key", DATA: "SM4"}
    parts = [oss2.models.PartInfo(1, r.etag)]
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.complete_multipart_upload("mp", upload, parts, headers={SSE: "AES256"})
    assert not bucket.object_exists("mp")
    bucket.complete_multipart_upload("mp", upload, parts)
    assert echoed(bucket.head_object("mp").headers) == {
        SSE: "KMS", KEY_ID: "ossify-default-kms-key", DATA: "SM4"}
    assert bucket.get_object("mp").read() == b"part"


def test_data_encryption_without_kms_is_ignored(bucket):
    # OSS drops KMSDataEncryption / x-oss-server-side-data-encryption unless the
    # algorithm is KMS (oss2 suite: test_put_bucket_encryption, test_put_object_with_encryption).
    rule = ServerSideEncryptionRule()
    rule.sse_algorithm, rule.kms_data_encryption = "AES256", "SM4"
    bucket.put_bucket_encryption(rule)
    got = bucket.get_bucket_encryption()
    assert (got.sse_algorithm, got.kms_master_keyid, got.kms_data_encryption) == ("AES256", None, None)
    for headers, want in (({SSE: "SM4", DATA: "SM4"}, {SSE: "SM4"}),
                          ({SSE: "AES256", DATA: "SM4"}, {SSE: "AES256"}),
                          ({DATA: "SM4"}, {SSE: "AES256"})):  # the bucket default applies
        r = bucket.put_object("k", b"data", headers=headers)
        assert echoed(r.headers) == want
        assert echoed(bucket.head_object("k").headers) == want
        assert bucket.get_object("k").read() == b"data"


def test_image_processing_of_an_encrypted_jpeg(bucket):
    jpeg = make_image("JPEG", size=(300, 200))
    bucket.put_object("photo.jpg", jpeg, headers={SSE: "SM4"})
    mark = make_image("PNG", size=(20, 20))
    bucket.put_object("mark.png", mark, headers={SSE: "AES256"})
    for _ in range(2):  # the second run would come from the result cache
        got = bucket.get_object("photo.jpg", process="image/resize,w_100")
        assert open_image(got.read()).size == (100, 67)
    mark_param = oss2.utils.b64encode_as_string("mark.png?x-oss-process=image/resize,w_10").rstrip("=")
    mark_param = mark_param.replace("+", "-").replace("/", "_")
    got = bucket.get_object("photo.jpg", process="image/watermark,image_%s" % mark_param)
    assert open_image(got.read()).size == (300, 200)


def test_v2_sdk_headers_and_bucket_rule(ossify):
    client = make_v2_client(ossify)
    name = unique_bucket_name("ssev2")
    client.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        plain = body_of(CHUNK + 1)
        r = client.put_object(oss.PutObjectRequest(bucket=name, key="k", body=plain,
                                                   server_side_encryption="KMS",
                                                   server_side_encryption_key_id="v2-key",
                                                   server_side_data_encryption="SM4"))
        # PutObjectResult has no fields for them: read the echoed headers.
        assert echoed(r.headers) == {SSE: "KMS", KEY_ID: "v2-key", DATA: "SM4"}
        g = client.get_object(oss.GetObjectRequest(bucket=name, key="k", range_header="bytes=65530-65536"))
        assert g.body.read() == plain[65530:65537]
        assert (g.server_side_encryption, g.server_side_encryption_key_id) == ("KMS", "v2-key")
        h = client.head_object(oss.HeadObjectRequest(bucket=name, key="k"))
        assert (h.server_side_encryption, h.server_side_data_encryption) == ("KMS", "SM4")
        with pytest.raises(oss.exceptions.OperationError) as e:
            client.put_object(oss.PutObjectRequest(bucket=name, key="bad", body=b"x",
                                                   server_side_encryption="RSA"))
        err = v2_service_error(e)
        assert (err.status_code, err.code) == (400, "InvalidEncryptionAlgorithmError")
        rule = oss.ServerSideEncryptionRule(apply_server_side_encryption_by_default=oss.ApplyServerSideEncryptionByDefault(
            sse_algorithm="SM4"))
        client.put_bucket_encryption(oss.PutBucketEncryptionRequest(bucket=name, server_side_encryption_rule=rule))
        got = client.get_bucket_encryption(oss.GetBucketEncryptionRequest(bucket=name))
        assert got.server_side_encryption_rule.apply_server_side_encryption_by_default.sse_algorithm == "SM4"
        r = client.put_object(oss.PutObjectRequest(bucket=name, key="d", body=b"data"))
        assert echoed(r.headers) == {SSE: "SM4"}
        client.delete_bucket_encryption(oss.DeleteBucketEncryptionRequest(bucket=name))
        with pytest.raises(oss.exceptions.OperationError) as e:
            client.get_bucket_encryption(oss.GetBucketEncryptionRequest(bucket=name))
        err = v2_service_error(e)
        assert (err.status_code, err.code) == (404, "NoSuchServerSideEncryptionRule")
    finally:
        for key in ("k", "d"):
            client.delete_object(oss.DeleteObjectRequest(bucket=name, key=key))
        client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def master_key_path(server):
    """The configured master key (scale-out runs give one), else the data directory's."""
    text = server.config_path.read_text() if server.config_path else ""
    m = re.search(r'^master_key_file = "(.*)"$', text, re.M)
    return Path(m.group(1)) if m else server.data_dir / "master.key"


def test_master_key_file_is_private(ossify, bucket):
    bucket.put_object("any", b"x", headers={SSE: "AES256"})
    path = master_key_path(ossify.server)
    assert path.exists()
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(path.read_text().strip()) == 64


def test_s3_dialect_headers_and_bucket_encryption(ossify):
    from s3util import BucketMaker, expect_error, s3_client
    s3 = s3_client(ossify.hz)
    maker = BucketMaker(s3)
    try:
        name = maker("sse")
        plain = body_of(CHUNK + 100)
        r = s3.put_object(Bucket=name, Key="a", Body=plain, ServerSideEncryption="AES256")
        assert r["ServerSideEncryption"] == "AES256"
        r = s3.put_object(Bucket=name, Key="k", Body=plain, ServerSideEncryption="aws:kms", SSEKMSKeyId="s3-key")
        assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", "s3-key")
        g = s3.get_object(Bucket=name, Key="k", Range="bytes=65530-65540")
        assert g["Body"].read() == plain[65530:65541]
        assert (g["ServerSideEncryption"], g["SSEKMSKeyId"]) == ("aws:kms", "s3-key")
        h = s3.head_object(Bucket=name, Key="a")
        assert h["ServerSideEncryption"] == "AES256"
        r = s3.copy_object(Bucket=name, Key="c", CopySource={"Bucket": name, "Key": "a"},
                           ServerSideEncryption="aws:kms")
        assert r["ServerSideEncryption"] == "aws:kms"
        assert s3.get_object(Bucket=name, Key="c")["Body"].read() == plain
        up = s3.create_multipart_upload(Bucket=name, Key="m", ServerSideEncryption="AES256")
        assert up["ServerSideEncryption"] == "AES256"
        p = s3.upload_part(Bucket=name, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=plain)
        assert p["ServerSideEncryption"] == "AES256"
        done = s3.complete_multipart_upload(Bucket=name, Key="m", UploadId=up["UploadId"],
                                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p["ETag"]}]})
        assert done["ServerSideEncryption"] == "AES256"
        assert s3.get_object(Bucket=name, Key="m")["Body"].read() == plain
        # The same object through OSS says KMS with its key id.
        oss_bucket = oss2.Bucket(oss2.Auth(ossify.root1.id, ossify.root1.secret), ossify.hz, name)
        assert echoed(oss_bucket.head_object("k").headers) == {SSE: "KMS", KEY_ID: "s3-key"}
        expect_error("InvalidArgument", 400, s3.put_object, Bucket=name, Key="bad", Body=b"x",
                     ServerSideEncryption="aws:kms:dsse")
        assert "bad" not in [o["Key"] for o in s3.list_objects_v2(Bucket=name).get("Contents", [])]

        expect_error("ServerSideEncryptionConfigurationNotFoundError", 404, s3.get_bucket_encryption, Bucket=name)
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": [
            {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "dflt"}}]})
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "dflt"}
        assert oss_bucket.get_bucket_encryption().kms_master_keyid == "dflt"
        r = s3.put_object(Bucket=name, Key="d", Body=b"defaulted")
        assert (r["ServerSideEncryption"], r["SSEKMSKeyId"]) == ("aws:kms", "dflt")
        s3.delete_bucket_encryption(Bucket=name)
        expect_error("ServerSideEncryptionConfigurationNotFoundError", 404, s3.get_bucket_encryption, Bucket=name)
        assert_not_stored_in_clear(ossify, plain)
    finally:
        maker.cleanup()


def test_post_object_form_field(ossify, bucket):
    policy = base64.b64encode(json.dumps({"expiration": "2099-01-01T00:00:00.000Z",
                                          "conditions": [{"bucket": bucket.bucket_name}]}).encode()).decode()
    signature = base64.b64encode(hmac.new(ROOT1.secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    plain = body_of(3000)
    fields = {"key": "form", "OSSAccessKeyId": ROOT1.id, "policy": policy, "Signature": signature}
    url = "%s/%s" % (ossify.endpoint(HZ), bucket.bucket_name)
    r = requests.post(url, data=dict(fields, **{SSE: "SM4"}), files={"file": ("f", plain, "text/plain")})
    assert r.status_code == 204, r.text
    got = bucket.get_object("form")
    assert got.read() == plain and got.headers[SSE] == "SM4"
    r = requests.post(url, data=dict(fields, key="bad", **{SSE: "XTS"}), files={"file": ("f", b"x", "text/plain")})
    assert r.status_code == 400 and "<Code>InvalidEncryptionAlgorithmError</Code>" in r.text
    assert not bucket.object_exists("bad")
    assert_not_stored_in_clear(ossify, plain)


def test_gzip_get_of_an_encrypted_text(bucket):
    text = b"".join(b"line %d of an encrypted text\n" % i for i in range(5000))
    bucket.put_object("t.txt", text, headers={SSE: "AES256", "Content-Type": "text/plain"})
    url = bucket.sign_url("GET", "t.txt", 60)
    r = requests.get(url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30)
    assert r.headers["Content-Encoding"] == "gzip" and r.headers[SSE] == "AES256"
    assert gzip.decompress(r.raw.read(decode_content=False)) == text


def test_objects_read_back_after_a_restart(server_factory):
    srv = server_factory()
    srv.start()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), unique_bucket_name("sserst"))
    b.create_bucket()
    plain = body_of(CHUNK * 2 + 1)
    b.put_object("k", plain, headers={SSE: "KMS", KEY_ID: "restart-key"})
    key_file = master_key_path(srv)
    master = key_file.read_bytes()
    srv.restart()
    assert key_file.read_bytes() == master
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    assert b.get_object("k").read() == plain
    assert b.get_object("k", byte_range=(CHUNK, CHUNK + 9)).read() == plain[CHUNK:CHUNK + 10]
