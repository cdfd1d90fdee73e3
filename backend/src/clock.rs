//! The clock deadlines are computed from.

use std::time::{SystemTime, UNIX_EPOCH};

/// The API's clock in Unix seconds: the system clock plus an offset that only tests move (instead of sleeping
/// until a deadline has passed). Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch, as this API reckons them.
    pub fn now(&self) -> u64 {
        system_now().saturating_add_signed(self.offset_secs.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// Moves this clock (and every clone) `secs` seconds on.
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The host's clock in Unix seconds, without a test's offset.
pub fn system_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or_default()
}
