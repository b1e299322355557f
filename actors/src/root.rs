//! The root supervisor: starts the roles' actors and restarts them with backoff; a restart storm
//! at the root stops the process with an error instead of looping forever.

use crate::admin::Admin;
use crate::reaper::{Reaper, ReaperArgs};
use crate::sandbox_pool::{PoolContext, SandboxPool};
use crate::supervisor::{RestartPolicy, Restarts};
use devmentor::http::ServerState;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Child {
    Bot,
    SandboxPool,
    Reaper,
    Admin,
}

impl Child {
    fn name(self) -> &'static str {
        match self {
            Child::Bot => "bot",
            Child::SandboxPool => "sandbox_pool",
            Child::Reaper => "reaper",
            Child::Admin => "admin",
        }
    }
}

pub struct RootArgs {
    pub bot: Option<Arc<crate::bot::BotCtx>>,
    pub pool: Option<(Arc<PoolContext>, usize)>,
    pub reaper: Option<ReaperArgs>,
    pub admin: Option<(
        SocketAddr,
        Arc<ServerState>,
        tokio::sync::watch::Sender<Option<SocketAddr>>,
    )>,
    pub policy: RestartPolicy,
    pub metrics: Arc<devmentor::metrics::Metrics>,
    /// Set when the root gives up, so `run` exits non-zero.
    pub failed: tokio::sync::watch::Sender<Option<String>>,
}

pub enum RootMsg {
    Restart(Child),
}

pub struct Root;

pub struct RootState {
    args: RootArgs,
    children: HashMap<ractor::ActorId, Child>,
    restarts: HashMap<Child, Restarts>,
    stopping: bool,
}

impl Root {
    async fn spawn(
        myself: &ActorRef<RootMsg>,
        args: &RootArgs,
        child: Child,
    ) -> Result<Option<ractor::ActorId>, ActorProcessingErr> {
        let cell = myself.get_cell();
        let id = match child {
            Child::Bot => match &args.bot {
                Some(ctx) => {
                    let (a, _) =
                        Actor::spawn_linked(None, crate::bot::BotRole, (ctx.clone(), args.policy), cell).await?;
                    Some(a.get_id())
                }
                None => None,
            },
            Child::SandboxPool => match &args.pool {
                Some((ctx, size)) => {
                    let (a, _) =
                        Actor::spawn_linked(None, SandboxPool, (ctx.clone(), *size, args.policy), cell).await?;
                    Some(a.get_id())
                }
                None => None,
            },
            Child::Reaper => match &args.reaper {
                Some(r) => {
                    let a = ReaperArgs {
                        store: r.store.clone(),
                        queue: r.queue.clone(),
                        metrics: r.metrics.clone(),
                        stuck_after: r.stuck_after,
                        interval: r.interval,
                        docker: r.docker.clone(),
                    };
                    let (a, _) = Actor::spawn_linked(None, Reaper, a, cell).await?;
                    Some(a.get_id())
                }
                None => None,
            },
            Child::Admin => match &args.admin {
                Some((addr, api, bound)) => {
                    let (a, _) = Actor::spawn_linked(None, Admin, (*addr, api.clone(), bound.clone()), cell).await?;
                    Some(a.get_id())
                }
                None => None,
            },
        };
        Ok(id)
    }
}

impl Actor for Root {
    type Msg = RootMsg;
    type State = RootState;
    type Arguments = RootArgs;

    async fn pre_start(&self, myself: ActorRef<Self::Msg>, args: RootArgs) -> Result<RootState, ActorProcessingErr> {
        let mut children = HashMap::new();
        for child in [Child::Admin, Child::SandboxPool, Child::Reaper, Child::Bot] {
            if let Some(id) = Self::spawn(&myself, &args, child).await? {
                children.insert(id, child);
            }
        }
        Ok(RootState {
            args,
            children,
            restarts: HashMap::new(),
            stopping: false,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: RootMsg,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        let RootMsg::Restart(child) = msg;
        if state.stopping {
            return Ok(());
        }
        match Self::spawn(&myself, &state.args, child).await {
            Ok(Some(id)) => {
                state.children.insert(id, child);
                tracing::info!(child = child.name(), "restarted");
            }
            Ok(None) => {}
            // Starting failed (a dependency is down): count it as another failure.
            Err(e) => self.failed(&myself, state, child, e.to_string()),
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut RootState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, reason) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => (cell, reason.unwrap_or_else(|| "stopped".into())),
            _ => return Ok(()),
        };
        let Some(child) = state.children.remove(&cell.get_id()) else {
            return Ok(());
        };
        if !state.stopping {
            self.failed(&myself, state, child, reason);
        }
        Ok(())
    }
}

impl Root {
    fn failed(&self, myself: &ActorRef<RootMsg>, state: &mut RootState, child: Child, reason: String) {
        state.args.metrics.actor_restarted(child.name());
        match state
            .restarts
            .entry(child)
            .or_default()
            .record(Instant::now(), &state.args.policy)
        {
            Ok(backoff) => {
                tracing::warn!(child = child.name(), %reason, backoff_ms = backoff.as_millis() as u64, "role actor died; restarting");
                myself.send_after(backoff, move || RootMsg::Restart(child));
            }
            Err(e) => {
                let msg = format!(
                    "{} restarted {} times within the window, last: {reason}",
                    child.name(),
                    e.restarts
                );
                tracing::error!(%msg, "restart storm at the root; stopping");
                state.stopping = true;
                let _ = state.args.failed.send(Some(msg.clone()));
                myself.stop(Some(msg));
            }
        }
    }
}

/// Stops the root and waits for it.
pub async fn stop(root: &ActorRef<RootMsg>, handle: tokio::task::JoinHandle<()>, within: Duration) {
    root.stop(Some("shutdown".into()));
    let _ = tokio::time::timeout(within, handle).await;
}
