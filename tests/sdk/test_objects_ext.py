"""oss2 (V1 and V4 signatures) against ossify: multipart, resumable transfer, append,
copy, batch delete, object ACL, symlinks and tagging (spec oss-api.md §5.7-§5.12, §7)."""

import base64
import hashlib
import os
import re
import time
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import oss2
import pytest
from oss2 import exceptions as oe
from oss2.models import PartInfo, Tagging, TaggingRule

from conftest import Oss2Ctx, assert_request_id, crc64, error_of, md5_upper, unique_bucket_name

KB = 1024
MB = 1024 * 1024
MIN_PART = 100 * KB  # smallest allowed non-last part (102400 bytes)
MULTIPART_ETAG_RE = re.compile(r"^[0-9A-F]{32}-(\d+)$")


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def file_md5(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(4 * MB), b""):
            h.update(chunk)
    return h.hexdigest()


Ctx = Oss2Ctx


@pytest.fixture(params=["v1", "v4"])
def ctx(request, ossify):
    c = Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture
def bucket(ctx, request):
    return ctx.new_bucket(request.node.name.split("[")[0].replace("test_", "")[:30])


def upload_parts(bucket, key, upload_id, bodies, start=1):
    """Upload bodies as consecutive parts; return PartInfo list with CRCs (so that oss2's
    CRC check on Complete is active)."""
    parts = []
    for i, body in enumerate(bodies):
        n = start + i
        r = bucket.upload_part(key, upload_id, n, body)
        assert r.status == 200
        assert r.etag == md5_upper(body)
        # the part CRC must be returned, otherwise oss2 silently skips its checks
        assert r.crc == crc64(body), r.headers
        parts.append(PartInfo(n, r.etag, size=len(body), part_crc=r.crc))
    return parts


def parts_of(bucket, key, upload_id):
    """All parts of an upload, listed the way oss2's own iterator does (marker '0')."""
    return list(oss2.PartIterator(bucket, key, upload_id))


def raw_complete_body(parts):
    xs = ["<CompleteMultipartUpload>"]
    for n, etag in parts:
        xs.append("<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>" % (n, etag))
    xs.append("</CompleteMultipartUpload>")
    return "".join(xs).encode()


# ---------------------------------------------------------------------------
# multipart
# ---------------------------------------------------------------------------
def test_multipart_basic(ctx, bucket, tmp_path):
    assert bucket.enable_crc is True
    key = "mp/object.bin"
    bodies = [os.urandom(MIN_PART), os.urandom(150 * KB), os.urandom(1000)]
    data = b"".join(bodies)
    init = bucket.init_multipart_upload(key, headers={
        "Content-Type": "application/x-ossify", "x-oss-meta-origin": "multipart",
        "Cache-Control": "no-store"})
    assert init.status == 200
    assert_request_id(init.headers)
    assert init.upload_id
    parts = upload_parts(bucket, key, init.upload_id, bodies)

    r = bucket.complete_multipart_upload(key, init.upload_id, parts)  # CRC checked by oss2
    assert r.status == 200
    assert_request_id(r.headers)
    assert r.crc == crc64(data)
    m = MULTIPART_ETAG_RE.match(r.etag)
    assert m, r.etag
    assert m.group(1) == "3"
    assert r.headers["ETag"] == '"%s"' % r.etag

    h = bucket.head_object(key)
    assert h.object_type == "Multipart"
    assert h.etag == r.etag
    assert h.content_length == len(data)
    assert h.content_type == "application/x-ossify"
    assert h.headers["x-oss-meta-origin"] == "multipart"
    assert h.headers["Cache-Control"] == "no-store"
    assert h.server_crc == crc64(data)

    g = bucket.get_object(key)
    assert g.read() == data
    assert g.headers["x-oss-object-type"] == "Multipart"
    p = tmp_path / "mp.bin"
    bucket.get_object_to_file(key, str(p))  # oss2 compares whole-object CRC
    assert p.read_bytes() == data
    # ranged read across the part boundary
    g = bucket.get_object(key, byte_range=(MIN_PART - 10, MIN_PART + 9))
    assert g.status == 206
    assert g.read() == data[MIN_PART - 10:MIN_PART + 10]

    # the upload is gone after Complete
    for call in (lambda: bucket.complete_multipart_upload(key, init.upload_id, parts),
                 lambda: parts_of(bucket, key, init.upload_id),
                 lambda: bucket.upload_part(key, init.upload_id, 4, b"x"),
                 lambda: bucket.abort_multipart_upload(key, init.upload_id)):
        with pytest.raises(oe.NoSuchUpload) as ei:
            call()
        assert ei.value.status == 404
    assert bucket.get_object(key).read() == data


def test_multipart_single_small_part_and_reupload(ctx, bucket):
    key = "one-part"
    up = bucket.init_multipart_upload(key).upload_id
    upload_parts(bucket, key, up, [b"first version"])
    # re-uploading a part number replaces it
    parts = upload_parts(bucket, key, up, [b"second version of part one"])
    lp = parts_of(bucket, key, up)
    assert [(p.part_number, p.etag, p.size) for p in lp] == \
        [(1, md5_upper(b"second version of part one"), len(b"second version of part one"))]
    r = bucket.complete_multipart_upload(key, up, parts)
    assert MULTIPART_ETAG_RE.match(r.etag).group(1) == "1"
    assert bucket.get_object(key).read() == b"second version of part one"


def test_multipart_part_number_gaps(ctx, bucket):
    key = "gaps"
    up = bucket.init_multipart_upload(key).upload_id
    bodies = {1: os.urandom(MIN_PART), 3: os.urandom(MIN_PART + 1), 7: b"end"}
    parts = []
    for n, body in bodies.items():
        parts += upload_parts(bucket, key, up, [body], start=n)
    r = bucket.complete_multipart_upload(key, up, parts)
    assert MULTIPART_ETAG_RE.match(r.etag).group(1) == "3"
    assert bucket.get_object(key).read() == bodies[1] + bodies[3] + bodies[7]


def test_multipart_complete_errors(ctx, bucket):
    key = "errs"
    up = bucket.init_multipart_upload(key).upload_id
    bodies = [os.urandom(MIN_PART), os.urandom(MIN_PART), b"tail"]
    parts = upload_parts(bucket, key, up, bodies)

    # wrong ETag
    bad = [PartInfo(1, "0" * 32), parts[1], parts[2]]
    with pytest.raises(oe.ServerError) as ei:
        bucket.complete_multipart_upload(key, up, bad)
    assert (ei.value.status, ei.value.code) == (400, "InvalidPart")

    # a part that was never uploaded
    with pytest.raises(oe.ServerError) as ei:
        bucket.complete_multipart_upload(key, up, parts + [PartInfo(5, parts[0].etag)])
    assert (ei.value.status, ei.value.code) == (400, "InvalidPart")

    # descending order (oss2 sorts, so send it raw)
    r = ctx.raw("POST", bucket.bucket_name, key, params={"uploadId": up},
                data=raw_complete_body([(2, parts[1].etag), (1, parts[0].etag)]))
    assert r.status_code == 400, r.text
    assert error_of(r)["Code"] == "InvalidPartOrder"
    assert_request_id(r.headers)

    # malformed body
    r = ctx.raw("POST", bucket.bucket_name, key, params={"uploadId": up}, data=b"<Complete")
    assert r.status_code == 400, r.text
    assert error_of(r)["Code"] == "MalformedXML"

    # none of the failures consumed the upload or created the object
    assert bucket.object_exists(key) is False
    assert len(parts_of(bucket, key, up)) == 3
    r = bucket.complete_multipart_upload(key, up, parts)
    assert bucket.get_object(key).read() == b"".join(bodies)


