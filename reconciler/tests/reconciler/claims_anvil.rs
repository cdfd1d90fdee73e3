//! Claims and treasury transfers from a real anvil through the real listener into the Postgres ledger, checked
//! by the reconciler: after a deferred payout is claimed the ledger's claimable is zero and custody reconciles
//! to zero variance; a treasury transfer executed on-chain marks its signed row executed (and one signed
//! outside the API is recorded from the chain), still with zero variance.

use std::time::Duration;

use abi::{LiabilityRoot, NATIVE_TOKEN, Payout, PayoutBatch, Settlement, TreasuryTransfer, payouts_hash};
use alloy::{
    primitives::{Address, B256, I256, U256, bytes},
    providers::{DynProvider, Provider, ext::AnvilApi},
};
use anvil_tests::devchain::{DevChain, native_ledger_db};
use ledger::{ChainLedger, payouts};
use listener::{ChainFollower, FollowerConfig, service::ChainListener};
use payout_chain::{BatchOutcome, PayoutSubmitter};
use reconciler::service::{ChainTarget, Reconciler, RunReport};
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

async fn confirm_and_listen(chain: &DevChain, listener: &mut ChainListener<DynProvider>) -> eyre::Result<()> {
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 1), None).await?;
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

async fn reconcile(chain: &DevChain, pool: &PgPool) -> eyre::Result<RunReport> {
    let target = ChainTarget {
        chain_id: CHAIN,
        provider: chain.provider.clone(),
        finalized_tag: false,
        contract: chain.settlement,
        previous: Vec::new(),
        confirmations: CONFIRMATIONS,
        assets: vec![Address::ZERO],
        solvency_interval_blocks: None,
        start_block: chain.deploy_block,
        max_log_range: 2_000,
    };
    let report = Reconciler::new(pool.clone(), vec![target], vec![], 10).run_once().await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.assets.len(), 1);
    Ok(report)
}

