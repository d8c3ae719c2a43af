//! A FHIR R4 client on gdpr-connect's [`Client`] (one HTTP client for every
//! adapter: TLS policy, credentials, retries honouring `Retry-After`, errors
//! without URLs): read, search with paging, `Patient/{id}/$everything` when
//! the CapabilityStatement offers it, history, update with `If-Match`, and
//! DELETE. Every URL the server gives (next links, `Location`) must stay on
//! the configured base URL, else a clear error.

mod capability;
mod pages;

use gdpr_connect::reqwest::{Method, StatusCode};
use gdpr_connect::{Client, Outcome, check_status, outcome_of, parse_json};
use gdpr_core::store::StoreError;
use tokio::sync::OnceCell;
use url::Url;

pub use capability::Capabilities;
pub use pages::Pages;
pub(crate) use pages::invalid;

use crate::model::{Bundle, BundleEntry, Resource};

/// The media type of FHIR JSON (R4 §2.6.2).
const FHIR_JSON: &str = "application/fhir+json";
const SEARCH: &str = "GET /{type}?{search}";
const EVERYTHING: &str = "GET /Patient/{id}/$everything";

/// A FHIR R4 server reached through a gdpr-connect [`Client`].
#[derive(Debug)]
pub struct FhirClient {
    http: Client,
    max_pages: usize,
    page_size: u32,
    capabilities: OnceCell<Capabilities>,
}

impl FhirClient {
    /// The most pages one listing may have by default.
    pub const DEFAULT_MAX_PAGES: usize = 10_000;
    /// The page size asked for by default (`_count`).
    pub const DEFAULT_PAGE_SIZE: u32 = 100;

    /// A client for the server at `http`'s base URL.
    pub fn new(http: Client) -> Self {
        Self {
            http,
            max_pages: Self::DEFAULT_MAX_PAGES,
            page_size: Self::DEFAULT_PAGE_SIZE,
            capabilities: OnceCell::new(),
        }
    }

    /// The same client with another page size (`_count`) and bound on the
    /// number of pages of one listing.
    #[must_use]
    pub fn with_paging(mut self, page_size: u32, max_pages: usize) -> Self {
        self.page_size = page_size.max(1);
        self.max_pages = max_pages.max(1);
        self
    }

    /// The HTTP client (for a system's other API next to its FHIR one, as
    /// OpenEMR's standard API: [`Client::at`] shares the token cache).
    pub(crate) fn http(&self) -> &Client {
        &self.http
    }

    /// The base URL.
    pub fn base(&self) -> &Url {
        self.http.base()
    }

    /// `url` parsed against the base, refused unless it stays on the base's
    /// origin and below its path.
    ///
    /// # Errors
    /// [`StoreError::Protocol`] (`InvalidContent`) for any other URL.
    pub fn on_base(&self, operation: &'static str, url: &str) -> Result<Url, StoreError> {
        let parsed = self
            .base()
            .join(url)
            .map_err(|_| invalid(operation, "the server gave a URL that cannot be parsed"))?;
        if pages::is_below(self.base(), &parsed) {
            Ok(parsed)
        } else {
            Err(invalid(
                operation,
                "the server gave a URL outside the configured base URL (another host, port, \
                 scheme or path); refusing to follow it: set the server's base URL to the one \
                 configured here",
            ))
        }
    }

    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<T, StoreError> {
        self.http
            .json(operation, |c| {
                c.get(url.clone()).header("Accept", FHIR_JSON)
            })
            .await
    }

    /// Reads `kind/id`; `None` when the server says it does not exist or is
    /// gone (404, 410).
    ///
    /// # Errors
    /// As gdpr-connect's [`Client::call`] and [`check_status`];
    /// [`StoreError::Protocol`] for a body that is not JSON.
    pub async fn read(&self, kind: &str, id: &str) -> Result<Option<Resource>, StoreError> {
        const OP: &str = "GET /{type}/{id}";
        let url = self.http.url(&[kind, id]);
        let (status, body) = self
            .http
            .call(OP, |c| c.get(url.clone()).header("Accept", FHIR_JSON))
            .await?;
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        check_status(OP, status)?;
        parse_json(OP, &body).map(Some)
    }

