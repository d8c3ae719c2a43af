//! DICOM modality codes, for rules limited to some kinds of imaging
//! (e.g. ionising radiation: X-ray, CT, nuclear medicine).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A DICOM modality code (`CT`, `MR`, `NM`, …; Value Representation CS,
/// at most 16 characters), stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Modality {
    bytes: [u8; 16],
    len: u8,
}

impl Modality {
    /// The code, e.g. `"CT"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters, digits, '_' and ' ' are stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl FromStr for Modality {
    type Err = Error;

    /// Parses a modality code; lower-case letters are upper-cased.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = Error::InvalidIdentifier {
            what: "modality",
            rule: "a DICOM modality code of 1 to 16 letters, digits or '_' (e.g. CT, MR, NM)",
        };
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 16 {
            return Err(err);
        }
        let mut bytes = [0u8; 16];
        for (slot, &c) in bytes.iter_mut().zip(b) {
            if !(c.is_ascii_alphanumeric() || c == b'_') {
                return Err(err);
            }
            *slot = c.to_ascii_uppercase();
        }
        Ok(Self {
            bytes,
            // At most 16, checked above.
            len: b.len() as u8,
        })
    }
}

impl fmt::Debug for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A modality code is not personal data.
        write!(f, "Modality({})", self.as_str())
    }
}

impl fmt::Display for Modality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modality_is_normalised_and_validated() {
        assert_eq!("ct".parse::<Modality>().unwrap().as_str(), "CT");
        assert!("".parse::<Modality>().is_err());
        assert!("C T".parse::<Modality>().is_err());
        assert!("ABCDEFGHIJKLMNOPQ".parse::<Modality>().is_err());
    }
}
