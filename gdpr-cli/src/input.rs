//! Reading input files: bounded, strict, and with errors that name the file
//! and the wrong field but never repeat a value from it.
//!
//! Every command that reads a file goes through here:
//! - [`open_input`] opens a path for reading without ever blocking on a FIFO
//!   that has no writer, and refuses directories and sockets;
//! - [`read_capped`] / [`read_text`] read a whole file up to a size limit
//!   (`/dev/zero` fails at the limit instead of filling memory);
//! - [`read_line_capped`] reads one line of a stream up to a size limit;
//! - [`read_json`] / [`parse_json`] parse one JSON document strictly:
//!   nothing after it, no key twice in an object, and the message names the
//!   file, the field's path (`actor.role`), the line and the allowed values.

use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, Read};
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde_json::error::Category;

use crate::error::{CliError, InputProblem};

/// The largest JSON document a command reads (16 MiB).
pub const MAX_JSON_BYTES: u64 = 16 << 20;
/// The largest text file read whole besides JSON, such as a rules pack (4 MiB).
pub const MAX_TEXT_BYTES: u64 = 4 << 20;
/// The longest line of JSON Lines input (1 MiB, newline excluded).
pub const MAX_LINE_BYTES: usize = 1 << 20;

fn io_error(path: &Path, source: std::io::Error) -> CliError {
    CliError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn problem(path: &Path, problem: InputProblem) -> CliError {
    CliError::Input {
        path: path.display().to_string(),
        problem,
    }
}

/// Opens `path` for reading.
///
/// Symbolic links are followed. A FIFO is opened without waiting for a
/// writer (with none, reading it ends at once), so a command never hangs
/// in `open`. Regular files, FIFOs and character devices are accepted.
///
/// # Errors
/// [`CliError::Io`] when the file cannot be opened (missing, dangling link,
/// no permission); [`CliError::Input`] with [`InputProblem::NotAFile`] for a
/// directory, a socket or a block device.
pub fn open_input(path: &Path) -> Result<File, CliError> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK;
    let fd = rustix::fs::open(path, flags, Mode::empty())
        .map_err(|e| io_error(path, std::io::Error::from(e)))?;
    let file = File::from(fd);
    let kind = file.metadata().map_err(|e| io_error(path, e))?.file_type();
    let refused = if kind.is_dir() {
        Some("a directory")
    } else if is_block_device_or_socket(&kind) {
        Some("a device or socket")
    } else {
        None
    };
    if let Some(what) = refused {
        return Err(problem(path, InputProblem::NotAFile { what }));
    }
    // Reads block as usual from here on (a FIFO's writer may be slow).
    rustix::fs::fcntl_setfl(&file, OFlags::empty())
        .map_err(|e| io_error(path, std::io::Error::from(e)))?;
    Ok(file)
}

fn is_block_device_or_socket(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_block_device() || kind.is_socket()
}

/// Reads the whole of `path`, at most `max_bytes` of it.
///
/// # Errors
/// As [`open_input`]; [`CliError::Input`] with [`InputProblem::TooLarge`]
/// when the file holds more than `max_bytes` (nothing beyond that is read).
pub fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, CliError> {
    let file = open_input(path)?;
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(problem(path, InputProblem::TooLarge { max_bytes }));
    }
    Ok(bytes)
}

/// Reads the whole of `path` as UTF-8 text, at most `max_bytes` of it.
///
/// # Errors
/// As [`read_capped`]; [`InputProblem::NotText`] when it is not UTF-8.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, CliError> {
    String::from_utf8(read_capped(path, max_bytes)?)
        .map_err(|_| problem(path, InputProblem::NotText))
}

/// The largest key or password file read (64 KiB): keys are a few hundred
/// bytes, so anything larger is the wrong file.
pub const MAX_SECRET_BYTES: u64 = 64 << 10;

/// A secret read from a file: its text, wiped from memory when dropped,
/// and the file's permission bits.
pub struct Secret {
    /// The file's text. Never print it.
    pub text: zeroize::Zeroizing<String>,
    /// The file's permission bits (`0o600` for a private file).
    pub mode: u32,
}

