//! Prometheus metrics, rendered as text at `/metrics`: a few atomics and one histogram, no
//! registry crate needed. Every role records into the same process-wide [`Metrics`].

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Sandbox latency buckets, in seconds.
const BUCKETS: &[f64] = &[0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Default)]
pub struct Histogram {
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    total: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            counts: BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            ..Default::default()
        }
    }

    pub fn observe(&self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.total.fetch_add(1, Ordering::Relaxed);
    }
}

/// Values read when `/metrics` is scraped (queue depth, pool size, AI counters).
pub type Gauge = Box<dyn Fn() -> f64 + Send + Sync>;

pub struct Metrics {
    pub checks_submitted: AtomicU64,
    pub checks_by_verdict: Mutex<BTreeMap<String, u64>>,
    pub sandbox_seconds: Histogram,
    pub restarts_by_actor: Mutex<BTreeMap<String, u64>>,
    pub jobs_redelivered: AtomicU64,
    pub jobs_requeued_by_reaper: AtomicU64,
    /// Bot role: updates handled, live session actors, results delivered, update → "⏳" time.
    pub bot_updates: AtomicU64,
    pub bot_sessions: AtomicU64,
    pub bot_delivered: AtomicU64,
    pub bot_ack_seconds: Histogram,
    gauges: Mutex<Vec<(String, String, Gauge)>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            checks_submitted: AtomicU64::new(0),
            checks_by_verdict: Mutex::new(BTreeMap::new()),
            sandbox_seconds: Histogram::new(),
            restarts_by_actor: Mutex::new(BTreeMap::new()),
            jobs_redelivered: AtomicU64::new(0),
            jobs_requeued_by_reaper: AtomicU64::new(0),
            bot_updates: AtomicU64::new(0),
            bot_sessions: AtomicU64::new(0),
            bot_delivered: AtomicU64::new(0),
            bot_ack_seconds: Histogram::new(),
            gauges: Mutex::new(Vec::new()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Metrics {
    pub fn check_finished(&self, verdict: &str, sandbox_seconds: f64) {
        *lock(&self.checks_by_verdict).entry(verdict.to_string()).or_default() += 1;
        self.sandbox_seconds.observe(sandbox_seconds);
    }

    pub fn actor_restarted(&self, actor: &str) {
        *lock(&self.restarts_by_actor).entry(actor.to_string()).or_default() += 1;
    }

    /// Registers a value computed at scrape time.
    pub fn gauge(&self, name: &str, help: &str, f: Gauge) {
        lock(&self.gauges).push((name.to_string(), help.to_string(), f));
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut out,
            "devmentor_checks_submitted_total",
            "Checks accepted.",
            self.checks_submitted.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP devmentor_checks_total Checks finished, by verdict.\n# TYPE devmentor_checks_total counter"
        );
        for (v, n) in lock(&self.checks_by_verdict).iter() {
            let _ = writeln!(out, "devmentor_checks_total{{verdict=\"{v}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP devmentor_sandbox_seconds Time of a check in the sandbox.\n# TYPE devmentor_sandbox_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "devmentor_sandbox_seconds_bucket{{le=\"{b}\"}} {}",
                self.sandbox_seconds.counts[i].load(Ordering::Relaxed)
            );
        }
        let total = self.sandbox_seconds.total.load(Ordering::Relaxed);
        let _ = writeln!(out, "devmentor_sandbox_seconds_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(
            out,
            "devmentor_sandbox_seconds_sum {}",
            self.sandbox_seconds.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "devmentor_sandbox_seconds_count {total}");
        let _ = writeln!(out, "# HELP devmentor_actor_restarts_total Supervisor restarts, by actor.\n# TYPE devmentor_actor_restarts_total counter");
        for (a, n) in lock(&self.restarts_by_actor).iter() {
            let _ = writeln!(out, "devmentor_actor_restarts_total{{actor=\"{a}\"}} {n}");
        }
        counter(
            &mut out,
            "devmentor_jobs_redelivered_total",
            "Jobs reclaimed from a dead consumer.",
            self.jobs_redelivered.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "devmentor_bot_updates_total",
            "Telegram updates handled by sessions.",
            self.bot_updates.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "devmentor_bot_delivered_total",
            "Result cards delivered.",
            self.bot_delivered.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP devmentor_bot_sessions Live session actors.\n# TYPE devmentor_bot_sessions gauge\ndevmentor_bot_sessions {}",
            self.bot_sessions.load(Ordering::Relaxed)
        );
        let h = &self.bot_ack_seconds;
        let _ = writeln!(
            out,
            "# HELP devmentor_bot_ack_seconds From receiving an update to the \"⏳\" message.\n# TYPE devmentor_bot_ack_seconds histogram"
        );
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "devmentor_bot_ack_seconds_bucket{{le=\"{b}\"}} {}",
                h.counts[i].load(Ordering::Relaxed)
            );
        }
        let n = h.total.load(Ordering::Relaxed);
        let _ = writeln!(out, "devmentor_bot_ack_seconds_bucket{{le=\"+Inf\"}} {n}");
        let _ = writeln!(
            out,
            "devmentor_bot_ack_seconds_sum {}",
            h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "devmentor_bot_ack_seconds_count {n}");
        counter(
            &mut out,
            "devmentor_jobs_requeued_total",
            "Stuck checks re-enqueued by the reaper.",
            self.jobs_requeued_by_reaper.load(Ordering::Relaxed),
        );
        for (name, help, f) in lock(&self.gauges).iter() {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", f());
        }
        out
    }
}
