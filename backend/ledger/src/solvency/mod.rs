//! The public proof of solvency (SOLVENCY.md): the Merkle-sum tree of every user's liabilities ([`tree`], pure), and
//! its epochs as the ledger keeps them ([`epochs`]: built from one snapshot, stored, signed, sent, committed, and read
//! back as each user's proof).

mod epochs;
pub mod tree;

pub use epochs::*;
