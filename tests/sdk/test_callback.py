"""Upload callbacks: PutObject, CompleteMultipartUpload, PostObject and presigned URLs
with `callback`/`callback-var` (oss2 V1 and V4, alibabacloud-oss-v2, plain HTTP), the
signed callback request (verified with `cryptography` exactly as OSS's sample callback
server verifies it), 203 CallbackFailed, refused parameters and targets, and bucket
callback policies."""

import base64
import hashlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import alibabacloud_oss_v2 as oss
import oss2
import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from oss2.models import CallbackPolicyInfo, PartInfo

from conftest import (HZ, ROOT1, Oss2Ctx, crc64, error_of, make_config, make_image,
                      make_v2_client, md5_upper, parse_error, unique_bucket_name)

OK_BODY = b'{"Status":"OK"}'


def b64(obj):
    text = obj if isinstance(obj, str) else json.dumps(obj)
    return base64.b64encode(text.encode()).decode()


class Recorder(object):
    """A callback server on 127.0.0.1: records every request and whether its
    signature verifies. Paths choose the answer: /ok (JSON, 200), /fail500, /notjson,
    /slow (answers after the 5 s limit)."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                with recorder.lock:
                    recorder.requests.append({
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                        "verified": recorder.verify(self.path, self.headers, body),
                    })
                route = self.path.split("?")[0]
                if route == "/slow":
                    time.sleep(6.5)
                if route == "/fail500":
                    answer, status, ctype = b'{"error":"boom"}', 500, "application/json"
                elif route == "/notjson":
                    answer, status, ctype = b"OK", 200, "text/plain"
                else:
                    answer, status, ctype = OK_BODY, 200, "application/json"
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # ossify hung up: it does not read a refused answer's body

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/ok"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    @staticmethod
    def verify(path, headers, body):
        """OSS's sample callback server, with `cryptography`: fetch the PEM public key
        from the base64 x-oss-pub-key-url, then check the base64 `authorization` as an
        RSA (PKCS#1 v1.5) MD5 signature of unquote(path) + query + "\\n" + body."""
        try:
            key_url = base64.b64decode(headers["x-oss-pub-key-url"]).decode()
            pem = requests.get(key_url, timeout=5).content
            public_key = serialization.load_pem_public_key(pem)
            signature = base64.b64decode(headers["authorization"])
        except Exception as e:  # recorded as not verified
            return "no key: %r" % e
        pos = path.find("?")
        if pos == -1:
            auth_str = unquote(path) + "\n"
        else:
            auth_str = unquote(path[:pos]) + path[pos:] + "\n"
        try:
            public_key.verify(signature, auth_str.encode() + body, padding.PKCS1v15(), hashes.MD5())
            return True
        except InvalidSignature:
            return False

    def take(self, count=1):
        """The requests received since the last call (waiting a little for them)."""
        deadline = time.time() + 10
        while time.time() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    got, self.requests = self.requests, []
                    return got
            time.sleep(0.02)
        with self.lock:
            got, self.requests = self.requests, []
        return got

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def cb_server():
    r = Recorder()
    yield r
    r.close()


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(ossify, request):
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture
def bucket(ctx):
    return ctx.new_bucket("cb")


FORM_BODY = ("bucket=${bucket}&object=${object}&etag=${etag}&size=${size}&mimeType=${mimeType}"
             "&imageInfo.height=${imageInfo.height}&imageInfo.width=${imageInfo.width}"
             "&imageInfo.format=${imageInfo.format}&crc64=${crc64}&contentMd5=${contentMd5}"
             "&vpcId=${vpcId}&operation=${operation}&my_var=${x:my_var}")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def assert_missing(bucket, key):
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.head_object(key)


# ---------------------------------------------------------------------------
# callbacks that succeed
# ---------------------------------------------------------------------------
def test_put_object_form_callback_signed(ctx, bucket, cb_server, ossify):
    png = make_image("PNG", size=(40, 30))
    key = "dir/cb image+1.png"
    cb = {"callbackUrl": cb_server.url("/ok?id=1&index=2"), "callbackHost": "app.example.com",
          "callbackBody": FORM_BODY}
    r = bucket.put_object(key, png, headers={"x-oss-callback": b64(cb),
                                             # A member that is no `x:` variable is unused
                                             # (OSS answers the oss2 suite so).
                                             "x-oss-callback-var": b64({"x:my_var": "a b&c",
                                                                        "callbackUrl": "unused"}),
                                             "Content-Type": "image/png"})
    assert r.status == 200
    assert r.resp.read() == OK_BODY
    assert r.headers["Content-Type"] == "application/json"
    etag = md5_upper(png)
    assert r.etag == etag
    assert r.headers["x-oss-hash-crc64ecma"] == str(crc64(png))
    assert r.headers["Content-MD5"] == base64.b64encode(hashlib.md5(png).digest()).decode()
    (got,) = cb_server.take()
    assert got["verified"] is True
    assert got["path"] == "/ok?id=1&index=2"
    h = got["headers"]
    assert h["content-type"] == "application/x-www-form-urlencoded"
    assert h["host"] == "app.example.com"
    key_url = base64.b64decode(h["x-oss-pub-key-url"]).decode()
    assert key_url.endswith("/-/callback-public-key.pem")
    # The key is served without authentication, the same one that signed.
    assert requests.get(key_url).content.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    md5 = base64.b64encode(hashlib.md5(png).digest()).decode()
    assert got["body"].decode() == (
        "bucket=%s&object=dir%%2Fcb%%20image%%2B1.png&etag=%s&size=%d&mimeType=image%%2Fpng"
        "&imageInfo.height=30&imageInfo.width=40&imageInfo.format=png&crc64=%d&contentMd5=%s"
        "&vpcId=&operation=PutObject&my_var=a%%20b%%26c"
        % (bucket.bucket_name, etag, len(png), crc64(png), md5.replace("+", "%2B").replace("/", "%2F")
           .replace("=", "%3D")))
    assert bucket.get_object(key).read() == png


def test_v2_put_object_json_callback(ossify, cb_server):
    c = make_v2_client(ossify)
    name = unique_bucket_name("cbv2")
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        body = ('{"bucket":${bucket},"object":${object},"size":${size},"crc64":${crc64},'
                '"mimeType":${mimeType},"imageInfo":{"height":${imageInfo.height},'
                '"format":${imageInfo.format}},"clientIp":${clientIp},"reqId":${reqId},'
                '"operation":${operation},"var":${x:var1}}')
        cb = {"callbackUrl": cb_server.url("/ok"), "callbackBody": body,
              "callbackBodyType": "application/json"}
        data = b'say "hi"\n'
        r = c.put_object(oss.PutObjectRequest(bucket=name, key="v2.txt", body=data,
                                              content_type="text/plain", callback=b64(cb),
                                              callback_var=b64({"x:var1": 'q"uote\\'})))
        assert r.status_code == 200
        assert json.loads(r.callback_result) == {"Status": "OK"}
        assert r.etag == '"%s"' % md5_upper(data)
        (got,) = cb_server.take()
        assert got["verified"] is True
        assert got["headers"]["content-type"] == "application/json"
        assert json.loads(got["body"]) == {
            "bucket": name, "object": "v2.txt", "size": len(data), "crc64": crc64(data),
            "mimeType": "text/plain", "imageInfo": {"height": "", "format": ""},
            "clientIp": "127.0.0.1", "reqId": r.request_id, "operation": "PutObject",
            "var": 'q"uote\\'}
    finally:
        c.delete_object(oss.DeleteObjectRequest(bucket=name, key="v2.txt"))
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))