def test_multipart_entity_too_small(ctx, bucket):
    key = "small"
    up = bucket.init_multipart_upload(key).upload_id
    # the size rule is checked only at Complete: UploadPart accepts small parts
    parts = upload_parts(bucket, key, up, [os.urandom(MIN_PART - 1), os.urandom(10)])
    with pytest.raises(oe.ServerError) as ei:
        bucket.complete_multipart_upload(key, up, parts)
    assert (ei.value.status, ei.value.code) == (400, "EntityTooSmall")
    assert bucket.object_exists(key) is False
    # the upload is still usable: replace part 1 by a big enough one
    first = upload_parts(bucket, key, up, [os.urandom(MIN_PART)])
    bucket.complete_multipart_upload(key, up, first + parts[1:])
    assert bucket.head_object(key).content_length == MIN_PART + 10


def test_multipart_abort(ctx, bucket):
    key = "aborted"
    up = bucket.init_multipart_upload(key).upload_id
    upload_parts(bucket, key, up, [os.urandom(1000), os.urandom(1000)])
    other = bucket.init_multipart_upload(key).upload_id  # second upload for the same key
    r = bucket.abort_multipart_upload(key, up)
    assert r.status == 204
    assert_request_id(r.headers)
    for call in (lambda: parts_of(bucket, key, up),
                 lambda: bucket.upload_part(key, up, 1, b"x"),
                 lambda: bucket.complete_multipart_upload(key, up, [PartInfo(1, md5_upper(b"x"))]),
                 lambda: bucket.abort_multipart_upload(key, up)):
        with pytest.raises(oe.NoSuchUpload) as ei:
            call()
        assert ei.value.status == 404
        assert ei.value.code == "NoSuchUpload"
    assert bucket.object_exists(key) is False
    # the other upload of the same key is unaffected
    assert [u.upload_id for u in bucket.list_multipart_uploads(prefix=key).upload_list] == [other]
    assert parts_of(bucket, key, other) == []
    # unknown upload ids
    with pytest.raises(oe.NoSuchUpload):
        bucket.abort_multipart_upload(key, "0123456789ABCDEF0123456789ABCDEF")
    with pytest.raises(oe.NoSuchUpload):
        bucket.upload_part(key, "0123456789ABCDEF0123456789ABCDEF", 1, b"x")
    # upload id used with a different key
    with pytest.raises(oe.NoSuchUpload):
        bucket.upload_part("other-key", other, 1, b"x")


@pytest.mark.parametrize("number", [0, 10001, -1])
def test_part_number_out_of_range(ctx, bucket, number):
    key = "pn"
    up = bucket.init_multipart_upload(key).upload_id
    r = ctx.raw("PUT", bucket.bucket_name, key,
                params={"uploadId": up, "partNumber": str(number)}, data=b"data")
    assert r.status_code == 400, r.text
    err = error_of(r)
    assert err["Code"] == "InvalidArgument"
    assert err.get("ArgumentName", "").lower() == "partnumber", err
    assert err.get("ArgumentValue") == str(number), err
    with pytest.raises(oe.ServerError) as ei:
        bucket.upload_part(key, up, number, b"data")
    assert (ei.value.status, ei.value.code) == (400, "InvalidArgument")
    assert parts_of(bucket, key, up) == []


def test_part_number_limits_accepted(ctx, bucket):
    key = "pn-ok"
    up = bucket.init_multipart_upload(key).upload_id
    p1 = upload_parts(bucket, key, up, [os.urandom(MIN_PART)], start=1)
    p2 = upload_parts(bucket, key, up, [b"last"], start=10000)
    assert [p.part_number for p in parts_of(bucket, key, up)] == [1, 10000]
    bucket.complete_multipart_upload(key, up, p1 + p2)
    assert bucket.get_object(key).read()[-4:] == b"last"


def test_list_parts_default_marker(ctx, bucket):
    """oss2's list_parts() sends an empty part-number-marker by default."""
    key = "lp/default"
    up = bucket.init_multipart_upload(key).upload_id
    upload_parts(bucket, key, up, [b"one", b"two", b"three"])
    r = bucket.list_parts(key, up)
    assert r.status == 200
    assert [p.part_number for p in r.parts] == [1, 2, 3]
    assert r.is_truncated is False
    r = bucket.list_parts(key, up, max_parts=2)
    assert [p.part_number for p in r.parts] == [1, 2]
    assert r.is_truncated is True
    # an empty marker on an unknown upload is still NoSuchUpload
    bucket.abort_multipart_upload(key, up)
    with pytest.raises(oe.NoSuchUpload):
        bucket.list_parts(key, up)


def test_list_parts_paging(ctx, bucket):
    key = "lp/parts"
    up = bucket.init_multipart_upload(key).upload_id
    bodies = [os.urandom(100 + i) for i in range(5)]
    upload_parts(bucket, key, up, bodies)

    r = bucket.list_parts(key, up, marker="0")
    assert r.status == 200
    assert r.is_truncated is False
    assert [p.part_number for p in r.parts] == [1, 2, 3, 4, 5]
    for p, body in zip(r.parts, bodies):
        assert p.etag == md5_upper(body)
        assert p.size == len(body)
        assert abs(p.last_modified - time.time()) < 600

    r = bucket.list_parts(key, up, marker="0", max_parts=2)
    assert [p.part_number for p in r.parts] == [1, 2]
    assert r.is_truncated is True
    assert str(r.next_marker) == "2"
    r = bucket.list_parts(key, up, marker=r.next_marker, max_parts=2)
    assert [p.part_number for p in r.parts] == [3, 4]
    assert r.is_truncated is True
    r = bucket.list_parts(key, up, marker=r.next_marker, max_parts=2)
    assert [p.part_number for p in r.parts] == [5]
    assert r.is_truncated is False
    r = bucket.list_parts(key, up, marker="5")
    assert r.parts == []
    assert r.is_truncated is False

    it = list(oss2.PartIterator(bucket, key, up, max_parts=2))
    assert [(p.part_number, p.etag, p.size) for p in it] == \
        [(i + 1, md5_upper(b), len(b)) for i, b in enumerate(bodies)]

    # raw XML shape
    x = ctx.raw("GET", bucket.bucket_name, key, params={"uploadId": up, "max-parts": "2"})
    assert x.status_code == 200, x.text
    root = ET.fromstring(x.content)
    assert root.tag == "ListPartsResult"
    assert root.findtext("UploadId") == up
    assert root.findtext("Bucket") == bucket.bucket_name
    assert root.findtext("Key") == key
    assert root.findtext("MaxParts") == "2"
    assert root.findtext("IsTruncated") == "true"
    assert root.findtext("NextPartNumberMarker") == "2"
    for part in root.findall("Part"):
        assert part.findtext("LastModified").endswith(".000Z")
        assert part.findtext("ETag").startswith('"')
        crc = part.findtext("HashCrc64ecma")
        if crc is not None:
            n = int(part.findtext("PartNumber"))
            assert int(crc) == crc64(bodies[n - 1])


