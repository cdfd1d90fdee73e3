//! After an upgrade (contracts/UPGRADES.md): payout batches drain the replaced contract first. Two Settlement
//! contracts deployed by the deployment command's code on one real anvil, the API's chain spec naming the new one live
//! and the old one under `[[chains.previous]]`, the real signer allowing both.

use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{Provider, ProviderBuilder};
use secrecy::SecretString;
use serde_json::json;

use crate::common::{ASSET, BNB, genesis, named};
use crate::helpers::Chain;
use crate::payouts::{PayoutSetup, anvil_settlement, chain_settings, deploy_settlement, spawn_admin_app};
use crate::signer_service::spawn_signer_for;

/// The chain settings of an upgraded chain on `anvil`: `new` live, `old` under `[[chains.previous]]`, sending with
/// `operator_key`.
fn upgraded(
    anvil: &alloy::node_bindings::AnvilInstance,
    new: Address,
    old: Address,
    operator_key: String,
) -> backend::config::ChainSettings {
    let mut chain = chain_settings(new);
    chain.spec.rpc_url = Some(anvil.endpoint());
    chain.spec.previous = vec![service_kit::chain_spec::PreviousContract { settlement: old, start_block: 0 }];
    chain.tuning.operator_key = Some(SecretString::from(operator_key));
    chain.tuning.insecure_operator_key = true;
    chain
}

