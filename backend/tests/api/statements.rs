//! Money in words (issue 47) through the API, on a generation asset with a 5 % withdrawal fee: each credit's chain
//! time and transaction, each payment part's fee and net, the member's received and fees, a member's cancel of their
//! own withdraw request, the operator's payout schedule, and the CSV statements (member and staff).

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::signers::local::PrivateKeySigner;
use ledger::events::{ChainEvent, EventBody, EventKey};
use ledger::plan::generation::GenerationParams;
use ledger::{AssetSpec, ChainLedger, create_asset};
use serde_json::json;

use crate::common::{CHAIN, genesis};
use crate::helpers::{Chain, TestApp, registration_event, spawn_app_configured};
use crate::signer_service::SETTLEMENT;

const GEN: i32 = 2;
const USDT: u128 = 1_000_000;

fn usdt() -> Address {
    Address::repeat_byte(0x0d)
}

fn bought(block: u64, user: Address, amount: u128) -> ChainEvent {
    ChainEvent {
        contract: Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: keccak256(block.to_be_bytes()), log_index: 0 },
        block_number: block,
        block_timestamp: 1_700_000_000 + block,
        body: EventBody::Retopped { user, token: usdt(), amount: U256::from(amount), nonce: U256::from(block) },
    }
}

/// PLAN-GENERATION.md §7's events with `a` and `b` as A and B: A is credited 50 (block 21), 50 (22), 50 (24) and
/// 150 (25) = 300 USDT.
async fn seed(app: &TestApp, a: Address, b: Address) {
    let spec = AssetSpec {
        id: GEN,
        chain_id: CHAIN,
        token: usdt(),
        symbol: "GUSDT".into(),
        decimals: 6,
        genesis: genesis(),
        params: GenerationParams::defaults(6),
    };
    create_asset(&app.db.pool, &spec).await.unwrap();
    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    let (c, d) = (Address::repeat_byte(0xc0), Address::repeat_byte(0xd0));
    let reg = |block, user, sponsor, amount: u128| {
        registration_event(CHAIN, block, user, sponsor, usdt(), U256::from(amount), U256::from(block))
    };
    let events = [
        reg(20, a, genesis(), 100 * USDT),
        reg(21, b, a, 500 * USDT),
        reg(22, c, b, 1000 * USDT),
        reg(23, d, genesis(), 100 * USDT),
        bought(24, c, 1000 * USDT),
        bought(25, c, 5000 * USDT),
    ];
    let s = ledger.apply_block(&events).await.unwrap();
    assert_eq!((s.applied, s.quarantined), (6, 0));
}

/// Signs batch `batch_id` and applies its execution with every push paid, in block 100 (time 1_700_000_100).
async fn execute_all_paid(app: &TestApp, batch_id: i64) {
    let hash = B256::repeat_byte(0x45);
    ledger::payouts::record_signed(&app.db.pool, batch_id, U256::from(9), hash, 1_800_000_000, &[1; 65]).await.unwrap();
    let (total, count): (String, i64) = sqlx::query_as(
        "SELECT b.total::text, (SELECT count(*) FROM payout_batch_items i WHERE i.batch_id = b.id)
         FROM payout_batches b WHERE b.id = $1",
    )
    .bind(batch_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let executed = ChainEvent {
        contract: Address::ZERO,
        key: EventKey { chain_id: CHAIN, tx_hash: B256::repeat_byte(0x78), log_index: 0 },
        block_number: 100,
        block_timestamp: 1_700_000_100,
        body: EventBody::PayoutBatchExecuted {
            nonce: U256::from(9),
            token: usdt(),
            payouts_hash: hash,
            total: total.parse().unwrap(),
            count: U256::from(count),
            deferred_count: U256::ZERO,
            deferred_total: U256::ZERO,
        },
    };
    let mut ledger = ChainLedger::open(app.db.pool.clone(), CHAIN).await.unwrap();
    assert_eq!(ledger.apply_block(&[executed]).await.unwrap().applied, 1, "the settlement applies");
}

async fn spawn() -> TestApp {
    spawn_app_configured("redis://127.0.0.1:6379", |s| {
        s.chains = vec![backend::config::ChainSettings::new(CHAIN, SETTLEMENT)];
        s.payouts.schedule = Some(backend::config::PayoutSchedule { every_secs: 604_800, origin: 345_600 });
    })
    .await
}

/// A CSV answer: status, content type, content disposition and the body's lines.
async fn csv(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, String, Vec<String>) {
    let mut req = app.client.get(format!("{}{path}", app.base));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let header = |n: &str| res.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (content_type, disposition) = (header("content-type"), header("content-disposition"));
    let text = res.text().await.unwrap();
    if status == 200 {
        // Read back by a CSV reader: every record has exactly the header's cells (issue 66: a row whose first cell
        // was empty had one fewer, every value under the wrong heading).
        let records = read_csv(&text);
        for (i, r) in records.iter().enumerate() {
            assert_eq!(
                r.len(),
                records[0].len(),
                "{path}: record {i} has {} cells under a header of {}",
                r.len(),
                records[0].len()
            );
        }
    }
    (status, content_type, disposition, text.split("\r\n").filter(|l| !l.is_empty()).map(str::to_owned).collect())
}

/// `text` read by a CSV reader, the header row included.
fn read_csv(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.expect("RFC 4180 CSV").iter().map(str::to_owned).collect())
        .collect()
}

