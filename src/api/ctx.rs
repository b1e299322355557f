//! What every API request shares: the API's dependencies, the per-server context (rate
//! limiter, shutdown, check-done notices), and the request body type, for the routes' modules
//! (so they need not import `api` itself).

use super::auth::RateLimiter;
use std::pin::Pin;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the API needs from the rest of the process.
pub struct ApiState {
    pub store: crate::store::Store,
    pub queue: crate::queue::Queue,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub languages: Arc<crate::sandbox::Languages>,
    pub limits: crate::check::InputLimits,
}

/// A request body as it arrives.
pub(super) type BodyStream = Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, warp::Error>> + Send>>;

/// Shared by every request of one route tree.
pub(super) struct Ctx {
    pub(super) state: Arc<ApiState>,
    /// Per route tree: one per server, which is one per process.
    pub(super) limiter: RateLimiter,
    /// Cancelled at shutdown, so long polls answer at once instead of holding the server up.
    pub(super) shutdown: CancellationToken,
    /// `NOTIFY check_done` from PostgreSQL: wakes long polls the moment a check finishes,
    /// whichever worker finished it.
    pub(super) done: tokio::sync::broadcast::Sender<crate::store::listen::Notice>,
    /// `NOTIFY submission_done`: the same for task submissions.
    pub(super) submission_done: tokio::sync::broadcast::Sender<crate::store::listen::Notice>,
}

impl Ctx {
    /// What admission needs, lent by the API (its own rate limiter, its timeouts).
    pub(super) fn admission(&self) -> crate::admission::Deps<'_> {
        crate::admission::Deps {
            store: &self.state.store,
            queue: &self.state.queue,
            languages: &self.state.languages,
            limits: &self.state.limits,
            limiter: &self.limiter,
            queue_timeout: super::timeouts::QUEUE_TIMEOUT,
            db_timeout: super::timeouts::DB_TIMEOUT,
        }
    }
}

/// Names warp's body stream, whose chunk type is opaque, so the handlers need no generics.
pub(super) fn body_stream<S, B>(s: S) -> BodyStream
where
    S: futures_util::Stream<Item = Result<B, warp::Error>> + Send + 'static,
    B: bytes::Buf,
{
    Box::pin(futures_util::StreamExt::map(s, |chunk| {
        chunk.map(|mut b| {
            let n = b.remaining();
            b.copy_to_bytes(n)
        })
    }))
}

/// How often a long poll re-reads its row when no notification came (a lost notification, a
/// LISTEN connection being re-established).
pub(super) const POLL_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits until row `id`'s notification arrives on `done`, the poll interval (capped by
/// `deadline`) passes, or the server shuts down — whichever is first. The pool connection is
/// released meanwhile, so waiting clients hold none.
pub(super) async fn wait_for_notice(
    done: &mut tokio::sync::broadcast::Receiver<crate::store::listen::Notice>,
    shutdown: &CancellationToken,
    id: i64,
    deadline: std::time::Instant,
) {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    let until = tokio::time::Instant::now() + POLL_INTERVAL.min(left);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return,
            _ = shutdown.cancelled() => return,
            got = done.recv() => match got {
                Ok(crate::store::listen::Notice::Payload(p)) if p == id.to_string() => return,
                Ok(crate::store::listen::Notice::Reconnected) | Err(_) => return,
                Ok(_) => {}
            },
        }
    }
}
