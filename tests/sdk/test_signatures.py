"""Every signature form the OSS SDKs produce, against the real server: oss2 `AuthV2`
(the `OSS2` Authorization header and `x-oss-signature-version=OSS2` presigned URLs), V1
with `x-oss-date` in place of `Date`, and V4 scope forms (oss2 `AuthV4`,
alibabacloud-oss-v2 with additional headers)."""

import base64
import datetime
import email.utils
import hashlib
import hmac
import io
import json
import time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import oss2
import pytest
import requests
from oss2 import exceptions as oe
from requests.structures import CaseInsensitiveDict

from conftest import (HZ, ROOT1, V4_REGION, Keys, delete_bucket_fully, error_of, make_v2_client,
                      md5_upper, object_url, unique_bucket_name)

AWKWARD_KEYS = ["dir/a b.txt", "plus+sign", "100%.txt", "\u00fcn\u00efc\u00f8d\u00e9/\u6587\u4ef6.txt",
                "what?.txt", "mix a+b%20c?d=e&f.txt"]


def v2_auth(keys=ROOT1):
    return oss2.make_auth(keys.id, keys.secret, oss2.AUTH_VERSION_2)


@pytest.fixture
def bucket(ossify):
    b = oss2.Bucket(v2_auth(), ossify.endpoint(HZ), unique_bucket_name("sig"))
    r = b.create_bucket()
    assert r.status == 200
    yield b
    delete_bucket_fully(b)


def sent_authorization(result):
    """The Authorization header oss2 sent for a request that succeeded."""
    return result.resp.response.request.headers["Authorization"]


def send(auth, method, bucket, key="", headers=None, params=None, data=None, additional=None,
         after_sign=None):
    """One request signed by `auth` (additional headers as given), its headers changed by
    `after_sign` before sending."""
    url = object_url(bucket.endpoint, bucket.bucket_name, key)
    req = oss2.http.Request(method, url, data=data, params=dict(params or {}),
                            headers=dict(headers or {}), region=V4_REGION[HZ], product="oss")
    if additional is None:
        auth._sign_request(req, bucket.bucket_name, key)
    else:
        auth._sign_request(req, bucket.bucket_name, key, in_additional_headers=additional)
    hdrs = CaseInsensitiveDict({k: v for k, v in req.headers.items() if v is not None})
    hdrs.setdefault("Accept-Encoding", "identity")
    if after_sign:
        after_sign(hdrs)
    return requests.request(method, url, params=req.params, headers=hdrs, data=req.data,
                            allow_redirects=False)


def assert_error(resp, status, code, ec=None):
    err = error_of(resp)
    assert (resp.status_code, err.get("Code")) == (status, code), resp.text
    if ec:
        assert err.get("EC") == ec, resp.text
    return err


