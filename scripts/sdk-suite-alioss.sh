#!/usr/bin/env bash
# Runs ali-oss's own integration suite (test/node/*.test.js of the ali-sdk/ali-oss
# repository) against ossify and prints the pass rate, with the tests that need Alibaba
# services outside OSS counted apart (docs/compatibility.md, "The SDKs' own suites").
#
#   scripts/sdk-suite-alioss.sh TESTS_DIR [WORK_DIR]     (default /tmp/ossify-alioss-suite)
#
# The npm package ships no tests and GitHub is not reachable from here, so TESTS_DIR is a
# copy of the repository's test/node directory made by hand: bucket, object, multipart,
# multiversion, bucket_worm and callback .test.js and utils.js (the files of the other
# tests need STS, RTMP, a browser or real DNS names). Everything else the suite loads is
# written here: test/config.js and test/const.js (a local callback server), the image
# fixture, and a preload that resolves <bucket>.localhost and reads ListLiveChannel's
# 501 as "no channels" (utils.cleanBucket lists them). Each file gets a fresh ossify
# (target/debug/ossify, or $OSSIFY_BIN) on a fresh data directory.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
TESTS=$(cd "${1:?usage: $0 TESTS_DIR [WORK_DIR]}" && pwd)
WORK=${2:-/tmp/ossify-alioss-suite}
BIN=${OSSIFY_BIN:-$REPO/target/debug/ossify}
PORT=${SDK_SUITE_PORT:-19470}
CALLBACK_PORT=$((PORT + 100))
FILES="bucket object multipart multiversion bucket_worm callback"
mkdir -p "$WORK"
cd "$WORK"

# ali-oss and the devDependencies of its package.json that the suite loads.
if [ ! -d node_modules/ali-oss ]; then
    [ -f package.json ] || echo '{"private": true}' > package.json
    npm install --no-audit --no-fund ali-oss@6.23.0 mocha@9 sinon@15 nise@5.1.4 mm@2 \
        axios@0.27 form-data@4 stream-equal@1 filereader@0.10 dateformat@4 platform \
        mz-modules copy-to @alicloud/resourcemanager20200331@2 @alicloud/openapi-client@0.4 \
        @alicloud/tea-util@1 >npm.log 2>&1
fi
rm -rf suite && mkdir -p suite/test/node/fixtures
cp "$TESTS"/*.js suite/test/node/
echo "module.exports = require('ali-oss');" > suite/index.js
ln -s ../node_modules/ali-oss/lib suite/lib
printf 'module.exports;\n' > suite/test/node/fixtures/foo.js  # the append tests want 16 bytes
. "$REPO/scripts/venv.sh" && ensure_venv venv >/dev/null
venv/bin/pip install -q pillow
venv/bin/python - <<'PY'
from PIL import Image
im = Image.new("RGB", (1024, 768), (60, 130, 60))
for x in range(0, 1024, 8):
    for y in range(0, 768, 8):
        im.putpixel((x, y), (x % 256, y % 256, (x + y) % 256))
im.save("suite/test/node/fixtures/nodejs-1024x768.png")
PY
cat > suite/test/config.js <<EOT
const conditions = [{ authorizationV4: false }, { authorizationV4: true }];
exports.oss = {
  accessKeyId: 'LTAIalioss',
  accessKeySecret: 'aliosssecret',
  accountId: '1000000000000001',
  endpoint: 'http://localhost:$PORT',
  region: 'oss-cn-hangzhou',
  conditions
};
exports.conditions = conditions;
exports.sts = {};
exports.metaSyncTime = '10ms';
exports.timeout = '120s';
EOT
cat > suite/test/const.js <<EOT
// The suite's callback server is a public host; this one answers {"Status":"OK"}.
const http = require('http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const body = '{"Status":"OK"}';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
});
server.listen($CALLBACK_PORT, '127.0.0.1');
server.unref();
exports.callbackServer = 'http://127.0.0.1:$CALLBACK_PORT';
EOT
cat > suite/preload.js <<'EOT'
// <bucket>.localhost resolves to 127.0.0.1 (glibc does not resolve it).
const dns = require('dns');
const lookup = dns.lookup;
dns.lookup = function (host, opts, cb) {
  if (typeof host === 'string' && host.endsWith('.localhost')) {
    if (typeof opts === 'function') [cb, opts] = [opts, {}];
    const all = opts && opts.all;
    return process.nextTick(cb, null, all ? [{ address: '127.0.0.1', family: 4 }] : '127.0.0.1', 4);
  }
  return lookup.apply(this, arguments);
};
// ossify has no RTMP live channels (ListLiveChannel is 501); cleanBucket lists them.
const OSS = require('ali-oss');
const listChannels = OSS.prototype.listChannels;
OSS.prototype.listChannels = async function (...args) {
  try {
    return await listChannels.apply(this, args);
  } catch (e) {
    if (e.status === 501) return { channels: [] };
    throw e;
  }
};
EOT
cat > config.toml <<EOT
[server]
data_dir = "$WORK/data"
[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:$PORT"]
[[accounts]]
id = "1000000000000001"
access_key_id = "LTAIalioss"
access_key_secret = "aliosssecret"
EOT

rm -rf reports && mkdir reports
for name in $FILES; do
    rm -rf data
    "$BIN" serve --config config.toml >"reports/$name.server.log" 2>&1 &
    server=$!
    for _ in $(seq 100); do
        grep -q "listening on" "reports/$name.server.log" 2>/dev/null && break
        sleep 0.1
    done
    (cd suite && timeout 1200 ../node_modules/.bin/mocha -r ./preload.js -t 120000 -R json \
        "test/node/$name.test.js" >"../reports/$name.json" 2>"../reports/$name.err") || true
    kill "$server"
    wait "$server" 2>/dev/null || true
done
node "$REPO/scripts/ali_oss_suite_report.js" reports
