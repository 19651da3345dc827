"""Bad input on the S3 dialect: S3's error each time, and nothing stored.

Requests are signed here by hand with AWS Signature V4 (hmac/hashlib, independent of
the server and of any SDK), including the chunk signatures of aws-chunked bodies and
trailing checksums, and sent over a raw socket so bodies can be malformed, truncated
or cut short. After each refusal the key is looked up through oss2 (the OSS dialect).
"""

import base64
import hashlib
import hmac
import http.client
import socket
import xml.etree.ElementTree as ET
import zlib
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import oss2
import pytest

from conftest import delete_bucket_fully, unique_bucket_name

REGION = "us-east-1"  # stands for the first region (oss-cn-hangzhou)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class SigV4(object):
    def __init__(self, key_id, secret, region=REGION, when=None):
        self.key_id = key_id
        self.secret = secret
        self.region = region
        now = when or datetime.now(timezone.utc)
        self.amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        self.date = now.strftime("%Y%m%d")
        self.scope = "%s/%s/s3/aws4_request" % (self.date, region)
        k = _hmac(("AWS4" + secret).encode(), self.date)
        k = _hmac(k, region)
        k = _hmac(k, "s3")
        self.key = _hmac(k, "aws4_request")

    def sign(self, method, path, query, headers, payload_hash):
        """Add x-amz-date, x-amz-content-sha256 and Authorization to `headers` (a dict
        with lower-case names, `host` included); returns the seed signature."""
        headers["x-amz-date"] = self.amz_date
        headers["x-amz-content-sha256"] = payload_hash
        names = sorted(headers)
        canonical_headers = "".join("%s:%s\n" % (n, str(headers[n]).strip()) for n in names)
        signed = ";".join(names)
        pairs = sorted((quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in query)
        canonical_query = "&".join("%s=%s" % kv for kv in pairs)
        canonical = "\n".join([method, quote(path, safe="/-_.~"), canonical_query,
                               canonical_headers, signed, payload_hash])
        to_sign = "\n".join(["AWS4-HMAC-SHA256", self.amz_date, self.scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
            % (self.key_id, self.scope, signed, signature))
        return signature

    def chunk_signature(self, previous, data):
        to_sign = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", self.amz_date, self.scope, previous,
                             EMPTY_SHA256, hashlib.sha256(data).hexdigest()])
        return hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()


def signed_chunks(signer, seed, chunks):
    """An aws-chunked body of `chunks` (the final empty chunk is added), each chunk
    signed after the previous one; returns the list of encoded chunks."""
    out = []
    previous = seed
    for data in list(chunks) + [b""]:
        sig = signer.chunk_signature(previous, data)
        out.append(b"%x;chunk-signature=%s\r\n%s\r\n" % (len(data), sig.encode(), data))
        previous = sig
    return out


