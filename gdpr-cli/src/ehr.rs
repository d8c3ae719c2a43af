//! `gdpr ehr locate|export|erase`: act on a patient's records on an EHR —
//! any FHIR R4 server or an OpenEMR site named in `systems.toml` (GDPR
//! Art. 15, 17, 20) — as `gdpr pacs` does on a PACS.
//!
//! The patient comes from `--patient-id-file FILE` (`-`: standard input),
//! never from the command line: one line holding a FHIR identifier,
//! `system|value` (`|value` for an identifier without system), or the
//! Patient's logical id, `Patient/ID`. A bare value is refused: it could
//! match the same value under any system.
//!
//! Exit codes: 0 only when the operation is complete (for `erase`: when
//! verification confirmed that nothing is left), 1 when it is partial — an
//! erasure that leaves residue (each remnant is printed with the reason it
//! remains: OpenEMR's areas and administrator tasks, versions in
//! `_history`, resources shared with other patients), an export that could
//! not read everything — or the system failed, 2 for bad input or
//! configuration.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gdpr_core::retention::Fact;
use gdpr_core::store::{
    DerivedPolicy, ErasureReport, ExportReport, FhirId, FhirIdentifier, FhirSubject, RecordHandle,
    SubjectRef, SubjectStore, SystemIdentity,
};
use gdpr_core::subject::PatientId;
use gdpr_systems::SystemsConfig;
use serde_json::{Value, json};

use crate::error::CliError;
use crate::subject::{Audit, AuditArgs, confirm, origin, print_json, read_identifier, seal};

