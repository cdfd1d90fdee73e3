//! A rotation of the contract's signer without a moment where payouts stop (issue 50, `ops/signer-rotation.md`): the
//! signer holds the current key and the next one (`[key.next]`) through the contract's delay and signs for the
//! contract with whichever its `signer()` names, read on its own node; a payload signed before the change and asked
//! for again after it is signed again by the new key, the record keeping one signature for its nonce.

use std::time::{Duration, Instant};

use alloy::{node_bindings::Anvil, primitives::Address, providers::Provider};
use secrecy::SecretString;
use signer::{
    config::KeySettings,
    policy::{NodeConfig, PolicyConfig},
};

use crate::{onchain::*, support::*};

#[tokio::test]
async fn payouts_go_on_before_during_and_after_a_rotation_of_the_contracts_signer() -> eyre::Result<()> {
    let chain = Chain::start(Anvil::new()).await?;
    let (current, next) = (signer_address(), chain.account(3));
    let dir = tempfile::tempdir()?;
    let mut settings = settings(dir.path().join("signer.sqlite"));
    settings.policy =
        PolicyConfig::native_only(chain.chain_id, chain.settlement, vec![TREASURY], 100 * ETH, 100 * ETH, 1_000 * ETH);
    settings.policy.chains[0].node = Some(NodeConfig { rpc_url: chain.anvil.endpoint(), confirmations: 0 });
    settings.next_key =
        Some(KeySettings::InsecureDevKey(SecretString::from(alloy::hex::encode_prefixed(next.to_bytes()))));
    let app = TestApp::spawn(settings).await;
    let info = app.client.signer_info().await?;
    assert_eq!(
        (info.address.0, info.keys.iter().map(|k| k.0).collect::<Vec<_>>()),
        (current, vec![current, next.address()])
    );

    // Before: money in, a batch out, signed by the current key.
    let user = chain.account(2);
    let signed =
        app.client.sign_register(&native_register(&chain, user.address(), chain.admin.address(), 50 * ETH)).await?;
    assert_eq!((recovered(&signed), signed.signer.0), (current, current));
    chain.pay_register(&user, &signed).await?;
    let recipient = Address::repeat_byte(0xb1);
    pay(&chain, &app, recipient, 1, current).await?;

    // During the delay: the rotation is scheduled, the contract still takes the current key's signatures.
    let receipt = chain.settlement().scheduleSignerRotation(next.address()).send().await?.get_receipt().await?;
    let id = receipt.decoded_log::<abi::Settlement::ChangeScheduled>().expect("ChangeScheduled").data.id;
    pay(&chain, &app, recipient, 2, current).await?;
    // A batch signed now and sent only after the change (a transaction stuck until then).
    let late = native_batch(&chain, recipient, ETH, 3);
    let late_signed = app.client.sign_payout_batch(&late).await?;
    assert_eq!(recovered(&late_signed), current);

    // The delay waited by moving anvil's clock, then applied.
    let delay: u64 = chain.settlement().changeDelay().call().await?.try_into()?;
    let (_, chain_now) = chain.latest().await;
    chain.mine_at(chain_now + delay + 1).await;
    chain.settlement().applyChange(id).send().await?.get_receipt().await?;
    assert_eq!(chain.settlement().signer().call().await?, next.address());

    // After: within a second the signer follows the contract; the preflight's view (`GET /v1/signer`) too.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.client.signer_info().await?.address.0 != next.address() {
        assert!(Instant::now() < deadline, "GET /v1/signer follows the contract's signer");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pay(&chain, &app, recipient, 4, next.address()).await?;

    // The batch signed before the change no longer executes; asked for again, the same payload is signed by the new
    // key (same nonce, same digest), the record keeping that one signature, and it executes.
    assert!(!would_execute(&chain, &late, &late_signed).await, "the old key's signature is refused after the change");
    let records = app.signed_count().await;
    let again = app.client.sign_payout_batch(&serde_json::from_value(late_signed.payload.clone())?).await?;
    assert_eq!((again.nonce, again.digest), (late_signed.nonce, late_signed.digest));
    assert_eq!((recovered(&again), again.signer.0), (next.address(), next.address()));
    chain.pay_out(&late, &again).await?;
    assert_eq!(app.signed_count().await, records, "signed again, not recorded twice");
    let store = signer::store::Store::open(&app.store_path).await?;
    let target = signer::intent::Target { chain_id: chain.chain_id, contract: chain.settlement };
    let record = store.find(target, again.nonce.0).await?.expect("recorded");
    assert_eq!(record.signature.as_bytes().to_vec(), again.signature.to_vec());
    assert_eq!(chain.provider.get_balance(recipient).await?, alloy::primitives::U256::from(4 * ETH));
    app.stop().await;
    Ok(())
}

/// Payout batch `batch` of one coin to `recipient`, signed by `by` and executed.
async fn pay(chain: &Chain, app: &TestApp, recipient: Address, batch: u64, by: Address) -> eyre::Result<()> {
    let intent = native_batch(chain, recipient, ETH, batch);
    let signed = app.client.sign_payout_batch(&intent).await?;
    assert_eq!((recovered(&signed), signed.signer.0), (by, by), "batch {batch}");
    chain.pay_out(&intent, &signed).await
}

/// Whether the signed payout batch `signed` (of `batch`) would execute now (an `eth_call` of it as the operator).
async fn would_execute(
    chain: &Chain,
    batch: &signer::intent::PayoutBatchIntent,
    signed: &signer::api::SignResponse,
) -> bool {
    let payouts: Vec<abi::Payout> =
        batch.payouts.iter().map(|p| abi::Payout { recipient: p.recipient.0, amount: p.amount.0 }).collect();
    let total = payouts.iter().fold(alloy::primitives::U256::ZERO, |sum, p| sum + p.amount);
    let payload = abi::PayoutBatch {
        token: batch.token.0,
        total,
        payouts,
        nonce: signed.nonce.0,
        deadline: alloy::primitives::U256::from(signed.deadline),
    };
    chain.settlement().executePayoutBatch(payload, signed.signature.clone()).call().await.is_ok()
}
