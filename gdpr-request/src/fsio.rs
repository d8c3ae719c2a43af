//! Durable file writes: append-and-sync, replace atomically.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::Error;

/// Syncs a directory so that a created or renamed entry survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync the request directory"))
}

/// Replaces `path` with `bytes` atomically (temporary file, sync, rename,
/// sync of the directory): a reader sees the old or the new file, never a
/// mix.
pub(crate) fn replace(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    let mut f = File::create(&tmp).map_err(Error::io(what))?;
    f.write_all(bytes).map_err(Error::io(what))?;
    f.sync_all().map_err(Error::io(what))?;
    fs::rename(&tmp, path).map_err(Error::io(what))?;
    sync_dir(dir)
}

/// Opens `path` for appending, creating it (and syncing its directory)
/// when missing.
pub(crate) fn open_append(path: &Path, what: &'static str) -> Result<File, Error> {
    let existed = path.exists();
    let f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(Error::io(what))?;
    if !existed {
        sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    }
    Ok(f)
}

/// Appends one line and syncs the data before returning.
pub(crate) fn append_line(f: &mut File, line: &[u8], what: &'static str) -> Result<(), Error> {
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line);
    buf.push(b'\n');
    f.write_all(&buf).map_err(Error::io(what))?;
    f.sync_data().map_err(Error::io(what))
}

/// The complete lines of `text` and the length of a torn last line (bytes
/// after the last newline), if any.
pub(crate) fn split_lines(text: &[u8]) -> (Vec<&[u8]>, usize) {
    let end = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines = text[..end]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    (lines, text.len() - end)
}

/// Every complete line of the JSON-lines file at `path`, parsed in order. A
/// torn last line (a crash inside an append) is left out; a line that does
/// not parse is [`Error::Damaged`] naming `what` and the line's number.
/// `read` names the reading in an I/O error.
pub(crate) fn read_jsonl<T: DeserializeOwned>(
    path: &Path,
    read: &'static str,
    what: &'static str,
) -> Result<Vec<T>, Error> {
    let bytes = fs::read(path).map_err(Error::io(read))?;
    let (lines, _torn) = split_lines(&bytes);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_slice(l).map_err(|_| Error::Damaged {
                what,
                line: i as u64 + 1,
            })
        })
        .collect()
}