def with_query(url, change):
    """`url` with its query pairs passed through `change` (a list of (name, value) pairs)."""
    parts = urlsplit(url)
    pairs = change(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def png_bytes(width=6, height=4):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def http_date(offset=0):
    return email.utils.formatdate(time.time() + offset, usegmt=True)


# ---------------------------------------------------------------------------
# V2 (OSS2) header signatures through oss2 AuthV2
# ---------------------------------------------------------------------------
def test_v2_object_operations(bucket):
    r = bucket.put_object("doc.txt", b"hello v2", headers={"Content-Type": "text/x-v2",
                                                           "x-oss-meta-author": "alice"})
    assert r.status == 200
    assert sent_authorization(r).startswith("OSS2 AccessKeyId:%s,Signature:" % ROOT1.id)
    g = bucket.get_object("doc.txt")
    assert g.read() == b"hello v2"
    assert g.headers["Content-Type"] == "text/x-v2"
    h = bucket.head_object("doc.txt")
    assert (h.status, h.content_length, h.headers["x-oss-meta-author"]) == (200, 8, "alice")
    assert h.etag == md5_upper(b"hello v2")
    assert bucket.get_object_meta("doc.txt").status == 200
    assert bucket.delete_object("doc.txt").status == 204
    assert bucket.object_exists("doc.txt") is False
    # Service level: the resource is the encoded "/".
    names = [b.name for b in oss2.BucketIterator(oss2.Service(v2_auth(), bucket.endpoint))]
    assert bucket.bucket_name in names


def test_v2_subresources(bucket):
    bucket.put_object("res", b"x")
    bucket.put_object_acl("res", oss2.OBJECT_ACL_PUBLIC_READ)
    assert bucket.get_object_acl("res").acl == oss2.OBJECT_ACL_PUBLIC_READ
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert bucket.get_bucket_acl().acl == oss2.BUCKET_ACL_PUBLIC_READ
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PRIVATE)
    tagging = oss2.models.Tagging(oss2.models.TaggingRule())
    tagging.tag_set.add("k", "v 1")
    bucket.put_object_tagging("res", tagging)
    assert bucket.get_object_tagging("res").tag_set.tagging_rule == {"k": "v 1"}
    assert bucket.delete_object_tagging("res").status == 204

    part1, part2 = b"a" * (100 * 1024), b"tail"
    upload_id = bucket.init_multipart_upload("multi part+.bin").upload_id
    parts = [oss2.models.PartInfo(1, bucket.upload_part("multi part+.bin", upload_id, 1, part1).etag),
             oss2.models.PartInfo(2, bucket.upload_part("multi part+.bin", upload_id, 2, part2).etag)]
    assert [p.part_number for p in bucket.list_parts("multi part+.bin", upload_id).parts] == [1, 2]
    uploads = [u.upload_id for u in oss2.MultipartUploadIterator(bucket)]
    assert uploads == [upload_id]
    assert bucket.complete_multipart_upload("multi part+.bin", upload_id, parts).status == 200
    assert bucket.get_object("multi part+.bin").read() == part1 + part2
    other = bucket.init_multipart_upload("aborted").upload_id
    assert bucket.abort_multipart_upload("aborted", other).status == 204
    assert list(oss2.MultipartUploadIterator(bucket)) == []


def test_v2_list_objects(bucket):
    keys = ["a/1", "a/2", "a/3", "a/b/4", "b/5"]
    for k in keys:
        bucket.put_object(k, b"x")
    r = bucket.list_objects(prefix="a/", delimiter="/", max_keys=2)
    assert ([o.key for o in r.object_list], r.prefix_list, r.is_truncated) == (["a/1", "a/2"], [], True)
    r = bucket.list_objects(prefix="a/", delimiter="/", marker=r.next_marker)
    assert ([o.key for o in r.object_list], r.prefix_list, r.is_truncated) == (["a/3"], ["a/b/"], False)
    assert [o.key for o in oss2.ObjectIteratorV2(bucket, prefix="a/", max_keys=2)] == keys[:4]
    assert [o.key for o in oss2.ObjectIterator(bucket, marker="a/3")] == ["a/b/4", "b/5"]


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_v2_awkward_keys(bucket, key):
    data = key.encode() * 3
    bucket.put_object(key, data)
    assert bucket.get_object(key).read() == data
    assert bucket.head_object(key).content_length == len(data)
    assert [o.key for o in oss2.ObjectIterator(bucket)] == [key]
    r = requests.get(bucket.sign_url("GET", key, 120))
    assert (r.status_code, r.content) == (200, data)
    bucket.delete_object(key)
    assert bucket.object_exists(key) is False


