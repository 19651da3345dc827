"""S3 details that ceph/s3-tests (the suite S3 servers are compared with) checks,
driven through boto3 and raw requests against a real server: conditional writes,
retried completions, GetObjectAttributes, tag counts and order, the expected bucket
owner, SigV2 dates, URL-encoded listings, lifecycle echo, CORS wildcards, upload
initiators, us-east-1's re-create rule."""

import base64
import hashlib
import xml.etree.ElementTree as ET

import pytest
import requests

from conftest import ROOT1, ROOT2, OssifyServer
from s3util import buckets, S3Server, expect_error, md5_hex, s3_client

MiB = 1024 * 1024
S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def ossify(tmp_path_factory):
    server = S3Server(tmp_path_factory.mktemp("s3-conformance")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def s3(ossify):
    return s3_client(ossify.hz)


@pytest.fixture(scope="module")
def s3_root2(ossify):
    return s3_client(ossify.hz, keys=ROOT2)


@pytest.fixture
def bucket(buckets):
    return buckets("conf")


def raw_xml(client, method, **params):
    """The raw response body of a boto3 call, parsed."""
    captured = {}

    def keep(http_response, **_):
        captured["body"] = http_response.content

    event = "after-call.s3.%s" % method
    client.meta.events.register(event, keep)
    try:
        getattr(client, {"GetObjectAttributes": "get_object_attributes"}[method])(**params)
    finally:
        client.meta.events.unregister(event, keep)
    return ET.fromstring(captured["body"])


def test_conditional_put_object(s3, bucket):
    expect_error("NoSuchKey", 404, s3.put_object, Bucket=bucket, Key="k", Body=b"0", IfMatch="*")
    expect_error("NoSuchKey", 404, s3.put_object, Bucket=bucket, Key="k", Body=b"0",
                 IfMatch='"%s"' % md5_hex(b"0"))
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"one", IfNoneMatch="*")["ETag"]
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 IfNoneMatch="*")
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 IfNoneMatch=etag)
    expect_error("PreconditionFailed", 412, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 IfMatch='"0123456789abcdef0123456789abcdef"')
    # Refused writes left the first body.
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    etag2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two", IfMatch=etag)["ETag"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"three", IfNoneMatch=etag)
    s3.put_object(Bucket=bucket, Key="k", Body=b"four", IfMatch="*")
    assert etag2 != etag
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"four"


def test_conditional_complete_multipart(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1,
                          Body=b"p" * 10)["ETag"]
    parts = {"Parts": [{"ETag": etag, "PartNumber": 1}]}
    expect_error("PreconditionFailed", 412, s3.complete_multipart_upload, Bucket=bucket,
                 Key="k", UploadId=upload, MultipartUpload=parts, IfNoneMatch="*")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=upload,
                                        MultipartUpload=parts,
                                        IfMatch='"%s"' % md5_hex(b"old"))
    assert s3.get_object(Bucket=bucket, Key="k")["ETag"] == done["ETag"]


def test_retried_completion_answers_the_object(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=n,
                            Body=bytes([n]) * (5 * MiB if n == 1 else 10))["ETag"]
             for n in (1, 2)]
    parts = {"Parts": [{"ETag": e, "PartNumber": n} for n, e in zip((1, 2), etags)]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload,
                                         MultipartUpload=parts)
    again = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload,
                                         MultipartUpload=parts)
    assert again["ETag"] == first["ETag"]
    # Other parts than those the object was made of: the upload is gone.
    expect_error("NoSuchUpload", 404, s3.complete_multipart_upload, Bucket=bucket, Key="m",
                 UploadId=upload, MultipartUpload={"Parts": parts["Parts"][:1]})
    assert len(s3.list_objects_v2(Bucket=bucket)["Contents"]) == 1


