#!/usr/bin/env bash
# Benchmarks of the DICOMweb gateway against the real Orthanc and the real
# OpenID provider, both started here and always stopped:
#   throughput  requests/s and p99 for QIDO and for WADO of a 50-instance
#               study, direct against Orthanc / through the gateway / through
#               the gateway pseudonymised, interleaved (targets >= 0.8x the
#               direct throughput, <= 1.2x the direct p99); ~80 s.
#   memory      peak RSS of the release binary while a client pulls a
#               ~520 MB study through it (target < 64 MB); ~1 min.
# Usage: scripts/bench_gateway.sh [throughput|memory|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-all}"
stops=()
cleanup() { for s in "${stops[@]}"; do eval "$s" || true; done; }
trap cleanup EXIT
# (Assignments, so that a failed start stops this script under `set -e`.)
orthanc_env=$(./scripts/orthanc.sh start)
eval "$orthanc_env"
stops+=("./scripts/orthanc.sh stop")
oidc_env=$(./scripts/oidc.sh start)
eval "$oidc_env"
stops+=("./scripts/oidc.sh stop")
if [[ "$which" == all || "$which" == throughput ]]; then
  cargo bench -p gdpr-gateway --features gateway-tests --bench gateway
fi
if [[ "$which" == all || "$which" == memory ]]; then
  cargo bench -p gdpr-gateway --features gateway-tests --bench memory
fi
