//! The EHR kinds of `systems.toml`: `fhir` (any FHIR R4 server) and
//! `openemr` (one OpenEMR site), their own keys besides the endpoint's, and
//! how each is opened as a gdpr-ehr store.

use gdpr_connect::{EndpointSettings, GrantKind, Section, SystemKeys};
use gdpr_core::store::{StoreError, SubjectStore};
use gdpr_ehr::client::FhirClient;
use gdpr_ehr::openemr::{OpenEmrConfig, OpenEmrStore, Site};
use gdpr_ehr::store::{FhirConfig, FhirStore};
use serde::{Deserialize, Deserializer};

/// The most resources per page that may be asked for (`page_size`).
const MAX_PAGE_SIZE: u64 = 1000;
/// The most pages of one listing that may be allowed (`max_pages`).
const MAX_PAGES: u64 = 1_000_000;

/// The keys of a `fhir` entry besides the endpoint's (whose `url` is the
/// FHIR base, `https://ehr.example.org/fhir/r4`).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct FhirKeys {
    /// Resources per page asked for (`_count`), 1 to 1000 (default 100).
    #[serde(default, deserialize_with = "page_size")]
    pub page_size: Option<u32>,
    /// The most pages one listing may have, 1 to 1,000,000 (default
    /// 10,000): a bound against servers that page for ever.
    #[serde(default, deserialize_with = "max_pages")]
    pub max_pages: Option<usize>,
}

impl SystemKeys for FhirKeys {
    const KEYS: &'static [&'static str] = &["page_size", "max_pages"];
}

/// The keys of an `openemr` entry besides the endpoint's (whose `url` is
/// the server's root, `https://emr.example.org`).
#[derive(Debug, Clone, Default, Deserialize)]
#[non_exhaustive]
pub struct OpenEmrKeys {
    /// The site (the folder under `sites/`; default `default`).
    pub site: Option<String>,
    /// Resources per FHIR page asked for, 1 to 1000 (default 100).
    #[serde(default, deserialize_with = "page_size")]
    pub page_size: Option<u32>,
    /// The most pages one FHIR listing may have, 1 to 1,000,000.
    #[serde(default, deserialize_with = "max_pages")]
    pub max_pages: Option<usize>,
}

impl SystemKeys for OpenEmrKeys {
    const KEYS: &'static [&'static str] = &["site", "page_size", "max_pages"];
}

/// A count from 1 to `max`, or an error naming `key` and the bounds.
fn bounded<'de, D: Deserializer<'de>>(d: D, key: &str, max: u64) -> Result<u64, D::Error> {
    // TOML integers are signed: a negative count is named too.
    let n = i64::deserialize(d)?;
    match u64::try_from(n) {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(serde::de::Error::custom(format!(
            "`{key}` must be 1 to {max}"
        ))),
    }
}

fn page_size<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    // At most MAX_PAGE_SIZE, so it fits.
    bounded(d, "page_size", MAX_PAGE_SIZE).map(|n| Some(n as u32))
}

fn max_pages<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    let n = bounded(d, "max_pages", MAX_PAGES)?;
    Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
}

/// Opens a `fhir` entry.
pub(crate) fn open_fhir(
    name: &str,
    section: &Section<FhirKeys>,
) -> Result<Box<dyn SubjectStore>, StoreError> {
    let mut config = FhirConfig::new(name, &section.endpoint.url);
    config.endpoint = section.endpoint.endpoint(name)?;
    config.page_size = section
        .system
        .page_size
        .unwrap_or(FhirClient::DEFAULT_PAGE_SIZE);
    config.max_pages = section
        .system
        .max_pages
        .unwrap_or(FhirClient::DEFAULT_MAX_PAGES);
    Ok(Box::new(FhirStore::connect(&config)?))
}

