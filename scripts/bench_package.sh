#!/usr/bin/env bash
# Benchmark of the access package (`gdpr request run` of an access request
# on the folder store): peak memory (GNU time's maximum resident set size)
# and wall time, plain and sealed with age, against `cp -r` of the same
# files in the same run.
#
#   scripts/bench_package.sh           # ~1 GB: 400 MR slices (2 MB) + one 200 MB multi-frame
#   MR=100 scripts/bench_package.sh    # smaller
#   RUNS=1 scripts/bench_package.sh    # repetitions (every run is printed)
#
# Target (issue 14): peak memory under 64 MB however large the studies.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
MR="${MR:-400}"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/gdpr-bench-package.XXXXXX)}"
trap 'rm -rf "$WORK"' EXIT

for tool in /usr/bin/time:time age-keygen:age bc:bc; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    apt-get install -y "${tool##*:}" >/dev/null
  fi
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
PROFILE="${PROFILE:-release}"
flag=(--release)
if [[ "$PROFILE" == debug ]]; then flag=(); fi
cargo build "${flag[@]}" -q -p gdpr-cli
cargo build "${flag[@]}" -q -p gdpr-examples --example synthetic_dicom
GDPR="$CARGO_TARGET_DIR/$PROFILE/gdpr"
SYNTH="$CARGO_TARGET_DIR/$PROFILE/examples/synthetic_dicom"

echo "== generating synthetic data in $WORK ($PROFILE build)"
# One patient (SYN-000123), one study: MR slices 2..MR+1 and a multi-frame
# instance 1 (the generator numbers SOP UIDs by instance).
"$SYNTH" mr "$((MR + 1))" "$WORK/store/mr"
rm "$WORK/store/mr/IMG00001.dcm"
"$SYNTH" multiframe 1 "$WORK/store/mf"
du -sh "$WORK/store"
printf '[systems.archive]\nkind = "folder"\npath = "%s"\n' "$WORK/store" >"$WORK/systems.toml"
printf 'version = 1\n\n[systems.archive]\ndicom-patient-id = "SYN-000123"\n' >"$WORK/index.toml"
(cd "$WORK" && "$GDPR" audit init audit --key-out audit.key >/dev/null 2>&1)
age-keygen -o "$WORK/recipient.key" 2>/dev/null
age_key=$(sed -n 's/^# public key: //p' "$WORK/recipient.key")

ctx=(--config systems.toml --audit-log audit --audit-key audit.key)

# run_once ID [FLAGS...]: one access request from new to run; prints
# "wall_seconds max_rss_kb" of the run.
run_once() {
  local id=$1
  shift
  (
    cd "$WORK"
    "$GDPR" request new --id "$id" --kind access --index index.toml >/dev/null
    "$GDPR" request assess "$id" "${ctx[@]}" --actor dpo-1 >/dev/null
    "$GDPR" request approve "$id" "${ctx[@]}" --actor dpo-2 >/dev/null
    /usr/bin/time -f "%e %M" -o "time-$id" "$GDPR" request run "$id" "${ctx[@]}" --actor dpo-1 "$@" >/dev/null
    cat "time-$id"
  )
}

cp_once() {
  rm -rf "$WORK/copy"
  /usr/bin/time -f "%e %M" -o "$WORK/time-cp" cp -r "$WORK/store" "$WORK/copy"
  cat "$WORK/time-cp"
}

printf '%-6s %-22s %10s %12s %10s\n' run what wall_s peak_MB vs_cp
for r in $(seq 1 "$RUNS"); do
  read -r cp_s _ < <(cp_once)
  read -r plain_s plain_kb < <(run_once "plain-$r")
  rm -rf "$WORK/requests/plain-$r/package"
  read -r sealed_s sealed_kb < <(run_once "sealed-$r" --encrypt-to "$age_key")
  # The recipient's own age tool opens the archive.
  age -d -i "$WORK/recipient.key" "$WORK/requests/sealed-$r/package.tar.age" | tar -t | grep -q '^package/manifest.json$'
  rm -f "$WORK/requests/sealed-$r/package.tar.age"
  printf '%-6s %-22s %10s %12s %10s\n' "$r" "cp -r" "$cp_s" "-" "1.00"
  printf '%-6s %-22s %10s %12.1f %10.2f\n' "$r" "package" "$plain_s" "$(echo "$plain_kb/1024" | bc -l)" "$(echo "$plain_s/$cp_s" | bc -l)"
  printf '%-6s %-22s %10s %12.1f %10.2f\n' "$r" "package + age" "$sealed_s" "$(echo "$sealed_kb/1024" | bc -l)" "$(echo "$sealed_s/$cp_s" | bc -l)"
done