def test_object_attributes_wire(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    put = s3.put_object(Bucket=bucket, Key="a", Body=b"foo")
    want = ["ETag", "ObjectSize", "StorageClass", "Checksum", "ObjectParts"]
    got = s3.get_object_attributes(Bucket=bucket, Key="a", ObjectAttributes=want)
    assert got["ETag"] == md5_hex(b"foo")  # no quotes, as S3 writes it here
    assert got["VersionId"] == put["VersionId"]
    assert got["ObjectSize"] == 3 and got["StorageClass"] == "STANDARD"
    xml = raw_xml(s3, "GetObjectAttributes", Bucket=bucket, Key="a", ObjectAttributes=want)
    assert xml.find(S3NS + "ETag").text == md5_hex(b"foo")


def test_object_attributes_part_checksums(s3, bucket):
    upload = s3.create_multipart_upload(Bucket=bucket, Key="m",
                                        ChecksumAlgorithm="SHA256")["UploadId"]
    bodies = [b"a" * (5 * MiB), b"b" * 100]
    sums = [base64.b64encode(hashlib.sha256(b).digest()).decode() for b in bodies]
    parts = []
    for n, (body, sha) in enumerate(zip(bodies, sums), 1):
        r = s3.upload_part(Bucket=bucket, Key="m", UploadId=upload, PartNumber=n, Body=body,
                           ChecksumAlgorithm="SHA256", ChecksumSHA256=sha)
        parts.append({"ETag": r["ETag"], "PartNumber": n, "ChecksumSHA256": sha})
    done = s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload,
                                        MultipartUpload={"Parts": parts})
    got = s3.get_object_attributes(Bucket=bucket, Key="m", MaxParts=1, PartNumberMarker=1,
                                   ObjectAttributes=["ETag", "Checksum", "ObjectParts"])
    assert got["ETag"] == done["ETag"].strip('"')
    assert got["Checksum"]["ChecksumSHA256"] == done["ChecksumSHA256"]
    op = got["ObjectParts"]
    assert op["TotalPartsCount"] == 2 and op["PartNumberMarker"] == 1
    assert op["Parts"] == [{"PartNumber": 2, "Size": 100, "ChecksumSHA256": sums[1]}]
    # Without a checksum algorithm the parts carry none.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    e = s3.upload_part(Bucket=bucket, Key="plain", UploadId=upload, PartNumber=1,
                       Body=b"x")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=upload,
                                 MultipartUpload={"Parts": [{"ETag": e, "PartNumber": 1}]})
    got = s3.get_object_attributes(Bucket=bucket, Key="plain", ObjectAttributes=["ObjectParts"])
    assert got["ObjectParts"]["Parts"] == [{"PartNumber": 1, "Size": 1}]


def test_tag_count_on_head_and_sorted_tags(s3, bucket):
    s3.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="foo=bar&bar=&abc=1")
    head = s3.head_object(Bucket=bucket, Key="t")
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "3"
    tags = s3.get_object_tagging(Bucket=bucket, Key="t")["TagSet"]
    assert [t["Key"] for t in tags] == ["abc", "bar", "foo"]
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="untagged")
    assert "x-amz-tagging-count" not in head["ResponseMetadata"]["HTTPHeaders"]


