//! A structural check of encoded data set bytes before they are decoded:
//! every element and item length must fit in what encloses it, at every
//! depth. A corrupt length therefore fails here with a clear reason instead
//! of making the decoder reserve memory for a value that is not there.

use std::io::Cursor;

use dicom_core::header::{HasLength, SequenceItemHeader};
use dicom_core::{Tag, VR};
use dicom_encoding::decode::DecodeFrom;
use dicom_encoding::decode::implicit_le::StandardImplicitVRLittleEndianDecoder;
use dicom_transfer_syntax_registry::TransferSyntax;

use super::MAX_DEPTH;
use crate::error::Error;

type Src<'b> = Cursor<&'b [u8]>;

fn bad(reason: &'static str, at: u64) -> Error {
    Error::Malformed { reason, offset: at }
}

/// Checks `bytes` (a data set encoded with `ts`); `base` is their offset in
/// the file, for error messages.
pub(crate) fn validate(bytes: &[u8], ts: &TransferSyntax, base: u64) -> Result<(), Error> {
    let dec = ts
        .decoder_for::<Src<'_>>()
        .ok_or(bad("the data set encoding is not supported", base))?;
    let mut src = Cursor::new(bytes);
    let end = bytes.len() as u64;
    elements(&mut src, dec.as_ref(), end, None, base, 0)
}

/// Walks elements until `end` (or an item delimiter when `end` is the
/// enclosing limit and `delimited` is set).
fn elements<'b>(
    src: &mut Src<'b>,
    dec: &dyn DecodeFrom<Src<'b>>,
    end: u64,
    delimited: Option<()>,
    base: u64,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(bad("sequences nested too deeply", base + src.position()));
    }
    while src.position() < end {
        let at = base + src.position();
        let (h, _) = dec
            .decode_header(src)
            .map_err(|_| bad("a data element header cannot be decoded", at))?;
        if h.tag == Tag(0xFFFE, 0xE00D) {
            return if delimited.is_some() {
                Ok(())
            } else {
                Err(bad("an item delimiter outside an item", at))
            };
        }
        let here = src.position();
        match h.length().get() {
            Some(len) if h.vr() == VR::SQ => {
                let stop = here + u64::from(len);
                if stop > end {
                    return Err(bad("a sequence is longer than what encloses it", at));
                }
                items(src, dec, stop, true, base, depth + 1)?;
                src.set_position(stop);
            }
            Some(len) => {
                if here + u64::from(len) > end {
                    return Err(bad("a value is longer than what encloses it", at));
                }
                src.set_position(here + u64::from(len));
            }
            None if h.vr() == VR::UN => {
                let implicit = StandardImplicitVRLittleEndianDecoder::default();
                items(src, &implicit, end, true, base, depth + 1)?;
            }
            None => {
                // A sequence, or encapsulated pixel data (items are fragments).
                let nested = h.vr() == VR::SQ;
                items(src, dec, end, nested, base, depth + 1)?;
            }
        }
    }
    if delimited.is_some() {
        return Err(bad("an item has no delimiter", base + src.position()));
    }
    Ok(())
}

/// Walks items until `end` or a sequence delimiter; `nested` items hold
/// elements, others (pixel fragments) raw bytes.
fn items<'b>(
    src: &mut Src<'b>,
    dec: &dyn DecodeFrom<Src<'b>>,
    end: u64,
    nested: bool,
    base: u64,
    depth: usize,
) -> Result<(), Error> {
    while src.position() < end {
        let at = base + src.position();
        let item = dec
            .decode_item_header(src)
            .map_err(|_| bad("a sequence item header cannot be decoded", at))?;
        match item {
            SequenceItemHeader::SequenceDelimiter => return Ok(()),
            SequenceItemHeader::ItemDelimiter => {}
            SequenceItemHeader::Item { len } => {
                let here = src.position();
                match len.get() {
                    Some(n) => {
                        let stop = here + u64::from(n);
                        if stop > end {
                            return Err(bad("an item is longer than what encloses it", at));
                        }
                        if nested {
                            elements(src, dec, stop, None, base, depth + 1)?;
                        }
                        src.set_position(stop);
                    }
                    None if nested => elements(src, dec, end, Some(()), base, depth + 1)?,
                    None => return Err(bad("a pixel data fragment has no length", at)),
                }
            }
        }
    }
    Ok(())
}
