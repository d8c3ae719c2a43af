//! The table harness of the retention case tests: a record (one JSON line),
//! a date, and the expected decision. Each case names the provision it
//! checks; the expected dates are worked out by hand in a comment next to
//! the case, from the provision and the pack's date convention (see
//! docs/retention.md).
#![allow(dead_code)]

use gdpr_core::retention::{Clause, Jurisdiction, RulePack, Status, parse_record_line};
use jiff::civil::Date;

pub struct Case {
    pub name: &'static str,
    pub pack: &'static str,
    pub record: &'static str,
    pub at: &'static str,
    pub status: Status,
    pub retain_until: Option<&'static str>,
    /// The rule that set `retain_until`, and through which clause.
    pub governing: Option<(&'static str, Clause)>,
    /// Every rule that applied.
    pub rules: &'static [&'static str],
    /// A piece of the undetermined reason, if one is expected.
    pub reason: Option<&'static str>,
}

pub const fn case(name: &'static str, pack: &'static str, record: &'static str) -> Case {
    Case {
        name,
        pack,
        record,
        at: "2026-01-01",
        status: Status::Retain,
        retain_until: None,
        governing: None,
        rules: &[],
        reason: None,
    }
}

impl Case {
    pub const fn at(mut self, at: &'static str) -> Self {
        self.at = at;
        self
    }
    pub const fn until(mut self, d: &'static str, rule: &'static str, clause: Clause) -> Self {
        self.retain_until = Some(d);
        self.governing = Some((rule, clause));
        self
    }
    pub const fn status(mut self, s: Status) -> Self {
        self.status = s;
        self
    }
    pub const fn rules(mut self, r: &'static [&'static str]) -> Self {
        self.rules = r;
        self
    }
    pub const fn undetermined(mut self, reason: &'static str) -> Self {
        self.status = Status::Undetermined;
        self.reason = Some(reason);
        self
    }
}

pub fn day(s: &str) -> Date {
    s.parse().unwrap()
}

pub fn pack(code: &str) -> RulePack {
    let j: Jurisdiction = code.parse().unwrap();
    RulePack::builtin(&j).unwrap().unwrap()
}

/// Runs every case; returns the packs seen. Panics listing every failure.
pub fn run(cases: Vec<Case>) -> std::collections::BTreeSet<&'static str> {
    let mut failures = Vec::new();
    let mut packs_seen = std::collections::BTreeSet::new();
    for c in cases {
        let pack = pack(c.pack);
        packs_seen.insert(c.pack);
        let record = parse_record_line(c.record).unwrap().record;
        let d = pack.decide(&record, day(c.at));
        let got_rules: Vec<&str> = d.rules().map(|r| r.id()).collect();
        let got_governing = d.governing().map(|(r, clause)| (r.id(), clause));
        let reason = d.undetermined().map(|u| u.to_string());
        let mut problems = Vec::new();
        if d.status() != c.status {
            problems.push(format!("status {:?}, expected {:?}", d.status(), c.status));
        }
        if d.retain_until() != c.retain_until.map(day) {
            problems.push(format!(
                "retain_until {:?}, expected {:?}",
                d.retain_until(),
                c.retain_until
            ));
        }
        if got_governing != c.governing {
            problems.push(format!(
                "governing {got_governing:?}, expected {:?}",
                c.governing
            ));
        }
        if c.status != Status::Undetermined && c.retain_until.is_some() && got_rules != c.rules {
            problems.push(format!("rules {got_rules:?}, expected {:?}", c.rules));
        }
        match (&reason, c.reason) {
            (Some(r), Some(want)) if !r.contains(want) => {
                problems.push(format!("reason {r:?} lacks {want:?}"))
            }
            (None, Some(want)) => problems.push(format!("no reason, expected {want:?}")),
            _ => {}
        }
        if c.status == Status::Held && d.holds().is_empty() {
            problems.push("held without a named hold".into());
        }
        for r in d.rules() {
            if r.source().as_str().is_empty() {
                problems.push(format!("rule {} without source", r.id()));
            }
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", c.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    packs_seen
}