/// Arguments of `gdpr ehr`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    /// Print JSON instead of a summary.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List every record held about a patient: resource type and id,
    /// record category, the dates retention reads, shared or the patient's
    /// own.
    Locate(Target),
    /// Export everything held about a patient into --out: a FHIR R4 Bundle,
    /// NDJSON per resource type, attachments, a manifest with SHA-256 (Art.
    /// 15(3), 20).
    Export {
        #[command(flatten)]
        target: Target,
        /// The export directory (created; must be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Erase everything of the patient's own, then verify; print what is
    /// left and why (Art. 17).
    Erase {
        #[command(flatten)]
        target: Target,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Which patient on which system, and who asks.
#[derive(Debug, clap::Args)]
struct Target {
    #[command(flatten)]
    audit: AuditArgs,
    /// The systems file (see docs/samples/systems.toml).
    #[arg(long)]
    config: PathBuf,
    /// The system's name in the systems file (kind `fhir` or `openemr`).
    #[arg(long)]
    system: String,
    /// A file holding the patient on its one line (`-`: standard input):
    /// a FHIR identifier `system|value` (`|value` without system) or
    /// `Patient/ID` (the logical id). Never on the command line, so it is
    /// not visible in the process list.
    #[arg(long = "patient-id-file", value_name = "FILE")]
    patient_id_file: PathBuf,
}

/// The longest identifier file read: a FHIR identifier's system and value
/// are at most 1024 bytes each.
const MAX_IDENTIFIER_FILE: u64 = 4096;

/// The subject named by `line` (read from `origin`).
///
/// # Errors
/// [`CliError::BadInput`] naming `origin` and the expected forms, never the
/// value.
fn parse_subject(line: &str, origin: &str) -> Result<SubjectRef, CliError> {
    let bad = |why: String| CliError::BadInput(format!("{origin}: {why}"));
    let subject = if let Some(id) = line.strip_prefix("Patient/") {
        FhirSubject::LogicalId(FhirId::new(id).map_err(|e| bad(e.to_string()))?)
    } else if line.contains('|') {
        FhirSubject::Identifier(FhirIdentifier::parse(line).map_err(|e| bad(e.to_string()))?)
    } else {
        return Err(bad(
            "give a FHIR identifier as system|value (|value for one without system) or the \
             logical id as Patient/ID; a bare value could match under any system"
                .into(),
        ));
    };
    Ok(SubjectRef::Fhir(subject))
}

impl Target {
    fn open(&self) -> Result<(Box<dyn SubjectStore>, SubjectRef, Audit), CliError> {
        let line = read_identifier(&self.patient_id_file, MAX_IDENTIFIER_FILE)?;
        let subject = parse_subject(&line, &origin(&self.patient_id_file))?;
        // The audit log names a subject by a patient id: an identifier's
        // value under its system (as gdpr-audit derives it), a logical id
        // as itself.
        let audit_subject = match &subject {
            SubjectRef::Fhir(FhirSubject::LogicalId(id)) => PatientId::new(id.as_str()).ok(),
            _ => None,
        };
        let store = SystemsConfig::load(&self.config)?.open(&self.system)?;
        let (store, audit) = self.audit.wrap(store, audit_subject)?;
        Ok((store, subject, audit))
    }
}

/// Runs `gdpr ehr`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    // A store's error names the step; the system it happened on is added
    // here, by its name in the systems file.
    let system = match &args.action {
        Action::Locate(target) | Action::Export { target, .. } | Action::Erase { target, .. } => {
            target.system.clone()
        }
    };
    crate::runtime()?
        .block_on(run_async(args))
        .map_err(|e| e.on_system(&system))
}

async fn run_async(args: Args) -> Result<ExitCode, CliError> {
    let json_out = args.json;
    match args.action {
        Action::Locate(target) => {
            let (store, subject, audit) = target.open()?;
            let result = async {
                let records = store.locate(&subject).await?;
                show_located(store.identity(), &records, json_out)?;
                Ok(ExitCode::SUCCESS)
            }
            .await;
            seal(audit.as_deref(), result)
        }
        Action::Export { target, out } => {
            let (store, subject, audit) = target.open()?;
            let result = async {
                let report = store.export(&subject, &out).await?;
                show_export(store.identity(), &report, &out, json_out)?;
                Ok(exit_code(report.unreadable.is_empty()))
            }
            .await;
            seal(audit.as_deref(), result)
        }
        Action::Erase { target, yes } => {
            target.audit.require_for_erase()?;
            if !yes && !std::io::stdin().is_terminal() {
                return Err(CliError::BadInput(
                    "erase needs confirmation: run it in a terminal, or pass --yes".into(),
                ));
            }
            let (store, subject, audit) = target.open()?;
            let result = async {
                if !yes {
                    let found = store.locate(&subject).await?;
                    confirm(&format!("{} records", found.len()), &target.system)?;
                }
                let report = store.erase_subject(&subject, DerivedPolicy::Erase).await?;
                show_erasure(store.identity(), &report, json_out)?;
                Ok(exit_code(report.is_verified()))
            }
            .await;
            seal(audit.as_deref(), result)
        }
    }
}

fn exit_code(complete: bool) -> ExitCode {
    if complete {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// One located record; the person's own dates (birth, death) are left out
/// of the listing.
fn record_json(handle: &RecordHandle) -> Value {
    let Some(r) = handle.as_resource() else {
        return json!({ "id": handle.id(), "category": handle.category() });
    };
    let dates: serde_json::Map<String, Value> = r
        .dates()
        .iter()
        .filter(|(fact, _)| !matches!(fact, Fact::BirthDate | Fact::DeathDate))
        .map(|(fact, date)| (fact.name().to_owned(), json!(date)))
        .collect();
    json!({
        "id": r.id(),
        "resource_type": r.resource_type(),
        "category": r.category(),
        "shared": r.is_shared(),
        "dates": dates,
    })
}

fn show_located(
    system: &SystemIdentity,
    records: &[RecordHandle],
    json_out: bool,
) -> Result<(), CliError> {
    let listed: Vec<Value> = records.iter().map(record_json).collect();
    let shared = listed.iter().filter(|r| r["shared"] == true).count();
    if json_out {
        return print_json(&json!({ "system": system, "records": listed }));
    }
    println!(
        "{} ({}): {} records, {} the patient's own, {shared} shared with others",
        system.name(),
        system.kind(),
        listed.len(),
        listed.len() - shared
    );
    for r in &listed {
        let category = r["category"].as_str().unwrap_or("");
        let mark = if r["shared"] == true { "  shared" } else { "" };
        println!("  {}\t{category}{mark}", r["id"].as_str().unwrap_or(""));
    }
    Ok(())
}

fn show_export(
    system: &SystemIdentity,
    report: &ExportReport,
    out: &Path,
    json_out: bool,
) -> Result<(), CliError> {
    let manifest = out.join(gdpr_ehr::export::MANIFEST_FILE);
    if json_out {
        return print_json(&json!({
            "system": system,
            "directory": out,
            "records": report.manifest.records.len(),
            "files": report.files,
            "bytes": report.bytes,
            "manifest": manifest,
            "complete": report.unreadable.is_empty(),
            "unreadable": report.unreadable,
        }));
    }
    println!(
        "{}: {} records exported in {} files ({} bytes) to {}; manifest {}",
        system.name(),
        report.manifest.records.len(),
        report.files,
        report.bytes,
        out.display(),
        manifest.display()
    );
    if !report.unreadable.is_empty() {
        println!(
            "  incomplete: {} items could not be read",
            report.unreadable.len()
        );
    }
    Ok(())
}

fn show_erasure(
    system: &SystemIdentity,
    report: &ErasureReport,
    json_out: bool,
) -> Result<(), CliError> {
    if json_out {
        return print_json(&json!({
            "system": system,
            "erased": report.erased(),
            "verified": report.is_verified(),
            "left": report.left(),
            "refused": report.refused(),
            "unreadable": report.unreadable(),
            "not_checked": report.not_checked(),
        }));
    }
    let state = if report.is_verified() {
        "complete, verified"
    } else {
        "partial"
    };
    println!(
        "{}: erasure {state}: {} records erased and verified gone, {} left, {} refused",
        system.name(),
        report.erased().len(),
        report.left().len(),
        report.refused().len()
    );
    for left in report.left() {
        let why = left
            .reason
            .as_deref()
            .unwrap_or("still found by verification");
        println!("  left {}: {why}", left.id);
    }
    for refused in report.refused() {
        println!("  refused {}: {}", refused.id, refused.reason);
    }
    for what in report.not_checked() {
        println!("  not checked: {what}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_an_identifier_or_a_logical_id_never_a_bare_value() {
        let id = parse_subject("urn:oid:1.2.3|CANARY-1", "f").unwrap();
        assert_eq!(id.kind_name(), "a FHIR identifier");
        let id = parse_subject("|CANARY-1", "f").unwrap();
        assert_eq!(id.kind_name(), "a FHIR identifier");
        let id = parse_subject("Patient/abc-1.2", "f").unwrap();
        assert_eq!(id.kind_name(), "a FHIR logical id");
        for bad in [
            "CANARY-1",
            "",
            "Patient/",
            "Patient/CANARY 1",
            "urn:x|",
            "|CANARY 1 ",
        ] {
            let e = parse_subject(bad, "the-file").unwrap_err().to_string();
            assert!(e.starts_with("the-file: "), "{bad:?}: {e}");
            assert!(!e.contains("CANARY"), "{bad:?}: {e}");
        }
    }
}
