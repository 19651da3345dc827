"""rclone (Debian's package) with an S3 remote against ossify: copy, sync with
deletions, check, lsjson, cat, deletefile, mkdir/rmdir and multipart uploads; every
result is read back through oss2, the other dialect.

The remote is configured only in a temporary rclone.conf (provider Other, path style,
endpoint = an ossify listener, the ROOT1 keys); rclone signs with SigV4, so the
ordinary listener serves it as S3. scripts/test.sh installs rclone; without it these
tests skip, unless OSSIFY_REQUIRE_RCLONE is set (as test.sh does where it can install).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time

import oss2
import pytest

from conftest import HZ, delete_bucket_fully, make_config, unique_bucket_name

RCLONE = shutil.which("rclone")

if RCLONE is None:
    if os.environ.get("OSSIFY_REQUIRE_RCLONE"):
        raise RuntimeError("rclone is required (OSSIFY_REQUIRE_RCLONE) but not on PATH")
    pytest.skip("rclone is not installed", allow_module_level=True)

MiB = 1024 * 1024


class Rclone(object):
    """rclone with a remote `ossify:` from a private config file."""

    def __init__(self, tmp_path, endpoint, keys):
        self.conf = tmp_path / "rclone.conf"
        self.conf.write_text(
            "[ossify]\n"
            "type = s3\n"
            "provider = Other\n"
            "env_auth = false\n"
            "access_key_id = %s\n"
            "secret_access_key = %s\n"
            "endpoint = %s\n"
            "force_path_style = true\n"
            "region = us-east-1\n" % (keys.id, keys.secret, endpoint)
        )
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_"))}
        self.env["RCLONE_CONFIG"] = str(self.conf)
        self.env["HOME"] = str(tmp_path)

    def run(self, *args, check=True):
        cmd = [RCLONE, "--config", str(self.conf), "--retries", "1",
               "--low-level-retries", "1", "--contimeout", "10s", "--timeout", "60s"]
        cmd += list(args)
        p = subprocess.run(cmd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=300)
        if check and p.returncode != 0:
            raise AssertionError("%s exited %d\nstdout:\n%s\nstderr:\n%s" % (
                " ".join(args), p.returncode, p.stdout.decode(errors="replace"),
                p.stderr.decode(errors="replace")))
        return p


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def object_keys(bucket):
    return sorted(o.key for o in oss2.ObjectIterator(bucket))


def bucket_exists(service_bucket):
    try:
        service_bucket.get_bucket_info()
        return True
    except oss2.exceptions.NoSuchBucket:
        return False


@pytest.fixture
def ctx(ossify, tmp_path):
    """(rclone, bucket name, oss2 bucket); the bucket is removed afterwards."""
    keys = ossify.root1
    rc = Rclone(tmp_path, ossify.hz, keys)
    name = unique_bucket_name("rclone")
    oss = oss2.Bucket(oss2.Auth(keys.id, keys.secret), ossify.hz, name)
    yield rc, name, oss
    delete_bucket_fully(oss)


def write_tree(root, files):
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


TREE = {
    "a.txt": b"alpha\n",
    "empty": b"",
    "dir/b.bin": bytes(range(256)) * 40,
    "dir/sub/c.txt": b"gamma " * 1000,
    "spaced name & more+.txt": b"odd characters\n",
    "\u4e2d\u6587/\u6587\u4ef6.txt": "unicode \u00e9\n".encode("utf-8"),
}


def test_mkdir_rmdir_create_and_delete_the_bucket(ctx):
    rc, name, oss = ctx
    assert not bucket_exists(oss)
    rc.run("mkdir", "ossify:" + name)
    assert bucket_exists(oss)
    listed = json.loads(rc.run("lsjson", "ossify:").stdout)
    assert name in [e["Name"] for e in listed if e["IsDir"]]

    # rmdir refuses a bucket with an object in it (S3 BucketNotEmpty) and keeps it.
    oss.put_object("keep", b"x")
    assert rc.run("rmdir", "ossify:" + name, check=False).returncode != 0
    assert bucket_exists(oss)
    assert oss.get_object("keep").read() == b"x"

    oss.delete_object("keep")
    rc.run("rmdir", "ossify:" + name)
    assert not bucket_exists(oss)


def test_copy_lsjson_cat_check(ctx, tmp_path):
    rc, name, oss = ctx
    src = tmp_path / "src"
    write_tree(src, TREE)
    rc.run("copy", str(src), "ossify:" + name)

    # Through OSS: the same keys and bytes, S3 and OSS ETags equal but for case.
    assert object_keys(oss) == sorted(TREE)
    for key, data in TREE.items():
        r = oss.get_object(key)
        assert r.read() == data, key
        assert r.headers["ETag"].strip('"') == md5_hex(data).upper()

    listed = json.loads(rc.run("lsjson", "-R", "--files-only", "--hash",
                               "ossify:" + name).stdout)
    by_path = {e["Path"]: e for e in listed}
    assert sorted(by_path) == sorted(TREE)
    for key, data in TREE.items():
        assert by_path[key]["Size"] == len(data), key
        assert by_path[key]["Hashes"]["md5"] == md5_hex(data), key

    # lsjson of one directory level: the common prefixes come back as directories.
    top = json.loads(rc.run("lsjson", "ossify:" + name).stdout)
    dirs = sorted(e["Name"] for e in top if e["IsDir"])
    assert dirs == sorted(["dir", "\u4e2d\u6587"])

    assert rc.run("cat", "ossify:%s/dir/sub/c.txt" % name).stdout == TREE["dir/sub/c.txt"]
    assert rc.run("cat", "ossify:%s/spaced name & more+.txt" % name).stdout \
        == TREE["spaced name & more+.txt"]

    rc.run("check", str(src), "ossify:" + name)
    # An object changed through OSS makes check fail.
    oss.put_object("a.txt", b"changed through OSS\n")
    p = rc.run("check", str(src), "ossify:" + name, check=False)
    assert p.returncode != 0
    assert b"a.txt" in p.stderr


def test_sync_with_deletions(ctx, tmp_path):
    rc, name, oss = ctx
    src = tmp_path / "src"
    write_tree(src, TREE)
    rc.run("sync", str(src), "ossify:" + name)
    assert object_keys(oss) == sorted(TREE)

    # An object only on the remote, put through OSS, is deleted by sync too.
    oss.put_object("remote-only/x", b"stale")
    (src / "a.txt").unlink()
    shutil.rmtree(src / "dir" / "sub")
    (src / "empty").write_bytes(b"now has content")
    (src / "new.txt").write_bytes(b"new file")
    rc.run("sync", str(src), "ossify:" + name)

    expected = {
        "empty": b"now has content",
        "new.txt": b"new file",
        "dir/b.bin": TREE["dir/b.bin"],
        "spaced name & more+.txt": TREE["spaced name & more+.txt"],
        "\u4e2d\u6587/\u6587\u4ef6.txt": TREE["\u4e2d\u6587/\u6587\u4ef6.txt"],
    }
    assert object_keys(oss) == sorted(expected)
    for key, data in expected.items():
        assert oss.get_object(key).read() == data, key
    rc.run("check", str(src), "ossify:" + name)

    # Download the bucket back and compare file by file.
    back = tmp_path / "back"
    rc.run("copy", "ossify:" + name, str(back))
    got = {str(p.relative_to(back)): p.read_bytes() for p in back.rglob("*") if p.is_file()}
    assert got == expected


def test_deletefile(ctx, tmp_path):
    rc, name, oss = ctx
    rc.run("mkdir", "ossify:" + name)
    oss.put_object("one", b"1")
    oss.put_object("two", b"2")
    rc.run("deletefile", "ossify:%s/one" % name)
    assert object_keys(oss) == ["two"]
    assert not oss.object_exists("one")
    # Deleting what is not there is an error for rclone (it looks the object up first).
    assert rc.run("deletefile", "ossify:%s/one" % name, check=False).returncode != 0
    assert object_keys(oss) == ["two"]


def test_multipart_upload(ctx, tmp_path):
    rc, name, oss = ctx
    data = os.urandom(12 * MiB)
    f = tmp_path / "big.bin"
    f.write_bytes(data)
    rc.run("copyto", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M",
           str(f), "ossify:%s/big/big.bin" % name)

    head = oss.head_object("big/big.bin")
    assert head.content_length == len(data)
    # Three parts (5 + 5 + 2 MiB): a multipart ETag, as both dialects write it.
    assert re.fullmatch(r'"?[0-9A-F]{32}-3"?', head.headers["ETag"]), head.headers["ETag"]
    assert hashlib.sha256(oss.get_object("big/big.bin").read()).digest() \
        == hashlib.sha256(data).digest()
    # No upload is left pending.
    assert list(oss2.MultipartUploadIterator(oss)) == []

    # rclone stores the whole file's MD5 in its metadata, so check can compare it.
    rc.run("check", str(tmp_path), "ossify:%s/big" % name, "--include", "big.bin")
    assert rc.run("cat", "ossify:%s/big/big.bin" % name).stdout == data


def test_s3_listen_address(server_factory, tmp_path, ossify):
    """A region's s3_listen address speaks only S3; rclone works there as well."""
    workdir = tmp_path / "s3srv"
    config = make_config(workdir / "data", regions=(HZ,)).replace(
        'listen = ["127.0.0.1:0"]', 'listen = ["127.0.0.1:0"]\ns3_listen = ["127.0.0.1:0"]')
    srv = server_factory(workdir=workdir, config_text=config, regions=(HZ,))
    srv.start()
    endpoint = None
    deadline = time.time() + 10
    while endpoint is None and time.time() < deadline:
        for line in list(srv.output):
            m = re.search(r"ossify: region \S+ S3 listening on (http://\S+)\s*$", line)
            if m:
                endpoint = m.group(1)
        if endpoint is None:
            time.sleep(0.05)
    assert endpoint, srv.output_text()

    rc = Rclone(tmp_path, endpoint, ossify.root1)
    src = tmp_path / "src"
    write_tree(src, {"x/y.txt": b"via the S3 listener"})
    rc.run("mkdir", "ossify:s3-listen-bucket")
    rc.run("copy", str(src), "ossify:s3-listen-bucket")
    oss = oss2.Bucket(oss2.Auth(ossify.root1.id, ossify.root1.secret), srv.endpoint(HZ),
                      "s3-listen-bucket")
    assert oss.get_object("x/y.txt").read() == b"via the S3 listener"
    rc.run("check", str(src), "ossify:s3-listen-bucket")
