//! Many files in parallel with bounded memory: each worker holds at most
//! one file's header; pixel data is streamed. One file's failure never stops
//! the others.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use super::deidentifier::{Deidentifier, Outcome, Staged};
use super::duplicate::same_instance;
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
/// core, more than [`max_jobs`] = [`max_jobs`]), calling `on_done` with the
/// input's index as each file finishes (from worker threads). Results come
/// back in input order.
///
/// Inputs that map to the same output (the same SOP Instance UID) never
/// overwrite each other: the first in input order is written, whatever the
/// thread timing; a later one gets [`Error::Duplicate`] when it holds the
/// same instance, [`Error::UidCollision`] otherwise (see `deid::duplicate`).
///
/// # Errors
/// [`Error::Io`] when the thread pool cannot be started.
pub fn deidentify_all(
    deid: &Deidentifier,
    files: &[PathBuf],
    out_dir: &Path,
    jobs: usize,
    on_done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<FileResult>, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(max_jobs()))
        .build()
        .map_err(|e| Error::Io {
            op: "starting worker threads",
            source: std::io::Error::other(e),
        })?;
    // Output path -> the input that took it first (in time).
    let claims: Mutex<HashMap<PathBuf, usize>> = Mutex::new(HashMap::new());
    let done: Vec<Done> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .with_max_len(1)
            .map(|(i, input)| {
                let d = match deid.stage_file(input, out_dir) {
                    Err(e) => Done::Finished(Err(e)),
                    Ok(staged) => claim(&claims, i, staged),
                };
                on_done(i);
                d
            })
            .collect()
    });
    let claims = claims.into_inner().unwrap_or_else(PoisonError::into_inner);
    let mut results: Vec<Result<Outcome, Error>> = Vec::with_capacity(done.len());
    let mut held: Vec<(usize, Staged)> = Vec::new();
    for (i, d) in done.into_iter().enumerate() {
        match d {
            Done::Finished(r) => results.push(r),
            Done::Held(staged) => {
                // Placeholder until the group is resolved below.
                results.push(Ok(staged.outcome.clone()));
                held.push((i, staged));
            }
        }
    }
    resolve_held(held, &claims, &mut results);
    Ok(files
        .iter()
        .zip(results)
        .map(|(input, result)| FileResult {
            input: input.clone(),
            result,
        })
        .collect())
}

/// What a worker did with one input.
enum Done {
    /// Written (or failed).
    Finished(Result<Outcome, Error>),
    /// Complete under its temporary name, but another input took its output
    /// name first: decided after every worker has finished.
    Held(Staged),
}

/// Takes the output name for input `i` and renames the output into place,
/// or holds it when an input took the name first.
fn claim(claims: &Mutex<HashMap<PathBuf, usize>>, i: usize, staged: Staged) -> Done {
    let first = {
        let mut map = claims.lock().unwrap_or_else(PoisonError::into_inner);
        match map.entry(staged.target.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(v) => {
                v.insert(i);
                true
            }
        }
    };
    if first {
        Done::Finished(staged.commit())
    } else {
        Done::Held(staged)
    }
}

/// Decides every output name that several inputs share: the first input in
/// input order wins (its output is put in place if it was held), every
/// other is compared with it and reported as a duplicate or a collision.
fn resolve_held(
    held: Vec<(usize, Staged)>,
    claims: &HashMap<PathBuf, usize>,
    results: &mut [Result<Outcome, Error>],
) {
    let mut groups: BTreeMap<&Path, Vec<(usize, Staged)>> = BTreeMap::new();
    for (i, staged) in held {
        if let Some((path, _)) = claims.get_key_value(&staged.target) {
            groups.entry(path.as_path()).or_default().push((i, staged));
        }
    }
    for (target, mut members) in groups {
        let Some(&claimant) = claims.get(target) else {
            continue;
        };
        members.sort_by_key(|(i, _)| *i);
        let first_held = members.first().map_or(usize::MAX, |(i, _)| *i);
        // The claimant is in place only if its rename succeeded.
        let claimant_written = results.get(claimant).is_some_and(Result::is_ok);
        let winner = if claimant_written && claimant < first_held {
            claimant
        } else {
            first_held
        };
        let winner_file = match members.iter().find(|(i, _)| *i == winner) {
            Some((_, s)) => s.tmp.clone(),
            None => target.to_path_buf(),
        };
        if claimant_written && claimant != winner {
            set(results, claimant, verdict(target, &winner_file, winner));
        }
        for (i, staged) in &members {
            if *i != winner {
                set(results, *i, verdict(&staged.tmp, &winner_file, winner));
                staged.discard();
            }
        }
        if let Some(pos) = members.iter().position(|(i, _)| *i == winner) {
            let (_, staged) = members.swap_remove(pos);
            set(results, winner, staged.commit());
        }
    }
}

fn set(results: &mut [Result<Outcome, Error>], i: usize, r: Result<Outcome, Error>) {
    if let Some(slot) = results.get_mut(i) {
        *slot = r;
    }
}

/// `Duplicate` or `UidCollision` for the output `file` against the winner's.
fn verdict(file: &Path, winner_file: &Path, winner: usize) -> Result<Outcome, Error> {
    let first_input = winner + 1;
    Err(match same_instance(file, winner_file) {
        Ok(true) => Error::Duplicate { first_input },
        Ok(false) => Error::UidCollision { first_input },
        Err(e) => e,
    })
}
