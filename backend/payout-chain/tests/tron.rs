//! TRON payouts through `tronic` against the TRON test node (java-tron's gRPC API over anvil): the signed bytes
//! are kept and broadcast again until the chain proves them dead, a batch is paid exactly once, outcomes count
//! only once solidified, and the fee limit stays under the chain's cap.

use std::time::{Duration, Instant};

use abi::{Payout, PayoutBatch, TestUSDT};
use alloy::{
    primitives::{Address, Bytes, U256},
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::devchain::DevChain;
use payout_chain::{
    BatchOutcome, Broadcast, Prepared, SignedTransaction, SubmitError,
    tron::{TronPayoutChain, TronSettings},
};
use tron_devnode::{Faults, Params, SOLIDIFY_DEPTH, TronDevnode};

const USDT: u128 = 1_000_000;
/// 10,000 TRX in SUN: the operator's balance (one SUN is one unit of the test chain's native coin).
const OPERATOR_SUN: u64 = 10_000_000_000;

struct Setup {
    chain: DevChain,
    node: TronDevnode,
}

/// A TRON chain whose custody holds 200 USDT from two registrations, and the test node in front of it.
async fn setup() -> eyre::Result<Setup> {
    let chain = DevChain::start_tron().await?;
    for (i, nonce) in [(2usize, 1u64), (3, 2)] {
        chain.register_usdt(&chain.account(i), chain.admin.address(), U256::from(100 * USDT), nonce).await?;
    }
    chain.provider.anvil_set_balance(chain.admin.address(), U256::from(OPERATOR_SUN)).await?;
    let node = TronDevnode::start(&chain.rpc_url(), Params::default()).await?;
    Ok(Setup { chain, node })
}

fn payouts_chain(s: &Setup, cap_sun: i64, expiration: Duration) -> eyre::Result<TronPayoutChain> {
    let settings = TronSettings {
        grpc_url: s.node.grpc_url.clone(),
        solidity_grpc_url: Some(s.node.solidity_grpc_url.clone()),
        settlement: s.chain.settlement,
        fee_limit_cap_sun: cap_sun,
        expiration,
    };
    Ok(TronPayoutChain::new(settings, Some(s.chain.admin.to_bytes().as_slice()))?)
}

async fn usdt_batch(s: &Setup, nonce: u64, payouts: &[(Address, u128)]) -> eyre::Result<(PayoutBatch, Bytes)> {
    let payouts: Vec<Payout> = payouts.iter().map(|(r, a)| Payout { recipient: *r, amount: U256::from(*a) }).collect();
    let batch = PayoutBatch {
        token: s.chain.usdt,
        total: payouts.iter().map(|p| p.amount).sum(),
        payouts,
        nonce: U256::from(nonce),
        deadline: s.chain.deadline().await?,
    };
    let signature = s.chain.sign(&batch);
    Ok((batch, signature))
}

async fn usdt_of(s: &Setup, who: Address) -> eyre::Result<U256> {
    Ok(TestUSDT::new(s.chain.usdt, &s.chain.provider).balanceOf(who).call().await?)
}

async fn signed(chain: &TronPayoutChain, batch: &PayoutBatch, signature: &Bytes) -> eyre::Result<SignedTransaction> {
    match chain.prepare(batch, signature).await? {
        Prepared::Signed(signed) => Ok(signed),
        other => eyre::bail!("expected a signed transaction, got {other:?}"),
    }
}

#[tokio::test]
async fn kept_bytes_broadcast_again_after_a_drop_pay_exactly_once_and_count_once_solidified() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let (alice, bob) = (Address::repeat_byte(0xa1), Address::repeat_byte(0xb0));
    let (batch, signature) = usdt_batch(&s, 9_001, &[(alice, 5 * USDT), (bob, 7 * USDT)]).await?;
    let sun_before = s.chain.provider.get_balance(s.chain.admin.address()).await?;

    let kept = signed(&tron, &batch, &signature).await?;
    assert!(kept.fee_limit > 0 && kept.fee_limit <= 1_000_000_000, "fee limit {} within the cap", kept.fee_limit);
    assert!(!s.node.knows(kept.id), "prepare broadcasts nothing");

    // The node answers SUCCESS and loses it: the transaction is unseen, not dead, and paid nothing.
    s.node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert_eq!(s.node.counters().dropped, 1);
    let unseen = tron.signed_status(&kept).await?;
    assert_eq!(unseen, BatchOutcome::Unseen { tx: kept.id, expiration_ms: kept.expiration_ms });
    assert_eq!(usdt_of(&s, alice).await?, U256::ZERO);

    // The identical bytes again: executed under the same id, pending until solidified.
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    assert!(s.node.knows(kept.id), "the node holds the kept id: the bytes were identical");
    assert_eq!(tron.signed_status(&kept).await?, BatchOutcome::Pending { tx: kept.id });
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH - 1), None).await?;
    assert_eq!(tron.signed_status(&kept).await?, BatchOutcome::Pending { tx: kept.id }, "18 deep");
    s.chain.provider.anvil_mine(Some(1), None).await?;
    let BatchOutcome::Executed { tx, total, deferred, .. } = tron.signed_status(&kept).await? else {
        panic!("not executed once solidified")
    };
    assert_eq!((tx, total, deferred), (kept.id, U256::from(12 * USDT), vec![]));

    // A third broadcast is a duplicate, a new transaction for the batch is refused: paid exactly once.
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::AlreadyKnown);
    let again = tron.prepare(&batch, &signature).await;
    assert!(matches!(&again, Err(SubmitError::Refused(m)) if m.contains("spent")), "{again:?}");
    assert_eq!(usdt_of(&s, alice).await?, U256::from(5 * USDT));
    assert_eq!(usdt_of(&s, bob).await?, U256::from(7 * USDT));
    assert_eq!(usdt_of(&s, s.chain.settlement).await?, U256::from(188 * USDT));

    // The operator paid the energy in TRX: something, and never more than the fee limit.
    let fee = sun_before - s.chain.provider.get_balance(s.chain.admin.address()).await?;
    assert!(fee > U256::ZERO && fee <= U256::from(kept.fee_limit), "fee {fee} SUN, limit {}", kept.fee_limit);
    Ok(())
}

