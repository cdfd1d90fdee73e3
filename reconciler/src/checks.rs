//! The reconciler's checks, pure: each takes figures read at one confirmed block and returns the alerts it
//! finds. Reading the figures (chain and ledger) is the caller's job, so these are tested on their own.

use alloy::primitives::{Address, I256, U256};
use serde::{Deserialize, Serialize};

use crate::alerts::{Alert, Severity};

pub use ledger::figures::{LedgerFigures, OpenBatch};

/// The result of the custody and solvency checks for one asset, stored and served by the API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustodyResult {
    /// The chain.
    pub chain_id: u64,
    /// The asset's token (zero address = native coin).
    pub token: Address,
    /// The block both balances are read at.
    pub block: u64,
    /// The contract's balance of `token` at `block`, in base units.
    pub onchain_balance: U256,
    /// What the ledger says custody holds ([`LedgerFigures::expected_balance`]), in base units.
    pub expected_balance: I256,
    /// on-chain − expected, in base units: positive = money the ledger does not know about.
    pub variance: I256,
    /// on-chain − liabilities: negative = insolvent.
    pub solvency_margin: I256,
}

/// The custody and solvency checks of one asset at `block`: a `custody` alert when `onchain` differs from
/// what the ledger expects, a `solvency` alert when it is below the ledger's liabilities.
pub fn custody(
    chain_id: u64,
    token: Address,
    block: u64,
    onchain: U256,
    ledger: &LedgerFigures,
) -> (CustodyResult, Vec<Alert>) {
    let onchain_signed = I256::try_from(onchain).unwrap_or(I256::MAX);
    let expected = ledger.expected_balance();
    let variance = onchain_signed - expected;
    let margin = onchain_signed - I256::try_from(ledger.liabilities).unwrap_or(I256::MAX);
    let scope = [chain_id.to_string(), token.to_string()];
    let scope: Vec<&str> = scope.iter().map(String::as_str).collect();
    let mut alerts = Vec::new();
    if !variance.is_zero() {
        alerts.push(
            Alert::new(
                "custody",
                &scope,
                Severity::Critical,
                format!("custody balance differs from the ledger by {variance} base units"),
            )
            .detail("chain_id", chain_id)
            .detail("asset", token)
            .detail("block", block)
            .detail("onchain_balance", onchain)
            .detail("expected_balance", expected)
            .detail("variance", variance),
        );
    }
    if margin.is_negative() {
        alerts.push(
            Alert::new(
                "solvency",
                &scope,
                Severity::Critical,
                format!("custody is {} base units short of liabilities", -margin),
            )
            .detail("chain_id", chain_id)
            .detail("asset", token)
            .detail("block", block)
            .detail("onchain_balance", onchain)
            .detail("liabilities", ledger.liabilities)
            .detail("shortfall", -margin),
        );
    }
    let result = CustodyResult {
        chain_id,
        token,
        block,
        onchain_balance: onchain,
        expected_balance: expected,
        variance,
        solvency_margin: margin,
    };
    (result, alerts)
}

/// The listener's position on one chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenerStatus {
    /// The chain.
    pub chain_id: u64,
    /// The chain's head block number.
    pub chain_head: u64,
    /// The listener's confirmation depth on this chain.
    pub confirmations: u64,
    /// The block through which the listener has applied the chain to the ledger.
    pub last_applied_block: u64,
    /// Set when the listener stopped itself (deep reorg); it will not go on without a person.
    pub halted_reason: Option<String>,
}

impl ListenerStatus {
    /// Confirmed blocks not yet in the ledger ([`ledger::confirmed_lag`], as the API and the listener report it).
    pub fn lag(&self) -> u64 {
        ledger::confirmed_lag(self.chain_head, self.confirmations, self.last_applied_block)
    }
}

