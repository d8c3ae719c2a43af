//! The lease on a request: one row per request in `gdpr.request_lease`,
//! claimed by one node at a time. A claim takes the row when it is free or
//! its lease has expired and increments its `epoch`, the fencing token:
//! every journal write and every renewal names the epoch it holds and
//! changes nothing once another node has claimed the request. Times are
//! the database's own clock (`clock_timestamp()`), so the nodes' clocks
//! need not agree.

use std::time::Duration;

use postgres::Client;

use crate::error::PgError;

/// How long a claim lasts without renewal, and how long a node waits for
/// another node's lease to end before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseSettings {
    /// A lease not renewed for this long expires and the request may be
    /// claimed by another node. The holder renews it every third of it
    /// while it runs (and with every journal write), so it bounds how
    /// long a dead node blocks the request, not how long a step may take.
    pub ttl: Duration,
    /// How long [`crate::PgJournal::claim`] waits for a lease held by
    /// another node (zero: fail at once with [`PgError::Busy`]).
    pub wait: Duration,
}

impl Default for LeaseSettings {
    /// A 30 s lease, no waiting.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            wait: Duration::ZERO,
        }
    }
}

impl LeaseSettings {
    /// A lease of `ttl`, waiting up to `wait` for another node's.
    ///
    /// # Errors
    /// [`PgError::Config`] for a lease under 1 s or over a day.
    pub fn new(ttl: Duration, wait: Duration) -> Result<Self, PgError> {
        if ttl < Duration::from_secs(1) || ttl > Duration::from_secs(86_400) {
            return Err(PgError::Config {
                reason: "a request lease lasts from 1 s to one day",
            });
        }
        Ok(Self { ttl, wait })
    }
}

/// The name a node is known by in a lease (shown to the node that waits):
/// 1–100 of `A-Z a-z 0-9 . _ : -`, e.g. `pacs-node-2:4711` (host and
/// process). Never a patient value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeName(String);

impl NodeName {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`PgError::Config`] when it breaks the rule.
    pub fn new(name: &str) -> Result<Self, PgError> {
        let ok = (1..=100).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
        if !ok {
            return Err(PgError::Config {
                reason: "a node name is 1 to 100 of A-Z a-z 0-9 . _ : -",
            });
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a claim found.
pub(crate) enum Claim {
    /// Claimed with this epoch.
    Claimed(i64),
    /// Another node holds a live lease.
    Held(String),
    /// Another claimer made the row at the same moment: try again.
    Again,
}

fn backend(op: &'static str) -> impl FnOnce(postgres::Error) -> PgError {
    PgError::backend(op)
}

/// Claims `request` for `node` for `ttl`, in one transaction.
pub(crate) fn try_claim(
    client: &mut Client,
    request: &str,
    node: &NodeName,
    ttl: Duration,
) -> Result<Claim, PgError> {
    let secs = ttl.as_secs_f64();
    let holder = node.as_str();
    let mut tx = client
        .transaction()
        .map_err(backend("claiming a request"))?;
    let row = tx
        .query_opt(
            "SELECT holder, expires_at > clock_timestamp() FROM gdpr.request_lease
             WHERE request = $1 FOR UPDATE",
            &[&request],
        )
        .map_err(backend("reading a request's lease"))?;
    let epoch: i64 = match row {
        Some(r) if r.get::<_, bool>(1) => return Ok(Claim::Held(r.get(0))),
        Some(_) => tx
            .query_one(
                "UPDATE gdpr.request_lease SET epoch = epoch + 1, holder = $2,
                   expires_at = clock_timestamp() + $3::float8 * interval '1 second'
                 WHERE request = $1 RETURNING epoch",
                &[&request, &holder, &secs],
            )
            .map_err(backend("taking over an expired lease"))?
            .get(0),
        None => {
            let made = tx
                .execute(
                    "INSERT INTO gdpr.request_lease (request, epoch, holder, expires_at)
                     VALUES ($1, 1, $2, clock_timestamp() + $3::float8 * interval '1 second')
                     ON CONFLICT DO NOTHING",
                    &[&request, &holder, &secs],
                )
                .map_err(backend("claiming a request"))?;
            if made == 0 {
                return Ok(Claim::Again);
            }
            1
        }
    };
    tx.commit().map_err(backend("claiming a request"))?;
    Ok(Claim::Claimed(epoch))
}

/// Claims `request`, polling while another node holds it, for up to
/// `settings.wait`.
pub(crate) fn claim(
    client: &mut Client,
    request: &str,
    node: &NodeName,
    settings: LeaseSettings,
) -> Result<i64, PgError> {
    let start = std::time::Instant::now();
    let poll = (settings.ttl / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        match try_claim(client, request, node, settings.ttl)? {
            Claim::Claimed(epoch) => return Ok(epoch),
            Claim::Again => continue,
            Claim::Held(holder) => {
                if start.elapsed() >= settings.wait {
                    return Err(PgError::Busy { holder });
                }
                std::thread::sleep(poll);
            }
        }
    }
}

/// Renews the lease of `epoch` for `ttl`; false when it has expired or
/// was taken over (an expired lease is never revived: its node may record
/// nothing more, even if no other node has claimed the request yet).
pub(crate) fn renew(
    client: &mut impl postgres::GenericClient,
    request: &str,
    epoch: i64,
    ttl: Duration,
) -> Result<bool, PgError> {
    let n = client
        .execute(
            "UPDATE gdpr.request_lease
               SET expires_at = clock_timestamp() + $3::float8 * interval '1 second'
             WHERE request = $1 AND epoch = $2 AND expires_at > clock_timestamp()",
            &[&request, &epoch, &ttl.as_secs_f64()],
        )
        .map_err(backend("renewing a request's lease"))?;
    Ok(n == 1)
}

/// Ends the lease of `epoch` now (another node may claim at once).
pub(crate) fn release(client: &mut Client, request: &str, epoch: i64) -> Result<(), PgError> {
    client
        .execute(
            "UPDATE gdpr.request_lease SET expires_at = clock_timestamp()
             WHERE request = $1 AND epoch = $2",
            &[&request, &epoch],
        )
        .map_err(backend("releasing a request's lease"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_and_lease_lengths_are_checked() {
        assert!(NodeName::new("pacs-node-2:4711").is_ok());
        for bad in ["", "a b", "x;y", &"n".repeat(101)] {
            assert!(NodeName::new(bad).is_err(), "{bad}");
        }
        assert!(LeaseSettings::new(Duration::from_millis(500), Duration::ZERO).is_err());
        assert!(LeaseSettings::new(Duration::from_secs(5), Duration::ZERO).is_ok());
    }
}
