//! The crate's one error enum: what can go wrong while setting the gateway
//! up. Refusals of single requests are not errors of the gateway; they are
//! answers ([`crate::Refusal`]).

/// Why the gateway could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file does not parse or breaks a rule.
    #[error("gateway configuration: {detail}")]
    Config {
        /// What is wrong and how to fix it (no secret, no patient value).
        detail: String,
    },
    /// A file the gateway needs could not be read.
    #[error("cannot read the {what}: {source}")]
    Io {
        /// Which file (its role, not its path).
        what: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The subject-state file is not valid.
    #[error("subject-state file: {detail}")]
    SubjectStates {
        /// Where it is wrong (field path; no values).
        detail: String,
    },
}

impl Error {
    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Self::Config {
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn error_is_small() {
        assert!(std::mem::size_of::<super::Error>() <= 32);
    }
}
