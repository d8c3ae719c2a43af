//! The record decoder and the frame parser never panic, whatever the
//! decoder accepts re-encodes to exactly the same bytes (canonical), and
//! the borrowed view verification uses accepts exactly the same bytes.
#![no_main]

use std::path::Path;

use gdpr_audit::internals::scan_frames;
use gdpr_audit::record::Record;
use gdpr_audit::internals::RecordView;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    assert_eq!(RecordView::parse(data).is_ok(), Record::decode(data).is_ok());
    if let Ok(record) = Record::decode(data) {
        assert_eq!(record.encode(), data, "decoder accepted a non-canonical record");
    }
    let mut r = data;
    let _ = scan_frames(&mut r, Path::new("fuzz"), &mut |_, _| Ok(()));
});
