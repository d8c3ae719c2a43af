#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL cluster on 127.0.0.1 for the
# gdpr-postgres tests and benchmark.
#
#   eval "$(scripts/postgres.sh start)"   # prints `export GDPR_TEST_PG_*=…`
#   scripts/postgres.sh stop               # uses GDPR_TEST_PG_DIR
#
# `start` installs Debian's postgresql when missing, makes a fresh temporary
# directory, runs `initdb` there as the unprivileged OS user `postgres`
# (initdb and pg_ctl refuse to run as root), with password authentication
# (scram-sha-256) on loopback TCP only, no Unix socket outside the directory,
# and starts the server on a free loopback port. It creates the database
# `gdpr` and its owner `gdpr_owner` (LOGIN CREATEROLE, no superuser: the
# migrations run as this role and create the application roles). Passwords
# are written to files (mode 600); only their paths are exported, never a
# password. The superuser `postgres` is left for the fault tests' restarts
# (GDPR_TEST_PG_DIR, GDPR_TEST_PG_BIN).
#
# TLS is on (`ssl = on`, `hostssl` entries first in pg_hba.conf; plain
# loopback connections stay allowed for the tests that use them): a
# throw-away CA made with openssl signs the server's certificate, whose only
# name is IP:127.0.0.1 (so `host=localhost` fails `verify-full` and passes
# `verify-ca`); a second, unrelated CA is made for the wrong-CA test.
# GDPR_TEST_PG_CA_FILE and GDPR_TEST_PG_WRONG_CA_FILE name them.
#
# `stop` runs `pg_ctl stop -m fast`, waits, and removes the directory.
set -euo pipefail

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_OS_USER=${PG_OS_USER:-postgres}

log() { echo "postgres.sh: $*" >&2; }
# shellcheck source=lib/servers.sh
source "$(dirname "$0")/lib/servers.sh"

install_if_missing() {
  if [[ -n "$PG_BIN" && -x "$PG_BIN/initdb" ]] && id "$PG_OS_USER" >/dev/null 2>&1; then
    return
  fi
  log "installing postgresql from Debian's packages"
  apt_install postgresql
  # The package may start a system-wide cluster on 5432; the tests do not use it.
  if command -v systemctl >/dev/null 2>&1; then
    systemctl stop postgresql >/dev/null 2>&1 || true
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
}

# Runs a command as the unprivileged cluster user (as it is when not root).
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$PG_OS_USER" -- "$@"
  else
    "$@"
  fi
}

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# A throw-away CA, the server's key and certificate (IP:127.0.0.1 only) in
# the data directory, an unrelated CA, and `hostssl` lines before the
# `host` lines of pg_hba.conf.
make_tls() {
  local dir=$1 t=$1/tls
  mkdir -p "$t"
  (
    umask 077
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=gdpr-test-ca" -keyout "$t/ca.key" -out "$dir/ca.pem"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
      -subj "/CN=gdpr-wrong-ca" -keyout "$t/wrong-ca.key" -out "$dir/wrong-ca.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=gdpr-test-server" -keyout "$dir/data/server.key" -out "$t/server.csr"
    printf 'subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\nkeyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n' >"$t/ext"
    openssl x509 -req -in "$t/server.csr" -CA "$dir/ca.pem" -CAkey "$t/ca.key" \
      -CAcreateserial -days 2 -extfile "$t/ext" -out "$dir/data/server.crt"
  ) >"$t/openssl.log" 2>&1 || { log "openssl failed; see $t/openssl.log"; exit 1; }
  chmod 644 "$dir/ca.pem" "$dir/wrong-ca.pem"
  local hba=$dir/data/pg_hba.conf
  {
    echo "hostssl all all 127.0.0.1/32 scram-sha-256"
    echo "hostssl all all ::1/128 scram-sha-256"
    cat "$hba"
  } >"$hba.new"
  mv "$hba.new" "$hba"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$PG_OS_USER" "$dir/data/server.key" "$dir/data/server.crt" "$hba"
  fi
  chmod 600 "$dir/data/server.key"
}

start() {
  install_if_missing
  local dir port owner_pw super_pw
  dir=$(mktemp -d -t gdpr-postgres.XXXXXX)
  chmod 711 "$dir"
  owner_pw=$(random_secret)
  super_pw=$(random_secret)
  (umask 077 && printf '%s' "$owner_pw" >"$dir/owner.password" && printf '%s' "$super_pw" >"$dir/super.password")
  mkdir -p "$dir/data" "$dir/socket"
  (umask 077 && printf '%s' "$super_pw" >"$dir/initdb.pw")
  if [[ $(id -u) -eq 0 ]]; then chown "$PG_OS_USER" "$dir/data" "$dir/socket" "$dir/initdb.pw"; fi
  as_pg "$PG_BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/initdb.pw" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || { log "initdb failed; see $dir/initdb.log"; exit 1; }
  rm -f "$dir/initdb.pw"
  make_tls "$dir"

  for attempt in 1 2 3; do
    port=$(free_port)
    cat >"$dir/data/postgresql.auto.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/socket'
max_connections = 200
fsync = on
synchronous_commit = on
logging_collector = off
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
EOF
    if as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start >/dev/null 2>&1; then
      break
    fi
    log "PostgreSQL did not come up on port $port (attempt $attempt)"
    tail -n 5 "$dir/data/server.log" >&2 || true
    port=""
  done
  if [[ -z "$port" ]]; then
    log "giving up: PostgreSQL did not start; see $dir/data/server.log"
    exit 1
  fi
  PGPASSWORD=$super_pw "$PG_BIN/psql" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -v ON_ERROR_STOP=1 -v pw="$owner_pw" >/dev/null <<'EOF'
CREATE ROLE gdpr_owner LOGIN CREATEROLE PASSWORD :'pw';
CREATE DATABASE gdpr OWNER gdpr_owner;
REVOKE ALL ON DATABASE gdpr FROM PUBLIC;
EOF
  cat >"$dir/env" <<EOF
export GDPR_TEST_PG_HOST=127.0.0.1
export GDPR_TEST_PG_PORT=$port
export GDPR_TEST_PG_DB=gdpr
export GDPR_TEST_PG_OWNER=gdpr_owner
export GDPR_TEST_PG_OWNER_PASSWORD_FILE=$dir/owner.password
export GDPR_TEST_PG_SUPER_PASSWORD_FILE=$dir/super.password
export GDPR_TEST_PG_BIN=$PG_BIN
export GDPR_TEST_PG_DIR=$dir
export GDPR_TEST_PG_CA_FILE=$dir/ca.pem
export GDPR_TEST_PG_WRONG_CA_FILE=$dir/wrong-ca.pem
EOF
  cat "$dir/env"
  log "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready at 127.0.0.1:$port"
}

stop() {
  local dir=${GDPR_TEST_PG_DIR:?GDPR_TEST_PG_DIR is not set (run: eval "\$(scripts/postgres.sh start)")}
  if [[ -f "$dir/data/postmaster.pid" ]]; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  remove_own_dir "$dir" "*/gdpr-postgres.*"
  log "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
