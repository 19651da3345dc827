"""Sub-resources OSS defines but this server does not serve, and unknown ones, are
refused with NotImplemented: none silently becomes another operation."""

import oss2
import pytest

from conftest import Keys, Oss2Ctx, error_of, make_v2_client, unique_bucket_name


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


def test_put_public_access_block_does_not_create_a_bucket(ctx):
    name = unique_bucket_name("pab")
    r = ctx.raw("PUT", name, params={"publicAccessBlock": ""}, data=b"")
    assert r.status_code == 404 and error_of(r)["Code"] == "NoSuchBucket"
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        ctx.bucket(name).get_bucket_info()
    b = ctx.new_bucket("pab")
    r = ctx.raw("PUT", b.bucket_name, params={"publicAccessBlock": ""}, data=b"")
    assert r.status_code == 400 and error_of(r)["Code"] == "MalformedXML"


def test_service_subresources_are_not_list_buckets(ctx):
    r = ctx.raw("GET", params={"regions": ""})
    assert r.status_code == 200 and b"<RegionInfoList>" in r.content
    assert b"ListAllMyBucketsResult" not in r.content
    # ListBuckets' `tagging` filter is not served: refused, not ignored.
    r = ctx.raw("GET", params={"tagging": "k"})
    assert r.status_code == 501 and error_of(r)["Code"] == "NotImplemented"
    assert b"ListAllMyBucketsResult" not in r.content


@pytest.mark.parametrize("sub", ["bogus", "inventory", "accessPoint", "cname"])
def test_bucket_subresources_do_not_list_objects(ctx, sub):
    b = ctx.new_bucket("sub")
    b.put_object("k", b"v")
    r = ctx.raw("GET", b.bucket_name, params={sub: ""})
    assert r.status_code == 501, r.content
    assert error_of(r)["Code"] == "NotImplemented"
    assert b"ListBucketResult" not in r.content


def test_unknown_parameters_with_values_are_ignored(ctx):
    b = ctx.new_bucket("param")
    b.put_object("k", b"value")
    r = ctx.raw("GET", b.bucket_name, "k", params={"X-Oss-Process": "image/resize,w_1"})
    assert r.status_code == 200 and r.content == b"value"


def test_missing_bucket_is_no_such_bucket_before_authentication(ctx, ossify):
    name = unique_bucket_name("gone")
    for auth in (ctx.oss2.Auth("LTAIunknown", "x"), ctx.oss2.Auth(ossify.root1.id, "wrong"),
                 ctx.oss2.AuthV4(ossify.root1.id, "wrong")):
        b = ctx.bucket(name, auth=auth)
        with pytest.raises(oss2.exceptions.NoSuchBucket):
            b.get_bucket_info()
    # The v2 SDK's helper answers from the 404 alone, whatever the key.
    for keys in (Keys("LTAIunknown", "x"), Keys(ossify.root1.id, "wrong")):
        assert make_v2_client(ossify, keys=keys).is_bucket_exist(name) is False
    # A sub-resource on a missing bucket is NoSuchBucket, not NotImplemented.
    r = ctx.raw("GET", name, params={"publicAccessBlock": ""})
    assert r.status_code == 404 and error_of(r)["Code"] == "NoSuchBucket"


def test_existing_bucket_still_needs_a_valid_signature(ctx, ossify):
    b = ctx.new_bucket("exists")
    b.put_object("k", b"v")
    wrong = ctx.bucket(b.bucket_name, auth=ctx.oss2.Auth(ossify.root1.id, "wrong"))
    with pytest.raises(oss2.exceptions.SignatureDoesNotMatch):
        wrong.get_object("k")
    unknown = ctx.bucket(b.bucket_name, auth=ctx.oss2.Auth("LTAIunknown", "x"))
    with pytest.raises(oss2.exceptions.ServerError) as e:
        unknown.get_object("missing-key")
    assert (e.value.status, e.value.code) == (403, "InvalidAccessKeyId")
    # A wrong key still learns that the bucket exists (a 403, not a 404), as on OSS.
    assert make_v2_client(ossify, keys=Keys(ossify.root1.id, "wrong")).is_bucket_exist(
        b.bucket_name) is True
