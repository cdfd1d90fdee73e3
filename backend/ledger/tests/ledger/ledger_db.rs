//! The ledger against a real Postgres: the worked example, idempotency, quarantine, admin
//! actions, plan versions, reload, disclosure.

use crate::common::*;
use ledger::admin::{self, AdminError};
use ledger::disclosure::disclosure;
use ledger::plan::PlanParams;
use ledger::{ApplySummary, ChainLedger, LedgerError, digest};
use sqlx::PgPool;

/// (event, beneficiary, kind, amount in BNB, status) of every reward, in reward order.
async fn rewards(pool: &PgPool) -> Vec<(i64, String, String, String, String)> {
    sqlx::query_as(
        "SELECT r.event_seq, encode(u.address, 'hex'), r.kind, r.amount::text, r.status
         FROM rewards r JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         ORDER BY r.reward_no",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Company credit per event (BNB), in event order.
async fn company_per_event(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT COALESCE(sum(c.amount), 0)::text FROM ledger_events e
         LEFT JOIN company_credits c ON c.asset_id = e.asset_id AND c.event_seq = e.event_seq
         GROUP BY e.event_seq ORDER BY e.event_seq",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn level1_tree(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT encode(u.address, 'hex') FROM pool_nodes n
         JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.level = 1 ORDER BY n.q",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// `n` BNB in wei, as Postgres prints a NUMERIC(78,0).
fn bnb(n: u128) -> String {
    (n * BNB).to_string()
}

fn hex(name: &str) -> String {
    alloy::hex::encode(named(name))
}

fn worked_example_events() -> Vec<ledger::events::ChainEvent> {
    let fee = 20 * BNB;
    vec![
        registered(10, 0, "A", "G", fee),
        registered(11, 0, "B", "G", fee),
        registered(12, 0, "C", "A", fee),
        registered(13, 0, "D", "A", fee),
        registered(14, 0, "E", "B", fee),
        registered(15, 0, "F", "B", fee),
        registered(16, 0, "H", "G", fee),
        registered(17, 0, "I", "G", fee),
        retopped(18, 0, "A", 40 * BNB),
        retopped(19, 0, "C", 40 * BNB),
    ]
}

#[tokio::test]
async fn worked_example_of_plan_section_8_through_the_database() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let trees = [
        vec![],
        vec!["G"],
        vec!["G"],
        vec!["G", "A"],
        vec!["G", "A"],
        vec!["G", "A", "B"],
        vec!["G", "A", "B"],
        vec!["G", "A", "B", "G"],
    ];
    for (i, e) in worked_example_events().iter().enumerate() {
        let s = ledger.apply_block(std::slice::from_ref(e)).await.unwrap();
        assert_eq!(s.applied, 1);
        if let Some(t) = trees.get(i) {
            let want: Vec<String> = t.iter().map(|n| hex(n)).collect();
            assert_eq!(level1_tree(&db.pool).await, want, "tree after event {}", i + 1);
        }
    }
    let r =
        |e: i64, who: &str, kind: &str, amount: u128| (e, hex(who), kind.to_owned(), bnb(amount), "pending".to_owned());
    assert_eq!(
        rewards(&db.pool).await,
        vec![
            r(0, "G", "DIRECT", 18),
            r(2, "A", "DIRECT", 18),
            r(3, "G", "POOL_L1", 10),
            r(4, "B", "DIRECT", 18),
            r(5, "G", "POOL_L1", 10),
            r(6, "G", "DIRECT", 18),
            r(7, "A", "POOL_L1", 10),
            r(7, "G", "POOL_L2", 5),
            r(9, "A", "LEVEL", 12),
        ]
    );
    assert_eq!(company_per_event(&db.pool).await, [2, 20, 2, 10, 2, 10, 2, 5, 40, 28].map(bnb));
    assert_eq!(text(&db.pool, "SELECT company_total::text FROM assets").await, bnb(121));
    assert_eq!(text(&db.pool, "SELECT pending::text FROM user_balances WHERE user_no = 0").await, bnb(61));
    assert_eq!(text(&db.pool, "SELECT direct_count::text FROM users WHERE user_no = 0").await, "4");
    assert_eq!(text(&db.pool, "SELECT last_block || '/' || last_log_index FROM blockchain_sync").await, "19/0");
    // 200 BNB in, 121 to the company, 79 pending to users: nothing else.
    assert_eq!(text(&db.pool, "SELECT (sum(paid_in) - sum(pending))::text FROM user_balances").await, bnb(121));
}

#[tokio::test]
async fn the_same_event_twice_changes_nothing() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let events = worked_example_events();
    ledger.apply_block(&events[..5]).await.unwrap();
    let before = digest(&db.pool).await.unwrap();
    let s = ledger.apply_block(&events[..5]).await.unwrap();
    assert_eq!(s, ApplySummary { applied: 0, quarantined: 0, duplicates: 5 });
    assert_eq!(digest(&db.pool).await.unwrap(), before);
    // A batch mixing old and new events applies only the new ones.
    let s = ledger.apply_block(&events[3..]).await.unwrap();
    assert_eq!(s, ApplySummary { applied: 5, quarantined: 0, duplicates: 2 });
    // A fresh ledger (another process) skips them too.
    let mut other = ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    let after = digest(&db.pool).await.unwrap();
    let s = other.apply_block(&events).await.unwrap();
    assert_eq!(s.duplicates, events.len());
    assert_eq!(digest(&db.pool).await.unwrap(), after);
    assert_eq!(count(&db.pool, "rewards").await, 9);
}

/// The apply path looks stored events up only at or below the chain's cursors; an event stored past them (which no
/// path of the ledger writes) fails the batch at its insert, and the batch is applied again with every event looked
/// up: the stored one is a duplicate, the others apply once.
#[tokio::test]
async fn an_event_stored_past_the_cursors_is_found_and_never_applied_twice() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let events = worked_example_events();
    ledger.apply_block(&events[..5]).await.unwrap();
    let stray = &events[6];
    assert!(stray.block_number > events[4].block_number);
    sqlx::query(
        "INSERT INTO chain_events (chain_id, tx_hash, log_index, block_number, block_timestamp, name, payload, outcome)
         VALUES ($1, $2, $3, $4, $5, $6, '{}', 'applied')",
    )
    .bind(CHAIN as i64)
    .bind(stray.key.tx_hash.as_slice())
    .bind(stray.key.log_index as i64)
    .bind(stray.block_number as i64)
    .bind(stray.block_timestamp as i64)
    .bind(stray.body.name())
    .execute(&db.pool)
    .await
    .unwrap();
    let s = ledger.apply_block(&events[5..]).await.unwrap();
    assert_eq!(s, ApplySummary { applied: 4, quarantined: 0, duplicates: 1 });
    assert_eq!(count(&db.pool, "ledger_events").await, 9);
    let s = ledger.apply_block(&events).await.unwrap();
    assert_eq!(s.duplicates, events.len());
}

