//! Resuming an interrupted export ([`crate::export`]'s checkpoints): the
//! files kept are those that verify against the last checkpoint; the list
//! of records (for the manifest) and the attachments to download are
//! rebuilt by reading back what those files hold; the source continues
//! where the checkpoint says. When the source cannot continue from it, the
//! export runs from the start.

use std::path::Path;

use gdpr_connect::blocking;
use gdpr_core::store::StoreError;

use super::fhir::{Collected, FhirStore};
use super::walk::Batches;
use crate::export::ExportWriter;
use crate::model::{logical_id, resource_type};

/// Resources read back at a time.
const READ_BACK: usize = 1000;

impl FhirStore {
    /// The export's writer in `dir`: continued from a checkpoint that
    /// verifies (with what it wrote already read back into the list of
    /// records, and `source` moved on to where it stood), else new.
    pub(super) async fn resume_export(
        &self,
        patient_id: &str,
        dir: &Path,
        source: &mut (dyn Batches + '_),
    ) -> Result<(ExportWriter, Collected), StoreError> {
        let (target, base) = (dir.to_owned(), self.client().base().to_string());
        let (mut writer, cursor) = blocking("export worker", move || {
            ExportWriter::resume(&target, &base)
        })
        .await?;
        let mut found = Collected::default();
        let Some(cursor) = cursor else {
            return Ok((writer, found));
        };
        let mut back = writer.read_back()?;
        let mut seen = Vec::new();
        loop {
            let (rest, batch) = blocking("export worker", move || {
                let batch = back.next_batch(READ_BACK)?;
                Ok((back, batch))
            })
            .await?;
            back = rest;
            if batch.is_empty() {
                break;
            }
            seen.extend(batch.iter().map(|r| {
                let kind = resource_type(r).unwrap_or_default();
                format!("{kind}/{}", logical_id(r).unwrap_or_default())
            }));
            self.add_found(&mut found, &batch, patient_id);
        }
        if source.resume(&cursor, seen)? {
            return Ok((writer, found));
        }
        drop(writer);
        let (target, base) = (dir.to_owned(), self.client().base().to_string());
        let writer = blocking("export worker", move || {
            ExportWriter::create(&target, &base)
        })
        .await?;
        Ok((writer, Collected::default()))
    }
}
