//! Reconciliation of a TRON chain through TRON's JSON-RPC (the JSON-RPC side of the TRON test node,
//! `tron_devnode::jsonrpc`): custody read at the Solidity node's `latest` (the solidified block; no historical state
//! exists there), against the ledger as of that block — variance 0 when they agree, an alert for a wei the ledger does
//! not know; an EVM-mode reading of the same node is refused outright.

use alloy::{
    primitives::{Address, I256, U256},
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
};
use anvil_tests::{
    devchain::{DevChain, NILE_CHAIN_ID, native_ledger_db},
    tron_rpc::{SOLIDIFY_DEPTH, TronFaults, TronRpc},
};
use ledger::ChainLedger;
use listener::{ChainFollower, FollowerConfig, follower::TronFinality, service::ChainListener};
use reconciler::service::{ChainTarget, Reconciler, RunReport};
use sqlx::PgPool;

const FEE: u128 = 20_000_000_000_000_000_000;

fn provider(url: &str) -> DynProvider {
    ProviderBuilder::new().connect_http(url.parse().expect("url")).erased()
}

/// The TRON-mode listener caught up with the solidified block.
async fn listen(chain: &DevChain, tron: &TronRpc, pool: &PgPool) -> eyre::Result<()> {
    let config = FollowerConfig::new(NILE_CHAIN_ID, chain.settlement, 0).on_tron(TronFinality::SolidityLatest);
    let follower = ChainFollower::new(provider(&tron.solidity_url), config);
    let mut listener = ChainListener::new(follower, ChainLedger::open(pool.clone(), NILE_CHAIN_ID).await?, 1);
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

async fn reconcile(chain: &DevChain, tron: &TronRpc, pool: &PgPool) -> eyre::Result<RunReport> {
    reconcile_paging_after(chain, &tron.solidity_url, pool, reconciler::config::DEFAULT_MAX_UNCOMPARED_RUNS).await
}

/// One run reading custody at `solidity_url`'s `latest`, paging after `max_uncompared_runs` runs without a comparison.
async fn reconcile_paging_after(
    chain: &DevChain,
    solidity_url: &str,
    pool: &PgPool,
    max_uncompared_runs: u64,
) -> eyre::Result<RunReport> {
    reconcile_with(chain, solidity_url, false, pool, max_uncompared_runs).await
}

/// One run reading custody through `url`: a Solidity node's JSON-RPC, or with `finalized_tag` a full node's.
async fn reconcile_with(
    chain: &DevChain,
    url: &str,
    finalized_tag: bool,
    pool: &PgPool,
    max_uncompared_runs: u64,
) -> eyre::Result<RunReport> {
    let target = ChainTarget {
        chain_id: NILE_CHAIN_ID,
        provider: provider(url),
        finalized_tag,
        contract: chain.settlement,
        previous: Vec::new(),
        confirmations: 0,
        assets: vec![Address::ZERO],
        solvency_interval_blocks: None,
        start_block: chain.deploy_block,
        max_log_range: 2_000,
    };
    let reconciler =
        Reconciler::new(pool.clone(), vec![target], vec![], 10).with_max_uncompared_runs(max_uncompared_runs);
    Ok(reconciler.run_once().await?)
}

#[tokio::test]
async fn tron_custody_is_compared_at_the_solidified_block_without_historical_reads() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
    let g = chain.admin.address();
    chain.register_native(&chain.account(2), g, U256::from(FEE), 1).await?;
    chain.register_native(&chain.account(3), g, U256::from(FEE), 2).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    listen(&chain, &tron, &db.pool).await?;

    // Read the EVM way (custody at a block number `confirmations` below the head), the node refuses the historical
    // balance: a TRON chain id is never read so (its family is TRON's), and this is why.
    let evm_read = reconciler::figures::read_chain(
        &db.pool,
        &provider(&tron.solidity_url),
        NILE_CHAIN_ID,
        &[chain.settlement],
        0,
        &[Address::ZERO],
    )
    .await
    .map(|_| ())
    .unwrap_err();
    assert!(
        evm_read.to_string().contains("QUANTITY not supported"),
        "a historical read is refused by TRON's JSON-RPC: {evm_read}"
    );

    let report = reconcile(&chain, &tron, &db.pool).await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.assets.len(), 1);
    let custody = &report.assets[0].result;
    let solidified = chain.provider.get_block_number().await? - SOLIDIFY_DEPTH;
    assert_eq!(custody.block, solidified, "compared at the solidified block");
    assert_eq!(custody.onchain_balance, U256::from(2 * FEE));
    assert_eq!(custody.variance, I256::ZERO);
    assert!(report.alerts.iter().all(|a| a.check != "custody"), "{:?}", report.alerts);

    // One wei the ledger never saw arrives at the contract: once solidified, the variance says so.
    let balance = chain.provider.get_balance(chain.settlement).await?;
    chain.provider.anvil_set_balance(chain.settlement, balance + U256::from(1)).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    listen(&chain, &tron, &db.pool).await?;
    let report = reconcile(&chain, &tron, &db.pool).await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.assets[0].result.variance, I256::ONE);
    assert!(report.alerts.iter().any(|a| a.check == "custody"), "{:?}", report.alerts);
    Ok(())
}

