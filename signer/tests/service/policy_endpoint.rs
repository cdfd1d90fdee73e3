//! `GET /v1/policy`: what a payout builder must know to build only batches this signer signs — from the one policy
//! the sign routes apply, with the rolling window as the store has it; authenticated like the sign routes.

use alloy::primitives::{Address, U256};
use secrecy::SecretString;
use signer::api::ErrorEnvelope;
use signer::client::{ClientError, SignerClient};
use signer::intent::{Addr, Amount};

use crate::support::*;

fn code<T: std::fmt::Debug>(result: Result<T, ClientError>) -> (u16, String) {
    match result {
        Err(ClientError::Refused { status, body }) => (status, body.code),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn the_policy_shows_the_caps_and_the_rolling_window_as_signing_fills_it() {
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    let policy = c.policy(CHAIN_ID, CONTRACT, USDT).await.unwrap();
    assert_eq!(policy.per_payload_cap, Amount::from(PER_PAYLOAD_CAP));
    assert_eq!(policy.per_entry_cap, Amount::from(PER_PAYLOAD_CAP), "no separate entry cap: the payload cap");
    assert_eq!(policy.per_batch_cap, Amount::from(PER_BATCH_CAP));
    assert_eq!(policy.max_batch_entries, MAX_BATCH_ENTRIES as u64);
    assert_eq!(policy.daily_outflow_cap, Amount::from(DAILY_OUTFLOW_CAP));
    assert_eq!((policy.daily_window_secs, policy.daily_outflow_used), (86_400, Amount::from(0)));
    assert!(policy.releases.is_empty());
    assert_eq!(policy.refused_payout_recipients, [Addr(CONTRACT)]);
    assert_eq!(policy.treasury_recipients, [Addr(TREASURY)]);

    // Outflows fill the window (inflows do not); each leaves it a day after it was signed.
    c.sign_register(&register(500, None)).await.unwrap();
    c.sign_payout_batch(&payout_batch(&[100, 200], Some(1))).await.unwrap();
    c.sign_treasury_transfer(&treasury_transfer(TREASURY, 50, Some(1))).await.unwrap();
    let policy = c.policy(CHAIN_ID, CONTRACT, USDT).await.unwrap();
    assert_eq!(policy.daily_outflow_used, Amount::from(350));
    let released: U256 = policy.releases.iter().map(|r| r.amount.0).sum();
    assert_eq!(released, U256::from(350));
    let first = policy.releases.first().expect("a release");
    assert!((policy.as_of + 86_400 - 5..=policy.as_of + 86_400).contains(&first.at), "{first:?} at {}", policy.as_of);
    // The native coin's window is its own.
    assert_eq!(c.policy(CHAIN_ID, CONTRACT, Address::ZERO).await.unwrap().daily_outflow_used, Amount::from(0));
}

#[tokio::test]
async fn unlisted_assets_bad_queries_and_unknown_callers_are_refused() {
    let (app, _dir) = TestApp::fresh().await;
    let c = &app.client;
    assert_eq!(
        code(c.policy(CHAIN_ID, CONTRACT, Address::repeat_byte(0x99)).await),
        (403, "policy.token_not_allowed".into())
    );
    assert_eq!(code(c.policy(56, CONTRACT, USDT).await), (403, "policy.chain_not_allowed".into()));
    assert_eq!(
        code(c.policy(CHAIN_ID, Address::repeat_byte(0xcd), USDT).await),
        (403, "policy.contract_not_allowed".into())
    );
    let stranger = SignerClient::new(&app.base_url, "stranger", SecretString::from("not-a-caller-secret"));
    assert_eq!(code(stranger.policy(CHAIN_ID, CONTRACT, USDT).await), (401, "auth.failed".into()));
    let wrong = SignerClient::new(&app.base_url, CALLER, SecretString::from("a-wrong-secret-for-the-caller"));
    assert_eq!(code(wrong.policy(CHAIN_ID, CONTRACT, USDT).await), (401, "auth.failed".into()));

    // A query the MAC covers but that is not a policy query: 422, after authentication.
    for query in [
        "chain_id=1",
        "chain_id=x&contract=0x1&token=0x2",
        "chain_id=1&contract=0x5FbDB2315678afecb367f032d93F642f64180aa3&token=0x0000000000000000000000000000000000000000&more=1",
    ] {
        let path = format!("/v1/policy?{query}");
        let mut request = app.http.get(format!("{}{path}", app.base_url));
        for (name, value) in c.auth_headers("GET", &path, b"", now()) {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 422, "{query}");
        assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, "invalid_intent");
    }
    // Without authentication headers at all: 401, whatever the query.
    let response = app.http.get(format!("{}/v1/policy?chain_id=1", app.base_url)).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
