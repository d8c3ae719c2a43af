//! Progress of a package being built, for a display (a terminal bar in
//! the CLI): phases and byte or file counts, never a name or a value.

use std::fmt;
use std::sync::Arc;

/// One step of progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProgressEvent {
    /// A phase begins (`"hashing"`, `"sealing"`, `"indexing DICOM"`) with
    /// its total in bytes or files (0 when unknown).
    Begin {
        /// The phase.
        phase: &'static str,
        /// Its total.
        total: u64,
    },
    /// This many more bytes or files are done.
    Advance(u64),
    /// The phase ended.
    End,
}

/// Where progress goes; by default nowhere.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(ProgressEvent) + Send + Sync>>);

impl Progress {
    /// Progress sent to `sink`.
    pub fn to(sink: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(sink)))
    }

    pub(crate) fn send(&self, e: ProgressEvent) {
        if let Some(sink) = &self.0 {
            sink(e);
        }
    }

    pub(crate) fn begin(&self, phase: &'static str, total: u64) {
        self.send(ProgressEvent::Begin { phase, total });
    }

    pub(crate) fn advance(&self, n: u64) {
        self.send(ProgressEvent::Advance(n));
    }

    pub(crate) fn end(&self) {
        self.send(ProgressEvent::End);
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}
