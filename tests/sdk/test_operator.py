"""What an operator relies on: /-/healthz and /-/readyz, Prometheus metrics at
/-/metrics (parsed with prometheus_client), the access log, graceful shutdown on
SIGTERM, and HTTPS listeners (oss2 V1/V4, alibabacloud-oss-v2 and curl against a
certificate the test makes)."""

import json
import shutil
import socket
import subprocess
import time

import oss2
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from conftest import (HZ, ROOT1, STORAGE, V4_REGION, error_of, make_config, make_image,
                      storage_section)


def scrape(endpoint):
    """{(sample name, frozenset(labels)): value} of the server's /-/metrics."""
    r = requests.get(endpoint + "/-/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(metrics, name, **labels):
    return metrics.get((name, frozenset(labels.items())), 0.0)


def grew(before, after, name, **labels):
    return sample(after, name, **labels) - sample(before, name, **labels)


def test_health_and_readiness(ossify):
    ep = ossify.endpoint()
    r = requests.get(ep + "/-/healthz")
    assert (r.status_code, r.text) == (200, "ok\n")
    r = requests.get(ep + "/-/readyz")
    assert (r.status_code, r.text) == (200, "ready\n")
    assert requests.head(ep + "/-/readyz").status_code == 200
    assert requests.post(ep + "/-/healthz").status_code == 405
    assert requests.get(ep + "/-/nothing-here").status_code == 404
    # On a bucket's virtual host the path is an object key like any other.
    r = requests.get(ep + "/-/healthz", headers={"Host": "nosuchbucket.localhost"})
    assert r.status_code == 404
    assert error_of(r)["Code"] == "NoSuchBucket"


def test_metrics_move_with_traffic(ossify):
    # One node: in scale-out mode each node counts its own requests.
    ep = ossify.endpoint()
    auth = oss2.Auth(ROOT1.id, ROOT1.secret)
    bucket = oss2.Bucket(auth, ep, ossify.bucket_name("metrics"))
    bucket.create_bucket()
    body = b"m" * 100000
    jpeg = make_image("JPEG", size=(300, 200))
    before = scrape(ep)
    bucket.put_object("obj", body)
    assert bucket.get_object("obj").read() == body
    with pytest.raises(oss2.exceptions.NoSuchKey):
        bucket.get_object("missing")
    bucket.put_object("pic.jpg", jpeg)
    processed = bucket.get_object("pic.jpg", process="image/resize,w_100/rotate,90").read()
    assert processed[:2] == b"\xff\xd8"
    with pytest.raises(oss2.exceptions.ServerError):
        bucket.get_object("pic.jpg", process="image/resize,w_0")
    after = scrape(ep)

    def requests_grew(operation, status, dialect="oss"):
        return grew(before, after, "ossify_requests_total", dialect=dialect,
                    operation=operation, status=str(status))

    assert requests_grew("PutObject", 200) == 2
    assert requests_grew("GetObject", 200) == 2
    assert requests_grew("GetObject", 404) == 1
    assert requests_grew("GetObject", 400) == 1
    assert grew(before, after, "ossify_request_duration_seconds_count", dialect="oss",
                operation="GetObject") == 4
    # The scrape itself is in flight while it renders.
    assert sample(after, "ossify_requests_in_flight") >= 1
    assert grew(before, after, "ossify_received_bytes_total") >= len(body) + len(jpeg)
    assert grew(before, after, "ossify_sent_bytes_total") >= len(body) + len(processed)
    for stage in ("decode", "resize", "rotate", "encode"):
        assert grew(before, after, "ossify_image_step_duration_seconds_count",
                    action=stage) == 1, stage
    assert sample(after, "ossify_image_jobs_queued") == 0
    assert ("ossify_image_jobs_rejected_total", frozenset()) in after
    # Buckets of the histogram are cumulative and end at +Inf.
    inf = sample(after, "ossify_request_duration_seconds_bucket", dialect="oss",
                 operation="GetObject", le="+Inf")
    assert inf == sample(after, "ossify_request_duration_seconds_count", dialect="oss",
                         operation="GetObject")
    bucket.delete_object("obj")
    bucket.delete_object("pic.jpg")
    bucket.delete_bucket()


def test_metrics_count_s3_requests(ossify):
    import boto3
    ep = ossify.endpoint()
    s3 = boto3.client("s3", endpoint_url=ep, region_name="us-east-1",
                      aws_access_key_id=ROOT1.id, aws_secret_access_key=ROOT1.secret)
    name = ossify.bucket_name("metrics-s3")
    before = scrape(ep)
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    after = scrape(ep)
    for operation, status in (("CreateBucket", 200), ("PutObject", 200),
                              ("DeleteObject", 204), ("DeleteBucket", 204)):
        assert grew(before, after, "ossify_requests_total", dialect="s3",
                    operation=operation, status=str(status)) == 1, operation


def test_metrics_and_console_follow_config(server_factory, tmp_path):
    config = make_config(tmp_path / "data") + (
        '\n[metrics]\nallow = ["10.0.0.0/8", "192.168.1.7"]\n\n[console]\nenabled = false\n')
    srv = server_factory(config_text=config).start()
    r = requests.get(srv.endpoint() + "/-/metrics")
    assert r.status_code == 403
    assert "[metrics] allow" in r.text
    assert requests.get(srv.endpoint() + "/-/console/").status_code == 404
    assert requests.get(srv.endpoint() + "/-/healthz").status_code == 200

    bad = server_factory(config_text=make_config(tmp_path / "bad") +
                         '\n[metrics]\nallow = ["everyone"]\n')
    with pytest.raises(Exception) as e:
        bad.start()
    assert "everyone" in str(e.value) and "neither a network" in str(e.value)


def access_lines(srv):
    lines = []
    for line in srv.output_text(last=2000).splitlines():
        if line.startswith("[stderr] {"):
            event = json.loads(line[len("[stderr] "):])
            if event.get("target") == "ossify::access":
                lines.append(event)
    return lines


def test_access_log_json(server_factory):
    srv = server_factory(env={"OSSIFY_LOG_FORMAT": "json"}).start()
    ep = srv.endpoint()
    bucket = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ep, "access-log")
    bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    put = bucket.put_object("dir/a.txt", b"hello")
    r = requests.get(ep + "/access-log/dir/a.txt")
    assert r.content == b"hello"
    deadline = time.time() + 5
    while time.time() < deadline:
        lines = access_lines(srv)
        if len([e for e in lines if e.get("key") == "dir/a.txt"]) >= 2:
            break
        time.sleep(0.05)
    by_id = {e["request_id"]: e for e in lines}
    signed = by_id[put.request_id]
    assert signed["operation"] == "PutObject"
    assert signed["dialect"] == "oss"
    assert (signed["bucket"], signed["key"]) == ("access-log", "dir/a.txt")
    assert signed["status"] == 200
    assert signed["received"] == 5
    assert signed["principal"] == ROOT1.account_id
    assert signed["method"] == "PUT"
    assert signed["duration_ms"] >= 0
    anon = by_id[r.headers["x-oss-request-id"]]
    assert (anon["operation"], anon["principal"], anon["sent"]) == ("GetObject", "anonymous", 5)
    bucket.delete_object("dir/a.txt")
    bucket.delete_bucket()


