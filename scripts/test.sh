#!/usr/bin/env bash
# The whole test suite, as the README tells a newcomer to run it.
#
# It installs what the tests need from Debian's packages when missing, starts
# every server the integration tests use on 127.0.0.1, runs all tests, and
# stops the servers again (also on failure).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest is missing: cargo install cargo-nextest --locked" >&2
  exit 2
fi

# Debian packages the tests use: dicom3tools (dciodvfy validates every
# de-identified output), Orthanc with its DICOMweb plugin (the real server of
# the storage-adapter tests), curl and openssl (Orthanc start-up probe, TLS
# tests). Installed only when missing, with one `apt-get update` first so a
# fresh machine's empty package lists do not fail the install.
missing=()
command -v dciodvfy >/dev/null 2>&1 || missing+=(dicom3tools)
[[ -x /usr/sbin/Orthanc ]] || missing+=(orthanc)
[[ -e /usr/share/orthanc/plugins/libOrthancDicomWeb.so ]] || missing+=(orthanc-dicomweb)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  echo "== installing ${missing[*]} from Debian's packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
export GDPR_DICOM_TOOLS=1

# Every server started below adds its stop command to `stops`; on exit
# (success, failure or interrupt) all of them are stopped, the last started
# first, each one even when stopping another failed. One EXIT trap for all:
# a second `trap … EXIT` would replace the first.
stops=()
stop_servers() {
  local i
  for ((i = ${#stops[@]} - 1; i >= 0; i--)); do
    ${stops[i]} || echo "== could not stop a server: ${stops[i]}" >&2
  done
}
trap stop_servers EXIT

echo "== starting a throw-away Orthanc for the gdpr-dicom integration tests"
# (An assignment, so that a failed start stops this script under `set -e`.)
orthanc_env=$(./scripts/orthanc.sh start)
eval "$orthanc_env"
# Always stop it (and wait for it to exit), also when a test fails.
stops+=("./scripts/orthanc.sh stop")

# --- OpenID provider (gdpr-connect's OAuth 2 tests) -------------------------
# oidc-provider from npm (scripts/oidc/, `npm ci` into a temporary directory;
# nodejs and npm installed by the script when missing). Its tests (feature
# oidc-tests, on under --all-features) fail when the provider is missing.
# gdpr-gateway's tests (feature gateway-tests) use it too, with the Orthanc
# above: RS256 JWT access tokens for its gw-* clients.
echo "== starting a throw-away OpenID provider for the gdpr-connect OAuth 2 tests"
oidc_env=$(./scripts/oidc.sh start)
eval "$oidc_env"
stops+=("./scripts/oidc.sh stop")

# --- end OpenID provider ------------------------------------------------------

# ---- FHIR R4 server (gdpr-ehr) ----------------------------------------------
# A throw-away Helios HFS with the official R4 search parameters, and the
# Python validator (fhir.resources 6.4.0) of our FHIR exports; see
# scripts/fhir.sh. Its tests (gdpr-ehr's feature fhir-tests, on under
# --all-features) fail when the server or the validator is missing.
echo "== starting a throw-away FHIR R4 server (Helios HFS) for the gdpr-ehr integration tests"
fhir_env=$(./scripts/fhir.sh start)
eval "$fhir_env"
stops+=("./scripts/fhir.sh stop")
# ---- end of the FHIR R4 server block ----------------------------------------

# ---- PostgreSQL ----------------------------------------------------------------
# A throw-away cluster (Debian's postgresql, installed by the script when
# missing; initdb and pg_ctl run as the unprivileged OS user `postgres`) on a
# free loopback port in a temporary directory; see scripts/postgres.sh. Its
# tests (gdpr-postgres's feature postgres-tests, on under --all-features)
# fail when the server is missing.
echo "== starting a throw-away PostgreSQL for the gdpr-postgres integration tests"
postgres_env=$(./scripts/postgres.sh start)
eval "$postgres_env"
stops+=("./scripts/postgres.sh stop")
# ---- end PostgreSQL ------------------------------------------------------------

# ---- OHIF viewer in headless Chromium (gdpr-gateway) -------------------------
# The prebuilt OHIF viewer (npm @ohif/app, pinned version and integrity) and
# playwright-core (scripts/ohif/, `npm ci`) in a cache directory, Debian's
# chromium installed when missing; see scripts/ohif.sh. Nothing keeps
# running. gdpr-gateway's browser test (feature ohif-tests, on under
# --all-features) fails when any of it is missing; its screenshots are kept
# under $CARGO_TARGET_DIR/ohif-screenshots/ (default target/).
echo "== preparing the OHIF viewer and headless Chromium for the gdpr-gateway browser test"
ohif_env=$(./scripts/ohif.sh prepare)
eval "$ohif_env"
# ---- end OHIF viewer -----------------------------------------------------------

echo "== unit, property and integration tests"
cargo nextest run --workspace --all-features --no-fail-fast

# ---- erase_across_systems example (gdpr-systems) ----------------------------
# One erasure request across the real Orthanc and the real FHIR server started
# above (examples/erase_across_systems.rs): decision, residue, certificate
# verified. It fails (exit 2) when the servers' variables are missing.
echo "== example: one erasure request across Orthanc and the FHIR server"
cargo run -q -p gdpr-examples --example erase_across_systems
# ---- end erase_across_systems example ---------------------------------------

echo "== documentation tests"
cargo test --workspace --all-features --doc

# Broken or private intra-doc links fail the run (rustdoc only warns).
echo "== documentation links"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps
