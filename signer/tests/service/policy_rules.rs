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
        refusal(c.sign_treasury_transfer(&treasury_transfer(Address::repeat_byte(0x66), 1, None)).await),
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
        refusal(c.sign_treasury_transfer(&treasury_transfer(TREASURY, PER_PAYLOAD_CAP + 1, None)).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1, PER_PAYLOAD_CAP + 1], None)).await),
        (403, "policy.per_payload_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1_000, 1_000, 501], None)).await),
        (403, "policy.per_batch_cap".into())
    );
    assert_eq!(
        refusal(c.sign_payout_batch(&payout_batch(&[1; MAX_BATCH_ENTRIES + 1], None)).await),
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
    c.sign_payout_batch(&payout_batch(&[1_000, 1_000, 500], None)).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[1; MAX_BATCH_ENTRIES], None)).await.unwrap();
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
    for _ in 0..8 {
        let client = app.client.clone();
        // 8 × 1 000 requested against a cap of 4 000.
        tasks.spawn(async move { client.sign_payout_batch(&payout_batch(&[1_000], None)).await });
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

/// A refund of `payment` (a register or retopup nonce): a treasury transfer to `to` of `amount` of `token`, valid
/// until `deadline` (an outflow carries the nonce and deadline its caller stored, so that a retry is the same payload).
fn refund_until(
    deadline: u64,
    to: Address,
    token: Address,
    amount: u128,
    nonce: u64,
    payment: u64,
) -> signer::intent::TreasuryTransferIntent {
    let mut intent = treasury_transfer(to, amount, Some(nonce));
    intent.deadline = Some(deadline);
    intent.token = Addr(token);
    intent.refund_of = Some(Amount(alloy::primitives::U256::from(payment)));
    intent
}

#[tokio::test]
async fn a_refund_returns_exactly_a_signed_payment_to_its_payer_one_valid_refund_at_a_time() {
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    let deadline = now() + 900;
    let refund = |to, token, amount, nonce, payment| refund_until(deadline, to, token, amount, nonce, payment);
    // USER was let pay 20 of the native coin (register nonce 100) and 30 USDT (retopup nonce 101).
    c.sign_register(&register(20, Some(100))).await.unwrap();
    c.sign_retopup(&retopup(30, Some(101))).await.unwrap();

    // USER is no treasury recipient, yet the refund of its payment is signed, to it, and counted as an outflow.
    let signed = c.sign_treasury_transfer(&refund(USER, Address::ZERO, 20, 900, 100)).await.unwrap();
    assert_eq!(recovered(&signed), DEV_ADDRESS);
    // Asked again with the same nonce: the same signature, not a second refund.
    let again = c.sign_treasury_transfer(&refund(USER, Address::ZERO, 20, 900, 100)).await.unwrap();
    assert_eq!(again.signature, signed.signature);
    // A second refund of that payment while the first may still execute: refused.
    assert_eq!(
        refusal(c.sign_treasury_transfer(&refund(USER, Address::ZERO, 20, 901, 100)).await),
        (403, "policy.refund_exists".into())
    );
    // Anything but exactly the payment, to its payer: refused.
    let not_a_payment = (403, "policy.refund_not_a_payment".to_owned());
    for wrong in [
        refund(USER, USDT, 29, 902, 101),          // less
        refund(USER, USDT, 31, 902, 101),          // more
        refund(USER, Address::ZERO, 30, 902, 101), // another asset
        refund(SPONSOR, USDT, 30, 902, 101),       // another wallet
        refund(USER, USDT, 30, 902, 555),          // no payload signed with that nonce
        refund(USER, Address::ZERO, 20, 902, 900), // the nonce of a treasury transfer, not a payment
    ] {
        assert_eq!(refusal(c.sign_treasury_transfer(&wrong).await), not_a_payment, "{wrong:?}");
    }
    // A refund that can no longer execute (its deadline passed) may be replaced.
    let short = refund_until(now() + 1, USER, USDT, 30, 902, 101);
    c.sign_treasury_transfer(&short).await.unwrap();
    assert_eq!(
        refusal(c.sign_treasury_transfer(&refund(USER, USDT, 30, 903, 101)).await),
        (403, "policy.refund_exists".into())
    );
    // Waits (with a deadline) until the signer's clock, the same as this one, is past the short refund's deadline.
    let passed = short.deadline.unwrap();
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while now() <= passed {
        assert!(std::time::Instant::now() < give_up, "the clock did not pass {passed}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.sign_treasury_transfer(&refund(USER, USDT, 30, 903, 101)).await.unwrap();
    // Stored: two payments and three refunds; nothing refused.
    assert_eq!(app.signed_count().await, 5);
    app.stop().await;
}
