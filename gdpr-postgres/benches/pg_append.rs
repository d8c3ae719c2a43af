//! Appends per second on PostgreSQL against a plain INSERT of the same
//! rows into an unchained table, same server, same commit settings, same
//! run; and verification of a log read from PostgreSQL against `COPY …
//! TO STDOUT` of the same table. Run by scripts/bench_postgres.sh (which
//! starts its own cluster); prints one line per figure. Each append line
//! also gives a second baseline (`plain_tenant`: the rows into a table
//! shaped like the log's, as a tenant, row-level security forced).
//!
//! Arguments: `append <writers> <batch> <records> <row|advisory> [db|writer]
//! [nodes|threads]` (where records are chained: in the database, the
//! default, or by the writer between reading the locked head and `COMMIT`;
//! who the writers are: each a node with its own store, the default,
//! or threads of one node sharing its log and store, whose appends
//! share calls), `verify
//! <records>` (an imported log) or `verify-appended <records>` (a log
//! appended through PostgreSQL). With `PG_BENCH_CPU=1`, each timed phase
//! also prints its CPU seconds per 1 000 rows: the bench process, the
//! PostgreSQL server and the whole machine (busy, idle).

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Barrier;
use std::time::Instant;

use gdpr_audit::event::AuditEvent;
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, LogDir, Signer, verify_store};
use gdpr_postgres::{Chaining, HeadLock, PgAuditStore, PgConfig};
use support::owner;

/// Event `n`, of one of 500 subjects.
fn event(n: u64) -> AuditEvent {
    support::event(n, Some(&format!("P-{}", n % 500)))
}

/// CPU seconds so far (Linux `/proc`, clock ticks of 1/100 s): the bench
/// process, the PostgreSQL server (the postmaster named by
/// `$GDPR_TEST_PG_DIR/data/postmaster.pid`, its live children and the
/// children it has reaped) and the whole machine (busy, idle). `None`
/// where `/proc` is not readable.
#[derive(Clone, Copy, Debug, Default)]
struct Cpu {
    client: f64,
    server: f64,
    busy: f64,
    idle: f64,
}

/// Fields 14.. of `/proc/<pid>/stat` (utime, stime, cutime, cstime), in s.
fn proc_times(pid: &str) -> Option<[f64; 4]> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: fields after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|x| x.parse().unwrap_or(0.0) / 100.0)
        .collect();
    f.try_into().ok()
}

fn cpu_now() -> Option<Cpu> {
    let client = proc_times("self").map(|t| t[0] + t[1])?;
    let pm = std::fs::read_to_string(
        std::path::Path::new(&std::env::var("GDPR_TEST_PG_DIR").ok()?).join("data/postmaster.pid"),
    )
    .ok()?;
    let pm = pm.lines().next()?.trim().to_owned();
    let mut server = proc_times(&pm).map(|t| t.iter().sum::<f64>())?;
    for d in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(d.path().join("stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit_once(')')
            .and_then(|r| r.1.split_whitespace().nth(1));
        if ppid == Some(pm.as_str()) {
            server += proc_times(&name).map(|t| t[0] + t[1]).unwrap_or(0.0);
        }
    }
    let all = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<f64> = all
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().unwrap_or(0.0) / 100.0)
        .collect();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some(Cpu {
        client,
        server,
        busy: ticks.iter().sum::<f64>() - idle,
        idle,
    })
}

/// With `PG_BENCH_CPU=1`, prints the CPU seconds `what` used per 1 000
/// rows since `before` (client, server, whole machine busy and idle).
fn cpu_report(what: &str, before: Option<Cpu>, rows: usize) {
    if std::env::var("PG_BENCH_CPU").as_deref() != Ok("1") {
        return;
    }
    if let (Some(a), Some(b)) = (before, cpu_now()) {
        let k = 1000.0 / rows as f64;
        println!(
            "cpu {what} rows={rows} client_ms_per_k={:.1} server_ms_per_k={:.1} machine_busy_ms_per_k={:.1} machine_idle_ms_per_k={:.1}",
            (b.client - a.client) * k * 1000.0,
            (b.server - a.server) * k * 1000.0,
            (b.busy - a.busy) * k * 1000.0,
            (b.idle - a.idle) * k * 1000.0,
        );
    }
}

