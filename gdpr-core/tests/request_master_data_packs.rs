//! The patient's master data (category `demographics`, the FHIR Patient
//! resource) under the follows rule of the AT, FR, NL and UK-ENG packs, as
//! under DE's (`request_master_data.rs`): each a reading of the source the
//! pack already cites for the medical record; the Patient kept while
//! another record of the subject on the same system is kept, for what
//! keeps it; erased once every other record there is erased or due, or
//! when it is the only one; another system's records do not count.

use gdpr_core::category::RecordCategory;
use gdpr_core::erasure::ErasureGround;
use gdpr_core::purpose::Purpose;
use gdpr_core::request::{
    Findings, FoundRecord, ReasonCode, RecordAssessment, RecordOutcome, SystemName, assess_erasure,
};
use gdpr_core::retention::{Fact, HoldSet, Jurisdiction, LegalHold, RulePack};
use gdpr_core::store::{FhirId, RecordHandle, ResourceHandle, ResourceType};
use jiff::civil::{Date, date};

const ON: Date = date(2026, 3, 1);
const BORN: Date = date(1960, 5, 4);
/// Every kept patient record's purposes, in the packs' order.
const RECORD_PURPOSES: [Purpose; 4] = [
    Purpose::Diagnosis,
    Purpose::Treatment,
    Purpose::LegalClaims,
    Purpose::LegalObligation,
];

/// A pack, its follows rule's id and source, and the fact its patient
/// record counts from (none: AT, whose records need a setting that a FHIR
/// resource does not carry, so they are left to a person).
struct Case {
    pack: &'static str,
    rule: &'static str,
    source: &'static str,
    fact: Option<Fact>,
    /// Whether a due record waits for a person (AT: no setting; FR: the
    /// elimination procedure, Art. R1112-7 CSP) rather than being erased.
    due_waits: bool,
}

const CASES: [Case; 4] = [
    Case {
        pack: "AT",
        rule: "at-master-data",
        source: "§ 10(1) Z 3 KAKuG; § 51(3) ÄrzteG",
        fact: None,
        due_waits: true,
    },
    Case {
        pack: "FR",
        rule: "fr-master-data",
        source: "Art. R1112-7 CSP",
        fact: Some(Fact::LastVisit),
        due_waits: true,
    },
    Case {
        pack: "NL",
        rule: "nl-master-data",
        source: "Art. 7:454(3) BW",
        fact: Some(Fact::LastChange),
        due_waits: false,
    },
    Case {
        pack: "UK-ENG",
        rule: "uk-eng-master-data",
        source: "Records Management Code of Practice 2021 (updated 2023), Appendix II: adult \
                 health records; children's records; UK GDPR Art. 5(1)(e)",
        fact: Some(Fact::TreatmentEnd),
        due_waits: false,
    },
];

fn pack(c: &Case) -> RulePack {
    RulePack::builtin(&c.pack.parse::<Jurisdiction>().unwrap())
        .unwrap()
        .unwrap()
}

fn on(
    system: &str,
    kind: &str,
    id: &str,
    category: RecordCategory,
    fact: Option<(Fact, Date)>,
) -> FoundRecord {
    let mut handle = ResourceHandle::new(
        ResourceType::new(kind).unwrap(),
        FhirId::new(id).unwrap(),
        category,
    );
    if let Some((fact, day)) = fact {
        handle = handle.with_date(fact, day);
    }
    let mut r = FoundRecord::new(
        SystemName::new(system).unwrap(),
        RecordHandle::Resource(handle),
    );
    r.birth_date = Some(BORN);
    r
}

fn patient(system: &str) -> FoundRecord {
    on(system, "Patient", "p1", RecordCategory::Demographics, None)
}

/// An Encounter of the patient record dated `day` by the pack's fact.
fn encounter(c: &Case, system: &str, id: &str, day: Date) -> FoundRecord {
    on(
        system,
        "Encounter",
        id,
        RecordCategory::PatientRecord,
        c.fact.map(|f| (f, day)),
    )
}

