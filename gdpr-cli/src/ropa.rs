//! `gdpr ropa`: check a record of processing activities (Art. 30(1)) for
//! completeness and export it as JSON or Markdown.

use std::path::PathBuf;
use std::process::ExitCode;

use gdpr_core::ropa::Register;

use crate::error::{CliError, write_stdout};
use crate::input::read_json;

/// Check and export a record of processing activities (GDPR Art. 30(1)).
///
/// Reads the register (JSON): the controller (name, contact, optional joint
/// controllers, representative, data-protection officer) and one record per
/// activity with every field of Art. 30(1):
///
///   (b) purposes                 (c) data-subjects, data-categories
///   (d) recipients ([] = none)   (e) transfers ([] = none)
///   (f) erasure-time-limits      (g) security-measures
///
/// If a field is missing, every missing field is named with its Art. 30(1)
/// letter and nothing is exported. Sample: docs/samples/ropa.json.
///
/// Exit codes: 0 complete and exported, 2 incomplete or bad input.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// The register (JSON).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

/// Output formats of `gdpr ropa`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    /// The validated register as JSON.
    Json,
    /// A Markdown document, one table per activity.
    Markdown,
}

/// Runs `gdpr ropa`.
pub fn run(args: Args) -> Result<ExitCode, CliError> {
    let register: Register = read_json(&args.file)?;
    let valid = register
        .validate()
        .map_err(|e| CliError::BadInput(format!("{}: {e}", args.file.display())))?;
    let text = match args.format {
        Format::Json => {
            serde_json::to_string_pretty(&valid)
                .map_err(|e| CliError::BadInput(format!("cannot print the register: {e}")))?
                + "\n"
        }
        Format::Markdown => valid.to_markdown(),
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}
