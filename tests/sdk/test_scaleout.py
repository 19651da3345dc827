"""Several ossify nodes on one store (PostgreSQL metadata, S3 or file blobs): whatever
one node answered, the next request to another node sees; racing writers on different
nodes end with one whole object; a node killed mid-upload loses nothing it
acknowledged, and rejoins when restarted.

Runs in scale-out mode with PostgreSQL (OSSIFY_TEST_STORAGE=postgres+s3 or
postgres+fs, see conftest.py; scripts/test.sh runs both); elsewhere it skips."""

import hashlib
import re
import os
import threading
import time

import oss2
import pytest
import requests
from oss2 import exceptions as oe
from oss2.models import PartInfo

from conftest import (HZ, ROOT1, SHARED_DATA_DIR, SHARED_METADATA, OssifyServer,
                      delete_bucket_fully,
                      make_config, md5_upper, unique_bucket_name)

if not SHARED_METADATA:
    pytest.skip("needs OSSIFY_TEST_STORAGE=postgres+s3 or postgres+fs", allow_module_level=True)

MIN_PART = 100 * 1024


@pytest.fixture
def cluster(tmp_path):
    """Three nodes on one fresh store; each is stopped at the end."""
    data = tmp_path / "a" / "data"
    text = make_config(data)
    nodes = [OssifyServer(tmp_path / n, config_text=text, name="node-" + n,
                          data_dir=data if SHARED_DATA_DIR else None) for n in "abc"]
    for n in nodes:
        n.start()
    yield nodes
    for n in nodes:
        n.kill()


def bucket_on(node, name, keys=ROOT1):
    return oss2.Bucket(oss2.Auth(keys.id, keys.secret), node.endpoint(HZ), name,
                       connect_timeout=30)


@pytest.fixture
def buckets(cluster):
    """`buckets(name)`: the same bucket through each node, created on the first."""
    made = []

    def make(tag):
        name = unique_bucket_name(tag)
        views = [bucket_on(n, name) for n in cluster]
        views[0].create_bucket()
        made.append(views[0])
        return views

    yield make
    for b in made:
        try:
            delete_bucket_fully(bucket_on(cluster[1], b.bucket_name))
        except Exception:
            pass


def test_every_change_on_one_node_is_seen_by_the_next_request_to_another(buckets, cluster):
    a, b, c = buckets("raw")
    a.put_object("k", b"one")
    assert b.get_object("k").read() == b"one"
    b.put_object("k", b"two")
    assert c.get_object("k").read() == b"two"
    c.append_object("log", 0, b"x")
    assert a.append_object("log", 1, b"y").next_position == 2
    assert b.get_object("log").read() == b"xy"
    a.copy_object(a.bucket_name, "k", "copy")
    assert c.get_object("copy").read() == b"two"
    rule = oss2.models.TaggingRule()
    rule.add("t", "1")
    b.put_object_tagging("k", oss2.models.Tagging(rule))
    assert c.get_object_tagging("k").tag_set.tagging_rule == {"t": "1"}

    # ACL and policy changes are enforced by every node at once (no stale cache).
    url = "%s/%s/k" % (cluster[2].endpoint(HZ), a.bucket_name)
    assert requests.get(url).status_code == 403
    a.put_object_acl("k", oss2.OBJECT_ACL_PUBLIC_READ)
    assert requests.get(url).content == b"two"
    b.put_object_acl("k", oss2.OBJECT_ACL_PRIVATE)
    assert requests.get(url).status_code == 403
    a.put_bucket_policy('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
                        '"Principal":["*"],"Resource":["acs:oss:*:*:%s/*"]}]}' % a.bucket_name)
    assert requests.get(url).content == b"two"
    c.delete_bucket_policy()
    assert requests.get(url).status_code == 403

    # A style made on one node processes images on another.
    from conftest import make_image
    a.put_object("p.jpg", make_image(size=(64, 32)))
    a.put_bucket_style("small", "image/resize,w_16")
    r = c.get_object("p.jpg", process="style/small")
    assert r.read()[:2] == b"\xff\xd8"

    for i in range(5):
        (a, b, c)[i % 3].put_object("list/%d" % i, b"v")
    assert [o.key for o in oss2.ObjectIterator(b, prefix="list/")] == [
        "list/%d" % i for i in range(5)]
    c.delete_object("k")
    with pytest.raises(oe.NoSuchKey):
        a.get_object("k")