def test_unknown_log_format_is_refused(server_factory):
    srv = server_factory(env={"OSSIFY_LOG_FORMAT": "xml"})
    with pytest.raises(Exception) as e:
        srv.start()
    assert "OSSIFY_LOG_FORMAT" in str(e.value)


def send_head(endpoint, key, length):
    """An anonymous PUT of `length` bytes whose body is not sent yet."""
    host, port = endpoint.rsplit("//", 1)[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(("PUT /shutdown/%s HTTP/1.1\r\nHost: %s:%s\r\nContent-Length: %d\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n"
                  % (key, host, port, length)).encode())
    return sock


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.skipif(bool(STORAGE), reason="one process's shutdown; storage-neutral")
def test_sigterm_finishes_requests_in_flight_and_cuts_at_the_deadline(server_factory, tmp_path):
    config = make_config(tmp_path / "data").replace(
        "[server]\n", "[server]\nshutdown_grace_secs = 2\n", 1)
    srv = server_factory(config_text=config, data_dir=tmp_path / "data").start()
    ep = srv.endpoint()
    bucket = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ep, "shutdown")
    bucket.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    old = b"old" * 1000
    bucket.put_object("cut", old)

    finishing, cut = b"f" * 200000, b"n" * 200000
    a = send_head(ep, "finishes", len(finishing))
    a.sendall(finishing[:1000])
    b = send_head(ep, "cut", len(cut))
    b.sendall(cut[:1000])
    time.sleep(0.3)
    started = time.time()
    srv.proc.send_signal(15)  # SIGTERM
    time.sleep(0.5)
    # No new connections once shutdown has begun.
    with pytest.raises(OSError):
        socket.create_connection(ep.rsplit("//", 1)[1].rsplit(":", 1), timeout=2).recv(1)
    # A request in flight finishes within the grace period and is answered.
    a.sendall(finishing[1000:])
    assert read_response(a).startswith(b"HTTP/1.1 200")
    # One still unfinished at the deadline is cut, and the server exits 0.
    assert srv.proc.wait(10) == 0
    took = time.time() - started
    assert 1.8 <= took < 8, took
    b.settimeout(5)
    try:
        assert read_response(b) == b""
    except ConnectionResetError:
        pass
    out = srv.output_text()
    assert "grace period over" in out

    srv.start()
    bucket = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(), "shutdown")
    assert bucket.get_object("cut").read() == old
    assert bucket.get_object("finishes").read() == finishing


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    d = tmp_path_factory.mktemp("tls")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    for pem in cert.cert_chain_pems[1:]:
        pem.write_to_path(str(d / "cert.pem"), append=True)
    return d


