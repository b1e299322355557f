//! The worker role's pool: a supervisor over `pool_size` sandbox actors.
//!
//! Each sandbox actor owns one sandbox slot and its own Redis connection (blocking reads would
//! stall a shared one). It claims a job only when it is idle — that is the backpressure: ractor
//! mailboxes are unbounded, so work is pulled, never pushed. A job of a dead consumer is taken
//! over once idle past the visibility timeout; a crashed actor is restarted with backoff.

use crate::supervisor::{RestartPolicy, Restarts};
use devmentor::queue::Queue;
use devmentor::worker::{Outcome, Worker};
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Shared by the pool's actors.
pub struct PoolContext {
    pub worker: Arc<Worker>,
    pub visibility_timeout: Duration,
    /// Cancelled on shutdown: actors stop claiming.
    pub stop: CancellationToken,
    /// Jobs being processed right now.
    pub busy: AtomicUsize,
    pub fault: FaultInjection,
}

/// Fault injection for the runtime's own tests (never set from configuration): a sandbox
/// actor panics in the middle of a job whose code contains `marker`.
#[derive(Default)]
pub struct FaultInjection {
    pub marker: Option<String>,
    /// Panic on every such job, not only the first (a restart storm).
    pub always: bool,
    pub fired: AtomicBool,
}

pub enum PoolMsg {
    Restart(usize),
}

pub struct SandboxPool;

pub struct PoolState {
    ctx: Arc<PoolContext>,
    children: HashMap<ractor::ActorId, usize>,
    restarts: HashMap<usize, Restarts>,
    policy: RestartPolicy,
}

impl SandboxPool {
    async fn spawn_child(
        myself: &ActorRef<PoolMsg>,
        ctx: &Arc<PoolContext>,
        index: usize,
    ) -> Result<ractor::ActorId, ActorProcessingErr> {
        let (child, _) = Actor::spawn_linked(None, SandboxActor, (ctx.clone(), index), myself.get_cell()).await?;
        Ok(child.get_id())
    }
}

impl Actor for SandboxPool {
    type Msg = PoolMsg;
    type State = PoolState;
    type Arguments = (Arc<PoolContext>, usize, RestartPolicy);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (ctx, size, policy): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let mut children = HashMap::new();
        for i in 0..size.max(1) {
            children.insert(Self::spawn_child(&myself, &ctx, i).await?, i);
        }
        tracing::info!(size, "sandbox pool started");
        Ok(PoolState {
            ctx,
            children,
            restarts: HashMap::new(),
            policy,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            PoolMsg::Restart(i) => {
                if state.ctx.stop.is_cancelled() {
                    return Ok(());
                }
                let id = Self::spawn_child(&myself, &state.ctx, i).await?;
                state.children.insert(id, i);
                tracing::info!(slot = i, "sandbox actor restarted");
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, reason) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, format!("failed: {err}")),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, format!("stopped: {}", reason.unwrap_or_default()))
            }
            _ => return Ok(()),
        };
        let Some(i) = state.children.remove(&cell.get_id()) else {
            return Ok(());
        };
        if state.ctx.stop.is_cancelled() {
            return Ok(());
        }
        state.ctx.worker.metrics.actor_restarted("sandbox");
        match state
            .restarts
            .entry(i)
            .or_default()
            .record(Instant::now(), &state.policy)
        {
            Ok(backoff) => {
                tracing::warn!(slot = i, %reason, backoff_ms = backoff.as_millis() as u64, "sandbox actor died; restarting");
                myself.send_after(backoff, move || PoolMsg::Restart(i));
                Ok(())
            }
            Err(e) => {
                tracing::error!(slot = i, restarts = e.restarts, %reason, "sandbox actor restart storm; escalating");
                Err(format!("sandbox slot {i} restarted {} times within the window", e.restarts).into())
            }
        }
    }
}

pub struct SandboxActor;

pub enum SandboxMsg {
    Poll,
}

pub struct SandboxState {
    ctx: Arc<PoolContext>,
    consumer: String,
    queue: Queue,
}

impl Actor for SandboxActor {
    type Msg = SandboxMsg;
    type State = SandboxState;
    type Arguments = (Arc<PoolContext>, usize);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (ctx, index): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let queue = ctx.worker.queue.for_consumer().await?;
        let consumer = format!("{}-{index}", ctx.worker.name);
        myself.cast(SandboxMsg::Poll)?;
        Ok(SandboxState { ctx, consumer, queue })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        _msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if state.ctx.stop.is_cancelled() {
            return Ok(());
        }
        // Jobs of a dead consumer first, then new ones.
        let claimed = match state
            .queue
            .reclaim(&state.consumer, state.ctx.visibility_timeout, 1)
            .await
        {
            Ok(jobs) if !jobs.is_empty() => {
                state
                    .ctx
                    .worker
                    .metrics
                    .jobs_redelivered
                    .fetch_add(jobs.len() as u64, Ordering::Relaxed);
                Ok(jobs)
            }
            Ok(_) => state.queue.claim(&state.consumer, 1, Duration::from_secs(1)).await,
            Err(e) => Err(e),
        };
        match claimed {
            Ok(jobs) => {
                for job in jobs {
                    state.ctx.busy.fetch_add(1, Ordering::SeqCst);
                    let result = run_job(&state.ctx, &job).await;
                    state.ctx.busy.fetch_sub(1, Ordering::SeqCst);
                    match result {
                        Ok(outcome) => tracing::debug!(consumer = %state.consumer, ?outcome, "job done"),
                        // Not acknowledged: the job stays pending and is taken over later.
                        Err(e) => {
                            tracing::warn!(consumer = %state.consumer, check = job.check_id, error = %e, "job failed; it will be retried");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
            }
            Err(e) => {
                // Redis is away: wait and try again; fred reconnects by itself.
                tracing::warn!(consumer = %state.consumer, error = %e, "cannot claim jobs; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        if !state.ctx.stop.is_cancelled() {
            myself.cast(SandboxMsg::Poll)?;
        }
        Ok(())
    }

    async fn post_stop(&self, _myself: ActorRef<Self::Msg>, state: &mut Self::State) -> Result<(), ActorProcessingErr> {
        state.queue.quit().await;
        Ok(())
    }
}

async fn run_job(ctx: &PoolContext, job: &devmentor::queue::Job) -> Result<Outcome, devmentor::worker::WorkerError> {
    if let Some(marker) = &ctx.fault.marker {
        let client = ctx.worker.store.client().await?;
        let code = devmentor::store::checks::get(&client, job.check_id)
            .await?
            .map(|c| c.code)
            .unwrap_or_default();
        if code.contains(marker.as_str()) && (ctx.fault.always || !ctx.fault.fired.swap(true, Ordering::SeqCst)) {
            // Mid-job: claimed, not acknowledged. The restarted actor (or another) must finish it.
            panic!("fault injection: sandbox actor crashes on check {}", job.check_id);
        }
    }
    ctx.worker.process(job).await
}