def _uploads(result):
    return [(u.key, u.upload_id) for u in result.upload_list]


def test_list_multipart_uploads_order(ctx, bucket):
    """Spec §4.13: ordered by key, then by upload initiation."""
    keys = ["k/b", "k/a", "k/b", "k/b", "k/a", "k/b"]
    ups = []
    for k in keys:
        ups.append((k, bucket.init_multipart_upload(k).upload_id))
        time.sleep(0.002)
    expected = sorted(ups, key=lambda t: t[0])  # stable sort keeps initiation order per key
    assert _uploads(bucket.list_multipart_uploads()) == expected


def test_list_multipart_uploads(ctx, bucket):
    keys = ["a/1", "a/2", "a/2", "a/2", "b/1", "c"]
    ups = [(k, bucket.init_multipart_upload(k).upload_id) for k in keys]

    r = bucket.list_multipart_uploads()
    assert r.status == 200
    assert r.is_truncated is False
    full = _uploads(r)
    assert sorted(full) == sorted(ups)
    assert [k for k, _ in full] == sorted(keys)
    for u in r.upload_list:
        assert abs(u.initiation_date - time.time()) < 600

    assert _uploads(bucket.list_multipart_uploads(prefix="a/")) == full[:4]
    assert _uploads(bucket.list_multipart_uploads(prefix="a/2")) == full[1:4]
    # key-marker alone: keys after the marker
    assert _uploads(bucket.list_multipart_uploads(key_marker="a/1")) == full[1:]
    assert _uploads(bucket.list_multipart_uploads(key_marker="a/2")) == full[4:]
    # key-marker + upload-id-marker: the rest of that key, then later keys
    assert _uploads(bucket.list_multipart_uploads(key_marker="a/2",
                                                  upload_id_marker=full[1][1])) == full[2:]
    assert _uploads(bucket.list_multipart_uploads(key_marker="a/2",
                                                  upload_id_marker=full[3][1])) == full[4:]

    r = bucket.list_multipart_uploads(delimiter="/")
    assert r.prefix_list == ["a/", "b/"]
    assert _uploads(r) == full[5:]

    # manual paging with max_uploads
    for page_size in (1, 2, 4):
        seen, km, im = [], "", ""
        for _ in range(10):
            r = bucket.list_multipart_uploads(key_marker=km, upload_id_marker=im,
                                              max_uploads=page_size)
            page = _uploads(r)
            assert len(page) <= page_size
            seen += page
            if not r.is_truncated:
                break
            assert (r.next_key_marker, r.next_upload_id_marker) == seen[-1]
            km, im = r.next_key_marker, r.next_upload_id_marker
        assert seen == full, page_size

    it = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, max_uploads=1)]
    assert it == full

    it = [(u.key, u.upload_id) for u in oss2.MultipartUploadIterator(bucket, prefix="a/",
                                                                       max_uploads=1)]
    assert it == full[:4]

    # raw XML shape
    x = ctx.raw("GET", bucket.bucket_name, params={"uploads": "", "max-uploads": "2"})
    assert x.status_code == 200, x.text
    root = ET.fromstring(x.content)
    assert root.tag == "ListMultipartUploadsResult"
    assert root.findtext("Bucket") == bucket.bucket_name
    assert root.findtext("MaxUploads") == "2"
    assert root.findtext("IsTruncated") == "true"
    assert root.findtext("NextKeyMarker") == full[1][0]
    assert root.findtext("NextUploadIdMarker") == full[1][1]
    for u in root.findall("Upload"):
        assert u.findtext("Initiated").endswith(".000Z")

    # completed / aborted uploads disappear from the listing
    bucket.abort_multipart_upload(*full[0])
    upload_parts(bucket, "c", full[5][1], [b"c"])
    bucket.complete_multipart_upload("c", full[5][1], None,
                                     headers={"x-oss-complete-all": "yes"})
    assert _uploads(bucket.list_multipart_uploads()) == full[1:5]


def test_list_multipart_uploads_pages_through_common_prefixes(ctx, bucket):
    # A page may end on a common prefix: NextKeyMarker is that prefix (with an empty
    # NextUploadIdMarker), and the next page starts after everything under it (the oss2
    # suite's test_upload_iterator looped for ever here).
    ups = [(k, bucket.init_multipart_upload(k).upload_id)
           for k in ["p/k", "p/k", "p/d1/x", "p/d1/y", "p/d2/x", "p/z"]]
    r = bucket.list_multipart_uploads(prefix="p/", delimiter="/", max_uploads=2)
    assert (r.prefix_list, _uploads(r), r.is_truncated) == (["p/d1/", "p/d2/"], [], True)
    assert (r.next_key_marker, r.next_upload_id_marker) == ("p/d2/", "")
    r = bucket.list_multipart_uploads(prefix="p/", delimiter="/", max_uploads=2,
                                      key_marker=r.next_key_marker)
    assert (r.prefix_list, _uploads(r), r.is_truncated) == ([], sorted(ups[:2]), True)
    r = bucket.list_multipart_uploads(prefix="p/", delimiter="/", max_uploads=2,
                                      key_marker=r.next_key_marker,
                                      upload_id_marker=r.next_upload_id_marker)
    assert (r.prefix_list, _uploads(r), r.is_truncated) == ([], [ups[5]], False)
    # OSS names the last upload even on the last page (the v2 SDK suite checks it).
    assert (r.next_key_marker, r.next_upload_id_marker) == ups[5]
    for size in (1, 2, 3):
        got = [u.key if u.is_prefix() else (u.key, u.upload_id) for u in
               oss2.MultipartUploadIterator(bucket, prefix="p/", delimiter="/", max_uploads=size)]
        assert got == ["p/d1/", "p/d2/"] + sorted(ups[:2]) + [ups[5]], size


def test_upload_part_copy_with_range(ctx, bucket):
    src_bucket = ctx.new_bucket("upc-src")
    src = os.urandom(300 * KB)
    bucket.put_object("src", src)
    src_bucket.put_object("other src", src[::-1])
    key = "assembled"
    up = bucket.init_multipart_upload(key).upload_id

    r1 = bucket.upload_part_copy(bucket.bucket_name, "src", (0, MIN_PART - 1), key, up, 1)
    assert r1.status == 200
    assert r1.etag == md5_upper(src[:MIN_PART])
    r2 = bucket.upload_part_copy(src_bucket.bucket_name, "other src", (1000, 1000 + MIN_PART - 1),
                                 key, up, 2)
    assert r2.etag == md5_upper(src[::-1][1000:1000 + MIN_PART])
    r3 = bucket.upload_part_copy(bucket.bucket_name, "src", None, key, up, 3)  # whole object
    assert r3.etag == md5_upper(src)
    tail = upload_parts(bucket, key, up, [b"tail"], start=4)

    expect = [src[:MIN_PART], src[::-1][1000:1000 + MIN_PART], src, b"tail"]
    # part CRCs for oss2's Complete check: from the response if present, else computed
    parts = []
    for n, (res, body) in enumerate(zip((r1, r2, r3), expect[:3]), start=1):
        if res.crc is not None:
            assert res.crc == crc64(body)
        parts.append(PartInfo(n, res.etag, size=len(body), part_crc=crc64(body)))
    parts += tail
    lp = parts_of(bucket, key, up)
    assert [(p.part_number, p.size) for p in lp] == [(i + 1, len(b)) for i, b in enumerate(expect)]
    r = bucket.complete_multipart_upload(key, up, parts)
    assert r.crc == crc64(b"".join(expect))
    assert bucket.get_object(key).read() == b"".join(expect)

    # copy-source XML body
    up2 = bucket.init_multipart_upload("k2").upload_id
    x = ctx.raw("PUT", bucket.bucket_name, "k2", params={"uploadId": up2, "partNumber": "1"},
                headers={"x-oss-copy-source": "/%s/src" % bucket.bucket_name,
                         "x-oss-copy-source-range": "bytes=10-19"})
    assert x.status_code == 200, x.text
    root = ET.fromstring(x.content)
    assert root.tag == "CopyPartResult"
    assert root.findtext("ETag").strip('"') == md5_upper(src[10:20])
    assert root.findtext("LastModified").endswith(".000Z")

    # missing source
    with pytest.raises(oe.NoSuchKey):
        bucket.upload_part_copy(bucket.bucket_name, "nope", (0, 9), "k2", up2, 2)


