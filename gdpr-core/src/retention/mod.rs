//! Retention: how long health records must be kept, and when they are due
//! for deletion (GDPR Art. 5(1)(e) storage limitation, Art. 17(1)(a)),
//! under the national law of each jurisdiction.
//!
//! - [`RulePack`] — the rules of one jurisdiction, from an embedded TOML
//!   file ([`RulePack::builtin`]), optionally extended by a user pack
//!   ([`RulePack::extended_with_toml`]). Each [`Rule`] carries its legal
//!   source.
//! - [`period`] — the date arithmetic (§§ 187–188 BGB and the conventions of
//!   the other packs).
//! - [`RetentionRecord`] — the facts about one record; [`parse_record_line`]
//!   reads one from a JSON line.
//! - [`RulePack::decide`] — the [`Decision`]: `retain_until` (inclusive),
//!   [`Status`], the rules that applied, the holds, the purposes the
//!   running duties keep the record for ([`Decision::keeps_for`]), or why it
//!   is undetermined. The longest minimum wins; a [`LegalHold`] always keeps
//!   the record; a missing fact never defaults to deletion; a suspension
//!   (France) adds its length.
//! - [`LatestExaminations`] — groups a catalog by subject, for rules that
//!   count from the patient's last examination.
//! - [`RulePack::decide_destruction_request`] — a patient's request to
//!   destroy the file early (Art. 7:455 BW).
//! - [`Planner`] — streams a catalog into due/review/held/undetermined.
//!
//! ```
//! use gdpr_core::category::RecordCategory;
//! use gdpr_core::purpose::Purpose;
//! use gdpr_core::retention::{Jurisdiction, RetentionRecord, RulePack, Status};
//! use jiff::civil::date;
//!
//! let de = RulePack::builtin(&"DE".parse::<Jurisdiction>()?)?.expect("DE is built in");
//! let ct = RetentionRecord::new(RecordCategory::ImagingExamination)
//!     .with_modality("CT".parse()?)
//!     .with_birth_date(date(2010, 5, 1))
//!     .with_event_date(date(2015, 1, 10))
//!     // The patient's latest examination (group by subject:
//!     // `LatestExaminations`).
//!     .with_last_examination(date(2016, 3, 1));
//! let d = de.decide(&ct, date(2026, 1, 1));
//! assert_eq!(d.status(), Status::Retain);
//! // A child at the examination: kept until completing the 28th year of life.
//! assert_eq!(d.retain_until(), Some(date(2038, 4, 30)));
//! assert_eq!(
//!     d.rules().next().unwrap().source().as_str(),
//!     "§ 85(2) S. 1 Nr. 2, Nr. 3 StrlSchG"
//! );
//! // What the running duty keeps the record for (read by authorization).
//! assert!(d.keeps_for().contains(Purpose::LegalClaims));
//! assert!(!d.keeps_for().contains(Purpose::Research));
//! # Ok::<(), gdpr_core::Error>(())
//! ```

mod category_set;
mod clause;
mod decision;
mod facet;
pub mod follows;
mod hold;
mod jurisdiction;
mod keeps;
mod line;
mod modality;
mod pack;
pub mod period;
mod planner;
mod record;
mod request;
mod rule;
mod schema;
mod subject;

pub use clause::{AgeEnd, AgeExtension, Clause, DeathClause, DeathWhen, Expiry, MinorsClause};
pub use decision::{Decision, Status, Undetermined};
pub use facet::{Facet, FacetSet, Setting};
pub use follows::Follower;
pub use hold::{HoldSet, LegalHold};
pub use keeps::PurposeSet;
pub use line::{RecordLine, parse_record_line};
pub use modality::Modality;
pub use pack::{Jurisdiction, MAX_RULES, RulePack};
pub use period::DateConvention;
pub use planner::{Plan, PlanCounts, Planner, RuleCount};
pub use record::{CategorySet, Fact, RetentionRecord, Trigger};
pub use request::{DestructionRequest, Refusal, RequestOutcome};
pub use rule::{Gap, Rule, RuleEnd};
pub use subject::LatestExaminations;
