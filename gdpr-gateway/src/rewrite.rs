//! Upstream URLs in answers, rewritten to the gateway: a viewer follows
//! `BulkDataURI`s and Retrieve URLs (0008,1190), so any left pointing at
//! the upstream would let it bypass every check. A URL under the
//! upstream's root is moved under the gateway's public base; a
//! `BulkDataURI` or Retrieve URL pointing anywhere else is removed.

use serde_json::Value;

/// Rewrites URLs from one root to another.
#[derive(Debug, Clone)]
pub struct Rewriter {
    from: String,
    to: String,
}

impl Rewriter {
    /// From the upstream's root `from` to the public base `to` (both
    /// normalised to end without `/`).
    pub fn new(from: &str, to: &str) -> Self {
        Self {
            from: from.trim_end_matches('/').to_owned(),
            to: to.trim_end_matches('/').to_owned(),
        }
    }

    /// `url` moved to the public base, or `None` when it is not under the
    /// upstream's root.
    pub fn url(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.from)?;
        if rest.is_empty() || rest.starts_with('/') || rest.starts_with('?') {
            Some(format!("{}{rest}", self.to))
        } else {
            None
        }
    }

    /// Rewrites every URL in a DICOM JSON document in place.
    pub fn json(&self, value: &mut Value) {
        match value {
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                if let Some(Value::String(uri)) = map.get("BulkDataURI") {
                    match self.url(uri) {
                        Some(new) => {
                            map.insert("BulkDataURI".into(), Value::String(new));
                        }
                        None => {
                            map.remove("BulkDataURI");
                        }
                    }
                }
                if let Some(Value::Object(retrieve)) = map.get_mut("00081190")
                    && let Some(Value::Array(urls)) = retrieve.get_mut("Value")
                {
                    let kept: Vec<Value> = urls
                        .iter()
                        .filter_map(|u| u.as_str().and_then(|u| self.url(u)).map(Value::String))
                        .collect();
                    *urls = kept;
                }
                for (key, v) in map.iter_mut() {
                    if key != "BulkDataURI" {
                        self.json(v);
                    }
                }
            }
            Value::String(s) => {
                if let Some(new) = self.url(s) {
                    *s = new;
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_moved_or_removed() {
        let r = Rewriter::new(
            "http://10.0.0.5:8042/dicom-web/",
            "https://gw.example/dicom-web",
        );
        let mut doc: Value = serde_json::from_str(
            r#"[{"7FE00010":{"vr":"OB","BulkDataURI":"http://10.0.0.5:8042/dicom-web/studies/1/series/2/instances/3/bulk/7fe00010"},
                "00420011":{"vr":"OB","BulkDataURI":"http://elsewhere/x"},
                "00081190":{"vr":"UR","Value":["http://10.0.0.5:8042/dicom-web/studies/1","http://evil/studies/1"]},
                "0040A730":{"vr":"SQ","Value":[{"7FE00010":{"vr":"OB","BulkDataURI":"http://10.0.0.5:8042/dicom-web/x"}}]}}]"#,
        )
        .unwrap();
        r.json(&mut doc);
        let text = doc.to_string();
        assert!(!text.contains("10.0.0.5"), "{text}");
        assert!(
            !text.contains("elsewhere") && !text.contains("evil"),
            "{text}"
        );
        assert_eq!(
            doc[0]["7FE00010"]["BulkDataURI"],
            "https://gw.example/dicom-web/studies/1/series/2/instances/3/bulk/7fe00010"
        );
        assert_eq!(
            doc[0]["00081190"]["Value"][0],
            "https://gw.example/dicom-web/studies/1"
        );
        assert_eq!(doc[0]["00081190"]["Value"].as_array().unwrap().len(), 1);
        assert_eq!(
            doc[0]["0040A730"]["Value"][0]["7FE00010"]["BulkDataURI"],
            "https://gw.example/dicom-web/x"
        );
        // A look-alike prefix is not the upstream.
        assert_eq!(r.url("http://10.0.0.5:8042/dicom-web-other/x"), None);
    }
}
