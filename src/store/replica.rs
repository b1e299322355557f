//! Where read-only pages read: a streaming replica (`DATABASE_REPLICA_URL`) when one is set and
//! answers, the primary otherwise.
//!
//! The replica is a convenience, never a dependency: when it is down (or slow to give a
//! connection) the read falls back to the primary with a warning, and the replica is left alone
//! for a while so a dead one costs no time on every page.

use super::{Client, Store, StoreError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a replica checkout may take before the primary is used instead.
const CHECKOUT: Duration = Duration::from_secs(2);
/// After a failure, how long reads go straight to the primary.
const BACKOFF: Duration = Duration::from_secs(10);

pub struct Reader {
    primary: Store,
    replica: Option<Store>,
    /// Until when the replica is skipped after a failure.
    skip_until: Mutex<Option<Instant>>,
}

impl Reader {
    /// Reads go to the primary.
    pub fn primary(primary: Store) -> Reader {
        Reader {
            primary,
            replica: None,
            skip_until: Mutex::new(None),
        }
    }

    /// Reads go to the replica at `url` (empty: the primary). A replica URL that does not parse
    /// is logged and ignored: the pages still work from the primary.
    pub fn with_replica(primary: Store, url: &str) -> Reader {
        let mut reader = Reader::primary(primary);
        if !url.trim().is_empty() {
            match Store::lazy(url, CHECKOUT) {
                Ok(r) => reader.replica = Some(r),
                Err(e) => tracing::warn!(error = %e, "DATABASE_REPLICA_URL is not usable; reading from the primary"),
            }
        }
        reader
    }

    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// A connection for read-only queries: the replica's when it answers, else the primary's.
    pub async fn client(&self) -> Result<Client, StoreError> {
        if let Some(replica) = &self.replica {
            let skipping = self
                .skip_until
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some_and(|t| Instant::now() < t);
            if !skipping {
                let why = match tokio::time::timeout(CHECKOUT, replica.client()).await {
                    Ok(Ok(c)) => return Ok(c),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => format!("no connection within {CHECKOUT:?}"),
                };
                tracing::warn!(error = %why, "the read replica is unavailable; reading from the primary");
                *self.skip_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + BACKOFF);
            }
        }
        self.primary.client().await
    }
}
