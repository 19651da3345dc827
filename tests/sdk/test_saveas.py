"""ProcessObject (POST ?x-oss-process) with sys/saveas, via oss2 (V1/V4) and raw signed
requests, and the permission matrix of spec/img.md §11.3 and spec/oss-api.md §6.

Rules under test: the caller needs oss:PostProcessTask and read access (oss:GetObject) on
the source object and oss:PutObject on the target object; source and target buckets must
belong to the same account and region (else 400 InvalidArgument); the target bucket must
exist (404 NoSuchBucket); an invalid target key is 400 InvalidObjectName. A refused request
must not leave anything behind in the target bucket.
"""

import base64
import hashlib
import json
import re
from urllib.parse import urlencode

import oss2
import pytest
from oss2 import exceptions as oe

pytest.importorskip("PIL")

from conftest import (HZ, SH, V4_REGION, Oss2Ctx, crc64, md5_upper, OssifyServer, ServerError, _LOG_FILES,  # noqa: E402
                      b64_std, b64_url, error_of, frame_count, make_animated_gif, make_image,
                      open_image, saveas,
                      signed_request, unique_bucket_name)

W, H = 200, 100
# standard base64 of this key contains '+', '/' and '==' padding: b3V0L2s/Pz8+LmpwZw==
B64_KEY = "out/k???>.jpg"


Ctx = Oss2Ctx


