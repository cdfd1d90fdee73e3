//! Refunds against a compromised backend, on a real chain the signer reads itself (issue 42, item 5): a refund is
//! signed only for a payment whose nonce is spent on chain at the confirmed block, and at most one refund of a
//! payment can ever execute — a new one only once every earlier one is provably dead: unspent, and past its
//! deadline by the chain's confirmed time (anvil's clock, moved on here; the host's never reaches the deadlines).

use alloy::{
    node_bindings::Anvil,
    providers::{Provider, ext::AnvilApi},
};
use anvil_tests::{devchain::NILE_CHAIN_ID, tron_rpc};

use crate::{onchain::*, support::*};

const CONFIRMATIONS: u64 = 1;
const FEE: u128 = 5 * ETH;

#[tokio::test]
async fn refunds_of_a_registration_never_paid_are_refused_however_often_they_are_asked() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let sponsor = chain.admin.address();
    // Other members' money in custody: three paid registrations of 5 coins.
    for i in 3..6 {
        let member = chain.account(i);
        let signed = app.client.sign_register(&native_register(&chain, member.address(), sponsor, FEE)).await?;
        chain.pay_register(&member, &signed).await?;
    }
    chain.mine(CONFIRMATIONS).await;
    chain.commit_nothing_owed(&app, CONFIRMATIONS, 1).await?;
    let custody = chain.provider.get_balance(chain.settlement).await?;

    // The attacker's registration payload for 5 coins, never paid: its nonce is never spent.
    let attacker = chain.account(2);
    let unpaid = app.client.sign_register(&native_register(&chain, attacker.address(), sponsor, FEE)).await?;
    let signed_before = app.signed_count().await;
    for transfer in 1..=3 {
        let refund = native_refund(&chain, attacker.address(), FEE, transfer, unpaid.nonce.0, None);
        assert_eq!(
            refusal(app.client.sign_treasury_transfer(&refund).await),
            (403, "policy.payment_not_made".into()),
            "refund {transfer}"
        );
        // As the attack did: wait out each refund's deadline before asking for the next (by anvil's clock).
        chain.provider.anvil_increase_time(3_600).await?;
        chain.mine(2).await;
    }
    assert_eq!(app.signed_count().await, signed_before, "nothing recorded");
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, custody, "custody untouched");

    // Paid in a block not yet confirmed: still refused; once confirmed, its refund is signed and executes.
    chain.commit_nothing_owed(&app, CONFIRMATIONS, 2).await?;
    let paid = app.client.sign_register(&native_register(&chain, attacker.address(), sponsor, FEE)).await?;
    chain.pay_register(&attacker, &paid).await?;
    let refund = native_refund(&chain, attacker.address(), FEE, 4, paid.nonce.0, None);
    assert_eq!(refusal(app.client.sign_treasury_transfer(&refund).await), (403, "policy.payment_not_made".into()));
    chain.mine(CONFIRMATIONS).await;
    let signed = app.client.sign_treasury_transfer(&refund).await?;
    chain.transfer(&signed).await?;
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, custody, "exactly the payment went back");
    app.stop().await;
    Ok(())
}