def test_v2_additional_headers(bucket):
    bucket.put_object("ah", b"0123456789")
    # oss2 signs Range and If-Modified-Since when the request has them.
    r = bucket.get_object("ah", byte_range=(0, 3), headers={"If-Modified-Since": http_date(-3600)})
    assert sent_authorization(r).startswith("OSS2 AccessKeyId:%s,AdditionalHeaders:" % ROOT1.id)
    assert (r.status, r.read()) == (206, b"0123")
    with pytest.raises(oe.NotModified):
        bucket.get_object("ah", headers={"If-Modified-Since": http_date(3600)})

    auth = v2_auth()
    r = send(auth, "GET", bucket, "ah", headers={"X-Custom": "one", "Range": "bytes=2-4"},
             additional=["x-custom", "range"])
    assert (r.status_code, r.content) == (206, b"234")
    assert "AdditionalHeaders:" in r.request.headers["Authorization"]

    def change_custom(h):
        h["X-Custom"] = "two"
    r = send(auth, "GET", bucket, "ah", headers={"X-Custom": "one"}, additional=["x-custom"],
             after_sign=change_custom)
    err = assert_error(r, 403, "SignatureDoesNotMatch", "0002-00000101")
    assert "\nx-custom:two\nx-custom\n%2F" in err["StringToSign"]

    # The list names a header the request does not carry.
    def drop_custom(h):
        del h["X-Custom"]
    r = send(auth, "GET", bucket, "ah", headers={"X-Custom": "one"}, additional=["x-custom"],
             after_sign=drop_custom)
    assert_error(r, 400, "InvalidArgument", "0002-00000112")

    def empty_list(h):
        h["Authorization"] = h["Authorization"].replace("AdditionalHeaders:x-custom",
                                                        "AdditionalHeaders:")
    r = send(auth, "GET", bucket, "ah", headers={"X-Custom": "one"}, additional=["x-custom"],
             after_sign=empty_list)
    assert_error(r, 400, "InvalidArgument", "0002-00000110")


def test_v2_wrong_secret(bucket):
    bucket.put_object("s", b"x")
    bad = oss2.Bucket(oss2.AuthV2(ROOT1.id, "wrong-secret"), bucket.endpoint, bucket.bucket_name)
    with pytest.raises(oe.SignatureDoesNotMatch) as ei:
        bad.get_object("s")
    e = ei.value
    assert (e.status, e.code, e.details["EC"]) == (403, "SignatureDoesNotMatch", "0002-00000101")
    assert e.details["OSSAccessKeyId"] == ROOT1.id
    sts = e.details["StringToSign"]
    assert sts.startswith("GET\n\n\n") and sts.endswith("\n%%2F%s%%2Fs" % bucket.bucket_name)
    with pytest.raises(oe.SignatureDoesNotMatch):
        bad.put_object("s2", b"y")
    assert bucket.object_exists("s2") is False


def test_v2_unknown_access_key(bucket):
    bucket.put_object("k", b"x")
    nobody = oss2.Bucket(v2_auth(Keys("LTAInobody", "whatever")), bucket.endpoint, bucket.bucket_name)
    with pytest.raises(oe.ServerError) as ei:
        nobody.get_object("k")
    assert (ei.value.status, ei.value.code) == (403, "InvalidAccessKeyId")
    r = requests.get(nobody.sign_url("GET", "k", 60))
    assert_error(r, 403, "InvalidAccessKeyId")


def test_v2_request_time_too_skewed(bucket, monkeypatch):
    monkeypatch.setattr(oss2.utils, "http_date", lambda t=None: http_date(-3600))
    with pytest.raises(oe.ServerError) as ei:
        bucket.get_object("any")
    assert (ei.value.status, ei.value.code) == (403, "RequestTimeTooSkewed")
    assert ei.value.message == ("The difference between the request time and the current "
                                "time is too large.")
    assert ei.value.details["EC"] == "0002-00000504"
    assert ei.value.details["MaxAllowedSkewMilliseconds"] == "900000"


def test_v2_malformed_authorization(bucket):
    def replace_with(value):
        def change(h):
            h["Authorization"] = value
        return change
    for value, ec in [("OSS2 Signature:abc", "0002-00000105"),
                      ("OSS2 AccessKeyId:,Signature:abc", "0002-00000106"),
                      ("OSS2 AccessKeyId:%s" % ROOT1.id, "0002-00000108"),
                      ("OSS2 AccessKeyId:%s,AdditionalHeaders:range;,Signature:abc" % ROOT1.id,
                       "0002-00000111")]:
        r = send(v2_auth(), "GET", bucket, "k", after_sign=replace_with(value))
        assert_error(r, 400, "InvalidArgument", ec)


