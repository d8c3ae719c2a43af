//! The record decoder and the frame parser never panic, and whatever the
//! decoder accepts re-encodes to exactly the same bytes (canonical).
#![no_main]

use std::path::Path;

use gdpr_audit::file_store::scan_frames;
use gdpr_audit::record::Record;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::decode(data) {
        assert_eq!(record.encode(), data, "decoder accepted a non-canonical record");
    }
    let mut r = data;
    let _ = scan_frames(&mut r, Path::new("fuzz"), &mut |_, _| Ok(()));
});