class World(object):
    """Buckets of the session server for one signature version."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.src = ctx.new_bucket("sa-src")
        self.dst = ctx.new_bucket("sa-dst")
        self.pub = ctx.new_bucket("sa-pub", acl=oss2.BUCKET_ACL_PUBLIC_READ)
        self.sh = ctx.new_bucket("sa-sh", region=SH)
        self.other = ctx.new_bucket("sa-acct2", keys=ctx.env.root2)
        self.jpg = make_image("JPEG", (W, H), quadrants=True, quality=95)
        self.src.put_object("src.jpg", self.jpg)

    def process(self, spec, key="src.jpg"):
        return self.src.process_object(key, spec)


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(request, ossify):
    c = Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def world(ctx):
    return World(ctx)


def check_saved(bucket, key, fmt="image/jpeg", size=None):
    """The saved object: type, ETag = MD5, CRC-64, default ACL, a Normal object."""
    r = bucket.get_object(key)
    data = r.read()
    assert r.headers["Content-Type"] == fmt
    assert r.headers["ETag"] == '"%s"' % md5_upper(data)
    assert int(r.headers["x-oss-hash-crc64ecma"]) == crc64(data)
    assert int(r.headers["Content-Length"]) == len(data)
    assert r.headers.get("x-oss-object-type") == "Normal"
    assert bucket.get_object_acl(key).acl == "default"
    if size:
        assert open_image(data).size == size
    return data


def assert_absent(bucket, key):
    assert not bucket.object_exists(key), "%s/%s exists" % (bucket.bucket_name, key)
    listed = [o.key for o in oss2.ObjectIterator(bucket, prefix=key)]
    assert listed == [], listed


# ---------------------------------------------------------------------------
# happy paths
# ---------------------------------------------------------------------------
def test_saveas_same_bucket_without_b(world):
    key = "out/same.jpg"
    r = world.process("image/resize,w_50|" + saveas(key))
    assert r.status == 200
    assert r.request_id
    assert r.bucket == ""
    assert r.object == key
    assert r.process_status == "OK"
    data = check_saved(world.src, key, "image/jpeg", (50, 25))
    assert r.fileSize == len(data)


def test_saveas_response_json_shape(world):
    ctx = world.ctx
    key = "out/json.png"
    body = "x-oss-process=image/resize,w_40/format,png|" + saveas(key, world.dst.bucket_name)
    r = ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""}, data=body)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.headers.get("x-oss-request-id")
    doc = json.loads(r.content)
    assert set(doc) == {"bucket", "fileSize", "object", "status"}
    assert doc["bucket"] == world.dst.bucket_name
    assert doc["object"] == key
    assert doc["status"] == "OK"
    assert isinstance(doc["fileSize"], int)
    data = check_saved(world.dst, key, "image/png", (40, 20))
    assert doc["fileSize"] == len(data)
    assert_absent(world.src, key)


def test_saveas_other_bucket_same_account(world):
    key = "out/other.jpg"
    r = world.process("image/rotate,90|" + saveas(key, world.dst.bucket_name))
    assert r.bucket == world.dst.bucket_name
    assert r.object == key and r.process_status == "OK"
    data = check_saved(world.dst, key, "image/jpeg", (H, W))
    assert r.fileSize == len(data)
    assert_absent(world.src, key)


@pytest.mark.parametrize("fmt,ctype", [("png", "image/png"), ("webp", "image/webp"),
                                       ("bmp", "image/bmp"), ("tiff", "image/tiff"),
                                       ("jpg", "image/jpeg")])
def test_saveas_content_type_of_output_format(world, fmt, ctype):
    key = "out/fmt." + fmt
    r = world.process("image/resize,w_30/format,%s|%s" % (fmt, saveas(key, world.dst.bucket_name)))
    assert r.process_status == "OK"
    check_saved(world.dst, key, ctype, (30, 15))


def test_saveas_explicit_source_bucket_echoes_name(world):
    key = "out/explicit.jpg"
    r = world.process("image/resize,w_22|" + saveas(key, world.src.bucket_name))
    assert r.bucket == world.src.bucket_name
    check_saved(world.src, key, "image/jpeg", (22, 11))


def test_saveas_onto_the_source_itself(world):
    world.src.put_object("self.jpg", world.jpg)
    r = world.process("image/resize,w_30|" + saveas("self.jpg"), "self.jpg")
    assert r.process_status == "OK"
    check_saved(world.src, "self.jpg", "image/jpeg", (30, 15))
    # processing again works on the new content
    world.process("image/rotate,90|" + saveas("self.jpg"), "self.jpg")
    check_saved(world.src, "self.jpg", "image/jpeg", (15, 30))


def test_saveas_info_is_refused_or_saved_as_json(world):
    # a JSON query result cannot be an image; either refuse (400) or save the JSON
    key = "out/info.json"
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data="x-oss-process=image/info|" + saveas(key))
    assert r.status_code in (200, 400), (r.status_code, r.content[:300])
    if r.status_code == 400:
        assert_absent(world.src, key)
    else:
        g = world.src.get_object(key)
        assert g.headers["Content-Type"].startswith("application/json")
        assert json.loads(g.read())["ImageWidth"]["value"] == str(W)


def test_saveas_unicode_key_and_animated_gif(world):
    world.src.put_object("anim.gif", make_animated_gif((80, 40), 3))
    key = "输出/动画 图.gif"
    r = world.process("image/resize,w_40|" + saveas(key, world.dst.bucket_name), "anim.gif")
    assert r.object == key
    data = check_saved(world.dst, key, "image/gif", (40, 20))
    assert frame_count(data) == 3


def test_saveas_overwrites_existing_target(world):
    key = "out/overwrite.jpg"
    world.dst.put_object(key, b"old content", headers={"Content-Type": "text/plain"})
    world.process("image/resize,w_20|" + saveas(key, world.dst.bucket_name))
    check_saved(world.dst, key, "image/jpeg", (20, 10))


def test_saveas_with_style(world):
    b = world.src
    b.put_bucket_style("sathumb", "image/resize,w_64")
    try:
        r = world.process("style/sathumb|" + saveas("out/style.jpg"))
        assert r.bucket == "" and r.process_status == "OK"
        check_saved(b, "out/style.jpg", "image/jpeg", (64, 32))
        r = world.process("style/sathumb/format,png|" + saveas("out/style.png",
                                                               world.dst.bucket_name))
        check_saved(world.dst, "out/style.png", "image/png", (64, 32))
        e = oss_error(lambda: world.process("style/nosuch|" + saveas("out/nostyle.jpg")),
                      404, "NoSuchStyle")
        assert e
        assert_absent(b, "out/nostyle.jpg")
    finally:
        b.delete_bucket_style("sathumb")


def test_saveas_target_public_read_bucket(world):
    key = "out/public.jpg"
    world.process("image/resize,w_32|" + saveas(key, world.pub.bucket_name))
    check_saved(world.pub, key, "image/jpeg", (32, 16))  # object ACL "default"
    # the saved object inherits the public-read bucket ACL: anonymous GET works
    anon = oss2.Bucket(oss2.AnonymousAuth(), world.ctx.env.hz, world.pub.bucket_name)
    assert open_image(anon.get_object(key).read()).size == (32, 16)
    # ... while one saved into the private source bucket is not anonymously readable
    world.process("image/resize,w_32|" + saveas(key))
    anon_src = oss2.Bucket(oss2.AnonymousAuth(), world.ctx.env.hz, world.src.bucket_name)
    oss_error(lambda: anon_src.get_object(key), 403, "AccessDenied")


def test_post_without_saveas_returns_image(world):
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data="x-oss-process=image/resize,w_50/format,png")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"
    assert open_image(r.content).size == (50, 25)


@pytest.mark.parametrize("form", [False, True], ids=["raw", "form"])
def test_raw_and_form_encoded_bodies(world, form):
    key = "out/body-%s.jpg" % ("form" if form else "raw")
    spec = "image/resize,w_48|" + saveas(key, world.dst.bucket_name)
    if form:
        body = urlencode({"x-oss-process": spec})
        assert "%2F" in body and "%7C" in body
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
    else:
        body = "x-oss-process=" + spec
        headers = {}
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data=body, headers=headers)
    assert r.status_code == 200, r.text
    doc = json.loads(r.content)
    assert doc["object"] == key and doc["bucket"] == world.dst.bucket_name
    check_saved(world.dst, key, "image/jpeg", (48, 24))


ENCODINGS = {
    "url-nopad": lambda s: b64_url(s, pad=False),
    "url-pad": lambda s: b64_url(s, pad=True),
    "std-pad": lambda s: b64_std(s, pad=True),
    "std-nopad": lambda s: b64_std(s, pad=False),
}


@pytest.mark.parametrize("enc", sorted(ENCODINGS))
@pytest.mark.parametrize("via", ["oss2", "form"])
def test_base64_alphabets_and_padding(world, enc, via):
    encode = ENCODINGS[enc]
    assert "+" in b64_std(B64_KEY) and "/" in b64_std(B64_KEY) and b64_std(B64_KEY).endswith("==")
    spec = "image/resize,w_24|" + saveas(B64_KEY, world.dst.bucket_name, encode=encode)
    try:
        if via == "oss2":  # raw body: a standard-base64 '+' travels literally
            r = world.process(spec)
            assert (r.object, r.bucket, r.process_status) == \
                (B64_KEY, world.dst.bucket_name, "OK")
        else:
            r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg",
                              params={"x-oss-process": ""},
                              data=urlencode({"x-oss-process": spec}),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 200, r.text
            assert json.loads(r.content)["object"] == B64_KEY
        check_saved(world.dst, B64_KEY, "image/jpeg", (24, 12))
    finally:
        world.dst.delete_object(B64_KEY)


def test_concurrent_saveas_to_one_key(world):
    """Racing saves of different sizes: the survivor is one complete result, and its
    ETag / CRC / size agree with its bytes."""
    import threading

    key = "out/race.jpg"
    widths = [10, 20, 30, 40, 50, 60]
    errors = []

    def run(w):
        try:
            world.process("image/resize,w_%d|%s" % (w, saveas(key, world.dst.bucket_name)))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in widths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    data = check_saved(world.dst, key, "image/jpeg")
    assert open_image(data).size in [(w, w // 2) for w in widths]
    assert [o.key for o in oss2.ObjectIterator(world.dst, prefix="out/race")] == [key]


def test_content_md5_is_checked(world):
    body = "x-oss-process=image/resize,w_10|" + saveas("out/md5.jpg")
    good = base64.b64encode(hashlib.md5(body.encode()).digest()).decode()
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data=body, headers={"Content-MD5": good})
    assert r.status_code == 200, r.text
    bad = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    key = "out/md5-bad.jpg"
    body = "x-oss-process=image/resize,w_10|" + saveas(key)
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data=body, headers={"Content-MD5": bad})
    assert r.status_code == 400
    assert error_of(r)["Code"] == "InvalidDigest"
    assert_absent(world.src, key)


# ---------------------------------------------------------------------------
# errors on the session server (root key of the source bucket's account)
# ---------------------------------------------------------------------------
def oss_error(fn, status, code=None):
    with pytest.raises(oe.OssError) as ei:
        fn()
    e = ei.value
    assert e.status == status, (e.status, e.code, e.message)
    if code:
        assert e.code == code, (e.code, e.message)
    assert e.request_id
    return e


def test_target_bucket_missing(world):
    missing = unique_bucket_name("sa-missing")
    e = oss_error(lambda: world.process("image/resize,w_10|" + saveas("out/m.jpg", missing)),
                  404, "NoSuchBucket")
    assert missing in (e.message + str(e.details))
    with pytest.raises(oe.NoSuchBucket):
        world.ctx.bucket(missing).get_bucket_info()


def test_target_bucket_in_other_region(world):
    key = "out/region.jpg"
    e = oss_error(lambda: world.process("image/resize,w_10|" + saveas(key, world.sh.bucket_name)),
                  400, "InvalidArgument")
    assert "region" in e.message, e.message
    assert_absent(world.sh, key)


def test_target_bucket_of_other_account(world):
    key = "out/account.jpg"
    e = oss_error(lambda: world.process("image/resize,w_10|" + saveas(key,
                                                                       world.other.bucket_name)),
                  400, "InvalidArgument")
    assert "account" in e.message, e.message
    other = world.ctx.bucket(world.other.bucket_name, keys=world.ctx.env.root2)
    assert_absent(other, key)


@pytest.mark.parametrize("bad_key", ["", "/leading-slash.jpg", "\\backslash.jpg",
                                     "a" * 1024, "dir/../up.jpg"])
def test_invalid_target_key(world, bad_key):
    e = oss_error(lambda: world.process("image/resize,w_10|" + saveas(bad_key)),
                  400, "InvalidObjectName")
    assert e.message


def test_invalid_target_bucket_name(world):
    oss_error(lambda: world.process("image/resize,w_10|" + saveas("out/x.jpg", "Bad_Bucket")),
              400, "InvalidBucketName")


@pytest.mark.parametrize("spec", [
    "image/resize,w_10|sys/saveas",                       # no o_
    "image/resize,w_10|sys/saveas,b_" + b64_url("x-bucket"),
    "image/resize,w_10|sys/saveas,o_!!!notbase64",
    "image/resize,w_10|saveas,o_" + b64_url("out/nosys.jpg"),  # must be sys/saveas
    "image/resize,w_10|sys/saveas,o_%s,z_1" % b64_url("out/z.jpg"),
    "image/frobnicate,1|" + saveas("out/badspec.jpg"),
    "image/resize,w_0|" + saveas("out/badspec.jpg"),
])
def test_bad_saveas_specs(world, spec):
    oss_error(lambda: world.process(spec), 400)
    for key in ("out/nosys.jpg", "out/z.jpg", "out/badspec.jpg"):
        assert not world.src.object_exists(key)


@pytest.mark.parametrize("body", ["", "image/resize,w_10", "x-oss-process="])
def test_bad_bodies(world, body):
    r = world.ctx.raw("POST", world.src.bucket_name, "src.jpg", params={"x-oss-process": ""},
                      data=body)
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert error_of(r)["Code"] in ("InvalidArgument", "MissingArgument")


def test_source_missing(world):
    oss_error(lambda: world.process("image/resize,w_10|" + saveas("out/nosrc.jpg"), "nope.jpg"),
              404, "NoSuchKey")
    assert_absent(world.src, "out/nosrc.jpg")


def test_non_image_source(world):
    world.src.put_object("text.txt", b"hello, not an image")
    e = oss_error(lambda: world.process("image/resize,w_10|" + saveas("out/text.jpg"),
                                        "text.txt"), 400)
    assert e.code in ("BadRequest", "InvalidArgument")
    assert_absent(world.src, "out/text.jpg")


# ---------------------------------------------------------------------------
# permission matrix: a custom server with 2 regions, 2 accounts, RAM users
# ---------------------------------------------------------------------------
ACCT_A = ("3000000000000001", "LTAIsaRootA", "secret-a")
ACCT_B = ("3000000000000002", "LTAIsaRootB", "secret-b")


class Perm(object):
    """Fixed names of the permission-matrix world."""

    def __init__(self):
        u = unique_bucket_name("pm")
        self.src = u + "-src"             # A, HZ, private: src.jpg
        self.dst = u + "-dst"             # A, HZ, private target
        self.dst_sh = u + "-dstsh"        # A, SH
        self.dst_b = u + "-dstb"          # B, HZ
        self.src_b = u + "-srcb"          # B, HZ: B's own source
        self.pub = u + "-pub"             # A, HZ, public-read: src.jpg
        self.pubrw = u + "-pubrw"         # A, HZ, public-read-write target
        self.polsrc = u + "-pol"          # A, HZ, private, bucket policy grants anonymous
        self.keys = {}

    def policy(self, *statements):
        return json.dumps({"Version": "1", "Statement": [
            {"Effect": eff, "Action": list(actions), "Resource": list(resources)}
            for eff, actions, resources in statements]})

    def arn(self, bucket, key="*"):
        return "acs:oss:*:*:%s/%s" % (bucket, key)

    def users(self):
        src_read = ("Allow", ["oss:PostProcessTask", "oss:GetObject"],
                    [self.arn(self.src), self.arn(self.pub)])
        return {
            # the brief's example user: PostProcessTask + GetObject on the source,
            # PutObject on the targets; an explicit Deny on dst/denied/*
            "processor": self.policy(
                src_read,
                ("Allow", ["oss:PutObject"], [self.arn(self.dst), self.arn(self.dst_sh),
                                              self.arn(self.dst_b), self.arn(self.pubrw),
                                              self.arn(self.src, "out/*")]),
                ("Deny", ["oss:PutObject"], [self.arn(self.dst, "denied/*")])),
            "noproc": self.policy(
                ("Allow", ["oss:GetObject"], [self.arn(self.src)]),
                ("Allow", ["oss:PutObject"], [self.arn(self.dst)])),
            "noput": self.policy(src_read),
            "noread": self.policy(
                ("Allow", ["oss:PostProcessTask"], [self.arn(self.src), self.arn(self.pub)]),
                ("Allow", ["oss:PutObject"], [self.arn(self.dst)])),
            "narrow": self.policy(
                src_read,
                ("Allow", ["oss:PutObject"], [self.arn(self.dst, "allowed/*")])),
            "power": self.policy(
                ("Allow", ["oss:*"], ["acs:oss:*:*:*"]),
                ("Deny", ["oss:PutObject"], [self.arn(self.dst, "denied/*")])),
            "nopolicy": None,
        }

    def config(self, data_dir):
        lines = ["[server]", 'data_dir = "%s"' % data_dir, ""]
        for r in (HZ, SH):
            lines += ["[[regions]]", 'name = "%s"' % r, 'listen = ["127.0.0.1:0"]', ""]
        lines += ["[[accounts]]", 'id = "%s"' % ACCT_A[0], 'access_key_id = "%s"' % ACCT_A[1],
                  'access_key_secret = "%s"' % ACCT_A[2]]
        for name, policy in self.users().items():
            kid, secret = "LTAIsa%s" % name, "secret-%s" % name
            self.keys[name] = (kid, secret)
            lines += ["[[accounts.users]]", 'name = "%s"' % name, 'access_key_id = "%s"' % kid,
                      'access_key_secret = "%s"' % secret]
            if policy is not None:
                lines.append("policy = '''%s'''" % policy)
        lines += ["", "[[accounts]]", 'id = "%s"' % ACCT_B[0],
                  'access_key_id = "%s"' % ACCT_B[1], 'access_key_secret = "%s"' % ACCT_B[2], ""]
        self.keys["rootA"] = ACCT_A[1:]
        self.keys["rootB"] = ACCT_B[1:]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def perm(tmp_path_factory):
    """One custom server for the whole matrix (starting one per case would be slow)."""
    p = Perm()
    workdir = tmp_path_factory.mktemp("ossify-saveas-perm")
    srv = OssifyServer(workdir, config_text=p.config(workdir / "data"), regions=(HZ, SH),
                       name="saveas-perm")
    _LOG_FILES.append(str(srv.log_path))
    try:
        srv.start()
    except ServerError as e:
        pytest.fail(str(e), pytrace=False)
    p.srv = srv

    def bucket(name, who="rootA", region=HZ):
        kid, secret = p.keys[who]
        return oss2.Bucket(oss2.AuthV4(kid, secret), srv.endpoint(region), name,
                           region=V4_REGION[region])
    p.bucket = bucket
    jpg = make_image("JPEG", (W, H), quality=90)
    for name, who, region, acl in [
            (p.src, "rootA", HZ, None), (p.dst, "rootA", HZ, None),
            (p.dst_sh, "rootA", SH, None), (p.dst_b, "rootB", HZ, None),
            (p.src_b, "rootB", HZ, None), (p.pub, "rootA", HZ, oss2.BUCKET_ACL_PUBLIC_READ),
            (p.pubrw, "rootA", HZ, oss2.BUCKET_ACL_PUBLIC_READ_WRITE),
            (p.polsrc, "rootA", HZ, None)]:
        b = bucket(name, who, region)
        b.create_bucket(acl) if acl else b.create_bucket()
    for name, who in [(p.src, "rootA"), (p.pub, "rootA"), (p.src_b, "rootB"),
                      (p.polsrc, "rootA")]:
        bucket(name, who).put_object("src.jpg", jpg)
    bucket(p.dst).put_bucket_policy(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Deny", "Principal": ["*"], "Action": ["oss:PutObject"],
         "Resource": [p.arn(p.dst, "bpdeny/*")]}]}))
    bucket(p.polsrc).put_bucket_policy(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Principal": ["*"],
         "Action": ["oss:PostProcessTask", "oss:GetObject"],
         "Resource": [p.arn(p.polsrc, "src.jpg")]},
        {"Effect": "Allow", "Principal": ["*"], "Action": ["oss:PutObject"],
         "Resource": [p.arn(p.polsrc, "anon-out/*")]}]}))
    try:
        yield p
    finally:
        srv.stop()


def post_process(p, who, version, src_bucket, target_key, target_bucket=None,
                 spec="image/resize,w_20"):
    if who == "anon":
        auth = oss2.AnonymousAuth()
    else:
        kid, secret = p.keys[who]
        auth = oss2.AuthV4(kid, secret) if version == "v4" else oss2.Auth(kid, secret)
    body = "x-oss-process=%s|%s" % (spec, saveas(target_key, target_bucket))
    return signed_request(auth, "POST", p.srv.endpoint(HZ), src_bucket, "src.jpg",
                          params={"x-oss-process": ""}, data=body, region=V4_REGION[HZ])


# (id, who, source, target bucket (None: b omitted), target key, status, code, message re)
MATRIX = [
    ("allowed", "processor", "src", "dst", "ok/allowed.jpg", 200, None, None),
    ("allowed-same-bucket", "processor", "src", None, "out/same.jpg", 200, None, None),
    ("root-owner", "rootA", "src", "dst", "ok/root.jpg", 200, None, None),
    ("narrow-allowed-prefix", "narrow", "src", "dst", "allowed/n.jpg", 200, None, None),
    ("power-user", "power", "src", "dst", "ok/power.jpg", 200, None, None),
    ("missing-PostProcessTask", "noproc", "src", "dst", "ok/noproc.jpg", 403, "AccessDenied",
     None),
    ("missing-PutObject", "noput", "src", "dst", "ok/noput.jpg", 403, "AccessDenied", None),
    ("missing-PutObject-same-bucket", "noput", "src", None, "out/noput.jpg", 403,
     "AccessDenied", None),
    ("missing-GetObject", "noread", "src", "dst", "ok/noread.jpg", 403, "AccessDenied", None),
    # read access may come from the source bucket's public-read ACL instead of a policy
    ("read-via-public-read-acl", "noread", "pub", "dst", "ok/noread-pub.jpg", 200, None, None),
    ("PutObject-other-prefix", "narrow", "src", "dst", "ok/narrow.jpg", 403, "AccessDenied",
     None),
    ("no-policy-user", "nopolicy", "src", "dst", "ok/nopolicy.jpg", 403, "AccessDenied", None),
    ("explicit-deny-target", "processor", "src", "dst", "denied/p.jpg", 403, "AccessDenied",
     None),
    ("bucket-policy-deny-on-target", "processor", "src", "dst", "bpdeny/p.jpg", 403,
     "AccessDenied", None),
    ("explicit-deny-beats-oss-star", "power", "src", "dst", "denied/power.jpg", 403,
     "AccessDenied", None),
    ("other-account-root", "rootB", "src", "dst", "ok/rootb.jpg", 403, "AccessDenied", None),
    ("other-account-root-to-own", "rootB", "src", "dst_b", "ok/rootb2.jpg", 403,
     "AccessDenied", None),
    ("other-account-own-source-to-A", "rootB", "src_b", "dst", "ok/rootb3.jpg", 400,
     "InvalidArgument", "account"),
    ("target-other-region-root", "rootA", "src", "dst_sh", "ok/region.jpg", 400,
     "InvalidArgument", "region"),
    ("target-other-region-user", "processor", "src", "dst_sh", "ok/region-u.jpg", 400,
     "InvalidArgument", "region"),
    ("target-other-account-root", "rootA", "src", "dst_b", "ok/acct.jpg", 400,
     "InvalidArgument", "account"),
    ("target-other-account-user", "processor", "src", "dst_b", "ok/acct-u.jpg", 400,
     "InvalidArgument", "account"),
    ("anonymous-public-read-source", "anon", "pub", None, "out/anon.jpg", 403, "AccessDenied",
     None),
    ("anonymous-public-read-to-public-rw", "anon", "pub", "pubrw", "out/anon-rw.jpg", 403,
     "AccessDenied", None),
    ("anonymous-private-source", "anon", "src", "dst", "ok/anon.jpg", 403, "AccessDenied",
     None),
    ("anonymous-private-to-public-rw", "anon", "src", "pubrw", "out/anon-rw2.jpg", 403,
     "AccessDenied", None),
    ("anonymous-granted-by-bucket-policy", "anon", "polsrc", None, "anon-out/ok.jpg", 200,
     None, None),
    ("other-account-granted-by-bucket-policy", "rootB", "polsrc", None, "anon-out/b.jpg", 200,
     None, None),
    ("anonymous-bucket-policy-other-prefix", "anon", "polsrc", None, "elsewhere/no.jpg", 403,
     "AccessDenied", None),
]

OWNER = {"src": "rootA", "dst": "rootA", "dst_sh": "rootA", "pub": "rootA", "pubrw": "rootA",
         "polsrc": "rootA", "dst_b": "rootB", "src_b": "rootB"}
REGION = {"dst_sh": SH}


@pytest.mark.parametrize("version", ["v1", "v4"])
@pytest.mark.parametrize("case", MATRIX, ids=[m[0] for m in MATRIX])
def test_permission_matrix(perm, version, case):
    cid, who, src_attr, dst_attr, key, status, code, msg_re = case
    key = key.replace(".jpg", "-%s.jpg" % version)  # keep the prefix the policies name
    src_name = getattr(perm, src_attr)
    target_attr = dst_attr or src_attr
    target_name = getattr(perm, target_attr)
    r = post_process(perm, who, version, src_name, key,
                     None if dst_attr is None else target_name)
    # check the target with the key of its owner
    target = perm.bucket(target_name, OWNER[target_attr], REGION.get(target_attr, HZ))
    assert r.status_code == status, (cid, r.status_code, r.content[:500])
    assert r.headers.get("x-oss-request-id")
    if status == 200:
        doc = json.loads(r.content)
        assert doc["status"] == "OK" and doc["object"] == key
        assert doc["bucket"] == ("" if dst_attr is None else target_name)
        data = target.get_object(key).read()
        assert open_image(data).size == (20, 10)
        assert doc["fileSize"] == len(data)
        return
    err = error_of(r)
    assert err["Code"] == code, (cid, err)
    if msg_re:
        assert re.search(msg_re, err["Message"]), (cid, err["Message"])
    assert_absent(target, key)
    # nothing was written under the key anywhere else either
    for attr in ("src", "dst", "pubrw"):
        assert_absent(perm.bucket(getattr(perm, attr)), key)


def test_permission_get_vs_post(perm):
    """`noput` may read (GET with process) but not save; `noproc` may GET-process (that
    only needs oss:GetObject) but not POST-process."""
    for who in ("noput", "noproc"):
        b = perm.bucket(perm.src, who)
        r = b.get_object("src.jpg", process="image/resize,w_10")
        assert open_image(r.read()).size == (10, 5)
    r = post_process(perm, "noproc", "v4", perm.src, "x", spec="image/resize,w_10")
    assert r.status_code == 403
    # POST without saveas still needs PostProcessTask
    kid, secret = perm.keys["noproc"]
    r = signed_request(oss2.AuthV4(kid, secret), "POST", perm.srv.endpoint(HZ), perm.src,
                       "src.jpg", params={"x-oss-process": ""},
                       data="x-oss-process=image/resize,w_10", region=V4_REGION[HZ])
    assert r.status_code == 403
    assert error_of(r)["Code"] == "AccessDenied"
    kid, secret = perm.keys["noput"]
    r = signed_request(oss2.AuthV4(kid, secret), "POST", perm.srv.endpoint(HZ), perm.src,
                       "src.jpg", params={"x-oss-process": ""},
                       data="x-oss-process=image/resize,w_10", region=V4_REGION[HZ])
    assert r.status_code == 200
    assert open_image(r.content).size == (10, 5)


def test_permission_target_bucket_missing(perm):
    missing = unique_bucket_name("pm-missing")
    r = post_process(perm, "rootA", "v4", perm.src, "ok/missing.jpg", missing)
    assert r.status_code == 404, r.content
    assert error_of(r)["Code"] == "NoSuchBucket"
