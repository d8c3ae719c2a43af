//! The one hardened reader of DICOM Part 10 headers, shared by the
//! de-identifier ([`crate::deid`]) and the storage adapters
//! ([`crate::store`]): every length is bounded by what encloses it before
//! anything is allocated or decoded, sequences nest at most [`MAX_DEPTH`]
//! deep, a header is at most [`MAX_HEADER`] bytes, and only then does
//! dicom-rs parse the bytes. A hostile file therefore fails alone, with a
//! [`Error::Malformed`] naming the byte offset, instead of overflowing the
//! stack or reserving gigabytes.
//!
//! Reading stops before the pixel data: pixels are never decoded. Deflated
//! data sets (PS3.5 §A.5) are inflated, bounded, by [`read_file_header`];
//! the de-identifier, which must stream the pixel data, refuses them.

mod validate;

use std::io::{BufRead, BufReader, Read};

use dicom_core::header::{HasLength, SequenceItemHeader};
use dicom_core::{DataElementHeader, Length, Tag, VR};
use dicom_encoding::decode::DecodeFrom;
use dicom_encoding::decode::implicit_le::StandardImplicitVRLittleEndianDecoder;
use dicom_encoding::transfer_syntax::TransferSyntaxIndex;
use dicom_object::{FileMetaTable, InMemDicomObject};
use dicom_transfer_syntax_registry::{TransferSyntax, TransferSyntaxRegistry};

use crate::error::Error;
pub(crate) use validate::validate;

static REGISTRY: TransferSyntaxRegistry = TransferSyntaxRegistry;

/// Sequences nested deeper than this are rejected as malformed.
pub(crate) const MAX_DEPTH: usize = 64;

/// The largest header (everything before the pixel data, after inflating)
/// that is read into memory.
pub(crate) const MAX_HEADER: u64 = 256 << 20;

/// The largest file meta group accepted.
const MAX_META: u32 = 1 << 20;

/// Deflated transfer syntaxes: the whole data set is one deflate stream.
const DEFLATED: &[&str] = &[
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.95",
    "1.2.840.10008.1.2.4.205",
];

/// Whether a transfer syntax deflates the data set.
pub(crate) fn is_deflated(ts_uid: &str) -> bool {
    DEFLATED.contains(&ts_uid)
}

fn malformed(reason: &'static str, offset: u64) -> Error {
    Error::Malformed { reason, offset }
}

/// Where the `DICM` code may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// After the 128-byte preamble (PS3.10 §7.1), the only form accepted.
    Preamble,
    /// After the preamble, or at byte 0 (files written without preamble,
    /// which dicom-rs also reads).
    PreambleOrBare,
}

/// Reads the preamble and the `DICM` code; returns the offset after it.
///
/// # Errors
/// [`Error::NotDicom`] when the code is missing.
pub(crate) fn read_prefix<R: BufRead>(r: &mut R, accept: Prefix) -> Result<u64, Error> {
    let mut prefix = [0u8; 132];
    let (head, rest) = prefix.split_at_mut(4);
    r.read_exact(head).map_err(|_| Error::NotDicom {
        reason: "shorter than the 132-byte DICOM prefix",
    })?;
    if accept == Prefix::PreambleOrBare && head == b"DICM" {
        return Ok(4);
    }
    r.read_exact(rest).map_err(|_| Error::NotDicom {
        reason: "shorter than the 132-byte DICOM prefix",
    })?;
    if prefix.get(128..132) != Some(b"DICM".as_slice()) {
        return Err(Error::NotDicom {
            reason: "no DICM code at byte 128",
        });
    }
    Ok(132)
}

/// The file meta group, read at offset `at` (after `DICM`): its length is
/// read and bounded first, and its elements checked, so that a corrupt
/// length cannot make the decoder reserve gigabytes. Returns the table and
/// the offset of the data set.
///
/// # Errors
/// [`Error::Malformed`] when the group is missing, implausible or corrupt.
pub(crate) fn read_meta<R: BufRead>(r: &mut R, at: u64) -> Result<(FileMetaTable, u64), Error> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .map_err(|_| malformed("the file meta information is truncated", at))?;
    if head.get(..8) != Some(b"\x02\x00\x00\x00UL\x04\x00".as_slice()) {
        return Err(malformed(
            "the file meta information does not start with its group length (0002,0000)",
            at,
        ));
    }
    let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if len > MAX_META {
        return Err(malformed(
            "the file meta group length is implausible",
            at + 8,
        ));
    }
    let mut body = Vec::new();
    (&mut *r)
        .take(u64::from(len))
        .read_to_end(&mut body)
        .map_err(Error::io("reading the input"))?;
    if body.len() != len as usize {
        return Err(malformed("the file meta information is truncated", at + 12));
    }
    let explicit_le = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    validate(&body, &explicit_le, at + 12)?;
    let meta = FileMetaTable::from_reader(b"DICM".chain(&head[..]).chain(body.as_slice()))
        .map_err(|_| malformed("the file meta information (group 0002) cannot be read", at))?;
    Ok((meta, at + 12 + u64::from(len)))
}

