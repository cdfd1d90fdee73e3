//! Where money leaves custody, outside HTTP: one implementation per kind of outflow ([`payout_batch`], [`treasury`]
//! for transfers and refunds, [`forfeit`], [`solvency_commitment`]) behind one interface ([`Outflow`], found with
//! [`of`]), over a context of its own ([`OutflowContext`]: the ledger, the chains, the signer callers, the clock and
//! the metrics — not the API's), with the signer calls they make ([`signer`]). The lifecycle they share — propose,
//! staff signatures, approval, rejection, expiry — is `ledger::authorisations`. The API's handlers shape requests and
//! answers around these use cases; the workers call the same ones.

pub mod forfeit;
pub mod payout_batch;
pub mod signer;
pub mod solvency_commitment;
pub mod treasury;

use std::pin::Pin;
use std::sync::Arc;

use alloy::primitives::{Address, U256};
use ledger::authorisations::{Authorisation, OutflowKind};
use signer_client::SignerClient;
use signer_client::api::AssetApprovals;
use sqlx::PgPool;

use crate::chains::ChainRegistry;
use crate::clock::Clock;
use crate::metrics::ApiMetrics;
use crate::refusal::Refusal;

/// What an outflow's use case runs over.
#[derive(Clone, Debug)]
pub struct OutflowContext {
    /// The ledger.
    pub db: PgPool,
    /// Every configured chain, with its operator key.
    pub chains: Arc<ChainRegistry>,
    /// The main signer caller; `None` when no `[signer]` is configured.
    pub signer: Option<SignerClient>,
    /// The caller for treasury transfers and refunds: `[signer.treasury_caller]`, else the main caller.
    pub treasury_signer: Option<SignerClient>,
    /// The host's clock (which tests move); deadlines follow a chain's clock ([`OutflowContext::chain_now`]).
    pub clock: Clock,
    /// Where failed intents and retried transactions are counted.
    pub metrics: Arc<ApiMetrics>,
}

impl OutflowContext {
    /// The main signer caller; `signer_unavailable` when none is configured.
    pub fn signer(&self) -> Result<&SignerClient, Refusal> {
        self.signer.as_ref().ok_or_else(|| Refusal::unavailable("signer_unavailable", "no signer is configured"))
    }

    /// The caller for treasury transfers (`[signer.treasury_caller]`, else the main one).
    pub fn treasury_signer(&self) -> Result<&SignerClient, Refusal> {
        self.treasury_signer
            .as_ref()
            .ok_or_else(|| Refusal::unavailable("signer_unavailable", "no signer is configured"))
    }

    /// Chain `chain_id`'s time now ([`crate::chains::Chain::now`]): what deadlines are computed from and expiry
    /// judged by; the host's clock for a chain not configured here.
    pub async fn chain_now(&self, chain_id: u64) -> u64 {
        self.chains.now(chain_id, &self.clock).await
    }
}

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
/// new kind is an [`OutflowKind`] variant, a file here and its arm in [`of`].
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

/// The implementation of `kind`.
pub fn of(kind: OutflowKind) -> &'static dyn Outflow {
    match kind {
        OutflowKind::PayoutBatch => &payout_batch::PayoutBatch,
        OutflowKind::TreasuryTransfer => &treasury::Treasury(OutflowKind::TreasuryTransfer),
        OutflowKind::Refund => &treasury::Treasury(OutflowKind::Refund),
        OutflowKind::Forfeit => &forfeit::Forfeit,
        OutflowKind::SolvencyCommitment => &solvency_commitment::SolvencyCommitment,
    }
}

/// Approvals the signer requires for `a` under `policy` ([`Outflow::approvals_required`]), and the approvers it counts;
/// 1 and none when it sets no approvals (or could not be asked). A system authorisation needs none.
pub fn required(a: &Authorisation, policy: Option<&AssetApprovals>) -> (u64, Vec<Address>) {
    if a.is_system() {
        return (0, Vec::new());
    }
    let Some(p) = policy else { return (1, Vec::new()) };
    (of(a.kind).approvals_required(a, p).max(1), p.approvers.iter().map(|w| w.0).collect())
}

