//! Exports: JSON Lines with checkpoints and inclusion proofs, FHIR R4
//! `AuditEvent` resources (IHE BALP patterns), and DICOM PS3.15 A.5 audit
//! messages.
//!
//! Personal fields appear decrypted when their key exists and the caller
//! asked for [`Disclosure::Full`]; when the key was destroyed the export
//! says so for each record (with the key id that links the erased records
//! to each other), so the gap is shown, never hidden.
//!
//! A record that cannot be read does not stop the export: the others are
//! written, and the bad one is reported in its place (counted in
//! [`ExportSummary::unreadable`]; `gdpr audit export` then exits 1).
//! - Personal fields that do not decrypt or decode: the record is
//!   exported with its fields in clear and `personal` = `{"status":
//!   "unreadable", "key_id", "cause"}` (FHIR: an entity with that status;
//!   DICOM: object id `unreadable:<key id>`).
//! - A record that does not decode at all: JSON Lines `{"type":
//!   "unreadable", "position", "offset", "leaf_hash", "reason"}`; FHIR an
//!   `OperationOutcome` entry; DICOM an `<UnreadableRecord position
//!   offset leafHash reason/>` element. It is listed in every selection
//!   (it cannot be told whose it is). `position` is where it stands in the
//!   log, counted from the first retained record.

mod dicom;
mod fhir;
#[cfg(test)]
mod golden;

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::keys::KeyStore;
#[cfg(test)]
use crate::keystore::FileKeyStore;
use crate::merkle::{Tree, leaf_hash};
use crate::record::Record;
use crate::report::{Personal, personal_or_unreadable};
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
    /// Records that could not be read (reported in their place; not
    /// counted in `records`), or whose personal fields could not be read
    /// (counted in `records` too).
    pub unreadable: u64,
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
/// [`Error::Io`] when reading the log or writing fails. A record that
/// cannot be read is reported in the output instead (module docs).
pub fn export(
    source: &dyn EntrySource,
    keys: &dyn KeyStore,
    format: Format,
    disclosure: Disclosure,
    selection: Selection,
    out: &mut dyn Write,
) -> Result<ExportSummary, Error> {
    let (tree, last_cp) = proof_base(source)?;
    let mut w = Writer {
        out,
        keys,
        written: 0,
        format,
        disclosure,
        tree,
        last_cp,
        summary: ExportSummary::default(),
        position: source.prune_anchor()?.map_or(0, |a| a.size),
    };
    w.raw(match format {
        Format::Fhir => "{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[",
        Format::Dicom => "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AuditMessages>\n",
        Format::JsonLines => "",
    })?;
    source.entries(&mut |offset, e| {
        match e {
            Entry::Checkpoint(note) => {
                if format == Format::JsonLines && selection == Selection::All {
                    let line = json!({"type": "checkpoint", "note": note});
                    w.raw(&format!("{line}\n"))?;
                    w.summary.checkpoints += 1;
                }
            }
            Entry::Record(bytes) => {
                let position = w.position;
                w.position += 1;
                let record = match Record::decode(&bytes) {
                    Ok(r) => r,
                    Err(e) => return w.unreadable(position, offset, &bytes, &e),
                };
                if let Selection::Key(k) = selection
                    && record.sealed().map(|s| *s.key_id()) != Some(k)
                {
                    return Ok(());
                }
                w.record(record, &bytes)?;
            }
        }
        Ok(())
    })?;
    w.raw(match format {
        Format::Fhir => "]}\n",
        Format::Dicom => "</AuditMessages>\n",
        Format::JsonLines => "",
    })?;
    Ok(w.summary)
}

/// The tree of all records and the last checkpoint (size, note), for
/// inclusion proofs. A checkpoint that does not parse is left out.
fn proof_base(source: &dyn EntrySource) -> Result<(Tree, Option<(u64, String)>), Error> {
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
                if let Ok((cp, _)) = Checkpoint::parse_unverified(&n) {
                    last_cp = Some((cp.size(), n));
                }
            }
        }
        Ok(())
    })?;
    Ok((tree, last_cp))
}

/// The output side of one export.
struct Writer<'o> {
    out: &'o mut dyn Write,
    keys: &'o dyn KeyStore,
    /// Items written (for the FHIR separators).
    written: u64,
    format: Format,
    disclosure: Disclosure,
    tree: Tree,
    last_cp: Option<(u64, String)>,
    summary: ExportSummary,
    /// Position of the next record in the log.
    position: u64,
}

