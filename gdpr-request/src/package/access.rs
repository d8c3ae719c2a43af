//! What the audit log says about the subject, read with the subject's key:
//! the Art. 15 access report (every operation on the subject's data: when,
//! what, for which purpose, on which basis, by which role in which
//! system) and the disclosures (Art. 15(1)(c), Art. 19) recorded as
//! disclosure events.
//!
//! **Staff identities.** The report names the role of the person or
//! service that acted and the system that recorded it, not the actor's id,
//! unless the controller asks for ids ([`StaffIdentities::Include`]). The
//! CJEU held in C-579/21 (*Pankki S*, 22 June 2023) that the dates and
//! purposes of consultations are information the subject is entitled to
//! under Art. 15(1), while the identity of the employees who consulted the
//! data is not, as a rule, unless it is indispensable for the subject to
//! exercise their rights effectively, weighing the employees' rights.
//!
//! **Recipients in the audit log.** An audit record has no field for a
//! recipient; a disclosure event (action `disclosure`) names its recipient
//! in its free text (sealed under the subject's key, like every personal
//! field) on a line `recipient: <name>`. A disclosure event without such a
//! line is still listed, as "recipient not named in the audit record", so
//! no disclosure is hidden. What was disclosed is told by the record's
//! object kind and purpose, its category of data ([`category_of`]), its
//! time and the system that recorded it, never by the rest of the free
//! text (which may hold patient values).

use gdpr_audit::KeyStore;
use gdpr_audit::action::Action;
use gdpr_audit::object::ObjectKind;
use gdpr_audit::record::Record;
use gdpr_audit::report::{
    AccessEntry, Personal, StaffIdentities, SubjectReport, personal_or_unreadable,
};
use gdpr_audit::store::{Entry, EntrySource};
use gdpr_core::Citation;
use gdpr_core::category::RecordCategory;
use gdpr_core::request::{Disclosure, Recipient};
use gdpr_core::subject::PatientId;

use crate::Error;

/// The prefix of the free-text line that names a disclosure's recipient.
pub const RECIPIENT_PREFIX: &str = "recipient:";
/// The recipient shown for a disclosure event that names none.
pub const UNNAMED_RECIPIENT: &str = "recipient not named in the audit record";

/// The subject's audit records, as far as the subject's key reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectLog {
    /// The Art. 15 report (roles only unless staff ids were asked for).
    pub report: SubjectReport,
    /// The disclosure events, oldest first.
    pub disclosures: Vec<Disclosure>,
}

/// The recipient named in a disclosure event's free text.
fn recipient_of(text: Option<&str>) -> Recipient {
    text.into_iter()
        .flat_map(str::lines)
        .find_map(|l| l.trim().strip_prefix(RECIPIENT_PREFIX))
        .and_then(|name| Recipient::new(name.trim()).ok())
        .unwrap_or_else(|| {
            // Invariant: the constant satisfies Recipient's rule.
            Recipient::new(UNNAMED_RECIPIENT).unwrap_or_else(|_| unreachable!())
        })
}

/// The category of data an audit record's object kind stands for (GDPR
/// Art. 19: what the recipient received); `None` where the kind does not
/// tell (a research data set, a query, the audit log).
pub fn category_of(kind: ObjectKind) -> Option<RecordCategory> {
    match kind {
        ObjectKind::Patient => Some(RecordCategory::Demographics),
        ObjectKind::Study | ObjectKind::Series | ObjectKind::Instance => {
            Some(RecordCategory::ImagingExamination)
        }
        ObjectKind::Document => Some(RecordCategory::ClinicalNote),
        ObjectKind::Observation => Some(RecordCategory::LabResult),
        ObjectKind::Encounter | ObjectKind::Consent => Some(RecordCategory::PatientRecord),
        _ => None,
    }
}

