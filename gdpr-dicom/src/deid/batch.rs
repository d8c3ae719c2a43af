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
    // Named on the command line: links are followed.
    let meta = std::fs::metadata(path).map_err(Error::io("reading an input"))?;
    if meta.is_dir() {
        walk_dir(path, out)
    } else {
        if meta.is_file() {
            out.push(path.to_owned());
        }
        Ok(())
    }
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)
        .map_err(Error::io("listing an input folder"))?
        .map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?))))
        .collect::<Result<_, _>>()
        .map_err(Error::io("listing an input folder"))?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, kind) in entries {
        if kind.is_dir() {
            walk_dir(&path, out)?;
        } else if kind.is_symlink() {
            // Links to files are followed, links to folders are not (no
            // loops); a broken link fails alone, with its own reason.
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                out.push(path);
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The most worker threads per core that [`deidentify_all`] starts: work is
/// bound by the CPU and the file system, so more only cost memory and
/// start-up time.
pub const JOBS_PER_CORE: usize = 4;

/// The most worker threads [`deidentify_all`] starts: [`JOBS_PER_CORE`] per
/// core available to this process.
pub fn max_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get) * JOBS_PER_CORE
}

/// De-identifies `files` into `out_dir` on `jobs` threads (0 = one per
/// core, more than [`max_jobs`] = [`max_jobs`]), calling `on_done` as each file finishes (from worker threads).
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
        .num_threads(jobs.min(max_jobs()))
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