def test_expected_bucket_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.list_objects(Bucket=bucket, ExpectedBucketOwner=ROOT1.account_id)
    expect_error("AccessDenied", 403, s3.list_objects, Bucket=bucket,
                 ExpectedBucketOwner=ROOT2.account_id)
    expect_error("AccessDenied", 403, s3.put_object, Bucket=bucket, Key="k", Body=b"y",
                 ExpectedBucketOwner=ROOT2.account_id)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@pytest.mark.parametrize("date,code", [
    ("Bad Date", "AccessDenied"),
    ("", "AccessDenied"),
    ("Tue, 07 Jul 1950 21:53:04 GMT", "AccessDenied"),
    ("Tue, 07 Jul 2010 21:53:04 GMT", "RequestTimeTooSkewed"),
    ("Tue, 07 Jul 9999 21:53:04 GMT", "RequestTimeTooSkewed"),
])
def test_sigv2_x_amz_date(ossify, s3, bucket, date, code):
    v2 = s3_client(ossify.hz, signature_version="s3")
    v2.meta.events.register("before-call.s3.PutObject",
                            lambda params, **_: params["headers"].update({"x-amz-date": date}))
    expect_error(code, 403, v2.put_object, Bucket=bucket, Key="v2", Body=b"x")
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_url_encoding_keeps_slashes(s3, bucket):
    for key in ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"]:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    for list_call in (s3.list_objects, s3.list_objects_v2):
        r = list_call(Bucket=bucket, Delimiter="/", EncodingType="url")
        assert r["Delimiter"] == "/"
        assert [o["Key"] for o in r["Contents"]] == ["asdf%2Bb"]
        assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["foo%2B1/", "foo/", "quux%20ab/"]
    # botocore decodes ListObjects' keys but not its Prefix, which S3 sends as given.
    assert s3.list_objects(Bucket=bucket, Prefix="foo/")["Prefix"] == "foo/"
    assert s3.list_objects(Bucket=bucket, Prefix="\n")["Prefix"] == "\n"


def test_lifecycle_rule_read_back_in_its_form(s3, bucket):
    rules = [
        {"ID": "legacy", "Prefix": "logs/", "Status": "Enabled", "Expiration": {"Days": 31}},
        {"ID": "filtered", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
         "Expiration": {"Days": 2}},
    ]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": rules})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["Prefix"] == "logs/" and "Filter" not in got[0]
    assert got[1]["Filter"] == {"Prefix": "tmp/"} and "Prefix" not in got[1]


