//! Malformed intents (bad JSON, wrong types, out-of-range numbers, bad addresses, injection strings) get 4xx
//! with a stable code, and nothing is signed.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use signer::api::{ErrorEnvelope, MANY_PATH, MAX_BODY_BYTES, PAYOUT_BATCH_PATH, REGISTER_PATH};

use crate::support::*;

fn valid_register() -> Value {
    serde_json::to_value(register(1, None)).unwrap()
}

fn with(field: &str, value: Value) -> Vec<u8> {
    let mut v = valid_register();
    v[field] = value;
    serde_json::to_vec(&v).unwrap()
}

fn without(field: &str) -> Vec<u8> {
    let mut v = valid_register();
    v.as_object_mut().unwrap().remove(field);
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test]
async fn malformed_register_intents_are_refused_with_4xx_and_nothing_is_stored() {
    let (app, _dir) = TestApp::fresh().await;
    let too_big = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("not json", b"amount=1".to_vec(), 400, "malformed_json"),
        ("truncated json", b"{\"chain_id\": 31337,".to_vec(), 400, "malformed_json"),
        ("empty body", Vec::new(), 400, "malformed_json"),
        ("array", b"[]".to_vec(), 422, "invalid_intent"),
        ("null", b"null".to_vec(), 422, "invalid_intent"),
        ("amount as number", with("amount", json!(1)), 422, "invalid_intent"),
        ("negative amount", with("amount", json!("-1")), 422, "invalid_intent"),
        ("fractional amount", with("amount", json!("1.5")), 422, "invalid_intent"),
        ("hex amount", with("amount", json!("0x10")), 422, "invalid_intent"),
        ("amount above uint256", with("amount", json!(too_big)), 422, "invalid_intent"),
        ("amount of 100 digits", with("amount", json!("9".repeat(100))), 422, "invalid_intent"),
        ("sql injection amount", with("amount", json!("1; DROP TABLE signed_payloads; --")), 422, "invalid_intent"),
        ("chain id as string", with("chain_id", json!("31337")), 422, "invalid_intent"),
        ("negative chain id", with("chain_id", json!(-1)), 422, "invalid_intent"),
        ("fractional chain id", with("chain_id", json!(1.5)), 422, "invalid_intent"),
        ("short address", with("user", json!("0x1234")), 422, "invalid_intent"),
        ("bad checksum", with("user", json!("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")), 422, "invalid_intent"),
        ("address without 0x", with("user", json!("1111111111111111111111111111111111111111")), 422, "invalid_intent"),
        ("script injection address", with("sponsor", json!("<script>alert(1)</script>")), 422, "invalid_intent"),
        ("sql injection address", with("token", json!("0x' OR '1'='1")), 422, "invalid_intent"),
        ("zero user", with("user", json!("0x0000000000000000000000000000000000000000")), 422, "invalid_intent"),
        ("missing amount", without("amount"), 422, "invalid_intent"),
        ("unknown field", with("role", json!("admin")), 422, "invalid_intent"),
        ("negative nonce", with("nonce", json!("-5")), 422, "invalid_intent"),
        ("nonce above uint256", with("nonce", json!(too_big)), 422, "invalid_intent"),
        ("deadline as text", with("deadline", json!("tomorrow")), 422, "invalid_intent"),
        ("negative deadline", with("deadline", json!(-1)), 422, "invalid_intent"),
    ];
    for (name, body, status, code) in &cases {
        let response = app.post_raw(REGISTER_PATH, body).await;
        assert_eq!(response.status().as_u16(), *status, "{name}");
        let error = response.json::<ErrorEnvelope>().await.unwrap().error;
        assert_eq!(error.code, *code, "{name}: {}", error.message);
    }
    assert_eq!(app.signed_count().await, 0);

    // The service is unharmed and still signs a well-formed intent.
    let response = app.post_raw(REGISTER_PATH, &serde_json::to_vec(&valid_register()).unwrap()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(app.signed_count().await, 1);
    app.stop().await;
}

