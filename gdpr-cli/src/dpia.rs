//! `gdpr dpia`: screen a processing activity for the need of a
//! data-protection impact assessment (Art. 35).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use gdpr_core::dpia::{DpiaOutcome, Screening};

use crate::error::CliError;
use crate::input::read_json;

/// Screen an activity: is a DPIA required (GDPR Art. 35)?
///
/// Reads the screening facts (JSON): the activity's name, the Art. 35(3)
/// cases that apply ("art35-3") and the WP248 rev.01 criteria that hold
/// ("criteria"). A DPIA is required when an Art. 35(3) case applies or two
/// or more criteria hold; the result lists each with its source.
///
///   art35-3:  systematic-evaluation, large-scale-special-categories,
///             public-monitoring
///   criteria: evaluation-or-scoring, automated-decision,
///             systematic-monitoring, sensitive-data, large-scale,
///             matching-or-combining, vulnerable-subjects,
///             innovative-technology, prevents-rights-or-services
///
/// Sample: docs/samples/dpia.json.
///
/// Exit codes: 0 screened (required or not: read "outcome"), 2 bad input.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The screening facts (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// Output formats of `gdpr dpia`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// The screening result as JSON.
    Json,
    /// A short text for people.
    Text,
}

/// Runs `gdpr dpia`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let screening: Screening = read_json(&args.file)?;
    let result = screening.screen();
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&result)
                .map_err(|e| CliError::BadInput(format!("cannot print the result: {e}")))?
                + "\n"
        }
        Format::Text => {
            let verdict = match result.outcome {
                DpiaOutcome::Required => "DPIA REQUIRED",
                _ => "no DPIA required",
            };
            let mut s = format!("{}: {verdict}\n  {}\n", result.activity, result.rationale);
            for t in &result.triggers {
                s += &format!("  - {} ({})\n", t.description, t.citation);
            }
            s
        }
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| CliError::Io {
            path: "standard output".into(),
            source,
        })?;
    Ok(ExitCode::SUCCESS)
}