/// The registered transfer syntax named in the meta group.
///
/// # Errors
/// [`Error::UnsupportedTransferSyntax`] when it is unknown.
pub(crate) fn transfer_syntax(uid: &str) -> Result<&'static TransferSyntax, Error> {
    REGISTRY
        .get(uid)
        .ok_or_else(|| Error::UnsupportedTransferSyntax {
            uid: uid.into(),
            reason: "unknown transfer syntax; convert the file to explicit VR little endian first",
        })
}

/// A data set read up to the pixel data.
pub(crate) struct DataSet {
    /// Every element before the pixel data.
    pub(crate) dataset: InMemDicomObject,
    /// The encoded header of the pixel data element, and its length.
    pub(crate) pixel: Option<(Vec<u8>, Length)>,
}

/// A reader that keeps every byte it hands out, up to [`MAX_HEADER`].
struct Recorder<'r, R> {
    inner: &'r mut R,
    buf: Vec<u8>,
}

impl<R: Read> Read for Recorder<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(out)?;
        self.buf.extend_from_slice(out.get(..n).unwrap_or_default());
        Ok(n)
    }
}

impl<R: Read> Recorder<'_, R> {
    /// Records the next `len` bytes; a length past the header budget fails
    /// before anything is read, a length past the end of the input when the
    /// input ends.
    fn take_exact(&mut self, len: u32, offset: u64) -> Result<(), Error> {
        if self.buf.len() as u64 + u64::from(len) > MAX_HEADER {
            return Err(malformed(
                "a value makes the header larger than 256 MiB",
                offset,
            ));
        }
        let n = (&mut *self.inner)
            .take(u64::from(len))
            .read_to_end(&mut self.buf)
            .map_err(Error::io("reading the input"))?;
        if n as u64 != u64::from(len) {
            return Err(malformed(
                "a value is longer than the rest of the file",
                offset,
            ));
        }
        Ok(())
    }
}

/// Reads the data set encoded with `ts` from `r` (at file offset `base`) up
/// to, not including, Pixel Data; `r` is left at the pixel data's value.
/// Lengths and nesting are checked while reading and again, over the
/// recorded bytes, before dicom-rs decodes them.
///
/// # Errors
/// [`Error::Malformed`] for any length, nesting or size that does not fit;
/// [`Error::UnsupportedTransferSyntax`] when `ts` cannot be decoded.
pub(crate) fn read_data_set<R: BufRead>(
    r: &mut R,
    ts: &TransferSyntax,
    base: u64,
) -> Result<DataSet, Error> {
    let mut rec = Recorder {
        inner: r,
        buf: Vec::with_capacity(16 * 1024),
    };
    let dec = ts.decoder_for::<Recorder<'_, R>>().ok_or_else(|| Error::UnsupportedTransferSyntax {
        uid: ts.uid().into(),
        reason: "its data set encoding cannot be decoded; convert the file to explicit VR little endian first",
    })?;
    let mut pixel = None;
    loop {
        let pos = rec.buf.len();
        let at_end = rec
            .inner
            .fill_buf()
            .map_err(Error::io("reading the input"))?
            .is_empty();
        if at_end {
            break;
        }
        let (h, _) = dec
            .decode_header(&mut rec)
            .map_err(|_| malformed("a data element header cannot be decoded", base + pos as u64))?;
        if is_pixel_data(h.tag) {
            let header_bytes = rec.buf.split_off(pos);
            pixel = Some((header_bytes, h.length()));
            break;
        }
        skip_value(&mut rec, dec.as_ref(), &h, base, 0)?;
    }
    validate(&rec.buf, ts, base)?;
    let dataset = InMemDicomObject::read_dataset_with_ts(rec.buf.as_slice(), ts)
        .map_err(|_| malformed("the data set's elements cannot be decoded", base))?;
    Ok(DataSet { dataset, pixel })
}

fn is_pixel_data(tag: Tag) -> bool {
    tag.group() == 0x7FE0 && matches!(tag.element(), 0x0008 | 0x0009 | 0x0010)
}

