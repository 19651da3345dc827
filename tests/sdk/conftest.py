"""Shared fixtures for the ossify SDK compatibility suite.

The suite starts the real server binary (env OSSIFY_BIN, default
``<repo>/target/debug/ossify``) as a subprocess on loopback ports chosen by the
kernel (``listen = ["127.0.0.1:0"]``) and reads the real ports from the
``ossify: region <name> listening on http://<ip>:<port>`` lines on stdout.

Run:  cd <repo> && .venv/bin/pytest tests/sdk -q

Scale-out mode: with OSSIFY_TEST_STORAGE set to "postgres+s3", "postgres+fs" or
"redb+s3" (and the OSSIFY_TEST_POSTGRES_URL / OSSIFY_TEST_S3_* services of
scripts/services.sh), every server made from ``make_config`` gets a fresh database
and blob prefix, and with PostgreSQL the session runs two nodes on one store and
hands out their endpoints alternately, so a test's clients straddle both nodes.
"""

import base64
import collections
import hashlib
import itertools
import os
import random
import re
import signal
import string
import subprocess
import threading
import time
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
OSSIFY_BIN = os.environ.get("OSSIFY_BIN", str(REPO / "target" / "debug" / "ossify"))

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

HZ = "oss-cn-hangzhou"
SH = "oss-cn-shanghai"
# V4 signing regions (no "oss-" prefix)
V4_REGION = {HZ: "cn-hangzhou", SH: "cn-shanghai"}

LISTEN_RE = re.compile(r"ossify: region (\S+) listening on (https?)://(\S+):(\d+)\s*$")


class Keys(object):
    def __init__(self, access_key_id, access_key_secret, account_id=None, name=None):
        self.id = access_key_id
        self.secret = access_key_secret
        self.account_id = account_id
        self.name = name

    def __repr__(self):
        return "Keys(%s)" % self.id


ROOT1 = Keys("LTAIroot1", "secret1", "1000000000000001", "root1")
READER = Keys("LTAIreader", "secret-reader", "1000000000000001", "reader")
ROOT2 = Keys("LTAIroot2", "secret2", "1000000000000002", "root2")

READER_POLICY = (
    '{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],'
    '"Resource":["acs:oss:*:*:*"]}]}'
)


STORAGE = os.environ.get("OSSIFY_TEST_STORAGE", "")
if STORAGE and STORAGE not in ("postgres+s3", "postgres+fs", "redb+s3"):
    raise SystemExit("OSSIFY_TEST_STORAGE=%r: use postgres+s3, postgres+fs or redb+s3" % STORAGE)
SHARED_METADATA = STORAGE.startswith("postgres")
# postgres+fs nodes are one store only when they share the blob directory (as nodes on
# one machine, or on one network filesystem, would).
SHARED_DATA_DIR = STORAGE == "postgres+fs"


def new_database():
    """URL of a new, empty database on the test PostgreSQL."""
    import psycopg
    admin = os.environ["OSSIFY_TEST_POSTGRES_URL"]
    name = "ossify_%s" % "".join(random.choice(string.ascii_lowercase) for _ in range(12))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("CREATE DATABASE %s" % name)
    return admin.rsplit("/", 1)[0] + "/" + name


def storage_section(extra=()):
    """`[storage]` lines of a fresh store in scale-out mode (nothing otherwise), with
    the `extra` lines."""
    if not STORAGE:
        return ["[storage]", *extra, ""] if extra else []
    meta, blobs = STORAGE.split("+")
    # Sweep for orphans often, sparing anything younger than half a minute.
    lines = ["[storage]", "blob_gc_interval_secs = 10", "blob_gc_grace_secs = 30",
             "blob_delete_delay_secs = 1", *extra]
    if meta == "postgres":
        lines.append('metadata = "%s"' % new_database())
    if blobs == "s3":
        prefix = "".join(random.choice(string.ascii_lowercase) for _ in range(10))
        lines += [
            "[storage.blobs]",
            'kind = "s3"',
            'endpoint = "%s"' % os.environ["OSSIFY_TEST_S3_ENDPOINT"],
            'bucket = "%s"' % os.environ["OSSIFY_TEST_S3_BUCKET"],
            'access_key_id = "%s"' % os.environ["OSSIFY_TEST_S3_ACCESS_KEY_ID"],
            'secret_access_key = "%s"' % os.environ["OSSIFY_TEST_S3_SECRET_ACCESS_KEY"],
            'prefix = "%s/"' % prefix,
        ]
    return lines + [""]


