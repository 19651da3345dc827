"""The S3 dialect beside OSS: which requests are S3, `s3_listen` addresses (anonymous
S3), virtual-hosted style, and x-oss-process on S3-signed GETs."""

import base64
import io
import re
import time
from urllib.parse import quote

import boto3
import botocore
import oss2
import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from conftest import HZ, ROOT1, ROOT2, make_config, make_image, unique_bucket_name

S3_LISTEN_RE = re.compile(r"ossify: region (\S+) S3 listening on http://(\S+:\d+)")


@pytest.fixture(scope="module")
def dual(tmp_path_factory):
    """A server whose first region also has an S3-only listener."""
    from conftest import OssifyServer

    workdir = tmp_path_factory.mktemp("s3-dialect")
    text = make_config(workdir / "data").replace(
        'listen = ["127.0.0.1:0"]', 'listen = ["127.0.0.1:0"]\ns3_listen = ["127.0.0.1:0"]', 1
    )
    server = OssifyServer(workdir, config_text=text, name="s3-dialect")
    server.start()
    s3_endpoint = None
    for _ in range(100):
        for line in list(server.output):
            m = S3_LISTEN_RE.search(line)
            if m:
                s3_endpoint = "http://" + m.group(2)
        if s3_endpoint:
            break
        time.sleep(0.05)
    assert s3_endpoint, server.output_text()
    try:
        yield server, s3_endpoint
    finally:
        server.stop()


def client(endpoint, keys=ROOT1, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=keys.id,
        aws_secret_access_key=keys.secret,
        region_name="us-east-1",
        config=Config(**config),
    )


def anonymous(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED),
    )


def signed_get(url, host=None, keys=ROOT1, region="us-east-1"):
    """A SigV4-signed GET of `url` (its query already encoded), sent to `host`'s
    address when given (virtual-hosted names do not resolve here)."""
    req = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(keys.id, keys.secret), "s3", region).add_auth(req)
    headers = dict(req.headers)
    if host:
        headers["Host"] = url.split("/")[2]
        url = url.replace(url.split("/")[2], host, 1)
    return requests.get(url, headers=headers)


def test_aws_signed_requests_are_s3_and_oss_signed_stay_oss(dual):
    server, _ = dual
    ep = server.endpoint(HZ)
    s3 = client(ep)
    name = unique_bucket_name("dia")
    s3.create_bucket(Bucket=name)
    # An S3 answer carries x-amz-request-id; an OSS one x-oss-request-id.
    r = s3.put_object(Bucket=name, Key="k", Body=b"v")
    assert "x-amz-request-id" in r["ResponseMetadata"]["HTTPHeaders"]
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ep, name)
    got = b.get_object("k")
    assert got.read() == b"v" and "x-oss-request-id" in got.headers
    # Anonymous requests on an ordinary listener are OSS: OSS's error document.
    r = requests.get("%s/%s/k" % (ep, name))
    assert r.status_code == 403
    assert "x-oss-request-id" in r.headers and "<HostId>" in r.text
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)