fn skip_value<'r, R: Read>(
    rec: &mut Recorder<'r, R>,
    dec: &dyn DecodeFrom<Recorder<'r, R>>,
    h: &DataElementHeader,
    base: u64,
    depth: usize,
) -> Result<(), Error> {
    let offset = base + rec.buf.len() as u64;
    if let Some(len) = h.length().get() {
        return rec.take_exact(len, offset);
    }
    if depth >= MAX_DEPTH {
        return Err(malformed("sequences nested too deeply", offset));
    }
    // Undefined length: a sequence (UN with undefined length holds a
    // sequence in implicit VR little endian, PS3.5 §6.2.2).
    let implicit = StandardImplicitVRLittleEndianDecoder::default();
    let dec: &dyn DecodeFrom<Recorder<'r, R>> = if h.vr() == VR::UN { &implicit } else { dec };
    loop {
        let offset = base + rec.buf.len() as u64;
        let item = dec
            .decode_item_header(rec)
            .map_err(|_| malformed("a sequence item header cannot be decoded", offset))?;
        match item {
            SequenceItemHeader::SequenceDelimiter => return Ok(()),
            SequenceItemHeader::ItemDelimiter => {}
            SequenceItemHeader::Item { len } => match len.get() {
                Some(n) => rec.take_exact(n, offset)?,
                None => loop {
                    let offset = base + rec.buf.len() as u64;
                    let (eh, _) = dec.decode_header(rec).map_err(|_| {
                        malformed("a data element header cannot be decoded", offset)
                    })?;
                    if eh.tag == Tag(0xFFFE, 0xE00D) {
                        break;
                    }
                    skip_value(rec, dec, &eh, base, depth + 1)?;
                },
            },
        }
    }
}

/// Reads the data set of a Part 10 file (preamble optional) up to the pixel
/// data, inflating a deflated data set with at most [`MAX_HEADER`] bytes of
/// output.
///
/// # Errors
/// [`Error::NotDicom`] without the `DICM` code (not a DICOM file: callers
/// may ignore it); anything else means the file claims to be DICOM but
/// could not be read: [`Error::Malformed`],
/// [`Error::UnsupportedTransferSyntax`] or [`Error::Io`].
// Used by the storage adapters (feature `adapters`).
#[cfg_attr(not(feature = "adapters"), allow(dead_code))]
pub(crate) fn read_file_header<R: BufRead>(r: &mut R) -> Result<InMemDicomObject, Error> {
    read_file_header_with_meta(r).map(|(_, data_set)| data_set)
}

/// Reads the file meta group (its transfer syntax and SOP class, which a
/// DICOMDIR record names) and the data set of a Part 10 file (preamble
/// optional) up to the pixel data, inflating a deflated data set with at
/// most 256 MiB of output.
///
/// # Errors
/// [`Error::NotDicom`] without the `DICM` code (not a DICOM file: callers
/// may ignore it); anything else means the file claims to be DICOM but
/// could not be read: [`Error::Malformed`],
/// [`Error::UnsupportedTransferSyntax`] or [`Error::Io`].
pub fn read_file_header_with_meta<R: BufRead>(
    r: &mut R,
) -> Result<(FileMetaTable, InMemDicomObject), Error> {
    let at = read_prefix(r, Prefix::PreambleOrBare)?;
    let (meta, base) = read_meta(r, at)?;
    let ts_uid = meta.transfer_syntax().to_owned();
    let data_set = if is_deflated(&ts_uid) {
        // Offsets in errors are then offsets in the inflated data set.
        let explicit_le =
            dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
        let mut inflated = BufReader::new(inflate(r)?.take(MAX_HEADER));
        read_data_set(&mut inflated, &explicit_le, 0)?
    } else {
        read_data_set(r, transfer_syntax(&ts_uid)?, base)?
    };
    Ok((meta, data_set.dataset))
}

/// The offset of a deflated data set in a Part 10 file, when the file's
/// prefix and meta group can be read and name a deflated transfer syntax.
// Used by the storage adapters (feature `adapters`).
#[cfg_attr(not(feature = "adapters"), allow(dead_code))]
pub(crate) fn deflated_data_set_at<R: BufRead>(r: &mut R) -> Option<u64> {
    let at = read_prefix(r, Prefix::PreambleOrBare).ok()?;
    let (meta, base) = read_meta(r, at).ok()?;
    is_deflated(meta.transfer_syntax()).then_some(base)
}

/// A reader of the inflated data set that follows in `r`: raw deflate
/// (PS3.5 §A.5), or a zlib stream, which some writers produce instead.
///
/// # Errors
/// [`Error::Io`] when `r` cannot be read.
// Used by the storage adapters (feature `adapters`).
#[cfg_attr(not(feature = "adapters"), allow(dead_code))]
pub(crate) fn inflate<'r, R: BufRead>(r: &'r mut R) -> Result<Box<dyn Read + 'r>, Error> {
    let head = r.fill_buf().map_err(Error::io("reading the input"))?;
    let zlib = matches!(head, [cmf, flg, ..]
        if cmf & 0x0F == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0);
    Ok(if zlib {
        Box::new(flate2::bufread::ZlibDecoder::new(r))
    } else {
        Box::new(flate2::bufread::DeflateDecoder::new(r))
    })
}
