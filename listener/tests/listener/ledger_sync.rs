//! The listener from a real anvil into the real Postgres ledger: PLAN.md §8's worked example arrives exactly;
//! a listener restarted mid-stream ends with the same ledger as a fresh replay; a deep reorg halts the chain
//! for good; only one listener per chain is active.

use std::time::Duration;

use abi::{NATIVE_TOKEN, Payout, PayoutBatch, Settlement, payouts_hash};
use alloy::{
    primitives::{Address, Bytes, U256, bytes},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::anvil::ReorgOptions,
};
use anvil_tests::devchain::{DevChain, native_ledger_db};
use ledger::{ChainLedger, db::ScratchDatabase, digest, payouts};
use listener::{
    ChainFollower, FollowerConfig,
    service::{ChainListener, ListenerError, try_chain_lock},
};
use payout_chain::{BatchOutcome, PayoutSubmitter};
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

async fn ledger_db(genesis: Address) -> eyre::Result<ScratchDatabase> {
    native_ledger_db(CHAIN, genesis).await
}

async fn listener(chain: &DevChain, pool: &PgPool, range: u64) -> eyre::Result<ChainListener<DynProvider>> {
    let config = FollowerConfig {
        initial_range: range,
        max_range: range,
        ..FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS)
    };
    let follower = ChainFollower::new(chain.provider.clone(), config);
    Ok(ChainListener::new(follower, ChainLedger::open(pool.clone(), CHAIN).await?, 1))
}

/// Steps until a poll finds nothing new; returns the number of polls that applied blocks.
async fn catch_up(listener: &mut ChainListener<DynProvider>) -> Result<usize, ListenerError> {
    let mut polls = 0;
    while listener.step().await?.blocks > 0 {
        polls += 1;
    }
    Ok(polls)
}

/// PLAN.md §8 on chain: A, B under G; C, D under A; E, F under B; H, I under G; A and C retopup.
async fn worked_example(chain: &DevChain) -> eyre::Result<()> {
    let g = chain.admin.address();
    let [a, b, c, d, e, f, h, i] = [2, 3, 4, 5, 6, 7, 8, 9].map(|n| chain.account(n));
    let fee = U256::from(20 * BNB);
    let steps = [
        (&a, g),
        (&b, g),
        (&c, a.address()),
        (&d, a.address()),
        (&e, b.address()),
        (&f, b.address()),
        (&h, g),
        (&i, g),
    ];
    for (nonce, (user, sponsor)) in steps.into_iter().enumerate() {
        chain.register_native(user, sponsor, fee, nonce as u64 + 1).await?;
    }
    chain.retopup_native(&a, U256::from(40 * BNB), 100).await?;
    chain.retopup_native(&c, U256::from(40 * BNB), 101).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;
    Ok(())
}

