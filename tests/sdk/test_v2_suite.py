"""Gaps the alibabacloud-oss-v2 SDK's own integration suite found (docs/compatibility.md,
"The SDKs' own suites"), checked with oss2 (V1 and V4) and alibabacloud-oss-v2:
CompleteMultipartUpload setting the object ACL, ListMultipartUploads naming the last
upload on the last page, and CopyObject REPLACE keeping the client-side-encryption
envelope, and GetBucketPolicyStatus counting a statement without Principal public."""

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2 import exceptions as oe

from conftest import HZ, error_of, make_v2_client, unique_bucket_name, v2_service_error

KB = 1024


@pytest.fixture
def bucket(ctx, request):
    return ctx.new_bucket(request.node.name.split("[")[0].replace("test_", "")[:30])


@pytest.fixture
def v2(ossify):
    return make_v2_client(ossify)


def two_part_upload(bucket, key):
    upload_id = bucket.init_multipart_upload(key).upload_id
    parts = []
    for n, data in ((1, b"a" * (100 * KB)), (2, b"b" * 10)):
        r = bucket.upload_part(key, upload_id, n, data)
        parts.append(oss2.models.PartInfo(n, r.etag))
    return upload_id, parts


# ---------------------------------------------------------------------------
# CompleteMultipartUpload with x-oss-object-acl
# ---------------------------------------------------------------------------
def test_complete_multipart_upload_sets_object_acl(bucket):
    upload_id, parts = two_part_upload(bucket, "acl-at-complete")
    bucket.complete_multipart_upload("acl-at-complete", upload_id, parts,
                                     headers={"x-oss-object-acl": "public-read"})
    assert bucket.get_object_acl("acl-at-complete").acl == "public-read"
    # Without the header the object keeps the ACL given at initiate.
    upload_id = bucket.init_multipart_upload("acl-at-init",
                                             headers={"x-oss-object-acl": "private"}).upload_id
    bucket.upload_part("acl-at-init", upload_id, 1, b"x")
    bucket.complete_multipart_upload("acl-at-init", upload_id, None,
                                     headers={"x-oss-complete-all": "yes"})
    assert bucket.get_object_acl("acl-at-init").acl == "private"


def test_complete_multipart_upload_bad_acl_is_refused_and_keeps_the_upload(ctx, bucket):
    upload_id, parts = two_part_upload(bucket, "bad-acl")
    with pytest.raises(oe.ServerError) as ei:
        bucket.complete_multipart_upload("bad-acl", upload_id, parts,
                                         headers={"x-oss-object-acl": "everyone"})
    assert (ei.value.status, ei.value.code) == (400, "InvalidArgument")
    assert not bucket.object_exists("bad-acl")
    # The upload is still there and completes afterwards.
    assert [p.part_number for p in bucket.list_parts("bad-acl", upload_id).parts] == [1, 2]
    bucket.complete_multipart_upload("bad-acl", upload_id, parts)
    assert bucket.get_object_acl("bad-acl").acl == "default"


def test_complete_multipart_upload_public_acl_blocked(ctx, bucket):
    bucket.put_bucket_public_access_block(True)
    upload_id, parts = two_part_upload(bucket, "blocked")
    r = ctx.raw("POST", bucket.bucket_name, "blocked", params={"uploadId": upload_id},
                headers={"x-oss-object-acl": "public-read", "x-oss-complete-all": "yes"})
    assert r.status_code == 403, r.text
    err = error_of(r)
    assert err["Code"] == "AccessDenied"
    assert "public access" in err["Message"].lower()
    assert not bucket.object_exists("blocked")
    assert len(bucket.list_parts("blocked", upload_id).parts) == 2


