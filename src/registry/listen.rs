//! Keeps a running analyzer's registry in step with PostgreSQL, without a restart.
//!
//! A trigger on the registry tables sends `NOTIFY registry_changed` (see `sql/migrations`);
//! this task reloads the matcher on each, coalescing a burst of changes (an import touches
//! hundreds of rows) into one reload, and reloads after every reconnection, since changes may
//! have been missed meanwhile.

use crate::analyzer::Analyzer;
use crate::store::listen::{self, Notice};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "registry_changed";

pub fn spawn_reloader(store: Store, analyzer: Arc<Analyzer>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    let (tx, listener) = listen::spawn(store, CHANNEL, stop.clone());
    let mut rx = tx.subscribe();
    tokio::spawn(async move {
        loop {
            let got = tokio::select! {
                _ = stop.cancelled() => break,
                got = rx.recv() => got,
            };
            match got {
                Ok(Notice::Payload(_)) | Ok(Notice::Reconnected) | Err(RecvError::Lagged(_)) => {
                    // Coalesce a burst of notifications into one reload.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    while rx.try_recv().is_ok() {}
                    match analyzer.reload_from_db().await {
                        Ok(n) => tracing::info!(entries = n, "registry reloaded"),
                        Err(e) => tracing::warn!(error = %e, "registry reload failed; keeping the previous one"),
                    }
                }
                Err(RecvError::Closed) => break,
            }
        }
        let _ = listener.await;
    })
}