async fn claimable(pool: &PgPool, who: Address) -> String {
    sqlx::query_scalar(
        "SELECT b.claimable::text FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(who.as_slice())
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_claimed_deferred_payout_and_treasury_transfers_reconcile_to_zero_variance() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    let g = chain.admin.address();
    let (a, b, c) = (chain.account(2), chain.account(3), chain.account(4));
    let fee = U256::from(20 * BNB);
    chain.register_native(&a, g, fee, 1).await?;
    chain.register_native(&b, g, fee, 2).await?;
    chain.register_native(&c, b.address(), fee, 3).await?;
    let db = native_ledger_db(CHAIN, g).await?;
    let pool = &db.pool;
    let follower =
        ChainFollower::new(chain.provider.clone(), FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS));
    let mut listener = ChainListener::new(follower, ChainLedger::open(pool.clone(), CHAIN).await?, 1);
    confirm_and_listen(&chain, &mut listener).await?;

    // One batch paying everyone pending; B's wallet rejects the push, so B's share becomes claimable.
    let built =
        payouts::build_batch(pool, 1, &payouts::BuildLimits::new(100, u128::MAX)).await?.expect("rewards are pending");
    let b_owed = built.entries.iter().find(|e| e.0 == b.address()).expect("B earned C's direct reward").1;
    let batch = PayoutBatch {
        token: NATIVE_TOKEN,
        total: U256::from(built.total),
        payouts: built
            .entries
            .iter()
            .map(|(r, amount)| Payout { recipient: *r, amount: U256::from(*amount) })
            .collect(),
        nonce: U256::from(5_000),
        deadline: chain.deadline().await?,
    };
    let signature = chain.sign(&batch);
    payouts::record_signed(pool, built.id, batch.nonce, payouts_hash(&batch.payouts), batch.deadline.to(), &signature)
        .await?;
    chain.provider.anvil_set_code(b.address(), bytes!("60006000fd")).await?;
    let submitter = PayoutSubmitter::new(chain.provider.clone(), g, chain.settlement, 0);
    let BatchOutcome::Pending { tx } = submitter.submit(&batch, &signature).await? else { panic!("not sent") };
    let outcome = submitter.track(&batch, tx, Duration::from_millis(20), Duration::from_secs(10)).await?;
    assert!(matches!(outcome, BatchOutcome::Executed { .. }), "{outcome:?}");
    chain.provider.anvil_set_code(b.address(), bytes!("")).await?;
    confirm_and_listen(&chain, &mut listener).await?;
    assert_eq!(claimable(pool, b.address()).await, b_owed.to_string());
    assert_eq!(reconcile(&chain, pool).await?.assets[0].result.variance, I256::ZERO);

    // B pulls it to another wallet of theirs.
    let as_b = Settlement::new(chain.settlement, DevChain::provider_for(&chain.anvil, &b));
    let receipt = as_b.claim(NATIVE_TOKEN, chain.account(5).address()).send().await?.get_receipt().await?;
    assert!(receipt.status(), "claim reverted");
    confirm_and_listen(&chain, &mut listener).await?;
    assert_eq!(claimable(pool, b.address()).await, "0");
    let contract = Settlement::new(chain.settlement, &chain.provider);
    assert_eq!(contract.claimable(NATIVE_TOKEN, b.address()).call().await?, U256::ZERO);
    let report = reconcile(&chain, pool).await?;
    assert_eq!(report.assets[0].ledger.claims, U256::from(b_owed));
    assert_eq!(report.assets[0].result.variance, I256::ZERO, "{:?}", report.assets[0]);
    assert!(report.alerts.iter().all(|a| !a.dedup_key.starts_with("custody")), "{:?}", report.alerts);

    // A treasury transfer needs a recent commitment of the members' liabilities (issue 42): none are owed in
    // this root, so the floor is zero and only the claimable balances are out of the treasury's reach.
    let commitment = LiabilityRoot {
        token: NATIVE_TOKEN,
        epoch: 1,
        asOfBlock: chain.provider.get_block_number().await? - 1,
        root: B256::repeat_byte(0x42),
        total: 0,
        leafCount: 0,
        planHash: B256::repeat_byte(0x17),
        nonce: abi::nonces::liability_nonce(0),
        deadline: chain.deadline().await?,
    };
    let account_nonce = chain.provider.get_transaction_count(g).pending().await?;
    let committed = contract
        .commitLiabilities(commitment.clone(), chain.sign(&commitment))
        .nonce(account_nonce)
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(committed.status(), "commitLiabilities reverted");

    // A treasury transfer signed through the API (its row as the API writes it), and one signed elsewhere.
    let cold = chain.account(6).address();
    let deadline = chain.deadline().await?;
    let signed =
        TreasuryTransfer { token: NATIVE_TOKEN, to: cold, amount: U256::from(BNB), nonce: U256::from(777), deadline };
    let signed_sig = chain.sign(&signed);
    sqlx::query(
        "INSERT INTO treasury_transfers (asset_id, chain_nonce, recipient, amount, deadline, signature, requested_by)
         VALUES (1, 777, $1, $2::numeric, $3, $4, 'admin')",
    )
    .bind(cold.as_slice())
    .bind(BNB.to_string())
    .bind(deadline.to::<u64>() as i64)
    .bind(signed_sig.to_vec())
    .execute(pool)
    .await?;
    let elsewhere = TreasuryTransfer {
        token: NATIVE_TOKEN,
        to: cold,
        amount: U256::from(BNB / 2),
        nonce: U256::from(778),
        deadline,
    };
    let elsewhere_sig = chain.sign(&elsewhere);
    // The submitter set the admin's account nonce itself: ask the node, not the provider's cache.
    let account_nonce = chain.provider.get_transaction_count(g).pending().await?;
    let receipt =
        contract.transferTreasury(signed, signed_sig).nonce(account_nonce).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let signed_block = receipt.block_number.unwrap();
    let signed_tx = receipt.transaction_hash;
    let elsewhere_call = contract.transferTreasury(elsewhere, elsewhere_sig).nonce(account_nonce + 1);
    assert!(elsewhere_call.send().await?.get_receipt().await?.status());
    confirm_and_listen(&chain, &mut listener).await?;

    type TransferRow = (String, String, String, Option<i64>, Option<Vec<u8>>);
    let rows: Vec<TransferRow> = sqlx::query_as(
        "SELECT chain_nonce::text, origin, status, executed_block, tx_hash FROM treasury_transfers ORDER BY chain_nonce",
    )
    .fetch_all(pool)
    .await?;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        ("777".into(), "api".into(), "executed".into(), Some(signed_block as i64), Some(signed_tx.to_vec()))
    );
    assert_eq!((rows[1].0.as_str(), rows[1].1.as_str(), rows[1].2.as_str()), ("778", "chain", "executed"));
    let unknown: i64 = sqlx::query_scalar("SELECT count(*) FROM alerts WHERE kind = 'treasury_transfer_unknown'")
        .fetch_one(pool)
        .await?;
    assert_eq!(unknown, 1);
    let report = reconcile(&chain, pool).await?;
    assert_eq!(report.assets[0].ledger.treasury_transfers, U256::from(BNB + BNB / 2));
    assert_eq!(report.assets[0].result.variance, I256::ZERO, "{:?}", report.assets[0]);
    Ok(())
}
