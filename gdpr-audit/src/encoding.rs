//! Primitives of the canonical binary encoding.
//!
//! Every value has exactly one encoding: integers are fixed-width
//! big-endian, strings and byte strings are a `u32` big-endian length and
//! the bytes (strings valid UTF-8), options a tag byte `0` (absent) or `1`
//! (present) and the value. The [`Reader`] rejects anything else — a tag
//! other than 0 or 1, a length past the end, invalid UTF-8, trailing
//! bytes — so that decoding and re-encoding always give back the same bytes.

use serde::Deserialize;
use serde::de::IntoDeserializer;
use serde::de::value::{
    BorrowedBytesDeserializer, EnumAccessDeserializer, Error as ValueError, StrDeserializer,
};
use serde::de::{DeserializeSeed, EnumAccess, Unexpected, VariantAccess, Visitor};

use crate::Error;
use crate::cause::Malformed;

/// Appends canonical values to a byte buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
        }
    }

    /// A writer appending to the bytes already in `buf`.
    pub(crate) fn from_vec(buf: Vec<u8>) -> Self {
        Self { buf }
    }

    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn i128(&mut self, v: i128) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn fixed(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
    }

    /// A length-prefixed byte string. Lengths are bounded by the callers'
    /// field rules (at most a few KiB), far below `u32::MAX`.
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        // Invariant: every field is validated to be < 64 KiB before encoding.
        self.u32(u32::try_from(v.len()).unwrap_or(u32::MAX));
        self.buf.extend_from_slice(v);
    }

    pub(crate) fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    pub(crate) fn opt_str(&mut self, v: Option<&str>) {
        match v {
            None => self.u8(0),
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
        }
    }

    /// The number of bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// The bytes written from `start` on, to change in place.
    pub(crate) fn tail_mut(&mut self, start: usize) -> &mut [u8] {
        self.buf.get_mut(start..).unwrap_or_default()
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads canonical values, rejecting anything non-canonical.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], what: &'static str) -> Self {
        Self { buf, pos: 0, what }
    }

    /// A field that breaks its rule ([`Malformed::InvalidField`]).
    pub(crate) fn fail(&self, detail: &'static str) -> Error {
        self.fail_as(Malformed::InvalidField, detail)
    }

    /// Bytes rejected for `cause`.
    pub(crate) fn fail_as(&self, cause: Malformed, detail: &'static str) -> Error {
        Error::NonCanonical {
            what: self.what,
            offset: self.pos as u64,
            cause,
            detail,
        }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.fail_as(Malformed::Truncated, "a field runs past the end"))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Error> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    pub(crate) fn i128(&mut self) -> Result<i128, Error> {
        Ok(i128::from_be_bytes(self.array()?))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    pub(crate) fn str(&mut self) -> Result<&'a str, Error> {
        let start = self.pos;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| Error::NonCanonical {
            what: self.what,
            offset: start as u64,
            cause: Malformed::NotUtf8,
            detail: "string is not valid UTF-8",
        })
    }

    /// An option tag: `false` for 0, `true` for 1, an error otherwise.
    pub(crate) fn tag(&mut self) -> Result<bool, Error> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(self.fail("option tag is neither 0 nor 1")),
        }
    }

    pub(crate) fn opt_str(&mut self) -> Result<Option<&'a str>, Error> {
        if self.tag()? {
            Ok(Some(self.str()?))
        } else {
            Ok(None)
        }
    }

    /// A unit enum variant by its serde name.
    pub(crate) fn name<T: Deserialize<'a>>(&mut self, reason: &'static str) -> Result<T, Error> {
        let start = self.pos;
        // Fast path: match the raw bytes against the variant names (a name
        // that is not UTF-8 matches none); any failure is re-read below
        // for exactly the error the checked path reports.
        if let Ok(bytes) = self.bytes()
            && let Ok(v) = T::deserialize(EnumAccessDeserializer::new(UnitName(bytes)))
        {
            return Ok(v);
        }
        self.pos = start;
        let s = self.str()?;
        let de: StrDeserializer<'a, ValueError> = s.into_deserializer();
        T::deserialize(de).map_err(|_| self.fail_as(Malformed::UnknownName, reason))
    }

    /// The bytes of the next length-prefixed field, without moving on.
    fn peek_bytes(&self) -> Option<&'a [u8]> {
        let at = self.pos.checked_add(4)?;
        let len = u32::from_be_bytes(self.buf.get(self.pos..at)?.try_into().ok()?) as usize;
        self.buf.get(at..at.checked_add(len)?)
    }

    /// [`Reader::name`], returning the value in `seen` when the field's
    /// bytes are those it was read from, and keeping the latest there.
    pub(crate) fn name_seen<T: Copy + Deserialize<'a>>(
        &mut self,
        reason: &'static str,
        seen: &mut Option<(&'a [u8], T)>,
    ) -> Result<T, Error> {
        if let (Some(bytes), Some((was, v))) = (self.peek_bytes(), *seen)
            && bytes == was
        {
            self.pos += 4 + bytes.len();
            return Ok(v);
        }
        let start = self.pos + 4;
        let v = self.name(reason)?;
        *seen = Some((&self.buf[start..self.pos], v));
        Ok(v)
    }

    /// The next string field if its bytes are those of `seen` (a string
    /// already read and accepted), moving past it; otherwise nothing.
    pub(crate) fn str_seen(&mut self, seen: Option<&'a str>) -> Option<&'a str> {
        let was = seen?;
        let bytes = self.peek_bytes()?;
        (bytes == was.as_bytes()).then(|| {
            self.pos += 4 + bytes.len();
            was
        })
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(self.fail_as(
                Malformed::TrailingBytes,
                "trailing bytes after the last field",
            ))
        }
    }
}

