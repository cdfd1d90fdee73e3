//! The listener on a TRON chain, through TRON's JSON-RPC (the JSON-RPC side of the TRON test node,
//! `tron_devnode::jsonrpc`, over anvil with Nile's chain id): blocks are applied only once solidified, whichever way
//! the solidified head is read; a log answer that silently leaves out the contract's events fails the poll instead of
//! moving the cursor past them; and the stand-in refuses what java-tron refuses.

use alloy::{
    eips::{BlockId, BlockNumberOrTag},
    primitives::U256,
    providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::Filter,
};
use anvil_tests::{
    devchain::{DevChain, NILE_CHAIN_ID, native_ledger_db},
    tron_rpc::{MAX_BLOCK_RANGE, SOLIDIFY_DEPTH, TronFaults, TronRpc, block_id},
};
use ledger::ChainLedger;
use listener::{
    ChainFollower, FollowError, FollowerConfig,
    follower::TronFinality,
    service::{ChainListener, ListenerError},
};
use sqlx::PgPool;

const FEE: u128 = 20_000_000_000_000_000_000;

fn provider(url: &str) -> DynProvider {
    ProviderBuilder::new().connect_http(url.parse().expect("url")).erased()
}

async fn tron_listener(
    chain: &DevChain,
    url: &str,
    finality: TronFinality,
    pool: &PgPool,
) -> eyre::Result<ChainListener<DynProvider>> {
    let config = FollowerConfig::new(NILE_CHAIN_ID, chain.settlement, 0).on_tron(finality);
    let follower = ChainFollower::new(provider(url), config);
    Ok(ChainListener::new(follower, ChainLedger::open(pool.clone(), NILE_CHAIN_ID).await?, 1))
}

/// Steps until a poll finds nothing new.
async fn catch_up(listener: &mut ChainListener<DynProvider>) -> Result<(), ListenerError> {
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

async fn applied(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM chain_events WHERE outcome = 'applied'").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_tron_registration_is_applied_only_once_its_block_is_solidified() -> eyre::Result<()> {
    for finality in [TronFinality::SolidityLatest, TronFinality::FinalizedTag] {
        let chain = DevChain::start_tron().await?;
        let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
        // `latest` of a Solidity node, or the `finalized` tag of a full node.
        let url = if finality == TronFinality::SolidityLatest { &tron.solidity_url } else { &tron.full_url };
        let registered_in = chain.register_native(&chain.account(2), chain.admin.address(), U256::from(FEE), 1).await?;
        let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
        let mut listener = tron_listener(&chain, url, finality, &db.pool).await?;
        // The block is on the chain, even 18 blocks deep, but not solidified: nothing is applied.
        let head = chain.provider.get_block_number().await?;
        chain.provider.anvil_mine(Some((registered_in + SOLIDIFY_DEPTH - 1).saturating_sub(head)), None).await?;
        catch_up(&mut listener).await?;
        assert_eq!(applied(&db.pool).await, 0, "{finality:?}: applied before it was solidified");
        let cursor = listener.ledger().listener_state().await?.0.expect("cursor");
        assert!(cursor.number < registered_in, "{finality:?}: cursor {} passed block {registered_in}", cursor.number);

        // One block more and it is solidified.
        chain.provider.anvil_mine(Some(1), None).await?;
        catch_up(&mut listener).await?;
        assert_eq!(applied(&db.pool).await, 1, "{finality:?}");
        let head = chain.provider.get_block_number().await?;
        let cursor = listener.ledger().listener_state().await?.0.expect("cursor");
        assert_eq!(cursor.number, head - SOLIDIFY_DEPTH, "{finality:?}: the cursor is the solidified block");
        let anvil_hash = chain.provider.get_block_by_number(cursor.number.into()).await?.expect("block").header.hash;
        assert_eq!(cursor.hash, block_id(cursor.number, anvil_hash), "{finality:?}: blocks are known by TRON's id");
    }
    Ok(())
}

#[tokio::test]
async fn a_silently_empty_log_answer_fails_the_poll_and_the_event_is_applied_once_the_node_answers() -> eyre::Result<()>
{
    let chain = DevChain::start_tron().await?;
    // Every log answer that has something is emptied, as a node whose log index was not built answers.
    let tron =
        TronRpc::start(&chain.rpc_url(), TronFaults { empty_logs_every: Some(1), ..TronFaults::default() }).await?;
    let db = native_ledger_db(NILE_CHAIN_ID, chain.admin.address()).await?;
    let mut listener = tron_listener(&chain, &tron.solidity_url, TronFinality::SolidityLatest, &db.pool).await?;
    chain.register_native(&chain.account(2), chain.admin.address(), U256::from(FEE), 1).await?;
    chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH + 1), None).await?;

    let before = listener.ledger().listener_state().await?.0;
    for _ in 0..3 {
        match listener.step().await {
            Err(ListenerError::Follow(FollowError::Inconsistent(reason))) => {
                assert!(reason.contains("left out the logs of transaction"), "{reason}")
            }
            other => panic!("an emptied log answer must fail the poll, got {other:?}"),
        }
    }
    assert!(tron.counters.emptied_logs.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    assert_eq!(listener.ledger().listener_state().await?.0, before, "the cursor did not move past the event");
    assert_eq!(applied(&db.pool).await, 0);

    tron.set_faults(TronFaults::default());
    catch_up(&mut listener).await?;
    assert_eq!(applied(&db.pool).await, 1, "the registration arrives once the node answers in full");
    Ok(())
}

