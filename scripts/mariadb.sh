#!/usr/bin/env bash
# Start or stop a throwaway MariaDB server for the test suite: own data directory, TCP on
# 127.0.0.1 only, no systemd. Usage: scripts/mariadb.sh start|stop
set -euo pipefail
ROOT="${MIIWRAP_MARIADB_DIR:-${TMPDIR:-/tmp}/miiwrap-mariadb}"
PORT="${MIIWRAP_DB_PORT:-3307}"
SOCKET="$ROOT/mysqld.sock"
MARIADBD="$(command -v mariadbd || echo /usr/sbin/mariadbd)"

case "${1:-}" in
  start)
    "$0" stop >/dev/null 2>&1 || true
    rm -rf "$ROOT" && mkdir -p "$ROOT/data"
    mariadb-install-db --no-defaults --datadir="$ROOT/data" --user="$(id -un)" --auth-root-authentication-method=normal \
      --skip-test-db >"$ROOT/install.log" 2>&1
    "$MARIADBD" --no-defaults --datadir="$ROOT/data" --socket="$SOCKET" --port="$PORT" --bind-address=127.0.0.1 \
      --pid-file="$ROOT/mysqld.pid" --user="$(id -un)" --character-set-server=utf8mb4 \
      --collation-server=utf8mb4_unicode_ci --innodb-flush-log-at-trx-commit=2 --max-connections=200 \
      >"$ROOT/server.log" 2>&1 &
    for _ in $(seq 1 60); do
      if mariadb-admin --no-defaults --socket="$SOCKET" -uroot ping >/dev/null 2>&1; then
        mariadb --no-defaults --socket="$SOCKET" -uroot -e \
          "CREATE USER IF NOT EXISTS 'miiwrap'@'127.0.0.1' IDENTIFIED BY 'miiwrap'; GRANT ALL ON *.* TO 'miiwrap'@'127.0.0.1';"
        echo "MariaDB is up on 127.0.0.1:$PORT (data in $ROOT)"
        exit 0
      fi
      sleep 1
    done
    echo "MariaDB did not start; see $ROOT/server.log" >&2
    cat "$ROOT/server.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$ROOT/mysqld.pid" ]; then
      mariadb-admin --no-defaults --socket="$SOCKET" -uroot shutdown 2>/dev/null || kill "$(cat "$ROOT/mysqld.pid")" || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
