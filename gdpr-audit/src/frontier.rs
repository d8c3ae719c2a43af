//! The frontier ("compact range") of an RFC 9162 tree: the roots of the
//! perfect subtrees covering its leaves. Enough to compute the root and to
//! keep appending — what streaming verification and a pruned log keep.

use crate::Error;
use crate::merkle::{empty_root, node_hash};
use crate::record::Hash;

/// The roots of the perfect subtrees that cover the first `size` leaves,
/// largest first (a "compact range"). Enough to compute the root of the
/// tree and to extend it: a log keeps one after pruning a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reassembles a stored frontier.
    ///
    /// # Errors
    /// [`Error::BadInput`] unless there is one node per set bit of `size`.
    pub fn from_parts(size: u64, nodes: Vec<Hash>) -> Result<Self, Error> {
        if nodes.len() != size.count_ones() as usize {
            return Err(Error::BadInput {
                what: "frontier",
                reason: "one hash per set bit of the tree size expected".into(),
            });
        }
        Ok(Self { size, nodes })
    }

    /// The number of leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first.
    pub fn nodes(&self) -> &[Hash] {
        &self.nodes
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        self.push_reporting(leaf, |_, _| {});
    }

    /// Appends a leaf hash, reporting each perfect subtree it completes
    /// (height ≥ 1, root hash), smallest first.
    pub(crate) fn push_reporting(&mut self, leaf: Hash, mut completed: impl FnMut(usize, &Hash)) {
        self.nodes.push(leaf);
        let mut s = self.size;
        let mut height = 1;
        while s & 1 == 1 {
            // Invariant: a set low bit means the two last nodes are siblings.
            let (Some(right), Some(left)) = (self.nodes.pop(), self.nodes.pop()) else {
                unreachable!("frontier holds one node per set bit");
            };
            let node = node_hash(&left, &right);
            completed(height, &node);
            self.nodes.push(node);
            s >>= 1;
            height += 1;
        }
        self.size += 1;
    }

    /// Appends the root of a perfect subtree of `2^height` leaves; the
    /// current size must be a multiple of `2^height` (RFC 9162 subtrees are
    /// aligned), which makes this the same as pushing its leaves one by one.
    ///
    /// # Errors
    /// [`Error::BadInput`] if the size is not a multiple of `2^height`.
    pub fn push_subtree(&mut self, root: Hash, height: u32) -> Result<(), Error> {
        let leaves = 1u64.checked_shl(height).unwrap_or(0);
        if leaves == 0 || !self.size.is_multiple_of(leaves) {
            return Err(Error::BadInput {
                what: "frontier",
                reason: "a subtree must start at a multiple of its size".into(),
            });
        }
        self.nodes.push(root);
        let mut s = self.size >> height;
        while s & 1 == 1 {
            // Invariant: a set bit means the two last nodes are siblings.
            let (Some(right), Some(left)) = (self.nodes.pop(), self.nodes.pop()) else {
                unreachable!("frontier holds one node per set bit");
            };
            self.nodes.push(node_hash(&left, &right));
            s >>= 1;
        }
        self.size += leaves;
        Ok(())
    }

    /// The RFC 9162 root hash of the covered leaves.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(last) = it.next() else {
            return empty_root();
        };
        it.fold(*last, |acc, left| node_hash(left, &acc))
    }
}
