//! Legal holds: reasons to keep a record regardless of its retention
//! period, each with the GDPR provision that allows keeping it.

use serde::{Deserialize, Serialize};

use crate::Citation;

/// A legal hold on a record. A held record is never due for deletion,
/// whatever its rules say; the decision names every hold.
///
/// An erasure request is not a hold: it is a reason to erase within the
/// Art. 12(3) deadline, decided by [`crate::erasure::decide_erasure`]; the
/// request's own record is kept, not the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LegalHold {
    /// Pending or reasonably expected litigation: the record is needed for
    /// the establishment, exercise or defence of legal claims.
    Litigation,
    /// A research freeze: the record is part of a study's locked data set.
    ResearchFreeze,
    /// Kept for reasons of public interest in the area of public health
    /// (e.g. an outbreak investigation or a product recall).
    PublicHealth,
    /// An authority or court requires the record to be kept (a seizure,
    /// an audit, a preservation order).
    LegalObligation,
}

impl LegalHold {
    /// Every hold, for listings and property tests.
    pub const ALL: [LegalHold; 4] = [
        Self::Litigation,
        Self::ResearchFreeze,
        Self::PublicHealth,
        Self::LegalObligation,
    ];

    /// The kebab-case name used in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Litigation => "litigation",
            Self::ResearchFreeze => "research-freeze",
            Self::PublicHealth => "public-health",
            Self::LegalObligation => "legal-obligation",
        }
    }

    /// The provision that allows keeping the record despite Art. 5(1)(e)
    /// and Art. 17(1).
    pub const fn citation(self) -> Citation {
        Citation::from_static(match self {
            Self::Litigation => "GDPR Art. 17(3)(e)",
            Self::ResearchFreeze => "GDPR Art. 17(3)(d), Art. 89(1)",
            Self::PublicHealth => "GDPR Art. 17(3)(c), Art. 9(2)(i)",
            Self::LegalObligation => "GDPR Art. 17(3)(b)",
        })
    }

    /// [`LegalHold::citation`] under another data-protection law with the
    /// same article numbers (`"UK GDPR"` in England, see
    /// [`RulePack::data_protection_law`](crate::retention::RulePack::data_protection_law)).
    pub fn citation_under(self, law: &Citation) -> Citation {
        let cite = self.citation();
        match cite.as_str().strip_prefix("GDPR ") {
            Some(rest) if law.as_str() != "GDPR" => Citation::new(format!("{law} {rest}")),
            _ => cite,
        }
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

display_and_parse_by_name!(
    LegalHold,
    "legal hold",
    "litigation, research-freeze, public-health, legal-obligation \
                           (an erasure request is no hold: it is decided by \
                           gdpr_core::erasure::decide_erasure, GDPR Art. 17, 12(3))"
);

/// A set of legal holds, stored as bits: copying it never allocates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HoldSet(u8);

impl HoldSet {
    /// No holds.
    pub const EMPTY: HoldSet = HoldSet(0);

    /// Adds a hold.
    pub fn insert(&mut self, hold: LegalHold) {
        self.0 |= hold.bit();
    }

    /// This set with `hold` added.
    #[must_use]
    pub fn with(mut self, hold: LegalHold) -> Self {
        self.insert(hold);
        self
    }

    /// Whether `hold` is in the set.
    pub fn contains(self, hold: LegalHold) -> bool {
        self.0 & hold.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The holds in the set, in the order of [`LegalHold::ALL`].
    pub fn iter(self) -> impl Iterator<Item = LegalHold> {
        LegalHold::ALL
            .into_iter()
            .filter(move |h| self.contains(*h))
    }
}

impl FromIterator<LegalHold> for HoldSet {
    fn from_iter<I: IntoIterator<Item = LegalHold>>(iter: I) -> Self {
        let mut set = HoldSet::EMPTY;
        for h in iter {
            set.insert(h);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_distinct() {
        let mut all = HoldSet::EMPTY;
        for h in LegalHold::ALL {
            assert_eq!(h.name().parse::<LegalHold>().unwrap(), h);
            assert!(!all.contains(h));
            all.insert(h);
        }
        assert_eq!(all.iter().count(), LegalHold::ALL.len());
    }

    #[test]
    fn litigation_cites_art_17_3_e() {
        assert_eq!(
            LegalHold::Litigation.citation().as_str(),
            "GDPR Art. 17(3)(e)"
        );
    }

    #[test]
    fn holds_cite_the_uk_gdpr_in_england() {
        let uk = Citation::new("UK GDPR");
        assert_eq!(
            LegalHold::Litigation.citation_under(&uk).as_str(),
            "UK GDPR Art. 17(3)(e)"
        );
        let eu = Citation::from_static("GDPR");
        assert_eq!(
            LegalHold::Litigation.citation_under(&eu).as_str(),
            "GDPR Art. 17(3)(e)"
        );
    }

    /// An erasure request is a reason to erase, not to keep (issue 12):
    /// the old hold name is refused, in JSON too, and the message says
    /// where erasure requests are decided.
    #[test]
    fn an_erasure_request_is_no_hold() {
        let err = "erasure-request".parse::<LegalHold>().unwrap_err();
        assert!(err.to_string().contains("decide_erasure"), "{err}");
        assert!(serde_json::from_str::<LegalHold>("\"erasure-request\"").is_err());
        assert!(LegalHold::ALL.iter().all(|h| h.name() != "erasure-request"));
    }

    #[test]
    fn unknown_hold_lists_the_valid_ones() {
        let err = "vacation".parse::<LegalHold>().unwrap_err();
        assert!(err.to_string().contains("litigation"));
    }
}
