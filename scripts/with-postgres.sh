#!/usr/bin/env bash
# Run a command with SPAMSIFT_TEST_PG_URL naming a throwaway PostgreSQL server, for the
# feedback store's tests (tests/feedback); `make test` runs the suite through it.
#
#   scripts/with-postgres.sh COMMAND [ARG...]
#
# The server: Debian's package (scripts/install-deps.sh installs it), a new cluster in
# a temp dir (owned by the postgres user when run as root), listening on 127.0.0.1
# only, on a free port; a database and a user with a random password. Stopped and
# removed when the command ends; the command's exit status is this script's. With
# SPAMSIFT_TEST_PG_URL already set, or without PostgreSQL installed, the command runs
# as it is: the PostgreSQL tests then skip (under CI=true, fail) saying what to install.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG...]" >&2
    exit 2
fi
PG_TMP=""
PG_BIN=""
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_TMP=$(mktemp -d)
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_TMP"; fi
    local port password
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # 50 concurrent test clients, each with its own connection pool.
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_TMP -c max_connections=300" \
        start >/dev/null; then
        echo "PostgreSQL did not start; its log:" >&2
        cat "$PG_TMP/server.log" >&2
        return 1
    fi
    as_pg "$PG_BIN/psql" -h "$PG_TMP" -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE spamsift LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE spamsift_test OWNER spamsift"
    # Trust served the set-up over the socket; TCP clients must give the password.
    as_pg sed -i 's/^\(host.*\)trust$/\1scram-sha-256/' "$PG_TMP/data/pg_hba.conf"
    as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" reload >/dev/null
    export SPAMSIFT_TEST_PG_URL="postgresql+psycopg://spamsift:$password@127.0.0.1:$port/spamsift_test"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
}

# shellcheck disable=SC2317  # only called by the EXIT trap, which shellcheck does not follow
stop_postgres() {
    if [ -n "$PG_TMP" ] && [ -d "$PG_TMP/data" ]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -n "$PG_TMP" ]; then rm -rf "$PG_TMP"; fi
}

if [ -n "${SPAMSIFT_TEST_PG_URL-}" ] \
    || ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    exec "$@"
fi

trap stop_postgres EXIT
# On a signal (Ctrl-C reaches the command too), exit through the EXIT trap once the
# command has ended: the server never outlives the run.
trap 'exit 130' INT
trap 'exit 143' TERM
start_postgres
status=0
"$@" || status=$?
exit "$status"
