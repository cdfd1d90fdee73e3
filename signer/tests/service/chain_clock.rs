//! Deadlines on the chain's clock (issue 43, item 1): where the signer has a node of the chain, "now" for a
//! payload's deadline is the chain's time, read from that node — on an anvil days ahead of the host's clock and on
//! one days behind, every kind is signed with a deadline the contract accepts, and a deadline from the host's clock
//! is refused when the chain's time says it is already past (or beyond the horizon).

use alloy::{node_bindings::Anvil, providers::Provider};
use signer::intent::Amount;

use crate::{onchain::*, support::*};

const DAY: u64 = 24 * 60 * 60;
const CONFIRMATIONS: u64 = 1;
/// `PolicyConfig::native_only`'s default TTL.
const TTL: u64 = 600;

/// Registration, payout batch, liability commitment and treasury transfer, each signed with the signer's default
/// deadline and executed by the contract on `chain`.
async fn every_kind_executes(chain: &Chain, app: &TestApp) -> eyre::Result<()> {
    let user = chain.account(2);
    let (_, chain_now) = chain.latest().await;
    let register = native_register(chain, user.address(), chain.admin.address(), 10 * ETH);
    let signed = app.client.sign_register(&register).await?;
    assert!(
        (chain_now + TTL..=chain_now + TTL + 30).contains(&signed.deadline),
        "deadline {} on the chain's clock ({chain_now})",
        signed.deadline
    );
    chain.pay_register(&user, &signed).await?;

    let recipient = alloy::primitives::Address::repeat_byte(0xa1);
    let batch = native_batch(chain, recipient, ETH, 1);
    let signed = app.client.sign_payout_batch(&batch).await?;
    chain.pay_out(&batch, &signed).await?;
    assert_eq!(chain.provider.get_balance(recipient).await?, alloy::primitives::U256::from(ETH));

    chain.mine(CONFIRMATIONS).await;
    chain.commit_nothing_owed(app, CONFIRMATIONS, 1).await?;

    let mut transfer = treasury_transfer(TREASURY, 2 * ETH, Some(1));
    (transfer.contract, transfer.token) =
        (signer::intent::Addr(chain.settlement), signer::intent::Addr(abi::NATIVE_TOKEN));
    let signed = app.client.sign_treasury_transfer(&transfer).await?;
    chain.transfer(&signed).await?;
    assert_eq!(chain.provider.get_balance(TREASURY).await?, alloy::primitives::U256::from(2 * ETH));
    Ok(())
}

#[tokio::test]
async fn on_a_chain_days_ahead_of_the_host_every_kind_is_signed_on_the_chains_clock_and_executes() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    // A week on, as the generation demo moves anvil's clock (here three days).
    chain.mine_at(now() + 3 * DAY).await;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    every_kind_executes(&chain, &app).await?;

    // A deadline computed from the host's clock is days past on this chain: refused, nothing recorded.
    let signed = app.signed_count().await;
    let mut late = native_register(&chain, chain.account(3).address(), chain.admin.address(), ETH);
    late.deadline = Some(now() + TTL);
    assert_eq!(refusal(app.client.sign_register(&late).await), (403, "policy.deadline_passed".into()));
    let mut late = native_batch(&chain, chain.account(4).address(), ETH, 2);
    late.deadline = Some(now() + TTL);
    assert_eq!(refusal(app.client.sign_payout_batch(&late).await), (403, "policy.deadline_passed".into()));
    assert_eq!(app.signed_count().await, signed);

    // One from the chain's clock is signed and kept.
    let (_, chain_now) = chain.latest().await;
    let mut on_time = native_register(&chain, chain.account(3).address(), chain.admin.address(), ETH);
    on_time.deadline = Some(chain_now + TTL);
    let answer = app.client.sign_register(&on_time).await?;
    assert_eq!(answer.deadline, chain_now + TTL);
    chain.pay_register(&chain.account(3), &answer).await?;
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn on_a_chain_days_behind_the_host_every_kind_is_signed_on_the_chains_clock_and_executes() -> eyre::Result<()> {
    let behind = now() - 3 * DAY;
    let chain = Chain::start(Anvil::new().args(["--timestamp", &behind.to_string()])).await?;
    let (_, chain_now) = chain.latest().await;
    assert!(chain_now < now() - 2 * DAY, "anvil's clock goes on from its genesis, days behind");
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    every_kind_executes(&chain, &app).await?;

    // A deadline from the host's clock is days beyond the horizon on this chain: refused.
    let mut far = native_register(&chain, chain.account(3).address(), chain.admin.address(), ETH);
    far.deadline = Some(now() + TTL);
    assert_eq!(refusal(app.client.sign_register(&far).await), (403, "policy.deadline_horizon".into()));
    // A retopup without one gets the chain's: days before the host's time, and the contract takes it.
    let user = chain.account(2);
    let retopup = signer::intent::RetopupIntent {
        chain_id: CHAIN_ID,
        contract: signer::intent::Addr(chain.settlement),
        user: signer::intent::Addr(user.address()),
        token: signer::intent::Addr(abi::NATIVE_TOKEN),
        amount: Amount::from(ETH),
        nonce: None,
        deadline: None,
    };
    let signed = app.client.sign_retopup(&retopup).await?;
    assert!(signed.deadline < now(), "{} is on the chain's clock, before the host's", signed.deadline);
    let payload = abi::Retopup {
        user: user.address(),
        token: abi::NATIVE_TOKEN,
        amount: alloy::primitives::U256::from(ETH),
        nonce: signed.nonce.0,
        deadline: alloy::primitives::U256::from(signed.deadline),
    };
    let settlement = chain.settlement_as(&user);
    let receipt = settlement
        .retopup(payload, signed.signature.clone())
        .value(alloy::primitives::U256::from(ETH))
        .send()
        .await?
        .get_receipt()
        .await?;
    assert!(receipt.status());
    app.stop().await;
    Ok(())
}
