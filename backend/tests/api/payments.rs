//! Never charged twice: while a wallet's payload is out (unexpired, not used on chain), asking again — a reload,
//! a second tab, a double click — gives back the same payload (same nonce), so at most one of them can execute;
//! and a payment that was not applied shows to its payer with the amount and the reason.

use alloy::primitives::{Address, U256};
use alloy::signers::local::PrivateKeySigner;
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, genesis};
use crate::helpers::{Chain, TestApp};
use crate::register::{confirm, registered_on_chain, spawn_with_signer};

async fn payloads_stored(app: &TestApp, wallet: Address) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM transactions WHERE wallet = $1")
        .bind(wallet.as_slice())
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn retopped_on_chain(app: &TestApp, block: u64, user: Address, amount: U256, nonce: U256) {
    let mut ledger = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let event = ledger::events::ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: ledger::events::EventKey {
            chain_id: CHAIN,
            tx_hash: alloy::primitives::keccak256(block.to_be_bytes()),
            log_index: 0,
        },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: ledger::events::EventBody::Retopped { user, token: Address::ZERO, amount, nonce },
    };
    ledger.apply_block(&[event]).await.unwrap();
}

fn nonce_of(answer: &Value) -> U256 {
    answer["nonce"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_register_payload_is_given_back_while_it_is_out_and_a_new_one_only_once_it_cannot_execute() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    app.register_in_ledger(&[(sponsor.address(), genesis())]).await;
    let wallet = PrivateKeySigner::random();
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET, "sponsor": sponsor.address().to_string() });

    let first = app.post_as("/v1/users/register", Some(&token), body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["reissued"], false);
    // A reload: the same payload, byte for byte, marked as given before.
    let again = app.post_as("/v1/users/register", Some(&token), body.clone()).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["reissued"], true);
    for field in ["nonce", "signature", "deadline", "digest", "transaction", "transaction_id", "payload"] {
        assert_eq!(again.body[field], first.body[field], "{field}");
    }
    assert_eq!(payloads_stored(&app, wallet.address()).await, 1);

    // Past its deadline (and the grace for a lagging chain clock) it can never execute: a fresh one.
    let deadline = first.body["deadline"].as_u64().unwrap();
    let now = app.clock.now();
    app.clock.advance((deadline - now) as i64 + ledger::payments::DEADLINE_GRACE_SECS);
    let still = app.post_as("/v1/users/register", Some(&token), body.clone()).await;
    assert_eq!(nonce_of(&still.body), nonce_of(&first.body), "within the grace the payload is still out");
    app.clock.advance(1);
    let fresh = app.post_as("/v1/users/register", Some(&token), body.clone()).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
    assert_eq!(fresh.body["reissued"], false);
    assert_ne!(nonce_of(&fresh.body), nonce_of(&first.body));
    assert_eq!(payloads_stored(&app, wallet.address()).await, 2);
}

#[tokio::test]
async fn concurrent_register_requests_of_one_wallet_all_get_one_payload() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    app.register_in_ledger(&[(sponsor.address(), genesis())]).await;
    let wallet = PrivateKeySigner::random();
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET, "sponsor": sponsor.address().to_string() });
    // Eight tabs (or a double click) at once.
    let answers =
        futures::future::join_all((0..8).map(|_| app.post_as("/v1/users/register", Some(&token), body.clone()))).await;
    let nonces: std::collections::BTreeSet<U256> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            nonce_of(&a.body)
        })
        .collect();
    assert_eq!(nonces.len(), 1, "{nonces:?}");
    assert_eq!(answers.iter().filter(|a| a.body["reissued"] == false).count(), 1);
    assert_eq!(payloads_stored(&app, wallet.address()).await, 1);
}

