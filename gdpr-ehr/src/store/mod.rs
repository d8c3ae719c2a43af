//! The [`SubjectStore`](gdpr_core::store::SubjectStore) adapter for any FHIR
//! R4 server (feature `adapters`).

mod attachments;
mod batch;
mod erase;
mod fhir;
mod label;
mod pipeline;
mod resolve;
mod resume;
mod subject_store;
mod unlink;
mod walk;

pub use attachments::{Attachment, INDEX_FILE, attachments_of, fetch};
pub use erase::{Left, erase_resource, what_is_left};
pub(crate) use fhir::summary as summarize;
pub use fhir::{FhirConfig, FhirStore, Found, Written};
pub use label::{LABEL_CODE, LABEL_DISPLAY, LABEL_SYSTEM, is_labelled, set_label};
pub use resolve::{carries, resolve};
pub(crate) use subject_store::{kind_of, record_id, resource_of};
pub use unlink::{
    UNLINKABLE, is_unlinkable, unlink, unlinked_part, what_is_left_linked, without_patient,
};
pub use walk::{Batches, Walk};