async fn text(pool: &PgPool, sql: &'static str) -> String {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

async fn pending_of(pool: &PgPool, who: Address) -> String {
    sqlx::query_scalar(
        "SELECT b.pending::text FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(who.as_slice())
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_worked_example_arrives_from_anvil_exactly() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    worked_example(&chain).await?;
    let db = ledger_db(chain.admin.address()).await?;
    let mut listener = listener(&chain, &db.pool, 500).await?;
    catch_up(&mut listener).await?;

    let pool = &db.pool;
    assert_eq!(text(pool, "SELECT count(*)::text FROM chain_events WHERE outcome = 'applied'").await, "10");
    assert_eq!(text(pool, "SELECT company_total::text FROM assets").await, (121 * BNB).to_string());
    assert_eq!(pending_of(pool, chain.admin.address()).await, (61 * BNB).to_string(), "G: 18 + 10 + 10 + 18 + 5");
    assert_eq!(pending_of(pool, chain.account(2).address()).await, (40 * BNB).to_string(), "A: 18 + 10 + 12");
    assert_eq!(pending_of(pool, chain.account(3).address()).await, (18 * BNB).to_string(), "B: 18");
    let tree: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT u.address FROM pool_nodes n JOIN users u ON u.asset_id = n.asset_id AND u.user_no = n.owner_no
         WHERE n.level = 1 ORDER BY n.q",
    )
    .fetch_all(pool)
    .await?;
    let expected =
        [chain.admin.address(), chain.account(2).address(), chain.account(3).address(), chain.admin.address()];
    assert_eq!(tree, expected.iter().map(|a| a.to_vec()).collect::<Vec<_>>(), "level-1 tree G, A, B, G");
    let head = chain.provider.get_block_number().await?;
    let cursor = listener.ledger().listener_state().await?.0.expect("cursor set");
    assert_eq!(cursor.number, head - CONFIRMATIONS);
    assert_eq!(
        Some(cursor.hash),
        chain.provider.get_block_by_number(cursor.number.into()).await?.map(|b| b.header.hash)
    );
    Ok(())
}

#[tokio::test]
async fn a_listener_restarted_mid_stream_ends_with_the_ledger_of_a_fresh_replay() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    worked_example(&chain).await?;

    // Two blocks per poll, and a new listener (new process state, same database) after every poll.
    let restarted = ledger_db(chain.admin.address()).await?;
    let mut restarts = 0;
    loop {
        let mut fresh_process = listener(&chain, &restarted.pool, 2).await?;
        if fresh_process.step().await?.blocks == 0 {
            break;
        }
        restarts += 1;
    }
    assert!(restarts >= 6, "the stream was really cut into pieces ({restarts})");

    let replay = ledger_db(chain.admin.address()).await?;
    catch_up(&mut listener(&chain, &replay.pool, 500).await?).await?;
    assert_eq!(digest(&restarted.pool).await?, digest(&replay.pool).await?);

    // And going over it all again changes nothing.
    let before = digest(&replay.pool).await?;
    let again = listener(&chain, &replay.pool, 500).await?;
    let (cursor, _) = again.ledger().listener_state().await?;
    assert!(cursor.is_some());
    let mut again = again;
    assert_eq!(catch_up(&mut again).await?, 0);
    assert_eq!(digest(&replay.pool).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_reorg_below_the_confirmation_depth_halts_the_chain_for_good() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    worked_example(&chain).await?;
    let db = ledger_db(chain.admin.address()).await?;
    let mut first = listener(&chain, &db.pool, 500).await?;
    catch_up(&mut first).await?;
    let before = digest(&db.pool).await?;

    chain.provider.anvil_reorg(ReorgOptions { depth: CONFIRMATIONS + 3, tx_block_pairs: vec![] }).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 3), None).await?;
    let err = first.step().await.unwrap_err();
    assert!(matches!(err, ListenerError::Halted { .. }), "{err}");

    // A restarted listener stays halted and the ledger is untouched.
    let mut restarted = listener(&chain, &db.pool, 500).await?;
    assert!(matches!(restarted.step().await, Err(ListenerError::Halted { .. })));
    let (_, reason) = restarted.ledger().listener_state().await?;
    assert!(reason.is_some_and(|r| r.contains("reorg below the confirmation depth")));
    // One critical alert, however often the listener is restarted.
    let alerts: Vec<(String, String, serde_json::Value)> =
        sqlx::query_as("SELECT kind, message, details FROM alerts WHERE kind = 'listener_halted'")
            .fetch_all(&db.pool)
            .await?;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].1.contains("reorg below the confirmation depth"));
    assert_eq!(alerts[0].2["severity"], "critical");
    let after = digest(&db.pool).await?;
    let strip = |d: &str| {
        d.lines()
            .filter(|l| !l.starts_with("blockchain_sync") && !l.starts_with("alerts"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&after), strip(&before), "no ledger row changed");
    Ok(())
}

