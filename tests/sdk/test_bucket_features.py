"""Bucket tags (PutBucketTags, GetBucketTags, DeleteBucketTags, ListBuckets by tag),
hotlink protection (PutBucketReferer, GetBucketReferer and its enforcement on object
reads) and DescribeRegions, with oss2 (V1 and V4), alibabacloud-oss-v2, boto3 (bucket
tagging and anonymous reads over the S3 dialect) and plain HTTP."""

import uuid

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from oss2.models import BucketReferer, Tagging, TaggingRule

from conftest import (HZ, READER, ROOT1, ROOT2, SH, Oss2Ctx, error_of, make_image, make_v2_client,
                      object_url, open_image, unique_bucket_name, v2_service_error)
from s3util import BucketMaker, S3Server, expect_error, s3_client

DENIED = "You are denied by bucket referer policy."


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture
def v2(ossify):
    return make_v2_client(ossify)


def tagging(pairs):
    rule = TaggingRule()
    for k, v in pairs:
        rule.add(k, v)
    return Tagging(rule)


def tags_of(bucket):
    return bucket.get_bucket_tagging().tag_set.tagging_rule


def tagging_xml(pairs):
    tags = "".join("<Tag><Key>%s</Key><Value>%s</Value></Tag>" % kv for kv in pairs)
    return ("<Tagging><TagSet>%s</TagSet></Tagging>" % tags).encode()


# ---------------------------------------------------------------------------
# bucket tags
# ---------------------------------------------------------------------------
def test_bucket_tags_put_get_delete(ctx):
    b = ctx.new_bucket("tags")
    # No tags yet: an empty TagSet, not an error.
    r = ctx.raw("GET", b.bucket_name, params={"tagging": ""})
    assert r.status_code == 200
    assert r.content.endswith(b"<Tagging><TagSet></TagSet></Tagging>"), r.content
    assert tags_of(b) == {}
    r = b.put_bucket_tagging(tagging([("team", "img"), ("env", ""), ("名", "值")]))
    assert r.status == 200
    assert tags_of(b) == {"team": "img", "env": "", "名": "值"}
    # PutBucketTags replaces the whole set.
    b.put_bucket_tagging(tagging([("k1", "1"), ("k2", "2"), ("k3", "3")]))
    assert tags_of(b) == {"k1": "1", "k2": "2", "k3": "3"}
    # ?tagging=k1,k3 deletes those keys only; unknown keys are ignored.
    r = b.delete_bucket_tagging(params={"tagging": "k1,k3,nope"})
    assert r.status == 204
    assert tags_of(b) == {"k2": "2"}
    r = b.delete_bucket_tagging()
    assert r.status == 204
    assert tags_of(b) == {}
    assert b.delete_bucket_tagging().status == 204


