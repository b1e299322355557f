//! The HTTP API for front ends other than Telegram, served by the admin role with warp on
//! `HTTP_ADDR`:
//!
//! | route | answer |
//! |---|---|
//! | `POST /api/v1/checks` | 202 `{"id","status":"queued"}` + `Location` |
//! | `GET /api/v1/checks/{id}[?wait=N]` | 200, the check (`devmentor check --json` + id, status, timestamps) |
//! | `GET /healthz` | 200 `{"status":"ok"}` while the process answers |
//! | `GET /readyz` | 200 or 503, with the state of PostgreSQL, Redis and Docker |
//! | `GET /metrics` | Prometheus text |
//!
//! `/api/v1/*` wants `Authorization: Bearer <token>` (see `store::tokens`). Every error is JSON
//! (`problem`). The API holds no connection of its own: the PostgreSQL pool and the Redis
//! client reconnect by themselves, so it recovers from their restarts without help.

mod auth;
mod checks;
mod health;
mod problem;
mod tasks;
mod time;

pub use auth::RateLimiter;
pub use checks::{body_limit, parse_wait, validate, Accepted, MAX_WAIT_SECONDS};
pub use problem::{recover, Problem};
pub use time::rfc3339;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// One PostgreSQL step of a request (pool checkout included).
const DB_TIMEOUT: Duration = Duration::from_secs(5);
/// Handing a job to Redis.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(3);
/// Each dependency's answer to `/readyz` (and the queue depth for `/metrics`).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long requests still running at shutdown may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the API needs from the rest of the process.
pub struct ApiState {
    pub store: crate::store::Store,
    pub queue: crate::queue::Queue,
    /// `None`: no worker role in this process, so `/readyz` does not ask Docker.
    pub docker: Option<bollard::Docker>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub languages: Arc<crate::sandbox::Languages>,
    pub limits: crate::check::InputLimits,
    /// Telegram webhook mode: where `POST /telegram/webhook` hands updates.
    pub webhook: Option<Webhook>,
    /// No `BOT_TOKEN`: the fake Bot API the playground page chats through.
    pub playground: Option<crate::telegram::fake::FakeTelegram>,
    /// The admin panel at `/admin/`.
    pub admin: Option<Arc<crate::admin::AdminState>>,
}

/// Hands one Telegram update (JSON bytes) to the bot role.
pub type UpdateSink = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Telegram posts updates here in webhook mode; the secret is checked first.
#[derive(Clone)]
pub struct Webhook {
    pub secret: crate::secret::Secret,
    /// Takes one update (the JSON body); false when the bot role cannot take it now (→ 503,
    /// Telegram retries).
    pub sink: UpdateSink,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("cannot listen on {addr} ({source}); is another process using it? Set HTTP_ADDR to another address")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
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
    /// `NOTIFY submission_done`: the same for task submissions.
    submission_done: tokio::sync::broadcast::Sender<crate::store::listen::Notice>,
}

/// All routes: /api/v1/checks, /api/v1/checks/{id}, /healthz, /readyz, /metrics. Every
/// rejection becomes a JSON error, so nothing can be joined after this with `.or`; to add
/// routes, join them with [`filters`] and `.recover(api::recover)` the whole tree.
pub fn routes(state: Arc<ApiState>) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    filters(state, CancellationToken::new()).recover(recover)
}