def test_complete_all_header(ctx, bucket):
    key = "complete-all"
    up = bucket.init_multipart_upload(key).upload_id
    bodies = [os.urandom(MIN_PART), os.urandom(50)]
    upload_parts(bucket, key, up, bodies)
    r = bucket.complete_multipart_upload(key, up, None, headers={"x-oss-complete-all": "yes"})
    assert r.status == 200
    data = b"".join(bodies)
    assert MULTIPART_ETAG_RE.match(r.etag).group(1) == "2"
    assert r.crc == crc64(data)
    assert bucket.get_object(key).read() == data


def test_complete_forbid_overwrite(ctx, bucket):
    key = "fo"
    bucket.put_object(key, b"existing")
    up = bucket.init_multipart_upload(key).upload_id
    parts = upload_parts(bucket, key, up, [b"new"])
    with pytest.raises(oe.ServerError) as ei:
        bucket.complete_multipart_upload(key, up, parts, headers={"x-oss-forbid-overwrite": "true"})
    assert (ei.value.status, ei.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object(key).read() == b"existing"


def test_bucket_with_pending_upload_not_deletable(ctx):
    b = ctx.new_bucket("pending")
    up = b.init_multipart_upload("k").upload_id
    with pytest.raises(oe.BucketNotEmpty) as ei:
        b.delete_bucket()
    assert ei.value.status == 409
    assert ei.value.code == "BucketNotEmpty"
    b.abort_multipart_upload("k", up)
    assert b.delete_bucket().status == 204


# ---------------------------------------------------------------------------
# resumable upload / download (~120 MiB)
# ---------------------------------------------------------------------------
BIG_SIZE = 120 * MB + 12345


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("big") / "big.bin"
    with open(p, "wb") as f:
        block = os.urandom(8 * MB)
        left = BIG_SIZE
        i = 0
        while left:
            # vary each block so that identical parts cannot hide misplaced data
            chunk = (i.to_bytes(8, "big") + block[8:])[:min(left, len(block))]
            f.write(chunk)
            left -= len(chunk)
            i += 1
    return str(p), file_md5(p)


def test_resumable_upload_and_download_large(ctx, bucket, big_file, tmp_path):
    path, digest = big_file
    key = "big/resumable.bin"
    store = oss2.ResumableStore(root=str(tmp_path), dir="up")
    r = oss2.resumable_upload(bucket, key, path, store=store, multipart_threshold=1 * MB,
                              part_size=8 * MB, num_threads=6)
    assert r.status == 200
    assert r.crc is not None  # oss2 compared it with the part-combined CRC
    h = bucket.head_object(key)
    assert h.content_length == BIG_SIZE
    assert h.object_type == "Multipart"
    assert MULTIPART_ETAG_RE.match(h.etag).group(1) == str(-(-BIG_SIZE // (8 * MB)))
    assert h.server_crc == r.crc
    assert bucket.list_multipart_uploads(prefix=key).upload_list == []

    out = str(tmp_path / "down.bin")
    dstore = oss2.ResumableDownloadStore(root=str(tmp_path), dir="down")
    oss2.resumable_download(bucket, key, out, multiget_threshold=1 * MB, part_size=8 * MB,
                            num_threads=6, store=dstore)  # CRC-checked by oss2
    assert os.path.getsize(out) == BIG_SIZE
    assert file_md5(out) == digest


def test_resumable_upload_resumes_after_interruption(ctx, bucket, tmp_path):
    src = tmp_path / "src.bin"
    data = os.urandom(2 * MB + 333)
    src.write_bytes(data)
    key = "resume.bin"
    store = oss2.ResumableStore(root=str(tmp_path), dir="rs")
    part_size = 256 * KB
    total_parts = -(-len(data) // part_size)

    calls = []
    original = bucket.upload_part

    def flaky(*a, **kw):
        calls.append(a[2])
        if len(calls) > 3:
            raise RuntimeError("simulated network failure")
        return original(*a, **kw)

    bucket.upload_part = flaky
    with pytest.raises(RuntimeError):
        oss2.resumable_upload(bucket, key, str(src), store=store, multipart_threshold=100 * KB,
                              part_size=part_size, num_threads=1)
    pending = bucket.list_multipart_uploads(prefix=key).upload_list
    assert len(pending) == 1
    upload_id = pending[0].upload_id
    assert len(parts_of(bucket, key, upload_id)) == 3
    assert bucket.object_exists(key) is False

    calls.clear()
    bucket.upload_part = lambda *a, **kw: (calls.append(a[2]), original(*a, **kw))[1]
    oss2.resumable_upload(bucket, key, str(src), store=store, multipart_threshold=100 * KB,
                          part_size=part_size, num_threads=1)
    # only the missing parts were sent, into the same upload
    assert sorted(calls) == list(range(4, total_parts + 1))
    assert bucket.list_multipart_uploads(prefix=key).upload_list == []
    assert bucket.get_object(key).read() == data
    assert bucket.head_object(key).server_crc == crc64(data)


# ---------------------------------------------------------------------------
# append
# ---------------------------------------------------------------------------
def test_append_object(ctx, bucket):
    key = "app.log"
    r = bucket.append_object(key, 0, b"hello", init_crc=0,
                             headers={"Content-Type": "text/x-log", "x-oss-meta-a": "1"})
    assert r.status == 200
    assert_request_id(r.headers)
    assert r.next_position == 5
    assert r.crc == crc64(b"hello")
    r = bucket.append_object(key, r.next_position, b" world", init_crc=r.crc)  # CRC continued
    assert r.next_position == 11
    assert r.crc == crc64(b"hello world")
    r = bucket.append_object(key, 11, b"", init_crc=r.crc)
    assert r.next_position == 11

    h = bucket.head_object(key)
    assert h.object_type == "Appendable"
    assert h.headers["x-oss-next-append-position"] == "11"
    assert h.content_length == 11
    assert h.content_type == "text/x-log"
    assert h.headers["x-oss-meta-a"] == "1"
    assert h.server_crc == crc64(b"hello world")
    g = bucket.get_object(key)
    assert g.read() == b"hello world"
    assert g.headers["x-oss-next-append-position"] == "11"
    assert g.headers["x-oss-object-type"] == "Appendable"

    for pos in (0, 5, 12):
        with pytest.raises(oe.PositionNotEqualToLength) as ei:
            bucket.append_object(key, pos, b"!")
        assert ei.value.status == 409
        assert ei.value.next_position == 11
    assert bucket.get_object(key).read() == b"hello world"


def test_append_larger_bodies_crc_chain(ctx, bucket):
    key = "chain"
    pos, crc, all_data = 0, 0, b""
    for size in (1, 100 * KB, 3 * KB, 1 * MB + 7):
        chunk = os.urandom(size)
        r = bucket.append_object(key, pos, chunk, init_crc=crc)
        all_data += chunk
        assert r.next_position == len(all_data)
        pos, crc = r.next_position, r.crc
    assert crc == crc64(all_data)
    assert bucket.get_object(key).read() == all_data


def test_append_errors(ctx, bucket):
    bucket.put_object("normal", b"normal object")
    with pytest.raises(oe.ObjectNotAppendable) as ei:
        bucket.append_object("normal", 13, b"x")
    assert ei.value.status == 409
    with pytest.raises(oe.ObjectNotAppendable):
        bucket.append_object("normal", 0, b"x")
    assert bucket.get_object("normal").read() == b"normal object"

    up = bucket.init_multipart_upload("mp").upload_id
    parts = upload_parts(bucket, "mp", up, [b"multi"])
    bucket.complete_multipart_upload("mp", up, parts)
    with pytest.raises(oe.ObjectNotAppendable):
        bucket.append_object("mp", 5, b"x")

    # missing position
    r = ctx.raw("POST", bucket.bucket_name, "np", params={"append": ""}, data=b"x")
    assert r.status_code == 400, r.text
    # a non-numeric position
    r = ctx.raw("POST", bucket.bucket_name, "np", params={"append": "", "position": "abc"},
                data=b"x")
    assert r.status_code == 400, r.text
    assert bucket.object_exists("np") is False

    # position not 0 for a new object
    with pytest.raises(oe.PositionNotEqualToLength) as ei:
        bucket.append_object("new", 3, b"x")
    assert ei.value.next_position == 0

    # a PutObject replaces an appendable object with a normal one
    bucket.append_object("app", 0, b"abc")
    bucket.put_object("app", b"now normal")
    assert bucket.head_object("app").object_type == "Normal"
    with pytest.raises(oe.ObjectNotAppendable):
        bucket.append_object("app", 10, b"x")


def test_append_raw_error_header(ctx, bucket):
    bucket.append_object("a", 0, b"12345")
    r = ctx.raw("POST", bucket.bucket_name, "a", params={"append": "", "position": "2"}, data=b"x")
    assert r.status_code == 409
    assert r.headers["x-oss-next-append-position"] == "5"
    assert error_of(r)["Code"] == "PositionNotEqualToLength"
    assert error_of(r)["Message"] == "Position is not equal to file length"


# ---------------------------------------------------------------------------
# copy
# ---------------------------------------------------------------------------
SRC_HEADERS = {"Content-Type": "text/x-src", "x-oss-meta-a": "1", "Cache-Control": "max-age=5"}


def test_copy_object_same_bucket(ctx, bucket):
    data = os.urandom(5000)
    bucket.put_object("src", data, headers=SRC_HEADERS)
    r = bucket.copy_object(bucket.bucket_name, "src", "dst",
                           headers={"x-oss-meta-b": "ignored", "Content-Type": "text/ignored"})
    assert r.status == 200
    assert_request_id(r.headers)
    assert r.etag == md5_upper(data)
    if r.crc is not None:
        assert r.crc == crc64(data)
    h = bucket.head_object("dst")
    # COPY directive (default): source metadata, request metadata ignored
    assert h.headers["x-oss-meta-a"] == "1"
    assert "x-oss-meta-b" not in h.headers
    assert h.content_type == "text/x-src"
    assert h.headers["Cache-Control"] == "max-age=5"
    assert h.object_type == "Normal"
    assert h.etag == md5_upper(data)
    assert h.server_crc == crc64(data)
    assert bucket.get_object("dst").read() == data
    # the source is untouched
    assert bucket.get_object("src").read() == data

    # raw: response body
    x = ctx.raw("PUT", bucket.bucket_name, "dst2",
                headers={"x-oss-copy-source": "/%s/src" % bucket.bucket_name})
    assert x.status_code == 200, x.text
    root = ET.fromstring(x.content)
    assert root.tag == "CopyObjectResult"
    assert root.findtext("ETag").strip('"') == md5_upper(data)
    assert root.findtext("LastModified").endswith(".000Z")


def test_copy_object_replace_metadata(ctx, bucket):
    data = b"replace me"
    bucket.put_object("src", data, headers=SRC_HEADERS)
    bucket.copy_object(bucket.bucket_name, "src", "dst", headers={
        "x-oss-metadata-directive": "REPLACE", "x-oss-meta-b": "2",
        "Content-Type": "application/json"})
    h = bucket.head_object("dst")
    assert h.headers.get("x-oss-meta-b") == "2"
    assert "x-oss-meta-a" not in h.headers
    assert h.content_type == "application/json"
    assert "Cache-Control" not in h.headers
    assert bucket.get_object("dst").read() == data
    # explicit COPY
    bucket.copy_object(bucket.bucket_name, "src", "dst3", headers={
        "x-oss-metadata-directive": "COPY", "x-oss-meta-b": "2"})
    h = bucket.head_object("dst3")
    assert h.headers["x-oss-meta-a"] == "1"
    assert "x-oss-meta-b" not in h.headers
    # invalid directive
    with pytest.raises(oe.ServerError) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "dst4",
                           headers={"x-oss-metadata-directive": "MERGE"})
    assert ei.value.status == 400
    assert ei.value.code == "InvalidArgument"


def test_update_object_meta(ctx, bucket):
    data = os.urandom(2000)
    bucket.put_object("obj", data, headers=SRC_HEADERS)
    r = bucket.update_object_meta("obj", {"x-oss-meta-new": "yes", "Content-Type": "text/x-new"})
    assert r.status == 200
    h = bucket.head_object("obj")
    assert h.headers["x-oss-meta-new"] == "yes"
    assert "x-oss-meta-a" not in h.headers
    assert h.content_type == "text/x-new"
    assert h.etag == md5_upper(data)
    assert h.server_crc == crc64(data)
    assert bucket.get_object("obj").read() == data


def test_copy_object_cross_bucket(ctx, bucket):
    other = ctx.new_bucket("copy-dst")
    data = os.urandom(3000)
    bucket.put_object("dir/src.bin", data, headers=SRC_HEADERS)
    r = other.copy_object(bucket.bucket_name, "dir/src.bin", "copied/dst.bin")
    assert r.etag == md5_upper(data)
    g = other.get_object("copied/dst.bin")
    assert g.read() == data
    assert g.headers["x-oss-meta-a"] == "1"
    # a multipart source keeps its content (new object is Normal or Multipart, never broken)
    up = bucket.init_multipart_upload("mp").upload_id
    bodies = [os.urandom(MIN_PART), b"x" * 10]
    bucket.complete_multipart_upload("mp", up, upload_parts(bucket, "mp", up, bodies))
    other.copy_object(bucket.bucket_name, "mp", "mp-copy")
    h = other.head_object("mp-copy")
    assert h.server_crc == crc64(b"".join(bodies))
    assert other.get_object("mp-copy").read() == b"".join(bodies)


@pytest.mark.parametrize("src_key", [
    "with space.txt", "plus+sign", "dir/ünïcödé 中文.txt", "pct%20literal", "q?mark&amp=1#frag",
], ids=["space", "plus", "unicode", "percent", "query-chars"])
def test_copy_object_odd_source_keys(ctx, bucket, src_key):
    bucket.put_object(src_key, src_key.encode())
    bucket.copy_object(bucket.bucket_name, src_key, "dst")
    assert bucket.get_object("dst").read() == src_key.encode()
    bucket.copy_object(bucket.bucket_name, "dst", src_key + ".copy")
    assert bucket.get_object(src_key + ".copy").read() == src_key.encode()


def test_copy_source_encodings_raw(ctx, bucket):
    bucket.put_object("a b/c+d", b"content")
    name = bucket.bucket_name
    for source in ("/%s/a%%20b%%2Fc%%2Bd" % name,   # oss2 / encodeURIComponent
                   "/%s/a%%20b/c%%2Bd" % name,       # Python v2 keeps '/'
                   "/%s/a+b%%2Fc%%2Bd" % name):      # Go v1 QueryEscape: space as '+'
        x = ctx.raw("PUT", name, "dst", headers={"x-oss-copy-source": source})
        assert x.status_code == 200, (source, x.text)
        assert bucket.get_object("dst").read() == b"content"
        bucket.delete_object("dst")


def test_copy_source_conditions(ctx, bucket):
    data = b"conditional"
    etag = bucket.put_object("src", data).etag
    lm = bucket.head_object("src").last_modified
    past = oss2.utils.http_date(lm - 3600)
    future = oss2.utils.http_date(lm + 3600)

    with pytest.raises(oe.PreconditionFailed) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "d1",
                           headers={"x-oss-copy-source-if-match": "0" * 32})
    assert ei.value.status == 412
    assert ei.value.code == "PreconditionFailed"
    # The failed condition is named without the copy-source prefix, as OSS does.
    assert ei.value.details["Condition"] == "If-Match"
    assert bucket.object_exists("d1") is False

    bucket.copy_object(bucket.bucket_name, "src", "d2",
                       headers={"x-oss-copy-source-if-match": etag})
    assert bucket.get_object("d2").read() == data
    bucket.copy_object(bucket.bucket_name, "src", "d2q",
                       headers={"x-oss-copy-source-if-match": '"%s"' % etag.lower()})
    assert bucket.object_exists("d2q")
    # An empty ETag condition is none (ali-oss's multipartUploadCopy can send one).
    bucket.copy_object(bucket.bucket_name, "src", "d2e",
                       headers={"x-oss-copy-source-if-match": "",
                                "x-oss-copy-source-if-none-match": ""})
    assert bucket.get_object("d2e").read() == data

    with pytest.raises(oe.ServerError) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "d3",
                           headers={"x-oss-copy-source-if-none-match": etag})
    assert ei.value.status == 304
    assert bucket.object_exists("d3") is False

    with pytest.raises(oe.PreconditionFailed) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "d4",
                           headers={"x-oss-copy-source-if-unmodified-since": past})
    assert ei.value.details["Condition"] == "If-Unmodified-Since"
    bucket.copy_object(bucket.bucket_name, "src", "d5",
                       headers={"x-oss-copy-source-if-unmodified-since": future})
    with pytest.raises(oe.ServerError) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "d6",
                           headers={"x-oss-copy-source-if-modified-since": future})
    assert ei.value.status == 304
    bucket.copy_object(bucket.bucket_name, "src", "d7",
                       headers={"x-oss-copy-source-if-modified-since": past})
    assert bucket.object_exists("d5") and bucket.object_exists("d7")
    assert not bucket.object_exists("d4") and not bucket.object_exists("d6")


