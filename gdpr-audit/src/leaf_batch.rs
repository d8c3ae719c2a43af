//! The parallel stage of verification: for a batch of records read
//! together, decode each one and compute its leaf hash, and the roots of
//! the aligned groups of [`GROUP`] leaves, on several threads. Everything
//! that depends on order (positions, chain links, checkpoints, the
//! frontier) stays sequential in [`crate::verify::LogVerifier`], which
//! checks each result in log order, so the first bad position is reported
//! exactly as in one-by-one verification.

use std::num::NonZeroUsize;

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::merkle::{leaf_hash, node_hash};
use crate::record::Hash;
use crate::signing::Verifier;
use crate::view::RecordView;

/// Height of a leaf group: `2^GROUP_HEIGHT` leaves.
pub(crate) const GROUP_HEIGHT: u32 = 4;
/// Leaves in a group.
pub(crate) const GROUP: usize = 1 << GROUP_HEIGHT;
/// Below this many records a batch is prepared on the calling thread.
const PARALLEL_MIN: usize = 256;

/// What the parallel stage found for one record.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// Its RFC 9162 leaf hash.
    pub leaf: Hash,
    /// Its claimed position and previous-record hash, or why it does not
    /// decode canonically.
    pub parsed: Result<(u64, Hash), Error>,
    /// Whether its leaf is covered by a group root (not pushed alone).
    pub grouped: bool,
    /// The root of the group it completes (set on a group's last record).
    pub group_root: Option<Hash>,
}

/// The number of threads verification uses by default.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Marks the records (of `n` read together, the first at tree index
/// `base`) that start a group: aligned in the tree, followed by `GROUP - 1`
/// records with no checkpoint among them (`breaks`: the number of records
/// before each checkpoint) and no trusted checkpoint size strictly inside.
pub(crate) fn group_starts(
    base: u64,
    n: usize,
    breaks: &[usize],
    trusted: Option<u64>,
) -> Vec<bool> {
    let mut starts = vec![false; n];
    let mut next_break = breaks.iter().peekable();
    for (i, start) in starts.iter_mut().enumerate() {
        while next_break.next_if(|&&b| b <= i).is_some() {}
        let first = base + i as u64;
        let last = first + GROUP as u64;
        *start = first.is_multiple_of(GROUP as u64)
            && i + GROUP <= n
            && next_break.peek().is_none_or(|&&b| b >= i + GROUP)
            && trusted.is_none_or(|t| t <= first || t >= last);
    }
    starts
}

/// Checkpoint notes parsed and their signatures checked, in order.
type Opened = Vec<Result<Checkpoint, Error>>;

/// The prepared records of a batch, in order, as the parts the threads
/// produced (kept apart: joining them would copy every result once more).
pub(crate) type PreparedParts = Vec<Vec<Prepared>>;

/// Prepares `recs`; `starts[i]` marks the first record of a group (the
/// caller guarantees `GROUP` records follow it, aligned in the tree).
/// Also opens `notes` (checks their signatures), shared out among the
/// same threads.
pub(crate) fn prepare(
    recs: &[&[u8]],
    starts: &[bool],
    notes: &[&str],
    verifier: &Verifier,
    threads: usize,
) -> (PreparedParts, Opened) {
    let open = |notes: &[&str]| -> Opened {
        notes
            .iter()
            .map(|n| Checkpoint::open(n, verifier))
            .collect()
    };
    let threads = threads.clamp(1, 64);
    if threads == 1 || recs.len() < PARALLEL_MIN {
        return (vec![prepare_range(recs, starts)], open(notes));
    }
    // Split points, moved forward so that no group is split.
    let mut cuts = vec![0];
    for j in 1..threads {
        let mut cut = recs.len() * j / threads;
        while cut < recs.len() && inside_group(starts, cut) {
            cut += 1;
        }
        if cut > *cuts.last().unwrap_or(&0) {
            cuts.push(cut);
        }
    }
    cuts.push(recs.len());
    cuts.dedup();
    let ranges: Vec<(usize, usize)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
    // Each range also opens an equal share of the notes.
    let shares = ranges.len();
    let share = |j: usize| &notes[notes.len() * j / shares..notes.len() * (j + 1) / shares];
    let Some((&(last_from, last_to), spawned)) = ranges.split_last() else {
        return (Vec::new(), open(notes));
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = spawned
            .iter()
            .enumerate()
            .map(|(j, &(from, to))| {
                let work = move || {
                    (
                        prepare_range(&recs[from..to], &starts[from..to]),
                        open(share(j)),
                    )
                };
                (
                    j,
                    from,
                    to,
                    std::thread::Builder::new()
                        .name("audit-verify".into())
                        .spawn_scoped(s, work),
                )
            })
            .collect();
        let tail = prepare_range(&recs[last_from..last_to], &starts[last_from..last_to]);
        let tail_opened = open(share(shares - 1));
        let mut parts = Vec::with_capacity(shares);
        let mut opened = Vec::with_capacity(notes.len());
        for (j, from, to, handle) in handles {
            let (part, notes) = match handle {
                Ok(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
                // No thread to be had: do the work here.
                Err(_) => (
                    prepare_range(&recs[from..to], &starts[from..to]),
                    open(share(j)),
                ),
            };
            parts.push(part);
            opened.extend(notes);
        }
        parts.push(tail);
        opened.extend(tail_opened);
        (parts, opened)
    })
}

/// Whether index `i` lies strictly inside a group.
fn inside_group(starts: &[bool], i: usize) -> bool {
    (i.saturating_sub(GROUP - 1)..i).any(|s| starts[s])
}

fn prepare_range(recs: &[&[u8]], starts: &[bool]) -> Vec<Prepared> {
    let mut out: Vec<Prepared> = recs
        .iter()
        .map(|bytes| Prepared {
            leaf: leaf_hash(bytes),
            parsed: RecordView::parse(bytes).map(|v| (v.position, v.prev)),
            grouped: false,
            group_root: None,
        })
        .collect();
    let group_starts: Vec<usize> = (0..out.len()).filter(|&i| starts[i]).collect();
    for i in group_starts {
        let Some(group) = out.get_mut(i..i + GROUP) else {
            continue; // Not reached: the caller leaves room for every group.
        };
        let mut level = [[0u8; 32]; GROUP];
        for (h, p) in level.iter_mut().zip(group.iter_mut()) {
            *h = p.leaf;
            p.grouped = true;
        }
        let mut width = GROUP;
        while width > 1 {
            for j in 0..width / 2 {
                level[j] = node_hash(&level[2 * j], &level[2 * j + 1]);
            }
            width /= 2;
        }
        if let Some(last) = group.last_mut() {
            last.group_root = Some(level[0]);
        }
    }
    out
}
