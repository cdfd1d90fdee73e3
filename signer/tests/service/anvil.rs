//! End to end on a real chain: a service whose key comes from an encrypted keystore signs; the deployed
//! Settlement contract, holding that address as `signer`, accepts the signatures.

use abi::{NATIVE_TOKEN, Settlement, toolchain::foundry_binary};
use alloy::{
    network::EthereumWallet,
    node_bindings::{Anvil, AnvilInstance},
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use secrecy::SecretString;
use signer::{
    config::KeySettings,
    intent::{Addr, Amount, PayoutBatchIntent, PayoutEntry, RegisterIntent},
};

use crate::support::*;

fn provider_for(anvil: &AnvilInstance, wallet: &PrivateKeySigner) -> DynProvider {
    ProviderBuilder::new().wallet(EthereumWallet::from(wallet.clone())).connect_http(anvil.endpoint_url()).erased()
}

#[tokio::test]
async fn keystore_signatures_from_the_service_are_accepted_by_the_contract() -> eyre::Result<()> {
    let dir = tempfile::tempdir()?;
    // A fresh key, encrypted at rest; the service only ever sees the keystore file and its passphrase.
    let passphrase = "correct horse battery staple";
    let (keystore_key, _uuid) =
        PrivateKeySigner::new_keystore(dir.path(), &mut rand::thread_rng(), passphrase, Some("signer-keystore.json"))?;
    let signer_address = keystore_key.address();
    drop(keystore_key);

    let anvil = Anvil::new().path(foundry_binary("anvil")).try_spawn()?;
    let admin: PrivateKeySigner = anvil.keys()[0].clone().into();
    let user: PrivateKeySigner = anvil.keys()[2].clone().into();
    let admin_provider = provider_for(&anvil, &admin);
    let user_provider = provider_for(&anvil, &user);
    // The one deployer every crate's tests use (it also gives the admin the operator role).
    let settlement =
        anvil_tests::devchain::deploy_stack(&admin_provider, admin.address(), signer_address).await?.settlement;
    let contract = Settlement::new(settlement, &admin_provider);
    let chain_id = admin_provider.get_chain_id().await?;

    let mut settings = settings(dir.path().join("signer.sqlite"));
    settings.key = KeySettings::Keystore {
        path: dir.path().join("signer-keystore.json"),
        passphrase: SecretString::from(passphrase),
    };
    settings.policy = policy(chain_id, settlement);
    let signer_settings = settings.clone();
    let app = TestApp::spawn(settings).await;
    assert_eq!(app.client.signer_address().await?, signer_address);

    // The user registers with the service's authorisation: accepted, event and balance as signed.
    let fee = U256::from(PER_PAYLOAD_CAP);
    let signed = app
        .client
        .sign_register(&RegisterIntent {
            chain_id,
            contract: Addr(settlement),
            user: Addr(user.address()),
            sponsor: Addr(admin.address()),
            token: Addr(NATIVE_TOKEN),
            amount: Amount(fee),
            nonce: None,
            deadline: None,
        })
        .await?;
    let registration: RegisterIntent = serde_json::from_value(signed.payload.clone())?;
    let as_user = Settlement::new(settlement, &user_provider);
    let payload = abi::Registration {
        user: registration.user.0,
        sponsor: registration.sponsor.0,
        token: registration.token.0,
        amount: registration.amount.0,
        nonce: signed.nonce.0,
        deadline: U256::from(signed.deadline),
    };
    let receipt =
        as_user.register(payload.clone(), signed.signature.clone()).value(fee).send().await?.get_receipt().await?;
    assert!(receipt.status());
    let event = receipt.decoded_log::<Settlement::Registered>().expect("Registered emitted");
    assert_eq!(
        (event.user, event.sponsor, event.amount, event.nonce),
        (user.address(), admin.address(), fee, signed.nonce.0)
    );
    assert_eq!(admin_provider.get_balance(settlement).await?, fee);
    assert!(contract.isNonceUsed(signed.nonce.0).call().await?);

    // The same authorisation cannot be used twice, and a changed amount is not covered by it.
    assert!(as_user.register(payload.clone(), signed.signature.clone()).value(fee).call().await.is_err());

    // A payout batch signed by the service is executed by the operator and pays every recipient.
    let recipients = [Address::repeat_byte(0xa1), Address::repeat_byte(0xa2)];
    let batch = app
        .client
        .sign_payout_batch(&PayoutBatchIntent {
            chain_id,
            contract: Addr(settlement),
            token: Addr(NATIVE_TOKEN),
            payouts: vec![
                PayoutEntry { recipient: Addr(recipients[0]), amount: Amount::from(600) },
                PayoutEntry { recipient: Addr(recipients[1]), amount: Amount::from(400) },
            ],
            total: None,
            // A payout batch names its nonce, from the payout-batch space.
            nonce: Some(Amount(abi::nonces::batch_nonce(1, 0))),
            deadline: None,
            approvals: Vec::new(),
        })
        .await?;
    let onchain_batch = abi::PayoutBatch {
        token: NATIVE_TOKEN,
        total: U256::from(1_000),
        payouts: vec![
            abi::Payout { recipient: recipients[0], amount: U256::from(600) },
            abi::Payout { recipient: recipients[1], amount: U256::from(400) },
        ],
        nonce: batch.nonce.0,
        deadline: U256::from(batch.deadline),
    };
    let receipt =
        contract.executePayoutBatch(onchain_batch, batch.signature.clone()).send().await?.get_receipt().await?;
    assert!(receipt.status());
    assert_eq!(admin_provider.get_balance(recipients[0]).await?, U256::from(600));
    assert_eq!(admin_provider.get_balance(recipients[1]).await?, U256::from(400));
    assert_eq!(admin_provider.get_balance(settlement).await?, U256::ZERO);
    app.stop().await;

    // The same keystore with a wrong passphrase: the service refuses to start rather than sign with anything.
    let mut wrong = signer_settings;
    wrong.key = KeySettings::Keystore {
        path: dir.path().join("signer-keystore.json"),
        passphrase: SecretString::from("wrong horse battery staple"),
    };
    let refused = signer::startup::run(wrong).await.err().expect("a wrong passphrase must not start the service");
    assert!(refused.to_string().contains("keystore"), "{refused}");
    Ok(())
}
