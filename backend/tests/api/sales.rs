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

fn human(v: &Value) -> String {
    v["human"].as_str().unwrap_or_else(|| panic!("no amount: {v}")).to_owned()
}

#[tokio::test]
async fn the_sales_plan_is_public_a_member_sees_customers_sales_volumes_and_maturing_and_staff_see_closes() {
    let app = spawn_app().await;
    let g = PrivateKeySigner::random().address();
    let spec = AssetSpec {
        id: SALES,
        chain_id: CHAIN,
        token: token(),
        symbol: "USDT".into(),
        decimals: 6,
        genesis: g,
        params: SalesParams::defaults(6),
    };
    create_asset(&app.db.pool, &spec).await.unwrap();
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