/// The listener checks: `listener_halted` (critical) when it stopped itself, `listener_lag` (warning)
/// when more than `max_lag_blocks` confirmed blocks are not yet in the ledger.
pub fn listener(status: &ListenerStatus, max_lag_blocks: u64) -> Vec<Alert> {
    let chain = status.chain_id.to_string();
    let mut alerts = Vec::new();
    if let Some(reason) = &status.halted_reason {
        alerts.push(
            Alert::new(
                "listener_halted",
                &[&chain],
                Severity::Critical,
                format!("listener for chain {chain} halted: {reason}"),
            )
            .detail("chain_id", status.chain_id)
            .detail("last_applied_block", status.last_applied_block)
            .detail("reason", reason),
        );
    }
    if status.lag() > max_lag_blocks {
        alerts.push(
            Alert::new(
                "listener_lag",
                &[&chain],
                Severity::Warning,
                format!("listener for chain {chain} is more than {max_lag_blocks} confirmed blocks behind"),
            )
            .detail("chain_id", status.chain_id)
            .detail("lag_blocks", status.lag())
            .detail("last_applied_block", status.last_applied_block),
        );
    }
    alerts
}

/// A `quarantine` warning when `chain_id` has quarantined chain events.
pub fn quarantine(chain_id: u64, quarantined_events: u64) -> Vec<Alert> {
    if quarantined_events == 0 {
        return Vec::new();
    }
    vec![
        Alert::new(
            "quarantine",
            &[&chain_id.to_string()],
            Severity::Warning,
            format!("{quarantined_events} chain events on chain {chain_id} are quarantined"),
        )
        .detail("chain_id", chain_id)
        .detail("quarantined_events", quarantined_events),
    ]
}

/// A `custody_uncompared` alert (critical) when custody on `chain_id` has not been compared for `runs` runs in a
/// row, this one included, and `runs` reaches `max_runs`: on TRON the Solidity node's solidified block never met the
/// ledger (a full node given as the Solidity endpoint, a listener stuck behind), so a variance could go unseen.
pub fn custody_uncompared(chain_id: u64, runs: u64, max_runs: u64) -> Vec<Alert> {
    if runs < max_runs {
        return Vec::new();
    }
    vec![
        Alert::new(
            "custody_uncompared",
            &[&chain_id.to_string()],
            Severity::Critical,
            format!("custody on chain {chain_id} has not been compared for {max_runs} or more reconciliation runs"),
        )
        .detail("chain_id", chain_id)
        .detail("max_runs", max_runs),
    ]
}

/// A `stuck_batch` alert (critical) for each open batch whose deadline is before `now` (unix seconds).
pub fn stuck_batches(batches: &[OpenBatch], now: u64) -> Vec<Alert> {
    batches
        .iter()
        .filter(|b| now > b.deadline)
        .map(|b| {
            Alert::new(
                "stuck_batch",
                &[&b.chain_id.to_string(), &b.batch_nonce.to_string()],
                Severity::Critical,
                format!("payout batch {} on chain {} passed its deadline unsettled", b.batch_nonce, b.chain_id),
            )
            .detail("chain_id", b.chain_id)
            .detail("batch_nonce", b.batch_nonce)
            .detail("deadline", b.deadline)
        })
        .collect()
}