#[tokio::test]
async fn invalid_events_go_to_quarantine_and_change_no_ledger_row() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    ledger.apply_block(&[registered(1, 0, "A", "G", 20 * BNB)]).await.unwrap();
    let ledger_rows = |pool: PgPool| async move {
        let mut n = Vec::new();
        for t in ["users", "rewards", "company_credits", "pool_nodes", "ledger_events", "retopups"] {
            n.push(count(&pool, t).await);
        }
        (n, text(&pool, "SELECT company_total::text FROM assets").await)
    };
    let before = ledger_rows(db.pool.clone()).await;
    let mut other_token = retopped(2, 4, "A", 40 * BNB);
    if let ledger::events::EventBody::Retopped { token, .. } = &mut other_token.body {
        *token = named("USDT");
    }
    let bad = vec![
        registered(2, 0, "B", "G", 19 * BNB),
        registered(2, 1, "A", "G", 20 * BNB),
        registered(2, 2, "B", "nobody", 20 * BNB),
        retopped(2, 3, "nobody", 40 * BNB),
        other_token,
    ];
    let s = ledger.apply_block(&bad).await.unwrap();
    assert_eq!(s, ApplySummary { applied: 0, quarantined: 5, duplicates: 0 });
    assert_eq!(ledger_rows(db.pool.clone()).await, before);
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT reason_code FROM quarantine ORDER BY log_index").fetch_all(&db.pool).await.unwrap();
    assert_eq!(reasons, ["wrong_amount", "duplicate_user", "unknown_sponsor", "unknown_user", "unknown_asset"]);
    assert_eq!(count(&db.pool, "alerts").await, 5);
    // The cursor moved past them, and re-delivering them adds nothing.
    assert_eq!(text(&db.pool, "SELECT last_block || '/' || last_log_index FROM blockchain_sync").await, "2/4");
    let s = ledger.apply_block(&bad).await.unwrap();
    assert_eq!(s.duplicates, 5);
    assert_eq!(count(&db.pool, "quarantine").await, 5);
    // An event before the cursor that was never seen is an error, and changes nothing.
    let d = digest(&db.pool).await.unwrap();
    let late = registered(1, 7, "B", "G", 20 * BNB);
    assert!(matches!(ledger.apply_block(&[late]).await, Err(LedgerError::OutOfOrder { .. })));
    assert_eq!(digest(&db.pool).await.unwrap(), d);
    // The ledger recovers after the failed call.
    let s = ledger.apply_block(&[registered(3, 0, "B", "G", 20 * BNB)]).await.unwrap();
    assert_eq!(s.applied, 1);
}

