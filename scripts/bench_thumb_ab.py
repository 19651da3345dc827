#!/usr/bin/env python3
"""Two ossify binaries side by side (result cache off), rounds alternating: server CPU
and wall time per thumbnail request, and whether both give the same bytes. The cases
are small thumbnails of the progressive test photos (a JPEG decode at 1/8) and one
800 px control (1/2).

    .venv/bin/python scripts/bench_thumb_ab.py BIN_BEFORE BIN_AFTER [rounds] [requests]
"""
import os, subprocess, sys, time, tempfile, socket, statistics, http.client, hashlib
import oss2
bins = sys.argv[1:3]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
reqs = int(sys.argv[4]) if len(sys.argv) > 4 else 10
cases = [("volna-5120x2880.jpg", "resize,w_300"), ("cups-2560x1600-progressive.jpg", "resize,w_150"),
         ("volna-5120x2880.jpg", "resize,w_800"), ("autumn-2560x1600.jpg", "resize,w_150")]
TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "testdata", "")
tick = os.sysconf("SC_CLK_TCK")
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split(); return (int(f[11]) + int(f[12])) / tick
servers = []
for i, b in enumerate(bins):
    work = tempfile.mkdtemp(); s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    open(work + "/c.toml", "w").write("[image]\ncache_bytes = 0\n")
    p = subprocess.Popen([b, "serve", "--config", work + "/c.toml", "--listen", f"127.0.0.1:{port}", "--data-dir", work + "/d"],
        env=dict(os.environ, OSSIFY_ACCESS_KEY_ID="bench", OSSIFY_ACCESS_KEY_SECRET="bench", OSSIFY_LOG="warn"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bk = oss2.Bucket(oss2.Auth("bench", "bench"), f"http://127.0.0.1:{port}", "bench")
    for _ in range(100):
        try: bk.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ); break
        except oss2.exceptions.RequestError: time.sleep(0.1)
    for f in set(c[0] for c in cases): bk.put_object_from_file(f, TESTDATA + f)
    servers.append((p, port))
def run(p, port, f, spec, n):
    c = http.client.HTTPConnection("127.0.0.1", port); c0 = cpu(p.pid); t = time.perf_counter(); h = None
    for _ in range(n):
        c.request("GET", f"/bench/{f}?x-oss-process=image/{spec}"); r = c.getresponse(); body = r.read(); assert r.status == 200
        h = hashlib.md5(body).hexdigest()
    return (cpu(p.pid) - c0) / n * 1000, (time.perf_counter() - t) / n * 1000, h
for f, spec in cases:
    res = {0: [], 1: []}; hashes = set()
    for r in range(rounds):
        for i in (0, 1):
            c_ms, w_ms, h = run(*servers[i], f, spec, reqs); res[i].append((c_ms, w_ms)); hashes.add(h)
    med = lambda i, k: statistics.median(x[k] for x in res[i])
    ratios = [res[1][r][0] / res[0][r][0] for r in range(rounds)]
    print(f"{f} {spec}: CPU ms before {med(0,0):.1f} after {med(1,0):.1f}; wall ms {med(0,1):.1f} / {med(1,1):.1f}; "
          f"after/before CPU per round {' '.join('%.2f' % x for x in ratios)}; outputs {'identical' if len(hashes) == 1 else 'DIFFER'}")
for p, _ in servers: p.kill()