#[tokio::test]
async fn the_stand_in_refuses_what_java_tron_refuses() -> eyre::Result<()> {
    let chain = DevChain::start_tron().await?;
    let tron = TronRpc::start(&chain.rpc_url(), TronFaults::default()).await?;
    chain.provider.anvil_mine(Some(MAX_BLOCK_RANGE + 100), None).await?;
    let (full, solidity) = (provider(&tron.full_url), provider(&tron.solidity_url));
    let head = chain.provider.get_block_number().await?;
    assert_eq!(full.get_block_number().await?, head);
    assert_eq!(solidity.get_block_number().await?, head - SOLIDIFY_DEPTH, "the solidity port's latest is solidified");
    let finalized = full.get_block_by_number(BlockNumberOrTag::Finalized).await?.expect("finalized block");
    assert_eq!(finalized.header.number, head - SOLIDIFY_DEPTH);
    assert_eq!(finalized.header.logs_bloom, alloy::primitives::Bloom::ZERO, "TRON keeps no bloom");
    assert!(solidity.get_block_by_number((head - 1).into()).await?.is_none(), "an unsolidified block is unknown");

    let contract = chain.settlement;
    let refusal = |e: alloy::transports::TransportError| e.to_string();
    let historical = full.get_balance(contract).block_id(BlockId::number(head - 1)).await.map_err(refusal);
    assert!(historical.unwrap_err().contains("QUANTITY not supported, just support TAG as latest"));
    let latest = full.get_balance(contract).block_id(BlockId::latest()).await?;
    assert_eq!(latest, chain.provider.get_balance(contract).await?);
    let sent: Result<serde_json::Value, _> = full.raw_request("eth_sendRawTransaction".into(), ("0x00",)).await;
    assert!(sent.map_err(refusal).unwrap_err().contains("eth_sendRawTransaction does not exist/is not available"));
    let wide = Filter::new().address(contract).from_block(head - MAX_BLOCK_RANGE - 1).to_block(head);
    assert!(full.get_logs(&wide).await.map_err(refusal).unwrap_err().contains("exceed max block range: 5000"));
    let widest_allowed = Filter::new().address(contract).from_block(head - MAX_BLOCK_RANGE).to_block(head);
    assert!(full.get_logs(&widest_allowed).await.is_ok(), "to − from = 5000 is allowed");
    assert!(tron.counters.refused.load(std::sync::atomic::Ordering::SeqCst) >= 3);
    Ok(())
}
