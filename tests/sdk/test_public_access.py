"""Block Public Access, as OSS applies it at account and bucket level: while it holds,
public ACLs and public bucket-policy statements grant nothing, and no new public ACL
or policy can be set (403 AccessDenied); turning it off restores what was there.
GetBucketPolicyStatus says whether the policy is public."""

import base64
import hashlib

import oss2
import pytest
import requests

from conftest import HZ, Oss2Ctx, error_of, object_url
from s3util import expect_error, s3_client


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


def block(ctx, bucket_name, value, level="bucket"):
    """PUT ?publicAccessBlock on the bucket or (level="account") the service."""
    body = ("<PublicAccessBlockConfiguration><BlockPublicAccess>%s</BlockPublicAccess>"
            "</PublicAccessBlockConfiguration>" % ("true" if value else "false")).encode()
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    r = ctx.raw("PUT", bucket_name if level == "bucket" else "",
                params={"publicAccessBlock": ""}, data=body, headers=headers)
    assert r.status_code == 200, r.content
    return r


def blocked(ctx, bucket_name="", level="bucket"):
    r = ctx.raw("GET", bucket_name if level == "bucket" else "", params={"publicAccessBlock": ""})
    assert r.status_code == 200, r.content
    return b"<BlockPublicAccess>true</BlockPublicAccess>" in r.content


PUBLIC_POLICY = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
                 '"Principal":["*"],"Resource":["acs:oss:*:*:%s/*"]}]}')


def anonymous_status(ossify, bucket, key):
    return requests.get(object_url(ossify.endpoint(HZ), bucket, key)).status_code


def test_bucket_level_ignores_and_refuses_public_grants(ctx, ossify):
    b = ctx.new_bucket("pab", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    name = b.bucket_name
    b.put_object("k", b"v")
    assert anonymous_status(ossify, name, "k") == 200
    assert blocked(ctx, name) is False
    block(ctx, name, True)
    assert blocked(ctx, name) is True
    assert b.get_bucket_info().headers  # still readable by the owner
    info = ctx.raw("GET", name, params={"bucketInfo": ""})
    assert b"<BlockPublicAccess>true</BlockPublicAccess>" in info.content
    # The public ACL stays stored but grants nothing.
    assert b.get_bucket_acl().acl == "public-read"
    assert anonymous_status(ossify, name, "k") == 403
    # No new public permission can be set, on the bucket or on objects.
    for call in (lambda: b.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE),
                 lambda: b.put_object_acl("k", oss2.OBJECT_ACL_PUBLIC_READ),
                 lambda: b.put_object("new", b"x", headers={"x-oss-object-acl": "public-read"}),
                 lambda: b.init_multipart_upload("mp", headers={"x-oss-object-acl": "public-read"}),
                 lambda: b.put_bucket_policy(PUBLIC_POLICY % name)):
        with pytest.raises(oss2.exceptions.AccessDenied):
            call()
    assert not b.object_exists("new")
    assert b.get_object_acl("k").acl == "default"
    # Private grants still work.
    b.put_object_acl("k", oss2.OBJECT_ACL_PRIVATE)
    b.put_object("new", b"x")
    # Turning it off restores the public ACL's effect.
    r = ctx.raw("DELETE", name, params={"publicAccessBlock": ""})
    assert r.status_code == 204
    assert blocked(ctx, name) is False
    assert anonymous_status(ossify, name, "new") == 200


def test_public_policies_are_ignored_while_blocked(ctx, ossify):
    b = ctx.new_bucket("pabpol")
    name = b.bucket_name
    b.put_object("k", b"v")
    r = ctx.raw("GET", name, params={"policyStatus": ""})
    assert b"<IsPublic>false</IsPublic>" in r.content
    b.put_bucket_policy(PUBLIC_POLICY % name)
    r = ctx.raw("GET", name, params={"policyStatus": ""})
    assert r.status_code == 200 and b"<IsPublic>true</IsPublic>" in r.content
    assert anonymous_status(ossify, name, "k") == 200
    block(ctx, name, True)
    assert anonymous_status(ossify, name, "k") == 403
    # A statement tied to a source address is not public: it is kept and applies.
    restricted = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
                  '"Principal":["*"],"Resource":["acs:oss:*:*:%s/*"],'
                  '"Condition":{"IpAddress":{"acs:SourceIp":["127.0.0.1/32"]}}}]}' % name)
    b.put_bucket_policy(restricted)
    r = ctx.raw("GET", name, params={"policyStatus": ""})
    assert b"<IsPublic>false</IsPublic>" in r.content
    assert anonymous_status(ossify, name, "k") == 200


def test_account_level_applies_to_every_bucket(ctx, ossify):
    b = ctx.new_bucket("pabacct", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    name = b.bucket_name
    b.put_object("k", b"v")
    try:
        assert blocked(ctx, level="account") is False
        block(ctx, "", True, level="account")
        assert blocked(ctx, level="account") is True
        # The bucket's own setting is off; the account's holds.
        assert blocked(ctx, name) is False
        assert anonymous_status(ossify, name, "k") == 403
        # New buckets cannot be created public.
        with pytest.raises(oss2.exceptions.AccessDenied):
            ctx.new_bucket("pabnew", acl=oss2.BUCKET_ACL_PUBLIC_READ)
        # S3 requests see the same rules.
        s3 = s3_client(ossify.endpoint(HZ))
        expect_error("AccessDenied", 403, s3.put_object_acl, Bucket=name, Key="k",
                     ACL="public-read")
        anon = s3_client(ossify.endpoint(HZ), anonymous=True)
        expect_error("AccessDenied", 403, anon.get_object, Bucket=name, Key="k")
    finally:
        r = ctx.raw("DELETE", "", params={"publicAccessBlock": ""})
        assert r.status_code == 204
    assert anonymous_status(ossify, name, "k") == 200


def test_bad_configuration_and_other_accounts(ctx, ossify):
    b = ctx.new_bucket("pabbad")
    body = b"<PublicAccessBlockConfiguration><BlockPublicAccess>maybe</BlockPublicAccess></PublicAccessBlockConfiguration>"
    headers = {"Content-MD5": base64.b64encode(hashlib.md5(body).digest()).decode()}
    r = ctx.raw("PUT", b.bucket_name, params={"publicAccessBlock": ""}, data=body, headers=headers)
    assert r.status_code == 400 and error_of(r)["Code"] == "MalformedXML"
    assert blocked(ctx, b.bucket_name) is False
    # Another account may neither read nor change the setting.
    r = ctx.raw("PUT", b.bucket_name, keys=ossify.root2, params={"publicAccessBlock": ""},
                data=body, headers=headers)
    assert r.status_code == 403 and error_of(r)["Code"] == "AccessDenied"
    r = ctx.raw("GET", b.bucket_name, keys=ossify.root2, params={"publicAccessBlock": ""})
    assert r.status_code == 403
    # Anonymous requesters have no account setting.
    r = requests.get(ossify.endpoint(HZ) + "/?publicAccessBlock")
    assert r.status_code == 403