def make_config(data_dir, regions=(HZ, SH), storage=()):
    """TOML text of the standard two-region, two-account test configuration (on a
    fresh scale-out store in scale-out mode), with the `storage` lines in `[storage]`."""
    # Sweep lifecycle rules every second so expiry is observable in tests.
    lines = ["[server]", 'data_dir = "%s"' % data_dir, "lifecycle_interval_secs = 1",
             "access_log_flush_secs = 1"]
    if STORAGE:
        # Nodes of a shared store need one server-side encryption master key, given.
        key = Path(data_dir).parent / "master.key"
        key.parent.mkdir(parents=True, exist_ok=True)
        if not key.exists():
            key.write_text(os.urandom(32).hex())
            key.chmod(0o600)
        lines.append('master_key_file = "%s"' % key)
    lines.append("")
    for r in regions:
        lines += ["[[regions]]", 'name = "%s"' % r, 'listen = ["127.0.0.1:0"]', ""]
    lines += [
        "[[accounts]]",
        'id = "%s"' % ROOT1.account_id,
        'access_key_id = "%s"' % ROOT1.id,
        'access_key_secret = "%s"' % ROOT1.secret,
        "[[accounts.users]]",
        'name = "reader"',
        'access_key_id = "%s"' % READER.id,
        'access_key_secret = "%s"' % READER.secret,
        "policy = '''%s'''" % READER_POLICY,
        "",
        "[[accounts]]",
        'id = "%s"' % ROOT2.account_id,
        'access_key_id = "%s"' % ROOT2.id,
        'access_key_secret = "%s"' % ROOT2.secret,
        "",
    ]
    return "\n".join(lines + storage_section(storage))


class ServerError(Exception):
    pass