/// The signer's approvals for `a`'s asset; `None` when it sets none or cannot be asked now (within 5 s).
pub async fn signer_approvals(cx: &OutflowContext, a: &Authorisation) -> Option<AssetApprovals> {
    let client = cx.signer.as_ref()?;
    let call = client.policy(a.chain_id, a.contract, a.token);
    match tokio::time::timeout(std::time::Duration::from_secs(5), call).await {
        Ok(Ok(policy)) => policy.approvals,
        _ => None,
    }
}

/// `exit_open` once the members' exit of `asset_id` has opened: nothing is paid in or out of it any more but claims
/// and members' exits with their proofs.
pub async fn refuse_if_exit_open(db: &PgPool, asset_id: i32) -> Result<(), Refusal> {
    let openings = ledger::exits::openings(db, asset_id).await?;
    let Some(opened) = openings.first() else { return Ok(()) };
    Err(Refusal::conflict(
        "exit_open",
        format!(
            "the members' exit of this asset opened at block {} on contract {} (no commitment for too long): nothing \
             is paid in or out of it any more but claims and members' exits with their proofs (the exit page, or \
             solvency-verify exit)",
            opened.block,
            abi::tron::show(opened.chain_id, opened.contract)
        ),
    ))
}

/// Asset `asset_id`; `unknown_asset` when there is none.
pub async fn asset(db: &PgPool, asset_id: i32) -> Result<ledger::AssetInfo, Refusal> {
    ledger::asset_info(db, asset_id)
        .await?
        .ok_or_else(|| Refusal::unprocessable("unknown_asset", format!("no asset {asset_id}")))
}

#[cfg(test)]
mod tests {
    use super::payout_batch::{BASE_GAS, ENTRY_GAS};
    use super::solvency_commitment::COMMITMENT_GAS;
    use super::treasury::TRANSFER_GAS;

    /// `name`'s gas in the contracts' benchmark snapshot.
    fn measured(name: &str) -> u64 {
        let snapshot = include_str!("../../../contracts/.gas-snapshot");
        let line = snapshot.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no {name} in the snapshot"));
        line.rsplit("gas: ").next().unwrap().trim_end_matches(')').parse().unwrap()
    }

    #[test]
    fn the_network_fee_estimates_cover_what_the_gas_benchmarks_measure() {
        for kind in ["native", "token"] {
            let (small, large) =
                (measured(&format!("test_gas_{kind}_fresh_100()")), measured(&format!("test_gas_{kind}_fresh_500()")));
            let per_entry = (large - small).div_ceil(400);
            assert!(ENTRY_GAS >= per_entry, "{kind}: {per_entry} gas per fresh entry");
            assert!(BASE_GAS + 100 * ENTRY_GAS >= small + 21_000, "{kind}: 100 fresh entries");
            assert!(BASE_GAS + 500 * ENTRY_GAS >= large + 21_000, "{kind}: 500 fresh entries");
        }
        assert!(BASE_GAS + 100 * ENTRY_GAS >= measured("test_gas_tronUsdt_fresh_100()") + 21_000);
        for kind in ["native", "token"] {
            assert!(TRANSFER_GAS >= measured(&format!("test_gas_treasury_{kind}()")) + 21_000, "{kind}");
        }
    }

    #[test]
    fn the_commitment_estimate_is_the_budget_the_gas_benchmark_holds_a_commitment_to() {
        let bench = include_str!("../../../contracts/test/bench/CommitGas.t.sol");
        assert!(bench.contains("COMMIT_TX_LIMIT = 120_000;"), "the benchmark's budget changed");
        assert!(bench.contains("COMMIT_TX_LIMIT + 17_100"), "the fresh nonce word's allowance changed");
        assert_eq!(COMMITMENT_GAS, 120_000 + 17_100);
    }

    #[test]
    fn every_kind_has_its_one_implementation() {
        for &kind in ledger::authorisations::OutflowKind::ALL {
            assert_eq!(super::of(kind).kind(), kind);
        }
    }
}