    /// GETs `url` (already checked with [`FhirClient::on_base`]) and
    /// returns its body; `None` for 404 and 410.
    ///
    /// # Errors
    /// As [`FhirClient::read`].
    pub async fn fetch(
        &self,
        operation: &'static str,
        url: Url,
    ) -> Result<Option<bytes::Bytes>, StoreError> {
        let (status, body) = self.http.call(operation, |c| c.get(url.clone())).await?;
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        check_status(operation, status)?;
        Ok(Some(body))
    }

    /// The pages of a search (`everything`: of `$everything`) continued
    /// from `url`, the next page a [`Pages::next_url`] gave (a resumed
    /// export).
    ///
    /// # Errors
    /// As [`FhirClient::on_base`] (a URL off the base is refused).
    pub fn pages_from(&self, everything: bool, url: &str) -> Result<Pages<'_>, StoreError> {
        let operation = if everything { EVERYTHING } else { SEARCH };
        Ok(Pages::new(self, operation, self.on_base(operation, url)?))
    }

    /// The pages of `kind?params` (with `_count`).
    pub fn search(&self, kind: &str, params: &[(&str, &str)]) -> Pages<'_> {
        let mut url = self.http.url(&[kind]);
        url.query_pairs_mut()
            .extend_pairs(params)
            .append_pair("_count", &self.page_size.to_string());
        Pages::new(self, SEARCH, url)
    }

    /// The pages of `Patient/{id}/$everything`.
    pub fn everything(&self, patient_id: &str) -> Pages<'_> {
        let mut url = self.http.url(&["Patient", patient_id, "$everything"]);
        url.query_pairs_mut()
            .append_pair("_count", &self.page_size.to_string());
        Pages::new(self, EVERYTHING, url)
    }

    /// What the CapabilityStatement offers (asked once, then remembered).
    ///
    /// # Errors
    /// As [`FhirClient::read`].
    pub async fn capabilities(&self) -> Result<Capabilities, StoreError> {
        self.capabilities
            .get_or_try_init(|| async {
                let url = self.http.url(&["metadata"]);
                let statement: serde_json::Value = self.get_json("GET /metadata", url).await?;
                Ok(Capabilities::of(&statement))
            })
            .await
            .copied()
    }

    /// Whether the server offers `Patient/$everything`.
    ///
    /// # Errors
    /// As [`FhirClient::capabilities`].
    pub async fn supports_everything(&self) -> Result<bool, StoreError> {
        Ok(self.capabilities().await?.everything)
    }

    /// Asks the server to purge every version of the deleted `kind/id`
    /// (`POST [type]/[id]/$expunge`, as HAPI FHIR offers it), when its
    /// CapabilityStatement offers `$expunge`. Returns whether it was asked
    /// and agreed; what the history still serves is checked afterwards
    /// either way.
    ///
    /// # Errors
    /// As [`FhirClient::capabilities`] and gdpr-connect's `Client::call`.
    pub async fn expunge(&self, kind: &str, id: &str) -> Result<bool, StoreError> {
        const OP: &str = "POST /{type}/{id}/$expunge";
        if !self.capabilities().await?.expunge {
            return Ok(false);
        }
        let url = self.http.url(&[kind, id, "$expunge"]);
        let body = serde_json::json!({"resourceType": "Parameters", "parameter": [
            {"name": "expungeDeletedResources", "valueBoolean": true},
            {"name": "expungePreviousVersions", "valueBoolean": true}
        ]})
        .to_string();
        let (status, _) = self
            .http
            .call(OP, |c| {
                c.post(url.clone())
                    .header("Content-Type", FHIR_JSON)
                    .body(body.clone())
            })
            .await?;
        Ok(status.is_success())
    }

    /// Every version of `kind/id` the server still serves from its
    /// `_history` (deletions included, as entries without a resource).
    ///
    /// # Errors
    /// As [`Pages::next_page`]; a resource without history is an empty list.
    pub async fn history(&self, kind: &str, id: &str) -> Result<Vec<BundleEntry>, StoreError> {
        let url = self.http.url(&[kind, id, "_history"]);
        let mut pages = Pages::new(self, "GET /{type}/{id}/_history", url);
        let mut entries = Vec::new();
        loop {
            match pages.next_page().await {
                Ok(Some(page)) => entries.extend(page.entry),
                Ok(None) | Err(StoreError::NotFound { .. }) => return Ok(entries),
                Err(e) => return Err(e),
            }
        }
    }

    /// Deletes `kind/id`. 404 and 410 mean already gone; 405 (deletion not
    /// allowed) and 409 (referenced elsewhere) are refusals.
    ///
    /// # Errors
    /// As [`outcome_of`].
    pub async fn delete(&self, kind: &str, id: &str) -> Result<Outcome, StoreError> {
        const OP: &str = "DELETE /{type}/{id}";
        let url = self.http.url(&[kind, id]);
        let (status, _) = self
            .http
            .call(OP, |c| c.request(Method::DELETE, url.clone()))
            .await?;
        if status == StatusCode::GONE {
            return Ok(Outcome::Done { existed: false });
        }
        outcome_of(OP, status, |s| match s {
            StatusCode::METHOD_NOT_ALLOWED => {
                Some("the server does not allow deleting this resource type (HTTP 405)".into())
            }
            StatusCode::CONFLICT => {
                Some("the server refuses: other resources reference it (HTTP 409)".into())
            }
            _ => None,
        })
    }

    /// Replaces `kind/id` with `resource` if the server's version is still
    /// `version` (`If-Match`); returns what the server stored.
    ///
    /// # Errors
    /// [`StoreError::Protocol`] with `UnexpectedStatus(412)` when the
    /// resource changed meanwhile (read it again), else as [`FhirClient::read`].
    pub async fn update(
        &self,
        kind: &str,
        id: &str,
        version: &str,
        resource: &Resource,
    ) -> Result<Resource, StoreError> {
        const OP: &str = "PUT /{type}/{id}";
        let url = self.http.url(&[kind, id]);
        let body = serde_json::to_vec(resource).map_err(|_| invalid(OP, "unserialisable"))?;
        let if_match = format!("W/\"{version}\"");
        let (status, answer) = self
            .http
            .call(OP, |c| {
                c.put(url.clone())
                    .header("Content-Type", FHIR_JSON)
                    .header("Accept", FHIR_JSON)
                    .header("If-Match", &if_match)
                    .body(body.clone())
            })
            .await?;
        check_status(OP, status)?;
        parse_json(OP, &answer)
    }
}

/// The entries of `bundle` that are resources found as matches (or without
/// a search mode), skipping `OperationOutcome` entries servers add.
pub fn matches(bundle: Bundle) -> impl Iterator<Item = Resource> {
    bundle.entry.into_iter().filter_map(|entry| {
        let is_outcome = entry
            .search
            .as_ref()
            .and_then(|s| s.mode.as_deref())
            .is_some_and(|mode| mode == "outcome");
        entry
            .resource
            .filter(|r| !is_outcome && crate::model::resource_type(r) != Some("OperationOutcome"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_links_off_the_base_are_refused_without_the_url() {
        let http =
            Client::connect(&gdpr_connect::Endpoint::new("http://127.0.0.1:1/fhir")).unwrap();
        let client = FhirClient::new(http);
        assert!(
            client
                .on_base("op", "http://127.0.0.1:1/fhir/Patient?x=1")
                .is_ok()
        );
        assert!(client.on_base("op", "Patient?x=1").is_ok());
        let err = client
            .on_base("op", "http://127.0.0.2:1/fhir/Patient?identifier=CANARY")
            .unwrap_err();
        assert!(!err.to_string().contains("CANARY"), "{err}");
        assert!(err.to_string().contains("outside the configured base URL"));
    }
}
