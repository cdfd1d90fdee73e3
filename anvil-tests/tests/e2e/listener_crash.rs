//! kill -9 of the listener binary, again and again while a stream of registrations is mined: the ledger it
//! ends with equals a fresh replay of the chain into a new database (nothing lost, nothing applied twice).

use std::{sync::Arc, time::Duration};

use alloy::providers::ext::AnvilApi;
use anvil_tests::{
    api::wait_for,
    devchain::DevChain,
    services::{WorkDir, free_port, ledger_database, listener_block, wait_listener_through},
};
use ledger::digest;

use crate::{
    CHAIN, LIMIT, ledger_counts, registration_stream, sample, scrape, start_listener, start_listener_with_metrics,
    start_reconciler_with_metrics,
};

/// Pauses between kills (ms): irregular, so kills land at different points of a poll.
const KILL_EVERY_MS: [u64; 7] = [600, 350, 800, 250, 500, 900, 300];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_killed_9_mid_stream_ends_with_the_ledger_of_a_fresh_replay() -> eyre::Result<()> {
    let chain = Arc::new(DevChain::start_mining().await?);
    let dir = WorkDir::new("listener-kill9")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    // Small ranges and fast polls: many ledger transactions per stream, so a kill often lands inside one.
    let tuning = "poll_interval_ms = 50\nmax_log_range = 3";
    let mut listener = start_listener(&dir, "listener", &chain, &url, &chain.rpc_url(), tuning)?;

    let stream = tokio::spawn({
        let chain = chain.clone();
        async move { registration_stream(&chain, 24, Duration::from_millis(120), 1).await }
    });
    let mut cursors_at_kill = Vec::new();
    for pause in KILL_EVERY_MS.iter().cycle() {
        if stream.is_finished() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(*pause)).await;
        listener.kill9()?;
        cursors_at_kill.push(listener_block(&db.pool, CHAIN).await?);
        listener.restart()?;
    }
    let sent = stream.await??;
    wait_listener_through(&db.pool, CHAIN, sent.last_block, LIMIT, &mut listener).await?;
    listener.kill9()?;

    let mid_stream: Vec<u64> = cursors_at_kill.iter().flatten().copied().filter(|b| *b < sent.last_block).collect();
    assert!(cursors_at_kill.len() >= 3, "killed {} times", cursors_at_kill.len());
    let mut distinct = mid_stream.clone();
    distinct.dedup();
    assert!(distinct.len() >= 2, "kills landed at several points of the stream: {cursors_at_kill:?}");

    let (replay, replay_url) = ledger_database(&chain.deployment()).await?;
    let mut replayer = start_listener(&dir, "replay", &chain, &replay_url, &chain.rpc_url(), "")?;
    wait_listener_through(&replay.pool, CHAIN, sent.last_block, LIMIT, &mut replayer).await?;
    replayer.kill9()?;

    assert_eq!(
        ledger_counts(&db.pool).await,
        (sent.native as i64, sent.usdt as i64, 0),
        "every registration applied once"
    );
    assert_eq!(digest(&db.pool).await?, digest(&replay.pool).await?, "killed-and-restarted ledger = fresh replay");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_listener_raises_the_lag_on_the_reconcilers_metrics_until_it_is_back() -> eyre::Result<()> {
    let chain = DevChain::start_mining().await?;
    let dir = WorkDir::new("listener-lag-metrics")?;
    let (_db, url) = ledger_database(&chain.deployment()).await?;
    let listener_port = free_port()?;
    let mut listener =
        start_listener_with_metrics(&dir, "listener", &chain, &url, &chain.rpc_url(), "", Some(listener_port))?;
    let reconciler_port = free_port()?;
    let _reconciler = start_reconciler_with_metrics(&dir, &chain, &url, Some(reconciler_port))?;
    let (listener_url, reconciler_url) =
        (format!("http://127.0.0.1:{listener_port}/metrics"), format!("http://127.0.0.1:{reconciler_port}/metrics"));
    let lag_blocks = format!("listener_lag_blocks{{chain_id=\"{CHAIN}\"}}");
    let lag_alert = "reconciler_alerts_firing{check=\"listener_lag\"}";
    let firing = |n: f64| {
        let url = reconciler_url.clone();
        move || {
            let url = url.clone();
            async move { Ok((sample(&scrape(&url).await?, lag_alert) == Some(n)).then_some(())) }
        }
    };
    wait_for("the listener caught up", LIMIT, || async {
        Ok(scrape(&listener_url).await.ok().and_then(|t| (sample(&t, &lag_blocks) == Some(0.0)).then_some(())))
    })
    .await?;
    wait_for("no lag alert", LIMIT, firing(0.0)).await?;

    // Killed while the chain moves on 40 blocks (the reconciler's limit is 20): the lag pages.
    listener.kill9()?;
    chain.provider.anvil_mine(Some(40), None).await?;
    wait_for("the listener_lag alert firing on the reconciler's metrics", LIMIT, firing(1.0)).await?;
    assert!(scrape(&listener_url).await.is_err(), "the killed listener serves nothing");

    // Back: it catches up, its own lag is 0 again and the alert resolves.
    listener.restart()?;
    wait_for("the restarted listener caught up", LIMIT, || async {
        Ok(scrape(&listener_url).await.ok().and_then(|t| (sample(&t, &lag_blocks) == Some(0.0)).then_some(())))
    })
    .await?;
    wait_for("the lag alert resolved", LIMIT, firing(0.0)).await?;
    Ok(())
}