/// A fresh tenant with a random name; its settings.
fn tenant() -> PgConfig {
    tenant_and_role().0
}

/// A fresh tenant with a random name; its settings and its role.
fn tenant_and_role() -> (PgConfig, String) {
    let (tenant, config, _) = support::new_tenant_with_password("bench");
    (config, tenant.role().to_owned())
}

/// Runs `work(w, prepare(w))` on `writers` threads started together
/// (`prepare`, connecting say, is not timed); returns the seconds from the
/// start to the last thread's end, and the CPU times at the start.
fn timed<S>(
    writers: usize,
    prepare: impl Fn(usize) -> S + Sync,
    work: impl Fn(usize, S) + Sync,
) -> (f64, Option<Cpu>) {
    let barrier = Barrier::new(writers);
    let start = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for w in 0..writers {
            let (barrier, start, prepare, work) = (&barrier, &start, &prepare, &work);
            s.spawn(move || {
                let state = prepare(w);
                if barrier.wait().is_leader() {
                    *start.lock().unwrap() = Some((Instant::now(), cpu_now()));
                }
                work(w, state);
            });
        }
    });
    let (t, cpu) = start.lock().unwrap().unwrap();
    (t.elapsed().as_secs_f64(), cpu)
}

/// Who the writers are: nodes of their own, or threads of one node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Topology {
    /// Each writer is a node: its own connection, store and log.
    NodePerWriter,
    /// The writers are threads of one node sharing its log, store and
    /// connection (their appends share calls: group commit).
    ThreadsOfOneNode,
}

impl Topology {
    fn name(self) -> &'static str {
        match self {
            Topology::NodePerWriter => "node-per-writer",
            Topology::ThreadsOfOneNode => "threads-of-one-node",
        }
    }
}

/// Chained appends: `writers` writers (nodes or threads of one node, as
/// `topology` says), `batch` events per append call; returns records/s
/// and the store calls (transactions) per append.
fn chained(
    writers: usize,
    batch: usize,
    records: usize,
    lock: HeadLock,
    chaining: Chaining,
    topology: Topology,
) -> (f64, f64) {
    let config = tenant();
    let signer = Signer::generate("bench.example/pg").unwrap();
    let secret = signer.to_secret_text();
    let tmp = tempfile::tempdir().unwrap();
    let nodes = match topology {
        Topology::NodePerWriter => writers,
        Topology::ThreadsOfOneNode => 1,
    };
    let logs: Vec<_> = (0..nodes)
        .map(|w| {
            let keys = FileKeyStore::create(tmp.path().join(format!("k{w}"))).unwrap();
            let store = PgAuditStore::open(&config, lock)
                .unwrap()
                .with_chaining(chaining);
            AuditLog::with_stores(
                store,
                keys,
                Signer::parse(&secret).unwrap(),
                CheckpointPolicy::default(),
            )
            .unwrap()
        })
        .collect();
    let per = records / writers / batch;
    let events: Vec<AuditEvent> = (0..batch as u64).map(event).collect();
    // Every subject's key exists before timing (as in a running system).
    for log in &logs {
        log.append_batch(&(0..500).map(event).collect::<Vec<_>>())
            .unwrap();
    }
    let calls = || logs.iter().map(|l| l.store().transactions()).sum::<u64>();
    let calls_before = calls();
    let (secs, cpu) = timed(
        writers,
        |w| &logs[w % nodes],
        |_, log| {
            for _ in 0..per {
                log.append_batch(&events).unwrap();
            }
        },
    );
    cpu_report("chained", cpu, per * batch * writers);
    let calls_per_append = (calls() - calls_before) as f64 / (per * writers) as f64;
    ((per * batch * writers) as f64 / secs, calls_per_append)
}

