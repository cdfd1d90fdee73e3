//! POST /v1/users/withdraw and the admin's view of the requests.

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use backend::config::ChainSettings;
use serde_json::json;

use crate::common::{ASSET, BNB, CHAIN, count, genesis, named};
use crate::helpers::{Chain, TestApp, spawn_app, spawn_app_configured};
use crate::register::SETTLEMENT;

/// W under G, then R1 under W: W has 18 BNB pending. Returns W and W's access token.
async fn user_with_pending(app: &TestApp) -> (PrivateKeySigner, String) {
    let w = PrivateKeySigner::random();
    app.register_in_ledger(&[(w.address(), genesis()), (named("R1"), w.address())]).await;
    let token = app.signin(Chain::Evm, &w).await["access_token"].as_str().unwrap().to_owned();
    (w, token)
}

/// Bearer, content type, body, allowed statuses, code ("" = a JSON body error).
type PostCase<'a> = (Option<&'a str>, Option<&'a str>, String, &'a [u16], &'a str);

async fn requests(app: &TestApp) -> Vec<(i32, String, String)> {
    sqlx::query_as("SELECT user_no, amount::text, status FROM withdraw_requests ORDER BY id")
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_withdraw_request_records_the_pending_balance_once_and_admins_see_it() {
    let app = spawn_app().await;
    let (w, token) = user_with_pending(&app).await;
    let a = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let r = &a.body["request"];
    assert_eq!(r["amount"], json!({ "base": (18 * BNB).to_string(), "human": "18 BNB" }));
    assert_eq!((r["status"].as_str(), r["asset_id"].as_i64()), (Some("open"), Some(1)));
    assert_eq!(r["address"], w.address().to_checksum(None));
    assert_eq!(a.body["claimable"]["base"], "0");
    assert_eq!(a.body["claim_transaction"], serde_json::Value::Null);
    assert_eq!(requests(&app).await, vec![(1, (18 * BNB).to_string(), "open".into())]);

    // One open request per user and asset.
    let again = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!((again.status, again.code()), (409, "withdraw_request_open"), "{}", again.body);
    assert_eq!(requests(&app).await.len(), 1);

    let admin = app.signin(Chain::Evm, &app.admin).await;
    let admin_token = admin["access_token"].as_str();
    let list = app.get("/v1/admin/withdrawals?asset_id=1&status=open", admin_token).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["address"], w.address().to_checksum(None));
    assert_eq!(items[0]["amount"], (18 * BNB).to_string());
    assert_eq!(items[0]["pending_now"], (18 * BNB).to_string());
    assert_eq!(items[0]["status"], "open");
    let batched = app.get("/v1/admin/withdrawals?status=batched", admin_token).await;
    assert_eq!(batched.body["items"], json!([]));
    let other = app.get("/v1/admin/withdrawals?asset_id=2", admin_token).await;
    assert_eq!(other.body["items"], json!([]));
    let user_view = app.get("/v1/admin/withdrawals", Some(&token)).await;
    assert_eq!((user_view.status, user_view.code()), (403, "forbidden"));
}

#[tokio::test]
async fn two_requests_at_once_record_one() {
    let app = spawn_app().await;
    let (_, token) = user_with_pending(&app).await;
    let (a, b) = futures::join!(
        app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })),
        app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    assert_eq!(requests(&app).await.len(), 1);
}

