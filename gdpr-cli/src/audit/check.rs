//! `gdpr audit verify` and `gdpr audit prove`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gdpr_audit::checkpoint::Checkpoint;
use gdpr_audit::merkle::{Frontier, Tree, leaf_hash, verify_consistency, verify_inclusion};
use gdpr_audit::record::Record;
use gdpr_audit::signing::Verifier;
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_audit::verify_dir_with_progress;
use gdpr_audit::{VerifyReport, verify_store};
use gdpr_postgres::{HeadLock, PgAuditStore};
use serde_json::json;

use super::{Failure, bad, out, read};

pub(super) fn verify(
    dir: &Path,
    public_key: &Path,
    trusted: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let verifier = Verifier::parse(&read(public_key)?)
        .map_err(|e| bad(format!("--public-key {}: {e}", public_key.display())))?;
    let trusted = trusted.map(read).transpose()?;
    let tty = std::io::stderr().is_terminal();
    let mut shown = 0u64;
    let report = verify_dir_with_progress(dir, &verifier, trusted.as_deref(), &mut |n| {
        if tty && n / 100_000 > shown / 100_000 {
            eprint!("\rverified {n} records");
        }
        shown = n;
    });
    if tty && shown >= 100_000 {
        eprintln!();
    }
    let report = report?;
    let keys = match report.key_store {
        Some(n) => format!("; key store intact ({n} subject keys)"),
        None => "; no key store in this directory (not checked)".to_owned(),
    };
    print_valid(&report, &keys);
    Ok(ExitCode::SUCCESS)
}

/// The verdict line of `gdpr audit verify`.
fn print_valid(report: &VerifyReport, keys: &str) {
    println!(
        "VALID: {} records ({} pruned before them), {} checkpoints verified, last at size {}, {} records after it not yet signed{}{keys}",
        report.records,
        report.pruned,
        report.checkpoints,
        report
            .last_checkpoint
            .map_or_else(|| "-".to_owned(), |s| s.to_string()),
        report.unsigned_tail,
        if report.trusted_checkpoint_matched {
            "; consistent with the trusted checkpoint"
        } else {
            ""
        },
    );
}

/// The tenant's log on PostgreSQL named by the connection file `conn`.
pub(super) fn pg_store(conn: &Path) -> Result<PgAuditStore, Failure> {
    let config = crate::pg::config(conn)?;
    Ok(PgAuditStore::open(&config, HeadLock::Row)?)
}

/// `gdpr audit verify --postgres FILE`.
pub(super) fn verify_pg(
    conn: &Path,
    public_key: &Path,
    trusted: Option<&Path>,
) -> Result<ExitCode, Failure> {
    let verifier = Verifier::parse(&read(public_key)?)
        .map_err(|e| bad(format!("--public-key {}: {e}", public_key.display())))?;
    let trusted = trusted.map(read).transpose()?;
    let store = pg_store(conn)?;
    let report = verify_store(&store, &verifier, trusted.as_deref())?;
    print_valid(&report, "; key store on PostgreSQL (not checked)");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn prove(
    source: &dyn EntrySource,
    index: u64,
    from_size: Option<u64>,
) -> Result<ExitCode, Failure> {
    let mut tree = match source.prune_anchor()? {
        Some(a) => {
            let nodes = a
                .frontier
                .iter()
                .map(|h| {
                    gdpr_audit::hex::decode::<32>(h)
                        .ok_or_else(|| bad("anchor.json: malformed frontier"))
                })
                .collect::<Result<Vec<[u8; 32]>, _>>()?;
            Tree::after_prune(Frontier::from_parts(a.size, nodes)?)
        }
        None => Tree::new(),
    };
    let mut leaf = None;
    let mut note = None;
    source.entries(&mut |_, e| {
        match e {
            Entry::Record(b) => {
                if Record::decode(&b)?.position() == index {
                    leaf = Some(b.clone());
                }
                tree.push(leaf_hash(&b));
            }
            Entry::Checkpoint(n) => note = Some(n),
            _ => {}
        }
        Ok(())
    })?;
    let leaf = leaf.ok_or_else(|| {
        bad(format!(
            "no record at position {index} (out of range or pruned)"
        ))
    })?;
    let note =
        note.ok_or_else(|| bad("the log has no checkpoint yet; run gdpr audit checkpoint"))?;
    let cp = Checkpoint::parse_unverified(&note)?.0;
    if index >= cp.size() {
        return Err(bad(format!(
            "record {index} is after the latest checkpoint (size {}); run gdpr audit checkpoint",
            cp.size()
        )));
    }
    let proof = tree.inclusion_proof(index, cp.size())?;
    verify_inclusion(cp.root(), cp.size(), &leaf, index, &proof)?;
    let hex = gdpr_audit::hex::encode;
    let mut line = json!({
        "index": index,
        "tree_size": cp.size(),
        "root": STANDARD.encode(cp.root()),
        "leaf_hash": hex(&leaf_hash(&leaf)),
        "record": STANDARD.encode(&leaf),
        "inclusion_proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        "checkpoint": note,
    });
    if let Some(old) = from_size {
        let proof = tree.consistency_proof(old, cp.size())?;
        let old_root = tree.root_at(old)?;
        verify_consistency(&old_root, old, cp.root(), cp.size(), &proof)?;
        line["consistency"] = json!({
            "old_size": old,
            "old_root": STANDARD.encode(old_root),
            "new_size": cp.size(),
            "proof": proof.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        });
    }
    let text = serde_json::to_string_pretty(&line).map_err(|e| bad(e.to_string()))?;
    writeln!(out(), "{text}").map_err(|e| bad(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}
