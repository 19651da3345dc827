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

from conftest import Oss2Ctx, error_of, open_image, saveas  # noqa: E402

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
    from test_operator import grew, scrape

    before = scrape(src.ctx.env.endpoint())
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec})
    assert r.status_code == 400, r.content[:300]
    err = error_of(r)
    assert (err["Code"], err["EC"]) == ("ImageTooLarge", ec), err
    assert r.headers.get("x-oss-ec") == ec
    # Refused before decoding: no decode ran.
    after = scrape(src.ctx.env.endpoint())
    assert grew(before, after, "ossify_image_step_duration_seconds_count", action="decode") == 0


def test_nclx_wide_gamut_source_keeps_its_colours(src):
    """A HEIC whose colours are given as CICP codes (`nclx`: Display P3 primaries, sRGB
    transfer), as pillow-heif writes it here: its outputs carry an equivalent profile,
    or sRGB pixels where the format has no room for one."""
    import pillow_heif
    from PIL import Image, ImageCms

    pillow_heif.register_heif_opener()
    colour = (200, 100, 50)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(
        buf, "HEIF", quality=95, nclx_profile={"color_primaries": 12, "transfer_characteristics": 13,
                                               "matrix_coefficients": 6, "full_range_flag": 1})
    assert b"nclx" in buf.getvalue() and b"prof" not in buf.getvalue()
    src.b.put_object("p3-nclx.heic", buf.getvalue())
    p3 = ImageCms.ImageCmsProfile(io.BytesIO(fixture("display-p3.icc")))
    srgb = ImageCms.createProfile("sRGB")
    want = ImageCms.profileToProfile(Image.new("RGB", (1, 1), colour), p3, srgb).getpixel((0, 0))
    png = open_image(src.get("p3-nclx.heic", "image/format,png")[1])
    made = ImageCms.ImageCmsProfile(io.BytesIO(png.info["icc_profile"]))
    shown = ImageCms.profileToProfile(png.convert("RGB"), made, srgb).getpixel((32, 32))
    assert near(shown, want, 4), (shown, want)
    avif = open_image(src.get("p3-nclx.heic", "image/format,avif")[1])
    assert near(avif.convert("RGB").getpixel((32, 32)), want, 4)


@pytest.mark.parametrize("spec,fmt", [("image/resize,w_40/format,avif", "AVIF"),
                                      ("image/resize,w_40/format,bmp", "BMP"),
                                      ("image/resize,w_40/format,png", "PNG")])
def test_wide_gamut_colours_survive_formats_without_a_profile(src, spec, fmt):
    """A Display P3 photo (as phones take them) keeps its colours: formats with no room
    for the profile (AVIF as ossify writes it, BMP) get the pixels in sRGB, the
    others keep the profile."""
    from PIL import Image, ImageCms

    p3 = fixture("display-p3.icc")
    colour = (200, 100, 50)
    buf = io.BytesIO()
    Image.new("RGB", (80, 80), colour).save(buf, "JPEG", quality=95, icc_profile=p3)
    src.b.put_object("p3.jpg", buf.getvalue())
    srgb = ImageCms.profileToProfile(Image.new("RGB", (1, 1), colour),
                                     ImageCms.ImageCmsProfile(io.BytesIO(p3)),
                                     ImageCms.createProfile("sRGB")).getpixel((0, 0))
    assert srgb[0] > colour[0] + 10, srgb
    im = open_image(src.get("p3.jpg", spec)[1])
    assert im.format == fmt
    px = im.convert("RGB").getpixel((20, 20))
    if fmt == "PNG":
        assert im.info["icc_profile"] == p3
        assert near(px, colour, 3), px
    else:
        assert "icc_profile" not in im.info or not im.info["icc_profile"]
        assert near(px, srgb, 4), (px, srgb)