def test_copy_errors(ctx, bucket, ossify):
    bucket.put_object("src", b"source")
    bucket.put_object("exists", b"keep me")

    with pytest.raises(oe.NoSuchKey) as ei:
        bucket.copy_object(bucket.bucket_name, "missing", "dst")
    assert ei.value.status == 404
    with pytest.raises(oe.NoSuchBucket):
        bucket.copy_object(unique_bucket_name("absent"), "src", "dst")

    with pytest.raises(oe.ServerError) as ei:
        bucket.copy_object(bucket.bucket_name, "src", "exists",
                           headers={"x-oss-forbid-overwrite": "true"})
    assert (ei.value.status, ei.value.code) == (409, "FileAlreadyExists")
    assert bucket.get_object("exists").read() == b"keep me"
    bucket.copy_object(bucket.bucket_name, "src", "exists", headers={"x-oss-forbid-overwrite": "false"})
    assert bucket.get_object("exists").read() == b"source"

    # another account's private bucket
    foreign = ctx.new_bucket("foreign", keys=ossify.root2)
    foreign.put_object("secret", b"theirs")
    with pytest.raises(oe.AccessDenied) as ei:
        bucket.copy_object(foreign.bucket_name, "secret", "stolen")
    assert ei.value.status == 403
    assert bucket.object_exists("stolen") is False
    # ... and copying into it is refused too
    with pytest.raises(oe.AccessDenied):
        ctx.bucket(foreign.bucket_name).copy_object(bucket.bucket_name, "src", "pushed")
    assert foreign.object_exists("pushed") is False
    # upload_part_copy from the foreign bucket
    up = bucket.init_multipart_upload("mp").upload_id
    with pytest.raises(oe.AccessDenied):
        bucket.upload_part_copy(foreign.bucket_name, "secret", None, "mp", up, 1)

    # a malformed source header
    x = ctx.raw("PUT", bucket.bucket_name, "dst", headers={"x-oss-copy-source": "no-slash"})
    assert x.status_code == 400, x.text


