//! Streamed reading and writing of one DICOM file: the header (file meta
//! group and every element before Pixel Data) is parsed into memory, the
//! pixel data and anything after it stay on disk and are copied as bytes
//! (`std::io::copy`, which uses `copy_file_range` between files on Linux).
//! Pixel data is never decoded, whether native or encapsulated.

use std::io::{BufRead, Read, Write};

use dicom_core::Length;
use dicom_encoding::transfer_syntax::Endianness;
use dicom_object::{FileMetaTable, InMemDicomObject};
use dicom_transfer_syntax_registry::TransferSyntax;

use crate::error::Error;
use crate::reader::{self, DataSet, Prefix, validate};

/// The parsed header of one file, positioned before its pixel data.
pub(crate) struct Header {
    pub(crate) meta: FileMetaTable,
    pub(crate) ts: &'static TransferSyntax,
    pub(crate) dataset: InMemDicomObject,
    /// The encoded header of the pixel data element, and its length.
    pub(crate) pixel: Option<(Vec<u8>, Length)>,
}

fn malformed(reason: &'static str, offset: u64) -> Error {
    Error::Malformed { reason, offset }
}

/// Reads the preamble, the file meta group and the data set up to (not
/// including) Pixel Data with the hardened reader ([`crate::reader`]); `r`
/// is left at the pixel data's value.
pub(crate) fn read_header<R: BufRead>(r: &mut R) -> Result<Header, Error> {
    let at = reader::read_prefix(r, Prefix::Preamble)?;
    let (meta, base) = reader::read_meta(r, at)?;
    let ts_uid = meta.transfer_syntax().to_owned();
    if reader::is_deflated(&ts_uid) {
        return Err(Error::UnsupportedTransferSyntax {
            uid: ts_uid.into(),
            reason: "a deflated data set cannot be streamed without re-compressing the pixel data; \
                     inflate it first (e.g. `dcmconv +te`) and de-identify the result",
        });
    }
    let ts = reader::transfer_syntax(&ts_uid)?;
    let DataSet { dataset, pixel } = reader::read_data_set(r, ts, base)?;
    Ok(Header {
        meta,
        ts,
        dataset,
        pixel,
    })
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
