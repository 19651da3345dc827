"""S3 ACLs as S3 has them, over the same stored data as OSS's canned ACLs: grants to
accounts (CanonicalUser = account id) and to the AllUsers / AuthenticatedUsers groups,
the six canned ACLs, objects private to their writer by default, writes governed by
the bucket's ACL; S3's PublicAccessBlock (four switches) over the core's Block Public
Access, which OSS's one switch sets whole. Checked with boto3 and, across dialects,
with oss2 (V1 and V4)."""

import json

import pytest

from conftest import ROOT1, ROOT2, Oss2Ctx
from s3util import buckets, expect_error, s3_client

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
OWNER = ROOT1.account_id
OTHER = ROOT2.account_id


@pytest.fixture(scope="module")
def s3(ossify):
    return s3_client(ossify.hz)


@pytest.fixture(scope="module")
def s3_other(ossify):
    return s3_client(ossify.hz, keys=ROOT2)


@pytest.fixture(params=["v1", "v4"])
def oss(request, ossify):
    ctx = Oss2Ctx(ossify, request.param)
    yield ctx
    ctx.cleanup()


def grants(response):
    """(grantee, permission) in the order answered; a grantee is an id or a group URI."""
    out = []
    for g in response["Grants"]:
        grantee = g["Grantee"]
        if grantee["Type"] == "CanonicalUser":
            assert grantee["DisplayName"] == grantee["ID"]
            out.append((grantee["ID"], g["Permission"]))
        else:
            assert grantee["Type"] == "Group" and "ID" not in grantee
            out.append((grantee["URI"], g["Permission"]))
    return out


def user(account, permission):
    return {"Grantee": {"Type": "CanonicalUser", "ID": account}, "Permission": permission}


def group(uri, permission):
    return {"Grantee": {"Type": "Group", "URI": uri}, "Permission": permission}


def policy(*grant_list):
    return {"Owner": {"ID": OWNER}, "Grants": list(grant_list)}


def status_of(fn, *args, **kwargs):
    """HTTP status of a boto3 or oss2 call (200 when it succeeds)."""
    import oss2
    from botocore.exceptions import ClientError

    try:
        fn(*args, **kwargs)
        return 200
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]
    except oss2.exceptions.OssError as e:
        return e.status


def test_canned_acls_list_groups_first_and_map_to_oss(oss, s3, buckets):
    name = buckets(ACL="authenticated-read")
    acl = s3.get_bucket_acl(Bucket=name)
    assert acl["Owner"]["ID"] == OWNER
    assert grants(acl) == [(AUTH_USERS, "READ"), (OWNER, "FULL_CONTROL")]
    # OSS has no authenticated-read: its view is private.
    assert oss.bucket(name).get_bucket_acl().acl == "private"
    s3.put_bucket_acl(Bucket=name, ACL="public-read-write")
    assert grants(s3.get_bucket_acl(Bucket=name)) == [
        (ALL_USERS, "READ"), (ALL_USERS, "WRITE"), (OWNER, "FULL_CONTROL")]
    assert oss.bucket(name).get_bucket_acl().acl == "public-read-write"
    # A body with the owner's grant first is answered groups first too.
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy(
        user(OWNER, "FULL_CONTROL"), group(ALL_USERS, "READ")))
    assert grants(s3.get_bucket_acl(Bucket=name)) == [(ALL_USERS, "READ"), (OWNER, "FULL_CONTROL")]
    assert oss.bucket(name).get_bucket_acl().acl == "public-read"
    # An OSS canned ACL replaces S3's grants.
    s3.put_bucket_acl(Bucket=name, ACL="authenticated-read")
    oss.bucket(name).put_bucket_acl(oss.oss2.BUCKET_ACL_PUBLIC_READ)
    assert grants(s3.get_bucket_acl(Bucket=name)) == [(ALL_USERS, "READ"), (OWNER, "FULL_CONTROL")]


