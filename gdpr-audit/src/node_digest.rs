//! SHA-256 of RFC 9162 leaves and interior nodes, straight through the
//! `sha2` crate's compression function (`sha2::block_api::compress256`,
//! hardware-accelerated where the CPU has SHA extensions): the message and
//! its FIPS 180-4 §5.1.1 padding are laid out on the stack and compressed
//! in one call. This skips the streaming hasher's buffering and its
//! zeroizing on drop (the workspace enables `sha2/zeroize` for key
//! material; tree hashes are of public data), which is a large share of
//! the cost for the short messages of a tree.
//!
//! Many leaves or nodes at once ([`leaves`], [`parents`]) go through
//! `tape-sha256`'s multi-buffer kernels, which hash independent messages in
//! lock-step (SHA-NI streams or AVX-512/AVX2 lanes, picked at run time):
//! about three times the single-stream rate here, which is what lets
//! verification keep up with reading. Tests hold every function equal to
//! `sha2::Sha256` for every length up to past the stack limit, in batches
//! of every size up to past the widest kernel.

use sha2::block_api::compress256;
use sha2::{Digest, Sha256};

use crate::record::Hash;

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// Leaves up to this many bytes are hashed from a stack buffer.
const STACK_LEAF: usize = 512;
const STACK_BLOCKS: usize = (STACK_LEAF + 1 + 9).div_ceil(64);

fn digest_of(state: [u32; 8]) -> Hash {
    let mut out = [0u8; 32];
    for (o, w) in out.chunks_exact_mut(4).zip(state) {
        o.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// `SHA-256(0x00 ‖ data)`.
pub(crate) fn leaf(data: &[u8]) -> Hash {
    if data.len() > STACK_LEAF {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(data);
        return h.finalize().into();
    }
    let len = 1 + data.len();
    let n = (len + 9).div_ceil(64);
    let mut blocks = [[0u8; 64]; STACK_BLOCKS];
    let flat = blocks.as_flattened_mut();
    flat[1..len].copy_from_slice(data);
    flat[len] = 0x80;
    flat[n * 64 - 8..n * 64].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    let mut state = H0;
    compress256(&mut state, &blocks[..n]);
    digest_of(state)
}

/// `SHA-256(0x01 ‖ left ‖ right)`: 65 bytes, two blocks.
pub(crate) fn node(left: &Hash, right: &Hash) -> Hash {
    let mut blocks = [[0u8; 64]; 2];
    blocks[0][0] = 1;
    blocks[0][1..33].copy_from_slice(left);
    blocks[0][33..].copy_from_slice(&right[..31]);
    blocks[1][0] = right[31];
    blocks[1][1] = 0x80;
    blocks[1][56..].copy_from_slice(&(65u64 * 8).to_be_bytes());
    let mut state = H0;
    compress256(&mut state, &blocks);
    digest_of(state)
}

/// `leaf(records[i])` into `out[i]` for every record, hashed together.
///
/// # Panics
/// If the lengths differ.
pub(crate) fn leaves(records: &[&[u8]], out: &mut [Hash]) {
    tape_sha256::hash_many_prefixed(&[0], records, out);
}

/// `node(level[2j], level[2j + 1])` into `out[j]` for every pair, hashed
/// together.
///
/// # Panics
/// Unless `level.len() == 2 * out.len()`.
pub(crate) fn parents(level: &[Hash], out: &mut [Hash]) {
    let left: Vec<&[u8]> = level.iter().step_by(2).map(|h| h.as_slice()).collect();
    let right: Vec<&[u8]> = level
        .iter()
        .skip(1)
        .step_by(2)
        .map(|h| h.as_slice())
        .collect();
    tape_sha256::hash_pairs(&[1], &left, &right, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_to_the_streaming_hasher_for_every_length() {
        let data: Vec<u8> = (0..STACK_LEAF + 200).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..data.len() {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(&data[..n]);
            let want: Hash = h.finalize().into();
            assert_eq!(leaf(&data[..n]), want, "length {n}");
        }
        let (l, r) = ([0x5a; 32], [0xc3; 32]);
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        let want: Hash = h.finalize().into();
        assert_eq!(node(&l, &r), want);
    }

    #[test]
    fn batched_hashes_equal_single_ones_for_every_length_and_batch_size() {
        let data: Vec<u8> = (0..2048).map(|i| (i * 13 + 5) as u8).collect();
        // Every length up to past the stack limit, in one batch, with
        // bodies at every alignment.
        let bodies: Vec<&[u8]> = (0..STACK_LEAF + 200)
            .map(|n| &data[n % 61..n % 61 + n])
            .collect();
        let mut out = vec![[0u8; 32]; bodies.len()];
        leaves(&bodies, &mut out);
        for (b, h) in bodies.iter().zip(&out) {
            assert_eq!(*h, leaf(b), "length {}", b.len());
        }
        // Every batch size up to past the widest kernel, with mixed lengths.
        for n in 0..=40 {
            let bodies: Vec<&[u8]> = (0..n).map(|i| &data[i..i + 300 + i * 7]).collect();
            let mut out = vec![[0u8; 32]; n];
            leaves(&bodies, &mut out);
            for (b, h) in bodies.iter().zip(&out) {
                assert_eq!(*h, leaf(b), "batch of {n}");
            }
            let level: Vec<Hash> = (0..2 * n).map(|i| leaf(&data[i..i + 3])).collect();
            let mut up = vec![[0u8; 32]; n];
            parents(&level, &mut up);
            for (j, h) in up.iter().enumerate() {
                assert_eq!(*h, node(&level[2 * j], &level[2 * j + 1]), "pairs of {n}");
            }
        }
    }
}
