//! Where a rule of the request workflow comes from: a provision, or a
//! reading of one where the law needs interpreting. A reading is named as
//! such, with a stable id, so that a decision can show it and a reviewer can
//! disagree with it by name.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::Citation;

/// The source of one step of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Source {
    /// A provision, applied as written.
    Provision {
        /// The provision, e.g. `"GDPR Art. 12(3)"`.
        citation: Citation,
    },
    /// This project's reading of a provision whose text leaves a choice.
    Reading {
        /// A stable name, e.g. `"extension-as-one-period"`.
        id: Cow<'static, str>,
        /// The provision read.
        of: Citation,
        /// The reading, in one sentence.
        text: Cow<'static, str>,
    },
}

impl Source {
    /// A provision of a built-in rule.
    pub const fn provision(citation: &'static str) -> Self {
        Self::Provision {
            citation: Citation::from_static(citation),
        }
    }

    /// A reading of a built-in rule.
    pub const fn reading(id: &'static str, of: &'static str, text: &'static str) -> Self {
        Self::Reading {
            id: Cow::Borrowed(id),
            of: Citation::from_static(of),
            text: Cow::Borrowed(text),
        }
    }

    /// The provision cited (for a reading: the provision read).
    pub fn citation(&self) -> &Citation {
        match self {
            Self::Provision { citation } | Self::Reading { of: citation, .. } => citation,
        }
    }

    /// The reading's id, when this is a reading.
    pub fn reading_id(&self) -> Option<&str> {
        match self {
            Self::Reading { id, .. } => Some(id),
            Self::Provision { .. } => None,
        }
    }
}

/// GDPR Art. 12(3): one month from receipt, extendable by two.
pub const ART_12_3: &str = "GDPR Art. 12(3)";
/// GDPR Art. 12(4): reasons and the right to complain when not acting.
pub const ART_12_4: &str = "GDPR Art. 12(4)";
/// Regulation 1182/71 Art. 3(1): the day of the event is not counted.
pub const REG_1182_3_1: &str = "Regulation (EEC, Euratom) No 1182/71 Art. 3(1)";
/// Regulation 1182/71 Art. 3(2)(c): a period in months ends on the same
/// date, or the last day of a shorter month.
pub const REG_1182_3_2_C: &str = "Regulation (EEC, Euratom) No 1182/71 Art. 3(2)(c)";
/// Regulation 1182/71 Art. 3(4): a period ending on a Saturday, Sunday or
/// public holiday ends at the end of the next working day.
pub const REG_1182_3_4: &str = "Regulation (EEC, Euratom) No 1182/71 Art. 3(4)";

/// The readings of the deadline arithmetic.
pub mod readings {
    use super::Source;

    /// The day of receipt is the calendar day in the controller's time zone.
    pub const RECEIPT_DAY: Source = Source::reading(
        "receipt-day-in-controller-zone",
        super::REG_1182_3_1,
        "the day of receipt is the calendar day in the controller's time zone \
         (the place where the action is taken, Art. 2(1) of the Regulation)",
    );

    /// An extended deadline is one period counted from receipt.
    pub const EXTENSION_AS_ONE_PERIOD: Source = Source::reading(
        "extension-as-one-period",
        super::ART_12_3,
        "an extension by N months gives one period of 1 + N months counted from \
         the day of receipt (not N months added to the first deadline after its \
         Art. 3(4) shift), so a weekend at the end of the first month never \
         lengthens the extended one",
    );

    /// The extension must be told by the end of the first period.
    pub const TOLD_WITHIN_FIRST_PERIOD: Source = Source::reading(
        "extension-told-within-first-period",
        super::ART_12_3,
        "\"within one month of receipt\" is the first period itself, including \
         its Art. 3(4) shift to the next working day",
    );
}