# ---------------------------------------------------------------------------
# batch delete
# ---------------------------------------------------------------------------
ODD_KEYS = ["a b", "plus+sign", "amp&lt<gt>", "ünï/中文", "pct%2Fx", "quote\"'", "q?x=1#f"]


def _delete_xml(keys, quiet=False):
    from xml.sax.saxutils import escape
    body = "<Delete><Quiet>%s</Quiet>" % ("true" if quiet else "false")
    body += "".join("<Object><Key>%s</Key></Object>" % escape(k) for k in keys)
    return (body + "</Delete>").encode("utf-8")


def test_batch_delete_verbose(ctx, bucket):
    keys = ["k1", "k2", "dir/k3"] + ODD_KEYS
    for k in keys:
        bucket.put_object(k, b"x")
    bucket.put_object("survivor", b"y")
    r = bucket.batch_delete_objects(keys + ["never-existed"])
    assert r.status == 200
    assert_request_id(r.headers)
    assert sorted(r.deleted_keys) == sorted(keys + ["never-existed"])
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["survivor"]


def test_batch_delete_quiet_and_encoding_raw(ctx, bucket):
    keys = ["q1", "q2"] + ODD_KEYS
    for k in keys:
        bucket.put_object(k, b"x")
    body = _delete_xml(keys[:2] + ["missing"], quiet=True)
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=body,
                headers={"Content-MD5": md5_b64(body)})
    assert r.status_code == 200, r.text
    if r.content:
        root = ET.fromstring(r.content)
        assert root.tag == "DeleteResult"
        assert root.findall("Deleted") == []
    assert not bucket.object_exists("q1") and not bucket.object_exists("q2")

    # verbose with encoding-type=url: keys come back percent-encoded
    body = _delete_xml(ODD_KEYS)
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": "", "encoding-type": "url"},
                data=body, headers={"Content-MD5": md5_b64(body)})
    assert r.status_code == 200, r.text
    root = ET.fromstring(r.content)
    assert root.findtext("EncodingType") == "url"
    returned = [d.findtext("Key") for d in root.findall("Deleted")]
    assert sorted(unquote(k) for k in returned) == sorted(ODD_KEYS)
    for k in returned:
        assert not re.search(r"[ <>&\"'+?#]", k), k  # encoded
    # without encoding-type the keys are plain (XML-escaped)
    bucket.put_object("a b", b"x")
    body = _delete_xml(["a b"])
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=body,
                headers={"Content-MD5": md5_b64(body)})
    root = ET.fromstring(r.content)
    assert [d.findtext("Key") for d in root.findall("Deleted")] == ["a b"]
    assert list(oss2.ObjectIterator(bucket)) == []