/// Due under every pack (2000: past 8 and 20 years, past the 28th birthday).
fn due(c: &Case, system: &str) -> FoundRecord {
    encounter(c, system, "old", date(2000, 1, 10))
}

/// Kept: running (2024) where the pack decides, else held for litigation.
fn kept(c: &Case, system: &str) -> FoundRecord {
    let mut r = encounter(c, system, "new", date(2024, 1, 10));
    if c.fact.is_none() {
        r.holds = HoldSet::EMPTY.with(LegalHold::Litigation);
    }
    r
}

fn assess(c: &Case, records: &[FoundRecord]) -> Vec<RecordAssessment> {
    assess_erasure(
        ErasureGround::ConsentWithdrawn,
        records,
        &pack(c),
        &Findings::none(),
        ON,
    )
    .unwrap()
    .records
}

fn the_patient(all: &[RecordAssessment]) -> &RecordAssessment {
    all.iter()
        .find(|r| r.record.as_str().contains("p1"))
        .unwrap()
}

#[test]
fn each_pack_has_the_master_data_rule_as_a_reading_of_its_record_source() {
    for c in &CASES {
        let pack = pack(c);
        let f = pack
            .follower(RecordCategory::Demographics)
            .unwrap_or_else(|| panic!("{}: no follows rule", c.pack));
        assert_eq!(f.id(), c.rule);
        assert_eq!(f.source().as_str(), c.source, "{}", c.pack);
        assert!(f.reading().is_some_and(|r| r.contains("Alternative")));
        // The source is the one the pack cites for the medical record.
        let record_sources: Vec<String> = pack
            .rules()
            .iter()
            .filter(|r| r.category() == RecordCategory::PatientRecord)
            .map(|r| r.source().as_str().to_owned())
            .collect();
        assert!(
            record_sources.iter().any(|s| c.source.contains(s.as_str())),
            "{}: {record_sources:?}",
            c.pack
        );
    }
}

#[test]
fn the_patient_is_kept_while_another_record_there_is_kept() {
    for c in &CASES {
        let all = assess(c, &[patient("ehr"), due(c, "ehr"), kept(c, "ehr")]);
        let p = the_patient(&all);
        let expected = if c.fact.is_some() {
            RECORD_PURPOSES.to_vec()
        } else {
            vec![Purpose::LegalClaims]
        };
        assert_eq!(
            p.outcome,
            RecordOutcome::Keep { purposes: expected },
            "{}: {:?}",
            c.pack,
            p.reasons
        );
        let follows = p
            .reasons
            .iter()
            .find(|x| x.code == ReasonCode::FollowsRecords)
            .unwrap_or_else(|| panic!("{}: the follows rule is named", c.pack));
        assert!(follows.applied);
        assert_eq!(follows.citation.as_str(), c.source);
        assert!(
            follows.message.contains(c.rule) && follows.message.contains("a reading"),
            "{}",
            follows.message
        );
    }
}

#[test]
fn the_patient_is_erased_once_nothing_else_there_is_kept() {
    for c in &CASES {
        for records in [
            vec![patient("ehr"), due(c, "ehr")],
            vec![patient("ehr")],
            vec![patient("ehr"), due(c, "ehr"), kept(c, "other")],
        ] {
            let alone = records.len() == 1;
            let all = assess(c, &records);
            let p = the_patient(&all);
            // A due record that waits for a person (AT: no setting; FR:
            // the elimination procedure) keeps the Patient with it; alone,
            // the Patient goes.
            let expected = if c.due_waits && !alone {
                RecordOutcome::DecideManually
            } else {
                RecordOutcome::Erase
            };
            assert_eq!(p.outcome, expected, "{}: {:?}", c.pack, p.reasons);
        }
    }
}