impl Secret {
    /// Whether only the owner may read or write the file.
    pub fn is_private(&self) -> bool {
        self.mode & 0o077 == 0
    }
}

// Never show a secret.
impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted>, mode {:03o})", self.mode)
    }
}

/// Reads a key or password file (at most [`MAX_SECRET_BYTES`]) into memory
/// that is wiped when dropped, opened as [`open_input`] does (a FIFO
/// without a writer reads as empty, `/dev/zero` stops at the limit).
///
/// # Errors
/// As [`open_input`]; [`InputProblem::TooLarge`] past the limit,
/// [`InputProblem::NotText`] when it is not UTF-8.
pub fn read_secret(path: &Path) -> Result<Secret, CliError> {
    use std::os::unix::fs::PermissionsExt;
    let file = open_input(path)?;
    let mode = file
        .metadata()
        .map_err(|e| io_error(path, e))?
        .permissions()
        .mode()
        & 0o777;
    // Room for the limit plus one byte, so the text is never moved (and a
    // copy left behind) by a reallocation.
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(MAX_SECRET_BYTES as usize + 1));
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(path, e))?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Err(problem(
            path,
            InputProblem::TooLarge {
                max_bytes: MAX_SECRET_BYTES,
            },
        ));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| problem(path, InputProblem::NotText))?;
    Ok(Secret {
        text: zeroize::Zeroizing::new(text.to_owned()),
        mode,
    })
}

/// What [`read_line_capped`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Line {
    /// A line (with its newline, if any) is in the buffer.
    Read,
    /// The stream has ended; the buffer is empty.
    End,
    /// The line is longer than the limit; the buffer holds its beginning
    /// and the rest of the line has not been read.
    TooLong,
}

/// Reads one line of `reader` into `buf` (cleared first), reading at most
/// `max_bytes` plus the newline.
///
/// # Errors
/// What the reader returns.
pub fn read_line_capped(
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    max_bytes: usize,
) -> std::io::Result<Line> {
    buf.clear();
    let limit = (max_bytes as u64).saturating_add(1);
    let n = reader.take(limit).read_until(b'\n', buf)?;
    Ok(if n == 0 {
        Line::End
    } else if buf.len() > max_bytes && !buf.ends_with(b"\n") {
        Line::TooLong
    } else {
        Line::Read
    })
}

/// Reads and parses the JSON file at `path` as a `T`, strictly (see
/// [`parse_json`]); the file may hold at most [`MAX_JSON_BYTES`].
///
/// # Errors
/// As [`read_text`] and [`parse_json`].
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, CliError> {
    let text = read_text(path, MAX_JSON_BYTES)?;
    parse_json(&path.display().to_string(), &text)
}

/// Parses `text` (read from `origin`) as one JSON document of type `T`.
///
/// Strict: anything but whitespace after the document is an error, and so
/// is a key given twice in one object (anywhere, also where `T` would keep
/// the last one). Nesting is limited to 128 levels.
///
/// # Errors
/// [`CliError::BadInput`] naming `origin`, the field's path (`actor.role`),
/// the line and column, and what was expected (the allowed values). Values
/// from the input are never repeated; unknown keys are named only when they
/// look like field names ([`gdpr_core::redact::serde_message`]).
pub fn parse_json<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T, CliError> {
    let bad = |e| json_error(origin, e);
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize::<_, NoDuplicateKeys>(&mut de).map_err(bad)?;
    de.end().map_err(|e| json_message(origin, ".", &e))?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(bad)
}

fn json_error(origin: &str, err: serde_path_to_error::Error<serde_json::Error>) -> CliError {
    json_message(origin, &field_path(err.path()), err.inner())
}

fn json_message(origin: &str, path: &str, inner: &serde_json::Error) -> CliError {
    let detail = gdpr_core::redact::serde_message(&inner.to_string());
    let message = match inner.classify() {
        Category::Syntax | Category::Eof => format!("{origin}: not valid JSON: {detail}"),
        Category::Io => format!("{origin}: could not be read: {detail}"),
        Category::Data if path == "." => format!("{origin}: {detail}"),
        Category::Data => format!("{origin}: at `{path}`: {detail}"),
    };
    CliError::BadInput(message)
}