@pytest.mark.parametrize("body,code,ec", [
    (tagging_xml([("k%d" % i, "v") for i in range(21)]), "InvalidTag", None),
    (tagging_xml([("k" * 65, "v")]), "InvalidTag", "0010-00000219"),
    (tagging_xml([("漢" * 22, "v")]), "InvalidTag", "0010-00000219"),  # 66 bytes
    (tagging_xml([("k", "v" * 129)]), "InvalidTag", "0010-00000219"),
    (tagging_xml([("", "v")]), "InvalidTag", "0010-00000219"),
    (tagging_xml([("Aliyun-owner", "v")]), "InvalidTag", "0010-00000207"),
    (tagging_xml([("https://x", "v")]), "InvalidTag", "0010-00000207"),
    (tagging_xml([("acs:project", "v")]), "InvalidTag", "0010-00000002"),
    (tagging_xml([("a", "1"), ("a", "2")]), "InvalidTag", None),
    (b"<Tagging><TagSet><Tag><Key>a</Key>", "MalformedXML", None),
    (b"<Tagging></Tagging>", "MalformedXML", None),
    (b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>", "MalformedXML", None),
    (b"<Tags/>", "MalformedXML", None),
])
def test_bad_bucket_tags_change_nothing(ctx, body, code, ec):
    b = ctx.new_bucket("badtags")
    b.put_bucket_tagging(tagging([("keep", "me")]))
    r = ctx.raw("PUT", b.bucket_name, params={"tagging": ""}, data=body)
    err = error_of(r)
    assert (r.status_code, err["Code"]) == (400, code), r.content
    assert err.get("EC") == ec
    assert tags_of(b) == {"keep": "me"}


def test_bucket_tag_limits_are_reached_exactly(ctx):
    b = ctx.new_bucket("tagmax")
    pairs = [("k%02d" % i, "v" * 128) for i in range(19)] + [("k" * 64, "")]
    b.put_bucket_tagging(tagging(pairs))
    assert tags_of(b) == dict(pairs)


def test_bucket_tags_need_their_rights(ctx):
    b = ctx.new_bucket("tagrights")
    b.put_bucket_tagging(tagging([("a", "1")]))
    for keys in (ROOT2, READER):
        other = ctx.bucket(b.bucket_name, keys=keys)
        for call in (other.get_bucket_tagging, other.delete_bucket_tagging,
                     lambda: other.put_bucket_tagging(tagging([("x", "y")]))):
            with pytest.raises(oss2.exceptions.AccessDenied):
                call()
    with pytest.raises(oss2.exceptions.AccessDenied):
        ctx.anon_bucket(b.bucket_name).get_bucket_tagging()
    assert tags_of(b) == {"a": "1"}


def test_list_buckets_by_tag(ctx):
    key = "team-" + uuid.uuid4().hex[:8]
    img = ctx.new_bucket("tag-img")
    web = ctx.new_bucket("tag-web")
    ctx.new_bucket("tag-none")
    img.put_bucket_tagging(tagging([(key, "img"), ("x", "1")]))
    web.put_bucket_tagging(tagging([(key, "web")]))
    service = ctx.service()

    def names(**params):
        return [b.name for b in service.list_buckets(params=params).buckets]

    assert names(**{"tag-key": key}) == sorted([img.bucket_name, web.bucket_name])
    assert names(**{"tag-key": key, "tag-value": "web"}) == [web.bucket_name]
    assert names(**{"tag-key": key, "tag-value": "nope"}) == []
    # Paging counts only the buckets that match.
    first = service.list_buckets(max_keys=1, params={"tag-key": key})
    assert first.is_truncated and [b.name for b in first.buckets] == [min(img.bucket_name, web.bucket_name)]
    rest = service.list_buckets(max_keys=1, marker=first.next_marker, params={"tag-key": key})
    assert not rest.is_truncated and [b.name for b in rest.buckets] == [max(img.bucket_name, web.bucket_name)]
    # Another account's buckets never show.
    assert ctx.service(keys=ROOT2).list_buckets(params={"tag-key": key}).buckets == []
    r = ctx.raw("GET", params={"tag-value": "web"})
    assert (r.status_code, error_of(r)["Code"]) == (400, "InvalidArgument")
    r = ctx.raw("GET", params={"tagging": '{"a":"b"}'})
    assert (r.status_code, error_of(r)["Code"]) == (501, "NotImplemented")


def test_v2_bucket_tags(ossify, v2):
    name = unique_bucket_name("v2-tags")
    v2.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        r = v2.get_bucket_tags(oss.GetBucketTagsRequest(bucket=name))
        assert r.status_code == 200 and not (r.tagging.tag_set and r.tagging.tag_set.tags)
        key = "v2-" + uuid.uuid4().hex[:8]
        tags = [oss.Tag(key=key, value="one"), oss.Tag(key="two", value="")]
        r = v2.put_bucket_tags(oss.PutBucketTagsRequest(
            bucket=name, tagging=oss.Tagging(tag_set=oss.TagSet(tags=tags))))
        assert r.status_code == 200
        got = v2.get_bucket_tags(oss.GetBucketTagsRequest(bucket=name)).tagging.tag_set.tags
        assert [(t.key, t.value or "") for t in got] == [(key, "one"), ("two", "")]
        listed = v2.list_buckets(oss.ListBucketsRequest(tag_key=key, tag_value="one"))
        assert [b.name for b in listed.buckets] == [name]
        with pytest.raises(oss.exceptions.OperationError) as e:
            v2.put_bucket_tags(oss.PutBucketTagsRequest(bucket=name, tagging=oss.Tagging(
                tag_set=oss.TagSet(tags=[oss.Tag(key="acs:x", value="v")]))))
        err = v2_service_error(e)
        assert (err.status_code, err.code, err.ec) == (400, "InvalidTag", "0010-00000002")
        r = v2.delete_bucket_tags(oss.DeleteBucketTagsRequest(bucket=name))
        assert r.status_code == 204
        got = v2.get_bucket_tags(oss.GetBucketTagsRequest(bucket=name)).tagging
        assert not (got.tag_set and got.tag_set.tags)
    finally:
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def test_s3_bucket_tagging_and_both_dialects(ossify, ctx):
    s3 = s3_client(ossify.endpoint(HZ))
    b = ctx.new_bucket("s3tags")
    name = b.bucket_name
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=name)
    # Set through OSS, read through S3, and back.
    b.put_bucket_tagging(tagging([("from", "oss"), ("empty", "")]))
    got = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in got) == [("empty", ""), ("from", "oss")]
    # S3 allows 50 tags and longer keys than OSS; OSS reads all of them.
    many = [{"Key": "s3-key-%02d-" % i + "x" * 100, "Value": "v%d" % i} for i in range(50)]
    r = s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": many})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200  # s3s answers 200 (AWS samples show 204)
    assert tags_of(b) == {t["Key"]: t["Value"] for t in many}
    b.delete_bucket_tagging(params={"tagging": many[0]["Key"]})
    assert len(s3.get_bucket_tagging(Bucket=name)["TagSet"]) == 49
    # S3's own limits, and a refused set changes nothing.
    before = s3.get_bucket_tagging(Bucket=name)["TagSet"]
    for bad in ([{"Key": "k%d" % i, "Value": ""} for i in range(51)],
                [{"Key": "aws:cloudformation:stack", "Value": "x"}],
                [{"Key": "k" * 129, "Value": ""}],
                [{"Key": "k", "Value": "v" * 257}],
                [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]):
        expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=name, Tagging={"TagSet": bad})
    assert s3.get_bucket_tagging(Bucket=name)["TagSet"] == before
    expect_error("AccessDenied", 403, s3_client(ossify.endpoint(HZ), keys=ROOT2).get_bucket_tagging,
                 Bucket=name)
    r = s3.delete_bucket_tagging(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=name)
    assert tags_of(b) == {}
    # An S3 tag set back through OSS PutBucketTags' stricter limits.
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "s3", "Value": "1"}]})
    assert tags_of(b) == {"s3": "1"}