def test_complete_multipart_upload_callback(ctx, bucket, cb_server):
    key = "multi.bin"
    part1, part2 = b"a" * (100 * 1024), b"tail"
    up = bucket.init_multipart_upload(key).upload_id
    p1 = bucket.upload_part(key, up, 1, part1)
    p2 = bucket.upload_part(key, up, 2, part2)
    cb = {"callbackUrl": cb_server.url("/ok"),
          "callbackBody": "size=${size}&etag=${etag}&operation=${operation}&md5=${contentMd5}"
                          "&v=${x:v}"}
    r = bucket.complete_multipart_upload(
        key, up, [PartInfo(1, p1.etag, size=len(part1), part_crc=p1.crc),
                  PartInfo(2, p2.etag, size=len(part2), part_crc=p2.crc)],
        headers={"x-oss-callback": b64(cb), "x-oss-callback-var": b64({"x:v": "1"})})
    assert r.status == 200
    # The callback's answer replaces CompleteMultipartUploadResult.
    assert r.resp.read() == OK_BODY
    assert r.crc == crc64(part1 + part2)
    (got,) = cb_server.take()
    assert got["verified"] is True
    assert got["body"].decode() == "size=%d&etag=%s&operation=CompleteMultipartUpload&md5=&v=1" % (
        len(part1) + len(part2), r.etag)
    assert bucket.get_object(key).read() == part1 + part2