def test_batch_delete_bad_requests(ctx, bucket):
    bucket.put_object("keep", b"x")
    body = _delete_xml(["keep"])
    # no Content-MD5
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=body)
    assert r.status_code == 400, r.text
    assert_request_id(r.headers)
    # wrong Content-MD5
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=body,
                headers={"Content-MD5": md5_b64(b"other")})
    assert r.status_code == 400, r.text
    assert error_of(r)["Code"] == "InvalidDigest"
    # malformed XML (with a correct digest)
    for bad in (b"<Delete><Object><Key>keep</Key></Object>", b"not xml at all",
                b"<Other><Object><Key>keep</Key></Object></Other>"):
        r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=bad,
                    headers={"Content-MD5": md5_b64(bad)})
        assert r.status_code == 400, (bad, r.text)
        assert error_of(r)["Code"] == "MalformedXML", bad
    assert bucket.get_object("keep").read() == b"x"
    # more than 1000 keys
    body = _delete_xml(["k%d" % i for i in range(1001)])
    r = ctx.raw("POST", bucket.bucket_name, params={"delete": ""}, data=body,
                headers={"Content-MD5": md5_b64(body)})
    assert r.status_code == 400, r.text


# ---------------------------------------------------------------------------
# object ACL
# ---------------------------------------------------------------------------
def test_object_acl(ctx, bucket):
    name = bucket.bucket_name
    anon = ctx.anon_bucket(name)
    bucket.put_object("o", b"data")
    r = bucket.get_object_acl("o")
    assert r.status == 200
    assert r.acl == "default"
    with pytest.raises(oe.AccessDenied):
        anon.get_object("o")

    assert bucket.put_object_acl("o", oss2.OBJECT_ACL_PUBLIC_READ).status == 200
    assert bucket.get_object_acl("o").acl == "public-read"
    assert anon.get_object("o").read() == b"data"
    with pytest.raises(oe.AccessDenied):
        anon.put_object("o", b"anon write")

    bucket.put_object_acl("o", oss2.OBJECT_ACL_DEFAULT)
    assert bucket.get_object_acl("o").acl == "default"
    with pytest.raises(oe.AccessDenied):
        anon.get_object("o")
    # 'default' follows the bucket ACL
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert anon.get_object("o").read() == b"data"
    bucket.put_object_acl("o", oss2.OBJECT_ACL_PRIVATE)
    with pytest.raises(oe.AccessDenied):
        anon.get_object("o")

    # ACL at upload time, and an overwrite resets it
    bucket.put_object("p", b"p", headers={"x-oss-object-acl": "public-read-write"})
    assert bucket.get_object_acl("p").acl == "public-read-write"
    bucket.put_object("p", b"p2")
    assert bucket.get_object_acl("p").acl == "default"

    # raw XML shape
    x = ctx.raw("GET", name, "o", params={"acl": ""})
    root = ET.fromstring(x.content)
    assert root.tag == "AccessControlPolicy"
    assert root.findtext("Owner/ID") == ctx.env.root1.account_id
    assert root.findtext("AccessControlList/Grant") == "private"

    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object_acl("o", "everyone")
    assert (ei.value.status, ei.value.code) == (400, "InvalidArgument")
    with pytest.raises(oe.NoSuchKey):
        bucket.get_object_acl("missing")
    with pytest.raises(oe.NoSuchKey):
        bucket.put_object_acl("missing", "private")


# ---------------------------------------------------------------------------
# symlinks
# ---------------------------------------------------------------------------
def test_symlink(ctx, bucket):
    data = os.urandom(777)
    bucket.put_object("target.bin", data, headers={"Content-Type": "application/x-target"})
    r = bucket.put_symlink("target.bin", "link", headers={"x-oss-meta-l": "v"})
    assert r.status == 200
    assert_request_id(r.headers)

    s = bucket.get_symlink("link")
    assert s.status == 200
    assert s.target_key == "target.bin"
    assert s.headers["x-oss-meta-l"] == "v"
    assert s.headers.get("ETag")

    g = bucket.get_object("link")
    assert g.read() == data
    assert g.content_length == len(data)
    h = bucket.head_object("link")
    assert h.content_length == len(data)

    # the link follows the current target
    bucket.put_object("target.bin", b"new content")
    assert bucket.get_object("link").read() == b"new content"
    # ranged read through a link
    g = bucket.get_object("link", byte_range=(4, 6))
    assert g.status == 206
    assert g.read() == b"con"

    # copying a symlink copies the link
    bucket.copy_object(bucket.bucket_name, "link", "link2")
    assert bucket.get_symlink("link2").target_key == "target.bin"

    # deleting the link leaves the target
    bucket.delete_object("link")
    assert bucket.get_object("target.bin").read() == b"new content"
    with pytest.raises(oe.NoSuchKey):
        bucket.get_symlink("link")


@pytest.mark.parametrize("target", ["dir/a b+c.txt", "ünï 中文/%41?x=1&y"], ids=["space-plus", "unicode"])
def test_symlink_odd_target(ctx, bucket, target):
    bucket.put_object(target, b"odd")
    bucket.put_symlink(target, "lnk/" + target)
    assert bucket.get_symlink("lnk/" + target).target_key == target
    assert bucket.get_object("lnk/" + target).read() == b"odd"


def test_symlink_errors(ctx, bucket):
    bucket.put_symlink("does/not/exist", "dangling")
    assert bucket.get_symlink("dangling").target_key == "does/not/exist"
    with pytest.raises(oe.ServerError) as ei:
        bucket.get_object("dangling")
    assert ei.value.status == 404
    assert ei.value.code == "SymlinkTargetNotExist"
    with pytest.raises(oe.ServerError) as ei:
        bucket.head_object("dangling")
    assert ei.value.status == 404
    assert ei.value.code == "SymlinkTargetNotExist"

    bucket.put_object("plain", b"x")
    with pytest.raises(oe.ServerError) as ei:
        bucket.get_symlink("plain")
    assert ei.value.code == "NotSymlink"
    assert ei.value.status == 400

    with pytest.raises(oe.NoSuchKey):
        bucket.get_symlink("missing")

    bucket.put_object("t", b"t")
    bucket.put_symlink("t", "fo")
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_symlink("t", "fo", headers={"x-oss-forbid-overwrite": "true"})
    assert (ei.value.status, ei.value.code) == (409, "FileAlreadyExists")

    # a missing target header
    r = ctx.raw("PUT", bucket.bucket_name, "nolink", params={"symlink": ""})
    assert r.status_code == 400, r.text


