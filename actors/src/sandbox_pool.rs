//! The worker role's pool: a supervisor over `pool_size` sandbox actors.
//!
//! Each sandbox actor owns one sandbox slot and its own Redis connection (blocking reads would
//! stall a shared one). It claims a job only when it is idle — that is the backpressure: ractor
//! mailboxes are unbounded, so work is pulled, never pushed. A job of a dead consumer is taken
//! over once idle past the visibility timeout; a crashed actor is restarted with backoff by the one supervisor.

use crate::fault::Site;
use crate::supervisor::{self, Children, Escalation, RestartPolicy, SupervisorArgs, SupervisorMsg};
use devmentor::queue::Queue;
use devmentor::worker::{Outcome, Worker};
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Shared by the pool's actors.
pub struct PoolContext {
    pub worker: Arc<Worker>,
    pub visibility_timeout: Duration,
    /// Cancelled on shutdown: actors stop claiming.
    pub stop: CancellationToken,
    /// Jobs being processed right now.
    pub busy: AtomicUsize,
    pub fault: Arc<crate::fault::FaultInjection>,
}

/// The pool's children: one sandbox actor per slot.
struct Slots {
    ctx: Arc<PoolContext>,
}

impl Children for Slots {
    type Key = usize;

    fn supervisor(&self) -> &'static str {
        "sandbox pool"
    }

    fn name(&self, _slot: usize) -> String {
        "sandbox".into()
    }

    async fn start(&self, slot: usize, sup: ActorCell) -> Result<Option<ActorCell>, ActorProcessingErr> {
        let (a, _) = Actor::spawn_linked(None, SandboxActor, (self.ctx.clone(), slot), sup).await?;
        Ok(Some(a.get_cell()))
    }
}

/// Starts the pool (`size` sandbox actors) linked to `parent`.
pub async fn spawn(
    ctx: Arc<PoolContext>,
    size: usize,
    policy: RestartPolicy,
    parent: ActorCell,
) -> Result<(ActorRef<SupervisorMsg<usize>>, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
    let args = SupervisorArgs {
        keys: (0..size.max(1)).collect(),
        policy,
        metrics: ctx.worker.metrics.clone(),
        stopping: ctx.stop.clone(),
        escalation: Escalation::Fail,
        children: Arc::new(Slots { ctx }),
    };
    tracing::info!(size, "sandbox pool starting");
    supervisor::spawn(None, args, Some(parent)).await
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
    if ctx.fault.armed(Site::Sandbox) && job.kind == devmentor::queue::JobKind::Check {
        let client = ctx.worker.store.client().await?;
        let code = devmentor::store::checks::get(&client, job.check_id)
            .await?
            .map(|c| c.code)
            .unwrap_or_default();
        if ctx.fault.fires(Site::Sandbox, &code) {
            // Mid-job: claimed, not acknowledged. The restarted actor (or another) must finish it.
            panic!("fault injection: sandbox actor crashes on check {}", job.check_id);
        }
    }
    ctx.worker.process(job).await
}