# ---------------------------------------------------------------------------
# hotlink protection (Referer)
# ---------------------------------------------------------------------------
def referer_of(bucket):
    r = bucket.get_bucket_referer()
    return (r.allow_empty_referer, r.referers, r.allow_truncate_query_string,
            getattr(r, "black_referers", None) or [])


def test_referer_configuration_round_trip(ctx):
    b = ctx.new_bucket("referer")
    # Never configured: the defaults (empty Referer allowed, no lists).
    r = ctx.raw("GET", b.bucket_name, params={"referer": ""})
    assert r.status_code == 200
    assert r.content.endswith(
        b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer>"
        b"<AllowTruncateQueryString>true</AllowTruncateQueryString><TruncatePath>false</TruncatePath>"
        b"<RefererList></RefererList></RefererConfiguration>"), r.content
    assert referer_of(b) == (True, [], True, [])
    config = BucketReferer(False, ["http://www.aliyun.com", "https://*.example.com", "https://img?.cdn.com"],
                           allow_truncate_query_string=False, black_referers=["*evil*"])
    assert b.put_bucket_referer(config).status == 200
    assert referer_of(b) == (False, ["http://www.aliyun.com", "https://*.example.com",
                                     "https://img?.cdn.com"], False, ["*evil*"])
    # A new configuration replaces the whole one (an empty RefererList clears it).
    b.put_bucket_referer(BucketReferer(True, []))
    assert referer_of(b) == (True, [], True, [])


