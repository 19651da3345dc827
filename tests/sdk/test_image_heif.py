"""HEIC and AVIF sources (iPhone photos, AV1 stills) through oss2, V1 and V4 signatures:
decoded and processed like JPEG, turned by the container's rotation, with their ICC
profile; limits checked from the container header; broken files are OSS's 400.

Fixtures (tests/fixtures/README.md): 320x200 photos with a red 60 px square at the top
left; rot6.* carry `irot` (and EXIF Orientation 6), so they show as 200x320 with the
square at the top right.
"""

import io
import json
import pathlib
import struct

import pytest
from oss2 import exceptions as oe

pytest.importorskip("PIL")

from conftest import Oss2Ctx, error_of, open_image  # noqa: E402

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "fixtures"
RED = (255, 0, 0)


def fixture(name):
    return (FIXTURES / name).read_bytes()


def with_ispe(data, w, h):
    """The file with its (only) `ispe` property declaring w x h."""
    i = data.index(b"ispe")
    return data[:i + 8] + struct.pack(">II", w, h) + data[i + 16:]


def near(c1, c2, tol=50):
    return all(abs(a - b) <= tol for a, b in zip(c1[:3], c2[:3]))


class Sources(object):
    def __init__(self, ctx):
        self.ctx = ctx
        self.b = ctx.new_bucket("heif")
        self.name = self.b.bucket_name
        self.data = {name: fixture(name) for name in
                     ("photo.heic", "rot6.heic", "alpha.heic", "grid.heic", "photo.avif",
                      "rot6.avif")}
        heic = self.data["photo.heic"]
        self.data["huge.heic"] = with_ispe(heic, 30001, 200)
        self.data["bomb.avif"] = with_ispe(self.data["photo.avif"], 20000, 20000)
        self.data["trunc.heic"] = heic[:len(heic) // 2]
        self.data["garbage.heic"] = heic[:32] + b"\x13\x37garbage" * 20
        for key, data in self.data.items():
            self.b.put_object(key, data)

    def get(self, key, spec):
        r = self.b.get_object(key, process=spec)
        return r, r.read()


@pytest.fixture(scope="module", params=["v1", "v4"])
def src(request, ossify):
    c = Oss2Ctx(ossify, request.param)
    yield Sources(c)
    c.cleanup()


def expect_error(fn, status, code):
    with pytest.raises(oe.OssError) as ei:
        fn()
    e = ei.value
    assert (e.status, e.code) == (status, code), (e.status, e.code, e.message)
    assert e.request_id
    return e


@pytest.mark.parametrize("key", ["photo.heic", "grid.heic"])
def test_heic_resize_gives_jpeg(src, key):
    r, data = src.get(key, "image/resize,w_100")
    assert r.status == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    im = open_image(data)
    assert (im.format, im.size) == ("JPEG", (100, 63))
    assert near(im.convert("RGB").getpixel((5, 5)), RED)
    assert not near(im.convert("RGB").getpixel((95, 5)), RED)


def test_avif_resize_stays_avif_and_converts(src):
    r, data = src.get("photo.avif", "image/resize,w_100")
    assert r.headers["Content-Type"] == "image/avif"
    im = open_image(data)
    assert (im.format, im.size) == ("AVIF", (100, 63))
    r, data = src.get("photo.avif", "image/resize,w_100/format,jpg")
    assert r.headers["Content-Type"] == "image/jpeg"
    im = open_image(data)
    assert (im.format, im.size) == ("JPEG", (100, 63))
    assert near(im.getpixel((5, 5)), RED)


@pytest.mark.parametrize("key", ["rot6.heic", "rot6.avif"])
@pytest.mark.parametrize("spec", ["image/resize,w_100/format,png",
                                  "image/auto-orient,1/resize,w_100/format,png"])
def test_container_rotation_is_applied_once(src, key, spec):
    im = open_image(src.get(key, spec)[1]).convert("RGB")
    assert im.size == (100, 160)
    assert near(im.getpixel((95, 5)), RED)
    assert not near(im.getpixel((5, 5)), RED)


@pytest.mark.parametrize("key", ["photo.heic", "grid.heic", "photo.avif"])
def test_icc_profile_is_kept(src, key):
    from PIL import ImageCms

    im = open_image(src.get(key, "image/resize,w_50/format,png")[1])
    icc = im.info.get("icc_profile")
    assert icc and icc == fixture("srgb.icc")
    assert ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))


def test_alpha_survives_into_png(src):
    im = open_image(src.get("alpha.heic", "image/format,png")[1])
    assert im.mode == "RGBA"
    assert abs(im.getpixel((100, 100))[3] - 128) <= 3


@pytest.mark.parametrize("key,fmt,size", [("photo.heic", "heic", (320, 200)),
                                          ("rot6.heic", "heic", (200, 320)),
                                          ("photo.avif", "avif", (320, 200)),
                                          ("huge.heic", "heic", (30001, 200))])
def test_info_reports_format_and_size(src, key, fmt, size):
    r, data = src.get(key, "image/info")
    assert r.headers["Content-Type"] == "application/json"
    info = json.loads(data)
    assert info["Format"]["value"] == fmt
    assert (int(info["ImageWidth"]["value"]), int(info["ImageHeight"]["value"])) == size
    assert info["FileSize"]["value"] == str(len(src.data[key]))


@pytest.mark.parametrize("key,spec,ec", [
    ("huge.heic", "image/resize,w_100", "0040-00000009"),
    ("bomb.avif", "image/rotate,90", "0040-00000012"),
])
def test_limits_from_the_header(src, key, spec, ec):
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec})
    assert r.status_code == 400, r.content[:300]
    err = error_of(r)
    assert (err["Code"], err["EC"]) == ("ImageTooLarge", ec), err
    assert r.headers.get("x-oss-ec") == ec


@pytest.mark.parametrize("key", ["trunc.heic", "garbage.heic"])
@pytest.mark.parametrize("spec", ["image/resize,w_100", "image/format,png"])
def test_broken_files_are_400_and_change_nothing(src, key, spec):
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec})
    assert r.status_code == 400, (r.status_code, r.content[:300])
    err = error_of(r)
    assert (err["Code"], err["EC"]) == ("BadRequest", "0040-00000005"), err
    assert src.b.get_object(key).read() == src.data[key]


def test_heic_output_is_not_implemented(src):
    expect_error(lambda: src.get("photo.heic", "image/format,heic"), 501, "NotImplemented")
