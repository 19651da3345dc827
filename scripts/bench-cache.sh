#!/usr/bin/env bash
# The result cache, measured with wrk on one ossify binary, rounds alternating:
#  hit:  GET of a cached thumbnail vs plain GET of an object holding the same bytes;
#  cold: thumbnails of distinct specs (every request renders) with the cache on vs
#        off (`[image] cache_bytes = 0`), i.e. what the cache costs a miss.
# Usage: scripts/bench-cache.sh BIN [seconds-per-run] [rounds] [photo]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1 secs=${2:-5} rounds=${3:-3}
photo=${4:-../shared/testdata/autumn-2560x1600.jpg}
spec="image/resize,w_800/quality,q_80"
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
start() { # port cache_bytes
    mkdir -p "$work/$1"
    printf '[server]\ndata_dir = "%s"\n[[regions]]\nname = "oss-cn-hangzhou"\nlisten = ["127.0.0.1:%s"]\n[image]\ncache_bytes = %s\n' \
        "$work/$1" "$1" "$2" > "$work/$1.toml"
    OSSIFY_ACCESS_KEY_ID=bench OSSIFY_ACCESS_KEY_SECRET=bench OSSIFY_LOG=warn \
        "$bin" serve --config "$work/$1.toml" >/dev/null 2>>"$work/$1.log" &
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/" && break; sleep 0.1; done
    PORT=$1 PHOTO=$photo SPEC=$spec .venv/bin/python - <<'PY'
import os, oss2
b = oss2.Bucket(oss2.Auth("bench", "bench"), "http://127.0.0.1:%s" % os.environ["PORT"], "bench")
b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
b.put_object("photo.jpg", open(os.environ["PHOTO"], "rb").read())
thumb = b.get_object("photo.jpg", process=os.environ["SPEC"]).read()
b.put_object("same-size", thumb)
print("thumbnail: %d bytes" % len(thumb))
PY
}
start 18095 1073741824
start 18096 0
# Every request of a run a spec of its own: the width from a per-thread counter, the
# height from SALT (one per run), so no run repeats another's.
cat > "$work/distinct.lua" <<'LUA'
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
local n, h = 0, 100 + tonumber(os.getenv("SALT"))
request = function()
    n = n + 1
    local w = 200 + (n * 2 + id) % 1200
    return wrk.format("GET", "/bench/photo.jpg?x-oss-process=image/resize,w_" .. w .. ",h_" .. h .. ",m_fixed/quality,q_80")
end
LUA
rate() { # url [script]
    local out
    out=$(wrk -t2 -c${conns:-8} -d"${secs}s" ${2:+-s "$2"} "$1")
    if grep -q "Non-2xx" <<<"$out"; then echo "error responses: $out" >&2; exit 1; fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b / a }'; }
printf '%-22s %-5s %12s %12s %7s\n' case round "A req/s" "B req/s" "B/A"
for round in $(seq "$rounds"); do
    plain=$(rate "http://127.0.0.1:18095/bench/same-size")
    hit=$(rate "http://127.0.0.1:18095/bench/photo.jpg?x-oss-process=$spec")
    printf '%-22s %-5s %12s %12s %7s\n' "plain A / cached B" "$round" "$plain" "$hit" "$(ratio "$plain" "$hit")"
    off=$(SALT=$((round * 2)) conns=2 rate "http://127.0.0.1:18096/" "$work/distinct.lua")
    on=$(SALT=$((round * 2 + 1)) conns=2 rate "http://127.0.0.1:18095/" "$work/distinct.lua")
    printf '%-22s %-5s %12s %12s %7s\n' "cold: off A / on B" "$round" "$off" "$on" "$(ratio "$off" "$on")"
done
