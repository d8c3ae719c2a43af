//! The restriction register on PostgreSQL: gdpr-request's
//! [`RestrictionRegister`] shared by every node of a tenant, read by hosts
//! and the gateway before every access. One row per record and slot (the
//! Art. 18 restriction, the kept record's) holds the entry in force or
//! lifted, in the same JSON as the embedded register's lines; every change
//! is also appended to `gdpr.restriction_history`. A recorded entry is
//! acknowledged after `COMMIT`, so every node's next lookup sees it.
//! The same register holds the tenant's objections (`objections.rs`).

use gdpr_core::request::SystemName;
use gdpr_core::store::RecordId;
use gdpr_request::Error as RequestError;
use gdpr_request::objections::ObjectionRegister;
use gdpr_request::register::{RestrictionEntry, RestrictionRegister};

use crate::config::PgConfig;
use crate::db_thread::{DbThread, NoUpkeep};
use crate::error::PgError;

/// The register of one tenant (the role of the connection).
#[derive(Debug)]
pub struct PgRegister {
    pub(crate) db: DbThread,
}

impl PgRegister {
    /// Connects as the tenant of `config` and checks the schema version.
    /// Works in any async runtime (the connection has a thread of its own).
    ///
    /// # Errors
    /// [`PgError::OlderSchema`], [`PgError::NewerSchema`],
    /// [`PgError::Backend`].
    pub async fn open(config: &PgConfig) -> Result<Self, PgError> {
        let config = config.clone();
        let (db, ()) = DbThread::start("gdpr-pg-register", move || {
            let mut client = config.connect()?;
            crate::migrate::check(&mut client)?;
            Ok((client, (), NoUpkeep))
        })
        .await?;
        Ok(Self { db })
    }

    /// Every slot's entry, in force or lifted, by system and record.
    ///
    /// # Errors
    /// [`RequestError::Backend`], [`RequestError::Damaged`].
    pub async fn entries(&self) -> Result<Vec<RestrictionEntry>, RequestError> {
        self.select(
            "SELECT entry FROM gdpr.restriction ORDER BY system, record, art18 DESC",
            None,
        )
        .await
    }

    async fn select(
        &self,
        sql: &'static str,
        key: Option<(String, String)>,
    ) -> Result<Vec<RestrictionEntry>, RequestError> {
        let texts: Vec<String> = self
            .db
            .call(move |c| {
                let rows = match &key {
                    Some((s, r)) => c.query(sql, &[s, r]),
                    None => c.query(sql, &[]),
                }
                .map_err(PgError::backend("reading the restriction register"))?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })
            .await
            .map_err(|e| backend("reading the PostgreSQL restriction register", e))?;
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::from_str(t).map_err(|_| RequestError::Damaged {
                    what: "the PostgreSQL restriction register",
                    line: i as u64 + 1,
                })
            })
            .collect()
    }
}

pub(crate) fn backend(what: &'static str, e: PgError) -> RequestError {
    RequestError::Backend {
        what,
        source: Box::new(e),
    }
}

#[async_trait::async_trait]
impl RestrictionRegister for PgRegister {
    async fn record(&self, entry: &RestrictionEntry) -> Result<(), RequestError> {
        let json = serde_json::to_string(entry).map_err(|e| RequestError::Backend {
            what: "encoding a register entry",
            source: Box::new(e),
        })?;
        let system = entry.system.as_str().to_owned();
        let record = entry.record.as_str().to_owned();
        let (art18, lifted) = (entry.is_art18(), entry.lifted.is_some());
        self.db
            .call(move |c| {
                let fail = PgError::backend("recording a restriction");
                let mut tx = c.transaction().map_err(fail)?;
                // The same entry again changes nothing (no row returned).
                let changed = tx
                    .query_opt(
                        "INSERT INTO gdpr.restriction AS r (system, record, art18, lifted, entry)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (tenant, system, record, art18) DO UPDATE
                           SET lifted = EXCLUDED.lifted, entry = EXCLUDED.entry,
                               updated_at = clock_timestamp()
                           WHERE r.entry <> EXCLUDED.entry
                         RETURNING 1",
                        &[&system, &record, &art18, &lifted, &json],
                    )
                    .map_err(PgError::backend("recording a restriction"))?
                    .is_some();
                if changed {
                    tx.execute(
                        "INSERT INTO gdpr.restriction_history (system, record, art18, entry)
                         VALUES ($1, $2, $3, $4)",
                        &[&system, &record, &art18, &json],
                    )
                    .map_err(PgError::backend("recording a restriction's history"))?;
                }
                tx.commit()
                    .map_err(PgError::backend("committing a restriction"))
            })
            .await
            .map_err(|e| backend("recording in the PostgreSQL restriction register", e))
    }

    async fn in_force(
        &self,
        system: &SystemName,
        record: &RecordId,
    ) -> Result<Vec<RestrictionEntry>, RequestError> {
        self.select(
            "SELECT entry FROM gdpr.restriction
             WHERE system = $1 AND record = $2 AND NOT lifted ORDER BY art18 DESC",
            Some((system.as_str().to_owned(), record.as_str().to_owned())),
        )
        .await
    }

    fn objections(&self) -> Option<&dyn ObjectionRegister> {
        Some(self)
    }
}
