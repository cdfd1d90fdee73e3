//! Replay of a block range on request, against a real anvil and Postgres: an applied range is reported as
//! applied and changes nothing; a range above the listener's cursor is refused (or capped at it); an event the
//! ledger never saw is reported with its exact key — the key a second, complete ledger of the same chain has —
//! and recorded as quarantined, never applied out of order. Also the lag metric.

use alloy::{
    primitives::{Address, U256},
    providers::{DynProvider, Provider, ext::AnvilApi},
    rpc::types::anvil::ReorgOptions,
};
use anvil_tests::devchain::{DevChain, native_ledger_db};
use ledger::{ChainLedger, digest};
use listener::{
    ChainFollower, FollowerConfig,
    service::{ChainListener, ListenerError},
};
use serde_json::Value;
use sqlx::PgPool;

const BNB: u128 = 1_000_000_000_000_000_000;
const CHAIN: u64 = 31337;
const CONFIRMATIONS: u64 = 2;

async fn listener(chain: &DevChain, pool: &PgPool) -> eyre::Result<ChainListener<DynProvider>> {
    let config = FollowerConfig { max_range: 7, ..FollowerConfig::new(CHAIN, chain.settlement, CONFIRMATIONS) };
    let follower = ChainFollower::new(chain.provider.clone(), config);
    Ok(ChainListener::new(follower, ChainLedger::open(pool.clone(), CHAIN).await?, 1))
}

async fn catch_up(listener: &mut ChainListener<DynProvider>) -> Result<(), ListenerError> {
    while listener.step().await?.blocks > 0 {}
    Ok(())
}

async fn cursor(listener: &ChainListener<DynProvider>) -> u64 {
    listener.ledger().listener_state().await.unwrap().0.expect("cursor set").number
}

async fn stored_events(pool: &PgPool) -> Vec<(String, i64, String)> {
    sqlx::query_as(
        "SELECT '0x' || encode(tx_hash, 'hex'), log_index, outcome FROM chain_events ORDER BY block_number, log_index",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// A, B under G and a retopup by A, confirmed.
async fn setup() -> eyre::Result<(DevChain, Address)> {
    let chain = DevChain::start().await?;
    let g = chain.admin.address();
    let fee = U256::from(20 * BNB);
    chain.register_native(&chain.account(2), g, fee, 1).await?;
    chain.register_native(&chain.account(3), g, fee, 2).await?;
    chain.retopup_native(&chain.account(2), U256::from(40 * BNB), 3).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 1), None).await?;
    Ok((chain, g))
}

#[tokio::test]
async fn replaying_an_applied_range_reports_everything_applied_and_changes_nothing() -> eyre::Result<()> {
    let (chain, g) = setup().await?;
    let db = native_ledger_db(CHAIN, g).await?;
    let mut listener = listener(&chain, &db.pool).await?;
    catch_up(&mut listener).await?;
    let top = cursor(&listener).await;
    let before = digest(&db.pool).await?;

    let report = listener.replay(0, top).await?;
    assert_eq!((report.events_found, report.already_applied, report.missing), (3, 3, 0));
    assert_eq!((report.to_block, report.capped), (top, false));
    assert_eq!(digest(&db.pool).await?, before);

    // Above the cursor: refused when it starts there, capped when it only ends there.
    let err = listener.replay(top + 1, top + 5).await.unwrap_err();
    assert!(matches!(&err, ListenerError::ReplayRefused(m) if m.contains("above")), "{err}");
    let capped = listener.replay(1, top + 1_000).await?;
    assert_eq!((capped.to_block, capped.requested_to_block, capped.capped), (top, top + 1_000, true));
    assert_eq!(capped.already_applied, 3);

    // The same through requests, as the API queues them.
    let ids: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO ops_requests (kind, chain_id, from_block, to_block, requested_by)
         SELECT 'replay', $1, f, t, 'ops' FROM UNNEST($2::int8[], $3::int8[]) AS x(f, t) RETURNING id",
    )
    .bind(CHAIN as i64)
    .bind(vec![0, top as i64 + 1])
    .bind(vec![top as i64, top as i64 + 5])
    .fetch_all(&db.pool)
    .await?;
    let other_chain: i64 = sqlx::query_scalar(
        "INSERT INTO ops_requests (kind, chain_id, from_block, to_block, requested_by)
         VALUES ('replay', 56, 0, 1, 'ops') RETURNING id",
    )
    .fetch_one(&db.pool)
    .await?;
    assert_eq!(listener.serve_replay_requests().await?, 2);
    let rows: Vec<(String, Option<sqlx::types::Json<Value>>, Option<String>)> =
        sqlx::query_as("SELECT status, result, error FROM ops_requests WHERE id = ANY($1) ORDER BY id")
            .bind(&ids)
            .fetch_all(&db.pool)
            .await?;
    assert_eq!(rows[0].0, "done");
    let result = &rows[0].1.as_ref().unwrap().0;
    assert_eq!(
        (&result["events_found"], &result["already_applied"], &result["missing"]),
        (&Value::from(3), &Value::from(3), &Value::from(0))
    );
    assert_eq!(rows[1].0, "failed");
    assert!(rows[1].2.as_deref().unwrap().contains("above the listener's confirmed block"), "{:?}", rows[1]);
    let untouched: String = sqlx::query_scalar("SELECT status FROM ops_requests WHERE id = $1")
        .bind(other_chain)
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(untouched, "queued", "another chain's request is its own listener's");
    assert_eq!(digest(&db.pool).await?, before);
    Ok(())
}