#[tokio::test]
async fn malformed_payout_batches_are_refused() {
    let (app, _dir) = TestApp::fresh().await;
    let valid = serde_json::to_value(payout_batch(&[5, 7], None)).unwrap();
    let variant = |f: &dyn Fn(&mut Value)| {
        let mut v = valid.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("payouts not an array", variant(&|v| v["payouts"] = json!("all of them"))),
        ("empty batch", variant(&|v| v["payouts"] = json!([]))),
        (
            "zero recipient",
            variant(&|v| v["payouts"][0]["recipient"] = json!("0x0000000000000000000000000000000000000000")),
        ),
        ("negative entry", variant(&|v| v["payouts"][1]["amount"] = json!("-7"))),
        ("stated total differs", variant(&|v| v["total"] = json!("13"))),
        (
            "sum overflows uint256",
            variant(&|v| {
                v["payouts"][0]["amount"] = json!(alloy::primitives::U256::MAX.to_string());
                v["payouts"][1]["amount"] = json!("1");
            }),
        ),
    ];
    for (name, body) in &cases {
        let response = app.post_raw(PAYOUT_BATCH_PATH, body).await;
        assert_eq!(response.status().as_u16(), 422, "{name}");
        assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, "invalid_intent", "{name}");
    }
    // A register body on the batch route is not a batch.
    let response = app.post_raw(PAYOUT_BATCH_PATH, &serde_json::to_vec(&valid_register()).unwrap()).await;
    assert_eq!(response.status().as_u16(), 422);
    assert_eq!(app.signed_count().await, 0);
    app.stop().await;
}

#[tokio::test]
async fn oversized_fields_are_refused_quickly_and_never_echoed() {
    let (app, _dir) = TestApp::fresh().await;
    // Each under the body limit, so that only the field's own bound can refuse it.
    let long = 400 * 1024;
    let digits = "9".repeat(long);
    let mut unknown_field = valid_register();
    unknown_field["x".repeat(long)] = json!(1);
    let mut batch = serde_json::to_value(payout_batch(&[5, 7], None)).unwrap();
    batch["payouts"][1]["recipient"] = json!(format!("0x{}", "ab".repeat(long / 2)));
    let many_kind = json!({ "requests": [{ "kind": "k".repeat(long), "intent": valid_register() }] });
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("amount", REGISTER_PATH, with("amount", json!(digits))),
        ("nonce", REGISTER_PATH, with("nonce", json!(digits))),
        ("address", REGISTER_PATH, with("user", json!(format!("0x{digits}")))),
        ("chain id as a long number", REGISTER_PATH, format!(r#"{{"chain_id":{digits}}}"#).into_bytes()),
        ("unknown field's name", REGISTER_PATH, serde_json::to_vec(&unknown_field).unwrap()),
        ("payout recipient", PAYOUT_BATCH_PATH, serde_json::to_vec(&batch).unwrap()),
        ("kind of a many request", MANY_PATH, serde_json::to_vec(&many_kind).unwrap()),
    ];
    for (name, path, body) in &cases {
        assert!(body.len() < MAX_BODY_BYTES, "{name}");
        let started = Instant::now();
        let response = app.post_raw(path, body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert!(matches!(status, 400 | 422), "{name}: {status} {text:.300}");
        assert!(text.len() < 1024, "{name}: the answer quotes the field ({} bytes): {text:.300}", text.len());
        assert!(started.elapsed() < Duration::from_secs(2), "{name}: {:?}", started.elapsed());
    }

    // A body over the limit is refused as such, whatever it holds.
    let response = app.post_raw(REGISTER_PATH, &with("amount", json!("9".repeat(MAX_BODY_BYTES)))).await;
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(response.json::<ErrorEnvelope>().await.unwrap().error.code, "body_too_large");
    assert_eq!(app.signed_count().await, 0);
    app.stop().await;
}