# ---------------------------------------------------------------------------
# V2 presigned URLs (bucket.sign_url with AuthV2)
# ---------------------------------------------------------------------------
def test_v2_presigned_get_and_put(bucket):
    data = b"presigned payload"
    headers = {"Content-Type": "application/x-v2", "x-oss-meta-via": "url"}
    url = bucket.sign_url("PUT", "up/load me+.bin", 120, headers=headers)
    q = dict(parse_qsl(urlsplit(url).query))
    assert (q["x-oss-signature-version"], q["x-oss-access-key-id"]) == ("OSS2", ROOT1.id)
    assert int(q["x-oss-expires"]) > time.time()
    r = requests.put(url, data=data, headers=headers)
    assert r.status_code == 200, r.text
    h = bucket.head_object("up/load me+.bin")
    assert (h.content_type, h.headers["x-oss-meta-via"]) == ("application/x-v2", "url")

    url = bucket.sign_url("GET", "up/load me+.bin", 120, params={"response-content-type": "text/plain"})
    r = requests.get(url)
    assert (r.status_code, r.content, r.headers["Content-Type"]) == (200, data, "text/plain")
    assert bucket.get_object_with_url(url).read() == data

    bucket.put_object("img.png", png_bytes(6, 4))
    url = bucket.sign_url("GET", "img.png", 120, params={"x-oss-process": "image/info"})
    r = requests.get(url)
    assert r.status_code == 200, r.text
    info = json.loads(r.content)
    assert (info["ImageWidth"]["value"], info["ImageHeight"]["value"]) == ("6", "4")


def test_v2_presigned_additional_headers(bucket):
    bucket.put_object("ranged", b"0123456789")
    url = bucket.sign_url("GET", "ranged", 120, headers={"Range": "bytes=1-3"},
                          additional_headers=["range"])
    assert "x-oss-additional-headers=range" in url
    r = requests.get(url, headers={"Range": "bytes=1-3"})
    assert (r.status_code, r.content) == (206, b"123")
    r = requests.get(url, headers={"Range": "bytes=0-9"})
    assert_error(r, 403, "SignatureDoesNotMatch", "0002-00000101")
    # The URL names a header the request does not carry.
    r = requests.get(url)
    assert_error(r, 400, "InvalidArgument", "0002-00000077")


def test_v2_presigned_expired(bucket):
    bucket.put_object("exp", b"x")
    r = requests.get(bucket.sign_url("GET", "exp", -60))
    err = assert_error(r, 403, "AccessDenied", "0002-00000069")
    assert err["Message"] == "Request has expired."


def test_v2_presigned_tampered(bucket):
    bucket.put_object("t", b"original")
    url = bucket.sign_url("GET", "t", 120, params={"response-content-type": "text/plain"})

    def retype(pairs):
        return [(n, "text/html" if n == "response-content-type" else v) for n, v in pairs]
    err = assert_error(requests.get(with_query(url, retype)), 403, "SignatureDoesNotMatch",
                       "0002-00000101")
    assert "response-content-type=text%2Fhtml" in err["StringToSign"]
    assert_error(requests.get(with_query(url, lambda p: p + [("acl", "")])), 403,
                 "SignatureDoesNotMatch")
    # The GET URL used for a PUT: refused, the object unchanged.
    assert_error(requests.put(url, data=b"evil"), 403, "SignatureDoesNotMatch")
    assert bucket.get_object("t").read() == b"original"

    def drop(name):
        return lambda pairs: [(n, v) for n, v in pairs if n != name]
    assert_error(requests.get(with_query(url, drop("x-oss-expires"))), 403, "AccessDenied",
                 "0002-00000113")
    assert_error(requests.get(with_query(url, drop("x-oss-access-key-id"))), 403, "AccessDenied",
                 "0002-00000115")
    assert_error(requests.get(with_query(url, drop("x-oss-signature"))), 403, "AccessDenied",
                 "0002-00000117")


