//! Verification never panics on any log bytes, and verifying chunks on
//! worker threads reaches exactly the verdict (report, or first bad
//! position and reason) of checking one entry at a time. The seed log
//! (`seeds/log_verifier`) is signed by the key in `seeds/public.key`.
#![no_main]

use std::path::Path;

use gdpr_audit::internals::{scan_chunks, scan_frames};
use gdpr_audit::signing::Verifier;
use gdpr_audit::internals::LogVerifier;
use libfuzzer_sys::fuzz_target;

const PUBLIC_KEY: &str = include_str!("../seeds/public.key");

fuzz_target!(|data: &[u8]| {
    let verifier = Verifier::parse(PUBLIC_KEY.trim()).expect("the seed key parses");
    let one_by_one = {
        let mut v = LogVerifier::new(&verifier, None).expect("no trusted checkpoint");
        let mut r = data;
        scan_frames(&mut r, Path::new("fuzz"), &mut |offset, e| v.entry(offset, &e))
            .and_then(|end| v.finish(end))
            .map(|report| format!("{report:?}"))
            .map_err(|e| e.to_string())
    };
    let chunked = {
        let mut v = LogVerifier::new(&verifier, None)
            .expect("no trusted checkpoint")
            .with_threads(2);
        let mut r = data;
        scan_chunks(&mut r, Path::new("fuzz"), &mut |chunk| v.chunk(chunk))
            .and_then(|end| v.finish(end))
            .map(|report| format!("{report:?}"))
            .map_err(|e| e.to_string())
    };
    assert_eq!(one_by_one, chunked);
});
