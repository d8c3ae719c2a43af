//! Searching the bytes of a file that could not be parsed for what would
//! identify a subject's data in it (the Patient ID, the UID of a study
//! being erased), so that a report can say "the subject's data may remain
//! here" instead of only "could not be read".
//!
//! The search is for the exact bytes of each value (UTF-8, and ISO 8859-1
//! when that differs), through the raw file and, when its meta group names
//! a deflated transfer syntax, through the inflated data set as well (at
//! most [`MAX_INFLATED`] bytes). Finding a value proves nothing about whose
//! file it is (a longer identifier contains a shorter one); not finding it
//! proves nothing either. Either way the file stays unverified.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::reader::{deflated_data_set_at, inflate};

/// The most inflated bytes searched in one deflated file.
const MAX_INFLATED: u64 = 1 << 30;

/// What to look for: the byte forms of `values` (empty values skipped).
pub(crate) fn needles<'v>(values: impl IntoIterator<Item = &'v str>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for value in values.into_iter().filter(|v| !v.is_empty()) {
        out.push(value.as_bytes().to_vec());
        let latin1: Option<Vec<u8>> = value.chars().map(|c| u8::try_from(c).ok()).collect();
        if let Some(latin1) = latin1.filter(|l| l.as_slice() != value.as_bytes()) {
            out.push(latin1);
        }
    }
    out
}

/// Whether the file at `path` holds any of `needles` in its raw bytes or
/// its inflated deflated data set. A file that cannot be read holds none
/// (the caller reports it as unreadable either way).
pub(crate) fn file_holds_any(path: &Path, needles: &[Vec<u8>]) -> bool {
    if needles.is_empty() {
        return false;
    }
    let open = || File::open(path).map(|f| BufReader::with_capacity(64 * 1024, f));
    let Ok(mut raw) = open() else {
        return false;
    };
    if stream_holds_any(&mut raw, needles) {
        return true;
    }
    let Ok(mut file) = open() else {
        return false;
    };
    if deflated_data_set_at(&mut file).is_none() {
        return false;
    }
    // `file` is now positioned at the start of the deflate stream.
    match inflate(&mut file) {
        Ok(inflated) => stream_holds_any(&mut inflated.take(MAX_INFLATED), needles),
        Err(_) => false,
    }
}

/// Whether `r` yields any of `needles`, read in chunks (a needle split
/// across two chunks is found too). A read error ends the search.
fn stream_holds_any(r: &mut impl Read, needles: &[Vec<u8>]) -> bool {
    let keep = needles
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(1)
        .saturating_sub(1);
    let mut buf = vec![0u8; 64 * 1024 + keep];
    let mut filled = 0;
    loop {
        let n = match r.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        filled += n;
        let window = buf.get(..filled).unwrap_or_default();
        if needles
            .iter()
            .any(|needle| window.windows(needle.len()).any(|w| w == needle.as_slice()))
        {
            return true;
        }
        let tail = filled.saturating_sub(keep);
        buf.copy_within(tail..filled, 0);
        filled -= tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_split_across_chunks_are_found() {
        let needles = needles(["MRN-77"]);
        let mut data = vec![b'x'; 64 * 1024 - 3];
        data.extend_from_slice(b"MRN-77");
        assert!(stream_holds_any(&mut data.as_slice(), &needles));
        assert!(!stream_holds_any(&mut &data[..data.len() - 1], &needles));
    }

    #[test]
    fn latin1_forms_are_searched_too() {
        let needles = needles(["MÜLLER-1", ""]);
        assert_eq!(needles.len(), 2);
        assert!(stream_holds_any(&mut &b"..M\xDCLLER-1.."[..], &needles));
    }
}
