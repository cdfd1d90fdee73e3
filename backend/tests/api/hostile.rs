//! Malformed and hostile input on every endpoint: a 4xx with a stable code, nothing written.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::helpers::{Chain, spawn_app};

const JSON: &str = "application/json";

struct Case {
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
    /// Allowed statuses (serde may call a number overflow syntax or data) and the code.
    status: &'static [u16],
    code: &'static str,
}

fn case(path: &'static str, body: impl Into<String>, status: &'static [u16], code: &'static str) -> Case {
    Case { path, content_type: Some(JSON), body: body.into(), status, code }
}

#[tokio::test]
async fn hostile_inputs_get_4xx_with_a_stable_code_and_change_nothing() {
    let app = spawn_app().await;
    let wallet = PrivateKeySigner::random();
    // One real session and one real pending nonce, so that a wrongly accepted input would show.
    let tokens = app.signin(Chain::Evm, &wallet).await;
    let pending = app.nonce(Chain::Evm, &wallet).await;
    let evm = wallet.address().to_checksum(None);
    let tron = abi::tron::to_base58(wallet.address());
    let sqli = "'; DROP TABLE refresh_tokens; --";
    let xss = "<script>alert(1)</script>";
    let huge = "1".repeat(400);
    let long_text = "A".repeat(100_000);

    let mut cases = Vec::new();
    for path in ["/v1/auth/nonce", "/v1/auth/signin", "/v1/auth/refresh", "/v1/auth/logout"] {
        cases.extend([
            case(path, "{", &[400], "malformed_json"),
            case(path, "not json", &[400], "malformed_json"),
            case(path, "", &[400], "malformed_json"),
            case(path, "[]", &[422], "invalid_body"),
            case(path, "null", &[422], "invalid_body"),
            case(path, "{}", &[422], "invalid_body"),
            case(path, format!("{{\"x\": {huge}}}"), &[400, 422], ""),
            Case { path, content_type: None, body: "{}".into(), status: &[415], code: "unsupported_media_type" },
            Case {
                path,
                content_type: Some("text/plain"),
                body: "{}".into(),
                status: &[415],
                code: "unsupported_media_type",
            },
        ]);
    }
    let n = "/v1/auth/nonce";
    cases.extend([
        case(n, json!({ "address": 12345, "chain": "evm" }).to_string(), &[422], "invalid_body"),
        case(n, format!("{{\"address\": {huge}, \"chain\": \"evm\"}}"), &[400, 422], ""),
        case(n, json!({ "address": evm, "chain": "btc" }).to_string(), &[422], "invalid_body"),
        // serde_json calls a number where an enum goes a syntax error.
        case(n, json!({ "address": evm, "chain": 1 }).to_string(), &[400, 422], ""),
        case(n, json!({ "address": evm }).to_string(), &[422], "invalid_body"),
        case(n, json!({ "address": "0x1234", "chain": "evm" }).to_string(), &[422], "invalid_address"),
        case(
            n,
            json!({ "address": format!("0x{}", "g".repeat(40)), "chain": "evm" }).to_string(),
            &[422],
            "invalid_address",
        ),
        case(n, json!({ "address": tron, "chain": "evm" }).to_string(), &[422], "invalid_address"),
        case(n, json!({ "address": evm, "chain": "tron" }).to_string(), &[422], "invalid_address"),
        case(n, json!({ "address": sqli, "chain": "evm" }).to_string(), &[422], "invalid_address"),
        case(n, json!({ "address": xss, "chain": "tron" }).to_string(), &[422], "invalid_address"),
        case(n, json!({ "address": long_text, "chain": "tron" }).to_string(), &[422], "invalid_address"),
    ]);
    let s = "/v1/auth/signin";
    cases.extend([
        case(s, json!({ "message": 5, "signature": "0x00" }).to_string(), &[422], "invalid_body"),
        case(s, json!({ "message": pending }).to_string(), &[422], "invalid_body"),
        case(s, json!({ "message": sqli, "signature": "0x00" }).to_string(), &[422], "invalid_message"),
        case(s, json!({ "message": xss, "signature": "0x00" }).to_string(), &[422], "invalid_message"),
        case(s, json!({ "message": long_text, "signature": "0x00" }).to_string(), &[422], "invalid_message"),
        case(
            s,
            json!({ "message": pending.replace("Nonce: ", &format!("Nonce: {sqli}")), "signature": "0x00" })
                .to_string(),
            &[422],
            "invalid_message",
        ),
        case(s, json!({ "message": pending, "signature": xss }).to_string(), &[422], "invalid_signature"),
        case(
            s,
            json!({ "message": pending, "signature": format!("0x{}", "00".repeat(65)) }).to_string(),
            &[401],
            "signin_bad_signature",
        ),
        case(
            s,
            json!({ "message": pending, "signature": format!("0x{huge}") }).to_string(),
            &[422],
            "invalid_signature",
        ),
    ]);
    for path in ["/v1/auth/refresh", "/v1/auth/logout"] {
        cases.extend([
            case(path, format!("{{\"refresh_token\": {huge}}}"), &[400, 422], ""),
            case(path, json!({ "refresh_token": null }).to_string(), &[422], "invalid_body"),
            case(path, json!({ "refresh_token": ["a"] }).to_string(), &[422], "invalid_body"),
            case(path, json!({ "refresh_token": sqli }).to_string(), &[401], "invalid_refresh_token"),
            case(path, json!({ "refresh_token": "' OR '1'='1" }).to_string(), &[401], "invalid_refresh_token"),
            case(path, json!({ "refresh_token": long_text }).to_string(), &[401], "invalid_refresh_token"),
            // The access token is not a refresh token.
            case(path, json!({ "refresh_token": tokens["access_token"] }).to_string(), &[401], "invalid_refresh_token"),
        ]);
    }

    // Past axum's 2 MiB body limit.
    cases.push(case(
        "/v1/auth/signin",
        json!({ "message": "A".repeat(3 << 20), "signature": "0x" }).to_string(),
        &[413],
        "payload_too_large",
    ));

    let before = app.db_state().await;
    for c in &cases {
        let mut req = app.client.post(format!("{}{}", app.base, c.path)).body(c.body.clone());
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        let a = app.send(req).await;
        let shown = &c.body[..c.body.len().min(120)];
        assert!(c.status.contains(&a.status), "{} {shown}: got {} {}", c.path, a.status, a.body);
        assert!(a.body["error"]["message"].is_string(), "{} {shown}: {}", c.path, a.body);
        if c.code.is_empty() {
            assert!(["malformed_json", "invalid_body"].contains(&a.code()), "{} {shown}: {}", c.path, a.body);
        } else {
            assert_eq!(a.code(), c.code, "{} {shown}: {}", c.path, a.body);
        }
    }
    // Hostile bearer tokens on the authenticated routes.
    for path in ["/v1/users/me", "/v1/admin/ping"] {
        for token in [sqli, xss, huge.as_str(), "Bearer", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIweDAwIn0."] {
            let a = app.get(path, Some(token)).await;
            assert_eq!((a.status, a.code()), (401, "invalid_token"), "{path} {token}");
        }
    }
    assert_eq!(app.db_state().await, before, "a refused request changed the database");
    // The session and the pending nonce still work: nothing above consumed them.
    let refreshed = app.post("/v1/auth/refresh", json!({ "refresh_token": tokens["refresh_token"] })).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let a = app.signin_with(&pending, &Chain::Evm.sign(&wallet, &pending)).await;
    assert_eq!(a.status, 200, "{}", a.body);
}
