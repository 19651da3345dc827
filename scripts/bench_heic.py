#!/usr/bin/env python3
"""HEIC output against JPEG, one ossify (release build, result cache off): for each
photo, an 800 px thumbnail at several `quality,Q_` values as JPEG and as HEIC, with
its size, its PSNR against the same thumbnail as PNG, and the server's CPU time for the
request (utime + stime from /proc, median of `--runs`); then the whole photo as HEIC
(`format,heic`), which the work estimate may refuse.

Run with the test venv (pillow-heif reads the HEIC):
    .venv/bin/python scripts/bench_heic.py --server target/release/ossify [--runs 3]
"""

import argparse
import http.client
import io
import math
import statistics
import tempfile

import pillow_heif
from PIL import Image, ImageChops

from bench_server import TESTDATA, cpu_s, start_uncached

PHOTOS = sorted(TESTDATA.glob("*.jpg"))


def get(srv, port, spec):
    """(status, body, server CPU seconds) of one GET of the photo with `spec`."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    before = cpu_s(srv.pid)
    c.request("GET", "/bench/photo.jpg?x-oss-process=image/" + spec)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body, cpu_s(srv.pid) - before


def psnr(data, ref):
    d = ImageChops.difference(Image.open(io.BytesIO(data)).convert("RGB"), ref)
    h, n = d.histogram(), ref.size[0] * ref.size[1]
    se = sum(c * (i % 256) ** 2 for i, c in enumerate(h[:768]))
    return 10 * math.log10(255 * 255 * 3 * n / se) if se else 99.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    pillow_heif.register_heif_opener()
    print("| photo | output | bytes | PSNR dB | server CPU s (median) |")
    print("|---|---|---:|---:|---:|")
    for photo in PHOTOS:
        with tempfile.TemporaryDirectory() as work:
            srv, port = start_uncached(args.server, work, {"photo.jpg": photo})
            try:
                _, png, _ = get(srv, port, "resize,w_800/format,png")
                ref = Image.open(io.BytesIO(png)).convert("RGB")
                specs = [(f"{fmt} Q{q}", f"resize,w_800/format,{fmt}/quality,Q_{q}")
                         for fmt in ("jpg", "heic") for q in (60, 80, 90)]
                specs.append(("whole photo, heic", "format,heic"))
                for name, spec in specs:
                    runs = [get(srv, port, spec) for _ in range(args.runs)]
                    status, body, _ = runs[0]
                    cpu = statistics.median(r[2] for r in runs)
                    if status != 200:
                        print(f"| {photo.name} | {name} | {status} | | {cpu:.2f} |")
                        continue
                    quality = psnr(body, ref) if spec.startswith("resize") else float("nan")
                    print(f"| {photo.name} | {name} | {len(body):,} | {quality:.2f} | {cpu:.2f} |")
            finally:
                srv.kill()
                srv.wait()


if __name__ == "__main__":
    main()
