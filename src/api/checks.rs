//! `POST /api/v1/checks` (submit a program) and `GET /api/v1/checks/{id}` (its state and result,
//! optionally long-polled).
//!
//! A submission is validated completely before anything is written: a refused request leaves no
//! row and no job. Then the row goes to PostgreSQL (the source of truth) and its id to the Redis
//! stream; when Redis refuses the job the row is deleted again, so "503, try again" is true.

use super::auth;
use super::ctx::{BodyStream, Ctx};
use super::problem::Problem;
use super::timeouts::DB_TIMEOUT;
use crate::admission::{self, Refusal};
use crate::check::{CheckError, InputLimits};
use crate::registry::Locale;
use crate::sandbox::Languages;
use crate::store::checks::{self, CheckRow};
use crate::store::StoreError;
use crate::time::rfc3339;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use warp::http::{header, HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply;

/// The longest `?wait=` a client may ask for, in seconds.
pub const MAX_WAIT_SECONDS: u64 = 60;

/// The largest request body accepted: at least 256 KiB, and always room for a source and a
/// stdin at their limits even when JSON escaping doubles them, so the body cap never refuses a
/// request the input limits allow (and those limits give the clearer message).
pub fn body_limit(limits: &InputLimits) -> usize {
    (256 * 1024).max(2 * (limits.max_source_bytes + limits.max_stdin_bytes) + 16 * 1024)
}

#[derive(Debug, Deserialize)]
struct Submission {
    language: String,
    code: String,
    #[serde(default)]
    stdin: Option<String>,
    #[serde(default)]
    locale: Option<String>,
}

/// A submission that passed every check: ready to be stored as it is.
#[derive(Debug, PartialEq)]
pub struct Accepted {
    /// The language's canonical name (an alias such as `py` becomes `python`).
    pub language: String,
    pub code: String,
    pub stdin: Vec<u8>,
    pub locale: Locale,
}

/// Everything a client can get wrong about a submission, found before anything is stored.
pub fn validate(body: &[u8], languages: &Languages, limits: &InputLimits) -> Result<Accepted, Problem> {
    let sub: Submission = serde_json::from_slice(body).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body must be a JSON object {{\"language\", \"code\", \"stdin\"?, \"locale\"?}}: {e}"),
        )
    })?;
    let stdin = sub.stdin.unwrap_or_default().into_bytes();
    let ok = admission::validate(languages, limits, &sub.language, sub.code.as_bytes(), &stdin).map_err(invalid)?;
    let locale = match sub.locale.as_deref() {
        None => Locale::default(),
        Some(l) => Locale::parse(l).ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_locale",
                format!("unsupported locale {l:?}; supported: ru, en"),
            )
        })?,
    };
    Ok(Accepted {
        language: ok.language,
        code: ok.code,
        stdin,
        locale,
    })
}

/// The longest `"user"` a front end may pass, in characters.
pub const MAX_USER_CHARS: usize = 128;

#[derive(Debug, Deserialize)]
struct UserField {
    #[serde(default)]
    user: Option<serde_json::Value>,
}

/// The request's optional `"user"`: the front end's own name for the student behind the token
/// (for the lineage of `store::efficacy`). A string of 1 to [`MAX_USER_CHARS`] characters
/// without control characters, or absent (`null`); anything else is a 422 saying so.
pub(super) fn api_user(body: &[u8]) -> Result<Option<String>, Problem> {
    let bad = |why: &str| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_user",
            format!("\"user\" must be a string of 1 to {MAX_USER_CHARS} characters naming your student: {why}"),
        )
    };
    let field: UserField = serde_json::from_slice(body).map_err(|_| bad("the body is not a JSON object"))?;
    match field.user {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(u)) => {
            let u = u.trim().to_string();
            if u.is_empty() {
                Err(bad("it is empty"))
            } else if u.chars().count() > MAX_USER_CHARS {
                Err(bad("it is too long"))
            } else if u.chars().any(char::is_control) {
                Err(bad("it contains control characters"))
            } else {
                Ok(Some(u))
            }
        }
        Some(_) => Err(bad("it is not a string")),
    }
}

/// The problem an admission refusal is, for a token's request.
pub(super) fn refused(token: &crate::store::tokens::Token, r: Refusal) -> Problem {
    match r {
        Refusal::Invalid(e) => invalid(e),
        Refusal::RateLimited { retry_after } => auth::rate_limited(token, retry_after),
        Refusal::QueueUnavailable => Problem::queue_unavailable(),
        Refusal::Database(e) => {
            tracing::warn!(error = %e, "API: storing a submission failed");
            Problem::database_unavailable()
        }
        Refusal::UnknownTask { slug } => Problem::new(
            StatusCode::NOT_FOUND,
            "unknown_task",
            format!("there is no published task {slug:?}; GET /api/v1/tasks lists them"),
        ),
        e @ Refusal::LanguageNotAllowed { .. } => {
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "language_not_allowed", e.to_string())
        }
        // Tokens have no running-check rule and no card.
        Refusal::Busy { .. } | Refusal::Abandoned => Problem::database_unavailable(),
    }
}

/// The problem a program refused by validation is.
pub(super) fn invalid(e: CheckError) -> Problem {
    let (status, code) = match e {
        CheckError::UnknownLanguage { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_language"),
        CheckError::SourceTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "source_too_large"),
        CheckError::StdinTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "stdin_too_large"),
        CheckError::NotText => (StatusCode::UNPROCESSABLE_ENTITY, "not_text"),
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "empty_source"),
    };
    Problem::new(status, code, e.to_string())
}

