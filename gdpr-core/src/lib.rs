//! # gdpr-core — the law as types
//!
//! The part of the `gdpr-health` family that a data-protection officer reads.
//! It models GDPR Art. 6 and Art. 9 as they apply to medical data: lawful
//! bases (always a *pair* of an Art. 6 basis and an Art. 9(2) condition for
//! health data), purposes and their compatibility, data categories, actors
//! and their professional secrecy (Art. 9(3)), and the citations that make
//! every decision explainable.
//!
//! The crate is **pure**: it performs no I/O and reads no clock. Time is
//! always an argument, so every decision can be replayed.
//!
//! ```
//! use gdpr_core::basis::{Art6Basis, Art9Condition, HealthBasis};
//!
//! let care = HealthBasis::new(Art6Basis::LegalObligation, Art9Condition::HealthCare);
//! assert_eq!(care.art9().citation().as_str(), "GDPR Art. 9(2)(h)");
//! ```
//!
//! ## One entry point per task
//!
//! - Authorize an access: [`authorization::authorize`] (a worked example
//!   there); record what a permit allowed with gdpr-audit's
//!   `AuditEvent::for_permit`, so the basis logged is the basis decided.
//! - Decide how long a record is kept: [`retention::RulePack::decide`]; its
//!   [`retention::Decision::retention_phase`] feeds
//!   [`authorization::Request::retention_phase`].
//! - Decide an erasure request: [`erasure::decide_erasure`]; for every
//!   record found across systems: [`request::assess_erasure`].
//! - Track a data-subject request (Art. 12, 15–21) from receipt to answer,
//!   with its deadline: [`request::DataSubjectRequest`] (a worked example
//!   in [`request`]).
//! - Screen for a DPIA: [`dpia::Screening`].
//! - Erase a subject from a store: the [`store::SubjectStore`] trait
//!   (implemented in gdpr-dicom).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// `Display` (the `name()`) and `FromStr` (its inverse over `ALL`; an
/// unknown name is [`Error::UnknownName`] with `what` and the `expected`
/// names) for a fieldless enum with `const ALL` and
/// `const fn name(self) -> &'static str`.
macro_rules! display_and_parse_by_name {
    ($ty:ty, $what:literal, $expected:expr) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .into_iter()
                    .find(|x| x.name() == s)
                    .ok_or($crate::Error::UnknownName {
                        what: $what,
                        expected: $expected,
                    })
            }
        }
    };
}

pub mod activity;
pub mod actor;
pub mod authorization;
pub mod basis;
pub mod category;
pub mod citation;
pub mod consent;
pub mod decision;
pub mod dpia;
pub mod erasure;
pub mod error;
pub mod national;
pub mod objection;
pub mod purpose;
pub mod redact;
pub mod request;
pub mod restriction;
pub mod retention;
pub mod ropa;
pub mod scope;
pub mod store;
pub mod subject;

pub use citation::Citation;
pub use error::Error;
