//! The warm pool: containers created, attached and started ahead of demand, per language and
//! step, so a student's latency never includes container creation.
//!
//! Each container is still used exactly once. A background task refills the pool after every
//! take, recycles containers that waited too long, and backs off when creation fails (an image
//! missing, Docker down) instead of spinning.

use super::container::{Prepared, Remover};
use super::language::Languages;
use super::launcher::Step;
use super::spec::{container_body, SpecSettings};
use super::SandboxError;
use bollard::Docker;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Containers created at the same time by the refiller: enough to keep up, few enough not to
/// starve running checks of Docker's attention.
const REFILL_PARALLELISM: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SlotKey {
    language: String,
    step: Step,
}

#[derive(Default)]
struct Slot {
    ready: VecDeque<Prepared>,
    target: usize,
    creating: usize,
    failures: u32,
    retry_at: Option<Instant>,
}

struct Inner {
    docker: Docker,
    remover: Remover,
    languages: Arc<Languages>,
    settings: SpecSettings,
    slots: Mutex<HashMap<SlotKey, Slot>>,
    wake: Notify,
    stop: CancellationToken,
}

/// Counts for metrics and the bench.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    pub ready: usize,
    pub target: usize,
}

#[derive(Clone)]
pub struct WarmPool {
    inner: Arc<Inner>,
    refiller: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl WarmPool {
    /// Starts a pool with `sizes[language]` containers per step; the refiller runs until
    /// [`WarmPool::shutdown`].
    pub fn start(
        docker: Docker,
        remover: Remover,
        languages: Arc<Languages>,
        settings: SpecSettings,
        sizes: &HashMap<String, usize>,
    ) -> WarmPool {
        let mut slots = HashMap::new();
        for pack in languages.iter() {
            let target = sizes.get(&pack.name).copied().unwrap_or(0);
            if target == 0 {
                continue;
            }
            let steps: &[Step] = if pack.is_compiled() {
                &[Step::Compile, Step::Run]
            } else {
                &[Step::Run]
            };
            for step in steps {
                let key = SlotKey {
                    language: pack.name.clone(),
                    step: *step,
                };
                slots.insert(
                    key,
                    Slot {
                        target,
                        ..Default::default()
                    },
                );
            }
        }
        let inner = Arc::new(Inner {
            docker,
            remover,
            languages,
            settings,
            slots: Mutex::new(slots),
            wake: Notify::new(),
            stop: CancellationToken::new(),
        });
        let refiller = tokio::spawn(refill_loop(inner.clone()));
        WarmPool {
            inner,
            refiller: Arc::new(Mutex::new(Some(refiller))),
        }
    }

    /// A waiting container for `language`/`step`, if one is ready. Never blocks on Docker.
    pub fn try_take(&self, language: &str, step: Step) -> Option<Prepared> {
        let key = SlotKey {
            language: language.to_string(),
            step,
        };
        let taken = {
            let mut slots = lock(&self.inner.slots);
            let slot = slots.get_mut(&key)?;
            let max_idle = self.inner.settings.max_idle;
            let mut taken = None;
            while let Some(p) = slot.ready.pop_front() {
                if p.created.elapsed() < max_idle {
                    taken = Some(p);
                    break;
                }
                // Too old: dropping it removes it.
            }
            taken
        };
        self.inner.wake.notify_one();
        taken
    }

    pub fn stats(&self) -> PoolStats {
        let slots = lock(&self.inner.slots);
        slots.values().fold(PoolStats::default(), |acc, s| PoolStats {
            ready: acc.ready + s.ready.len(),
            target: acc.target + s.target,
        })
    }

    /// Waits until every slot is full, or `timeout` passes; true when full.
    pub async fn wait_full(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            let s = self.stats();
            if s.ready >= s.target {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops refilling and removes every waiting container.
    pub async fn shutdown(&self) {
        self.inner.stop.cancel();
        let refiller = lock(&self.refiller).take();
        if let Some(task) = refiller {
            let _ = task.await;
        }
        let drained: Vec<Prepared> = {
            let mut slots = lock(&self.inner.slots);
            slots.values_mut().flat_map(|s| s.ready.drain(..)).collect()
        };
        drop(drained);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding this lock leaves only counters and queues behind: still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn refill_loop(inner: Arc<Inner>) {
    let mut in_flight = 0usize;
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<(SlotKey, Result<Prepared, SandboxError>)>();
    loop {
        // Start as many creations as the slots need and the parallelism allows.
        let mut to_start = Vec::new();
        {
            let mut slots = lock(&inner.slots);
            let now = Instant::now();
            let mut keys: Vec<SlotKey> = slots.keys().cloned().collect();
            // The emptiest slot first, so one language's burst does not starve the others.
            keys.sort_by_key(|k| {
                let s = &slots[k];
                (s.ready.len() + s.creating, k.clone())
            });
            for key in keys {
                let Some(slot) = slots.get_mut(&key) else {
                    continue;
                };
                let max_idle = inner.settings.max_idle;
                slot.ready.retain(|p| p.created.elapsed() < max_idle);
                if slot.retry_at.is_some_and(|t| t > now) {
                    continue;
                }
                while slot.ready.len() + slot.creating < slot.target && in_flight + to_start.len() < REFILL_PARALLELISM
                {
                    slot.creating += 1;
                    to_start.push(key.clone());
                }
            }
        }
        for key in to_start {
            in_flight += 1;
            let inner2 = inner.clone();
            let tx = done_tx.clone();
            tokio::spawn(async move {
                // With a container still waiting in this slot, the next check is covered:
                // creating another can wait for a quiet moment. An empty slot cannot wait.
                let covered = lock(&inner2.slots).get(&key).is_some_and(|s| !s.ready.is_empty());
                if covered {
                    inner2
                        .remover
                        .activity
                        .quiet(super::container::HOUSEKEEPING_PATIENCE)
                        .await;
                }
                let result = match inner2.languages.find(&key.language) {
                    Some(pack) => {
                        let body = container_body(pack, key.step, &inner2.settings);
                        Prepared::create(&inner2.docker, &inner2.remover, body, &pack.name, key.step).await
                    }
                    None => Err(SandboxError::Internal(format!("language {} vanished", key.language))),
                };
                let _ = tx.send((key, result));
            });
        }

        tokio::select! {
            _ = inner.stop.cancelled() => break,
            Some((key, result)) = done_rx.recv() => {
                in_flight -= 1;
                let mut slots = lock(&inner.slots);
                if let Some(slot) = slots.get_mut(&key) {
                    slot.creating -= 1;
                    match result {
                        Ok(p) => {
                            slot.failures = 0;
                            slot.retry_at = None;
                            slot.ready.push_back(p);
                        }
                        Err(e) => {
                            slot.failures += 1;
                            let backoff = Duration::from_millis(500) * 2u32.saturating_pow(slot.failures.min(6));
                            slot.retry_at = Some(Instant::now() + backoff);
                            tracing::warn!(language = %key.language, step = key.step.as_str(), error = %e,
                                retry_in_ms = backoff.as_millis() as u64, "warm pool could not create a container");
                        }
                    }
                }
            }
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
    // Creations still running finish and are dropped (and so removed) with the channel.
    drop(done_tx);
    while in_flight > 0 {
        match done_rx.recv().await {
            Some(_) => in_flight -= 1,
            None => break,
        }
    }
}