def crc32_b64(data):
    return base64.b64encode((zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")).decode()


class Reply(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def code(self):
        try:
            return ET.fromstring(self.body).findtext("Code")
        except ET.ParseError:
            return None

    def __repr__(self):
        return "Reply(%s, %r)" % (self.status, self.body[:500])


def send_raw(endpoint, method, target, headers, body=b"", half_close=False):
    """One request over a fresh connection, `body` sent as given (`headers` carry
    Content-Length as the test wants it). With `half_close` the client shuts its
    side after the body, as a client whose upload was cut short. Returns a Reply, or
    None when the server closed the connection without an answer."""
    u = urlsplit(endpoint)
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    try:
        head = "%s %s HTTP/1.1\r\n" % (method, target)
        head += "".join("%s: %s\r\n" % (k, v) for k, v in headers.items())
        head += "connection: close\r\n\r\n"
        sock.sendall(head.encode("latin-1") + body)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return None
        data = resp.read()
        return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        sock.close()


class S3Raw(object):
    def __init__(self, endpoint, keys):
        self.endpoint = endpoint
        self.host = urlsplit(endpoint).netloc
        self.keys = keys

    def request(self, method, path, query=(), headers=None, body=b"", payload_hash=None,
                signer=None, content_length=None, half_close=False, send_body=None):
        """Sign (SigV4 header) and send. `payload_hash` defaults to the body's SHA-256;
        `send_body` replaces what goes on the wire after signing."""
        headers = {k.lower(): v for k, v in (headers or {}).items()}
        headers["host"] = self.host
        signer = signer or SigV4(self.keys.id, self.keys.secret)
        if payload_hash is None:
            payload_hash = hashlib.sha256(body).hexdigest()
        seed = signer.sign(method, path, query, headers, payload_hash)
        wire = body if send_body is None else send_body
        headers["content-length"] = str(len(wire) if content_length is None else content_length)
        target = quote(path, safe="/-_.~")
        if query:
            target += "?" + "&".join(
                quote(k, safe="-_.~") + ("=" + quote(v, safe="-_.~") if v != "" else "")
                for k, v in query)
        return seed, (headers, wire, target, method, half_close)

    def send(self, prepared):
        headers, wire, target, method, half_close = prepared
        return send_raw(self.endpoint, method, target, headers, wire, half_close)

    def do(self, method, path, query=(), **kw):
        _, prepared = self.request(method, path, query, **kw)
        return self.send(prepared)

    def chunked_put(self, path, chunks, tamper=None, decoded_length=None, headers=None,
                    half_close=False, content_length=None):
        """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD; `tamper(encoded_chunks)` may
        change the encoded chunks (a list) before they are joined and sent."""
        data = b"".join(chunks)
        h = {"content-encoding": "aws-chunked",
             "x-amz-decoded-content-length": str(len(data) if decoded_length is None
                                                 else decoded_length)}
        h.update(headers or {})
        signer = SigV4(self.keys.id, self.keys.secret)
        # The body is signed chunk by chunk from the seed signature of the headers.
        _, prepared = self.request("PUT", path, headers=h,
                                   payload_hash="STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                   signer=signer)
        headers_out, _, target, method, _ = prepared
        seed = headers_out["authorization"].rsplit("Signature=", 1)[1]
        encoded = signed_chunks(signer, seed, chunks)
        if tamper:
            encoded = tamper(encoded)
        wire = b"".join(encoded)
        headers_out["content-length"] = str(len(wire) if content_length is None
                                            else content_length)
        return send_raw(self.endpoint, method, target, headers_out, wire, half_close)

    def trailer_put(self, path, data, trailer_value, trailer_name="x-amz-checksum-crc32",
                    body=None):
        """PUT with STREAMING-UNSIGNED-PAYLOAD-TRAILER and a trailing checksum."""
        h = {"content-encoding": "aws-chunked",
             "x-amz-decoded-content-length": str(len(data)),
             "x-amz-trailer": trailer_name}
        if body is None:
            body = b"%x\r\n%s\r\n0\r\n%s:%s\r\n\r\n" % (
                len(data), data, trailer_name.encode(), trailer_value.encode())
        return self.do("PUT", path, headers=h, body=body,
                       payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")


@pytest.fixture
def s3(ossify):
    name = unique_bucket_name("s3bad")
    keys = ossify.root1
    oss = oss2.Bucket(oss2.Auth(keys.id, keys.secret), ossify.hz, name)
    oss.create_bucket()
    yield S3Raw(ossify.hz, keys), name, oss
    delete_bucket_fully(oss)


def assert_error(reply, status, code):
    assert reply is not None, "the server closed the connection without an answer"
    assert reply.status == status, reply
    assert reply.code == code, reply
    assert reply.headers.get("x-amz-request-id"), reply.headers


def assert_absent(oss, key):
    assert not oss.object_exists(key), "%s was stored" % key


CHUNKS = [b"a" * 8192, b"b" * 8192, b"tail"]


# -- controls: the hand-made signer and chunk encoder are right --------------------

def test_control_signed_put_and_chunked_put_are_stored(s3):
    c, b, oss = s3
    r = c.do("PUT", "/%s/plain" % b, body=b"plain body")
    assert r.status == 200, r
    assert oss.get_object("plain").read() == b"plain body"

    r = c.chunked_put("/%s/chunked" % b, CHUNKS)
    assert r.status == 200, r
    assert oss.get_object("chunked").read() == b"".join(CHUNKS)

    data = b"trailer checked"
    r = c.trailer_put("/%s/trailer" % b, data, crc32_b64(data))
    assert r.status == 200, r
    assert oss.get_object("trailer").read() == data


# -- signatures and keys ----------------------------------------------------------

def test_wrong_signature_is_signature_does_not_match(s3):
    c, b, oss = s3
    _, (headers, wire, target, method, hc) = c.request("PUT", "/%s/k" % b, body=b"x")
    sig = headers["authorization"][-64:]
    headers["authorization"] = headers["authorization"][:-64] + (
        "0" if sig[0] != "0" else "1") + sig[1:]
    r = send_raw(c.endpoint, method, target, headers, wire)
    assert_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(oss, "k")

    # Signed with another secret.
    r = c.do("PUT", "/%s/k" % b, body=b"x", signer=SigV4(c.keys.id, "not-the-secret"))
    assert_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(oss, "k")

    # A signed header changed after signing.
    _, (headers, wire, target, method, hc) = c.request(
        "PUT", "/%s/k" % b, body=b"x", headers={"x-amz-meta-a": "1"})
    headers["x-amz-meta-a"] = "2"
    assert_error(send_raw(c.endpoint, method, target, headers, wire), 403,
                 "SignatureDoesNotMatch")
    assert_absent(oss, "k")


def test_unknown_access_key_is_invalid_access_key_id(s3):
    c, b, oss = s3
    r = c.do("PUT", "/%s/k" % b, body=b"x", signer=SigV4("AKIDNOSUCHKEY", "whatever"))
    assert_error(r, 403, "InvalidAccessKeyId")
    assert_absent(oss, "k")


def test_body_not_matching_its_signed_sha256(s3):
    c, b, oss = s3
    _, prepared = c.request("PUT", "/%s/k" % b, body=b"what was signed",
                            send_body=b"what was sent!!")
    r = c.send(prepared)
    assert_error(r, 400, "XAmzContentSHA256Mismatch")
    assert_absent(oss, "k")


def test_wrong_content_md5_and_checksum_header_are_bad_digest(s3):
    c, b, oss = s3
    md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = c.do("PUT", "/%s/k" % b, body=b"data", headers={"content-md5": md5})
    assert_error(r, 400, "BadDigest")
    assert_absent(oss, "k")

    r = c.do("PUT", "/%s/k" % b, body=b"data", payload_hash="UNSIGNED-PAYLOAD",
             headers={"x-amz-checksum-crc32": crc32_b64(b"other")})
    assert_error(r, 400, "BadDigest")
    assert_absent(oss, "k")


# -- aws-chunked bodies -----------------------------------------------------------

def test_wrong_chunk_signature(s3):
    c, b, oss = s3

    def flip_second(encoded):
        line, rest = encoded[1].split(b"\r\n", 1)
        sig = line[-64:]
        bad = (b"0" if sig[:1] != b"0" else b"1") + sig[1:]
        encoded[1] = line[:-64] + bad + b"\r\n" + rest
        return encoded

    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=flip_second)
    assert_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(oss, "k")

    # The final (empty) chunk's signature is checked too.
    def flip_last(encoded):
        encoded[-1] = b"0;chunk-signature=" + b"f" * 64 + b"\r\n\r\n"
        return encoded

    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=flip_last)
    assert_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(oss, "k")

    # Chunk data changed under a correct-looking signature.
    def change_data(encoded):
        encoded[0] = encoded[0].replace(b"a" * 10, b"A" * 10, 1)
        return encoded

    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=change_data)
    assert_error(r, 403, "SignatureDoesNotMatch")
    assert_absent(oss, "k")


@pytest.mark.parametrize("case", [
    "size-not-hex",
    "no-chunk-signature",
    "no-crlf-after-data",
    "size-larger-than-data",
    "garbage-after-final-chunk",
])
def test_malformed_chunked_body(s3, case):
    c, b, oss = s3

    def tamper(encoded):
        if case == "size-not-hex":
            encoded[0] = b"zz" + encoded[0][encoded[0].index(b";"):]
        elif case == "no-chunk-signature":
            encoded[1] = b"%x\r\n" % len(CHUNKS[1]) + encoded[1].split(b"\r\n", 1)[1]
        elif case == "no-crlf-after-data":
            encoded[0] = encoded[0][:-2]
        elif case == "size-larger-than-data":
            line, rest = encoded[2].split(b";", 1)
            encoded[2] = b"%x;" % (len(CHUNKS[2]) + 100) + rest
        elif case == "garbage-after-final-chunk":
            encoded.append(b"unexpected trailing bytes")
        return encoded

    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=tamper)
    assert r is not None, "the server closed the connection without an answer"
    assert r.status in (400, 403), r
    assert r.code in ("IncompleteBody", "InvalidRequest", "SignatureDoesNotMatch",
                      "MalformedChunkedEncoding", "InvalidArgument"), r
    assert_absent(oss, "k")


def test_decoded_length_not_matching_the_chunks(s3):
    c, b, oss = s3
    total = len(b"".join(CHUNKS))
    for declared in (total + 1, total - 1):
        r = c.chunked_put("/%s/k" % b, CHUNKS, decoded_length=declared)
        assert r is not None and r.status == 400, r
        assert r.code in ("IncompleteBody", "InvalidRequest", "InvalidArgument"), r
        assert_absent(oss, "k")


def test_truncated_chunked_body(s3):
    c, b, oss = s3

    # The final chunk is missing, with Content-Length telling the truth.
    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=lambda e: e[:-1])
    assert r is not None and r.status == 400, r
    assert r.code in ("IncompleteBody", "InvalidRequest"), r
    assert_absent(oss, "k")

    # Cut in the middle of a chunk's data.
    r = c.chunked_put("/%s/k" % b, CHUNKS,
                      tamper=lambda e: [e[0], e[1][:100]])
    assert r is not None and r.status == 400, r
    assert r.code in ("IncompleteBody", "InvalidRequest"), r
    assert_absent(oss, "k")

    # Content-Length promises the whole body, the client stops half way and closes
    # its side: an error answer if the server can still send one, and nothing stored.
    whole = len(b"".join(signed_chunks(SigV4(c.keys.id, c.keys.secret), "0" * 64, CHUNKS)))
    r = c.chunked_put("/%s/k" % b, CHUNKS, tamper=lambda e: [e[0], e[1][:100]],
                      content_length=whole, half_close=True)
    if r is not None:
        assert r.status == 400, r
        assert r.code in ("IncompleteBody", "InvalidRequest"), r
    assert_absent(oss, "k")


