#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server on loopback for landkit's tests (tests/test_postgis.py).
#
#   eval "$(bash scripts/postgres.sh start)"   # initdb if needed, start, print the test environment
#   bash scripts/postgres.sh stop              # stop it (the data directory stays, for a fast restart)
#   bash scripts/postgres.sh clean             # stop it and delete its data directory
#   bash scripts/postgres.sh env               # print the test environment only
#
# The cluster lives in $LANDKIT_PG_DIR (default /tmp/landkit-pg-$PORT), listens on 127.0.0.1 only,
# port $LANDKIT_PG_PORT (default 54329), and has two roles: `landkit` (superuser, trust on
# 127.0.0.1: the tests create a database per session with CREATE EXTENSION postgis) and
# `landkit_pw` (no privileges, password auth: the tests check its password is never printed).
# Run as root, the server runs as the `postgres` user (PostgreSQL refuses to run as root).
# A data directory left half-made, or made by another PostgreSQL version, is made again (the
# server is throwaway); a port another program listens on is refused with a one-line reason.
# `start` prints shell exports on stdout (all messages go to stderr):
#   LANDKIT_TEST_PG     postgresql://landkit@127.0.0.1:PORT/postgres
#   LANDKIT_TEST_PG_PW  postgresql://landkit_pw:PASSWORD@127.0.0.1:PORT/postgres
#   LANDKIT_PG_STARTED  1 if this call started the server (then `make test` stops it), 0 if it was running
set -euo pipefail

PORT=${LANDKIT_PG_PORT:-54329}
DIR=${LANDKIT_PG_DIR:-${TMPDIR:-/tmp}/landkit-pg-$PORT}
DATA=$DIR/data
PASSWORD=${LANDKIT_PG_PASSWORD:-landkit-test-Secret-7q2}   # a test-only role on a loopback-only server

say() { echo "postgres.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# The newest PostgreSQL whose server binaries and PostGIS extension are both installed.
find_bindir() {
  local v
  for v in $(ls /usr/lib/postgresql 2>/dev/null | sort -rn); do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ] && [ -e "/usr/share/postgresql/$v/extension/postgis.control" ]; then
      echo "/usr/lib/postgresql/$v/bin"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

BIN=$(find_bindir) || die "PostgreSQL with PostGIS is not installed: run \`bash scripts/system-deps.sh\` (as root) or \`apt-get install postgresql postgresql-postgis\`"

# Run a command as the cluster's owner: `postgres` when we are root, else ourselves.
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || die "no \`postgres\` user to run the server as (install the postgresql package)"
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

print_env() {
  echo "export LANDKIT_TEST_PG='postgresql://landkit@127.0.0.1:$PORT/postgres'"
  echo "export LANDKIT_TEST_PG_PW='postgresql://landkit_pw:$PASSWORD@127.0.0.1:$PORT/postgres'"
}

running() { as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

# Whether any program (PostgreSQL or not) accepts TCP connections on 127.0.0.1:$PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

# The major version of the server binaries in $BIN (15, 16 ...).
bin_version() { "$BIN/postgres" --version | awk '{print $3}' | cut -d. -f1; }

init_cluster() {
  say "creating a cluster in $DATA (PostgreSQL $("$BIN/postgres" --version | awk '{print $3}'))"
  mkdir -p "$DIR"
  if [ "$OWNER" = postgres ]; then
    chown postgres: "$DIR"
    # the server's user must reach the folder: a private TMPDIR (e.g. under /root) will not do
    runuser -u postgres -- test -w "$DIR" \
      || die "the postgres user cannot write to $DIR (a parent folder is private); set LANDKIT_PG_DIR=/tmp/landkit-pg"
  fi
  chmod 700 "$DIR"
  rm -rf "$DATA"  # a data directory left half-made by an interrupted initdb
  as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 \
    || die "initdb failed; see $DIR/initdb.log"
  as_owner tee -a "$DATA/postgresql.conf" >/dev/null <<EOF
# landkit tests: loopback only, sockets in the cluster's folder, no durability (a throwaway server)
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
EOF
  as_owner tee "$DATA/pg_hba.conf" >/dev/null <<EOF
local all all                  trust
host  all landkit 127.0.0.1/32 trust
host  all all     127.0.0.1/32 scram-sha-256
EOF
}

start() {
  if [ -f "$DATA/PG_VERSION" ] && [ "$(cat "$DATA/PG_VERSION")" != "$(bin_version)" ] && ! running; then
    say "the cluster in $DATA is PostgreSQL $(cat "$DATA/PG_VERSION"), the server installed $(bin_version): making it again"
    rm -rf "$DATA"
  fi
  [ -f "$DATA/PG_VERSION" ] || init_cluster
  local started=0
  if running; then
    say "already running on 127.0.0.1:$PORT ($DATA)"
  else
    if port_taken; then
      die "another program already listens on 127.0.0.1:$PORT; choose a free port with LANDKIT_PG_PORT=..."
    fi
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null \
      || die "the server did not start; see $DIR/server.log"
    started=1
    say "started on 127.0.0.1:$PORT ($DATA)"
  fi
  as_owner "$BIN/psql" -X -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -v pw="$PASSWORD" >/dev/null <<'SQL' \
    || die "could not create the test roles; see $DIR/server.log"
SELECT format('CREATE ROLE landkit LOGIN SUPERUSER') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'landkit') \gexec
SELECT format('CREATE ROLE landkit_pw LOGIN') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'landkit_pw') \gexec
SET password_encryption = 'scram-sha-256';
ALTER ROLE landkit_pw PASSWORD :'pw';
SQL
  print_env
  echo "export LANDKIT_PG_STARTED=$started"
}

stop() {
  if [ -f "$DATA/PG_VERSION" ] && running; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    say "stopped the server on 127.0.0.1:$PORT"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$DIR"; say "removed $DIR" ;;
  env) print_env ;;
  *) die "usage: bash scripts/postgres.sh start|stop|clean|env" ;;
esac
