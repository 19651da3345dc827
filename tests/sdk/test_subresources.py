"""Sub-resources OSS defines but this server does not serve, and unknown ones, are
refused with NotImplemented: none silently becomes another operation."""

import oss2
import pytest

from conftest import Oss2Ctx, error_of, unique_bucket_name


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


def test_put_public_access_block_does_not_create_a_bucket(ctx):
    name = unique_bucket_name("pab")
    r = ctx.raw("PUT", name, params={"publicAccessBlock": ""}, data=b"")
    assert r.status_code == 501
    assert error_of(r)["Code"] == "NotImplemented"
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        ctx.bucket(name).get_bucket_info()


def test_regions_is_not_list_buckets(ctx):
    r = ctx.raw("GET", params={"regions": ""})
    assert r.status_code == 501
    assert b"ListAllMyBucketsResult" not in r.content


@pytest.mark.parametrize("sub", ["bogus", "publicAccessBlock", "accessPoint", "cname"])
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