# ---------------------------------------------------------------------------
# V1 with x-oss-date (ali-oss sends it instead of Date; oss2 signs it in the Date slot)
# ---------------------------------------------------------------------------
def test_v1_x_oss_date_is_request_time(bucket, monkeypatch):
    v1 = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), bucket.endpoint, bucket.bucket_name)
    fresh = http_date()
    assert v1.put_object("xd", b"x", headers={"x-oss-date": fresh}).status == 200
    # A stale Date does not matter when x-oss-date is fresh: x-oss-date is the request time.
    monkeypatch.setattr(oss2.utils, "http_date", lambda t=None: http_date(-3600))
    assert v1.get_object("xd", headers={"x-oss-date": fresh}).read() == b"x"
    monkeypatch.undo()
    # And a fresh Date does not save a stale x-oss-date.
    stale = http_date(-3600)
    with pytest.raises(oe.ServerError) as ei:
        v1.get_object("xd", headers={"x-oss-date": stale})
    assert (ei.value.status, ei.value.code) == (403, "RequestTimeTooSkewed")
    assert ei.value.details["RequestTime"] == stale
    # ali-oss style: x-oss-date and no Date header at all.
    r = send(oss2.Auth(ROOT1.id, ROOT1.secret), "GET", bucket, "xd", headers={"x-oss-date": fresh},
             after_sign=lambda h: h.pop("date"))
    assert (r.status_code, r.content) == (200, b"x")


def test_v1_presigned_url_with_x_oss_date_header(bucket):
    """A V1 URL's Date slot is always Expires, an x-oss-date header only being one of the
    signed x-oss-* headers (ali-oss signatureUrl signs so)."""
    bucket.put_object("u", b"url")
    expires = str(int(time.time()) + 120)
    stamp = http_date()
    resource = "/%s/u" % bucket.bucket_name

    def url_for(date_slot):
        sts = "GET\n\n\n%s\nx-oss-date:%s\n%s" % (date_slot, stamp, resource)
        sig = base64.b64encode(hmac.new(ROOT1.secret.encode(), sts.encode(), hashlib.sha1).digest())
        return object_url(bucket.endpoint, bucket.bucket_name, "u") + "?" + urlencode(
            {"OSSAccessKeyId": ROOT1.id, "Expires": expires, "Signature": sig.decode()})
    r = requests.get(url_for(expires), headers={"x-oss-date": stamp})
    assert (r.status_code, r.content) == (200, b"url")
    err = assert_error(requests.get(url_for(stamp), headers={"x-oss-date": stamp}), 403,
                       "SignatureDoesNotMatch", "0002-00000040")
    assert err["StringToSign"] == "GET\n\n\n%s\nx-oss-date:%s\n%s" % (expires, stamp, resource)


# ---------------------------------------------------------------------------
# V4 scope forms
# ---------------------------------------------------------------------------
def test_v4_region_forms(bucket):
    bucket.put_object("v4", b"four")
    good = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), bucket.endpoint, bucket.bucket_name,
                       region=V4_REGION[HZ])
    assert good.get_object("v4").read() == b"four"
    assert requests.get(good.sign_url("GET", "v4", 60)).content == b"four"
    # The endpoint-style region ("oss-cn-hangzhou") is not a V4 signing region.
    prefixed = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), bucket.endpoint,
                           bucket.bucket_name, region=HZ)
    with pytest.raises(oe.AccessDenied) as ei:
        prefixed.get_object("v4")
    assert (ei.value.status, ei.value.details["EC"]) == (403, "0002-00000228")
    assert_error(requests.get(prefixed.sign_url("GET", "v4", 60)), 403, "AccessDenied",
                 "0002-00000226")


