#!/usr/bin/env bash
# A private PostgreSQL for the benchmarks, on 127.0.0.1:55432, started from the
# installed server binaries. The machine's own server (5432) is never touched.
#
#   bash benchmarks/pg.sh start     # initdb on first use, then start
#   bash benchmarks/pg.sh stop
#   bash benchmarks/pg.sh status
#   bash benchmarks/pg.sh destroy   # stop and delete the data directory
#
# Environment: BENCH_PGDATA (default /var/tmp/djq-bench-pg), BENCH_PGPORT
# (default 55432), BENCH_PGUSER (the OS user the server runs as when started
# by root, default djqbench; PostgreSQL refuses to run as root).
#
# Server settings are the defaults (fsync=on, synchronous_commit=on,
# shared_buffers=128MB) plus pg_stat_statements preloaded and a log file the
# benchmark reads through SQL (idle scenario). Two roles exist: postgres (the
# systems under test) and djqbench_observer (the benchmark's own monitoring
# queries, so they can be told apart in pg_stat_statements).
set -euo pipefail

PGDATA=${BENCH_PGDATA:-/var/tmp/djq-bench-pg}
PORT=${BENCH_PGPORT:-55432}
OSUSER=${BENCH_PGUSER:-djqbench}

pgbin() {
  local ctl
  ctl=$(command -v pg_ctl || true)
  if [ -z "$ctl" ]; then
    ctl=$(ls -d /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1 || true)
  fi
  [ -n "$ctl" ] || { echo "pg_ctl not found (install the postgresql server package)" >&2; exit 1; }
  dirname "$(readlink -f "$ctl")"
}
PGBIN=$(pgbin)

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    su "$OSUSER" -s /bin/sh -c "$*"
  else
    sh -c "$*"
  fi
}

psql_admin() {
  "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 "$@"
}

init() {
  if [ "$(id -u)" -eq 0 ] && ! id "$OSUSER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OSUSER"
  fi
  mkdir -p "$PGDATA"
  [ "$(id -u)" -eq 0 ] && chown "$OSUSER" "$PGDATA"
  chmod 700 "$PGDATA"
  as_owner "'$PGBIN/initdb' -D '$PGDATA' -A trust -U postgres --no-instructions >/dev/null"
  cat >> "$PGDATA/postgresql.conf" <<EOF

# --- djq benchmarks ---
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '/tmp'
max_connections = 200
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 10000
pg_stat_statements.track = top
pg_stat_statements.track_utility = on
logging_collector = on
log_directory = 'log'
log_filename = 'postgresql.log'
log_rotation_age = 0
log_rotation_size = 0
log_line_prefix = '%m [%p] %d %u '
log_timezone = 'UTC'
EOF
}

start() {
  [ -f "$PGDATA/PG_VERSION" ] || init
  if as_owner "'$PGBIN/pg_ctl' -D '$PGDATA' status" >/dev/null 2>&1; then
    echo "already running on port $PORT"
  else
    as_owner "'$PGBIN/pg_ctl' -D '$PGDATA' -l '$PGDATA/startup.log' -w -t 60 start" >/dev/null
    echo "started on 127.0.0.1:$PORT (data $PGDATA)"
  fi
  psql_admin <<'EOF'
SELECT 'CREATE ROLE djqbench_observer LOGIN SUPERUSER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'djqbench_observer') \gexec
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
EOF
  echo "export BENCH_DB=postgresql://postgres@127.0.0.1:$PORT/djqbench"
}

stop() {
  if [ -f "$PGDATA/PG_VERSION" ]; then
    as_owner "'$PGBIN/pg_ctl' -D '$PGDATA' -m fast -w stop" || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) as_owner "'$PGBIN/pg_ctl' -D '$PGDATA' status" ;;
  destroy) stop; rm -rf "$PGDATA"; echo "removed $PGDATA" ;;
  *) echo "usage: $0 start|stop|status|destroy" >&2; exit 2 ;;
esac
