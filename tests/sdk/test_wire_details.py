"""Smaller wire differences with OSS (issue #12): each answer shaped as OSS shapes it."""

import alibabacloud_oss_v2 as oss
import oss2
import pytest

from conftest import (Keys, Oss2Ctx, make_v2_client, signed_request, unique_bucket_name,
                      v2_service_error)


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def bucket(ctx):
    return ctx.new_bucket("wire")


@pytest.fixture(scope="module")
def v2(ossify):
    client = make_v2_client(ossify)
    created = []

    def new_bucket(tag):
        name = unique_bucket_name("v2-" + tag)
        client.put_bucket(oss.PutBucketRequest(bucket=name))
        created.append(name)
        return name

    yield client, new_bucket
    for name in created:
        for page in client.list_objects_v2_paginator().iter_page(
                oss.ListObjectsV2Request(bucket=name)):
            for o in page.contents or []:
                client.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
        try:
            client.delete_bucket_cors(oss.DeleteBucketCorsRequest(bucket=name))
        except Exception:
            pass
        client.delete_bucket(oss.DeleteBucketRequest(bucket=name))


# ---------------------------------------------------------------------------
# CopyObject with REPLACE
# ---------------------------------------------------------------------------
def test_copy_replace_without_content_type_keeps_the_sources(ctx, bucket):
    bucket.put_object("page.bin", b"<p>", headers={"Content-Type": "text/html",
                                                   "x-oss-meta-old": "1"})
    # oss2's update_object_meta: a copy onto itself with REPLACE.
    bucket.update_object_meta("page.bin", {"x-oss-meta-new": "2"})
    head = bucket.head_object("page.bin")
    assert head.content_type == "text/html"
    assert head.headers["x-oss-meta-new"] == "2"
    assert "x-oss-meta-old" not in head.headers
    # To another key as well; an explicit Content-Type still replaces it.
    bucket.copy_object(bucket.bucket_name, "page.bin", "copy.bin",
                       headers={"x-oss-metadata-directive": "REPLACE"})
    assert bucket.head_object("copy.bin").content_type == "text/html"
    bucket.copy_object(bucket.bucket_name, "page.bin", "copy2.bin",
                       headers={"x-oss-metadata-directive": "REPLACE",
                                "Content-Type": "text/plain"})
    assert bucket.head_object("copy2.bin").content_type == "text/plain"


def test_v2_copy_replace_keeps_content_type(v2):
    client, new_bucket = v2
    name = new_bucket("copy")
    client.put_object(oss.PutObjectRequest(bucket=name, key="s", body=b"{}",
                                           content_type="application/json"))
    client.copy_object(oss.CopyObjectRequest(bucket=name, key="d", source_key="s",
                                             metadata_directive="REPLACE",
                                             metadata={"k": "v"}))
    head = client.head_object(oss.HeadObjectRequest(bucket=name, key="d"))
    assert head.content_type == "application/json"
    assert head.metadata == {"k": "v"}


# ---------------------------------------------------------------------------
# PutBucketAcl
# ---------------------------------------------------------------------------
def test_put_bucket_acl_answers_location(ctx, bucket):
    r = ctx.raw("PUT", bucket.bucket_name, params={"acl": ""},
                headers={"x-oss-acl": "public-read"})
    assert r.status_code == 200
    assert r.headers["Location"] == "/" + bucket.bucket_name
    assert bucket.get_bucket_acl().acl == "public-read"
    bucket.put_bucket_acl("private")


# ---------------------------------------------------------------------------
# CORS: AllowedHeader stored lower-case; preflight ignores any signature
# ---------------------------------------------------------------------------
def test_v2_cors_allowed_headers_are_lower_cased(v2):
    client, new_bucket = v2
    name = new_bucket("cors")
    client.put_bucket_cors(oss.PutBucketCorsRequest(
        bucket=name,
        cors_configuration=oss.CORSConfiguration(
            cors_rules=[oss.CORSRule(
                allowed_origins=["Jsd>>S5swN", "http://App.Test"],
                allowed_methods=["GET", "HEAD"],
                allowed_headers=["X-Oss-Meta-Mixed", "Content-TYPE"],
                expose_headers=["ETag", "X-Oss-Request-Id"],
                max_age_seconds=33012,
            )],
            response_vary=True,
        )))
    got = client.get_bucket_cors(oss.GetBucketCorsRequest(bucket=name)).cors_configuration
    rule = got.cors_rules[0]
    assert rule.allowed_origins == ["Jsd>>S5swN", "http://App.Test"]
    assert rule.allowed_headers == ["x-oss-meta-mixed", "content-type"]
    assert rule.expose_headers == ["ETag", "X-Oss-Request-Id"]
    assert got.response_vary is True
    r = client.option_object(oss.OptionObjectRequest(
        bucket=name, key="k", origin="Jsd>>S5swN", access_control_request_method="HEAD",
        access_control_request_headers="X-Oss-Meta-Mixed"))
    assert r.access_control_allow_origin == "Jsd>>S5swN"
    assert r.access_control_allow_methods == "GET, HEAD"
    assert r.access_control_allow_headers == "X-Oss-Meta-Mixed"


