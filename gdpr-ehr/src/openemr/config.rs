//! How to reach one OpenEMR site: the server's root URL and credentials (a
//! gdpr-connect [`Endpoint`]) and the site name, from which the FHIR base
//! (`/apis/{site}/fhir`), the standard API (`/apis/{site}/api`) and the
//! OAuth 2 token endpoint (`/oauth2/{site}/token`) follow.

use gdpr_connect::Endpoint;
use gdpr_core::store::StoreError;

use crate::client::FhirClient;

/// An OpenEMR site name (the folder under `sites/`, `default` unless the
/// installation runs several): 1 to 64 characters from `A-Z a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site(String);

impl Site {
    /// Parses a site name.
    ///
    /// # Errors
    /// [`StoreError::Configuration`] when the name breaks the rule above
    /// (it becomes a URL path segment).
    pub fn new(name: impl Into<String>) -> Result<Self, StoreError> {
        let name = name.into();
        let ok = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
        if ok {
            Ok(Self(name))
        } else {
            Err(StoreError::Configuration {
                detail: "an OpenEMR site name is 1 to 64 characters from A-Z a-z 0-9 _ - \
                         (the folder under sites/, usually `default`)"
                    .into(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How to reach one OpenEMR site.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenEmrConfig {
    /// The name of the system in audit records and manifests.
    pub name: String,
    /// The OpenEMR root URL (`https://emr.example.org`, or
    /// `https://host/openemr` where it is installed below a path), with TLS
    /// options, retries and credentials (OAuth 2 client credentials with a
    /// `private_key_jwt` assertion at [`OpenEmrConfig::token_url`], or the
    /// password grant with `user_role=users`).
    pub endpoint: Endpoint,
    /// The site.
    pub site: Site,
    /// Resources per FHIR page asked for (`_count`).
    pub page_size: u32,
    /// The most pages one FHIR listing may have.
    pub max_pages: usize,
    /// An export records a checkpoint (from which an interrupted export
    /// resumes) every this many pages or bulk batches...
    pub checkpoint_pages: usize,
    /// ... and at most once in this time (as [`crate::store::FhirConfig`]).
    pub checkpoint_interval: std::time::Duration,
}

impl OpenEmrConfig {
    /// A configuration for `site` below the root URL `root`, default
    /// options and no credentials.
    pub fn new(name: impl Into<String>, root: impl Into<String>, site: Site) -> Self {
        Self {
            name: name.into(),
            endpoint: Endpoint::new(root),
            site,
            page_size: FhirClient::DEFAULT_PAGE_SIZE,
            max_pages: FhirClient::DEFAULT_MAX_PAGES,
            checkpoint_pages: crate::store::FhirConfig::DEFAULT_CHECKPOINT_PAGES,
            checkpoint_interval: crate::store::FhirConfig::DEFAULT_CHECKPOINT_INTERVAL,
        }
    }

    fn below_root(&self, path: &str) -> String {
        format!(
            "{}/{path}/{}",
            self.endpoint.url.trim_end_matches('/'),
            self.site.as_str()
        )
    }

    /// The FHIR R4 base URL, `{root}/apis/{site}/fhir`.
    pub fn fhir_url(&self) -> String {
        format!("{}/fhir", self.below_root("apis"))
    }

    /// The standard REST API's base URL, `{root}/apis/{site}/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.below_root("apis"))
    }

    /// The OAuth 2 token endpoint, `{root}/oauth2/{site}/token` (for the
    /// credentials in [`OpenEmrConfig::endpoint`]).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.below_root("oauth2"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_site() {
        let site = Site::new("default").unwrap();
        let config = OpenEmrConfig::new("emr", "https://emr.example.org/", site);
        assert_eq!(
            config.fhir_url(),
            "https://emr.example.org/apis/default/fhir"
        );
        assert_eq!(config.api_url(), "https://emr.example.org/apis/default/api");
        assert_eq!(
            config.token_url(),
            "https://emr.example.org/oauth2/default/token"
        );
    }

    #[test]
    fn site_names_that_leave_their_segment_are_refused() {
        for bad in ["", "a/b", "..", "a b", &"x".repeat(65)] {
            assert!(Site::new(bad).is_err(), "{bad:?}");
        }
    }
}
