//! The subcommands of `gdpr audit` that act on an existing log:
//! checkpoint, export, the Art. 15 report, pruning, relationships and
//! crypto-shredding.

#[allow(clippy::wildcard_imports)]
use super::*;

/// `gdpr audit checkpoint`: writes a signed checkpoint and prints it.
pub(super) fn checkpoint(dir: &Path, key: &Path) -> Result<ExitCode, Failure> {
    let note = open_log(dir, key)?.checkpoint()?;
    print!("{note}");
    Ok(ExitCode::SUCCESS)
}

/// The records `gdpr audit export` selects: one subject's (given as id
/// and issuer), those under a key id, or all.
pub(super) fn selection(
    keys: &dyn KeyStore,
    subject: Option<(String, Option<String>)>,
    key_id: Option<String>,
) -> Result<Selection, Failure> {
    Ok(match (subject, key_id) {
        (Some((s, issuer)), _) => Selection::Key(keys.find(&subject_id(&s, issuer.as_deref())?).ok_or_else(|| {
            bad("no key for this subject: never recorded, or erased (use --key-id from the erasure receipt)")
        })?),
        (None, Some(k)) => Selection::Key(parse_key_id(&k)?),
        (None, None) => Selection::All,
    })
}

impl From<ExportFormat> for Format {
    fn from(format: ExportFormat) -> Self {
        match format {
            ExportFormat::Jsonl => Format::JsonLines,
            ExportFormat::Fhir => Format::Fhir,
            ExportFormat::Dicom => Format::Dicom,
        }
    }
}

/// A log to read and its subjects' keys: a directory (DIR) or a tenant's
/// log on PostgreSQL (`--postgres FILE --kek KEKFILE`).
pub(super) type Readable = (Box<dyn EntrySource>, Box<dyn KeyStore>);

/// `gdpr audit export`: writes the selected records to stdout, the
/// counts to stderr; exit 1 when a record could not be read.
pub(super) fn export_log(
    (source, keys): Readable,
    format: ExportFormat,
    redact: bool,
    subject: Option<(String, Option<String>)>,
    key_id: Option<String>,
) -> Result<ExitCode, Failure> {
    let selection = selection(keys.as_ref(), subject, key_id)?;
    let disclosure = if redact {
        Disclosure::Redact
    } else {
        Disclosure::Full
    };
    let summary = export(
        source.as_ref(),
        keys.as_ref(),
        format.into(),
        disclosure,
        selection,
        &mut out(),
    )?;
    eprintln!(
        "exported {} records ({} with erased personal fields), {} checkpoints",
        summary.records, summary.erased, summary.checkpoints
    );
    if summary.unreadable > 0 {
        eprintln!(
            "PARTIAL: {} records could not be read; each is listed as unreadable in the export, in its place (run gdpr audit verify)",
            summary.unreadable
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `gdpr audit subject-report`: prints the subject's Art. 15 report (the
/// subject's id is checked after the key store is opened, as before).
pub(super) fn report(
    (source, keys): Readable,
    subject: &str,
    issuer: Option<&str>,
    staff: bool,
) -> Result<ExitCode, Failure> {
    let staff = if staff {
        StaffIdentities::Include
    } else {
        StaffIdentities::Withhold
    };
    let report = subject_report(
        source.as_ref(),
        keys.as_ref(),
        &subject_id(subject, issuer)?,
        staff,
    )?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| bad(e.to_string()))?;
    writeln!(out(), "{text}").map_err(|e| bad(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// `gdpr audit prune`: drops the records before the checkpoint of
/// `before` records.
pub(super) fn prune(dir: &Path, key: &Path, before: u64) -> Result<ExitCode, Failure> {
    open_log(dir, key)?.prune_before(before)?;
    println!(
        "pruned the records before position {before}; anchor.json keeps the retained checkpoint"
    );
    Ok(ExitCode::SUCCESS)
}

/// `gdpr audit begin-relationship`: gives an erased subject a new key and
/// prints its id.
pub(super) fn begin_relationship(
    dir: &Path,
    subject: &PatientId,
    key: &Path,
) -> Result<ExitCode, Failure> {
    let key_id = open_log(dir, key)?.begin_relationship(subject)?;
    let line = json!({"key_id": key_id.to_hex()});
    writeln!(out(), "{line}").map_err(|e| bad(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// `gdpr audit erase-subject`: records the erasure, destroys the key
/// (in `log`: a directory's or a tenant's on PostgreSQL).
pub(super) fn erase_subject<S: AuditStore, K: KeyStore>(
    log: &AuditLog<S, K>,
    subject: &PatientId,
    actor: String,
) -> Result<ExitCode, Failure> {
    let actor = Actor {
        id: ActorId::new(actor).map_err(|e| bad(format!("--actor: {e}")))?,
        role: Role::DataProtectionOfficer,
        secrecy: Secrecy::None,
    };
    let event = AuditEvent::builder(
        EventType::PatientRecord,
        Action::Erasure,
        actor,
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new("gdpr-cli")?,
    )
    .subject(subject.clone())
    .build(jiff::Timestamp::now());
    let (receipt, key_id) = log.erase_subject(&event)?;
    let line = json!({
        "erased": true,
        "citation": "GDPR Art. 17(1)",
        "erasure_record": receipt.position,
        "key_id": key_id.to_hex(),
    });
    writeln!(out(), "{line}").map_err(|e| bad(e.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn parse_key_id(text: &str) -> Result<KeyId, Failure> {
    KeyId::from_hex(text).map_err(|_| bad("--key-id: 32 hex digits expected"))
}
