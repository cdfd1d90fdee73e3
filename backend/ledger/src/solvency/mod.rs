//! The public proof of solvency (SOLVENCY.md): the Merkle-sum tree of every user's liabilities ([`tree`], pure).

pub mod tree;