#[tokio::test]
async fn freeze_holds_rewards_unfreeze_releases_them_and_forfeit_pays_the_company() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    ledger.apply_block(&[registered(1, 0, "A", "G", 20 * BNB)]).await.unwrap();
    admin::freeze(&pool, ASSET, named("G"), "ops", "test").await.unwrap();
    assert!(matches!(admin::freeze(&pool, ASSET, named("G"), "ops", "test").await, Err(AdminError::NoChange(_))));
    let status = |pool: PgPool| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM rewards ORDER BY reward_no").fetch_all(&pool).await.unwrap()
    };
    assert_eq!(status(pool.clone()).await, ["held"]);
    // The ledger sees the freeze made outside it: G's next DIRECT arrives held.
    ledger.apply_block(&[registered(2, 0, "B", "G", 20 * BNB)]).await.unwrap();
    ledger.apply_block(&[registered(3, 0, "C", "G", 20 * BNB)]).await.unwrap();
    assert_eq!(status(pool.clone()).await, ["held", "held"]);
    admin::unfreeze(&pool, ASSET, named("G"), "ops", "test").await.unwrap();
    assert_eq!(status(pool.clone()).await, ["pending", "pending"]);
    admin::freeze(&pool, ASSET, named("G"), "ops", "test").await.unwrap();
    let forfeited = admin::forfeit_held(&pool, ASSET, named("G"), "ops").await.unwrap();
    assert_eq!(forfeited, 36 * BNB);
    assert_eq!(status(pool.clone()).await, ["forfeited", "forfeited"]);
    assert_eq!(text(&pool, "SELECT company_total::text FROM assets").await, bnb(2 + 20 + 2 + 36));
    assert_eq!(
        text(&pool, "SELECT (held + pending)::text || '/' || forfeited::text FROM user_balances WHERE user_no = 0")
            .await,
        format!("0/{}", bnb(36))
    );
    let audit: Vec<(String, serde_json::Value, serde_json::Value)> =
        sqlx::query_as("SELECT action, before, after FROM audit_logs ORDER BY id").fetch_all(&pool).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(actions, ["freeze", "unfreeze", "freeze", "forfeit_held"]);
    assert_eq!(audit[0].1["frozen"], false);
    assert_eq!(audit[0].2["frozen"], true);
    assert_eq!(audit[0].2["held"], (18 * BNB).to_string());
    assert_eq!(audit[3].1["held"], (36 * BNB).to_string());
    assert_eq!(audit[3].2["forfeited"], (36 * BNB).to_string());
    assert_eq!(audit[3].2["company_total"], (60 * BNB).to_string());
    // The audit log is append-only.
    assert!(sqlx::query("DELETE FROM audit_logs").execute(&pool).await.is_err());
    // A later company credit is numbered after the forfeits.
    ledger.apply_block(&[registered(4, 0, "D", "A", 20 * BNB)]).await.unwrap();
    assert_eq!(
        text(&pool, "SELECT count(DISTINCT credit_no)::text || '/' || (max(credit_no) + 1)::text FROM company_credits")
            .await,
        "6/6"
    );
}

