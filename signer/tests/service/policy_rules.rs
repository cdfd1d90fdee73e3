//! Every policy rule refuses what it should, over HTTP, with 403 and the rule's code; nothing refused is stored.

use alloy::primitives::Address;
use signer::intent::{Addr, Amount};

use crate::support::*;

#[tokio::test]
async fn each_static_rule_refuses_with_its_code() {
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;

    let mut i = register(1, None);
    i.chain_id = 56;
    assert_eq!(refusal(c.sign_register(&i).await), (403, "policy.chain_not_allowed".into()));

    let mut i = register(1, None);
    i.contract = Addr(Address::repeat_byte(0xcd));
    assert_eq!(refusal(c.sign_register(&i).await), (403, "policy.contract_not_allowed".into()));

    let mut i = retopup(1, None);
    i.token = Addr(Address::repeat_byte(0x99));
    assert_eq!(refusal(c.sign_retopup(&i).await), (403, "policy.token_not_allowed".into()));

    assert_eq!(
        refusal(c.sign_treasury_transfer(&treasury_transfer(Address::repeat_byte(0x66), 1, Some(1))).await),
        (403, "policy.treasury_recipient_not_allowed".into())
    );

    assert_eq!(
        refusal(c.sign_register(&register(PER_PAYLOAD_CAP + 1, None)).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_retopup(&retopup(PER_PAYLOAD_CAP + 1, None)).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_treasury_transfer(&treasury_transfer(TREASURY, PER_PAYLOAD_CAP + 1, Some(1))).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1, PER_PAYLOAD_CAP + 1], Some(1))).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1_000, 1_000, 501], Some(1))).await),
        (403, "policy.per_batch_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1; MAX_BATCH_ENTRIES + 1], Some(1))).await),
        (403, "policy.batch_entries".into())
    );

    let mut i = register(1, None);
    i.deadline = Some(now() - 1);
    assert_eq!(refusal(c.sign_register(&i).await), (403, "policy.deadline_passed".into()));
    let mut i = register(1, None);
    i.deadline = Some(now() + HORIZON + 60);
    assert_eq!(refusal(c.sign_register(&i).await), (403, "policy.deadline_horizon".into()));

    assert_eq!(app.signed_count().await, 0);

    // The limits themselves are allowed: the rules refuse only what exceeds them.
    c.sign_register(&register(PER_PAYLOAD_CAP, None)).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[1_000, 1_000, 500], Some(1))).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[1; MAX_BATCH_ENTRIES], Some(2))).await.unwrap();
    assert_eq!(app.signed_count().await, 3);
    app.stop().await;
}

#[tokio::test]
async fn the_rolling_daily_cap_sums_outflows_per_asset_and_a_resign_is_not_counted_again() {
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    let mut first = payout_batch(&[1_000, 1_000, 500], Some(1));
    first.deadline = Some(now() + 900);
    c.sign_payout_batch(&first).await.unwrap();
    c.sign_treasury_transfer(&treasury_transfer(TREASURY, 1_000, Some(2))).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[400], Some(3))).await.unwrap(); // 3 900 of 4 000 used

    let (status, code) = refusal(c.sign_payout_batch(&payout_batch(&[101], Some(4))).await);
    assert_eq!((status, code.as_str()), (403, "policy.daily_outflow_cap"));
    let (_, code) = refusal(c.sign_treasury_transfer(&treasury_transfer(TREASURY, 101, Some(4))).await);
    assert_eq!(code, "policy.daily_outflow_cap");

    // Inflows do not consume the outflow cap, and another asset has its own.
    c.sign_retopup(&retopup(1_000, Some(5))).await.unwrap();
    let mut native = payout_batch(&[1_000], Some(6));
    native.token = Addr(Address::ZERO);
    c.sign_payout_batch(&native).await.unwrap();
    // Exactly up to the cap is allowed.
    c.sign_payout_batch(&payout_batch(&[100], Some(7))).await.unwrap();

    // Asking again for an already-signed batch returns its signature: it adds nothing to what can be spent.
    c.sign_payout_batch(&first).await.unwrap();
    assert_eq!(app.signed_count().await, 6);

    let mut over = payout_batch(&[1], Some(8));
    over.total = Some(Amount::from(1));
    assert_eq!(refusal(c.sign_payout_batch(&over).await).1, "policy.daily_outflow_cap");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_outflows_never_exceed_the_daily_cap_together() {
    let (app, _dir) = TestApp::fresh().await;
    let mut tasks = tokio::task::JoinSet::new();
    for batch in 0..8 {
        let client = app.client.clone();
        // 8 × 1 000 requested against a cap of 4 000.
        tasks.spawn(async move { client.sign_payout_batch(&payout_batch(&[1_000], Some(batch))).await });
    }
    let results = tasks.join_all().await;
    let signed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(signed as u128, DAILY_OUTFLOW_CAP / 1_000);
    for result in results.into_iter().filter(|r| r.is_err()) {
        assert_eq!(refusal(result), (403, "policy.daily_outflow_cap".into()));
    }
    assert_eq!(app.signed_count().await, 4);
    app.stop().await;
}

/// A refund of `payment` (a register or retopup nonce): a treasury transfer (id `transfer`) to `to` of `amount` of
/// `token`, valid until `deadline` (an outflow carries the nonce and deadline its caller stored, so that a retry is
/// the same payload).
pub(crate) fn refund_until(
    deadline: u64,
    to: Address,
    token: Address,
    amount: u128,
    transfer: u64,
    payment: u64,
) -> signer::intent::TreasuryTransferIntent {
    let mut intent = treasury_transfer(to, amount, Some(transfer));
    intent.deadline = Some(deadline);
    intent.token = Addr(token);
    intent.refund_of = Some(Amount(alloy::primitives::U256::from(payment)));
    intent
}

