//! Exports: JSON Lines with checkpoints and inclusion proofs, FHIR R4
//! `AuditEvent` resources (IHE BALP patterns), and DICOM PS3.15 A.5 audit
//! messages.
//!
//! Personal fields appear decrypted when their key exists and the caller
//! asked for [`Disclosure::Full`]; when the key was destroyed the export
//! says so for each record (with the key id that links the erased records
//! to each other), so the gap is shown, never hidden.

mod dicom;
mod fhir;

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::keystore::KeyStore;
use crate::merkle::{Tree, leaf_hash};
use crate::record::Record;
use crate::report::{Personal, personal};
use crate::seal::KeyId;
use crate::store::{Entry, EntrySource, hex};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// One JSON object per line: records with inclusion proofs, checkpoints.
    JsonLines,
    /// A FHIR R4 `Bundle` (type `collection`) of `AuditEvent` resources.
    Fhir,
    /// An XML document of DICOM PS3.15 A.5 `AuditMessage` elements.
    Dicom,
}

/// Whether decrypted personal fields go into the export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disclosure {
    /// Include personal fields whose key exists.
    Full,
    /// Leave every personal field out (only whether it exists or was erased).
    Redact,
}

/// Which records to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// Every record.
    All,
    /// Records sealed under one key: one subject's records, also after the
    /// subject was erased (the erasure receipt names the key id).
    Key(KeyId),
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportSummary {
    /// Records written.
    pub records: u64,
    /// Of these, records whose personal fields were erased.
    pub erased: u64,
    /// Checkpoints written (JSON Lines only).
    pub checkpoints: u64,
}

/// A record prepared for export.
pub(crate) struct Item {
    pub(crate) record: Record,
    pub(crate) leaf: [u8; 32],
    pub(crate) personal: Personal,
}

/// Writes `source` to `out` in `format`.
///
/// # Errors
/// [`Error::Io`] when writing fails; decoding and decryption errors for
/// damaged records (verify the log first).
pub fn export(
    source: &dyn EntrySource,
    keys: &KeyStore,
    format: Format,
    disclosure: Disclosure,
    selection: Selection,
    out: &mut dyn Write,
) -> Result<ExportSummary, Error> {
    // First pass: the tree and the last checkpoint, for proofs.
    let mut tree = match source.prune_anchor()? {
        Some(a) => {
            let nodes = a
                .frontier
                .iter()
                .map(|h| crate::store::unhex(h))
                .collect::<Result<Vec<_>, _>>()?;
            Tree::after_prune(crate::merkle::Frontier::from_parts(a.size, nodes)?)
        }
        None => Tree::new(),
    };
    let mut last_cp: Option<(u64, String)> = None;
    source.entries(&mut |_, e| {
        match e {
            Entry::Record(b) => tree.push(leaf_hash(&b)),
            Entry::Checkpoint(n) => {
                let size = Checkpoint::parse_unverified(&n)?.0.size();
                last_cp = Some((size, n));
            }
        }
        Ok(())
    })?;
    let io = |e: std::io::Error| Error::io("<export output>", e);
    let mut summary = ExportSummary::default();
    match format {
        Format::Fhir => out
            .write_all(b"{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[")
            .map_err(io)?,
        Format::Dicom => out
            .write_all(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditMessages>\n")
            .map_err(io)?,
        Format::JsonLines => {}
    }
    source.entries(&mut |_, e| {
        match e {
            Entry::Checkpoint(note) => {
                if format == Format::JsonLines && selection == Selection::All {
                    let line = json!({"type": "checkpoint", "note": note});
                    writeln!(out, "{line}").map_err(io)?;
                    summary.checkpoints += 1;
                }
            }
            Entry::Record(bytes) => {
                let record = Record::decode(&bytes)?;
                if let Selection::Key(k) = selection
                    && record.sealed().map(|s| *s.key_id()) != Some(k)
                {
                    return Ok(());
                }
                let personal = personal(&record, keys)?;
                if matches!(personal, Personal::Erased(_)) {
                    summary.erased += 1;
                }
                let item = Item {
                    leaf: leaf_hash(&bytes),
                    record,
                    personal,
                };
                match format {
                    Format::JsonLines => {
                        let line = jsonl(&item, &bytes, &tree, last_cp.as_ref(), disclosure)?;
                        writeln!(out, "{line}").map_err(io)?;
                    }
                    Format::Fhir => {
                        let sep = if summary.records == 0 { "" } else { "," };
                        let res = fhir::audit_event(&item, disclosure);
                        write!(out, "{sep}{}", json!({"resource": res})).map_err(io)?;
                    }
                    Format::Dicom => out
                        .write_all(dicom::audit_message(&item, disclosure).as_bytes())
                        .map_err(io)?,
                }
                summary.records += 1;
            }
        }
        Ok(())
    })?;
    match format {
        Format::Fhir => out.write_all(b"]}\n").map_err(io)?,
        Format::Dicom => out.write_all(b"</AuditMessages>\n").map_err(io)?,
        Format::JsonLines => {}
    }
    Ok(summary)
}

/// The personal fields as JSON, per disclosure.
pub(crate) fn personal_json(p: &Personal, disclosure: Disclosure) -> Value {
    match (p, disclosure) {
        (Personal::NoneRecorded, _) => Value::Null,
        (Personal::Erased(k), _) => json!({
            "status": "erased",
            "key_id": k.to_hex(),
            "citation": "GDPR Art. 17(1): key destroyed, fields unreadable; the record's hash still verifies",
        }),
        (Personal::Readable(_), Disclosure::Redact) => json!({"status": "redacted"}),
        (Personal::Readable(f), _) => json!({
            "status": "readable",
            "subject": f.subject.as_ref().map(|s| json!({"id": s.expose(), "issuer": s.issuer()})),
            "object_id": f.object_id.as_ref().map(|o| o.expose()),
            "text": f.text.as_ref().map(|t| t.expose()),
        }),
    }
}

fn jsonl(
    item: &Item,
    bytes: &[u8],
    tree: &Tree,
    last_cp: Option<&(u64, String)>,
    disclosure: Disclosure,
) -> Result<Value, Error> {
    let r = &item.record;
    let proof = match last_cp {
        Some((size, _)) if r.position() < *size => {
            let p = tree.inclusion_proof(r.position(), *size)?;
            json!({"tree_size": size, "hashes": p.iter().map(|h| hex(h)).collect::<Vec<_>>()})
        }
        _ => json!({"tree_size": null, "note": "after the last checkpoint: no signed root yet"}),
    };
    Ok(json!({
        "type": "record",
        "position": r.position(),
        "leaf_hash": hex(&item.leaf),
        "canonical": STANDARD.encode(bytes),
        "recorded": r.recorded().to_string(),
        "event_type": r.event_type(),
        "action": r.action(),
        "outcome": r.outcome(),
        "actor": {"id": r.actor().id.expose(), "role": r.actor().role, "secrecy": r.actor().secrecy},
        "purpose": r.purpose(),
        "lawful_basis": r.lawful_basis(),
        "object_kind": r.object_kind(),
        "source": r.source().as_str(),
        "tenant": r.tenant().map(|t| t.as_str()),
        "correlation_id": r.correlation_id().map(|c| c.as_str()),
        "personal": personal_json(&item.personal, disclosure),
        "inclusion_proof": proof,
    }))
}