/// Reads the body, refusing it as soon as it passes `limit` (a declared `Content-Length`
/// is refused before reading anything; a chunked body when it grows past the limit).
pub(super) async fn read_body(headers: &HeaderMap, mut body: BodyStream, limit: usize) -> Result<Vec<u8>, Problem> {
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut buf = Vec::with_capacity(declared.unwrap_or(0) as usize);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "the request body could not be read",
            )
        })?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf)
}

/// Runs one PostgreSQL step within [`DB_TIMEOUT`]; any failure is a 503 (the detail is logged).
async fn db<T, F>(what: &str, step: F) -> Result<T, Problem>
where
    F: Future<Output = Result<T, StoreError>>,
{
    match tokio::time::timeout(DB_TIMEOUT, step).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "API: {what} failed");
            Err(Problem::database_unavailable())
        }
        Err(_) => {
            tracing::warn!("API: {what}: no answer from PostgreSQL within {DB_TIMEOUT:?}");
            Err(Problem::database_unavailable())
        }
    }
}

pub async fn submit(ctx: Arc<Ctx>, headers: HeaderMap, body: BodyStream) -> Response {
    match try_submit(&ctx, &headers, body).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn try_submit(ctx: &Ctx, headers: &HeaderMap, body: BodyStream) -> Result<Response, Problem> {
    let state = &ctx.state;
    let token = auth::authenticate(&state.store, headers.get(header::AUTHORIZATION)).await?;
    let body = read_body(headers, body, body_limit(&state.limits)).await?;
    let accepted = validate(&body, &state.languages, &state.limits)?;
    let user = api_user(&body)?;
    let deps = ctx.admission();
    let application = admission::Application {
        language: accepted.language,
        code: accepted.code.into_bytes(),
        stdin: accepted.stdin,
        locale: accepted.locale,
        by: admission::Submitter::Token {
            id: token.id,
            per_minute: token.rate_per_minute,
            user,
        },
    };
    let id = admission::admit(&deps, application, async |_| Ok(None))
        .await
        .map_err(|r| refused(&token, r))?;
    state.metrics.checks_submitted.fetch_add(1, Ordering::Relaxed);
    let mut res = warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "id": id, "status": "queued" })),
        StatusCode::ACCEPTED,
    )
    .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/checks/{id}")) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// `?wait=N`: whole seconds, 0 to [`MAX_WAIT_SECONDS`].
pub fn parse_wait(query: &HashMap<String, String>) -> Result<Duration, Problem> {
    let Some(raw) = query.get("wait") else {
        return Ok(Duration::ZERO);
    };
    match raw.trim().parse::<u64>() {
        Ok(n) if n <= MAX_WAIT_SECONDS => Ok(Duration::from_secs(n)),
        _ => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_wait",
            format!("wait must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"),
        )),
    }
}

pub async fn fetch(id: i64, ctx: Arc<Ctx>, headers: HeaderMap, query: HashMap<String, String>) -> Response {
    match try_fetch(&ctx, id, &headers, &query).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn try_fetch(
    ctx: &Ctx,
    id: i64,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, Problem> {
    let state = &ctx.state;
    let token = auth::authenticate(&state.store, headers.get(header::AUTHORIZATION)).await?;
    let wait = parse_wait(query)?;
    let deadline = Instant::now() + wait;
    // Subscribed before the first read, so a check finishing in between is not missed.
    let mut done = ctx.done.subscribe();
    loop {
        let row = db("reading a check", async {
            let client = state.store.client().await?;
            checks::get(&client, id).await
        })
        .await?;
        // Another token's check is answered exactly like a missing one: ids are sequential,
        // and a different answer would tell a stranger which ids exist.
        let row = match row {
            Some(r) if r.token_id == Some(token.id) => r,
            _ => return Err(Problem::not_found()),
        };
        let now = Instant::now();
        if row.status == "done" || now >= deadline || ctx.shutdown.is_cancelled() {
            return Ok(warp::reply::json(&view(&row)).into_response());
        }
        // The pool connection is released between polls, so waiting clients hold none.
        // Woken by the check's own notification; a slow poll stays as the safety net.
        super::ctx::wait_for_notice(&mut done, &ctx.shutdown, id, deadline).await;
    }
}

/// The check as the API shows it: the `devmentor check --json` fields plus id, status and
/// timestamps. The result fields are null until the check is done.
#[derive(Debug, Serialize)]
struct CheckView<'a> {
    id: i64,
    status: &'a str,
    language: &'a str,
    verdict: Option<&'a str>,
    exit_code: Option<i64>,
    signal: Option<&'a str>,
    stdout: Option<&'a str>,
    stderr: Option<&'a str>,
    truncated: Option<bool>,
    duration_ms: Option<u64>,
    explanation: Option<&'a crate::analyzer::Explanation>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
}

fn view(row: &CheckRow) -> CheckView<'_> {
    let r = row.result.as_ref();
    CheckView {
        id: row.id,
        status: &row.status,
        language: &row.language,
        verdict: r.map(|r| r.verdict.as_str()).or(row.verdict.as_deref()),
        exit_code: r.and_then(|r| r.exit_code),
        signal: r.and_then(|r| r.signal.as_deref()),
        stdout: r.map(|r| r.stdout.as_str()),
        stderr: r.map(|r| r.stderr.as_str()),
        truncated: r.map(|r| r.truncated),
        duration_ms: r.map(|r| r.duration_ms),
        explanation: r.and_then(|r| r.explanation.as_ref()),
        created_at: rfc3339(row.created_at),
        started_at: row.started_at.map(rfc3339),
        finished_at: row.finished_at.map(rfc3339),
    }
}