def test_post_object_callback(ossify, cb_server):
    auth = oss2.Auth(ROOT1.id, ROOT1.secret)
    b = oss2.Bucket(auth, ossify.endpoint(HZ), unique_bucket_name("cbform"))
    b.create_bucket()
    try:
        cb = b64({"callbackUrl": cb_server.url("/ok"),
                  "callbackBody": "object=${object}&op=${operation}&md5=${contentMd5}&who=${x:who}"})
        policy = base64.b64encode(json.dumps({
            "expiration": "2099-01-01T00:00:00.000Z",
            "conditions": [{"bucket": b.bucket_name}, {"callback": cb}]}).encode()).decode()
        import hmac
        signature = base64.b64encode(hmac.new(ROOT1.secret.encode(), policy.encode(),
                                              hashlib.sha1).digest()).decode()
        fields = {"key": "form/${filename}", "OSSAccessKeyId": ROOT1.id, "policy": policy,
                  "Signature": signature, "success_action_status": "201", "callback": cb,
                  "x:who": "browser"}
        r = requests.post("%s/%s" % (ossify.endpoint(HZ), b.bucket_name), data=fields,
                          files={"file": ("f.txt", b"form body", "text/plain")})
        assert r.status_code == 200, r.text
        assert r.content == OK_BODY
        assert r.headers["ETag"] == '"%s"' % md5_upper(b"form body")
        (got,) = cb_server.take()
        assert got["verified"] is True
        md5 = base64.b64encode(hashlib.md5(b"form body").digest()).decode()
        assert got["body"].decode() == "object=form%%2Ff.txt&op=PostObject&md5=%s&who=browser" % (
            md5.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"))
        # The policy's callback condition is enforced like any other.
        fields["callback"] = b64({"callbackUrl": cb_server.url("/ok"), "callbackBody": "x"})
        r = requests.post("%s/%s" % (ossify.endpoint(HZ), b.bucket_name), data=fields,
                          files={"file": ("g.txt", b"x", "text/plain")})
        assert r.status_code == 403, r.text
        assert cb_server.take(0) == []
    finally:
        for o in oss2.ObjectIterator(b):
            b.delete_object(o.key)
        b.delete_bucket()


def test_presigned_url_callback(ctx, bucket, cb_server):
    cb = b64({"callbackUrl": cb_server.url("/ok"), "callbackBody": "key=${object}&v=${x:v}"})
    url = bucket.sign_url("PUT", "pre.txt", 120, params={"callback": cb,
                                                        "callback-var": b64({"x:v": "p"})})
    r = requests.put(url, data=b"presigned")
    assert r.status_code == 200, r.text
    assert r.content == OK_BODY
    (got,) = cb_server.take()
    assert got["verified"] is True
    assert got["body"] == b"key=pre.txt&v=p"
    assert bucket.get_object("pre.txt").read() == b"presigned"


def test_public_key_page(ossify):
    r = requests.get(ossify.endpoint() + "/-/callback-public-key.pem")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-pem-file"
    key = serialization.load_pem_public_key(r.content)
    assert key.key_size == 2048
    assert requests.post(ossify.endpoint() + "/-/callback-public-key.pem").status_code == 405


# ---------------------------------------------------------------------------
# callbacks that fail: 203, the object is kept
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("target,message,ec", [
    ("down", "Error status : -1. OSS can not connect to your callbackUrl, please check it.", None),
    ("/fail500", "Error status : 500.", "0007-00000203"),
    ("/notjson", "Response body is not valid json format.", None),
])
def test_failed_callback_is_203_and_object_kept(ctx, bucket, cb_server, target, message, ec):
    url = "http://127.0.0.1:%d/" % free_port() if target == "down" else cb_server.url(target)
    key = "kept-%s.txt" % target.strip("/")
    r = bucket.put_object(key, b"kept", headers={
        "x-oss-callback": b64({"callbackUrl": url, "callbackBody": "k=${object}"})})
    assert r.status == 203
    err = parse_error(r.resp.read())
    assert (err["Code"], err["Message"]) == ("CallbackFailed", message)
    assert err.get("EC") == ec
    assert r.headers["Content-Type"] == "application/xml"
    assert r.etag == md5_upper(b"kept")
    assert r.headers["x-oss-hash-crc64ecma"] == str(crc64(b"kept"))
    assert bucket.get_object(key).read() == b"kept"
    cb_server.take(0 if target == "down" else 1)


def test_slow_callback_times_out(ctx, bucket, cb_server):
    if ctx.version == "v4":
        pytest.skip("one timeout run is enough")
    start = time.time()
    r = bucket.put_object("slow.txt", b"slow", headers={
        "x-oss-callback": b64({"callbackUrl": cb_server.url("/slow"), "callbackBody": "k"})})
    assert r.status == 203
    assert parse_error(r.resp.read())["Message"] == "Cost too long time."
    assert 4.5 < time.time() - start < 6.5
    assert bucket.get_object("slow.txt").read() == b"slow"
    cb_server.take()


def test_second_url_answers_when_first_fails(ctx, bucket, cb_server):
    urls = "http://127.0.0.1:%d/;%s" % (free_port(), cb_server.url("/ok"))
    r = bucket.put_object("two.txt", b"2", headers={
        "x-oss-callback": b64({"callbackUrl": urls, "callbackBody": "k=${object}"})})
    assert r.status == 200
    assert r.resp.read() == OK_BODY
    assert [g["body"] for g in cb_server.take()] == [b"k=two.txt"]


# ---------------------------------------------------------------------------
# refused parameters: 400 InvalidArgument, nothing stored
# ---------------------------------------------------------------------------
GOOD = {"callbackUrl": "http://127.0.0.1:1/", "callbackBody": "x"}

BAD_CALLBACKS = [
    ("x123-*&", "The callback configuration is not base64 encoded.", "0007-00000002"),
    (b64("error argument"), "The callback configuration is not json format.", None),
    (b64({"callbackBody": "x"}), "The callback url configuration is invalid.", "0007-00000004"),
    (b64(dict(GOOD, callbackUrl="ftp://127.0.0.1/")), "The callback url configuration is invalid.",
     "0007-00000004"),
    (b64(dict(GOOD, callbackUrl="10.101.166.30:test")), "The callback url configuration is invalid.",
     "0007-00000004"),
    (b64(dict(GOOD, callbackUrl=";".join("http://127.0.0.1:%d" % p for p in range(1, 7)))),
     "The number of callback url exceed max value.", "0007-00000005"),
    (b64(dict(GOOD, callbackBody="")), "The callback body is empty.", "0007-00000011"),
    (b64(dict(GOOD, callbackBody="a=${bucket")), "The callback body is invalid.", None),
    (b64(dict(GOOD, callbackBodyType=123)), "The callback body type configuration is invalid.",
     "0007-00000012"),
    (b64(dict(GOOD, callbackBodyType="text/xml")), "The body type of callback is not supported.",
     None),
    ("A" * (5 * 1024 + 4), "The length of callback exceed max value.", None),
]


@pytest.mark.parametrize("value,message,ec", BAD_CALLBACKS)
def test_malformed_callback_is_refused_before_storing(ctx, bucket, value, message, ec):
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.put_object("refused.txt", b"never", headers={"x-oss-callback": value})
    assert (e.value.status, e.value.code, e.value.message) == (400, "InvalidArgument", message)
    assert e.value.details.get("EC") == ec
    assert_missing(bucket, "refused.txt")


def test_refused_callback_var_and_duplicates(ctx, bucket, cb_server):
    cb = b64({"callbackUrl": cb_server.url("/ok"), "callbackBody": "x"})
    cases = [
        ({"x-oss-callback": cb, "x-oss-callback-var": b64({"x:n": 1})}, None,
         "The callback var is not expecten json."),
        ({"x-oss-callback": cb, "x-oss-callback-var": b64({"x:Upper": "v"})}, None,
         "The callback var is not expecten json."),
        ({"x-oss-callback": cb}, {"callback": cb},
         "Either the callback query string parameter or the x-oss-callback header should be "
         "specified, not both."),
    ]
    for headers, params, message in cases:
        r = ctx.raw("PUT", bucket.bucket_name, "refused.txt", headers=headers, params=params,
                    data=b"never")
        assert r.status_code == 400, r.text
        assert (error_of(r)["Code"], error_of(r)["Message"]) == ("InvalidArgument", message)
    # Multipart: refused before the upload completes; the upload is still there.
    up = bucket.init_multipart_upload("refused.txt").upload_id
    p = bucket.upload_part("refused.txt", up, 1, b"part")
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.complete_multipart_upload("refused.txt", up, [PartInfo(1, p.etag)],
                                         headers={"x-oss-callback": b64("nope")})
    assert_missing(bucket, "refused.txt")
    bucket.abort_multipart_upload("refused.txt", up)
    assert cb_server.take(0) == []


def test_metadata_address_is_refused_by_default(ctx, bucket):
    cb = b64({"callbackUrl": "http://169.254.169.254/latest/meta-data/", "callbackBody": "x"})
    with pytest.raises(oss2.exceptions.OssError) as e:
        bucket.put_object("meta.txt", b"never", headers={"x-oss-callback": cb})
    assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    assert e.value.message.startswith("Private address is forbidden to callback.")
    assert "169.254.0.0/16" in e.value.message
    assert e.value.details["EC"] == "0007-00000008"
    assert_missing(bucket, "meta.txt")


def test_operator_deny_list(server_factory, tmp_path, cb_server):
    workdir = tmp_path / "deny"
    text = make_config(workdir / "data") + '\n[callback]\ndeny = ["127.0.0.2", "*.blocked.test"]\n'
    srv = server_factory(workdir=workdir, config_text=text)
    srv.start()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), unique_bucket_name("deny"))
    b.create_bucket()
    for url, why in (("http://127.0.0.2:%d/" % cb_server.port, "127.0.0.2"),
                     ("http://hooks.blocked.test/", "hooks.blocked.test")):
        with pytest.raises(oss2.exceptions.OssError) as e:
            b.put_object("denied.txt", b"never", headers={
                "x-oss-callback": b64({"callbackUrl": url, "callbackBody": "x"})})
        assert (e.value.status, e.value.code) == (400, "InvalidArgument")
        assert "deny list" in e.value.message and why in e.value.message, e.value.message
        assert e.value.details["ArgumentName"] == "callbackUrl"
        assert_missing(b, "denied.txt")
    assert cb_server.take(0) == []
    # Loopback is not in this list: callbacks to 127.0.0.1 still go (the
    # replaced deny list no longer holds the metadata defaults either).
    r = b.put_object("fine.txt", b"ok", headers={
        "x-oss-callback": b64({"callbackUrl": cb_server.url("/ok"), "callbackBody": "x"})})
    assert r.status == 200
    assert cb_server.take()[0]["verified"] is True
    # The key was generated in this server's data directory and survives a restart.
    key_file = workdir / "data" / "callback-private-key.pem"
    pem = key_file.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    public = requests.get(srv.endpoint(HZ) + "/-/callback-public-key.pem").content
    srv.restart()
    assert key_file.read_bytes() == pem
    assert requests.get(srv.endpoint(HZ) + "/-/callback-public-key.pem").content == public
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(HZ), b.bucket_name)
    b.delete_object("fine.txt")
    b.delete_bucket()