impl Writer<'_> {
    fn raw(&mut self, text: &str) -> Result<(), Error> {
        self.out
            .write_all(text.as_bytes())
            .map_err(|e| Error::io("<export output>", e))
    }

    /// Separator before the next FHIR entry.
    fn sep(&mut self) -> &'static str {
        self.written += 1;
        if self.written == 1 { "" } else { "," }
    }

    fn record(&mut self, record: Record, bytes: &[u8]) -> Result<(), Error> {
        let personal = personal_or_unreadable(&record, self.keys);
        match personal {
            Personal::Erased(_) => self.summary.erased += 1,
            Personal::Unreadable { .. } => self.summary.unreadable += 1,
            _ => {}
        }
        let item = Item {
            leaf: leaf_hash(bytes),
            record,
            personal,
        };
        let text = match self.format {
            Format::JsonLines => {
                let line = jsonl(
                    &item,
                    bytes,
                    &self.tree,
                    self.last_cp.as_ref(),
                    self.disclosure,
                )?;
                format!("{line}\n")
            }
            Format::Fhir => {
                let res = fhir::audit_event(&item, self.disclosure);
                format!("{}{}", self.sep(), json!({"resource": res}))
            }
            Format::Dicom => dicom::audit_message(&item, self.disclosure),
        };
        self.raw(&text)?;
        self.summary.records += 1;
        Ok(())
    }

    /// Reports a record that does not decode, in its place.
    fn unreadable(
        &mut self,
        position: u64,
        offset: u64,
        bytes: &[u8],
        cause: &Error,
    ) -> Result<(), Error> {
        self.summary.unreadable += 1;
        let reason = format!("the record does not decode ({cause}); run gdpr audit verify");
        let leaf = hex(&leaf_hash(bytes));
        let text = match self.format {
            Format::JsonLines => format!(
                "{}\n",
                json!({"type": "unreadable", "position": position, "offset": offset, "leaf_hash": leaf, "reason": reason})
            ),
            Format::Fhir => {
                let outcome = json!({"resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [{
                        "severity": "error",
                        "code": "processing",
                        "diagnostics": format!("unreadable audit record at position {position} (byte {offset}, leaf hash {leaf}): {reason}"),
                    }],
                }});
                format!("{}{outcome}", self.sep())
            }
            Format::Dicom => format!(
                "  <UnreadableRecord position=\"{position}\" offset=\"{offset}\" leafHash=\"{leaf}\" reason=\"{}\"/>\n",
                dicom::esc(&reason)
            ),
        };
        self.raw(&text)
    }
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
        (Personal::Unreadable { key_id, cause }, _) => json!({
            "status": "unreadable",
            "key_id": key_id.to_hex(),
            "cause": cause.code(),
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

#[cfg(test)]
mod tests {
    use gdpr_core::subject::PatientId;

    use super::*;
    use crate::event::AuditEvent;
    use crate::event::tests::sample;
    use crate::file_store::{FileStore, LogDir};
    use crate::log::{AuditLog, CheckpointPolicy};
    use crate::signing::Signer;
    use crate::store::ScanEnd;

    /// `sample(…)` about a subject whose id breaks `PatientId::new`'s rule
    /// (built with the unchecked constructor, as versions before the check could).
    fn poisoned() -> AuditEvent {
        let bad = PatientId::danger_unchecked("P\u{7}", None);
        let e = sample("P-9");
        AuditEvent::builder(
            e.event_type(),
            e.action(),
            e.actor().clone(),
            e.purpose(),
            e.lawful_basis().clone(),
            e.source().clone(),
        )
        .subject(bad)
        .build(e.recorded())
    }

    fn export_all(dir: &std::path::Path, format: Format, d: Disclosure) -> (String, ExportSummary) {
        let keys = FileKeyStore::open(FileStore::keys_path(dir)).unwrap();
        let mut out = Vec::new();
        let summary = export(
            &LogDir(dir.to_owned()),
            &keys,
            format,
            d,
            Selection::All,
            &mut out,
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), summary)
    }

    #[test]
    fn a_poisoned_record_is_reported_and_the_others_exported() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("log");
        let log = AuditLog::with_stores(
            FileStore::open(&dir, true).unwrap(),
            FileKeyStore::create(FileStore::keys_path(&dir)).unwrap(),
            Signer::generate("test.example/audit").unwrap(),
            CheckpointPolicy::default(),
        )
        .unwrap();
        // The checked path refuses it, before any key is made for it.
        assert!(matches!(
            log.append(&poisoned()),
            Err(Error::Core(gdpr_core::Error::InvalidIdentifier { .. }))
        ));
        assert_eq!(log.len(), 0);
        // Written the way earlier versions did.
        log.append_checked(&[sample("P-1"), poisoned(), sample("P-2")])
            .unwrap();
        log.checkpoint().unwrap();
        drop(log);

        for d in [Disclosure::Full, Disclosure::Redact] {
            let (text, summary) = export_all(&dir, Format::JsonLines, d);
            assert_eq!((summary.records, summary.unreadable), (3, 1));
            let lines: Vec<Value> = text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .filter(|v: &Value| v["type"] == "record")
                .collect();
            assert_eq!(lines.len(), 3);
            assert_eq!(lines[1]["position"], 1);
            assert_eq!(lines[1]["personal"]["status"], "unreadable");
            assert_eq!(lines[1]["personal"]["cause"], "malformed-fields");
            assert_ne!(lines[2]["personal"]["status"], "unreadable");
        }
        let (text, summary) = export_all(&dir, Format::JsonLines, Disclosure::Full);
        assert!(text.contains("P-1") && text.contains("P-2"));
        assert_eq!(summary.unreadable, 1);
        let (fhir, _) = export_all(&dir, Format::Fhir, Disclosure::Full);
        let bundle: Value = serde_json::from_str(&fhir).unwrap();
        assert_eq!(bundle["entry"].as_array().unwrap().len(), 3);
        assert!(fhir.contains("unreadable"));
        let (xml, _) = export_all(&dir, Format::Dicom, Disclosure::Full);
        assert_eq!(xml.matches("<AuditMessage>").count(), 3);
        assert!(xml.contains("personal fields unreadable (malformed-fields)"));
    }

    /// Entries held in memory.
    struct Entries(Vec<Entry>);

    impl EntrySource for Entries {
        fn entries(
            &self,
            visit: &mut dyn FnMut(u64, Entry) -> Result<(), Error>,
        ) -> Result<ScanEnd, Error> {
            for (i, e) in self.0.iter().enumerate() {
                visit(i as u64 * 100, e.clone())?;
            }
            Ok(ScanEnd::default())
        }

        fn prune_anchor(&self) -> Result<Option<crate::store::PruneAnchor>, Error> {
            Ok(None)
        }
    }

    #[test]
    fn a_record_that_does_not_decode_is_listed_in_its_place() {
        let tmp = tempfile::tempdir().unwrap();
        let keys = FileKeyStore::create(tmp.path().join("keys")).unwrap();
        let good = |p: u64| {
            Record::new(&sample("P-1"), p, [0; 32], None)
                .unwrap()
                .encode()
        };
        let source = Entries(vec![
            Entry::Record(good(0)),
            Entry::Record(b"not a record".to_vec()),
            Entry::Record(good(2)),
        ]);
        for format in [Format::JsonLines, Format::Fhir, Format::Dicom] {
            let mut out = Vec::new();
            let summary = export(
                &source,
                &keys,
                format,
                Disclosure::Full,
                Selection::Key(KeyId::from_bytes([3; 16])),
                &mut out,
            )
            .unwrap();
            let text = String::from_utf8(out).unwrap();
            assert_eq!((summary.records, summary.unreadable), (0, 1), "{format:?}");
            assert!(text.contains("position"), "{text}");
        }
        let mut out = Vec::new();
        let summary = export(
            &source,
            &keys,
            Format::Fhir,
            Disclosure::Full,
            Selection::All,
            &mut out,
        )
        .unwrap();
        assert_eq!((summary.records, summary.unreadable), (2, 1));
        let bundle: Value = serde_json::from_slice(&out).unwrap();
        let entries = bundle["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[1]["resource"]["resourceType"], "OperationOutcome");
        let diag = entries[1]["resource"]["issue"][0]["diagnostics"]
            .as_str()
            .unwrap();
        assert!(diag.contains("position 1"), "{diag}");
        let mut out = Vec::new();
        export(
            &source,
            &keys,
            Format::JsonLines,
            Disclosure::Full,
            Selection::All,
            &mut out,
        )
        .unwrap();
        let line: Value =
            serde_json::from_str(String::from_utf8(out).unwrap().lines().nth(1).unwrap()).unwrap();
        assert_eq!(
            (line["type"].as_str(), line["position"].as_u64()),
            (Some("unreadable"), Some(1))
        );
        assert_eq!(line["offset"], 100);
    }
}