# ---------------------------------------------------------------------------
# tagging
# ---------------------------------------------------------------------------
def _tags(bucket, key):
    return dict(bucket.get_object_tagging(key).tag_set.tagging_rule)


def test_object_tagging(ctx, bucket):
    bucket.put_object("t", b"x", headers={"x-oss-tagging": "k1=v1&k2=v%202&empty="})
    assert _tags(bucket, "t") == {"k1": "v1", "k2": "v 2", "empty": ""}
    h = bucket.head_object("t")
    assert h.headers["x-oss-tagging-count"] == "3"
    assert bucket.get_object("t").headers["x-oss-tagging-count"] == "3"

    rule = TaggingRule()
    rule.add("project", "ossify")
    rule.add("a b", "c+d=e")  # OSS allows letters, digits, space and + - = . _ : /
    r = bucket.put_object_tagging("t", Tagging(rule))
    assert r.status == 200
    assert _tags(bucket, "t") == {"project": "ossify", "a b": "c+d=e"}  # replaced, not merged
    assert bucket.head_object("t").headers["x-oss-tagging-count"] == "2"
    # content and ETag are untouched
    assert bucket.get_object("t").read() == b"x"

    r = bucket.delete_object_tagging("t")
    assert r.status == 204
    assert _tags(bucket, "t") == {}
    assert bucket.head_object("t").headers.get("x-oss-tagging-count", "0") == "0"

    # raw XML shape of an empty tag set
    x = ctx.raw("GET", bucket.bucket_name, "t", params={"tagging": ""})
    root = ET.fromstring(x.content)
    assert root.tag == "Tagging"
    assert root.find("TagSet") is not None

    with pytest.raises(oe.NoSuchKey):
        bucket.get_object_tagging("missing")
    with pytest.raises(oe.NoSuchKey):
        bucket.put_object_tagging("missing", Tagging(rule))


def test_object_tagging_limits(ctx, bucket):
    bucket.put_object("t", b"x")
    rule = TaggingRule()
    for i in range(11):
        rule.add("k%d" % i, "v")
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object_tagging("t", Tagging(rule))
    assert (ei.value.status, ei.value.code) == (400, "InvalidTag")
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object("t2", b"x", headers={
            "x-oss-tagging": "&".join("k%d=v" % i for i in range(11))})
    assert (ei.value.status, ei.value.code) == (400, "InvalidTag")
    assert bucket.object_exists("t2") is False

    rule = TaggingRule()
    for i in range(10):
        rule.add("k%d" % i, "v")
    bucket.put_object_tagging("t", Tagging(rule))
    assert len(_tags(bucket, "t")) == 10

    # key > 128 / value > 256 characters (oss2 refuses these client-side: send raw)
    for k, v in (("k" * 129, "v"), ("k", "v" * 257)):
        body = ("<Tagging><TagSet><Tag><Key>%s</Key><Value>%s</Value></Tag></TagSet></Tagging>"
                % (k, v)).encode()
        r = ctx.raw("PUT", bucket.bucket_name, "t", params={"tagging": ""}, data=body,
                    headers={"Content-MD5": md5_b64(body)})
        assert r.status_code == 400, r.text
        assert error_of(r)["Code"] == "InvalidTag"
    # the limits themselves are fine
    rule = TaggingRule()
    rule.add("k" * 128, "v" * 256)
    bucket.put_object_tagging("t", Tagging(rule))
    assert _tags(bucket, "t") == {"k" * 128: "v" * 256}

    # malformed XML
    body = b"<Tagging><TagSet><Tag><Key>x</Key>"
    r = ctx.raw("PUT", bucket.bucket_name, "t", params={"tagging": ""}, data=body,
                headers={"Content-MD5": md5_b64(body)})
    assert r.status_code == 400
    assert error_of(r)["Code"] == "MalformedXML"



def test_object_tags_in_any_script(ctx, bucket):
    # OSS takes letters of any script in object tags (the oss2 suite's
    # test_copy_object_with_tagging); other symbols than + - = . _ : / stay refused.
    tags = {" +/ ": "中文", "中文": "test++/"}
    rule = TaggingRule()
    for k, v in tags.items():
        rule.add(k, v)
    bucket.put_object("t", b"x", headers={"x-oss-tagging": rule.to_query_string()})
    assert _tags(bucket, "t") == tags
    bucket.copy_object(bucket.bucket_name, "t", "t2", headers={
        "x-oss-tagging-directive": "REPLACE", "x-oss-tagging": "%E4%B8%AD=%E6%96%87"})
    assert _tags(bucket, "t2") == {"中": "文"}
    bucket.put_object_tagging("t2", Tagging(rule))
    assert _tags(bucket, "t2") == tags
    with pytest.raises(oe.ServerError) as ei:
        bucket.put_object("t3", b"x", headers={"x-oss-tagging": "k=a%40b"})
    assert (ei.value.status, ei.value.code) == (400, "InvalidTag")
    assert bucket.object_exists("t3") is False


def test_append_tags_only_on_first_append(ctx, bucket):
    # x-oss-tagging counts on the append that creates the object; later appends ignore
    # it, even a tag set OSS would refuse (oss2 suite: test_append_object_with_tagging_wrong_num).
    too_many = "&".join("k%d=v" % i for i in range(15))
    with pytest.raises(oe.ServerError) as ei:
        bucket.append_object("a", 0, b"abc", headers={"x-oss-tagging": too_many})
    assert (ei.value.status, ei.value.code) == (400, "InvalidTag")
    assert bucket.object_exists("a") is False
    r = bucket.append_object("a", 0, b"abc", headers={"x-oss-tagging": "k=v"})
    r = bucket.append_object("a", r.next_position, b"de", headers={"x-oss-tagging": too_many})
    assert r.next_position == 5
    r = bucket.append_object("a", r.next_position, b"f", headers={"x-oss-tagging": "n=m"})
    assert _tags(bucket, "a") == {"k": "v"}
    assert bucket.get_object("a").read() == b"abcdef"

def test_tagging_copied_with_object(ctx, bucket):
    bucket.put_object("src", b"x", headers={"x-oss-tagging": "a=1"})
    bucket.copy_object(bucket.bucket_name, "src", "copy")
    assert _tags(bucket, "copy") == {"a": "1"}
    bucket.copy_object(bucket.bucket_name, "src", "copy2",
                       headers={"x-oss-tagging-directive": "Replace", "x-oss-tagging": "b=2"})
    assert _tags(bucket, "copy2") == {"b": "2"}
    up = bucket.init_multipart_upload("mp", headers={"x-oss-tagging": "m=p"}).upload_id
    bucket.complete_multipart_upload("mp", up, upload_parts(bucket, "mp", up, [b"z"]))
    assert _tags(bucket, "mp") == {"m": "p"}
