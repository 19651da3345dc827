"""Restart and crash durability of ossify, driven through oss2."""

import os
import random
import threading
import time

import oss2
import pytest
from oss2 import exceptions as oe

from conftest import (STORAGE, HZ, ROOT1, blob_files, crc64, make_config, md5_upper,
                      unique_bucket_name)
from s3util import s3_client


def auth():
    return oss2.Auth(ROOT1.id, ROOT1.secret)


def bucket_on(srv, name, **kw):
    return oss2.Bucket(auth(), srv.endpoint(HZ), name, **kw)


def test_restart_keeps_buckets_and_objects(server_factory):
    srv = server_factory()
    srv.start()
    name = unique_bucket_name("restart")
    b = bucket_on(srv, name)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    other = unique_bucket_name("restart-empty")
    bucket_on(srv, other).create_bucket()

    objects = {
        "small.txt": b"hello durable world",
        "dir/\u00fcnicode key.bin": os.urandom(10000),
        "big.bin": os.urandom(5 * 1024 * 1024 + 3),
        "empty": b"",
    }
    etags = {}
    for k, v in objects.items():
        etags[k] = b.put_object(k, v, headers={"x-oss-meta-k": "v-" + str(len(v)),
                                               "Content-Type": "application/x-test"}).etag
        assert etags[k] == md5_upper(v)
    b.put_object("deleted", b"gone soon")
    b.delete_object("deleted")
    b.put_object("overwritten", b"old")
    b.put_object("overwritten", b"new")
    objects["overwritten"] = b"new"
    etags["overwritten"] = md5_upper(b"new")

    rc = srv.stop()
    assert not srv.running()
    assert rc is not None
    srv.start()

    b = bucket_on(srv, name)
    svc = oss2.Service(auth(), srv.endpoint(HZ))
    listed = [x.name for x in svc.list_buckets(max_keys=1000).buckets]
    assert name in listed and other in listed
    assert b.get_bucket_acl().acl == "public-read"
    assert b.get_bucket_info().location == "oss-cn-hangzhou"

    keys = sorted(o.key for o in oss2.ObjectIterator(b))
    assert keys == sorted(objects.keys())
    for k, v in objects.items():
        g = b.get_object(k)
        assert g.read() == v, k
        assert g.etag == etags[k], k
        if k != "overwritten":
            assert g.headers["Content-Type"] == "application/x-test"
            assert g.headers["x-oss-meta-k"] == "v-" + str(len(v))
    assert b.object_exists("deleted") is False

    # and it still accepts writes
    b.put_object("after-restart", b"ok")
    assert b.get_object("after-restart").read() == b"ok"