def tls_config(data_dir, tls_dir, cert="cert.pem", key="key.pem"):
    lines = ["[server]", 'data_dir = "%s"' % data_dir, "",
             "[[regions]]", 'name = "%s"' % HZ, 'listen = ["127.0.0.1:0"]',
             'tls_cert = "%s"' % (tls_dir / cert), 'tls_key = "%s"' % (tls_dir / key), "",
             "[[accounts]]", 'id = "%s"' % ROOT1.account_id,
             'access_key_id = "%s"' % ROOT1.id, 'access_key_secret = "%s"' % ROOT1.secret, ""]
    return "\n".join(lines + storage_section())


def test_https_listener_with_the_sdks_and_curl(server_factory, certificate, tmp_path,
                                               monkeypatch):
    import alibabacloud_oss_v2 as oss
    srv = server_factory(config_text=tls_config(tmp_path / "data", certificate),
                         regions=(HZ,), expected_listeners=1).start()
    ep = srv.endpoint()
    assert ep.startswith("https://127.0.0.1:")
    ca = str(certificate / "ca.pem")
    # oss2 and the v2 SDK verify through requests, which trusts this bundle.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)

    v1 = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ep, "tls-bucket")
    v1.create_bucket()
    v1.put_object("v1.txt", b"over tls v1")
    v4 = oss2.Bucket(oss2.AuthV4(ROOT1.id, ROOT1.secret), ep, "tls-bucket",
                     region=V4_REGION[HZ])
    assert v4.get_object("v1.txt").read() == b"over tls v1"
    upload = v4.init_multipart_upload("mp.bin").upload_id
    part = v4.upload_part("mp.bin", upload, 1, b"p" * 1000)
    done = v4.complete_multipart_upload("mp.bin", upload, [oss2.models.PartInfo(1, part.etag)])
    assert done.status == 200

    client = oss.Client(oss.Config(
        region=V4_REGION[HZ], endpoint=ep, use_path_style=True,
        credentials_provider=oss.credentials.StaticCredentialsProvider(ROOT1.id, ROOT1.secret)))
    client.put_object(oss.PutObjectRequest(bucket="tls-bucket", key="v2.txt",
                                           body=b"over tls v2"))
    got = client.get_object(oss.GetObjectRequest(bucket="tls-bucket", key="v2.txt"))
    assert got.body.read() == b"over tls v2"

    # An unverified client gets no answer from a TLS listener in plain HTTP.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(ep.replace("https://", "http://") + "/-/healthz", timeout=5)

    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed (scripts/test.sh installs it as root on Debian)")
    url = v1.sign_url("GET", "v1.txt", 600)
    out = subprocess.run([curl, "-sS", "--cacert", ca, url], capture_output=True, timeout=30)
    assert out.stdout == b"over tls v1", out.stderr
    out = subprocess.run([curl, "-sS", "--cacert", ca, "--http2", "-o", "/dev/null",
                          "-w", "%{http_version}", ep + "/-/healthz"],
                         capture_output=True, timeout=30, text=True)
    assert out.stdout == "2", out.stderr
    out = subprocess.run([curl, "-sS", ep + "/-/healthz"], capture_output=True, timeout=30)
    assert out.returncode != 0, "curl must refuse a certificate it does not trust"

    for key in ("v1.txt", "v2.txt", "mp.bin"):
        v1.delete_object(key)
    v1.delete_bucket()


def test_https_config_errors(server_factory, certificate, tmp_path):
    half = tls_config(tmp_path / "a", certificate).replace(
        'tls_key = "%s"' % (certificate / "key.pem"), "")
    srv = server_factory(config_text=half, regions=(HZ,), expected_listeners=1)
    with pytest.raises(Exception) as e:
        srv.start()
    assert "set both tls_cert and tls_key" in str(e.value)
    swapped = tls_config(tmp_path / "b", certificate, cert="key.pem", key="cert.pem")
    srv = server_factory(config_text=swapped, regions=(HZ,), expected_listeners=1)
    with pytest.raises(Exception) as e:
        srv.start()
    assert "HTTPS for region oss-cn-hangzhou" in str(e.value)
