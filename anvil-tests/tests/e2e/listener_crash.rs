//! kill -9 of the listener binary, again and again while a stream of registrations is mined: the ledger it
//! ends with equals a fresh replay of the chain into a new database (nothing lost, nothing applied twice).

use std::{sync::Arc, time::Duration};

use anvil_tests::{
    devchain::DevChain,
    services::{WorkDir, ledger_database, listener_block, wait_listener_through},
};
use ledger::digest;

use crate::{CHAIN, LIMIT, ledger_counts, registration_stream, start_listener};

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
