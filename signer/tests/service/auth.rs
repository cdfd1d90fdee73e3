//! Unauthenticated requests get 401 and nothing is signed or stored.

use secrecy::SecretString;
use signer::{
    api::{ErrorEnvelope, REGISTER_PATH},
    auth::{CALLER_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, request_mac},
};

use crate::support::*;

async fn post(app: &TestApp, headers: &[(&str, String)], body: &[u8]) -> (u16, String) {
    let mut request = app.http.post(format!("{}{REGISTER_PATH}", app.base_url)).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let body: ErrorEnvelope = response.json().await.unwrap();
    (status, body.error.code)
}

fn headers(caller: &str, secret: &str, timestamp: u64, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        (CALLER_HEADER, caller.to_owned()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (REQUEST_ID_HEADER, "req-1".to_owned()),
        (SIGNATURE_HEADER, request_mac(&SecretString::from(secret), timestamp, "req-1", "POST", REGISTER_PATH, body)),
    ]
}

#[tokio::test]
async fn missing_wrong_stale_unknown_and_replayed_credentials_are_refused_and_nothing_is_signed() {
    let (app, _dir) = TestApp::fresh().await;
    let body = serde_json::to_vec(&register(1, Some(1))).unwrap();

    assert_eq!(post(&app, &[], &body).await, (401, "auth.missing_headers".into()));
    let mut partial = headers(CALLER, CALLER_SECRET, now(), &body);
    partial.remove(3);
    assert_eq!(post(&app, &partial, &body).await, (401, "auth.missing_headers".into()));

    assert_eq!(
        post(&app, &headers(CALLER, "not-the-secret", now(), &body), &body).await,
        (401, "auth.bad_signature".into())
    );
    // An unknown caller id gets the bad-signature answer: which ids exist is never confirmed.
    assert_eq!(
        post(&app, &headers("mallory", CALLER_SECRET, now(), &body), &body).await,
        (401, "auth.bad_signature".into())
    );
    assert_eq!(
        post(&app, &headers(CALLER, CALLER_SECRET, now() - 45, &body), &body).await,
        (401, "auth.stale_timestamp".into())
    );
    assert_eq!(
        post(&app, &headers(CALLER, CALLER_SECRET, now() + 45, &body), &body).await,
        (401, "auth.stale_timestamp".into())
    );

    // A MAC over another body does not authenticate this one (the body is bound).
    let other = serde_json::to_vec(&register(2, Some(1))).unwrap();
    assert_eq!(
        post(&app, &headers(CALLER, CALLER_SECRET, now(), &other), &body).await,
        (401, "auth.bad_signature".into())
    );
    assert_eq!(app.signed_count().await, 0, "no refused request may reach the store");

    // The genuine request succeeds once; the identical replay is refused even though it would be idempotent.
    let genuine = headers(CALLER, CALLER_SECRET, now(), &body);
    let mut request = app.http.post(format!("{}{REGISTER_PATH}", app.base_url)).body(body.clone());
    for (name, value) in &genuine {
        request = request.header(*name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    assert_eq!(post(&app, &genuine, &body).await, (401, "auth.replayed".into()));
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_obtained_a_signature_cannot_be_replayed_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("signer.sqlite");
    let app = TestApp::spawn(settings(path.clone())).await;
    // No nonce: a replay, if accepted, would allocate a second nonce and yield a second valid authorisation.
    let body = serde_json::to_vec(&register(1, None)).unwrap();
    let captured = headers(CALLER, CALLER_SECRET, now(), &body);
    let mut request = app.http.post(format!("{}{REGISTER_PATH}", app.base_url)).body(body.clone());
    for (name, value) in &captured {
        request = request.header(*name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
    app.stop().await;

    let app = TestApp::spawn(settings(path)).await;
    assert_eq!(post(&app, &captured, &body).await, (401, "auth.replayed".into()));
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_caller_and_a_wrong_secret_get_the_very_same_answer() {
    let (app, _dir) = TestApp::fresh().await;
    let body = serde_json::to_vec(&register(1, Some(1))).unwrap();
    let answer = |headers: Vec<(&'static str, String)>| {
        let mut request = app.http.post(format!("{}{REGISTER_PATH}", app.base_url)).body(body.clone());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    let unknown = answer(headers("no-such-caller", CALLER_SECRET, now(), &body)).await;
    let wrong = answer(headers(CALLER, "not-the-secret", now(), &body)).await;
    assert_eq!(unknown.0, 401);
    assert_eq!(unknown, wrong, "status and body must not tell an unknown caller id from a wrong secret");
}
