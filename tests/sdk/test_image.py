"""Image processing (GET ?x-oss-process=image/..., styles) with oss2, V1 and V4 signatures.

Spec: /work/shared/spec/img.md (§3 resize, §4 crop family, §5 rotate, §8 format/quality,
§9 info/average-hue, §10 styles, §13 errors). Source images are generated with Pillow.
"""

import functools
import json
import re
import time

import oss2
import pytest
import requests
from oss2 import exceptions as oe

pytest.importorskip("PIL")

from conftest import (HZ, V4_REGION, QUADRANT_COLORS, Oss2Ctx, assert_request_id, b64_url,  # noqa: E402
                      crafted_png, error_of, frame_count, make_animated_gif, make_animated_webp,
                      make_image, open_image, saveas, signed_request)

W, H = 200, 100  # size of the still test images

MAGIC = {
    "jpg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "gif": (b"GIF87a", b"GIF89a"),
    "bmp": (b"BM",),
    "tiff": (b"II*\x00", b"MM\x00*"),
}
CONTENT_TYPE = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif",
                "bmp": "image/bmp", "tiff": "image/tiff", "avif": "image/avif",
                "heic": "image/heic"}
PIL_FORMAT = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP",
              "tiff": "TIFF", "avif": "AVIF", "heic": "HEIF"}


@functools.lru_cache(maxsize=None)
def srgb_icc():
    """A real ICC profile (sRGB, made by Little CMS through Pillow; dated, so made once)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def is_format(data, fmt):
    if fmt == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if fmt in ("avif", "heic"):
        return data[4:12] == b"ftyp" + fmt.encode()
    return any(data.startswith(m) for m in MAGIC[fmt])


def near(c1, c2, tol=40):
    return all(abs(a - b) <= tol for a, b in zip(c1[:3], c2[:3]))


Ctx = Oss2Ctx


class Sources(object):
    """One bucket with every source image, shared by the tests of one signature version."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.b = ctx.new_bucket("img")
        self.name = self.b.bucket_name
        self.data = {
            "src.jpg": make_image("JPEG", (W, H), quality=95),
            "quad.png": make_image("PNG", (W, H), quadrants=True),
            "quad.jpg": make_image("JPEG", (W, H), quadrants=True, quality=95),
            "alpha.png": make_image("PNG", (W, H), mode="RGBA", color=(0, 128, 255, 128)),
            "src.webp": make_image("WEBP", (W, H), quality=90),
            "still.gif": make_image("GIF", (W, H)),
            "anim.gif": make_animated_gif((80, 40), 3),
            "anim.webp": make_animated_webp((80, 40), (100, 200, 300)),
            "src.bmp": make_image("BMP", (W, H)),
            "src.tiff": make_image("TIFF", (W, H)),
            "notimage.txt": b"this is plain text, not an image\n" * 4,
            "huge.png": crafted_png(60000, 60000),
            "bomb.png": crafted_png(20000, 20000),
            "corrupt.jpg": b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x13\x37garbage" * 20,
        }
        for fmt, ext in (("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")):
            self.data["icc." + ext] = make_image(fmt, (W, H), quadrants=True,
                                                 icc_profile=srgb_icc())
        jpg = make_image("JPEG", (W, H), quadrants=True, quality=95)
        sos = jpg.index(b"\xff\xda")
        self.data["trunc-header.jpg"] = jpg[:sos - 20]   # cut inside the headers
        self.data["trunc-scan.jpg"] = jpg[:sos + (len(jpg) - sos) // 3]  # cut mid-scan
        self.data["trailing.jpg"] = jpg + b"\xff\xd8 bytes after the EOI marker"
        for key, data in self.data.items():
            self.b.put_object(key, data)

    def get(self, key, spec, bucket=None, headers=None):
        r = (bucket or self.b).get_object(key, process=spec, headers=headers)
        return r, r.read()

    def image(self, key, spec):
        r, data = self.get(key, spec)
        assert r.status == 200
        return open_image(data)


@pytest.fixture(scope="module", params=["v1", "v4"])
def ctx(request, ossify):
    c = Ctx(ossify, request.param)
    yield c
    c.cleanup()


@pytest.fixture(scope="module")
def src(ctx):
    return Sources(ctx)


def expect_error(fn, status, code=None):
    with pytest.raises(oe.OssError) as ei:
        fn()
    e = ei.value
    assert e.status == status, (e.status, e.code, e.message)
    if code is not None:
        assert e.code == code, (e.code, e.message)
    assert e.request_id
    return e


# ---------------------------------------------------------------------------
# resize
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec,size", [
    # spec §3.2 doc example (200x100 source, w_150,h_80)
    ("resize,m_lfit,w_150,h_80", (150, 75)),
    ("resize,w_150,h_80", (150, 75)),            # lfit is the default mode
    ("resize,m_mfit,w_150,h_80", (160, 80)),
    ("resize,m_fill,w_150,h_80", (150, 80)),
    ("resize,m_pad,w_150,h_80", (150, 80)),
    ("resize,m_fixed,w_150,h_80", (150, 80)),
    ("resize,m_fixed,w_50,h_70", (50, 70)),     # stretched, aspect ignored
    ("resize,m_fixed,h_60", (60, 60)),           # fixed with one side: square (§3.3)
    ("resize,w_100", (100, 50)),
    ("resize,h_50", (100, 50)),
    ("resize,p_50", (100, 50)),
    ("resize,l_100", (100, 50)),
    ("resize,s_50", (100, 50)),
    ("resize,w_400", (200, 100)),                # limit_1 (default): never enlarge
    ("resize,w_400,limit_1", (200, 100)),
    ("resize,w_400,limit_0", (400, 200)),
    ("resize,m_fixed,w_300,h_300,limit_0", (300, 300)),
    ("resize,p_150,limit_0", (300, 150)),
])
def test_resize_sizes(src, spec, size):
    r, data = src.get("src.jpg", "image/" + spec)
    assert r.status == 200
    assert r.headers["Content-Type"] == "image/jpeg"  # source format kept (§3.6)
    assert is_format(data, "jpg")
    assert open_image(data).size == size
    assert int(r.headers["Content-Length"]) == len(data)
    assert_request_id(r.headers)