/// The same rows (the records a chained run wrote) inserted into an
/// unchained table: `writers` connections, `batch` rows per transaction.
/// The baseline: as the database owner into `(id bigserial PRIMARY KEY,
/// body bytea)`.
fn plain(writers: usize, batch: usize, records: usize, rows: &[Vec<u8>]) -> f64 {
    let mut c = owner().connect().unwrap();
    c.batch_execute(
        "DROP TABLE IF EXISTS bench_plain; CREATE TABLE bench_plain (id bigserial PRIMARY KEY, body bytea NOT NULL)",
    )
    .unwrap();
    insert_rows(
        writers,
        batch,
        records,
        rows,
        &owner,
        "INSERT INTO bench_plain (body) SELECT * FROM unnest($1::bytea[])",
    )
}

/// The second baseline, printed beside the first: the same rows into an
/// unchained table shaped like the log's (`tenant text DEFAULT
/// current_user`, `seq bigserial`, `checkpoint`, `body`, primary key
/// `(tenant, seq)`, row-level security forced), as a tenant's role — what
/// an unchained multi-tenant log would cost. Same commit settings.
fn plain_tenant(writers: usize, batch: usize, records: usize, rows: &[Vec<u8>]) -> f64 {
    let (config, role) = tenant_and_role();
    let mut c = owner().connect().unwrap();
    c.batch_execute(&format!(
        "DROP TABLE IF EXISTS bench_plain_tenant;
         CREATE TABLE bench_plain_tenant (tenant text NOT NULL DEFAULT current_user,
           seq bigserial, checkpoint boolean NOT NULL DEFAULT false, body bytea NOT NULL,
           PRIMARY KEY (tenant, seq));
         ALTER TABLE bench_plain_tenant ENABLE ROW LEVEL SECURITY;
         ALTER TABLE bench_plain_tenant FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_rows ON bench_plain_tenant
           USING (tenant = current_user) WITH CHECK (tenant = current_user);
         GRANT INSERT ON bench_plain_tenant TO {role};
         GRANT USAGE ON SEQUENCE bench_plain_tenant_seq_seq TO {role};"
    ))
    .unwrap();
    insert_rows(
        writers,
        batch,
        records,
        rows,
        &|| config.clone(),
        "INSERT INTO bench_plain_tenant (body) SELECT * FROM unnest($1::bytea[])",
    )
}

/// `writers` connections made by `connect`, each inserting `batch` rows
/// per statement (one transaction each, committed synchronously) with
/// `sql`; returns rows/s.
fn insert_rows(
    writers: usize,
    batch: usize,
    records: usize,
    rows: &[Vec<u8>],
    connect: &(dyn Fn() -> PgConfig + Sync),
    sql: &str,
) -> f64 {
    let per = records / writers / batch;
    let (secs, cpu) = timed(
        writers,
        |_| {
            let mut c = connect().connect().unwrap();
            let stmt = c.prepare(sql).unwrap();
            (c, stmt)
        },
        |w, (mut c, stmt)| {
            let mut next = w * per * batch;
            for _ in 0..per {
                let chunk: Vec<&[u8]> = (0..batch)
                    .map(|i| &rows[(next + i) % rows.len()][..])
                    .collect();
                next += batch;
                c.execute(&stmt, &[&chunk]).unwrap();
            }
        },
    );
    cpu_report(
        sql.split_whitespace().nth(2).unwrap_or("plain"),
        cpu,
        per * batch * writers,
    );
    (per * batch * writers) as f64 / secs
}

fn sample_rows() -> Vec<Vec<u8>> {
    let config = tenant();
    let tmp = tempfile::tempdir().unwrap();
    let keys = FileKeyStore::create(tmp.path().join("k")).unwrap();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let log = AuditLog::with_stores(
        store,
        keys,
        Signer::generate("bench.example/pg").unwrap(),
        CheckpointPolicy::default(),
    )
    .unwrap();
    log.append_batch(&(0..1000).map(event).collect::<Vec<_>>())
        .unwrap();
    let mut rows = Vec::new();
    log.store()
        .entries(&mut |_, e| {
            if let Entry::Record(b) = e {
                rows.push(b);
            }
            Ok(())
        })
        .unwrap();
    rows
}

