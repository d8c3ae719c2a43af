//! A day in a clinic — the main job on the embedded defaults, no server
//! needed: authorization decisions and a DPIA screening (German law
//! catalogue), then the imaging archive on the embedded folder store:
//! retention review under the DE rule pack, pseudonymised research copies,
//! then one erasure request and one access request end to end (decision per
//! record, residue, certificate verified offline), every step recorded in a
//! signed audit log that is verified at the end.
//!
//! Run with `cargo run -p gdpr-examples --example clinic_day`.

use gdpr_core::activity::ProcessingActivity;
use gdpr_core::actor::{Actor, ActorId, Role};
use gdpr_core::authorization::{Request, authorize};
use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, LawfulBasis};
use gdpr_core::category::RecordCategory;
use gdpr_core::consent::Consent;
use gdpr_core::decision::Decision;
use gdpr_core::dpia::{Criterion, DpiaOutcome, Screening};
use gdpr_core::national::Catalogue;
use gdpr_core::purpose::Purpose;
use gdpr_core::subject::{Identifiability, SubjectState};
use jiff::Timestamp;

#[path = "clinic_day_images.rs"]
mod images;
#[path = "clinic_day_requests.rs"]
mod requests;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let de = Catalogue::germany();
    let now: Timestamp = "2026-03-02T09:30:00Z".parse()?;
    let reporting = radiology_reporting(&de)?;
    // Staff: secrecy duties come from the catalogue (§ 203 StGB), not from code.
    let staff = |id: &str, role: Role| -> Result<Actor, gdpr_core::Error> {
        Ok(Actor {
            id: ActorId::new(id)?,
            role,
            secrecy: de.secrecy_for(role),
        })
    };

    println!("== 09:30 — a radiologist opens today's CT to report it");
    let radiologist = request(
        staff("dr-weber", Role::Physician)?,
        Purpose::Diagnosis,
        IMAGES,
    );
    show(&authorize(
        &reporting,
        &radiologist,
        &SubjectState::default(),
        now,
    ));

    println!("\n== 09:31 — a billing clerk opens the same CT and the medication list for a study");
    let clerk = request(
        staff("clerk-3", Role::Administration)?,
        Purpose::Research,
        &[
            RecordCategory::ImagingExamination,
            RecordCategory::Medication,
        ],
    );
    show(&authorize(
        &reporting,
        &clerk,
        &SubjectState::default(),
        now,
    ));

    println!("\n== 10:00 — a consent-based study; the patient withdrew at 10:00");
    withdrawn_consent(staff("researcher-12", Role::Researcher)?)?;

    println!("\n== DPIA screening for an AI triage of chest X-rays (GDPR Art. 35)");
    dpia_screening()?;
    images::run(jiff::civil::date(2026, 3, 2)).await?;
    Ok(())
}

/// The imaging records the scenes ask for.
const IMAGES: &[RecordCategory] = &[RecordCategory::ImagingExamination];

/// The activity: radiology reporting under Art. 6(1)(b) + Art. 9(2)(h),
/// specified by § 22(1) Nr. 1 b BDSG.
fn radiology_reporting(de: &Catalogue) -> Result<ProcessingActivity, gdpr_core::Error> {
    let mut care = HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare);
    for provision in de.specifying(Art9Condition::HealthCare) {
        care = care.with_national(provision);
    }
    ProcessingActivity::new(
        "Radiology reporting",
        Purpose::Diagnosis,
        LawfulBasis::SpecialCategory(care),
        vec![
            RecordCategory::ImagingExamination,
            RecordCategory::Diagnosis,
        ],
        Identifiability::Identified,
    )
}

/// A request by `actor` for `purpose` on `categories`.
fn request(actor: Actor, purpose: Purpose, categories: &[RecordCategory]) -> Request {
    Request {
        actor,
        purpose,
        categories: categories.to_vec(),
        restriction_exception: None,
        retention_phase: None,
    }
}

/// A consent-based study: permitted one second before the withdrawal,
/// denied from the withdrawal on.
fn withdrawn_consent(researcher: Actor) -> Result<(), Box<dyn std::error::Error>> {
    let study = ProcessingActivity::new(
        "Lung nodule study",
        Purpose::Research,
        LawfulBasis::SpecialCategory(HealthBasis::new(
            Art6Basis::Consent,
            Art9Condition::ExplicitConsent,
        )),
        IMAGES.to_vec(),
        Identifiability::Pseudonymised,
    )?;
    let withdrawn_at: Timestamp = "2026-03-02T10:00:00Z".parse()?;
    let patient = SubjectState {
        consents: vec![
            Consent::new(vec![Purpose::Research], "2026-01-15T08:00:00Z".parse()?)?
                .withdrawn(withdrawn_at)?,
        ],
        ..SubjectState::default()
    };
    let researcher = request(researcher, Purpose::Research, IMAGES);
    print!("   one second before: ");
    let before = "2026-03-02T09:59:59Z".parse()?;
    show(&authorize(&study, &researcher, &patient, before));
    print!("   at the withdrawal: ");
    show(&authorize(&study, &researcher, &patient, withdrawn_at));
    Ok(())
}

/// A DPIA screening under the DSK list and the Art. 35(3) criteria.
fn dpia_screening() -> Result<(), Box<dyn std::error::Error>> {
    let result = Screening {
        activity: "AI-assisted triage of chest X-rays".into(),
        art35_4: vec!["dsk-artificial-intelligence".into()],
        criteria: vec![
            Criterion::SensitiveData,
            Criterion::VulnerableSubjects,
            Criterion::InnovativeTechnology,
        ],
        ..Screening::default()
    }
    .screen()?;
    let outcome = match result.outcome {
        DpiaOutcome::Required => "DPIA REQUIRED",
        DpiaOutcome::LikelyRequired => "DPIA LIKELY REQUIRED",
        _ => "no DPIA required",
    };
    println!("   {outcome}: {}", result.rationale);
    for t in &result.triggers {
        println!("   - {} ({})", t.description, t.citation);
    }
    Ok(())
}

/// Prints a decision for people: the basis and safeguards of a permit, or
/// every reason of a denial with its citation.
fn show(decision: &Decision) {
    match decision {
        Decision::Permit(p) => {
            let basis: Vec<String> = match p.basis() {
                LawfulBasis::SpecialCategory(pair) => {
                    pair.citations().iter().map(ToString::to_string).collect()
                }
                other => vec![other.art6().citation().to_string()],
            };
            println!("PERMIT on {}", basis.join(" + "));
            for s in p.safeguards() {
                println!(
                    "     safeguard {} ({}): {}",
                    s.code.as_str(),
                    s.citation,
                    s.message
                );
            }
        }
        Decision::Deny(d) => {
            println!("DENY, {} reason(s):", d.reasons().len());
            for r in d.reasons() {
                println!("     {} ({}): {}", r.code.as_str(), r.citation, r.message);
            }
        }
    }
}
