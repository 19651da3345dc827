"""Bucket configuration with oss2 (V1 and V4): GetBucketStat, CORS and preflight,
lifecycle expiry by the background sweeper, bucket policies."""

import datetime
import json
import time

import oss2
import pytest
import requests
from oss2.models import (BucketCors, BucketLifecycle, CorsRule, LifecycleExpiration,
                         LifecycleRule)

from conftest import HZ, ROOT1, ROOT2, object_url, unique_bucket_name


@pytest.fixture(params=["v1", "v4"])
def auth_of(request):
    def make(keys):
        if request.param == "v1":
            return oss2.Auth(keys.id, keys.secret)
        return oss2.AuthV4(keys.id, keys.secret)
    return make


@pytest.fixture
def bucket(ossify, auth_of):
    b = oss2.Bucket(auth_of(ROOT1), ossify.endpoint(HZ), unique_bucket_name("cfg"), region="cn-hangzhou")
    b.create_bucket()
    yield b
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


def test_bucket_stat(bucket):
    bucket.put_object("a", b"12345")
    bucket.put_object("b", b"123")
    bucket.init_multipart_upload("pending")
    stat = bucket.get_bucket_stat()
    assert (stat.storage_size_in_bytes, stat.object_count, stat.multi_part_upload_count) == (8, 2, 1)
    for u in oss2.MultipartUploadIterator(bucket):
        bucket.abort_multipart_upload(u.key, u.upload_id)


def test_cors_and_preflight(ossify, bucket):
    url = object_url(ossify.endpoint(HZ), bucket.bucket_name, "k")
    r = requests.options(url, headers={"Origin": "http://app.test", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403 and "<Code>AccessForbidden</Code>" in r.text
    with pytest.raises(oss2.exceptions.NoSuchCors) as ei:
        bucket.get_bucket_cors()
    assert ei.value.message == "The CORS Configuration does not exist."
    rule = CorsRule(allowed_origins=["http://*.test"], allowed_methods=["GET", "PUT"],
                    allowed_headers=["x-oss-*", "content-type"], expose_headers=["ETag"], max_age_seconds=60)
    bucket.put_bucket_cors(BucketCors([rule]))
    got = bucket.get_bucket_cors().rules[0]
    assert (got.allowed_origins, got.allowed_methods, got.max_age_seconds) == (["http://*.test"], ["GET", "PUT"], 60)
    r = requests.options(url, headers={"Origin": "http://app.test", "Access-Control-Request-Method": "PUT",
                                       "Access-Control-Request-Headers": "x-oss-meta-a, content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.test"
    assert r.headers["Access-Control-Max-Age"] == "60"
    for headers in ({"Origin": "http://evil.com", "Access-Control-Request-Method": "GET"},
                    {"Origin": "http://app.test", "Access-Control-Request-Method": "DELETE"},
                    {"Origin": "http://app.test", "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"}):
        assert requests.options(url, headers=headers).status_code == 403
    # An ordinary request from an allowed origin carries the headers, errors included.
    bucket.put_object("k", b"v", headers={"Origin": "http://app.test"})
    r = bucket.get_object("k", headers={"Origin": "http://app.test"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://app.test"
    r = requests.get(object_url(ossify.endpoint(HZ), bucket.bucket_name, "missing"), headers={"Origin": "http://app.test"})
    assert r.status_code == 403 and r.headers["Access-Control-Allow-Origin"] == "http://app.test"
    bucket.delete_bucket_cors()
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()


def test_cors_bad_max_age_names_the_element(bucket):
    rule = CorsRule(allowed_origins=["*"], allowed_methods=["GET"], max_age_seconds=-1)
    with pytest.raises(oss2.exceptions.InvalidArgument) as e:
        bucket.put_bucket_cors(BucketCors([rule]))
    assert (e.value.status, e.value.name, e.value.value) == (400, "MaxAgeSeconds", "-1")
    with pytest.raises(oss2.exceptions.NoSuchCors):
        bucket.get_bucket_cors()


def test_lifecycle_expires_objects(bucket):
    bucket.put_object("logs/old", b"x")
    bucket.put_object("keep", b"y")
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    rules = [
        LifecycleRule("expire-logs", "logs/", status=LifecycleRule.ENABLED,
                      expiration=LifecycleExpiration(created_before_date=tomorrow)),
        LifecycleRule("later", "archive/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=30)),
    ]
    bucket.put_bucket_lifecycle(BucketLifecycle(rules))
    got = bucket.get_bucket_lifecycle().rules
    assert [r.id for r in got] == ["expire-logs", "later"]
    assert got[1].expiration.days == 30
    deadline = time.time() + 10
    while time.time() < deadline and bucket.object_exists("logs/old"):
        time.sleep(0.3)
    assert not bucket.object_exists("logs/old")
    assert bucket.object_exists("keep")
    bucket.delete_bucket_lifecycle()
    with pytest.raises(oss2.exceptions.NoSuchLifecycle):
        bucket.get_bucket_lifecycle()


def test_lifecycle_bad_rules(bucket):
    bad = LifecycleRule("x", "", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=0))
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_lifecycle(BucketLifecycle([bad]))
    assert e.value.status == 400


def test_bucket_policy_grants_and_denies(ossify, bucket, auth_of):
    bucket.put_object("shared/a", b"shared")
    bucket.put_object("private/b", b"private")
    other = oss2.Bucket(auth_of(ROOT2), ossify.endpoint(HZ), bucket.bucket_name, region="cn-hangzhou")
    anon = oss2.Bucket(oss2.AnonymousAuth(), ossify.endpoint(HZ), bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        other.get_object("shared/a")
    policy = {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": [ROOT2.account_id],
         "Resource": ["acs:oss:*:*:%s/shared/*" % bucket.bucket_name]},
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"],
         "Resource": ["acs:oss:*:*:%s/shared/a" % bucket.bucket_name]},
        {"Effect": "Deny", "Action": ["oss:DeleteObject"], "Principal": ["*"],
         "Resource": ["acs:oss:*:*:%s/private/*" % bucket.bucket_name]},
    ]}
    bucket.put_bucket_policy(json.dumps(policy))
    assert json.loads(bucket.get_bucket_policy().policy) == policy
    assert other.get_object("shared/a").read() == b"shared"
    assert anon.get_object("shared/a").read() == b"shared"
    with pytest.raises(oss2.exceptions.AccessDenied):
        other.get_object("private/b")
    with pytest.raises(oss2.exceptions.AccessDenied):
        bucket.delete_object("private/b")  # explicit Deny binds the owner too
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_bucket_policy('{"Version":"1","Statement":[{"Effect":"Perhaps"}]}')
    assert e.value.code == "InvalidPolicyDocument"
    bucket.delete_bucket_policy()
    with pytest.raises(oss2.exceptions.NoSuchBucketPolicy):
        bucket.get_bucket_policy()
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_object("shared/a")
