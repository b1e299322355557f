//! `GET /api/v1/stats/explanations[?language=&since=]`: does the mentoring work — per registry
//! entry, per explanation source, per language and per task: how many explanations were given,
//! how many of them the student's next try fixed, the fix rate with its 95 % Wilson interval,
//! the median attempts and seconds to fix, and the 👍/👎. The figures and how they are counted
//! are `store::efficacy`'s.

use super::auth;
use super::ctx::Ctx;
use super::problem::Problem;
use super::timeouts::DB_TIMEOUT;
use crate::store::efficacy::{self, Figures, Filter};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;
use warp::http::{header, HeaderMap, StatusCode};
use warp::reply::Response;
use warp::Reply;

#[derive(Serialize)]
struct Line<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    slug: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    task: Option<&'a str>,
    language: Option<&'a str>,
    explained: i64,
    pending: i64,
    fixed: i64,
    fix_rate: Option<f64>,
    ci95: [f64; 2],
    median_attempts: Option<f64>,
    median_seconds_to_fix: Option<f64>,
    up: i64,
    down: i64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deleted: bool,
}

fn line(f: &Figures) -> Line<'_> {
    Line {
        slug: None,
        source: None,
        task: None,
        language: f.language.as_deref(),
        explained: f.explained,
        pending: f.pending,
        fixed: f.fixed,
        fix_rate: f.fix_rate,
        ci95: [f.ci95.0, f.ci95.1],
        median_attempts: f.median_attempts,
        median_seconds_to_fix: f.median_seconds_to_fix,
        up: f.up,
        down: f.down,
        deleted: f.deleted,
    }
}

pub async fn explanations(ctx: Arc<Ctx>, headers: HeaderMap, query: HashMap<String, String>) -> Response {
    match try_explanations(&ctx, &headers, &query).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn try_explanations(
    ctx: &Ctx,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, Problem> {
    let state = &ctx.state;
    auth::authenticate(&state.store, headers.get(header::AUTHORIZATION)).await?;
    let language = match query.get("language").map(|l| l.trim()).filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(state.languages.find(l).map(|p| p.name.clone()).ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_language",
                format!(
                    "unsupported language {l:?}; supported: {}",
                    state.languages.names().join(", ")
                ),
            )
        })?),
    };
    let since = match query.get("since").map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(efficacy::parse_day(s).ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid_since",
                format!("since={s:?} is not a day: give YYYY-MM-DD or an RFC 3339 time (2025-03-01T00:00:00Z)"),
            )
        })?),
    };
    let filter = Filter { language, since };
    let read = async {
        let c = state.store.client().await?;
        let entries = efficacy::figures(&c, "entry", &filter).await?;
        let sources = efficacy::figures(&c, "source", &filter).await?;
        let languages = efficacy::figures(&c, "language", &filter).await?;
        let tasks = efficacy::figures(&c, "task", &filter).await?;
        Ok::<_, crate::store::StoreError>((entries, sources, languages, tasks))
    };
    let (entries, sources, languages, tasks) = match tokio::time::timeout(DB_TIMEOUT, read).await {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "API: reading the explanation figures failed");
            return Err(Problem::database_unavailable());
        }
        Err(_) => return Err(Problem::database_unavailable()),
    };
    let body = serde_json::json!({
        "entries": entries.iter().map(|f| Line { slug: Some(&f.key), ..line(f) }).collect::<Vec<_>>(),
        "sources": sources.iter().map(|f| Line { source: Some(&f.key), ..line(f) }).collect::<Vec<_>>(),
        "languages": languages.iter().map(|f| Line { language: Some(&f.key), ..line(f) }).collect::<Vec<_>>(),
        "tasks": tasks.iter().map(|f| Line { task: Some(&f.key), ..line(f) }).collect::<Vec<_>>(),
        "windows": {
            "check_seconds": efficacy::CHECK_WINDOW.as_secs(),
            "submission_seconds": efficacy::SUBMISSION_WINDOW.as_secs(),
        },
    });
    Ok(warp::reply::json(&body).into_response())
}