def test_truncated_plain_body(s3):
    c, b, oss = s3
    body = b"x" * 10000
    _, prepared = c.request("PUT", "/%s/k" % b, body=body, payload_hash="UNSIGNED-PAYLOAD",
                            send_body=body[:3000], content_length=len(body),
                            half_close=True)
    r = c.send(prepared)
    if r is not None:
        assert r.status == 400, r
        assert r.code in ("IncompleteBody", "RequestTimeout"), r
    assert_absent(oss, "k")


# -- trailing checksums -----------------------------------------------------------

def test_wrong_trailing_checksum_is_bad_digest(s3):
    c, b, oss = s3
    data = b"some bytes with a trailer"
    r = c.trailer_put("/%s/k" % b, data, crc32_b64(b"other bytes"))
    assert_error(r, 400, "BadDigest")
    assert_absent(oss, "k")

    # Another algorithm's trailer, wrong too.
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    r = c.trailer_put("/%s/k" % b, data, wrong, trailer_name="x-amz-checksum-sha256")
    assert_error(r, 400, "BadDigest")
    assert_absent(oss, "k")


def test_announced_trailer_missing_or_malformed(s3):
    c, b, oss = s3
    data = b"announced but not sent"
    # No trailer after the final chunk.
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)
    r = c.trailer_put("/%s/k" % b, data, "", body=body)
    assert r is not None and r.status == 400, r
    assert r.code in ("InvalidRequest", "MalformedTrailerError", "IncompleteBody", "BadDigest"), r
    assert_absent(oss, "k")

    # A trailer value that is not base64 of a CRC-32.
    r = c.trailer_put("/%s/k" % b, data, "not-base64!!")
    assert r is not None and r.status == 400, r
    assert r.code in ("InvalidRequest", "BadDigest", "InvalidArgument"), r
    assert_absent(oss, "k")