/// The path of the field in error, with keys that do not look like field
/// names (they may be values: map keys) shown as `(key)`.
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out += &format!("[{index}]"),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                if gdpr_core::redact::is_field_name(key) {
                    out += key;
                } else {
                    out += "(key)";
                }
            }
            _ => out += ".?",
        }
    }
    if out.is_empty() { ".".into() } else { out }
}

/// Any JSON value; deserializing it fails on a key repeated in an object.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_unit<E>(self) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_none<E>(self) -> Result<Self, E> {
        Ok(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(self)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                return Err(de::Error::custom("a key appears twice in this object"));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(self)
    }
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
        Gamma,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        kind: Kind,
    }

    #[test]
    fn wrong_value_names_the_field_path_line_and_choices_but_not_the_value() {
        let err =
            parse_json::<Outer>("x.json", "{\n \"inner\": {\"kind\": \"beta\"}\n}").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("at `inner.kind`"), "{text}");
        assert!(text.contains("`alpha` or `gamma`"), "{text}");
        assert!(!text.contains("beta"), "{text}");
        assert!(text.contains("line 2"), "{text}");
    }

    #[test]
    fn malformed_json_says_so() {
        let err = parse_json::<Outer>("x.json", "{\"inner\": ").unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn trailing_text_is_an_error() {
        for text in [
            r#"{"inner": {"kind": "alpha"}} x"#,
            r#"{"inner": {"kind": "alpha"}}{}"#,
            r#"{"inner": {"kind": "alpha"}} ]"#,
        ] {
            let err = parse_json::<Outer>("x.json", text).unwrap_err();
            assert!(err.to_string().contains("x.json"), "{err}");
        }
        parse_json::<Outer>("x.json", "{\"inner\": {\"kind\": \"alpha\"}}\n \n").unwrap();
    }

    #[test]
    fn duplicate_keys_are_errors_also_inside_maps() {
        let err = parse_json::<Outer>("x.json", r#"{"inner": {"kind": "alpha", "kind": "gamma"}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        let err = parse_json::<std::collections::BTreeMap<String, u8>>(
            "x.json",
            r#"{"Doe": 1, "Doe": 2}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("twice"), "{err}");
        assert!(!err.to_string().contains("Doe"), "{err}");
    }

    #[test]
    fn deep_nesting_fails_cleanly() {
        let text = "[".repeat(100_000);
        let err = parse_json::<serde_json::Value>("x.json", &text).unwrap_err();
        assert!(err.to_string().contains("x.json"), "{err}");
    }

    #[test]
    fn big_files_and_long_lines_stop_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        std::fs::write(&path, vec![b' '; 101]).unwrap();
        let err = read_capped(&path, 100).unwrap_err();
        assert!(matches!(
            err,
            CliError::Input {
                problem: InputProblem::TooLarge { max_bytes: 100 },
                ..
            }
        ));
        assert!(err.to_string().contains("big.json"), "{err}");
        assert_eq!(read_capped(&path, 101).unwrap().len(), 101);

        let mut buf = Vec::new();
        let mut text: &[u8] = b"1234\n12345\n123456";
        assert_eq!(
            read_line_capped(&mut text, &mut buf, 5).unwrap(),
            Line::Read
        );
        assert_eq!(buf, b"1234\n");
        assert_eq!(
            read_line_capped(&mut text, &mut buf, 5).unwrap(),
            Line::Read
        );
        assert_eq!(
            read_line_capped(&mut text, &mut buf, 5).unwrap(),
            Line::TooLong
        );
    }

    #[test]
    fn directories_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_capped(dir.path(), 100).unwrap_err();
        assert!(matches!(
            err,
            CliError::Input {
                problem: InputProblem::NotAFile { .. },
                ..
            }
        ));
        assert!(
            err.to_string().contains(&dir.path().display().to_string()),
            "{err}"
        );
    }
}