def test_multipart_parts_through_two_nodes_complete_on_a_third(buckets):
    a, b, c = buckets("mpu")
    parts = [os.urandom(MIN_PART + 7), os.urandom(MIN_PART), os.urandom(1000)]
    up = a.init_multipart_upload("big").upload_id
    infos = []
    for i, (node, data) in enumerate(zip((a, b, a), parts), 1):
        infos.append(PartInfo(i, node.upload_part("big", up, i, data).etag))
    assert [p.part_number for p in c.list_parts("big", up).parts] == [1, 2, 3]
    c.complete_multipart_upload("big", up, infos)
    assert a.get_object("big").read() == b"".join(parts)

    # Complete and Abort of one upload racing on two nodes: exactly one wins.
    for round_ in range(5):
        key = "race%d" % round_
        up = a.init_multipart_upload(key).upload_id
        etag = a.upload_part(key, up, 1, b"p" * 100).etag
        outcome = {}

        def complete():
            try:
                b.complete_multipart_upload(key, up, [PartInfo(1, etag)])
                outcome["complete"] = True
            except oe.NoSuchUpload:
                outcome["complete"] = False

        def abort():
            try:
                c.abort_multipart_upload(key, up)
                outcome["abort"] = True
            except oe.NoSuchUpload:
                outcome["abort"] = False

        ts = [threading.Thread(target=f) for f in (complete, abort)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        assert sorted(outcome.values()) == [False, True], outcome
        exists = a.object_exists(key)
        assert exists == outcome["complete"]
        if exists:
            assert a.get_object(key).read() == b"p" * 100


def test_appends_racing_on_two_nodes_are_neither_lost_nor_doubled(buckets):
    a, b, _ = buckets("append")
    chunks = {}
    errors = []

    def appender(bucket, tag):
        for i in range(15):
            chunk = ("<%s%02d>" % (tag, i)).encode()
            while True:
                try:
                    pos = bucket.head_object("log").content_length \
                        if bucket.object_exists("log") else 0
                    bucket.append_object("log", pos, chunk)
                    chunks[chunk] = True
                    break
                except (oe.PositionNotEqualToLength, oe.ObjectNotAppendable):
                    continue
                except Exception as e:  # pragma: no cover - reported below
                    errors.append(repr(e))
                    return

    ts = [threading.Thread(target=appender, args=(bk, tag))
          for bk, tag in ((a, "a"), (b, "b"), (a, "c"), (b, "d"))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    body = a.get_object("log").read()
    assert len(body) == sum(len(c) for c in chunks) == 60 * 5
    for chunk in chunks:
        assert body.count(chunk) == 1, chunk


def test_writers_of_one_key_on_two_nodes_leave_one_whole_object(buckets):
    a, b, c = buckets("lww")
    bodies = [os.urandom(50_000 + i) for i in range(24)]

    def writer(bucket, mine):
        for body in mine:
            bucket.put_object("k", body)

    ts = [threading.Thread(target=writer, args=(bk, bodies[i::2]))
          for i, bk in enumerate((a, b))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    got = c.get_object("k")
    data = got.read()
    assert data in bodies
    assert got.etag == md5_upper(data)


def test_a_node_killed_mid_upload_loses_nothing_acknowledged_and_rejoins(buckets, cluster):
    a, b, _ = buckets("kill")
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()

    def uploader(bucket, tag):
        i = 0
        while not stop.is_set():
            body = os.urandom(200_000 + i)
            key = "%s/%d" % (tag, i)
            try:
                bucket.put_object(key, body)
            except Exception:
                if bucket is a:  # the killed node: refused or cut off, not acknowledged
                    return
                raise
            with lock:
                acked[key] = hashlib.md5(body).hexdigest()
            i += 1

    ts = [threading.Thread(target=uploader, args=(bk, tag))
          for bk, tag in ((a, "a1"), (a, "a2"), (b, "b1"))]
    for t in ts:
        t.start()
    time.sleep(2.0)
    cluster[0].kill()
    time.sleep(1.0)
    stop.set()
    for t in ts:
        t.join(60)
    assert any(k.startswith("a") for k in acked) and any(k.startswith("b") for k in acked)
    for key, md5 in acked.items():
        assert hashlib.md5(b.get_object(key).read()).hexdigest() == md5, key
    cluster[0].start()
    a = bucket_on(cluster[0], a.bucket_name)
    for key, md5 in list(acked.items())[:20]:
        assert hashlib.md5(a.get_object(key).read()).hexdigest() == md5, key
    a.put_object("after-restart", b"ok")
    assert b.get_object("after-restart").read() == b"ok"


def storage_of(config_text):
    """(metadata URL, blob prefix or None) of a config made by make_config."""
    url = re.search(r'^metadata = "([^"]+)"', config_text, re.M).group(1)
    prefix = re.search(r'^prefix = "([^"]*)"', config_text, re.M)
    return url, prefix.group(1) if prefix else None


def blob_s3():
    import boto3
    return boto3.client("s3", endpoint_url=os.environ["OSSIFY_TEST_S3_ENDPOINT"],
                        region_name="us-east-1",
                        aws_access_key_id=os.environ["OSSIFY_TEST_S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=os.environ["OSSIFY_TEST_S3_SECRET_ACCESS_KEY"])


def test_orphan_blobs_are_collected_once_past_the_grace_period(tmp_path):
    import psycopg

    data = tmp_path / "data"
    text = make_config(data).replace("blob_gc_interval_secs = 10", "blob_gc_interval_secs = 1") \
        .replace("blob_gc_grace_secs = 30", "blob_gc_grace_secs = 2")
    node = OssifyServer(tmp_path, data_dir=data, config_text=text).start()
    try:
        b = bucket_on(node, unique_bucket_name("gc"))
        b.create_bucket()
        b.put_object("live", b"still here")
        url, prefix = storage_of(text)
        # The lease of a render on a node that died, and one still held.
        leases = "SELECT name FROM leases WHERE name LIKE 'test-render/%' ORDER BY name"
        with psycopg.connect(url) as conn:
            conn.execute("INSERT INTO leases (name, holder, expires_at) VALUES "
                         "('test-render/dead', 'gone', now() - interval '1 second'), "
                         "('test-render/live', 'alive', now() + interval '1 hour')")
        stray = "0123456789abcdef0123456789abcdef"
        # A blob whose node died before committing its record.
        if prefix is None:
            path = data / "blobs" / stray[:2] / stray
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"orphan")
            exists = path.exists
        else:
            s3 = blob_s3()
            key = prefix + "blobs/" + stray
            s3.put_object(Bucket=os.environ["OSSIFY_TEST_S3_BUCKET"], Key=key, Body=b"orphan")

            def exists():
                r = s3.list_objects_v2(Bucket=os.environ["OSSIFY_TEST_S3_BUCKET"], Prefix=key)
                return r.get("KeyCount", 0) > 0
        time.sleep(1.2)
        assert exists(), "collected inside the grace period"
        deadline = time.time() + 15
        while exists() and time.time() < deadline:
            time.sleep(0.3)
        assert not exists()
        assert b.get_object("live").read() == b"still here"
        # The same run purged the expired lease.
        with psycopg.connect(url) as conn:
            assert [r[0] for r in conn.execute(leases)] == ["test-render/live"]
        delete_bucket_fully(b)
    finally:
        node.kill()


def test_stale_blob_uploads_are_aborted_once_past_their_grace_period(tmp_path):
    data = tmp_path / "data"
    text = make_config(data).replace("blob_gc_interval_secs = 10", "blob_gc_interval_secs = 1") \
        .replace("blob_gc_grace_secs = 30", "blob_gc_grace_secs = 30\nblob_upload_grace_secs = 2")
    _, prefix = storage_of(text)
    if prefix is None:
        pytest.skip("file blobs have no multipart uploads")
    s3, bucket = blob_s3(), os.environ["OSSIFY_TEST_S3_BUCKET"]
    node = OssifyServer(tmp_path, data_dir=data, config_text=text).start()
    try:
        # An upload of a node killed mid-write, and one of some other program.
        dead = prefix + "blobs/0123456789abcdef0123456789abcdef"
        dead_id = s3.create_multipart_upload(Bucket=bucket, Key=dead)["UploadId"]
        s3.upload_part(Bucket=bucket, Key=dead, UploadId=dead_id, PartNumber=1, Body=b"x" * 1024)
        other = prefix + "other/upload"
        other_id = s3.create_multipart_upload(Bucket=bucket, Key=other)["UploadId"]

        def pending():
            r = s3.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
            return sorted(u["UploadId"] for u in r.get("Uploads", []))

        time.sleep(1.2)
        assert pending() == sorted([dead_id, other_id]), "aborted inside the grace period"
        deadline = time.time() + 15
        while dead_id in pending() and time.time() < deadline:
            time.sleep(0.3)
        assert pending() == [other_id]
        with pytest.raises(s3.exceptions.NoSuchUpload):
            s3.list_parts(Bucket=bucket, Key=dead, UploadId=dead_id)
        s3.abort_multipart_upload(Bucket=bucket, Key=other, UploadId=other_id)
    finally:
        node.kill()


def test_the_lifecycle_lease_passes_to_another_node_when_its_holder_dies(cluster):
    import datetime
    import psycopg
    from oss2.models import BucketLifecycle, LifecycleExpiration, LifecycleRule

    url, _ = storage_of(cluster[0].config_path.read_text())

    def holder():
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT holder FROM leases WHERE name = 'lifecycle'").fetchone()
        return row and int(row[0].split(":")[1])

    deadline = time.time() + 10
    while holder() is None and time.time() < deadline:
        time.sleep(0.2)
    pids = {n.proc.pid: n for n in cluster}
    first = holder()
    assert first in pids, (first, list(pids))
    pids[first].kill()
    alive = [n for n in cluster if n.proc.pid != first]
    b = bucket_on(alive[0], unique_bucket_name("lease"))
    b.create_bucket()
    b.put_object("logs/old", b"x")
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    b.put_bucket_lifecycle(BucketLifecycle([LifecycleRule(
        "expire", "logs/", status=LifecycleRule.ENABLED,
        expiration=LifecycleExpiration(created_before_date=tomorrow))]))
    # The dead holder's lease lapses after about three intervals (1 s each here).
    deadline = time.time() + 20
    while b.object_exists("logs/old") and time.time() < deadline:
        time.sleep(0.3)
    assert not b.object_exists("logs/old")
    assert holder() in [n.proc.pid for n in alive]
    delete_bucket_fully(b)


def test_a_wrong_database_password_or_blob_secret_stops_the_start_naming_the_key(tmp_path):
    text = make_config(tmp_path / "data")
    url, prefix = storage_of(text)
    cases = [(text.replace(url, re.sub(r"://([^:]+):[^@]+@", r"://\1:wrong@", url)),
              "storage.metadata", "password authentication failed")]
    if prefix is not None:
        secret = os.environ["OSSIFY_TEST_S3_SECRET_ACCESS_KEY"]
        cases.append((text.replace(secret, "wrong" + secret[5:]),
                      "storage.blobs.secret_access_key", "rejected"))
    for i, (bad, key, cause) in enumerate(cases):
        srv = OssifyServer(tmp_path / str(i), config_text=bad)
        with pytest.raises(Exception) as e:
            srv.start(timeout=40)
        srv.kill()
        assert key in str(e.value) and cause in str(e.value), str(e.value)
        assert "wrong" not in str(e.value).split("command:")[-1].split("[stderr] ossify: error")[-1]


def test_postgres_over_tls_is_verified_against_sslrootcert(tmp_path):
    import subprocess
    ca = os.environ.get("OSSIFY_TEST_POSTGRES_CA")
    if not ca:
        assert os.environ.get("OSSIFY_REQUIRE_SCALEOUT") != "1", "OSSIFY_TEST_POSTGRES_CA unset"
        pytest.skip("the test PostgreSQL has no TLS (no openssl)")
    text = make_config(tmp_path / "data")
    url, _ = storage_of(text)
    verified = text.replace(url, url + "?sslmode=verify-full&sslrootcert=" + ca)
    node = OssifyServer(tmp_path / "good", config_text=verified).start()
    try:
        b = bucket_on(node, unique_bucket_name("tls"))
        b.create_bucket()
        b.put_object("k", b"over TLS")
        assert b.get_object("k").read() == b"over TLS"
        delete_bucket_fully(b)
    finally:
        node.kill()
    other = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=other",
                    "-keyout", str(tmp_path / "other-ca.key"), "-out", str(other)],
                   check=True, capture_output=True)
    srv = OssifyServer(tmp_path / "bad", config_text=verified.replace(ca, str(other)))
    with pytest.raises(Exception) as e:
        srv.start(timeout=40)
    srv.kill()
    assert "storage.metadata: cannot connect to" in str(e.value), str(e.value)
    assert "TLS handshake failed: invalid peer certificate: UnknownIssuer" in str(e.value)


def test_migrate_copies_an_embedded_store_into_postgres(tmp_path):
    import subprocess
    from conftest import OSSIFY_BIN
    # An embedded server with objects, a multipart object and an unfinished upload.
    plain = OssifyServer(tmp_path / "old", config_text=make_config(tmp_path / "old" / "data")
                         .split("[storage]")[0]).start()
    name = unique_bucket_name("migrate")
    b = bucket_on(plain, name)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    bodies = {"a": b"alpha", "dir/é": os.urandom(3000), "empty": b""}
    for k, v in bodies.items():
        b.put_object(k, v, headers={"x-oss-meta-origin": "old"})
    up = b.init_multipart_upload("big").upload_id
    part = os.urandom(MIN_PART)
    etag = b.upload_part("big", up, 1, part).etag
    plain.stop()

    target = make_config(tmp_path / "new" / "data")
    (tmp_path / "new.toml").write_text(target)
    for _ in range(2):  # the second run finds everything in place
        out = subprocess.run([OSSIFY_BIN, "migrate", "--from", str(tmp_path / "old" / "data"),
                              "--config", str(tmp_path / "new.toml")],
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
    assert "0 objects (3 already there)" in out.stdout, out.stdout

    node = OssifyServer(tmp_path / "new", config_text=target).start()
    try:
        nb = bucket_on(node, name)
        for k, v in bodies.items():
            r = nb.get_object(k)
            assert r.read() == v and r.headers["x-oss-meta-origin"] == "old"
        assert requests.get("%s/%s/a" % (node.endpoint(HZ), name)).content == b"alpha"
        nb.complete_multipart_upload("big", up, [PartInfo(1, etag)])
        assert nb.get_object("big").read() == part
        delete_bucket_fully(nb)
    finally:
        node.kill()
