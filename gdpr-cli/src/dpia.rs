//! `gdpr dpia`: screen a processing activity for the need of a
//! data-protection impact assessment (Art. 35).

use std::path::PathBuf;
use std::process::ExitCode;

use gdpr_core::dpia::{Art35List, DpiaOutcome, Screening};

use crate::error::{CliError, write_stdout};
use crate::input::read_json;

/// Screen an activity: is a DPIA required (GDPR Art. 35)?
///
/// Reads the screening facts (JSON): the activity's name, the Art. 35(3)
/// cases that apply ("art35-3"), the codes of Art. 35(4) list entries that
/// apply ("art35-4"; the DSK Muss-Liste is built in, more with --list), the
/// WP248 rev.01 criteria that hold ("criteria"), and two judgements:
/// "individual-professional" (one physician's own patients, Recital 91) and
/// "likely-high-risk" (the controller's own finding, Art. 35(1)).
///
/// "outcome" is "required" (Art. 35(3), an Art. 35(4) list entry, or a high
/// risk found), "likely-required" (two or more WP248 criteria: carry out a
/// DPIA or document why the risk is not high) or "not-required"; the result
/// lists every trigger with its source.
///
///   art35-3:  systematic-evaluation, large-scale-special-categories,
///             public-monitoring
///   art35-4:  dsk-secrecy-large-scale, dsk-location-large-scale,
///             dsk-merging-sources, dsk-sensors-central-body,
///             dsk-anonymisation-for-transfer, dsk-artificial-intelligence,
///             dsk-comprehensive-profiles
///   criteria: evaluation-or-scoring, automated-decision,
///             systematic-monitoring, sensitive-data, large-scale,
///             matching-or-combining, vulnerable-subjects,
///             innovative-technology, prevents-rights-or-services
///
/// Sample: docs/samples/dpia.json.
///
/// Exit codes: 0 screened (read "outcome"), 2 bad input.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The screening facts (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// A further Art. 35(4) list (JSON, the shape of
    /// gdpr-core/data/dpia/de-dsk.json), e.g. a Land authority's; repeatable.
    #[arg(long = "list", value_name = "FILE")]
    lists: Vec<PathBuf>,
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
    let mut lists = vec![Art35List::germany_dsk()];
    for path in &args.lists {
        lists.push(read_json(path)?);
    }
    let result = screening
        .screen_with(&lists)
        .map_err(|e| CliError::BadInput(format!("{}: {e}", args.file.display())))?;
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&result)
                .map_err(|e| CliError::BadInput(format!("cannot print the result: {e}")))?
                + "\n"
        }
        Format::Text => {
            let verdict = match result.outcome {
                DpiaOutcome::Required => "DPIA REQUIRED",
                DpiaOutcome::LikelyRequired => "DPIA LIKELY REQUIRED",
                _ => "no DPIA required",
            };
            let mut s = format!("{}: {verdict}\n  {}\n", result.activity, result.rationale);
            for t in &result.triggers {
                s += &format!("  - {} ({})\n", t.description, t.citation);
            }
            s
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
