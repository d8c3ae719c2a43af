//! Many files in parallel with bounded memory: each worker holds at most
//! one file's header; pixel data is streamed. One file's failure never stops
//! the others.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::deidentifier::{Deidentifier, Outcome};
use crate::error::Error;

/// The result for one input file. `Debug` omits the input path (paths
/// often contain patient names).
pub struct FileResult {
    /// The input (may contain patient names: treat as sensitive).
    pub input: PathBuf,
    /// The output or why there is none.
    pub result: Result<Outcome, Error>,
}

impl std::fmt::Debug for FileResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileResult")
            .field("input", &"<redacted path>")
            .field("result", &self.result)
            .finish()
    }
}

/// Lists the files under `inputs` (files as given, folders recursively, in
/// sorted order; links to folders inside a folder are not followed).
///
/// # Errors
/// [`Error::Io`] when an input or a folder cannot be read.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    let mut out = Vec::new();
    for input in inputs {
        walk(input, &mut out)?;
    }
    Ok(out)
}

fn walk(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    walk_at(path, out, true)
}

fn walk_at(path: &Path, out: &mut Vec<PathBuf>, top: bool) -> Result<(), Error> {
    // Symbolic links to folders are followed only when named on the command
    // line, so that a link loop cannot make the walk endless.
    let link = std::fs::symlink_metadata(path).map_err(Error::io("reading an input"))?;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        // A broken link inside a folder fails alone, with its own reason.
        Err(_) if !top => {
            out.push(path.to_owned());
            return Ok(());
        }
        Err(e) => return Err(Error::io("reading an input")(e)),
    };
    if meta.is_dir() && (top || !link.file_type().is_symlink()) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(Error::io("listing an input folder"))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(Error::io("listing an input folder"))?;
        entries.sort();
        for e in entries {
            walk_at(&e, out, false)?;
        }
    } else if meta.is_file() {
        out.push(path.to_owned());
    }
    Ok(())
}

/// De-identifies `files` into `out_dir` on `jobs` threads (0 = one per
/// core), calling `on_done` as each file finishes (from worker threads).
/// Results come back in input order.
///
/// # Errors
/// [`Error::Io`] when the thread pool cannot be started.
pub fn deidentify_all(
    deid: &Deidentifier,
    files: &[PathBuf],
    out_dir: &Path,
    jobs: usize,
    on_done: &(dyn Fn(&FileResult) + Sync),
) -> Result<Vec<FileResult>, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|e| Error::Io {
            op: "starting worker threads",
            source: std::io::Error::other(e),
        })?;
    Ok(pool.install(|| {
        files
            .par_iter()
            .with_max_len(1)
            .map(|input| {
                let r = FileResult {
                    input: input.clone(),
                    result: deid.deidentify_file(input, out_dir),
                };
                on_done(&r);
                r
            })
            .collect()
    }))
}
