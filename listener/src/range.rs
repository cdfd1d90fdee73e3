//! How many blocks one `eth_getLogs` spans: halve on a provider refusal or timeout, double on success,
//! never above the last size a provider refused until it has answered well for a while.

/// Successful polls after which a remembered refusal ceiling is forgotten (providers change limits).
const CEILING_MEMORY: u32 = 64;

/// Blocks the next `eth_getLogs` spans, adapted to what the provider accepts (see the module's notes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdaptiveRange {
    current: u64,
    min: u64,
    max: u64,
    ceiling: u64,
    successes_since_refusal: u32,
}

impl AdaptiveRange {
    /// `min ≥ 1`; `initial` is clamped into `[min, max]`.
    pub fn new(initial: u64, min: u64, max: u64) -> Self {
        let min = min.max(1);
        let max = max.max(min);
        Self { current: initial.clamp(min, max), min, max, ceiling: max, successes_since_refusal: 0 }
    }

    /// Blocks the next query should span.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// The provider refused (or timed out on) a query spanning `attempted` blocks.
    pub fn refused(&mut self, attempted: u64) {
        if attempted > self.min {
            self.ceiling = self.ceiling.min(attempted - 1).max(self.min);
        }
        self.current = (attempted / 2).clamp(self.min, self.ceiling);
        self.successes_since_refusal = 0;
    }

    /// A query spanning `attempted` blocks succeeded.
    pub fn succeeded(&mut self, attempted: u64) {
        self.successes_since_refusal = self.successes_since_refusal.saturating_add(1);
        if self.successes_since_refusal >= CEILING_MEMORY {
            self.ceiling = self.max;
        }
        // Only grow when the range was actually used in full (a short tail says nothing about limits).
        if attempted >= self.current {
            self.current = self.current.saturating_mul(2).clamp(self.min, self.ceiling);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn halves_on_refusal_and_does_not_grow_past_the_refused_size() {
        let mut r = AdaptiveRange::new(1_000, 1, 10_000);
        r.refused(1_000);
        assert_eq!(r.current(), 500);
        r.succeeded(500);
        assert_eq!(r.current(), 999, "capped below the refused size");
        r.succeeded(999);
        assert_eq!(r.current(), 999);
    }

    #[test]
    fn forgets_the_ceiling_after_a_long_run_of_successes() {
        let mut r = AdaptiveRange::new(100, 1, 10_000);
        r.refused(100);
        for _ in 0..CEILING_MEMORY {
            r.succeeded(r.current());
        }
        r.succeeded(r.current());
        assert!(r.current() > 99, "grew past the old ceiling: {}", r.current());
    }

    #[test]
    fn never_goes_below_min() {
        let mut r = AdaptiveRange::new(4, 2, 100);
        for _ in 0..10 {
            r.refused(r.current());
        }
        assert_eq!(r.current(), 2);
    }

    proptest! {
        #[test]
        fn stays_within_bounds(initial in 0u64..5_000, min in 0u64..50, max in 0u64..5_000,
                               steps in proptest::collection::vec(any::<bool>(), 0..200)) {
            let mut r = AdaptiveRange::new(initial, min, max);
            let (lo, hi) = (min.max(1), max.max(min.max(1)));
            for ok in steps {
                let attempted = r.current();
                if ok { r.succeeded(attempted) } else { r.refused(attempted) }
                prop_assert!(r.current() >= lo && r.current() <= hi);
            }
        }
    }
}