#[tokio::test]
async fn a_plan_version_applies_from_its_block_and_is_audited() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    ledger.apply_block(&[registered(10, 0, "A", "G", 20 * BNB)]).await.unwrap();
    let mut p2 = PlanParams::defaults(18);
    p2.retopup_fee = 50 * BNB;
    assert!(matches!(
        admin::new_plan_version(&pool, ASSET, 10, p2.clone(), "ops").await,
        Err(AdminError::InvalidVersion(_))
    ));
    let mut bad = p2.clone();
    bad.reserve_slots = 9;
    assert!(admin::new_plan_version(&pool, ASSET, 20, bad, "ops").await.is_err());
    // A quarantined event at block 15 moved the chain past block 15 too.
    ledger.apply_block(&[retopped(15, 0, "A", 1)]).await.unwrap();
    assert!(admin::new_plan_version(&pool, ASSET, 15, p2.clone(), "ops").await.is_err());
    assert_eq!(admin::new_plan_version(&pool, ASSET, 20, p2, "ops").await.unwrap(), 2);
    let s = ledger
        .apply_block(&[retopped(19, 0, "A", 40 * BNB), retopped(20, 0, "A", 40 * BNB), retopped(21, 0, "A", 50 * BNB)])
        .await
        .unwrap();
    assert_eq!(s, ApplySummary { applied: 2, quarantined: 1, duplicates: 0 });
    let versions: Vec<i32> =
        sqlx::query_scalar("SELECT plan_version FROM ledger_events ORDER BY event_seq").fetch_all(&pool).await.unwrap();
    assert_eq!(versions, [1, 1, 2]);
    let (before, after): (serde_json::Value, serde_json::Value) =
        sqlx::query_as("SELECT before, after FROM audit_logs WHERE action = 'new_plan_version'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(before["params"]["retopup_fee"], (40 * BNB).to_string());
    assert_eq!(after["params"]["retopup_fee"], (50 * BNB).to_string());
    assert_eq!(after["effective_from_block"], 20);
}

#[tokio::test]
async fn a_plan_version_starts_only_after_the_listeners_confirmed_head() {
    // Issue 43: the listener confirmed and applied blocks past the last event (blocks without any); a version from
    // a block among them would govern events a replay applies differently from how they were applied.
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    let pool = db.pool.clone();
    ledger.apply_block(&[registered(10, 0, "A", "G", 20 * BNB)]).await.unwrap();
    let head = ledger::BlockCursor { number: 364, hash: alloy::primitives::B256::repeat_byte(0x64) };
    ledger.apply_confirmed(&[], head, 1_700_000_364).await.unwrap();
    assert_eq!(admin::first_allowed_block(&pool, ASSET).await.unwrap(), 365);
    let before = digest(&pool).await.unwrap();
    let mut p2 = PlanParams::defaults(18);
    p2.retopup_fee = 50 * BNB;
    for from in [302, 364] {
        let refused = admin::new_plan_version(&pool, ASSET, from, p2.clone(), "ops").await;
        assert!(
            matches!(
                refused,
                Err(AdminError::InvalidVersion(ledger::plan::InvalidVersion::NotInFuture { after: 364, .. }))
            ),
            "from block {from}: {refused:?}"
        );
    }
    assert_eq!(digest(&pool).await.unwrap(), before, "a refused version changes nothing");
    assert_eq!(admin::new_plan_version(&pool, ASSET, 365, p2, "ops").await.unwrap(), 2);
    // Past a version that starts later still, the first allowed block is after its start.
    assert_eq!(admin::first_allowed_block(&pool, ASSET).await.unwrap(), 366);
    assert!(matches!(admin::first_allowed_block(&pool, 99).await, Err(AdminError::UnknownAsset(99))));
}

#[tokio::test]
async fn disclosure_counts_who_got_back_what_they_paid() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    ledger.apply_block(&worked_example_events()).await.unwrap();
    let d = disclosure(&db.pool, ASSET).await.unwrap();
    // Participants A..I (8). A: paid 20+40, got 18+10+12 = 40 → -20. B: paid 20, got 18 → -2.
    // Everyone else got nothing back: C -60, D..I -20. Lower median of
    // [-60, -20, -20, -20, -20, -20, -20, -2] is -20; nobody broke even.
    assert_eq!(d.participants, 8);
    assert_eq!(d.received_at_least_paid_in, 0);
    assert_eq!(d.median_net, Some(-20 * BNB as i128));
    assert_eq!(d.company_total, 121 * BNB);
}

