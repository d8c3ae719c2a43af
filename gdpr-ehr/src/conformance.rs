//! What of a resource is not valid FHIR R4 JSON (R4 §2.6.2), moved aside so
//! the exported Bundle stays valid and nothing the server sent is lost.
//!
//! Checked: element names follow FHIR JSON's syntax (`name`, `_name` for a
//! primitive's extensions; letters and digits, starting lower-case), no
//! `null` (except inside a primitive array's `_name` list), no empty
//! string, object or array. **Not** checked: whether a well-formed name is
//! an element of its type, and value types (that needs the full R4 model;
//! the test suite's independent validator covers it for our exports).

use serde_json::{Map, Value};

/// One element taken out of a resource: where it was and what it held.
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct SideElement {
    /// `Type/id` of the resource it came from.
    pub resource: String,
    /// Its path in the resource (`note`, `component.1.x-vendor`).
    pub path: String,
    /// The value as the server sent it.
    pub value: Value,
}

impl std::fmt::Debug for SideElement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideElement")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Removes from `resource` every element that breaks the rules above and
/// returns them, each with its path; `name` is `Type/id` for the report.
pub fn split(resource: &mut Map<String, Value>, name: &str) -> Vec<SideElement> {
    let mut side = Vec::new();
    clean_object(resource, "", name, &mut side);
    side
}

fn valid_name(key: &str) -> bool {
    let name = key.strip_prefix('_').unwrap_or(key);
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn clean_object(
    map: &mut Map<String, Value>,
    prefix: &str,
    name: &str,
    side: &mut Vec<SideElement>,
) {
    let keys: Vec<String> = map.keys().cloned().collect();
    for key in keys {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        // The narrative's XHTML and resourceType are exempt from the name rule.
        let exempt = key == "resourceType" && prefix.is_empty();
        if !exempt && !valid_name(&key) || map.get(&key).is_some_and(is_empty) {
            if let Some(value) = map.remove(&key) {
                side.push(SideElement {
                    resource: name.to_owned(),
                    path,
                    value,
                });
            }
            continue;
        }
        let primitive_extensions = key.starts_with('_');
        if let Some(value) = map.get_mut(&key) {
            clean_value(value, &path, name, primitive_extensions, side);
            if is_empty(value) {
                map.remove(&key);
            }
        }
    }
}

fn clean_value(
    value: &mut Value,
    path: &str,
    name: &str,
    nulls_allowed: bool,
    side: &mut Vec<SideElement>,
) {
    match value {
        Value::Object(map) => clean_object(map, path, name, side),
        Value::Array(items) => {
            let mut kept = Vec::with_capacity(items.len());
            for (i, mut item) in std::mem::take(items).into_iter().enumerate() {
                let item_path = format!("{path}.{i}");
                if item.is_null() && nulls_allowed {
                    kept.push(item);
                    continue;
                }
                if is_empty(&item) {
                    side.push(SideElement {
                        resource: name.to_owned(),
                        path: item_path,
                        value: item,
                    });
                    continue;
                }
                clean_value(&mut item, &item_path, name, false, side);
                if !is_empty(&item) {
                    kept.push(item);
                }
            }
            *items = kept;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invalid_elements_move_aside_with_their_paths() {
        let mut r = json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "x-vendor-flag": true, "note": [], "valueString": "", "issued": null,
            "code": {"text": "x", "Odd": 1},
            "component": [{"code": {"text": "y"}, "extra-thing": 2}, {}],
            "_status": {"extension": [{"url": "u", "valueString": "v"}]},
            "category": [{"coding": [{"code": "laboratory"}]}]
        });
        let map = r.as_object_mut().unwrap();
        let side = split(map, "Observation/o1");
        let mut paths: Vec<&str> = side.iter().map(|s| s.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "code.Odd",
                "component.0.extra-thing",
                "component.1",
                "issued",
                "note",
                "valueString",
                "x-vendor-flag"
            ]
        );
        assert_eq!(
            r,
            json!({
                "resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"text": "x"}, "component": [{"code": {"text": "y"}}],
                "_status": {"extension": [{"url": "u", "valueString": "v"}]},
                "category": [{"coding": [{"code": "laboratory"}]}]
            })
        );
    }

    #[test]
    fn nulls_inside_primitive_extension_lists_are_kept() {
        let mut r =
            json!({"resourceType": "Patient", "given": ["a", "b"], "_given": [null, {"id": "x"}]});
        assert!(split(r.as_object_mut().unwrap(), "Patient/p").is_empty());
    }

    #[test]
    fn a_conformant_resource_is_untouched() {
        let original = json!({"resourceType": "Patient", "id": "p", "active": false, "birthDate": "1970-01-01"});
        let mut r = original.clone();
        assert!(split(r.as_object_mut().unwrap(), "Patient/p").is_empty());
        assert_eq!(r, original);
    }
}
