//! The RFC 9162 (Certificate Transparency 2.0) Merkle tree over the log's
//! records, with SHA-256.
//!
//! Leaves are the canonical record bytes: leaf hash `SHA-256(0x00 ‖ bytes)`,
//! interior node `SHA-256(0x01 ‖ left ‖ right)`, the empty tree
//! `SHA-256("")` (RFC 9162 §2.1.1).
//!
//! Proofs are *verified* with the `ct-merkle` crate ([`verify_inclusion`],
//! [`verify_consistency`]), the same code a third party would run. They are
//! *generated* here from stored leaf hashes, because `ct-merkle`'s tree must
//! hold every leaf value and cannot start from a pruned prefix: the
//! generation is a literal transcription of RFC 9162 §2.1.3.1 (`PATH`) and
//! §2.1.4.1 (`PROOF`/`SUBPROOF`), cross-checked against `ct-merkle`'s own
//! tree in the tests, and checked against known-answer vectors.

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::cause::Tamper;
pub use crate::frontier::Frontier;
use crate::record::Hash;

/// `SHA-256(0x00 ‖ data)`: the RFC 9162 leaf hash.
pub fn leaf_hash(data: &[u8]) -> Hash {
    crate::node_digest::leaf(data)
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the RFC 9162 interior node hash.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    crate::node_digest::node(left, right)
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
pub(crate) fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The hashes a log keeps to answer proofs: the frontier of a pruned
/// prefix and the leaf hashes after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    pruned: Frontier,
    leaves: Vec<Hash>,
    full: Frontier,
    /// `levels[h][j]`: hash of the perfect block `first[h] + j` of height
    /// `h ≥ 1` (leaves `[(first[h]+j)·2^h, (first[h]+j+1)·2^h)`), for blocks
    /// after the pruned prefix; makes proofs O(log n).
    levels: Vec<Vec<Hash>>,
    first: Vec<u64>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree whose first `pruned.size()` leaves were pruned.
    pub fn after_prune(pruned: Frontier) -> Self {
        Self {
            full: pruned.clone(),
            pruned,
            ..Self::default()
        }
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let k = self.pruned.size();
        let index = self.full.size();
        self.leaves.push(leaf);
        // The frontier's merges are exactly the perfect blocks that end at
        // this leaf: keep those after the pruned prefix (no hash twice).
        let (levels, first) = (&mut self.levels, &mut self.first);
        self.full.push_reporting(leaf, |h, node| {
            let block = index >> h;
            if block << h < k {
                return;
            }
            if levels.len() < h {
                levels.push(Vec::new());
                first.push(block);
            }
            levels[h - 1].push(*node);
        });
    }

    /// The stored hash of the perfect block of height `h` starting at leaf `start`.
    fn block(&self, h: usize, start: u64) -> Option<Hash> {
        let k = self.pruned.size();
        if h == 0 {
            return self
                .leaves
                .get(usize::try_from(start.checked_sub(k)?).ok()?)
                .copied();
        }
        let level = self.levels.get(h - 1)?;
        let j = (start >> h).checked_sub(*self.first.get(h - 1)?)?;
        level.get(usize::try_from(j).ok()?).copied()
    }

    /// The number of leaves (pruned ones included).
    pub fn size(&self) -> u64 {
        self.full.size()
    }

    /// The number of pruned leaves.
    pub fn pruned(&self) -> u64 {
        self.pruned.size()
    }

    /// The frontier of the whole tree.
    pub fn frontier(&self) -> &Frontier {
        &self.full
    }

    /// Where the tree stands, to [`Tree::rollback`] to.
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            full: self.full.clone(),
            leaves: self.leaves.len(),
            levels: self.levels.iter().map(Vec::len).collect(),
        }
    }

    /// Drops every leaf pushed since `mark` was taken.
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.full = mark.full;
        self.leaves.truncate(mark.leaves);
        self.levels.truncate(mark.levels.len());
        self.first.truncate(mark.levels.len());
        for (level, len) in self.levels.iter_mut().zip(mark.levels) {
            level.truncate(len);
        }
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.full.root()
    }

    /// MTH of leaves `[lo, hi)`, `None` if it needs hashes lost to pruning.
    fn range(&self, lo: u64, hi: u64) -> Option<Hash> {
        let k = self.pruned.size();
        let n = hi - lo;
        if n.is_power_of_two()
            && lo.is_multiple_of(n)
            && lo >= k
            && let Some(h) = self.block(n.trailing_zeros() as usize, lo)
        {
            return Some(h);
        }
        if lo >= k && n == 1 {
            return self.block(0, lo);
        }
        if hi <= k {
            // A union of whole frontier blocks, or nothing.
            let mut start = 0u64;
            let mut picked = Vec::new();
            for (i, node) in self.pruned.nodes().iter().enumerate() {
                let size = block_size(k, i)?;
                if start >= lo && start + size <= hi {
                    picked.push(*node);
                } else if start < hi && start + size > lo {
                    return None;
                }
                start += size;
            }
            let mut it = picked.into_iter().rev();
            let last = it.next()?;
            return Some(it.fold(last, |acc, left| node_hash(&left, &acc)));
        }
        let s = split(hi - lo);
        Some(node_hash(
            &self.range(lo, lo + s)?,
            &self.range(lo + s, hi)?,
        ))
    }

    /// The root of the first `size` leaves.
    ///
    /// # Errors
    /// [`Error::BadInput`] if `size` exceeds the tree or reaches into the
    /// pruned prefix in a way its frontier cannot answer.
    pub fn root_at(&self, size: u64) -> Result<Hash, Error> {
        if size == 0 {
            return Ok(empty_root());
        }
        self.check(size, size)?;
        self.range(0, size).ok_or_else(pruned_error)
    }

    /// The MTH of leaves `[lo, hi)`.
    ///
    /// # Errors
    /// [`Error::BadInput`] if out of range or lost to pruning.
    pub fn root_range(&self, lo: u64, hi: u64) -> Result<Hash, Error> {
        if lo >= hi {
            return Err(Error::BadInput {
                what: "range",
                reason: "empty range".into(),
            });
        }
        self.check(lo, hi)?;
        self.range(lo, hi).ok_or_else(pruned_error)
    }

    fn check(&self, a: u64, size: u64) -> Result<(), Error> {
        if a > size || size > self.size() {
            return Err(Error::BadInput {
                what: "proof request",
                reason: format!(
                    "tree has {} records; asked about {a} of {size}",
                    self.size()
                )
                .into(),
            });
        }
        Ok(())
    }

    /// The RFC 9162 inclusion proof (`PATH(m, D[n])`) of leaf `index` in
    /// the tree of the first `size` leaves.
    ///
    /// # Errors
    /// [`Error::BadInput`] if `index >= size`, `size` is too large, or the
    /// proof would need hashes lost to pruning.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        self.check(index, size)?;
        if index == size {
            return Err(Error::BadInput {
                what: "proof request",
                reason: "index must be smaller than the tree size".into(),
            });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out)
            .ok_or_else(pruned_error)?;
        Ok(out)
    }

    /// `PATH(m, D[lo:hi])`, appending to `out` (deepest sibling first).
    fn path(&self, m: u64, lo: u64, hi: u64, out: &mut Vec<Hash>) -> Option<()> {
        let n = hi - lo;
        if n == 1 {
            return Some(());
        }
        let k = split(n);
        if m < k {
            self.path(m, lo, lo + k, out)?;
            out.push(self.range(lo + k, hi)?);
        } else {
            self.path(m - k, lo + k, hi, out)?;
            out.push(self.range(lo, lo + k)?);
        }
        Some(())
    }

    /// The RFC 9162 consistency proof (`PROOF(m, D[n])`) between the trees
    /// of the first `old` and the first `new` leaves.
    ///
    /// # Errors
    /// [`Error::BadInput`] if `old` is 0 or larger than `new`, `new` is too
    /// large, or the proof would need hashes lost to pruning.
    pub fn consistency_proof(&self, old: u64, new: u64) -> Result<Vec<Hash>, Error> {
        self.check(old, new)?;
        if old == 0 {
            return Err(Error::BadInput {
                what: "proof request",
                reason: "a consistency proof starts from a non-empty tree".into(),
            });
        }
        let mut out = Vec::new();
        self.subproof(old, 0, new, true, &mut out)
            .ok_or_else(pruned_error)?;
        Ok(out)
    }

    /// `SUBPROOF(m, D[lo:hi], b)`.
    fn subproof(&self, m: u64, lo: u64, hi: u64, b: bool, out: &mut Vec<Hash>) -> Option<()> {
        let n = hi - lo;
        if m == n {
            if !b {
                out.push(self.range(lo, hi)?);
            }
            return Some(());
        }
        let k = split(n);
        if m <= k {
            self.subproof(m, lo, lo + k, b, out)?;
            out.push(self.range(lo + k, hi)?);
        } else {
            self.subproof(m - k, lo + k, hi, false, out)?;
            out.push(self.range(lo, lo + k)?);
        }
        Some(())
    }
}

