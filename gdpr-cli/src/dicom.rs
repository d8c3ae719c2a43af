//! `gdpr dicom`: de-identify DICOM files for research (PS3.15 Table E.1-1,
//! keyed pseudonyms) and create project keys.
//!
//! Output names come only from new identifiers. The `--report` file lists
//! input paths (which often contain patient names) next to output names: it
//! is **sensitive** (written with mode 0600) and must stay with the data
//! custodian. Messages on standard error name inputs by their number only.

use std::fs::OpenOptions;
use std::io::{IsTerminal, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gdpr_dicom::Error as DicomError;
use gdpr_dicom::deid::{
    BurnedInPolicy, DeidOption, DeidOptions, Deidentifier, FileResult, JOBS_PER_CORE, ProjectKey,
    TextPatterns, collect_inputs, deidentify_all, max_jobs,
};

use crate::error::CliError;

mod report;

use report::{open_report, summarise};

/// `gdpr dicom` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// De-identify DICOM files or folders into DIR/STUDY/SERIES/SOP.dcm (new UIDs).
    Deidentify(DeidentifyArgs),
    /// Create a new random project key (64 hex digits, file mode 0600).
    Keygen(KeygenArgs),
}

/// Arguments of `gdpr dicom deidentify`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Profile: DICOM PS3.15 Table E.1-1, edition 2024b (basic profile plus the \
chosen options), keyed pseudonyms (HMAC-SHA256). See docs/deidentification.md.\n\
Exit status: 0 every file written (or skipped as a duplicate of one that was); 1 some refused, \
failed, quarantined or in a uid-collision; 2 bad arguments."
)]
pub struct DeidentifyArgs {
    /// The secret project key (from `gdpr dicom keygen`).
    #[arg(long, value_name = "KEY")]
    key_file: PathBuf,
    /// A PS3.15 option: retain-safe-private, retain-uids,
    /// retain-device-identity, retain-institution-identity,
    /// retain-patient-characteristics, retain-longitudinal-full-dates,
    /// retain-longitudinal-modified-dates, clean-descriptors,
    /// clean-structured-content, clean-graphics. Repeatable.
    #[arg(long = "option", value_name = "NAME")]
    options: Vec<String>,
    /// With clean-structured-content: a regular expression (regex crate
    /// syntax, `(?i)` for any case) masked in report text, in addition to the
    /// patient's names, IDs and dates. Repeatable.
    #[arg(long = "scrub-pattern", value_name = "REGEX")]
    scrub_patterns: Vec<String>,
    /// Worker threads (0 = one per core; at most 4 per core).
    #[arg(long, default_value_t = 0)]
    jobs: usize,
    /// Write one JSON line per input (input, output, status, reason).
    /// SENSITIVE: input paths often contain patient names.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// What to do with files that may show burned-in text: refuse or quarantine
    /// (written under DIR/quarantine/ for a human check).
    #[arg(long, value_name = "POLICY", default_value = "refuse")]
    burned_in: String,
    /// The output folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Input files or folders (searched recursively).
    #[arg(value_name = "INPUT", required = true)]
    inputs: Vec<PathBuf>,
}

/// Arguments of `gdpr dicom keygen`.
#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key (must not exist yet).
    #[arg(value_name = "KEYFILE")]
    key_file: PathBuf,
}

/// Runs `gdpr dicom …`.
pub fn run(cmd: Command) -> Result<ExitCode, CliError> {
    match cmd {
        Command::Deidentify(args) => deidentify(args),
        Command::Keygen(args) => keygen(args),
    }
}

fn bad(e: DicomError) -> CliError {
    CliError::BadInput(e.to_string())
}

fn keygen(args: KeygenArgs) -> Result<ExitCode, CliError> {
    let key = ProjectKey::generate().map_err(bad)?;
    let path = args.key_file.display().to_string();
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.key_file)
        .map_err(|source| CliError::Io {
            path: path.clone(),
            source,
        })?;
    f.write_all(key.to_hex().as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|source| CliError::Io { path, source })?;
    eprintln!(
        "gdpr: new project key written (mode 0600); keep it secret and backed up: without it, pseudonyms cannot be reproduced"
    );
    Ok(ExitCode::SUCCESS)
}

