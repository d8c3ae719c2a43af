//! Properties of retention decisions that hold for every record, pack and
//! date.

use gdpr_core::category::RecordCategory;
use gdpr_core::retention::{
    AgeEnd, CategorySet, DateConvention, Facet, Fact, LegalHold, MinorsClause, RetentionRecord,
    RulePack, Setting, Status, Trigger,
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
    // Mostly the categories the built-in packs cover (the first five, the
    // genetic test and the trial master file), and one that none covers
    // (diagnosis, index 5).
    let cats = prop::collection::vec(
        prop::sample::select(vec![0usize, 1, 2, 3, 4, 5, 9, 12]),
        1..3,
    );
    let modality = prop::option::of(prop::sample::select(vec![
        "CT", "MR", "DX", "NM", "US", "PT", "SR", "RTPLAN", "ST", "OT",
    ]));
    let dates = prop::collection::vec(prop::option::weighted(0.9, any_date()), 7);
    let holds = prop::collection::vec(any::<bool>(), LegalHold::ALL.len());
    let setting = prop::option::of(prop::sample::select(Setting::ALL.to_vec()));
    let facets = prop::collection::vec(prop::sample::select(Facet::ALL.to_vec()), 0..3);
    let suspended = prop::option::weighted(0.2, 0u32..2000);
    (cats, modality, dates, holds, (setting, facets, suspended)).prop_map(
        |(cats, modality, dates, holds, (setting, facets, suspended))| {
            let mut set = CategorySet::EMPTY;
            for c in cats {
                set.insert(RecordCategory::ALL[c]);
            }
            let mut r = RetentionRecord::with_categories(set);
            if let Some(m) = modality {
                r = r.with_modality(m.parse().unwrap());
            }
            if let Some(s) = setting {
                r = r.with_setting(s);
            }
            for f in facets {
                r = r.with_facet(f);
            }
            if let Some(days) = suspended {
                r = r.with_suspended_days(days);
            }
            let facts = [
                Fact::BirthDate,
                Fact::DeathDate,
                Fact::EventDate,
                Fact::TreatmentEnd,
                Fact::LastVisit,
                Fact::LastChange,
                Fact::LastExamination,
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
        },
    )
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
            if matches!(d.status(), Status::Due | Status::Review | Status::EliminationProcedure) {
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

    /// A suspension adds exactly its length where a rule is suspensible
    /// (France) and changes nothing elsewhere; it never shortens retention.
    #[test]
    fn a_suspension_adds_its_length_and_never_shortens(
        p in 0usize..6, r in any_record(), at in any_date(), days in 0u32..5000
    ) {
        let packs = packs();
        let pack = &packs[p];
        let r = unheld(r).with_suspended_days(0);
        let before = pack.decide(&r, at);
        let after = pack.decide(&r.with_suspended_days(days), at);
        if let (Some(b), Some(a)) = (before.retain_until(), after.retain_until()) {
            let extended = b.checked_add(i64::from(days).days()).unwrap_or(Date::MAX);
            if after.rules().all(|rule| rule.is_suspensible()) {
                prop_assert_eq!(a, extended);
            } else if after.rules().any(|rule| rule.is_suspensible()) {
                // A rule that is not suspended (the trial master file) may
                // still govern: never shorter, never more than the days.
                prop_assert!(b <= a && a <= extended, "{b} {a} {extended}");
            } else {
                prop_assert_eq!(a, b);
            }
        }
        prop_assert_eq!(before.retain_until().is_some(), after.retain_until().is_some());
    }

    /// A record is kept for some purpose exactly while a duty runs: the
    /// purposes are non-empty iff the status is `retain` (unheld records).
    #[test]
    fn purposes_are_kept_exactly_while_a_duty_runs(
        p in 0usize..6, r in any_record(), at in any_date()
    ) {
        let packs = packs();
        let d = packs[p].decide(&unheld(r), at);
        prop_assert_eq!(d.status() == Status::Retain, !d.keeps_for().is_empty());
    }

    /// A person born on 29 February completes each year of life at the end
    /// of 28 February and reaches the age on the next day (1 March in a
    /// common year, 29 February in a leap year), under every convention.
    #[test]
    fn leap_day_births_complete_their_years_on_28_february(
        y in (1900i16..2400).prop_filter("leap", |y| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0),
        n in 1u8..120, next_day in any::<bool>()
    ) {
        let c = if next_day { DateConvention::NextDay } else { DateConvention::MonthEnd };
        let birth = date(y, 2, 29);
        let end = c.completes_year_of_life(birth, n);
        prop_assert_eq!(end, date(y + i16::from(n), 2, 28));
        prop_assert_eq!(c.birthday(birth, n), end.tomorrow().unwrap());
        prop_assert_eq!(c.age_on(birth, end), Some(u16::from(n) - 1));
        prop_assert_eq!(c.age_on(birth, end.tomorrow().unwrap()), Some(u16::from(n)));
    }

    /// A hold always yields `held`, whatever the record, pack or date, and
    /// the decision names the hold.
    #[test]
    fn a_hold_always_yields_held(
        p in 0usize..6, r in any_record(), at in any_date(), h in 0usize..LegalHold::ALL.len()
    ) {
        let packs = packs();
        let hold = LegalHold::ALL[h];
        let d = packs[p].decide(&r.with_hold(hold), at);
        prop_assert_eq!(d.status(), Status::Held);
        prop_assert!(d.holds().contains(hold));
    }
}
