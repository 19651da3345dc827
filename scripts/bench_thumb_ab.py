#!/usr/bin/env python3
"""Two ossify binaries side by side (result cache off), rounds alternating: server CPU
and wall time per thumbnail request, and whether both give the same bytes. The cases
are small thumbnails of the progressive test photos (a JPEG decode at 1/8) and one
800 px control (1/2).

    .venv/bin/python scripts/bench_thumb_ab.py BIN_BEFORE BIN_AFTER [rounds] [requests]
"""

import hashlib
import http.client
import statistics
import sys
import tempfile
import time

from bench_server import TESTDATA, cpu_s, start_uncached

CASES = [("volna-5120x2880.jpg", "resize,w_300"), ("cups-2560x1600-progressive.jpg", "resize,w_150"),
         ("volna-5120x2880.jpg", "resize,w_800"), ("autumn-2560x1600.jpg", "resize,w_150")]


def run(srv, port, key, spec, n):
    """Server CPU ms and wall ms per request over `n` sequential GETs, and the MD5 of
    the last response."""
    c = http.client.HTTPConnection("127.0.0.1", port)
    cpu0, t0, digest = cpu_s(srv.pid), time.perf_counter(), None
    for _ in range(n):
        c.request("GET", f"/bench/{key}?x-oss-process=image/{spec}")
        r = c.getresponse()
        body = r.read()
        assert r.status == 200, (r.status, body[:300])
        digest = hashlib.md5(body).hexdigest()
    return (cpu_s(srv.pid) - cpu0) / n * 1000, (time.perf_counter() - t0) / n * 1000, digest


def main():
    bins = sys.argv[1:3]
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    reqs = int(sys.argv[4]) if len(sys.argv) > 4 else 10
    objects = {key: TESTDATA / key for key, _ in CASES}
    servers = [start_uncached(b, tempfile.mkdtemp(), objects) for b in bins]
    try:
        for key, spec in CASES:
            res, digests = ([], []), set()
            for _ in range(rounds):
                for i, (srv, port) in enumerate(servers):
                    cpu_ms, wall_ms, digest = run(srv, port, key, spec, reqs)
                    res[i].append((cpu_ms, wall_ms))
                    digests.add(digest)

            def med(i, k):
                return statistics.median(x[k] for x in res[i])
            ratios = " ".join("%.2f" % (a[0] / b[0]) for a, b in zip(res[1], res[0]))
            print(f"{key} {spec}: CPU ms before {med(0, 0):.1f} after {med(1, 0):.1f}; "
                  f"wall ms {med(0, 1):.1f} / {med(1, 1):.1f}; after/before CPU per round {ratios}; "
                  f"outputs {'identical' if len(digests) == 1 else 'DIFFER'}")
    finally:
        for srv, _ in servers:
            srv.kill()


if __name__ == "__main__":
    main()