#[tokio::test]
async fn an_event_the_ledger_never_saw_is_reported_with_its_exact_key_and_quarantined() -> eyre::Result<()> {
    let (chain, g) = setup().await?;
    let diverged = native_ledger_db(CHAIN, g).await?;
    let mut listener_a = listener(&chain, &diverged.pool).await?;
    catch_up(&mut listener_a).await?;
    let old_top = cursor(&listener_a).await;

    // C registers; the diverged ledger's cursor is moved past it without its log (a node that answered the
    // range with nothing), while a second, complete ledger follows the chain as it should.
    chain.register_native(&chain.account(4), chain.account(3).address(), U256::from(20 * BNB), 4).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 1), None).await?;
    let new_top = chain.provider.get_block_number().await? - CONFIRMATIONS;
    let new_hash = chain.provider.get_block_by_number(new_top.into()).await?.unwrap().header.hash;
    sqlx::query("UPDATE blockchain_sync SET listener_block = $2, listener_block_hash = $3 WHERE chain_id = $1")
        .bind(CHAIN as i64)
        .bind(new_top as i64)
        .bind(new_hash.as_slice())
        .execute(&diverged.pool)
        .await?;
    let complete = native_ledger_db(CHAIN, g).await?;
    catch_up(&mut listener(&chain, &complete.pool).await?).await?;
    let complete_events = stored_events(&complete.pool).await;
    let known: Vec<_> = stored_events(&diverged.pool).await;
    let expected_missing: Vec<_> =
        complete_events.iter().filter(|e| !known.iter().any(|k| k.0 == e.0 && k.1 == e.1)).collect();
    assert_eq!(expected_missing.len(), 1, "the registration of C");
    let users_before: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&diverged.pool).await?;

    let report = listener_a.replay(old_top + 1, new_top).await?;
    assert_eq!((report.events_found, report.already_applied, report.missing), (1, 0, 1));
    let missing = &report.missing_events[0];
    assert_eq!(
        (missing.name.as_str(), &missing.tx_hash, missing.log_index as i64),
        ("Registered", &expected_missing[0].0, expected_missing[0].1)
    );

    // Recorded as quarantined with an alert; never applied (C is not a user of the diverged ledger).
    let users_after: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&diverged.pool).await?;
    assert_eq!(users_after, users_before);
    let code: String = sqlx::query_scalar("SELECT reason_code FROM quarantine").fetch_one(&diverged.pool).await?;
    assert_eq!(code, "missed_event");
    let alerts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM alerts WHERE kind = 'event_quarantined' AND message LIKE '%diverged%'",
    )
    .fetch_one(&diverged.pool)
    .await?;
    assert_eq!(alerts, 1);
    // A wider replay now sees it as known-but-quarantined, and still nothing is applied.
    let before = digest(&diverged.pool).await?;
    let again = listener_a.replay(0, new_top).await?;
    assert_eq!((again.events_found, again.already_applied, again.already_quarantined, again.missing), (4, 3, 1, 0));
    assert_eq!(digest(&diverged.pool).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_replay_over_blocks_a_deep_reorg_replaced_is_refused_not_reported_as_missing() -> eyre::Result<()> {
    let (chain, g) = setup().await?;
    let db = native_ledger_db(CHAIN, g).await?;
    let mut listener = listener(&chain, &db.pool).await?;
    catch_up(&mut listener).await?;
    let top = cursor(&listener).await;
    let before = digest(&db.pool).await?;
    chain.provider.anvil_reorg(ReorgOptions { depth: CONFIRMATIONS + 3, tx_block_pairs: vec![] }).await?;
    chain.provider.anvil_mine(Some(CONFIRMATIONS + 3), None).await?;

    let err = listener.replay(0, top).await.unwrap_err();
    assert!(matches!(&err, ListenerError::ReplayRefused(m) if m.contains("reorg")), "{err}");
    assert_eq!(digest(&db.pool).await?, before);
    assert_eq!(sqlx::query_scalar::<_, i64>("SELECT count(*) FROM quarantine").fetch_one(&db.pool).await?, 0);
    Ok(())
}

#[tokio::test]
async fn the_lag_metric_shows_head_cursor_and_lag() -> eyre::Result<()> {
    let (chain, g) = setup().await?;
    let db = native_ledger_db(CHAIN, g).await?;
    let metrics = std::sync::Arc::new(listener::metrics::ListenerMetrics::default());
    let mut listener = listener(&chain, &db.pool).await?.with_metrics(metrics.clone());
    catch_up(&mut listener).await?;
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/metrics", socket.local_addr()?);
    tokio::spawn(listener::metrics::serve(socket, db.pool.clone(), vec![CHAIN], metrics));

    let head = chain.provider.get_block_number().await?;
    let top = cursor(&listener).await;
    let text = reqwest::get(&url).await?.text().await?;
    assert!(text.contains(&format!("listener_chain_head{{chain_id=\"{CHAIN}\"}} {head}\n")), "{text}");
    assert!(text.contains(&format!("listener_confirmed_block{{chain_id=\"{CHAIN}\"}} {top}\n")), "{text}");
    // Caught up: every block deep enough to apply is applied.
    assert!(text.contains(&format!("listener_lag_blocks{{chain_id=\"{CHAIN}\"}} 0\n")), "{text}");
    assert!(text.contains(&format!("listener_halted{{chain_id=\"{CHAIN}\"}} 0\n")), "{text}");
    assert!(text.contains(&format!("listener_lag_seconds{{chain_id=\"{CHAIN}\"}} 0\n")), "{text}");
    // What this process applied: the blocks up to the cursor, the registrations of the setup, one poll at least.
    let counter = |name: &str, labels: &str| -> u64 {
        let series = format!("{name}{{{labels}}} ");
        text.lines().find_map(|l| l.strip_prefix(&series)).map_or(0, |v| v.parse().unwrap())
    };
    let registered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM chain_events WHERE name = 'Registered'").fetch_one(&db.pool).await?;
    assert!(registered > 0);
    let events = counter("listener_events_applied_total", &format!("chain_id=\"{CHAIN}\",kind=\"Registered\""));
    assert_eq!(events, registered as u64, "{text}");
    assert!(counter("listener_blocks_applied_total", &format!("chain_id=\"{CHAIN}\"")) > 0, "{text}");
    assert!(counter("listener_range_blocks_count", &format!("chain_id=\"{CHAIN}\"")) > 0, "{text}");
    assert!(text.ends_with("# EOF\n"), "OpenMetrics ends with EOF: {text}");

    // The chain moves on while the listener does not poll: the lag grows by exactly the blocks mined once seen.
    chain.provider.anvil_mine(Some(5), None).await?;
    listener.ledger().record_chain_head(head + 5, CONFIRMATIONS).await?;
    let text = reqwest::get(&url).await?.text().await?;
    assert!(text.contains(&format!("listener_lag_blocks{{chain_id=\"{CHAIN}\"}} 5\n")), "{text}");
    assert!(text.contains(&format!("listener_lag_seconds{{chain_id=\"{CHAIN}\"}} ")), "{text}");
    assert!(text.contains("# TYPE listener_head_age_seconds gauge"), "{text}");
    Ok(())
}
