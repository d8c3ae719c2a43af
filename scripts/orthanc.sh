#!/usr/bin/env bash
# Start or stop a throw-away Orthanc (Debian's package, with its DICOMweb
# plugin) on 127.0.0.1 for the integration tests and the PACS benchmark.
#
#   eval "$(scripts/orthanc.sh start)"   # prints `export GDPR_TEST_ORTHANC_*=…`
#   scripts/orthanc.sh stop               # uses GDPR_TEST_ORTHANC_DIR
#
# `start` installs orthanc + orthanc-dicomweb with apt-get when missing, writes
# a configuration into a fresh temporary directory (HTTP on a free loopback
# port, authentication on with one random user, DICOM server off, storage and
# index inside the temporary directory, DICOMweb plugin enabled), starts
# Orthanc in the background and waits until GET /system answers with the
# credentials. The password is written to a file (mode 600); only its path is
# exported, never the password itself.
#
# `stop` sends SIGTERM, WAITS for the process to exit (a second Orthanc on the
# same index fails with "database is locked" until the first has gone), falls
# back to SIGKILL after 30 s, and removes the temporary directory.
set -euo pipefail

ORTHANC_BIN=${ORTHANC_BIN:-/usr/sbin/Orthanc}
DICOMWEB_PLUGIN=${DICOMWEB_PLUGIN:-/usr/share/orthanc/plugins/libOrthancDicomWeb.so}

log() { echo "orthanc.sh: $*" >&2; }
# shellcheck source=lib/servers.sh
source "$(dirname "$0")/lib/servers.sh"

install_if_missing() {
  # openssl: the TLS tests make a throw-away CA and serve HTTPS with
  # `openssl s_server` (Debian 12's Orthanc 1.10.1 crashes on HTTPS
  # handshakes with "SslEnabled", so Orthanc itself is reached over loopback
  # HTTP, which the adapters allow for 127.0.0.1 only).
  if [[ -x "$ORTHANC_BIN" && -e "$DICOMWEB_PLUGIN" ]] && command -v curl >/dev/null 2>&1 &&
    command -v openssl >/dev/null 2>&1; then
    return
  fi
  log "installing orthanc, orthanc-dicomweb, curl and openssl from Debian's packages"
  apt_install orthanc orthanc-dicomweb curl openssl
  # The package starts a system-wide Orthanc on port 8042; the tests do not use it.
  if command -v systemctl >/dev/null 2>&1; then
    $sudo systemctl stop orthanc >/dev/null 2>&1 || true
  fi
}

start() {
  install_if_missing
  local dir port password url
  dir=$(mktemp -d -t gdpr-orthanc.XXXXXX)
  chmod 700 "$dir"
  mkdir -p "$dir/storage" "$dir/index"
  password=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && printf '%s' "$password" >"$dir/password")

  for attempt in 1 2 3; do
    port=$(free_port)
    cat >"$dir/orthanc.json" <<EOF
{
  "Name": "gdpr-test-orthanc",
  "HttpServerEnabled": true,
  "HttpPort": $port,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": true,
  "RegisteredUsers": { "gdpr-test": "$password" },
  "DicomServerEnabled": false,
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/index",
  "DeidentifyLogs": true,
  "HttpTimeout": 60,
  "Plugins": [ "$DICOMWEB_PLUGIN" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/" },
  "UserMetadata": { "GdprRestriction": 4242 }
}
EOF
    "$ORTHANC_BIN" "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 &
    echo $! >"$dir/orthanc.pid"
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 150); do
      if curl -fsS --max-time 2 -u "gdpr-test:$password" "$url/system" >/dev/null 2>&1; then
        cat >"$dir/env" <<EOF
export GDPR_TEST_ORTHANC_URL=$url
export GDPR_TEST_ORTHANC_USER=gdpr-test
export GDPR_TEST_ORTHANC_PASSWORD_FILE=$dir/password
export GDPR_TEST_ORTHANC_DIR=$dir
EOF
        cat "$dir/env"
        log "Orthanc $(curl -fsS -u "gdpr-test:$password" "$url/system" | grep -o '"Version" : "[^"]*"' || true) ready at $url (pid $(cat "$dir/orthanc.pid"))"
        return
      fi
      if ! kill -0 "$(cat "$dir/orthanc.pid")" 2>/dev/null; then
        break
      fi
      sleep 0.2
    done
    log "Orthanc did not come up on port $port (attempt $attempt); last log lines:"
    tail -n 5 "$dir/orthanc.log" >&2 || true
    GDPR_TEST_ORTHANC_DIR=$dir stop_process
  done
  log "giving up: Orthanc did not start; see $dir/orthanc.log"
  exit 1
}

# Stops the process recorded in $GDPR_TEST_ORTHANC_DIR/orthanc.pid and waits for it.
stop_process() {
  local dir=${GDPR_TEST_ORTHANC_DIR:?GDPR_TEST_ORTHANC_DIR is not set}
  stop_pid_file "$dir/orthanc.pid" "Orthanc"
}

stop() {
  local dir=${GDPR_TEST_ORTHANC_DIR:?GDPR_TEST_ORTHANC_DIR is not set (run: eval "\$(scripts/orthanc.sh start)")}
  stop_process
  remove_own_dir "$dir" "*/gdpr-orthanc.*"
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