/// Issue 65: `cancelNonces` spent the nonce of a registration payload that was never paid, and the signer, reading
/// `isNonceUsed` alone, signed a "refund" of it (bounded by the floor to the company's money). The contract now tells
/// a cancelled nonce apart (`isNonceCancelled`), and the signer refuses.
#[tokio::test]
async fn a_refund_of_a_payment_whose_nonce_the_admin_cancelled_is_refused() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let sponsor = chain.admin.address();
    for i in 3..5 {
        let member = chain.account(i);
        let signed = app.client.sign_register(&native_register(&chain, member.address(), sponsor, FEE)).await?;
        chain.pay_register(&member, &signed).await?;
    }
    let attacker = chain.account(2);
    let unpaid = app.client.sign_register(&native_register(&chain, attacker.address(), sponsor, FEE)).await?;
    let nonce = unpaid.nonce.0;
    let word = nonce >> 8;
    let bit = alloy::primitives::U256::from(1) << (nonce & alloy::primitives::U256::from(0xff)).to::<usize>();
    let cancelled = chain.settlement().cancelNonces(word, bit).send().await?.get_receipt().await?;
    assert!(cancelled.status(), "cancelNonces executed");
    assert!(chain.settlement().isNonceUsed(nonce).call().await?, "spent");
    assert!(chain.settlement().isNonceCancelled(nonce).call().await?, "by cancelNonces");
    chain.mine(CONFIRMATIONS).await;
    chain.commit_nothing_owed(&app, CONFIRMATIONS, 1).await?;
    let custody = chain.provider.get_balance(chain.settlement).await?;
    let refund = native_refund(&chain, attacker.address(), FEE, 1, nonce, None);
    assert_eq!(refusal(app.client.sign_treasury_transfer(&refund).await), (403, "policy.payment_not_made".into()));
    assert_eq!(chain.provider.get_balance(chain.settlement).await?, custody, "custody untouched");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn once_a_refund_executed_no_other_refund_of_that_payment_is_signed_even_after_its_deadline() -> eyre::Result<()>
{
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let payer = chain.account(2);
    let paid = app.client.sign_register(&native_register(&chain, payer.address(), chain.admin.address(), FEE)).await?;
    chain.pay_register(&payer, &paid).await?;
    chain.mine(CONFIRMATIONS).await;
    chain.commit_nothing_owed(&app, CONFIRMATIONS, 1).await?;

    let first = native_refund(&chain, payer.address(), FEE, 1, paid.nonce.0, None);
    let first = app.client.sign_treasury_transfer(&first).await?;
    chain.transfer(&first).await?;
    // Executed in the latest block, not yet confirmed: it counts already.
    let second = native_refund(&chain, payer.address(), FEE, 2, paid.nonce.0, None);
    assert_eq!(refusal(app.client.sign_treasury_transfer(&second).await), (403, "policy.refund_executed".into()));
    // Past the first refund's deadline by the chain's confirmed time: still refused (on the signer's old rule, an
    // expired refund could be replaced: the payment was refunded twice).
    let (_, now) = chain.latest().await;
    chain.mine_at(first.deadline.max(now) + 10).await;
    chain.mine(CONFIRMATIONS + 1).await;
    assert_eq!(refusal(app.client.sign_treasury_transfer(&second).await), (403, "policy.refund_executed".into()));
    assert_eq!(app.signed_count().await, 3, "the payment, the commitment and the one refund");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_new_refund_is_signed_only_once_the_earlier_one_is_provably_dead_by_the_chains_time() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let payer = chain.account(2);
    let paid = app.client.sign_register(&native_register(&chain, payer.address(), chain.admin.address(), FEE)).await?;
    chain.pay_register(&payer, &paid).await?;
    chain.mine(CONFIRMATIONS).await;
    chain.commit_nothing_owed(&app, CONFIRMATIONS, 1).await?;

    // A first refund, signed and never executed.
    let first = native_refund(&chain, payer.address(), FEE, 1, paid.nonce.0, None);
    let first = app.client.sign_treasury_transfer(&first).await?;
    let deadline = first.deadline;
    // The caller stores each outflow's deadline before asking: on the chain's clock.
    let second_until = |deadline| native_refund(&chain, payer.address(), FEE, 2, paid.nonce.0, Some(deadline));
    assert_eq!(
        refusal(app.client.sign_treasury_transfer(&second_until(deadline + 600)).await),
        (403, "policy.refund_exists".into())
    );
    // The latest block past the deadline, the confirmed one at it: the first may still execute in a block at its
    // deadline — refused.
    chain.mine_at(deadline).await;
    chain.mine_at(deadline + 1).await;
    assert!(!chain.transfer_would_execute(&first).await, "expired on chain");
    assert_eq!(
        refusal(app.client.sign_treasury_transfer(&second_until(deadline + 600)).await),
        (403, "policy.refund_exists".into())
    );
    // The confirmed block past the deadline too: provably dead (unspent, and no later block can take it). The
    // host's clock is still ten minutes before that deadline.
    chain.mine(CONFIRMATIONS).await;
    assert!(now() < deadline, "the host's clock never passes the deadline in this test");
    let second = app.client.sign_treasury_transfer(&second_until(deadline + 600)).await?;
    assert_eq!(recovered(&second), signer_address());
    chain.transfer(&second).await?;
    assert!(chain.settlement().isNonceUsed(second.nonce.0).call().await?);
    // Executed: no third, ever.
    let third = native_refund(&chain, payer.address(), FEE, 3, paid.nonce.0, Some(deadline + 900));
    assert_eq!(refusal(app.client.sign_treasury_transfer(&third).await), (403, "policy.refund_executed".into()));
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn a_refund_is_503_while_the_signers_node_does_not_answer_and_nothing_is_signed() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (app, _dir) = chain.signer(CONFIRMATIONS).await;
    let payer = chain.account(2);
    let paid = app.client.sign_register(&native_register(&chain, payer.address(), chain.admin.address(), FEE)).await?;
    chain.pay_register(&payer, &paid).await?;
    let deadline = chain.latest().await.1 + 600;
    let refund = native_refund(&chain, payer.address(), FEE, 1, paid.nonce.0, Some(deadline));
    let store_path = app.store_path.clone();
    app.stop().await;
    drop(chain);

    // The same store, its node gone.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", closed.local_addr()?);
    drop(closed);
    let mut settings = settings(store_path);
    settings.policy = signer::policy::PolicyConfig::native_only(
        CHAIN_ID,
        paid.contract.0,
        vec![TREASURY],
        100 * ETH,
        100 * ETH,
        1_000 * ETH,
    );
    settings.policy.chains[0].node = Some(signer::policy::NodeConfig { rpc_url: url, confirmations: CONFIRMATIONS });
    let app = TestApp::spawn(settings).await;
    assert_eq!(refusal(app.client.sign_treasury_transfer(&refund).await), (503, "head_unavailable".into()));
    assert_eq!(app.signed_count().await, 1, "only the payment");
    app.stop().await;
    Ok(())
}