#[tokio::test]
async fn refused_withdrawals_record_nothing() {
    let app = spawn_app().await;
    let (w, token) = user_with_pending(&app).await;
    // W gets frozen; a stranger is not registered.
    let stranger =
        app.signin(Chain::Evm, &PrivateKeySigner::random()).await["access_token"].as_str().unwrap().to_owned();
    ledger::admin::freeze(&app.db.pool, ASSET, w.address(), "test", "test").await.unwrap();
    let before = app.db_state().await;
    let cases = [
        (Some(token.as_str()), json!({ "asset_id": 1 }), 422, "user_frozen"),
        (Some(token.as_str()), json!({ "asset_id": 9 }), 422, "unknown_asset"),
        (Some(stranger.as_str()), json!({ "asset_id": 1 }), 422, "not_registered"),
        (None, json!({ "asset_id": 1 }), 401, "missing_token"),
    ];
    for (t, body, status, code) in cases {
        let a = app.post_as("/v1/users/withdraw", t, body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
    }
    assert_eq!(app.db_state().await, before);
    assert!(requests(&app).await.is_empty());
}

#[tokio::test]
async fn nothing_pending_is_422() {
    let app = spawn_app().await;
    let w = PrivateKeySigner::random();
    app.register_in_ledger(&[(w.address(), genesis())]).await;
    let token = app.signin(Chain::Evm, &w).await["access_token"].as_str().unwrap().to_owned();
    let a = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!((a.status, a.code()), (422, "nothing_pending"), "{}", a.body);
    assert!(requests(&app).await.is_empty());
}

#[tokio::test]
async fn claimable_funds_come_with_the_claim_transaction() {
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.chains = vec![ChainSettings::new(CHAIN, SETTLEMENT)];
    })
    .await;
    let (w, token) = user_with_pending(&app).await;
    // As the listener records a deferred push of an executed batch.
    // (Its table: the view `user_balances` is read-only, migration 0025.)
    sqlx::query("UPDATE users SET claimable = $1::numeric WHERE user_no = 1")
        .bind((3 * BNB).to_string())
        .execute(&app.db.pool)
        .await
        .unwrap();
    let a = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["claimable"]["human"], "3 BNB");
    let tx = &a.body["claim_transaction"];
    assert_eq!(tx["to"], SETTLEMENT.to_checksum(None));
    assert_eq!(tx["value"], "0");
    let data = alloy::hex::decode(tx["data"].as_str().unwrap()).unwrap();
    let call = abi::Settlement::claimCall::abi_decode(&data).unwrap();
    assert_eq!((call.token, call.to), (Address::ZERO, w.address()));
}

#[tokio::test]
async fn hostile_withdraw_inputs_get_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let (_, token) = user_with_pending(&app).await;
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();
    let huge = "9".repeat(80);
    let posts: Vec<PostCase<'_>> = vec![
        (Some(&token), Some("application/json"), "{".into(), &[400], "malformed_json"),
        (Some(&token), Some("application/json"), "".into(), &[400], "malformed_json"),
        (Some(&token), Some("application/json"), "[]".into(), &[422], "invalid_body"),
        (Some(&token), Some("application/json"), "{}".into(), &[422], "invalid_body"),
        (Some(&token), Some("application/json"), json!({ "asset_id": "1" }).to_string(), &[422], "invalid_body"),
        (Some(&token), Some("application/json"), json!({ "asset_id": -1 }).to_string(), &[422], "unknown_asset"),
        (Some(&token), Some("application/json"), json!({ "asset_id": 1.5 }).to_string(), &[422], "invalid_body"),
        (Some(&token), Some("application/json"), format!("{{\"asset_id\": {huge}}}"), &[400, 422], ""),
        (
            Some(&token),
            Some("application/json"),
            json!({ "asset_id": 1, "amount": "1" }).to_string(),
            &[422],
            "invalid_body",
        ),
        (
            Some(&token),
            Some("application/json"),
            json!({ "asset_id": "1; DROP TABLE withdraw_requests" }).to_string(),
            &[422],
            "invalid_body",
        ),
        (Some(&token), Some("application/json"), json!({ "asset_id": "<script>" }).to_string(), &[422], "invalid_body"),
        (Some(&token), Some("text/plain"), json!({ "asset_id": 1 }).to_string(), &[415], "unsupported_media_type"),
        (Some("' OR 1=1 --"), Some("application/json"), json!({ "asset_id": 1 }).to_string(), &[401], "invalid_token"),
        (None, Some("application/json"), json!({ "asset_id": 1 }).to_string(), &[401], "missing_token"),
    ];
    let gets: Vec<(&str, String, u16, &str)> = vec![
        (&admin_token, "/v1/admin/withdrawals?status=paid".into(), 400, "invalid_query"),
        (&admin_token, "/v1/admin/withdrawals?status=open%27%3B--".into(), 400, "invalid_query"),
        (&admin_token, "/v1/admin/withdrawals?asset_id=abc".into(), 400, "invalid_query"),
        (&admin_token, format!("/v1/admin/withdrawals?cursor={huge}"), 400, "invalid_query"),
        (&admin_token, "/v1/admin/withdrawals?limit=0".into(), 400, "invalid_limit"),
        (&admin_token, "/v1/admin/withdrawals?evil=1".into(), 400, "invalid_query"),
        (&token, "/v1/admin/withdrawals".into(), 403, "forbidden"),
    ];
    let before = (app.db_state().await, count(&app.db.pool, "withdraw_requests").await);
    for (bearer, ct, body, status, code) in &posts {
        let mut req = app.client.post(format!("{}/v1/users/withdraw", app.base)).body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", *ct);
        }
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let a = app.send(req).await;
        assert!(status.contains(&a.status), "{body}: {} {}", a.status, a.body);
        if code.is_empty() {
            assert!(["malformed_json", "invalid_body"].contains(&a.code()), "{body}: {}", a.body);
        } else {
            assert_eq!(a.code(), *code, "{body}: {}", a.body);
        }
    }
    for (t, path, status, code) in &gets {
        let a = app.get(path, Some(t)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{path}: {}", a.body);
    }
    let a = app.get("/v1/admin/withdrawals", None).await;
    assert_eq!((a.status, a.code()), (401, "missing_token"));
    assert_eq!((app.db_state().await, count(&app.db.pool, "withdraw_requests").await), before);
}

