#!/usr/bin/env bash
# Benchmarks of gdpr-ehr's export (gdpr-ehr/benches/ehr_export.rs), each
# against a baseline measured side by side in the same run:
#   (a) one patient with 10,000 resources exported from a real Helios HFS
#       against plain GETs of the same pages (target <= 1.2x wall time);
#   (b) Bundle writing (conformance split included) against plain serde_json
#       serialisation of the same resources into a Bundle, same file protocol
#       (target >= 0.8x throughput); the whole writer (plus NDJSON and
#       SHA-256) reported beside it, without a target;
#   (c) the peak memory (maximum resident set size, /usr/bin/time -v) of the
#       export of a patient with 100,000 Observations (target < 64 MB).
# Starts a throw-away Helios (scripts/fhir.sh) and always stops it.
#   scripts/bench_ehr.sh [RESOURCES_A] [OBSERVATIONS_C]
#   scripts/bench_ehr.sh writer    # (b) only: no server, about a minute
set -euo pipefail
cd "$(dirname "$0")/.."

build() {
  cargo bench -p gdpr-ehr --bench ehr_export --no-run --message-format=json 2>/dev/null \
    | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ehr_export" and m.get("executable"):
        print(m["executable"])'
}

writer() {
  echo "== (b) Bundle writing vs serde_json, 10,000 and 100,000 resources (9 rounds each)"
  "$bin" writer 10000
  "$bin" writer 100000
}

if [[ ${1:-} == writer ]]; then
  bin=$(build)
  writer
  exit 0
fi
resources_a=${1:-10000}
observations_c=${2:-100000}

# (An assignment, so that a failed start stops this script under `set -e`.)
fhir_env=$(./scripts/fhir.sh start)
eval "$fhir_env"
trap './scripts/fhir.sh stop' EXIT

bin=$(build)
writer

echo "== (a) export of one patient with $resources_a resources from Helios vs raw GETs"
"$bin" helios "$resources_a"

echo "== (c) peak memory of the export of a patient with $observations_c Observations"
# Helios pages 100,000 Observations slowly (offset paging: a single export
# had not finished after 11 minutes here), so by default the pages come from a local
# server that generates them (`serve`; a separate process, so only our
# export's memory is measured). EHR_BENCH_C_HELIOS=1 loads Helios instead
# (transaction Bundles of 1000) and exports from it.
if [[ ${EHR_BENCH_C_HELIOS:-0} == 1 ]]; then
  id=$("$bin" seed "$((observations_c + 1))")
  url=$GDPR_TEST_FHIR_URL
else
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$bin" serve "$observations_c" "$port" &
  server=$!
  trap 'kill $server 2>/dev/null; ./scripts/fhir.sh stop' EXIT
  sleep 1
  id=p1
  url=http://127.0.0.1:$port/fhir
fi
for run in 1 2 3; do
  GDPR_TEST_FHIR_URL=$url /usr/bin/time -v "$bin" export "$id" 2>"$GDPR_TEST_FHIR_DIR/time.txt"
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$GDPR_TEST_FHIR_DIR/time.txt")
  echo "run $run: maximum resident set size $((rss / 1024)) MB ($rss kB)"
done
