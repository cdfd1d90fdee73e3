//! Applies synthetic registration/retopup events to a scratch Postgres database and compares
//! the rate with plain inserts of the same number of raw-event rows on the same connection; then the same number
//! of events (same blocks and mix) on an asset running the generation plan (PLAN-GENERATION.md), in a database of
//! its own, beside the auto-pool plan's rate. For each plan it prints the rows written per event (inserted or
//! updated, as Postgres counts them) and the rows stored per event (left in the tables), table by table.
//!
//! The auto-pool run is repeated with the outbox's triggers off (issue 49), in a database of its own: the ratio of the
//! two rates is what telling members costs the apply path.
//!
//! Then the binary plan (PLAN-BINARY.md) through the ledger, each in a database of its own: on the same stream (a
//! random tree) and on a chain-shaped tree of as many events (each member sponsored by the one before: the worst case
//! of the weaker-leg rule, every member an ancestor of the next), with its rows per event and a period close over
//! every member (the close's rows written in the same transaction). Then the plans' engines alone, in memory, on the
//! same streams: the binary plan's events/s beside the auto-pool plan's, and a period close over every member.
//!
//! Then the sales plan (PLAN-SALES.md) through the ledger on the same blocks: each registration joining for nothing,
//! each retopup a sale (seven in ten to a customer from a pool three times the members, who stays its first seller's,
//! the rest the member's own purchase), refundable for 14 days; its events/s beside the auto-pool plan's, and the
//! confirmed head passing the last sale's window and the month's end: every sale maturing, then the close over every
//! member, in one transaction.
//!
//! `cargo bench -p ledger --bench apply -- [events] [events_per_block]` (under `cargo test --all-targets` a small smoke run)
//! (defaults 100000 and 100; `DATABASE_URL` selects the server; `BENCH_EXPLAIN=1` logs every statement over 4 ms
//! with its plan, per-node times and buffers to the server log: where a block's time goes, table by table).

use std::time::Instant;

use alloy::primitives::Address;
use ledger::db::ScratchDatabase;
use ledger::events::ChainEvent;
use ledger::plan::binary::{BinaryEngine, BinaryParams};
use ledger::plan::generation::GenerationParams;
use ledger::plan::sales::SalesParams;
use ledger::plan::{Amount, PlanEngine, PlanEvent, PlanParams, PlanSchedule};
use ledger::synthetic::{EventStream, StreamConfig};
use ledger::{AssetSpec, ChainLedger, create_asset};
use sqlx::PgPool;

const CHAIN: u64 = 56;

/// `events` synthetic events in blocks of `per_block`, registrations paying `registration` and retopups `retopup`.
fn synthetic_blocks(events: usize, per_block: u64, registration: Amount, retopup: Amount) -> Vec<Vec<ChainEvent>> {
    let mut stream = EventStream::new(StreamConfig {
        seed: 1,
        chain_id: CHAIN,
        token: Address::ZERO,
        genesis: Address::repeat_byte(0x11),
        registration_fee: registration,
        retopup_fee: retopup,
        events_per_block: per_block,
        retopup_per_mille: 250,
        invalid_per_mille: 0,
        freeze_per_mille: 0,
        place_per_mille: 0,
    });
    let mut out: Vec<Vec<ChainEvent>> = Vec::new();
    for _ in 0..events {
        let e = stream.next_event();
        match out.last_mut() {
            Some(b) if b[0].block_number == e.block_number => b.push(e),
            _ => out.push(vec![e]),
        }
    }
    out
}

