//! The follower against a real anvil: confirmed blocks only, in order; no event missed through a provider
//! that times out, rate-limits, refuses wide ranges and answers empty like a lagging node; shallow reorgs
//! invisible, deep ones stop it.

use std::{collections::HashSet, time::Duration};

use abi::Settlement;
use alloy::sol_types::SolEvent;
use alloy::{
    primitives::{B256, U256},
    providers::{Provider, ProviderBuilder, ext::AnvilApi},
    rpc::types::{Filter, anvil::ReorgOptions},
};
use anvil_tests::{
    devchain::DevChain,
    fault_proxy::{FaultProxy, Faults},
};
use listener::{BlockRef, ChainFollower, FollowError, FollowerConfig};

const FEE: u128 = 20_000_000_000_000_000_000;

/// (block number, block hash, log index) of every Registered log seen.
type Seen = Vec<(u64, B256, u64, U256)>;

/// `n` registrations, one block each, by `n` fresh funded wallets (the contract takes one registration per user
/// and asset).
async fn register_many(chain: &DevChain, n: u64) -> eyre::Result<()> {
    for nonce in 1..=n {
        let user = alloy::signers::local::PrivateKeySigner::random();
        chain.provider.anvil_set_balance(user.address(), U256::from(FEE) * U256::from(2)).await?;
        chain.register_native(&user, chain.admin.address(), U256::from(FEE), nonce).await?;
    }
    Ok(())
}

/// Polls until the follower reports nothing new, retrying transient faults; returns what it saw.
async fn follow_to_tip<P: Provider>(
    follower: &mut ChainFollower<P>,
    cursor: &mut BlockRef,
    seen: &mut Seen,
) -> Result<u32, FollowError> {
    let mut transient = 0;
    loop {
        match follower.poll(*cursor).await {
            Ok(blocks) if blocks.is_empty() => return Ok(transient),
            Ok(blocks) => {
                for block in blocks {
                    assert!(block.number == cursor.number + 1, "blocks arrive in order without gaps");
                    // The deployment block also holds the constructor's role and signer events.
                    for log in &block.logs {
                        if let Ok(event) = log.log_decode::<Settlement::Registered>() {
                            seen.push((block.number, block.hash, log.log_index.unwrap(), event.inner.data.nonce));
                        }
                    }
                    *cursor = block.block_ref();
                }
            }
            Err(e) if e.is_transient() => {
                transient += 1;
                assert!(transient < 500, "follower made no progress: {e}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => return Err(e),
        }
    }
}

async fn canonical_logs(chain: &DevChain, to: u64) -> eyre::Result<Vec<(u64, B256, u64)>> {
    let filter = Filter::new()
        .address(chain.settlement)
        .event_signature(Settlement::Registered::SIGNATURE_HASH)
        .from_block(0)
        .to_block(to);
    Ok(chain
        .provider
        .get_logs(&filter)
        .await?
        .iter()
        .map(|l| (l.block_number.unwrap(), l.block_hash.unwrap(), l.log_index.unwrap()))
        .collect())
}

#[tokio::test]
async fn applies_only_confirmed_blocks_in_order() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    register_many(&chain, 12).await?;
    let head = chain.provider.get_block_number().await?;

    let config = FollowerConfig { initial_range: 4, ..FollowerConfig::new(31337, chain.settlement, 5) };
    let mut follower = ChainFollower::new(chain.provider.clone(), config);
    let mut cursor = follower.genesis_cursor(1).await?;
    let mut seen = Seen::new();
    follow_to_tip(&mut follower, &mut cursor, &mut seen).await?;

    assert_eq!(cursor.number, head - 5, "stops exactly at the confirmation depth");
    assert!(seen.iter().all(|(b, ..)| *b <= head - 5));
    let seen_nonces: Vec<u64> = seen.iter().map(|s| s.3.to::<u64>()).collect();
    assert_eq!(seen_nonces, (1..=7).collect::<Vec<_>>(), "the 5 newest registrations wait for confirmations");

    chain.provider.anvil_mine(Some(5), None).await?;
    follow_to_tip(&mut follower, &mut cursor, &mut seen).await?;
    let seen_nonces: Vec<u64> = seen.iter().map(|s| s.3.to::<u64>()).collect();
    assert_eq!(seen_nonces, (1..=12).collect::<Vec<_>>());
    Ok(())
}

#[tokio::test]
async fn misses_no_event_through_a_faulty_provider() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    register_many(&chain, 40).await?;
    chain.provider.anvil_mine(Some(3), None).await?;

    let proxy = FaultProxy::start(
        chain.anvil.endpoint().as_str(),
        Faults {
            max_log_range: Some(7),
            rate_limit_every: Some(23),
            stall_every: Some(41),
            stall: Duration::from_millis(1_500),
            empty_logs_every: Some(2),
        },
    )
    .await?;
    let http = reqwest::Client::builder().timeout(Duration::from_millis(400)).build()?;
    let provider = ProviderBuilder::new().connect_reqwest(http, proxy.url.parse()?);
    let config =
        FollowerConfig { initial_range: 64, header_concurrency: 4, ..FollowerConfig::new(31337, chain.settlement, 2) };
    let mut follower = ChainFollower::new(provider, config);
    let mut cursor = follower.genesis_cursor(1).await?;
    let mut seen = Seen::new();
    let transient = follow_to_tip(&mut follower, &mut cursor, &mut seen).await?;

    let head = chain.provider.get_block_number().await?;
    let expected = canonical_logs(&chain, head - 2).await?;
    let got: Vec<_> = seen.iter().map(|(b, h, i, _)| (*b, *h, *i)).collect();
    assert_eq!(got, expected, "every confirmed log exactly once, in chain order");
    assert_eq!(seen.len(), 40);
    let c = &proxy.counters;
    use std::sync::atomic::Ordering::SeqCst;
    assert!(c.range_refused.load(SeqCst) > 0, "wide ranges were refused");
    assert!(c.rate_limited.load(SeqCst) > 0, "rate limits happened");
    assert!(c.stalled.load(SeqCst) > 0, "timeouts happened");
    assert!(c.emptied_logs.load(SeqCst) > 0, "a lagging node answered empty");
    assert!(transient > 0);
    assert!(follower.range().current() <= 7, "range adapted to the provider's limit");
    Ok(())
}

