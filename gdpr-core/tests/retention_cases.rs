//! Legal cases of the German packs (federal `DE`, Land variant `DE-HH`) and
//! of `AT`, as a table. The arithmetic behind each expected date is written
//! next to the case. FR, NL, UK-ENG and cases across packs:
//! `retention_cases_west.rs`.

mod retention_support;

use gdpr_core::retention::{Clause, Status, parse_record_line};
use retention_support::{Case, case, day, pack, run};

use Clause::{Minors, Period};
use Status::{Due, Held, Review};

const DE_PR: &[&str] = &["de-patient-record"];
const DE_IMG: &[&str] = &["de-imaging-ionising"];

#[rustfmt::skip]
fn de_cases() -> Vec<Case> {
    vec![
        // --- § 630f(3) BGB, §§ 187-188 BGB ---------------------------------
        // 2015-01-10 + 10 y = 2025-01-10, the last day kept.
        case("DE record: 10 y after treatment end, last day inclusive", "DE",
             r#"{"id":"1","category":"patient-record","treatment_end":"2015-01-10"}"#)
            .at("2025-01-10").until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE record: due the day after", "DE",
             r#"{"id":"2","category":"patient-record","treatment_end":"2015-01-10"}"#)
            .at("2025-01-11").status(Due).until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        // 2016-02-29 + 10 y = 2026-02-29, which does not exist: § 188(3) → 28 Feb.
        case("DE record: 29 Feb start ends 28 Feb (§ 188(3) BGB)", "DE",
             r#"{"id":"3","category":"patient-record","treatment_end":"2016-02-29"}"#)
            .at("2026-03-01").status(Due).until("2026-02-28", "de-patient-record", Period).rules(DE_PR),
        case("DE record: no treatment end is undetermined", "DE",
             r#"{"id":"4","category":"patient-record","event_date":"2015-01-10"}"#)
            .undetermined("needs treatment_end"),
        // --- § 85(2) S. 1 Nr. 2, 3 StrlSchG: from the LAST examination --------
        // last examination 2015-01-10 + 10 y = 2025-01-10; adult (35 at the study).
        case("DE CT adult: 10 y after the last examination", "DE",
             r#"{"id":"5","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2015-01-10","last_examination":"2015-01-10"}"#)
            .status(Due).until("2025-01-10", "de-imaging-ionising", Period).rules(DE_IMG),
        // study 2012-03-01, but the patient's last examination 2019-06-30:
        // 2019-06-30 + 10 y = 2029-06-30 (per study it would be 2022-03-01).
        case("DE CT of 2012, last examination 2019: kept to 2029", "DE",
             r#"{"id":"5b","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2012-03-01","last_examination":"2019-06-30"}"#)
            .until("2029-06-30", "de-imaging-ionising", Period).rules(DE_IMG),
        case("DE CT without the last examination: group by subject first", "DE",
             r#"{"id":"5c","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .undetermined("needs last_examination"),
        // born 2000-05-01, 7 at the CT: the 28th year of life ends the day
        // before the 28th birthday 2028-05-01 = 2028-04-30 > 2008-03-01 + 10 y.
        case("DE CT child of 7: until completing the 28th year of life", "DE",
             r#"{"id":"6","category":"imaging-examination","modality":"CT","birth_date":"2000-05-01","event_date":"2008-03-01","last_examination":"2008-03-01"}"#)
            .until("2028-04-30", "de-imaging-ionising", Minors).rules(DE_IMG),
        // 17 y 364 d: minor → 2028-04-30; 2018-04-30 + 10 y = 2028-04-30 too:
        // the period, computed first, keeps the lead on a tie.
        case("DE X-ray at 17 y 364 d: minor; both ends fall on the same day", "DE",
             r#"{"id":"7","category":"imaging-examination","modality":"DX","birth_date":"2000-05-01","event_date":"2018-04-30","last_examination":"2018-04-30"}"#)
            .until("2028-04-30", "de-imaging-ionising", Period).rules(DE_IMG),
        // 18 from the start of the 18th birthday: adult, 2018-05-01 + 10 y.
        case("DE X-ray on the 18th birthday: adult, 10 y", "DE",
             r#"{"id":"8","category":"imaging-examination","modality":"DX","birth_date":"2000-05-01","event_date":"2018-05-01","last_examination":"2018-05-01"}"#)
            .until("2028-05-01", "de-imaging-ionising", Period).rules(DE_IMG),
        // born 2004-02-29: 28th birthday 2032-02-29 (leap) → year ends 2032-02-28.
        case("DE NM child born 29 Feb: 28th year ends 28 Feb 2032", "DE",
             r#"{"id":"9","category":"imaging-examination","modality":"NM","birth_date":"2004-02-29","event_date":"2010-01-01","last_examination":"2010-01-01"}"#)
            .until("2032-02-28", "de-imaging-ionising", Minors).rules(DE_IMG),
        // born 2072-02-29: 2100 is a common year (not divisible by 400), so
        // the 28th year of life ends at the end of 28 Feb 2100 (§ 188(3) BGB),
        // not 27 Feb; 2080-01-01 + 10 y = 2090-01-01 is earlier.
        case("DE CT child born 29 Feb 2072: 28th year ends 28 Feb 2100 (common year)", "DE",
             r#"{"id":"9b","category":"imaging-examination","modality":"CT","birth_date":"2072-02-29","event_date":"2080-01-01","last_examination":"2080-01-01"}"#)
            .until("2100-02-28", "de-imaging-ionising", Minors).rules(DE_IMG),
        case("DE CT without birth date: minors rule undecidable", "DE",
             r#"{"id":"10","category":"imaging-examination","modality":"CT","event_date":"2015-01-10","last_examination":"2015-01-10"}"#)
            .undetermined("needs birth_date"),
        case("DE imaging without modality: undetermined", "DE",
             r#"{"id":"11","category":"imaging-examination","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .undetermined("needs modality"),
        // MR is classified now (§ 630f(3) BGB), and needs the treatment end.
        case("DE MR without treatment end: classified, the fact is named", "DE",
             r#"{"id":"12","category":"imaging-examination","modality":"MR","birth_date":"1980-01-01","event_date":"2015-01-10"}"#)
            .undetermined("de-imaging-other (§ 630f(3) BGB) needs treatment_end"),
        // 2015-01-20 + 10 y = 2025-01-20.
        case("DE MR: 10 y after the end of the treatment", "DE",
             r#"{"id":"12b","category":"imaging-examination","modality":"MR","event_date":"2015-01-10","treatment_end":"2015-01-20"}"#)
            .status(Due).until("2025-01-20", "de-imaging-other", Period).rules(&["de-imaging-other"]),
        // Retired SPECT code ST is nuclear medicine: 2017-07-07 + 10 y.
        case("DE retired modality ST (SPECT) classifies as ionising", "DE",
             r#"{"id":"12c","category":"imaging-examination","modality":"ST","birth_date":"1950-01-01","event_date":"1995-07-07","last_examination":"2017-07-07"}"#)
            .until("2027-07-07", "de-imaging-ionising", Period).rules(DE_IMG),
        // Retired MR-angiography code MA: 2016-02-29 + 10 y → 2026-02-28.
        case("DE retired modality MA classifies as non-ionising", "DE",
             r#"{"id":"12d","category":"imaging-examination","modality":"MA","treatment_end":"2016-02-29"}"#)
            .until("2026-02-28", "de-imaging-other", Period).rules(&["de-imaging-other"]),
        // A radiation dose SR follows its examination: 2020-10-10 + 10 y.
        case("DE dose report (SR) classifies", "DE",
             r#"{"id":"12e","category":"imaging-examination","modality":"SR","birth_date":"1950-01-01","event_date":"2020-10-10","last_examination":"2020-10-10"}"#)
            .until("2030-10-10", "de-imaging-ionising", Period).rules(DE_IMG),
        // RTPLAN: 30 y after the last treatment, 2010-08-01 + 30 y.
        case("DE RTPLAN: 30 y after the last treatment", "DE",
             r#"{"id":"12f","category":"imaging-examination","modality":"RTPLAN","treatment_end":"2010-08-01"}"#)
            .until("2040-08-01", "de-radiotherapy-objects", Period).rules(&["de-radiotherapy-objects"]),
        case("DE modality OT (other): no rule, classify it", "DE",
             r#"{"id":"12g","category":"imaging-examination","modality":"OT","treatment_end":"2010-08-01"}"#)
            .undetermined("no rule"),
        case("DE CT before birth: inconsistent", "DE",
             r#"{"id":"13","category":"imaging-examination","modality":"CT","birth_date":"2015-01-11","event_date":"2015-01-10","last_examination":"2015-01-10"}"#)
            .undetermined("birth_date is after event_date"),
        // --- StrlSchG Nr. 1, § 140 StrlSchV, TFG, TPG, GenDG, CTR ------------
        // 2000-03-15 + 30 y = 2030-03-15.
        case("DE radiotherapy: 30 y after the last treatment", "DE",
             r#"{"id":"14","category":"radiotherapy","treatment_end":"2000-03-15"}"#)
            .until("2030-03-15", "de-radiotherapy", Period).rules(&["de-radiotherapy"]),
        // research: 2012-05-05 + 30 y = 2042-05-05 beats 2012-05-05 + 10 y.
        case("DE research exposure: 30 y after the last application", "DE",
             r#"{"id":"14b","category":"imaging-examination","modality":"CT","facets":["research-exposure"],"birth_date":"1960-01-01","event_date":"2012-05-05","last_examination":"2012-05-05"}"#)
            .until("2042-05-05", "de-research-exposure", Period).rules(&["de-imaging-ionising", "de-research-exposure"]),
        // § 14(2) data: 2016-02-29 + 30 y → 2046-02-29 missing → 28 Feb.
        case("DE transfusion traceability on 29 Feb: 30 y, ends 28 Feb", "DE",
             r#"{"id":"15","category":"transfusion","facets":["traceability"],"event_date":"2016-02-29"}"#)
            .until("2046-02-28", "de-transfusion-traceability", Period).rules(&["de-transfusion-traceability"]),
        // § 14(1) only: 2016-02-29 + 15 y → 2031-02-29 missing → 28 Feb.
        case("DE transfusion documentation only: 15 y", "DE",
             r#"{"id":"15b","category":"transfusion","facets":["documentation-only"],"event_date":"2016-02-29"}"#)
            .until("2031-02-28", "de-transfusion-documentation", Period).rules(&["de-transfusion-documentation"]),
        case("DE transfusion without saying which data: no rule", "DE",
             r#"{"id":"15c","category":"transfusion","event_date":"2016-02-29"}"#)
            .undetermined("no rule"),
        // both: 2010-01-01 + 15 y = 2025-01-01 < + 30 y = 2040-01-01.
        case("DE transfusion with both kinds of data: 30 y win", "DE",
             r#"{"id":"15d","category":"transfusion","facets":["traceability","documentation-only"],"event_date":"2010-01-01"}"#)
            .until("2040-01-01", "de-transfusion-traceability", Period).rules(&["de-transfusion-traceability", "de-transfusion-documentation"]),
        // organ: 1995-07-01 + 30 y = 2025-07-01, also the maximum (§ 15(3)):
        // on 2026-01-01 past both → review (delete or anonymise).
        case("DE organ: 30 y, then delete or anonymise (review)", "DE",
             r#"{"id":"16","category":"organ-tissue","facets":["organ"],"event_date":"1995-07-01"}"#)
            .status(Review).until("2025-07-01", "de-organ", Period).rules(&["de-organ"]),
        // tissue: expiry 2000-01-15 + 30 y = 2030-01-15.
        case("DE tissue: 30 y after the expiry date", "DE",
             r#"{"id":"16b","category":"organ-tissue","facets":["tissue"],"event_date":"2000-01-15"}"#)
            .until("2030-01-15", "de-tissue", Period).rules(&["de-tissue"]),
        case("DE organ or tissue unsaid: no rule", "DE",
             r#"{"id":"16c","category":"organ-tissue","event_date":"2000-01-15"}"#)
            .undetermined("no rule"),
        // GenDG: 2014-03-31 + 10 y = 2024-03-31 = maximum → review in 2026.
        case("DE genetic test: 10 y, then destroy or restrict (review)", "DE",
             r#"{"id":"16d","category":"genetic-test","event_date":"2014-03-31"}"#)
            .status(Review).until("2024-03-31", "de-genetic-test", Period).rules(&["de-genetic-test"]),
        // CTR Art. 58: 2020-12-31 + 25 y = 2045-12-31.
        case("DE trial master file: 25 y after the end of the trial", "DE",
             r#"{"id":"16e","category":"trial-master-file","event_date":"2020-12-31"}"#)
            .until("2045-12-31", "eu-ctr-trial-master-file", Period).rules(&["eu-ctr-trial-master-file"]),
        // planning CT: 2010-06-01 + 10 y = 2020-06-01 < 2010-08-01 + 30 y.
        case("DE planning CT is imaging and radiotherapy: longest minimum wins", "DE",
             r#"{"id":"17","category":["imaging-examination","radiotherapy"],"modality":"CT","birth_date":"1970-01-01","event_date":"2010-06-01","last_examination":"2010-06-01","treatment_end":"2010-08-01"}"#)
            .until("2040-08-01", "de-radiotherapy", Period).rules(&["de-imaging-ionising", "de-radiotherapy"]),
        case("DE held by litigation although due", "DE",
             r#"{"id":"18","category":"patient-record","treatment_end":"2000-01-10","holds":["litigation"]}"#)
            .status(Held).until("2010-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE hold beats a missing fact", "DE",
             r#"{"id":"19","category":"imaging-examination","modality":"CT","event_date":"2000-01-10","holds":["research-freeze"]}"#)
            .status(Held),
        // --- DE-HH: § 4a HmbKHG displaces § 630f(3) BGB in hospitals ----------
        // 2015-01-10 + 30 y = 2045-01-10; the federal rule does not apply.
        case("DE-HH hospital record: 30 y, federal rule displaced", "DE-HH",
             r#"{"id":"h1","category":"patient-record","setting":"hospital","treatment_end":"2015-01-10"}"#)
            .until("2045-01-10", "de-hh-hospital-record", Period).rules(&["de-hh-hospital-record"]),
        // practice in Hamburg: the federal 2015-01-10 + 10 y.
        case("DE-HH practice record: federal 10 y", "DE-HH",
             r#"{"id":"h2","category":"patient-record","setting":"practice","treatment_end":"2015-01-10"}"#)
            .status(Due).until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        case("DE-HH record without setting: undetermined", "DE-HH",
             r#"{"id":"h3","category":"patient-record","treatment_end":"2015-01-10"}"#)
            .undetermined("needs setting"),
        // federal pack: the setting does not matter.
        case("DE federal hospital record: 10 y", "DE",
             r#"{"id":"h4","category":"patient-record","setting":"hospital","treatment_end":"2015-01-10"}"#)
            .status(Due).until("2025-01-10", "de-patient-record", Period).rules(DE_PR),
        // DE-HH inherits the federal imaging rule: 2019-06-30 + 10 y.
        case("DE-HH inherits federal imaging rules", "DE-HH",
             r#"{"id":"h5","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2019-06-30","last_examination":"2019-06-30"}"#)
            .until("2029-06-30", "de-imaging-ionising", Period).rules(DE_IMG),
    ]
}

#[rustfmt::skip]
fn at_cases() -> Vec<Case> {
    vec![
        // § 10(1) Z 3 KAKuG: 2016-02-29 + 30 y → 2046-02-29 missing → 28 Feb
        // (§ 902(2) ABGB).
        case("AT hospital: 30 y, 29 Feb ends 28 Feb", "AT",
             r#"{"id":"20","category":"patient-record","setting":"hospital","treatment_end":"2016-02-29"}"#)
            .until("2046-02-28", "at-hospital-record", Period).rules(&["at-hospital-record"]),
        // § 51(3) ÄrzteG: 2016-02-29 + 10 y → 2026-02-28; due on 1 March.
        case("AT practice: 10 y, 29 Feb ends 28 Feb", "AT",
             r#"{"id":"20b","category":"patient-record","setting":"practice","treatment_end":"2016-02-29"}"#)
            .at("2026-03-01").status(Due).until("2026-02-28", "at-practice-record", Period).rules(&["at-practice-record"]),
        case("AT without setting: undetermined, no default", "AT",
             r#"{"id":"20c","category":"patient-record","treatment_end":"2016-02-29"}"#)
            .undetermined("needs setting"),
        // 2000-01-01 + 30 y = 2030-01-01 in a hospital; a hold changes nothing.
        case("AT held by litigation", "AT",
             r#"{"id":"21","category":"patient-record","setting":"hospital","treatment_end":"2000-01-01","holds":["litigation"]}"#)
            .status(Held).until("2030-01-01", "at-hospital-record", Period).rules(&["at-hospital-record"]),
        // CTR: 2001-06-30 + 25 y = 2026-06-30.
        case("AT trial master file: CTR 25 y", "AT",
             r#"{"id":"21b","category":"trial-master-file","event_date":"2001-06-30"}"#)
            .until("2026-06-30", "eu-ctr-trial-master-file", Period).rules(&["eu-ctr-trial-master-file"]),
    ]
}

#[test]
fn german_cases() {
    let seen = run(de_cases());
    assert_eq!(seen.len(), 2, "DE and DE-HH");
}

#[test]
fn austrian_cases() {
    run(at_cases());
}

#[test]
fn sources_are_the_ones_the_law_names() {
    let expect = [
        ("DE", "de-patient-record", "§ 630f(3) BGB"),
        (
            "DE",
            "de-imaging-ionising",
            "§ 85(2) S. 1 Nr. 2, Nr. 3 StrlSchG",
        ),
        ("DE", "de-radiotherapy", "§ 85(2) S. 1 Nr. 1 StrlSchG"),
        (
            "DE",
            "de-radiotherapy-objects",
            "§ 85(2) S. 1 Nr. 1 StrlSchG",
        ),
        ("DE", "de-research-exposure", "§ 140 StrlSchV"),
        (
            "DE",
            "de-transfusion-traceability",
            "§ 14(3) S. 1 TFG with § 14(2) TFG",
        ),
        (
            "DE",
            "de-transfusion-documentation",
            "§ 14(3) S. 1 TFG with § 14(1) TFG",
        ),
        ("DE", "de-organ", "§ 15(1), (3) TPG"),
        ("DE", "de-tissue", "§ 15(2), (3) TPG"),
        ("DE", "de-genetic-test", "§ 12(1) GenDG"),
        ("DE-HH", "de-hh-hospital-record", "§ 4a HmbKHG"),
        ("AT", "at-hospital-record", "§ 10(1) Z 3 KAKuG"),
        ("AT", "at-practice-record", "§ 51(3) ÄrzteG"),
        ("FR", "fr-patient-record", "Art. R1112-7 CSP"),
        ("NL", "nl-patient-record", "Art. 7:454(3) BW"),
    ];
    for (j, id, source) in expect {
        assert_eq!(pack(j).rule(id).unwrap().source().as_str(), source, "{id}");
    }
    for j in ["DE", "AT", "FR", "NL", "DE-HH"] {
        let src = pack(j)
            .rule("eu-ctr-trial-master-file")
            .unwrap()
            .source()
            .clone();
        assert!(
            src.as_str().contains("536/2014") && src.as_str().contains("Art. 58"),
            "{j}"
        );
    }
    let uk = pack("UK-ENG");
    assert!(
        uk.rule("eu-ctr-trial-master-file").is_none(),
        "the CTR is EU law"
    );
    assert_eq!(uk.data_protection_law().as_str(), "UK GDPR");
    assert_eq!(pack("DE").data_protection_law().as_str(), "GDPR");
    for rule in uk.rules() {
        let src = rule.source().as_str();
        assert!(
            src.contains("Records Management Code of Practice 2021 (updated 2023)")
                && src.contains("UK GDPR"),
            "{}: {src}",
            rule.id()
        );
    }
    // Where a rule rests on a reading, the reading names its alternative.
    for id in ["de-imaging-ionising", "de-imaging-other"] {
        let reading = pack("DE").rule(id).unwrap().reading().unwrap().to_owned();
        assert!(reading.contains("Alternative"), "{id}: {reading}");
    }
}

#[test]
fn the_per_study_reading_is_a_user_pack_away() {
    // The alternative reading of § 85(2) StrlSchG: each study counts from
    // its own date. 2012-03-01 + 10 y = 2022-03-01, though the patient's
    // last examination was in 2019.
    let per_study = pack("DE")
        .extended_with_toml(
            r#"
            [[rule]]
            id = "de-imaging-ionising"
            category = "imaging-examination"
            modalities = ["CT"]
            years = 10
            from = "event_date"
            reading = "per study; alternative: from the last examination"
            source = "§ 85(2) S. 1 Nr. 2, Nr. 3 StrlSchG"
            "#,
        )
        .unwrap();
    let line = r#"{"id":"s","category":"imaging-examination","modality":"CT","birth_date":"1980-01-01","event_date":"2012-03-01","last_examination":"2019-06-30"}"#;
    let r = parse_record_line(line).unwrap().record;
    let d = per_study.decide(&r, day("2026-01-01"));
    assert_eq!(d.retain_until(), Some(day("2022-03-01")));
    assert_eq!(d.status(), Due);
    // The default (longer) reading keeps it to 2029-06-30.
    let de = pack("DE");
    let d = de.decide(&r, day("2026-01-01"));
    assert_eq!(d.retain_until(), Some(day("2029-06-30")));
}

#[test]
fn year_end_rounding_and_maximum_from_a_user_pack() {
    let de = pack("DE")
        .extended_with_toml(
            r#"
            [[rule]]
            id = "house-billing"
            category = "billing"
            years = 10
            maximum_years = 12
            round_up_to_year_end = true
            from = "event_date"
            source = "§ 147(3) AO"
            "#,
        )
        .unwrap();
    let r = parse_record_line(r#"{"id":"b","category":"billing","event_date":"2010-03-05"}"#)
        .unwrap()
        .record;
    // 2010-03-05 + 10 y = 2020-03-05, rounded up to 2020-12-31; the maximum
    // 2010-03-05 + 12 y = 2022-03-05, rounded up to 2022-12-31.
    let d = de.decide(&r, day("2020-12-31"));
    assert_eq!(d.retain_until(), Some(day("2020-12-31")));
    assert_eq!(d.status(), Status::Retain);
    assert_eq!(de.decide(&r, day("2021-01-01")).status(), Due);
    assert_eq!(de.decide(&r, day("2022-12-31")).status(), Due);
    assert_eq!(de.decide(&r, day("2023-01-01")).status(), Review);
    assert_eq!(d.review_by(), Some(day("2022-12-31")));
}
