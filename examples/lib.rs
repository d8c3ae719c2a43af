//! Runnable examples of the gdpr-health crates; see the `[[example]]`
//! entries of this package. The library itself is empty.
#![forbid(unsafe_code)]
