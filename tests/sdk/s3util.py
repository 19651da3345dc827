"""Helpers shared by the S3 suites (boto3, cross-dialect, AWS CLI)."""

import base64
import hashlib
import re
import struct
import time
import zlib
from pathlib import Path

import pytest

from conftest import HZ, ROOT1, SH, unique_bucket_name


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32_raw(data):
    return struct.pack(">I", zlib.crc32(data) & 0xFFFFFFFF)


def crc32c_raw(data):
    import crcmod.predefined
    return struct.pack(">I", crcmod.predefined.mkCrcFun("crc-32c")(data))


def crc64nvme_raw(data):
    import crcmod
    fun = crcmod.mkCrcFun(0x1AD93D23594C93659, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)
    return struct.pack(">Q", fun(data))


RAW = {
    "CRC32": crc32_raw,
    "CRC32C": crc32c_raw,
    "CRC64NVME": crc64nvme_raw,
    "SHA1": lambda d: hashlib.sha1(d).digest(),
    "SHA256": lambda d: hashlib.sha256(d).digest(),
}


def checksum(algorithm, data):
    """base64 of the checksum S3 sends in x-amz-checksum-<algorithm>."""
    return b64(RAW[algorithm](data))


def composite(algorithm, parts):
    """S3's composite multipart checksum: the checksum of the part checksums, -N."""
    joined = b"".join(RAW[algorithm](p) for p in parts)
    return "%s-%d" % (checksum(algorithm, joined), len(parts))


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def multipart_etag(parts):
    digest = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
    return '"%s-%d"' % (digest, len(parts))


def s3_client(endpoint, keys=ROOT1, region="us-east-1", signature_version="s3v4",
              addressing_style="path", anonymous=False, **config):
    import boto3
    import botocore
    from botocore.config import Config

    cfg = Config(signature_version=botocore.UNSIGNED if anonymous else signature_version,
                 s3={"addressing_style": addressing_style},
                 retries={"max_attempts": 1, "mode": "standard"}, **config)
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint, region_name=region,
                          aws_access_key_id=keys.id, aws_secret_access_key=keys.secret,
                          config=cfg)


def expect_error(code, status, fn, *args, **kwargs):
    """Call fn; it must raise a botocore ClientError with this code and status."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as excinfo:
        fn(*args, **kwargs)
    response = excinfo.value.response
    assert response["Error"]["Code"] == code, response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status, response
    return response


def empty_bucket(client, name):
    """Best-effort teardown: abort uploads, delete objects, delete the bucket."""
    try:
        for u in client.list_multipart_uploads(Bucket=name).get("Uploads", []):
            client.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=name)
    except Exception:
        pass


class BucketMaker(object):
    """Creates buckets through a boto3 client and removes them at the end."""

    def __init__(self, client):
        self.client = client
        self.created = []

    def __call__(self, tag="s3", client=None, **kwargs):
        client = client or self.client
        name = unique_bucket_name(tag)
        client.create_bucket(Bucket=name, **kwargs)
        self.created.append((client, name))
        return name

    def cleanup(self):
        for client, name in reversed(self.created):
            empty_bucket(client, name)


@pytest.fixture
def buckets(s3):
    """Buckets made through the module's `s3` client, removed after the test (import
    this fixture into an S3 test module)."""
    maker = BucketMaker(s3)
    yield maker
    maker.cleanup()


S3_LISTEN_RE = re.compile(r"ossify: region (\S+) S3 listening on http://(\S+):(\d+)\s*$")


class S3Server(object):
    """A server whose regions have an ordinary listener and an `s3_listen` one."""

    def __init__(self, workdir):
        from conftest import OssifyServer, make_config

        data = Path(workdir) / "data"
        data.mkdir(parents=True, exist_ok=True)
        text = make_config(data).replace(
            'listen = ["127.0.0.1:0"]', 'listen = ["127.0.0.1:0"]\ns3_listen = ["127.0.0.1:0"]')
        self.server = OssifyServer(workdir, data_dir=data, config_text=text, name="s3listen")
        self.s3_endpoints = {}

    def start(self):
        self.server.start()
        deadline = time.time() + 10
        while time.time() < deadline and len(self.s3_endpoints) < 2:
            for line in list(self.server.output):
                m = S3_LISTEN_RE.search(line)
                if m:
                    self.s3_endpoints[m.group(1)] = "http://%s:%s" % (m.group(2), m.group(3))
            time.sleep(0.02)
        assert len(self.s3_endpoints) == 2, self.server.output_text()
        return self

    def stop(self):
        self.server.stop()

    def endpoint(self, region=HZ):
        return self.server.endpoint(region)

    @property
    def hz(self):
        return self.server.endpoint(HZ)

    @property
    def sh(self):
        return self.server.endpoint(SH)

    @property
    def s3_hz(self):
        return self.s3_endpoints[HZ]

    @property
    def s3_sh(self):
        return self.s3_endpoints[SH]
