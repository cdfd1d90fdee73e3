//! The one interface every kind of outflow implements ([`Outflow`]), and what its steps answer.

use std::pin::Pin;

use alloy::primitives::{Address, U256};
use ledger::authorisations::{Authorisation, OutflowKind};
use signer_client::api::AssetApprovals;

use super::context::OutflowContext;
use crate::refusal::Refusal;

/// What an outflow's asynchronous step answers.
pub type OutflowFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Refusal>> + Send + 'a>>;

/// Whom an outflow pays, as an approver reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// The entries of its payout batch (the authorisation's subject).
    Batch,
    /// One recipient and what they get (a transfer's or refund's recipient, a forfeit's member).
    One {
        /// Who.
        to: Address,
        /// How much, in base units.
        amount: U256,
    },
    /// Nobody (a solvency commitment moves nothing).
    Nobody,
}

/// One kind of outflow's part in the one lifecycle (`ledger::authorisations`): the approvals the signer asks of it,
/// what its transaction costs, whom it pays, how it is signed once approved, and what approval does at once. The
/// lifecycle itself (proposing, staff signatures, rejection, expiry) is the ledger's and the same for every kind; a
/// new kind is an [`OutflowKind`] variant, a file beside this one and its arm in `outflows::of`.
pub trait Outflow: Send + Sync {
    /// The kind.
    fn kind(&self) -> OutflowKind;

    /// Approvals the signer requires for `a` under the asset's approvals policy `p` (at least 1).
    fn approvals_required(&self, a: &Authorisation, p: &AssetApprovals) -> u64;

    /// Gas of the transaction carrying it with `entries` entries; 0 when nothing is sent.
    fn gas(&self, entries: usize) -> u64;

    /// Whom `a`'s outflow pays.
    fn recipients<'a>(&'a self, cx: &'a OutflowContext, a: &'a Authorisation) -> OutflowFuture<'a, Recipients>;

    /// Signs `a`'s approved outflow through the signer for finance wallet `staff`, carrying its staff signatures (a
    /// forfeit, which sends nothing, is applied instead). Doing it again changes nothing.
    fn sign<'a>(&'a self, cx: &'a OutflowContext, staff: Address, a: &'a Authorisation) -> OutflowFuture<'a, ()>;

    /// The bucket of the per-wallet signing rate limit a staff wallet's sign of it counts in; `None`: not limited.
    fn signing_bucket(&self) -> Option<&'static str> {
        None
    }

    /// What `a`'s approval does at once, `staff` having given the approval that completed it and `policy` being the
    /// signer's approvals (`needed` of them): nothing, unless the kind says otherwise (a forfeit is applied).
    fn approved<'a>(
        &'a self,
        _cx: &'a OutflowContext,
        _staff: Address,
        _a: &'a Authorisation,
        _policy: Option<&'a AssetApprovals>,
        _needed: u64,
    ) -> OutflowFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// Approvals the signer requires for `a`, of kind `outflow`, under `policy` ([`Outflow::approvals_required`], at least
/// 1); 1 when it sets no approvals or could not be asked.
pub fn approvals_needed(outflow: &dyn Outflow, a: &Authorisation, policy: Option<&AssetApprovals>) -> u64 {
    policy.map_or(1, |p| outflow.approvals_required(a, p).max(1))
}