#[tokio::test]
async fn a_retopup_payload_is_given_back_until_a_confirmed_event_uses_it() {
    let (app, _signer) = spawn_with_signer().await;
    let wallet = PrivateKeySigner::random();
    app.register_in_ledger(&[(wallet.address(), genesis())]).await;
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET });
    let first = app.post_as("/v1/users/retopup", Some(&token), body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let again = app.post_as("/v1/users/retopup", Some(&token), body.clone()).await;
    assert_eq!((nonce_of(&again.body), again.body["reissued"].clone()), (nonce_of(&first.body), json!(true)));
    // While out, its status is waiting, with the amount it pays.
    let status = confirm(&app, Some(&token), &first.body["nonce"]).await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!((status.body["kind"].as_str(), status.body["status"].as_str()), (Some("retopup"), Some("waiting")));
    assert_eq!(status.body["amount"], first.body["amount"]);
    // Used on chain and confirmed: the next retopup gets a payload of its own.
    let fee = U256::from(first.body["amount"]["base"].as_str().unwrap().parse::<u128>().unwrap());
    retopped_on_chain(&app, 50, wallet.address(), fee, nonce_of(&first.body)).await;
    let status = confirm(&app, Some(&token), &first.body["nonce"]).await;
    assert_eq!(status.body["status"], "applied", "{}", status.body);
    assert_eq!(status.body["event"]["block"], 50);
    let next = app.post_as("/v1/users/retopup", Some(&token), body).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(next.body["reissued"], false);
    assert_ne!(nonce_of(&next.body), nonce_of(&first.body));
}

#[tokio::test]
async fn a_second_registration_that_was_not_applied_shows_its_payer_the_amount_and_the_reason() {
    let (app, _signer) = spawn_with_signer().await;
    let sponsor = PrivateKeySigner::random();
    app.register_in_ledger(&[(sponsor.address(), genesis())]).await;
    let wallet = PrivateKeySigner::random();
    let token = app.signin(Chain::Evm, &wallet).await["access_token"].as_str().unwrap().to_owned();
    let body = json!({ "asset_id": ASSET, "sponsor": sponsor.address().to_string() });
    let first = app.post_as("/v1/users/register", Some(&token), body.clone()).await;
    // An old payload that expired unseen, then a fresh one; both end up mined (a contract without the
    // duplicate-registration guard takes both): the first applies, the second is refused by the plan.
    app.clock.advance(first.body["deadline"].as_u64().unwrap() as i64 - app.clock.now() as i64 + 10_000);
    let second = app.post_as("/v1/users/register", Some(&token), body).await;
    assert_ne!(nonce_of(&second.body), nonce_of(&first.body));
    let fee = U256::from(20 * BNB);
    registered_on_chain(&app, 60, wallet.address(), sponsor.address(), fee, nonce_of(&first.body)).await;
    registered_on_chain(&app, 61, wallet.address(), sponsor.address(), fee, nonce_of(&second.body)).await;

    let a = confirm(&app, Some(&token), &second.body["nonce"]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Not "applied" because the wallet is registered: THIS payment was refused, and says so.
    assert_eq!(a.body["status"], "quarantined", "{}", a.body);
    assert!(a.body["quarantine_reason"].as_str().unwrap().starts_with("duplicate_user"), "{}", a.body);
    assert_eq!(a.body["amount"], json!({ "base": (20 * BNB).to_string(), "human": "20 BNB" }));
    assert_eq!(a.body["event"]["block"], 61);
    assert_eq!(a.body["user"]["user_no"], 2, "the wallet's standing still shows: {}", a.body);

    // The wallet's payments list both, newest first, each with what became of it.
    let list = app.get(&format!("/v1/users/payments?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let statuses: Vec<(&str, &str)> = list.body["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["nonce"].as_str().unwrap(), p["status"].as_str().unwrap()))
        .collect();
    let (n1, n2) = (first.body["nonce"].as_str().unwrap(), second.body["nonce"].as_str().unwrap());
    assert_eq!(statuses, vec![(n2, "quarantined"), (n1, "applied")]);
    // Another wallet sees none of them.
    let other = app.user_token().await;
    let theirs = app.get(&format!("/v1/users/payments?asset_id={ASSET}"), Some(&other)).await;
    assert_eq!(theirs.body["payments"], json!([]));
}
