#!/usr/bin/env bash
# Benchmark of `gdpr audit append` (bulk import) against the floor of
# writing the same JSON lines to a file with one fdatasync per 1,000 lines,
# both timed as whole runs, side by side in each round (issue 10, item 20:
# target >= 0.5x).
#
#   scripts/bench_audit_append.sh                 # 100,000 events, 3 rounds
#   EVENTS=20000 RUNS=5 scripts/bench_audit_append.sh
#   BEFORE=/tmp/gdpr-old scripts/bench_audit_append.sh   # also time another build
#   GDPR=/tmp/gdpr-new scripts/bench_audit_append.sh     # time this binary (no build)
#
# The events are synthetic (shapes of docs/samples/audit-events.jsonl): 1,000
# patients, 50 staff, object ids, correlation ids, some free text. Each
# round appends to a fresh log (`gdpr audit init`, not timed); the time of
# `append` includes opening the log, parsing, sealing, hashing, writing,
# one fdatasync per batch and the final checkpoint. The keys of a batch's new
# subjects are stored with one fdatasync of the key store for the batch (all
# 1,000 patients here come in the first batch: one).
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS="${EVENTS:-100000}"
RUNS="${RUNS:-3}"
WORK="${BENCH_DIR:-$(mktemp -d /tmp/gdpr-audit-bench.XXXXXX)}"
trap 'rm -rf "$WORK"' EXIT

if [[ -z "${GDPR:-}" ]]; then  # GDPR=path/to/gdpr times that binary instead
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
  cargo build --release -q --all-features -p gdpr-cli
  GDPR="$CARGO_TARGET_DIR/release/gdpr"
fi

python3 - "$EVENTS" "$WORK/events.jsonl" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
types = [("dicom-instances-accessed", "read", "study"), ("export", "disclosure", "document"),
         ("query", "query", None), ("patient-record", "update", "document")]
purposes = ["diagnosis", "treatment", "care-coordination", "quality-assurance"]
with open(path, "w") as f:
    for i in range(n):
        et, action, kind = types[i % len(types)]
        s, ms = divmod(i, 10)
        ev = {"event_type": et, "action": action, "outcome": "success",
              "recorded": "2026-11-25T%02d:%02d:%02d.%03dZ" % (8 + s // 3600 % 12, s // 60 % 60, s % 60, ms * 100),
              "actor": {"id": "staff-%02d" % (i % 50), "role": "physician",
                        "secrecy": {"kind": "professional", "source": "§ 203(1) Nr. 1 StGB"}},
              "purpose": purposes[i % len(purposes)],
              "lawful_basis": {"kind": "special-category", "art6": "contract", "art9": "health-care"},
              "subject": {"id": "PID-%05d" % (i * 7919 % 1000), "issuer": "HOSPITAL-A"},
              "source": "PACS-1", "tenant": "hospital-a", "correlation_id": "req-%06x" % i}
        if kind:
            ev["object"] = {"kind": kind, "id": "1.2.276.0.7230010.3.1.2.%d" % i}
        if i % 5 == 0:
            ev["text"] = "follow-up reading %d" % i
        f.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
PY

# The floor: the same lines written in groups of 1,000, one fdatasync each.
raw_seconds() {
  python3 - "$WORK/events.jsonl" "$WORK/raw.jsonl" <<'PY'
import os, sys, time
lines = open(sys.argv[1], "rb").read().splitlines(keepends=True)
t0 = time.perf_counter()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for i in range(0, len(lines), 1000):
    os.write(fd, b"".join(lines[i:i + 1000]))
    os.fdatasync(fd)
os.close(fd)
print(time.perf_counter() - t0)
PY
}

# append_seconds BINARY: a fresh log, then the timed append; prints the
# wall time and the CPU time (user + system) of the append process.
append_seconds() {
  rm -rf "$WORK/log" "$WORK/signer.key"
  "$1" audit init "$WORK/log" --key-out "$WORK/signer.key" >/dev/null 2>&1
  python3 - "$1" "$WORK" <<'PY'
import resource, subprocess, sys, time
gdpr, work = sys.argv[1], sys.argv[2]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
p = subprocess.run([gdpr, "audit", "append", f"{work}/log", "--key", f"{work}/signer.key",
                    "--input", f"{work}/events.jsonl"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
t1 = time.perf_counter()
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
if p.returncode != 0:
    sys.exit(p.stderr.decode(errors="replace"))
print(t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
PY
}

echo "== $EVENTS events, $(wc -c <"$WORK/events.jsonl") bytes of JSON lines, $RUNS rounds"
RATIOS=()
for r in $(seq "$RUNS"); do
  raw=$(raw_seconds)
  read -r ours cpu <<<"$(append_seconds "$GDPR")"
  line=$(python3 -c "n=$EVENTS; r=$raw; o=$ours; print(f'{n/r:9.0f} {n/o:9.0f} {r/o:5.2f}')")
  read -r raw_eps our_eps ratio <<<"$line"
  extra=""
  if [[ -n "${BEFORE:-}" ]]; then
    read -r before bcpu <<<"$(append_seconds "$BEFORE")"
    extra=$(python3 -c "n=$EVENTS; r=$raw; b=$before; print(f' | before {n/b:9.0f}/s ({r/b:4.2f}x, CPU {$bcpu:.2f} s)')")
  fi
  echo "round $r: raw write+fdatasync/1000 ${raw_eps}/s | gdpr audit append ${our_eps}/s (CPU ${cpu:0:4} s) -> ${ratio}x${extra}"
  RATIOS+=("$ratio")
done
python3 -c "import statistics as s; r=[float(x) for x in '${RATIOS[*]}'.split()]; print(f'ratio gdpr/raw: median {s.median(r):.2f}x, min {min(r):.2f}x, max {max(r):.2f}x')"