def test_v2_preflight_ignores_bad_credentials(ossify, v2):
    client, new_bucket = v2
    name = new_bucket("cors-auth")
    client.put_bucket_cors(oss.PutBucketCorsRequest(
        bucket=name,
        cors_configuration=oss.CORSConfiguration(cors_rules=[oss.CORSRule(
            allowed_origins=["http://app.test"], allowed_methods=["GET"])])))
    bad = make_v2_client(ossify, keys=Keys("LTAIunknown", "nope"))
    r = bad.option_object(oss.OptionObjectRequest(
        bucket=name, key="k", origin="http://app.test", access_control_request_method="GET"))
    assert r.status_code == 200
    assert r.access_control_allow_origin == "http://app.test"
    # A refused preflight is AccessForbidden, never an authentication error.
    with pytest.raises(oss.exceptions.OperationError) as ei:
        bad.option_object(oss.OptionObjectRequest(
            bucket=name, key="k", origin="http://evil.test", access_control_request_method="GET"))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (403, "AccessForbidden")


def test_preflight_with_wrong_signature(ossify, ctx, bucket):
    bucket.put_bucket_cors(oss2.models.BucketCors([oss2.models.CorsRule(
        allowed_origins=["http://app.test"], allowed_methods=["PUT"])]))
    try:
        wrong_auth = ctx.auth(Keys(ctx.env.root1.id, "wrong-secret"))
        r = signed_request(wrong_auth, "OPTIONS", ossify.hz, bucket.bucket_name, "k",
                           headers={"Origin": "http://app.test",
                                    "Access-Control-Request-Method": "PUT"})
        assert r.status_code == 200, r.text
        assert r.headers["Access-Control-Allow-Origin"] == "http://app.test"
    finally:
        bucket.delete_bucket_cors()


# ---------------------------------------------------------------------------
# GetBucketInfo
# ---------------------------------------------------------------------------
def test_v2_bucket_info_fields(v2):
    client, new_bucket = v2
    name = new_bucket("info")
    info = client.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
    assert info.block_public_access is False
    assert info.access_monitor == "Disabled"
    assert info.cross_region_replication == "Disabled"
    assert info.transfer_acceleration == "Disabled"
    assert info.data_redundancy_type == "LRS"
    assert info.sse_rule.sse_algorithm is not None
    assert info.resource_group_id is not None
    assert info.bucket_policy is not None  # the logging target, empty here


# ---------------------------------------------------------------------------
# InitiateMultipartUpload keeps ACL and tags; ListParts carries the
# client-side-encryption metadata given at initiate as ClientEncryption* elements
# (the v2 SDK's EncryptionClient rebuilds its envelope from them)
# ---------------------------------------------------------------------------
CSE = {
    "client-side-encryption-key": "a2V5",
    "client-side-encryption-start": "c3RhcnQ=",
    "client-side-encryption-cek-alg": "AES/CTR/NoPadding",
    "client-side-encryption-wrap-alg": "RSA/NONE/PKCS1Padding",
    "client-side-encryption-data-size": "204800",
    "client-side-encryption-part-size": "102400",
}


def test_initiate_multipart_acl_tags_and_listparts_encryption(ctx, bucket, ossify):
    headers = {"x-oss-meta-" + k: v for k, v in CSE.items()}
    headers.update({"x-oss-object-acl": "public-read", "x-oss-tagging": "a=1&b=2",
                    "x-oss-meta-plain": "kept"})
    upload_id = bucket.init_multipart_upload("mp", headers=headers).upload_id
    part = bucket.upload_part("mp", upload_id, 1, b"p" * 10)
    listed = make_v2_client(ossify).list_parts(oss.ListPartsRequest(
        bucket=bucket.bucket_name, key="mp", upload_id=upload_id))
    assert listed.client_encryption_key == "a2V5"
    assert listed.client_encryption_start == "c3RhcnQ="
    assert listed.client_encryption_cek_alg == "AES/CTR/NoPadding"
    assert listed.client_encryption_wrap_alg == "RSA/NONE/PKCS1Padding"
    assert listed.client_encryption_data_size == 204800
    assert listed.client_encryption_part_size == 102400
    assert [p.part_number for p in listed.parts] == [1]
    bucket.complete_multipart_upload("mp", upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert bucket.get_object_acl("mp").acl == "public-read"
    assert bucket.get_object_tagging("mp").tag_set.tagging_rule == {"a": "1", "b": "2"}
    assert bucket.head_object("mp").headers["x-oss-meta-plain"] == "kept"


def test_listparts_without_encryption_has_no_client_encryption(ctx, bucket, ossify):
    upload_id = bucket.init_multipart_upload("plain-mp").upload_id
    r = ctx.raw("GET", bucket.bucket_name, "plain-mp", params={"uploadId": upload_id})
    assert r.status_code == 200
    assert b"ClientEncryption" not in r.content
    bucket.abort_multipart_upload("plain-mp", upload_id)