class OssifyServer(object):
    """One ossify process. Can be started, stopped (SIGTERM), killed (SIGKILL) and
    restarted on the same data directory; every start gets fresh ports."""

    def __init__(self, workdir, data_dir=None, config_text=None, regions=(HZ, SH),
                 extra_args=(), env=None, expected_listeners=None, name="ossify",
                 no_config=False):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_dir = Path(data_dir) if data_dir else self.workdir / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.regions = list(regions)
        if config_text is None and not no_config:
            config_text = make_config(self.data_dir, regions)
        self.config_path = None
        if config_text is not None:
            self.config_path = self.workdir / "ossify.toml"
            self.config_path.write_text(config_text)
        self.extra_args = list(extra_args)
        self.env = env
        self.expected_listeners = expected_listeners or len(self.regions)
        self.proc = None
        self.endpoints = {}  # region name -> [http://ip:port, ...]
        self.output = collections.deque(maxlen=2000)
        self.log_path = self.workdir / "server.log"
        self._generation = 0
        self._threads = []

    # -- process management -------------------------------------------------
    def command(self):
        cmd = [OSSIFY_BIN, "serve"]
        if self.config_path is not None:
            cmd += ["--config", str(self.config_path)]
        cmd += ["--data-dir", str(self.data_dir)]
        cmd += self.extra_args
        return cmd

    def _pump(self, stream, tag, listen_lines):
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip("\n")
                self.output.append("[%s] %s" % (tag, line))
                log.write("[gen %d %s] %s\n" % (self._generation, tag, line))
                log.flush()
                if tag == "stdout":
                    m = LISTEN_RE.search(line)
                    if m:
                        listen_lines.append((m.group(1), m.group(2), m.group(3),
                                             int(m.group(4))))
        stream.close()

    def start(self, timeout=START_TIMEOUT):
        if not os.path.exists(OSSIFY_BIN):
            raise ServerError("ossify binary not found at %s (build it with `cargo build` "
                              "or set OSSIFY_BIN)" % OSSIFY_BIN)
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self._generation += 1
        self.endpoints = {}
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        if self.env:
            env.update(self.env)
        listen_lines = []
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     env=env, cwd=str(self.workdir))
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, "stdout", listen_lines),
                             daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, "stderr", listen_lines),
                             daemon=True),
        ]
        for t in self._threads:
            t.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(listen_lines) >= self.expected_listeners:
                break
            if self.proc.poll() is not None:
                for t in self._threads:
                    t.join(2)
                raise ServerError("ossify exited with %s before listening.\ncommand: %s\n"
                                  "output:\n%s" % (self.proc.returncode, self.command(),
                                                   self.output_text()))
            time.sleep(0.05)
        else:
            out = self.output_text()
            self.kill()
            raise ServerError("ossify did not print %d listening line(s) within %ss.\n"
                              "output:\n%s" % (self.expected_listeners, timeout, out))
        for region, scheme, ip, port in listen_lines:
            host = "[%s]" % ip if ":" in ip and not ip.startswith("[") else ip
            self.endpoints.setdefault(region, []).append("%s://%s:%d" % (scheme, host, port))
        self._wait_ready()
        return self

    def _wait_ready(self, timeout=5.0):
        """The listening line should mean the socket is bound; make sure it answers."""
        url = self.endpoint()
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with warnings.catch_warnings():
                    # An HTTPS test server's certificate is the test's own.
                    warnings.simplefilter("ignore")
                    requests.get(url + "/-/healthz", timeout=2, verify=False)
                return
            except requests.RequestException:
                time.sleep(0.05)

    def endpoint(self, region=None):
        region = region or (self.regions[0] if self.regions else HZ)
        if region not in self.endpoints:
            raise KeyError("no listener for region %s (have %s)" % (region, self.endpoints))
        return self.endpoints[region][0]

    def output_text(self, last=200):
        return "\n".join(list(self.output)[-last:])

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def kill(self):
        """kill -9 (SIGKILL) and reap."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        for t in self._threads:
            t.join(5)
        return self.proc.returncode

    def restart(self, timeout=START_TIMEOUT):
        self.stop()
        return self.start(timeout)


# ---------------------------------------------------------------------------
# naming
# ---------------------------------------------------------------------------
RUN_PREFIX = "sdk" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
_counter = itertools.count(1)
_counter_lock = threading.Lock()


def md5_upper(data):
    """Hex MD5 in capitals, as OSS writes ETags."""
    return hashlib.md5(data).hexdigest().upper()


def crc64(data, init=0):
    """CRC-64/ECMA as OSS reports it (x-oss-hash-crc64ecma), through oss2's implementation."""
    import oss2
    c = oss2.utils.Crc64(init)
    c.update(data)
    return c.crc


def make_v2_client(env, keys=None, region=HZ, **kw):
    """An alibabacloud-oss-v2 client for the session server (path style, V4)."""
    import alibabacloud_oss_v2 as oss
    keys = keys or env.root1
    cfg = oss.Config(
        region=V4_REGION[region],
        endpoint=env.endpoint(region),
        use_path_style=True,
        credentials_provider=oss.credentials.StaticCredentialsProvider(keys.id, keys.secret),
        **kw
    )
    return oss.Client(cfg)


def v2_service_error(excinfo):
    """The ServiceError inside the OperationError the v2 client raised (the transfer
    managers wrap it once more)."""
    import alibabacloud_oss_v2 as oss
    e = excinfo.value
    inner = e.unwrap() if hasattr(e, "unwrap") else e
    while not isinstance(inner, oss.exceptions.ServiceError) and hasattr(inner, "unwrap"):
        nxt = inner.unwrap()
        if nxt is inner:
            break
        inner = nxt
    assert isinstance(inner, oss.exceptions.ServiceError), repr(inner)
    return inner


