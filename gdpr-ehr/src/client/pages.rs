//! Paging through a search set by its `link[next]` URLs: every URL stays on
//! the configured base (same origin, below the base path), a repeated URL
//! (a loop) or more than the bound of pages is an error, and a last page
//! without `next` ends the listing.

use std::collections::HashSet;

use gdpr_core::store::{ProtocolCause, StoreError};
use url::Url;

use super::FhirClient;
use crate::model::Bundle;

/// The pages of one search, fetched one at a time ([`Pages::next_page`]).
pub struct Pages<'a> {
    client: &'a FhirClient,
    operation: &'static str,
    next: Option<Url>,
    seen: HashSet<String>,
    fetched: usize,
}

impl<'a> Pages<'a> {
    pub(super) fn new(client: &'a FhirClient, operation: &'static str, first: Url) -> Self {
        Self {
            client,
            operation,
            next: Some(first),
            seen: HashSet::new(),
            fetched: 0,
        }
    }

    /// The URL of the next page, if there is one (where a resumed export
    /// continues).
    pub fn next_url(&self) -> Option<&Url> {
        self.next.as_ref()
    }

    /// The next page, or `None` after the last.
    ///
    /// # Errors
    /// As [`FhirClient::read`]; [`StoreError::Protocol`] with
    /// [`ProtocolCause::InvalidContent`] when a `next` link leaves the base
    /// URL, repeats an earlier page, or the pages exceed the configured bound.
    pub async fn next_page(&mut self) -> Result<Option<Bundle>, StoreError> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        if !self.seen.insert(url.as_str().to_owned()) {
            return Err(invalid(
                self.operation,
                "the server's next link repeats an earlier page (a loop); the listing would \
                 never end: check the server's paging",
            ));
        }
        self.fetched += 1;
        if self.fetched > self.client.max_pages {
            return Err(invalid(
                self.operation,
                "more pages than the configured bound (`max_pages`); raise it or check the \
                 server's paging",
            ));
        }
        let bundle: Bundle = self.client.get_json(self.operation, url).await?;
        if let Some(next) = bundle.next() {
            self.next = Some(self.client.on_base(self.operation, next)?);
        }
        Ok(Some(bundle))
    }
}

/// A protocol error for content that breaks the rules above.
pub(crate) fn invalid(operation: &'static str, detail: &str) -> StoreError {
    StoreError::Protocol {
        operation,
        cause: ProtocolCause::InvalidContent,
        detail: detail.to_owned(),
    }
}

/// Whether `url` is on `base`'s origin and below its path.
pub(crate) fn is_below(base: &Url, url: &Url) -> bool {
    let prefix = base.path().trim_end_matches('/');
    url.origin() == base.origin()
        && url.username().is_empty()
        && url.password().is_none()
        && (url.path() == prefix || url.path().starts_with(&format!("{prefix}/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_urls_below_the_base_are_followed() {
        let base = Url::parse("https://ehr.example/fhir/r4/").unwrap();
        let ok = |s: &str| is_below(&base, &Url::parse(s).unwrap());
        assert!(ok("https://ehr.example/fhir/r4/Patient?_cursor=x"));
        assert!(ok("https://ehr.example:443/fhir/r4/Observation/1"));
        assert!(!ok("http://ehr.example/fhir/r4/Patient"));
        assert!(!ok("https://ehr.example:8443/fhir/r4/Patient"));
        assert!(!ok("https://evil.example/fhir/r4/Patient"));
        assert!(!ok("https://ehr.example/fhir/r4x/Patient"));
        assert!(!ok("https://ehr.example/other/Patient"));
        assert!(!ok("https://user:pw@ehr.example/fhir/r4/Patient"));
    }
}