#[tokio::test]
async fn tron_custody_waits_for_the_ledger_to_reach_the_solidified_block() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
    chain.register_native(&chain.account(2), chain.admin.address(), U256::from(FEE), 1).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    listen(&chain, &tron, &db.pool).await?;
    // A registration solidified that the listener has not applied: comparing now would report it as variance.
    chain.register_native(&chain.account(3), chain.admin.address(), U256::from(FEE), 2).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    let report = reconcile(&chain, &tron, &db.pool).await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.assets.is_empty(), "not compared while the ledger is behind: {:?}", report.assets);
    assert!(report.alerts.iter().all(|a| a.check != "custody"), "no false variance: {:?}", report.alerts);

    listen(&chain, &tron, &db.pool).await?;
    let report = reconcile(&chain, &tron, &db.pool).await?;
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].result.variance, I256::ZERO);
    assert_eq!(report.assets[0].result.onchain_balance, U256::from(2 * FEE));
    Ok(())
}

#[tokio::test]
async fn custody_never_compared_because_the_solidity_url_is_a_full_node_pages_after_the_limit_of_runs()
-> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
    chain.register_native(&chain.account(2), chain.admin.address(), U256::from(FEE), 1).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    listen(&chain, &tron, &db.pool).await?;

    // The full node's JSON-RPC given as the Solidity endpoint: its `latest` is the head, which the listener (at the
    // solidified block) never reaches, so custody is never compared.
    for run in 1..=2 {
        let report = reconcile_paging_after(&chain, &tron.full_url, &db.pool, 3).await?;
        assert!(report.assets.is_empty(), "run {run} compared nothing");
        assert!(report.alerts.iter().all(|a| a.check != "custody_uncompared"), "run {run}: {:?}", report.alerts);
    }
    let report = reconcile_paging_after(&chain, &tron.full_url, &db.pool, 3).await?;
    let paged: Vec<_> = report.fired.iter().filter(|a| a.check == "custody_uncompared").collect();
    assert_eq!(paged.len(), 1, "the third run without a comparison pages: {:?}", report.fired);
    assert_eq!(paged[0].severity, reconciler::alerts::Severity::Critical);
    assert_eq!(paged[0].details.get("chain_id").map(String::as_str), Some(NILE_CHAIN_ID.to_string().as_str()));
    let report = reconcile_paging_after(&chain, &tron.full_url, &db.pool, 3).await?;
    assert!(report.fired.is_empty(), "still firing, not paged again: {:?}", report.fired);

    // The Solidity endpoint fixed: custody is compared and the alert resolves.
    let report = reconcile_paging_after(&chain, &tron.solidity_url, &db.pool, 3).await?;
    assert_eq!(report.assets.len(), 1);
    assert_eq!(report.assets[0].result.variance, I256::ZERO);
    assert!(report.resolved.iter().any(|a| a.check == "custody_uncompared"), "{:?}", report.resolved);
    Ok(())
}

#[tokio::test]
async fn with_a_full_node_only_custody_is_compared_at_its_finalized_block_when_nothing_moved_since() -> eyre::Result<()>
{
    let chain = DevChain::start_tron().await?;
    let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
    let g = chain.admin.address();
    let runs = reconciler::config::DEFAULT_MAX_UNCOMPARED_RUNS;
    chain.register_native(&chain.account(2), g, U256::from(FEE), 1).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 3), None).await?;
    listen(&chain, &tron, &db.pool).await?;

    // Only the full node's JSON-RPC: its `finalized` block is the solidified one; nothing touched custody since.
    let report = reconcile_with(&chain, &tron.full_url, true, &db.pool, runs).await?;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.assets.len(), 1, "compared: {:?}", report.alerts);
    let solidified = chain.provider.get_block_number().await? - SOLIDIFY_DEPTH;
    assert_eq!(report.assets[0].result.block, solidified, "at the finalized block");
    assert_eq!(
        (report.assets[0].result.onchain_balance, report.assets[0].result.variance),
        (U256::from(FEE), I256::ZERO)
    );

    // A registration after the finalized block: custody at `latest` is not custody at the finalized block, and
    // the contract's event says so; nothing is compared (no false variance) until it is solidified and applied.
    chain.register_native(&chain.account(3), g, U256::from(FEE), 2).await?;
    let report = reconcile_with(&chain, &tron.full_url, true, &db.pool, runs).await?;
    assert!(report.assets.is_empty(), "not compared while custody moved after the finalized block");
    assert!(report.alerts.iter().all(|a| a.check != "custody"), "{:?}", report.alerts);
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;
    listen(&chain, &tron, &db.pool).await?;
    let report = reconcile_with(&chain, &tron.full_url, true, &db.pool, runs).await?;
    assert_eq!(report.assets.len(), 1);
    assert_eq!(
        (report.assets[0].result.onchain_balance, report.assets[0].result.variance),
        (U256::from(2 * FEE), I256::ZERO)
    );
    Ok(())
}