/// Verification of `records` records read from PostgreSQL against COPY
/// of the same rows. The log is generated on the fast path: appended to
/// an embedded log directory (1000 events per `append_batch`), then
/// copied into the tenant's log with `PgAuditStore::import` (the path of
/// `gdpr audit copy`), rather than appended through PostgreSQL.
fn verify(records: usize) {
    let config = tenant();
    let signer = Signer::generate("bench.example/pg").unwrap();
    let verifier = signer.verifier();
    let tmp = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let log = AuditLog::create(tmp.path().join("log"), signer).unwrap();
    for chunk in 0..records / 1000 {
        let events: Vec<_> = (0..1000)
            .map(|i| event((chunk * 1000 + i) as u64))
            .collect();
        log.append_batch(&events).unwrap();
    }
    log.checkpoint().unwrap();
    drop(log);
    let generated = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
    let done = store.import(&LogDir(tmp.path().join("log"))).unwrap();
    assert_eq!(done.records, records as u64);
    drop(store);
    println!(
        "verify-setup records={records} generate_dir_s={generated:.1} import_s={:.1}",
        t.elapsed().as_secs_f64()
    );
    let mut c = config.connect().unwrap();
    c.batch_execute("VACUUM ANALYZE gdpr.audit_entry").ok();
    for round in 0..3 {
        let t = Instant::now();
        let mut reader = c
            .copy_out("COPY (SELECT seq, checkpoint, body FROM gdpr.audit_entry WHERE tenant = current_user ORDER BY seq) TO STDOUT (FORMAT binary)")
            .unwrap();
        let bytes = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        drop(reader);
        let copy = t.elapsed().as_secs_f64();
        let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
        let t = Instant::now();
        let report = verify_store(&store, &verifier, None).unwrap();
        let ver = t.elapsed().as_secs_f64();
        assert_eq!(report.records, records as u64);
        println!(
            "verify round={round} records={records} copy_bytes={bytes} copy_s={copy:.3} verify_s={ver:.3} copy_rec_per_s={:.0} verify_rec_per_s={:.0} ratio={:.2}",
            records as f64 / copy,
            records as f64 / ver,
            copy / ver
        );
    }
}