#[tokio::test]
async fn one_listener_per_chain_the_second_stands_by() -> eyre::Result<()> {
    let db = ScratchDatabase::create("listener_lock").await?;
    let active = try_chain_lock(&db.pool, CHAIN).await?.expect("first takes the lock");
    assert!(try_chain_lock(&db.pool, CHAIN).await?.is_none(), "second must stand by");
    assert!(try_chain_lock(&db.pool, CHAIN + 1).await?.is_some(), "other chains are independent");
    drop(active);
    // The lock is released when its connection goes back to the pool and the session ends or unlocks.
    let mut took_over = false;
    for _ in 0..50 {
        if try_chain_lock(&db.pool, CHAIN).await?.is_some() {
            took_over = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(took_over, "the standby takes over when the active one goes away");
    Ok(())
}

async fn balance_row(pool: &PgPool, who: Address) -> (String, String, String, String) {
    sqlx::query_as(
        "SELECT b.pending::text, b.batched::text, b.settled::text, b.claimable::text
         FROM user_balances b JOIN users u USING (asset_id, user_no) WHERE u.address = $1",
    )
    .bind(who.as_slice())
    .fetch_one(pool)
    .await
    .unwrap()
}

fn signed_batch(chain: &DevChain, built: &payouts::BuiltBatch, nonce: u64, deadline: U256) -> (PayoutBatch, Bytes) {
    let payouts: Vec<Payout> = built
        .entries
        .iter()
        .map(|(recipient, amount)| Payout { recipient: *recipient, amount: U256::from(*amount) })
        .collect();
    let batch =
        PayoutBatch { token: built.token, total: U256::from(built.total), payouts, nonce: U256::from(nonce), deadline };
    let signature = chain.sign(&batch);
    (batch, signature)
}

#[tokio::test]
async fn a_payout_batch_settles_from_the_contracts_events_and_a_hostile_recipient_becomes_claimable() -> eyre::Result<()>
{
    let chain = DevChain::start().await?;
    worked_example(&chain).await?;
    let db = ledger_db(chain.admin.address()).await?;
    let mut listener = listener(&chain, &db.pool, 500).await?;
    catch_up(&mut listener).await?;
    let (g, a, b) = (chain.admin.address(), chain.account(2).address(), chain.account(3).address());

    // Two concurrent builds of at most two users each never share a reward; building again until nothing is
    // pending takes every pending user exactly once (a concurrent build may come back empty meanwhile).
    let limits = payouts::BuildLimits::new(2, u128::MAX);
    let (first, second) =
        tokio::join!(payouts::build_batch(&db.pool, 1, &limits), payouts::build_batch(&db.pool, 1, &limits));
    let mut batches: Vec<payouts::BuiltBatch> = [first?, second?].into_iter().flatten().collect();
    while let Ok(more) = payouts::build_batch(&db.pool, 1, &limits).await? {
        batches.push(more);
    }
    let mut paid: Vec<Address> = batches.iter().flat_map(|b| b.entries.iter().map(|e| e.0)).collect();
    paid.sort();
    let mut expected = vec![g, a, b];
    expected.sort();
    assert_eq!(paid, expected, "each pending user in exactly one batch");
    let total: u128 = batches.iter().map(|b| b.total).sum();
    assert_eq!(total, (61 + 40 + 18) * BNB);
    assert_eq!(balance_row(&db.pool, a).await, ("0".into(), (40 * BNB).to_string(), "0".into(), "0".into()));

    // B's wallet rejects pushes: its share must become claimable, everyone else paid.
    chain.provider.anvil_set_code(b, bytes!("60006000fd")).await?;
    let a_before = chain.provider.get_balance(a).await?;
    let submitter = PayoutSubmitter::new(chain.provider.clone(), g, chain.settlement, 0);
    for (i, built) in batches.iter().enumerate() {
        let (batch, signature) = signed_batch(&chain, built, 5_000 + i as u64, chain.deadline().await?);
        payouts::record_signed(
            &db.pool,
            built.id,
            batch.nonce,
            payouts_hash(&batch.payouts),
            batch.deadline.to(),
            &signature,
        )
        .await?;
        let BatchOutcome::Pending { tx } = submitter.submit(&batch, &signature).await? else { panic!("not sent") };
        let outcome = submitter.track(&batch, tx, Duration::from_millis(20), Duration::from_secs(10)).await?;
        assert!(matches!(outcome, BatchOutcome::Executed { .. }), "{outcome:?}");
    }
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;
    catch_up(&mut listener).await?;

    assert_eq!(chain.provider.get_balance(a).await? - a_before, U256::from(40 * BNB), "A paid exactly once");
    assert_eq!(balance_row(&db.pool, a).await, ("0".into(), "0".into(), (40 * BNB).to_string(), "0".into()));
    assert_eq!(
        balance_row(&db.pool, b).await,
        ("0".into(), "0".into(), (18 * BNB).to_string(), (18 * BNB).to_string())
    );
    assert_eq!(
        text(&db.pool, "SELECT count(*)::text FROM rewards WHERE status <> 'settled' AND status <> 'reserved'").await,
        "0"
    );
    assert_eq!(text(&db.pool, "SELECT count(*)::text FROM payout_batches WHERE status <> 'executed'").await, "0");
    let contract = Settlement::new(chain.settlement, &chain.provider);
    assert_eq!(contract.claimable(NATIVE_TOKEN, b).call().await?, U256::from(18 * BNB), "chain agrees with the ledger");

    // A batch the ledger never built, executed on-chain: quarantined, nothing settled twice.
    let rogue = PayoutBatch {
        token: NATIVE_TOKEN,
        total: U256::from(BNB),
        payouts: vec![Payout { recipient: a, amount: U256::from(BNB) }],
        nonce: U256::from(9_999),
        deadline: chain.deadline().await?,
    };
    let rogue_sig = chain.sign(&rogue);
    let BatchOutcome::Pending { tx } = submitter.submit(&rogue, &rogue_sig).await? else { panic!("not sent") };
    submitter.track(&rogue, tx, Duration::from_millis(20), Duration::from_secs(10)).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS), None).await?;
    catch_up(&mut listener).await?;
    assert_eq!(text(&db.pool, "SELECT string_agg(reason_code, ',') FROM quarantine").await, "unknown_batch");
    assert_eq!(balance_row(&db.pool, a).await.2, (40 * BNB).to_string());
    Ok(())
}