# -- oversize headers -------------------------------------------------------------

def test_oversize_user_metadata_is_metadata_too_large(s3):
    c, b, oss = s3
    # S3 allows 2 KiB of user metadata.
    r = c.do("PUT", "/%s/k" % b, body=b"x", headers={"x-amz-meta-big": "v" * 3000})
    assert_error(r, 400, "MetadataTooLarge")
    assert_absent(oss, "k")
    r = c.do("PUT", "/%s/k" % b, body=b"x",
             headers={"x-amz-meta-m%d" % i: "v" * 200 for i in range(12)})
    assert_error(r, 400, "MetadataTooLarge")
    assert_absent(oss, "k")
    # Within the limit it is stored and read back through OSS.
    r = c.do("PUT", "/%s/k" % b, body=b"x", headers={"x-amz-meta-ok": "v" * 1500})
    assert r.status == 200, r
    assert oss.head_object("k").headers["x-oss-meta-ok"] == "v" * 1500


def test_oversize_header_section_is_refused(s3):
    c, b, oss = s3
    # Beyond S3's 8 KiB header section, though small enough for the HTTP server.
    r = c.do("PUT", "/%s/k" % b, body=b"x", headers={"x-amz-tagging": "a=" + "b" * 9000})
    assert_error(r, 400, "RequestHeaderSectionTooLarge")
    assert_absent(oss, "k")


