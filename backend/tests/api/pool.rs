//! /v1/pool: summary, queue snapshot (Redis-cached per ledger position), nodes; admin manual placement.

use alloy::primitives::{Address, U256};
use ledger::events::{ChainEvent, EventBody, EventKey};
use serde_json::{Value, json};

use crate::common::{ASSET, BNB, CHAIN, count, genesis, named};
use crate::helpers::{Chain, TestApp, spawn_app, spawn_app_with_redis};

/// PLAN.md §8 events 1–8: the level-1 tree is G, A, B, G and the company holds 53 BNB.
async fn worked_example(app: &TestApp) {
    let g = genesis();
    let n = named;
    app.register_in_ledger(&[
        (n("A"), g),
        (n("B"), g),
        (n("C"), n("A")),
        (n("D"), n("A")),
        (n("E"), n("B")),
        (n("F"), n("B")),
        (n("H"), g),
        (n("I"), g),
    ])
    .await;
}

/// Registers `user` under `sponsor` at `block` through a fresh ledger (asset already created).
async fn register_at(app: &TestApp, block: u64, user: Address, sponsor: Address) {
    let mut ledger = ledger::ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let event = ChainEvent {
        contract: alloy::primitives::Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: alloy::primitives::keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Registered {
            user,
            sponsor,
            token: Address::ZERO,
            amount: U256::from(20 * BNB),
            nonce: U256::from(block),
        },
    };
    let summary = ledger.apply_block(&[event]).await.unwrap();
    assert_eq!(summary.applied, 1);
}

fn bnb(n: u128) -> String {
    (n * BNB).to_string()
}

