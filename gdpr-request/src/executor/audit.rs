//! The request's own audit records: one per stage transition, and the
//! erasure event that crypto-shreds the subject's key.

use gdpr_audit::action::{Action, EventType};
use gdpr_audit::label::{CorrelationId, SourceSystem};
use gdpr_audit::object::{FreeText, ObjectId, ObjectKind, ObjectRef};
use gdpr_audit::{AuditEvent, Receipt};
use gdpr_core::actor::Actor;
use gdpr_core::basis::{Art6Basis, LawfulBasis};
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{DataSubjectRequest, Event, RequestId, Scope};
use gdpr_core::subject::PatientId;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::audit_log::RequestLog;
use crate::findings::CertifiedFinding;

/// The source system of the request's own events.
pub const SOURCE: &str = "gdpr-request";

/// An audit record the request wrote: what, where, and its leaf hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct AuditRecord {
    /// The stage event's stable name, or `subject-key-shredded`.
    pub event: String,
    /// The record's position in the log.
    pub position: u64,
    /// Its RFC 9162 leaf hash, hex.
    pub leaf_hash: String,
}

impl AuditRecord {
    fn new(event: &str, r: Receipt) -> Self {
        Self {
            event: event.to_owned(),
            position: r.position,
            leaf_hash: gdpr_audit::hex::encode(&r.leaf_hash),
        }
    }
}

pub(crate) fn correlation(id: &RequestId) -> Result<CorrelationId, Error> {
    Ok(CorrelationId::new(id.as_str())?)
}

fn event(
    request: &DataSubjectRequest,
    action: Action,
    actor: &Actor,
    subject: &PatientId,
    text: String,
    at: Timestamp,
) -> Result<AuditEvent, Error> {
    Ok(AuditEvent::builder(
        EventType::PatientRecord,
        action,
        actor.clone(),
        Purpose::DataSubjectRequest,
        LawfulBasis::Ordinary {
            art6: Art6Basis::LegalObligation,
        },
        SourceSystem::new(SOURCE)?,
    )
    .subject(subject.clone())
    .object(ObjectRef::new(
        ObjectKind::Document,
        ObjectId::new(request.id().as_str())?,
    ))
    .correlation_id(correlation(request.id())?)
    .text(FreeText::new(text)?)
    .build(at))
}

/// The findings of an assessment as the `assessed` record names them:
/// each ground with its citation and the kind of its scope (`subject`,
/// `system`, `record`), in the file's order — no finding id, system,
/// record or reason.
fn findings_line(findings: &[CertifiedFinding]) -> String {
    let each: Vec<String> = findings
        .iter()
        .map(|f| {
            let scope = match &f.scope {
                Scope::Subject => "subject",
                Scope::System { .. } => "system",
                Scope::Record { .. } => "record",
                _ => "other",
            };
            format!("{} ({}) for a {scope}", f.ground, f.citation)
        })
        .collect();
    format!("\nfindings: {}", each.join("; "))
}

/// Records a stage transition (durable when it returns). The `assessed`
/// record also names the controller's `findings` (ground, citation, scope
/// kind), if any.
pub(crate) fn transition(
    log: &dyn RequestLog,
    request: &DataSubjectRequest,
    (step, findings): (&Event, &[CertifiedFinding]),
    actor: &Actor,
    subject: &PatientId,
    at: Timestamp,
) -> Result<AuditRecord, Error> {
    let mut text = format!(
        "data-subject request ({}): {}",
        request.kind().citation(),
        step.name()
    );
    if let Event::Refused { refusal } = step {
        // The reasons as their provisions, and the remedies told (Art. 12(4)).
        let grounds: Vec<String> = refusal
            .grounds()
            .iter()
            .map(|g| format!("{} ({})", g.name(), g.citation()))
            .collect();
        let r = refusal.remedies();
        text.push_str(&format!(
            "\ngrounds: {}\nremedies told under {}: complaint ({}), judicial remedy ({})",
            grounds.join("; "),
            r.told_under,
            r.complaint,
            r.judicial
        ));
    }
    if *step == Event::Assessed && !findings.is_empty() {
        text.push_str(&findings_line(findings));
    }
    if let Event::Extended { extension } = step {
        // The grounds as their provision, and when the subject was told.
        let grounds: Vec<String> = extension
            .grounds()
            .iter()
            .map(|g| format!("{} ({})", g.name(), g.citation()))
            .collect();
        text.push_str(&format!(
            "\nextended by {} month(s) on grounds: {}; told to the subject at {}",
            extension.months(),
            grounds.join("; "),
            extension.told_at()
        ));
    }
    let e = event(request, Action::Execute, actor, subject, text, at)?;
    Ok(AuditRecord::new(step.name(), log.record(&e)?))
}