#[tokio::test]
async fn on_tron_the_signer_reads_the_solidified_state_at_latest_and_refunds_once() -> eyre::Result<()> {
    // A TRON chain: java-tron's JSON-RPC serves no historical state (a block number is refused), and its Solidity
    // port's `latest` is the solidified block: the signer's node is that port, with no confirmations of its own.
    let chain = Chain::start(Anvil::new().chain_id(NILE_CHAIN_ID).args(["--base-fee", "0"])).await?;
    let tron = tron_rpc::TronRpc::start(&chain.anvil.endpoint(), Default::default()).await?;
    let solidify = || chain.mine(tron_rpc::SOLIDIFY_DEPTH + 1);
    solidify().await; // the deployment
    let (app, _dir) = chain.signer_reading(tron.solidity_url.clone(), 0).await;
    let payer = chain.account(2);
    let paid = app.client.sign_register(&native_register(&chain, payer.address(), chain.admin.address(), FEE)).await?;
    chain.pay_register(&payer, &paid).await?;
    // Paid, not yet solidified: not made as far as the signer can tell.
    let refund = |transfer| native_refund(&chain, payer.address(), FEE, transfer, paid.nonce.0, None);
    assert_eq!(refusal(app.client.sign_treasury_transfer(&refund(1)).await), (403, "policy.payment_not_made".into()));
    solidify().await;
    chain.commit_nothing_owed(&app, tron_rpc::SOLIDIFY_DEPTH, 1).await?;
    let first = app.client.sign_treasury_transfer(&refund(1)).await?;
    chain.transfer(&first).await?;
    solidify().await;
    assert_eq!(refusal(app.client.sign_treasury_transfer(&refund(2)).await), (403, "policy.refund_executed".into()));
    assert_eq!(tron.counters.refused.load(std::sync::atomic::Ordering::Relaxed), 0, "no read java-tron refuses");
    app.stop().await;
    Ok(())
}
