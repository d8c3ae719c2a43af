//! `Bundle` (R4 §2.36) with its links and entries, and `OperationOutcome`
//! (R4 §2.38): what searches, `$everything` and `_history` answer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::Resource;

/// A FHIR R4 `Bundle`: a search set, a history or our export's collection.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `searchset`, `history`, `collection`, …
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The total number of matches, when the server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// Links: `self`, `next`, `previous`, …
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<BundleLink>,
    /// The entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<BundleEntry>,
    /// Every other element, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Bundle {
    /// The URL of the `next` link, if any.
    pub fn next(&self) -> Option<&str> {
        self.link
            .iter()
            .find(|l| l.relation == "next")
            .map(|l| l.url.as_str())
    }
}

/// A link of a bundle (`relation` and `url`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleLink {
    /// `self`, `next`, `first`, …
    pub relation: String,
    /// The URL (servers put search parameters into it: never log it).
    pub url: String,
}

/// One entry of a bundle.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleEntry {
    /// The absolute URL of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    /// The resource, passed through as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Resource>,
    /// Why it is in a search set (`match`, `include`, `outcome`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<EntrySearch>,
    /// Every other element (`request`, `response` in histories).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `Bundle.entry.search`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct EntrySearch {
    /// `match`, `include` or `outcome`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// An `OperationOutcome`: a server's errors and warnings. Its diagnostics
/// may quote the request, so they are never copied into our errors; only
/// the issue codes are.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OperationOutcome {
    /// The issues.
    #[serde(default)]
    pub issue: Vec<OutcomeIssue>,
}

impl OperationOutcome {
    /// The issue codes (`not-found`, `processing`, …), joined by commas.
    pub fn codes(&self) -> String {
        let codes: Vec<&str> = self.issue.iter().map(|i| i.code.as_str()).collect();
        codes.join(", ")
    }
}

/// One issue of an [`OperationOutcome`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OutcomeIssue {
    /// `fatal`, `error`, `warning`, `information`.
    #[serde(default)]
    pub severity: String,
    /// The issue type code (`not-found`, `processing`, …).
    #[serde(default)]
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_set_keeps_what_it_does_not_model() {
        let json = serde_json::json!({
            "resourceType": "Bundle", "type": "searchset", "total": 2,
            "link": [{"relation": "self", "url": "http://s/x"},
                     {"relation": "next", "url": "http://s/x?page=2"}],
            "entry": [{"fullUrl": "http://s/Observation/1",
                       "resource": {"resourceType": "Observation", "id": "1", "x-odd": [1]},
                       "search": {"mode": "match"}}]
        });
        let bundle: Bundle = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(bundle.next(), Some("http://s/x?page=2"));
        assert_eq!(serde_json::to_value(&bundle).unwrap(), json);
    }

    #[test]
    fn outcomes_give_codes_not_diagnostics() {
        let outcome: OperationOutcome = serde_json::from_value(serde_json::json!({
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": "not-found", "diagnostics": "CANARY"}]
        }))
        .unwrap();
        assert_eq!(outcome.codes(), "not-found");
    }
}