@pytest.mark.parametrize("key", ["trunc.heic", "garbage.heic"])
@pytest.mark.parametrize("spec", ["image/resize,w_100", "image/format,png"])
def test_broken_files_are_400_and_change_nothing(src, key, spec):
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec})
    assert r.status_code == 400, (r.status_code, r.content[:300])
    err = error_of(r)
    assert (err["Code"], err["EC"]) == ("BadRequest", "0040-00000005"), err
    assert src.b.get_object(key).read() == src.data[key]


def open_heic(data):
    """PIL image of HEIC bytes through pillow-heif (its own libheif and libde265)."""
    assert data[4:12] == b"ftypheic", data[:16]
    im = open_image(data)
    assert im.format == "HEIF"
    return im


@pytest.mark.parametrize("key", ["photo.heic", "grid.heic", "photo.avif"])
def test_heic_output_reads_back_with_its_size_colours_and_profile(src, key):
    r, data = src.get(key, "image/resize,w_160/format,heic")
    assert (r.status, r.headers["Content-Type"]) == (200, "image/heic")
    im = open_heic(data)
    assert im.size == (160, 100)
    assert near(im.convert("RGB").getpixel((10, 10)), RED)
    assert not near(im.convert("RGB").getpixel((150, 10)), RED)
    assert im.info.get("icc_profile") == fixture("srgb.icc")
    # ossify reads what it wrote.
    src.b.put_object("out/" + key, data)
    info = json.loads(src.get("out/" + key, "image/info")[1])
    assert info["Format"]["value"] == "heic"
    assert (info["ImageWidth"]["value"], info["ImageHeight"]["value"]) == ("160", "100")


def test_small_heic_output_is_cropped_to_its_size(src):
    # x265 codes at least 64x64: libheif crops with a `clap` property, which ossify's
    # header reader applies too (limits and image/info).
    data = src.get("photo.heic", "image/resize,w_40/format,heic")[1]
    assert b"clap" in data
    assert open_heic(data).size == (40, 25)
    src.b.put_object("out/small.heic", data)
    info = json.loads(src.get("out/small.heic", "image/info")[1])
    assert (info["ImageWidth"]["value"], info["ImageHeight"]["value"]) == ("40", "25")
    assert open_image(src.get("out/small.heic", "image/format,png")[1]).size == (40, 25)


def test_heic_output_is_upright_and_keeps_alpha(src):
    im = open_heic(src.get("rot6.heic", "image/format,heic")[1]).convert("RGB")
    assert im.size == (200, 320)
    assert near(im.getpixel((190, 10)), RED)
    assert not near(im.getpixel((10, 10)), RED)
    im = open_heic(src.get("alpha.heic", "image/resize,w_100/format,heic")[1])
    assert im.mode == "RGBA" and im.size == (100, 63)
    assert abs(im.getpixel((50, 30))[3] - 128) <= 3


def test_heic_output_too_thin_for_x265_is_refused_with_400(src):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2, 5000), (200, 30, 30)).save(buf, "PNG")
    src.b.put_object("thin.png", buf.getvalue())
    e = expect_error(lambda: src.get("thin.png", "image/format,heic"), 400, "ImageTooLarge")
    assert "32 px" in e.message
    # The same picture as another format is fine.
    assert open_image(src.get("thin.png", "image/format,png")[1]).size == (2, 5000)


def test_heic_output_quality_and_saveas(src):
    low = src.get("photo.heic", "image/format,heic/quality,Q_20")[1]
    high = src.get("photo.heic", "image/format,heic/quality,Q_95")[1]
    assert len(low) < len(high) / 2, (len(low), len(high))
    assert open_heic(low).size == open_heic(high).size == (320, 200)
    # sys/saveas through oss2's process_object writes the HEIC object.
    target = "saved/photo.heic"
    spec = "image/resize,w_80/format,heic|" + saveas(target, src.name)
    result = src.b.process_object("photo.heic", spec)
    assert result.status == 200
    assert open_heic(src.b.get_object(target).read()).size == (80, 50)
    assert src.b.head_object(target).content_type == "image/heic"
