#!/usr/bin/env bash
# Runs the oss2 SDK's own integration suite (tests/ of its sdist) against ossify and
# prints the pass rate, with the tests that need Alibaba services outside OSS counted
# apart (docs/compatibility.md, "The SDKs' own suites").
#
#   scripts/sdk-suites.sh [WORK_DIR]     (default /tmp/ossify-sdk-suites)
#
# Each test file gets a fresh ossify (target/debug/ossify, or $OSSIFY_BIN) on a fresh
# data directory: the suite leaves buckets behind when a test fails, and an account has
# at most 100 buckets per region.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
. "$REPO/scripts/venv.sh"
WORK=${1:-/tmp/ossify-sdk-suites}
BIN=${OSSIFY_BIN:-$REPO/target/debug/ossify}
OSS2_VERSION=2.19.1
PORT=${SDK_SUITE_PORT:-19300}
mkdir -p "$WORK"
cd "$WORK"

ensure_venv venv
if [ ! -d "oss2-$OSS2_VERSION" ]; then
    venv/bin/pip download -q --no-deps --no-binary :all: "oss2==$OSS2_VERSION" -d dl
    tar xzf "dl/oss2-$OSS2_VERSION.tar.gz"
    venv/bin/pip install -q pytest pytest-timeout mock aliyun-python-sdk-sts "./oss2-$OSS2_VERSION"
fi
# ossify has no RTMP live channels (ListLiveChannel answers 501); the suite's tearDown
# lists them on every bucket, so read 501 there as "no channels".
cat > "oss2-$OSS2_VERSION/tests/conftest.py" <<'EOF'
import oss2
from oss2 import iterators
_fetch = iterators.LiveChannelIterator._fetch
def _no_channels(self):
    try:
        return _fetch(self)
    except oss2.exceptions.ServerError as e:
        if e.status != 501:
            raise
        self.entries = []
        return False, ''
iterators.LiveChannelIterator._fetch = _no_channels
EOF

cat > config.toml <<EOF
[server]
data_dir = "$WORK/data"
lifecycle_interval_secs = 1
[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:$PORT"]
[[accounts]]
id = "1000000000000001"
access_key_id = "LTAIsdksuite"
access_key_secret = "sdksuitesecret"
# The requester of the pay-by-requester tests.
[[accounts]]
id = "1000000000000002"
access_key_id = "LTAIsdkpayer"
access_key_secret = "sdkpayersecret"
EOF
export OSS_TEST_ACCESS_KEY_ID=LTAIsdksuite OSS_TEST_ACCESS_KEY_SECRET=sdksuitesecret
export OSS_TEST_ENDPOINT=http://127.0.0.1:$PORT OSS_TEST_REGION=cn-hangzhou OSS_TEST_UID=1000000000000001
export OSS_TEST_PAYER_UID=1000000000000002 OSS_TEST_PAYER_ACCESS_KEY_ID=LTAIsdkpayer \
    OSS_TEST_PAYER_ACCESS_KEY_SECRET=sdkpayersecret

rm -rf junit && mkdir junit
for f in "oss2-$OSS2_VERSION"/tests/test_*.py; do
    name=$(basename "$f" .py)
    case $name in test_mock_*) continue ;; esac  # offline unit tests, no server
    rm -rf data
    "$BIN" serve --config config.toml >"junit/$name.server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q "listening on" "junit/$name.server.log" && break
        sleep 0.1
    done
    (cd "oss2-$OSS2_VERSION" && timeout 900 ../venv/bin/python -m pytest -q -p no:cacheprovider \
        -p no:logging --assert=plain --timeout 90 --tb=line "tests/$name.py" \
        --junitxml="../junit/$name.xml" >"../junit/$name.out" 2>&1) || true
    kill "$server"
    wait "$server" 2>/dev/null || true
done
venv/bin/python "$REPO/scripts/sdk_suite_report.py" junit
