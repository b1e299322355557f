//! The admin role: owns the one HTTP server (`devmentor::http`: the API, the admin panel,
//! the probes, the webhook and the playground).

use devmentor::http::{serve, ServerState};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub struct Admin;

pub struct AdminState {
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub enum AdminMsg {}

impl Actor for Admin {
    type Msg = AdminMsg;
    type State = AdminState;
    type Arguments = (
        SocketAddr,
        Arc<ServerState>,
        tokio::sync::watch::Sender<Option<SocketAddr>>,
    );

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        (addr, api, bound): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let stop = CancellationToken::new();
        let s = stop.clone();
        let (local, task) = serve(addr, api, async move { s.cancelled().await }).await?;
        tracing::info!(%local, "HTTP API listening (/api/v1/checks, /healthz, /readyz, /metrics)");
        let _ = bound.send(Some(local));
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
