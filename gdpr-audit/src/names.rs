//! The kebab-case serde names of `gdpr-core` enums, derived once from
//! core's own serde attributes (never re-typed here) and then looked up
//! without going through `serde_json` on the hot path of every append.
//! Art. 6 bases and Art. 9 conditions are complete by law (core's `ALL`);
//! roles may grow, so a role's name is derived the first time it is seen.

use std::cell::Cell;
use std::sync::{OnceLock, PoisonError, RwLock};

use gdpr_core::actor::Role;
use gdpr_core::basis::{Art6Basis, Art9Condition};
use serde::Serialize;

/// `value`'s serde name (a unit variant serializes as a string).
fn serde_name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The names of every value of a vocabulary complete by law.
fn table<T: Copy + Serialize, const N: usize>(all: [T; N]) -> Vec<(T, String)> {
    all.into_iter().map(|v| (v, serde_name(v))).collect()
}

fn find<T: PartialEq>(table: &[(T, String)], value: T) -> &str {
    // Invariant: the tables hold every value (built from core's `ALL`).
    table
        .iter()
        .find(|(v, _)| *v == value)
        .map_or("", |(_, name)| name.as_str())
}

pub(crate) fn art6(b: Art6Basis) -> &'static str {
    static NAMES: OnceLock<Vec<(Art6Basis, String)>> = OnceLock::new();
    find(NAMES.get_or_init(|| table(Art6Basis::ALL)), b)
}

pub(crate) fn art9(c: Art9Condition) -> &'static str {
    static NAMES: OnceLock<Vec<(Art9Condition, String)>> = OnceLock::new();
    find(NAMES.get_or_init(|| table(Art9Condition::ALL)), c)
}

pub(crate) fn role(r: Role) -> &'static str {
    thread_local! {
        // The last role named on this thread: records of a batch mostly
        // repeat it, and this costs no lock.
        static LAST: Cell<Option<(Role, &'static str)>> = const { Cell::new(None) };
    }
    if let Some((_, name)) = LAST.with(Cell::get).filter(|(v, _)| *v == r) {
        return name;
    }
    let name = role_slow(r);
    LAST.with(|last| last.set(Some((r, name))));
    name
}

fn role_slow(r: Role) -> &'static str {
    // Roles seen so far; a name is leaked once per role (a few dozen bytes
    // each, bounded by the vocabulary).
    static NAMES: RwLock<Vec<(Role, &'static str)>> = RwLock::new(Vec::new());
    let seen =
        |names: &[(Role, &'static str)]| names.iter().find(|(v, _)| *v == r).map(|(_, name)| *name);
    if let Some(name) = seen(&NAMES.read().unwrap_or_else(PoisonError::into_inner)) {
        return name;
    }
    let mut names = NAMES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(name) = seen(&names) {
        return name;
    }
    let name: &'static str = Box::leak(serde_name(r).into_boxed_str());
    names.push((r, name));
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_serde_names() {
        assert_eq!(art6(Art6Basis::LegitimateInterests), "legitimate-interests");
        assert_eq!(art9(Art9Condition::HealthCare), "health-care");
        assert_eq!(role(Role::DataProtectionOfficer), "data-protection-officer");
        assert_eq!(role(Role::DataProtectionOfficer), "data-protection-officer");
        assert_eq!(role(Role::Nurse), "nurse");
        assert_eq!(role(Role::DataProtectionOfficer), "data-protection-officer");
        for b in Art6Basis::ALL {
            assert_eq!(art6(b), serde_name(b));
        }
        for c in Art9Condition::ALL {
            assert_eq!(art9(c), serde_name(c));
        }
    }
}
