//! What a server's CapabilityStatement (R4 §2.40) offers that the adapter
//! uses: `Patient/$everything` and `$expunge`.

use serde_json::Value;

/// The operations of a server the adapter uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Capabilities {
    /// `Patient/{id}/$everything`.
    pub everything: bool,
    /// `[type]/[id]/$expunge` (HAPI FHIR's purge of deleted versions).
    pub expunge: bool,
}

impl Capabilities {
    /// What `statement` offers: an operation counts when it is named at the
    /// system level (`rest.operation`) or on a resource
    /// (`rest.resource.operation`; `$everything` on Patient only).
    pub fn of(statement: &Value) -> Self {
        let named = |ops: Option<&Value>, name: &str| {
            ops.and_then(Value::as_array)
                .is_some_and(|o| o.iter().any(|op| op["name"] == name))
        };
        let rests = statement["rest"].as_array().into_iter().flatten();
        let mut found = Self::default();
        for rest in rests {
            let resources = rest["resource"].as_array().into_iter().flatten();
            found.everything |= named(rest.get("operation"), "everything");
            found.expunge |= named(rest.get("operation"), "expunge");
            for resource in resources {
                let ops = resource.get("operation");
                found.everything |= resource["type"] == "Patient" && named(ops, "everything");
                found.expunge |= named(ops, "expunge");
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_are_found_where_servers_list_them() {
        let with = serde_json::json!({"rest": [{"resource": [
            {"type": "Observation", "operation": [{"name": "expunge", "definition": "x"}]},
            {"type": "Patient", "operation": [{"name": "everything", "definition": "x"}]}
        ]}]});
        assert_eq!(
            Capabilities::of(&with),
            Capabilities {
                everything: true,
                expunge: true
            }
        );
        let system = serde_json::json!({"rest": [{"operation": [{"name": "expunge"}]}]});
        assert!(Capabilities::of(&system).expunge);
        let elsewhere = serde_json::json!({"rest": [{"resource": [
            {"type": "Group", "operation": [{"name": "everything"}]}
        ]}]});
        assert_eq!(Capabilities::of(&elsewhere), Capabilities::default());
        assert_eq!(
            Capabilities::of(&serde_json::json!({})),
            Capabilities::default()
        );
    }
}