fn disclosure(record: &Record, text: Option<&str>) -> Disclosure {
    let what = match record.object_kind() {
        Some(kind) => format!("{} ({})", kind.name(), record.purpose().name()),
        None => format!("data ({})", record.purpose().name()),
    };
    let mut d = Disclosure::new(
        recipient_of(text),
        jiff::tz::Offset::UTC.to_datetime(record.recorded()).date(),
        what,
    );
    d.category = record.object_kind().and_then(category_of);
    d.at = Some(record.recorded());
    d.source = Some(record.source().as_str().to_owned());
    d
}

fn entry(record: &Record, staff: StaffIdentities) -> AccessEntry {
    AccessEntry::from_record(record, staff)
}

/// Reads the records of `subject` in `source`: those sealed under the
/// subject's key whose subject field, decrypted, is exactly `subject`
/// (another subject's records are never read, a shared key never widens
/// the match). A subject the log does not know (no key) has an empty log;
/// a record whose fields cannot be read is left out (it cannot be told
/// whose it is).
///
/// # Errors
/// [`Error::Audit`] when the log cannot be read or a record does not
/// decode.
pub fn read_subject_log(
    source: &dyn EntrySource,
    keys: &dyn KeyStore,
    subject: &PatientId,
    staff: StaffIdentities,
) -> Result<SubjectLog, Error> {
    let mut entries = Vec::new();
    let mut disclosures = Vec::new();
    if let Some(id) = keys.find(subject) {
        source.entries(&mut |_, e| {
            let Entry::Record(bytes) = e else {
                return Ok(());
            };
            let record = Record::decode(&bytes)?;
            if record.sealed().map(|s| *s.key_id()) != Some(id) {
                return Ok(());
            }
            let Personal::Readable(fields) = personal_or_unreadable(&record, keys) else {
                return Ok(());
            };
            if fields.subject.as_ref() != Some(subject) {
                return Ok(());
            }
            if record.action() == Action::Disclosure {
                disclosures.push(disclosure(
                    &record,
                    fields.text.as_ref().map(|t| t.expose()),
                ));
            }
            entries.push(entry(&record, staff));
            Ok(())
        })?;
    }
    Ok(SubjectLog {
        report: SubjectReport {
            citation: Citation::from_static("GDPR Art. 15(1)(a), (c), (h); CJEU C-579/21"),
            staff_identities: staff == StaffIdentities::Include,
            entries,
        },
        disclosures,
    })
}

/// The host's disclosures and the log's, each listed once, oldest first.
pub fn merge_disclosures(host: &[Disclosure], log: &[Disclosure]) -> Vec<Disclosure> {
    let mut all: Vec<Disclosure> = host.iter().chain(log).cloned().collect();
    all.sort_by(|a, b| (a.on, &a.recipient, &a.what).cmp(&(b.on, &b.recipient, &b.what)));
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recipient_is_the_named_line_or_stated_unnamed() {
        let r = recipient_of(Some("referral\nrecipient: Klinik A \nmore"));
        assert_eq!(r.as_str(), "Klinik A");
        assert_eq!(
            recipient_of(Some("to the tumour board")).as_str(),
            UNNAMED_RECIPIENT
        );
        assert_eq!(recipient_of(None).as_str(), UNNAMED_RECIPIENT);
        assert_eq!(
            recipient_of(Some("recipient:   ")).as_str(),
            UNNAMED_RECIPIENT
        );
    }

    #[test]
    fn merged_disclosures_are_ordered_and_listed_once() {
        let d = |to: &str, day: i8| {
            Disclosure::new(
                Recipient::new(to).unwrap(),
                jiff::civil::date(2026, 1, day),
                "study",
            )
        };
        let all = merge_disclosures(&[d("B", 3), d("A", 1)], &[d("A", 1), d("C", 2)]);
        let names: Vec<_> = all.iter().map(|x| x.recipient.as_str()).collect();
        assert_eq!(names, ["A", "C", "B"]);
    }
}