def test_s3_objects_are_private_to_their_writer(oss, s3, s3_other, buckets):
    name = buckets(ACL="public-read")
    s3.put_object(Bucket=name, Key="s3", Body=b"from s3")
    ob = oss.bucket(name)
    ob.put_object("oss", b"from oss")
    # Written through S3 without an ACL: private (not the bucket's public-read), for
    # OSS readers too.
    assert ob.get_object_acl("s3").acl == "private"
    assert grants(s3.get_object_acl(Bucket=name, Key="s3")) == [(OWNER, "FULL_CONTROL")]
    assert status_of(oss.anon_bucket(name).get_object, "s3") == 403
    expect_error("AccessDenied", 403, s3_other.get_object, Bucket=name, Key="s3")
    # Written through OSS without an ACL: `default`, shown to S3 as the bucket's grants.
    assert ob.get_object_acl("oss").acl == "default"
    assert grants(s3.get_object_acl(Bucket=name, Key="oss")) == [
        (ALL_USERS, "READ"), (OWNER, "FULL_CONTROL")]
    assert oss.anon_bucket(name).get_object("oss").read() == b"from oss"
    assert s3_other.get_object(Bucket=name, Key="oss")["Body"].read() == b"from oss"
    # A copy through S3 gets the ACL asked for (private by default), not the source's.
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "oss"})
    assert ob.get_object_acl("copy").acl == "private"
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "s3"},
                   ACL="public-read")
    assert oss.anon_bucket(name).get_object("copy").read() == b"from s3"


def test_grants_to_another_account(oss, s3, s3_other, buckets):
    name = buckets()
    s3.put_object(Bucket=name, Key="k", Body=b"shared")
    expect_error("AccessDenied", 403, s3_other.get_object, Bucket=name, Key="k")
    s3.put_object_acl(Bucket=name, Key="k", AccessControlPolicy=policy(
        user(OWNER, "FULL_CONTROL"), user(OTHER, "READ")))
    assert grants(s3.get_object_acl(Bucket=name, Key="k")) == [
        (OWNER, "FULL_CONTROL"), (OTHER, "READ")]
    assert s3_other.get_object(Bucket=name, Key="k")["Body"].read() == b"shared"
    other_oss = oss.bucket(name, keys=oss.env.root2)
    assert other_oss.get_object("k").read() == b"shared"
    # READ is not READ_ACP nor WRITE_ACP, nor a write.
    expect_error("AccessDenied", 403, s3_other.get_object_acl, Bucket=name, Key="k")
    expect_error("AccessDenied", 403, s3_other.put_object_acl, Bucket=name, Key="k",
                 ACL="public-read")
    expect_error("AccessDenied", 403, s3_other.put_object, Bucket=name, Key="k", Body=b"x")
    assert status_of(oss.anon_bucket(name).get_object, "k") == 403
    assert oss.bucket(name).get_object_acl("k").acl == "private"
    # x-amz-grant-* headers say the same; FULL_CONTROL gives READ_ACP.
    s3.put_object_acl(Bucket=name, Key="k", GrantFullControl='id="%s"' % OTHER,
                      GrantRead='uri="%s"' % AUTH_USERS)
    assert grants(s3_other.get_object_acl(Bucket=name, Key="k")) == [
        (AUTH_USERS, "READ"), (OTHER, "FULL_CONTROL")]
    # OSS's canned ACL replaces the grants.
    oss.bucket(name).put_object_acl("k", oss.oss2.OBJECT_ACL_PUBLIC_READ)
    assert grants(s3.get_object_acl(Bucket=name, Key="k")) == [
        (ALL_USERS, "READ"), (OWNER, "FULL_CONTROL")]
    # A bucket grant of WRITE lets the other account write keys.
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy(
        user(OWNER, "FULL_CONTROL"), user(OTHER, "WRITE")))
    s3_other.put_object(Bucket=name, Key="theirs", Body=b"t")
    expect_error("AccessDenied", 403, s3_other.list_objects, Bucket=name)