/// The size of the `i`-th block (largest first) of the frontier of `k`.
/// A [`Tree`]'s state at a point, for [`Tree::rollback`].
pub(crate) struct Mark {
    full: Frontier,
    leaves: usize,
    levels: Vec<usize>,
}

fn block_size(k: u64, i: usize) -> Option<u64> {
    (0..64u32)
        .rev()
        .filter(|b| k >> b & 1 == 1)
        .nth(i)
        .map(|b| 1u64 << b)
}

fn pruned_error() -> Error {
    Error::BadInput {
        what: "proof request",
        reason: "the proof needs hashes of the pruned prefix; ask about records after it".into(),
    }
}

/// Verifies with `ct-merkle` that `leaf` (canonical record bytes) is at
/// `index` in the tree of `size` leaves with root `root`.
///
/// # Errors
/// [`Error::Tampered`] (at `index`) when the proof does not hold.
pub fn verify_inclusion(
    root: &Hash,
    size: u64,
    leaf: &[u8],
    index: u64,
    proof: &[Hash],
) -> Result<(), Error> {
    let root = RootHash::<Sha256>::new((*root).into(), size);
    let proof = InclusionProof::<Sha256>::from_digests(proof.iter().map(|h| h.into()));
    root.verify_inclusion(&leaf, index, &proof)
        .map_err(|_| Error::tampered(index, 0, Tamper::BadInclusionProof))
}