#[tokio::test]
async fn database_connections_killed_under_a_running_listener_lose_and_double_nothing() -> eyre::Result<()> {
    let chain = DevChain::start().await?;
    worked_example(&chain).await?;
    chain.provider.anvil_mine(Some(1000), None).await?;
    let db = ledger_db(chain.admin.address()).await?;
    // Two blocks per poll, so the stream takes ~500 transactions; every one of them may lose its connection.
    let mut running = listener(&chain, &db.pool, 2).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(async move {
        running
            .run(Duration::from_millis(20), async {
                stopped.await.ok();
            })
            .await
    });
    // Another connection, to the server's own database (on the server the scratch database is on: `DATABASE_URL`,
    // else the default), terminates every backend of the ledger's database.
    let server = std::env::var("DATABASE_URL").unwrap_or_else(|_| ledger::db::DEFAULT_SERVER_URL.to_owned());
    let options: sqlx::postgres::PgConnectOptions = server.parse()?;
    let admin = PgPool::connect_with(options.database("postgres")).await?;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let head = chain.provider.get_block_number().await?;
    // Twenty rounds of killing while the stream is applied (mid-transaction connections included), then let it
    // finish: it must recover by itself (its back-off is at most 30 s) and end where a fresh replay ends.
    let mut kills = 0;
    for _ in 0..20 {
        let killed: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(db.name())
        .fetch_all(&admin)
        .await?;
        kills += killed.iter().filter(|k| **k).count();
        assert!(!runner.is_finished(), "the listener stopped on a database error");
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let started = std::time::Instant::now();
    loop {
        // The test's own connections were killed too: an error reads as "not yet".
        let cursor: Option<i64> = sqlx::query_scalar("SELECT listener_block FROM blockchain_sync WHERE chain_id = $1")
            .bind(CHAIN as i64)
            .fetch_optional(&db.pool)
            .await
            .ok()
            .flatten()
            .flatten();
        if cursor.is_some_and(|c| c as u64 >= head - CONFIRMATIONS) {
            break;
        }
        assert!(!runner.is_finished(), "the listener stopped on a database error");
        assert!(started.elapsed() < Duration::from_secs(90), "the listener never caught up (cursor {cursor:?})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(kills >= 10, "connections were really killed ({kills})");
    stop.send(()).ok();
    runner.await?.expect("the listener kept running through the database errors");

    let replay = ledger_db(chain.admin.address()).await?;
    catch_up(&mut listener(&chain, &replay.pool, 500).await?).await?;
    assert_eq!(digest(&db.pool).await?, digest(&replay.pool).await?);
    Ok(())
}
