//! Supervision: restart with exponential backoff, and a restart-intensity limit that escalates
//! to the parent instead of looping forever.
//!
//! ractor has no built-in restart strategy; every supervisor here keeps a [`Restarts`] per
//! child and asks it, on each failure, how long to wait before the restart — or whether to give
//! up and fail itself, so its own supervisor decides.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct RestartPolicy {
    pub max_restarts: u32,
    pub window: Duration,
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl RestartPolicy {
    pub fn from_config(c: &devmentor::config::RuntimeConfig) -> Self {
        RestartPolicy {
            max_restarts: c.max_restarts,
            window: Duration::from_secs(c.restart_window_seconds.max(1)),
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Too many restarts in the window: the supervisor must fail too.
#[derive(Debug, PartialEq)]
pub struct Escalate {
    pub restarts: u32,
}

#[derive(Debug, Default)]
pub struct Restarts {
    times: VecDeque<Instant>,
}

impl Restarts {
    /// Records a failure; the backoff before restarting, or `Escalate`.
    pub fn record(&mut self, now: Instant, p: &RestartPolicy) -> Result<Duration, Escalate> {
        while self.times.front().is_some_and(|t| now.duration_since(*t) > p.window) {
            self.times.pop_front();
        }
        self.times.push_back(now);
        let n = self.times.len() as u32;
        if n > p.max_restarts {
            return Err(Escalate { restarts: n });
        }
        let backoff = p.base_backoff.saturating_mul(2u32.saturating_pow(n.saturating_sub(1)));
        Ok(backoff.min(p.max_backoff))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_a_storm_escalates() {
        let p = RestartPolicy {
            max_restarts: 3,
            window: Duration::from_secs(10),
            base_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        };
        let mut r = Restarts::default();
        let t = Instant::now();
        assert_eq!(r.record(t, &p), Ok(Duration::from_millis(100)));
        assert_eq!(r.record(t, &p), Ok(Duration::from_millis(200)));
        assert_eq!(r.record(t, &p), Ok(Duration::from_millis(300)));
        assert_eq!(r.record(t, &p), Err(Escalate { restarts: 4 }));
        // Failures outside the window are forgotten.
        let later = t + Duration::from_secs(11);
        let mut r = Restarts::default();
        r.record(t, &p).unwrap();
        r.record(t, &p).unwrap();
        assert_eq!(r.record(later, &p), Ok(Duration::from_millis(100)));
    }
}
