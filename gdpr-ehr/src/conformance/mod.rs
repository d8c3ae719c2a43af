//! What of a resource is not valid FHIR R4 JSON (R4 §2.6.2), moved aside so
//! the exported Bundle stays valid and nothing the server sent is lost.
//!
//! Checked, for every resource type of R4 (4.0.1) and every type its
//! elements hold (`elements`, the table generated from HL7's FHIR JSON
//! schema): each element is one of its type's (an unknown name, a choice
//! variant the type does not have, a vendor element all go aside); a
//! repeating element is an array and a single one is not; a primitive has
//! its JSON type (string, boolean or number); a complex element is an
//! object, checked in turn; a contained resource is checked as its own
//! `resourceType`. Also, as FHIR JSON's syntax asks: no `null` (except
//! inside a primitive array's `_name` list), no empty string, object or
//! array. For a type the table does not know, only the syntax is checked.
//! **Not** checked: the lexical form of primitives (date formats, code
//! patterns) and required elements the server left out (they cannot be
//! made up); the test suite's independent validator covers our exports.

mod elements;

pub use elements::is_resource_type;
use elements::{Element, Target, TypeDef, type_def};
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
/// (The export writes the cleaned resource straight away, [`write_split`];
/// this is the same walk, read back into the map.)
pub fn split(resource: &mut Map<String, Value>, name: &str) -> Vec<SideElement> {
    let mut out = Vec::new();
    let side = write_split(resource, name, &mut out);
    if !side.is_empty() {
        // What write_split wrote is a JSON object (invariant); should it
        // ever not parse, the resource is left as it was.
        if let Ok(cleaned) = serde_json::from_slice(&out) {
            *resource = cleaned;
        }
    }
    side
}

/// Appends to `out` the JSON of `resource` without the elements that break
/// the rules above (byte for byte what `serde_json` writes for the cleaned
/// resource), in one walk, and returns the elements taken out, each with
/// its path; `name` is `Type/id` for the report. The values set aside are
/// moved out of `resource` (`null` is left in their place: use [`split`]
/// for the cleaned map).
pub fn write_split(
    resource: &mut Map<String, Value>,
    name: &str,
    out: &mut Vec<u8>,
) -> Vec<SideElement> {
    let ty = resource
        .get("resourceType")
        .and_then(Value::as_str)
        .and_then(type_def)
        .filter(|t| t.resource);
    let mut writer = Writer {
        name,
        side: Vec::new(),
        out,
    };
    writer.object(resource, ty, true, &Path::Root);
    writer.side
}

fn valid_name(key: &str) -> bool {
    let name = key.strip_prefix('_').unwrap_or(key).as_bytes();
    name.first().is_some_and(u8::is_ascii_lowercase) && name.iter().all(u8::is_ascii_alphanumeric)
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

/// Whether a single (non-array) `value` has the JSON shape `target` asks.
fn fits(value: &Value, target: Target) -> bool {
    match target {
        Target::Text => value.is_string(),
        Target::Boolean => value.is_boolean(),
        Target::Number => value.is_number(),
        Target::Resource => value
            .get("resourceType")
            .and_then(Value::as_str)
            .is_some_and(is_resource_type),
        Target::Complex(_) => value.is_object(),
    }
}

/// Where an element is, as a chain on the stack (no allocation unless an
/// element is set aside and its path written out).
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    fn render(&self) -> String {
        match self {
            Path::Root => String::new(),
            Path::Key(parent, key) => join(parent.render(), key),
            Path::Index(parent, i) => join(parent.render(), &i.to_string()),
        }
    }
}

fn join(prefix: String, part: &str) -> String {
    if prefix.is_empty() {
        part.to_owned()
    } else {
        prefix + "." + part
    }
}

/// Walks one resource, writing what stays and collecting what it takes out.
struct Writer<'a> {
    name: &'a str,
    side: Vec<SideElement>,
    out: &'a mut Vec<u8>,
}

/// Writes a JSON scalar or string as `serde_json` does.
fn put<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    // Writing a string, bool or serde_json number into a Vec cannot fail.
    let written = serde_json::to_writer(&mut *out, value);
    debug_assert!(written.is_ok());
}

