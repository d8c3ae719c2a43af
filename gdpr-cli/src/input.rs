//! Reading JSON input files with errors that name the wrong field.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::error::CliError;

/// Reads and parses the JSON file at `path` as a `T`.
///
/// # Errors
/// [`CliError::Io`] when the file cannot be read; [`CliError::BadInput`] when
/// it is not valid JSON or a field is missing, unknown or has a wrong value.
/// The message names the file, the field's path (`actor.role`), the line and
/// column, and what was expected.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_json(&path.display().to_string(), &text)
}

/// Parses `text` (read from `origin`) as a `T`; see [`read_json`].
pub fn parse_json<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T, CliError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = match inner.classify() {
            Category::Syntax | Category::Eof => format!("{origin}: not valid JSON: {inner}"),
            Category::Io => format!("{origin}: could not be read: {inner}"),
            Category::Data if path == "." => format!("{origin}: {inner}"),
            Category::Data => format!("{origin}: at `{path}`: {inner}"),
        };
        CliError::BadInput(message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    #[allow(dead_code)]
    enum Kind {
        Alpha,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        kind: Kind,
    }

    #[test]
    fn wrong_value_names_the_field_path_and_line() {
        let err =
            parse_json::<Outer>("x.json", "{\n \"inner\": {\"kind\": \"beta\"}\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at `inner.kind`"), "{text}");
        assert!(text.contains("beta") && text.contains("alpha"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn malformed_json_says_so() {
        let err = parse_json::<Outer>("x.json", "{\"inner\": ").unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }
}