def test_bucket_owner_canned_acls_on_another_accounts_object(oss, s3, s3_other, buckets):
    name = buckets(ACL="public-read-write")
    s3_other.put_object(Bucket=name, Key="o", Body=b"by other")
    assert grants(s3_other.get_object_acl(Bucket=name, Key="o")) == [(OTHER, "FULL_CONTROL")]
    assert oss.bucket(name).get_object_acl("o").acl == "private"
    s3_other.put_object(Bucket=name, Key="o", Body=b"by other", ACL="bucket-owner-read")
    assert grants(s3_other.get_object_acl(Bucket=name, Key="o")) == [
        (OTHER, "FULL_CONTROL"), (OWNER, "READ")]
    s3_other.put_object(Bucket=name, Key="o", Body=b"by other", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=name, Key="o")
    assert acl["Owner"]["ID"] == OTHER
    assert grants(acl) == [(OTHER, "FULL_CONTROL"), (OWNER, "FULL_CONTROL")]
    # A canned ACL is relative to the object's owner, whoever sets it.
    s3.put_object_acl(Bucket=name, Key="o", ACL="public-read")
    assert grants(s3.get_object_acl(Bucket=name, Key="o")) == [
        (ALL_USERS, "READ"), (OTHER, "FULL_CONTROL")]
    assert oss.bucket(name).get_object_acl("o").acl == "public-read"
    # A copy belongs to the account that made it.
    s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "o"})
    acl = s3.get_object_acl(Bucket=name, Key="copy")
    assert acl["Owner"]["ID"] == OWNER and grants(acl) == [(OWNER, "FULL_CONTROL")]
    assert oss.bucket(name).get_object_acl("copy").acl == "private"
    # The bucket owner's own objects: the bucket-owner ACLs add nothing.
    s3.put_object(Bucket=name, Key="mine", Body=b"m", ACL="bucket-owner-read")
    assert grants(s3.get_object_acl(Bucket=name, Key="mine")) == [(OWNER, "FULL_CONTROL")]


def test_writes_follow_the_bucket_acl_not_the_objects(oss, s3, s3_other, buckets):
    private = buckets()
    s3.put_object(Bucket=private, Key="k", Body=b"v", ACL="public-read-write")
    # An object's WRITE grant does not let anyone replace it in a private bucket.
    expect_error("AccessDenied", 403, s3_other.put_object, Bucket=private, Key="k", Body=b"x")
    expect_error("AccessDenied", 403, s3_other.delete_object, Bucket=private, Key="k")
    assert status_of(oss.bucket(private, keys=oss.env.root2).put_object, "k", b"x") == 403
    assert s3_other.get_object(Bucket=private, Key="k")["Body"].read() == b"v"

    open_bucket = buckets(ACL="public-read-write")
    s3.put_object(Bucket=open_bucket, Key="k", Body=b"v", ACL="private")
    s3_other.put_object(Bucket=open_bucket, Key="k", Body=b"replaced")
    assert s3_other.get_object(Bucket=open_bucket, Key="k")["Body"].read() == b"replaced"
    s3.put_object_acl(Bucket=open_bucket, Key="k", ACL="private")
    oss.bucket(open_bucket, keys=oss.env.root2).put_object("k", b"oss write")
    s3_other.delete_object(Bucket=open_bucket, Key="k")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=open_bucket, Key="k")


