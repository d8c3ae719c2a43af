//! Assessing an erasure request record by record: the retention rules and
//! holds of the pack, the controller's findings (Art. 17(3) exemptions,
//! § 35 BDSG, Art. 7:455 BW), then [`decide_erasure`]. Every record found
//! is listed exactly once; a missing fact never leads to erasure.

use std::collections::HashSet;

use jiff::civil::Date;

use crate::Citation;
use crate::erasure::{ErasureGround, ErasureOutcome, Obstacle, decide_erasure};
use crate::request::assessment::{
    ASSESSMENT_FORMAT_VERSION, Assessment, Reason, ReasonCode, RecordAssessment, RecordOutcome,
};
use crate::request::error::RequestError;
use crate::request::findings::Findings;
use crate::request::follow::Follow;
use crate::request::subjects::SystemName;
use crate::retention::{
    Decision, Follower, HoldSet, PurposeSet, Refusal, RequestOutcome, RetentionRecord, RulePack,
    Status,
};
use crate::store::RecordHandle;

/// One record found on one system, with the legal holds on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRecord {
    /// The configured system that holds it.
    pub system: SystemName,
    /// The record.
    pub handle: RecordHandle,
    /// The legal holds on it (Art. 17(3)(b)–(e)).
    pub holds: HoldSet,
    /// The subject's date of birth, where the controller knows it from its
    /// own register (rules that count from it — minors, § 85(2) StrlSchG —
    /// are otherwise left to a person's decision).
    pub birth_date: Option<Date>,
}

impl FoundRecord {
    /// A record without holds.
    pub fn new(system: SystemName, handle: RecordHandle) -> Self {
        Self {
            system,
            handle,
            holds: HoldSet::EMPTY,
            birth_date: None,
        }
    }
}

/// Assesses an erasure request on `ground` for every record in `records`,
/// under `pack` on the day `on`, with the controller's `findings`.
///
/// # Errors
/// [`RequestError::DuplicateRecord`] when a record is given twice.
pub fn assess_erasure(
    ground: ErasureGround,
    records: &[FoundRecord],
    pack: &RulePack,
    findings: &Findings,
    on: Date,
) -> Result<Assessment, RequestError> {
    // Every record is the one subject's: rules that count from the last
    // examination (§ 85(2) StrlSchG) see the latest over all of them.
    let mut latest = crate::retention::LatestExaminations::new();
    for found in records {
        for r in found.handle.retention_records() {
            latest.observe((), &r);
        }
    }
    let mut seen = HashSet::new();
    let mut out: Vec<Option<RecordAssessment>> = Vec::with_capacity(records.len());
    for found in records {
        if !seen.insert((&found.system, found.handle.id())) {
            return Err(RequestError::DuplicateRecord {
                system: found.system.to_string(),
                record: found.handle.id().to_string(),
            });
        }
        // Records that follow the others (master data) wait for them.
        let follows = pack.follower(found.handle.category()).is_some();
        out.push(
            (!follows).then(|| assess_record(ground, found, (pack, &latest), findings, on, None)),
        );
    }
    let first: Vec<RecordAssessment> = out.iter().flatten().cloned().collect();
    let records = records
        .iter()
        .zip(out)
        .map(|(found, done)| {
            done.unwrap_or_else(|| {
                let follower = pack.follower(found.handle.category());
                let follows = follower.map(|f| {
                    (
                        f,
                        Follow::of(first.iter().filter(|r| r.system == found.system)),
                    )
                });
                assess_record(ground, found, (pack, &latest), findings, on, follows)
            })
        })
        .collect();
    Ok(Assessment {
        version: ASSESSMENT_FORMAT_VERSION,
        ground,
        on,
        jurisdiction: pack.jurisdiction().to_string(),
        records,
    })
}

/// What the rules and findings say about one record, before the decision.
#[derive(Default)]
pub(super) struct Collected {
    reasons: Vec<Reason>,
    obstacles: Vec<Obstacle>,
    pub(super) keep: PurposeSet,
    pub(super) manual: bool,
    pub(super) restrict: bool,
}

impl Collected {
    pub(super) fn reason(
        &mut self,
        code: ReasonCode,
        citation: Citation,
        applied: bool,
        message: String,
    ) {
        self.reasons.push(Reason {
            code,
            citation,
            applied,
            message,
        });
    }