@pytest.mark.parametrize("inline_bytes", [None, 0, 100])
def test_small_objects_kept_in_records_read_like_any(server_factory, tmp_path, inline_bytes):
    """Objects up to `[storage] inline_bytes` (default 4096) are kept in their metadata
    records: every read path (GET, ranges, HEAD, copy, S3) gives what a blob-held object
    gives, across a restart, and only larger objects make blob files."""
    storage = () if inline_bytes is None else ("inline_bytes = %d" % inline_bytes,)
    data = tmp_path / "data"
    srv = server_factory(data_dir=data, config_text=make_config(data, storage=storage))
    srv.start()
    name = unique_bucket_name("inline")
    b = bucket_on(srv, name)
    b.create_bucket()
    limit = 4096 if inline_bytes is None else inline_bytes
    bodies = {"empty": b"", "one": b"\0", "at-limit": os.urandom(4096),
              "above-limit": os.urandom(4097), "hundred": os.urandom(100)}
    for k, v in bodies.items():
        r = b.put_object(k, v, headers={"x-oss-meta-n": str(len(v))})
        assert r.etag == md5_upper(v) and r.crc == crc64(v), k
    b.copy_object(name, "at-limit", "copied")
    bodies["copied"] = bodies["at-limit"]
    b.append_object("appended", 0, b"tiny")
    bodies["appended"] = b"tiny"

    def check():
        for k, v in bodies.items():
            g = b.get_object(k)
            assert g.read() == v, k
            assert g.headers["x-oss-hash-crc64ecma"] == str(crc64(v)), k
            if v:
                part = b.get_object(k, byte_range=(len(v) // 3, len(v) - 1)).read()
                assert part == v[len(v) // 3:], k
            assert b.head_object(k).content_length == len(v), k
        s3 = s3_client(srv.endpoint(HZ))
        got = s3.get_object(Bucket=name, Key="at-limit", Range="bytes=0-9")["Body"].read()
        assert got == bodies["at-limit"][:10]

    check()
    if not STORAGE:
        # Blob files: the objects above the limit (all with 0), and the appendable one
        # (appends always go to blobs).
        inline = [k for k, v in bodies.items() if k != "appended" and 0 < limit >= len(v)]
        expected = len(bodies) - len(inline)
        assert len(blob_files(srv.data_dir)) == expected
    srv.stop()
    srv.start()
    b = bucket_on(srv, name)
    check()
    # Overwrites and deletes leave no blob behind whichever way the object was kept.
    b.put_object("at-limit", os.urandom(5000))
    b.put_object("above-limit", b"small now")
    for k in bodies:
        b.delete_object(k)
    b.delete_object("at-limit")
    if not STORAGE:
        assert blob_files(srv.data_dir) == []


def test_crash_during_overwrite_keeps_old_object(server_factory):
    srv = server_factory()
    srv.start()
    name = unique_bucket_name("crash")
    b = bucket_on(srv, name)
    b.create_bucket()

    rnd = random.Random(1234)
    old = bytes(rnd.getrandbits(8) for _ in range(4096)) * 256  # 1 MiB, known content
    assert len(old) == 1024 * 1024
    r = b.put_object("victim", old)
    old_etag = r.etag
    assert old_etag == md5_upper(old)

    chunk = os.urandom(1024 * 1024)
    total_chunks = 200  # 200 MiB
    kill_after = 50 * 1024 * 1024
    sent = [0]
    reached = threading.Event()
    outcome = {}

    def body():
        for _ in range(total_chunks):
            yield chunk
            sent[0] += len(chunk)
            if sent[0] >= kill_after:
                reached.set()

    def upload():
        try:
            # an oss2 Bucket of its own (separate session); generator -> chunked upload
            up = bucket_on(srv, name, connect_timeout=60)
            outcome["result"] = up.put_object("victim", body())
        except Exception as e:  # expected: the connection dies
            outcome["error"] = e
        finally:
            reached.set()

    t = threading.Thread(target=upload, daemon=True)
    t.start()
    assert reached.wait(120), "upload did not make progress"
    assert not outcome, "the 200 MiB upload ended before the kill: %r" % outcome
    assert sent[0] >= kill_after
    srv.kill()  # kill -9
    t.join(60)
    assert not t.is_alive()
    assert "result" not in outcome, "upload unexpectedly succeeded"

    srv.start()
    b = bucket_on(srv, name)
    g = b.get_object("victim")
    data = g.read()
    assert len(data) == len(old)
    assert data == old
    assert g.etag == old_etag
    h = b.head_object("victim")
    assert h.content_length == len(old)
    assert h.etag == old_etag
    assert [o.key for o in oss2.ObjectIterator(b)] == ["victim"]
    # still writable afterwards
    b.put_object("victim", b"replacement")
    assert b.get_object("victim").read() == b"replacement"


def test_default_mode_without_config(server_factory, tmp_path):
    """`ossify serve --data-dir D --listen 127.0.0.1:0` with keys from the environment."""
    srv = server_factory(regions=[HZ], no_config=True, extra_args=["--listen", "127.0.0.1:0"],
                         env={"OSSIFY_ACCESS_KEY_ID": "LTAIdefault", "OSSIFY_ACCESS_KEY_SECRET": "default-secret"})
    srv.start()
    assert list(srv.endpoints) == [HZ]
    b = oss2.Bucket(oss2.Auth("LTAIdefault", "default-secret"), srv.endpoint(HZ), unique_bucket_name("default"))
    b.create_bucket()
    b.put_object("k", b"v")
    assert b.get_object("k").read() == b"v"
    v4 = oss2.Bucket(oss2.AuthV4("LTAIdefault", "default-secret"), srv.endpoint(HZ), b.bucket_name,
                     region="cn-hangzhou")
    assert v4.get_object("k").read() == b"v"
    with pytest.raises(oe.ServerError) as ei:
        oss2.Bucket(oss2.Auth("LTAIdefault", "nope"), srv.endpoint(HZ), b.bucket_name).get_object("k")
    assert ei.value.code == "SignatureDoesNotMatch"


def test_acknowledged_concurrent_puts_survive_kill(server_factory):
    """Concurrent small PUTs share their metadata syncs (group commit); every one that
    was answered 200 before a kill -9 is there after the restart, with its bytes, and
    one written while the kill landed is either whole or absent."""
    srv = server_factory()
    srv.start()
    name = unique_bucket_name("groupcommit")
    bucket_on(srv, name).create_bucket()
    acknowledged = {}
    lock = threading.Lock()
    stop = threading.Event()

    def writer(w):
        b = bucket_on(srv, name)
        i = 0
        while not stop.is_set():
            key, body = "w%d/%d" % (w, i), os.urandom(random.randint(1, 8192))
            try:
                b.put_object(key, body)
            except Exception:
                return  # the kill
            with lock:
                acknowledged[key] = body
            i += 1

    threads = [threading.Thread(target=writer, args=(w,), daemon=True) for w in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 120
    while len(acknowledged) < 300:
        assert time.time() < deadline and any(t.is_alive() for t in threads), len(acknowledged)
        time.sleep(0.01)
    srv.kill()  # kill -9, writers still going
    stop.set()
    for t in threads:
        t.join(60)
    with lock:
        done = dict(acknowledged)

    srv.start()
    b = bucket_on(srv, name)
    listed = {o.key for o in oss2.ObjectIterator(b)}
    missing = sorted(set(done) - listed)
    assert not missing, "acknowledged PUTs lost after kill -9: %r" % missing[:10]
    for key, body in done.items():
        assert b.get_object(key).read() == body, key
    # At most the eight PUTs in flight at the kill were stored unanswered; each is whole.
    for key in listed - set(done):
        assert b.head_object(key).content_length <= 8192
