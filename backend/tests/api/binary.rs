//! The binary plan through the API (PLAN-BINARY.md): its parameters and odds in `/v1/public/plan`, a member's standing
//! (§7's A after two closes: parent, children, legs, carries, pairs, reserved and why, their lines), the tree around
//! a member (bounded depth, their own subtree only) and the closes for staff.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::binary::BinaryParams;
use ledger::{AssetSpec, BlockCursor, ChainLedger, create_asset};
use serde_json::Value;

use crate::common::CHAIN;
use crate::helpers::{Chain, spawn_app};

const BIN: i32 = 3;
const USDT: u128 = 1_000_000;
/// 2026-11-01, 2026-12-01 and 2027-01-01 at 00:00:00 UTC.
const NOV: u64 = 1_793_491_200;
const DEC: u64 = 1_796_083_200;
const JAN: u64 = 1_798_761_600;

fn token() -> Address {
    Address::repeat_byte(0x0e)
}

fn event(block: u64, time: u64, body: EventBody) -> ChainEvent {
    ChainEvent {
        contract: Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: time,
        body,
    }
}

fn registered(block: u64, time: u64, user: Address, sponsor: Address, usdt: u128) -> ChainEvent {
    let amount = U256::from(usdt * USDT);
    event(block, time, EventBody::Registered { user, sponsor, token: token(), amount, nonce: U256::from(block) })
}

fn bought(block: u64, time: u64, user: Address, usdt: u128) -> ChainEvent {
    let amount = U256::from(usdt * USDT);
    event(block, time, EventBody::Retopped { user, token: token(), amount, nonce: U256::from(block) })
}

fn human(v: &Value) -> String {
    v["human"].as_str().unwrap_or_else(|| panic!("no amount: {v}")).to_owned()
}

