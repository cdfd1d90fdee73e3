//! The worker kit: one way for every background worker (the payout worker, the solvency worker, the notifier) to run
//! rounds — a round that found work is followed at once by the next, an idle one waits `interval`, a failed one is
//! logged and retried after `interval` — and to stop: between rounds, when the service's [`Stop`] fires, never in
//! the middle of one (a round's effects are transactions and leases, so even a `kill -9` loses nothing, but a clean
//! stop should not leave leases to expire).

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use crate::Shutdown;

/// What a round tells the kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    /// It found work and may find more: the next round starts at once.
    Busy,
    /// Nothing to do: the next round waits the interval.
    Idle,
}

/// The stop signal shared by a service's workers: fired once, seen by all.
#[derive(Debug, Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// A stop that never fires (tests, one-shot tools).
    pub fn never() -> Self {
        let (tx, rx) = watch::channel(false);
        // Kept alive for the life of the process: a dropped sender would read as "closed", not as "stopped".
        std::mem::forget(tx);
        Self(rx)
    }

    /// Whether it fired.
    pub fn is_stopped(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when it fires.
    pub async fn stopped(&mut self) {
        while !*self.0.borrow_and_update() {
            if self.0.changed().await.is_err() {
                return;
            }
        }
    }
}

/// Splits a service's shutdown future in two that both complete when it does: one [`Stop`] for its workers, and a
/// future for its server.
pub fn split(shutdown: Shutdown) -> (Stop, Shutdown) {
    let (tx, rx) = watch::channel(false);
    let mut server_rx = rx.clone();
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
        // Held until every receiver is gone, so none sees a closed channel before the stop.
        tx.closed().await;
    });
    let server: Shutdown = Box::pin(async move {
        while !*server_rx.borrow_and_update() {
            if server_rx.changed().await.is_err() {
                return;
            }
        }
    });
    (Stop(rx), server)
}

/// Runs `round` until `stop` fires (checked between rounds), as the module says. `name` labels the log lines.
pub async fn run<F, Fut, E>(name: &'static str, interval: Duration, mut stop: Stop, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Round, E>>,
    E: std::fmt::Display,
{
    tracing::info!(worker = name, interval_ms = interval.as_millis() as u64, "worker started");
    while !stop.is_stopped() {
        let wait = match round().await {
            Ok(Round::Busy) => {
                tokio::task::yield_now().await;
                continue;
            }
            Ok(Round::Idle) => interval,
            Err(e) => {
                tracing::warn!(worker = name, error = %e, "worker round failed; the next round retries");
                interval
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stop.stopped() => {}
        }
    }
    tracing::info!(worker = name, "worker stopped");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn busy_rounds_follow_at_once_idle_ones_wait_and_a_stop_ends_the_loop_between_rounds() {
        let (fire, rx) = tokio::sync::oneshot::channel::<()>();
        let (stop, server) = split(Box::pin(async move {
            let _ = rx.await;
        }));
        let rounds = Arc::new(AtomicU32::new(0));
        let counted = rounds.clone();
        let worker = tokio::spawn(run("test", Duration::from_secs(3600), stop, move || {
            let counted = counted.clone();
            async move {
                // Three busy rounds, then idle: an interval of an hour means only the stop can end the wait.
                let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
                Ok::<_, String>(if n < 3 { Round::Busy } else { Round::Idle })
            }
        }));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while rounds.load(Ordering::SeqCst) < 3 {
            assert!(tokio::time::Instant::now() < deadline, "busy rounds did not follow one another");
            tokio::task::yield_now().await;
        }
        fire.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), worker).await.expect("the stop ends the worker").unwrap();
        tokio::time::timeout(Duration::from_secs(5), server).await.expect("the server's future completes too");
        assert_eq!(rounds.load(Ordering::SeqCst), 3, "no round runs after the stop");
    }
}
