//! Errors of the command line, with their exit codes.

use std::process::ExitCode;

/// An error that ends a `gdpr` command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The input was wrong: a missing field, an unknown value, malformed
    /// JSON. Exit code 2.
    #[error("{0}")]
    BadInput(String),
    /// A file could not be read or written. Exit code 2.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned (never a patient-derived path).
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An input file cannot be used as it is: too large, not a file, not
    /// text. Exit code 2.
    #[error("{path}: {problem}")]
    Input {
        /// The file concerned, as given on the command line.
        path: String,
        /// What is wrong with it.
        problem: InputProblem,
    },
    /// A storage system failed or refused (bad configuration: exit code 2;
    /// anything else: exit code 1).
    #[error(transparent)]
    Store(#[from] gdpr_core::store::StoreError),
    /// A storage system named in the systems file failed or refused: its
    /// configured name (never a patient value) and the store's error, which
    /// names the step. Exit codes as [`Self::Store`].
    #[error("system {system}: {source}")]
    System {
        /// The system's name in the systems file.
        system: String,
        /// What failed, and in which step.
        source: gdpr_core::store::StoreError,
    },
    /// The audit log a command records in could not be opened or written:
    /// tampering or key-store damage detected (exit code 1, as under
    /// `gdpr audit`); anything else exit code 2.
    #[error("audit log: {0}")]
    Audit(gdpr_audit::Error),
    /// A data-subject request could not be executed (a system failed: exit
    /// code 1; a document does not verify: 1; the rest: 2).
    #[error(transparent)]
    Request(Box<gdpr_request::Error>),
}

impl From<gdpr_request::Error> for CliError {
    fn from(e: gdpr_request::Error) -> Self {
        Self::Request(Box::new(e))
    }
}

/// What is wrong with an input file as a whole (its content aside).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputProblem {
    /// The file is larger than the command reads.
    #[error("larger than {max_bytes} bytes, the most this command reads; check the file")]
    TooLarge {
        /// The limit.
        max_bytes: u64,
    },
    /// A line is longer than the command reads.
    #[error("line {line} is longer than {max_bytes} bytes; check the input")]
    LineTooLong {
        /// The line's number, from 1.
        line: u64,
        /// The limit.
        max_bytes: usize,
    },
    /// The path is not a file that can be read (a directory, a socket).
    #[error("is {what}, not a file; give the path of a file")]
    NotAFile {
        /// What it is instead.
        what: &'static str,
    },
    /// The file is not UTF-8 text.
    #[error("is not UTF-8 text")]
    NotText,
}

/// Writes `text` to standard output; a failed write (a closed pipe, a full
/// disk) is [`CliError::Io`] naming standard output.
pub(crate) fn write_stdout(text: &str) -> Result<(), CliError> {
    use std::io::Write;
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|source| CliError::Io {
            path: "standard output".into(),
            source,
        })
}

impl CliError {
    /// This error, a store's error naming `system` (the name in the
    /// systems file) too; any other error as it is.
    pub fn on_system(self, system: &str) -> Self {
        match self {
            Self::Store(source) => Self::System {
                system: system.to_owned(),
                source,
            },
            other => other,
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Store(e) | Self::System { source: e, .. }
                if !matches!(e, gdpr_core::store::StoreError::Configuration { .. }) =>
            {
                ExitCode::from(1)
            }
            Self::Audit(e) if e.is_tampering() || e.is_key_store_damage() => ExitCode::from(1),
            Self::Request(e) => match &**e {
                gdpr_request::Error::Store { source, .. }
                    if !matches!(**source, gdpr_core::store::StoreError::Configuration { .. }) =>
                {
                    ExitCode::from(1)
                }
                gdpr_request::Error::Unverified(_) => ExitCode::from(1),
                gdpr_request::Error::Audit(a) if a.is_tampering() || a.is_key_store_damage() => {
                    ExitCode::from(1)
                }
                _ => ExitCode::from(2),
            },
            _ => ExitCode::from(2),
        }
    }
}
