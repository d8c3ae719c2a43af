//! Opening a stored log: every entry verified against the signer's own
//! public key while the writer's tree and chain state are rebuilt.

use std::sync::Mutex;

use super::{AuditLog, CheckpointPolicy, State};
use crate::Error;
use crate::chunk::ChunkVisitor;
use crate::keys::KeyStore;
use crate::merkle::{Tree, leaf_hash};
use crate::signing::Signer;
use crate::store::{AuditStore, EntryRef, Frames, ScanEnd, chunks_of};
use crate::verify::LogVerifier;
use crate::view::RecordView;

impl<S: AuditStore, K: KeyStore> AuditLog<S, K> {
    /// Opens the log in `store` with the subjects' keys in `keys` (any
    /// backend), verifying it completely against the signer's own public
    /// key. For a log directory, [`AuditLog::open`] does all of this.
    ///
    /// # Errors
    /// [`Error::Tampered`] if the stored log does not verify; [`Error::Io`].
    pub fn with_stores(
        store: S,
        keys: K,
        signer: Signer,
        policy: CheckpointPolicy,
    ) -> Result<Self, Error> {
        Self::resume(store, keys, signer, policy, |s, visit| chunks_of(s, visit))
    }

    /// [`AuditLog::with_stores`], reading the store's entries in chunks
    /// with `read`.
    pub(crate) fn resume(
        store: S,
        keys: K,
        signer: Signer,
        policy: CheckpointPolicy,
        read: impl FnOnce(&S, &mut ChunkVisitor<'_>) -> Result<ScanEnd, Error>,
    ) -> Result<Self, Error> {
        let verifier = signer.verifier();
        let mut v = LogVerifier::new(&verifier, None)?;
        let mut tree = Tree::new();
        if let Some(anchor) = store.prune_anchor()? {
            v.resume_after(&anchor)?;
            tree = Tree::after_prune(v.frontier().clone());
        }
        let mut last_note = None;
        let mut since = 0;
        let mut last_record: Option<Vec<u8>> = None;
        let mut last_leaf = None;
        // The checks run on the verifier's threads (chunk by chunk); the
        // writer's own tree is rebuilt here with `sha2` alone.
        let end = read(&store, &mut |chunk| {
            let mut last = None;
            for (_, entry) in chunk.iter() {
                match entry {
                    EntryRef::Record(bytes) => {
                        let leaf = leaf_hash(bytes);
                        tree.push(leaf);
                        last_leaf = Some(leaf);
                        since += 1;
                        last = Some(bytes);
                    }
                    EntryRef::Checkpoint(note) => {
                        since = 0;
                        last_note = Some(note.to_owned());
                    }
                }
            }
            if let Some(bytes) = last {
                last_record = Some(bytes.to_vec());
            }
            v.chunk(chunk)
        })?;
        let prev = last_leaf.unwrap_or(*v.last_leaf());
        v.finish(end)?;
        let last_recorded = last_record
            .as_deref()
            .and_then(|b| RecordView::parse(b).ok())
            .map(|r| r.recorded);
        Ok(Self {
            store,
            signer,
            keys: Mutex::new(keys),
            state: Mutex::new(State {
                prev,
                tree,
                since_checkpoint: since,
                last_checkpoint_time: last_recorded,
                last_note,
                last_recorded,
                frames: Frames::new(),
            }),
            policy,
            group: super::group::Group::default(),
        })
    }
}