/// The cell under `column` of each data record of `text` (a CSV with a header row).
fn column(text_lines: &[String], column: &str) -> Vec<String> {
    let records = read_csv(&text_lines.join("\r\n"));
    let at = records[0].iter().position(|h| h == column).unwrap_or_else(|| panic!("no column {column}"));
    records[1..].iter().map(|r| r[at].clone()).collect()
}

#[tokio::test]
async fn a_member_reads_fees_nets_times_and_cancels_and_statements_add_up() {
    let app = spawn().await;
    let (a, b) = (PrivateKeySigner::random(), PrivateKeySigner::random());
    seed(&app, a.address(), b.address()).await;
    let token_a = app.signin(Chain::Evm, &a).await["access_token"].as_str().unwrap().to_owned();
    let token_b = app.signin(Chain::Evm, &b).await["access_token"].as_str().unwrap().to_owned();

    // A asks to be paid, cancels, cancels again (same answer); B cannot cancel A's request.
    let asked = app.post_as("/v1/users/withdraw", Some(&token_a), json!({ "asset_id": GEN })).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    let first = asked.body["request"]["id"].as_i64().unwrap();
    let cancel = format!("/v1/users/withdrawals/{first}/cancel");
    let by_b = app.post_as(&cancel, Some(&token_b), json!({})).await;
    assert_eq!((by_b.status, by_b.code()), (404, "withdraw_request_not_found"));
    let once = app.post_as(&cancel, Some(&token_a), json!({})).await;
    assert_eq!(once.status, 200, "{}", once.body);
    assert_eq!((once.body["status"].as_str(), once.body["cancelled_by"].as_str()), (Some("cancelled"), Some("member")));
    let twice = app.post_as(&cancel, Some(&token_a), json!({})).await;
    assert_eq!((twice.status, &twice.body), (200, &once.body), "a second cancel answers the same");

    // A new request is taken by the batch; cancelling it then is refused and changes nothing.
    let again = app.post_as("/v1/users/withdraw", Some(&token_a), json!({ "asset_id": GEN })).await;
    let second = again.body["request"]["id"].as_i64().unwrap();
    let limits = ledger::payouts::BuildLimits::new(10, u128::MAX);
    let built = ledger::payouts::build_batch(&app.db.pool, GEN, &limits).await.unwrap().expect("pending rewards");
    let late = app.post_as(&format!("/v1/users/withdrawals/{second}/cancel"), Some(&token_a), json!({})).await;
    assert_eq!((late.status, late.code()), (409, "withdraw_request_batched"));
    let requests = app.get(&format!("/v1/users/withdrawals?asset_id={GEN}"), Some(&token_a)).await;
    let items = requests.body["items"].as_array().unwrap();
    assert_eq!((items[0]["id"].as_i64(), items[0]["status"].as_str()), (Some(second), Some("batched")));
    assert_eq!((items[1]["id"].as_i64(), items[1]["status"].as_str()), (Some(first), Some("cancelled")));
    assert!(items[1]["batch"].is_null(), "the batch did not take the cancelled request");
    assert_eq!(items[1]["cancelled_by"], "member");
    // Weekly schedule from Monday 00:00 UTC: the next Monday 00:00 at or after the chain's now.
    let next = requests.body["payouts"]["expected_next_batch_at"].as_str().expect("a schedule is configured");
    let next_secs = chrono::DateTime::parse_from_rfc3339(next).unwrap().timestamp() as u64;
    let now = app.clock.now();
    assert!(next_secs >= now && next_secs < now + 604_800 && (next_secs - 345_600).is_multiple_of(604_800), "{next}");
    assert_eq!(requests.body["payouts"]["schedule_every_secs"], 604_800);

    execute_all_paid(&app, built.id).await;

    // History: each credit's chain time and transaction; the entry's 15 USDT fee (5 % of 300) over its parts.
    let history = app.get(&format!("/v1/users/history?asset_id={GEN}"), Some(&token_a)).await;
    let items = history.body["items"].as_array().unwrap();
    let got: Vec<(u64, &str, &str, &str, &str)> = items
        .iter()
        .map(|r| {
            let p = &r["payments"][0];
            (
                r["block"].as_u64().unwrap(),
                r["credited_at"].as_str().unwrap(),
                p["amount"]["base"].as_str().unwrap(),
                p["fee"]["base"].as_str().unwrap(),
                p["net"]["base"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (25, "2023-11-14T22:13:45.000000Z", "150000000", "7500000", "142500000"),
            (24, "2023-11-14T22:13:44.000000Z", "50000000", "2500000", "47500000"),
            (22, "2023-11-14T22:13:42.000000Z", "50000000", "2500000", "47500000"),
            (21, "2023-11-14T22:13:41.000000Z", "50000000", "2500000", "47500000"),
        ]
    );
    assert_eq!(items[0]["tx_hash"].as_str().unwrap(), alloy::hex::encode_prefixed(keccak256(25u64.to_be_bytes())));
    assert_eq!(items[0]["payments"][0]["fee"]["human"], "7.5 GUSDT");

    // Profile: received 285 (the nets), fees 15, settled 300 = received + fees + claimable; nothing owed.
    let me = app.get("/v1/users/me", Some(&token_a)).await;
    let standing = me.body["assets"].as_array().unwrap().iter().find(|s| s["asset_id"] == GEN).unwrap().clone();
    let balances = &standing["balances"];
    assert_eq!(
        (balances["received"].as_str(), balances["fees"].as_str(), balances["settled"].as_str()),
        (Some("285000000"), Some("15000000"), Some("300000000"))
    );
    assert_eq!((balances["owed"].as_str(), balances["claimable"].as_str()), (Some("0"), Some("0")));

    // The member's statement: header, 1 payment, 4 credits, 1 payout, oldest first, exact amounts.
    let path = format!("/v1/users/statement.csv?asset_id={GEN}");
    let (status, content_type, disposition, lines) = csv(&app, &path, Some(&token_a)).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(disposition.starts_with("attachment; filename="), "{disposition}");
    assert_eq!(lines[0], backend::http::statements::MEMBER_HEADER);
    assert_eq!(lines.len(), 1 + 6, "{lines:#?}");
    assert!(lines[1].starts_with("2023-11-14T22:13:40Z,payment,registration,100,100000000,,,,,GUSDT,,20,0x"));
    assert!(lines[2].starts_with("2023-11-14T22:13:41Z,reward,GENERATION 1,50,50000000,,,,,GUSDT,settled,21,0x"));
    assert!(
        lines[6].starts_with(&format!(
            "2023-11-14T22:15:00Z,payout,batch {},300,300000000,15,15000000,285,285000000,GUSDT,paid,100,",
            built.id
        )),
        "{}",
        lines[6]
    );
    let (status, _, _, lines) = csv(&app, &format!("{path}&from=2023-11-15"), Some(&token_a)).await;
    assert_eq!((status, lines.len()), (200, 1), "a period after every movement: the header alone");
    for (bad, code) in [
        ("from=2023-13-01", "invalid_date"),
        ("to=yesterday", "invalid_date"),
        ("from=2023-11-15&to=2023-11-15", "invalid_period"),
    ] {
        let refused = app.get(&format!("{path}&{bad}"), Some(&token_a)).await;
        assert_eq!((refused.status, refused.code()), (400, code), "{bad}");
    }

    // Staff statements: a member is refused, no session is refused, a period above 366 days is refused.
    let today: (String, String) = sqlx::query_as(
        "SELECT to_char(now() - interval '1 day', 'YYYY-MM-DD'), to_char(now() + interval '1 day', 'YYYY-MM-DD')",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let payouts = format!("/v1/admin/statements/payouts.csv?asset_id={GEN}&from={}&to={}", today.0, today.1);
    assert_eq!(app.get(&payouts, Some(&token_a)).await.status, 403);
    assert_eq!(app.get(&payouts, None).await.status, 401);
    let admin = app.admin_token().await;
    let long = app
        .get(&format!("/v1/admin/statements/rewards.csv?asset_id={GEN}&from=2023-01-01&to=2024-01-03"), Some(&admin))
        .await;
    assert_eq!((long.status, long.code()), (400, "invalid_period"));
    let (status, content_type, _, lines) = csv(&app, &payouts, Some(&admin)).await;
    assert_eq!((status, content_type.starts_with("text/csv")), (200, true));
    assert_eq!(lines[0], backend::http::statements::PAYOUTS_HEADER);
    assert_eq!(lines.len(), 1 + 3, "one entry each for genesis, A and B");
    let wallet = a.address().to_checksum(None);
    let row = lines.iter().find(|l| l.contains(&wallet)).expect("A's entry");
    assert!(
        row.contains(&format!(
            ",{wallet},300,300000000,15,15000000,285,285000000,GUSDT,paid,100,2023-11-14T22:15:00Z,"
        )),
        "{row}"
    );
    // The console's view of the batch carries the same fee beside what the entry pays.
    let batch = app.get(&format!("/v1/admin/payouts/batches/{}", built.id), Some(&admin)).await;
    let entry =
        batch.body["entries"].as_array().unwrap().iter().find(|e| e["address"] == wallet.as_str()).expect("A's entry");
    assert_eq!(
        (entry["amount"]["base"].as_str(), entry["fee"]["base"].as_str(), entry["owed"]["base"].as_str()),
        (Some("285000000"), Some("15000000"), Some("300000000"))
    );
    let rewards = format!("/v1/admin/statements/rewards.csv?asset_id={GEN}&from=2023-11-14&to=2023-11-15");
    let (_, _, _, lines) = csv(&app, &rewards, Some(&admin)).await;
    assert_eq!(lines[0], backend::http::statements::REWARDS_HEADER);
    let credited: u128 = column(&lines, "amount_base").iter().map(|v| v.parse::<u128>().unwrap()).sum();
    let stored: String = sqlx::query_scalar("SELECT sum(amount)::text FROM rewards WHERE asset_id = $1")
        .bind(GEN)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(credited.to_string(), stored, "every credit of the day, exactly");
    let company = format!("/v1/admin/statements/company.csv?asset_id={GEN}&from=2023-11-14&to=2023-11-15");
    let (_, _, _, lines) = csv(&app, &company, Some(&admin)).await;
    assert_eq!(lines[0], backend::http::statements::COMPANY_HEADER);
    let fee_row = lines.iter().find(|l| l.contains(",withdrawal_fee,")).expect("the batch's fee is the company's");
    let fees: String = sqlx::query_scalar("SELECT sum(fee)::text FROM payout_batch_items WHERE batch_id = $1")
        .bind(built.id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(fees, "61250000", "5 % of every entry: genesis's, A's 300 and B's 700");
    assert!(fee_row.starts_with("2023-11-14T22:15:00Z,credit,withdrawal_fee,61.25,61250000,GUSDT,100,"), "{fee_row}");
    let kinds = column(&lines, "direction");
    let credits: u128 = column(&lines, "amount_base")
        .iter()
        .zip(&kinds)
        .filter(|(_, kind)| kind.as_str() == "credit")
        .map(|(v, _)| v.parse::<u128>().unwrap())
        .sum();
    let company_total: String = sqlx::query_scalar("SELECT company_total::text FROM assets WHERE id = $1")
        .bind(GEN)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(credits.to_string(), company_total, "the company's credits add up to its total");
}