#[tokio::test]
async fn summary_shows_every_level_with_nodes_completions_and_price() {
    let app = spawn_app().await;
    worked_example(&app).await;
    let token = app.user_token().await;
    let a = app.get("/v1/pool/summary?asset_id=1", Some(&token)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["position"], json!({ "applied_events": 8, "admin_seq": 0 }));
    let levels = a.body["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 15);
    assert_eq!(
        levels[0],
        json!({ "level": 1, "nodes": 4, "next_index": 4, "completed_matrices": 0,
                "price": { "base": bnb(20), "human": "20 BNB" } })
    );
    assert_eq!(levels[1]["nodes"], 0);
    assert_eq!(levels[1]["price"]["human"], "40 BNB");
    assert_eq!(levels[14]["price"]["base"], (20 * BNB * (1 << 14)).to_string());
    let a = app.get("/v1/pool/summary?asset_id=9", Some(&token)).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
    let a = app.get("/v1/pool/summary?asset_id=1", None).await;
    assert_eq!((a.status, a.code()), (401, "missing_token"));
}

#[tokio::test]
async fn queue_snapshot_names_the_matrices_the_next_positions_feed_and_is_cached_per_ledger_position() {
    let app = spawn_app().await;
    worked_example(&app).await;
    let token = app.user_token().await;
    let (g, a_, b_) = (genesis().to_checksum(None), named("A").to_checksum(None), named("B").to_checksum(None));
    let first = app.get("/v1/pool/queue?asset_id=1&level=1&count=4", Some(&token)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let s = &first.body;
    assert_eq!(s["cached"], false);
    assert_eq!(s["next_index"], 4);
    assert_eq!(s["position"], json!({ "applied_events": 8, "admin_seq": 0 }));
    // G's matrix at q=0 has slots 1, 2 (A, B) and 3 (G) filled.
    assert_eq!(s["next_to_complete"], json!({ "q": 0, "owner": g, "filled_slots": 3 }));
    let upcoming = s["upcoming"].as_array().unwrap();
    assert_eq!(upcoming.len(), 4);
    // q=4: second child of A (q=1), slot 4 of G's matrix.
    assert_eq!(
        upcoming[0],
        json!({ "q": 4, "feeds": [
            { "depth": 1, "ancestor_q": 1, "owner": a_, "slot": 2, "reserved": false, "completes": false },
            { "depth": 2, "ancestor_q": 0, "owner": g, "slot": 4, "reserved": false, "completes": false },
        ] })
    );
    // q=6: second child of B (q=2), slot 6 of G's matrix.
    assert_eq!(upcoming[2]["feeds"][0]["owner"], b_);
    assert_eq!(upcoming[2]["feeds"][1]["slot"], 6);
    // q=7: first great-grandchild of G: slot 7, and the first node under the still-empty q=3.
    assert_eq!(upcoming[3]["feeds"].as_array().unwrap().len(), 3);
    assert_eq!(
        upcoming[3]["feeds"][2],
        json!({ "depth": 3, "ancestor_q": 0, "owner": g, "slot": 7, "reserved": false, "completes": false })
    );

    // The same position again: served from Redis, same content.
    let second = app.get("/v1/pool/queue?asset_id=1&level=1&count=4", Some(&token)).await;
    assert_eq!(second.body["cached"], true);
    let strip = |mut v: Value| {
        v["cached"] = Value::Null;
        v
    };
    assert_eq!(strip(second.body.clone()), strip(first.body.clone()));

    // J under C (C's first referral: a DIRECT, no placement) then K under C (C's second: C's pool entry at q=4).
    register_at(&app, 100, named("J"), named("C")).await;
    register_at(&app, 101, named("K"), named("C")).await;
    let third = app.get("/v1/pool/queue?asset_id=1&level=1&count=4", Some(&token)).await;
    assert_eq!(third.body["cached"], false, "a snapshot of an older ledger position was served");
    assert_eq!(third.body["position"]["applied_events"], 10);
    assert_eq!(third.body["next_index"], 5);
    assert_eq!(third.body["upcoming"][0]["q"], 5);
    assert_eq!(third.body["next_to_complete"]["filled_slots"], 4);
    // An admin action moves the position too.
    ledger::admin::freeze(&app.db.pool, ASSET, named("J"), "test", "test").await.unwrap();
    let fourth = app.get("/v1/pool/queue?asset_id=1&level=1&count=4", Some(&token)).await;
    assert_eq!((fourth.body["cached"].clone(), fourth.body["position"]["admin_seq"].clone()), (json!(false), json!(1)));

    // Level 2 is empty: q=0 has no ancestors.
    let empty = app.get("/v1/pool/queue?asset_id=1&level=2", Some(&token)).await;
    assert_eq!(empty.status, 200, "{}", empty.body);
    assert_eq!(empty.body["next_to_complete"], Value::Null);
    assert_eq!(empty.body["upcoming"].as_array().unwrap().len(), 14);
    assert_eq!(empty.body["upcoming"][0], json!({ "q": 0, "feeds": [] }));
    // Slot 14 of q=0 is q=14; at level 1 of 15 its credit is reserved and completes the matrix.
    let deep = app.get("/v1/pool/queue?asset_id=1&level=2&count=15", Some(&token)).await;
    assert_eq!(
        deep.body["upcoming"][14]["feeds"][2],
        json!({ "depth": 3, "ancestor_q": 0, "owner": null, "slot": 14, "reserved": true, "completes": true })
    );
}

#[tokio::test]
async fn queue_is_served_uncached_when_redis_goes_down() {
    // A Redis of this test's own, stopped half-way.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server is installed (scripts/setup.sh)");
    let url = format!("redis://127.0.0.1:{port}");
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if let Some(ended) = redis.try_wait().unwrap() {
        panic!("the test's redis-server ended with {ended}");
    }
    let app = spawn_app_with_redis(&url).await;
    worked_example(&app).await;
    let token = app.user_token().await;
    let path = "/v1/pool/queue?asset_id=1&level=1&count=2";
    let first = app.get(path, Some(&token)).await;
    let second = app.get(path, Some(&token)).await;
    let _ = redis.kill();
    let _ = redis.wait();
    assert_eq!((first.body["cached"].clone(), second.body["cached"].clone()), (json!(false), json!(true)));
    for _ in 0..2 {
        let a = app.get(path, Some(&token)).await;
        assert_eq!(a.status, 200, "{}", a.body);
        assert_eq!(a.body["cached"], false);
        assert_eq!(a.body["next_index"], 4);
        assert_eq!(a.body["upcoming"], first.body["upcoming"]);
    }
}

#[tokio::test]
async fn nodes_are_paged_in_heap_order_and_filtered_by_owner() {
    let app = spawn_app().await;
    worked_example(&app).await;
    let token = app.user_token().await;
    let page = app.get("/v1/pool/nodes?asset_id=1&level=1&limit=3", Some(&token)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let qs: Vec<i64> = page.body["items"].as_array().unwrap().iter().map(|n| n["q"].as_i64().unwrap()).collect();
    assert_eq!(qs, [0, 1, 2]);
    assert_eq!(page.body["items"][0]["owner"], genesis().to_checksum(None));
    assert_eq!(page.body["items"][0]["status"], "active");
    assert_eq!(page.body["items"][0]["filled_slots"], 3);
    assert_eq!(page.body["next_after"], 2);
    let rest = app.get("/v1/pool/nodes?asset_id=1&level=1&limit=3&after=2", Some(&token)).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["items"][0]["q"], 3);
    assert_eq!(rest.body["next_after"], Value::Null);
    // G's nodes, asked in TRON form.
    let tron = abi::tron::to_base58(genesis());
    let mine = app.get(&format!("/v1/pool/nodes?asset_id=1&level=1&owner={tron}"), Some(&token)).await;
    let qs: Vec<i64> = mine.body["items"].as_array().unwrap().iter().map(|n| n["q"].as_i64().unwrap()).collect();
    assert_eq!(qs, [0, 3], "{}", mine.body);
    let none = app.get("/v1/pool/nodes?asset_id=1&level=2", Some(&token)).await;
    assert_eq!(none.body["items"], json!([]));
}

#[tokio::test]
async fn admin_places_a_node_paid_from_the_company_share() {
    let app = spawn_app().await;
    worked_example(&app).await;
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let token = admin["access_token"].as_str();
    let company = |app: &TestApp| {
        let pool = app.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT company_total::text FROM assets").fetch_one(&pool).await.unwrap()
        }
    };
    assert_eq!(company(&app).await, bnb(53));
    let before = app.db_state().await;
    // Refusals change nothing.
    let refusals = [
        (json!({ "asset_id": 1, "user": named("A").to_string(), "level": 3 }), 422, "insufficient_company_share"),
        (json!({ "asset_id": 1, "user": named("A").to_string(), "level": 0 }), 422, "invalid_level"),
        (json!({ "asset_id": 1, "user": named("A").to_string(), "level": 16 }), 422, "invalid_level"),
        (json!({ "asset_id": 1, "user": named("nobody").to_string(), "level": 1 }), 422, "unknown_user"),
        (json!({ "asset_id": 5, "user": named("A").to_string(), "level": 1 }), 422, "unknown_asset"),
        (json!({ "asset_id": 1, "user": "0x1234", "level": 1 }), 422, "invalid_address"),
    ];
    for (body, status, code) in refusals {
        let a = app.post_as("/v1/admin/pool/placements", token, body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
    }
    assert_eq!(app.db_state().await, before);

    // A at level 1 takes q=4: A (q=1) gets POOL_L1 10, G (q=0) POOL_L2 5, the company keeps 5.
    let a = app
        .post_as(
            "/v1/admin/pool/placements",
            token,
            json!({ "asset_id": 1, "user": named("A").to_string(), "level": 1 }),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["q"], 4);
    assert_eq!(a.body["owner"], named("A").to_checksum(None));
    assert_eq!(a.body["price"]["human"], "20 BNB");
    assert_eq!(a.body["position"], json!({ "applied_events": 8, "admin_seq": 1 }));
    assert_eq!((a.body["placements"].as_u64(), a.body["credits"].as_u64()), (Some(1), Some(2)));
    assert_eq!(company(&app).await, bnb(53 - 20 + 5));
    let pending: Vec<(String, String)> = sqlx::query_as(
        "SELECT encode(u.address, 'hex'), b.pending::text FROM user_balances b JOIN users u USING (asset_id, user_no)
         WHERE u.address = ANY($1) ORDER BY u.user_no",
    )
    .bind(vec![genesis().to_vec(), named("A").to_vec()])
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    // G: DIRECT 18 + 18, POOL_L1 10 + 10, POOL_L2 5 + 5 now; A: DIRECT 18, POOL_L1 10 + 10 now.
    assert_eq!(pending[0].1, bnb(18 + 18 + 10 + 10 + 5 + 5));
    assert_eq!(pending[1].1, bnb(18 + 10 + 10));
    let log = app.get("/v1/admin/audit?limit=1", token).await;
    let entry = &log.body["items"][0];
    assert_eq!(entry["action"], "manual_placement");
    assert_eq!(entry["applied_events"], 8);
    assert_eq!(entry["before"]["company_total"], bnb(53));
    assert_eq!(entry["after"]["company_total"], bnb(38));
    assert_eq!(entry["after"]["q"], 4);
    // The summary and a reopened ledger see the new node; the next event continues after it.
    let s = app.get("/v1/pool/summary?asset_id=1", token).await;
    assert_eq!(s.body["levels"][0]["nodes"], 5);
    register_at(&app, 100, named("J"), named("C")).await;
    register_at(&app, 101, named("K"), named("C")).await;
    let owners: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT u.address FROM pool_nodes n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.level = 1 ORDER BY n.q",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let expected: Vec<Vec<u8>> =
        [genesis(), named("A"), named("B"), genesis(), named("A"), named("C")].iter().map(|a| a.to_vec()).collect();
    assert_eq!(owners, expected);
    assert_eq!(count(&app.db.pool, "placements").await, 6);
}

#[tokio::test]
async fn hostile_pool_inputs_get_4xx_and_change_nothing() {
    let app = spawn_app().await;
    worked_example(&app).await;
    let token = app.user_token().await;
    let admin = app.signin(Chain::Evm, &app.admin).await;
    let admin_token = admin["access_token"].as_str().unwrap().to_owned();
    let huge = "9".repeat(60);
    let sqli = "1%27%3B%20DROP%20TABLE%20pool_nodes%3B--";
    let xss = "%3Cscript%3Ealert(1)%3C%2Fscript%3E";
    let mut gets: Vec<(String, u16, &str)> = Vec::new();
    for (base, level) in [("/v1/pool/summary", ""), ("/v1/pool/queue", "&level=1"), ("/v1/pool/nodes", "&level=1")] {
        gets.extend([
            (base.to_owned(), 400, "invalid_query"),
            (format!("{base}?asset_id=abc{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id={huge}{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id=-1e3{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id={sqli}{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id={xss}{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id=1{level}&evil=1"), 400, "invalid_query"),
            (format!("{base}?asset_id=1&asset_id=2{level}"), 400, "invalid_query"),
            (format!("{base}?asset_id=77{level}"), 404, "not_found"),
        ]);
    }
    for base in ["/v1/pool/queue", "/v1/pool/nodes"] {
        gets.extend([
            (format!("{base}?asset_id=1"), 400, "invalid_query"),
            (format!("{base}?asset_id=1&level=0"), 400, "invalid_level"),
            (format!("{base}?asset_id=1&level=16"), 400, "invalid_level"),
            (format!("{base}?asset_id=1&level=-1"), 400, "invalid_query"),
            (format!("{base}?asset_id=1&level={huge}"), 400, "invalid_query"),
        ]);
    }
    gets.extend([
        ("/v1/pool/queue?asset_id=1&level=1&count=0".to_owned(), 400, "invalid_count"),
        ("/v1/pool/queue?asset_id=1&level=1&count=65".to_owned(), 400, "invalid_count"),
        ("/v1/pool/nodes?asset_id=1&level=1&limit=0".to_owned(), 400, "invalid_limit"),
        ("/v1/pool/nodes?asset_id=1&level=1&limit=101".to_owned(), 400, "invalid_limit"),
        (format!("/v1/pool/nodes?asset_id=1&level=1&after={huge}"), 400, "invalid_query"),
        (format!("/v1/pool/nodes?asset_id=1&level=1&owner={sqli}"), 422, "invalid_address"),
        (format!("/v1/pool/nodes?asset_id=1&level=1&owner={xss}"), 422, "invalid_address"),
    ]);
    let place = "/v1/admin/pool/placements";
    let user = named("A").to_string();
    let t = Some(admin_token.as_str());
    // Bearer, body, allowed statuses, code ("" = a JSON body error: serde calls a number overflow either).
    let posts: Vec<(Option<&str>, String, &[u16], &str)> = vec![
        (t, "{".into(), &[400], "malformed_json"),
        (t, "[]".into(), &[422], "invalid_body"),
        (t, json!({ "asset_id": 1, "user": user, "level": "1" }).to_string(), &[422], "invalid_body"),
        (t, json!({ "asset_id": 1, "user": user, "level": -1 }).to_string(), &[422], "invalid_body"),
        (t, json!({ "asset_id": 1, "user": user, "level": 1.5 }).to_string(), &[422], "invalid_body"),
        (t, format!("{{\"asset_id\": 1, \"user\": \"{user}\", \"level\": {huge}}}"), &[400, 422], ""),
        (t, json!({ "asset_id": 1, "user": user, "level": 1, "price": "0" }).to_string(), &[422], "invalid_body"),
        (
            t,
            json!({ "asset_id": 1, "user": "'; DROP TABLE pools; --", "level": 1 }).to_string(),
            &[422],
            "invalid_address",
        ),
        (
            t,
            json!({ "asset_id": 1, "user": "<script>alert(1)</script>", "level": 1 }).to_string(),
            &[422],
            "invalid_address",
        ),
        (Some(&token), json!({ "asset_id": 1, "user": user, "level": 1 }).to_string(), &[403], "forbidden"),
        (None, json!({ "asset_id": 1, "user": user, "level": 1 }).to_string(), &[401], "missing_token"),
    ];
    let before = app.db_state().await;
    for (path, status, code) in &gets {
        let a = app.get(path, Some(&token)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{path}: {}", a.body);
    }
    for (bearer, body, status, code) in &posts {
        let mut req = app.client.post(format!("{}{place}", app.base)).header("content-type", "application/json");
        if let Some(t) = bearer {
            req = req.bearer_auth(t);
        }
        let a = app.send(req.body(body.clone())).await;
        assert!(status.contains(&a.status), "{body}: {} {}", a.status, a.body);
        if code.is_empty() {
            assert!(["malformed_json", "invalid_body"].contains(&a.code()), "{body}: {}", a.body);
        } else {
            assert_eq!(a.code(), *code, "{body}: {}", a.body);
        }
    }
    assert_eq!(app.db_state().await, before);
}