def unique_bucket_name(tag=""):
    """Lower-case, 3..63 chars, unique within the run (and very likely across runs)."""
    with _counter_lock:
        n = next(_counter)
    tag = re.sub(r"[^a-z0-9]+", "-", tag.lower()).strip("-")
    name = "%s-%04d" % (RUN_PREFIX, n)
    if tag:
        name = name + "-" + tag
    return name[:63].rstrip("-")


# ---------------------------------------------------------------------------
# raw HTTP helpers (for things the SDKs refuse or hide)
# ---------------------------------------------------------------------------
def object_url(endpoint, bucket, key=""):
    """Path-style URL; the key is percent-encoded completely (like oss2)."""
    if not bucket:
        return endpoint + "/"
    return "%s/%s/%s" % (endpoint, quote(bucket, safe=""), quote(key, safe=""))


def signed_request(auth, method, endpoint, bucket="", key="", headers=None, params=None,
                   data=None, region="cn-hangzhou", timeout=30):
    """Send one request signed by an oss2 auth object (oss2.Auth / oss2.AuthV4 /
    oss2.AnonymousAuth) but without any of oss2's client-side validation."""
    import oss2

    url = object_url(endpoint, bucket, key)
    req = oss2.http.Request(method, url, data=data, params=dict(params or {}),
                            headers=dict(headers or {}), region=region, product="oss")
    auth._sign_request(req, bucket, key)
    hdrs = {k: v for k, v in req.headers.items() if v is not None}
    hdrs.setdefault("Accept-Encoding", "identity")
    return requests.request(method, url, params=req.params, headers=hdrs, data=req.data,
                            timeout=timeout, allow_redirects=False)


def parse_error(body):
    """Parse an OSS error XML body into a dict of child-element texts."""
    root = ET.fromstring(body)
    out = {"_root": root.tag}
    for child in root:
        out[child.tag] = child.text or ""
    return out


def error_of(resp):
    """Error details of a raw requests.Response: from the body, or from x-oss-err."""
    if resp.content:
        return parse_error(resp.content)
    err = resp.headers.get("x-oss-err")
    if err:
        return parse_error(base64.b64decode(err))
    return {}


def assert_request_id(headers):
    rid = headers.get("x-oss-request-id")
    assert rid, "response has no x-oss-request-id header: %r" % dict(headers)
    return rid


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
class OssifyEnv(object):
    """What tests get from the session-wide server: one node, or in scale-out mode
    several nodes on one store whose endpoints are handed out in turn."""

    def __init__(self, server, others=()):
        self.server = server
        self.nodes = [server] + list(others)
        self._turn = itertools.count()
        self.root1 = ROOT1
        self.root2 = ROOT2
        self.reader = READER
        self.prefix = RUN_PREFIX

    @property
    def endpoints(self):
        return self.server.endpoints

    def endpoint(self, region=HZ):
        node = self.nodes[next(self._turn) % len(self.nodes)]
        return node.endpoint(region)

    @property
    def hz(self):
        return self.endpoint(HZ)

    @property
    def sh(self):
        return self.endpoint(SH)

    def bucket_name(self, tag=""):
        return unique_bucket_name(tag)