    fn statute(&mut self, source: Citation, purposes: PurposeSet) {
        self.obstacles.push(Obstacle::StatutoryRetention { source });
        self.keep = self.keep.union(purposes);
    }
}

fn assess_record(
    ground: ErasureGround,
    found: &FoundRecord,
    (pack, latest): (&RulePack, &crate::retention::LatestExaminations<()>),
    findings: &Findings,
    on: Date,
    follows: Option<(&Follower, Follow)>,
) -> RecordAssessment {
    let mut c = Collected::default();
    for record in found.handle.retention_records() {
        let mut record = latest.complete(&(), record).with_holds(found.holds);
        if let Some(born) = found.birth_date {
            record = record.with_date(crate::retention::Fact::BirthDate, born);
        }
        retention(&mut c, pack, &record, findings, on, follows.is_some());
    }
    established(&mut c, found, findings);
    if let Some((rule, follow)) = follows {
        follow.apply(&mut c, rule);
    }
    let decision = decide_erasure(ground, &c.obstacles);
    for r in decision.reasons {
        let code = if r.citation.as_str().starts_with("§ 35") {
            ReasonCode::RestrictInstead
        } else if r.citation.as_str() == "GDPR Art. 17(3)(b)" {
            ReasonCode::StatutoryRetention
        } else {
            ReasonCode::ErasureGround
        };
        c.reason(code, r.citation, r.applied, r.message);
    }
    let outcome = if !c.keep.is_empty() {
        // What keeps it decides: the ground's "erase" and an open rule
        // question did not shape the outcome (the question returns when
        // what keeps it ends).
        for r in c
            .reasons
            .iter_mut()
            .filter(|r| matches!(r.code, ReasonCode::ErasureGround | ReasonCode::Undetermined))
        {
            r.applied = false;
        }
        let purposes: Vec<_> = c.keep.iter().collect();
        let names: Vec<_> = purposes.iter().map(|p| p.name()).collect();
        c.reason(
            ReasonCode::RestrictedToPurposes,
            Citation::from_static("GDPR Art. 5(1)(b), Art. 18(2)"),
            true,
            format!(
                "kept only for: {}; any other processing is refused (a reading: a record kept \
                 under Art. 17(3) is restricted to the purpose that keeps it)",
                names.join(", ")
            ),
        );
        RecordOutcome::Keep { purposes }
    } else if decision.outcome == ErasureOutcome::RestrictInstead || c.restrict {
        for r in c
            .reasons
            .iter_mut()
            .filter(|r| r.code == ReasonCode::ErasureGround)
        {
            r.applied = false;
        }
        RecordOutcome::RestrictInstead
    } else if c.manual {
        for r in c
            .reasons
            .iter_mut()
            .filter(|r| r.code == ReasonCode::ErasureGround)
        {
            r.applied = false;
        }
        RecordOutcome::DecideManually
    } else {
        RecordOutcome::Erase
    };
    let mut seen = HashSet::new();
    c.reasons
        .retain(|r| seen.insert((r.code, r.citation.clone(), r.message.clone())));
    c.reasons.sort_by_key(|r| !r.applied);
    RecordAssessment {
        system: found.system.clone(),
        record: found.handle.id().clone(),
        category: found.handle.category(),
        outcome,
        inform_subject: decision.inform_subject,
        reasons: c.reasons,
    }
}

