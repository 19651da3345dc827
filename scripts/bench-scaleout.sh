#!/usr/bin/env bash
# The cost of the scale-out backends, side by side in one run on one machine: the
# embedded default (redb + files) against PostgreSQL + SeaweedFS (S3 blobs), same
# binary, same objects, same load generator (wrk). Prints req/s and MiB/s for GET and
# PUT of 4 KiB, 1 MiB and 64 MiB objects, the time to list 10,000 keys, thumbnail req/s,
# and a thumbnail run against two postgres+s3 nodes at once. Needs root on Debian (for
# wrk and PostgreSQL) or both installed. Usage: scripts/bench-scaleout.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
conns=${CONNS:-8}
threads=2
bin=${OSSIFY_BIN:-target/release/ossify}
[ -n "${OSSIFY_BIN:-}" ] || cargo build --release --quiet

command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
. scripts/venv.sh
ensure_venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r tests/sdk/requirements.txt
. scripts/services.sh

work=$(mktemp -d)
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    stop_services
    rm -rf "$work"
}
trap cleanup EXIT
start_postgres
start_seaweedfs
for size in 4K 1M 64M; do
    head -c "$size" /dev/urandom >"$work/obj-$size"
done
photo=../shared/testdata/autumn-2560x1600.jpg
[ -f "$photo" ] || photo=tests/fixtures/$(ls tests/fixtures | grep -m1 -i '\.jpg$')

config() { # name storage-lines -> config path
    cat >"$work/$1.toml" <<EOF
[server]
data_dir = "$work/$1-data"
[[regions]]
name = "oss-cn-hangzhou"
listen = ["127.0.0.1:0"]
[[accounts]]
id = "1000000000000001"
access_key_id = "bench"
access_key_secret = "benchsecret"
$2
EOF
    echo "$work/$1.toml"
}

node() { # config name -> sets $url to the endpoint; the node keeps running
    local log="$work/$2.log"
    OSSIFY_LOG=warn "$bin" serve --config "$1" --data-dir "$work/$2-data" >"$log" 2>&1 &
    pids+=($!)
    local i
    for i in $(seq 200); do
        if grep -q "listening on" "$log"; then
            url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$log" | head -1)
            return
        fi
        sleep 0.1
    done
    cat "$log" >&2
    exit 1
}

.venv/bin/python - <<EOF
import psycopg
with psycopg.connect("$OSSIFY_TEST_POSTGRES_URL", autocommit=True) as c:
    c.execute("CREATE DATABASE ossify_bench")
    c.execute("CREATE DATABASE ossify_bench_fs")
EOF
db="${OSSIFY_TEST_POSTGRES_URL%/*}/ossify_bench"
scaled="[storage]
metadata = \"$db\"
[storage.blobs]
kind = \"s3\"
endpoint = \"$OSSIFY_TEST_S3_ENDPOINT\"
bucket = \"$OSSIFY_TEST_S3_BUCKET\"
access_key_id = \"$OSSIFY_TEST_S3_ACCESS_KEY_ID\"
secret_access_key = \"$OSSIFY_TEST_S3_SECRET_ACCESS_KEY\"
prefix = \"bench/\""
node "$(config embedded "")" embedded
embedded_url=$url
# PostgreSQL metadata with file blobs: how much of the cost is the database's.
node "$(config pgfs "[storage]
metadata = \"${db}_fs\"")" pgfs
pgfs_url=$url
scaled_cfg=$(config scaled "$scaled")
node "$scaled_cfg" scaled
scaled_url=$url

# A public-read-write bucket in each store, so wrk needs no signatures; the photo and
# 10,000 small keys to list.
for url in "$embedded_url" "$pgfs_url" "$scaled_url"; do
    .venv/bin/python - "$url" "$photo" <<'EOF'
import sys, oss2
from concurrent.futures import ThreadPoolExecutor
url, photo = sys.argv[1], sys.argv[2]
b = oss2.Bucket(oss2.Auth("bench", "benchsecret"), url, "bench")
b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
b.put_object_from_file("photo.jpg", photo)
def put(i):
    bb = oss2.Bucket(oss2.Auth("bench", "benchsecret"), url, "bench")
    for j in range(i, 10000, 16):
        bb.put_object("list/%05d" % j, b"x")
