#!/usr/bin/env python3
"""Side-by-side benchmark: ossify's image engine against libvips, one core.

Run through scripts/bench-images.sh, which prepares the venv (pyvips + pyvips-binary),
builds the release bench binary and passes it as --bin.

For every source image and operation, batches of libvips runs (pyvips, in this
process) and ossify runs (`image::process` in the bench binary's --timing-server mode,
a long-lived child process) are interleaved, round after round, so that both see the
same machine state. Each run is timed with the process CPU clock (all threads) and
the wall clock; the figures are medians over all runs, and the ratio is
ossify / libvips (below 1.00 means ossify needs less CPU).

libvips runs with VIPS_CONCURRENCY=1 and its operation cache disabled, so every call
does the whole job.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

os.environ.setdefault("VIPS_CONCURRENCY", "1")
import pyvips  # noqa: E402  (must come after VIPS_CONCURRENCY is set)

pyvips.cache_set_max(0)
pyvips.cache_set_max_mem(0)
pyvips.cache_set_max_files(0)

REPO = Path(__file__).resolve().parent.parent
# `keep` replaced `strip` in libvips 8.15.
NO_METADATA = {"keep": 0} if (pyvips.version(0), pyvips.version(1)) >= (8, 15) else {"strip": True}

# ---------------------------------------------------------------------------------
# Operations: (name, libvips function, ossify spec, target ratio or None)
# ---------------------------------------------------------------------------------


def vips_jpeg(data):
    return pyvips.Image.thumbnail_buffer(data, 800).jpegsave_buffer(Q=80)


def vips_jpeg_small(data):
    return pyvips.Image.thumbnail_buffer(data, 150).jpegsave_buffer(Q=80)


def vips_webp(data):
    return pyvips.Image.thumbnail_buffer(data, 800).webpsave_buffer(Q=80)


def vips_png(data):
    return pyvips.Image.thumbnail_buffer(data, 800).pngsave_buffer()


JPEG_OPS = [
    ("jpeg->jpeg 800 q80", vips_jpeg, "image/resize,w_800/quality,Q_80", 0.85),
    ("jpeg->webp 800 q80", vips_webp, "image/resize,w_800/quality,Q_80/format,webp", 0.90),
    # A list or grid thumbnail: a 1/8 DCT shrink for every photo here.
    ("jpeg->jpeg 150 q80", vips_jpeg_small, "image/resize,w_150/quality,Q_80", None),
]
PNG_OPS = [
    ("png->png 800", vips_png, "image/resize,w_800", 1.00),
]

# ---------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------


def jpeg_kind(data):
    """'baseline'/'progressive' and the chroma subsampling, from the SOF marker."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            break
        m = data[i + 1]
        seg = int.from_bytes(data[i + 2 : i + 4], "big")
        if m in (0xC0, 0xC1, 0xC2):
            nc = data[i + 9]
            fac = [data[i + 11 + 3 * k] for k in range(nc)]
            sub = "4:4:4"
            if nc == 3 and fac[1] == fac[2] == 0x11:
                sub = {0x22: "4:2:0", 0x21: "4:2:2", 0x11: "4:4:4"}.get(fac[0], hex(fac[0]))
            return ("progressive" if m == 0xC2 else "baseline"), sub
        if m == 0xDA:
            break
        i += 2 + seg
    return "?", "?"