/// The retention decision for one set of facts of the record.
fn retention(
    c: &mut Collected,
    pack: &RulePack,
    record: &RetentionRecord,
    findings: &Findings,
    on: Date,
    follows: bool,
) {
    let d = pack.decide(record, on);
    let law = pack.data_protection_law();
    for hold in d.holds().iter() {
        let purpose = crate::request::hold_purpose(hold);
        c.keep.insert(purpose);
        c.reason(
            ReasonCode::LegalHold,
            hold.citation_under(law),
            true,
            format!(
                "legal hold `{hold}` keeps the record for {}",
                purpose.name()
            ),
        );
    }
    match d.status() {
        // A hold keeps the record whatever else holds; a statute still
        // running beside it is named too, with its purposes.
        Status::Held if d.retain_until().is_some_and(|until| on <= until) => {
            retained(c, pack, record, &d, findings);
        }
        Status::Held => {}
        Status::Retain => retained(c, pack, record, &d, findings),
        Status::Due | Status::Review => {
            if let Some((rule, _)) = d.governing() {
                c.reason(
                    ReasonCode::RetentionEnded,
                    rule.source().clone(),
                    false,
                    format!(
                        "the retention period of rule {} has ended: it does not keep the record",
                        rule.id()
                    ),
                );
            }
        }
        Status::EliminationProcedure => {
            c.manual = true;
            let source = d
                .governing()
                .map_or_else(|| law.clone(), |(r, _)| r.source().clone());
            c.reason(
                ReasonCode::EliminationProcedure,
                source,
                true,
                "the period has ended, and an elimination procedure must precede destruction: \
                 decide manually"
                    .into(),
            );
        }
        // A record that follows the others has no rule of its own: what
        // the others came to decides it.
        Status::Undetermined
            if follows && d.undetermined() == Some(crate::retention::Undetermined::NoRule) => {}
        _ => {
            c.manual = true;
            let why = d
                .undetermined()
                .map_or_else(|| "no decision".to_owned(), |u| u.to_string());
            c.reason(
                ReasonCode::Undetermined,
                Citation::from_static("GDPR Art. 17(3)(b)"),
                true,
                format!(
                    "whether a statute keeps the record cannot be decided ({why}); decide \
                     manually, nothing is erased meanwhile"
                ),
            );
        }
    }
}

/// A period still runs: a statute keeps the record, unless a Dutch
/// destruction request makes the period yield (Art. 7:455 BW).
fn retained(
    c: &mut Collected,
    pack: &RulePack,
    record: &RetentionRecord,
    d: &Decision<'_>,
    findings: &Findings,
) {
    let Some((rule, _)) = d.governing() else {
        return;
    };
    let Some(request) = findings.destruction_request() else {
        return c.statute(rule.source().clone(), d.keeps_for());
    };
    let source = Citation::from_static("Art. 7:455(1), (2) BW");
    match pack.decide_destruction_request(record, request) {
        RequestOutcome::Destroy { source, .. } => c.reason(
            ReasonCode::DestructionRequest,
            source,
            true,
            "the patient asked to destroy the file: the periods that yield to such a request \
             do not keep it; destroy within three months of the request"
                .into(),
        ),
        RequestOutcome::Refuse(Refusal::RuleForbids(other)) => {
            c.reason(
                ReasonCode::DestructionRequest,
                source,
                false,
                format!(
                    "rule {} does not yield to a destruction request",
                    other.id()
                ),
            );
            c.statute(other.source().clone(), other.keeps_for());
        }
        RequestOutcome::Refuse(Refusal::StatuteForbids(statute)) => {
            c.statute(statute, PurposeSet::DUTY_ONLY);
        }
        RequestOutcome::Refuse(Refusal::OtherPersonsInterest) => {
            c.statute(Citation::from_static("Art. 7:455(2) BW"), d.keeps_for());
        }
        _ => c.statute(rule.source().clone(), d.keeps_for()),
    }
}

/// The exemptions and obstacles the controller established for the record.
fn established(c: &mut Collected, found: &FoundRecord, findings: &Findings) {
    let id = found.handle.id();
    for exemption in findings.exemptions_for(&found.system, id) {
        let purpose = exemption.keeps_for();
        match exemption.source() {
            Some(source) if purpose == crate::purpose::Purpose::LegalObligation => {
                c.statute(source.clone(), PurposeSet::DUTY_ONLY);
            }
            source => {
                c.keep.insert(purpose);
                let by = source.map_or_else(String::new, |s| format!(" ({s})"));
                c.reason(
                    ReasonCode::Exemption,
                    exemption.citation(),
                    true,
                    format!(
                        "the controller established this exemption{by}: kept for {}",
                        purpose.name()
                    ),
                );
            }
        }
    }
    for obstacle in findings.obstacles_for(&found.system, id) {
        if matches!(obstacle, Obstacle::StatutoryRetention { .. }) {
            c.keep = c.keep.union(PurposeSet::DUTY_ONLY);
        }
        c.obstacles.push(obstacle.clone());
    }
}
