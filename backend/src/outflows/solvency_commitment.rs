//! A solvency commitment (an epoch's liability root) as an outflow: the system's kind. The solvency worker records
//! its authorisation approved when it fixes the epoch's nonce, signs it and sends it (`crate::solvency::worker`); no
//! staff member proposes, approves, rejects or signs one, and it moves nothing out of custody.

use alloy::primitives::Address;
use ledger::authorisations::{Authorisation, AuthorisationError, OutflowKind};
use signer_client::api::AssetApprovals;

use super::context::OutflowContext;
use super::outflow::{Outflow, OutflowFuture, Recipients};
use super::signer::authorisation_refusal;

/// Gas of a solvency commitment's transaction: the budget `CommitGasBench` holds `commitLiabilities` to as a
/// transaction (`COMMIT_TX_LIMIT`, 120,000), plus the 17,100 of the one payload in 256 that sets a fresh nonce word
/// (`contracts/test/bench/CommitGas.t.sol`; the snapshot's figures are whole tests, a bare emission measured beside).
pub const COMMITMENT_GAS: u64 = 137_100;

/// A solvency commitment.
#[derive(Debug, Clone, Copy)]
pub struct SolvencyCommitment;

impl Outflow for SolvencyCommitment {
    fn kind(&self) -> OutflowKind {
        OutflowKind::SolvencyCommitment
    }

    /// None: the system approves it when recorded.
    fn approvals_required(&self, _a: &Authorisation, _p: &AssetApprovals) -> u64 {
        0
    }

    fn gas(&self, _entries: usize) -> u64 {
        COMMITMENT_GAS
    }

    fn recipients<'a>(&'a self, _cx: &'a OutflowContext, _a: &'a Authorisation) -> OutflowFuture<'a, Recipients> {
        Box::pin(async { Ok(Recipients::Nobody) })
    }

    /// Refused: the solvency worker alone signs it (`system_authorisation`).
    fn sign<'a>(&'a self, _cx: &'a OutflowContext, _staff: Address, a: &'a Authorisation) -> OutflowFuture<'a, ()> {
        Box::pin(async move { Err(authorisation_refusal(AuthorisationError::System(a.id, a.kind))) })
    }
}
