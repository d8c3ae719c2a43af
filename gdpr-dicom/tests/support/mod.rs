//! Shared helpers of the gdpr-dicom integration tests: reading outputs back
//! (every test) and the stores' fixtures (`stores`, with the adapters).
//! Synthetic DICOM itself comes from `gdpr_dicom::synthetic` (feature
//! `testkit`), the one generator of the family.
#![allow(dead_code)]

use dicom_object::file::ReadPreamble;
use dicom_object::{DefaultDicomObject, OpenFileOptions};

#[cfg(feature = "adapters")]
pub mod fake_dcm4chee;
#[cfg(feature = "adapters")]
pub mod misbehaving_server;
#[cfg(feature = "adapters")]
mod stores;
#[cfg(feature = "adapters")]
#[allow(unused_imports)] // not every test binary uses the store fixtures
pub use stores::*;

/// Reads a whole Part 10 file from memory.
pub fn read(bytes: &[u8]) -> DefaultDicomObject {
    OpenFileOptions::new()
        .read_preamble(ReadPreamble::Always)
        .from_reader(bytes)
        .unwrap()
}

/// Whether `needle` occurs in `hay` (ASCII case-insensitive).
pub fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.to_ascii_uppercase().into_bytes();
    hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(&n))
}