class Oss2Ctx(object):
    """oss2 clients of the session server for one signature version ("v1" or "v4");
    `cleanup` removes the buckets it created (objects and pending uploads too)."""

    def __init__(self, env, version):
        import oss2
        self.oss2 = oss2
        self.env = env
        self.version = version
        self.created = []  # (region, name, keys)

    def auth(self, keys=None):
        keys = keys or self.env.root1
        if self.version == "v4":
            return self.oss2.AuthV4(keys.id, keys.secret)
        return self.oss2.Auth(keys.id, keys.secret)

    def service(self, keys=None, region=HZ):
        return self.oss2.Service(self.auth(keys), self.env.endpoint(region), region=V4_REGION[region])

    def bucket(self, name, keys=None, region=HZ, endpoint_region=None, auth=None, **kw):
        endpoint_region = endpoint_region or region
        return self.oss2.Bucket(auth or self.auth(keys), self.env.endpoint(endpoint_region), name,
                                region=V4_REGION[endpoint_region], **kw)

    def anon_bucket(self, name, region=HZ):
        return self.oss2.Bucket(self.oss2.AnonymousAuth(), self.env.endpoint(region), name)

    def new_bucket(self, tag="", acl=None, region=HZ, keys=None):
        name = unique_bucket_name(tag)
        b = self.bucket(name, keys=keys, region=region)
        r = b.create_bucket(acl) if acl else b.create_bucket()
        assert r.status == 200
        assert_request_id(r.headers)
        self.created.append((region, name, keys))
        return b

    def raw(self, method, bucket="", key="", keys=None, region=HZ, **kw):
        """Signed raw request (bypasses SDK validation)."""
        return signed_request(self.auth(keys), method, self.env.endpoint(region), bucket, key,
                              region=V4_REGION[region], **kw)

    def cleanup(self):
        for region, name, keys in reversed(self.created):
            k = keys or self.env.root1
            delete_bucket_fully(self.oss2.Bucket(self.oss2.Auth(k.id, k.secret),
                                                 self.env.endpoint(region), name))


def blob_files(data_dir):
    """The blob files of an embedded (fs) store in `data_dir`."""
    return [p for p in (Path(data_dir) / "blobs").rglob("*") if p.is_file()]


def delete_bucket_fully(bucket):
    """Best-effort teardown through oss2: abort uploads, delete objects, delete the bucket."""
    import oss2
    try:
        for u in oss2.MultipartUploadIterator(bucket):
            try:
                bucket.abort_multipart_upload(u.key, u.upload_id)
            except Exception:
                pass
        for obj in oss2.ObjectIterator(bucket, max_keys=1000):
            try:
                bucket.delete_object(obj.key)
            except Exception:
                pass
        # Versioned buckets keep noncurrent versions and delete markers.
        while True:
            listed = bucket.list_object_versions(max_keys=1000)
            entries = listed.versions + listed.delete_marker
            for v in entries:
                bucket.delete_object(v.key, params={"versionId": v.versionid})
            if not entries:
                break
        bucket.delete_bucket()
    except Exception:
        pass

_LOG_FILES = []


@pytest.fixture(params=["v1", "v4"])
def ctx(request, ossify):
    """An Oss2Ctx signing with V1, then V4 (files that share one per module define
    their own, module-scoped)."""
    c = Oss2Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(params=["v1", "v4"])
def auth(request):
    """Account 1's root key signing with oss2 V1, then V4."""
    import oss2
    if request.param == "v1":
        return oss2.Auth(ROOT1.id, ROOT1.secret)
    return oss2.AuthV4(ROOT1.id, ROOT1.secret)


@pytest.fixture(scope="session")
def ossify(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ossify-session")
    server = OssifyServer(workdir, name="session")
    nodes = [server]
    if SHARED_METADATA:
        # A second node on the same store (same config file, its own data directory).
        nodes.append(OssifyServer(tmp_path_factory.mktemp("ossify-session-b"), name="session-b",
                                  config_text=server.config_path.read_text(),
                                  data_dir=server.data_dir if SHARED_DATA_DIR else None))
    try:
        for node in nodes:
            _LOG_FILES.append(str(node.log_path))
            node.start()
    except ServerError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield OssifyEnv(server, nodes[1:])
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def server_factory(tmp_path):
    """Create extra servers (for restart / crash tests). Each is stopped at the end.

    usage: srv = server_factory(); srv.start(); ...; srv.kill(); srv.start()
    """
    servers = []

    def make(**kwargs):
        workdir = kwargs.pop("workdir", None) or tmp_path / ("srv%d" % len(servers))
        srv = OssifyServer(workdir, **kwargs)
        servers.append(srv)
        _LOG_FILES.append(str(srv.log_path))
        return srv

    yield make
    for srv in servers:
        try:
            srv.stop(timeout=5)
        except Exception:
            srv.kill()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _LOG_FILES and exitstatus != 0:
        terminalreporter.write_line("ossify server logs: " + ", ".join(_LOG_FILES))


# ---------------------------------------------------------------------------
# image helpers (test_image.py, test_saveas.py, test_v2_image.py); Pillow is
# imported lazily so the rest of the suite does not need it
# ---------------------------------------------------------------------------
QUADRANT_COLORS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0))  # nw, ne, sw, se


