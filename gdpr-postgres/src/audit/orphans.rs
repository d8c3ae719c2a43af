//! Removing bodies that no run names (schema version 9,
//! `gdpr.audit_remove_orphans`): the rest of a batch that a checkpoint cut
//! and whose writer never came back. They are in no entry, so removing
//! them changes no entry, no position and no hash. The application role
//! has no `DELETE` on the log's tables; the function (`SECURITY DEFINER`,
//! owned by the role `gdpr_orphan_remover`, whose policies allow nothing
//! else) removes only the connected tenant's such bodies, only once they
//! are at least [`MIN_ORPHAN_AGE`] old, under the tenant's append lock
//! (docs/postgres.md, "Orphaned bodies").

use std::time::Duration;

use gdpr_audit::Error;

/// The youngest an orphaned body may be when it is removed: 10 minutes,
/// enforced by the database too (the function and its role's policy). A writer
/// signing a checkpoint continues its batch within milliseconds; one that
/// has not continued after this long is taken for dead (should it come
/// back, its call fails and nothing is acknowledged: it reopens).
pub const MIN_ORPHAN_AGE: Duration = Duration::from_secs(600);

/// Bodies removed per transaction (each holds the tenant's append lock
/// only for its `DELETE` of at most this many rows found beforehand).
const PER_TRANSACTION: i32 = 10_000;

impl super::PgAuditStore {
    /// Removes the bodies of this tenant that no run names (so in no
    /// entry) and that were stored at least `min_age` ago; returns how many
    /// were removed. Entries, positions, hashes and checkpoints stay as
    /// they are; other tenants' rows are out of reach (row-level security).
    /// Each transaction removes up to 10 000 and holds the tenant's append
    /// lock only for its `DELETE`; it repeats until none is left.
    ///
    /// # Errors
    /// [`Error::BadInput`] when `min_age` is under [`MIN_ORPHAN_AGE`];
    /// [`Error::Backend`] when PostgreSQL fails (the bodies removed by the
    /// transactions committed before stay removed), or when an append
    /// transaction chained by the writer is open on this store.
    pub fn remove_orphaned_bodies(&self, min_age: Duration) -> Result<u64, Error> {
        if min_age < MIN_ORPHAN_AGE {
            return Err(Error::BadInput {
                what: "minimum age of orphaned bodies",
                reason: "under 10 minutes: a writer may still continue their batch".into(),
            });
        }
        let seconds = i64::try_from(min_age.as_secs()).unwrap_or(i64::MAX);
        let mut c = super::lock(&self.conn);
        if c.open {
            return Err(Error::Backend {
                operation: "removing orphaned bodies",
                source: "an append transaction is open on this connection".into(),
            });
        }
        let mut removed = 0u64;
        loop {
            let n: i64 = c
                .client
                .query_one(
                    "SELECT gdpr.audit_remove_orphans($1::int8 * interval '1 second', $2)",
                    &[&seconds, &PER_TRANSACTION],
                )
                .map_err(crate::error::audit("removing orphaned bodies"))?
                .get(0);
            removed += u64::try_from(n).unwrap_or(0);
            if n < i64::from(PER_TRANSACTION) {
                return Ok(removed);
            }
        }
    }
}
