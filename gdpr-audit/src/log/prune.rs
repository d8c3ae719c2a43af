//! Pruning: every record before a checkpoint dropped, the rest kept
//! verifiable against an anchor (the retained checkpoint, the frontier of
//! the pruned tree and the last pruned record with its proof).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{AuditLog, lock};
use crate::Error;
use crate::checkpoint::Checkpoint;
use crate::keys::KeyStore;
use crate::merkle::{Tree, leaf_hash};
use crate::record::Record;
use crate::store::{AuditStore, Entry, PruneAnchor, hex};

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// Drops every record before `size`, which must be the size of a
    /// checkpoint already in the log (the retained checkpoint). The rest
    /// stays verifiable against it.
    ///
    /// # Errors
    /// [`Error::BadInput`] if no checkpoint of that size is in the log.
    pub fn prune_before(&self, size: u64) -> Result<(), Error> {
        let verifier = self.signer.verifier();
        let mut note = None;
        let mut last_record = None;
        self.store.entries(&mut |_, entry| {
            match entry {
                Entry::Checkpoint(n)
                    if Checkpoint::open(&n, &verifier).is_ok_and(|c| c.size() == size) =>
                {
                    note = Some(n)
                }
                Entry::Record(b) if Record::decode(&b).is_ok_and(|r| r.position() + 1 == size) => {
                    last_record = Some(b)
                }
                _ => {}
            }
            Ok(())
        })?;
        let (Some(checkpoint), Some(last)) = (note, last_record) else {
            return Err(Error::BadInput {
                what: "prune size",
                reason: "no checkpoint of exactly that size (with its last record) is in the retained log; write one first".into(),
            });
        };
        let st = lock(&self.state);
        let proof = st.tree.inclusion_proof(size - 1, size)?;
        // The frontier of the prefix from the tree's own hashes.
        let frontier_nodes = {
            let mut nodes = Vec::new();
            let mut start = 0u64;
            for b in (0..64u32).rev().filter(|b| size >> b & 1 == 1) {
                let block = 1u64 << b;
                nodes.push(st.tree.root_range(start, start + block)?);
                start += block;
            }
            nodes
        };
        let prefix = crate::merkle::Frontier::from_parts(size, frontier_nodes)?;
        let anchor = PruneAnchor {
            size,
            checkpoint,
            frontier: prefix.nodes().iter().map(|h| hex(h)).collect(),
            last_record: STANDARD.encode(&last),
            last_record_proof: proof.iter().map(|h| hex(h)).collect(),
        };
        drop(st);
        self.store.prune(&anchor)?;
        let mut st = lock(&self.state);
        let mut tree = Tree::after_prune(prefix);
        let mut leaves = Vec::new();
        self.store.entries(&mut |_, e| {
            if let Entry::Record(b) = e {
                leaves.push(leaf_hash(&b));
            }
            Ok(())
        })?;
        for l in leaves {
            tree.push(l);
        }
        st.tree = tree;
        Ok(())
    }
}
