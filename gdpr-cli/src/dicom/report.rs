//! The `--report` file and the summary of `gdpr dicom deidentify`: one JSON
//! line per input (input, output, status, reason, refusal, uncleaned) and
//! one line on standard error per input that was not simply written, naming
//! inputs by number only.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use gdpr_dicom::Error as DicomError;
use gdpr_dicom::deid::FileResult;

use crate::error::CliError;

/// Opens the report for writing: never through a symbolic link, a regular
/// file only, mode 0600 even when it existed with another mode, emptied.
pub(super) fn open_report(path: &Path) -> Result<BufWriter<File>, CliError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| CliError::Io {
        path: path.display().to_string(),
        source,
    };
    let nofollow = rustix::fs::OFlags::NOFOLLOW.bits();
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(i32::try_from(nofollow).unwrap_or(i32::MAX))
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                CliError::BadInput(format!(
                    "--report {}: is a symbolic link; name the report file itself",
                    path.display()
                ))
            } else {
                io(e)
            }
        })?;
    if !file.metadata().map_err(io)?.is_file() {
        return Err(CliError::BadInput(format!(
            "--report {}: is not a regular file",
            path.display()
        )));
    }
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    file.set_len(0).map_err(io)?;
    Ok(BufWriter::new(file))
}

/// How many inputs ended in each state.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) written: usize,
    duplicate: usize,
    uid_collision: usize,
    quarantined: usize,
    refused: usize,
    failed: usize,
    /// Written, with structured content that cleaning could not judge.
    uncleaned: usize,
}

impl Tally {
    /// Every input written, or skipped as a duplicate of one that was.
    pub(super) fn complete(&self, inputs: usize) -> bool {
        self.written + self.duplicate == inputs
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} written, {} duplicate, {} uid-collision, {} quarantined, {} refused, {} failed",
            self.written,
            self.duplicate,
            self.uid_collision,
            self.quarantined,
            self.refused,
            self.failed
        )
        .and_then(|()| {
            if self.uncleaned > 0 {
                write!(
                    f,
                    "; {} written with structured content to check",
                    self.uncleaned
                )
            } else {
                Ok(())
            }
        })
    }
}

/// The status, output and reason of one result, counted in `tally`.
fn classify(r: &FileResult, tally: &mut Tally) -> (&'static str, Option<PathBuf>, Option<String>) {
    match &r.result {
        Ok(o) if o.quarantine_reason().is_some() => {
            tally.quarantined += 1;
            (
                "quarantined",
                Some(o.relative_path()),
                o.quarantine_reason().map(str::to_owned),
            )
        }
        Ok(o) => {
            tally.written += 1;
            ("written", Some(o.relative_path()), None)
        }
        Err(e @ DicomError::Duplicate { .. }) => {
            tally.duplicate += 1;
            ("duplicate", None, Some(e.to_string()))
        }
        Err(e @ DicomError::UidCollision { .. }) => {
            tally.uid_collision += 1;
            ("uid-collision", None, Some(e.to_string()))
        }
        Err(e) if e.refusal().is_some() => {
            tally.refused += 1;
            ("refused", None, Some(e.to_string()))
        }
        Err(e) => {
            tally.failed += 1;
            ("failed", None, Some(e.to_string()))
        }
    }
}

/// Reports every result on standard error (by number) and in the report.
pub(super) fn summarise(
    results: &[FileResult],
    out: &Path,
    mut report: Option<&mut BufWriter<File>>,
) -> Result<Tally, CliError> {
    let mut tally = Tally::default();
    for (i, r) in results.iter().enumerate() {
        let (status, output, reason) = classify(r, &mut tally);
        if let Some(reason) = &reason {
            eprintln!("gdpr: input #{} {status}: {reason}", i + 1);
        }
        let uncleaned: Vec<String> = r
            .result
            .as_ref()
            .map(|o| o.uncleaned().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        if !uncleaned.is_empty() {
            tally.uncleaned += 1;
            eprintln!(
                "gdpr: input #{} {status}, check its structured content: {}",
                i + 1,
                uncleaned.join("; ")
            );
        }
        if let Some(w) = report.as_mut() {
            let line = serde_json::json!({
                "input": r.input.display().to_string(),
                "output": output.map(|o| out.join(o).display().to_string()),
                "status": status,
                "reason": reason,
                "refusal": r.result.as_ref().err().and_then(DicomError::refusal),
                "uncleaned": uncleaned,
            });
            writeln!(w, "{line}").map_err(|source| CliError::Io {
                path: "the report".into(),
                source,
            })?;
        }
    }
    Ok(tally)
}