def test_v2_complete_and_copier_set_object_acl(v2, ossify):
    name = unique_bucket_name("v2acl")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key="k"))
        part = v2.upload_part(oss.UploadPartRequest(bucket=name, key="k", part_number=1,
                                                    upload_id=init.upload_id, body=b"data"))
        v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=name, key="k", upload_id=init.upload_id, acl="private",
            complete_multipart_upload=oss.CompleteMultipartUpload(
                parts=[oss.UploadPart(part_number=1, etag=part.etag)])))
        assert v2.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="k")).acl == "private"
        # The copier's multipart copy passes the ACL on CompleteMultipartUpload.
        v2.put_object(oss.PutObjectRequest(bucket=name, key="src", body=b"s" * (200 * KB)))
        r = v2.copier().copy(oss.CopyObjectRequest(bucket=name, key="dst", source_key="src",
                                                   acl="public-read"),
                             multipart_copy_threshold=100 * KB, disable_shallow_copy=True)
        assert r.upload_id is not None
        assert v2.get_object_acl(oss.GetObjectAclRequest(bucket=name, key="dst")).acl == "public-read"
        h = v2.head_object(oss.HeadObjectRequest(bucket=name, key="dst"))
        assert (h.object_type, h.content_length) == ("Multipart", 200 * KB)
        # A bad ACL is InvalidArgument.
        init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key="b"))
        with pytest.raises(oss.exceptions.OperationError) as ei:
            v2.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
                bucket=name, key="b", upload_id=init.upload_id, complete_all="yes",
                headers={"x-oss-object-acl": "nobody"}))
        e = v2_service_error(ei)
        assert (e.status_code, e.code) == (400, "InvalidArgument")
    finally:
        for k in ("k", "src", "dst"):
            v2.delete_object(oss.DeleteObjectRequest(bucket=name, key=k))
        for u in v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=name)).uploads or []:
            v2.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=name, key=u.key,
                                                                      upload_id=u.upload_id))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# ListMultipartUploads: NextKeyMarker / NextUploadIdMarker on the last page
# ---------------------------------------------------------------------------
def test_list_multipart_uploads_names_last_upload_on_last_page(ctx, bucket):
    ids = [bucket.init_multipart_upload(k).upload_id for k in ("a", "b")]
    r = bucket.list_multipart_uploads()
    assert r.is_truncated is False
    assert (r.next_key_marker, r.next_upload_id_marker) == ("b", ids[1])
    r = bucket.list_multipart_uploads(max_uploads=1)
    assert r.is_truncated is True
    assert (r.next_key_marker, r.next_upload_id_marker) == ("a", ids[0])
    r = bucket.list_multipart_uploads(key_marker="b", upload_id_marker=ids[1])
    assert (r.upload_list, r.is_truncated) == ([], False)
    assert (r.next_key_marker, r.next_upload_id_marker) == ("", "")


def test_v2_list_multipart_uploads_next_key_marker_url_encoded(v2):
    name = unique_bucket_name("v2mpu")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    key = "k-\x01\x02-%/?#"
    try:
        init = v2.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key=key))
        r = v2.list_multipart_uploads(oss.ListMultipartUploadsRequest(bucket=name))
        assert r.is_truncated is False
        assert (r.next_key_marker, r.next_upload_id_marker) == (key, init.upload_id)
        assert [u.key for u in r.uploads] == [key]
        v2.abort_multipart_upload(oss.AbortMultipartUploadRequest(bucket=name, key=key,
                                                                  upload_id=init.upload_id))
    finally:
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# CopyObject REPLACE keeps the client-side-encryption envelope
# ---------------------------------------------------------------------------
CSE = {
    "client-side-encryption-key": "d3JhcHBlZC1rZXk=",
    "client-side-encryption-start": "aXYtc3RhcnQ=",
    "client-side-encryption-cek-alg": "AES/CTR/NoPadding",
    "client-side-encryption-wrap-alg": "RSA/NONE/PKCS1Padding",
}


