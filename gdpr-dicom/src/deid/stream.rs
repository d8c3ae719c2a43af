//! Streamed reading and writing of one DICOM file: the header (file meta
//! group and every element before Pixel Data) is parsed into memory, the
//! pixel data and anything after it stay on disk and are copied as bytes
//! (`std::io::copy`, which uses `copy_file_range` between files on Linux).
//! Pixel data is never decoded, whether native or encapsulated.

use std::io::{BufRead, Read, Write};

use dicom_core::header::HasLength;
use dicom_core::{DataElementHeader, Length, Tag, VR};
use dicom_encoding::decode::DecodeFrom;
use dicom_encoding::decode::implicit_le::StandardImplicitVRLittleEndianDecoder;
use dicom_encoding::transfer_syntax::{Endianness, TransferSyntaxIndex};
use dicom_object::{FileMetaTable, InMemDicomObject};
use dicom_transfer_syntax_registry::{TransferSyntax, TransferSyntaxRegistry};

use super::validate::validate;
use crate::error::Error;

static REGISTRY: TransferSyntaxRegistry = TransferSyntaxRegistry;

/// Deflated transfer syntaxes: the whole data set is one zlib stream, so the
/// pixel data cannot be copied without inflating and re-deflating it.
const DEFLATED: &[&str] = &[
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.4.95",
    "1.2.840.10008.1.2.4.205",
];

/// Sequences nested deeper than this are rejected as malformed.
const MAX_DEPTH: usize = 64;

/// The parsed header of one file, positioned before its pixel data.
pub(crate) struct Header {
    pub(crate) meta: FileMetaTable,
    pub(crate) ts: &'static TransferSyntax,
    pub(crate) dataset: InMemDicomObject,
    /// The encoded header of the pixel data element, and its length.
    pub(crate) pixel: Option<(Vec<u8>, Length)>,
}

/// A reader that keeps every byte it hands out.
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
    fn take_exact(&mut self, len: u32, offset: u64) -> Result<(), Error> {
        let n = (&mut *self.inner)
            .take(u64::from(len))
            .read_to_end(&mut self.buf)
            .map_err(Error::io("reading the input"))?;
        if n as u64 != u64::from(len) {
            return Err(Error::Malformed {
                reason: "a value is longer than the rest of the file",
                offset,
            });
        }
        Ok(())
    }
}

fn malformed(reason: &'static str, offset: u64) -> Error {
    Error::Malformed { reason, offset }
}

/// Reads the preamble, the file meta group and the data set up to (not
/// including) Pixel Data; `r` is left at the pixel data's value.
pub(crate) fn read_header<R: BufRead>(r: &mut R) -> Result<Header, Error> {
    let mut prefix = [0u8; 132];
    r.read_exact(&mut prefix).map_err(|_| Error::NotDicom {
        reason: "shorter than the 132-byte DICOM prefix",
    })?;
    if prefix.get(128..132) != Some(b"DICM".as_slice()) {
        return Err(Error::NotDicom {
            reason: "no DICM code at byte 128",
        });
    }
    let meta = read_meta(r)?;
    let ts_uid = meta.transfer_syntax().to_owned();
    if DEFLATED.contains(&ts_uid.as_str()) {
        return Err(Error::UnsupportedTransferSyntax {
            uid: ts_uid.into(),
            reason: "a deflated data set cannot be streamed without re-compressing the pixel data; \
                     inflate it first (e.g. `dcmconv +te`) and de-identify the result",
        });
    }
    let ts = REGISTRY
        .get(&ts_uid)
        .ok_or_else(|| Error::UnsupportedTransferSyntax {
            uid: ts_uid.clone().into(),
            reason: "unknown transfer syntax; convert the file to explicit VR little endian first",
        })?;
    let base = 132 + 12 + u64::from(meta.information_group_length);
    let mut rec = Recorder {
        inner: r,
        buf: Vec::with_capacity(16 * 1024),
    };
    let dec = ts.decoder_for::<Recorder<'_, R>>().ok_or_else(|| Error::UnsupportedTransferSyntax {
        uid: ts_uid.clone().into(),
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
    Ok(Header {
        meta,
        ts,
        dataset,
        pixel,
    })
}

