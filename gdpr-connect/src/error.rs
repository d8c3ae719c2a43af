//! The crate's error: a [`StoreError`] (what every adapter returns), or a
//! token endpoint's refusal with its typed cause ([`TokenRefusal`]), which
//! [`Client::authenticate`](crate::Client::authenticate) reports so that a
//! host can tell a wrong key from a wrong scope. Inside adapter operations a
//! refusal becomes [`StoreError::Configuration`] with the same message.

use gdpr_core::store::StoreError;

/// Why a token endpoint refused to issue a token: the `error` code of its
/// answer (RFC 6749 §5.2). The server's `error_description` is never kept
/// (a server may echo anything in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenRefusal {
    /// `invalid_client`: the client is unknown or its secret or signed
    /// assertion did not verify (wrong key, `kid` or algorithm).
    InvalidClient,
    /// `invalid_grant`: the user's name or password (password grant), or
    /// the assertion's claims, were refused.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the server does not offer this grant.
    UnsupportedGrantType,
    /// `invalid_scope`: a scope asked for is unknown or not allowed.
    InvalidScope,
    /// `invalid_request`: a parameter is missing or malformed.
    InvalidRequest,
    /// Any other refusal (another code, or none), with the HTTP status.
    Other {
        /// The HTTP status of the answer.
        status: u16,
    },
}

impl TokenRefusal {
    /// The refusal of an `error` code at HTTP `status`.
    pub fn from_code(code: Option<&str>, status: u16) -> Self {
        match code {
            Some("invalid_client") => Self::InvalidClient,
            Some("invalid_grant") => Self::InvalidGrant,
            Some("unauthorized_client") => Self::UnauthorizedClient,
            Some("unsupported_grant_type") => Self::UnsupportedGrantType,
            Some("invalid_scope") => Self::InvalidScope,
            Some("invalid_request") => Self::InvalidRequest,
            _ => Self::Other { status },
        }
    }

    /// What to check, for the message.
    fn hint(self) -> &'static str {
        match self {
            Self::InvalidClient => {
                "check `client_id` and the client secret, or that the public key of \
                 `client_key_file` is registered for the client (with `client_key_id` as its kid \
                 and `client_key_algorithm` allowed)"
            }
            Self::InvalidGrant => "check `username` and the password, and the clocks of both hosts",
            Self::UnauthorizedClient | Self::UnsupportedGrantType => {
                "check `grant` and that the server allows the client that grant"
            }
            Self::InvalidScope => "check `scopes` against what the server grants the client",
            Self::InvalidRequest => "check the token settings (`token_parameters`, `client_auth`)",
            Self::Other { .. } => "check `token_url` (or the discovery settings) and the server",
        }
    }
}

impl std::fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidClient => f.write_str("invalid_client"),
            Self::InvalidGrant => f.write_str("invalid_grant"),
            Self::UnauthorizedClient => f.write_str("unauthorized_client"),
            Self::UnsupportedGrantType => f.write_str("unsupported_grant_type"),
            Self::InvalidScope => f.write_str("invalid_scope"),
            Self::InvalidRequest => f.write_str("invalid_request"),
            Self::Other { status } => write!(f, "HTTP {status}"),
        }
    }
}

/// What can go wrong in gdpr-connect. Messages name settings and
/// operations, never a secret, token, assertion or URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The token endpoint refused to issue a token.
    #[error("the token endpoint refused to issue a token ({refusal}); {}", refusal.hint())]
    TokenRefused {
        /// Why, as the server said.
        refusal: TokenRefusal,
    },
    /// Anything else, as adapters report it.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Error> for StoreError {
    fn from(error: Error) -> Self {
        match error {
            Error::Store(e) => e,
            refused @ Error::TokenRefused { .. } => StoreError::Configuration {
                detail: refused.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        assert!(std::mem::size_of::<Error>() <= 72);
    }

    #[test]
    fn refusals_keep_their_code_and_say_what_to_check() {
        let e = Error::TokenRefused {
            refusal: TokenRefusal::from_code(Some("invalid_client"), 401),
        };
        let text = e.to_string();
        assert!(
            text.contains("invalid_client") && text.contains("client_key_file"),
            "{text}"
        );
        let store = StoreError::from(e);
        assert!(matches!(store, StoreError::Configuration { .. }));
        assert_eq!(
            TokenRefusal::from_code(Some("slow_down"), 400),
            TokenRefusal::Other { status: 400 }
        );
    }
}