/// Verifies with `ct-merkle` that the tree (`old_size`, `old_root`) is a
/// prefix of the tree (`new_size`, `new_root`).
///
/// # Errors
/// [`Error::Tampered`] (at `old_size`) when the proof does not hold.
pub fn verify_consistency(
    old_root: &Hash,
    old_size: u64,
    new_root: &Hash,
    new_size: u64,
    proof: &[Hash],
) -> Result<(), Error> {
    let old = RootHash::<Sha256>::new((*old_root).into(), old_size);
    let new = RootHash::<Sha256>::new((*new_root).into(), new_size);
    let proof = ConsistencyProof::<Sha256>::from_digests(proof.iter().map(|h| h.into()));
    new.verify_consistency(&old, &proof)
        .map_err(|_| Error::tampered(old_size, 0, Tamper::BadConsistencyProof))
}

#[cfg(test)]
mod tests {
    use ct_merkle::mem_backed_tree::MemoryBackedTree;
    use proptest::prelude::*;

    use super::*;

    fn build(n: usize) -> (Vec<Vec<u8>>, Tree, MemoryBackedTree<Sha256, Vec<u8>>) {
        let leaves: Vec<Vec<u8>> = (0..n).map(|i| format!("leaf {i}").into_bytes()).collect();
        let mut ours = Tree::new();
        let mut theirs = MemoryBackedTree::new();
        for l in &leaves {
            ours.push(leaf_hash(l));
            theirs.push(l.clone());
        }
        (leaves, ours, theirs)
    }

