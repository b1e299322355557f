//! The one HTTP server of a process: composes the API's routes (`crate::api`), the admin panel
//! (`crate::admin`), the playground, the Telegram webhook and the probes, and serves them on
//! `HTTP_ADDR` (or only the probes on `METRICS_ADDR`, for a process without the admin role).
//!
//! | route | answer |
//! |---|---|
//! | `/api/v1/…` | the HTTP API |
//! | `/admin/…` | the admin panel |
//! | `GET /healthz` | 200 `{"status":"ok"}` while the process answers |
//! | `GET /readyz` | 200 or 503, with the state of PostgreSQL, Redis and Docker |
//! | `GET /metrics` | Prometheus text |
//! | `POST /telegram/webhook` | Telegram's updates, in webhook mode |
//! | `/playground/…` | the fake Bot API's chat page, when there is no `BOT_TOKEN` |
//!
//! This module imports the areas it serves; none of them imports it.

mod probes;
mod state;
mod webhook;

pub use state::ServerState;
pub use webhook::{UpdateSink, Webhook};

use crate::api::{self, only, recover, Problem};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

/// How long requests still running at shutdown may take to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr} ({source}); is another process using it? Set HTTP_ADDR to another address")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// All routes, every rejection answered (JSON problems; the panel answers its own).
pub fn routes(state: Arc<ServerState>) -> impl Filter<Extract = (impl Reply,), Error = Infallible> + Clone {
    filters(state, CancellationToken::new()).recover(recover)
}

/// The routes before rejections are answered; long polls end early when `shutdown` is
/// cancelled.
pub fn filters(
    state: Arc<ServerState>,
    shutdown: CancellationToken,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let api = api::filters(state.api.clone(), shutdown);
    let st = warp::any().map(move || state.clone());
    let probes = probe_filters(st.clone());
    let webhook = warp::path!("telegram" / "webhook")
        .and(only("POST"))
        .and(st.clone())
        .and(warp::header::optional::<String>("x-telegram-bot-api-secret-token"))
        .and(warp::body::content_length_limit(4 * 1024 * 1024))
        .and(warp::body::bytes())
        .map(|s: Arc<ServerState>, secret: Option<String>, body: bytes::Bytes| {
            webhook::receive(s.webhook.as_ref(), secret, &body)
        });
    api.or(probes)
        .unify()
        .or(webhook)
        .unify()
        .or(playground(st.clone()))
        .unify()
        .or(admin(st))
        .unify()
}

fn probe_filters<F>(st: F) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Arc<ServerState>,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    let healthz = warp::path!("healthz").and(only("GET")).map(probes::healthz);
    let readyz = warp::path!("readyz")
        .and(only("GET"))
        .and(st.clone())
        .then(|s: Arc<ServerState>| async move { probes::readyz(&s).await });
    let metrics = warp::path!("metrics")
        .and(only("GET"))
        .and(st)
        .then(|s: Arc<ServerState>| async move { probes::metrics(&s).await });
    healthz.or(readyz).unify().or(metrics).unify()
}

/// Refuses a body over `limit` bytes (by its `Content-Length`) before reading it.
fn too_large(length: Option<u64>, limit: u64, what: &'static str) -> Result<(), Rejection> {
    if length.unwrap_or(0) > limit {
        Err(warp::reject::custom(Problem::new(
            warp::http::StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            what,
        )))
    } else {
        Ok(())
    }
}

fn playground<F>(st: F) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Arc<ServerState>,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    warp::path("playground")
        .and(st)
        .and_then(|s: Arc<ServerState>| async move { s.playground.clone().ok_or_else(warp::reject::not_found) })
        .and(warp::path::tail())
        .and(warp::method())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(|fake, tail, method, query, length: Option<u64>| async move {
            // The playground's largest request is a 1 MiB file (as JSON).
            too_large(length, 4 * 1024 * 1024, "the request is larger than 4 MiB").map(|_| (fake, tail, method, query))
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
        )
}

fn admin<F>(st: F) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Arc<ServerState>,), Error = Infallible> + Clone + Send + Sync + 'static,
{
    warp::path("admin")
        .and(st)
        .and_then(|s: Arc<ServerState>| async move { s.admin.clone().ok_or_else(warp::reject::not_found) })
        .and(warp::method())
        .and(warp::path::tail())
        .and(warp::query::<HashMap<String, String>>())
        .and(warp::header::headers_cloned())
        .and(warp::addr::remote())
        .and(warp::header::optional::<u64>("content-length"))
        .and_then(
            |state, method, tail, query, headers, remote, length: Option<u64>| async move {
                too_large(length, 1024 * 1024, "the form is larger than 1 MiB")
                    .map(|_| (state, method, tail, query, headers, remote))
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
        )
}

async fn bind(addr: SocketAddr) -> Result<(tokio::net::TcpListener, SocketAddr), HttpError> {
    let bind_error = |source| HttpError::Bind { addr, source };
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(bind_error)?;
    let bound = listener.local_addr().map_err(bind_error)?;
    Ok((listener, bound))
}

/// Only the probes and the metrics (`/healthz`, `/readyz`, `/metrics`) on `addr`, for a process
/// without the admin role (`METRICS_ADDR`): no API, no panel, no token needed. Serves until
/// `shutdown` resolves; returns the bound address.
pub async fn serve_probes(
    addr: SocketAddr,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), HttpError> {
    let (listener, bound) = bind(addr).await?;
    let routes = probe_filters(warp::any().map(move || state.clone())).recover(recover);
    let server = warp::serve(routes).incoming(listener).graceful(shutdown).run();
    tracing::info!(addr = %bound, "probes and metrics listening");
    Ok((bound, tokio::spawn(server)))
}

/// Binds `addr` (port 0 allowed) and serves until `shutdown` resolves; returns the bound address
/// and the server task. At shutdown the listener closes, long polls answer at once, and
/// requests still running get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve(
    addr: SocketAddr,
    state: Arc<ServerState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), HttpError> {
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
