#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1 for the tests and prints its URL.
#   eval "$(scripts/pg-test-server.sh start)"   → exports TIMHOOK_TEST_PG_URL
#   scripts/pg-test-server.sh stop
# Installs PostgreSQL from Debian's packages when the machine lacks it. The server runs as the
# `postgres` user (it refuses to run as root) in a data directory under /tmp.
set -euo pipefail
DATA=${TIMHOOK_PG_DATA:-/tmp/timhook-pg}
PORT=${TIMHOOK_PG_PORT:-55432}

pgbin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  return 1
}

case "${1:-start}" in
  start)
    if ! BIN=$(pgbin); then
      echo "installing postgresql (apt)" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
      BIN=$(pgbin)
    fi
    RUN=()
    if [ "$(id -u)" = 0 ]; then RUN=(runuser -u postgres --); fi
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
      "${RUN[@]}" "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    if ! "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
        -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200" start >/dev/null
    fi
    "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select 1 from pg_database where datname='timhook_test'" | grep -q 1 \
      || "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -qc 'create database timhook_test' >/dev/null
    echo "export TIMHOOK_TEST_PG_URL=postgres://postgres@127.0.0.1:$PORT/timhook_test"
    echo "export TIMHOOK_TEST_PG_CTL='${RUN[*]} $BIN/pg_ctl -D $DATA'"
    ;;
  stop)
    BIN=$(pgbin) || exit 0
    RUN=(); [ "$(id -u)" = 0 ] && RUN=(runuser -u postgres --)
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    ;;
esac