def prepare_sources(bin_path, testdata, work):
    """[(name, path, kind)] with kind 'jpeg' or 'png'. Never needs testdata to exist."""
    srcs = []
    photos = ["volna-5120x2880.jpg", "autumn-2560x1600.jpg", "cups-2560x1600-progressive.jpg"]
    present = [testdata / p for p in photos if (testdata / p).is_file()]
    for p in present:
        srcs.append((p.stem, p, "jpeg"))

    # A camera-like 12 MP baseline 4:2:0 q90 JPEG, made from the large photo the way
    # perf-notes made its photo4k.jpg (centre crop to 4:3, resize to 4000x3000).
    gen = work / "generated-4000x3000.jpg"
    subprocess.run([str(bin_path), "--write-generated", str(gen)], check=True)
    volna = testdata / "volna-5120x2880.jpg"
    if volna.is_file():
        im = pyvips.Image.new_from_file(str(volna))
        side = min(im.width, im.height * 4 // 3)
        im = im.crop((im.width - side) // 2, 0, side, im.height)
        im = im.resize(4000 / im.width)
        im = im.crop(0, 0, 4000, min(3000, im.height))
        p = work / "volna-4000x3000-baseline-q90.jpg"
        im.jpegsave(str(p), Q=90, subsample_mode="on", interlace=False, **NO_METADATA)
        srcs.insert(0, (p.stem, p, "jpeg"))
    srcs.append((gen.stem, gen, "jpeg"))

    # PNG source: the 2560x1600 photo as an opaque RGB PNG (libvips default
    # compression 6), or the generated image fitted to 2560 px.
    autumn = testdata / "autumn-2560x1600.jpg"
    base = pyvips.Image.new_from_file(str(autumn)) if autumn.is_file() else pyvips.Image.thumbnail(str(gen), 2560)
    png = work / ("autumn-2560x1600.png" if autumn.is_file() else "generated-2560.png")
    base.pngsave(str(png), **NO_METADATA)
    srcs.append((png.stem, png, "png"))
    return srcs


# ---------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------


class Ossify:
    """The bench binary in --timing-server mode."""

    def __init__(self, bin_path):
        self.p = subprocess.Popen(
            [str(bin_path), "--timing-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(self, n, spec, path):
        self.p.stdin.write(f"run {n} {spec} {path}\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        if "error" in r:
            raise RuntimeError(f"ossify {spec} {path}: {r['error']}")
        return r

    def close(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        self.p.wait()


def vips_batch(fn, data, n):
    cpu, wall, out = [], [], b""
    for _ in range(n):
        c0, w0 = time.process_time_ns(), time.perf_counter_ns()
        out = fn(data)
        c1, w1 = time.process_time_ns(), time.perf_counter_ns()
        cpu.append((c1 - c0) / 1e6)
        wall.append((w1 - w0) / 1e6)
    return {"cpu_ms": cpu, "wall_ms": wall, "bytes": len(out)}


def side_by_side(srcs, bin_path, rounds, iters):
    cases = []
    for name, path, kind in srcs:
        data = path.read_bytes()
        for op, fn, spec, target in JPEG_OPS if kind == "jpeg" else PNG_OPS:
            cases.append(
                {
                    "source": name,
                    "path": str(path),
                    "data": data,
                    "op": op,
                    "fn": fn,
                    "spec": spec,
                    "target": target,
                    "vips": {"cpu_ms": [], "wall_ms": []},
                    "ossify": {"cpu_ms": [], "wall_ms": []},
                }
            )
    oss = Ossify(bin_path)
    try:
        for c in cases:  # warm-up, untimed, and output sizes
            c["vips"]["bytes"] = len(c["fn"](c["data"]))
            c["ossify"]["bytes"] = oss.run(0, c["spec"], c["path"])["bytes"]
        watch = OtherLoad(oss.p.pid)
        for r in range(rounds):
            print(f"  round {r + 1}/{rounds}", file=sys.stderr, flush=True)
            order = cases if r % 2 == 0 else list(reversed(cases))
            for c in order:
                pair = [("vips", None), ("ossify", None)]
                if r % 2:
                    pair.reverse()
                for who, _ in pair:
                    if who == "vips":
                        res = vips_batch(c["fn"], c["data"], iters)
                    else:
                        res = oss.run(iters, c["spec"], c["path"])
                    c[who]["cpu_ms"] += res["cpu_ms"]
                    c[who]["wall_ms"] += res["wall_ms"]
                    c[who]["bytes"] = res["bytes"]
        other = watch.cores()
    finally:
        oss.close()
    for c in cases:
        for who in ("vips", "ossify"):
            c[who]["cpu_med"] = statistics.median(c[who]["cpu_ms"])
            c[who]["wall_med"] = statistics.median(c[who]["wall_ms"])
            c[who]["cpu_min"] = min(c[who]["cpu_ms"])
        c["ratio_cpu"] = c["ossify"]["cpu_med"] / c["vips"]["cpu_med"]
        c["ratio_wall"] = c["ossify"]["wall_med"] / c["vips"]["wall_med"]
        del c["data"], c["fn"]
    return cases, other


def machine_busy_s():
    """CPU seconds all processes on the machine have used since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How many cores other processes kept busy while we measured (should be ~0)."""

    def __init__(self, child_pid):
        self.child = child_pid
        self.t0 = time.perf_counter()
        self.busy0 = machine_busy_s()
        self.own0 = self.own()

    def own(self):
        t = os.times()
        return t.user + t.system + proc_cpu_s(self.child)

    def cores(self):
        wall = time.perf_counter() - self.t0
        return max(0.0, (machine_busy_s() - self.busy0) - (self.own() - self.own0)) / wall


# ---------------------------------------------------------------------------------
# Optional HTTP throughput: ossify server, 2 clients vs libvips, 2 worker processes
# ---------------------------------------------------------------------------------

AK, SK = "LTAIbench", "benchsecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed(conn, method, resource, body=b"", headers=None):
    """One V1-signed request (Date + Authorization), for setup only."""
    headers = dict(headers or {})
    date = formatdate(usegmt=True)
    ctype = headers.get("Content-Type", "")
    oss_headers = "".join(f"{k.lower()}:{v}\n" for k, v in sorted(headers.items()) if k.lower().startswith("x-oss-"))
    to_sign = f"{method}\n\n{ctype}\n{date}\n{oss_headers}{resource}"
    sig = base64.b64encode(hmac.new(SK.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()
    headers.update({"Date": date, "Authorization": f"OSS {AK}:{sig}"})
    conn.request(method, resource, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise RuntimeError(f"{method} {resource}: {r.status} {data[:300]!r}")
    return data


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def proc_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def vips_worker(path, jobs, done):
    """A libvips process: runs `n` thumbnails per job from `jobs`, reports the loop time."""
    data = Path(path).read_bytes()
    vips_jpeg(data)
    for n in iter(jobs.get, None):
        t0 = time.perf_counter()
        for _ in range(n):
            vips_jpeg(data)
        done.put(time.perf_counter() - t0)


THUMBOR_CONF = """
LOADER = 'thumbor.loaders.file_loader'
FILE_LOADER_ROOT_PATH = %r
STORAGE = 'thumbor.storages.no_storage'
RESULT_STORAGE = None
ALLOW_UNSAFE_URL = True
QUALITY = 80
"""


def start_thumbor(src_path, work):
    """thumbor (Pillow) as 2 processes, each on its own port, with the file loader and no
    storage of sources or results, serving `src_path`; ([], []) when thumbor is not
    installed. (With `--processes 2` on one port, both keep-alive clients often land on
    one process, which then works alone: rounds swung between 1x and 2x.)"""
    exe = Path(sys.executable).with_name("thumbor")
    if not exe.exists():
        return [], []
    conf = work / "thumbor.conf"
    conf.write_text(THUMBOR_CONF % str(Path(src_path).parent))
    ports = [free_port(), free_port()]
    procs = [subprocess.Popen(
        [str(exe), "--port", str(port), "--conf", str(conf), "--processes", "1", "-l", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) for port in ports]
    return procs, ports


def wait_port(port):
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


def start_uncached_ossify(server_bin, work):
    """ossify on a free port with its result cache off (every request renders, as in
    the peers); returns the process and the port."""
    port = free_port()
    conf = work / "ossify.toml"
    conf.write_text("[image]\ncache_bytes = 0\n")
    env = dict(os.environ, OSSIFY_ACCESS_KEY_ID=AK, OSSIFY_ACCESS_KEY_SECRET=SK, OSSIFY_LOG="warn")
    srv = subprocess.Popen(
        [str(server_bin), "serve", "--config", str(conf), "--listen", f"127.0.0.1:{port}",
         "--data-dir", str(work / "http-data")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return srv, port


def stop(proc):
    """SIGTERM, then SIGKILL after 10 s."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def put_photo(port, src_path):
    """Once the server listens: public-read bucket `bench` with `photo.jpg`."""
    wait_port(port)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    signed(c, "PUT", "/bench/", headers={"x-oss-acl": "public-read"})
    signed(c, "PUT", "/bench/photo.jpg", body=Path(src_path).read_bytes(), headers={"Content-Type": "image/jpeg"})
    c.close()


def warm_up(port, url):
    """One GET of `url`, which must succeed."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request("GET", url)
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise RuntimeError(f"GET :{port}{url}: {r.status} {body[:300]!r}")


def http_clients(ports, url, requests_per_client, errors):
    """req/s of 2 HTTP clients, one on each of `ports`, each doing `requests_per_client`
    GETs of `url`."""
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60) for port in ports]

    def client(conn):
        for _ in range(requests_per_client):
            conn.request("GET", url)
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                errors.append(resp.status)

    t0 = time.perf_counter()
    ts = [threading.Thread(target=client, args=(conn,)) for conn in conns]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    rps = 2 * requests_per_client / (time.perf_counter() - t0)
    for conn in conns:
        conn.close()
    return rps


def http_throughput(server_bin, src_path, requests_per_client, rounds, work):
    """Rounds that alternate ossify (2 HTTP clients), libvips (2 processes) and, when
    installed, thumbor (2 processes, 2 HTTP clients) on the same work, so that all see
    the same machine; each ratio is the median over rounds. ossify runs with its result
    cache off: every request decodes and encodes, as in the peers."""
    srv, port = start_uncached_ossify(server_bin, work)
    thumbor, thumbor_ports = start_thumbor(src_path, work)
    ctx = multiprocessing.get_context("spawn")
    jobs, done = ctx.Queue(), ctx.Queue()
    vips = [ctx.Process(target=vips_worker, args=(str(src_path), jobs, done)) for _ in range(2)]
    for p in vips:
        p.start()
    try:
        put_photo(port, src_path)
        url = "/bench/photo.jpg?x-oss-process=image/resize,w_800/quality,Q_80"
        warm_up(port, url)
        thumbor_url = "/unsafe/800x0/filters:quality(80)/" + Path(src_path).name
        for thumbor_port in thumbor_ports:
            wait_port(thumbor_port)
            warm_up(thumbor_port, thumbor_url)

        errors, thumbor_errors = [], []
        total = 2 * requests_per_client
        per_round = []
        cpu_ms = []
        for _ in range(rounds):
            cpu0 = proc_cpu_s(srv.pid)
            o_rps = http_clients([port, port], url, requests_per_client, errors)
            cpu_ms.append((proc_cpu_s(srv.pid) - cpu0) * 1000 / total)
            for _ in vips:
                jobs.put(requests_per_client)
            v_rps = total / max(done.get() for _ in vips)
            t_rps = http_clients(thumbor_ports, thumbor_url, requests_per_client,
                                 thumbor_errors) if thumbor else None
            per_round.append((o_rps, v_rps, t_rps))
        ossify = {
            "requests_per_round": total,
            "errors": len(errors),
            "req_per_s": statistics.median(o for o, _, _ in per_round),
            "server_cpu_ms_per_req": statistics.median(cpu_ms),
            "server_peak_rss_mb": proc_rss_mb(srv.pid),
        }
    finally:
        for _ in vips:
            jobs.put(None)
        for p in vips:
            p.join()
        for proc in [srv, *thumbor]:
            stop(proc)
    return {
        "source": Path(src_path).stem,
        "rounds": [{"ossify_req_per_s": o, "libvips_req_per_s": v, "thumbor_req_per_s": t}
                   for o, v, t in per_round],
        "ossify": ossify,
        "libvips": {"req_per_s": statistics.median(v for _, v, _ in per_round)},
        "ratio_req_per_s": statistics.median(o / v for o, v, _ in per_round),
        "thumbor": {
            "req_per_s": statistics.median(t for _, _, t in per_round),
            "errors": len(thumbor_errors),
        } if thumbor else None,
        "ratio_thumbor_req_per_s":
            statistics.median(o / t for o, _, t in per_round) if thumbor else None,
    }


def http_latency(server_bin, src_path, requests, rounds, work):
    """Wall time of one thumbnail: ossify over HTTP with one sequential keep-alive client
    (result cache off), against libvips in this process (`thumbnail_buffer` +
    `jpegsave_buffer`, VIPS_CONCURRENCY as set); rounds alternate the two, and each
    ratio is of the medians of one round."""
    srv, port = start_uncached_ossify(server_bin, work)
    data = Path(src_path).read_bytes()
    try:
        put_photo(port, src_path)
        url = "/bench/photo.jpg?x-oss-process=image/resize,w_800/quality,Q_80"
        warm_up(port, url)
        vips_jpeg(data)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        per_round = []
        for _ in range(rounds):
            o = []
            for _ in range(requests):
                t0 = time.perf_counter()
                conn.request("GET", url)
                resp = conn.getresponse()
                resp.read()
                o.append(time.perf_counter() - t0)
                if resp.status != 200:
                    raise RuntimeError(f"GET {url}: {resp.status}")
            v = []
            for _ in range(requests):
                t0 = time.perf_counter()
                vips_jpeg(data)
                v.append(time.perf_counter() - t0)
            per_round.append((statistics.median(o) * 1000, statistics.median(v) * 1000))
        conn.close()
    finally:
        stop(srv)
    return {
        "source": Path(src_path).stem,
        "rounds": [{"ossify_ms": o, "libvips_ms": v} for o, v in per_round],
        "ossify_ms": statistics.median(o for o, _ in per_round),
        "libvips_ms": statistics.median(v for _, v in per_round),
        "ratio": statistics.median(o / v for o, v in per_round),
    }


# ---------------------------------------------------------------------------------


def machine():
    info = {"nproc": os.cpu_count(), "python": platform.python_version()}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["libvips"] = ".".join(str(pyvips.version(i)) for i in range(3))
    info["pyvips"] = pyvips.__version__
    info["VIPS_CONCURRENCY"] = os.environ.get("VIPS_CONCURRENCY")
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the `image` bench binary (cargo bench --no-run)")
    ap.add_argument("--server", help="release `ossify` binary; enables the HTTP throughput comparison")
    ap.add_argument("--testdata", default=os.environ.get("OSSIFY_TESTDATA", str(REPO.parent / "shared" / "testdata")))
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--iters", type=int, default=4, help="runs per batch")
    ap.add_argument("--http-requests", type=int, default=40, help="requests per client and round")
    ap.add_argument("--http-rounds", type=int, default=5, help="alternating ossify/libvips HTTP rounds")
    ap.add_argument("--json", help="write the raw results here")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ossify-bench-"))
    try:
        info = machine()
        print("machine:", json.dumps(info), file=sys.stderr)
        srcs = prepare_sources(Path(a.bin), Path(a.testdata), work)
        for name, path, kind in srcs:
            im = pyvips.Image.new_from_file(str(path))
            extra = " %s %s" % jpeg_kind(path.read_bytes()) if kind == "jpeg" else ""
            print(f"source {name}: {im.width}x{im.height}, {path.stat().st_size} bytes{extra}", file=sys.stderr)
        cases, other = side_by_side(srcs, Path(a.bin), a.rounds, a.iters)
        info["other_processes_cores"] = round(other, 3)
        if other > 0.1:
            print(f"\nWARNING: other processes kept {other:.2f} cores busy during the measurement; "
                  "they compete for caches and cores: rerun when the machine is idle.", file=sys.stderr)

        print()
        print(f"libvips {info['libvips']} (VIPS_CONCURRENCY={info['VIPS_CONCURRENCY']}) vs ossify image::process, "
              f"CPU ms per operation, median of {a.rounds * a.iters} interleaved runs each "
              f"(other processes used {other:.2f} cores meanwhile)")
        print()
        print("| source | operation | libvips CPU ms | ossify CPU ms | ossify/libvips CPU | target | wall ratio | libvips bytes | ossify bytes |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for c in cases:
            t = f"≤ {c['target']:.2f}" if c["target"] else ""
            print(
                f"| {c['source']} | {c['op']} | {c['vips']['cpu_med']:.1f} | {c['ossify']['cpu_med']:.1f} | "
                f"**{c['ratio_cpu']:.2f}** | {t} | {c['ratio_wall']:.2f} | {c['vips']['bytes']} | {c['ossify']['bytes']} |"
            )
        result = {"machine": info, "rounds": a.rounds, "iters": a.iters, "cases": cases}

        if a.server:
            big = next((p for n, p, k in srcs if k == "jpeg"), None)
            print(f"\nHTTP throughput ({big.stem}, resize w_800 q80, {a.http_rounds} rounds of 2 x {a.http_requests} requests)...",
                  file=sys.stderr)
            h = http_throughput(Path(a.server), big, a.http_requests, a.http_rounds, work)
            result["http"] = h
            print()
            print(f"Median of {a.http_rounds} alternating rounds; per round ossify/libvips: "
                  + ", ".join(f"{r['ossify_req_per_s'] / r['libvips_req_per_s']:.2f}" for r in h["rounds"]))
            print()
            print("| source | ossify HTTP, 2 clients: req/s | server CPU ms/req | server peak RSS MB | libvips, 2 processes: req/s | ossify/libvips req/s |")
            print("|---|---:|---:|---:|---:|---:|")
            o, v = h["ossify"], h["libvips"]
            print(f"| {h['source']} | {o['req_per_s']:.1f} | {o['server_cpu_ms_per_req']:.1f} | {o['server_peak_rss_mb']:.0f} | "
                  f"{v['req_per_s']:.1f} | **{h['ratio_req_per_s']:.2f}** |")
            if o["errors"]:
                print(f"\n{o['errors']} ossify requests failed")
            if h["thumbor"]:
                t = h["thumbor"]
                print()
                print("Per round ossify/thumbor: " + ", ".join(
                    f"{r['ossify_req_per_s'] / r['thumbor_req_per_s']:.2f}" for r in h["rounds"]))
                print()
                print("| source | ossify HTTP, 2 clients: req/s | thumbor, 2 processes, 2 clients: req/s | ossify/thumbor req/s |")
                print("|---|---:|---:|---:|")
                print(f"| {h['source']} | {o['req_per_s']:.1f} | {t['req_per_s']:.1f} | **{h['ratio_thumbor_req_per_s']:.2f}** |")
                if t["errors"]:
                    print(f"\n{t['errors']} thumbor requests failed")

        if a.server:
            print(f"\nLatency of one thumbnail ({big.stem}, {a.http_rounds} rounds of {a.http_requests} "
                  "sequential requests)...", file=sys.stderr)
            lat = http_latency(Path(a.server), big, a.http_requests, a.http_rounds, work)
            result["latency"] = lat
            print()
            print("Per round ossify/libvips: " + ", ".join(
                f"{r['ossify_ms'] / r['libvips_ms']:.2f}" for r in lat["rounds"]))
            print()
            print(f"| source | ossify over HTTP, one sequential client: ms | libvips in-process (VIPS_CONCURRENCY={info['VIPS_CONCURRENCY']}): ms | ossify/libvips |")
            print("|---|---:|---:|---:|")
            print(f"| {lat['source']} | {lat['ossify_ms']:.1f} | {lat['libvips_ms']:.1f} | **{lat['ratio']:.2f}** |")

        if a.json:
            Path(a.json).write_text(json.dumps(result, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
