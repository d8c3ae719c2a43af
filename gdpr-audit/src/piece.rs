//! Pieces: the unit of parallel verification. A piece is a run of a few
//! hundred entries of a [`Chunk`]; [`check`] does every check that needs
//! only the piece itself — each record decodes canonically, claims the
//! position it sits at, and links to the record before it in the piece;
//! each checkpoint's signature — and folds the piece's leaves into the
//! roots of aligned perfect subtrees. What depends on the log before the
//! piece (the link of its first record, the tree, the checkpoints' roots)
//! stays with [`crate::verify::LogVerifier`], which applies pieces in log
//! order and checks a piece one entry at a time whenever anything in it
//! failed, so the first bad position and its reason are exactly those of
//! one-by-one verification.

use std::sync::Arc;

use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::chunk::Chunk;
use crate::node_digest;
use crate::record::Hash;
use crate::signing::Verifier;
use crate::store::EntryRef;
use crate::view::{RecordView, Seen};

/// Records per piece: pieces end where the tree index is a multiple of this.
pub(crate) const PIECE_RECORDS: u64 = 256;

/// A run of entries of a chunk.
#[derive(Debug, Clone)]
pub(crate) struct Piece {
    /// The chunk holding the entries.
    pub chunk: Arc<Chunk>,
    /// First entry (index in the chunk).
    pub from: usize,
    /// One past the last entry.
    pub to: usize,
    /// The tree index its first record must have.
    pub base: u64,
    /// Its number of records.
    pub records: u64,
    /// A tree size at which a trusted checkpoint is checked (subtrees are
    /// not folded across it).
    pub trusted: Option<u64>,
}

/// What the tree and the checks need, in log order, from a clean piece.
#[derive(Debug)]
pub(crate) enum Step {
    /// A perfect subtree of `2^height` leaves, aligned in the tree.
    Subtree {
        /// Its root.
        root: Hash,
        /// Its height.
        height: u32,
    },
    /// A checkpoint (entry `index` of the chunk), opened.
    Checkpoint {
        /// Its index in the chunk.
        index: usize,
        /// The note parsed and its signature checked, or why not.
        opened: Result<Checkpoint, Error>,
    },
}

/// The outcome of [`check`].
#[derive(Debug)]
pub(crate) enum Checked {
    /// Every record decoded, sits at its position and links to the one
    /// before it within the piece.
    Clean {
        /// The previous-record hash the first record claims.
        first_prev: Option<Hash>,
        /// The leaf hash of the last record.
        last_leaf: Option<Hash>,
        /// Subtrees and checkpoints, in log order.
        steps: Vec<Step>,
    },
    /// Some record failed: check the piece one entry at a time.
    Failed,
}

/// Splits the entries of `chunk` into pieces, the first record at tree
/// index `base`.
pub(crate) fn split(chunk: &Arc<Chunk>, mut base: u64, trusted: Option<u64>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut from = 0;
    let mut records = 0;
    for i in 0..chunk.len() {
        if let (_, EntryRef::Record(_)) = chunk.get(i) {
            records += 1;
            if (base + records).is_multiple_of(PIECE_RECORDS) {
                pieces.push(piece(chunk, from, i + 1, base, records, trusted));
                (from, base, records) = (i + 1, base + records, 0);
            }
        }
    }
    if from < chunk.len() {
        pieces.push(piece(chunk, from, chunk.len(), base, records, trusted));
    }
    pieces
}

fn piece(
    chunk: &Arc<Chunk>,
    from: usize,
    to: usize,
    base: u64,
    records: u64,
    trusted: Option<u64>,
) -> Piece {
    Piece {
        chunk: Arc::clone(chunk),
        from,
        to,
        base,
        records,
        trusted,
    }
}

