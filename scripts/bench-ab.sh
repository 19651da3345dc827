#!/usr/bin/env bash
# Two ossify binaries side by side on the same objects and load (wrk), in alternating
# rounds: GET 4 KiB, GET 1 MiB, PUT 1 MiB. Prints req/s of each and the B/A ratio per
# round. Usage: [OSSIFY_BENCH_LOG=info] scripts/bench-ab.sh BIN_A BIN_B [seconds-per-run] [rounds]
# CONFIG_A / CONFIG_B: a TOML file for that server (`--config`), e.g. the same binary
# twice with two settings. CASES: comma-separated "METHOD SIZE" (4K or 1M), default
# "GET 4K,GET 1M,PUT 1M".
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 secs=${3:-5} rounds=${4:-3}
# OSSIFY_BENCH_LOG=info measures with the access log on (written to a file, as a
# service's log would be); the default, warn, leaves it out.
log=${OSSIFY_BENCH_LOG:-warn}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
head -c 4K /dev/urandom > "$work/obj-4K"
head -c 1M /dev/urandom > "$work/obj-1M"
start() { # bin port [config]
    mkdir -p "$work/$2"
    OSSIFY_ACCESS_KEY_ID=bench OSSIFY_ACCESS_KEY_SECRET=bench OSSIFY_LOG=$log \
        "$1" serve ${3:+--config "$3"} --listen "127.0.0.1:$2" --data-dir "$work/$2" \
        >/dev/null 2>>"$work/$2.log" &
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$2/" && break; sleep 0.1; done
    PORT=$2 .venv/bin/python - <<'PY'
import os, oss2
b = oss2.Bucket(oss2.Auth("bench", "bench"), "http://127.0.0.1:%s" % os.environ["PORT"], "bench")
b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
PY
    for size in 4K 1M; do
        curl -sf -X PUT --data-binary @"$work/obj-$size" "http://127.0.0.1:$2/bench/obj-$size" >/dev/null
    done
}
start "$a" 18091 "${CONFIG_A:-}"
start "$b" 18092 "${CONFIG_B:-}"
cat > "$work/put.lua" <<'LUA'
local f = io.open(os.getenv("BODY"), "rb"); local body = f:read("*a"); f:close()
local n = 0
request = function()
    n = n + 1
    return wrk.format("PUT", "/bench/put-" .. n % 64, {["Content-Type"] = "application/octet-stream"}, body)
end
LUA
rate() { # port method size
    local out
    if [ "$2" = GET ]; then
        out=$(wrk -t2 -c8 -d"${secs}s" "http://127.0.0.1:$1/bench/obj-$3")
    else
        out=$(BODY="$work/obj-$3" wrk -t2 -c8 -d"${secs}s" -s "$work/put.lua" "http://127.0.0.1:$1/")
    fi
    if grep -q "Non-2xx" <<<"$out"; then echo "error responses: $out" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
printf '%-5s %-4s %-5s %12s %12s %7s\n' op size round "A req/s" "B req/s" "B/A"
for round in $(seq "$rounds"); do
    IFS=, read -r -a cases <<<"${CASES:-GET 4K,GET 1M,PUT 1M}"
    for case in "${cases[@]}"; do
        set -- $case
        ra=$(rate 18091 "$1" "$2")
        rb=$(rate 18092 "$1" "$2")
        printf '%-5s %-4s %-5s %12s %12s %7s\n' "$1" "$2" "$round" "$ra" "$rb" \
            "$(awk -v a="$ra" -v b="$rb" 'BEGIN { printf "%.2f", b / a }')"
    done
done