impl Writer<'_> {
    fn aside(&mut self, path: &Path<'_>, value: Value) {
        self.side.push(SideElement {
            resource: self.name.to_owned(),
            path: path.render(),
            value,
        });
    }

    /// Starts a member or an item: a comma unless it is the first.
    fn separate(&mut self, first: &mut bool) {
        if !std::mem::take(first) {
            self.out.push(b',');
        }
    }

    /// Writes a cleaned object of type `ty` (`None`: unknown, syntax
    /// only); `resource`: it is a resource, whose `resourceType` is exempt.
    /// Returns whether it kept a member (an emptied object goes).
    fn object(
        &mut self,
        map: &mut Map<String, Value>,
        ty: Option<&TypeDef>,
        resource: bool,
        at: &Path<'_>,
    ) -> bool {
        self.out.push(b'{');
        let mut first = true;
        for (key, value) in map.iter_mut() {
            let here = Path::Key(at, key);
            let mark = self.out.len();
            let was_first = first;
            // A valid name is ASCII letters, digits and `_`: written as is,
            // nothing to escape. An invalid one goes aside (below) and is
            // not written.
            let named = valid_name(key);
            if named {
                self.separate(&mut first);
                self.out.push(b'"');
                self.out.extend_from_slice(key.as_bytes());
                self.out.extend_from_slice(b"\":");
            }
            if named && resource && key == "resourceType" {
                put(self.out, value);
                continue;
            }
            let element = ty.map(|t| t.element(key));
            let shape_ok = match element {
                Some(None) => false,
                Some(Some(e)) => e.array == value.is_array(),
                None => true,
            };
            let kept = if !named || is_empty(value) || !shape_ok {
                self.aside(&here, std::mem::take(value));
                false
            } else {
                let element = element.flatten();
                let primitive =
                    matches!(value, Value::String(_) | Value::Bool(_) | Value::Number(_));
                if primitive && element.is_none_or(|e| fits(value, e.target)) {
                    put(self.out, value);
                    true
                } else {
                    self.value(value, element, key.starts_with('_'), &here)
                }
            };
            if !kept {
                self.out.truncate(mark);
                first = was_first;
            }
        }
        self.out.push(b'}');
        !first
    }

    /// Writes one element's value (an array's items one by one); `element`
    /// is what the type says of it (`None`: unknown type, syntax only).
    /// Returns whether anything of it stays.
    fn value(
        &mut self,
        value: &mut Value,
        element: Option<Element>,
        nulls: bool,
        at: &Path<'_>,
    ) -> bool {
        let Value::Array(items) = value else {
            return self.single(value, element, at);
        };
        self.out.push(b'[');
        let mut first = true;
        for (i, item) in items.iter_mut().enumerate() {
            let here = Path::Index(at, i);
            if item.is_null() && nulls {
                self.separate(&mut first);
                self.out.extend_from_slice(b"null");
                continue;
            }
            let misfit = element.is_some_and(|e| item.is_array() || !fits(item, e.target));
            if is_empty(item) || misfit {
                self.aside(&here, std::mem::take(item));
                continue;
            }
            let (mark, was_first) = (self.out.len(), first);
            self.separate(&mut first);
            if !self.single(item, element, &here) {
                self.out.truncate(mark);
                first = was_first;
            }
        }
        self.out.push(b']');
        !first
    }

    /// Writes one value that is not an array item's list; returns whether
    /// anything of it stays.
    fn single(&mut self, value: &mut Value, element: Option<Element>, at: &Path<'_>) -> bool {
        if let Some(e) = element
            && !value.is_array()
            && !fits(value, e.target)
        {
            let taken = std::mem::take(value);
            self.aside(at, taken);
            return false;
        }
        match (value, element.map(|e| e.target)) {
            (Value::Object(map), Some(Target::Complex(ty))) => {
                self.object(map, Some(ty), false, at)
            }
            (Value::Object(map), Some(Target::Resource)) => {
                let ty = map
                    .get("resourceType")
                    .and_then(Value::as_str)
                    .and_then(type_def);
                self.object(map, ty, true, at)
            }
            (Value::Object(map), None) => self.object(map, None, false, at),
            (items @ Value::Array(_), None) => self.value(items, None, false, at),
            (other, _) => {
                put(self.out, other);
                true
            }
        }
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
        let mut r = json!({"resourceType": "Patient", "name": [{"given": ["a", "b"], "_given": [null, {"id": "x"}]}]});
        assert!(split(r.as_object_mut().unwrap(), "Patient/p").is_empty());
    }

    #[test]
    fn a_conformant_resource_is_untouched() {
        let original = json!({"resourceType": "Patient", "id": "p", "active": false, "birthDate": "1970-01-01"});
        let mut r = original.clone();
        assert!(split(r.as_object_mut().unwrap(), "Patient/p").is_empty());
        assert_eq!(r, original);
    }

    #[test]
    fn elements_r4_does_not_have_or_of_the_wrong_shape_move_aside() {
        let mut r = json!({
            "resourceType": "Observation", "id": "o1", "status": "final",
            "vendorFlag": true, "valueFoo": 1, "code": {"text": "x", "coding": {"code": "c"}},
            "category": {"text": "single, but R4 repeats it"},
            "subject": {"reference": "Patient/p", "resource": {"x": 1}},
            "valueInteger": "12",
            "component": [{"code": {"text": "y"}, "valueBoolean": "yes"}, "text", [1]],
            "contained": [
                {"resourceType": "Patient", "id": "c1", "active": true, "shoeSize": 44},
                {"resourceType": "NoSuchResource", "id": "c2"}
            ],
            "meta": {"versionId": "1", "project": "medplum-only"}
        });
        let side = split(r.as_object_mut().unwrap(), "Observation/o1");
        let mut paths: Vec<&str> = side.iter().map(|s| s.path.as_str()).collect();
        paths.sort_unstable();
        assert_eq!(
            paths,
            [
                "category",
                "code.coding",
                "component.0.valueBoolean",
                "component.1",
                "component.2",
                "contained.0.shoeSize",
                "contained.1",
                "meta.project",
                "subject.resource",
                "valueFoo",
                "valueInteger",
                "vendorFlag"
            ]
        );
        assert_eq!(
            r,
            json!({
                "resourceType": "Observation", "id": "o1", "status": "final",
                "code": {"text": "x"}, "subject": {"reference": "Patient/p"},
                "component": [{"code": {"text": "y"}}],
                "contained": [{"resourceType": "Patient", "id": "c1", "active": true}],
                "meta": {"versionId": "1"}
            })
        );
        // Every value is kept, as the server sent it.
        let value = |p: &str| &side.iter().find(|s| s.path == p).unwrap().value;
        assert_eq!(value("valueInteger"), &json!("12"));
        assert_eq!(
            value("contained.1"),
            &json!({"resourceType": "NoSuchResource", "id": "c2"})
        );
    }

    #[test]
    fn a_type_the_table_does_not_know_is_checked_for_syntax_only() {
        let mut r = json!({"resourceType": "Custom", "anything": 1, "x-y": 2});
        let side = split(r.as_object_mut().unwrap(), "Custom/1");
        assert_eq!(side.len(), 1);
        assert_eq!(side[0].path, "x-y");
    }
}
