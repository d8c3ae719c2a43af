//! Properties of retention decisions that hold for every record, pack and
//! date.

use gdpr_core::category::RecordCategory;
use gdpr_core::retention::{
    AgeEnd, CategorySet, Fact, LegalHold, MinorsClause, RetentionRecord, RulePack, Status, Trigger,
};
use jiff::ToSpan;
use jiff::civil::{Date, date};
use proptest::prelude::*;

fn packs() -> Vec<RulePack> {
    RulePack::all_builtin().unwrap()
}

/// Dates in a window narrow enough that children, deaths soon after the
/// last visit and 29 February starts all come up often.
fn any_date() -> impl Strategy<Value = Date> {
    (1980i16..2060, 1i8..=12, 1i8..=31).prop_map(|(y, m, d)| {
        // Clamp to the month's length; 29 February stays possible.
        let first = date(y, m, 1);
        date(y, m, d.min(first.days_in_month()))
    })
}

fn any_record() -> impl Strategy<Value = RetentionRecord> {
    // Mostly the categories the built-in packs cover (the first five), and
    // a sixth that none covers.
    let cats = prop::collection::vec(0usize..6, 1..3);
    let modality = prop::option::of(prop::sample::select(vec![
        "CT", "MR", "DX", "NM", "US", "PT",
    ]));
    let dates = prop::collection::vec(prop::option::weighted(0.9, any_date()), 6);
    let holds = prop::collection::vec(any::<bool>(), LegalHold::ALL.len());
    (cats, modality, dates, holds).prop_map(|(cats, modality, dates, holds)| {
        let mut set = CategorySet::EMPTY;
        for c in cats {
            set.insert(RecordCategory::ALL[c]);
        }
        let mut r = RetentionRecord::with_categories(set);
        if let Some(m) = modality {
            r = r.with_modality(m.parse().unwrap());
        }
        let facts = [
            Fact::BirthDate,
            Fact::DeathDate,
            Fact::EventDate,
            Fact::TreatmentEnd,
            Fact::LastVisit,
            Fact::LastChange,
        ];
        for (fact, d) in facts.into_iter().zip(dates) {
            if let Some(d) = d {
                r = r.with_date(fact, d);
            }
        }
        // Holds are rare so that most cases exercise the periods.
        if holds.iter().all(|h| *h) {
            r = r.with_hold(LegalHold::Litigation);
        }
        r
    })
}

fn unheld(r: RetentionRecord) -> RetentionRecord {
    r.with_holds(Default::default())
}

/// A rule as TOML, for extending a pack.
fn any_rule_toml() -> impl Strategy<Value = String> {
    let trigger = prop::sample::select(vec![
        "event_date",
        "treatment_end",
        "last_visit",
        "last_change",
    ]);
    (
        0usize..RecordCategory::ALL.len(),
        0u16..40,
        trigger,
        prop::option::of((10u8..19, 18u8..30, any::<bool>())),
        any::<bool>(),
    )
        .prop_map(|(cat, years, from, minors, round)| {
            let mut t = format!(
                "[[rule]]\nid = \"extra\"\ncategory = \"{}\"\nyears = {years}\nfrom = \"{from}\"\n\
                 round_up_to_year_end = {round}\nsource = \"test rule\"\n",
                RecordCategory::ALL[cat]
            );
            if let Some((under, until, birthday)) = minors {
                let until_kind = if birthday { "birthday" } else { "day-before-birthday" };
                t += &format!(
                    "[rule.minors]\nunder_age = {under}\nage_at = \"{from}\"\nuntil_age = {until}\nuntil = \"{until_kind}\"\n"
                );
            }
            t
        })
}

/// The minors clause's end computed independently with jiff's own
/// arithmetic (which moves 29 February to 28 February): a lower bound for
/// every convention. `None` when the clause does not apply.
fn naive_minors_end(r: &RetentionRecord, m: &MinorsClause) -> Option<Date> {
    let birth = r.date(Fact::BirthDate)?;
    if let Some(under) = m.under_age {
        let at = r.date(m.age_at.fact())?;
        let adult_from = birth.checked_add(i64::from(under).years()).ok()?;
        if at >= adult_from {
            return None;
        }
    }
    let birthday = birth.checked_add(i64::from(m.until_age).years()).ok()?;
    match m.until {
        AgeEnd::Birthday => Some(birthday),
        _ => birthday.yesterday().ok(),
    }
}

fn trigger_fact(t: Trigger) -> Fact {
    t.fact()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// retain_until is never earlier than any applicable rule's end, nor
    /// than the bare period computed independently with jiff; a due record
    /// is past all of them.
    #[test]
    fn retain_until_is_never_earlier_than_an_applicable_minimum(
        p in 0usize..5, r in any_record(), at in any_date()
    ) {
        let packs = packs();
        let pack = &packs[p];
        let d = pack.decide(&r, at);
        if let Some(until) = d.retain_until() {
            for rule in pack.rules() {
                if rule.covers(&r) != Ok(true) {
                    continue;
                }
                let end = rule.end(&r, pack.convention()).unwrap();
                prop_assert!(until >= end.until, "{} ends later", rule.id());
                let death_applies = rule.death().is_some() && r.date(Fact::DeathDate).is_some();
                if !death_applies {
                    let start = r.date(trigger_fact(rule.from())).unwrap();
                    if let Ok(naive) = start.checked_add(i64::from(rule.years()).years()) {
                        prop_assert!(until >= naive, "{}: before the bare period", rule.id());
                    }
                    if let Some(m) = rule.minors() {
                        prop_assert!(until >= naive_minors_end(&r, m).unwrap_or(Date::MIN),
                            "{}: before the minors clause", rule.id());
                    }
                }
            }
            if d.status() == Status::Due {
                prop_assert!(at > until);
            }
        } else {
            prop_assert!(matches!(d.status(), Status::Undetermined | Status::Held));
        }
        if d.status() == Status::Undetermined {
            prop_assert!(d.undetermined().is_some());
        }
    }

    /// Adding a rule to a pack never shortens retention and never turns a
    /// kept record into a due one.
    #[test]
    fn adding_a_rule_never_shortens_retention(
        p in 0usize..5, r in any_record(), at in any_date(), extra in any_rule_toml()
    ) {
        let r = unheld(r);
        let packs = packs();
        let before_pack = packs[p].clone();
        let after_pack = packs[p].clone().extended_with_toml(&extra).unwrap();
        let before = before_pack.decide(&r, at);
        let after = after_pack.decide(&r, at);
        if let (Some(b), Some(a)) = (before.retain_until(), after.retain_until()) {
            prop_assert!(a >= b);
        }
        if before.status() == Status::Retain {
            prop_assert!(matches!(after.status(), Status::Retain | Status::Undetermined));
        }
        if after.status() == Status::Due {
            prop_assert!(matches!(before.status(), Status::Due | Status::Review | Status::Undetermined));
        }
    }

    /// A hold always yields `held`, whatever the record, pack or date, and
    /// the decision names the hold.
    #[test]
    fn a_hold_always_yields_held(
        p in 0usize..5, r in any_record(), at in any_date(), h in 0usize..LegalHold::ALL.len()
    ) {
        let packs = packs();
        let hold = LegalHold::ALL[h];
        let d = packs[p].decide(&r.with_hold(hold), at);
        prop_assert_eq!(d.status(), Status::Held);
        prop_assert!(d.holds().contains(hold));
    }
}
