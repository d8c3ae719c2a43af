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
use std::path::PathBuf;
use std::process::ExitCode;

use gdpr_dicom::Error as DicomError;
use gdpr_dicom::deid::{
    BurnedInPolicy, DeidOption, DeidOptions, Deidentifier, FileResult, ProjectKey, collect_inputs,
    deidentify_all,
};

use crate::error::CliError;

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
Exit status: 0 every file written; 1 some refused, failed or quarantined; 2 bad arguments."
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
    /// Worker threads (0 = one per core).
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
    let key_text =
        zeroize::Zeroizing::new(std::fs::read_to_string(&args.key_file).map_err(|source| {
            CliError::Io {
                path: args.key_file.display().to_string(),
                source,
            }
        })?);
    let key = ProjectKey::from_hex(&key_text).map_err(bad)?;
    if let Ok(meta) = std::fs::metadata(&args.key_file) {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "gdpr: warning: the key file is readable by other users; restrict it with `chmod 600`"
            );
        }
    }
    let deid = Deidentifier::new(&key, options).with_burned_in_policy(policy);
    let files = collect_inputs(&args.inputs).map_err(bad)?;
    if files.is_empty() {
        return Err(CliError::BadInput(
            "no input files found; name DICOM files or folders that contain them".into(),
        ));
    }
    std::fs::create_dir_all(&args.out).map_err(|source| CliError::Io {
        path: args.out.display().to_string(),
        source,
    })?;

    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} files, {per_sec}, eta {eta}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let done = |_: &FileResult| {
        if let Some(b) = &bar {
            b.inc(1);
        }
    };
    let results = deidentify_all(&deid, &files, &args.out, args.jobs, &done).map_err(bad)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }

    let mut report = match &args.report {
        Some(p) => Some(
            OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(p)
                .map(std::io::BufWriter::new)
                .map_err(|source| CliError::Io {
                    path: p.display().to_string(),
                    source,
                })?,
        ),
        None => None,
    };
    let (mut written, mut quarantined, mut refused, mut failed) = (0usize, 0usize, 0usize, 0usize);
    for (i, r) in results.iter().enumerate() {
        let (status, output, reason) = match &r.result {
            Ok(o) if o.quarantine_reason().is_some() => {
                quarantined += 1;
                (
                    "quarantined",
                    Some(o.relative_path()),
                    o.quarantine_reason().map(str::to_owned),
                )
            }
            Ok(o) => {
                written += 1;
                ("written", Some(o.relative_path()), None)
            }
            Err(e @ DicomError::BurnedIn { .. }) => {
                refused += 1;
                ("refused", None, Some(e.to_string()))
            }
            Err(e) => {
                failed += 1;
                ("failed", None, Some(e.to_string()))
            }
        };
        if let Some(reason) = &reason {
            eprintln!("gdpr: input #{} {status}: {reason}", i + 1);
        }
        if let Some(w) = report.as_mut() {
            let line = serde_json::json!({
                "input": r.input.display().to_string(),
                "output": output.map(|o| args.out.join(o).display().to_string()),
                "status": status,
                "reason": reason,
            });
            writeln!(w, "{line}").map_err(|source| CliError::Io {
                path: "the report".into(),
                source,
            })?;
        }
    }
    if let Some(w) = report.as_mut() {
        w.flush().map_err(|source| CliError::Io {
            path: "the report".into(),
            source,
        })?;
    }
    eprintln!(
        "gdpr: {written} written, {quarantined} quarantined, {refused} refused, {failed} failed ({} inputs)",
        files.len()
    );
    Ok(if written == files.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
