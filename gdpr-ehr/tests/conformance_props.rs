//! Properties of the conformance split (`gdpr_ehr::conformance`), for all
//! JSON trees: afterwards no element breaks FHIR JSON's syntax rules, a
//! second split finds nothing, and every element taken out is accounted for.

use gdpr_ehr::conformance::{split, write_split};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9]{0,6}",
        "_[a-z][a-zA-Z0-9]{0,4}",
        "[A-Z][a-z]{0,4}",
        "[a-z]{1,3}-[a-z]{1,3}",
        Just(String::new()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(Value::String(String::new())),
        "[a-z0-9 ]{1,5}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        Just(Value::Array(Vec::new())),
        Just(Value::Object(Map::new())),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Whether `value` holds anything the split must have taken out.
fn breaks_rules(value: &Value, in_primitive_list: bool) -> bool {
    match value {
        Value::Null => !in_primitive_list,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty() || a.iter().any(|v| breaks_rules(v, in_primitive_list)),
        Value::Object(o) => {
            o.is_empty()
                || o.iter().any(|(k, v)| {
                    let name = k.strip_prefix('_').unwrap_or(k);
                    let bad_name = !name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        || !name.chars().all(|c| c.is_ascii_alphanumeric());
                    bad_name || breaks_rules(v, k.starts_with('_'))
                })
        }
        _ => false,
    }
}

proptest! {
    #[test]
    fn after_a_split_nothing_breaks_the_rules_and_a_second_split_is_empty(
        body in prop::collection::btree_map(key(), tree(), 0..6)
    ) {
        let mut resource: Map<String, Value> = body.into_iter().collect();
        resource.insert("resourceType".into(), Value::String("Observation".into()));
        let before = serde_json::to_string(&resource).unwrap().len();
        let side = split(&mut resource, "Observation/x");
        let cleaned = Value::Object(resource.clone());
        prop_assert!(!breaks_rules(&cleaned, false), "{cleaned}");
        prop_assert!(split(&mut resource, "Observation/x").is_empty());
        // Something was taken out exactly when the resource changed.
        let after = serde_json::to_string(&resource).unwrap().len();
        prop_assert_eq!(side.is_empty(), before == after);
    }

    /// The export's one-walk writer takes out what `split` takes out (same
    /// paths, same values) and writes exactly serde_json's bytes of what
    /// stays.
    #[test]
    fn the_one_walk_writer_writes_serde_json_bytes_of_the_split_resource(
        body in prop::collection::btree_map(key(), tree(), 0..6)
    ) {
        let mut resource: Map<String, Value> = body.into_iter().collect();
        resource.insert("resourceType".into(), Value::String("Observation".into()));
        let mut split_copy = resource.clone();
        let side = split(&mut split_copy, "Observation/x");
        let mut out = Vec::new();
        let written = write_split(&mut resource, "Observation/x", &mut out);
        prop_assert_eq!(written, side);
        prop_assert_eq!(out, serde_json::to_vec(&split_copy).unwrap());
    }
}
