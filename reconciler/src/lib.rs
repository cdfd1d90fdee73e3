//! The reconciler: on a schedule and on demand, compares each asset's on-chain custody with what the ledger
//! says it should be, and pages on-call staff through [`alerts`] when they disagree.

pub mod alerts;
pub mod checks;
