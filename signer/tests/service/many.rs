//! `POST /v1/sign/many`: several intents in one authenticated request, each decided and answered exactly as its
//! own route would; and the client, which sends the calls waiting at the same moment together.

use std::{collections::BTreeSet, sync::Arc};

use alloy::primitives::U256;
use serde_json::{Value, json};
use signer::{
    api::{ErrorEnvelope, MANY_PATH, MAX_MANY, ManyResponse, REGISTER_PATH},
    client::ClientError,
};

use crate::support::*;

fn item(kind: &str, intent: impl serde::Serialize) -> Value {
    json!({ "kind": kind, "intent": intent })
}

async fn metrics(app: &TestApp) -> String {
    app.http.get(format!("{}/metrics", app.base_url)).send().await.unwrap().text().await.unwrap()
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn each_intent_gets_the_answer_its_own_route_gives() {
    let (app, _dir) = TestApp::fresh().await;
    let mut first = register(500, Some(10));
    first.deadline = Some(now() + 900);
    let mut conflicting = first.clone();
    conflicting.amount = signer::intent::Amount::from(501);
    let body = json!({ "requests": [
        item("register", &first),
        item("register", &conflicting),
        item("retopup", retopup(PER_PAYLOAD_CAP + 1, None)),
        item("register", json!({ "chain_id": CHAIN_ID, "surprise": true })),
        item("payout_batch", payout_batch(&[100, 200], Some(1))),
    ]});
    let response = app.post_raw(MANY_PATH, body.to_string().as_bytes()).await;
    assert_eq!(response.status().as_u16(), 200);
    let many: ManyResponse = response.json().await.unwrap();
    let statuses: Vec<u16> = many.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 409, 403, 422, 200]);
    let codes: Vec<Option<&str>> = many.results.iter().map(|r| r.error.as_ref().map(|e| e.code.as_str())).collect();
    assert_eq!(codes, [None, Some("nonce_conflict"), Some("policy.per_payload_cap"), Some("invalid_intent"), None]);
    assert!(many.results.iter().all(|r| r.response.is_some() == (r.status == 200)));

    let signed = many.results[0].response.clone().unwrap();
    assert_eq!((signed.nonce.0, signed.payload["amount"].as_str()), (U256::from(10), Some("500")));
    assert_eq!((signed.digest, recovered(&signed)), (registration_digest(500, &signed), signer_address()));
    let batch = many.results[4].response.clone().unwrap();
    assert_eq!((batch.payload["total"].as_str(), recovered(&batch)), (Some("300"), signer_address()));
    assert_ne!(batch.nonce, signed.nonce);
    // Its own route answers the same payload with the recorded signature: the same decision, recorded once.
    assert_eq!(app.client.sign_register(&first).await.unwrap(), signed);
    assert_eq!(app.signed_count().await, 2, "only the two signed intents are recorded");
    let text = metrics(&app).await;
    assert_eq!(sample(&text, "signer_many_intents_count"), Some(1.0), "{text}");
    assert_eq!(sample(&text, "signer_many_intents_sum"), Some(5.0), "{text}");
    assert_eq!(sample(&text, "signer_requests_total{kind=\"register\",outcome=\"nonce_conflict\"}"), Some(1.0));
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_or_unauthenticated_request_is_refused_whole_and_stores_nothing() {
    let (app, _dir) = TestApp::fresh().await;
    let one = item("register", register(1, None));
    let too_many = json!({ "requests": vec![one.clone(); MAX_MANY + 1] }).to_string();
    for (body, status, code) in [
        ("{\"requests\": [".to_owned(), 400, "malformed_json"),
        (json!({ "requests": [] }).to_string(), 422, "invalid_intent"),
        (too_many, 422, "invalid_intent"),
        (json!({ "requests": [one.clone()], "extra": 1 }).to_string(), 422, "invalid_intent"),
        (json!({ "requests": [item("mint", register(1, None))] }).to_string(), 422, "invalid_intent"),
        (json!([one.clone()]).to_string(), 422, "invalid_intent"),
    ] {
        let response = app.post_raw(MANY_PATH, body.as_bytes()).await;
        assert_eq!(response.status().as_u16(), status, "{body:.80}");
        assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, code, "{body:.80}");
    }
    // No authentication headers: 401 before anything is read.
    let body = json!({ "requests": [one] }).to_string();
    let response = app.http.post(format!("{}{MANY_PATH}", app.base_url)).body(body.clone()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Headers made for another route do not cover this one.
    let mut request = app.http.post(format!("{}{MANY_PATH}", app.base_url)).body(body.clone());
    for (name, value) in app.client.auth_headers("POST", REGISTER_PATH, body.as_bytes(), now()) {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, "auth.failed");
    assert_eq!(app.signed_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_request_is_refused_and_signs_nothing_more() {
    let (app, _dir) = TestApp::fresh().await;
    let body = json!({ "requests": [item("register", register(1, None)), item("register", register(2, None))] });
    let body = body.to_string();
    let headers = app.client.auth_headers("POST", MANY_PATH, body.as_bytes(), now());
    let send = || {
        let mut request = app.http.post(format!("{}{MANY_PATH}", app.base_url)).body(body.clone());
        for (name, value) in headers.clone() {
            request = request.header(name, value);
        }
        request.send()
    };
    assert_eq!(send().await.unwrap().status().as_u16(), 200);
    let replayed = send().await.unwrap();
    assert_eq!(replayed.status().as_u16(), 401);
    assert_eq!(replayed.json::<ErrorEnvelope>().await.unwrap().error.code, "auth.replayed");
    assert_eq!(app.signed_count().await, 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn calls_waiting_together_go_out_together_and_each_gets_its_own_answer() {
    let (app, _dir) = TestApp::fresh().await;
    let client = Arc::new(app.client.clone());
    let mut tasks = tokio::task::JoinSet::new();
    const CALLS: u128 = 48;
    for i in 0..CALLS {
        let client = client.clone();
        // Every sixth asks for more than the per-payload cap: refused alone, the others signed.
        let amount = if i % 6 == 5 { PER_PAYLOAD_CAP + 1 } else { 1 + i };
        tasks.spawn(async move { (amount, client.sign_register(&register(amount, None)).await) });
    }
    let mut nonces = BTreeSet::new();
    let mut refused = 0;
    for (amount, result) in tasks.join_all().await {
        match result {
            Ok(signed) => {
                // Its own answer, not a neighbour's: the payload, digest and signature of this call's amount.
                assert_eq!(signed.payload["amount"].as_str(), Some(amount.to_string().as_str()));
                assert_eq!(
                    (signed.digest, recovered(&signed)),
                    (registration_digest(amount, &signed), signer_address())
                );
                assert!(nonces.insert(signed.nonce.0), "nonce {} handed out twice", signed.nonce);
            }
            Err(ClientError::Refused { status: 403, body }) if amount > PER_PAYLOAD_CAP => {
                assert_eq!(body.code, "policy.per_payload_cap");
                refused += 1;
            }
            Err(other) => panic!("amount {amount}: {other:?}"),
        }
    }
    assert_eq!((nonces.len(), refused), (40, 8));
    assert_eq!(app.signed_count().await, 40);
    let text = metrics(&app).await;
    let together = sample(&text, "signer_many_intents_sum").unwrap_or(0.0);
    let requests = sample(&text, "signer_many_intents_count").unwrap_or(0.0);
    assert!(requests >= 1.0 && together > requests, "calls were sent together: {together} in {requests} requests");
    assert_eq!(sample(&text, "signer_requests_total{kind=\"register\",outcome=\"signed\"}"), Some(40.0));
    app.stop().await;
}

#[tokio::test]
async fn a_client_sending_one_request_per_call_never_uses_many() {
    let (app, _dir) = TestApp::fresh().await;
    let client = Arc::new(app.client.clone().one_request_per_call());
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..8u128 {
        let client = client.clone();
        calls.spawn(async move { client.sign_register(&register(1 + i, None)).await.unwrap() });
    }
    let signed = calls.join_all().await;
    assert_eq!(signed.iter().map(|s| s.nonce.0).collect::<BTreeSet<_>>().len(), 8);
    assert_eq!(sample(&metrics(&app).await, "signer_many_intents_count"), Some(0.0));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_stops_waiting_does_not_cancel_the_calls_sent_with_it() {
    let (app, _dir) = TestApp::fresh().await;
    let client = Arc::new(app.client.clone());
    let mut kept = Vec::new();
    for i in 0..24u128 {
        let client = client.clone();
        let call = tokio::spawn(async move { client.sign_register(&register(1 + i, None)).await });
        // Every third caller gives up at once; its call may or may not have been signed, as after a timeout.
        if i % 3 == 0 {
            call.abort();
        } else {
            kept.push((i, call));
        }
    }
    for (i, call) in kept {
        let signed = call.await.unwrap().unwrap_or_else(|e| panic!("call {i}: {e:?}"));
        assert_eq!(signed.payload["amount"].as_str(), Some((1 + i).to_string().as_str()));
        assert_eq!((signed.digest, recovered(&signed)), (registration_digest(1 + i, &signed), signer_address()));
    }
    let recorded = app.signed_count().await;
    assert!((16..=24).contains(&recorded), "{recorded} records");
    app.stop().await;
}
