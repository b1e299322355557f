//! The root of the supervision tree: the roles this process runs (bot, worker pool, reaper,
//! admin), under the one [`Supervisor`](crate::supervisor). A restart storm at the root stops
//! the process with the reason, instead of looping forever.

use crate::admin::{Admin, AdminArgs};
use crate::reaper::{Reaper, ReaperArgs};
use crate::sandbox_pool::PoolContext;
use crate::supervisor::{self, Children, Escalation, RestartPolicy, SupervisorArgs, SupervisorMsg};
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Child {
    Bot,
    SandboxPool,
    Reaper,
    Admin,
}

/// The roles of this process; a role left `None` is not started here.
pub struct Roles {
    pub bot: Option<Arc<crate::bot::BotCtx>>,
    pub pool: Option<(Arc<PoolContext>, usize)>,
    pub reaper: Option<ReaperArgs>,
    pub admin: Option<AdminArgs>,
    pub policy: RestartPolicy,
    pub metrics: Arc<devmentor::metrics::Metrics>,
    pub stopping: CancellationToken,
}

impl Children for Roles {
    type Key = Child;

    fn supervisor(&self) -> &'static str {
        "root"
    }

    fn name(&self, key: Child) -> String {
        match key {
            Child::Bot => "bot",
            Child::SandboxPool => "sandbox_pool",
            Child::Reaper => "reaper",
            Child::Admin => "admin",
        }
        .to_string()
    }

    async fn start(&self, key: Child, sup: ActorCell) -> Result<Option<ActorCell>, ActorProcessingErr> {
        let cell = match key {
            Child::Bot => match &self.bot {
                Some(ctx) => Some(crate::bot::spawn(ctx.clone(), self.policy, sup).await?.get_cell()),
                None => None,
            },
            Child::SandboxPool => match &self.pool {
                Some((ctx, size)) => {
                    let (a, _) = crate::sandbox_pool::spawn(ctx.clone(), *size, self.policy, sup).await?;
                    Some(a.get_cell())
                }
                None => None,
            },
            Child::Reaper => match &self.reaper {
                Some(r) => Some(Actor::spawn_linked(None, Reaper, r.clone(), sup).await?.0.get_cell()),
                None => None,
            },
            Child::Admin => match &self.admin {
                Some(a) => Some(Actor::spawn_linked(None, Admin, a.clone(), sup).await?.0.get_cell()),
                None => None,
            },
        };
        Ok(cell)
    }
}

pub type RootRef = ActorRef<SupervisorMsg<Child>>;

/// Starts the root; `failed` is told why, should the root give up.
pub async fn start(
    roles: Roles,
    failed: tokio::sync::watch::Sender<Option<String>>,
) -> Result<(RootRef, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
    let args = SupervisorArgs {
        keys: vec![Child::Admin, Child::SandboxPool, Child::Reaper, Child::Bot],
        policy: roles.policy,
        metrics: roles.metrics.clone(),
        stopping: roles.stopping.clone(),
        escalation: Escalation::Report(failed),
        children: Arc::new(roles),
    };
    supervisor::spawn(Some("root".into()), args, None).await
}

/// Stops the root and waits for it.
pub async fn stop(root: &RootRef, handle: tokio::task::JoinHandle<()>, within: Duration) {
    root.stop(Some("shutdown".into()));
    let _ = tokio::time::timeout(within, handle).await;
}