/// The request's stage record dated `at`, if the log holds one at or
/// after `from` (written by a run that died before the journal recorded
/// it). A stage record is recognised by its clear fields: source
/// [`SOURCE`], the request's correlation id, action `execute`, and its
/// `recorded` time, which is the transition's own time in the request's
/// history (strictly increasing, so it names one step).
pub(crate) fn find_transition(
    log: &dyn RequestLog,
    request: &RequestId,
    event: &str,
    at: Timestamp,
    from: u64,
) -> Result<Option<AuditRecord>, Error> {
    find_record(log, request, event, Action::Execute, at, from)
}

/// As [`find_transition`], for a record of the request with `action`
/// (grounds recorded on an objection are an `update`).
pub(crate) fn find_record(
    log: &dyn RequestLog,
    request: &RequestId,
    event: &str,
    action: Action,
    at: Timestamp,
    from: u64,
) -> Result<Option<AuditRecord>, Error> {
    use gdpr_audit::store::{Entry, EntrySource};
    let correlation = correlation(request)?;
    let mut found = None;
    log.read(&mut |store, _| {
        EntrySource::entries(store, &mut |_, entry| {
            let Entry::Record(bytes) = entry else {
                return Ok(());
            };
            // The position is the encoding's bytes 1..9 (record.rs): records
            // before `from` are not decoded.
            let position = bytes
                .get(1..9)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(u64::MAX, u64::from_be_bytes);
            if position < from {
                return Ok(());
            }
            let r = gdpr_audit::record::Record::decode(&bytes)?;
            if r.position() >= from
                && r.recorded() == at
                && r.action() == action
                && r.source().as_str() == SOURCE
                && r.correlation_id() == Some(&correlation)
            {
                found = Some(Receipt {
                    position: r.position(),
                    leaf_hash: gdpr_audit::merkle::leaf_hash(&bytes),
                });
            }
            Ok(())
        })
        .map(|_| ())
        .map_err(Error::from)
    })?;
    Ok(found.map(|r| AuditRecord::new(event, r)))
}

/// The event name of the record of grounds recorded on an objection.
pub const GROUNDS_RECORDED: &str = "objection-grounds-recorded";

/// Records the controller's grounds on the request's objection (GDPR
/// Art. 21(1)): an `update` record dated `grounds.recorded_at`, naming the
/// ground, its citation and the purposes covered (the reason, sealed in
/// the request directory, is never in the log).
pub(crate) fn grounds_recorded(
    log: &dyn RequestLog,
    request: &DataSubjectRequest,
    actor: &Actor,
    subject: &PatientId,
    grounds: &crate::grounds::RecordedGrounds,
) -> Result<AuditRecord, Error> {
    let purposes = serde_json::to_string(&grounds.purposes).map_err(Error::format("purposes"))?;
    let text = format!(
        "data-subject request ({}): {} ({}) recorded on the objection; purposes: {}",
        request.kind().citation(),
        grounds.ground,
        grounds.citation,
        if grounds.purposes.is_empty() {
            "every purpose objected to".to_owned()
        } else {
            purposes
        }
    );
    let e = event(
        request,
        Action::Update,
        actor,
        subject,
        text,
        grounds.recorded_at,
    )?;
    Ok(AuditRecord::new(GROUNDS_RECORDED, log.record(&e)?))
}

/// Crypto-shreds the subject's key: an erasure event, a checkpoint, then the
/// key replaced by a tombstone ([`gdpr_audit::AuditLog::erase_subject`]).
pub(crate) fn shred(
    log: &dyn RequestLog,
    request: &DataSubjectRequest,
    actor: &Actor,
    subject: &PatientId,
    at: Timestamp,
) -> Result<Option<AuditRecord>, Error> {
    let text = "data-subject request (GDPR Art. 17(1)): personal fields of the audit log erased"
        .to_owned();
    let e = event(request, Action::Erasure, actor, subject, text, at)?;
    match log.erase_subject(&e) {
        Ok((receipt, _key)) => Ok(Some(AuditRecord::new(SHREDDED, receipt))),
        // Shredded by a run that died before journaling it: nothing to do.
        Err(gdpr_audit::Error::UnknownSubject | gdpr_audit::Error::SubjectErased) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The event name of the shredding record.
pub const SHREDDED: &str = "subject-key-shredded";
