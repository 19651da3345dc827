"""Lifecycle rules and object tags validated as OSS and S3 do: oss2 (V1 and V4), the
v2 SDK and boto3, one set of rules under both dialects, and the sweeper applying
the size and Not filters."""

import datetime
import time

import alibabacloud_oss_v2 as oss
import oss2
import pytest
from oss2.models import (AbortMultipartUpload, BucketLifecycle, FilterNot, FilterNotTag,
                         LifecycleExpiration, LifecycleFilter, LifecycleRule,
                         NoncurrentVersionExpiration, NoncurrentVersionStorageTransition,
                         StorageTransition, Tagging, TaggingRule)

from conftest import HZ, Oss2Ctx, make_v2_client, v2_service_error
from s3util import expect_error, s3_client

TOMORROW = datetime.date.today() + datetime.timedelta(days=1)


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture
def bucket(ctx):
    return ctx.new_bucket("lc")


def tagging(**tags):
    rule = TaggingRule()
    for k, v in tags.items():
        rule.add(k, v)
    return Tagging(rule)


def rule(id, prefix, **kw):
    kw.setdefault("expiration", LifecycleExpiration(days=30))
    return LifecycleRule(id, prefix, status=LifecycleRule.ENABLED, **kw)


def full_rule():
    return LifecycleRule(
        "full", "logs/", status=LifecycleRule.ENABLED,
        expiration=LifecycleExpiration(days=400),
        storage_transitions=[StorageTransition(days=30, storage_class="IA"),
                             StorageTransition(days=90, storage_class="Archive"),
                             StorageTransition(days=180, storage_class="ColdArchive")],
        tagging=tagging(team="ops"),
        noncurrent_version_expiration=NoncurrentVersionExpiration(60),
        noncurrent_version_sotrage_transitions=[NoncurrentVersionStorageTransition(10, "IA")],
        filter=LifecycleFilter(filter_not=[FilterNot("logs/keep/", FilterNotTag("hold", "yes"))],
                               object_size_greater_than=100, object_size_less_than=1000))


def test_rules_round_trip(bucket):
    other = rule("uploads", "tmp/", expiration=None,
                 abort_multipart_upload=AbortMultipartUpload(days=3))
    bucket.put_bucket_lifecycle(BucketLifecycle([full_rule(), other]))
    got = bucket.get_bucket_lifecycle().rules
    assert [r.id for r in got] == ["full", "uploads"]
    full = got[0]
    assert (full.prefix, full.status, full.expiration.days) == ("logs/", "Enabled", 400)
    assert [(t.days, t.storage_class) for t in full.storage_transitions] == [
        (30, "IA"), (90, "Archive"), (180, "ColdArchive")]
    assert full.tagging.tag_set.tagging_rule == {"team": "ops"}
    assert full.noncurrent_version_expiration.noncurrent_days == 60
    assert [(t.noncurrent_days, t.storage_class)
            for t in full.noncurrent_version_sotrage_transitions] == [(10, "IA")]
    f = full.filter
    assert (f.object_size_greater_than, f.object_size_less_than) == (100, 1000)
    assert [(n.prefix, n.tag.key, n.tag.value) for n in f.filter_not] == [("logs/keep/", "hold", "yes")]
    assert got[1].abort_multipart_upload.days == 3 and got[1].expiration is None