def test_cors_wildcard_origin_answers_star(ossify, s3, bucket):
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]})
    r = requests.get("%s/%s" % (ossify.s3_hz, bucket), headers={"Origin": "example.origin"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET"
    # OSS echoes the origin for the same rule.
    r = requests.get("%s/%s/" % (ossify.hz, bucket), headers={"Origin": "example.origin"})
    assert r.headers["access-control-allow-origin"] == "example.origin"


def test_upload_initiator_is_the_uploader(s3, s3_root2, bucket):
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    one = s3.create_multipart_upload(Bucket=bucket, Key="a")["UploadId"]
    two = s3_root2.create_multipart_upload(Bucket=bucket, Key="b")["UploadId"]
    uploads = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    by_id = {u["UploadId"]: u for u in uploads}
    for upload_id, account in ((one, ROOT1.account_id), (two, ROOT2.account_id)):
        assert by_id[upload_id]["Initiator"]["ID"] == account
        assert by_id[upload_id]["Owner"]["ID"] == account
    parts = s3.list_parts(Bucket=bucket, Key="b", UploadId=two)
    assert parts["Initiator"]["ID"] == ROOT2.account_id


def test_empty_content_md5_is_invalid(s3, bucket):
    def empty_md5(request, **_):
        request.headers["Content-MD5"] = ""

    s3.meta.events.register_first("before-sign.s3.PutObject", empty_md5)
    try:
        expect_error("InvalidDigest", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", empty_md5)
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)


def test_us_east_1_recreate_is_a_no_op(tmp_path):
    server = OssifyServer(tmp_path, regions=("oss-us-east-1",), name="useast1").start()
    try:
        s3 = s3_client(server.endpoint("oss-us-east-1"))
        s3.create_bucket(Bucket="again-east")
        s3.put_object(Bucket="again-east", Key="k", Body=b"kept")
        s3.create_bucket(Bucket="again-east")
        assert s3.get_object(Bucket="again-east", Key="k")["Body"].read() == b"kept"
        expect_error("BucketAlreadyExists", 409, s3.create_bucket, Bucket="again-east",
                     ACL="public-read")
        assert s3.get_bucket_acl(Bucket="again-east")["Grants"][0]["Permission"] == \
            "FULL_CONTROL"
        other = s3_client(server.endpoint("oss-us-east-1"), keys=ROOT2)
        expect_error("BucketAlreadyExists", 409, other.create_bucket, Bucket="again-east")
    finally:
        server.stop()


def policy(*statements):
    import json
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_policy_condition_keys(s3, s3_root2, buckets):
    src, dst = buckets("pol-src"), buckets("pol-dst")
    s3.put_object(Bucket=src, Key="public/a", Body=b"pa", Tagging="security=public")
    s3.put_object(Bucket=src, Key="private/a", Body=b"xa", Tagging="security=private")
    s3.put_bucket_policy(Bucket=src, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:GetObjectTagging"],
        "Resource": "arn:aws:s3:::%s/*" % src,
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}}}))
    assert s3_root2.get_object(Bucket=src, Key="public/a")["Body"].read() == b"pa"
    assert s3_root2.get_object_tagging(Bucket=src, Key="public/a")["TagSet"] == [
        {"Key": "security", "Value": "public"}]
    expect_error("AccessDenied", 403, s3_root2.get_object, Bucket=src, Key="private/a")
    s3.put_bucket_policy(Bucket=src, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % src}))
    s3.put_bucket_policy(Bucket=dst, Policy=policy({
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::%s/*" % dst,
        "Condition": {"StringLike": {"s3:x-amz-copy-source": "%s/public/*" % src},
                      "StringEqualsIfExists": {"s3:x-amz-acl": "private"}}}))
    s3_root2.copy_object(Bucket=dst, Key="copied", CopySource={"Bucket": src, "Key": "public/a"})
    expect_error("AccessDenied", 403, s3_root2.copy_object, Bucket=dst, Key="copied2",
                 CopySource={"Bucket": src, "Key": "private/a"})
    expect_error("AccessDenied", 403, s3_root2.copy_object, Bucket=dst, Key="copied3",
                 CopySource={"Bucket": src, "Key": "public/a"}, ACL="public-read")
    expect_error("AccessDenied", 403, s3_root2.put_object, Bucket=dst, Key="plain", Body=b"x")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=dst)["Contents"]]
    assert keys == ["copied"]


def test_policy_request_tags_and_not_principal(s3, s3_root2, bucket):
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "a"}}},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::%s:root" % ROOT1.account_id},
         "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    s3_root2.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="team=a")
    expect_error("AccessDenied", 403, s3_root2.put_object, Bucket=bucket, Key="k2", Body=b"x",
                 Tagging="team=b")
    expect_error("AccessDenied", 403, s3_root2.delete_object, Bucket=bucket, Key="k")
    s3.delete_object(Bucket=bucket, Key="k")
    expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::%s:root" % ROOT2.account_id},
         "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%s" % bucket}))


def test_browser_post_on_the_s3_listener(ossify, s3, bucket):
    # boto3's presigned POST (SigV4 policy), sent as a browser would, to an `s3_listen`
    # address: s3s checks the signature, the expiration and the policy's conditions.
    s3_listener = s3_client(ossify.s3_hz)
    post = s3_listener.generate_presigned_post(
        bucket, "forms/note.txt", Fields={"Content-Type": "text/plain"},
        Conditions=[["starts-with", "$key", "forms/"], {"Content-Type": "text/plain"},
                    ["content-length-range", 1, 100]], ExpiresIn=300)
    files = {"file": ("note.txt", b"posted body")}
    r = requests.post(post["url"], data=post["fields"], files=files)
    assert r.status_code == 204, r.text
    got = s3.get_object(Bucket=bucket, Key="forms/note.txt")
    assert got["Body"].read() == b"posted body" and got["ContentType"] == "text/plain"
    # Too large for the policy: refused, nothing stored.
    r = requests.post(post["url"], data=post["fields"], files={"file": ("big.txt", b"x" * 200)})
    assert r.status_code == 400 and b"EntityTooLarge" in r.content, r.text
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["forms/note.txt"]
