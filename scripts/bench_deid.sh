#!/usr/bin/env bash
# Benchmark of `gdpr dicom deidentify` against gdcmanon and `cp -r`, whole
# processes timed, ratios printed side by side in the same run.
#
#   scripts/bench_deid.sh            # 1,000 CT (~40 KB), 100 MR (~2 MB), 200 MB multi-frame
#   RUNS=1 scripts/bench_deid.sh     # fewer repetitions (best of RUNS is reported)
#
# Needs libgdcm-tools (gdcmanon), openssl and GNU time; installs them when
# missing (Debian). Targets (issue 6): CT >= 4x gdcmanon; MR >= 1.5x gdcmanon
# and >= 0.7x cp -r; peak memory on the 200 MB file <= 32 MB.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${RUNS:-3}"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/gdpr-bench.XXXXXX)}"
trap 'rm -rf "$WORK"' EXIT

for tool in gdcmanon:libgdcm-tools openssl:openssl /usr/bin/time:time; do
  if ! command -v "${tool%%:*}" >/dev/null 2>&1; then
    apt-get install -y "${tool##*:}" >/dev/null
  fi
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release -q -p gdpr-cli
cargo build --release -q -p gdpr-examples --example synthetic_dicom
GDPR="$CARGO_TARGET_DIR/release/gdpr"
SYNTH="$CARGO_TARGET_DIR/release/examples/synthetic_dicom"

echo "== generating synthetic data in $WORK"
"$SYNTH" ct 1000 "$WORK/ct"
"$SYNTH" mr 100 "$WORK/mr"
"$SYNTH" multiframe 1 "$WORK/mf"
"$GDPR" dicom keygen "$WORK/project.key" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1

# best_seconds CMD... : runs CMD RUNS times into a fresh $OUT, prints the best
# wall time. A contender that fails stops the benchmark with its exit status
# and the end of its output: a ratio against a failed run would mean nothing.
best_seconds() {
  local best=""
  for _ in $(seq "$RUNS"); do
    rm -rf "$OUT"
    local t0 t1 status=0
    t0=$(date +%s.%N)
    "$@" >"$WORK/contender.log" 2>&1 || status=$?
    t1=$(date +%s.%N)
    if ((status != 0)); then
      echo "$1 failed (exit $status); the benchmark is void:" >&2
      tail -n 5 "$WORK/contender.log" >&2
      exit 1
    fi
    best=$(python3 -c "a='$best'; d=$t1-$t0; print(d if a=='' else min(float(a), d))")
  done
  echo "$best"
}

report() { # NAME FILES CP GDCM OURS
  python3 - "$@" <<'PY'
import sys
name, n, cp, gd, us = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:6])
fps = lambda s: n / s
print(f"{name:<4} files/s: gdpr {fps(us):8.0f} | gdcmanon {fps(gd):8.0f} | cp -r {fps(cp):8.0f}"
      f"  -> gdpr/gdcmanon {gd/us:5.2f}x, gdpr/cp {cp/us:5.2f}x")
PY
}

for set in ct mr; do
  IN="$WORK/$set"
  N=$(find "$IN" -type f | wc -l)
  cat "$IN"/* >/dev/null # warm the page cache for every contender alike
  OUT="$WORK/out-cp";   CP=$(best_seconds cp -r "$IN" "$OUT")
  OUT="$WORK/out-gdcm"; GD=$(best_seconds gdcmanon -e -c "$WORK/cert.pem" --continue -r -i "$IN" -o "$OUT")
  OUT="$WORK/out-gdpr"; US=$(best_seconds "$GDPR" dicom deidentify --key-file "$WORK/project.key" --out "$OUT" "$IN")
  report "$set" "$N" "$CP" "$GD" "$US"
  # Sanity: every file was written, by us and by gdcmanon.
  for out in out-gdpr out-gdcm; do
    WRITTEN=$(find "$WORK/$out" -type f | wc -l)
    [ "$WRITTEN" -eq "$N" ] || { echo "$out: only $WRITTEN of $N files written" >&2; exit 1; }
  done
done

echo "== peak memory, one 200 MB multi-frame file"
rm -rf "$WORK/out-mf"
/usr/bin/time -v "$GDPR" dicom deidentify --key-file "$WORK/project.key" --out "$WORK/out-mf" "$WORK/mf" \
  2>"$WORK/time.txt" >/dev/null
SIZE=$(du -m "$WORK/mf" | cut -f1)
RSS=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
echo "mf   input ${SIZE} MB, peak RSS $((RSS / 1024)) MB (target <= 32 MB)"