def test_bad_acls_are_refused_and_change_nothing(oss, s3, buckets):
    name = buckets(ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"v", ACL="public-read")
    before = grants(s3.get_bucket_acl(Bucket=name))
    bad = [
        ("InvalidArgument", policy(user(OWNER, "FULL_CONTROL"), user("_foo", "READ"))),
        ("UnresolvableGrantByEmailAddress", policy(user(OWNER, "FULL_CONTROL"), {
            "Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "no@example.invalid"},
            "Permission": "READ"})),
        ("InvalidArgument", policy(group("http://acs.amazonaws.com/groups/s3/LogDelivery", "WRITE"))),
    ]
    for code, body in bad:
        expect_error(code, 400, s3.put_bucket_acl, Bucket=name, AccessControlPolicy=body)
        expect_error(code, 400, s3.put_object_acl, Bucket=name, Key="k", AccessControlPolicy=body)
    expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=name, GrantRead='id="_foo"')
    expect_error("InvalidRequest", 400, s3.put_bucket_acl, Bucket=name, ACL="private",
                 GrantRead='id="%s"' % OTHER)
    client = s3_client(oss.env.hz)

    def bad_canned(params, **kwargs):
        params["headers"]["x-amz-acl"] = "public-ready"
    client.meta.events.register("before-call.s3.PutBucketAcl", bad_canned)
    expect_error("InvalidArgument", 400, client.put_bucket_acl, Bucket=name, ACL="private")
    expect_error("InvalidArgument", 400, s3.create_bucket, Bucket=name + "x", ACL="public-ready")
    expect_error("InvalidArgument", 400, s3.put_object, Bucket=name, Key="new", Body=b"n",
                 ACL="owner-only")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=name, Key="new")
    assert grants(s3.get_bucket_acl(Bucket=name)) == before
    assert grants(s3.get_object_acl(Bucket=name, Key="k")) == [(ALL_USERS, "READ"), (OWNER, "FULL_CONTROL")]
    assert oss.anon_bucket(name).get_object("k").read() == b"v"


def test_revoking_every_grant_keeps_the_owner_in(oss, s3, s3_other, buckets):
    name = buckets(ACL="public-read")
    s3.put_object(Bucket=name, Key="k", Body=b"v")
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy())
    assert s3.get_bucket_acl(Bucket=name)["Grants"] == []
    assert oss.bucket(name).get_bucket_acl().acl == "private"
    expect_error("AccessDenied", 403, s3_other.list_objects, Bucket=name)
    # The owner's account keeps every right to its own bucket.
    assert [o["Key"] for o in s3.list_objects(Bucket=name)["Contents"]] == ["k"]
    s3.put_bucket_acl(Bucket=name, ACL="private")
    assert grants(s3.get_bucket_acl(Bucket=name)) == [(OWNER, "FULL_CONTROL")]


def switches(acls=False, ignore=False, policy=False, restrict=False):
    return {"BlockPublicAcls": acls, "IgnorePublicAcls": ignore,
            "BlockPublicPolicy": policy, "RestrictPublicBuckets": restrict}


def oss_block(oss, name):
    r = oss.raw("GET", name, params={"publicAccessBlock": ""})
    assert r.status_code == 200, r.content
    return b"<BlockPublicAccess>true</BlockPublicAccess>" in r.content


