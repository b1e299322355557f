//! The HTTP API for front ends other than Telegram: its routes only. `crate::http` joins them
//! with the panel, the probes, the webhook and the playground into the one server.
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/v1/checks` | 202 `{"id","status":"queued"}` + `Location` |
//! | `GET /api/v1/checks/{id}[?wait=N]` | 200, the check (`devmentor check --json` + id, status, timestamps) |
//!
//! `/api/v1/*` wants `Authorization: Bearer <token>` (see `store::tokens`). Every error is JSON
//! (`problem`). The API holds no connection of its own: the PostgreSQL pool and the Redis
//! client reconnect by themselves, so it recovers from their restarts without help.

mod auth;
mod checks;
mod problem;
// `checks` prints timestamps through `super::time`.
use crate::time;

pub use crate::time::rfc3339;
pub use auth::RateLimiter;
pub use checks::{body_limit, parse_wait, validate, Accepted, MAX_WAIT_SECONDS};
pub use problem::{recover, Problem};

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// One PostgreSQL step of a request (pool checkout included).
const DB_TIMEOUT: Duration = Duration::from_secs(5);
/// Handing a job to Redis.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(3);

/// What the API needs from the rest of the process.
pub struct ApiState {
    pub store: crate::store::Store,
    pub queue: crate::queue::Queue,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub languages: Arc<crate::sandbox::Languages>,
    pub limits: crate::check::InputLimits,
}

/// A request body as it arrives.
type BodyStream = Pin<Box<dyn futures_util::Stream<Item = Result<bytes::Bytes, warp::Error>> + Send>>;

/// Shared by every request of one route tree.
struct Ctx {
    state: Arc<ApiState>,
    /// Per route tree: one per server, which is one per process.
    limiter: RateLimiter,
    /// Cancelled at shutdown, so long polls answer at once instead of holding the server up.
    shutdown: CancellationToken,
    /// `NOTIFY check_done` from PostgreSQL: wakes long polls the moment a check finishes,
    /// whichever worker finished it.
    done: tokio::sync::broadcast::Sender<crate::store::listen::Notice>,
}

/// `/api/v1/checks` and `/api/v1/checks/{id}`, before rejections are answered: unknown paths
/// reject with "not found" (so other routes can be tried), known paths with a wrong method with
/// a [`Problem`] 405. Long polls end early when `shutdown` is cancelled.
pub fn filters(
    state: Arc<ApiState>,
    shutdown: CancellationToken,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let (done, _listener) = crate::store::listen::spawn(state.store.clone(), "check_done", shutdown.clone());
    let ctx = Arc::new(Ctx {
        state,
        limiter: RateLimiter::default(),
        shutdown,
        done,
    });
    let ctx = warp::any().map(move || ctx.clone());
    let body = warp::body::stream().map(body_stream);
    let submit = warp::path!("api" / "v1" / "checks")
        .and(only("POST"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(body)
        .then(checks::submit);
    let fetch = warp::path!("api" / "v1" / "checks" / i64)
        .and(only("GET"))
        .and(ctx)
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(checks::fetch);
    submit.or(fetch).unify()
}

/// Names warp's body stream, whose chunk type is opaque, so the handlers need no generics.
fn body_stream<S, B>(s: S) -> BodyStream
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

/// Lets `method` through; any other method on a matched path is a 405 naming the right one.
/// (Checked after the path, so an unknown path stays a plain "not found".)
pub fn only(method: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
    warp::method()
        .and_then(move |m: warp::http::Method| async move {
            if m.as_str() == method {
                Ok(())
            } else {
                Err(warp::reject::custom(Problem::method_not_allowed(method)))
            }
        })
        .untuple_one()
}