/// One INSERT per row, one transaction per block: what a naive event store does.
async fn raw_rows(pool: &PgPool, blocks: &[Vec<ChainEvent>]) -> eyre::Result<f64> {
    sqlx::query("CREATE TABLE bench_raw_rows (LIKE chain_events INCLUDING ALL)").execute(pool).await?;
    let start = Instant::now();
    for block in blocks {
        let mut tx = pool.begin().await?;
        for e in block {
            sqlx::query(
                "INSERT INTO bench_raw_rows
                   (chain_id, tx_hash, log_index, block_number, block_timestamp, name, payload, outcome)
                 VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, 'applied')",
            )
            .bind(CHAIN as i64)
            .bind(e.key.tx_hash.as_slice())
            .bind(e.key.log_index as i64)
            .bind(e.block_number as i64)
            .bind(e.block_timestamp as i64)
            .bind(e.body.name())
            .bind(serde_json::to_string(&e.body)?)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// One multi-row INSERT per block: the fastest plain way to store the same rows.
async fn raw_batched(pool: &PgPool, blocks: &[Vec<ChainEvent>]) -> eyre::Result<f64> {
    sqlx::query("CREATE TABLE bench_raw_batched (LIKE chain_events INCLUDING ALL)").execute(pool).await?;
    let start = Instant::now();
    for block in blocks {
        let hashes: Vec<&[u8]> = block.iter().map(|e| e.key.tx_hash.as_slice()).collect();
        let logs: Vec<i64> = block.iter().map(|e| e.key.log_index as i64).collect();
        let numbers: Vec<i64> = block.iter().map(|e| e.block_number as i64).collect();
        let times: Vec<i64> = block.iter().map(|e| e.block_timestamp as i64).collect();
        let names: Vec<&str> = block.iter().map(|e| e.body.name()).collect();
        let payloads: Vec<String> = block.iter().map(|e| serde_json::to_string(&e.body)).collect::<Result<_, _>>()?;
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO bench_raw_batched
               (chain_id, tx_hash, log_index, block_number, block_timestamp, name, payload, outcome)
             SELECT $1, h, i, b, t, n, p::jsonb, 'applied'
             FROM UNNEST($2::bytea[], $3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[]) AS x(h, i, b, t, n, p)",
        )
        .bind(CHAIN as i64)
        .bind(&hashes)
        .bind(&logs)
        .bind(&numbers)
        .bind(&times)
        .bind(&names)
        .bind(&payloads)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(start.elapsed().as_secs_f64())
}

fn spec<P>(params: P) -> AssetSpec<P> {
    AssetSpec {
        id: 1,
        chain_id: CHAIN,
        token: Address::ZERO,
        symbol: "BNB".into(),
        decimals: 18,
        genesis: Address::repeat_byte(0x11),
        params,
    }
}

/// Applies every block through a ledger opened on `pool`; the seconds it took.
async fn apply_all(pool: &PgPool, blocks: &[Vec<ChainEvent>]) -> eyre::Result<f64> {
    let mut ledger = ChainLedger::open(pool.clone(), CHAIN).await?;
    let events: usize = blocks.iter().map(Vec::len).sum();
    let start = Instant::now();
    let mut applied = 0;
    for block in blocks {
        applied += ledger.apply_block(block).await?.applied;
    }
    let secs = start.elapsed().as_secs_f64();
    eyre::ensure!(applied == events, "applied {applied} of {events}");
    Ok(secs)
}

/// Rows written so far in the database of `pool`, per table, as Postgres counts them (`pg_stat_user_tables`: rows
/// inserted plus rows updated, an upsert's update included); the session's pending counts are flushed first.
async fn rows_written(pool: &PgPool) -> eyre::Result<Vec<(String, i64)>> {
    table_counts(pool, "n_tup_ins + n_tup_upd").await
}

/// Rows in each table of the database of `pool` (`n_live_tup`: inserted less deleted), flushed as above.
async fn rows_stored(pool: &PgPool) -> eyre::Result<Vec<(String, i64)>> {
    table_counts(pool, "n_live_tup").await
}

async fn table_counts(pool: &PgPool, count: &str) -> eyre::Result<Vec<(String, i64)>> {
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(pool).await?;
    // Not a checked query: `count` is one of the two constant column sums above.
    let sql = format!(
        "SELECT relname::text, ({count})::int8 FROM pg_stat_user_tables
         WHERE relname NOT LIKE 'bench_raw%' AND {count} > 0 ORDER BY 1"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?)
}

/// Rows written per event between two `rows_written` readings: the total and the tables, most written first.
fn per_event(before: &[(String, i64)], after: &[(String, i64)], events: usize) -> (f64, String) {
    let mut tables: Vec<(String, i64)> = after
        .iter()
        .map(|(t, n)| (t.clone(), n - before.iter().find(|(b, _)| b == t).map_or(0, |(_, m)| *m)))
        .filter(|(_, n)| *n > 0)
        .collect();
    tables.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total: i64 = tables.iter().map(|(_, n)| n).sum();
    let each =
        tables.iter().map(|(t, n)| format!("{t} {:.2}", *n as f64 / events as f64)).collect::<Vec<_>>().join(", ");
    (total as f64 / events as f64, each)
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> eyre::Result<()> {
    // `cargo bench` adds `--bench`; without it (`cargo test --all-targets`) a short smoke run proves it works.
    let full = std::env::args().any(|a| a == "--bench");
    // Under `cargo test` (no `--bench`) the words after `--` are test-name filters, not figures.
    let mut args = std::env::args().skip(1).filter(|a| full && !a.starts_with("--"));
    let events: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(if full { 100_000 } else { 2_000 });
    let per_block: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(100);
    let params = PlanParams::defaults(18);
    let blocks = synthetic_blocks(events, per_block, params.registration_fee, params.retopup_fee);

    // One connection, so the ledger and the raw inserts share it.
    let db = ScratchDatabase::create_with("ledger_bench", 1).await?;
    create_asset(&db.pool, &spec(params)).await?;
    if std::env::var("BENCH_EXPLAIN").is_ok() {
        sqlx::query("LOAD 'auto_explain'").execute(&db.pool).await?;
        sqlx::query("SET auto_explain.log_min_duration = '4ms'").execute(&db.pool).await?;
        sqlx::query("SET auto_explain.log_analyze = on").execute(&db.pool).await?;
        sqlx::query("SET auto_explain.log_buffers = on").execute(&db.pool).await?;
        sqlx::query("SET auto_explain.log_nested_statements = on").execute(&db.pool).await?;
    }
    let written_before = rows_written(&db.pool).await?;
    let stored_before = rows_stored(&db.pool).await?;
    let ledger_secs = apply_all(&db.pool, &blocks).await?;
    let (ledger_per_event, ledger_tables) = per_event(&written_before, &rows_written(&db.pool).await?, events);
    let (stored_per_event, stored_tables) = per_event(&stored_before, &rows_stored(&db.pool).await?, events);

    let rows_secs = raw_rows(&db.pool, &blocks).await?;
    let batched_secs = raw_batched(&db.pool, &blocks).await?;
    let rate = |secs: f64| events as f64 / secs;
    println!("events: {events}, events per block: {per_block}, blocks: {}", blocks.len());
    println!("ledger apply:            {:>9.0} events/s ({ledger_secs:.2} s)", rate(ledger_secs));
    println!(
        "  rows written per event: {ledger_per_event:.2} (inserted or updated, pg_stat_user_tables: {ledger_tables})"
    );
    println!("  rows stored per event:  {stored_per_event:.2} (left in the tables: {stored_tables})");
    println!(
        "raw insert, row by row:  {:>9.0} rows/s   ({rows_secs:.2} s)  ledger/raw = {:.2}",
        rate(rows_secs),
        rows_secs / ledger_secs
    );
    println!(
        "raw insert, one per block: {:>7.0} rows/s   ({batched_secs:.2} s)  ledger/raw = {:.2}",
        rate(batched_secs),
        batched_secs / ledger_secs
    );

    // The outbox (issue 49): the same events on a database of their own with its triggers off — what telling members
    // costs the apply path, as a ratio measured in this run.
    let quiet_db = ScratchDatabase::create_with("ledger_bench_no_outbox", 1).await?;
    create_asset(&quiet_db.pool, &spec(PlanParams::defaults(18))).await?;
    for (table, trigger) in [("chain_events", "chain_events_notify"), ("rewards", "rewards_notify")] {
        let sql = format!("ALTER TABLE {table} DISABLE TRIGGER {trigger}");
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&quiet_db.pool).await?;
    }
    let quiet_secs = apply_all(&quiet_db.pool, &blocks).await?;
    let told: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications").fetch_one(&db.pool).await?;
    println!(
        "ledger apply, outbox off: {:>8.0} events/s ({quiet_secs:.2} s)  with/without = {:.2} ({told} notifications, {:.2} per event)",
        rate(quiet_secs),
        quiet_secs / ledger_secs,
        told as f64 / events as f64
    );

    // The generation plan: registrations of the smallest package, purchases of the next one.
    let generation = GenerationParams::defaults(18);
    let generation_blocks = synthetic_blocks(events, per_block, generation.packages[0], generation.packages[1]);
    let generation_db = ScratchDatabase::create_with("ledger_bench_generation", 1).await?;
    create_asset(&generation_db.pool, &spec(generation)).await?;
    let generation_before = rows_written(&generation_db.pool).await?;
    let generation_stored = rows_stored(&generation_db.pool).await?;
    let generation_secs = apply_all(&generation_db.pool, &generation_blocks).await?;
    let (generation_per_event, generation_tables) =
        per_event(&generation_before, &rows_written(&generation_db.pool).await?, events);
    let (generation_stored_per_event, generation_stored_tables) =
        per_event(&generation_stored, &rows_stored(&generation_db.pool).await?, events);
    let closes: i64 = sqlx::query_scalar("SELECT count(*) FROM period_closes").fetch_one(&generation_db.pool).await?;
    println!(
        "generation plan apply:   {:>9.0} events/s ({generation_secs:.2} s; {closes} weeks closed)  generation/auto-pool = {:.2}",
        rate(generation_secs),
        ledger_secs / generation_secs
    );
    println!("  rows written per event: {generation_per_event:.2} ({generation_tables})");
    println!("  rows stored per event:  {generation_stored_per_event:.2} ({generation_stored_tables})");
    let binary = binary_params(&PlanParams::defaults(18));
    let random = binary_in_postgres("random tree", &blocks, binary.clone(), ledger_secs, events).await?;
    let chain = chain_blocks(&blocks, events / 2, binary.packages[0]);
    let deep = binary_in_postgres(&format!("chain of {}", events / 2), &chain, binary, ledger_secs, events).await?;
    println!("  chain/random = {:.2} (events/s on the chain over events/s on the random tree)", random / deep);
    sales_in_postgres(&blocks, ledger_secs, events).await?;
    engines_in_memory(&blocks, events);
    match peak_memory_kib() {
        Some(kib) => println!("peak memory (VmHWM):     {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory: /proc/self/status not readable"),
    }
    Ok(())
}

/// The binary plan through the ledger on `blocks` (`events` events) in a database of its own: events/s beside the
/// auto-pool plan's `auto_pool_secs` on as many events, rows written and stored per event, then the confirmed head
/// passing the open period's end: a close over every member, timed with its rows. Returns the seconds applying took.
async fn binary_in_postgres(
    name: &str,
    blocks: &[Vec<ChainEvent>],
    params: BinaryParams,
    auto_pool_secs: f64,
    events: usize,
) -> eyre::Result<f64> {
    let applied: usize = blocks.iter().map(Vec::len).sum();
    eyre::ensure!(applied == events, "{name}: {applied} events, not {events}");
    let db = ScratchDatabase::create_with("ledger_bench_binary", 1).await?;
    create_asset(&db.pool, &spec(params.clone())).await?;
    let written = rows_written(&db.pool).await?;
    let stored = rows_stored(&db.pool).await?;
    let secs = apply_all(&db.pool, blocks).await?;
    let (per_event_written, written_tables) = per_event(&written, &rows_written(&db.pool).await?, events);
    let (per_event_stored, stored_tables) = per_event(&stored, &rows_stored(&db.pool).await?, events);
    let closes: i64 = sqlx::query_scalar("SELECT count(*) FROM binary_closes").fetch_one(&db.pool).await?;
    println!(
        "binary plan apply, {name}: {:>9.0} events/s ({secs:.2} s; {closes} periods closed)  binary/auto-pool = {:.2}",
        events as f64 / secs,
        auto_pool_secs / secs
    );
    println!("  rows written per event: {per_event_written:.2} ({written_tables})");
    println!("  rows stored per event:  {per_event_stored:.2} ({stored_tables})");
    // The head passes the open period's end: its close covers every member with a carry.
    let mut ledger = ChainLedger::open(db.pool.clone(), CHAIN).await?;
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db.pool).await?;
    let next: i64 = sqlx::query_scalar("SELECT next_period FROM assets").fetch_one(&db.pool).await?;
    let end = params.bounds(next as u64).1;
    let last = blocks.last().and_then(|b| b.last()).map_or(0, |e| e.block_number);
    let head = ledger::BlockCursor { number: last + 1, hash: alloy::primitives::B256::repeat_byte(0xcc) };
    let start = Instant::now();
    ledger.apply_confirmed(&[], head, end).await?;
    let close_secs = start.elapsed().as_secs_f64();
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM binary_pair_lines WHERE period = $1")
        .bind(next)
        .fetch_one(&db.pool)
        .await?;
    println!("  period close through the ledger, {members} members: {close_secs:.3} s ({lines} lines written)");
    Ok(secs)
}

/// The sales plan's stream on `like`'s blocks and times (see the module documentation).
fn sales_blocks(like: &[Vec<ChainEvent>], params: &SalesParams) -> Vec<Vec<ChainEvent>> {
    use alloy::primitives::{B256, U256};
    use ledger::events::EventBody;
    let genesis = Address::repeat_byte(0x11);
    let mut state = 0x5a1e_5eed_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut members = 1u64;
    let mut attributed: std::collections::HashMap<Address, Address> = std::collections::HashMap::new();
    let mut id = 0u64;
    let window = 14 * 86_400;
    like.iter()
        .map(|block| {
            block
                .iter()
                .map(|ev| {
                    let mut ev = ev.clone();
                    ev.body = match ev.body {
                        EventBody::Registered { user, sponsor, token, nonce, .. } => {
                            members += 1;
                            EventBody::Registered { user, sponsor, token, amount: U256::ZERO, nonce }
                        }
                        EventBody::Retopped { user, token, amount, .. } => {
                            id += 1;
                            let a = Amount::try_from(amount).expect("a fee fits");
                            let (buyer, retail) = if next() % 10 < 7 {
                                let customer = ledger::synthetic::user_address(9, next() % (3 * members));
                                let seller = *attributed.entry(customer).or_insert(user);
                                (customer, if seller == genesis { 0 } else { params.retail(a) })
                            } else {
                                (user, 0)
                            };
                            EventBody::Sold {
                                id: U256::from(id),
                                buyer,
                                seller: user,
                                token,
                                amount,
                                retail: U256::from(retail),
                                pv: U256::from(a / 10u128.pow(18)),
                                order_ref: B256::ZERO,
                                refundable_until: U256::from(ev.block_timestamp + window),
                            }
                        }
                        other => other,
                    };
                    ev
                })
                .collect()
        })
        .collect()
}

/// The sales plan through the ledger on the auto-pool plan's blocks made sales (`sales_blocks`), in a database of its
/// own: events/s beside the auto-pool plan's `auto_pool_secs`, rows per event, then every sale maturing and the close.
async fn sales_in_postgres(blocks: &[Vec<ChainEvent>], auto_pool_secs: f64, events: usize) -> eyre::Result<()> {
    let params = SalesParams::defaults(18);
    let sales = sales_blocks(blocks, &params);
    let db = ScratchDatabase::create_with("ledger_bench_sales", 1).await?;
    create_asset(&db.pool, &spec(params.clone())).await?;
    let written = rows_written(&db.pool).await?;
    let stored = rows_stored(&db.pool).await?;
    let secs = apply_all(&db.pool, &sales).await?;
    let (per_event_written, written_tables) = per_event(&written, &rows_written(&db.pool).await?, events);
    let (per_event_stored, stored_tables) = per_event(&stored, &rows_stored(&db.pool).await?, events);
    let quarantined: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine").fetch_one(&db.pool).await?;
    eyre::ensure!(quarantined == 0, "{quarantined} sales were refused: the stream signs them as the plan prices them");
    println!(
        "sales plan apply:        {:>9.0} events/s ({secs:.2} s)  sales/auto-pool = {:.2}",
        events as f64 / secs,
        auto_pool_secs / secs
    );
    println!("  rows written per event: {per_event_written:.2} ({written_tables})");
    println!("  rows stored per event:  {per_event_stored:.2} ({stored_tables})");
    // The head passes every sale's window and the month's end: each sale matures (its RETAIL row payable), then the
    // month closes over every member, in one transaction.
    let mut ledger = ChainLedger::open(db.pool.clone(), CHAIN).await?;
    let members: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db.pool).await?;
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM sales WHERE state = 'open'").fetch_one(&db.pool).await?;
    let last = sales.last().and_then(|b| b.last()).expect("events");
    let next: i64 = sqlx::query_scalar("SELECT next_period FROM assets").fetch_one(&db.pool).await?;
    let due = params.bounds(next as u64).1.max(last.block_timestamp + 14 * 86_400);
    let head = ledger::BlockCursor { number: last.block_number + 1, hash: alloy::primitives::B256::repeat_byte(0xcd) };
    let start = Instant::now();
    ledger.apply_confirmed(&[], head, due).await?;
    let close_secs = start.elapsed().as_secs_f64();
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM sales_close_lines").fetch_one(&db.pool).await?;
    let finals: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sales WHERE state = 'final'").fetch_one(&db.pool).await?;
    eyre::ensure!(finals == open && lines > 0, "{finals} of {open} sales matured, {lines} lines");
    println!(
        "  {open} sales maturing, then the close over {members} members through the ledger: {close_secs:.3} s ({lines} lines written)"
    );
    Ok(())
}

/// The binary plan on the auto-pool plan's stream (its two fees are the binary plan's two packages).
fn binary_params(auto_pool: &PlanParams) -> BinaryParams {
    let unit = 10u128.pow(18);
    BinaryParams {
        packages: vec![auto_pool.registration_fee, auto_pool.retopup_fee],
        pair_volume: 20 * unit,
        pair_bonus: 2 * unit,
        active_paid_in: 60 * unit,
        ..BinaryParams::defaults(18)
    }
}

/// Applies `blocks` to the binary engine `e`, closing periods before each block as the ledger does; seconds taken.
fn run_binary(e: &mut BinaryEngine, blocks: &[Vec<ChainEvent>]) -> f64 {
    let start = Instant::now();
    for block in blocks {
        e.close_through(block[0].block_number, block[0].block_timestamp);
        for ev in block {
            let plan_event = ev.body.plan_event().expect("a plan event");
            e.apply(ev.block_number, ev.block_timestamp, &plan_event).expect("applied");
        }
    }
    start.elapsed().as_secs_f64()
}

/// `members` registrations, each under the member before, then as many purchases by members picked at random
/// (most of them deep in the chain), in the blocks and at the times of `like` (of at least 2 × `members` events).
fn chain_blocks(like: &[Vec<ChainEvent>], members: usize, package: Amount) -> Vec<Vec<ChainEvent>> {
    let genesis = Address::repeat_byte(0x11);
    let user = |n: usize| ledger::synthetic::user_address(7, n as u64);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut out = Vec::new();
    let mut n = 0;
    for block in like {
        let mut events = Vec::with_capacity(block.len());
        for ev in block {
            let mut ev = ev.clone();
            let body = if n < members {
                let sponsor = if n == 0 { genesis } else { user(n - 1) };
                let amount = alloy::primitives::U256::from(package);
                ledger::events::EventBody::Registered {
                    user: user(n),
                    sponsor,
                    token: Address::ZERO,
                    amount,
                    nonce: alloy::primitives::U256::from(n),
                }
            } else {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let amount = alloy::primitives::U256::from(package);
                let u = user((state % members as u64) as usize);
                ledger::events::EventBody::Retopped {
                    user: u,
                    token: Address::ZERO,
                    amount,
                    nonce: alloy::primitives::U256::from(n),
                }
            };
            ev.body = body;
            events.push(ev);
            n += 1;
            if n == 2 * members {
                break;
            }
        }
        out.push(events);
        if n == 2 * members {
            break;
        }
    }
    out
}

fn engines_in_memory(blocks: &[Vec<ChainEvent>], events: usize) {
    let auto_pool = PlanParams::defaults(18);
    let genesis = Address::repeat_byte(0x11);
    let rate = |n: usize, secs: f64| n as f64 / secs;
    let mut pool = PlanEngine::new(genesis, PlanSchedule::new(auto_pool.clone()).expect("valid"));
    let start = Instant::now();
    for ev in blocks.iter().flatten() {
        let plan_event: PlanEvent = ev.body.plan_event().expect("a plan event");
        pool.apply(ev.block_number, &plan_event).expect("applied");
    }
    let pool_secs = start.elapsed().as_secs_f64();
    let schedule = || PlanSchedule::new(binary_params(&auto_pool)).expect("valid");
    let mut random = BinaryEngine::new(genesis, schedule());
    let random_secs = run_binary(&mut random, blocks);
    println!("engines in memory (no database), the same {events} events:");
    println!("  auto-pool plan:              {:>10.0} events/s ({pool_secs:.3} s)", rate(events, pool_secs));
    println!(
        "  binary plan, random tree:    {:>10.0} events/s ({random_secs:.3} s)  binary/auto-pool = {:.2}",
        rate(events, random_secs),
        pool_secs / random_secs
    );
    // The chain: half the events are registrations, each one level deeper; then purchases deep in it.
    let members = events / 2;
    let chain = chain_blocks(blocks, members, auto_pool.registration_fee);
    let mut deep = BinaryEngine::new(genesis, schedule());
    let chain_secs = run_binary(&mut deep, &chain);
    println!(
        "  binary plan, chain of {members} (depth {members}): {:>10.0} events/s ({chain_secs:.3} s)  chain/random = {:.2}",
        rate(chain.iter().map(Vec::len).sum(), chain_secs),
        random_secs / chain_secs
    );
    for (name, e) in [("random tree", &mut random), ("chain", &mut deep)] {
        let members = e.users().len();
        let next = e.next_period().expect("events were applied");
        let end = e.schedule().versions()[0].params.bounds(next).1;
        let start = Instant::now();
        let closes = e.close_through(u64::MAX / 2, end);
        let secs = start.elapsed().as_secs_f64();
        let lines: usize = closes.iter().map(|c| c.lines.len()).sum();
        let credits: usize = closes.iter().map(|c| c.credits.len()).sum();
        println!(
            "  period close, {name} of {members} members: {:.3} s ({lines} users with a carry, {credits} credits)",
            secs
        );
    }
}
