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
    /// A storage system failed or refused (bad configuration: exit code 2;
    /// anything else: exit code 1).
    #[error(transparent)]
    Store(#[from] gdpr_core::store::StoreError),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Store(e) if !matches!(e, gdpr_core::store::StoreError::Configuration { .. }) => {
                ExitCode::from(1)
            }
            _ => ExitCode::from(2),
        }
    }
}