def test_header_section_beyond_the_http_server(s3):
    c, b, oss = s3
    # Far beyond what any server reads as a header section.
    _, (headers, wire, target, method, hc) = c.request("PUT", "/%s/k" % b, body=b"x")
    headers["x-filler"] = "f" * (200 * 1024)
    r = send_raw(c.endpoint, method, target, headers, wire)
    if r is not None:
        assert 400 <= r.status < 500, r
    assert_absent(oss, "k")

    # Many headers.
    _, (headers, wire, target, method, hc) = c.request("PUT", "/%s/k" % b, body=b"x")
    for i in range(500):
        headers["x-filler-%d" % i] = "v"
    r = send_raw(c.endpoint, method, target, headers, wire)
    if r is not None:
        assert 400 <= r.status < 500, r
    assert_absent(oss, "k")


# -- unknown sub-resources: NotImplemented, never another operation ---------------

@pytest.mark.parametrize("method,query", [
    ("PUT", "foo"),
    ("PUT", "website"),
    ("PUT", "replication"),
    ("PUT", "symlink"),
    ("PUT", "uploadId"),
    ("PUT", "versioning"),
])
def test_unknown_sub_resource_on_an_object_write(s3, method, query):
    c, b, oss = s3
    q = [(query, "x" if query == "uploadId" else "")]
    r = c.do(method, "/%s/k" % b, q, body=b"must not be stored")
    assert_error(r, 501, "NotImplemented")
    assert_absent(oss, "k")


