"""The AWS CLI (from PyPI, the `awscli` of requirements.txt) against the S3 dialect:
`aws s3 mb/cp/sync/ls/rm/presign/rb` and some `aws s3api` calls."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import ROOT1, unique_bucket_name
from s3util import md5_hex, multipart_etag, s3_client

MiB = 1024 * 1024


def find_aws():
    here = Path(sys.executable).parent / "aws"
    if here.exists():
        return str(here)
    return shutil.which("aws")


AWS = find_aws()
pytestmark = pytest.mark.skipif(AWS is None, reason="the AWS CLI is not installed "
                                "(pip install -r tests/sdk/requirements.txt)")


@pytest.fixture
def aws(ossify, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "AWS_ACCESS_KEY_ID": ROOT1.id,
        "AWS_SECRET_ACCESS_KEY": ROOT1.secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_RETRY_MODE": "standard",
        "AWS_MAX_ATTEMPTS": "1",
    }

    def run(*args, check=True, endpoint=None, text=True):
        cmd = [AWS, "--endpoint-url", endpoint or ossify.hz] + [str(a) for a in args]
        p = subprocess.run(cmd, env=env, capture_output=True, text=text, timeout=300)
        if check:
            assert p.returncode == 0, "%s\nstdout: %s\nstderr: %s" % (cmd, p.stdout, p.stderr)
        return p

    run.config = home / "config"
    return run


@pytest.fixture
def s3(ossify):
    return s3_client(ossify.hz)


@pytest.fixture
def bucket(aws, s3):
    name = unique_bucket_name("cli")
    p = aws("s3", "mb", "s3://" + name)
    assert "make_bucket: %s" % name in p.stdout
    yield name
    aws("s3", "rb", "--force", "s3://" + name, check=False)


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_mb_ls_rb(aws, s3):
    name = unique_bucket_name("clirb")
    aws("s3", "mb", "s3://" + name)
    assert name in aws("s3", "ls").stdout
    again = aws("s3", "mb", "s3://" + name, check=False)
    assert again.returncode != 0 and "BucketAlreadyOwnedByYou" in again.stderr
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    p = aws("s3", "rb", "s3://" + name, check=False)
    assert p.returncode != 0 and "BucketNotEmpty" in p.stderr
    aws("s3", "rb", "--force", "s3://" + name)
    assert name not in aws("s3", "ls").stdout


def test_cp_up_and_down(aws, s3, bucket, tmp_path):
    small = os.urandom(1000)
    big = os.urandom(20 * MiB + 5)  # over the CLI's 8 MiB multipart threshold
    write(tmp_path / "small.bin", small)
    write(tmp_path / "big.bin", big)
    aws("s3", "cp", tmp_path / "small.bin", "s3://%s/dir/small.bin" % bucket,
        "--content-type", "text/x-cli", "--metadata", "who=cli", "--cache-control", "no-cache")
    aws("s3", "cp", tmp_path / "big.bin", "s3://%s/dir/big.bin" % bucket)
    h = s3.head_object(Bucket=bucket, Key="dir/small.bin")
    assert h["ETag"] == '"%s"' % md5_hex(small)
    assert h["ContentType"] == "text/x-cli" and h["Metadata"] == {"who": "cli"}
    assert h["CacheControl"] == "no-cache"
    h = s3.head_object(Bucket=bucket, Key="dir/big.bin")
    assert h["ContentLength"] == len(big)
    assert h["ETag"] == multipart_etag([big[i:i + 8 * MiB] for i in range(0, len(big), 8 * MiB)])
    aws("s3", "cp", "s3://%s/dir/big.bin" % bucket, tmp_path / "down" / "big.bin")
    assert (tmp_path / "down" / "big.bin").read_bytes() == big
    # to stdout
    out = aws("s3", "cp", "s3://%s/dir/small.bin" % bucket, "-", text=False)
    assert out.stdout == small
    # server-side copy and a recursive download
    aws("s3", "cp", "s3://%s/dir/small.bin" % bucket, "s3://%s/copy/small.bin" % bucket)
    assert s3.get_object(Bucket=bucket, Key="copy/small.bin")["Body"].read() == small
    aws("s3", "cp", "--recursive", "s3://%s/dir/" % bucket, tmp_path / "rec")
    assert (tmp_path / "rec" / "small.bin").read_bytes() == small
    assert (tmp_path / "rec" / "big.bin").read_bytes() == big


def test_cp_missing_source(aws, bucket, tmp_path):
    p = aws("s3", "cp", "s3://%s/none" % bucket, tmp_path / "x", check=False)
    assert p.returncode != 0
    assert "404" in p.stderr or "Not Found" in p.stderr


def test_sync_ls_rm(aws, s3, bucket, tmp_path):
    src = tmp_path / "src"
    files = {"a.txt": b"alpha", "sub/b.txt": b"beta" * 1000, "sub/deep/c d.txt": b"gamma",
             "ü.txt": b"unicode"}
    for rel, data in files.items():
        write(src / rel, data)
    p = aws("s3", "sync", src, "s3://%s/tree" % bucket)
    assert p.stdout.count("upload:") == 4
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted("tree/" + k for k in files)
    # Nothing changed: nothing to do.
    assert "upload:" not in aws("s3", "sync", src, "s3://%s/tree" % bucket).stdout
    (src / "a.txt").write_bytes(b"alpha changed, longer")
    (src / "sub" / "b.txt").unlink()
    p = aws("s3", "sync", "--delete", src, "s3://%s/tree" % bucket)
    assert "upload: " in p.stdout and "delete: s3://%s/tree/sub/b.txt" % bucket in p.stdout
    assert s3.get_object(Bucket=bucket, Key="tree/a.txt")["Body"].read() == b"alpha changed, longer"
    # and back down
    dst = tmp_path / "dst"
    aws("s3", "sync", "s3://%s/tree" % bucket, dst)
    assert (dst / "sub" / "deep" / "c d.txt").read_bytes() == b"gamma"
    assert (dst / "ü.txt").read_bytes() == b"unicode"
    assert not (dst / "sub" / "b.txt").exists()

    ls = aws("s3", "ls", "s3://%s/tree/" % bucket).stdout
    assert "PRE sub/" in ls and "a.txt" in ls and "c d.txt" not in ls
    rec = aws("s3", "ls", "--recursive", "s3://%s/tree/" % bucket).stdout
    assert "tree/sub/deep/c d.txt" in rec and "tree/ü.txt" in rec
    summary = aws("s3", "ls", "--recursive", "--summarize", "s3://%s/" % bucket).stdout
    assert "Total Objects: 3" in summary

    aws("s3", "rm", "s3://%s/tree/a.txt" % bucket)
    assert "tree/a.txt" not in aws("s3", "ls", "--recursive", "s3://%s/" % bucket).stdout
    p = aws("s3", "rm", "--recursive", "s3://%s/tree/" % bucket)
    assert p.stdout.count("delete:") == 2
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_presign(aws, s3, bucket):
    s3.put_object(Bucket=bucket, Key="p q/r", Body=b"presigned by the cli")
    url = aws("s3", "presign", "s3://%s/p q/r" % bucket, "--expires-in", "300").stdout.strip()
    r = requests.get(url)
    assert r.status_code == 200 and r.content == b"presigned by the cli"
    # AWS CLI v1 presigns with SigV2 unless told otherwise; SigV4 has the one-week limit.
    aws.config.write_text("[default]\ns3 =\n    signature_version = s3v4\n")
    url = aws("s3", "presign", "s3://%s/p q/r" % bucket, "--expires-in", "300").stdout.strip()
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert requests.get(url).content == b"presigned by the cli"
    url = aws("s3", "presign", "s3://%s/p q/r" % bucket, "--expires-in", "700000").stdout.strip()
    r = requests.get(url)
    assert r.status_code == 403 and b"AuthorizationQueryParametersError" in r.content


def test_s3api_calls(aws, s3, bucket, tmp_path):
    f = write(tmp_path / "body", b"s3api body")
    out = json.loads(aws("s3api", "put-object", "--bucket", bucket, "--key", "api/k",
                         "--body", f, "--metadata", "a=b", "--tagging", "t=1",
                         "--content-type", "text/api").stdout)
    assert out["ETag"] == '"%s"' % md5_hex(b"s3api body")
    head = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "api/k").stdout)
    assert head["ContentLength"] == 10 and head["Metadata"] == {"a": "b"}
    assert head["ContentType"] == "text/api"
    tags = json.loads(aws("s3api", "get-object-tagging", "--bucket", bucket, "--key",
                          "api/k").stdout)
    assert tags["TagSet"] == [{"Key": "t", "Value": "1"}]
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix",
                            "api/").stdout)
    assert [o["Key"] for o in listed["Contents"]] == ["api/k"]
    loc = json.loads(aws("s3api", "get-bucket-location", "--bucket", bucket).stdout)
    assert loc["LocationConstraint"] == "cn-hangzhou"
    aws("s3api", "put-object-acl", "--bucket", bucket, "--key", "api/k", "--acl", "public-read")
    acl = json.loads(aws("s3api", "get-object-acl", "--bucket", bucket, "--key", "api/k").stdout)
    assert sorted(g["Permission"] for g in acl["Grants"]) == ["FULL_CONTROL", "READ"]
    aws("s3api", "get-object", "--bucket", bucket, "--key", "api/k", "--range", "bytes=0-4",
        tmp_path / "range")
    assert (tmp_path / "range").read_bytes() == b"s3api"
    up = json.loads(aws("s3api", "create-multipart-upload", "--bucket", bucket, "--key",
                        "api/mp").stdout)
    part = json.loads(aws("s3api", "upload-part", "--bucket", bucket, "--key", "api/mp",
                          "--upload-id", up["UploadId"], "--part-number", "1",
                          "--body", f).stdout)
    parts = json.loads(aws("s3api", "list-parts", "--bucket", bucket, "--key", "api/mp",
                           "--upload-id", up["UploadId"]).stdout)
    assert [p["ETag"] for p in parts["Parts"]] == [part["ETag"]]
    done = {"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]}
    aws("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "api/mp",
        "--upload-id", up["UploadId"], "--multipart-upload", json.dumps(done))
    assert s3.get_object(Bucket=bucket, Key="api/mp")["Body"].read() == b"s3api body"
    err = aws("s3api", "head-object", "--bucket", bucket, "--key", "missing", check=False)
    assert err.returncode != 0 and "404" in err.stderr
    err = aws("s3api", "get-object", "--bucket", bucket, "--key", "missing", tmp_path / "m",
              check=False)
    assert err.returncode != 0 and "NoSuchKey" in err.stderr
    deleted = json.loads(aws("s3api", "delete-objects", "--bucket", bucket, "--delete",
                             json.dumps({"Objects": [{"Key": "api/k"}, {"Key": "api/mp"}]})).stdout)
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["api/k", "api/mp"]