/// The routes before rejections are answered: unknown paths reject with "not found" (so other
/// routes can be tried), known paths with a wrong method with a [`Problem`] 405. Long polls end
/// early when `shutdown` is cancelled.
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
    let admin_state = ctx.clone();
    let ctx_admin = warp::any()
        .and(admin_state)
        .and_then(|ctx: Arc<Ctx>| async move { ctx.state.admin.clone().ok_or_else(warp::reject::not_found) });

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
    let submission = warp::path!("api" / "v1" / "submissions" / i64)
        .and(only("GET"))
        .and(ctx.clone())
        .and(warp::header::headers_cloned())
        .and(warp::query::<HashMap<String, String>>())
        .then(tasks::fetch);
    let healthz = warp::path!("healthz").and(only("GET")).map(health::healthz);
    let readyz = warp::path!("readyz")
        .and(only("GET"))
        .and(ctx.clone())
        .then(|ctx: Arc<Ctx>| async move { health::readyz(&ctx.state).await });
    let metrics = warp::path!("metrics")
        .and(only("GET"))
        .and(ctx.clone())
        .then(|ctx: Arc<Ctx>| async move { health::metrics(&ctx.state).await });
    let webhook = warp::path!("telegram" / "webhook")
        .and(only("POST"))
        .and(ctx.clone())
        .and(warp::header::optional::<String>("x-telegram-bot-api-secret-token"))
        .and(warp::body::content_length_limit(4 * 1024 * 1024))
        .and(warp::body::bytes())
        .map(|ctx: Arc<Ctx>, secret: Option<String>, body: bytes::Bytes| telegram_webhook(&ctx.state, secret, &body));
    let playground = warp::path("playground")
        .and(ctx)
        .and_then(|ctx: Arc<Ctx>| async move {
            match ctx.state.playground.clone() {
                Some(fake) => Ok(fake),
                None => Err(warp::reject::not_found()),
            }
        })
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(|fake, tail, method, query, length: Option<u64>| async move {
            // The playground's largest request is a 1 MiB file (as JSON).
            if length.unwrap_or(0) > 4 * 1024 * 1024 {
                Err(warp::reject::custom(Problem::new(
                    warp::http::StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request is larger than 4 MiB",
                )))
            } else {
                Ok((fake, tail, method, query))
            }
        })
        .untuple_one()
        .and(warp::body::bytes())
        .then(
            |fake: crate::telegram::fake::FakeTelegram,
             tail: warp::path::Tail,
             method: warp::http::Method,
             query: HashMap<String, String>,
             body: bytes::Bytes| async move {
                crate::telegram::playground::handle(&fake, tail.as_str(), &method, &query, &body).await
            },
        );

    let admin = warp::path("admin")
        .and(ctx_admin)
        .and(warp::method())
        .and(warp::path::tail())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(
            |state, method, tail, query, headers, remote, length: Option<u64>| async move {
                if length.unwrap_or(0) > 1024 * 1024 {
                    Err(warp::reject::custom(Problem::new(
                        warp::http::StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "the form is larger than 1 MiB",
                    )))
                } else {
                    Ok((state, method, tail, query, headers, remote))
                }
            },
        )
        .untuple_one()
        .and(warp::body::bytes())
        .then(
            |state: Arc<crate::admin::AdminState>,
             method: warp::http::Method,
             tail: warp::path::Tail,
             query: HashMap<String, String>,
             headers: warp::http::HeaderMap,
             remote: Option<SocketAddr>,
             body: bytes::Bytes| async move {
                crate::admin::handle(&state, method, tail.as_str(), query, &headers, remote, &body).await
            },
        );

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
        .or(healthz)
        .unify()
        .or(readyz)
        .unify()
        .or(metrics)
        .unify()
        .or(webhook)
        .unify()
        .or(playground)
        .unify()
        .or(admin)
        .unify()
}

fn telegram_webhook(state: &ApiState, secret: Option<String>, body: &[u8]) -> Response {
    let Some(hook) = &state.webhook else {
        return Problem::not_found().into_response();
    };
    let expected = hook.secret.expose().as_bytes();
    let given = secret.unwrap_or_default();
    if !expected.is_empty() && !constant_time_eq(expected, given.as_bytes()) {
        return Problem::new(
            warp::http::StatusCode::UNAUTHORIZED,
            "bad_secret",
            "the X-Telegram-Bot-Api-Secret-Token header does not match TELEGRAM_WEBHOOK_SECRET",
        )
        .into_response();
    }
    if (hook.sink)(body) {
        warp::reply::json(&serde_json::json!({})).into_response()
    } else {
        Problem::new(
            warp::http::StatusCode::SERVICE_UNAVAILABLE,
            "bot_unavailable",
            "the bot role is restarting; Telegram will retry",
        )
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
fn only(method: &'static str) -> impl Filter<Extract = (), Error = Rejection> + Clone {
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

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), ApiError> {
    let bind_error = |source| ApiError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// Only the probes and the metrics (`/healthz`, `/readyz`, `/metrics`) on `addr`, for a process
/// without the admin role (`METRICS_ADDR`): no API, no panel, no token needed. Serves until
/// `shutdown` resolves; returns the bound address.
pub async fn serve_probes(
    addr: SocketAddr,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ApiError> {
    let (listener, bound) = bind(addr).await?;
    let state = warp::any().map(move || state.clone());
    let healthz = warp::path!("healthz").and(warp::get()).map(health::healthz);
    let readyz = warp::path!("readyz")
        .and(warp::get())
        .and(state.clone())
        .then(|s: Arc<ApiState>| async move { health::readyz(&s).await });
    let metrics = warp::path!("metrics")
        .and(warp::get())
        .and(state)
        .then(|s: Arc<ApiState>| async move { health::metrics(&s).await });
    let routes = healthz.or(readyz).unify().or(metrics).unify().recover(recover);
    let server = warp::serve(routes).incoming(listener).graceful(shutdown).run();
    tracing::info!(addr = %bound, "probes and metrics listening");
    Ok((bound, tokio::spawn(server)))
}

/// Binds `addr` (port 0 allowed) and serves until `shutdown` resolves; returns the bound address
/// and the server task. At shutdown the listener closes, long polls answer at once, and
/// requests still running get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    addr: SocketAddr,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), ApiError> {
    let (listener, bound) = bind(addr).await?;
    let stop = CancellationToken::new();
    let routes = filters(state, stop.clone()).recover(recover);
    let signal = {
        let stop = stop.clone();
        async move {
            shutdown.await;
            stop.cancel();
        }
    };
    let server = warp::serve(routes).incoming(listener).graceful(signal).run();
    let task = tokio::spawn(async move {
        tokio::select! {
            _ = server => {}
            _ = async { stop.cancelled().await; tokio::time::sleep(SHUTDOWN_GRACE).await } => {
                tracing::warn!("HTTP API: requests still running {SHUTDOWN_GRACE:?} after shutdown were dropped");
            }
        }
    });
    tracing::info!(addr = %bound, "HTTP API listening");
    Ok((bound, task))
}