# ---------------------------------------------------------------------------
# bucket callback policies (?policy&comp=callback)
# ---------------------------------------------------------------------------
def test_bucket_callback_policy(ctx, bucket, cb_server):
    assert bucket.get_bucket_callback_policy().callback_policies == []
    cb = b64({"callbackUrl": cb_server.url("/ok"), "callbackBody": "k=${object}&v=${x:v}"})
    r = bucket.put_bucket_callback_policy([
        CallbackPolicyInfo("p1", cb, b64({"x:v": "from-policy"})),
        CallbackPolicyInfo("p2", cb)])
    assert r.status == 200
    got = bucket.get_bucket_callback_policy().callback_policies
    assert [(p.policy_name, p.callback, p.callback_var) for p in got] == [
        ("p1", cb, b64({"x:v": "from-policy"})), ("p2", cb, None)]
    r = bucket.put_object("pol.txt", b"p", headers={"x-oss-callback": b64({"callbackPolicy": "p1"})})
    assert r.status == 200 and r.resp.read() == OK_BODY
    # The request's own callback-var wins over the policy's.
    r = bucket.put_object("pol2.txt", b"p", headers={
        "x-oss-callback": b64({"callbackPolicy": "p1"}), "x-oss-callback-var": b64({"x:v": "mine"})})
    assert r.status == 200
    assert [g["body"] for g in cb_server.take(2)] == [b"k=pol.txt&v=from-policy",
                                                       b"k=pol2.txt&v=mine"]
    with pytest.raises(oss2.exceptions.InvalidArgument) as e:
        bucket.put_object("nopol.txt", b"p", headers={"x-oss-callback": b64({"callbackPolicy": "p9"})})
    assert "p9" in e.value.message
    assert_missing(bucket, "nopol.txt")
    # A policy's callback is checked when it is set; nothing changes on refusal.
    with pytest.raises(oss2.exceptions.InvalidArgument) as e:
        bucket.put_bucket_callback_policy([CallbackPolicyInfo("bad", b64("nope"))])
    assert e.value.message == "The callback configuration is not json format."
    with pytest.raises(oss2.exceptions.InvalidArgument):
        bucket.put_bucket_callback_policy([CallbackPolicyInfo("p", cb), CallbackPolicyInfo("p", cb)])
    assert len(bucket.get_bucket_callback_policy().callback_policies) == 2
    r = bucket.delete_bucket_callback_policy()
    assert r.status == 204
    assert bucket.get_bucket_callback_policy().callback_policies == []
    # An unsigned request may not read or change them.
    anon = ctx.anon_bucket(bucket.bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied):
        anon.get_bucket_callback_policy()
