#!/usr/bin/env bash
# Side-by-side benchmark of ossify's image engine against libvips (see docs/benchmarks.md).
#
#   ./scripts/bench-images.sh            # in-process CPU time per operation, ratios
#   ./scripts/bench-images.sh --http     # plus HTTP throughput: 2 clients vs 2 vips processes
#                                        # and vs thumbor (2 processes, file loader, from PyPI)
#
# Other arguments go to scripts/bench_images.py (--rounds N, --iters N, --json FILE,
# --testdata DIR). Creates .venv-bench (pyvips + pyvips-binary from PyPI) on first run,
# builds the release bench binary (and the server for --http). Test photos are taken
# from $OSSIFY_TESTDATA (default ../shared/testdata); without them a generated image is used.
# Extra cargo flags for both builds, e.g. the pure-Rust engine without libjpeg-turbo:
#   OSSIFY_BENCH_CARGO_FLAGS=--no-default-features ./scripts/bench-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv-bench
. scripts/venv.sh
ensure_venv "$venv"
"$venv/bin/python" -c 'import pyvips' 2>/dev/null ||
    "$venv/bin/python" -m pip install -q --disable-pip-version-check pyvips pyvips-binary

http=()
args=()
for a in "$@"; do
    if [ "$a" = --http ]; then http=(yes); else args+=("$a"); fi
done

# The bench binary (release profile) has the --timing-server mode the script drives.
read -r -a cargo_flags <<<"${OSSIFY_BENCH_CARGO_FLAGS:-}"
bench_bin=$(cargo bench --locked ${cargo_flags[@]+"${cargo_flags[@]}"} --bench image --no-run --message-format=json |
    "$venv/bin/python" -c '
import json, sys
exe = [m["executable"] for m in map(json.loads, sys.stdin)
       if m.get("reason") == "compiler-artifact" and m.get("executable")
       and "bench" in m["target"]["kind"] and m["target"]["name"] == "image"]
print(exe[-1])')
echo "bench binary: $bench_bin" >&2

if [ ${#http[@]} -gt 0 ]; then
    # thumbor (Pillow-based image server) is the HTTP peer beside libvips.
    "$venv/bin/python" -c 'import thumbor' 2>/dev/null ||
        "$venv/bin/python" -m pip install -q --disable-pip-version-check thumbor
    cargo build --locked --release ${cargo_flags[@]+"${cargo_flags[@]}"} --bin ossify
    args+=(--server "$PWD/target/release/ossify")
fi

export VIPS_CONCURRENCY=${VIPS_CONCURRENCY:-1}  # libvips threads; 1 unless given
exec "$venv/bin/python" scripts/bench_images.py --bin "$bench_bin" ${args[@]+"${args[@]}"}
