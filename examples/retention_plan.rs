//! A deletion plan for a small German imaging and records catalog: which
//! records are due for deletion today, which are held, which cannot be
//! decided, and how often each rule applied.
//!
//! ```sh
//! cargo run -p gdpr-examples --example retention_plan
//! ```

use gdpr_core::category::RecordCategory;
use gdpr_core::retention::{Jurisdiction, LegalHold, Planner, RetentionRecord, RulePack};
use jiff::civil::date;

fn main() -> Result<(), gdpr_core::Error> {
    let de: Jurisdiction = "DE".parse()?;
    let pack = RulePack::builtin(&de)?.ok_or(gdpr_core::Error::UnknownName {
        what: "jurisdiction",
        expected: "DE, AT, FR, NL, UK-ENG",
    })?;
    // A user pack may switch a reading: MR and ultrasound counted from the
    // study date instead of the end of the treatment (the rule's id replaces
    // the built-in rule).
    let pack = pack.extended_with_toml(
        r#"
        [[rule]]
        id = "de-imaging-other"
        category = "imaging-examination"
        modalities = ["MR", "US"]
        years = 10
        from = "event_date"
        reading = "the study ends a diagnostic-only referral; alternative: from the end of the treatment"
        source = "§ 630f(3) BGB"
        description = "non-ionising imaging kept as part of the patient record"
        "#,
    )?;

    let imaging = RecordCategory::ImagingExamination;
    let catalog = vec![
        (
            "CT of a child, 2015",
            RetentionRecord::new(imaging)
                .with_modality("CT".parse()?)
                .with_birth_date(date(2010, 5, 1))
                .with_event_date(date(2015, 1, 10))
                // § 85(2) StrlSchG counts from the patient's last
                // examination (Planner::plan_by_subject finds it).
                .with_last_examination(date(2015, 1, 10)),
        ),
        (
            "CT of an adult, 2012",
            RetentionRecord::new(imaging)
                .with_modality("CT".parse()?)
                .with_birth_date(date(1970, 3, 3))
                .with_event_date(date(2012, 6, 1))
                .with_last_examination(date(2012, 6, 1)),
        ),
        (
            "MR, 2013",
            RetentionRecord::new(imaging)
                .with_modality("MR".parse()?)
                .with_event_date(date(2013, 2, 1)),
        ),
        (
            "record closed 2014, in litigation",
            RetentionRecord::new(RecordCategory::PatientRecord)
                .with_treatment_end(date(2014, 9, 30))
                .with_hold(LegalHold::Litigation),
        ),
        (
            "X-ray without birth date",
            RetentionRecord::new(imaging)
                .with_modality("DX".parse()?)
                .with_event_date(date(2009, 1, 1))
                .with_last_examination(date(2009, 1, 1)),
        ),
        (
            "radiotherapy planning CT, 2010",
            RetentionRecord::new(imaging)
                .with_category(RecordCategory::Radiotherapy)
                .with_modality("CT".parse()?)
                .with_birth_date(date(1950, 1, 1))
                .with_event_date(date(2010, 4, 1))
                .with_last_examination(date(2010, 4, 1))
                .with_treatment_end(date(2010, 6, 30)),
        ),
    ];

    let today = date(2026, 1, 1);
    println!("Retention plan under {} on {today}:", pack.jurisdiction());
    let counts = Planner::new(&pack, today).plan_with(catalog, |name, d| {
        let until = d
            .retain_until()
            .map_or_else(|| "-".to_string(), |u| u.to_string());
        let why = match (d.governing(), d.undetermined()) {
            (_, Some(u)) => u.to_string(),
            (Some((rule, clause)), None) => {
                format!("{} ({}, {})", rule.id(), clause.name(), rule.source())
            }
            (None, None) => String::new(),
        };
        let holds: Vec<String> = d
            .holds()
            .iter()
            .map(|h| format!("{h} ({})", h.citation()))
            .collect();
        println!(
            "  {name:<36} {:<13} until {until:<10}  {why} {}",
            d.status().name(),
            holds.join(", ")
        );
    });
    println!(
        "\n{} records: {} retain, {} due, {} review, {} held, {} elimination, {} undetermined",
        counts.total(),
        counts.retain,
        counts.due,
        counts.review,
        counts.held,
        counts.elimination,
        counts.undetermined
    );
    for (rule, c) in pack.rules().iter().zip(&counts.per_rule) {
        println!(
            "  {:<22} applied {:>2}, governing {:>2}, due {:>2}   {}",
            rule.id(),
            c.applied,
            c.governing,
            c.due,
            rule.source()
        );
    }
    Ok(())
}
