//! The reaper: re-enqueues checks stuck in `queued`/`running` (Redis restarted empty, a job
//! dropped), from PostgreSQL, the source of truth. A re-enqueued check that was in fact still
//! waiting is harmless: finishing is idempotent. It also removes orphaned sandbox containers
//! (a worker killed mid-creation leaves some behind after the start-up sweep).

use devmentor::metrics::Metrics;
use devmentor::queue::Queue;
use devmentor::store::{checks, tasks, Store};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

pub struct Reaper;

#[derive(Clone)]
pub struct ReaperArgs {
    pub store: Store,
    pub queue: Queue,
    pub metrics: Arc<Metrics>,
    pub stuck_after: Duration,
    pub interval: Duration,
    pub docker: Option<bollard::Docker>,
}

pub enum ReaperMsg {
    Tick,
}

impl Actor for Reaper {
    type Msg = ReaperMsg;
    type State = ReaperArgs;
    type Arguments = ReaperArgs;

    async fn pre_start(&self, myself: ActorRef<Self::Msg>, args: ReaperArgs) -> Result<ReaperArgs, ActorProcessingErr> {
        myself.send_after(args.interval, || ReaperMsg::Tick);
        Ok(args)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        _: ReaperMsg,
        s: &mut ReaperArgs,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(docker) = &s.docker {
            if let Err(e) = devmentor::sandbox::reaper::reap_orphans(docker).await {
                tracing::warn!(error = %e, "container reaper pass failed");
            }
        }
        match requeue_stuck(s).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(checks = n, "re-enqueued stuck checks"),
            Err(e) => tracing::warn!(error = %e, "reaper pass failed"),
        }
        myself.send_after(s.interval, || ReaperMsg::Tick);
        Ok(())
    }
}

async fn requeue_stuck(s: &ReaperArgs) -> anyhow::Result<usize> {
    let client = s.store.client().await?;
    // The group may be gone with Redis's data.
    s.queue.ensure_group().await?;
    let ids = checks::stuck(&client, s.stuck_after, 500).await?;
    for id in &ids {
        if checks::requeue(&client, *id).await? {
            s.queue.enqueue(*id).await?;
            s.metrics.jobs_requeued_by_reaper.fetch_add(1, Ordering::Relaxed);
        }
    }
    let subs = tasks::stuck_submissions(&client, s.stuck_after, 500).await?;
    for id in &subs {
        if tasks::requeue_submission(&client, *id).await? {
            s.queue.enqueue_submission(*id).await?;
            s.metrics.jobs_requeued_by_reaper.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(ids.len() + subs.len())
}
