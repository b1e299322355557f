//! The one supervisor: restart with exponential backoff, a restart-intensity limit within a
//! window, and escalation when it is exceeded.
//!
//! ractor has no built-in restart strategy. [`Supervisor`] is generic over a [`Children`] spec
//! (what the children are and how each starts), and serves the root, the bot role and the
//! sandbox pool with the same policy and the same accounting: a child that fails or stops, and a
//! restart that fails to start, each count as one failure of that child. Past the limit the
//! supervisor escalates as its spec says: it fails itself (its own supervisor decides), or, at
//! the root, it reports why and stops the process.

use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

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

/// Too many restarts in the window: the supervisor must escalate.
#[derive(Debug, PartialEq)]
pub struct Escalate {
    pub restarts: u32,
}

/// One child's recent failures.
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

/// What a supervisor's children are and how each one starts.
pub trait Children: Send + Sync + 'static {
    type Key: Copy + Eq + Hash + Debug + Send + Sync + 'static;

    /// The supervisor's name in logs and errors.
    fn supervisor(&self) -> &'static str;
    /// The child's name in logs and the restart metric.
    fn name(&self, key: Self::Key) -> String;
    /// Starts `key` linked to `supervisor`; `None` when this process does not run it.
    fn start(
        &self,
        key: Self::Key,
        supervisor: ActorCell,
    ) -> impl Future<Output = Result<Option<ActorCell>, ActorProcessingErr>> + Send;
    /// Runs once before the first child starts (the bot role sets its command menu here).
    fn prepare(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// What a supervisor does past its restart limit.
pub enum Escalation {
    /// Fail, so the supervisor above decides.
    Fail,
    /// The top: report why (the process exits non-zero) and stop.
    Report(tokio::sync::watch::Sender<Option<String>>),
}

pub struct SupervisorArgs<C: Children> {
    pub children: Arc<C>,
    pub keys: Vec<C::Key>,
    pub policy: RestartPolicy,
    pub metrics: Arc<devmentor::metrics::Metrics>,
    pub escalation: Escalation,
    /// Cancelled at shutdown: children that stop then are not restarted.
    pub stopping: CancellationToken,
}

pub enum SupervisorMsg<K> {
    Restart(K),
}

pub struct Supervisor<C>(std::marker::PhantomData<fn() -> C>);

impl<C> Default for Supervisor<C> {
    fn default() -> Self {
        Supervisor(std::marker::PhantomData)
    }
}

pub struct SupervisorState<C: Children> {
    args: SupervisorArgs<C>,
    running: HashMap<ractor::ActorId, C::Key>,
    restarts: HashMap<C::Key, Restarts>,
    gave_up: bool,
}

impl<C: Children> SupervisorState<C> {
    async fn start(&mut self, myself: &ActorRef<SupervisorMsg<C::Key>>, key: C::Key) -> Result<(), ActorProcessingErr> {
        if let Some(cell) = self.args.children.start(key, myself.get_cell()).await? {
            self.running.insert(cell.get_id(), key);
        }
        Ok(())
    }

    /// One failure of `key`: restart after the backoff, or escalate.
    fn failed(
        &mut self,
        myself: &ActorRef<SupervisorMsg<C::Key>>,
        key: C::Key,
        reason: String,
    ) -> Result<(), ActorProcessingErr> {
        let c = &self.args.children;
        let name = c.name(key);
        self.args.metrics.actor_restarted(&name);
        match self
            .restarts
            .entry(key)
            .or_default()
            .record(Instant::now(), &self.args.policy)
        {
            Ok(backoff) => {
                tracing::warn!(supervisor = c.supervisor(), child = %name, %reason,
                    backoff_ms = backoff.as_millis() as u64, "child died; restarting");
                myself.send_after(backoff, move || SupervisorMsg::Restart(key));
                Ok(())
            }
            Err(e) => {
                let msg = format!(
                    "{}: {name} restarted {} times within the window, last: {reason}",
                    c.supervisor(),
                    e.restarts
                );
                tracing::error!(%msg, "restart storm; escalating");
                self.gave_up = true;
                match &self.args.escalation {
                    Escalation::Fail => Err(msg.into()),
                    Escalation::Report(to) => {
                        let _ = to.send(Some(msg.clone()));
                        myself.stop(Some(msg));
                        Ok(())
                    }
                }
            }
        }
    }
}

impl<C: Children> Actor for Supervisor<C> {
    type Msg = SupervisorMsg<C::Key>;
    type State = SupervisorState<C>;
    type Arguments = SupervisorArgs<C>;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: SupervisorArgs<C>,
    ) -> Result<Self::State, ActorProcessingErr> {
        args.children.prepare().await;
        let keys = args.keys.clone();
        let mut st = SupervisorState {
            args,
            running: HashMap::new(),
            restarts: HashMap::new(),
            gave_up: false,
        };
        for key in keys {
            st.start(&myself, key).await?;
        }
        Ok(st)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let SupervisorMsg::Restart(key) = msg;
        if st.args.stopping.is_cancelled() || st.gave_up {
            return Ok(());
        }
        match st.start(&myself, key).await {
            Ok(()) => {
                tracing::info!(supervisor = st.args.children.supervisor(), child = %st.args.children.name(key), "restarted");
                Ok(())
            }
            // Starting failed (a dependency is down): another failure of the same child.
            Err(e) => st.failed(&myself, key, format!("restart failed: {e}")),
        }
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, reason) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, format!("failed: {err}")),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, format!("stopped: {}", reason.unwrap_or_default()))
            }
            _ => return Ok(()),
        };
        let Some(key) = st.running.remove(&cell.get_id()) else {
            return Ok(());
        };
        if st.args.stopping.is_cancelled() || st.gave_up {
            return Ok(());
        }
        st.failed(&myself, key, reason)
    }
}

/// Spawns a supervisor linked to `parent` (or unlinked at the top).
pub async fn spawn<C: Children>(
    name: Option<String>,
    args: SupervisorArgs<C>,
    parent: Option<ActorCell>,
) -> Result<(ActorRef<SupervisorMsg<C::Key>>, tokio::task::JoinHandle<()>), ractor::SpawnErr> {
    match parent {
        Some(p) => Actor::spawn_linked(name, Supervisor::<C>::default(), args, p).await,
        None => Actor::spawn(name, Supervisor::<C>::default(), args).await,
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