def test_public_access_block_switches(oss, s3, s3_other, buckets):
    name = buckets()
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block,
                 Bucket=name)
    # BlockPublicAcls: public ACLs are refused, private ones are fine.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches(acls=True))
    got = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert got == switches(acls=True)
    assert oss_block(oss, name) is False  # OSS's one switch: all four or nothing
    for acl in ("public-read", "public-read-write", "authenticated-read"):
        expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket=name, ACL=acl)
        expect_error("AccessDenied", 403, s3.put_object, Bucket=name, Key="p", Body=b"", ACL=acl)
    expect_error("AccessDenied", 403, s3.put_bucket_acl, Bucket=name, AccessControlPolicy=policy(
        user(OWNER, "FULL_CONTROL"), group(AUTH_USERS, "READ")))
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=name, Key="p")
    assert grants(s3.get_bucket_acl(Bucket=name)) == [(OWNER, "FULL_CONTROL")]
    s3.put_object(Bucket=name, Key="p", Body=b"", ACL="private")
    s3.put_bucket_acl(Bucket=name, AccessControlPolicy=policy(
        user(OWNER, "FULL_CONTROL"), user(OTHER, "READ")))

    # IgnorePublicAcls: a public ACL stays stored but gives nothing.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches())
    s3.put_bucket_acl(Bucket=name, ACL="authenticated-read")
    s3.put_object(Bucket=name, Key="pub", Body=b"pub", ACL="public-read")
    s3_other.list_objects(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches(ignore=True))
    expect_error("AccessDenied", 403, s3_other.list_objects, Bucket=name)
    expect_error("AccessDenied", 403, s3_other.get_object, Bucket=name, Key="pub")
    assert status_of(oss.anon_bucket(name).get_object, "pub") == 403
    assert grants(s3.get_bucket_acl(Bucket=name)) == [(AUTH_USERS, "READ"), (OWNER, "FULL_CONTROL")]

    # RestrictPublicBuckets: a public policy gives nothing; BlockPublicPolicy refuses one.
    public = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % name}]})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches())
    s3.put_object(Bucket=name, Key="priv", Body=b"priv")
    s3.put_bucket_policy(Bucket=name, Policy=public)
    assert oss.anon_bucket(name).get_object("priv").read() == b"priv"
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches(restrict=True))
    assert status_of(oss.anon_bucket(name).get_object, "priv") == 403
    assert s3.get_object(Bucket=name, Key="priv")["Body"].read() == b"priv"
    s3.delete_bucket_policy(Bucket=name)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches(policy=True))
    expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket=name, Policy=public)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=name)

    # OSS's switch sets all four; OSS reads it as on only then; Delete removes it.
    r = oss.raw("PUT", name, params={"publicAccessBlock": ""}, data=(
        b"<PublicAccessBlockConfiguration><BlockPublicAccess>true</BlockPublicAccess>"
        b"</PublicAccessBlockConfiguration>"))
    assert r.status_code == 200, r.content
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == switches(
        True, True, True, True)
    assert oss_block(oss, name) is True
    assert s3.delete_public_access_block(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block,
                 Bucket=name)
    assert oss_block(oss, name) is False
    s3_other.list_objects(Bucket=name)


def test_public_access_block_needs_the_owner(s3, s3_other, buckets):
    name = buckets()
    expect_error("AccessDenied", 403, s3_other.put_public_access_block, Bucket=name,
                 PublicAccessBlockConfiguration=switches(True, True, True, True))
    expect_error("AccessDenied", 403, s3_other.get_public_access_block, Bucket=name)
    expect_error("AccessDenied", 403, s3_other.delete_public_access_block, Bucket=name)
    expect_error("AccessDenied", 403, s3_other.get_bucket_policy_status, Bucket=name)
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block,
                 Bucket=name)
    # A policy may deny the owner reading the configuration.
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=switches(acls=True))
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetBucketPublicAccessBlock",
        "Resource": "arn:aws:s3:::%s" % name}]}))
    expect_error("AccessDenied", 403, s3.get_public_access_block, Bucket=name)


def test_bucket_policy_status(s3, buckets):
    name = buckets()
    status = lambda: s3.get_bucket_policy_status(Bucket=name)["PolicyStatus"]["IsPublic"]
    assert status() is False
    s3.put_bucket_acl(Bucket=name, ACL="authenticated-read")
    assert status() is True
    s3.put_bucket_acl(Bucket=name, ACL="private")
    assert status() is False
    statement = {"Effect": "Allow", "Action": "s3:ListBucket",
                 "Resource": "arn:aws:s3:::%s" % name}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        dict(statement, Principal={"AWS": "arn:aws:iam::%s:root" % OTHER})]}))
    assert status() is False
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        dict(statement, Principal={"AWS": "*"},
             Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/32"}})]}))
    assert status() is False
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        dict(statement, Principal={"AWS": "*"})]}))
    assert status() is True