def test_v4_additional_headers(ossify, bucket):
    bucket.put_object("dl", b"download me")
    v4 = oss2.AuthV4(ROOT1.id, ROOT1.secret)
    # Header form (oss2 signs additional headers only when asked through _sign_request).
    r = send(v4, "GET", bucket, "dl", headers={"Range": "bytes=0-7", "X-Custom": "c"},
             additional=["x-custom", "range"])
    assert (r.status_code, r.content) == (206, b"download")
    assert ", AdditionalHeaders=range;x-custom" in r.request.headers["Authorization"]
    r = send(v4, "GET", bucket, "dl", headers={"Range": "bytes=0-7", "X-Custom": "c"},
             additional=["x-custom", "range"], after_sign=lambda h: h.update({"X-Custom": "d"}))
    assert_error(r, 403, "SignatureDoesNotMatch", "0002-00000201")
    # URL form: oss2 sorts the list it sends and signs.
    b4 = oss2.Bucket(v4, bucket.endpoint, bucket.bucket_name, region=V4_REGION[HZ])
    headers = {"Referer": "http://app.test/", "Range": "bytes=9-10"}
    url = b4.sign_url("GET", "dl", 120, headers=headers, additional_headers=["referer", "range"])
    assert "x-oss-additional-headers=range%3Breferer" in url
    r = requests.get(url, headers=headers)
    assert (r.status_code, r.content) == (206, b"me")
    assert_error(requests.get(url, headers={"Referer": "http://evil.test/", "Range": "bytes=9-10"}),
                 403, "SignatureDoesNotMatch", "0002-00000201")


def test_v4_sdk_v2_with_additional_headers_config(ossify, bucket):
    """alibabacloud-oss-v2 accepts `additional_headers` in its Config (its signer leaves the
    list out in the installed version); header and presigned forms both work."""
    import alibabacloud_oss_v2 as oss
    c = make_v2_client(ossify, additional_headers=["content-disposition", "range"])
    c.put_object(oss.PutObjectRequest(bucket=bucket.bucket_name, key="dl", body=b"download me",
                                      content_disposition="attachment"))
    assert bucket.head_object("dl").headers["Content-Disposition"] == "attachment"
    r = c.get_object(oss.GetObjectRequest(bucket=bucket.bucket_name, key="dl", range_header="bytes=0-7"))
    assert r.body.read() == b"download"
    pr = c.presign(oss.GetObjectRequest(bucket=bucket.bucket_name, key="dl", range_header="bytes=9-10"),
                   expires=datetime.timedelta(minutes=2))
    assert "range" not in {k.lower() for k in pr.signed_headers}
    r = requests.get(pr.url, headers=dict(pr.signed_headers, Range="bytes=9-10"))
    assert (r.status_code, r.content) == (206, b"me")


@pytest.mark.parametrize("auth", ["v1", "v2"])
def test_v1_and_v2_presigned_urls_have_no_seven_day_cap(ossify, bucket, auth):
    """Only V4 URLs are capped at 7 days: OSS serves a V1 or V2 URL signed for decades
    (the oss2 suite's test_sign_v1_x_oss_date_url signs one for ~52 years)."""
    make = oss2.Auth(ROOT1.id, ROOT1.secret) if auth == "v1" else v2_auth()
    b = oss2.Bucket(make, ossify.endpoint(HZ), bucket.bucket_name)
    years = 52 * 365 * 86400
    r = requests.put(b.sign_url("PUT", "long", years), data=b"kept")
    assert r.status_code == 200, r.text
    r = requests.get(b.sign_url("GET", "long", years))
    assert (r.status_code, r.content) == (200, b"kept")
    r = requests.get(b.sign_url("GET", "long", -1))
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text


def test_v4_url_without_region(ossify, bucket):
    """A V4 URL signed with no region (oss2 lets sign_url do it) gets OSS's message
    (the oss2 suite's test_sign_v4_no_region)."""
    b = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), ossify.endpoint(HZ), bucket.bucket_name)
    url = b.sign_url("PUT", "v4", 600, slash_safe=True)
    assert "%2F%2Foss%2Faliyun_v4_request" in url or "//oss/aliyun_v4_request" in url
    r = requests.put(url, data=b"x")
    assert r.status_code == 400, r.text
    assert "<Message>The signing region in credential is invalid.</Message>" in r.text
    assert "<Code>InvalidArgument</Code>" in r.text
    assert bucket.object_exists("v4") is False
