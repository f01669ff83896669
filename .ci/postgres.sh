#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL on 127.0.0.1 for the tests.
#   source .ci/postgres.sh start   -> exports CSCOR_TEST_POSTGRES_URL and PGTMP
#   .ci/postgres.sh stop DIR
# initdb refuses to run as root, so the server runs as the `postgres` user when we are root.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ]; then
    dir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
  fi
  echo "$dir"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "$1"
  else
    sh -c "$1"
  fi
}

pg_start() {
  local bin port dir
  bin=$(pg_bin)
  if [ ! -x "$bin/initdb" ]; then
    echo "PostgreSQL binaries not found; install postgresql-15" >&2
    return 1
  fi
  dir=$(mktemp -d /tmp/cscor-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb -D '$dir/data' -A trust -U postgres --no-sync -E UTF8 >'$dir/initdb.log' 2>&1"
  as_pg "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -o \"-h 127.0.0.1 -p $port -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start >/dev/null"
  as_pg "$bin/createdb -h 127.0.0.1 -p $port -U postgres cscor_test"
  export PGTMP="$dir"
  export CSCOR_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/cscor_test"
}

pg_stop() {
  local dir=$1 bin
  bin=$(pg_bin)
  as_pg "$bin/pg_ctl -D '$dir/data' -m fast -w stop >/dev/null" || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) pg_start ;;
  stop) pg_stop "$2" ;;
  *) echo "usage: source .ci/postgres.sh start | .ci/postgres.sh stop DIR" >&2; exit 2 ;;
esac
