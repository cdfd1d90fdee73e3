//! Where money leaves custody, outside HTTP: one implementation per kind of outflow ([`payout_batch`], [`treasury`]
//! for transfers and refunds, [`forfeit`], [`solvency_commitment`]) behind one interface ([`Outflow`], found with
//! [`of`]), over a context of its own ([`OutflowContext`]: the ledger, the chains, the signer callers, the clock and
//! the metrics — not the API's), with the signer calls they make ([`signer`]). The lifecycle they share — propose,
//! staff signatures, approval, rejection, expiry — is `ledger::authorisations`. The API's handlers shape requests and
//! answers around these use cases; the workers call the same ones.

pub mod context;
pub mod forfeit;
pub mod outflow;
pub mod payout_batch;
pub mod signer;
pub mod solvency_commitment;
pub mod treasury;

use alloy::primitives::Address;
use ledger::authorisations::{Authorisation, OutflowKind};
use signer_client::api::AssetApprovals;

pub use context::{OutflowContext, asset, refuse_if_exit_open, signer_approvals};
pub use outflow::{Outflow, OutflowFuture, Recipients, approvals_needed};

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
    let approvers = policy.map(|p| p.approvers.iter().map(|w| w.0).collect()).unwrap_or_default();
    (approvals_needed(of(a.kind), a, policy), approvers)
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