fn deidentify(args: DeidentifyArgs) -> Result<ExitCode, CliError> {
    let deid = deidentifier(&args)?;
    let jobs = checked_jobs(args.jobs)?;
    let files = collect_inputs(&args.inputs).map_err(bad)?;
    if files.is_empty() {
        return Err(CliError::BadInput(
            "no input files found; name DICOM files or folders that contain them".into(),
        ));
    }
    check_out_apart_from_inputs(&args.out, &args.inputs)?;
    // The report is opened (and so checked) before any output is written.
    let mut report = args.report.as_deref().map(open_report).transpose()?;
    std::fs::create_dir_all(&args.out).map_err(|source| CliError::Io {
        path: args.out.display().to_string(),
        source,
    })?;
    let results = run_batch(&deid, &files, &args.out, jobs)?;
    let tally = summarise(&results, &args.out, report.as_mut())?;
    if let Some(w) = report.as_mut() {
        w.flush().map_err(|source| CliError::Io {
            path: "the report".into(),
            source,
        })?;
    }
    eprintln!("gdpr: {tally} ({} inputs)", files.len());
    Ok(if tally.complete(files.len()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The de-identifier the arguments ask for: options, burned-in policy, key.
fn deidentifier(args: &DeidentifyArgs) -> Result<Deidentifier, CliError> {
    let options: Vec<DeidOption> = args
        .options
        .iter()
        .map(|o| o.parse::<DeidOption>())
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    let options = DeidOptions::new(options).map_err(bad)?;
    let policy = match args.burned_in.as_str() {
        "refuse" => BurnedInPolicy::Refuse,
        "quarantine" => BurnedInPolicy::Quarantine,
        _ => {
            return Err(CliError::BadInput(
                "--burned-in takes refuse or quarantine".into(),
            ));
        }
    };
    let key_file = crate::input::read_secret(&args.key_file)?;
    let key = ProjectKey::from_hex(&key_file.text)
        .map_err(|e| CliError::BadInput(format!("{}: {e}", args.key_file.display())))?;
    if !key_file.is_private() {
        eprintln!(
            "gdpr: warning: the key file is readable by other users; restrict it with `chmod 600`"
        );
    }
    let patterns = TextPatterns::with_custom(&args.scrub_patterns).map_err(bad)?;
    Ok(Deidentifier::new(&key, options)
        .with_burned_in_policy(policy)
        .with_text_patterns(patterns))
}

/// `--jobs` within [`max_jobs`]: more threads than that only cost memory
/// and start-up time (100 000 threads took a minute to fail).
fn checked_jobs(jobs: usize) -> Result<usize, CliError> {
    let max = max_jobs();
    if jobs > max {
        return Err(CliError::BadInput(format!(
            "--jobs {jobs} is too many: at most {max} ({JOBS_PER_CORE} per core) are useful here; \
             use 0 for one per core"
        )));
    }
    Ok(jobs)
}

/// Refuses an output folder inside an input folder (a second run would
/// de-identify the first run's outputs) or an input inside the output folder.
fn check_out_apart_from_inputs(out: &Path, inputs: &[PathBuf]) -> Result<(), CliError> {
    let out = resolved(out);
    for (i, input) in inputs.iter().enumerate() {
        let Ok(input) = std::fs::canonicalize(input) else {
            continue;
        };
        let input_is_dir = input.is_dir();
        if (input_is_dir && out.starts_with(&input)) || input.starts_with(&out) {
            return Err(CliError::BadInput(format!(
                "--out overlaps input #{}: the output folder must be neither inside an input \
                 folder nor contain an input (outputs would be read as inputs); choose a \
                 separate folder",
                i + 1
            )));
        }
    }
    Ok(())
}

/// `path` made absolute with links resolved, also when its last components
/// do not exist yet (the output folder is created later).
fn resolved(path: &Path) -> PathBuf {
    let mut missing = Vec::new();
    let mut existing = path.to_path_buf();
    loop {
        if let Ok(p) = std::fs::canonicalize(&existing) {
            let mut p = p;
            p.extend(missing.iter().rev());
            return p;
        }
        match (
            existing.file_name().map(ToOwned::to_owned),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                missing.push(name);
                existing = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// Runs the batch with a progress bar on a terminal.
fn run_batch(
    deid: &Deidentifier,
    files: &[PathBuf],
    out: &Path,
    jobs: usize,
) -> Result<Vec<FileResult>, CliError> {
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {per_sec}, eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let done = |_: usize| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let results = deidentify_all(deid, files, out, jobs, &done).map_err(bad)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    Ok(results)
}