/// Checks what `piece` alone can show (see the module docs).
pub(crate) fn check(piece: &Piece, verifier: &Verifier) -> Checked {
    let chunk = &piece.chunk;
    let records: Vec<&[u8]> = (piece.from..piece.to)
        .filter_map(|i| match chunk.get(i).1 {
            EntryRef::Record(bytes) => Some(bytes),
            EntryRef::Checkpoint(_) => None,
        })
        .collect();
    let mut leaves = vec![[0u8; 32]; records.len()];
    node_digest::leaves(&records, &mut leaves);
    let mut steps = Vec::new();
    let mut run = 0; // first leaf not folded yet
    let mut k = 0; // records seen; the next one is at tree index `base + k`
    let mut scratch = Vec::new();
    let mut first_prev = None;
    let mut seen = Seen::default();
    for i in piece.from..piece.to {
        match chunk.get(i).1 {
            EntryRef::Record(bytes) => {
                let Ok(view) = RecordView::parse_seen(bytes, &mut seen) else {
                    return Checked::Failed;
                };
                let linked = match k {
                    0 => {
                        first_prev = Some(view.prev);
                        true
                    }
                    _ => view.prev == leaves[k - 1],
                };
                if view.position != piece.base + k as u64 || !linked {
                    return Checked::Failed;
                }
                k += 1;
                if piece.trusted == Some(piece.base + k as u64) {
                    fold(
                        &leaves[run..k],
                        piece.base + run as u64,
                        &mut scratch,
                        &mut steps,
                    );
                    run = k;
                }
            }
            EntryRef::Checkpoint(note) => {
                fold(
                    &leaves[run..k],
                    piece.base + run as u64,
                    &mut scratch,
                    &mut steps,
                );
                run = k;
                steps.push(Step::Checkpoint {
                    index: i,
                    opened: Checkpoint::open(note, verifier),
                });
            }
        }
    }
    fold(
        &leaves[run..k],
        piece.base + run as u64,
        &mut scratch,
        &mut steps,
    );
    Checked::Clean {
        first_prev,
        last_leaf: leaves.last().copied(),
        steps,
    }
}

/// Folds `leaves` (the first at tree index `start`) into the roots of the
/// aligned perfect subtrees that cover them, largest possible first.
fn fold(leaves: &[Hash], mut start: u64, scratch: &mut Vec<Hash>, steps: &mut Vec<Step>) {
    let mut rest = leaves;
    while !rest.is_empty() {
        // The largest subtree aligned at `start` that fits.
        let align = if start == 0 {
            u32::MAX
        } else {
            start.trailing_zeros()
        };
        let height = align.min((rest.len() as u64).ilog2());
        let (subtree, tail) = rest.split_at(1 << height);
        steps.push(Step::Subtree {
            root: root_of(subtree, scratch),
            height,
        });
        start += 1 << height;
        rest = tail;
    }
}

/// The root of a perfect subtree from its leaves, a level at a time.
fn root_of(leaves: &[Hash], scratch: &mut Vec<Hash>) -> Hash {
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        scratch.clear();
        scratch.resize(level.len() / 2, [0; 32]);
        node_digest::parents(&level, scratch);
        std::mem::swap(&mut level, scratch);
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{Frontier, leaf_hash};

    #[test]
    fn folded_subtrees_give_the_root_of_leaves_pushed_one_by_one() {
        for start in [0u64, 1, 5, 16, 255, 256, 1000] {
            for n in [0usize, 1, 2, 3, 17, 256, 300] {
                let leaves: Vec<Hash> = (0..start as usize + n)
                    .map(|i| leaf_hash(&i.to_be_bytes()))
                    .collect();
                let mut one = Frontier::new();
                leaves.iter().for_each(|l| one.push(*l));
                let mut folded = Frontier::new();
                leaves[..start as usize]
                    .iter()
                    .for_each(|l| folded.push(*l));
                let mut steps = vec![];
                fold(&leaves[start as usize..], start, &mut vec![], &mut steps);
                for s in steps {
                    let Step::Subtree { root, height } = s else {
                        panic!("only subtrees")
                    };
                    folded.push_subtree(root, height).unwrap();
                }
                assert_eq!(folded.root(), one.root(), "start {start}, {n} leaves");
            }
        }
    }

    #[test]
    fn pieces_end_at_multiples_of_the_piece_size() {
        let mut c = Chunk::new();
        for _ in 0..600 {
            c.push(0, EntryRef::Record(b"r"));
        }
        let c = Arc::new(c);
        let pieces = split(&c, 100, None);
        let sizes: Vec<u64> = pieces.iter().map(|p| p.records).collect();
        assert_eq!(sizes, vec![156, 256, 188]);
        assert_eq!(pieces[1].base, 256);
        assert_eq!(pieces.last().map(|p| p.to), Some(600));
    }
}
