#!/usr/bin/env bash
# Benchmark: one erasure request over one subject with 50 studies on a real
# Orthanc and 500 FHIR resources on a real Helios HFS, against the sum of
# the raw HTTP calls the same work needs, same run; plus the journal's cost
# per step, measured inside the request. Prints the ratio per round and its
# median with min-max (target <= 1.3x).
#
# Uses the servers named by GDPR_TEST_ORTHANC_URL (with _USER and
# _PASSWORD_FILE) and GDPR_TEST_FHIR_URL when they are set; otherwise
# starts throw-away ones and always stops what it started. The build comes
# first; the measured run is bounded (BENCH_ROUNDS, default 3; at most
# 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
stops=()
cleanup() { for s in "${stops[@]}"; do eval "$s" || true; done; }
trap cleanup EXIT
# (Assignments, so that a failed start stops this script under `set -e`.)
if [[ -z "${GDPR_TEST_ORTHANC_URL:-}" ]]; then
  orthanc_env=$(./scripts/orthanc.sh start)
  eval "$orthanc_env"
  stops+=("./scripts/orthanc.sh stop")
fi
if [[ -z "${GDPR_TEST_FHIR_URL:-}" ]]; then
  fhir_env=$(./scripts/fhir.sh start)
  eval "$fhir_env"
  stops+=("./scripts/fhir.sh stop")
fi
cargo bench -p gdpr-request --bench request --no-run
timeout 300 cargo bench -p gdpr-request --bench request
