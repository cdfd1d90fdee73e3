//! The sales plan through the API (PLAN-SALES.md): its rules in words and odds in `/v1/public/plan`, a member's
//! standing (§9's first example mid-period — customers, sales, PV/CV/GV so far, the rank they give, what is maturing
//! and when — and after the close, their line), the closes for staff, and the audited creation refusing the plan
//! while the exit cannot pay maturing commissions.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::sales::SalesParams;
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset};
use serde_json::{Value, json};

use crate::common::CHAIN;
use crate::helpers::{Chain, spawn_app};

const SALES: i32 = 6;
const USDT: u128 = 1_000_000;
const DAY: u64 = 86_400;
/// 2026-11-01 and 2026-12-01 at 00:00:00 UTC.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;

fn token() -> Address {
    Address::repeat_byte(0x5a)
}

fn event(block: u64, time: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: Address::repeat_byte(0xde),
        key: EventKey { chain_id: CHAIN, tx_hash: keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: time,
        body,
    }
}

fn registered(block: u64, time: u64, user: Address, sponsor: Address) -> ChainEvent {
    let body = EventBody::Registered { user, sponsor, token: token(), amount: U256::ZERO, nonce: U256::from(block) };
    event(block, time, body)
}

fn sold(block: u64, time: u64, buyer: Address, seller: Address, usdt: u128, retail: u128) -> ChainEvent {
    let body = EventBody::Sold {
        id: U256::from(block),
        buyer,
        seller,
        token: token(),
        amount: U256::from(usdt * USDT),
        retail: U256::from(retail * USDT),
        pv: U256::from(usdt),
        order_ref: B256::repeat_byte(block as u8),
        refundable_until: U256::from(time + 14 * DAY),
    };
    event(block, time, body)
}

fn refunded(block: u64, time: u64, id: u64, buyer: Address, usdt: u128) -> ChainEvent {
    let body = EventBody::Refunded { id: U256::from(id), buyer, token: token(), amount: U256::from(usdt * USDT) };
    event(block, time, body)
}

/// The test's sales-plan asset (USDT, 6 decimals, the plan's defaults) with genesis `genesis`.
fn sales_asset(genesis: Address) -> AssetSpec<SalesParams> {
    AssetSpec {
        id: SALES,
        chain_id: CHAIN,
        token: token(),
        symbol: "USDT".into(),
        decimals: 6,
        genesis,
        params: SalesParams::defaults(6),
    }
}

fn human(v: &Value) -> String {
    v["human"].as_str().unwrap_or_else(|| panic!("no amount: {v}")).to_owned()
}

