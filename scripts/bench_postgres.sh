#!/usr/bin/env bash
# Audit appends on PostgreSQL against a plain INSERT of the same rows into
# an unchained table (same server, same commit settings, same run; each line
# also prints a second baseline, plain_tenant: the same rows into a table
# shaped like the log's, with row-level security, as a tenant), with
# 1, 4 and 16 writers, batched (32 events per append) and unbatched, the
# records chained inside PostgreSQL (the default), in two topologies (the
# `topology=` of each line): `node-per-writer`, each writer a node with its
# own store (connections) and log (1, 4, 16), and `threads-of-one-node`, the writers
# threads of one node sharing its log and store, whose appends share
# calls (group commit; 4, 16; `calls_per_append` says how much). The
# baseline is the same for both: W connections, each inserting its rows in
# transactions committed synchronously. At 16 writers also the
# tenant's lock taken as an advisory lock instead of the head row's lock,
# and the records chained by the writer (the design before schema 4); then
# verification of a 1 M-record log read from PostgreSQL against `COPY …
# TO STDOUT` of the same rows (the log is generated in an embedded
# directory and copied in with PgAuditStore::import: the fast path); then
# verification of a 1 M-record log appended through PostgreSQL (4 writers,
# batches of 250: runs and bodies, the layout appends write since schema 6)
# against `COPY … TO STDOUT` of a flat table holding the same rows, and of
# the view gdpr.audit_entries.
# Starts its own throw-away cluster (scripts/postgres.sh) and stops it at
# the end. Each append figure is run ROUNDS times (default 3), the
# verifications 3 times each: compare min/median/max, not one number (the
# script prints them per configuration at the end).
# Bounded: about 5 minutes on a quiet 2-core machine once built (COMPARE=0;
# estimated: 4 in session 9, before the threads-of-one-node lines).
# PG_BENCH_CPU=1 adds, per timed phase, the CPU seconds per 1 000 rows of
# the bench process, the server and the whole machine.
#
#   scripts/bench_postgres.sh     # ROUNDS=3 VERIFY_RECORDS=1000000
#   COMPARE=0 scripts/bench_postgres.sh    # without the 16-writer comparisons
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
VERIFY_RECORDS=${VERIFY_RECORDS:-1000000}
VERIFY_APPENDED_RECORDS=${VERIFY_APPENDED_RECORDS:-1000000}
UNBATCHED_RECORDS=${UNBATCHED_RECORDS:-1920}
BATCHED_RECORDS=${BATCHED_RECORDS:-16384}

eval "$(./scripts/postgres.sh start)"
LINES=$(mktemp)  # every result line, for the summary at the end
trap './scripts/postgres.sh stop; rm -f "$LINES"' EXIT

cargo bench -p gdpr-postgres --bench pg_append --no-run >&2
run() { cargo bench -q -p gdpr-postgres --bench pg_append -- "$@" 2>/dev/null | grep -E '^(append|verify|cpu)' | tee -a "$LINES"; }

for round in $(seq 1 "$ROUNDS"); do
  for writers in 1 4 16; do
    run append "$writers" 1 "$UNBATCHED_RECORDS" row db nodes
    run append "$writers" 32 "$BATCHED_RECORDS" row db nodes
  done
  for writers in 4 16; do
    run append "$writers" 1 "$UNBATCHED_RECORDS" row db threads
    run append "$writers" 32 "$BATCHED_RECORDS" row db threads
  done
  if [[ "${COMPARE:-1}" != 0 ]]; then
    run append 16 1 "$UNBATCHED_RECORDS" advisory db
    run append 16 32 "$BATCHED_RECORDS" advisory db
    run append 16 1 "$UNBATCHED_RECORDS" row writer
    run append 16 32 "$BATCHED_RECORDS" row writer
  fi
done
run verify "$VERIFY_RECORDS"
run verify-appended "$VERIFY_APPENDED_RECORDS"

# Every figure above, per configuration: min-median-max over the rounds.
python3 - "$LINES" <<'PY'
import statistics, sys
groups = {}
for line in open(sys.argv[1]):
    kind, *fields = line.split()
    kv = dict(f.split("=", 1) for f in fields if "=" in f)
    if kind == "append":
        key = ("append", kv.get("topology"), "writers=" + kv["writers"], "batch=" + kv["batch"],
               "lock=" + kv["lock"], "chain=" + kv["chain"])
        groups.setdefault(key, []).append((float(kv["ratio"]), float(kv["chained_per_s"])))
    elif kind in ("verify", "verify-appended"):
        key = (kind, "records=" + kv["records"])
        groups.setdefault(key, []).append((float(kv["ratio"]), float(kv["verify_rec_per_s"])))
def spread(xs, f):
    return "-".join(f.format(x) for x in (min(xs), statistics.median(xs), max(xs)))
print("== min-median-max over the rounds")
for key, vals in groups.items():
    ratios, rates = [v[0] for v in vals], [v[1] for v in vals]
    print(f"{' '.join(k for k in key if k)}: ratio {spread(ratios, '{:.2f}')}, "
          f"per s {spread(rates, '{:.0f}')} ({len(vals)} rounds)")
PY
