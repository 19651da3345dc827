#!/usr/bin/env python3
"""Server CPU per 800 px q80 thumbnail (one sequential keep-alive client, result cache
off, CPU from /proc in 10 ms ticks) against libvips making the same thumbnail in a
process of its own on one thread (`thumbnail_buffer` + `jpegsave_buffer`,
VIPS_CONCURRENCY=1, `time.process_time`), rounds alternating; the ratio is the median
of the per-round ratios. libvips runs in the bench venv (`scripts/bench-images.sh`
makes it); this script runs in the test venv (oss2).

    .venv/bin/python scripts/bench_server_cpu.py BIN ROUNDS REQUESTS PHOTO...
"""

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_server import cpu_s, start_uncached

SCRIPTS = Path(__file__).resolve().parent
BENCH_PYTHON = SCRIPTS.parent / ".venv-bench" / "bin" / "python"

# The libvips side, in the bench venv: bench_images.py's thumbnail (with its settings:
# one thread, libvips' operation cache off) `n` times per request line, CPU ms each.
WORKER = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
from bench_images import vips_jpeg
cache = {}
for line in sys.stdin:
    path, n = line.split()
    data = cache.setdefault(path, open(path, "rb").read())
    vips_jpeg(data)
    t0 = time.process_time()
    for _ in range(int(n)):
        vips_jpeg(data)
    print((time.process_time() - t0) / int(n) * 1000, flush=True)
'''


def main():
    binary, rounds, n, photos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    srv, port = start_uncached(binary, tempfile.mkdtemp(), {Path(p).name: Path(p) for p in photos})
    vips = subprocess.Popen([str(BENCH_PYTHON), "-c", WORKER, str(SCRIPTS)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, VIPS_CONCURRENCY="1"))
    conn = http.client.HTTPConnection("127.0.0.1", port)

    def get(url):
        conn.request("GET", url)
        r = conn.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body[:300])

    def server_ms(key):
        url = f"/bench/{key}?x-oss-process=image/resize,w_800/quality,q_80"
        get(url)
        c0 = cpu_s(srv.pid)
        for _ in range(n):
            get(url)
        return (cpu_s(srv.pid) - c0) / n * 1000

    def libvips_ms(path):
        vips.stdin.write(f"{path} {n}\n")
        vips.stdin.flush()
        return float(vips.stdout.readline())

    try:
        for p in photos:
            o, v = [], []
            for _ in range(rounds):
                o.append(server_ms(Path(p).name))
                v.append(libvips_ms(p))
            ratios = [a / b for a, b in zip(o, v)]
            print("%-32s server %.1f ms  libvips %.1f ms  ratio %.2f  (per round %s)" % (
                Path(p).name, statistics.median(o), statistics.median(v),
                statistics.median(ratios), " ".join("%.2f" % r for r in ratios)), flush=True)
    finally:
        srv.kill()
        vips.kill()


if __name__ == "__main__":
    main()