@pytest.mark.parametrize("body,ec", [
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer>", "0033-00000001"),
    (b"<Referer><AllowEmptyReferer>true</AllowEmptyReferer><RefererList/></Referer>", "0033-00000001"),
    (b"<RefererConfiguration><RefererList/></RefererConfiguration>", "0033-00000002"),
    (b"<RefererConfiguration><AllowEmptyReferer>32</AllowEmptyReferer><RefererList/></RefererConfiguration>",
     "0033-00000003"),
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer></RefererConfiguration>",
     "0033-00000005"),
    (b"<RefererConfiguration><AllowEmptyReferer>true</AllowEmptyReferer><TruncatePath>1</TruncatePath>"
     b"<RefererList/></RefererConfiguration>", None),
])
def test_bad_referer_configurations_change_nothing(ctx, body, ec):
    b = ctx.new_bucket("badref")
    b.put_bucket_referer(BucketReferer(False, ["https://kept.example"]))
    r = ctx.raw("PUT", b.bucket_name, params={"referer": ""}, data=body)
    err = error_of(r)
    assert (r.status_code, err["Code"], err.get("EC")) == (400, "MalformedXML", ec), r.content
    assert referer_of(b) == (False, ["https://kept.example"], True, [])


def test_referer_rights(ctx):
    b = ctx.new_bucket("refrights")
    for keys in (ROOT2, READER):
        other = ctx.bucket(b.bucket_name, keys=keys)
        with pytest.raises(oss2.exceptions.AccessDenied):
            other.get_bucket_referer()
        with pytest.raises(oss2.exceptions.AccessDenied):
            other.put_bucket_referer(BucketReferer(True, []))


def anon_get(ossify, bucket, key, referer=None, method="GET", **params):
    headers = {} if referer is None else {"Referer": referer}
    return requests.request(method, object_url(ossify.endpoint(HZ), bucket, key), params=params,
                            headers=headers)


def assert_referer_denied(r, bucket, ec):
    err = error_of(r)
    assert r.status_code == 403, r.content
    assert (err["Code"], err["Message"], err["BucketName"], err["EC"]) == (
        "AccessDenied", DENIED, bucket, ec)


