//! The listener binary behind a faulty provider (timeouts, HTTP 429, refused wide log ranges, empty log
//! answers from a lagging node) misses no event: its ledger equals a replay straight from anvil.

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use anvil_tests::{
    devchain::DevChain,
    fault_proxy::{FaultProxy, Faults},
    services::{WorkDir, ledger_database, wait_listener_through},
};
use ledger::digest;

use crate::{CHAIN, LIMIT, ledger_counts, registration_stream, start_listener};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_behind_a_faulty_provider_misses_no_event() -> eyre::Result<()> {
    let chain = Arc::new(DevChain::start_mining().await?);
    let faults = Faults {
        max_log_range: Some(4),
        // Sparse enough that polls also succeed: the listener's retry pause doubles on every fault and only
        // resets on progress.
        rate_limit_every: Some(23),
        stall_every: Some(31),
        stall: Duration::from_secs(3),
        empty_logs_every: Some(3),
    };
    let proxy = FaultProxy::start(&chain.rpc_url(), faults).await?;
    let dir = WorkDir::new("listener-faults")?;
    let (db, url) = ledger_database(&chain.deployment()).await?;
    // The client gives up after 1 s, before the proxy's 3 s stall ends: a timeout as the listener sees it.
    let tuning = "poll_interval_ms = 100\nmax_log_range = 50\nrpc_timeout_secs = 1";
    let mut listener = start_listener(&dir, "listener", &chain, &url, &proxy.url, tuning)?;

    let sent = registration_stream(&chain, 16, Duration::from_millis(150), 1).await?;
    wait_listener_through(&db.pool, CHAIN, sent.last_block, LIMIT, &mut listener).await?;
    listener.kill9()?;

    let c = &proxy.counters;
    let seen = [&c.rate_limited, &c.stalled, &c.range_refused, &c.emptied_logs].map(|n| n.load(Ordering::SeqCst));
    assert!(seen.iter().all(|&n| n > 0), "every fault happened (429, stall, range, empty): {seen:?}");

    let (replay, replay_url) = ledger_database(&chain.deployment()).await?;
    let mut replayer = start_listener(&dir, "replay", &chain, &replay_url, &chain.rpc_url(), "")?;
    wait_listener_through(&replay.pool, CHAIN, sent.last_block, LIMIT, &mut replayer).await?;
    replayer.kill9()?;

    assert_eq!(ledger_counts(&db.pool).await, (sent.native as i64, sent.usdt as i64, 0), "every registration applied");
    assert_eq!(digest(&db.pool).await?, digest(&replay.pool).await?, "ledger through faults = replay without them");
    Ok(())
}
