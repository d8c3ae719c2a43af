//! Benchmarks, each against its baseline in the same run:
//!
//! - `append/single`: one durable append vs raw `write` + `fdatasync` of a
//!   frame of the same size;
//! - `append/concurrent8`: 8 threads appending vs raw writes of 8 frames
//!   with one `fdatasync` per batch; `append/batch100`: `append_batch` of
//!   100 vs raw write of 100 frames + one `fdatasync`;
//! - `verify`: strict verification (`strict`: on all cores, as
//!   `verify_dir` runs; `strict_1thread`: on one) vs plain SHA-256 over
//!   the same bytes (one core: a single SHA-256 stream cannot be split);
//! - `proof_1m`: proof generation at 1,000,000 records (sizes printed).
//!
//! Files live under the target directory (a real file system, not tmpfs).

use std::fs::{File, OpenOptions};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gdpr_audit::FileKeyStore;
use gdpr_audit::FileStore;
use gdpr_audit::action::{Action, EventType};
use gdpr_audit::event::AuditEvent;
use gdpr_audit::internals::LogVerifier;
use gdpr_audit::internals::scan_chunks;
use gdpr_audit::label::SourceSystem;
use gdpr_audit::merkle::{Tree, leaf_hash};
use gdpr_audit::object::{ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::signing::Signer;
use gdpr_audit::{AuditLog, CheckpointPolicy};
use gdpr_core::Citation;
use gdpr_core::actor::{Actor, ActorId, Role, Secrecy};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::PatientId;
use sha2::{Digest, Sha256};

fn event(i: u64) -> AuditEvent {
    let actor = Actor {
        id: ActorId::new("dr.bench").unwrap(),
        role: Role::Physician,
        secrecy: Secrecy::Professional {
            source: Citation::from_static("§ 203(1) Nr. 1 StGB"),
        },
    };
    AuditEvent::builder(
        EventType::DicomInstancesAccessed,
        Action::Read,
        actor,
        Purpose::Treatment,
        LawfulBasis::SpecialCategory(HealthBasis::new(
            Art6Basis::Contract,
            Art9Condition::HealthCare,
        )),
        SourceSystem::new("PACS-1").unwrap(),
    )
    .subject(PatientId::new(format!("P-{}", i % 100)).unwrap())
    .object(ObjectRef::new(
        ObjectKind::Study,
        ObjectId::new(format!("1.2.840.10008.{i}")).unwrap(),
    ))
    .build(jiff::Timestamp::from_second(1_790_000_000 + i as i64).unwrap())
}

fn new_log(dir: &Path) -> AuditLog<FileStore> {
    let store = FileStore::open(dir, true).unwrap();
    let keys = FileKeyStore::create(FileStore::keys_path(dir)).unwrap();
    let policy = CheckpointPolicy {
        every_records: None,
        every: None,
    };
    AuditLog::with_stores(
        store,
        keys,
        Signer::generate("bench/audit").unwrap(),
        policy,
    )
    .unwrap()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// A frame the size of a real record.
fn sample_frame() -> Vec<u8> {
    let d = tmp();
    let log = new_log(&d.path().join("log"));
    log.append(&event(1)).unwrap();
    drop(log);
    std::fs::read(FileStore::log_path(&d.path().join("log"))).unwrap()
}

fn raw_file(dir: &Path) -> File {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("raw"))
        .unwrap()
}

fn appends(c: &mut Criterion) {
    let frame = sample_frame();
    println!("record frame size: {} bytes", frame.len());
    let mut g = c.benchmark_group("append");
    g.measurement_time(Duration::from_secs(3)).sample_size(20);

    let d = tmp();
    let log = new_log(&d.path().join("log"));
    let mut i = 0;
    g.bench_function("single/audit_log", |b| {
        b.iter(|| {
            i += 1;
            log.append(&event(i)).unwrap()
        })
    });
    let mut f = raw_file(d.path());
    g.bench_function("single/raw_write_fdatasync", |b| {
        b.iter(|| {
            f.write_all(&frame).unwrap();
            f.sync_data().unwrap();
        })
    });

    let batch: Vec<AuditEvent> = (0..100).map(event).collect();
    g.throughput(Throughput::Elements(100));
    g.bench_function("batch100/audit_log", |b| {
        b.iter(|| log.append_batch(&batch).unwrap())
    });
    let big: Vec<u8> = frame.repeat(100);
    g.bench_function("batch100/raw_write_fdatasync", |b| {
        b.iter(|| {
            f.write_all(&big).unwrap();
            f.sync_data().unwrap();
        })
    });

    let shared = Arc::new(log);
    g.throughput(Throughput::Elements(8 * 25));
    g.bench_function("concurrent8/audit_log", |b| {
        b.iter(|| {
            std::thread::scope(|s| {
                for t in 0..8u64 {
                    let log = Arc::clone(&shared);
                    s.spawn(move || {
                        for k in 0..25 {
                            log.append(&event(t * 1000 + k)).unwrap();
                        }
                    });
                }
            })
        })
    });
    let eight: Vec<u8> = frame.repeat(8);
    g.bench_function("concurrent8/raw_batches_of_8", |b| {
        b.iter(|| {
            for _ in 0..25 {
                f.write_all(&eight).unwrap();
                f.sync_data().unwrap();
            }
        })
    });
    g.finish();
}

fn verification(c: &mut Criterion) {
    let d = tmp();
    let dir = d.path().join("log");
    let signer = Signer::generate("bench/audit").unwrap();
    let verifier = signer.verifier();
    {
        let store = FileStore::open(&dir, true).unwrap();
        let keys = FileKeyStore::create(FileStore::keys_path(&dir)).unwrap();
        let policy = CheckpointPolicy {
            every_records: Some(1000),
            every: None,
        };
        let log = AuditLog::with_stores(store, keys, signer, policy).unwrap();
        let events: Vec<AuditEvent> = (0..20_000).map(event).collect();
        for chunk in events.chunks(1000) {
            log.append_batch(chunk).unwrap();
        }
        log.checkpoint().unwrap();
    }
    let bytes = std::fs::read(FileStore::log_path(&dir)).unwrap();
    let mut g = c.benchmark_group("verify");
    g.measurement_time(Duration::from_secs(3)).sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    for (name, threads) in [("strict", None), ("strict_1thread", Some(1))] {
        g.bench_function(BenchmarkId::new(name, "20k_records"), |b| {
            b.iter(|| {
                let mut v = LogVerifier::new(&verifier, None).unwrap();
                if let Some(n) = threads {
                    v = v.with_threads(n);
                }
                let mut r = bytes.as_slice();
                let end =
                    scan_chunks(&mut r, Path::new("mem"), &mut |chunk| v.chunk(chunk)).unwrap();
                black_box(v.finish(end).unwrap())
            })
        });
    }
    g.bench_function(BenchmarkId::new("sha256", "20k_records"), |b| {
        b.iter(|| black_box(Sha256::digest(&bytes)))
    });
    g.finish();
}

fn proofs(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut tree = Tree::new();
    for i in 0..N {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    for index in [0, N / 2 + 1, N - 1] {
        let p = tree.inclusion_proof(index, N).unwrap();
        println!(
            "proof sizes at 1,000,000 records: inclusion of {index}: {} hashes = {} bytes",
            p.len(),
            p.len() * 32
        );
    }
    for old in [1, N / 2, N - 1] {
        let p = tree.consistency_proof(old, N).unwrap();
        println!(
            "proof sizes at 1,000,000 records: consistency {old} -> {N}: {} hashes = {} bytes",
            p.len(),
            p.len() * 32
        );
    }
    let mut g = c.benchmark_group("proof_1m");
    g.measurement_time(Duration::from_secs(2)).sample_size(20);
    g.bench_function("inclusion", |b| {
        b.iter(|| tree.inclusion_proof(black_box(N / 3), N).unwrap())
    });
    g.bench_function("consistency", |b| {
        b.iter(|| tree.consistency_proof(black_box(N / 3), N).unwrap())
    });
    g.finish();
}

criterion_group!(benches, appends, verification, proofs);
criterion_main!(benches);