/// Verification of `records` records appended through PostgreSQL (the
/// layout of schema 6 and later: runs and bodies, read by the store's
/// reader one row per run) against `COPY … TO STDOUT` of the same rows:
/// through the view `gdpr.audit_entries`, and from a flat table holding
/// the same `(seq, checkpoint, body)` with a primary key on `seq` (made by
/// the superuser, read by the tenant); also the reader alone (`read_s`:
/// `entries` with a visitor that does nothing). 4 writers append batches
/// of 250.
fn verify_appended(records: usize) {
    let (config, role) = tenant_and_role();
    let signer = Signer::generate("bench.example/pg").unwrap();
    let verifier = signer.verifier();
    let secret = signer.to_secret_text();
    let tmp = tempfile::tempdir().unwrap();
    let (writers, batch) = (4, 250);
    let t = Instant::now();
    std::thread::scope(|s| {
        for w in 0..writers {
            let (config, secret, tmp) = (&config, &secret, &tmp);
            s.spawn(move || {
                let keys = FileKeyStore::create(tmp.path().join(format!("k{w}"))).unwrap();
                let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
                let log = AuditLog::with_stores(
                    store,
                    keys,
                    Signer::parse(secret).unwrap(),
                    CheckpointPolicy::default(),
                )
                .unwrap();
                for chunk in 0..records / writers / batch {
                    let first = ((w * records / writers) + chunk * batch) as u64;
                    let events: Vec<_> = (first..first + batch as u64).map(event).collect();
                    log.append_batch(&events).unwrap();
                }
            });
        }
    });
    let appended = t.elapsed().as_secs_f64();
    let mut sup = support::superuser("gdpr").connect().unwrap();
    // Fresh statistics first: with those of a much smaller table the
    // planner may join the runs and bodies of the whole table row by row.
    for t in ["gdpr.audit_body", "gdpr.audit_run", "gdpr.audit_entry"] {
        sup.batch_execute(&format!("VACUUM ANALYZE {t}")).unwrap();
    }
    sup.batch_execute(&format!(
        "DROP TABLE IF EXISTS bench_flat;
         CREATE TABLE bench_flat AS SELECT seq, checkpoint, body FROM gdpr.audit_entries WHERE tenant = '{role}';
         ALTER TABLE bench_flat ADD PRIMARY KEY (seq);
         GRANT SELECT ON bench_flat TO {role};"
    ))
    .unwrap();
    sup.batch_execute("VACUUM ANALYZE bench_flat").unwrap();
    println!(
        "verify-appended-setup records={records} writers={writers} batch={batch} append_s={appended:.1}"
    );
    let mut c = config.connect().unwrap();
    let copy = |c: &mut postgres::Client, sql: &str| {
        let t = Instant::now();
        let mut reader = c.copy_out(sql).unwrap();
        let bytes = std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        drop(reader);
        (t.elapsed().as_secs_f64(), bytes)
    };
    for round in 0..3 {
        let (flat, bytes) = copy(
            &mut c,
            "COPY (SELECT seq, checkpoint, body FROM bench_flat ORDER BY seq) TO STDOUT (FORMAT binary)",
        );
        let (view, vbytes) = copy(
            &mut c,
            "COPY (SELECT seq, checkpoint, body FROM gdpr.audit_entries WHERE tenant = current_user ORDER BY seq) TO STDOUT (FORMAT binary)",
        );
        assert_eq!(bytes, vbytes);
        let store = PgAuditStore::open(&config, HeadLock::Row).unwrap();
        // The reader alone (its query, the stream, the entries built).
        let t = Instant::now();
        store.entries(&mut |_, _| Ok(())).unwrap();
        let read = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let report = verify_store(&store, &verifier, None).unwrap();
        let ver = t.elapsed().as_secs_f64();
        assert!(report.records >= records as u64);
        println!(
            "verify-appended round={round} records={} copy_flat_s={flat:.3} copy_view_s={view:.3} read_s={read:.3} verify_s={ver:.3} verify_rec_per_s={:.0} ratio={:.2} ratio_view={:.2}",
            report.records,
            report.records as f64 / ver,
            flat / ver,
            view / ver
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    support::migrated();
    match args.first().map(String::as_str) {
        Some("append") => {
            let writers: usize = args[1].parse().unwrap();
            let batch: usize = args[2].parse().unwrap();
            let records: usize = args[3].parse().unwrap();
            let lock = if args[4] == "advisory" {
                HeadLock::Advisory
            } else {
                HeadLock::Row
            };
            let (chaining, chain_name) = match args.get(5).map(String::as_str) {
                Some("writer") => (Chaining::ByWriter, "writer"),
                _ => (Chaining::InDatabase, "db"),
            };
            let topology = match args.get(6).map(String::as_str) {
                Some("threads") => Topology::ThreadsOfOneNode,
                _ => Topology::NodePerWriter,
            };
            let rows = sample_rows();
            let p = plain(writers, batch, records, &rows);
            let (c, calls) = chained(writers, batch, records, lock, chaining, topology);
            let t = plain_tenant(writers, batch, records, &rows);
            println!(
                "append topology={} writers={writers} batch={batch} lock={} chain={chain_name} chained_per_s={c:.0} plain_per_s={p:.0} ratio={:.2} plain_tenant_per_s={t:.0} ratio_tenant={:.2} calls_per_append={calls:.2}",
                topology.name(),
                args[4],
                c / p,
                c / t
            );
        }
        Some("verify") => verify(args[1].parse().unwrap()),
        Some("verify-appended") => verify_appended(args[1].parse().unwrap()),
        _ => {
            eprintln!(
                "usage: pg_append append <writers> <batch> <records> <row|advisory> [db|writer] [nodes|threads] | verify <records> | verify-appended <records>"
            );
            std::process::exit(2);
        }
    }
}
