#!/usr/bin/env python3
"""Peak memory of concurrent thumbnails: ossify (HTTP, result cache off) against
libvips (pyvips in one process, one thread per request), the same photo and output
(800 px wide JPEG q80). Reports each process's resident memory before the work and
its peak (VmHWM) after it; the growth is what the work cost.

Run with the bench venv (pyvips): .venv-bench/bin/python scripts/bench_rss.py \
    --server target/release/ossify [--photo FILE] [--concurrency 16] [--rounds 3]
"""

import argparse
import http.client
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_images import put_photo, start_uncached_ossify  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
URL = "/bench/photo.jpg?x-oss-process=image/resize,w_800/quality,q_80"


def status_kib(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise KeyError(field)


def ossify(server, photo, concurrency, rounds, work):
    srv, port = start_uncached_ossify(server, work)
    try:
        put_photo(port, photo)
        idle = status_kib(srv.pid, "VmRSS:")
        errors = []

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            for _ in range(rounds):
                conn.request("GET", URL)
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    errors.append(r.status)
            conn.close()
        ts = [threading.Thread(target=client) for _ in range(concurrency)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        if errors:
            raise RuntimeError(f"ossify answered {errors[:5]}")
        return idle, status_kib(srv.pid, "VmHWM:")
    finally:
        srv.terminate()
        srv.wait(10)


LIBVIPS = textwrap.dedent("""
    import os, sys, threading
    os.environ["VIPS_CONCURRENCY"] = "1"
    import pyvips
    pyvips.cache_set_max(0)
    data = open(sys.argv[1], "rb").read()
    n, rounds = int(sys.argv[2]), int(sys.argv[3])
    def rss(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])
    def work():
        for _ in range(rounds):
            pyvips.Image.thumbnail_buffer(data, 800, height=100000).jpegsave_buffer(Q=80, keep=0)
    idle = rss("VmRSS:")
    ts = [threading.Thread(target=work) for _ in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    print(idle, rss("VmHWM:"))
""")


def libvips(photo, concurrency, rounds):
    out = subprocess.run([sys.executable, "-c", LIBVIPS, str(photo), str(concurrency), str(rounds)],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True)
    ap.add_argument("--photo", default=str(REPO.parent / "shared" / "testdata" / "volna-5120x2880.jpg"))
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3, help="requests per client")
    a = ap.parse_args()
    photo = Path(a.photo)
    with tempfile.TemporaryDirectory(prefix="ossify-rss-") as work:
        o = ossify(Path(a.server), photo, a.concurrency, a.rounds, Path(work))
    v = libvips(photo, a.concurrency, a.rounds)
    # libvips limited to one thread per core, as ossify's pool is: the same 48 jobs.
    cores = os.cpu_count() or 2
    v_pool = libvips(photo, cores, a.concurrency * a.rounds // cores)
    print(f"{a.concurrency} concurrent thumbnails of {photo.name} ({photo.stat().st_size} bytes) "
          f"-> 800 px q80, {a.rounds} each")
    print()
    print("| process | idle MiB | peak MiB | growth MiB |")
    print("|---|---:|---:|---:|")
    for name, (idle, peak) in [("ossify (HTTP, pool of one worker per core)", o),
                               (f"libvips ({a.concurrency} threads, one process)", v),
                               (f"libvips ({cores} threads, the same jobs)", v_pool)]:
        print(f"| {name} | {idle / 1024:.0f} | {peak / 1024:.0f} | {(peak - idle) / 1024:.0f} |")


if __name__ == "__main__":
    main()