/// A batch goes to the old contract while its available custody, less the batches already signed for it and not
/// settled, covers the batch; otherwise to the live one. Each is sent to and paid by the contract it was signed for.
#[tokio::test]
async fn batches_drain_the_replaced_contract_first_then_go_to_the_live_one() {
    // The old contract holds 40 BNB; the new one 1,000.
    let (anvil, old, operator_key) = anvil_settlement(40 * BNB).await;
    let new = deploy_settlement(&anvil, 1_000 * BNB).await;
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    let chain = upgraded(&anvil, new, old, operator_key);
    let setup = PayoutSetup::with(spawn_signer_for(&[new, old]).await, chain, 3).await; // G, U1, U2: 18 BNB each
    let PayoutSetup { signer: _signer, app, payable, token } = setup;
    let show = |a: Address| a.to_checksum(None);

    // 36 BNB of 40 available: the old contract.
    let a = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET, "max_entries": 2 })).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let first = a.body["id"].as_i64().unwrap();
    assert_eq!(a.body["contract"], serde_json::Value::Null, "no contract before signing");
    let signed = app.post_admin(&format!("/v1/admin/payouts/batches/{first}/sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.body["contract"].as_str(), Some(show(old).as_str()), "{}", signed.body);
    crate::payouts::check_batch_signature(&signed.body, old);

    // 18 BNB more: the old contract still holds 40, but 36 of it is promised to the first batch, unsent yet.
    let b = app.post_admin("/v1/admin/payouts/batches", &token, json!({ "asset_id": ASSET })).await;
    assert_eq!(b.status, 201, "{}", b.body);
    let second = b.body["id"].as_i64().unwrap();
    let signed = app.post_admin(&format!("/v1/admin/payouts/batches/{second}/sign"), &token, json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.body["contract"].as_str(), Some(show(new).as_str()), "{}", signed.body);
    crate::payouts::check_batch_signature(&signed.body, new);
    // Signing again answers the same contract: it is fixed with the nonce.
    let again = app.post_admin(&format!("/v1/admin/payouts/batches/{second}/sign"), &token, json!({})).await;
    assert_eq!(
        (again.body["contract"].clone(), again.body["nonce"].clone()),
        (signed.body["contract"].clone(), signed.body["nonce"].clone())
    );

    // Each is sent to its own contract and pays there.
    for id in [first, second] {
        let sent = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/submit"), &token, json!({})).await;
        assert_eq!((sent.status, sent.body["outcome"].as_str()), (200, Some("sent")), "{}", sent.body);
    }
    provider.anvil_mine(Some(2), None).await.unwrap();
    for id in [first, second] {
        let done = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/retry"), &token, json!({})).await;
        assert_eq!((done.status, done.body["outcome"].as_str()), (200, Some("executed")), "{}", done.body);
    }
    assert_eq!(provider.get_balance(old).await.unwrap(), U256::from(4 * BNB), "the old contract paid 36");
    assert_eq!(provider.get_balance(new).await.unwrap(), U256::from(982 * BNB), "the new contract paid 18");
    for who in &payable {
        assert_eq!(provider.get_balance(*who).await.unwrap(), U256::from(18 * BNB), "paid once");
    }
}

/// A payout the old contract could not push stays claimable there, for good: the claim the API hands the wallet goes
/// to the contract that holds it, not to the live one, and pays.
#[tokio::test]
async fn a_claim_goes_to_the_replaced_contract_that_holds_it() {
    let (anvil, old, operator_key) = anvil_settlement(40 * BNB).await;
    let new = deploy_settlement(&anvil, 1_000 * BNB).await;
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url()).erased();
    let signer = spawn_signer_for(&[new, old]).await;
    let app = spawn_admin_app(&signer, upgraded(&anvil, new, old, operator_key)).await;
    // W (18 BNB from R1's registration) and G (18 BNB from W's): 36, which the old contract covers.
    let w = alloy::signers::local::PrivateKeySigner::random();
    app.register_in_ledger(&[(w.address(), genesis()), (named("R1"), w.address())]).await;
    let admin = app.admin_token().await;

    // W's wallet refuses the push (code that reverts) while the batch executes on the old contract.
    provider
        .anvil_set_code(w.address(), alloy::primitives::Bytes::from_static(&[0x60, 0x00, 0x60, 0x00, 0xfd]))
        .await
        .unwrap();
    let built = app.post_admin("/v1/admin/payouts/batches", &admin, json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let id = built.body["id"].as_i64().unwrap();
    let signed = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/sign"), &admin, json!({})).await;
    assert_eq!(signed.body["contract"].as_str(), Some(old.to_checksum(None).as_str()), "{}", signed.body);
    let sent = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/submit"), &admin, json!({})).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    provider.anvil_mine(Some(2), None).await.unwrap();
    let done = app.post_admin(&format!("/v1/admin/payouts/batches/{id}/retry"), &admin, json!({})).await;
    assert_eq!(done.body["outcome"].as_str(), Some("executed"), "{}", done.body);
    provider.anvil_set_code(w.address(), alloy::primitives::Bytes::new()).await.unwrap();
    let old_contract = abi::Settlement::new(old, &provider);
    assert_eq!(old_contract.claimable(Address::ZERO, w.address()).call().await.unwrap(), U256::from(18 * BNB));
    assert_eq!(provider.get_balance(old).await.unwrap(), U256::from(22 * BNB), "G paid, W's part kept");
    // As the listener records the contract's PayoutDeferred in the ledger.
    sqlx::query("UPDATE users SET claimable = $1::numeric WHERE address = $2")
        .bind((18 * BNB).to_string())
        .bind(w.address().as_slice())
        .execute(&app.db.pool)
        .await
        .unwrap();

    let token = app.signin(Chain::Evm, &w).await["access_token"].as_str().unwrap().to_owned();
    let a = app.get(&format!("/v1/users/claim?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["contract"].as_str(), Some(old.to_checksum(None).as_str()), "{}", a.body);
    assert_eq!(a.body["transaction"]["to"].as_str(), Some(old.to_checksum(None).as_str()));
    assert_eq!(a.body["claimable"]["human"], "18 BNB");
    assert_eq!(a.body["contracts"].as_array().map(Vec::len), Some(1), "only the old contract holds any: {}", a.body);

    // W sends it from its wallet: the old contract pays.
    provider.anvil_set_balance(w.address(), U256::from(BNB)).await.unwrap();
    let wallet = ProviderBuilder::new()
        .wallet(alloy::network::EthereumWallet::from(w.clone()))
        .connect_http(anvil.endpoint_url());
    let tx = alloy::rpc::types::TransactionRequest::default()
        .to(old)
        .input(alloy::hex::decode(a.body["transaction"]["data"].as_str().unwrap()).unwrap().into());
    let receipt = wallet.send_transaction(tx).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status(), "the claim executed");
    assert_eq!(provider.get_balance(old).await.unwrap(), U256::from(4 * BNB));
    assert_eq!(old_contract.claimable(Address::ZERO, w.address()).call().await.unwrap(), U256::ZERO);
    // Claimed on-chain, not yet confirmed in the ledger: no contract holds anything, nothing is offered.
    let a = app.get(&format!("/v1/users/claim?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!((a.status, a.code()), (422, "nothing_claimable"), "{}", a.body);
}