BAD = [
    # Overlapping prefixes with the same action (OSS 0014-00000084).
    ("overlap", [rule("a", "test"), rule("b", "test/log")], "0014-00000084"),
    # The same prefix twice, even with different actions (0014-00000085).
    ("same prefix", [rule("a", "test"), rule("b", "test", expiration=None,
                                             storage_transitions=[StorageTransition(days=30, storage_class="IA")])],
     "0014-00000085"),
    # A Not prefix outside the rule's prefix (0014-00000035).
    ("not prefix", [rule("a", "logs/", filter=LifecycleFilter(filter_not=[FilterNot("other/")]))],
     "0014-00000035"),
    # ObjectSizeGreaterThan not below ObjectSizeLessThan (0014-00000041).
    ("sizes", [rule("a", "", filter=LifecycleFilter(object_size_greater_than=200, object_size_less_than=100))],
     "0014-00000041"),
    ("transition order", [rule("a", "", expiration=None, storage_transitions=[
        StorageTransition(days=60, storage_class="IA"), StorageTransition(days=30, storage_class="Archive")])], None),
    ("expiration before transition", [rule("a", "", expiration=LifecycleExpiration(days=30), storage_transitions=[
        StorageTransition(days=30, storage_class="IA")])], None),
    ("days and date mixed", [rule("a", "", expiration=LifecycleExpiration(created_before_date=TOMORROW),
                                  storage_transitions=[StorageTransition(days=30, storage_class="IA")])], None),
    ("access time", [rule("a", "", expiration=None, storage_transitions=[
        StorageTransition(days=30, storage_class="IA", is_access_time=True)])], None),
    ("bad class", [rule("a", "", expiration=None, storage_transitions=[
        StorageTransition(days=30, storage_class="Standard")])], None),
    ("zero days", [rule("a", "", expiration=LifecycleExpiration(days=0))], None),
    ("duplicate id", [rule("a", "x/"), rule("a", "y/")], None),
    ("bad tag", [rule("a", "", tagging=tagging(**{"k!": "v"}))], None),
    ("tag with upload abort", [rule("a", "", expiration=None, tagging=tagging(k="v"),
                                    abort_multipart_upload=AbortMultipartUpload(days=3))], None),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_refused_rules_change_nothing(bucket, case):
    name, rules, ec = case
    bucket.put_bucket_lifecycle(BucketLifecycle([full_rule()]))
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_lifecycle(BucketLifecycle(rules))
    # Mixing Days and dates is an InvalidRequest (oss2 suite: test_lifecycle_storage_transitions_mixed).
    code = "InvalidRequest" if name == "days and date mixed" else "InvalidArgument"
    assert (e.value.status, e.value.code) == (400, code)
    if ec:
        assert e.value.ec == ec
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["full"]


def test_dated_rules_go_from_recent_to_old(bucket):
    # A CreatedBeforeDate reaches objects older than it: the expiration's date comes
    # before the transitions', colder classes at earlier dates.
    d = datetime.date
    ok = rule("a", "", expiration=LifecycleExpiration(created_before_date=d(2016, 12, 20)),
              storage_transitions=[StorageTransition(created_before_date=d(2016, 12, 25), storage_class="IA"),
                                   StorageTransition(created_before_date=d(2016, 12, 22),
                                                     storage_class="Archive")])
    bucket.put_bucket_lifecycle(BucketLifecycle([ok]))
    got = bucket.get_bucket_lifecycle().rules[0]
    assert got.expiration.created_before_date == d(2016, 12, 20)
    assert sorted((t.created_before_date, t.storage_class) for t in got.storage_transitions) == [
        (d(2016, 12, 22), "Archive"), (d(2016, 12, 25), "IA")]
    for bad in (rule("b", "", expiration=LifecycleExpiration(created_before_date=d(2016, 12, 25)),
                     storage_transitions=[StorageTransition(created_before_date=d(2016, 12, 20),
                                                            storage_class="IA")]),
                rule("b", "", expiration=None, storage_transitions=[
                    StorageTransition(created_before_date=d(2016, 12, 20), storage_class="IA"),
                    StorageTransition(created_before_date=d(2016, 12, 25), storage_class="Archive")])):
        with pytest.raises(oss2.exceptions.ServerError) as e:
            bucket.put_bucket_lifecycle(BucketLifecycle([bad]))
        assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["a"]


def test_tag_filters_checked_for_characters_only(ctx, bucket):
    # OSS stores a Tag filter no object can match (too many tags, over-long keys or
    # values): the rule selects nothing. Characters outside object tags' are refused.
    many = rule("many", "m/", tagging=tagging(**{"k%d" % i: "v" for i in range(19)}))
    bucket.put_bucket_lifecycle(BucketLifecycle([many]))
    got = bucket.get_bucket_lifecycle().rules
    assert [r.id for r in got] == ["many"] and len(got[0].tagging.tag_set.tagging_rule) == 19
    over = Tagging(TaggingRule())  # oss2 refuses these lengths client-side, even when reading
    over.tag_set.tagging_rule["k" * 129] = "v" * 257
    bucket.put_bucket_lifecycle(BucketLifecycle([rule("long", "l/", tagging=over)]))
    r = ctx.raw("GET", bucket.bucket_name, "", params={"lifecycle": ""})
    assert r.status_code == 200
    assert "<Key>%s</Key><Value>%s</Value>" % ("k" * 129, "v" * 257) in r.text
    for bad in ({"%&": "v"}, {"k": ")%"}):
        with pytest.raises(oss2.exceptions.ServerError) as e:
            bucket.put_bucket_lifecycle(BucketLifecycle([rule("bad", "", tagging=tagging(**bad))]))
        assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    assert "<ID>long</ID>" in ctx.raw("GET", bucket.bucket_name, "", params={"lifecycle": ""}).text


def test_overlap_allowed_by_header(bucket):
    rules = BucketLifecycle([rule("a", "test"), rule("b", "test/log")])
    bucket.put_bucket_lifecycle(rules, headers={"x-oss-allow-same-action-overlap": "true"})
    assert [r.id for r in bucket.get_bucket_lifecycle().rules] == ["a", "b"]
    # Overlapping prefixes with different actions need no header.
    bucket.put_bucket_lifecycle(BucketLifecycle([rule("a", "test"), rule(
        "b", "test/log", expiration=None, storage_transitions=[StorageTransition(days=30, storage_class="IA")])]))


def wait_gone(bucket, key, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline and bucket.object_exists(key):
        time.sleep(0.3)
    return not bucket.object_exists(key)


def test_size_and_not_filters_expire_only_what_they_select(bucket):
    big, small = b"x" * 200, b"x" * 10
    bucket.put_object("logs/big", big)
    bucket.put_object("logs/small", small)
    bucket.put_object("logs/keep/big", big)
    bucket.put_object("logs/held", big, headers={"x-oss-tagging": "hold=yes"})
    bucket.put_object("other/big", big)
    rules = [rule("sized", "logs/", expiration=LifecycleExpiration(created_before_date=TOMORROW),
                  filter=LifecycleFilter(object_size_greater_than=100,
                                         filter_not=[FilterNot("logs/keep/"),
                                                     FilterNot("logs/", FilterNotTag("hold", "yes"))]))]
    bucket.put_bucket_lifecycle(BucketLifecycle(rules))
    assert wait_gone(bucket, "logs/big")
    for key in ("logs/small", "logs/keep/big", "logs/held", "other/big"):
        assert bucket.object_exists(key), key


# ---- Object tags on every write path ----

ELEVEN = "&".join("k%d=v" % i for i in range(11))
BAD_TAGS = [ELEVEN, "k!=v", "k=v%21", "k=" + "v" * 257, "k" * 129 + "=v", "a=1&a=2"]


@pytest.mark.parametrize("value", BAD_TAGS, ids=["eleven", "key char", "value char", "long value",
                                                 "long key", "duplicate"])
def test_oss_tags_refused_on_every_write(bucket, value):
    h = {"x-oss-tagging": value}
    writes = [
        lambda: bucket.put_object("t", b"x", headers=h),
        lambda: bucket.append_object("t", 0, b"x", headers=h),
        lambda: bucket.put_symlink("src", "t", headers=h),
        lambda: bucket.copy_object(bucket.bucket_name, "src", "t",
                                   headers=dict(h, **{"x-oss-tagging-directive": "REPLACE"})),
        lambda: bucket.init_multipart_upload("t", headers=h),
    ]
    bucket.put_object("src", b"source")
    for write in writes:
        with pytest.raises(oss2.exceptions.ServerError) as e:
            write()
        assert (e.value.status, e.value.code) == (400, "InvalidTag")
        assert not bucket.object_exists("t")
    assert list(oss2.MultipartUploadIterator(bucket)) == []


def test_oss_put_object_tagging_checks(bucket):
    bucket.put_object("t", b"x")
    ok = tagging(**{"a-b_c.d:e/f+g=h": "Value 1"})
    bucket.put_object_tagging("t", ok)
    # Letters of any script are fine (oss2 suite: test_copy_object_with_tagging); "@" is not.
    bucket.put_object_tagging("t", tagging(**{"中文": "v\u00e9"}))
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {"中文": "v\u00e9"}
    bucket.put_object_tagging("t", ok)
    for bad in ({"k%d" % i: "v" for i in range(11)}, {"k#": "v"}, {"k": "v@"}):
        t = Tagging(TaggingRule())
        t.tag_set.tagging_rule.update(bad)
        with pytest.raises(oss2.exceptions.ServerError) as e:
            bucket.put_object_tagging("t", t)
        assert (e.value.status, e.value.code) == (400, "InvalidTag")
    assert bucket.get_object_tagging("t").tag_set.tagging_rule == {"a-b_c.d:e/f+g=h": "Value 1"}


def test_s3_tags(ossify, bucket):
    s3 = s3_client(ossify.endpoint(HZ))
    name = bucket.bucket_name
    s3.put_object(Bucket=name, Key="src", Body=b"x")
    cases = [(ELEVEN, "Object tags cannot be greater than 10"),
             ("k!=v", "The TagKey you have provided is invalid"),
             ("k=" + "v" * 257, "The TagValue you have provided is too long, max 256"),
             ("aws:k=v", "Your TagKey cannot be prefixed with aws:"),
             ("a=1&a=2", "Cannot provide multiple Tags with the same key")]
    for value, message in cases:
        r = expect_error("InvalidTag", 400, s3.put_object, Bucket=name, Key="t", Body=b"x", Tagging=value)
        assert r["Error"]["Message"] == message
        expect_error("InvalidTag", 400, s3.create_multipart_upload, Bucket=name, Key="t", Tagging=value)
        expect_error("InvalidTag", 400, s3.copy_object, Bucket=name, Key="t", Tagging=value,
                     CopySource={"Bucket": name, "Key": "src"}, TaggingDirective="REPLACE")
    # S3 allows @, which OSS refuses.
    s3.put_object(Bucket=name, Key="t", Body=b"x", Tagging="caf%C3%A9=a%40b")
    expect_error("InvalidTag", 400, s3.put_object_tagging, Bucket=name, Key="t",
                 Tagging={"TagSet": [{"Key": "k%d" % i, "Value": ""} for i in range(11)]})
    assert s3.get_object_tagging(Bucket=name, Key="t")["TagSet"] == [{"Key": "café", "Value": "a@b"}]


# ---- The v2 SDK ----

def test_v2_sdk_round_trip_and_refusal(ossify):
    client = make_v2_client(ossify)
    c = Oss2Ctx(ossify, "v1")
    name = c.new_bucket("lcv2").bucket_name
    try:
        config = oss.LifecycleConfiguration(rules=[oss.LifecycleRule(
            id="v2", prefix="data/", status="Enabled",
            expiration=oss.LifecycleRuleExpiration(days=90),
            transitions=[oss.LifecycleRuleTransition(days=30, storage_class="IA")],
            filter=oss.LifecycleRuleFilter(
                object_size_greater_than=1, object_size_less_than=5000,
                nots=[oss.LifecycleRuleNot(prefix="data/tmp/", tag=oss.Tag(key="k", value="v"))]))])
        client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(bucket=name, lifecycle_configuration=config))
        got = client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
        r = got.lifecycle_configuration.rules[0]
        assert (r.id, r.prefix, r.status, r.expiration.days) == ("v2", "data/", "Enabled", 90)
        assert [(t.days, t.storage_class) for t in r.transitions] == [(30, "IA")]
        assert (r.filter.object_size_greater_than, r.filter.object_size_less_than) == (1, 5000)
        assert [(n.prefix, n.tag.key, n.tag.value) for n in r.filter.nots] == [("data/tmp/", "k", "v")]
        bad = oss.LifecycleConfiguration(rules=[
            oss.LifecycleRule(id="a", prefix="p", status="Enabled",
                              expiration=oss.LifecycleRuleExpiration(days=1)),
            oss.LifecycleRule(id="b", prefix="p/q", status="Enabled",
                              expiration=oss.LifecycleRuleExpiration(days=2))])
        with pytest.raises(oss.exceptions.OperationError) as excinfo:
            client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(bucket=name, lifecycle_configuration=bad))
        err = v2_service_error(excinfo)
        assert (err.status_code, err.code, err.ec) == (400, "InvalidArgument", "0014-00000084")
        # OSS's wording (the oss2 suite's test_lifecycle_overlap_exception).
        assert err.message == "Overlap for same action type Expiration"
        client.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(
            bucket=name, lifecycle_configuration=bad, allow_same_action_overlap="true"))
        got = client.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
        assert [r.id for r in got.lifecycle_configuration.rules] == ["a", "b"]
    finally:
        c.cleanup()


