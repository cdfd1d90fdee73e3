//! Malformed and hostile input on every endpoint: a 4xx with a stable code, nothing written.

use alloy::signers::local::PrivateKeySigner;
use serde_json::json;

use crate::helpers::{Chain, spawn_app};

const JSON: &str = "application/json";

/// Path, content type, body, allowed statuses, code ("" = a JSON body error).
type PostCase<'a> = (String, Option<&'a str>, String, &'a [u16], &'a str);
type PayCase<'a> = (&'a str, Option<&'a str>, String, &'a [u16], &'a str);

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
    // A registered wallet with a referral, so a wrongly applied freeze would show.
    app.register_in_ledger(&[
        (wallet.address(), crate::common::genesis()),
        (crate::common::named("R1"), wallet.address()),
    ])
    .await;
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();

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
        case(n, json!({ "address": long_text, "chain": "tron" }).to_string(), &[413], "payload_too_large"),
        case(n, json!({ "address": "T".repeat(4_000), "chain": "tron" }).to_string(), &[422], "invalid_address"),
    ]);
    let s = "/v1/auth/signin";
    cases.extend([
        case(s, json!({ "message": 5, "signature": "0x00" }).to_string(), &[422], "invalid_body"),
        case(s, json!({ "message": pending }).to_string(), &[422], "invalid_body"),
        case(s, json!({ "message": sqli, "signature": "0x00" }).to_string(), &[422], "invalid_message"),
        case(s, json!({ "message": xss, "signature": "0x00" }).to_string(), &[422], "invalid_message"),
        case(s, json!({ "message": long_text, "signature": "0x00" }).to_string(), &[413], "payload_too_large"),
        case(s, json!({ "message": "A".repeat(4_000), "signature": "0x00" }).to_string(), &[422], "invalid_message"),
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
            case(path, json!({ "refresh_token": long_text }).to_string(), &[413], "payload_too_large"),
            case(path, json!({ "refresh_token": "A".repeat(4_000) }).to_string(), &[401], "invalid_refresh_token"),
            // The access token is not a refresh token.
            case(path, json!({ "refresh_token": tokens["access_token"] }).to_string(), &[401], "invalid_refresh_token"),
        ]);
    }

    // Past the auth routes' 8 KiB body limit (a sign-in is under 1 KiB), and far past it.
    cases.push(case(
        "/v1/auth/nonce",
        json!({ "address": "A".repeat(9 * 1024), "chain": "evm" }).to_string(),
        &[413],
        "payload_too_large",
    ));
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
    // Query strings of the list endpoints (caller's token; admin's for the audit log).
    let user_token = tokens["access_token"].as_str().unwrap().to_owned();
    let enc = |t: &str| {
        t.replace('%', "%25")
            .replace(' ', "%20")
            .replace('\'', "%27")
            .replace(';', "%3B")
            .replace('<', "%3C")
            .replace('>', "%3E")
            .replace('/', "%2F")
    };
    let mut gets: Vec<(String, &str, u16, &str)> = Vec::new();
    for base in ["/v1/users/referrals", "/v1/users/tree", "/v1/users/history"] {
        gets.extend([
            (base.to_owned(), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id=abc"), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id="), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id={huge}"), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id=-1e9"), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id={}", enc(sqli)), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id={}", enc(xss)), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id=1&asset_id=2"), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id=1&evil=1"), user_token.as_str(), 400, "invalid_query"),
            (format!("{base}?asset_id=2147483647"), user_token.as_str(), 404, "not_found"),
            (format!("{base}?asset_id=-5"), user_token.as_str(), 404, "not_found"),
        ]);
    }
    for base in ["/v1/users/referrals?asset_id=1", "/v1/users/history?asset_id=1", "/v1/admin/audit?x=1"] {
        let base = base.replace("x=1&", "").replace("?x=1", "?");
        let sep = if base.ends_with('?') { "" } else { "&" };
        let token = if base.starts_with("/v1/admin") { admin_token.as_str() } else { user_token.as_str() };
        gets.extend([
            (format!("{base}{sep}limit=0"), token, 400, "invalid_limit"),
            (format!("{base}{sep}limit=101"), token, 400, "invalid_limit"),
            (format!("{base}{sep}limit=-1"), token, 400, "invalid_query"),
            (format!("{base}{sep}limit={huge}"), token, 400, "invalid_query"),
            (format!("{base}{sep}cursor=abc"), token, 400, "invalid_query"),
            (format!("{base}{sep}cursor={huge}"), token, 400, "invalid_query"),
            (format!("{base}{sep}cursor={}", enc(sqli)), token, 400, "invalid_query"),
        ]);
    }
    gets.extend([
        ("/v1/users/tree?asset_id=1&depth=0".to_owned(), user_token.as_str(), 400, "invalid_depth"),
        ("/v1/users/tree?asset_id=1&depth=6".to_owned(), user_token.as_str(), 400, "invalid_depth"),
        ("/v1/users/tree?asset_id=1&depth=-1".to_owned(), user_token.as_str(), 400, "invalid_query"),
        (format!("/v1/users/tree?asset_id=1&depth={huge}"), user_token.as_str(), 400, "invalid_query"),
        ("/v1/admin/audit?evil=1".to_owned(), admin_token.as_str(), 400, "invalid_query"),
        // Hostile query values do not get past the role check.
        (format!("/v1/admin/audit?cursor={}", enc(sqli)), user_token.as_str(), 403, "forbidden"),
    ]);
    for (path, token, status, code) in &gets {
        let a = app.get(path, Some(*token)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "GET {path}: {}", a.body);
        assert!(a.body["error"]["message"].is_string(), "GET {path}: {}", a.body);
    }
    // Freeze/unfreeze with the admin's token: hostile paths and bodies.
    let w = format!("{:#x}", wallet.address());
    for action in ["freeze", "unfreeze"] {
        let ok_path = format!("/v1/admin/users/{w}/{action}");
        let mut posts: Vec<PostCase<'_>> = vec![
            (ok_path.clone(), Some(JSON), "{".into(), &[400], "malformed_json"),
            (ok_path.clone(), Some(JSON), "[]".into(), &[422], "invalid_body"),
            (ok_path.clone(), Some(JSON), "{}".into(), &[422], "invalid_body"),
            (ok_path.clone(), Some(JSON), json!({ "asset_id": "1" }).to_string(), &[422], "invalid_body"),
            (
                ok_path.clone(),
                Some(JSON),
                json!({ "asset_id": -1, "reason": "r" }).to_string(),
                &[422],
                "unknown_asset",
            ),
            (ok_path.clone(), Some(JSON), json!({ "asset_id": 1, "x": 1 }).to_string(), &[422], "invalid_body"),
            (ok_path.clone(), Some(JSON), format!("{{\"asset_id\": {huge}}}"), &[400, 422], ""),
            (ok_path.clone(), Some(JSON), json!({ "asset_id": sqli }).to_string(), &[422], "invalid_body"),
            (ok_path.clone(), None, json!({ "asset_id": 1 }).to_string(), &[415], "unsupported_media_type"),
        ];
        let bads: Vec<String> =
            vec!["0x1234".into(), enc(sqli), enc(xss), "g".repeat(40), tron[..tron.len() - 1].to_owned(), huge.clone()];
        for bad in &bads {
            posts.push((
                format!("/v1/admin/users/{bad}/{action}"),
                Some(JSON),
                json!({ "asset_id": 1, "reason": "r" }).to_string(),
                &[422],
                "invalid_address",
            ));
        }
        for (path, ct, body, status, code) in &posts {
            let mut req = app.client.post(format!("{}{path}", app.base)).bearer_auth(&admin_token).body(body.clone());
            if let Some(ct) = ct {
                req = req.header("content-type", *ct);
            }
            let a = app.send(req).await;
            assert!(status.contains(&a.status), "POST {path} {body}: {} {}", a.status, a.body);
            if code.is_empty() {
                assert!(["malformed_json", "invalid_body"].contains(&a.code()), "POST {path} {body}: {}", a.body);
            } else {
                assert_eq!(a.code(), *code, "POST {path} {body}: {}", a.body);
            }
        }
    }
    // Register/retopup payload requests with the user's token (no signer here: every row must
    // be refused before it would be asked).
    let g = crate::common::genesis().to_checksum(None);
    let mut pays: Vec<PayCase<'_>> = Vec::new();
    for path in ["/v1/users/register", "/v1/users/retopup"] {
        pays.extend([
            (path, Some(JSON), "{".to_owned(), &[400][..], "malformed_json"),
            (path, Some(JSON), "".to_owned(), &[400][..], "malformed_json"),
            (path, Some(JSON), "[]".to_owned(), &[422][..], "invalid_body"),
            (path, Some(JSON), "{}".to_owned(), &[422][..], "invalid_body"),
            (path, Some(JSON), "null".to_owned(), &[422][..], "invalid_body"),
            (path, Some(JSON), json!({ "asset_id": "1", "sponsor": g }).to_string(), &[422][..], "invalid_body"),
            (path, Some(JSON), json!({ "asset_id": 1.5, "sponsor": g }).to_string(), &[422][..], "invalid_body"),
            (path, Some(JSON), json!({ "asset_id": sqli, "sponsor": g }).to_string(), &[422][..], "invalid_body"),
            (path, Some(JSON), format!("{{\"asset_id\": {huge}, \"sponsor\": \"{g}\"}}"), &[400, 422][..], ""),
            (path, None, json!({ "asset_id": 1 }).to_string(), &[415][..], "unsupported_media_type"),
            (path, Some("text/plain"), json!({ "asset_id": 1 }).to_string(), &[415][..], "unsupported_media_type"),
        ]);
    }
    let r = "/v1/users/register";
    pays.extend([
        (r, Some(JSON), json!({ "asset_id": 1 }).to_string(), &[422][..], "invalid_body"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": 5 }).to_string(), &[422][..], "invalid_body"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": g, "amount": "-1" }).to_string(), &[422][..], "invalid_body"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": sqli }).to_string(), &[422][..], "invalid_address"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": xss }).to_string(), &[422][..], "invalid_address"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": "0x1234" }).to_string(), &[422][..], "invalid_address"),
        // Past the API's 64 KiB body limit: refused unread. Under it, the field's own limit refuses it.
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": long_text }).to_string(), &[413][..], "payload_too_large"),
        (
            r,
            Some(JSON),
            json!({ "asset_id": 1, "sponsor": "T".repeat(60_000) }).to_string(),
            &[422][..],
            "invalid_address",
        ),
        (r, Some(JSON), json!({ "asset_id": 99, "sponsor": g }).to_string(), &[422][..], "unknown_asset"),
        (r, Some(JSON), json!({ "asset_id": -1, "sponsor": g }).to_string(), &[422][..], "unknown_asset"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": evm }).to_string(), &[422][..], "self_sponsor"),
        (r, Some(JSON), json!({ "asset_id": 1, "sponsor": g }).to_string(), &[409][..], "already_registered"),
        ("/v1/users/retopup", Some(JSON), json!({ "asset_id": 99 }).to_string(), &[422][..], "unknown_asset"),
        ("/v1/users/retopup", Some(JSON), json!({ "asset_id": 1, "x": 1 }).to_string(), &[422][..], "invalid_body"),
    ]);
    for (path, ct, body, status, code) in &pays {
        let mut req = app.client.post(format!("{}{path}", app.base)).bearer_auth(&user_token).body(body.clone());
        if let Some(ct) = ct {
            req = req.header("content-type", *ct);
        }
        let a = app.send(req).await;
        let shown = &body[..body.len().min(120)];
        assert!(status.contains(&a.status), "POST {path} {shown}: {} {}", a.status, a.body);
        if code.is_empty() {
            assert!(["malformed_json", "invalid_body"].contains(&a.code()), "POST {path} {shown}: {}", a.body);
        } else {
            assert_eq!(a.code(), *code, "POST {path} {shown}: {}", a.body);
        }
    }
    assert_eq!(crate::common::count(&app.db.pool, "transactions").await, 0);
    for path in [
        "/v1/users/referrals?asset_id=1",
        "/v1/users/tree?asset_id=1",
        "/v1/users/history?asset_id=1",
        "/v1/admin/audit",
    ] {
        for token in [sqli, xss, huge.as_str(), "Bearer"] {
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