#[tokio::test]
async fn shallow_reorg_is_invisible_and_deep_reorg_halts() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    register_many(&chain, 10).await?;
    let confirmations = 4;
    let mut follower =
        ChainFollower::new(chain.provider.clone(), FollowerConfig::new(31337, chain.settlement, confirmations));
    let mut cursor = follower.genesis_cursor(1).await?;
    let mut seen = Seen::new();
    follow_to_tip(&mut follower, &mut cursor, &mut seen).await?;
    let before = seen.len();

    // Replace the newest 3 blocks (their registrations vanish): all above the cursor.
    chain.provider.anvil_reorg(ReorgOptions { depth: 3, tx_block_pairs: vec![] }).await?;
    chain.provider.anvil_mine(Some(confirmations + 1), None).await?;
    follow_to_tip(&mut follower, &mut cursor, &mut seen).await?;
    let head = chain.provider.get_block_number().await?;
    let expected = canonical_logs(&chain, head - confirmations).await?;
    let got: Vec<_> = seen.iter().map(|(b, h, i, _)| (*b, *h, *i)).collect();
    assert_eq!(got, expected, "after a shallow reorg the follower holds exactly the canonical chain");
    assert!(seen.len() < 10 && seen.len() >= before);

    // Now rewrite blocks below the cursor: the follower must refuse to go on.
    let seen_before_deep = seen.clone();
    chain.provider.anvil_reorg(ReorgOptions { depth: confirmations + 3, tx_block_pairs: vec![] }).await?;
    chain.provider.anvil_mine(Some(confirmations + 2), None).await?;
    let err = follow_to_tip(&mut follower, &mut cursor, &mut seen).await.unwrap_err();
    assert!(matches!(err, FollowError::DeepReorg { .. }), "{err}");
    assert_eq!(seen, seen_before_deep, "nothing applied from the rewritten chain");
    let unique: HashSet<_> = seen.iter().map(|s| (s.0, s.2)).collect();
    assert_eq!(unique.len(), seen.len());
    Ok(())
}