with ThreadPoolExecutor(16) as ex:
    list(ex.map(put, range(16)))
EOF
    for size in 4K 1M 64M; do
        curl -sf -X PUT --data-binary @"$work/obj-$size" "$url/bench/obj-$size" >/dev/null
    done
done

cat >"$work/put.lua" <<'EOF'
local f = io.open(os.getenv("BODY"), "rb"); local body = f:read("*a"); f:close()
local n = 0
request = function()
    n = n + 1
    return wrk.format("PUT", "/bench/put-" .. n % 64, {["Content-Type"] = "application/octet-stream"}, body)
end
EOF

rps() { # url [body] -> req/s
    local out d=$secs
    # 64 MiB requests take seconds each: give them time to finish several.
    case $1 in *64M*) d=$((secs * 4)) ;; esac
    if [ -n "${2:-}" ]; then
        out=$(BODY="$2" wrk -t$threads -c$conns -d"${d}s" --timeout 60s -s "$work/put.lua" "$1")
    else
        out=$(wrk -t$threads -c$conns -d"${d}s" --timeout 60s "$1")
    fi
    if grep -q "Non-2xx" <<<"$out"; then
        echo "error responses from $1:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk '/Requests\/sec/ {print $2}' <<<"$out"
}
mib() { awk -v r="$1" -v s="$2" 'BEGIN { m = s ~ /K/ ? 1/256 : (s ~ /64M/ ? 64 : 1); printf "%.1f", r * m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

row='%-10s %-4s %13s %13s %13s %13s %13s %13s %9s %9s\n'
printf "$row" op size "embedded r/s" "MiB/s" "pg+fs r/s" "MiB/s" "pg+s3 r/s" "MiB/s" \
    "pg+fs/emb" "pg+s3/emb"
for method in GET PUT; do
    for size in 4K 1M 64M; do
        body=""
        [ $method = PUT ] && body="$work/obj-$size"
        e=$(rps "$embedded_url/bench/obj-$size" "$body")
        f=$(rps "$pgfs_url/bench/obj-$size" "$body")
        s=$(rps "$scaled_url/bench/obj-$size" "$body")
        printf "$row" $method $size "$e" "$(mib "$e" $size)" "$f" "$(mib "$f" $size)" \
            "$s" "$(mib "$s" $size)" "$(ratio "$f" "$e")" "$(ratio "$s" "$e")"
    done
done
thumb="/bench/photo.jpg?x-oss-process=image/resize,w_400"
e=$(rps "$embedded_url$thumb")
f=$(rps "$pgfs_url$thumb")
s=$(rps "$scaled_url$thumb")
printf "$row" thumbnail 400 "$e" - "$f" - "$s" - "$(ratio "$f" "$e")" "$(ratio "$s" "$e")"

list_time() {
    .venv/bin/python - "$1" <<'EOF'
import sys, time, oss2
b = oss2.Bucket(oss2.Auth("bench", "benchsecret"), sys.argv[1], "bench")
best = None
for _ in range(3):
    t = time.perf_counter()
    n = sum(1 for _ in oss2.ObjectIterator(b, prefix="list/", max_keys=1000))
    best = min(best or 1e9, time.perf_counter() - t)
assert n == 10000, n
print("%.3f" % best)
EOF
}
e=$(list_time "$embedded_url")
f=$(list_time "$pgfs_url")
s=$(list_time "$scaled_url")
echo "ListObjects of 10,000 keys (10 pages, best of 3): embedded ${e}s, pg+fs ${f}s, pg+s3 ${s}s"

# Two postgres+s3 nodes at once, half the connections each, against one node.
node "$scaled_cfg" scaled-b
second_url=$url
one=$(rps "$scaled_url$thumb")
conns=$((conns / 2))
rps "$scaled_url$thumb" >"$work/a" &
first=$!
rps "$second_url$thumb" >"$work/b"
wait $first
two=$(awk '{ s += $1 } END { printf "%.2f", s }' "$work/a" "$work/b")
echo "thumbnails, pg+s3: one node ${one} req/s, two nodes ${two} req/s (same 2 cores)"
