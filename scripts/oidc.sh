#!/usr/bin/env bash
# Start or stop a throw-away OpenID provider (the npm package oidc-provider,
# pinned in scripts/oidc/package-lock.json) on 127.0.0.1 for gdpr-connect's
# OAuth 2 tests: client credentials with private_key_jwt and with a client
# secret, token introspection, OIDC discovery; and for gdpr-gateway's tests
# (RS256 JWTs for the gw-* clients; the OHIF test's browser log-in by
# authorization code with PKCE, client gw-viewer).
#
#   eval "$(scripts/oidc.sh start)"   # prints `export GDPR_TEST_OIDC_*=…`
#   scripts/oidc.sh stop               # uses GDPR_TEST_OIDC_DIR
#
# `start` installs nodejs and npm with apt-get when missing, copies the
# provider (server.mjs, package.json, package-lock.json) into a fresh
# temporary directory and runs `npm ci` there, generates the client's key
# pairs (RSA 3072 and EC P-384, private keys mode 600) and a random client
# secret (mode 600) and the provider's RS256 signing key into it, starts the provider on a free loopback port and
# waits until its discovery document answers. Only file paths are exported,
# never a secret. Tokens live GDPR_TEST_OIDC_TOKEN_TTL seconds (default 10).
#
# `stop` sends SIGTERM, waits for the process to exit, falls back to SIGKILL
# after 30 s, and removes the temporary directory.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TTL=${GDPR_TEST_OIDC_TOKEN_TTL:-10}

log() { echo "oidc.sh: $*" >&2; }
# shellcheck source=lib/servers.sh
source "$(dirname "$0")/lib/servers.sh"

install_if_missing() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    command -v curl >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
    return
  fi
  log "installing nodejs, npm, curl and openssl from Debian's packages"
  apt_install nodejs npm curl openssl
}

# The client's key pairs and secret, private parts readable by us only.
make_keys() {
  local dir=$1
  (
    umask 077
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$dir/rsa.pem" 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$dir/ec.pem" 2>/dev/null
    # A key the provider does not know, for the tests of a refused client.
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/wrong.pem" 2>/dev/null
    # The provider's own signing key (RS256 JWT access tokens for the gateway).
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/provider.pem" 2>/dev/null
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/client.secret"
  )
  openssl pkey -in "$dir/rsa.pem" -pubout -out "$dir/rsa.pub.pem"
  openssl pkey -in "$dir/ec.pem" -pubout -out "$dir/ec.pub.pem"
}

start() {
  install_if_missing
  local dir port url
  dir=$(mktemp -d -t gdpr-oidc.XXXXXX)
  chmod 700 "$dir"
  cp "$HERE/oidc/server.mjs" "$HERE/oidc/package.json" "$HERE/oidc/package-lock.json" "$dir/"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >"$dir/npm.log" 2>&1); then
    log "npm ci failed; last lines of $dir/npm.log:"
    tail -n 20 "$dir/npm.log" >&2 || true
    exit 1
  fi
  make_keys "$dir"

  for attempt in 1 2 3; do
    port=$(free_port)
    (cd "$dir" && OIDC_DIR=$dir OIDC_PORT=$port OIDC_TOKEN_TTL=$TTL \
      exec node server.mjs >"$dir/oidc.log" 2>&1) &
    echo $! >"$dir/oidc.pid"
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 150); do
      if curl -fsS --max-time 2 "$url/.well-known/openid-configuration" >/dev/null 2>&1; then
        cat >"$dir/env" <<EOF2
export GDPR_TEST_OIDC_ISSUER=$url
export GDPR_TEST_OIDC_RSA_KEY_FILE=$dir/rsa.pem
export GDPR_TEST_OIDC_EC_KEY_FILE=$dir/ec.pem
export GDPR_TEST_OIDC_WRONG_KEY_FILE=$dir/wrong.pem
export GDPR_TEST_OIDC_SECRET_FILE=$dir/client.secret
export GDPR_TEST_OIDC_TOKEN_TTL=$TTL
export GDPR_TEST_OIDC_DIR=$dir
EOF2
        cat "$dir/env"
        log "oidc-provider $(node -p "require('$dir/node_modules/oidc-provider/package.json').version") ready at $url (pid $(cat "$dir/oidc.pid"), tokens live $TTL s)"
        return
      fi
      if ! kill -0 "$(cat "$dir/oidc.pid")" 2>/dev/null; then
        break
      fi
      sleep 0.2
    done
    log "the provider did not come up on port $port (attempt $attempt); last log lines:"
    tail -n 5 "$dir/oidc.log" >&2 || true
    GDPR_TEST_OIDC_DIR=$dir stop_process
  done
  log "giving up: the provider did not start; see $dir/oidc.log"
  exit 1
}

# Stops the process recorded in $GDPR_TEST_OIDC_DIR/oidc.pid and waits for it.
stop_process() {
  local dir=${GDPR_TEST_OIDC_DIR:?GDPR_TEST_OIDC_DIR is not set}
  stop_pid_file "$dir/oidc.pid" "the provider"
}

stop() {
  local dir=${GDPR_TEST_OIDC_DIR:?GDPR_TEST_OIDC_DIR is not set (run: eval "\$(scripts/oidc.sh start)")}
  stop_process
  remove_own_dir "$dir" "*/gdpr-oidc.*"
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