/// The members' exit of `token` opened on `contract` at `block` (contracts/EXIT.md): the operator stopped committing
/// (or left the contract paused) for the exit's whole period, and members now take their leaves from the exit
/// contract. Critical, once per opening: the asset is no longer reconciled against the ledger (its custody is the
/// exit contract's to pay out), and nothing but claims and exits moves it any more.
pub fn exit_open(chain_id: u64, token: Address, contract: &str, block: u64, custody: U256) -> Alert {
    Alert::new(
        "exit_open",
        &[&chain_id.to_string(), &token.to_string(), contract],
        Severity::Critical,
        format!(
            "the members' exit of {token} opened on contract {contract} at block {block}: {custody} went to the exit \
             contract, members now exit with their proofs and the asset takes no payment or payout any more"
        ),
    )
    .detail("chain_id", chain_id)
    .detail("asset", token)
    .detail("contract", contract)
    .detail("opened_block", block)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custody_unchecked_for_the_limit_of_runs_pages() {
        assert!(custody_uncompared(728_126_428, 4, 5).is_empty());
        let alerts = custody_uncompared(728_126_428, 5, 5);
        assert_eq!(alerts.len(), 1);
        assert_eq!((alerts[0].check.as_str(), alerts[0].severity), ("custody_uncompared", Severity::Critical));
        assert_eq!(alerts[0].dedup_key, "custody_uncompared:728126428");
        assert_eq!(custody_uncompared(728_126_428, 50, 5), alerts, "the same alert: no re-page while it lasts");
    }

    const BNB: u128 = 1_000_000_000_000_000_000;

    fn figures() -> LedgerFigures {
        LedgerFigures {
            inflows: U256::from(100 * BNB),
            payouts_executed: U256::from(30 * BNB),
            claims: U256::from(5 * BNB),
            treasury_transfers: U256::from(10 * BNB),
            leaves: U256::ZERO,
            refunds: U256::ZERO,
            liabilities: U256::from(40 * BNB),
        }
    }

    #[test]
    fn balanced_custody_raises_nothing() {
        let (result, alerts) = custody(56, Address::ZERO, 10, U256::from(55 * BNB), &figures());
        assert!(alerts.is_empty());
        assert_eq!(result.variance, I256::ZERO);
        assert_eq!(result.solvency_margin, I256::try_from(15 * BNB).unwrap());
    }

    #[test]
    fn one_wei_sent_outside_the_protocol_is_an_exact_positive_variance() {
        let (result, alerts) = custody(56, Address::ZERO, 10, U256::from(55 * BNB + 1), &figures());
        assert_eq!(result.variance, I256::ONE);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].details["variance"], "1");
    }

    #[test]
    fn missing_money_is_a_negative_variance_and_insolvency_when_below_liabilities() {
        let (result, alerts) = custody(56, Address::ZERO, 10, U256::from(39 * BNB), &figures());
        assert_eq!(result.variance, I256::try_from(-16 * BNB as i128).unwrap());
        let checks: Vec<&str> = alerts.iter().map(|a| a.check.as_str()).collect();
        assert_eq!(checks, ["custody", "solvency"]);
        assert_eq!(alerts[1].details["shortfall"], (BNB).to_string());
    }

    #[test]
    fn lag_counts_only_confirmed_blocks_and_halts_are_critical() {
        let status = ListenerStatus {
            chain_id: 56,
            chain_head: 1_000,
            confirmations: 20,
            last_applied_block: 970,
            halted_reason: None,
        };
        assert_eq!(status.lag(), 10);
        assert!(listener(&status, 10).is_empty());
        assert_eq!(listener(&status, 9)[0].check, "listener_lag");
        let halted = ListenerStatus { halted_reason: Some("deep reorg at 971".into()), ..status };
        assert_eq!(listener(&halted, 100)[0].severity, Severity::Critical);
    }

    #[test]
    fn only_batches_past_their_deadline_are_stuck() {
        let batches = [
            OpenBatch { chain_id: 56, batch_nonce: U256::from(1), deadline: 100 },
            OpenBatch { chain_id: 56, batch_nonce: U256::from(2), deadline: 300 },
        ];
        let alerts = stuck_batches(&batches, 200);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].dedup_key, "stuck_batch:56:1");
        assert!(quarantine(56, 0).is_empty());
        assert_eq!(quarantine(56, 2)[0].details["quarantined_events"], "2");
    }
}

