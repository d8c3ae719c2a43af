//! The attachments a DocumentReference points at (`content[].attachment.url`,
//! usually `Binary/{id}`), downloaded into the export as
//! `attachment-0001.bin`, … (names free of identifiers) and listed with the
//! resource they belong to in `attachments.json`. A URL outside the
//! configured base URL is not followed; it and any attachment that cannot
//! be fetched is reported as not exported. Inline attachments (`data`) are
//! in the Bundle already.

use std::path::Path;

use base64::Engine;
use gdpr_connect::blocking;
use gdpr_core::store::{StoreError, UnreadableCause, UnreadableItem, UnreadableStatus};

use crate::client::FhirClient;
use crate::export::{WrittenFile, is_fhir_id, write_file};
use crate::model::{Resource, logical_id, resource_type};

/// The index file of the downloaded attachments.
pub const INDEX_FILE: &str = "attachments.json";

/// One attachment to fetch: where it is and what it belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// `DocumentReference/{id}`.
    pub resource: String,
    /// Its position in `content`.
    pub index: usize,
    /// The URL as the resource gives it (never log it).
    pub url: String,
    /// The declared media type, if any.
    pub content_type: Option<String>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// The URL attachments of `resource`, if it is a DocumentReference.
pub fn attachments_of(resource: &Resource) -> Vec<Attachment> {
    let (Some("DocumentReference"), Some(id)) = (resource_type(resource), logical_id(resource))
    else {
        return Vec::new();
    };
    if !is_fhir_id(id) {
        return Vec::new();
    }
    let contents = resource.get("content").and_then(|c| c.as_array());
    let attachments = contents.into_iter().flatten().enumerate();
    attachments
        .filter_map(|(index, content)| {
            let attachment = content.get("attachment")?;
            Some(Attachment {
                resource: format!("DocumentReference/{id}"),
                index,
                url: attachment.get("url")?.as_str()?.to_owned(),
                content_type: attachment
                    .get("contentType")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned),
            })
        })
        .collect()
}

/// Why a Binary an own DocumentReference points at is never deleted.
pub const BINARY_REASON: &str = "a Binary the subject's DocumentReference points at: it names \
    no patient to re-check before a DELETE, so gdpr-ehr does not delete it; delete it on the server";

/// The logical id of the `Binary` an attachment URL names on this server
/// (`Binary/{id}`, relative or below the base URL), if it names one.
pub fn binary_id(client: &FhirClient, url: &str) -> Option<String> {
    let parsed = client.on_base("read attachment url", url).ok()?;
    let base = client.base().path().trim_end_matches('/');
    let rest = parsed.path().strip_prefix(base)?.strip_prefix('/')?;
    let id = rest.strip_prefix("Binary/")?;
    (parsed.query().is_none() && is_fhir_id(id)).then(|| id.to_owned())
}

/// The content of a fetched attachment: a FHIR `Binary` (as servers like
/// Helios answer with FHIR JSON) decoded from its `data`, anything else as
/// sent.
fn content(body: &[u8]) -> Result<Vec<u8>, &'static str> {
    let binary: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    match binary {
        Some(b) if b["resourceType"] == "Binary" => {
            let data = b["data"].as_str().unwrap_or_default();
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|_| "the Binary's data is not valid base64")
        }
        _ => Ok(body.to_vec()),
    }
}

fn not_exported(attachment: &Attachment, detail: &str) -> UnreadableItem {
    UnreadableItem::new(
        format!("{} content[{}]", attachment.resource, attachment.index),
        UnreadableCause::Io,
        UnreadableStatus::Left,
        detail,
    )
}

/// Downloads `attachments` into `dir`; returns the files written (the
/// attachments, then the index) and the attachments not exported.
///
/// # Errors
/// [`StoreError::Local`] when a file cannot be written; transport errors
/// after retries as gdpr-connect's `Client::call`.
pub async fn fetch(
    client: &FhirClient,
    attachments: &[Attachment],
    dir: &Path,
) -> Result<(Vec<WrittenFile>, Vec<UnreadableItem>), StoreError> {
    const OP: &str = "GET {attachment url}";
    let (mut files, mut missing, mut index) = (Vec::new(), Vec::new(), Vec::new());
    for attachment in attachments {
        let Ok(url) = client.on_base(OP, &attachment.url) else {
            missing.push(not_exported(
                attachment,
                "its URL is outside the configured base URL; not followed",
            ));
            continue;
        };
        let Some(body) = client.fetch(OP, url).await? else {
            missing.push(not_exported(
                attachment,
                "the server no longer has it (404/410)",
            ));
            continue;
        };
        let data = match content(&body) {
            Ok(data) => data,
            Err(detail) => {
                missing.push(not_exported(attachment, detail));
                continue;
            }
        };
        let name = format!("attachment-{:04}.bin", files.len() + 1);
        let (target, file_name) = (dir.to_owned(), name.clone());
        files.push(
            blocking("export worker", move || {
                write_file(&target, &file_name, &data)
            })
            .await?,
        );
        index.push(serde_json::json!({
            "file": name, "resource": attachment.resource, "content": attachment.index,
            "contentType": attachment.content_type,
        }));
    }
    if !index.is_empty() {
        let data = serde_json::to_vec_pretty(&index).unwrap_or_default();
        let target = dir.to_owned();
        files.push(
            blocking("export worker", move || {
                write_file(&target, INDEX_FILE, &data)
            })
            .await?,
        );
    }
    Ok((files, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_attachments_of_document_references_are_found() {
        let doc = serde_json::json!({"resourceType": "DocumentReference", "id": "d1", "content": [
            {"attachment": {"contentType": "application/pdf", "url": "Binary/b1"}},
            {"attachment": {"data": "aGk="}}
        ]});
        let found = attachments_of(doc.as_object().unwrap());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].url, "Binary/b1");
        assert_eq!(found[0].resource, "DocumentReference/d1");
        assert!(!format!("{found:?}").contains("b1"));
    }

    #[test]
    fn binaries_are_decoded_and_other_content_is_kept() {
        let binary = br#"{"resourceType":"Binary","contentType":"text/plain","data":"aGVsbG8="}"#;
        assert_eq!(content(binary).unwrap(), b"hello");
        assert_eq!(content(b"%PDF-1.7").unwrap(), b"%PDF-1.7");
        assert!(content(br#"{"resourceType":"Binary","data":"%%%"}"#).is_err());
    }
}