#[tokio::test]
async fn a_batch_answers_open_requests_and_cancelling_it_reopens_them() {
    let signer = crate::payouts::spawn_signer(SETTLEMENT, vec![]).await;
    let app = crate::payouts::spawn_admin_app(&signer, crate::payouts::chain_settings(SETTLEMENT)).await;
    let (_w, token) = user_with_pending(&app).await;
    let a = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();

    let built = app.post_as("/v1/admin/payouts/batches", Some(&admin_token), json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let id = built.body["id"].as_i64().unwrap();
    let state = || async {
        sqlx::query_as::<_, (String, Option<i64>)>("SELECT status, batch_id FROM withdraw_requests ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap()
    };
    assert_eq!(state().await, vec![("batched".to_owned(), Some(id))]);
    let list = app.get("/v1/admin/withdrawals?status=batched", Some(&admin_token)).await;
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(1), "{}", list.body);

    // Never signed, so it can be cancelled at once: the request is open again, and the next batch answers it.
    let path = format!("/v1/admin/payouts/batches/{id}/cancel");
    let cancelled = app.post_as(&path, Some(&admin_token), json!({})).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(state().await, vec![("open".to_owned(), None)]);
    let again = app.post_as("/v1/admin/payouts/batches", Some(&admin_token), json!({ "asset_id": ASSET })).await;
    assert_eq!(again.status, 201, "{}", again.body);
    assert_eq!(state().await, vec![("batched".to_owned(), again.body["id"].as_i64())]);
}

/// W's 18 BNB paid by a batch whose push to W failed (the contract's `PayoutDeferred`), settled through the ledger
/// as the listener applies the contract's events: W has nothing pending and 18 BNB claimable.
async fn user_with_only_claimable(app: &TestApp) -> (PrivateKeySigner, String) {
    let (w, token) = user_with_pending(app).await;
    assert_eq!(app.settle_with_failed_push(CHAIN, ASSET, w.address()).await, alloy::primitives::U256::from(18 * BNB));
    (w, token)
}

#[tokio::test]
async fn a_wallet_with_only_a_claimable_balance_gets_its_claim_transaction() {
    let app = spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.chains = vec![ChainSettings::new(CHAIN, SETTLEMENT)];
    })
    .await;
    let (w, token) = user_with_only_claimable(&app).await;
    // Nothing pending: no withdraw request can be made, which is why the claim has its own route.
    let refused = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!((refused.status, refused.code()), (422, "nothing_pending"), "{}", refused.body);
    let a = app.get(&format!("/v1/users/claim?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["claimable"]["human"], "18 BNB");
    let tx = &a.body["transaction"];
    assert_eq!((tx["to"].as_str(), tx["value"].as_str()), (Some(SETTLEMENT.to_checksum(None).as_str()), Some("0")));
    let call =
        abi::Settlement::claimCall::abi_decode(&alloy::hex::decode(tx["data"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!((call.token, call.to), (Address::ZERO, w.address()));
    assert_eq!(a.body["to"], w.address().to_checksum(None));

    // Claimed to another address the wallet names: the API builds that call too (any case, spaces trimmed).
    let cold = named("cold wallet");
    let elsewhere = app
        .get(
            &format!(
                "/v1/users/claim?asset_id={ASSET}&to=%20{}",
                format!("{cold:#x}").to_uppercase().replace("0X", "0x")
            ),
            Some(&token),
        )
        .await;
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.body);
    assert_eq!(elsewhere.body["to"], cold.to_checksum(None));
    let data = alloy::hex::decode(elsewhere.body["transaction"]["data"].as_str().unwrap()).unwrap();
    let call = abi::Settlement::claimCall::abi_decode(&data).unwrap();
    assert_eq!((call.token, call.to), (Address::ZERO, cold));

    // Refusals: nothing claimable, not registered, unknown asset, no token, bad destinations, unknown parameter.
    let r1 = app.user_token().await;
    let before = app.db_state().await;
    let cases = [
        (format!("/v1/users/claim?asset_id={ASSET}"), Some(r1.as_str()), 422, "not_registered"),
        (format!("/v1/users/claim?asset_id={ASSET}"), None, 401, "missing_token"),
        ("/v1/users/claim?asset_id=9".to_owned(), Some(token.as_str()), 404, "not_found"),
        (format!("/v1/users/claim?asset_id={ASSET}&to=0x1"), Some(token.as_str()), 422, "invalid_address"),
        (
            format!("/v1/users/claim?asset_id={ASSET}&to={}", "a".repeat(5000)),
            Some(token.as_str()),
            422,
            "invalid_address",
        ),
        (
            format!("/v1/users/claim?asset_id={ASSET}&to={:#x}", Address::ZERO),
            Some(token.as_str()),
            422,
            "invalid_address",
        ),
        (format!("/v1/users/claim?asset_id={ASSET}&from=0x1"), Some(token.as_str()), 400, "invalid_query"),
    ];
    for (path, t, status, code) in cases {
        let a = app.get(&path, t).await;
        assert_eq!((a.status, a.code()), (status, code), "{path}: {}", a.body);
    }
    assert_eq!(app.db_state().await, before, "refusals change nothing");

    // W claims on-chain (to another wallet); once the listener applies `Claimed`, nothing is claimable any more.
    let claimed = ledger::events::ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: ledger::events::EventKey {
            chain_id: CHAIN,
            tx_hash: alloy::primitives::B256::repeat_byte(0x78),
            log_index: 0,
        },
        block_number: 101,
        block_timestamp: 1_700_000_101,
        body: ledger::events::EventBody::Claimed {
            account: w.address(),
            token: Address::ZERO,
            to: named("cold wallet"),
            amount: alloy::primitives::U256::from(18 * BNB),
        },
    };
    let mut chain = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    assert_eq!(chain.apply_block(&[claimed]).await.unwrap().applied, 1);
    let a = app.get(&format!("/v1/users/claim?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!((a.status, a.code()), (422, "nothing_claimable"), "{}", a.body);
}

/// A user waiting to be paid sees which batch took the request and the transaction that paid it; each reward in
/// the history names the batch and transaction of its part, and whether the push paid the wallet or left it
/// claimable; the asset's batches' record says when they ran.
#[tokio::test]
async fn requests_and_rewards_name_the_batch_and_the_transaction_that_paid_them() {
    let signer = crate::payouts::spawn_signer(SETTLEMENT, vec![]).await;
    let app = crate::payouts::spawn_admin_app(&signer, crate::payouts::chain_settings(SETTLEMENT)).await;
    let (w, token) = user_with_pending(&app).await;

    // Nothing asked and no batch yet.
    let path = format!("/v1/users/withdrawals?asset_id={ASSET}");
    let none = app.get(&path, Some(&token)).await;
    assert_eq!(none.status, 200, "{}", none.body);
    assert_eq!(none.body["items"], json!([]));
    assert_eq!(
        none.body["payouts"],
        json!({
            "executed_last_30_days": 0, "in_progress": 0, "last_executed": null,
            "expected_next_batch_at": null, "schedule_every_secs": null,
        })
    );

    let asked = app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert_eq!(asked.body["request"]["batch"], json!(null));
    let open = app.get(&path, Some(&token)).await;
    assert_eq!(open.body["items"][0]["status"], "open");
    assert_eq!(open.body["items"][0]["batch"], json!(null));
    assert_eq!(open.body["items"][0]["amount"]["base"], (18 * BNB).to_string());

    // A batch takes it, built and signed through the API and the real signer, sent (recorded as the send path
    // records it) and executed with the push to W failed: its part stays claimable.
    let admin = app.signin(Chain::Evm, &app.admin).await["access_token"].as_str().unwrap().to_owned();
    let built = app.post_as("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let batch_id = built.body["id"].as_i64().unwrap();
    let signed = app.post_as(&format!("/v1/admin/payouts/batches/{batch_id}/sign"), Some(&admin), json!({})).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    let hash = alloy::primitives::B256::repeat_byte(0x5e);
    let (tx, state) = ledger::payouts::lock_for_send(&app.db.pool, batch_id).await.unwrap().unwrap();
    ledger::payouts::record_sent(tx, batch_id, ASSET, &state, hash, "payout_batch.submit", "test").await.unwrap();
    app.execute_with_failed_push(CHAIN, batch_id, w.address()).await;
    // Block 100's time, from the confirmed events of that block (1_700_000_100).
    let batch = json!({ "id": batch_id, "status": "executed", "tx_hash": format!("{hash:#x}"), "executed_block": 100,
        "executed_at": "2023-11-14T22:15:00Z" });

    let seen = app.get(&path, Some(&token)).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(seen.body["items"].as_array().map(Vec::len), Some(1), "{}", seen.body);
    assert_eq!(seen.body["items"][0]["status"], "batched");
    assert_eq!(seen.body["items"][0]["batch"], batch);
    assert_eq!(seen.body["payouts"]["executed_last_30_days"], 1);
    assert_eq!(seen.body["payouts"]["in_progress"], 0);
    assert_eq!(seen.body["payouts"]["last_executed"]["id"], batch_id);
    assert_eq!(seen.body["payouts"]["last_executed"]["tx_hash"], format!("{hash:#x}"));
    assert_eq!(seen.body["payouts"]["last_executed"]["executed_at"], "2023-11-14T22:15:00Z");

    let history = app.get(&format!("/v1/users/history?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(history.status, 200, "{}", history.body);
    let rewards = history.body["items"].as_array().unwrap();
    assert_eq!(rewards.len(), 1, "{}", history.body);
    assert_eq!(rewards[0]["status"], "settled");
    let payments = rewards[0]["payments"].as_array().unwrap();
    assert_eq!(payments.len(), 1, "{}", history.body);
    assert_eq!(payments[0]["amount"]["base"], (18 * BNB).to_string());
    assert_eq!(payments[0]["batch"], batch);
    assert_eq!(payments[0]["outcome"], "claimable");

    // Another wallet sees none of it, and an unknown asset is 404.
    let other = app.signin(Chain::Evm, &PrivateKeySigner::random()).await["access_token"].as_str().unwrap().to_owned();
    let theirs = app.get(&path, Some(&other)).await;
    assert_eq!(theirs.body["items"], json!([]));
    assert_eq!(theirs.body["payouts"]["executed_last_30_days"], 1, "the asset's record is the same for everyone");
    assert_eq!(app.get("/v1/users/withdrawals?asset_id=999", Some(&token)).await.status, 404);
    assert_eq!(app.get(&path, None).await.status, 401);
}

/// A cancelled batch is no longer named: the request is open again and the reward's part is gone from its history.
#[tokio::test]
async fn a_cancelled_batch_leaves_the_request_open_and_the_reward_unpaid() {
    let signer = crate::payouts::spawn_signer(SETTLEMENT, vec![]).await;
    let app = crate::payouts::spawn_admin_app(&signer, crate::payouts::chain_settings(SETTLEMENT)).await;
    let (_w, token) = user_with_pending(&app).await;
    assert_eq!(app.post_as("/v1/users/withdraw", Some(&token), json!({ "asset_id": ASSET })).await.status, 200);
    let admin = app.signin(Chain::Evm, &app.admin).await["access_token"].as_str().unwrap().to_owned();
    let built = app.post_as("/v1/admin/payouts/batches", Some(&admin), json!({ "asset_id": ASSET })).await;
    assert_eq!(built.status, 201, "{}", built.body);
    let id = built.body["id"].as_i64().unwrap();

    let path = format!("/v1/users/withdrawals?asset_id={ASSET}");
    let taken = app.get(&path, Some(&token)).await;
    let building =
        json!({ "id": id, "status": "building", "tx_hash": null, "executed_block": null, "executed_at": null });
    assert_eq!(taken.body["items"][0]["batch"], building);
    assert_eq!(taken.body["payouts"]["in_progress"], 1);
    let history = app.get(&format!("/v1/users/history?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(history.body["items"][0]["payments"][0]["batch"], building);
    assert_eq!(history.body["items"][0]["payments"][0]["outcome"], json!(null));

    let cancel = app.post_as(&format!("/v1/admin/payouts/batches/{id}/cancel"), Some(&admin), json!({})).await;
    assert_eq!(cancel.status, 200, "{}", cancel.body);
    let after = app.get(&path, Some(&token)).await;
    assert_eq!(after.body["items"][0]["status"], "open");
    assert_eq!(after.body["items"][0]["batch"], json!(null));
    assert_eq!(after.body["payouts"]["in_progress"], 0);
    let history = app.get(&format!("/v1/users/history?asset_id={ASSET}"), Some(&token)).await;
    assert_eq!(history.body["items"][0]["payments"], json!([]));
}
