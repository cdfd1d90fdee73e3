//! Runtime stalls: an async worker that does not get back to polling for a second stops everything queued behind
//! it (the accept loop, `/health`). Two watches see one: every connection's future is timed poll by poll
//! ([`timed_polls`]: one poll of a second or more is a worker held by one request), and a watchdog thread checks
//! that a ticking task on the runtime keeps running ([`start`]: catches a stall caused by any task). Each stall is
//! logged and counted in `runtime_stalls_total`, with the longest poll in `runtime_longest_poll_seconds`
//! (`ops/metrics.md`; alert `RuntimeStalled`).

use std::{
    future::Future,
    pin::Pin,
    sync::{
        OnceLock,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll},
    time::{Duration, Instant},
};

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};

/// A poll, or a gap in the runtime's ticking, at least this long is a stall.
pub const STALL: Duration = Duration::from_secs(1);

/// How often the runtime's ticking task runs.
const TICK: Duration = Duration::from_millis(100);

struct StallMetrics {
    stalls: Counter,
    longest_poll: Gauge<f64, AtomicU64>,
    longest_poll_micros: AtomicU64,
}

fn metrics() -> &'static StallMetrics {
    static METRICS: OnceLock<StallMetrics> = OnceLock::new();
    METRICS.get_or_init(|| StallMetrics {
        stalls: Counter::default(),
        longest_poll: Gauge::default(),
        longest_poll_micros: AtomicU64::new(0),
    })
}

/// Adds `runtime_stalls_total` and `runtime_longest_poll_seconds` to a service's registry.
pub fn register(registry: &mut Registry) {
    let m = metrics();
    registry.register(
        "runtime_stalls",
        "Times an async worker did not poll for a second or more (a blocking request or task)",
        m.stalls.clone(),
    );
    registry.register(
        "runtime_longest_poll_seconds",
        "Longest single poll of a connection's future seen since the start",
        m.longest_poll.clone(),
    );
}

/// Stalls counted since the process started.
pub fn stalls() -> u64 {
    metrics().stalls.get()
}

/// Records one poll; true when it was a stall.
fn record_poll(what: &'static str, took: Duration) -> bool {
    let m = metrics();
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    if m.longest_poll_micros.fetch_max(micros, Ordering::Relaxed) < micros {
        m.longest_poll.set(took.as_secs_f64());
    }
    if took >= STALL {
        m.stalls.inc();
        tracing::error!(what, took_ms = took.as_millis() as u64, "runtime stall: one poll held an async worker");
        return true;
    }
    false
}

/// `future`, with each of its polls timed (a stall is logged and counted as `what`).
pub fn timed_polls<F: Future>(what: &'static str, future: F) -> TimedPolls<F> {
    TimedPolls { what, future: Box::pin(future), stalls: 0 }
}

/// See [`timed_polls`].
pub struct TimedPolls<F> {
    what: &'static str,
    future: Pin<Box<F>>,
    stalls: u64,
}

impl<F> TimedPolls<F> {
    /// Stalls this future's own polls caused (each also counted in the process-wide `runtime_stalls_total`, which
    /// every other watched future and the watchdog move too).
    pub fn stalls(&self) -> u64 {
        self.stalls
    }
}

impl<F: Future> Future for TimedPolls<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let started = Instant::now();
        let result = self.future.as_mut().poll(cx);
        if record_poll(self.what, started.elapsed()) {
            self.stalls += 1;
        }
        result
    }
}

/// Starts, once per process, a task that ticks on the current runtime and a thread that checks it keeps ticking.
/// Must be called from within the runtime.
pub fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let epoch = Instant::now();
        let last_tick = std::sync::Arc::new(AtomicU64::new(0));
        let ticked = last_tick.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(TICK);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                ticked.store(epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
            }
        });
        let spawned = std::thread::Builder::new().name("stall-watchdog".into()).spawn(move || {
            let mut stalled_since: Option<u64> = None;
            loop {
                std::thread::sleep(TICK * 2);
                let now = epoch.elapsed().as_millis() as u64;
                let gap = now.saturating_sub(last_tick.load(Ordering::Relaxed));
                match stalled_since {
                    None if gap >= STALL.as_millis() as u64 + TICK.as_millis() as u64 => {
                        stalled_since = Some(now - gap);
                        metrics().stalls.inc();
                        tracing::error!(gap_ms = gap, "runtime stall: the runtime's ticking task has not run");
                    }
                    Some(since) if gap < STALL.as_millis() as u64 => {
                        tracing::warn!(lasted_ms = now - since, "runtime stall over");
                        stalled_since = None;
                    }
                    _ => {}
                }
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "stall watchdog not started");
        }
    });
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    // Each future's own count, not the process-wide counter: the watchdog (and any other watched future of the
    // process) moves that one too whenever a loaded machine delays the runtime's ticking task (issue 43: "left 2,
    // right 1" on a busy machine).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_poll_that_blocks_a_worker_for_a_second_is_counted() {
        let before = super::stalls();
        let mut blocking = super::timed_polls("test", async {
            // Exactly what must never happen on an async worker: the test does it on purpose.
            std::thread::sleep(Duration::from_millis(1_100));
        });
        (&mut blocking).await;
        assert_eq!(blocking.stalls(), 1, "one poll of over a second");
        assert!(super::stalls() > before, "and the process-wide counter counts it");
        // However slow the machine, a future that only waits is polled for microseconds: never a second.
        // Meanwhile the watchdog counts a stall of the runtime (as it does when a loaded machine delays its ticking
        // task): the process-wide counter moves, the future's own count does not.
        let global = super::stalls();
        let mut waiting = super::timed_polls("test", async {
            super::metrics().stalls.inc();
            tokio::time::sleep(Duration::from_millis(50)).await
        });
        (&mut waiting).await;
        assert_eq!(waiting.stalls(), 0, "a future that waits without blocking is no stall");
        assert!(super::stalls() > global, "what the process-wide counter says is not this future's");
    }
}
