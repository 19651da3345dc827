"""alibabacloud-oss-v2 (V4, path style): GetObject with process, ProcessObject with
sys/saveas, styles, presigned processing URLs, async processing of images."""

import hashlib
import json
import pathlib

import alibabacloud_oss_v2 as oss
import pytest
import requests

pytest.importorskip("PIL")

from conftest import (frame_count, make_animated_gif, make_image, make_v2_client,  # noqa: E402
                      open_image, saveas, unique_bucket_name, v2_service_error)

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"


class V2(object):
    def __init__(self, env):
        self.env = env
        self.c = make_v2_client(env)
        self.bucket = unique_bucket_name("v2img")
        self.dst = unique_bucket_name("v2img-dst")
        for name in (self.bucket, self.dst):
            self.c.put_bucket(oss.PutBucketRequest(bucket=name))
        self.jpg = make_image("JPEG", (200, 100), quadrants=True, quality=95)
        self.gif = make_animated_gif((80, 40), 3)
        self.put("src.jpg", self.jpg)
        self.put("anim.gif", self.gif)

    def put(self, key, data, bucket=None):
        self.c.put_object(oss.PutObjectRequest(bucket=bucket or self.bucket, key=key, body=data))

    def get(self, key, process=None, bucket=None):
        r = self.c.get_object(oss.GetObjectRequest(bucket=bucket or self.bucket, key=key,
                                                   process=process))
        return r, r.body.read()

    def cleanup(self):
        for name in (self.bucket, self.dst):
            try:
                r = self.c.list_objects_v2(oss.ListObjectsV2Request(bucket=name))
                for o in r.contents or []:
                    self.c.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
                self.c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
            except Exception:
                pass


@pytest.fixture(scope="module")
def v2(ossify):
    c = V2(ossify)
    yield c
    c.cleanup()


def test_get_object_with_process(v2):
    r, data = v2.get("src.jpg", "image/resize,w_100/format,png")
    assert r.status_code == 200
    assert r.content_type == "image/png"
    assert open_image(data).size == (100, 50)
    assert r.etag and r.etag.startswith('"')
    r, data = v2.get("anim.gif", "image/resize,w_40")
    assert r.content_type == "image/gif"
    assert frame_count(data) == 3
    r, data = v2.get("src.jpg", "image/info")
    info = json.loads(data)
    assert info["ImageWidth"] == {"value": "200"}
    assert info["Format"] == {"value": "jpg"}


@pytest.mark.parametrize("key,fmt", [("photo.heic", "heic"), ("photo.avif", "avif")])
def test_heif_sources(v2, key, fmt):
    # tests/fixtures/README.md: 320x200 photos, red at the top left.
    v2.put(key, (FIXTURES / key).read_bytes())
    r, data = v2.get(key, "image/resize,w_100/format,jpg")
    assert (r.status_code, r.content_type) == (200, "image/jpeg")
    im = open_image(data)
    assert (im.format, im.size) == ("JPEG", (100, 63))
    red = im.getpixel((5, 5))
    assert red[0] > 200 and red[1] < 60 and red[2] < 60, red
    r = v2.c.process_object(oss.ProcessObjectRequest(
        bucket=v2.bucket, key=key, process="image/resize,w_50|" + saveas("out/" + key + ".jpg")))
    assert r.process_status == "OK"
    g, data = v2.get("out/" + key + ".jpg")
    assert open_image(data).size == (50, 31)
    info = json.loads(v2.get(key, "image/info")[1])
    assert info["Format"] == {"value": fmt}
    assert (info["ImageWidth"], info["ImageHeight"]) == ({"value": "320"}, {"value": "200"})
    r, data = v2.get(key, "image/resize,w_100/format,heic")
    assert r.content_type == "image/heic"
    im = open_image(data)
    assert (im.format, im.size) == ("HEIF", (100, 63))


def test_get_object_bad_process(v2):
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.get("src.jpg", "image/resize,w_abc")
    e = v2_service_error(ei)
    assert e.status_code == 400
    assert e.code == "InvalidArgument"
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.get("src.jpg", "image/slim,1")
    e = v2_service_error(ei)
    assert e.status_code == 400
    assert e.ec == "0040-00000213"


