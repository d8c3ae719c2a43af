#!/usr/bin/env bash
# Prepare the OHIF viewer and the browser driver for gdpr-gateway's browser
# tests (feature ohif-tests): nothing keeps running, so there is no `stop`.
#
#   eval "$(scripts/ohif.sh prepare)"   # prints `export GDPR_TEST_OHIF_*=…`
#
# - The viewer: the prebuilt files (`package/dist/`) of the npm package
#   @ohif/app, version $OHIF_VERSION, fetched with `npm pack`, checked
#   against the pinned sha512 integrity below and unpacked once into a cache
#   directory (GDPR_OHIF_CACHE, default ~/.cache/gdpr-health/ohif); the test
#   serves them itself, with its own app-config.js.
# - The driver: scripts/ohif/ (drive.mjs, package.json, package-lock.json
#   pinning playwright-core), `npm ci` into the same cache (never into the
#   repository), keyed by the lock file's hash.
# - The browser: Debian's chromium (and chromium-driver), installed with
#   apt-get when missing, like nodejs and npm.
# Fails (exit 1) when any of them cannot be had.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OHIF_VERSION=3.13.2
OHIF_INTEGRITY=sha512-WZdxmpmG7rqFgW9ZJLcbgr3XCtLi1KDNPoMaeY5PPe6j4G4fjEjjkycZM6C6Zk2F87BKxFfpq+jd5xXZB9E8EA==
CACHE=${GDPR_OHIF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gdpr-health/ohif}

log() { echo "ohif.sh: $*" >&2; }
# shellcheck source=lib/servers.sh
source "$(dirname "$0")/lib/servers.sh"

install_if_missing() {
  local missing=()
  command -v node >/dev/null 2>&1 || missing+=(nodejs)
  command -v npm >/dev/null 2>&1 || missing+=(npm)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
  if ((${#missing[@]})); then
    log "installing ${missing[*]} from Debian's packages"
    apt_install "${missing[@]}"
  fi
  [[ -x /usr/bin/chromium ]] || { log "/usr/bin/chromium is missing after the install"; exit 1; }
}

# The viewer's dist/ in "$CACHE/app-$OHIF_VERSION", unpacked once.
viewer() {
  local dest="$CACHE/app-$OHIF_VERSION" tmp tgz got
  if [[ -f "$dest/dist/index.html" ]]; then
    return
  fi
  tmp=$(mktemp -d "$CACHE/pack.XXXXXX")
  if ! (cd "$tmp" && npm pack "@ohif/app@$OHIF_VERSION" --silent >npm.log 2>&1); then
    log "npm pack @ohif/app@$OHIF_VERSION failed:"
    tail -n 20 "$tmp/npm.log" >&2 || true
    rm -rf "$tmp"
    exit 1
  fi
  tgz="$tmp/ohif-app-$OHIF_VERSION.tgz"
  got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  if [[ "$got" != "$OHIF_INTEGRITY" ]]; then
    log "@ohif/app@$OHIF_VERSION does not match the pinned integrity ($got)"
    rm -rf "$tmp"
    exit 1
  fi
  tar -xzf "$tgz" -C "$tmp"
  rm -rf "$dest"
  mkdir -p "$dest"
  mv "$tmp/package/dist" "$dest/dist"
  rm -rf "$tmp"
}

# The driver (playwright-core from the lock file) in "$CACHE/driver-<hash>".
driver() {
  local hash dest
  hash=$(cat "$HERE/ohif/package.json" "$HERE/ohif/package-lock.json" | openssl dgst -sha256 -r | cut -c1-16)
  dest="$CACHE/driver-$hash"
  if [[ ! -f "$dest/node_modules/playwright-core/package.json" ]]; then
    mkdir -p "$dest"
    cp "$HERE/ohif/package.json" "$HERE/ohif/package-lock.json" "$dest/"
    if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
      log "npm ci of the driver failed; last lines of $dest/npm.log:"
      tail -n 20 "$dest/npm.log" >&2 || true
      exit 1
    fi
  fi
  cp "$HERE/ohif/drive.mjs" "$dest/"
  DRIVER=$dest
}

prepare() {
  install_if_missing
  mkdir -p "$CACHE"
  viewer
  driver
  cat <<EOF2
export GDPR_TEST_OHIF_DIST=$CACHE/app-$OHIF_VERSION/dist
export GDPR_TEST_OHIF_DRIVER=$DRIVER/drive.mjs
export GDPR_TEST_CHROMIUM=/usr/bin/chromium
EOF2
  log "OHIF $OHIF_VERSION, playwright-core $(node -p "require('$DRIVER/node_modules/playwright-core/package.json').version"), $(/usr/bin/chromium --version 2>/dev/null) ready"
}

case "${1:-}" in
  prepare) prepare ;;
  *)
    echo "usage: $0 prepare" >&2
    exit 2
    ;;
esac
