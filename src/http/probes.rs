//! `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`
//! (Prometheus text).
//!
//! Liveness never looks at dependencies: restarting a healthy process because PostgreSQL is
//! down would only add a second outage. Readiness asks each dependency afresh on every call,
//! so it turns green by itself as soon as they are back.

use super::state::ServerState;
use serde::Serialize;
use std::fmt::Display;
use std::fmt::Write;
use std::future::Future;
use std::time::Duration;
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply;

/// Each dependency's answer to `/readyz` (and the queue depth for `/metrics`).
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn healthz() -> Response {
    warp::reply::json(&serde_json::json!({ "status": "ok" })).into_response()
}

#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    postgres: String,
    redis: String,
    docker: String,
}

/// `ok`, or `down: …` with a reason that names no host or credential (the detail is logged).
async fn probe<E: Display>(name: &str, check: impl Future<Output = Result<(), E>>) -> String {
    match tokio::time::timeout(PROBE_TIMEOUT, check).await {
        Ok(Ok(())) => "ok".into(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: {name} is down");
            "down: not reachable".into()
        }
        Err(_) => {
            tracing::warn!("readiness: {name} did not answer within {PROBE_TIMEOUT:?}");
            format!("down: no answer within {} s", PROBE_TIMEOUT.as_secs())
        }
    }
}

pub async fn readyz(state: &ServerState) -> Response {
    let postgres = probe("PostgreSQL", async {
        let client = state.api.store.client().await.map_err(|e| e.to_string())?;
        client
            .query_one("SELECT 1", &[])
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let redis = probe("Redis", state.api.queue.ping());
    let docker = async {
        match &state.docker {
            Some(docker) => probe("Docker", async { docker.ping().await.map(|_| ()) }).await,
            // This process runs no sandbox, so Docker is not its dependency.
            None => "skipped".to_string(),
        }
    };
    let (postgres, redis, docker) = tokio::join!(postgres, redis, docker);
    let ready = [&postgres, &redis, &docker]
        .iter()
        .all(|s| *s == "ok" || *s == "skipped");
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        postgres,
        redis,
        docker,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    warp::reply::with_status(warp::reply::json(&body), status).into_response()
}

/// The process's metrics plus the queue depth, read from Redis at scrape time. Without Redis
/// the queue gauges are left out rather than failing the scrape: the other series matter most
/// exactly then.
pub async fn metrics(state: &ServerState) -> Response {
    let mut text = state.api.metrics.render();
    match tokio::time::timeout(PROBE_TIMEOUT, state.api.queue.depth()).await {
        Ok(Ok(depth)) => {
            let _ = write!(
                text,
                "# HELP devmentor_queue_waiting Jobs in the stream not yet claimed by a worker.\n\
                 # TYPE devmentor_queue_waiting gauge\n\
                 devmentor_queue_waiting {}\n\
                 # HELP devmentor_queue_pending Jobs claimed by a worker and not yet acknowledged.\n\
                 # TYPE devmentor_queue_pending gauge\n\
                 devmentor_queue_pending {}\n",
                depth.waiting, depth.pending
            );
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "metrics: queue depth unavailable"),
        Err(_) => tracing::debug!("metrics: queue depth: no answer from Redis"),
    }
    let mut res = text.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    res
}