def test_referer_protects_anonymous_reads(ossify, ctx):
    b = ctx.new_bucket("hotlink", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    name = b.bucket_name
    b.put_object("a.txt", b"protected")
    b.put_object("pic.png", make_image("PNG", size=(40, 20)))
    # No configuration: every Referer passes.
    assert anon_get(ossify, name, "a.txt", "https://anyone.example/").content == b"protected"
    b.put_bucket_referer(BucketReferer(False, ["https://good.example", "https://*.cdn.example/"],
                                       black_referers=["https://good.example/banned"]))
    for referer in ("https://good.example", "https://good.example/page.html?x=1",
                    "https://GOOD.example/", "https://img.cdn.example/a", "https://good.example.org/"):
        r = anon_get(ossify, name, "a.txt", referer)
        assert (r.status_code, r.content) == (200, b"protected"), referer
    assert_referer_denied(anon_get(ossify, name, "a.txt", "https://other.example/"), name, "0003-00000503")
    assert_referer_denied(anon_get(ossify, name, "a.txt", "https://cdn.example/"), name, "0003-00000503")
    assert_referer_denied(anon_get(ossify, name, "a.txt"), name, "0003-00000501")
    assert_referer_denied(anon_get(ossify, name, "a.txt", ""), name, "0003-00000501")
    # The blacklist wins over the whitelist.
    assert_referer_denied(anon_get(ossify, name, "a.txt", "https://good.example/banned/1"), name,
                          "0003-00000502")
    # HEAD is a read too (the error travels in x-oss-err).
    assert anon_get(ossify, name, "a.txt", "https://good.example/", method="HEAD").status_code == 200
    assert_referer_denied(anon_get(ossify, name, "a.txt", "https://other.example/", method="HEAD"),
                          name, "0003-00000503")
    # Image processing: hotlink protection for images.
    r = anon_get(ossify, name, "pic.png", "https://good.example/gallery", **{"x-oss-process": "image/resize,w_10"})
    assert r.status_code == 200 and open_image(r.content).size == (10, 5)
    assert_referer_denied(anon_get(ossify, name, "pic.png", "https://other.example/",
                                   **{"x-oss-process": "image/resize,w_10"}), name, "0003-00000503")
    # Only object reads are protected: listing the public bucket is not.
    r = requests.get(object_url(ossify.endpoint(HZ), name), headers={"Referer": "https://other.example/"})
    assert r.status_code == 200 and b"<Key>a.txt</Key>" in r.content
    # A request signed in the Authorization header is never checked, even the owner's
    # without a Referer or with a blacklisted one.
    assert b.get_object("a.txt").read() == b"protected"
    assert b.get_object("a.txt", headers={"Referer": "https://good.example/banned"}).read() == b"protected"
    assert b.get_object("pic.png", process="image/resize,w_10").read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_referer_protects_presigned_urls(ossify, ctx):
    b = ctx.new_bucket("hotlink-url")  # private
    b.put_object("a.txt", b"signed")
    b.put_object("pic.png", make_image("PNG", size=(40, 20)))
    b.put_bucket_referer(BucketReferer(False, ["https://good.example"]))
    url = b.sign_url("GET", "a.txt", 300)
    r = requests.get(url, headers={"Referer": "https://good.example/p"})
    assert (r.status_code, r.content) == (200, b"signed")
    assert_referer_denied(requests.get(url, headers={"Referer": "https://other.example/"}),
                          b.bucket_name, "0003-00000503")
    assert_referer_denied(requests.get(url), b.bucket_name, "0003-00000501")
    url = b.sign_url("GET", "pic.png", 300, params={"x-oss-process": "image/resize,w_10"})
    r = requests.get(url, headers={"Referer": "https://good.example/"})
    assert r.status_code == 200 and open_image(r.content).size == (10, 5)
    assert requests.get(url, headers={"Referer": "https://other.example/"}).status_code == 403
    # Signed in the header: not checked.
    assert b.get_object("a.txt", headers={"Referer": "https://other.example/"}).read() == b"signed"


def test_referer_query_string_truncation(ossify, ctx):
    b = ctx.new_bucket("hotlink-qs", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    b.put_object("a.txt", b"x")
    referer = "https://site.example/page?from=evil"
    # AllowTruncateQueryString (the default): the query string is not matched.
    b.put_bucket_referer(BucketReferer(True, [], black_referers=["*evil*"]))
    assert anon_get(ossify, b.bucket_name, "a.txt", referer).status_code == 200
    b.put_bucket_referer(BucketReferer(True, [], allow_truncate_query_string=False,
                                       black_referers=["*evil*"]))
    assert_referer_denied(anon_get(ossify, b.bucket_name, "a.txt", referer), b.bucket_name, "0003-00000502")
    assert anon_get(ossify, b.bucket_name, "a.txt", "https://site.example/page?from=fine").status_code == 200
    # With an empty whitelist an empty Referer passes even when not allowed.
    b.put_bucket_referer(BucketReferer(False, [], black_referers=["*evil*"]))
    assert anon_get(ossify, b.bucket_name, "a.txt").status_code == 200


def test_v2_referer(ossify, v2):
    name = unique_bucket_name("v2-referer")
    v2.put_bucket(oss.PutBucketRequest(bucket=name, acl="public-read"))
    try:
        v2.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"v2"))
        r = v2.put_bucket_referer(oss.PutBucketRefererRequest(
            bucket=name, referer_configuration=oss.RefererConfiguration(
                allow_empty_referer=False, allow_truncate_query_string=True, truncate_path=True,
                referer_list=oss.RefererList(referers=["https://good.example"]),
                referer_blacklist=oss.RefererBlacklist(referers=["https://bad.example"]))))
        assert r.status_code == 200
        c = v2.get_bucket_referer(oss.GetBucketRefererRequest(bucket=name)).referer_configuration
        assert (c.allow_empty_referer, c.allow_truncate_query_string, c.truncate_path) == (False, True, True)
        assert c.referer_list.referers == ["https://good.example"]
        assert c.referer_blacklist.referers == ["https://bad.example"]
        # TruncatePath: the whitelist entry names the site, any page of it matches.
        assert anon_get(ossify, name, "k", "https://good.example/deep/page").content == b"v2"
        url = v2.presign(oss.GetObjectRequest(bucket=name, key="k")).url
        assert requests.get(url, headers={"Referer": "https://good.example/x"}).content == b"v2"
        assert_referer_denied(requests.get(url, headers={"Referer": "https://bad.example/"}), name,
                              "0003-00000502")
        assert v2.get_object(oss.GetObjectRequest(bucket=name, key="k")).body.read() == b"v2"
        with pytest.raises(oss.exceptions.OperationError) as e:
            v2.put_bucket_referer(oss.PutBucketRefererRequest(
                bucket=name, referer_configuration=oss.RefererConfiguration(allow_empty_referer=True)))
        err = v2_service_error(e)
        assert (err.status_code, err.code, err.ec) == (400, "MalformedXML", "0033-00000005")
    finally:
        v2.delete_object(oss.DeleteObjectRequest(bucket=name, key="k"))
        v2.delete_bucket(oss.DeleteBucketRequest(bucket=name))


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """A server with `s3_listen` addresses, where anonymous requests are S3."""
    server = S3Server(tmp_path_factory.mktemp("bucket-features-s3")).start()
    yield server
    server.stop()


