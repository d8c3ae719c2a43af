//! The crate's error: what went wrong reaching or preparing the database.
//! The audit traits return [`gdpr_audit::Error`] (a failed statement is its
//! [`gdpr_audit::Error::Backend`]).

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// The database holds a newer schema than this library knows: refuse
    /// to run rather than misread it.
    #[error(
        "the database schema is version {found}, this library knows up to {known}; upgrade the library (never downgrade the schema)"
    )]
    NewerSchema {
        /// The version in the database.
        found: i32,
        /// The newest version this library has.
        known: i32,
    },
    /// The schema is older than this library needs.
    #[error(
        "the database schema is version {found}, this library needs {needed}; run `gdpr db migrate` as the database owner"
    )]
    OlderSchema {
        /// The version in the database.
        found: i32,
        /// The version needed.
        needed: i32,
    },
    /// The connection settings are unusable.
    #[error("connection settings: {reason}")]
    Config {
        /// Why (never a password).
        reason: &'static str,
    },
    /// A tenant name breaks the naming rule.
    #[error("tenant name: {reason}")]
    Tenant {
        /// The rule broken.
        reason: &'static str,
    },
    /// The password file cannot be read.
    #[error("password file {path}: {source}; check the path and that it is mode 0600")]
    PasswordFile {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// PostgreSQL refused or failed (connection, statement, commit).
    #[error(
        "{operation} failed: {}; check the database connection and its log",
        with_causes(source)
    )]
    Backend {
        /// What was being done (a fixed text).
        operation: &'static str,
        /// What PostgreSQL or the client said.
        source: postgres::Error,
    },
    /// Another node holds the request's lease and it has not expired.
    #[error(
        "the request is being run by node {holder}; wait for it to finish (or for its lease to expire) and try again"
    )]
    Busy {
        /// The node holding the lease (a node name, no patient value).
        holder: String,
    },
    /// This node's lease on the request expired (and another node may have
    /// claimed the request): it may record nothing more.
    #[error(
        "this node's lease on the request expired or was taken over by another node; stop, and resume the request under a new claim"
    )]
    Fenced,
}

/// An error with its causes (a TLS handshake's reason is a cause of the
/// client's "error performing TLS handshake"). PostgreSQL's and the
/// client's messages name no patient value.
fn with_causes(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

impl PgError {
    /// A [`PgError::Backend`] for `operation`.
    pub(crate) fn backend(operation: &'static str) -> impl FnOnce(postgres::Error) -> Self {
        move |source| Self::Backend { operation, source }
    }
}

/// A [`gdpr_audit::Error::Backend`] for `operation`.
pub(crate) fn audit(operation: &'static str) -> impl FnOnce(postgres::Error) -> gdpr_audit::Error {
    move |source| gdpr_audit::Error::Backend {
        operation,
        source: Box::new(source),
    }
}

impl From<PgError> for gdpr_audit::Error {
    fn from(e: PgError) -> Self {
        match e {
            PgError::Backend { operation, source } => gdpr_audit::Error::Backend {
                operation,
                source: Box::new(source),
            },
            other => gdpr_audit::Error::Backend {
                operation: "preparing the PostgreSQL store",
                source: Box::new(other),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = PgError::NewerSchema { found: 3, known: 2 };
        assert!(e.to_string().contains("upgrade the library"));
        assert!(std::mem::size_of::<PgError>() <= 56);
    }
}
