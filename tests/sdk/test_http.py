"""Wire-level HTTP behaviour that the SDKs depend on but do not show directly."""

import socket
import time

import oss2
import pytest

from conftest import HZ, assert_request_id, unique_bucket_name


def _hostport(endpoint):
    host, port = endpoint[len("http://"):].rsplit(":", 1)
    return host, int(port)


def _read_response(sock, timeout=5.0):
    """Read one HTTP/1.1 response (status line, headers, Content-Length body)."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before a full response: %r" % buf)
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n], rest[n:]


@pytest.fixture
def public_read_bucket(ossify):
    name = unique_bucket_name("http")
    b = oss2.Bucket(oss2.Auth(ossify.root1.id, ossify.root1.secret), ossify.endpoint(HZ), name)
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
    b.put_object("k", b"value")
    yield name
    for k in ("k", "chunked", "expect"):
        b.delete_object(k)
    b.delete_bucket()


def test_connection_reusable_after_rejected_upload(ossify, public_read_bucket):
    """An anonymous PUT is refused (403) before its body has arrived. The server must
    then either keep the keep-alive connection usable (drain the body) or say
    `Connection: close`; closing silently breaks pooled clients such as oss2/requests
    with 'Remote end closed connection without response' on their next request."""
    hostport = ossify.endpoint(HZ)[len("http://"):]
    sock = socket.create_connection(_hostport(ossify.endpoint(HZ)))
    try:
        sock.sendall(("PUT /%s/evil HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\n\r\n"
                      % (public_read_bucket, hostport)).encode())
        time.sleep(0.2)  # like requests: headers first, body in a separate write
        sock.sendall(b"hello")
        status, headers, body, _ = _read_response(sock)
        assert status == 403
        assert "x-oss-request-id" in headers
        if headers.get("connection", "").lower() == "close":
            return  # announced: fine
        try:
            sock.sendall(("GET /%s/k HTTP/1.1\r\nHost: %s\r\n\r\n"
                          % (public_read_bucket, hostport)).encode())
            status, headers, body, _ = _read_response(sock)
        except (OSError, ConnectionError) as e:
            pytest.fail("server closed the keep-alive connection after the 403 without sending "
                        "'Connection: close' (next request failed with %r); response headers were %r"
                        % (e, headers))
        assert status == 200
        assert body == b"value"
    finally:
        sock.close()


def test_chunked_and_expect_100_continue(ossify, public_read_bucket):
    hostport = ossify.endpoint(HZ)[len("http://"):]
    auth = oss2.Auth(ossify.root1.id, ossify.root1.secret)

    def signed_headers(method, key, extra):
        req = oss2.http.Request(method, "http://%s/%s/%s" % (hostport, public_read_bucket, key),
                                headers=dict(extra))
        auth._sign_request(req, public_read_bucket, key)
        return "".join("%s: %s\r\n" % (k, v) for k, v in req.headers.items() if v is not None)

    sock = socket.create_connection(_hostport(ossify.endpoint(HZ)))
    try:
        # Transfer-Encoding: chunked (ali-oss putStream, oss2 iterables, Java streams)
        hdrs = signed_headers("PUT", "chunked", {"Content-Type": "text/plain"})
        sock.sendall(("PUT /%s/chunked HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n%s\r\n"
                      % (public_read_bucket, hostport, hdrs)).encode())
        sock.sendall(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        status, headers, body, _ = _read_response(sock)
        assert status == 200, body
        assert headers["etag"].strip('"') == "5EB63BBBE01EEED093CB22BB8F5ACDC3"

        # Expect: 100-continue
        hdrs = signed_headers("PUT", "expect", {"Content-Type": "text/plain"})
        sock.sendall(("PUT /%s/expect HTTP/1.1\r\nHost: %s\r\nContent-Length: 3\r\n"
                      "Expect: 100-continue\r\n%s\r\n" % (public_read_bucket, hostport, hdrs)).encode())
        sock.settimeout(5)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 100"), first
        rest = first.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in first else b""
        assert rest == b""
        sock.sendall(b"abc")
        status, headers, body, _ = _read_response(sock)
        assert status == 200, body
    finally:
        sock.close()
    b = oss2.Bucket(auth, ossify.endpoint(HZ), public_read_bucket)
    assert b.get_object("chunked").read() == b"hello world"
    assert b.get_object("expect").read() == b"abc"


def test_standard_response_headers(ossify, public_read_bucket):
    import requests
    for r in (requests.get("%s/%s/k" % (ossify.endpoint(HZ), public_read_bucket)),
              requests.get("%s/%s/missing" % (ossify.endpoint(HZ), public_read_bucket)),
              requests.head("%s/%s/k" % (ossify.endpoint(HZ), public_read_bucket))):
        assert_request_id(r.headers)
        assert r.headers.get("Server") == "AliyunOSS"
        assert r.headers.get("Date", "").endswith(" GMT")
    r = requests.get("%s/%s/k" % (ossify.endpoint(HZ), public_read_bucket))
    assert r.headers.get("Accept-Ranges") == "bytes"