@pytest.mark.parametrize("key", ["quad.png", "src.webp", "src.bmp", "src.tiff", "still.gif"])
def test_resize_keeps_source_format(src, key):
    fmt = key.rsplit(".", 1)[1]
    r, data = src.get(key, "image/resize,w_50")
    assert r.headers["Content-Type"] == CONTENT_TYPE[fmt]
    assert is_format(data, fmt)
    assert open_image(data).size == (50, 25)


def test_resize_pad_color(src):
    im = src.image("quad.png", "image/resize,m_pad,w_100,h_100").convert("RGB")
    assert im.size == (100, 100)
    assert near(im.getpixel((50, 5)), (255, 255, 255), 5)  # default pad colour: white
    assert near(im.getpixel((10, 40)), QUADRANT_COLORS[0], 5)
    im = src.image("quad.png", "image/resize,m_pad,w_100,h_100,color_FF0000").convert("RGB")
    assert near(im.getpixel((50, 5)), (255, 0, 0), 5)
    assert near(im.getpixel((50, 95)), (255, 0, 0), 5)


def test_resize_fill_crops_center(src):
    # 200x100 -> mfit 100x50 -> centre crop 50x50: columns 25..74 of the scaled image,
    # so the left half of the result is from the nw quadrant, the right half from ne.
    im = src.image("quad.png", "image/resize,m_fill,w_50,h_50").convert("RGB")
    assert im.size == (50, 50)
    assert near(im.getpixel((5, 5)), QUADRANT_COLORS[0], 10)
    assert near(im.getpixel((45, 5)), QUADRANT_COLORS[1], 10)
    assert near(im.getpixel((5, 45)), QUADRANT_COLORS[2], 10)
    assert near(im.getpixel((45, 45)), QUADRANT_COLORS[3], 10)


def test_chain_order_resize_then_rotate(src):
    # spec §1.2: actions run left to right
    assert src.image("src.jpg", "image/resize,h_50/rotate,90").size == (50, 100)
    assert src.image("src.jpg", "image/rotate,90/resize,h_50").size == (25, 50)


# ---------------------------------------------------------------------------
# crop family, rotate
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("g,color", [
    ("nw", QUADRANT_COLORS[0]), ("ne", QUADRANT_COLORS[1]),
    ("sw", QUADRANT_COLORS[2]), ("se", QUADRANT_COLORS[3]),
])
def test_crop_gravity(src, g, color):
    im = src.image("quad.png", "image/crop,w_60,h_30,g_%s" % g).convert("RGB")
    assert im.size == (60, 30)
    for xy in [(0, 0), (59, 0), (0, 29), (59, 29), (30, 15)]:
        assert im.getpixel(xy) == color, (g, xy, im.getpixel(xy))


def test_crop_center_and_offsets(src):
    im = src.image("quad.png", "image/crop,w_20,h_20,g_center").convert("RGB")
    assert im.size == (20, 20)
    assert im.getpixel((0, 0)) == QUADRANT_COLORS[0]
    assert im.getpixel((19, 19)) == QUADRANT_COLORS[3]
    im = src.image("quad.png", "image/crop,x_110,y_60,w_50,h_20").convert("RGB")
    assert im.size == (50, 20)
    assert im.getpixel((0, 0)) == QUADRANT_COLORS[3]


def test_crop_clipped_at_edge_and_start_outside(src):
    # w/h running past the edge are clipped (§4.1)
    assert src.image("quad.png", "image/crop,x_150,y_50,w_100,h_100").size == (50, 50)
    # start point outside the image -> 400 BadRequest
    e = expect_error(lambda: src.get("quad.png", "image/crop,x_500,y_0,w_10,h_10"), 400)
    assert e.code in ("BadRequest", "InvalidArgument")


def test_crop_bad_gravity(src):
    e = expect_error(lambda: src.get("quad.png", "image/crop,w_10,h_10,g_fac"), 400)
    assert e.code == "InvalidArgument"
    assert e.ec == "0040-00000209"


