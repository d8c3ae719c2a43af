//! Art. 19: the recipients to notify of an erasure or restriction, from
//! the audit log's disclosure events of the subject (read with the
//! subject's key, before an erasure shreds it) and the host's
//! disclosures, merged ([`crate::package::access`]).

use gdpr_audit::report::StaffIdentities;
use gdpr_core::request::{Notification, recipients_to_notify};

use super::Executor;
use crate::Error;
use crate::journal::StepKey;
use crate::package::access::{merge_disclosures, read_subject_log};

impl Executor {
    /// The recipients to notify of this request, as a journaled step (a
    /// resumed run after the shredding uses the recorded list). Empty for
    /// kinds Art. 19 does not cover; every disclosure up to today (UTC).
    pub(super) async fn notifications(&self) -> Result<Vec<Notification>, Error> {
        if !self.request.kind().notifies_recipients() {
            return Ok(Vec::new());
        }
        let (log, subject) = (self.log.clone(), self.setup.audit_subject.clone());
        let host = self.setup.package.disclosures.clone();
        let kind = self.request.kind().clone();
        self.steps
            .run(StepKey::new(&["recipients"])?, move || async move {
                tokio::task::spawn_blocking(move || {
                    let mut read = None;
                    log.read(&mut |store, keys| {
                        read = Some(read_subject_log(
                            store,
                            keys,
                            &subject,
                            StaffIdentities::Withhold,
                        )?);
                        Ok(())
                    })?;
                    let read = read.ok_or_else(|| {
                        Error::io("read the disclosures")(std::io::Error::other(
                            "the audit log was not read",
                        ))
                    })?;
                    let all = merge_disclosures(&host, &read.disclosures);
                    let today = jiff::tz::Offset::UTC
                        .to_datetime(jiff::Timestamp::now())
                        .date();
                    Ok(recipients_to_notify(&kind, &all, today))
                })
                .await
                .map_err(|_| {
                    Error::io("read the disclosures")(std::io::Error::other("worker stopped"))
                })?
            })
            .await
    }
}
