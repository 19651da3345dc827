"""ali-oss, the Node.js OSS SDK, against the session server.

The tests themselves are JavaScript, in tests/node/*.test.mjs, run with Node's built-in
test runner (``node --test``); ali-oss is pinned in tests/node/package-lock.json and
installed into tests/node/node_modules with ``npm ci`` (by scripts/test.sh, or here when
it is missing). Each test file runs in four ways: V1 (ali-oss's default) and V4
(``authorizationV4: true``) signatures, each with path-style addressing
(``endpoint: 'http://localhost:<port>'``, ``sldEnable: true``) and with an IP endpoint
(``http://127.0.0.1:<port>``, where ali-oss sends ``Host: <bucket>.oss-cn-hangzhou.aliyuncs.com``).

Without Node (18.15 or later) or npm these tests skip, unless OSSIFY_REQUIRE_NODE=1, when
they fail.
"""

import os
import re
import shutil
import subprocess
import warnings
from urllib.parse import urlsplit

import pytest

from conftest import HZ, REPO, ROOT1, ROOT2, unique_bucket_name

NODE_DIR = REPO / "tests" / "node"
NODE_FILES = sorted(p.name for p in NODE_DIR.glob("*.test.mjs"))
MODES = [("v1", "path"), ("v4", "path"), ("v1", "ip"), ("v4", "ip")]
REQUIRE_NODE = os.environ.get("OSSIFY_REQUIRE_NODE") == "1"
NODE_TIMEOUT = 300

# One top-level TAP result line: "ok 3 - name", "not ok 4 - name", "ok 5 - name # SKIP why".
TAP_RESULT = re.compile(r"^(ok|not ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$")


def unavailable(why):
    if REQUIRE_NODE:
        pytest.fail("OSSIFY_REQUIRE_NODE=1 but %s" % why, pytrace=False)
    pytest.skip(why)


def pinned_version():
    import json
    return json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["ali-oss"]


def installed_version():
    import json
    path = NODE_DIR / "node_modules" / "ali-oss" / "package.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())["version"]


@pytest.fixture(scope="session")
def node():
    """Path of `node`, with ali-oss installed in tests/node/node_modules."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed (the ali-oss tests need Node.js 18.15+ and npm)")
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", out)
    if not m or (int(m.group(1)), int(m.group(2))) < (18, 15):
        unavailable("node %s is too old for `node --test --test-reporter` (18.15+ needed)" % out)
    if installed_version() != pinned_version():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed, so ali-oss cannot be installed into tests/node")
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=str(NODE_DIR),
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            unavailable("`npm ci` in tests/node failed:\n%s%s" % (r.stdout, r.stderr))
        assert installed_version() == pinned_version()
    return node


def tap_results(output):
    """(status, name, directive, reason) of each top-level test in TAP output, and the
    YAML block of each failure."""
    results, details = [], {}
    lines = output.splitlines()
    for i, line in enumerate(lines):
        m = TAP_RESULT.match(line)
        if not m:
            continue
        status, name, directive, reason = m.groups()
        results.append((status, name, directive, reason))
        if status == "not ok":
            block = []
            for follow in lines[i + 1:]:
                block.append(follow)
                if follow.strip() == "...":
                    break
            details[name] = "\n".join(block)
    return results, details


@pytest.mark.parametrize("signing,addressing", MODES, ids=["-".join(m) for m in MODES])
@pytest.mark.parametrize("test_file", NODE_FILES)
def test_ali_oss(ossify, node, test_file, signing, addressing):
    port = urlsplit(ossify.endpoint(HZ)).port
    env = dict(os.environ)
    env.update({
        "OSSIFY_PORT": str(port),
        "OSSIFY_REGION": HZ,
        "OSSIFY_SIGNING": signing,
        "OSSIFY_ADDRESSING": addressing,
        "OSSIFY_ACCESS_KEY_ID": ROOT1.id,
        "OSSIFY_ACCESS_KEY_SECRET": ROOT1.secret,
        "OSSIFY_OTHER_ACCESS_KEY_ID": ROOT2.id,
        "OSSIFY_OTHER_ACCESS_KEY_SECRET": ROOT2.secret,
        "OSSIFY_OWNER_ID": ROOT1.account_id,
        "OSSIFY_BUCKET_PREFIX": unique_bucket_name("js"),
    })
    r = subprocess.run([node, "--test", "--test-reporter=tap", test_file], cwd=str(NODE_DIR),
                       env=env, capture_output=True, text=True, timeout=NODE_TIMEOUT)
    results, details = tap_results(r.stdout)
    failed = [name for status, name, _, _ in results if status == "not ok"]
    skipped = ["%s (%s)" % (name, reason) for status, name, d, reason in results
               if d == "SKIP"]
    for s in skipped:
        warnings.warn("ali-oss %s [%s %s]: skipped: %s" % (test_file, signing, addressing, s))
    if r.returncode != 0 or failed or not results:
        report = ["node --test %s exited %d; %d of %d tests failed: %s" % (
            test_file, r.returncode, len(failed), len(results), ", ".join(failed) or "-")]
        for name in failed:
            report.append("--- not ok: %s\n%s" % (name, details[name]))
        if not failed:
            report.append("--- stdout:\n%s" % r.stdout[-20000:])
        report.append("--- stderr:\n%s" % r.stderr[-5000:])
        pytest.fail("\n".join(report), pytrace=False)
