//! The checkpoint parser never panics, and an accepted note's body is
//! exactly what the checkpoint would sign (no second spelling is accepted).
#![no_main]

use gdpr_audit::checkpoint::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(note) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((cp, _sigs)) = Checkpoint::parse_unverified(note) {
        let body = cp.body();
        assert!(note.starts_with(&body[..body.len() - 1]), "accepted a non-canonical checkpoint body");
    }
});