#[tokio::test]
async fn a_lost_transaction_is_dead_only_once_a_solidified_block_is_past_its_expiration() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(3))?;
    let alice = Address::repeat_byte(0xa1);
    let (batch, signature) = usdt_batch(&s, 9_002, &[(alice, 4 * USDT)]).await?;

    let lost = signed(&tron, &batch, &signature).await?;
    s.node.set_faults(Faults { drop_broadcasts: 1, ..Faults::default() });
    assert_eq!(tron.broadcast(&lost).await?, Broadcast::Accepted);

    // Blocks past the expiration at the head do not make it dead: only a solidified one does.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        s.chain.provider.anvil_mine(Some(1), None).await?;
        let head = s.chain.provider.get_block_by_number(alloy::eips::BlockNumberOrTag::Latest).await?;
        if head.is_some_and(|b| (b.header.timestamp as i64) * 1000 > lost.expiration_ms) {
            break;
        }
        assert!(Instant::now() < deadline, "the chain's clock never passed the expiration");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(matches!(tron.signed_status(&lost).await?, BatchOutcome::Unseen { .. }), "head past, not solid");
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert_eq!(tron.signed_status(&lost).await?, BatchOutcome::Dropped { tx: lost.id });

    // The dead bytes are refused by the node; a new transaction with the same signed batch pays once.
    let refused = tron.broadcast(&lost).await;
    assert!(matches!(&refused, Err(SubmitError::Refused(m)) if m.contains("expired")), "{refused:?}");
    let fresh = signed(&tron, &batch, &signature).await?;
    assert_ne!(fresh.id, lost.id);
    assert_eq!(tron.broadcast(&fresh).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert!(matches!(tron.signed_status(&fresh).await?, BatchOutcome::Executed { .. }));
    assert_eq!(tron.signed_status(&lost).await?, BatchOutcome::Dropped { tx: lost.id }, "still dead");
    assert_eq!(usdt_of(&s, alice).await?, U256::from(4 * USDT));
    Ok(())
}

#[tokio::test]
async fn a_batch_whose_fee_limit_is_above_the_cap_is_refused_before_signing() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000, Duration::from_secs(600))?;
    let (batch, signature) = usdt_batch(&s, 9_003, &[(Address::repeat_byte(0xa1), USDT)]).await?;
    let refused = tron.prepare(&batch, &signature).await;
    assert!(matches!(&refused, Err(SubmitError::Refused(m)) if m.contains("fee_limit")), "{refused:?}");
    assert_eq!(s.node.counters().broadcasts, 0);

    // The contract's own refusal (a signature by the wrong key) is reported without a broadcast either.
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let refused = tron.prepare(&batch, &Bytes::from(vec![7u8; 65])).await;
    assert!(matches!(refused, Err(SubmitError::Refused(_))), "{refused:?}");
    assert_eq!(s.node.counters().broadcasts, 0);
    Ok(())
}

#[tokio::test]
async fn a_busy_node_is_a_provider_error_and_the_same_bytes_go_through_afterwards() -> eyre::Result<()> {
    let s = setup().await?;
    let tron = payouts_chain(&s, 1_000_000_000, Duration::from_secs(600))?;
    let (batch, signature) = usdt_batch(&s, 9_004, &[(Address::repeat_byte(0xa1), 2 * USDT)]).await?;
    let kept = signed(&tron, &batch, &signature).await?;
    s.node.set_faults(Faults { server_busy: 1, ..Faults::default() });
    let busy = tron.broadcast(&kept).await;
    assert!(matches!(&busy, Err(SubmitError::Provider(m)) if m.contains("ServerBusy")), "{busy:?}");
    assert!(!s.node.knows(kept.id));
    assert_eq!(tron.broadcast(&kept).await?, Broadcast::Accepted);
    s.chain.provider.anvil_mine(Some(SOLIDIFY_DEPTH), None).await?;
    assert!(matches!(tron.signed_status(&kept).await?, BatchOutcome::Executed { .. }));
    Ok(())
}
