#!/usr/bin/env bash
# The README's run command: build ossify (release) and run `ossify serve` with the
# given options (see `ossify serve --help`). With no options: 127.0.0.1:9000, data in
# ./data. Installs what the default features build with when it can (scripts/tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/tools.sh
choose_features run.sh
exec cargo run --release ${features[@]+"${features[@]}"} -- serve "$@"