def test_rotate_90_swaps_size_and_turns_clockwise(src):
    r, data = src.get("quad.jpg", "image/rotate,90")
    assert r.headers["Content-Type"] == "image/jpeg"
    im = open_image(data).convert("RGB")
    assert im.size == (H, W)
    # clockwise: the source's south-west (blue) corner becomes the north-west one
    assert near(im.getpixel((5, 5)), QUADRANT_COLORS[2])
    assert near(im.getpixel((H - 5, 5)), QUADRANT_COLORS[0])
    assert near(im.getpixel((H - 5, W - 5)), QUADRANT_COLORS[1])
    assert src.image("quad.png", "image/rotate,180").size == (W, H)
    assert src.image("quad.png", "image/rotate,270").size == (H, W)
    # other angles enlarge the canvas to the bounding box
    w, h = src.image("quad.png", "image/rotate,45").size
    assert w > W and h > H


def test_circle_png_has_alpha(src):
    r, data = src.get("src.jpg", "image/circle,r_30/format,png")
    assert r.headers["Content-Type"] == "image/png"
    assert is_format(data, "png")
    im = open_image(data)
    assert im.size == (61, 61)  # 2r + 1
    assert "A" in im.getbands()
    im = im.convert("RGBA")
    assert im.getpixel((0, 0))[3] == 0
    assert im.getpixel((60, 60))[3] == 0
    assert im.getpixel((30, 30))[3] == 255
    # radius beyond half the shorter side is clamped: (100 - 1) / 2 = 49 -> 99x99
    assert src.image("src.jpg", "image/circle,r_500/format,png").size == (99, 99)


def test_circle_on_jpeg_output_is_white_outside(src):
    r, data = src.get("src.jpg", "image/circle,r_30")
    assert r.headers["Content-Type"] == "image/jpeg"
    im = open_image(data).convert("RGB")
    assert im.size == (61, 61)
    assert near(im.getpixel((0, 0)), (255, 255, 255), 20)


