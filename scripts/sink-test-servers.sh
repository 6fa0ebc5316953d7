#!/usr/bin/env bash
# Starts throw-away Redis and NATS (JetStream) servers on 127.0.0.1 for the sink tests and prints
# their URLs (and how to stop and start each one again, for the outage tests).
#   eval "$(scripts/sink-test-servers.sh start)"   → exports TIMHOOK_TEST_REDIS_URL, TIMHOOK_TEST_NATS_URL
#   scripts/sink-test-servers.sh stop
#   scripts/sink-test-servers.sh stop-redis | start-redis | stop-nats | start-nats   (outage tests)
# TIMHOOK_SINK_DATA, TIMHOOK_REDIS_PORT and TIMHOOK_NATS_PORT choose another data directory and
# ports (the outage tests run servers of their own that way, so that stopping them disturbs no
# other test). Installs Debian's redis-server and nats-server when the machine lacks them (as
# root, with apt). Both keep their data on disk under the data directory (Redis in an
# append-only file synced at every write, JetStream in its stream files), so a stop and start
# loses nothing they had acknowledged.
set -euo pipefail
DIR=${TIMHOOK_SINK_DATA:-/tmp/timhook-sinks}
REDIS_PORT=${TIMHOOK_REDIS_PORT:-56379}
NATS_PORT=${TIMHOOK_NATS_PORT:-54222}
HERE=$(cd "$(dirname "$0")" && pwd)

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ] || [ -x "/usr/sbin/$1" ]; }
bin() { command -v "$1" 2>/dev/null || { [ -x "/usr/bin/$1" ] && echo "/usr/bin/$1"; } || echo "/usr/sbin/$1"; }

start_redis() {
  "$(bin redis-cli)" -p "$REDIS_PORT" ping >/dev/null 2>&1 && return
  "$(bin redis-server)" --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly yes --appendfsync always --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --dir "$DIR" >/dev/null
  for _ in $(seq 50); do "$(bin redis-cli)" -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "redis-server did not start (see $DIR/redis.log)" >&2
}

start_nats() {
  if [ -f "$DIR/nats.pid" ] && kill -0 "$(cat "$DIR/nats.pid")" 2>/dev/null; then return; fi
  mkdir -p "$DIR/jetstream"
  nohup "$(bin nats-server)" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$DIR/jetstream" -P "$DIR/nats.pid" >"$DIR/nats.log" 2>&1 &
  for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && return; sleep 0.1; done
  echo "nats-server did not start (see $DIR/nats.log)" >&2
}

# Stops the process of a pid file and waits until it is gone (its port is free again).
stop_pid() {
  [ -f "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$1"
}

case "${1:-start}" in
  start)
    if { ! have redis-server || ! have nats-server; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "installing redis-server and nats-server (apt)" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server nats-server) >&2 \
        || echo "could not install redis-server/nats-server: the sink tests that need them will skip" >&2
    fi
    mkdir -p "$DIR"
    if have redis-server; then
      start_redis
      echo "export TIMHOOK_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    fi
    if have nats-server; then
      start_nats
      echo "export TIMHOOK_TEST_NATS_URL=nats://127.0.0.1:$NATS_PORT"
    fi
    # The outage tests stop and start a server through these commands.
    echo "export TIMHOOK_TEST_SINK_CTL='$HERE/sink-test-servers.sh'"
    ;;
  start-redis) mkdir -p "$DIR"; start_redis ;;
  start-nats) mkdir -p "$DIR"; start_nats ;;
  stop-redis) stop_pid "$DIR/redis.pid" ;;
  stop-nats) stop_pid "$DIR/nats.pid" ;;
  stop)
    stop_pid "$DIR/redis.pid"
    stop_pid "$DIR/nats.pid"
    ;;
esac
