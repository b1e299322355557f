//! The admin role: owns the HTTP server (API, admin panel, playground, webhook, probes). On a
//! machine without the admin role the same actor serves only the probes (`/healthz`,
//! `/readyz`, `/metrics` on `METRICS_ADDR`), so they are supervised too.

use devmentor::http::ServerState;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub struct Admin;

#[derive(Clone)]
pub struct AdminArgs {
    pub addr: SocketAddr,
    pub api: Arc<ServerState>,
    /// Told the bound address (tests ask for port 0).
    pub bound: tokio::sync::watch::Sender<Option<SocketAddr>>,
    /// Only `/healthz`, `/readyz` and `/metrics` (a worker machine).
    pub probes_only: bool,
}

pub struct AdminState {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub enum AdminMsg {}

impl Actor for Admin {
    type Msg = AdminMsg;
    type State = AdminState;
    type Arguments = AdminArgs;

    async fn pre_start(&self, _myself: ActorRef<Self::Msg>, a: AdminArgs) -> Result<Self::State, ActorProcessingErr> {
        let stop = CancellationToken::new();
        let s = stop.clone();
        let shutdown = async move { s.cancelled().await };
        let (local, task) = if a.probes_only {
            let r = devmentor::http::serve_probes(a.addr, a.api, shutdown).await?;
            tracing::info!(local = %r.0, "probes listening (/healthz, /readyz, /metrics)");
            r
        } else {
            let r = devmentor::http::serve(a.addr, a.api, shutdown).await?;
            tracing::info!(local = %r.0, "HTTP server listening (/api/v1, /admin, /playground, /healthz, /readyz, /metrics)");
            r
        };
        let _ = a.bound.send(Some(local));
        Ok(AdminState { stop, task: Some(task) })
    }

    async fn handle(
        &self,
        _: ActorRef<Self::Msg>,
        msg: Self::Msg,
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {}
    }

    async fn post_stop(&self, _: ActorRef<Self::Msg>, state: &mut Self::State) -> Result<(), ActorProcessingErr> {
        state.stop.cancel();
        if let Some(task) = state.task.take() {
            let _ = task.await;
        }
        Ok(())
    }
}
