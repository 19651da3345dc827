"""Image requests within a work budget ([image] in the config): step count, cost and
memory estimates refused before decoding, decompression bombs, and jobs that stop when
their client has gone. Every bomb is generated here and is a few KB at most."""

import socket
import struct
import time
import urllib.parse

import oss2
import pytest
import requests
from oss2 import exceptions as oe

pytest.importorskip("PIL")

from conftest import (ROOT1, error_of, make_config, make_image, open_image,  # noqa: E402
                      unique_bucket_name)


def jpeg_declaring(w, h):
    """A real 8x8 JPEG (one block, then EOI) whose SOF declares w x h."""
    j = bytearray(make_image("JPEG", size=(8, 8)))
    sof = j.index(b"\xff\xc0")
    j[sof + 5:sof + 9] = struct.pack(">HH", h, w)
    return bytes(j)


def gif_declaring(w, h, frames):
    """A w x h canvas with `frames` one-pixel frames."""
    g = b"GIF89a" + struct.pack("<HH", w, h) + b"\x80\x00\x00" + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHH", 0, 0, 1, 1) + b"\x00" + b"\x02\x02\x44\x01\x00"
    return g + frame * frames + b"\x3b"


@pytest.fixture(scope="module")
def bucket(ossify):
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), ossify.hz, unique_bucket_name("budget"))
    b.create_bucket()
    b.put_object("small.png", make_image("PNG", size=(64, 48)))
    b.put_object("bomb.jpg", jpeg_declaring(15000, 15000))
    b.put_object("thin.jpg", jpeg_declaring(4000, 4000))
    b.put_object("frames.gif", gif_declaring(500, 500, 999))
    yield b
    for key in ("small.png", "bomb.jpg", "thin.jpg", "frames.gif"):
        b.delete_object(key)
    b.delete_bucket()


def refused(bucket, key, spec):
    with pytest.raises(oe.OssError) as ei:
        bucket.get_object(key, process=spec)
    assert ei.value.status == 400, (ei.value.code, ei.value.message)
    return ei.value


def test_step_count_is_bounded(bucket):
    spec = "image/" + "/".join(["blur,r_50,s_50"] * 40)
    e = refused(bucket, "small.png", spec)
    assert e.code == "InvalidArgument"
    assert e.message == ("The processing spec has 40 steps; at most 20 are allowed "
                         "([image] max_steps).")


def test_costly_spec_is_refused_before_decoding(bucket):
    e = refused(bucket, "small.png", "image/resize,w_4096,h_4096,m_fixed,limit_0/blur,r_50,s_50")
    assert e.code == "ImageTooLarge"
    assert "([image] max_cost)" in e.message
    # The documented examples still work.
    for spec in ("image/blur,r_3,s_2", "image/resize,w_100,limit_0/format,webp"):
        assert bucket.get_object("small.png", process=spec).status == 200


def test_decompression_bombs_are_refused(bucket):
    # 331 bytes declaring 15000x15000: refused from the header, nothing streamed; a
    # thumbnail (decoded at 1/8) fits the budget but not the scan data.
    e = refused(bucket, "bomb.jpg", "image/format,png")
    assert e.code == "ImageTooLarge" and "([image] max_memory_mb)" in e.message
    e = refused(bucket, "bomb.jpg", "image/resize,w_100")
    assert e.code == "BadRequest" and "15000x15000" in e.message
    # 4000x4000 fits the budget, but one block of scan data cannot hold it.
    e = refused(bucket, "thin.jpg", "image/format,png")
    assert e.code == "BadRequest" and "4000x4000" in e.message
    # 999 frames of 500x500 are within OSS's 250 MP but would be 1 GB decoded.
    e = refused(bucket, "frames.gif", "image/resize,w_100")
    assert "([image] max_memory_mb)" in e.message


def abandon(url, seconds):
    """Send a GET and close the connection after `seconds` without reading the answer."""
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(("GET %s?%s HTTP/1.1\r\nHost: %s\r\n\r\n" % (u.path, u.query, u.netloc)).encode())
    time.sleep(seconds)
    s.close()


def test_abandoned_requests_free_the_workers(server_factory, tmp_path):
    # Budgets big enough for hours of work: only cancellation can free the workers.
    workdir = tmp_path / "budget"
    data_dir = workdir / "data"
    config = make_config(data_dir) + "\n[image]\nmax_cost = 1000000000\nmax_time_ms = 36000000\n"
    srv = server_factory(workdir=workdir, data_dir=data_dir, config_text=config)
    srv.start()
    b = oss2.Bucket(oss2.Auth(ROOT1.id, ROOT1.secret), srv.endpoint(), unique_bucket_name("cancel"))
    b.create_bucket()
    b.put_object("small.png", make_image("PNG", size=(64, 48)))
    heavy = "image/resize,w_4096,h_4096,m_fixed,limit_0/" + "/".join(["blur,r_50,s_50"] * 19)
    # One abandoned request per worker (the server has one per core).
    for _ in range(4):
        abandon(b.sign_url("GET", "small.png", 600, params={"x-oss-process": heavy}), 0.5)
    url = b.sign_url("GET", "small.png", 600, params={"x-oss-process": "image/resize,w_32"})
    # Without cancellation this would wait for hours of blurs.
    r = requests.get(url, timeout=120)
    assert r.status_code == 200, error_of(r)
    assert open_image(r.content).size == (32, 24)