/// The chain's latest proof-of-solvency commitment of one asset, and what the ledger recorded of that epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommitmentFigures {
    /// The chain.
    pub chain_id: u64,
    /// The asset's token.
    pub token: Address,
    /// The chain's commitment (`latestLiabilities`).
    pub onchain: solvency_verify::Commitment,
    /// The chain's head when it was read.
    pub head: u64,
    /// The block the ledger has applied the chain through: a commitment above it is not known to the ledger yet.
    pub ledger_block: u64,
    /// The ledger's committed epoch of the same number: (root, total, as-of block); `None` when it has none.
    pub ledger: Option<(alloy::primitives::B256, u128, u64)>,
    /// After an upgrade (contracts/UPGRADES.md §7): what the chain's previous contracts read as custody when they
    /// committed the same round (the same block and total) as `onchain`; `None` when one of them has not committed it
    /// (yet): solvency is then judged on the next run, never on part of the custody.
    pub previous_custody: Option<U256>,
    /// The epoch interval: a commitment older than twice this is stale.
    pub interval_blocks: u64,
    /// Users whose sampled proof did not verify against the chain's root, with why (empty when none or not sampled).
    pub failed_proofs: Vec<(Address, String)>,
    /// Users whose proofs were verified.
    pub verified_proofs: usize,
}

/// The proof of solvency's checks of one asset (SOLVENCY.md "Who does what"): `solvency_commitment` (critical) when
/// the chain's latest commitment is not the epoch the ledger built — another root, total or block, or an epoch the
/// ledger never built; `solvency_insolvent` (critical) when the custody the contract read at commit is below the
/// committed total; `solvency_stale` (warning) when it is older than two intervals; `solvency_proof` (critical)
/// when a sampled user's proof does not fold to the chain's root.
pub fn commitment(f: &CommitmentFigures) -> Vec<Alert> {
    let scope = [f.chain_id.to_string(), f.token.to_string()];
    let scope: Vec<&str> = scope.iter().map(String::as_str).collect();
    let c = &f.onchain;
    let mut alerts = Vec::new();
    if c.epoch == 0 {
        return alerts;
    }
    let known = c.commit_block <= f.ledger_block;
    let matches = f.ledger == Some((c.root, c.total, c.as_of_block));
    if known && !matches {
        let (summary, ledger) = match f.ledger {
            None => {
                (format!("epoch {} on chain is no epoch the ledger built or saw committed", c.epoch), "none".into())
            }
            Some((root, total, block)) => (
                format!("epoch {} on chain differs from the ledger's (root, total or block)", c.epoch),
                format!("root {root}, total {total}, as of block {block}"),
            ),
        };
        alerts.push(
            Alert::new("solvency_commitment", &scope, Severity::Critical, summary)
                .detail("chain_id", f.chain_id)
                .detail("asset", f.token)
                .detail("epoch", c.epoch)
                .detail("onchain_root", c.root)
                .detail("onchain_total", c.total)
                .detail("onchain_as_of_block", c.as_of_block)
                .detail("commit_block", c.commit_block)
                .detail("ledger", ledger),
        );
    }
    let custody = f.previous_custody.map(|previous| c.custody.saturating_add(previous));
    if let Some(custody) = custody
        && custody < U256::from(c.total)
    {
        let held =
            if f.previous_custody.is_some_and(|p| !p.is_zero()) { "the contracts held" } else { "the contract held" };
        alerts.push(
            Alert::new(
                "solvency_insolvent",
                &scope,
                Severity::Critical,
                format!(
                    "{held} {} base units less than the total committed in epoch {}",
                    U256::from(c.total) - custody,
                    c.epoch
                ),
            )
            .detail("chain_id", f.chain_id)
            .detail("asset", f.token)
            .detail("epoch", c.epoch)
            .detail("custody", custody)
            .detail("total", c.total),
        );
    }
    let age = f.head.saturating_sub(c.commit_block);
    if age > 2 * f.interval_blocks {
        alerts.push(
            Alert::new(
                "solvency_stale",
                &scope,
                Severity::Warning,
                format!("the latest proof-of-solvency commitment is older than {} blocks", 2 * f.interval_blocks),
            )
            .detail("chain_id", f.chain_id)
            .detail("asset", f.token)
            .detail("epoch", c.epoch)
            .detail("commit_block", c.commit_block)
            .detail("max_age_blocks", 2 * f.interval_blocks),
        );
    }
    if !f.failed_proofs.is_empty() {
        let first: Vec<String> = f.failed_proofs.iter().take(3).map(|(u, why)| format!("{u}: {why}")).collect();
        alerts.push(
            Alert::new(
                "solvency_proof",
                &scope,
                Severity::Critical,
                format!(
                    "{} sampled users' proofs do not verify against the chain's root of epoch {}",
                    f.failed_proofs.len(),
                    c.epoch
                ),
            )
            .detail("chain_id", f.chain_id)
            .detail("asset", f.token)
            .detail("epoch", c.epoch)
            .detail("failed", f.failed_proofs.len())
            .detail("first", first.join("; ")),
        );
    }
    alerts
}