# ---- S3 lifecycle configuration, and across the dialects ----

def test_s3_lifecycle_configuration(ossify, bucket):
    s3 = s3_client(ossify.endpoint(HZ))
    name = bucket.bucket_name
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=name)
    rules = [
        {"ID": "expire", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
         "Expiration": {"Days": 365},
         "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                         {"Days": 90, "StorageClass": "GLACIER"}],
         "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
        {"ID": "tagged", "Status": "Disabled",
         "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "k", "Value": "v"}],
                            "ObjectSizeGreaterThan": 10}},
         "Expiration": {"Days": 7}},
        {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
         "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    assert got == rules
    # Read back by OSS.
    oss_rules = bucket.get_bucket_lifecycle().rules
    assert [(r.id, r.prefix, r.status) for r in oss_rules] == [
        ("expire", "logs/", "Enabled"), ("tagged", "data/", "Disabled"), ("uploads", "", "Enabled")]
    assert [(t.days, t.storage_class) for t in oss_rules[0].storage_transitions] == [(30, "IA"), (90, "Archive")]
    assert oss_rules[1].tagging.tag_set.tagging_rule == {"k": "v"}
    assert oss_rules[1].filter.object_size_greater_than == 10
    assert oss_rules[2].abort_multipart_upload.days == 2

    def refused(code, rules):
        expect_error(code, 400, s3.put_bucket_lifecycle_configuration, Bucket=name,
                     LifecycleConfiguration={"Rules": rules})
        assert [r["ID"] for r in s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]] == [
            "expire", "tagged", "uploads"]

    one = {"Status": "Enabled", "Filter": {"Prefix": "x/"}, "Expiration": {"Days": 1}}
    refused("InvalidArgument", [dict(one, ID="a"), dict(one, ID="a")])
    refused("InvalidArgument", [dict(one, ID="i" * 256)])
    refused("InvalidArgument", [dict(one, ID="z", Expiration={"Days": 0})])
    refused("InvalidArgument", [dict(one, ID="noon", Expiration={
        "Date": datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.timezone.utc)})])
    refused("MalformedXML", [dict(one, ID="s", Status="Maybe")])
    # S3 does not refuse overlapping prefixes.
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [
        dict(one, ID="a", Filter={"Prefix": "p"}), dict(one, ID="b", Filter={"Prefix": "p/q"})]})
    s3.delete_bucket_lifecycle(Bucket=name)
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=name)
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_oss_rules_read_by_s3(ossify, bucket):
    s3 = s3_client(ossify.endpoint(HZ))
    bucket.put_bucket_lifecycle(BucketLifecycle([full_rule()]))
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket.bucket_name)["Rules"]
    # Filter/Not has no S3 form and is left out; the rest reads as S3 says it.
    assert got == [{
        "ID": "full", "Status": "Enabled",
        "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "team", "Value": "ops"}],
                           "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 1000}},
        "Expiration": {"Days": 400},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                        {"Days": 90, "StorageClass": "GLACIER"},
                        {"Days": 180, "StorageClass": "DEEP_ARCHIVE"}],
        "NoncurrentVersionTransitions": [{"NoncurrentDays": 10, "StorageClass": "STANDARD_IA"}],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 60},
    }]


def test_s3_date_rule_expires_at_once(ossify, bucket):
    """An S3 Date already past expires every object it selects, however new."""
    s3 = s3_client(ossify.endpoint(HZ))
    bucket.put_object("old/a", b"x")
    today = datetime.datetime.combine(datetime.date.today(), datetime.time(), datetime.timezone.utc)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket.bucket_name, LifecycleConfiguration={"Rules": [
        {"ID": "d", "Status": "Enabled", "Filter": {"Prefix": "old/"}, "Expiration": {"Date": today}}]})
    assert wait_gone(bucket, "old/a")
    got = bucket.get_bucket_lifecycle().rules[0]
    assert got.expiration.date == today.date()
