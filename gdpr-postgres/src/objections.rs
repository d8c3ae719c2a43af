//! The objection register on PostgreSQL: gdpr-request's
//! [`ObjectionRegister`] kept by [`PgRegister`] beside the restrictions,
//! so that an objection run on any node is seen by every later
//! `authorize` of the tenant (hosts, the gateway, `gdpr authorize
//! --postgres`). One row per (subject-wide record id, request) holds the
//! objection in the same JSON as the embedded register's lines; the
//! controller's compelling grounds replace the row's entry; every change is
//! also appended to `gdpr.objection_history`. Recording the entry a row
//! already holds changes nothing (no history row), also when two nodes
//! record it at once: the second waits on the first's row lock, then finds
//! it equal. Acknowledged after `COMMIT`.

use gdpr_core::store::RecordId;
use gdpr_request::Error as RequestError;
use gdpr_request::objections::{ObjectionEntry, ObjectionRegister};

use crate::error::PgError;
use crate::register::{PgRegister, backend};

impl PgRegister {
    /// Every objection entry of the tenant (each request's latest), by
    /// subject and request.
    ///
    /// # Errors
    /// [`RequestError::Backend`], [`RequestError::Damaged`].
    pub async fn objection_entries(&self) -> Result<Vec<ObjectionEntry>, RequestError> {
        self.select_objections(None).await
    }

    async fn select_objections(
        &self,
        subject: Option<String>,
    ) -> Result<Vec<ObjectionEntry>, RequestError> {
        let texts: Vec<String> = self
            .db
            .call(move |c| {
                let fail = PgError::backend("reading the objection register");
                let rows = match &subject {
                    Some(s) => c.query(
                        "SELECT entry FROM gdpr.objection WHERE subject = $1
                         ORDER BY updated_at, request",
                        &[s],
                    ),
                    None => c.query(
                        "SELECT entry FROM gdpr.objection ORDER BY subject, request",
                        &[],
                    ),
                }
                .map_err(fail)?;
                Ok(rows.iter().map(|r| r.get(0)).collect())
            })
            .await
            .map_err(|e| backend("reading the PostgreSQL objection register", e))?;
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::from_str(t).map_err(|_| RequestError::Damaged {
                    what: "the PostgreSQL objection register",
                    line: i as u64 + 1,
                })
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl ObjectionRegister for PgRegister {
    async fn record_objection(&self, entry: &ObjectionEntry) -> Result<(), RequestError> {
        let json = serde_json::to_string(entry).map_err(|e| RequestError::Backend {
            what: "encoding an objection entry",
            source: Box::new(e),
        })?;
        let subject = entry.subject.as_str().to_owned();
        let request = entry.request.as_str().to_owned();
        self.db
            .call(move |c| {
                let fail = PgError::backend("recording an objection");
                let mut tx = c.transaction().map_err(fail)?;
                // The same entry again changes nothing (no row returned).
                let changed = tx
                    .query_opt(
                        "INSERT INTO gdpr.objection AS o (subject, request, entry)
                         VALUES ($1, $2, $3)
                         ON CONFLICT (tenant, subject, request) DO UPDATE
                           SET entry = EXCLUDED.entry, updated_at = clock_timestamp()
                           WHERE o.entry <> EXCLUDED.entry
                         RETURNING 1",
                        &[&subject, &request, &json],
                    )
                    .map_err(PgError::backend("recording an objection"))?
                    .is_some();
                if changed {
                    tx.execute(
                        "INSERT INTO gdpr.objection_history (subject, request, entry)
                         VALUES ($1, $2, $3)",
                        &[&subject, &request, &json],
                    )
                    .map_err(PgError::backend("recording an objection's history"))?;
                }
                tx.commit()
                    .map_err(PgError::backend("committing an objection"))
            })
            .await
            .map_err(|e| backend("recording in the PostgreSQL objection register", e))
    }

    async fn objections_of(&self, subject: &RecordId) -> Result<Vec<ObjectionEntry>, RequestError> {
        self.select_objections(Some(subject.as_str().to_owned()))
            .await
    }
}