def test_copy_replace_keeps_client_encryption_meta(bucket):
    headers = {"x-oss-meta-" + k: v for k, v in CSE.items()}
    headers["x-oss-meta-flag"] = "false"
    bucket.put_object("src", b"ciphertext", headers=headers)
    bucket.copy_object(bucket.bucket_name, "src", "dst", headers={
        "x-oss-metadata-directive": "REPLACE",
        "x-oss-meta-flag": "true",
        "x-oss-meta-client-side-encryption-start": "bmV3LXN0YXJ0",
    })
    meta = bucket.head_object("dst").headers
    assert meta["x-oss-meta-flag"] == "true"
    # The request's own envelope value wins; the rest comes from the source.
    assert meta["x-oss-meta-client-side-encryption-start"] == "bmV3LXN0YXJ0"
    for k in ("key", "cek-alg", "wrap-alg"):
        name = "client-side-encryption-" + k
        assert meta["x-oss-meta-" + name] == CSE[name]
    # Other metadata is replaced as usual.
    bucket.put_object("plain", b"x", headers={"x-oss-meta-a": "1"})
    bucket.copy_object(bucket.bucket_name, "plain", "plain2",
                       headers={"x-oss-metadata-directive": "REPLACE"})
    assert "x-oss-meta-a" not in bucket.head_object("plain2").headers
    # COPY keeps everything; the source is unchanged.
    bucket.copy_object(bucket.bucket_name, "src", "copied")
    assert bucket.head_object("copied").headers["x-oss-meta-flag"] == "false"
    assert bucket.head_object("src").headers["x-oss-meta-client-side-encryption-start"] == CSE[
        "client-side-encryption-start"]


def test_v2_copier_replace_keeps_client_encryption_meta(v2):
    name = unique_bucket_name("v2cse")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        v2.put_object(oss.PutObjectRequest(bucket=name, key="src", body=b"0123456789ab",
                                           metadata=dict(CSE, flag="false")))
        v2.copier().copy(oss.CopyObjectRequest(bucket=name, key="dst", source_key="src",
                                               metadata_directive="replace",
                                               metadata={"flag": "true"}))
        h = v2.head_object(oss.HeadObjectRequest(bucket=name, key="dst"))
        assert h.metadata == dict(CSE, flag="true")
    finally:
        for k in ("src", "dst"):
            v2.delete_object(oss.DeleteObjectRequest(bucket=name, key=k))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# A bucket policy statement without Principal is public
# ---------------------------------------------------------------------------
NO_PRINCIPAL = ('{"Version":"1","Statement":[{"Action":["oss:GetObject"],"Effect":"Allow",'
                '"Resource":["acs:oss:*:*:%s/*"]}]}')


def anonymous_get(ossify, name, key):
    return requests.get("%s/%s/%s" % (ossify.endpoint(HZ), name, key)).status_code


def test_policy_without_principal_is_public(ctx, bucket, ossify):
    name = bucket.bucket_name
    bucket.put_object("k", b"v")
    bucket.put_bucket_policy(NO_PRINCIPAL % name)
    r = ctx.raw("GET", name, params={"policyStatus": ""})
    assert r.status_code == 200 and b"<IsPublic>true</IsPublic>" in r.content
    # It applies to everyone, anonymous requesters too...
    assert anonymous_get(ossify, name, "k") == 200
    # ...so Block Public Access ignores it, and refuses to store it anew.
    bucket.put_bucket_public_access_block(True)
    assert anonymous_get(ossify, name, "k") == 403
    bucket.delete_bucket_policy()
    with pytest.raises(oe.AccessDenied):
        bucket.put_bucket_policy(NO_PRINCIPAL % name)
    with pytest.raises(oe.NoSuchBucketPolicy):
        bucket.get_bucket_policy()
    r = ctx.raw("GET", name, params={"policyStatus": ""})
    assert b"<IsPublic>false</IsPublic>" in r.content


