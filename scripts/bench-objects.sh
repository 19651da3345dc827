#!/usr/bin/env bash
# Object I/O side by side: ossify vs nginx on loopback, same files, same load generator
# (wrk), in one run. Prints requests/s and MiB/s for GET and PUT of 4 KiB, 1 MiB and
# 64 MiB objects, and the ossify/nginx ratios. Installs nginx and wrk from Debian when
# missing (needs root). Usage: scripts/bench-objects.sh [seconds-per-run]
# Environment: METHODS (default "GET PUT"), SIZES (default "4K 1M 64M"), ROUNDS (default
# 1: each cell runs nginx then ossify ROUNDS times, one line per round).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${CONNS:-8}
methods=${METHODS:-GET PUT}
sizes=${SIZES:-4K 1M 64M}
rounds=${ROUNDS:-1}
threads=2

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
    apt-get install -y -qq nginx wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx wrk >/dev/null; }
fi
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; nginx -c "$work/nginx.conf" -s stop 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/www/bench" "$work/ossify"
for size in 4K 1M 64M; do
    head -c "$size" /dev/urandom > "$work/www/bench/obj-$size"
done

# nginx: static GET, WebDAV PUT into the same tree, one worker per core.
chmod -R a+rwX "$work"
cat > "$work/nginx.conf" <<EOF
user root;
worker_processes 2;
error_log $work/nginx-error.log;
pid $work/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    client_max_body_size 0;
    client_body_temp_path $work/body;
    server {
        listen 127.0.0.1:18080;
        root $work/www;
        location / { dav_methods PUT; create_full_put_path on; }
    }
}
EOF
nginx -c "$work/nginx.conf"

# ossify: anonymous access to a public-read-write bucket, so wrk needs no signatures.
OSSIFY_ACCESS_KEY_ID=bench OSSIFY_ACCESS_KEY_SECRET=bench OSSIFY_LOG=warn \
    target/release/ossify serve --listen 127.0.0.1:18081 --data-dir "$work/ossify" >/dev/null &
ossify_pid=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18081/ && break; sleep 0.1; done
.venv/bin/python - <<'EOF'
import oss2
b = oss2.Bucket(oss2.Auth("bench", "bench"), "http://127.0.0.1:18081", "bench")
b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
EOF
for size in 4K 1M 64M; do
    curl -sf -X PUT --data-binary @"$work/www/bench/obj-$size" "http://127.0.0.1:18081/bench/obj-$size" >/dev/null
done

cat > "$work/put.lua" <<'EOF'
local f = io.open(os.getenv("BODY"), "rb"); local body = f:read("*a"); f:close()
local n = 0
request = function()
    n = n + 1
    return wrk.format("PUT", "/bench/put-" .. n % 64, {["Content-Type"] = "application/octet-stream"}, body)
end
EOF

rate() { # url method size -> "req/s MiB/s"
    local url=$1 method=$2 size=$3 out
    if [ "$method" = GET ]; then
        out=$(wrk -t$threads -c$conns -d"${secs}s" --latency "$url")
    else
        out=$(BODY="$work/www/bench/obj-$size" wrk -t$threads -c$conns -d"${secs}s" -s "$work/put.lua" "$url")
    fi
    if grep -q "Non-2xx" <<<"$out"; then
        echo "error responses from $method $url:" >&2
        echo "$out" >&2
        exit 1
    fi
    local rps mib
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    mib=$(awk -v r="$rps" -v s="$size" 'BEGIN { m = s ~ /K/ ? 1/256 : (s ~ /64M/ ? 64 : 1); printf "%.1f", r * m }')
    echo "$rps $mib"
}

printf '%-6s %-4s %14s %14s %14s %14s %8s\n' op size "nginx req/s" "nginx MiB/s" "ossify req/s" "ossify MiB/s" ratio
for method in $methods; do
    for size in $sizes; do
      for _ in $(seq "$rounds"); do
        read -r n_rps n_mib < <(rate "http://127.0.0.1:18080/bench/obj-$size" $method $size)
        read -r o_rps o_mib < <(rate "http://127.0.0.1:18081/bench/obj-$size" $method $size)
        printf '%-6s %-4s %14s %14s %14s %14s %8s\n' $method $size "$n_rps" "$n_mib" "$o_rps" "$o_mib" \
            "$(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN { printf "%.2f", a / b }')"
      done
    done
done
echo "peak RSS of ossify: $(awk '/VmHWM/ {print $2, $3}' /proc/$ossify_pid/status)"
