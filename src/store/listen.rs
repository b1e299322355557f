//! `LISTEN` on a PostgreSQL channel from a task that outlives connection failures.
//!
//! Notifications are fanned out on a broadcast channel. After a reconnection subscribers get
//! [`Notice::Reconnected`], since notifications sent meanwhile are lost and state must be
//! re-read.

use super::{Store, StoreError};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    Payload(String),
    /// (Re)connected: anything may have been missed before this.
    Reconnected,
}

/// Spawns the listener; it runs until `stop` is cancelled.
pub fn spawn(
    store: Store,
    channel: &'static str,
    stop: CancellationToken,
) -> (broadcast::Sender<Notice>, tokio::task::JoinHandle<()>) {
    let (tx, _) = broadcast::channel(1024);
    let sender = tx.clone();
    let task = tokio::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        while !stop.is_cancelled() {
            match listen_once(&store, channel, &tx, &stop).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(channel, error = %e, retry_in_ms = backoff.as_millis() as u64, "LISTEN connection lost");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    });
    (sender, task)
}

async fn listen_once(
    store: &Store,
    channel: &str,
    tx: &broadcast::Sender<Notice>,
    stop: &CancellationToken,
) -> Result<(), StoreError> {
    let (client, mut connection) = store.dedicated().await?;
    let (closed_tx, mut closed_rx) = tokio::sync::oneshot::channel::<()>();
    let out = tx.clone();
    let wanted = channel.to_string();
    let pump = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(msg) = messages.next().await {
            match msg {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) if n.channel() == wanted => {
                    let _ = out.send(Notice::Payload(n.payload().to_string()));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = closed_tx.send(());
    });
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    let _ = tx.send(Notice::Reconnected);
    tokio::select! {
        _ = stop.cancelled() => {
            pump.abort();
            Ok(())
        }
        _ = &mut closed_rx => Err(StoreError::Pool(format!("the LISTEN {channel} connection closed"))),
    }
}