/// A unit enum variant named by raw bytes.
struct UnitName<'a>(&'a [u8]);

impl<'a> EnumAccess<'a> for UnitName<'a> {
    type Error = ValueError;
    type Variant = UnitOnly;
    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, UnitOnly), ValueError> {
        seed.deserialize(BorrowedBytesDeserializer::new(self.0))
            .map(|v| (v, UnitOnly))
    }
}

/// Accepts only unit variants (all a record's names are).
struct UnitOnly;

impl<'a> VariantAccess<'a> for UnitOnly {
    type Error = ValueError;
    fn unit_variant(self) -> Result<(), ValueError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, _: T) -> Result<T::Value, ValueError> {
        Err(serde::de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"unit variant",
        ))
    }
    fn tuple_variant<V: Visitor<'a>>(self, _: usize, _: V) -> Result<V::Value, ValueError> {
        Err(serde::de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"unit variant",
        ))
    }
    fn struct_variant<V: Visitor<'a>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, ValueError> {
        Err(serde::de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"unit variant",
        ))
    }
}

#[cfg(test)]
mod tests {
    use gdpr_core::purpose::Purpose;

    use super::*;

    #[test]
    fn values_round_trip() {
        let mut w = Writer::default();
        w.u8(7);
        w.u64(u64::MAX - 1);
        w.i128(-5);
        w.opt_str(Some("héllo"));
        w.opt_str(None);
        w.str(Purpose::QualityAssurance.name());
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes, "test");
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u64().unwrap(), u64::MAX - 1);
        assert_eq!(r.i128().unwrap(), -5);
        assert_eq!(r.opt_str().unwrap(), Some("héllo"));
        assert_eq!(r.opt_str().unwrap(), None);
        assert_eq!(
            r.name::<Purpose>("purpose").unwrap(),
            Purpose::QualityAssurance
        );
        r.finish().unwrap();
    }

    #[test]
    fn non_canonical_inputs_are_rejected() {
        assert!(Reader::new(&[2], "t").tag().is_err());
        assert!(Reader::new(&[0, 0, 0, 9, b'a'], "t").str().is_err());
        assert!(Reader::new(&[0, 0, 0, 1, 0xff], "t").str().is_err());
        let mut r = Reader::new(&[1, 2], "t");
        r.u8().unwrap();
        assert!(r.finish().is_err());
        let mut w = Writer::default();
        w.str("no-such-purpose");
        let b = w.into_bytes();
        assert!(Reader::new(&b, "t").name::<Purpose>("purpose").is_err());
    }
}