def test_v2_policy_status_without_principal(v2):
    name = unique_bucket_name("v2pol")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        policy = NO_PRINCIPAL % name
        v2.put_bucket_policy(oss.PutBucketPolicyRequest(bucket=name, body=policy))
        assert v2.get_bucket_policy(oss.GetBucketPolicyRequest(bucket=name)).body == policy
        r = v2.get_bucket_policy_status(oss.GetBucketPolicyStatusRequest(bucket=name))
        assert r.policy_status.is_public is True
        v2.delete_bucket_policy(oss.DeleteBucketPolicyRequest(bucket=name))
        r = v2.get_bucket_policy_status(oss.GetBucketPolicyStatusRequest(bucket=name))
        assert r.policy_status.is_public is False
    finally:
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# Put/GetBucketRequestPayment and pay-by-requester
# ---------------------------------------------------------------------------
PUBLIC_READ_POLICY = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
                      '"Principal":["*"],"Resource":["acs:oss:*:*:%s/*"]}]}')


def payment(ctx, name, body=None):
    if body is None:
        return ctx.raw("GET", name, params={"requestPayment": ""})
    return ctx.raw("PUT", name, params={"requestPayment": ""}, data=body)


def test_request_payment_config(ctx, bucket):
    name = bucket.bucket_name
    r = payment(ctx, name)
    assert r.status_code == 200, r.text
    assert b"<Payer>BucketOwner</Payer>" in r.content
    for bad in (b"<RequestPaymentConfiguration><Payer>Nobody</Payer></RequestPaymentConfiguration>",
                b"<RequestPaymentConfiguration></RequestPaymentConfiguration>",
                b"<Other/>"):
        r = payment(ctx, name, bad)
        assert (r.status_code, error_of(r)["Code"]) == (400, "MalformedXML"), bad
    assert b"<Payer>BucketOwner</Payer>" in payment(ctx, name).content
    r = payment(ctx, name, b"<RequestPaymentConfiguration><Payer>Requester</Payer>"
                           b"</RequestPaymentConfiguration>")
    assert r.status_code == 200, r.text
    r = payment(ctx, name)
    assert r.content.endswith(b"<RequestPaymentConfiguration><Payer>Requester</Payer>"
                              b"</RequestPaymentConfiguration>")
    # Another account may not read or change it.
    r = ctx.raw("GET", name, keys=ctx.env.root2, params={"requestPayment": ""})
    assert (r.status_code, error_of(r)["Code"]) == (403, "AccessDenied")


def test_pay_by_requester_refuses_anonymous_and_unacknowledged(ctx, bucket, ossify):
    name = bucket.bucket_name
    bucket.put_object("k", b"data")
    bucket.put_bucket_policy(PUBLIC_READ_POLICY % name)
    assert anonymous_get(ossify, name, "k") == 200
    other = ctx.bucket(name, keys=ctx.env.root2)
    assert other.get_object("k").read() == b"data"
    assert payment(ctx, name, b"<RequestPaymentConfiguration><Payer>Requester</Payer>"
                              b"</RequestPaymentConfiguration>").status_code == 200
    # Anonymous: refused, whatever the policy says.
    r = requests.get("%s/%s/k" % (ossify.endpoint(HZ), name),
                     headers={"x-oss-request-payer": "requester"})
    assert r.status_code == 403
    assert (error_of(r)["Code"], error_of(r)["EC"]) == ("AccessDenied", "0003-00000701")
    # Another account: only with x-oss-request-payer: requester.
    with pytest.raises(oe.AccessDenied) as ei:
        other.get_object("k")
    assert ei.value.ec == "0003-00000703"
    assert other.get_object("k", headers={"x-oss-request-payer": "requester"}).read() == b"data"
    url = other.sign_url("GET", "k", 60)
    r = requests.get(url)
    assert (r.status_code, error_of(r)["EC"]) == (403, "0003-00000702")
    url = other.sign_url("GET", "k", 60, params={"x-oss-request-payer": "requester"})
    assert requests.get(url).content == b"data"
    # The owner needs nothing.
    assert bucket.get_object("k").read() == b"data"
    # Back to BucketOwner: the old rules apply again.
    assert payment(ctx, name, b"<RequestPaymentConfiguration><Payer>BucketOwner</Payer>"
                              b"</RequestPaymentConfiguration>").status_code == 200
    assert anonymous_get(ossify, name, "k") == 200


