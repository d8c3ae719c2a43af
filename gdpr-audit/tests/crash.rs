//! Crash safety: a child process appends in a loop from several threads and
//! is killed with SIGKILL at random moments. Every record it acknowledged
//! (printed after `append` returned) must be present, and the log must
//! reopen (dropping only a torn tail) and verify. Power loss is simulated
//! by cutting the file at every byte of its last frames.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use std::{fs, thread};

use gdpr_audit::FileKeyStore;
use gdpr_audit::merkle::leaf_hash;
use gdpr_audit::record::Record;
use gdpr_audit::signing::Signer;
use gdpr_audit::store::Entry;
use gdpr_audit::verify_store;
use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_audit::{FileStore, LogDir};

use common::*;

const CHILD_ENV: &str = "GDPR_AUDIT_CRASH_CHILD_DIR";

fn open(dir: &std::path::Path) -> AuditLog<FileStore> {
    let signer = Signer::parse(&fs::read_to_string(dir.join("signer.key")).unwrap()).unwrap();
    let store = FileStore::open(dir, false).unwrap();
    let keys = FileKeyStore::open(FileStore::keys_path(dir)).unwrap();
    AuditLog::with_stores(
        store,
        keys,
        signer,
        CheckpointPolicy {
            every_records: Some(7),
            every: None,
        },
    )
    .unwrap()
}

/// The child: appends forever from three threads, printing acknowledgements.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return; // Only meaningful when started by `appends_survive_sigkill`.
    };
    let log = Arc::new(open(std::path::Path::new(&dir)));
    let threads: Vec<_> = (0..3u64)
        .map(|t| {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for i in 0.. {
                    let r = log.append(&event(i * 3 + t, &format!("P-{t}"))).unwrap();
                    let hex: String = r.leaf_hash.iter().map(|b| format!("{b:02x}")).collect();
                    println!("ack {} {hex}", r.position);
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

#[test]
fn appends_survive_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let signer = Signer::generate(ORIGIN).unwrap();
    let verifier = signer.verifier();
    {
        let store = FileStore::open(&dir, true).unwrap();
        let keys = FileKeyStore::create(FileStore::keys_path(&dir)).unwrap();
        fs::write(dir.join("signer.key"), signer.to_secret_text().as_bytes()).unwrap();
        drop(AuditLog::with_stores(store, keys, signer, CheckpointPolicy::default()).unwrap());
    }
    let exe = std::env::current_exe().unwrap();
    let mut acked: Vec<(u64, String)> = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..5 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .filter_map(|l| {
                    let mut it = l.strip_prefix("ack ")?.split(' ');
                    Some((it.next()?.parse::<u64>().ok()?, it.next()?.to_owned()))
                })
                .collect::<Vec<_>>()
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        thread::sleep(Duration::from_millis(100 + seed % 300));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let got = reader.join().unwrap();
        assert!(
            !got.is_empty() || round > 0,
            "child acknowledged nothing in round {round}"
        );
        acked.extend(got);

        // Reopen (recovery drops only a torn tail), then check.
        let log = open(&dir);
        drop(log);
        let mut leaves = std::collections::HashMap::new();
        FileStore::scan_dir(&dir, &mut |_, e| {
            if let Entry::Record(b) = e {
                let p = Record::decode(&b).unwrap().position();
                let h: String = leaf_hash(&b).iter().map(|b| format!("{b:02x}")).collect();
                leaves.insert(p, h);
            }
            Ok(())
        })
        .unwrap();
        for (p, h) in &acked {
            assert_eq!(
                leaves.get(p),
                Some(h),
                "acknowledged record {p} lost or changed"
            );
        }
        verify_store(&LogDir(dir.clone()), &verifier, None).unwrap();
    }
    assert!(
        acked.len() > 10,
        "only {} appends acknowledged",
        acked.len()
    );
}

#[test]
fn power_loss_at_any_byte_of_the_tail_recovers() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let (log, verifier) = create(&dir, None);
    for i in 0..4 {
        log.append(&event(i, "P-1")).unwrap();
    }
    let note = log.checkpoint().unwrap();
    log.append(&event(9, "P-2")).unwrap();
    drop(log);
    let path = FileStore::log_path(&dir);
    let full = fs::read(&path).unwrap();
    let entries = frames(&full);
    let acked_len = full.len()
        - match entries.last().unwrap() {
            Entry::Record(b) => b.len() + 5,
            _ => unreachable!("the last entry is a record"),
        };
    for cut in acked_len..full.len() {
        fs::write(&path, &full[..cut]).unwrap();
        let store = FileStore::open(&dir, false).unwrap();
        drop(store);
        assert_eq!(
            fs::metadata(&path).unwrap().len() as usize,
            acked_len,
            "cut at {cut}"
        );
        verify_store(&LogDir(dir.clone()), &verifier, Some(&note)).unwrap();
    }
    // A zero-filled tail (power loss after the size was extended) too.
    let mut zeros = full[..acked_len].to_vec();
    zeros.extend_from_slice(&[0; 64]);
    fs::write(&path, &zeros).unwrap();
    drop(FileStore::open(&dir, false).unwrap());
    verify_store(&LogDir(dir.clone()), &verifier, Some(&note)).unwrap();
}