#[cfg(test)]
mod solvency_tests {
    use super::*;
    use alloy::primitives::B256;

    fn figures() -> CommitmentFigures {
        CommitmentFigures {
            chain_id: 31_337,
            token: Address::ZERO,
            onchain: solvency_verify::Commitment {
                root: B256::repeat_byte(1),
                total: 100,
                epoch: 3,
                as_of_block: 40,
                commit_block: 45,
                custody: U256::from(150),
            },
            head: 60,
            ledger_block: 50,
            ledger: Some((B256::repeat_byte(1), 100, 40)),
            previous_custody: Some(U256::ZERO),
            interval_blocks: 10,
            failed_proofs: Vec::new(),
            verified_proofs: 32,
        }
    }

    #[test]
    fn after_an_upgrade_solvency_is_the_custody_of_every_contract_of_the_round() {
        // The live contract alone holds 60 of the 100 committed; the old one, committing the same round, 40 more.
        let live = solvency_verify::Commitment { custody: U256::from(60), ..figures().onchain };
        let both = CommitmentFigures { onchain: live, previous_custody: Some(U256::from(40)), ..figures() };
        assert!(checks(&both).is_empty());
        let short = CommitmentFigures { previous_custody: Some(U256::from(39)), ..both.clone() };
        let alerts = commitment(&short);
        assert_eq!(alerts.iter().map(|a| a.check.as_str()).collect::<Vec<_>>(), ["solvency_insolvent"]);
        assert!(alerts[0].summary.starts_with("the contracts held 1 base units less"), "{}", alerts[0].summary);
        // The old contract has not committed this round yet: not judged on part of the custody.
        assert!(checks(&CommitmentFigures { previous_custody: None, ..both }).is_empty());
    }

    fn checks(f: &CommitmentFigures) -> Vec<String> {
        commitment(f).into_iter().map(|a| a.check).collect()
    }

    #[test]
    fn a_commitment_equal_to_the_ledgers_fresh_and_covered_raises_nothing() {
        assert!(checks(&figures()).is_empty());
        assert!(
            checks(&CommitmentFigures {
                onchain: solvency_verify::Commitment { epoch: 0, ..figures().onchain },
                ledger: None,
                ..figures()
            })
            .is_empty()
        );
    }

    #[test]
    fn another_root_an_unknown_epoch_short_custody_age_and_bad_proofs_each_alert() {
        let forged = CommitmentFigures { ledger: Some((B256::repeat_byte(2), 100, 40)), ..figures() };
        assert_eq!(checks(&forged), ["solvency_commitment"]);
        assert_eq!(checks(&CommitmentFigures { ledger: None, ..figures() }), ["solvency_commitment"]);
        // Not applied by the ledger yet: not compared this run.
        assert!(checks(&CommitmentFigures { ledger: None, ledger_block: 44, ..figures() }).is_empty());
        let short = solvency_verify::Commitment { custody: U256::from(99), ..figures().onchain };
        assert_eq!(checks(&CommitmentFigures { onchain: short, ..figures() }), ["solvency_insolvent"]);
        assert_eq!(checks(&CommitmentFigures { head: 66, ..figures() }), ["solvency_stale"]);
        let bad = CommitmentFigures { failed_proofs: vec![(Address::repeat_byte(7), "root".into())], ..figures() };
        let alerts = commitment(&bad);
        assert_eq!((alerts[0].check.as_str(), alerts[0].severity), ("solvency_proof", Severity::Critical));
    }
}
