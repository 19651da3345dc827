"""One ossify for the Python bench scripts that use the test venv (oss2): a release
binary on a free loopback port with its result cache off, a public-read bucket
`bench`, and the server's CPU time from /proc. (bench_images.py, in the pyvips venv,
has its own.)"""

import os
import socket
import subprocess
import time
from pathlib import Path

import oss2

TESTDATA = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata"
TICK = os.sysconf("SC_CLK_TCK")


def start_uncached(server, work, objects):
    """ossify from `server` with its data under `work` and `objects` ({key: path})
    uploaded to `bench`; returns the process and its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    work = Path(work)
    (work / "ossify.toml").write_text("[image]\ncache_bytes = 0\n")
    env = dict(os.environ, OSSIFY_ACCESS_KEY_ID="bench", OSSIFY_ACCESS_KEY_SECRET="bench",
               OSSIFY_LOG="warn")
    srv = subprocess.Popen([str(server), "serve", "--config", str(work / "ossify.toml"),
                            "--listen", f"127.0.0.1:{port}", "--data-dir", str(work / "data")],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    b = oss2.Bucket(oss2.Auth("bench", "bench"), f"http://127.0.0.1:{port}", "bench")
    for _ in range(100):
        try:
            b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ)
            break
        except oss2.exceptions.RequestError:
            time.sleep(0.1)
    for key, path in objects.items():
        b.put_object_from_file(key, str(path))
    return srv, port


def cpu_s(pid):
    """utime + stime of process `pid`, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK
