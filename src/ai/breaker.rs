//! A circuit breaker: after repeated failures, AI calls fail fast for a while instead of making
//! every student wait for a timeout. One trial call is let through when the pause ends.

use std::time::{Duration, Instant};

const FAILURES_TO_OPEN: u32 = 4;
const OPEN_FOR: Duration = Duration::from_secs(30);
const OPEN_FOR_LONG: Duration = Duration::from_secs(300);

#[derive(Debug, Default)]
pub struct Breaker {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    trial_in_flight: bool,
}

impl Breaker {
    /// May a call go out now?
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.open_until {
            None => true,
            Some(until) if now < until => false,
            Some(_) => {
                // Half-open: exactly one trial.
                if self.trial_in_flight {
                    false
                } else {
                    self.trial_in_flight = true;
                    true
                }
            }
        }
    }

    pub fn success(&mut self) {
        *self = Breaker::default();
    }

    /// `long`: the failure will not fix itself soon (bad key, dead model).
    pub fn failure(&mut self, now: Instant, long: bool) {
        self.consecutive_failures += 1;
        self.trial_in_flight = false;
        if long || self.consecutive_failures >= FAILURES_TO_OPEN || self.open_until.is_some() {
            self.open_until = Some(now + if long { OPEN_FOR_LONG } else { OPEN_FOR });
        }
    }

    pub fn is_open(&self, now: Instant) -> bool {
        self.open_until.is_some_and(|u| now < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_repeated_failures_and_lets_one_trial_through() {
        let mut b = Breaker::default();
        let t0 = Instant::now();
        for _ in 0..FAILURES_TO_OPEN - 1 {
            assert!(b.allow(t0));
            b.failure(t0, false);
        }
        assert!(b.allow(t0));
        b.failure(t0, false);
        assert!(!b.allow(t0), "open");
        let later = t0 + OPEN_FOR + Duration::from_millis(1);
        assert!(b.allow(later), "one trial");
        assert!(!b.allow(later), "only one");
        b.success();
        assert!(b.allow(later));
        b.failure(later, true);
        assert!(
            b.is_open(later + OPEN_FOR + Duration::from_secs(1)),
            "long pause for a bad key"
        );
    }
}