def test_v2_request_payment_and_payer_header(v2, ossify):
    name = unique_bucket_name("v2pay")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    other = make_v2_client(ossify, keys=ossify.root2)
    try:
        r = v2.get_bucket_request_payment(oss.GetBucketRequestPaymentRequest(bucket=name))
        assert r.request_payment_configuration.payer == "BucketOwner"
        v2.put_bucket_request_payment(oss.PutBucketRequestPaymentRequest(
            bucket=name, request_payment_configuration=oss.RequestPaymentConfiguration(payer="Requester")))
        r = v2.get_bucket_request_payment(oss.GetBucketRequestPaymentRequest(bucket=name))
        assert r.request_payment_configuration.payer == "Requester"
        v2.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"v"))
        v2.put_bucket_policy(oss.PutBucketPolicyRequest(bucket=name, body=PUBLIC_READ_POLICY % name))
        with pytest.raises(oss.exceptions.OperationError) as ei:
            other.get_object(oss.GetObjectRequest(bucket=name, key="k"))
        e = v2_service_error(ei)
        assert (e.status_code, e.code, e.ec) == (403, "AccessDenied", "0003-00000703")
        got = other.get_object(oss.GetObjectRequest(bucket=name, key="k", request_payer="requester"))
        assert got.body.read() == b"v"
    finally:
        v2.delete_bucket_policy(oss.DeleteBucketPolicyRequest(bucket=name))
        v2.delete_object(oss.DeleteObjectRequest(bucket=name, key="k"))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# Put/GetBucketTransferAcceleration
# ---------------------------------------------------------------------------
def test_transfer_acceleration_config(ctx, bucket):
    name = bucket.bucket_name
    r = ctx.raw("GET", name, params={"transferAcceleration": ""})
    assert r.status_code == 404
    err = error_of(r)
    assert (err["Code"], err["EC"]) == ("NoSuchTransferAccelerationConfiguration", "0028-00000004")
    r = ctx.raw("PUT", name, params={"transferAcceleration": ""},
                data=b"<TransferAccelerationConfiguration><Enabled>maybe</Enabled>"
                     b"</TransferAccelerationConfiguration>")
    assert (r.status_code, error_of(r)["Code"]) == (400, "MalformedXML")
    assert ctx.raw("GET", name, params={"transferAcceleration": ""}).status_code == 404
    assert bucket.get_bucket_info().transfer_acceleration == "Disabled"
    r = ctx.raw("PUT", name, params={"transferAcceleration": ""},
                data=b"<TransferAccelerationConfiguration><Enabled>true</Enabled>"
                     b"</TransferAccelerationConfiguration>")
    assert r.status_code == 200, r.text
    r = ctx.raw("GET", name, params={"transferAcceleration": ""})
    assert r.content.endswith(b"<TransferAccelerationConfiguration><Enabled>true</Enabled>"
                              b"</TransferAccelerationConfiguration>")
    assert bucket.get_bucket_info().transfer_acceleration == "Enabled"