#[tokio::test]
async fn the_sales_plan_is_public_a_member_sees_customers_sales_volumes_and_maturing_and_staff_see_closes() {
    let app = spawn_app().await;
    let g = PrivateKeySigner::random().address();
    create_asset(&app.db.pool, &sales_asset(g)).await.unwrap();
    // §9's first example: A under G, B under A, C under B; X buys from C twice (once naming A), C buys for itself,
    // Y buys from B and takes it back, Z buys from A.
    let [a, b, c] = [(); 3].map(|_| PrivateKeySigner::random());
    let [x, y, z] = [(); 3].map(|_| PrivateKeySigner::random().address());
    let t = |d: u64| NOV + d * DAY;
    let events = [
        registered(1, t(1), a.address(), g),
        registered(2, t(2), b.address(), a.address()),
        registered(3, t(3), c.address(), b.address()),
        sold(4, t(4), x, c.address(), 300, 60),
        sold(5, t(5), c.address(), c.address(), 100, 0),
        sold(6, t(6), y, b.address(), 500, 100),
        sold(7, t(7), x, a.address(), 200, 40),
        refunded(8, t(8), 6, y, 500),
        sold(9, t(9), z, a.address(), 1000, 200),
    ];
    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let s = ledger.apply_block(&events).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (9, 0));
    // Day 19: sale 4 (T = day 18) and sale 5 (day 19) are final; 7 and 9 still open.
    ledger.apply_confirmed(&[], BlockCursor { number: 10, hash: B256::repeat_byte(0x10) }, t(19)).await.unwrap();

    let token_c = app.signin(Chain::Evm, &c).await["access_token"].as_str().unwrap().to_owned();
    let s = app.get(&format!("/v1/users/sales?asset_id={SALES}"), Some(&token_c)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let s = s.body;
    assert_eq!((s["user_no"].as_i64(), s["customers"].as_i64()), (Some(3), Some(1)), "{s}");
    assert_eq!((s["period_start"].as_u64(), s["period_end"].as_u64()), (Some(NOV), Some(DEC)));
    let sales: Vec<(String, bool, String, String)> = s["sales"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["id"].as_str().unwrap().into(),
                x["customer"].as_bool().unwrap(),
                human(&x["retail"]),
                x["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        sales,
        [
            ("7".into(), true, "40 USDT".into(), "open".into()),
            ("5".into(), false, "0 USDT".into(), "final".into()),
            ("4".into(), true, "60 USDT".into(), "final".into())
        ]
    );
    // PV 400 (300 + 100 final), CV 300, GV 400; 200 still open. Associate: PV ≥ 100 and CV ≥ half of PV.
    assert_eq!((s["pv"].as_str(), s["cv"].as_str(), s["gv"].as_str()), (Some("400"), Some("300"), Some("400")));
    assert_eq!((s["pv_open"].as_str(), s["cv_open"].as_str()), (Some("200"), Some("200")));
    assert_eq!(s["rank_now"], "Associate", "{s}");
    assert_eq!(human(&s["maturing"]), "40 USDT");
    assert_eq!(s["maturing_sales"][0]["sale_id"], "7");
    assert_eq!(s["maturing_sales"][0]["matures_at"].as_u64(), Some(t(21)));

    // After the close: C's line (PV 600, CV 500, GV 600, Associate, nothing earned: nobody below C sold).
    ledger.apply_confirmed(&[], BlockCursor { number: 11, hash: B256::repeat_byte(0x11) }, DEC).await.unwrap();
    let s = app.get(&format!("/v1/users/sales?asset_id={SALES}"), Some(&token_c)).await.body;
    let line = &s["closes"][0];
    assert_eq!(
        (line["pv"].as_str(), line["cv"].as_str(), line["gv"].as_str(), line["rank"].as_str()),
        (Some("600"), Some("500"), Some("600"), Some("Associate")),
        "{s}"
    );
    assert_eq!((human(&line["earned"]), human(&line["credited"])), ("0 USDT".into(), "0 USDT".into()));
    assert_eq!(human(&s["maturing"]), "0 USDT");
    let token_a = app.signin(Chain::Evm, &a).await["access_token"].as_str().unwrap().to_owned();
    let s = app.get(&format!("/v1/users/sales?asset_id={SALES}"), Some(&token_a)).await.body;
    assert_eq!(
        (s["closes"][0]["rank"].as_str(), human(&s["closes"][0]["credited"])),
        (Some("Manager"), "15 USDT".into())
    );
    // Not a member; not a sales asset.
    let stranger = app.user_token().await;
    assert_eq!(app.get(&format!("/v1/users/sales?asset_id={SALES}"), Some(&stranger)).await.code(), "not_registered");
    assert_eq!(app.get("/v1/users/sales?asset_id=99", Some(&token_a)).await.status, 404);

    // The public card: the rules in words and the odds (5 sales, 1 taken back; 1,600 final, 1,500 of it customers').
    let plan = app.get("/v1/public/plan", None).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    let p = &plan.body["sales"][0];
    assert_eq!(
        (p["asset_id"].as_i64(), p["retail_bps"].as_u64(), p["refund_window"].as_u64()),
        (Some(6), Some(2000), Some(14 * DAY))
    );
    let rules = p["rules"].to_string();
    assert!(
        rules.contains("nobody earns anything when someone joins") && rules.contains("nothing on their own purchases"),
        "{rules}"
    );
    let o = &p["odds"];
    assert_eq!(
        (o["sales"].as_i64(), o["refunded"].as_i64(), o["refund_rate_bps"].as_u64()),
        (Some(5), Some(1), Some(2000))
    );
    assert_eq!((human(&o["final_sales"]), human(&o["to_customers"])), ("1600 USDT".into(), "1500 USDT".into()));
    assert_eq!((o["customer_share_bps"].as_u64(), human(&o["unilevel_commissions"])), (Some(9375), "15 USDT".into()));

    // Staff see the close; members do not.
    let admin = app.admin_token().await;
    let closes = app.get(&format!("/v1/admin/sales/closes?asset_id={SALES}"), Some(&admin)).await;
    assert_eq!(closes.status, 200, "{}", closes.body);
    let c0 = &closes.body["closes"][0];
    assert_eq!(
        [human(&c0["sales"]), human(&c0["budget"]), human(&c0["earned"]), human(&c0["credited"])],
        ["1600 USDT", "640 USDT", "15 USDT", "15 USDT"]
    );
    assert_eq!(c0["lines"], 4);
    assert_eq!(app.get(&format!("/v1/admin/sales/closes?asset_id={SALES}"), Some(&token_a)).await.status, 403);
    let bad = app.get(&format!("/v1/admin/sales/closes?asset_id={SALES}&limit=0"), Some(&admin)).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_limit"));
}

/// The audited creation refuses the sales plan until the exit and the proof of solvency count maturing commissions.
#[tokio::test]
async fn staff_cannot_put_an_asset_on_the_sales_plan_yet() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let body = json!({"chain_id": CHAIN, "token": "native", "genesis": format!("{:#x}", Address::repeat_byte(0x01)),
                      "plan": "sales"});
    let refused = app.post_admin("/v1/admin/assets", &admin, body).await;
    assert_eq!((refused.status, refused.code()), (422, "plan_not_offered"), "{}", refused.body);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM assets").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 0, "nothing was created");
}

