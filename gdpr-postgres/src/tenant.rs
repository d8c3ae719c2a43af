//! Tenants: each is a PostgreSQL login role, member of `gdpr_app`, that
//! owns nothing, is no superuser and cannot bypass row-level security.
//! Every table's policy compares the row's `tenant` with `current_user`,
//! so whatever SQL a tenant's connection runs, the database returns and
//! accepts only that tenant's rows (`FORCE ROW LEVEL SECURITY` binds the
//! tables' owner as well).

use postgres::Client;

use crate::error::PgError;

/// Arbitrary key of the advisory lock that serialises role changes.
const TENANT_LOCK: i64 = 0x6764_7072_7465_6e61; // "gdprtena"

/// A tenant's role name: `gdpr_t_` and 1–40 of `a-z 0-9 _` (so it needs
/// no quoting in SQL and cannot name another kind of role).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tenant(String);

impl Tenant {
    /// The role prefix every tenant has.
    pub const PREFIX: &'static str = "gdpr_t_";

    /// The tenant `gdpr_t_<name>`.
    ///
    /// # Errors
    /// [`PgError::Tenant`] unless `name` is 1–40 of `a-z 0-9 _`.
    pub fn new(name: &str) -> Result<Self, PgError> {
        let ok = (1..=40).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(PgError::Tenant {
                reason: "1 to 40 of a-z, 0-9 and _",
            });
        }
        Ok(Self(format!("{}{name}", Self::PREFIX)))
    }

    /// The role name.
    pub fn role(&self) -> &str {
        &self.0
    }

    /// Creates the tenant's role (run as the database owner, after
    /// [`crate::migrate()`]) with `password`, which is SCRAM-SHA-256-hashed
    /// here: the server (and its statement log) sees only the verifier. Idempotent: an existing role gets the new password.
    ///
    /// # Errors
    /// [`PgError::Backend`]; [`PgError::Config`] for a password with a
    /// control character.
    pub fn create(&self, owner: &mut Client, password: &str) -> Result<(), PgError> {
        if password.chars().any(char::is_control) || password.is_empty() {
            return Err(PgError::Config {
                reason: "a tenant password must be non-empty and have no control characters",
            });
        }
        // CREATE ROLE takes no parameters: the verifier is a literal, made
        // of base64 and `$:` only (no quote to escape).
        let literal = postgres_protocol::password::scram_sha_256(password.as_bytes());
        let role = self.role();
        let mut tx = owner
            .transaction()
            .map_err(PgError::backend("creating a tenant"))?;
        // Role and database ACL changes of concurrent callers would fail
        // with "tuple concurrently updated": one at a time.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&TENANT_LOCK])
            .map_err(PgError::backend("waiting for other tenant changes"))?;
        let exists = tx
            .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&role])
            .map_err(PgError::backend("looking up a tenant"))?
            .is_some();
        let verb = if exists { "ALTER" } else { "CREATE" };
        let db = current_db(&mut tx)?;
        tx.batch_execute(&format!(
            "{verb} ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION INHERIT PASSWORD '{literal}';
             GRANT gdpr_app TO {role};
             GRANT CONNECT ON DATABASE \"{db}\" TO {role};",
        ))
        .map_err(PgError::backend("creating a tenant role"))?;
        tx.commit().map_err(PgError::backend("creating a tenant"))
    }
}

fn current_db(tx: &mut postgres::Transaction<'_>) -> Result<String, PgError> {
    let name: String = tx
        .query_one("SELECT current_database()", &[])
        .map_err(PgError::backend("reading the database name"))?
        .get(0);
    if name.contains('"') {
        return Err(PgError::Config {
            reason: "a database name with a double quote",
        });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_checked() {
        assert_eq!(Tenant::new("ward_7").unwrap().role(), "gdpr_t_ward_7");
        for bad in ["", "Ward", "a-b", "a;drop", "x\"", &"a".repeat(41)] {
            assert!(Tenant::new(bad).is_err(), "{bad}");
        }
    }
}
