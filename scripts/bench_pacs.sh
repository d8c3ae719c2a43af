#!/usr/bin/env bash
# Benchmark: erasing a patient with 50 studies on a real Orthanc, the
# gdpr-dicom adapter against the raw HTTP sequence, same run. Prints the
# ratio (target <= 1.2x). Starts a throw-away Orthanc and always stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
# (An assignment, so that a failed start stops this script under `set -e`.)
orthanc_env=$(./scripts/orthanc.sh start)
eval "$orthanc_env"
trap './scripts/orthanc.sh stop' EXIT
cargo bench -p gdpr-dicom --bench pacs_erase