/// The catalogue: the `catalogue` role sets products (each change a version, audited, the same change twice refused),
/// anyone reads the active ones, staff read every one with the history; bad fields, other roles, other plans refused,
/// changing nothing.
#[tokio::test]
async fn the_catalogue_role_keeps_products_each_change_a_version_and_the_shop_lists_the_active_ones() {
    let app = spawn_app().await;
    create_asset(&app.db.pool, &sales_asset(Address::repeat_byte(0x01))).await.unwrap();
    let other = AssetSpec {
        id: 7,
        chain_id: CHAIN,
        token: Address::repeat_byte(0x5b),
        symbol: "USDT".into(),
        decimals: 6,
        genesis: Address::repeat_byte(0x01),
        params: ledger::plan::PlanParams::defaults(6),
    };
    create_asset(&app.db.pool, &other).await.unwrap();
    // The configured admin is seeded with every role, catalogue included; a member holds none.
    let admin = app.admin_token().await;
    let member = app.user_token().await;
    let put = |sku: &str, body: Value, token: String| {
        let path = format!("/v1/admin/catalogue/{SALES}/products/{sku}");
        let app = &app;
        async move { app.put_as(&path, Some(&token), body).await }
    };
    let tea = json!({"name": "Green tea, 100 g", "price": "12500000", "pv": 12, "active": true, "reason": "launch"});
    let refused = put("TEA-1", tea.clone(), member.clone()).await;
    assert_eq!((refused.status, refused.code()), (403, "forbidden"), "{}", refused.body);

    let a = put("TEA-1", tea.clone(), admin.clone()).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!((a.body["version"].as_u64(), human(&a.body["price"])), (Some(1), "12.5 USDT".to_owned()));
    let again = put("TEA-1", tea.clone(), admin.clone()).await;
    assert_eq!((again.status, again.code()), (409, "no_change"), "{}", again.body);
    let dearer = json!({"name": "Green tea, 100 g", "price": "13000000", "pv": 13, "active": true, "reason": "price"});
    assert_eq!(put("TEA-1", dearer, admin.clone()).await.body["version"], 2);
    let mat = json!({"name": "योग मैट", "price": "40000000", "pv": 40, "active": false, "reason": "not yet"});
    assert_eq!(put("MAT.2", mat, admin.clone()).await.body["version"], 3);

    // Out of bounds, each refused by name; nothing changed.
    let audits = crate::common::count(&app.db.pool, "audit_logs").await;
    for (sku, body, code) in [
        ("TEA-1", json!({"name": "", "price": "1", "pv": 0, "active": true, "reason": "x"}), "invalid_product"),
        (
            "TEA-1",
            json!({"name": "n".repeat(121), "price": "1", "pv": 0, "active": true, "reason": "x"}),
            "invalid_product",
        ),
        ("TEA-1", json!({"name": "n", "price": "0", "pv": 0, "active": true, "reason": "x"}), "invalid_product"),
        (
            "TEA-1",
            json!({"name": "n", "price": (U256::from(1u8) << 112usize).to_string(), "pv": 0, "active": true, "reason": "x"}),
            "invalid_product",
        ),
        (
            "TEA-1",
            json!({"name": "n", "price": "1", "pv": 1_000_000_001u64, "active": true, "reason": "x"}),
            "invalid_product",
        ),
        ("TEA-1", json!({"name": "n", "price": "1.5", "pv": 0, "active": true, "reason": "x"}), "invalid_amount"),
        ("TEA-1", json!({"name": "n", "price": "1", "pv": 0, "active": true, "reason": " "}), "reason_required"),
        ("TEA-1", json!({"name": "n", "price": "1", "pv": 0, "active": true, "reason": "x", "x": 1}), "invalid_body"),
        ("-TEA", json!({"name": "n", "price": "1", "pv": 0, "active": true, "reason": "x"}), "invalid_product"),
        (
            &"S".repeat(33),
            json!({"name": "n", "price": "1", "pv": 0, "active": true, "reason": "x"}),
            "invalid_product",
        ),
    ] {
        let r = put(sku, body, admin.clone()).await;
        assert_eq!((r.status, r.code()), (422, code), "{sku}: {}", r.body);
    }
    assert_eq!(crate::common::count(&app.db.pool, "audit_logs").await, audits, "nothing audited");

    // The shop lists the active products only; staff see every one and the history, newest first.
    let shop = app.get(&format!("/v1/public/catalogue/{SALES}"), None).await;
    assert_eq!(shop.status, 200, "{}", shop.body);
    assert_eq!(shop.body["version"], 3);
    let products = shop.body["products"].as_array().unwrap();
    assert_eq!(products.len(), 1);
    assert_eq!((products[0]["sku"].as_str(), products[0]["pv"].as_u64()), (Some("TEA-1"), Some(13)));
    assert_eq!(human(&products[0]["price"]), "13 USDT");
    let staff = app.get(&format!("/v1/admin/catalogue/{SALES}"), Some(&admin)).await;
    assert_eq!(staff.status, 200, "{}", staff.body);
    assert_eq!(staff.body["products"].as_array().unwrap().len(), 2);
    assert_eq!(staff.body["products"][0]["name"], "योग मैट");
    let history: Vec<(u64, String)> = staff.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_u64().unwrap(), v["reason"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(history, [(3, "not yet".to_owned()), (2, "price".to_owned()), (1, "launch".to_owned())]);
    assert_eq!(app.get(&format!("/v1/admin/catalogue/{SALES}"), Some(&member)).await.status, 403);
    // Every change audited with the product before and after.
    let logged: Vec<(String, Option<Value>, Value)> = sqlx::query_as(
        "SELECT target, before, after FROM audit_logs WHERE action = 'catalogue_product_put' ORDER BY id",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(logged.len(), 3);
    assert_eq!(logged[1].0, format!("catalogue:{SALES}:TEA-1"));
    assert_eq!(
        (logged[1].1.as_ref().unwrap()["price"].as_str(), logged[1].2["price"].as_str()),
        (Some("12500000"), Some("13000000"))
    );
    assert!(logged[0].1.is_none(), "created");

    // Another plan's asset has no catalogue; an unknown asset is not found.
    let no = app.get("/v1/public/catalogue/7", None).await;
    assert_eq!((no.status, no.code()), (404, "no_catalogue"), "{}", no.body);
    let no = app.put_as("/v1/admin/catalogue/7/products/TEA-1", Some(&admin), tea.clone()).await;
    assert_eq!((no.status, no.code()), (404, "no_catalogue"), "{}", no.body);
    assert_eq!(app.get("/v1/public/catalogue/99", None).await.status, 404);
}
