#!/usr/bin/env bash
# Benchmark: one erasure request over one subject with 50 studies on a real
# Orthanc and 500 FHIR resources on a real Helios HFS, against the sum of
# the raw HTTP calls the same work needs, same run; plus the journal's cost
# per step. Prints the ratio (target <= 1.3x). Starts both servers and
# always stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
stops=()
cleanup() { for s in "${stops[@]}"; do eval "$s" || true; done; }
trap cleanup EXIT
# (Assignments, so that a failed start stops this script under `set -e`.)
orthanc_env=$(./scripts/orthanc.sh start)
eval "$orthanc_env"
stops+=("./scripts/orthanc.sh stop")
fhir_env=$(./scripts/fhir.sh start)
eval "$fhir_env"
stops+=("./scripts/fhir.sh stop")
cargo bench -p gdpr-request --bench request