def test_s3_listen_serves_anonymous_s3_clients(dual):
    server, s3_ep = dual
    s3 = client(server.endpoint(HZ))
    name = unique_bucket_name("anon")
    s3.create_bucket(Bucket=name, ACL="public-read-write")
    anon = anonymous(s3_ep)
    # S3 objects are private unless their ACL says otherwise.
    anon.put_object(Bucket=name, Key="a.txt", Body=b"anonymous", ACL="public-read")
    assert anon.get_object(Bucket=name, Key="a.txt")["Body"].read() == b"anonymous"
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=name)["Contents"]] == ["a.txt"]
    # Signed clients work on the S3 listener as well.
    assert client(s3_ep).head_object(Bucket=name, Key="a.txt")["ContentLength"] == 9
    # A private bucket refuses anonymous S3 with S3's error document.
    private = unique_bucket_name("priv")
    s3.create_bucket(Bucket=private)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        anon.get_object(Bucket=private, Key="x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    r = requests.get("%s/%s/x" % (s3_ep, private))
    assert r.status_code == 403 and "x-amz-request-id" in r.headers
    assert "<Resource>/%s/x</Resource>" % private in r.text
    for b, keys in ((name, ["a.txt"]), (private, [])):
        for k in keys:
            s3.delete_object(Bucket=b, Key=k)
        s3.delete_bucket(Bucket=b)


def test_virtual_hosted_style(dual):
    server, _ = dual
    ep = server.endpoint(HZ)
    addr = ep.split("/")[2]
    port = addr.split(":")[1]
    s3 = client(ep)
    name = unique_bucket_name("vh")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/v.txt", Body=b"virtual")
    r = signed_get("http://%s.localhost:%s/dir/v.txt" % (name, port), host=addr)
    assert r.status_code == 200 and r.content == b"virtual"
    r = signed_get("http://%s.localhost:%s/?list-type=2" % (name, port), host=addr)
    assert r.status_code == 200 and "<Key>dir/v.txt</Key>" in r.text
    s3.delete_object(Bucket=name, Key="dir/v.txt")
    s3.delete_bucket(Bucket=name)


def test_signing_region_rules(dual):
    server, _ = dual
    ep = server.endpoint(HZ)
    for region in ("us-east-1", "cn-hangzhou", "oss-cn-hangzhou"):
        s3 = boto3.client("s3", endpoint_url=ep, aws_access_key_id=ROOT1.id,
                          aws_secret_access_key=ROOT1.secret, region_name=region)
        s3.list_buckets()
    wrong = boto3.client("s3", endpoint_url=ep, aws_access_key_id=ROOT1.id,
                         aws_secret_access_key=ROOT1.secret, region_name="eu-west-1",
                         config=Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        wrong.list_buckets()
    err = e.value.response["Error"]
    assert err["Code"] == "AuthorizationHeaderMalformed"
    assert "'eu-west-1' is wrong; expecting 'cn-hangzhou'" in err["Message"]
    # The second region does not take us-east-1 (only the first does).
    sh = boto3.client("s3", endpoint_url=server.endpoint("oss-cn-shanghai"),
                      aws_access_key_id=ROOT1.id, aws_secret_access_key=ROOT1.secret,
                      region_name="us-east-1", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sh.list_buckets()
    assert e.value.response["Error"]["Code"] == "AuthorizationHeaderMalformed"


def test_x_oss_process_on_s3_signed_get(dual):
    from PIL import Image

    server, _ = dual
    ep = server.endpoint(HZ)
    s3 = client(ep)
    name = unique_bucket_name("img")
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="p.jpg", Body=make_image(size=(400, 200)), ACL="public-read")
    s3.put_object(Bucket=name, Key="secret.png", Body=make_image("PNG", size=(20, 20)),
                  ACL="private")
    url = "%s/%s/p.jpg?x-oss-process=%s" % (ep, name, quote("image/resize,w_100/format,png", safe=""))
    r = signed_get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).size == (100, 50)
    # The processed ETag is derived (lower case, like every S3 ETag), not the source's.
    source_etag = s3.head_object(Bucket=name, Key="p.jpg")["ETag"]
    assert r.headers["etag"] != source_etag and r.headers["etag"] == r.headers["etag"].lower()
    # A watermark object is read as the requester: ROOT2 may read the public image but
    # not ROOT1's private one, so compositing it is refused.
    mark = base64.urlsafe_b64encode(b"secret.png").decode().rstrip("=")
    spec = quote("image/watermark,image_%s" % mark, safe="")
    r = signed_get("%s/%s/p.jpg?x-oss-process=%s" % (ep, name, spec), keys=ROOT2)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    # The owner may.
    assert signed_get("%s/%s/p.jpg?x-oss-process=%s" % (ep, name, spec)).status_code == 200
    # A bad spec gets the image engine's error.
    r = signed_get("%s/%s/p.jpg?x-oss-process=%s" % (ep, name, quote("image/resize,w_0", safe="")))
    assert r.status_code == 400 and "x-amz-request-id" in r.headers
    for k in ("p.jpg", "secret.png"):
        s3.delete_object(Bucket=name, Key=k)
    s3.delete_bucket(Bucket=name)


def test_cors_is_shared_between_dialects(dual):
    server, s3_ep = dual
    ep = server.endpoint(HZ)
    s3 = client(ep)
    name = unique_bucket_name("cors")
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="c.txt", Body=b"cors", ACL="public-read")
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["X-Amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 60}]})
    rules = s3.get_bucket_cors(Bucket=name)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.example.com"]
    # Read back through OSS: the same rules.
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ep, name)
    assert b.get_bucket_cors().rules[0].allowed_methods == ["GET", "PUT"]
    # An S3 request with Origin gets the headers (anonymous on the S3 listener), and a
    # preflight on the S3 listener is answered from the same rules.
    origin = {"Origin": "https://app.example.com"}
    r = requests.get("%s/%s/c.txt" % (s3_ep, name), headers=origin)
    assert r.status_code == 200 and "x-amz-request-id" in r.headers
    assert r.headers["access-control-allow-origin"] == "https://app.example.com"
    assert r.headers["access-control-expose-headers"] == "ETag"
    r = requests.options("%s/%s/c.txt" % (s3_ep, name), headers=dict(
        origin, **{"Access-Control-Request-Method": "PUT",
                   "Access-Control-Request-Headers": "x-amz-meta-a"}))
    assert r.status_code == 200 and r.headers["access-control-max-age"] == "60"
    r = requests.options("%s/%s/c.txt" % (s3_ep, name), headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 403
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
            "AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    assert e.value.response["Error"]["Code"] == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_cors(Bucket=name)
    assert e.value.response["Error"]["Code"] == "NoSuchCORSConfiguration"
    s3.delete_object(Bucket=name, Key="c.txt")
    s3.delete_bucket(Bucket=name)


def test_bucket_policy_in_s3_grammar_applies_to_both_dialects(dual):
    import json

    server, _ = dual
    ep = server.endpoint(HZ)
    s3 = client(ep)
    other = client(ep, keys=ROOT2)
    name = unique_bucket_name("pol")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="shared/a.txt", Body=b"shared")
    s3.put_object(Bucket=name, Key="private/b.txt", Body=b"private")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.get_object(Bucket=name, Key="shared/a.txt")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::%s:root" % ROOT2.account_id]},
        "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::%s/shared/*" % name]}]}
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"]) == policy
    assert other.get_object(Bucket=name, Key="shared/a.txt")["Body"].read() == b"shared"
    for key in ("private/b.txt",):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            other.get_object(Bucket=name, Key=key)
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        other.put_object(Bucket=name, Key="shared/new.txt", Body=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    # The same engine decides OSS requests.
    b2 = oss2.Bucket(oss2.Auth(ROOT2.id, ROOT2.secret), ep, name)
    assert b2.get_object("shared/a.txt").read() == b"shared"
    with pytest.raises(oss2.exceptions.AccessDenied):
        b2.get_object("private/b.txt")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.put_bucket_policy(Bucket=name, Policy='{"Version":"2012-10-17","Statement":"nope"}')
    assert e.value.response["Error"]["Code"] == "MalformedPolicy"
    s3.delete_bucket_policy(Bucket=name)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_bucket_policy(Bucket=name)
    assert e.value.response["Error"]["Code"] == "NoSuchBucketPolicy"
    for k in ("shared/a.txt", "private/b.txt"):
        s3.delete_object(Bucket=name, Key=k)
    s3.delete_bucket(Bucket=name)


def test_object_versions_and_attributes_of_an_unversioned_bucket(dual):
    server, _ = dual
    s3 = client(server.endpoint(HZ))
    name = unique_bucket_name("ver")
    s3.create_bucket(Bucket=name)
    for k in ("a", "b", "c"):
        s3.put_object(Bucket=name, Key=k, Body=k.encode() * 3)
    assert s3.get_bucket_versioning(Bucket=name).get("Status") is None
    page = s3.list_object_versions(Bucket=name, MaxKeys=2)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page["Versions"]] == [
        ("a", "null", True), ("b", "null", True)]
    assert page["IsTruncated"] and page["NextKeyMarker"] == "b"
    rest = s3.list_object_versions(Bucket=name, KeyMarker="b")
    assert [v["Key"] for v in rest["Versions"]] == ["c"] and not rest["IsTruncated"]
    # Multipart object: its parts; every object: ETag, size, checksum.
    up = s3.create_multipart_upload(Bucket=name, Key="mp", ChecksumAlgorithm="SHA256")
    parts = []
    for n, body in ((1, b"x" * (5 << 20)), (2, b"y" * 100)):
        r = s3.upload_part(Bucket=name, Key="mp", UploadId=up["UploadId"], PartNumber=n,
                           Body=body, ChecksumAlgorithm="SHA256")
        parts.append({"PartNumber": n, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    s3.complete_multipart_upload(Bucket=name, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": parts})
    attrs = s3.get_object_attributes(Bucket=name, Key="mp", ObjectAttributes=[
        "ETag", "ObjectSize", "ObjectParts", "Checksum", "StorageClass"])
    assert attrs["ObjectSize"] == (5 << 20) + 100
    assert attrs["ETag"].strip('"').endswith("-2") and attrs["StorageClass"] == "STANDARD"
    assert attrs["ObjectParts"]["TotalPartsCount"] == 2
    assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [5 << 20, 100]
    assert attrs["Checksum"]["ChecksumSHA256"].endswith("-2")
    small = s3.get_object_attributes(Bucket=name, Key="a", ObjectAttributes=["ObjectSize"])
    assert small["ObjectSize"] == 3 and "ETag" not in small
    for k in ("a", "b", "c", "mp"):
        s3.delete_object(Bucket=name, Key=k)
    s3.delete_bucket(Bucket=name)


def test_source_protection_holds_for_anonymous_s3(dual):
    from conftest import signed_request

    server, s3_ep = dual
    ep = server.endpoint(HZ)
    s3 = client(ep)
    name = unique_bucket_name("prot")
    s3.create_bucket(Bucket=name, ACL="public-read")
    s3.put_object(Bucket=name, Key="p.jpg", Body=make_image(size=(40, 20)), ACL="public-read")
    s3.put_object(Bucket=name, Key="doc.txt", Body=b"text", ACL="public-read")
    config = ("<BucketProcessConfiguration><CompliedHost>Both</CompliedHost>"
              "<SourceFileProtect>Enabled</SourceFileProtect>"
              "<SourceFileProtectSuffix>jpg</SourceFileProtectSuffix>"
              "<StyleDelimiters></StyleDelimiters>"
              "<OssDomainSupportAtProcess>Enabled</OssDomainSupportAtProcess>"
              "</BucketProcessConfiguration>")
    r = signed_request(oss2.Auth(ROOT1.id, ROOT1.secret), "PUT", ep, name,
                       params={"processConfiguration": ""}, data=config.encode())
    assert r.status_code == 200, r.text
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    # Anonymous S3 may read what is not protected, not the protected original, and the
    # same holds on the OSS path.
    assert requests.get("%s/%s/doc.txt" % (s3_ep, name)).status_code == 200
    r = requests.get("%s/%s/p.jpg" % (s3_ep, name))
    assert r.status_code == 403 and "x-amz-request-id" in r.headers
    r = requests.get("%s/%s/p.jpg?x-oss-process=%s" % (s3_ep, name, quote("image/resize,w_10", safe="")))
    assert r.status_code == 403
    assert requests.get("%s/%s/p.jpg" % (ep, name)).status_code == 403
    # The owner still reads it.
    assert s3.get_object(Bucket=name, Key="p.jpg")["ContentLength"] > 0
    for k in ("p.jpg", "doc.txt"):
        s3.delete_object(Bucket=name, Key=k)
    s3.delete_bucket(Bucket=name)
