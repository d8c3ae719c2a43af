//! A writer in its own process: the test binary runs itself again with
//! `GDPR_PG_WORKER` set (the `worker` test of each file calls
//! [`run_if_asked`]). It appends events one by one and prints `ack
//! <position> <leaf hash hex>` after each acknowledged append, so the
//! parent knows exactly what was acknowledged before a kill or a restart.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use gdpr_audit::{AuditLog, CheckpointPolicy, FileKeyStore, Signer};
use gdpr_postgres::{Chaining, HeadLock, PgAuditStore, PgConfig};

/// What a worker does.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// Append `n`, fail at the first error.
    Append(u64),
    /// Append `n`, reopening the store after an error (until 180 s).
    Retry(u64),
    /// Append `n`, then stage one more batch, print `staged`, and wait to
    /// be killed inside the open transaction.
    Hold(u64),
}

/// Starts a worker process for the tenant of `config` (role and
/// password) signing with `signer`.
pub fn spawn(
    test_file_worker: &str,
    role: &str,
    password: &str,
    signer: &Signer,
    mode: Mode,
) -> Child {
    spawn_in(&[], test_file_worker, role, password, signer, mode)
}

/// [`spawn`] with extra environment variables (another cluster's).
pub fn spawn_in(
    env: &[(String, String)],
    test_file_worker: &str,
    role: &str,
    password: &str,
    signer: &Signer,
    mode: Mode,
) -> Child {
    let (kind, n) = match mode {
        Mode::Append(n) => ("append", n),
        Mode::Retry(n) => ("retry", n),
        Mode::Hold(n) => ("hold", n),
    };
    Command::new(std::env::current_exe().unwrap())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args([
            "--exact",
            test_file_worker,
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GDPR_PG_WORKER", kind)
        .env("GDPR_PG_WORKER_N", n.to_string())
        .env("GDPR_PG_WORKER_ROLE", role)
        .env("GDPR_PG_WORKER_PASSWORD", password)
        .env("GDPR_PG_WORKER_SIGNER", signer.to_secret_text().as_str())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Reads a worker's `ack` lines until it exits or `until` returns true for
/// a line; records position → leaf hash (hex). Reads byte by byte (no
/// buffer that could swallow lines between calls).
pub fn read_acks(
    child: &mut Child,
    acks: &mut BTreeMap<u64, String>,
    mut until: impl FnMut(&str) -> bool,
) {
    let out = child.stdout.as_mut().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while out.read(&mut byte).unwrap() == 1 {
        if byte[0] != b'\n' {
            line.push(byte[0]);
            continue;
        }
        let l = String::from_utf8(std::mem::take(&mut line)).unwrap();
        if let Some(rest) = l.strip_prefix("ack ") {
            let (pos, leaf) = rest.split_once(' ').unwrap();
            let old = acks.insert(pos.parse().unwrap(), leaf.to_owned());
            assert!(old.is_none(), "position {pos} acknowledged twice");
        }
        if until(&l) {
            return;
        }
    }
}

/// Runs the worker when this process is one.
pub fn run_if_asked() {
    let Ok(kind) = std::env::var("GDPR_PG_WORKER") else {
        return;
    };
    let n: u64 = std::env::var("GDPR_PG_WORKER_N").unwrap().parse().unwrap();
    let config = super::owner()
        .user(&std::env::var("GDPR_PG_WORKER_ROLE").unwrap())
        .password(std::env::var("GDPR_PG_WORKER_PASSWORD").unwrap().as_bytes());
    let secret = std::env::var("GDPR_PG_WORKER_SIGNER").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // A batch staged inside an open transaction exists only when the writer
    // chains (in the database, staging commits at once).
    let chaining = if kind == "hold" {
        Chaining::ByWriter
    } else {
        Chaining::InDatabase
    };
    let open = || -> Result<AuditLog<PgAuditStore, FileKeyStore>, gdpr_audit::Error> {
        let store = PgAuditStore::open(&config, HeadLock::Row)?.with_chaining(chaining);
        let path = tmp.path().join("keys");
        let keys = if path.exists() {
            FileKeyStore::open(&path)?
        } else {
            FileKeyStore::create(&path)?
        };
        let policy = CheckpointPolicy {
            every_records: Some(25),
            every: None,
        };
        AuditLog::with_stores(store, keys, Signer::parse(&secret)?, policy)
    };
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut log = reopen(&open, deadline);
    let mut stdout = std::io::stdout().lock();
    // libtest has printed "test worker ... " without a newline.
    writeln!(stdout).unwrap();
    let mut i = 0;
    while i < n {
        match log.append(&super::event(i, None)) {
            Ok(r) => {
                writeln!(
                    stdout,
                    "ack {} {}",
                    r.position,
                    gdpr_audit::hex::encode(&r.leaf_hash)
                )
                .unwrap();
                stdout.flush().unwrap();
                i += 1;
            }
            Err(e) if kind == "retry" => {
                eprintln!("worker: append failed ({e}); reopening");
                drop(log);
                log = reopen(&open, deadline);
                writeln!(stdout, "reopened").unwrap();
            }
            Err(e) => panic!("append failed: {e}"),
        }
    }
    if kind == "hold" {
        let staged = log
            .stage_batch(&[super::event(n, None), super::event(n + 1, None)])
            .unwrap();
        writeln!(stdout, "staged {}", staged.len()).unwrap();
        stdout.flush().unwrap();
        std::thread::sleep(Duration::from_secs(600));
        panic!("the worker was not killed");
    }
}

fn reopen<T>(open: &impl Fn() -> Result<T, gdpr_audit::Error>, deadline: Instant) -> T {
    loop {
        match open() {
            Ok(log) => return log,
            Err(e) if Instant::now() < deadline => {
                eprintln!("worker: opening failed ({e}); retrying");
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => panic!("could not reopen the log: {e}"),
        }
    }
}

/// Checks that every acknowledged record is in the tenant's log with the
/// acknowledged leaf hash; returns the number of records there.
pub fn check_acks(config: &PgConfig, acks: &BTreeMap<u64, String>) -> u64 {
    use gdpr_audit::store::{Entry, EntrySource};
    let store = PgAuditStore::open(config, HeadLock::Row).unwrap();
    let mut leaves = Vec::new();
    store
        .entries(&mut |_, e| {
            if let Entry::Record(b) = e {
                leaves.push(gdpr_audit::hex::encode(&gdpr_audit::merkle::leaf_hash(&b)));
            }
            Ok(())
        })
        .unwrap();
    for (pos, leaf) in acks {
        let stored = leaves.get(usize::try_from(*pos).unwrap());
        assert_eq!(
            stored,
            Some(leaf),
            "acknowledged record {pos} lost or changed"
        );
    }
    leaves.len() as u64
}
