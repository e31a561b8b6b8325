//! A token bucket on caller-supplied time.

/// Allows bursts of `capacity` and a sustained `per_second` rate.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    updated_at: u64,
}

impl TokenBucket {
    pub fn new(capacity: u32, per_second: f64, now: u64) -> Self {
        Self {
            capacity: f64::from(capacity),
            per_second,
            tokens: f64::from(capacity),
            updated_at: now,
        }
    }

    /// Takes one token if there is one. `now` is in milliseconds; a clock that goes
    /// backwards adds nothing.
    pub fn try_take(&mut self, now: u64) -> bool {
        self.try_take_n(now, 1)
    }

    /// Takes `n` tokens at once if there are that many (a frame of `n` bytes
    /// against a byte rate); never more than the capacity can hold.
    pub fn try_take_n(&mut self, now: u64, n: u32) -> bool {
        let elapsed_ms = now.saturating_sub(self.updated_at);
        self.updated_at = self.updated_at.max(now);
        // u64 milliseconds convert exactly to f64 for any realistic uptime.
        self.tokens = (self.tokens + elapsed_ms as f64 * self.per_second / 1000.0).min(self.capacity);
        let n = f64::from(n);
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

impl TokenBucket {
    /// Returns a token taken by [`Self::try_take`] (the attempt turned out not to
    /// count).
    pub fn give_back(&mut self) {
        self.tokens = (self.tokens + 1.0).min(self.capacity);
    }

    /// Whether the bucket would be full at `now` (it then carries no information
    /// and can be forgotten).
    pub fn is_full(&self, now: u64) -> bool {
        let elapsed_ms = now.saturating_sub(self.updated_at);
        self.tokens + elapsed_ms as f64 * self.per_second / 1000.0 >= self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_many_at_once_or_none() {
        let mut bucket = TokenBucket::new(1000, 100.0, 0);
        assert!(bucket.try_take_n(0, 600));
        assert!(!bucket.try_take_n(0, 600), "only 400 left");
        assert!(bucket.try_take_n(0, 400));
        assert!(!bucket.try_take_n(1_000, 101));
        assert!(bucket.try_take_n(1_000, 100));
    }

    #[test]
    fn allows_a_burst_then_the_sustained_rate() {
        let mut bucket = TokenBucket::new(3, 2.0, 0);
        assert!(bucket.try_take(0));
        assert!(bucket.try_take(0));
        assert!(bucket.try_take(0));
        assert!(!bucket.try_take(0));
        assert!(!bucket.try_take(400));
        assert!(bucket.try_take(500));
        assert!(!bucket.try_take(500));
        // Idle time refills only up to capacity.
        for _ in 0..3 {
            assert!(bucket.try_take(60_000));
        }
        assert!(!bucket.try_take(60_000));
    }

    #[test]
    fn a_clock_going_backwards_adds_nothing() {
        let mut bucket = TokenBucket::new(1, 1.0, 10_000);
        assert!(bucket.try_take(10_000));
        assert!(!bucket.try_take(5_000));
        assert!(!bucket.try_take(10_500));
        assert!(bucket.try_take(11_000));
    }
}
