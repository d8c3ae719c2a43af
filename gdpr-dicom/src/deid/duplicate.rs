//! Inputs that map to one output name: two inputs with the same SOP
//! Instance UID get the same new UID, so the same output path. The first
//! in input order is written; a later one is a *duplicate* when it is the
//! same instance, a *UID collision* otherwise.
//!
//! "The same instance" means: the two de-identified outputs are byte for
//! byte equal (a copy), or they are in different transfer syntaxes and
//! their de-identified data sets (every element but the file meta group and
//! the pixel data) are equal (the same instance stored twice, e.g. explicit
//! and implicit VR, or compressed and not: pixel data in two encodings
//! cannot be compared without decoding, which this crate never does).

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use dicom_core::VR;
use dicom_core::header::Header as _;
use dicom_core::value::Value;
use dicom_object::InMemDicomObject;
use dicom_object::mem::InMemElement;

use super::dummy::is_bulk;
use super::stream::read_header;
use crate::error::Error;

/// Whether the outputs `a` and `b` hold the same instance (see the module
/// documentation).
pub(crate) fn same_instance(a: &Path, b: &Path) -> Result<bool, Error> {
    if same_bytes(a, b)? {
        return Ok(true);
    }
    let head = |p: &Path| {
        let f = File::open(p).map_err(Error::io("reading an output to compare it"))?;
        read_header(&mut BufReader::new(f))
    };
    let (ha, hb) = (head(a)?, head(b)?);
    if ha.meta.transfer_syntax() == hb.meta.transfer_syntax() {
        // Same encoding but different bytes: different content.
        return Ok(false);
    }
    Ok(same_dataset(&ha.dataset, &hb.dataset))
}

/// Equal tags, VRs and values, with values compared as the standard reads
/// them (text without padding, DS/IS as numbers), not as encoded: two
/// writers may format the same decimal differently.
fn same_dataset(a: &InMemDicomObject, b: &InMemDicomObject) -> bool {
    a.iter().count() == b.iter().count() && a.iter().zip(b.iter()).all(|(x, y)| same_element(x, y))
}

fn same_element(x: &InMemElement, y: &InMemElement) -> bool {
    if x.tag() != y.tag() {
        return false;
    }
    match (x.value(), y.value()) {
        (Value::Sequence(p), Value::Sequence(q)) => {
            p.items().len() == q.items().len()
                && p.items()
                    .iter()
                    .zip(q.items())
                    .all(|(i, j)| same_dataset(i, j))
        }
        (Value::Primitive(_), Value::Primitive(_)) if is_bulk(x.vr()) || is_bulk(y.vr()) => {
            x.to_bytes().ok() == y.to_bytes().ok()
        }
        (Value::Primitive(_), Value::Primitive(_)) => values(x) == values(y),
        _ => false,
    }
}

/// The element's values as text, padding removed, numbers normalised.
fn values(e: &InMemElement) -> Option<Vec<String>> {
    let strs = e.to_multi_str().ok()?;
    Some(
        strs.iter()
            .map(|v| {
                let v = v.trim_matches(['\0', ' ']);
                match e.vr() {
                    VR::DS | VR::IS => v
                        .parse::<f64>()
                        .map_or_else(|_| v.to_owned(), |n| n.to_string()),
                    _ => v.to_owned(),
                }
            })
            .collect(),
    )
}

fn same_bytes(a: &Path, b: &Path) -> Result<bool, Error> {
    const OP: &str = "reading an output to compare it";
    let open = |p: &Path| File::open(p).map_err(Error::io(OP));
    let (fa, fb) = (open(a)?, open(b)?);
    let len = |f: &File| f.metadata().map(|m| m.len()).map_err(Error::io(OP));
    if len(&fa)? != len(&fb)? {
        return Ok(false);
    }
    let (mut ra, mut rb) = (BufReader::new(fa), BufReader::new(fb));
    let (mut ba, mut bb) = (vec![0u8; 64 * 1024], vec![0u8; 64 * 1024]);
    loop {
        let n = read_full(&mut ra, &mut ba)?;
        let m = read_full(&mut rb, &mut bb)?;
        if ba.get(..n) != bb.get(..m) {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

/// Reads until `buf` is full or the end; returns the number of bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, Error> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|b| !b.is_empty()) {
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    op: "reading an output to compare it",
                    source: e,
                });
            }
        }
    }
    Ok(filled)
}