def test_v2_transfer_acceleration(v2):
    name = unique_bucket_name("v2acc")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        for enabled in (True, False):
            v2.put_bucket_transfer_acceleration(oss.PutBucketTransferAccelerationRequest(
                bucket=name,
                transfer_acceleration_configuration=oss.TransferAccelerationConfiguration(enabled=enabled)))
            r = v2.get_bucket_transfer_acceleration(oss.GetBucketTransferAccelerationRequest(bucket=name))
            assert r.transfer_acceleration_configuration.enabled is enabled
            info = v2.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
            assert info.transfer_acceleration == ("Enabled" if enabled else "Disabled")
    finally:
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# Operations this server lacks: a bad signature is answered first
# ---------------------------------------------------------------------------
def test_unimplemented_subresource_checks_the_signature_first(ctx, bucket, ossify):
    from conftest import Keys
    name = bucket.bucket_name
    bogus = Keys("LTAIbogus", "nope")
    r = ctx.raw("GET", name, keys=bogus, params={"userDefinedLogFieldsConfig": ""})
    assert (r.status_code, error_of(r)["Code"]) == (403, "InvalidAccessKeyId")
    r = ctx.raw("GET", name, keys=Keys(ctx.env.root1.id, "wrong-secret"),
                params={"userDefinedLogFieldsConfig": ""})
    assert (r.status_code, error_of(r)["Code"]) == (403, "SignatureDoesNotMatch")
    r = ctx.raw("GET", name, params={"userDefinedLogFieldsConfig": ""})
    assert (r.status_code, error_of(r)["Code"]) == (501, "NotImplemented")
    # Anonymous requests carry no signature: still NotImplemented.
    r = requests.get("%s/%s?userDefinedLogFieldsConfig" % (ossify.endpoint(HZ), name))
    assert (r.status_code, error_of(r)["Code"]) == (501, "NotImplemented")


# ---------------------------------------------------------------------------
# PutBucketAcl on a missing bucket authenticates first (it creates the bucket, as
# PutBucket; test_oss2.py::test_put_bucket_acl_creates_a_missing_bucket)
# ---------------------------------------------------------------------------
def test_v2_put_bucket_acl_invalid_key_missing_bucket(ossify):
    from conftest import Keys
    bad = make_v2_client(ossify, keys=Keys("invalid-ak", "invalid"))
    name = unique_bucket_name("v2noacl")
    with pytest.raises(oss.exceptions.OperationError) as ei:
        bad.put_bucket_acl(oss.PutBucketAclRequest(bucket=name, acl="public-read-write"))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (403, "InvalidAccessKeyId")
    with pytest.raises(oss.exceptions.OperationError) as ei:
        bad.get_bucket_acl(oss.GetBucketAclRequest(bucket=name))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (404, "NoSuchBucket")


# ---------------------------------------------------------------------------
# GetBucketLifecycle: a transition on the last modified time says IsAccessTime false
# ---------------------------------------------------------------------------
def test_lifecycle_transition_lists_is_access_time_false(ctx, bucket):
    from oss2.models import BucketLifecycle, LifecycleRule, StorageTransition
    bucket.put_bucket_lifecycle(BucketLifecycle([LifecycleRule(
        "t", "logs/", status=LifecycleRule.ENABLED,
        storage_transitions=[StorageTransition(days=30, storage_class="IA")])]))
    r = ctx.raw("GET", bucket.bucket_name, params={"lifecycle": ""})
    assert (b"<Transition><Days>30</Days><StorageClass>IA</StorageClass>"
            b"<IsAccessTime>false</IsAccessTime></Transition>") in r.content, r.text
    t = bucket.get_bucket_lifecycle().rules[0].storage_transitions[0]
    assert (t.days, t.storage_class, t.is_access_time) == (30, "IA", False)


def test_v2_lifecycle_created_before_date_and_is_access_time(v2):
    import datetime
    name = unique_bucket_name("v2lc")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        v2.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
            bucket=name, lifecycle_configuration=oss.LifecycleConfiguration(rules=[oss.LifecycleRule(
                prefix="python-test", status="Enabled",
                transitions=[oss.LifecycleRuleTransition(
                    created_before_date=datetime.datetime(2023, 12, 17), storage_class="IA",
                    is_access_time=False)])])))
        got = v2.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
        t = got.lifecycle_configuration.rules[0].transitions[0]
        assert t.created_before_date.strftime("%Y-%m-%d") == "2023-12-17"
        assert (t.storage_class, t.is_access_time) == ("IA", False)
    finally:
        v2.delete_bucket_lifecycle(oss.DeleteBucketLifecycleRequest(bucket=name))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))