def test_referer_on_the_s3_dialect(dual):
    s3 = s3_client(dual.hz)
    buckets = BucketMaker(s3)
    try:
        name = buckets("hotlink-s3", ACL="public-read")
        # S3 objects are private to their writer unless given an ACL.
        s3.put_object(Bucket=name, Key="a.txt", Body=b"s3 read", ACL="public-read")
        s3.put_object(Bucket=name, Key="pic.png", Body=make_image("PNG", size=(40, 20)),
                      ACL="public-read")
        oss_bucket = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), dual.hz, name)
        oss_bucket.put_bucket_referer(BucketReferer(False, ["https://good.example"]))
        url = "%s/%s/a.txt" % (dual.s3_hz, name)
        r = requests.get(url, headers={"Referer": "https://good.example/p"})
        assert (r.status_code, r.content) == (200, b"s3 read")
        for headers in ({"Referer": "https://other.example/"}, {}):
            r = requests.get(url, headers=headers)
            assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content
            assert r.headers["x-amz-request-id"]
        r = requests.get("%s/%s/pic.png" % (dual.s3_hz, name), params={"x-oss-process": "image/resize,w_10"},
                         headers={"Referer": "https://other.example/"})
        assert r.status_code == 403
        # SigV4 in the header: not checked (boto3 sends no Referer at all).
        assert s3.get_object(Bucket=name, Key="a.txt")["Body"].read() == b"s3 read"
        # A presigned URL is.
        signed = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "a.txt"},
                                           ExpiresIn=300)
        assert requests.get(signed, headers={"Referer": "https://good.example/"}).content == b"s3 read"
        assert requests.get(signed, headers={"Referer": "https://other.example/"}).status_code == 403
    finally:
        buckets.cleanup()


# ---------------------------------------------------------------------------
# DescribeRegions
# ---------------------------------------------------------------------------
def served_hosts(ossify, region):
    return {url.split("//", 1)[1] for node in ossify.nodes for url in node.endpoints[region]}


def test_describe_regions(ossify, ctx):
    service = ctx.service()
    r = service.describe_regions()
    assert r.status == 200
    assert [x.region for x in r.regions] == [HZ, SH]
    for x in r.regions:
        assert x.internet_endpoint in served_hosts(ossify, x.region)
        assert x.internal_endpoint == x.internet_endpoint
    one = service.describe_regions(SH).regions
    assert [x.region for x in one] == [SH]
    with pytest.raises(oss2.exceptions.ServerError) as e:
        service.describe_regions("oss-nowhere-1")
    assert (e.value.status, e.value.code) == (404, "NoSuchRegion")
    # A service-level action: anonymous callers and RAM users without it are refused.
    r = requests.get(ossify.endpoint(HZ) + "/", params={"regions": ""})
    assert (r.status_code, error_of(r)["Code"]) == (403, "AccessDenied")
    with pytest.raises(oss2.exceptions.AccessDenied):
        ctx.service(keys=READER).describe_regions()


def test_v2_describe_regions(ossify, v2):
    r = v2.describe_regions(oss.DescribeRegionsRequest())
    assert r.status_code == 200
    assert [x.region for x in r.region_info] == [HZ, SH]
    r = v2.describe_regions(oss.DescribeRegionsRequest(regions=HZ))
    assert [(x.region, x.internet_endpoint in served_hosts(ossify, HZ)) for x in r.region_info] == [(HZ, True)]
    with pytest.raises(oss.exceptions.OperationError) as e:
        v2.describe_regions(oss.DescribeRegionsRequest(regions="oss-nowhere-1"))
    err = v2_service_error(e)
    assert (err.status_code, err.code) == (404, "NoSuchRegion")