def test_rounded_corners_png_has_alpha(src):
    r, data = src.get("src.jpg", "image/rounded-corners,r_20/format,png")
    assert r.headers["Content-Type"] == "image/png"
    im = open_image(data)
    assert im.size == (W, H)
    assert "A" in im.getbands()
    im = im.convert("RGBA")
    for xy in [(0, 0), (W - 1, 0), (0, H - 1), (W - 1, H - 1)]:
        assert im.getpixel(xy)[3] == 0, xy
    assert im.getpixel((W // 2, H // 2))[3] == 255
    assert im.getpixel((W // 2, 0))[3] == 255


def test_indexcrop(src):
    assert src.image("quad.png", "image/indexcrop,x_60,i_1").size == (60, H)
    # the last slice is shorter
    assert src.image("quad.png", "image/indexcrop,x_60,i_3").size == (20, H)
    # index past the end returns the source
    assert src.image("quad.png", "image/indexcrop,x_60,i_10").size == (W, H)


# ---------------------------------------------------------------------------
# format / quality
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("source", ["src.jpg", "alpha.png", "src.webp"])
@pytest.mark.parametrize("fmt", ["jpg", "png", "webp", "bmp", "tiff", "avif", "heic"])
def test_format_conversion(src, source, fmt):
    r, data = src.get(source, "image/format," + fmt)
    assert r.status == 200
    assert r.headers["Content-Type"] == CONTENT_TYPE[fmt]
    assert is_format(data, fmt), data[:16]
    im = open_image(data)
    assert im.format == PIL_FORMAT[fmt]
    assert im.size == (W, H)


def test_format_avif_keeps_colours_and_alpha(src):
    im = src.image("alpha.png", "image/resize,w_100/format,avif/quality,Q_90")
    assert im.format == "AVIF" and im.size == (100, 50)
    assert im.mode == "RGBA"
    assert near(im.getpixel((10, 10)), (0, 128, 255), 12)
    assert abs(im.getpixel((10, 10))[3] - 128) <= 8


def test_format_jpg_flattens_alpha_onto_white(src):
    im = src.image("alpha.png", "image/format,jpg").convert("RGB")
    # (0,128,255) at 50% alpha over white ~ (127,191,255)
    assert near(im.getpixel((10, 10)), (127, 191, 255), 20)


def test_format_gif(src):
    # GIF output only for GIF sources (§8.1) ...
    r, data = src.get("still.gif", "image/resize,w_100/format,gif")
    assert r.headers["Content-Type"] == "image/gif"
    assert is_format(data, "gif")
    # ... a non-GIF source keeps its own format
    r, data = src.get("src.jpg", "image/format,gif")
    assert r.headers["Content-Type"] == "image/jpeg"
    assert is_format(data, "jpg")
    # and a GIF can be converted to other formats
    r, data = src.get("anim.gif", "image/format,png")
    assert r.headers["Content-Type"] == "image/png"
    assert frame_count(data) == 1


def test_quality(src):
    sizes = {}
    for q in (10, 50, 95):
        r, data = src.get("quad.jpg", "image/resize,w_190/quality,Q_%d" % q)
        assert is_format(data, "jpg")
        assert open_image(data).size == (190, 95)
        sizes[q] = len(data)
    assert sizes[10] < sizes[50] < sizes[95], sizes
    r, low = src.get("quad.jpg", "image/resize,w_190/quality,q_20")
    assert len(low) < sizes[95]
    # webp honours quality too
    _, w10 = src.get("quad.png", "image/format,webp/quality,Q_10")
    _, w90 = src.get("quad.png", "image/format,webp/quality,Q_90")
    assert is_format(w10, "webp") and is_format(w90, "webp")
    assert len(w10) <= len(w90)


def test_interlace_progressive_jpeg(src):
    _, data = src.get("src.jpg", "image/interlace,1")
    im = open_image(data)
    assert im.info.get("progressive") or im.info.get("progression")
    _, data = src.get("src.jpg", "image/interlace,0")
    assert not open_image(data).info.get("progressive")


@pytest.mark.parametrize("source", ["icc.jpg", "icc.png", "icc.webp"])
@pytest.mark.parametrize("fmt", ["jpg", "png", "webp"])
def test_icc_profile_kept(src, source, fmt):
    # Colours stay faithful: the source's ICC profile travels to the output, byte for byte
    icc = open_image(src.data[source]).info["icc_profile"]
    assert icc == srgb_icc()
    r, data = src.get(source, "image/resize,w_100/format," + fmt)
    assert r.headers["Content-Type"] == CONTENT_TYPE[fmt]
    im = open_image(data)
    assert im.size == (100, 50)
    assert im.info.get("icc_profile") == icc
    assert not im.info.get("exif")
    # a source without a profile gets none
    _, data = src.get("quad.png", "image/resize,w_100/format," + fmt)
    assert not open_image(data).info.get("icc_profile")


# ---------------------------------------------------------------------------
# info / average-hue
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("key,fmt,size", [
    ("src.jpg", "jpg", (W, H)), ("quad.png", "png", (W, H)), ("src.webp", "webp", (W, H)),
    ("anim.gif", "gif", (80, 40)), ("src.bmp", "bmp", (W, H)),
])
def test_info_json(src, key, fmt, size):
    r, data = src.get(key, "image/info")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    info = json.loads(data)
    assert isinstance(info, dict)
    for name, v in info.items():
        assert isinstance(v, dict) and set(v) == {"value"}, (name, v)
        assert isinstance(v["value"], str), (name, v)
    assert info["ImageWidth"]["value"] == str(size[0])
    assert info["ImageHeight"]["value"] == str(size[1])
    assert info["Format"]["value"] == fmt
    assert info["FileSize"]["value"] == str(len(src.data[key]))
    if "FrameCount" in info:
        assert info["FrameCount"]["value"] == ("3" if key == "anim.gif" else "1")


def test_info_after_resize_reports_source(src):
    info = json.loads(src.get("src.jpg", "image/resize,w_50/info")[1])
    assert info["ImageWidth"]["value"] == str(W)


def test_average_hue(src):
    r, data = src.get("src.jpg", "image/average-hue")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    hue = json.loads(data)
    assert set(hue) == {"RGB"}
    m = re.match(r"^0x([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$", hue["RGB"])
    assert m, hue
    assert near(tuple(int(x, 16) for x in m.groups()), (200, 30, 40), 10)
    # computed on the processed image: crop the blue quadrant first
    hue = json.loads(src.get("quad.png", "image/crop,w_50,h_30,g_sw/average-hue")[1])
    assert hue["RGB"] == "0x0000ff"


# ---------------------------------------------------------------------------
# animated GIF
# ---------------------------------------------------------------------------
def test_animated_gif_resize_keeps_frames(src):
    assert frame_count(src.data["anim.gif"]) == 3
    r, data = src.get("anim.gif", "image/resize,w_40")
    assert r.headers["Content-Type"] == "image/gif"
    assert is_format(data, "gif")
    assert open_image(data).size == (40, 20)
    assert frame_count(data) == 3
    # the frames keep their colours
    im = open_image(data)
    colours = []
    for i in range(3):
        im.seek(i)
        colours.append(im.convert("RGB").getpixel((20, 10)))
    assert near(colours[0], (255, 0, 0), 10) and near(colours[1], (0, 255, 0), 10) \
        and near(colours[2], (0, 0, 255), 10), colours


def test_animated_gif_never_enlarged_and_p_is_static(src):
    _, data = src.get("anim.gif", "image/resize,w_160,limit_0")
    assert open_image(data).size == (80, 40)  # GIFs are never enlarged (§2)
    _, data = src.get("anim.gif", "image/resize,p_50")
    assert open_image(data).size == (40, 20)
    assert frame_count(data) == 1  # resize by p flattens the animation (§2)


def frames_of(data):
    """(centre colour, duration ms) of every frame, and the loop count."""
    im = open_image(data)
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        rgb = im.convert("RGB")
        out.append((rgb.getpixel((rgb.width // 2, rgb.height // 2)), im.info.get("duration")))
    return out, im.info.get("loop")


RGB3 = ((255, 0, 0), (0, 255, 0), (0, 0, 255))


def test_animated_webp_keeps_frames(src):
    assert frame_count(src.data["anim.webp"]) == 3
    r, data = src.get("anim.webp", "image/resize,w_40/rotate,90")
    assert r.headers["Content-Type"] == "image/webp"
    assert is_format(data, "webp")
    assert open_image(data).size == (20, 40)
    frames, loop = frames_of(data)
    assert [d for _, d in frames] == [100, 200, 300], frames
    assert all(near(c, want, 10) for (c, _), want in zip(frames, RGB3)), frames
    assert loop == 0  # forever
    # format,gif on a WebP source keeps WebP (spec §8.1), still animated
    r, data = src.get("anim.webp", "image/format,gif")
    assert r.headers["Content-Type"] == "image/webp" and frame_count(data) == 3
    # resize by p gives a still, as for GIF (§2); other formats take the first frame
    _, data = src.get("anim.webp", "image/resize,p_50")
    assert open_image(data).size == (40, 20) and frame_count(data) == 1
    r, data = src.get("anim.webp", "image/format,png")
    assert r.headers["Content-Type"] == "image/png" and frame_count(data) == 1
    assert near(open_image(data).convert("RGB").getpixel((40, 20)), RGB3[0], 10)


def test_animated_gif_to_webp_keeps_frames(src):
    # OSS converts an animated GIF to an animated WebP
    r, data = src.get("anim.gif", "image/resize,w_40/format,webp")
    assert r.headers["Content-Type"] == "image/webp"
    assert open_image(data).size == (40, 20)
    frames, loop = frames_of(data)
    assert [d for _, d in frames] == [100, 100, 100], frames
    assert all(near(c, want, 10) for (c, _), want in zip(frames, RGB3)), frames
    assert loop == 0


# ---------------------------------------------------------------------------
# styles
# ---------------------------------------------------------------------------
def test_style_usage_and_extra_actions(src):
    b = src.b
    b.put_bucket_style("thumb", "image/resize,w_100")
    b.put_bucket_style("pngthumb", "image/resize,w_60/format,png")
    try:
        r = b.get_bucket_style("thumb")
        assert r.name == "thumb" and r.content == "image/resize,w_100"
        names = {s.name: s.content for s in b.list_bucket_style().styles}
        assert names.get("pngthumb") == "image/resize,w_60/format,png"

        r, data = src.get("src.jpg", "style/thumb")
        assert r.headers["Content-Type"] == "image/jpeg"
        assert open_image(data).size == (100, 50)
        # style/<name>/<more actions> appends actions
        r, data = src.get("src.jpg", "style/thumb/rotate,90")
        assert open_image(data).size == (50, 100)
        r, data = src.get("src.jpg", "style/pngthumb")
        assert r.headers["Content-Type"] == "image/png" and is_format(data, "png")
        assert open_image(data).size == (60, 30)
        r, data = src.get("src.jpg", "style/thumb/format,webp")
        assert is_format(data, "webp") and open_image(data).size == (100, 50)

        # overwrite takes effect
        b.put_bucket_style("thumb", "image/resize,w_40")
        assert open_image(src.get("src.jpg", "style/thumb")[1]).size == (40, 20)
    finally:
        b.delete_bucket_style("thumb")
        b.delete_bucket_style("pngthumb")
    e = expect_error(lambda: src.get("src.jpg", "style/thumb"), 404, "NoSuchStyle")
    assert e.message  # e.g. "The specified style does not exist."
    expect_error(lambda: b.get_bucket_style("thumb"), 404, "NoSuchStyle")


def test_style_with_bad_content_fails_on_use(src):
    b = src.b
    b.put_bucket_style("broken", "image/frobnicate,1")  # stored unvalidated (§10.2)
    try:
        assert b.get_bucket_style("broken").content == "image/frobnicate,1"
        e = expect_error(lambda: src.get("src.jpg", "style/broken"), 400)
        assert e.code == "InvalidArgument"
    finally:
        b.delete_bucket_style("broken")


def test_style_limit_50(ctx):
    b = ctx.new_bucket("styles50")
    for i in range(50):
        b.put_bucket_style("s%02d" % i, "image/resize,w_%d" % (i + 1))
    assert len(b.list_bucket_style().styles) == 50
    e = expect_error(lambda: b.put_bucket_style("s50", "image/resize,w_1"), 403)
    assert e.code == "AccessDenied"
    # overwriting an existing one is still fine
    b.put_bucket_style("s00", "image/resize,w_7")
    assert b.get_bucket_style("s00").content == "image/resize,w_7"
    b.delete_bucket_style("s01")
    b.put_bucket_style("s50", "image/resize,w_1")


# ---------------------------------------------------------------------------
# signed URLs, anonymous access
# ---------------------------------------------------------------------------
def test_presigned_url_with_process(src):
    spec = "image/resize,w_50/format,png"
    url = src.b.sign_url("GET", "src.jpg", 60, params={"x-oss-process": spec})
    assert "x-oss-process" in url
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "image/png"
    assert open_image(r.content).size == (50, 25)
    # the processing parameter is signed: changing it breaks the signature
    tampered = url.replace("w_50", "w_60")
    assert tampered != url
    r = requests.get(tampered, timeout=10)
    assert r.status_code == 403
    assert error_of(r)["Code"] == "SignatureDoesNotMatch"


def test_anonymous_processing_public_read(ctx):
    pub = ctx.new_bucket("img-pub", acl=oss2.BUCKET_ACL_PUBLIC_READ)
    priv = ctx.new_bucket("img-priv")
    data = make_image("JPEG", (W, H))
    pub.put_object("a.jpg", data)
    pub.put_object("private.jpg", data, headers={"x-oss-object-acl": "private"})
    priv.put_object("a.jpg", data)

    r = ctx.anon_bucket(pub.bucket_name).get_object("a.jpg", process="image/resize,w_100")
    assert r.status == 200
    assert open_image(r.read()).size == (100, 50)
    url = "%s/%s/a.jpg?x-oss-process=image/resize,w_20" % (ctx.env.hz, pub.bucket_name)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and open_image(r.content).size == (20, 10)

    # a literal '+' (standard base64) in the query stays a '+' (spec §1.4, §14.8)
    text = "aGVsbG8g5Zu+54mH5pyN5Yqh77yB"  # "hello 图片服务！"
    url = "%s/%s/a.jpg?x-oss-process=image/watermark,text_%s" % (ctx.env.hz, pub.bucket_name,
                                                                  text)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200, r.text
    assert open_image(r.content).size == (W, H)

    expect_error(lambda: ctx.anon_bucket(pub.bucket_name).get_object(
        "private.jpg", process="image/resize,w_100"), 403, "AccessDenied")
    expect_error(lambda: ctx.anon_bucket(priv.bucket_name).get_object(
        "a.jpg", process="image/resize,w_100"), 403, "AccessDenied")
    # ... and the processing result does not leak through info either
    expect_error(lambda: ctx.anon_bucket(priv.bucket_name).get_object(
        "a.jpg", process="image/info"), 403, "AccessDenied")


def test_reader_user_can_process(src, ctx):
    b = ctx.bucket(src.name, keys=ctx.env.reader)
    r = b.get_object("src.jpg", process="image/resize,w_30")
    assert open_image(r.read()).size == (30, 15)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("spec,code,ec,words", [
    ("image/slim,1", "InvalidArgument", "0040-00000213", ["slim"]),
    ("image/", None, "0040-00000212", []),
    ("image/resize", None, "0040-00000322", []),
    ("image/resize,m_abc,w_10", "InvalidArgument", "0040-00000311", []),
    ("image/resize,w_abc", "InvalidArgument", None, ["abc", "w"]),
    ("image/resize,w_0", "InvalidArgument", None, ["w"]),
    ("image/resize,w_99999", "InvalidArgument", None, ["99999"]),
    ("image/resize,p_1001", "InvalidArgument", None, ["1001"]),
    ("image/resize,w_10,limit_2", "InvalidArgument", None, []),
    ("image/rotate,400", "InvalidArgument", None, ["400"]),
    ("image/rotate,90,200,300", None, "0040-00000203", []),
    ("image/quality,Q_0", "InvalidArgument", None, []),
    ("image/quality,Q_101", "InvalidArgument", None, []),
    ("image/format,dng", "InvalidArgument", "0040-00000206", ["dng"]),
    ("image/format", None, "0040-00000207", []),
    ("image/bright,101", "InvalidArgument", None, []),
    ("image/blur,r_51,s_2", "InvalidArgument", None, []),
    ("image/circle,r_0", "InvalidArgument", None, []),
    ("video/snapshot,t_1000", None, None, []),
])
def test_bad_specs(src, spec, code, ec, words):
    e = expect_error(lambda: src.get("src.jpg", spec), 400, code)
    assert e.code in ("InvalidArgument", "MissingArgument", "BadRequest"), e.code
    if ec:
        assert e.ec == ec, (e.ec, e.message)
        assert e.headers.get("x-oss-ec") == ec
    for w in words:
        assert w in e.message, e.message


def test_saveas_on_get_is_rejected(src):
    spec = "image/resize,w_10|" + saveas("get-saveas.jpg")
    e = expect_error(lambda: src.get("src.jpg", spec), 400, "InvalidArgument")
    assert "saveas" in e.message
    assert not src.b.object_exists("get-saveas.jpg")


def test_missing_object_and_style(src):
    expect_error(lambda: src.get("nope.jpg", "image/resize,w_10"), 404, "NoSuchKey")
    expect_error(lambda: src.get("src.jpg", "style/nosuchstyle"), 404, "NoSuchStyle")


def test_non_image_source(src):
    e = expect_error(lambda: src.get("notimage.txt", "image/resize,w_10"), 400)
    assert e.code in ("BadRequest", "InvalidArgument")
    assert re.search(r"format|image|decode", e.message, re.I), e.message
    e = expect_error(lambda: src.get("notimage.txt", "image/info"), 400)
    assert re.search(r"format|image|decode", e.message, re.I), e.message


@pytest.mark.parametrize("key", ["huge.png", "bomb.png"])
@pytest.mark.parametrize("spec", ["image/resize,w_100", "image/format,jpg", "image/rotate,90"])
def test_decompression_bomb_rejected_quickly(src, key, spec):
    t0 = time.time()
    e = expect_error(lambda: src.get(key, spec), 400)
    assert time.time() - t0 < 3.0
    assert e.code in ("ImageTooLarge", "BadRequest", "InvalidArgument"), e.code


def test_huge_header_info_does_not_decode(src):
    # info reads the header only; answering it or refusing with 400 are both fine
    t0 = time.time()
    r = signed_request(src.ctx.auth(), "GET", src.ctx.env.hz, src.name, "huge.png",
                       params={"x-oss-process": "image/info"}, region=V4_REGION[HZ])
    assert time.time() - t0 < 3.0
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert json.loads(r.content)["ImageWidth"]["value"] == "60000"


@pytest.mark.parametrize("key", ["corrupt.jpg", "trunc-header.jpg"])
@pytest.mark.parametrize("spec", ["image/resize,w_100", "image/format,png", "image/average-hue",
                                  "image/info"])
def test_corrupt_jpeg_is_400(src, key, spec):
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec})
    if spec == "image/info" and key == "trunc-header.jpg" and r.status_code == 200:
        return  # the SOF (size) is intact: info may answer from the header
    assert r.status_code == 400, (r.status_code, r.headers.get("content-type"), r.content[:300])
    err = error_of(r)
    assert err["Code"] in ("BadRequest", "InvalidArgument"), err
    assert err.get("RequestId")


@pytest.mark.parametrize("spec", ["image/resize,w_100", "image/format,png", "image/rotate,90",
                                  "image/average-hue"])
def test_jpeg_truncated_mid_scan_is_400(src, spec):
    # A JPEG cut inside the entropy-coded data is refused like any undecodable image
    # (OSS; libvips with fail-on=truncated), not rendered with grey rows.
    r = src.ctx.raw("GET", src.name, "trunc-scan.jpg", params={"x-oss-process": spec})
    assert r.status_code == 400, (r.status_code, r.content[:300])
    err = error_of(r)
    assert err["Code"] == "BadRequest", err
    assert err["EC"] == "0040-00000005", err
    assert r.headers.get("x-oss-ec") == "0040-00000005"
    # Bytes after the EOI marker are no truncation: the same request succeeds.
    r = src.ctx.raw("GET", src.name, "trailing.jpg", params={"x-oss-process": spec})
    assert r.status_code == 200, (r.status_code, r.content[:300])


# ---------------------------------------------------------------------------
# caching headers
# ---------------------------------------------------------------------------
def test_etag_and_304(src):
    b = src.b
    key = "etag.jpg"
    b.put_object(key, make_image("JPEG", (W, H)))
    head = b.head_object(key)
    spec = "image/resize,w_50"
    r1, d1 = src.get(key, spec)
    r2, d2 = src.get(key, spec)
    etag = r1.headers["ETag"]
    assert re.match(r'^"[^"]+"$', etag), etag  # strong, quoted
    assert etag == r2.headers["ETag"]
    assert d1 == d2
    assert etag != head.headers["ETag"]
    assert r1.headers["Last-Modified"] == head.headers["Last-Modified"]
    assert src.get(key, "image/resize,w_51")[0].headers["ETag"] != etag
    assert src.get(key, "image/resize,w_50/format,png")[0].headers["ETag"] != etag

    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers.get("ETag") == etag
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-None-Match": '"0000"'})
    assert r.status_code == 200
    assert r.content == d1
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-Match": '"0000"'})
    assert r.status_code == 412
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-Match": etag})
    assert r.status_code == 200 and r.content == d1
    # If-Modified-Since with the source's Last-Modified
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-Modified-Since": head.headers["Last-Modified"]})
    assert r.status_code == 304

    # a new source version changes the processed ETag
    b.put_object(key, make_image("JPEG", (W, H), color=(1, 2, 3)))
    r3, _ = src.get(key, spec)
    assert r3.headers["ETag"] != etag
    r = src.ctx.raw("GET", src.name, key, params={"x-oss-process": spec},
                    headers={"If-None-Match": etag})
    assert r.status_code == 200


def test_process_query_key_is_case_sensitive(src):
    # spec §1.1/§14.1: X-Oss-Process is not the processing parameter: the object as is
    r = src.ctx.raw("GET", src.name, "src.jpg", params={"X-Oss-Process": "image/resize,w_10"})
    assert r.status_code == 200
    assert r.content == src.data["src.jpg"]


# ---------------------------------------------------------------------------
# auto-orient, effects, watermarks
# ---------------------------------------------------------------------------
def exif_jpeg(orientation, size=(W, H)):
    import io
    from PIL import Image

    im = Image.open(io.BytesIO(make_image("JPEG", size, quadrants=True)))
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=exif.tobytes(), quality=95)
    return buf.getvalue()


def test_auto_orient(src):
    src.b.put_object("exif6.jpg", exif_jpeg(6))
    # orientation 6: displayed rotated 90 degrees clockwise
    assert src.image("exif6.jpg", "image/auto-orient,1").size == (H, W)
    assert src.image("exif6.jpg", "image/auto-orient,0").size == (W, H)
    # applied before the other actions wherever it is written (spec §1.3)
    assert src.image("exif6.jpg", "image/resize,w_50/auto-orient,1").size == (50, 100)
    # info reports the stored (not orientation-corrected) size, plus the tag
    info = json.loads(src.get("exif6.jpg", "image/info")[1])
    assert info["ImageWidth"]["value"] == str(W)
    assert info["Orientation"]["value"] == "6"


def hue(src, key, spec):
    rgb = json.loads(src.get(key, spec)[1])["RGB"]
    return tuple(int(rgb[i:i + 2], 16) for i in (2, 4, 6))


def test_effects(src):
    for spec in ("blur,r_3,s_2", "bright,50", "bright,-50", "contrast,50", "contrast,-50",
                 "sharpen,100"):
        r, data = src.get("quad.jpg", "image/" + spec)
        assert r.headers["Content-Type"] == "image/jpeg", spec
        assert open_image(data).size == (W, H), spec
    base = sum(hue(src, "src.jpg", "image/average-hue"))
    assert sum(hue(src, "src.jpg", "image/bright,50/average-hue")) > base + 30
    assert sum(hue(src, "src.jpg", "image/bright,-50/average-hue")) < base - 30
    # blur mixes the quadrant colours along the borders
    im = src.image("quad.png", "image/blur,r_10,s_10").convert("RGB")
    assert im.getpixel((W // 2, H // 4)) not in QUADRANT_COLORS


def test_image_watermark(src):
    src.b.put_object("wm/mark.png", make_image("PNG", (20, 10), color=(0, 0, 0)))
    spec = "image/watermark,image_%s,g_nw,x_0,y_0" % b64_url("wm/mark.png")
    r, data = src.get("quad.png", spec)
    im = open_image(data).convert("RGB")
    assert im.size == (W, H)
    assert im.getpixel((5, 5)) == (0, 0, 0)
    assert im.getpixel((30, 30)) == QUADRANT_COLORS[0]
    # with its own pre-processing: resize the mark to 10x5, bottom-right corner
    inner = "wm/mark.png?x-oss-process=image/resize,w_10"
    spec = "image/watermark,image_%s,g_se,x_0,y_0" % b64_url(inner)
    im = open_image(src.get("quad.png", spec)[1]).convert("RGB")
    assert im.getpixel((W - 3, H - 3)) == (0, 0, 0)
    assert im.getpixel((W - 15, H - 3)) == QUADRANT_COLORS[3]
    # a missing watermark object is an error, not a 500
    spec = "image/watermark,image_%s" % b64_url("wm/missing.png")
    e = expect_error(lambda: src.get("quad.png", spec), 400)
    assert "wm/missing.png" in e.message


def test_text_watermark(src):
    plain = src.image("quad.png", "image/format,png").convert("RGB")
    spec = "image/watermark,text_%s,size_40,color_000000,g_center,t_100" % b64_url("Hello OSS")
    marked = open_image(src.get("quad.png", spec)[1]).convert("RGB")
    assert marked.size == (W, H)
    assert marked.tobytes() != plain.tobytes()
    e = expect_error(lambda: src.get("quad.png", "image/watermark,text_!!!"), 400)
    assert e.code in ("InvalidArgument", "BadRequest")
    # decoded text longer than 64 characters (EC 0040-00000259)
    e = expect_error(lambda: src.get("quad.png", "image/watermark,text_%s" % b64_url("x" * 65)),
                     400)
    assert e.ec == "0040-00000259"


# ---------------------------------------------------------------------------
# odd sources
# ---------------------------------------------------------------------------
def test_process_through_symlink(src):
    src.b.put_symlink("src.jpg", "link.jpg")
    r, data = src.get("link.jpg", "image/resize,w_50")
    assert r.headers["Content-Type"] == "image/jpeg"
    assert open_image(data).size == (50, 25)
    info = json.loads(src.get("link.jpg", "image/info")[1])
    assert info["FileSize"]["value"] == str(len(src.data["src.jpg"]))


def test_multipart_and_appendable_sources(src):
    data = make_image("BMP", (300, 200), quadrants=True)  # ~180 KB: two parts
    assert len(data) > 150 * 1024
    b = src.b
    up = b.init_multipart_upload("mp.bmp").upload_id
    half = 100 * 1024
    parts = [oss2.models.PartInfo(1, b.upload_part("mp.bmp", up, 1, data[:half]).etag),
             oss2.models.PartInfo(2, b.upload_part("mp.bmp", up, 2, data[half:]).etag)]
    b.complete_multipart_upload("mp.bmp", up, parts)
    im = src.image("mp.bmp", "image/resize,w_150/format,png").convert("RGB")
    assert im.size == (150, 100)
    assert im.getpixel((140, 90)) == QUADRANT_COLORS[3]
    info = json.loads(src.get("mp.bmp", "image/info")[1])
    assert info["FileSize"]["value"] == str(len(data))

    jpg = src.data["quad.jpg"]
    pos = b.append_object("app.jpg", 0, jpg[:500]).next_position
    b.append_object("app.jpg", pos, jpg[500:])
    assert src.image("app.jpg", "image/rotate,90").size == (H, W)


def test_empty_object(src):
    src.b.put_object("empty.jpg", b"")
    e = expect_error(lambda: src.get("empty.jpg", "image/resize,w_10"), 400)
    assert e.code in ("BadRequest", "InvalidArgument")


def test_style_names_and_content_validation(ctx):
    b = ctx.new_bucket("stylenames")
    b.put_bucket_style("ok_name-1.x", "image/resize,w_1")
    assert b.get_bucket_style("ok_name-1.x").content == "image/resize,w_1"
    expect_error(lambda: b.put_bucket_style("@%$^&%(&(*(*", "image/resize,w_1"), 400,
                 "InvalidArgument")
    expect_error(lambda: b.put_bucket_style("x" * 64, "image/resize,w_1"), 400,
                 "InvalidArgument")
    expect_error(lambda: b.put_bucket_style("empty", ""), 400)
    # deleting a missing style is a 204 (spec §10.2)
    assert b.delete_bucket_style("never-existed").status == 204
