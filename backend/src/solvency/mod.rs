//! The public proof of solvency's epochs, driven by the API process ([`worker`]): built from the ledger, signed by
//! the signer service, committed on-chain by the operator through the same send path as payout batches.

pub mod worker;