@pytest.mark.parametrize("query", ["foo", "website", "cors", "versioning", "acl", "replication",
                                   "lifecycle", "policy", "bucketInfo"])
def test_unknown_sub_resource_does_not_delete(s3, query):
    c, b, oss = s3
    oss.put_object("keep", b"still here")
    r = c.do("DELETE", "/%s/keep" % b, [(query, "")])
    assert_error(r, 501, "NotImplemented")
    assert oss.get_object("keep").read() == b"still here"


@pytest.mark.parametrize("query", ["foo", "acl", "versioning", "location", "bucketInfo",
                                   "uploads", "versions"])
def test_unknown_sub_resource_does_not_delete_the_bucket(ossify, query):
    keys = ossify.root1
    name = unique_bucket_name("s3keep")
    oss = oss2.Bucket(oss2.Auth(keys.id, keys.secret), ossify.hz, name)
    oss.create_bucket()
    try:
        r = S3Raw(ossify.hz, keys).do("DELETE", "/%s" % name, [(query, "")])
        assert_error(r, 501, "NotImplemented")
        oss.get_bucket_info()
    finally:
        delete_bucket_fully(oss)


@pytest.mark.parametrize("method,query", [
    ("GET", "website"),
    ("GET", "replication"),
    ("GET", "logging"),
    ("GET", "foo"),
    ("GET", "bucketInfo"),
    ("PUT", "website"),
    ("PUT", "replication"),
    ("PUT", "foo"),
])
def test_unknown_sub_resource_on_a_bucket(s3, method, query):
    c, b, oss = s3
    # Well-formed configurations: the refusal is for the sub-resource.
    body = {
        "website": b'<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                   b"<IndexDocument><Suffix>index.html</Suffix></IndexDocument>"
                   b"</WebsiteConfiguration>",
        "replication": b'<ReplicationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                       b"<Role>arn:aws:iam::1:role/r</Role><Rule><Status>Enabled</Status>"
                       b"<Destination><Bucket>arn:aws:s3:::other</Bucket></Destination></Rule>"
                       b"</ReplicationConfiguration>",
    }.get(query, b"") if method == "PUT" else b""
    r = c.do(method, "/%s" % b, [(query, "")], body=body)
    assert_error(r, 501, "NotImplemented")
    assert object_keys(oss) == []


@pytest.mark.parametrize("query", ["foo", "website", "bucketInfo", "objectMeta", "symlink"])
def test_unknown_sub_resource_on_an_object_read(s3, query):
    c, b, oss = s3
    oss.put_object("k", b"body")
    r = c.do("GET", "/%s/k" % b, [(query, "")])
    assert_error(r, 501, "NotImplemented")
    r = c.do("HEAD", "/%s/k" % b, [(query, "")])
    assert r.status == 501, r


def test_known_parameters_still_work(s3):
    """Valued parameters S3 does not use are ignored, as S3 does (cache busters)."""
    c, b, oss = s3
    oss.put_object("k", b"body")
    r = c.do("GET", "/%s/k" % b, [("x-id", "GetObject"), ("cache-buster", "123")])
    assert r.status == 200, r
    assert r.body == b"body"
    r = c.do("GET", "/%s" % b, [("list-type", "2"), ("encoding-type", "url"),
                                 ("fetch-owner", "true"), ("prefix", "")])
    assert r.status == 200, r
    r = c.do("GET", "/%s/k" % b, [("tagging", "")])
    assert r.status == 200, r
    r = c.do("GET", "/%s" % b, [("location", "")])
    assert r.status == 200, r


def object_keys(oss):
    return sorted(o.key for o in oss2.ObjectIterator(oss))
