//! Keeps a running analyzer's registry in step with PostgreSQL, without a restart.
//!
//! A trigger on the registry tables sends `NOTIFY registry_changed` (see `sql/migrations`);
//! this task `LISTEN`s on a dedicated connection and reloads the matcher, coalescing a burst of
//! changes (an import touches hundreds of rows) into one reload. A lost connection is
//! re-established with backoff, and a reload follows, since changes may have been missed.

use crate::analyzer::Analyzer;
use crate::store::Store;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "registry_changed";

pub fn spawn_reloader(store: Store, analyzer: Arc<Analyzer>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut backoff = Duration::from_millis(500);
        while !stop.is_cancelled() {
            match listen_once(&store, &analyzer, &stop).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "registry listener lost its connection");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    })
}

async fn listen_once(
    store: &Store,
    analyzer: &Analyzer,
    stop: &CancellationToken,
) -> Result<(), crate::store::StoreError> {
    let (client, mut connection) = store.dedicated().await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(msg) = messages.next().await {
            match msg {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) if n.channel() == CHANNEL => {
                    if tx.send(()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // Changes made while we were not listening.
    reload(analyzer).await;
    loop {
        tokio::select! {
            _ = stop.cancelled() => {
                pump.abort();
                return Ok(());
            }
            got = rx.recv() => {
                if got.is_none() {
                    return Err(crate::store::StoreError::Pool("the LISTEN connection closed".into()));
                }
                // Coalesce a burst of notifications into one reload.
                tokio::time::sleep(Duration::from_millis(200)).await;
                while rx.try_recv().is_ok() {}
                reload(analyzer).await;
            }
        }
    }
}

async fn reload(analyzer: &Analyzer) {
    match analyzer.reload_from_db().await {
        Ok(n) => tracing::info!(entries = n, "registry reloaded"),
        Err(e) => tracing::warn!(error = %e, "registry reload failed; keeping the previous one"),
    }
}