@pytest.mark.parametrize("target", ["same", "other"])
def test_process_object_saveas(v2, target):
    key = "out/v2-%s.jpg" % target
    bucket = None if target == "same" else v2.dst
    r = v2.c.process_object(oss.ProcessObjectRequest(
        bucket=v2.bucket, key="src.jpg",
        process="image/resize,w_50|" + saveas(key, bucket)))
    assert r.status_code == 200
    assert r.process_status == "OK"
    assert r.key == key
    assert r.bucket == ("" if bucket is None else bucket)
    g, data = v2.get(key, bucket=bucket or v2.bucket)
    assert r.file_size == len(data)
    assert g.content_type == "image/jpeg"
    assert g.etag == '"%s"' % hashlib.md5(data).hexdigest().upper()
    assert g.hash_crc64
    assert open_image(data).size == (50, 25)


def test_process_object_errors(v2):
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.c.process_object(oss.ProcessObjectRequest(
            bucket=v2.bucket, key="src.jpg",
            process="image/resize,w_50|" + saveas("out/x.jpg", unique_bucket_name("v2-none"))))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (404, "NoSuchBucket")
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.c.process_object(oss.ProcessObjectRequest(
            bucket=v2.bucket, key="src.jpg",
            process="image/resize,w_50|" + saveas("/bad.jpg")))
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (400, "InvalidObjectName")


def test_styles(v2):
    v2.c.put_style(oss.PutStyleRequest(bucket=v2.bucket, style_name="v2thumb",
                                       style=oss.StyleContent(content="image/resize,w_60")))
    try:
        r = v2.c.get_style(oss.GetStyleRequest(bucket=v2.bucket, style_name="v2thumb"))
        assert r.style.name == "v2thumb"
        assert r.style.content == "image/resize,w_60"
        assert r.style.category == "image"
        r = v2.c.list_style(oss.ListStyleRequest(bucket=v2.bucket))
        assert "v2thumb" in [s.name for s in r.style_list.styles]
        _, data = v2.get("src.jpg", "style/v2thumb")
        assert open_image(data).size == (60, 30)
        _, data = v2.get("src.jpg", "style/v2thumb/rotate,90")
        assert open_image(data).size == (30, 60)
        r = v2.c.process_object(oss.ProcessObjectRequest(
            bucket=v2.bucket, key="src.jpg", process="style/v2thumb|" + saveas("out/v2s.jpg")))
        assert r.process_status == "OK"
        assert open_image(v2.get("out/v2s.jpg")[1]).size == (60, 30)
    finally:
        v2.c.delete_style(oss.DeleteStyleRequest(bucket=v2.bucket, style_name="v2thumb"))
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.c.get_style(oss.GetStyleRequest(bucket=v2.bucket, style_name="v2thumb"))
    assert v2_service_error(ei).code == "NoSuchStyle"
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.get("src.jpg", "style/v2thumb")
    e = v2_service_error(ei)
    assert (e.status_code, e.code) == (404, "NoSuchStyle")


def test_presigned_get_with_process(v2):
    r = v2.c.presign(oss.GetObjectRequest(bucket=v2.bucket, key="src.jpg",
                                          process="image/resize,w_40/format,webp"))
    assert "x-oss-process" in r.url
    resp = requests.get(r.url, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "image/webp"
    assert open_image(resp.content).size == (40, 20)


def test_async_process_of_image_is_refused(v2):
    # spec §11.4: image specs are not accepted for asynchronous processing
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.c.async_process_object(oss.AsyncProcessObjectRequest(
            bucket=v2.bucket, key="src.jpg",
            process="image/resize,w_50|" + saveas("out/async.jpg")))
    e = v2_service_error(ei)
    assert 400 <= e.status_code < 600 and e.status_code != 500, (e.status_code, e.code)
    r = v2.c.is_object_exist(v2.bucket, "out/async.jpg")
    assert r is False


def test_source_larger_than_20mb_is_refused(v2):
    # spec §2: sources up to 20 MB. The size is checked before any decoding.
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (20 * 1024 * 1024)
    v2.put("big.jpg", big)
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.get("big.jpg", "image/resize,w_10")
    e = v2_service_error(ei)
    assert e.status_code == 400, (e.status_code, e.code, e.message)
    assert e.code in ("ImageTooLarge", "InvalidArgument", "BadRequest")
    with pytest.raises(oss.exceptions.OperationError) as ei:
        v2.c.process_object(oss.ProcessObjectRequest(
            bucket=v2.bucket, key="big.jpg", process="image/resize,w_10|" + saveas("out/big.jpg")))
    assert v2_service_error(ei).status_code == 400
    assert v2.c.is_object_exist(v2.bucket, "out/big.jpg") is False