#[tokio::test]
async fn a_refund_must_return_exactly_a_signed_payment_to_its_payer_and_needs_a_node_of_the_chain() {
    // What the chain shows (the payment made, earlier refunds spent or dead) is tested on anvil in `refunds`; here
    // the signer has no node of the chain, so even a refund of exactly a signed payment is refused (default deny).
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    let deadline = now() + 900;
    let refund = |to, token, amount, nonce, payment| refund_until(deadline, to, token, amount, nonce, payment);
    // USER was let pay 20 of the native coin (register nonce 100) and 30 USDT (retopup nonce 101).
    c.sign_register(&register(20, Some(100))).await.unwrap();
    c.sign_retopup(&retopup(30, Some(101))).await.unwrap();

    // Anything but exactly a payment, to its payer: refused.
    let not_a_payment = (403, "policy.refund_not_a_payment".to_owned());
    for wrong in [
        refund(USER, USDT, 29, 902, 101),          // less
        refund(USER, USDT, 31, 902, 101),          // more
        refund(USER, Address::ZERO, 30, 902, 101), // another asset
        refund(SPONSOR, USDT, 30, 902, 101),       // another wallet
        refund(USER, USDT, 30, 902, 555),          // no payload signed with that nonce
    ] {
        assert_eq!(refusal(c.sign_treasury_transfer(&wrong).await), not_a_payment, "{wrong:?}");
    }
    // Exactly the payment, to its payer: still refused without a node to read whether it was made.
    for (token, amount, payment) in [(Address::ZERO, 20, 100), (USDT, 30, 101)] {
        assert_eq!(
            refusal(c.sign_treasury_transfer(&refund(USER, token, amount, 900, payment)).await),
            (403, "policy.refunds_not_allowed".into())
        );
    }
    // A refund on a nonce outside the treasury space, or naming none: refused before anything else.
    let mut on_payment_nonce = refund(USER, USDT, 30, 903, 101);
    on_payment_nonce.nonce = Some(Amount(alloy::primitives::U256::from(7)));
    let mut without_nonce = refund(USER, USDT, 30, 903, 101);
    without_nonce.nonce = None;
    for intent in [on_payment_nonce, without_nonce] {
        assert_eq!(refusal(c.sign_treasury_transfer(&intent).await), (403, "policy.nonce_space".into()));
    }
    assert_eq!(app.signed_count().await, 2, "only the two payments");
    app.stop().await;
}

#[tokio::test]
async fn each_kind_is_signed_only_on_a_nonce_of_its_own_space() {
    use abi::nonces::{batch_nonce, liability_nonce, treasury_nonce};
    use alloy::primitives::U256;
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    let space = (403, "policy.nonce_space".to_owned());
    // A register or retopup on a payout batch's, a treasury transfer's or a liability root's nonce.
    for nonce in [batch_nonce(1, 0), treasury_nonce(1), liability_nonce(1)] {
        let mut i = register(1, None);
        i.nonce = Some(Amount(nonce));
        assert_eq!(refusal(c.sign_register(&i).await), space, "register on {nonce}");
        let mut i = retopup(1, None);
        i.nonce = Some(Amount(nonce));
        assert_eq!(refusal(c.sign_retopup(&i).await), space, "retopup on {nonce}");
    }
    // A payout batch on a treasury transfer's nonce, on the register counter's, or on none (the signer's counter).
    for nonce in [Some(treasury_nonce(1)), Some(U256::from(1)), Some(liability_nonce(1)), None] {
        let mut i = payout_batch(&[1], None);
        i.nonce = nonce.map(Amount);
        assert_eq!(refusal(c.sign_payout_batch(&i).await), space, "batch on {nonce:?}");
    }
    // A treasury transfer on a payout batch's nonce, or on none.
    for nonce in [Some(batch_nonce(1, 0)), Some(U256::from(1)), None] {
        let mut i = treasury_transfer(TREASURY, 1, None);
        i.nonce = nonce.map(Amount);
        assert_eq!(refusal(c.sign_treasury_transfer(&i).await), space, "treasury transfer on {nonce:?}");
    }
    // A liability root on a payout batch's nonce or on the register counter's, even on a chain without a node:
    // the nonce's space is checked first.
    for nonce in [batch_nonce(1, 0), U256::from(1)] {
        let root = signer::intent::LiabilityRootIntent {
            chain_id: CHAIN_ID,
            contract: Addr(CONTRACT),
            token: Addr(USDT),
            epoch: 1,
            as_of_block: 1,
            root: alloy::primitives::B256::repeat_byte(1),
            total: Amount::from(1),
            leaf_count: 1,
            plan_hash: alloy::primitives::B256::repeat_byte(2),
            nonce: Some(Amount(nonce)),
            deadline: None,
            forfeits: Vec::new(),
        };
        assert_eq!(refusal(c.sign_liability_root(&root).await), space, "root on {nonce}");
    }
    assert_eq!(app.signed_count().await, 0, "refused before anything is recorded");
    assert_eq!(metric(&app, "payout_batch", "policy.nonce_space").await, 4);
    // Each on its own space is signed.
    c.sign_register(&register(1, Some(5))).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[1], Some(5))).await.unwrap();
    c.sign_treasury_transfer(&treasury_transfer(TREASURY, 1, Some(5))).await.unwrap();
    assert_eq!(app.signed_count().await, 3);
    app.stop().await;
}
