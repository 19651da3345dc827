#!/usr/bin/env bash
# The S3 path against the OSS path of one ossify binary, on the same objects and load
# (wrk, anonymous requests on a public-read-write bucket, so both pay the same
# authorization): an OSS listener and an `s3_listen` listener, in alternating rounds.
# GET 4 KiB, 1 MiB, 64 MiB; PUT 1 MiB, 64 MiB. Prints req/s and the S3/OSS ratio.
# Usage: scripts/bench-s3.sh BIN [seconds-per-run] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 secs=${2:-5} rounds=${3:-3}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
for size in 4K 1M 64M; do head -c "$size" /dev/urandom > "$work/obj-$size"; done
cat > "$work/ossify.toml" <<TOML
[server]
data_dir = "$work/data"
[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:18093"]
s3_listen = ["127.0.0.1:18094"]
[[accounts]]
id = "1000000000000001"
access_key_id = "bench"
access_key_secret = "bench"
TOML
OSSIFY_LOG=warn "$bin" serve --config "$work/ossify.toml" >/dev/null &
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:18093/" && break; sleep 0.1; done
.venv/bin/python - <<'PY'
import oss2
b = oss2.Bucket(oss2.Auth("bench", "bench"), "http://127.0.0.1:18093", "bench")
b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
PY
for size in 4K 1M 64M; do
    curl -sf -X PUT --data-binary @"$work/obj-$size" "http://127.0.0.1:18093/bench/obj-$size" >/dev/null
done
cat > "$work/put.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); local body = f:read("*a"); f:close()
local n = 0
request = function()
    n = n + 1
    return wrk.format("PUT", "/bench/put-" .. n % 16, {["Content-Type"] = "application/octet-stream"}, body)
end
LUA
rate() { # port method size
    local out
    if [ "$2" = GET ]; then
        out=$(wrk -t2 -c8 -d"${secs}s" "http://127.0.0.1:$1/bench/obj-$3")
    else
        out=$(BODY="$work/obj-$3" wrk -t2 -c4 -d"${secs}s" -s "$work/put.lua" "http://127.0.0.1:$1/")
    fi
    if grep -q "Non-2xx" <<<"$out"; then echo "error responses: $out" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
printf '%-5s %-4s %-5s %12s %12s %7s\n' op size round "OSS req/s" "S3 req/s" "S3/OSS"
for round in $(seq "$rounds"); do
    for case in "GET 4K" "GET 1M" "GET 64M" "PUT 1M" "PUT 64M"; do
        set -- $case
        ro=$(rate 18093 "$1" "$2")
        rs=$(rate 18094 "$1" "$2")
        printf '%-5s %-4s %-5s %12s %12s %7s\n' "$1" "$2" "$round" "$ro" "$rs" \
            "$(awk -v a="$ro" -v b="$rs" 'BEGIN { printf "%.2f", b / a }')"
    done
done
