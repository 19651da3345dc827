"""PostObject: the multipart/form-data upload a browser sends, V1 and V4 policies."""

import base64
import datetime
import hashlib
import hmac
import json

import oss2
import pytest
import requests

from conftest import HZ, ROOT1, unique_bucket_name


@pytest.fixture
def bucket(ossify):
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ossify.endpoint(HZ), unique_bucket_name("form"))
    b.create_bucket()
    yield b
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()


def encode_policy(conditions, expires="2099-01-01T00:00:00.000Z"):
    return base64.b64encode(json.dumps({"expiration": expires, "conditions": conditions}).encode()).decode()


def v1_fields(policy, secret=ROOT1.secret):
    signature = base64.b64encode(hmac.new(secret.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    return {"OSSAccessKeyId": ROOT1.id, "policy": policy, "Signature": signature}


def v4_fields(bucket_name, extra_conditions=()):
    now = datetime.datetime.now(datetime.timezone.utc)
    day, stamp = now.strftime("%Y%m%d"), now.strftime("%Y%m%dT%H%M%SZ")
    credential = "%s/%s/cn-hangzhou/oss/aliyun_v4_request" % (ROOT1.id, day)
    policy = encode_policy([{"bucket": bucket_name}, {"x-oss-signature-version": "OSS4-HMAC-SHA256"},
                            {"x-oss-credential": credential}, {"x-oss-date": stamp}] + list(extra_conditions))

    def h(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()
    key = h(h(h(h(("aliyun_v4" + ROOT1.secret).encode(), day), "cn-hangzhou"), "oss"), "aliyun_v4_request")
    return {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": credential, "x-oss-date": stamp,
            "x-oss-signature": hmac.new(key, policy.encode(), hashlib.sha256).hexdigest(), "policy": policy}


def post(ossify, bucket, fields, content=b"hello form", filename="hello.txt"):
    # requests sends the fields in order, then the file last, as OSS requires.
    return requests.post("%s/%s" % (ossify.endpoint(HZ), bucket.bucket_name), data=fields,
                         files={"file": (filename, content, "text/plain")})


def test_v1_form_upload_with_conditions(ossify, bucket):
    policy = encode_policy([{"bucket": bucket.bucket_name}, ["starts-with", "$key", "up/"],
                            ["content-length-range", 1, 100]])
    fields = dict(key="up/${filename}", success_action_status="201", **{"x-oss-meta-from": "form"})
    fields.update(v1_fields(policy))
    r = post(ossify, bucket, fields)
    assert r.status_code == 201, r.text
    assert "<Key>up/hello.txt</Key>" in r.text
    obj = bucket.get_object("up/hello.txt")
    assert obj.read() == b"hello form"
    assert obj.headers["x-oss-meta-from"] == "form"
    assert obj.headers["Content-Type"] == "text/plain"
    assert r.headers["ETag"] == '"%s"' % hashlib.md5(b"hello form").hexdigest().upper()
    # Conditions are enforced.
    for key, content in (("other/x", b"x"), ("up/big", b"x" * 101)):
        r = post(ossify, bucket, dict(v1_fields(policy), key=key), content)
        assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text, r.text
    r = post(ossify, bucket, dict(v1_fields(policy, secret="wrong"), key="up/x"))
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    expired = encode_policy([], expires="2001-01-01T00:00:00.000Z")
    r = post(ossify, bucket, dict(v1_fields(expired), key="up/x"))
    assert r.status_code == 403 and "expired" in r.text


def test_v4_form_upload_and_statuses(ossify, bucket):
    r = post(ossify, bucket, dict(v4_fields(bucket.bucket_name), key="v4.txt"))
    assert r.status_code == 204, r.text
    assert bucket.get_object("v4.txt").read() == b"hello form"
    fields = dict(v4_fields(bucket.bucket_name), key="redir.txt", success_action_redirect="http://app.test/done")
    r = requests.post("%s/%s" % (ossify.endpoint(HZ), bucket.bucket_name), data=fields,
                      files={"file": ("f", b"r")}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith("http://app.test/done?bucket=%s&key=redir.txt" % bucket.bucket_name)


def test_form_errors_and_anonymous(ossify, bucket):
    url = "%s/%s" % (ossify.endpoint(HZ), bucket.bucket_name)
    r = requests.post(url, files={"file": ("a", b"a")}, data={"key": "anon"})
    assert r.status_code == 403
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    r = requests.post(url, files={"file": ("a", b"a")}, data={"key": "anon"})
    assert r.status_code == 204
    r = requests.post(url, data={"key": "nofile"}, files={"notfile": ("a", b"a")})
    assert r.status_code == 400 and "IncorrectNumberOfFilesInPOSTRequest" in r.text
    r = requests.post(url, data={"key": "x"})
    assert r.status_code == 400 and "RequestIsNotMultiPartContent" in r.text
    r = requests.post(url, data={"key": "k" * 5000}, files={"file": ("a", b"a")})
    assert r.status_code == 400 and "FieldItemTooLong" in r.text
    r = requests.post(url, data={"OSSAccessKeyId": ROOT1.id, "key": "x"}, files={"file": ("a", b"a")})
    assert r.status_code == 400
