//! The HTTP API for front ends other than Telegram: its routes only. `crate::http` joins them
//! with the panel, the probes, the webhook and the playground into the one server.
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/v1/checks` | 202 `{"id","status":"queued"}` + `Location` |
//! | `GET /api/v1/checks/{id}[?wait=N]` | 200, the check (`devmentor check --json` + id, status, timestamps) |
//! | `GET /api/v1/tasks[?locale=en]` | 200 `{"tasks":[{"slug","title","topic","languages"}]}` |
//! | `GET /api/v1/tasks/{slug}[?locale=en]` | 200, the task with `"examples"` (its visible tests) |
//! | `POST /api/v1/tasks/{slug}/submissions` | 202 `{"id","status":"queued"}` + `Location` |
//! | `GET /api/v1/submissions/{id}[?wait=N]` | 200, the submission with per-test verdicts |
//! | `GET /api/v1/stats/explanations[?language=&since=]` | 200, fix rates per entry, source, language, task |
//!
//! `/api/v1/*` wants `Authorization: Bearer <token>` (see `store::tokens`). Every error is JSON
//! (`problem`). The API holds no connection of its own: the PostgreSQL pool and the Redis
//! client reconnect by themselves, so it recovers from their restarts without help.

mod auth;
mod checks;
mod ctx;
mod problem;
mod stats;
mod tasks;
mod timeouts;
pub use crate::time::rfc3339;
pub use auth::RateLimiter;
pub use checks::{body_limit, parse_wait, validate, Accepted, MAX_WAIT_SECONDS};
pub use ctx::ApiState;
use ctx::{body_stream, Ctx};
pub use problem::{recover, Problem};

use std::collections::HashMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::{Filter, Rejection};

/// `/api/v1/checks` and `/api/v1/checks/{id}`, before rejections are answered: unknown paths
/// reject with "not found" (so other routes can be tried), known paths with a wrong method with
/// a [`Problem`] 405. Long polls end early when `shutdown` is cancelled.
pub fn filters(
    state: Arc<ApiState>,
    shutdown: CancellationToken,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let (done, _listener) = crate::store::listen::spawn(state.store.clone(), "check_done", shutdown.clone());
    let (submission_done, _) = crate::store::listen::spawn(state.store.clone(), "submission_done", shutdown.clone());
    let ctx = Arc::new(Ctx {
        state,
        limiter: RateLimiter::default(),
        shutdown,
        done,
        submission_done,
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
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(checks::fetch);
    let tasks = warp::path!("api" / "v1" / "tasks")
        .and(only("GET"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(tasks::list);
    let task = warp::path!("api" / "v1" / "tasks" / String)
        .and(only("GET"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(tasks::show);
    let submit_task = warp::path!("api" / "v1" / "tasks" / String / "submissions")
        .and(only("POST"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::body::stream().map(body_stream))
        .then(tasks::submit);
    let explanation_stats = warp::path!("api" / "v1" / "stats" / "explanations")
        .and(only("GET"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(stats::explanations);
    let submission = warp::path!("api" / "v1" / "submissions" / i64)
        .and(only("GET"))
        .and(ctx)
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(tasks::fetch);
    submit
        .or(fetch)
        .unify()
        .or(tasks)
        .unify()
        .or(task)
        .unify()
        .or(submit_task)
        .unify()
        .or(submission)
        .unify()
        .or(explanation_stats)
        .unify()
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