/// Opens an `openemr` entry: the token endpoint defaults to the site's,
/// SMART discovery reads the site's FHIR API, the password grant gets
/// OpenEMR's `user_role`.
pub(crate) fn open_openemr(
    name: &str,
    section: &Section<OpenEmrKeys>,
) -> Result<Box<dyn SubjectStore>, StoreError> {
    let keys = &section.system;
    let site = Site::new(keys.site.as_deref().unwrap_or("default")).map_err(|e| {
        StoreError::Configuration {
            detail: format!("system `{name}`: `site`: {e}"),
        }
    })?;
    let root = section.endpoint.url.clone();
    let mut config = OpenEmrConfig::new(name, &root, site);
    let settings = openemr_settings(&section.endpoint, &config);
    let mut endpoint = settings.endpoint(name)?;
    endpoint.url = root;
    config.endpoint = endpoint;
    config.page_size = keys.page_size.unwrap_or(FhirClient::DEFAULT_PAGE_SIZE);
    config.max_pages = keys.max_pages.unwrap_or(FhirClient::DEFAULT_MAX_PAGES);
    Ok(Box::new(OpenEmrStore::connect(&config)?))
}

/// The endpoint keys of an OpenEMR entry with the site's defaults filled in.
fn openemr_settings(given: &EndpointSettings, config: &OpenEmrConfig) -> EndpointSettings {
    let mut settings = given.clone();
    if settings.smart_discovery {
        // SMART discovery reads `<FHIR base>/.well-known/smart-configuration`.
        settings.url = config.fhir_url();
    } else if settings.client_id.is_some()
        && settings.token_url.is_none()
        && settings.oidc_issuer.is_none()
    {
        settings.token_url = Some(config.token_url());
    }
    if settings.grant == Some(GrantKind::Password) {
        settings
            .token_parameters
            .get_or_insert_with(Default::default)
            .entry("user_role".into())
            .or_insert_with(|| "users".into());
    }
    settings
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> EndpointSettings {
        let section: Section<OpenEmrKeys> = toml::from_str(text).unwrap();
        section.endpoint
    }

    fn config() -> OpenEmrConfig {
        OpenEmrConfig::new("emr", "https://emr.example.org", Site::new("s2").unwrap())
    }

    #[test]
    fn openemr_clients_get_the_sites_token_endpoint_unless_given() {
        let given = settings("url = \"https://emr.example.org\"\nclient_id = \"c\"\n");
        let filled = openemr_settings(&given, &config());
        assert_eq!(
            filled.token_url.as_deref(),
            Some("https://emr.example.org/oauth2/s2/token")
        );
        let own = settings(
            "url = \"https://emr.example.org\"\nclient_id = \"c\"\ntoken_url = \"https://t/x\"\n",
        );
        assert_eq!(
            openemr_settings(&own, &config()).token_url.as_deref(),
            Some("https://t/x")
        );
        let none = settings("url = \"https://emr.example.org\"\n");
        assert_eq!(openemr_settings(&none, &config()).token_url, None);
    }

    #[test]
    fn openemr_smart_discovery_reads_the_fhir_api_and_password_grants_get_user_role() {
        let smart = settings(
            "url = \"https://emr.example.org\"\nclient_id = \"c\"\nsmart_discovery = true\n",
        );
        let filled = openemr_settings(&smart, &config());
        assert_eq!(filled.url, "https://emr.example.org/apis/s2/fhir");
        assert_eq!(filled.token_url, None);
        let password = settings(
            "url = \"https://e\"\nclient_id = \"c\"\ngrant = \"password\"\nusername = \"u\"\n",
        );
        let params = openemr_settings(&password, &config())
            .token_parameters
            .unwrap();
        assert_eq!(params.get("user_role").map(String::as_str), Some("users"));
        let own = settings(
            "url = \"https://e\"\ngrant = \"password\"\ntoken_parameters = { user_role = \"x\" }\n",
        );
        let params = openemr_settings(&own, &config()).token_parameters.unwrap();
        assert_eq!(params.get("user_role").map(String::as_str), Some("x"));
    }
}