def make_image(fmt="JPEG", size=(200, 100), mode="RGB", color=(200, 30, 40), quadrants=False,
               **save_kw):
    """Encoded bytes of a small test image. ``quadrants``: nw red, ne green, sw blue,
    se yellow (handy to check crops and rotations)."""
    import io
    from PIL import Image, ImageDraw

    fill = tuple(color) + ((255,) if mode == "RGBA" and len(color) == 3 else ())
    im = Image.new(mode, size, fill)
    if quadrants:
        w, h = size
        d = ImageDraw.Draw(im)
        boxes = ((0, 0, w // 2 - 1, h // 2 - 1), (w // 2, 0, w - 1, h // 2 - 1),
                 (0, h // 2, w // 2 - 1, h - 1), (w // 2, h // 2, w - 1, h - 1))
        for box, c in zip(boxes, QUADRANT_COLORS):
            d.rectangle(box, fill=c + ((255,) if mode == "RGBA" else ()))
    buf = io.BytesIO()
    im.save(buf, fmt, **save_kw)
    return buf.getvalue()


def make_animated_gif(size=(80, 40), frames=3):
    import io
    from PIL import Image

    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    ims = [Image.new("RGB", size, colors[i % len(colors)]) for i in range(frames)]
    buf = io.BytesIO()
    ims[0].save(buf, "GIF", save_all=True, append_images=ims[1:], duration=100, loop=0)
    return buf.getvalue()


def make_animated_webp(size=(80, 40), durations=(100, 200, 300)):
    """A lossless animated WebP: red, green, blue, ... frames shown ``durations`` ms."""
    import io
    from PIL import Image

    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    ims = [Image.new("RGB", size, colors[i % len(colors)]) for i in range(len(durations))]
    buf = io.BytesIO()
    ims[0].save(buf, "WEBP", save_all=True, append_images=ims[1:], duration=list(durations),
                loop=0, lossless=True)
    return buf.getvalue()


def open_image(data):
    """PIL image of encoded bytes (fully loaded); HEIC through pillow-heif."""
    import io
    from PIL import Image

    if data[4:12] == b"ftypheic":
        import pillow_heif

        pillow_heif.register_heif_opener()
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def frame_count(data):
    return getattr(open_image(data), "n_frames", 1)


def crafted_png(width, height, payload=b"\x00" * 16):
    """A tiny PNG whose IHDR declares ``width`` x ``height`` (8-bit RGB) followed by a
    few bytes of image data: a decompression-bomb shaped header."""
    import struct
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(payload))
            + chunk(b"IEND", b""))


def b64_std(text, pad=True):
    out = base64.b64encode(text.encode("utf-8")).decode()
    return out if pad else out.rstrip("=")


def b64_url(text, pad=False):
    out = base64.urlsafe_b64encode(text.encode("utf-8")).decode()
    return out if pad else out.rstrip("=")


def saveas(key, bucket=None, encode=b64_url):
    """The ``sys/saveas,o_..[,b_..]`` step."""
    step = "sys/saveas,o_" + encode(key)
    if bucket is not None:
        step += ",b_" + encode(bucket)
    return step