    #[test]
    fn rollback_drops_what_was_pushed_since_the_mark() {
        for (a, b) in [(0, 1), (1, 1), (3, 5), (8, 8), (13, 30)] {
            let (_, mut tree, _) = build(a);
            let before = tree.clone();
            let mark = tree.mark();
            for i in 0..b {
                tree.push(leaf_hash(format!("more {i}").as_bytes()));
            }
            tree.rollback(mark);
            assert!(tree == before, "{a} + {b}");
        }
    }

    fn flat(p: &[Hash]) -> Vec<u8> {
        p.concat()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn roots_and_proofs_match_ct_merkle(n in 1usize..70, seed in any::<u64>()) {
            let (leaves, ours, theirs) = build(n);
            let their_root = theirs.root();
            prop_assert_eq!(ours.root().to_vec(), their_root.as_bytes().to_vec());
            let idx = (seed % n as u64) as usize;
            let proof = ours.inclusion_proof(idx as u64, n as u64).unwrap();
            prop_assert_eq!(flat(&proof), theirs.prove_inclusion(idx).as_bytes().to_vec());
            verify_inclusion(&ours.root(), n as u64, &leaves[idx], idx as u64, &proof).unwrap();
            let old = 1 + (seed % n as u64);
            let cproof = ours.consistency_proof(old, n as u64).unwrap();
            prop_assert_eq!(
                flat(&cproof),
                theirs.prove_consistency(n - old as usize).as_bytes().to_vec()
            );
            let old_root = ours.root_at(old).unwrap();
            verify_consistency(&old_root, old, &ours.root(), n as u64, &cproof).unwrap();
            // A wrong old root fails.
            prop_assert!(verify_consistency(&[0; 32], old, &ours.root(), n as u64, &cproof).is_err() || old == 0);
        }

        #[test]
        fn pruned_tree_answers_like_the_full_tree(n in 2usize..70, k_seed in any::<u64>(), i_seed in any::<u64>()) {
            let (leaves, full, _) = build(n);
            let k = 1 + k_seed % (n as u64 - 1);
            let mut prefix = Frontier::new();
            for l in &leaves[..k as usize] {
                prefix.push(leaf_hash(l));
            }
            let mut pruned = Tree::after_prune(prefix);
            for l in &leaves[k as usize..] {
                pruned.push(leaf_hash(l));
            }
            prop_assert_eq!(pruned.root(), full.root());
            let idx = k + i_seed % (n as u64 - k);
            prop_assert_eq!(
                pruned.inclusion_proof(idx, n as u64).unwrap(),
                full.inclusion_proof(idx, n as u64).unwrap()
            );
            prop_assert_eq!(
                pruned.consistency_proof(k, n as u64).unwrap(),
                full.consistency_proof(k, n as u64).unwrap()
            );
            prop_assert_eq!(pruned.root_at(k).unwrap(), full.root_at(k).unwrap());
        }
    }

    #[test]
    fn frontier_round_trip_and_empty_root() {
        assert!(Frontier::from_parts(3, vec![[0; 32]]).is_err());
        let (_, t, _) = build(11);
        let f = Frontier::from_parts(11, t.frontier().nodes().to_vec()).unwrap();
        assert_eq!(f.root(), t.root());
        assert_eq!(Tree::new().root(), empty_root());
        assert!(t.inclusion_proof(11, 11).is_err());
        assert!(t.consistency_proof(0, 11).is_err());
    }
}