#[tokio::test]
async fn the_binary_plan_is_public_a_member_sees_legs_carries_pairs_and_reserved_and_staff_see_closes() {
    let app = spawn_app().await;
    // Genesis, the operator's wallet at the tree's root, signs in too.
    let g_key = PrivateKeySigner::random();
    let g = g_key.address();
    create_asset(
        &app.db.pool,
        &AssetSpec {
            id: BIN,
            chain_id: CHAIN,
            token: token(),
            symbol: "USDT".into(),
            decimals: 6,
            genesis: g,
            params: BinaryParams::defaults(6),
        },
    )
    .await
    .unwrap();
    // §7's periods 1 and 2: A, B under G; C, D under A; E under G (B's left); B buys; then C buys, F under D, D buys.
    let [a, b, c, d, e, f] = [(); 6].map(|_| PrivateKeySigner::random());
    let t1 = NOV + 86_400;
    let t2 = DEC + 86_400;
    let events = [
        registered(1, t1, a.address(), g, 100),
        registered(2, t1, b.address(), g, 500),
        registered(3, t1, c.address(), a.address(), 1000),
        registered(4, t1, d.address(), a.address(), 100),
        registered(5, t1, e.address(), g, 100),
        bought(6, t1, b.address(), 1000),
        bought(7, t2, c.address(), 5000),
        registered(8, t2, f.address(), d.address(), 500),
        bought(9, t2, d.address(), 1000),
    ];
    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let s = ledger.apply_block(&events).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (9, 0));
    ledger.apply_confirmed(&[], BlockCursor { number: 10, hash: B256::repeat_byte(0x10) }, JAN).await.unwrap();

    // The plan and its odds: two closes paid 110 USDT to A, 12 of it reserved.
    let plan = app.get("/v1/public/plan", None).await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    let p = &plan.body["binary"][0];
    assert_eq!(
        (p["asset_id"].as_i64(), p["symbol"].as_str(), p["period"].as_str()),
        (Some(3), Some("USDT"), Some("month"))
    );
    let packages: Vec<String> = p["packages"].as_array().unwrap().iter().map(human).collect();
    assert_eq!(packages, ["100 USDT", "500 USDT", "1000 USDT", "5000 USDT"]);
    assert_eq!(
        [human(&p["pair_volume"]), human(&p["pair_bonus"]), human(&p["active_paid_in"])],
        ["100 USDT", "10 USDT", "500 USDT"]
    );
    assert_eq!(
        (p["max_pairs"].as_u64(), p["free_pairs"].as_u64(), p["retention_bps"].as_u64(), p["max_payout_bps"].as_u64()),
        (Some(10), Some(5), Some(2000), Some(5000))
    );
    let o = &p["odds"];
    assert_eq!(
        (o["members"].as_i64(), o["members_paid_pairs"].as_i64(), o["periods_closed"].as_i64()),
        (Some(6), Some(1), Some(2))
    );
    assert_eq!((human(&o["pair_bonuses"]), human(&o["reserved"])), ("110 USDT".into(), "12 USDT".into()));
    assert_eq!(o["periods_scaled"], 0);

    // A after period 2's close: G's left child with C left and D right; legs 6000/1600, carries 4400/0; 11 pairs
    // paid, none exempt left; 12 reserved because A has paid in 100 of the 500 that makes an active buyer.
    let token_a = app.signin(Chain::Evm, &a).await["access_token"].as_str().unwrap().to_owned();
    let s = app.get(&format!("/v1/users/binary?asset_id={BIN}"), Some(&token_a)).await;
    assert_eq!(s.status, 200, "{}", s.body);
    let s = s.body;
    assert_eq!(
        (s["user_no"].as_i64(), s["parent"]["user_no"].as_i64(), s["side"].as_str()),
        (Some(1), Some(0), Some("left"))
    );
    assert_eq!(s["left_child"]["address"], c.address().to_checksum(None));
    assert_eq!(s["right_child"]["address"], d.address().to_checksum(None));
    assert_eq!(
        [human(&s["left_leg"]), human(&s["right_leg"]), human(&s["left_carry"]), human(&s["right_carry"])],
        ["6000 USDT", "1600 USDT", "4400 USDT", "0 USDT"]
    );
    assert_eq!((s["pairs_this_period"].as_str(), s["pairs_lifetime"].as_i64()), (Some("0"), Some(11)));
    assert_eq!(s["free_pairs_left"], 0);
    assert_eq!((human(&s["paid_in"]), s["active_buyer"].as_bool()), ("100 USDT".into(), Some(false)));
    assert_eq!((human(&s["to_active_buyer"]), human(&s["reserved"])), ("400 USDT".into(), "12 USDT".into()));
    let why = s["reserved_why"].as_str().unwrap();
    assert!(why.contains("20 %") && why.contains("500 USDT"), "{why}");
    let lines: Vec<(i64, String, String, String)> = s["closes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["paid"].as_i64().unwrap(), human(&l["bonus"]), human(&l["reserved"]), human(&l["rest"])))
        .collect();
    assert_eq!(
        lines,
        [
            (10, "100 USDT".into(), "12 USDT".into(), "88 USDT".into()),
            (1, "10 USDT".into(), "0 USDT".into(), "10 USDT".into())
        ]
    );
    // Not a member; not a binary asset.
    let stranger = app.user_token().await;
    assert_eq!(app.get(&format!("/v1/users/binary?asset_id={BIN}"), Some(&stranger)).await.code(), "not_registered");
    assert_eq!(app.get("/v1/users/binary?asset_id=99", Some(&token_a)).await.status, 404);

    // The tree under A, two levels: A, then C (left) and D (right), then F under D (left).
    let t = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&depth=2"), Some(&token_a)).await;
    assert_eq!(t.status, 200, "{}", t.body);
    let nodes: Vec<(i64, i64, Option<String>)> = t.body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["user_no"].as_i64().unwrap(), n["depth"].as_i64().unwrap(), n["side"].as_str().map(String::from)))
        .collect();
    assert_eq!(
        nodes,
        [(1, 0, None), (3, 1, Some("left".into())), (4, 1, Some("right".into())), (6, 2, Some("left".into()))]
    );
    assert_eq!(t.body["nodes"][2]["has_children"], true, "D has F");
    // The next page down: D as the root. B's subtree is not A's; a depth past 4 is refused.
    let below = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&root=4&depth=1"), Some(&token_a)).await;
    assert_eq!((below.status, below.body["nodes"].as_array().map(Vec::len)), (200, Some(2)), "{}", below.body);
    let outside = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&root=2"), Some(&token_a)).await;
    assert_eq!(outside.status, 404, "{}", outside.body);
    let deep = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&depth=5"), Some(&token_a)).await;
    assert_eq!((deep.status, deep.code()), (422, "invalid_depth"));

    // Genesis sees the whole tree from the root (it is placed under nobody), and any member's subtree below it.
    let token_g = app.signin(Chain::Evm, &g_key).await["access_token"].as_str().unwrap().to_owned();
    let whole = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&depth=1"), Some(&token_g)).await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    let top: Vec<(i64, Option<&str>)> = whole.body["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["user_no"].as_i64().unwrap(), n["side"].as_str()))
        .collect();
    assert_eq!(top, [(0, None), (1, Some("left")), (2, Some("right"))], "{}", whole.body);
    let under_d = app.get(&format!("/v1/users/binary/tree?asset_id={BIN}&root=4&depth=1"), Some(&token_g)).await;
    assert_eq!((under_d.status, under_d.body["nodes"].as_array().map(Vec::len)), (200, Some(2)), "{}", under_d.body);

    // Staff see the closes, newest first; members do not.
    let admin = app.admin_token().await;
    let closes = app.get(&format!("/v1/admin/binary/closes?asset_id={BIN}"), Some(&admin)).await;
    assert_eq!(closes.status, 200, "{}", closes.body);
    let figures: Vec<[String; 5]> = closes.body["closes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            [
                human(&c["volume"]),
                human(&c["company_before"]),
                human(&c["budget"]),
                human(&c["credited"]),
                human(&c["reserved"]),
            ]
        })
        .collect();
    assert_eq!(
        figures,
        [
            ["6500 USDT", "8360 USDT", "3250 USDT", "100 USDT", "12 USDT"].map(String::from),
            ["2800 USDT", "2520 USDT", "1400 USDT", "10 USDT", "0 USDT"].map(String::from)
        ]
    );
    assert_eq!(
        (closes.body["closes"][0]["period_end"].as_u64(), closes.body["closes"][0]["lines"].as_i64()),
        (Some(JAN), Some(3))
    );
    let page = app.get(&format!("/v1/admin/binary/closes?asset_id={BIN}&limit=1&before=99999"), Some(&admin)).await;
    assert_eq!(page.body["closes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.get(&format!("/v1/admin/binary/closes?asset_id={BIN}&limit=0"), Some(&admin)).await.code(),
        "invalid_limit"
    );
    assert_eq!(app.get(&format!("/v1/admin/binary/closes?asset_id={BIN}"), Some(&token_a)).await.status, 403);
}