/// The file meta group: its length is read and bounded first, and its
/// elements checked, so that a corrupt length cannot make the decoder reserve
/// gigabytes.
fn read_meta<R: BufRead>(r: &mut R) -> Result<FileMetaTable, Error> {
    const MAX_META: u32 = 1 << 20;
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .map_err(|_| malformed("the file meta information is truncated", 132))?;
    if head.get(..8) != Some(b"\x02\x00\x00\x00UL\x04\x00".as_slice()) {
        return Err(malformed(
            "the file meta information does not start with its group length (0002,0000)",
            132,
        ));
    }
    let len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if len > MAX_META {
        return Err(malformed("the file meta group length is implausible", 140));
    }
    let mut body = Vec::new();
    (&mut *r)
        .take(u64::from(len))
        .read_to_end(&mut body)
        .map_err(Error::io("reading the input"))?;
    if body.len() != len as usize {
        return Err(malformed("the file meta information is truncated", 144));
    }
    let explicit_le = dicom_transfer_syntax_registry::entries::EXPLICIT_VR_LITTLE_ENDIAN.erased();
    validate(&body, &explicit_le, 144)?;
    FileMetaTable::from_reader(b"DICM".chain(&head[..]).chain(body.as_slice()))
        .map_err(|_| malformed("the file meta information (group 0002) cannot be read", 132))
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
            dicom_core::header::SequenceItemHeader::SequenceDelimiter => return Ok(()),
            dicom_core::header::SequenceItemHeader::ItemDelimiter => {}
            dicom_core::header::SequenceItemHeader::Item { len } => match len.get() {
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

/// Writes preamble, meta group and data set of a de-identified header.
pub(crate) fn write_head<W: Write>(
    w: &mut W,
    meta: &FileMetaTable,
    dataset: &InMemDicomObject,
    ts: &TransferSyntax,
) -> Result<(), Error> {
    w.write_all(&[0u8; 128])
        .map_err(Error::io("writing the output"))?;
    w.write_all(b"DICM")
        .map_err(Error::io("writing the output"))?;
    meta.write(&mut *w).map_err(|_| Error::Encode {
        reason: "the file meta information",
    })?;
    dataset
        .write_dataset_with_ts(&mut *w, ts)
        .map_err(|_| Error::Encode {
            reason: "the data set",
        })?;
    Ok(())
}

/// Copies the pixel data element (header bytes already read) from `r` to
/// `w` without decoding it: a defined length is copied in one go, an
/// encapsulated value item by item up to its sequence delimiter.
pub(crate) fn copy_pixel_data<R: BufRead, W: Write>(
    r: &mut R,
    w: &mut W,
    header_bytes: &[u8],
    len: Length,
    endianness: Endianness,
) -> Result<(), Error> {
    w.write_all(header_bytes)
        .map_err(Error::io("writing the output"))?;
    let copy = |r: &mut R, w: &mut W, n: u64| -> Result<(), Error> {
        // Small values are usually buffered already: write them directly.
        let buffered = r.fill_buf().map_err(Error::io("reading the input"))?;
        if let Some(bytes) = usize::try_from(n).ok().and_then(|n| buffered.get(..n)) {
            w.write_all(bytes)
                .map_err(Error::io("writing the output"))?;
            let len = bytes.len();
            r.consume(len);
            return Ok(());
        }
        let copied =
            std::io::copy(&mut r.take(n), w).map_err(Error::io("copying the pixel data"))?;
        if copied != n {
            return Err(malformed("the pixel data is truncated", 0));
        }
        Ok(())
    };
    if let Some(n) = len.get() {
        return copy(r, w, u64::from(n));
    }
    loop {
        let mut item = [0u8; 8];
        r.read_exact(&mut item)
            .map_err(|_| malformed("the encapsulated pixel data is truncated", 0))?;
        w.write_all(&item)
            .map_err(Error::io("writing the output"))?;
        let u16_at = |i: usize| {
            let b = [item[i], item[i + 1]];
            match endianness {
                Endianness::Little => u16::from_le_bytes(b),
                Endianness::Big => u16::from_be_bytes(b),
            }
        };
        let n = {
            let b = [item[4], item[5], item[6], item[7]];
            match endianness {
                Endianness::Little => u32::from_le_bytes(b),
                Endianness::Big => u32::from_be_bytes(b),
            }
        };
        match (u16_at(0), u16_at(2)) {
            (0xFFFE, 0xE000) if n != u32::MAX => copy(r, w, u64::from(n))?,
            (0xFFFE, 0xE0DD) => return Ok(()),
            _ => {
                return Err(malformed(
                    "the encapsulated pixel data has an invalid item",
                    0,
                ));
            }
        }
    }
}

/// Reads the elements after the pixel data (usually none).
pub(crate) fn read_trailer<R: BufRead>(
    r: &mut R,
    ts: &TransferSyntax,
) -> Result<Option<InMemDicomObject>, Error> {
    if r.fill_buf()
        .map_err(Error::io("reading the input"))?
        .is_empty()
    {
        return Ok(None);
    }
    let mut rest = Vec::new();
    r.read_to_end(&mut rest)
        .map_err(Error::io("reading the input"))?;
    if rest.is_empty() {
        return Ok(None);
    }
    validate(&rest, ts, 0)?;
    InMemDicomObject::read_dataset_with_ts(rest.as_slice(), ts)
        .map(Some)
        .map_err(|_| malformed("the elements after the pixel data cannot be decoded", 0))
}

/// Writes trailing elements after the pixel data.
pub(crate) fn write_trailer<W: Write>(
    w: &mut W,
    trailer: &InMemDicomObject,
    ts: &TransferSyntax,
) -> Result<(), Error> {
    trailer
        .write_dataset_with_ts(&mut *w, ts)
        .map_err(|_| Error::Encode {
            reason: "the elements after the pixel data",
        })
}