#[tokio::test]
async fn a_reopened_ledger_continues_exactly_where_it_stopped() {
    let p = PlanParams::defaults(18);
    let ops: Vec<_> = {
        let mut s = stream(42, &p, 5);
        (0..600).map(|_| s.next_op()).collect()
    };
    let (one, mut ledger_one) = ledger(p.clone()).await;
    replay(&mut ledger_one, &ops, true).await;
    let (two, mut ledger_two) = ledger(p).await;
    replay(&mut ledger_two, &ops[..300], true).await;
    let mut reopened = ChainLedger::open(two.pool.clone(), CHAIN).await.unwrap();
    replay(&mut reopened, &ops[300..], true).await;
    assert_eq!(digest(&one.pool).await.unwrap(), digest(&two.pool).await.unwrap());
    // The stale first ledger notices the other one and reloads before applying.
    let more: Vec<_> = {
        let mut s = stream(42, &PlanParams::defaults(18), 5);
        (0..700).map(|_| s.next_op()).collect()
    };
    replay(&mut ledger_two, &more[600..], true).await;
    replay(&mut ledger_one, &more[600..], true).await;
    assert_eq!(digest(&one.pool).await.unwrap(), digest(&two.pool).await.unwrap());
}

#[tokio::test]
async fn two_assets_on_one_chain_never_mix() {
    use alloy::primitives::U256;
    use ledger::events::EventBody;
    use ledger::{AssetSpec, create_asset};

    let (db, _) = ledger(PlanParams::defaults(18)).await;
    // A 6-decimal USDT with a fee that no bps divides evenly.
    let usdt = named("USDT");
    let mut p = PlanParams::defaults(6);
    p.registration_fee = 20_000_001;
    p.level_price[0] = 20_000_001;
    p.pool_entry_every = 1;
    create_asset(
        &db.pool,
        &AssetSpec {
            id: 2,
            chain_id: CHAIN,
            token: usdt,
            symbol: "USDT".into(),
            decimals: 6,
            genesis: genesis(),
            params: p,
        },
    )
    .await
    .unwrap();
    let mut ledger = ChainLedger::open(db.pool.clone(), CHAIN).await.unwrap();
    let in_usdt = |mut e: ledger::events::ChainEvent| {
        if let EventBody::Registered { token, amount, .. } = &mut e.body {
            *token = usdt;
            *amount = U256::from(20_000_001u64);
        }
        e
    };
    let s = ledger
        .apply_block(&[
            registered(1, 0, "A", "G", 20 * BNB),
            in_usdt(registered(1, 1, "A", "G", 0)),
            in_usdt(registered(1, 2, "B", "G", 0)),
            registered(1, 3, "B", "A", 20 * BNB),
        ])
        .await
        .unwrap();
    assert_eq!(s.applied, 4);
    let per_asset: Vec<(i32, i64, String)> = sqlx::query_as(
        "SELECT a.id, (SELECT count(*) FROM users u WHERE u.asset_id = a.id), a.company_total::text
         FROM assets a ORDER BY a.id",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    // BNB: A under G (DIRECT 18, company 2), B under A (DIRECT 18, company 2).
    // USDT: every referral enters the pool: G at q=0 (all 20.000001 to the company), then
    // G at q=1 under q=0: G gets 50 % = 10.0000005 → 10_000_000, company 10_000_001.
    assert_eq!(per_asset, vec![(1, 3, (4 * BNB).to_string()), (2, 3, (20_000_001u64 + 10_000_001).to_string())]);
    let usdt_rewards: Vec<(String, String)> =
        sqlx::query_as("SELECT kind, amount::text FROM rewards WHERE asset_id = 2 ORDER BY reward_no")
            .fetch_all(&db.pool)
            .await
            .unwrap();
    assert_eq!(usdt_rewards, [("POOL_L1".to_owned(), "10000000".to_owned())]);
}

/// Σ rewards + Σ company credits of admin placements (rows without an event), and Σ of the prices they were
/// funded with: the admin placements' prices from the company plus the auto-progressions' prices from reserves.
async fn admin_rows(pool: &PgPool) -> (String, String) {
    sqlx::query_as(
        "SELECT ((SELECT COALESCE(sum(amount), 0) FROM rewards WHERE event_seq IS NULL)
                 + (SELECT COALESCE(sum(amount), 0) FROM company_credits WHERE event_seq IS NULL))::text,
                (SELECT COALESCE(sum(amount), 0) FROM placements WHERE event_seq IS NULL)::text",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_manual_placement_pays_its_price_from_the_company_and_conserves_it() {
    let (db, mut ledger) = ledger(PlanParams::defaults(18)).await;
    ledger.apply_block(&worked_example_events()).await.unwrap();
    let pool = db.pool.clone();
    assert_eq!(text(&pool, "SELECT company_total::text FROM assets").await, bnb(121));
    // A at level 1 takes q=4: POOL_L1 10 to A (q=1), POOL_L2 5 to G (q=0), 5 back to the company.
    let done = admin::manual_placement(&pool, ASSET, named("A"), 1, "test").await.unwrap();
    assert_eq!((done.q, done.price, done.applied_events, done.admin_seq), (4, 20 * BNB, 10, 1));
    let credits: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT encode(u.address, 'hex'), r.kind, r.amount::text, r.status FROM rewards r
         JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         WHERE r.event_seq IS NULL ORDER BY r.reward_no",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let c = |who: &str, kind: &str, n: u128| (hex(who), kind.to_owned(), bnb(n), "pending".to_owned());
    assert_eq!(credits, vec![c("A", "POOL_L1", 10), c("G", "POOL_L2", 5)]);
    // Credits + company part = price; company_total fell by the price and got its part back.
    assert_eq!(admin_rows(&pool).await, (bnb(20), bnb(20)));
    assert_eq!(text(&pool, "SELECT company_total::text FROM assets").await, bnb(121 - 20 + 5));
    assert_eq!(
        text(
            &pool,
            "SELECT ((SELECT sum(amount) FROM company_credits)
                     - (SELECT sum(amount) FROM placements WHERE cause = 'admin') - company_total)::text FROM assets"
        )
        .await,
        "0"
    );
    assert_eq!(text(&pool, "SELECT pending::text FROM user_balances WHERE user_no = 0").await, bnb(61 + 5));
    assert_eq!(text(&pool, "SELECT node_count::text FROM pools WHERE level = 1").await, "5");
    let audit: (String, i64, serde_json::Value) =
        sqlx::query_as("SELECT action, applied_events, after FROM audit_logs ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((audit.0.as_str(), audit.1), ("manual_placement", 10));
    assert_eq!(audit.2["company_total"], bnb(106));

    // Refused: unknown user, missing level, more than the company holds; nothing changes.
    let before = digest(&pool).await.unwrap();
    assert!(matches!(
        admin::manual_placement(&pool, ASSET, named("nobody"), 1, "test").await,
        Err(AdminError::UnknownUser(_))
    ));
    assert!(matches!(
        admin::manual_placement(&pool, ASSET, named("A"), 16, "test").await,
        Err(AdminError::Refused { code: "invalid_level", .. })
    ));
    assert!(matches!(
        admin::manual_placement(&pool, ASSET, named("A"), 4, "test").await,
        Err(AdminError::Refused { code: "insufficient_company_share", .. })
    ));
    assert_eq!(digest(&pool).await.unwrap(), before);
    // A treasury transfer executed on-chain took 100 of the 106 BNB: 6 are left, less than a level-1 node.
    sqlx::query(
        "INSERT INTO treasury_transfers (asset_id, chain_nonce, recipient, amount, origin, status, executed_block)
         VALUES (1, 7, $1, $2::numeric, 'chain', 'executed', 20)",
    )
    .bind(named("treasury").as_slice())
    .bind(bnb(100))
    .execute(&pool)
    .await
    .unwrap();
    assert!(matches!(
        admin::manual_placement(&pool, ASSET, named("A"), 1, "test").await,
        Err(AdminError::Refused { code: "insufficient_company_share", .. })
    ));
    sqlx::query("DELETE FROM treasury_transfers").execute(&pool).await.unwrap();

    // A ledger opened now continues after the placement: J under C, then K under C (C's pool entry, q=5).
    let mut ledger = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    let fee = 20 * BNB;
    ledger.apply_block(&[registered(30, 0, "J", "C", fee), registered(31, 0, "K", "C", fee)]).await.unwrap();
    assert_eq!(level1_tree(&pool).await, ["G", "A", "B", "G", "A", "C"].iter().map(|n| hex(n)).collect::<Vec<_>>());
    // K's fee placed C at q=5: POOL_L1 to B (q=2), POOL_L2 to G (q=0).
    let last: Vec<(String, String)> = sqlx::query_as(
        "SELECT encode(u.address, 'hex'), r.amount::text FROM rewards r
         JOIN users u ON u.asset_id = r.asset_id AND u.user_no = r.beneficiary_no
         WHERE r.event_seq = 11 ORDER BY r.reward_no",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(last, vec![(hex("B"), bnb(10)), (hex("G"), bnb(5))]);
}

#[tokio::test]
async fn manual_placements_that_fill_reserved_slots_auto_progress_and_conserve_every_price() {
    // Level 2 costs 3 BNB, so one reserved POOL_L3 credit (15 % of 20) buys its owner a level-2 node at once.
    let mut params = PlanParams::defaults(18);
    params.level_price[1] = 3 * BNB;
    let (db, mut ledger) = ledger(params).await;
    let pool = db.pool.clone();
    // Thirty referrals of G: fifteen DIRECTs and fifteen level-1 pool entries of G (q = 0..14); then ten
    // retopups whose 40 BNB all go to the company (nobody above has retopped): the company can pay placements.
    let mut events: Vec<_> = (0..30).map(|i| registered(10 + i, 0, &format!("U{i}"), "G", 20 * BNB)).collect();
    events.extend((0..10).map(|i| retopped(50 + i, 0, &format!("U{i}"), 40 * BNB)));
    ledger.apply_block(&events).await.unwrap();
    for i in 0..12 {
        let company: u128 = text(&pool, "SELECT company_total::text FROM assets").await.parse().unwrap();
        let done = admin::manual_placement(&pool, ASSET, named(&format!("U{i}")), 1, "test").await.unwrap();
        assert_eq!(done.q, 15 + i);
        let (out, funded) = admin_rows(&pool).await;
        assert_eq!(out, funded, "placement {i}: credits + company parts differ from the prices");
        let after: u128 = text(&pool, "SELECT company_total::text FROM assets").await.parse().unwrap();
        let part: u128 = sqlx::query_scalar::<_, String>(
            "SELECT COALESCE(sum(c.amount), 0)::text FROM company_credits c
             JOIN placements p ON p.asset_id = c.asset_id AND p.placement_no = c.placement_no
             WHERE c.event_seq IS NULL AND (p.placement_no = $1 OR p.parent_placement_no = $1)",
        )
        .bind(done.placement_no as i64)
        .fetch_one(&pool)
        .await
        .unwrap()
        .parse()
        .unwrap();
        assert_eq!(after, company - done.price + part, "placement {i}");
    }
    // q = 19..22 fill the reserved slots 11..14 of G's node q=1: each reserves 3 BNB for G towards level 2,
    // which buys G a level-2 node at once.
    let auto: Vec<(String, String)> = sqlx::query_as(
        "SELECT encode(u.address, 'hex'), p.amount::text FROM placements p
         JOIN users u ON u.asset_id = p.asset_id AND u.user_no = p.owner_no
         WHERE p.cause = 'auto_progression' AND p.event_seq IS NULL ORDER BY p.placement_no",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(auto, vec![(hex("G"), bnb(3)); 4]);
    // Reserves agree with their movements, and balances with the reserves.
    assert_eq!(
        text(
            &pool,
            "SELECT count(*)::text FROM user_reserves r
             WHERE r.amount <> (SELECT COALESCE(sum(delta), 0) FROM reserve_movements m
                                WHERE m.asset_id = r.asset_id AND m.user_no = r.user_no AND m.level = r.level)"
        )
        .await,
        "0"
    );
    assert_eq!(
        text(
            &pool,
            "SELECT count(*)::text FROM user_balances b
             WHERE b.reserved <> (SELECT COALESCE(sum(amount), 0) FROM user_reserves r
                                  WHERE r.asset_id = b.asset_id AND r.user_no = b.user_no)"
        )
        .await,
        "0"
    );
    // Every wei in is owed to a user or is the company's: paid_in = owed + company.
    assert_eq!(
        text(
            &pool,
            "SELECT (sum(paid_in) - sum(pending + held + reserved) - (SELECT company_total FROM assets))::text
             FROM user_balances"
        )
        .await,
        "0"
    );
    // A reopened ledger loads the admin rows and keeps applying.
    let mut ledger = ChainLedger::open(pool.clone(), CHAIN).await.unwrap();
    let s = ledger.apply_block(&[registered(100, 0, "late", "U0", 20 * BNB)]).await.unwrap();
    assert_eq!(s.applied, 1);
}

#[tokio::test]
async fn a_running_ledger_sees_a_manual_placement_before_its_next_event() {
    // The listener's ledger stays open while an admin places a node: its next event must apply on top of the
    // placement (first time, no error), exactly as a ledger opened after the placement would apply it.
    let (db, mut running) = ledger(PlanParams::defaults(18)).await;
    running.apply_block(&worked_example_events()).await.unwrap();
    let pool = db.pool.clone();
    admin::manual_placement(&pool, ASSET, named("A"), 1, "test").await.unwrap();
    let next = [registered(100, 0, "N1", "A", 20 * BNB), registered(100, 1, "N2", "A", 20 * BNB)];
    running.apply_block(&next).await.expect("the running ledger applies on top of the placement");
    let after_running = ledger::digest(&pool).await.unwrap();

    let (db2, mut first) = ledger(PlanParams::defaults(18)).await;
    first.apply_block(&worked_example_events()).await.unwrap();
    admin::manual_placement(&db2.pool, ASSET, named("A"), 1, "test").await.unwrap();
    let mut reopened = ledger::ChainLedger::open(db2.pool.clone(), first.chain_id()).await.unwrap();
    reopened.apply_block(&next).await.unwrap();
    assert_eq!(after_running, ledger::digest(&db2.pool).await.unwrap());
    // Both new users are in, and the placement's node (q=4) is still A's: nothing was placed twice.
    assert_eq!(text(&pool, "SELECT applied_events::text FROM assets").await, "12");
    assert_eq!(
        text(&pool, "SELECT encode(u.address, 'hex') FROM pool_nodes n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no WHERE n.level = 1 AND n.q = 4").await,
        hex("A")
    );
}

/// The lifecycle's names in Rust are the database's: each `CHECK` list of `authorisations.kind`,
/// `authorisations.status` and `authorisation_signatures.action` is exactly its enum's names, and each outflow
/// table's status list is within [`OutflowStatus`] (a name added on one side only fails here, not on a live row).
#[tokio::test]
async fn the_lifecycle_enums_name_exactly_what_the_database_allows() {
    use ledger::authorisations::{AuthorisationStatus, OutflowKind, OutflowStatus, SignAction};
    let (db, _ledger) = ledger(PlanParams::defaults(18)).await;
    // The quoted names of the column's one-column `IN (…)` check on `table`.
    let allowed = |table: &'static str, column: &'static str| {
        let pool = db.pool.clone();
        async move {
            let checks: Vec<String> = sqlx::query_scalar(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'c'",
            )
            .bind(table)
            .fetch_all(&pool)
            .await
            .unwrap();
            let prefix = format!("CHECK (({column} = ANY (ARRAY[");
            let list = checks
                .iter()
                .find(|c| c.starts_with(&prefix))
                .unwrap_or_else(|| panic!("{table}.{column}: {checks:?}"));
            let mut names: Vec<String> = list.split('\'').skip(1).step_by(2).map(str::to_owned).collect();
            names.sort();
            names
        }
    };
    let sorted = |names: &mut dyn Iterator<Item = &'static str>| {
        let mut v: Vec<String> = names.map(str::to_owned).collect();
        v.sort();
        v
    };
    let kinds = allowed("authorisations", "kind").await;
    assert_eq!(kinds, sorted(&mut OutflowKind::ALL.iter().map(|k| k.as_str())));
    let statuses = allowed("authorisations", "status").await;
    assert_eq!(statuses, sorted(&mut AuthorisationStatus::ALL.iter().map(|s| s.as_str())));
    let actions = allowed("authorisation_signatures", "action").await;
    assert_eq!(actions, sorted(&mut SignAction::ALL.iter().map(|a| a.as_str())));
    for table in ["treasury_transfers", "forfeits"] {
        for name in allowed(table, "status").await {
            assert!(OutflowStatus::parse(&name).is_some(), "{table}.status {name:?} is no OutflowStatus");
        }
    }
    for status in ledger::payouts::BatchStatus::ALL {
        assert!(OutflowStatus::parse(status.as_str()).is_some(), "batch status {status} is no OutflowStatus");
    }
}
