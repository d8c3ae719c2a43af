//! `gdpr bases`: list the Art. 6(1) bases and Art. 9(2) conditions with
//! their citations, the names used in JSON input, and whether each needs a
//! provision of Union or member-state law (Art. 6(3), Art. 9(2)(b), (g),
//! (i), (j)), without which `gdpr authorize` denies.

use std::process::ExitCode;

use gdpr_core::basis::{Art6Basis, Art9Condition};

use crate::error::{CliError, write_stdout};

/// A JSON name, its citation, and whether it needs member-state law.
type Row = (String, gdpr_core::Citation, bool);

/// Arguments of `gdpr bases`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs `gdpr bases`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let art6: Vec<Row> = Art6Basis::ALL
        .iter()
        .map(|b| Ok((json_name(b)?, b.citation(), b.expects_member_state_law())))
        .collect::<Result<_, CliError>>()?;
    let art9: Vec<Row> = Art9Condition::ALL
        .iter()
        .map(|c| Ok((json_name(c)?, c.citation(), c.expects_member_state_law())))
        .collect::<Result<_, CliError>>()?;
    let text = if args.json {
        let to_obj = |rows: &[Row]| {
            rows.iter()
                .map(|(name, cite, law)| {
                    serde_json::json!({
                        "name": name,
                        "citation": cite,
                        "needs-member-state-law": law,
                    })
                })
                .collect::<Vec<_>>()
        };
        serde_json::to_string_pretty(&serde_json::json!({
            "art6": to_obj(&art6),
            "art9": to_obj(&art9),
        }))
        .map_err(|e| CliError::BadInput(e.to_string()))?
            + "\n"
    } else {
        let law = |needs: &bool| {
            if *needs {
                "  (name the Union or member-state law in `national`)"
            } else {
                ""
            }
        };
        let mut s = String::from("Art. 6(1) lawful bases (JSON name, citation):\n");
        for (name, cite, needs) in &art6 {
            s += &format!("  {name:<32} {cite}{}\n", law(needs));
        }
        s += "Art. 9(2) conditions for health data (JSON name, citation):\n";
        for (name, cite, needs) in &art9 {
            s += &format!("  {name:<32} {cite}{}\n", law(needs));
        }
        s
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn json_name<T: serde::Serialize>(value: &T) -> Result<String, CliError> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        _ => Err(CliError::BadInput(
            "internal: enum without a JSON name".into(),
        )),
    }
}
