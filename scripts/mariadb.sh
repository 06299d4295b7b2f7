#!/usr/bin/env bash
# A throwaway MariaDB server for the tests and benchmarks: own data directory, TCP on 127.0.0.1
# only, no systemd. Several people (and tox envs) share a machine, so nothing here is global:
#
#   scripts/mariadb.sh run CMD...   start a private server, run CMD with MIIWRAP_DB_PORT and
#                                   MIIWRAP_MARIADB_DIR exported, then stop the server (always)
#   scripts/mariadb.sh start        start a server and print its directory and port
#   scripts/mariadb.sh stop         stop the server of MIIWRAP_MARIADB_DIR (required) and only it
#
# MIIWRAP_MARIADB_DIR: the data directory (default: a new one from mktemp -d; it is removed and
# re-created on start); the server's temporary files go there too (a shared /tmp lost one mid-run). MIIWRAP_DB_PORT: the port (default: a free port chosen at start).
set -euo pipefail
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if [ -z "${MIIWRAP_MARIADB_DIR:-}" ]; then
    PRIVATE_DIR=1  # ours alone: 'run' removes it after
  fi
  ROOT="${MIIWRAP_MARIADB_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/miiwrap-mariadb.XXXXXX")}"
  PORT="${MIIWRAP_DB_PORT:-$(free_port)}"
  SOCKET="$ROOT/mysqld.sock"
  stop_dir "$ROOT"
  rm -rf "$ROOT" && mkdir -p "$ROOT/data" "$ROOT/tmp"
  echo "$PORT" >"$ROOT/port"
  mariadb-install-db --no-defaults --datadir="$ROOT/data" --user="$(id -un)" --auth-root-authentication-method=normal \
    --skip-test-db >"$ROOT/install.log" 2>&1
  "$MARIADBD" --no-defaults --datadir="$ROOT/data" --socket="$SOCKET" --port="$PORT" --bind-address=127.0.0.1 \
    --pid-file="$ROOT/mysqld.pid" --tmpdir="$ROOT/tmp" --user="$(id -un)" --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --innodb-flush-log-at-trx-commit=2 --max-connections=200 \
    >"$ROOT/server.log" 2>&1 &
  for _ in $(seq 1 60); do
    if mariadb-admin --no-defaults --socket="$SOCKET" -uroot ping >/dev/null 2>&1; then
      mariadb --no-defaults --socket="$SOCKET" -uroot -e \
        "CREATE USER IF NOT EXISTS 'miiwrap'@'127.0.0.1' IDENTIFIED BY 'miiwrap'; GRANT ALL ON *.* TO 'miiwrap'@'127.0.0.1';"
      export MIIWRAP_MARIADB_DIR="$ROOT" MIIWRAP_DB_PORT="$PORT"
      echo "MariaDB is up on 127.0.0.1:$PORT (MIIWRAP_MARIADB_DIR=$ROOT MIIWRAP_DB_PORT=$PORT)"
      return 0
    fi
    sleep 1
  done
  echo "MariaDB did not start; see $ROOT/server.log" >&2
  cat "$ROOT/server.log" >&2 || true
  stop_dir "$ROOT"
  return 1
}

# Stops the server whose pid file is in $1 (no pid file: nothing of ours runs there).
stop_dir() {
  local root="$1" pid
  [ -f "$root/mysqld.pid" ] || return 0
  pid="$(cat "$root/mysqld.pid")"
  mariadb-admin --no-defaults --socket="$root/mysqld.sock" -uroot shutdown 2>/dev/null || kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  rm -f "$root/mysqld.pid"
}

case "${1:-}" in
  start)
    start
    ;;
  stop)
    if [ -z "${MIIWRAP_MARIADB_DIR:-}" ]; then
      echo "stop: set MIIWRAP_MARIADB_DIR to the directory 'start' printed" >&2
      exit 2
    fi
    stop_dir "$MIIWRAP_MARIADB_DIR"
    ;;
  run)
    shift
    [ "$#" -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
    PRIVATE_DIR=0
    start
    trap 'stop_dir "$MIIWRAP_MARIADB_DIR"; [ "$PRIVATE_DIR" = 1 ] && rm -rf "$MIIWRAP_MARIADB_DIR"' EXIT
    "$@"
    ;;
  *)
    echo "usage: $0 start|stop|run CMD..." >&2
    exit 2
    ;;
esac
