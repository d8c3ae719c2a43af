//! A day in a clinic: the main job on the embedded default, no server needed.
//!
//! Run with `cargo run -p gdpr-examples --example clinic_day`.

use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis, NationalProvision};
use gdpr_core::purpose::Purpose;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let care = HealthBasis::new(Art6Basis::Contract, Art9Condition::HealthCare).with_national(
        NationalProvision::new("DE", "§ 22(1) Nr. 1 b BDSG", "health care by professionals"),
    );
    println!(
        "Basis for treatment: {}",
        serde_json::to_string_pretty(&care)?
    );
    println!(
        "Research on treatment data: {:?}",
        Purpose::Research.compatibility_with(Purpose::Treatment)
    );
    Ok(())
}
