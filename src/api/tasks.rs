//! Tasks through the API, with the same tokens, rate limits and error shape as checks:
//! `GET /api/v1/tasks`, `GET /api/v1/tasks/{slug}`, `POST /api/v1/tasks/{slug}/submissions`,
//! `GET /api/v1/submissions/{id}[?wait=N]`. A task shows its visible tests only; a submission's
//! hidden tests carry their number and verdict, never an input or an output.

use super::auth;
use super::checks::{invalid, parse_wait, refused};
use super::ctx::{BodyStream, Ctx};
use super::problem::Problem;
use super::timeouts::DB_TIMEOUT;
use crate::admission::{self, Submitter, TaskApplication};
use crate::registry::Locale;
use crate::store::tasks::{self as store, SubmissionRow};
use crate::store::StoreError;
use crate::tasks::{Task, TestResult};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;
use warp::http::{header, HeaderMap, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply;

async fn db<T>(what: &str, step: impl Future<Output = Result<T, StoreError>>) -> Result<T, Problem> {
    match tokio::time::timeout(DB_TIMEOUT, step).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "API: {what} failed");
            Err(Problem::database_unavailable())
        }
        Err(_) => Err(Problem::database_unavailable()),
    }
}

fn locale_of(query: &HashMap<String, String>) -> Result<Locale, Problem> {
    match query.get("locale") {
        None => Ok(Locale::default()),
        Some(l) => Locale::parse(l).ok_or_else(|| {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "unknown_locale",
                format!("unsupported locale {l:?}; supported: ru, en"),
            )
        }),
    }
}

fn respond(r: Result<Response, Problem>) -> Response {
    r.unwrap_or_else(|p| p.into_response())
}

#[derive(Serialize)]
struct TaskItem<'a> {
    slug: &'a str,
    title: &'a str,
    topic: &'a str,
    /// Empty: any language.
    languages: &'a [String],
}

pub async fn list(ctx: Arc<Ctx>, headers: HeaderMap, query: HashMap<String, String>) -> Response {
    respond(
        async {
            auth::authenticate(&ctx.state.store, headers.get(header::AUTHORIZATION)).await?;
            let locale = locale_of(&query)?;
            let tasks = db("listing tasks", async {
                store::published(&ctx.state.store.client().await?).await
            })
            .await?;
            let items: Vec<TaskItem> = tasks
                .iter()
                .map(|t| TaskItem {
                    slug: &t.slug,
                    title: t.title(locale),
                    topic: &t.topic,
                    languages: &t.languages,
                })
                .collect();
            Ok(warp::reply::json(&serde_json::json!({ "tasks": items })).into_response())
        }
        .await,
    )
}

#[derive(Serialize)]
struct Example<'a> {
    stdin: &'a str,
    expected: &'a str,
}

#[derive(Serialize)]
struct TaskView<'a> {
    slug: &'a str,
    title: &'a str,
    topic: &'a str,
    languages: &'a [String],
    /// Telegram-HTML subset.
    statement: &'a str,
    checker: &'static str,
    /// The visible tests.
    examples: Vec<Example<'a>>,
    /// All tests, hidden ones included.
    tests: usize,
}

async fn published(ctx: &Ctx, slug: &str) -> Result<Task, Problem> {
    db("reading a task", async {
        store::by_slug(&ctx.state.store.client().await?, slug).await
    })
    .await?
    .filter(|t| t.published)
    .ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown_task",
            format!("there is no published task {slug:?}; GET /api/v1/tasks lists them"),
        )
    })
}

pub async fn show(slug: String, ctx: Arc<Ctx>, headers: HeaderMap, query: HashMap<String, String>) -> Response {
    respond(
        async {
            auth::authenticate(&ctx.state.store, headers.get(header::AUTHORIZATION)).await?;
            let locale = locale_of(&query)?;
            let task = published(&ctx, &slug).await?;
            let tests = db("reading tests", async {
                store::tests(&ctx.state.store.client().await?, task.id).await
            })
            .await?;
            let view = TaskView {
                slug: &task.slug,
                title: task.title(locale),
                topic: &task.topic,
                languages: &task.languages,
                statement: task.statement(locale),
                checker: task.checker.as_str(),
                examples: tests
                    .iter()
                    .filter(|t| !t.hidden)
                    .map(|t| Example {
                        stdin: &t.stdin,
                        expected: &t.expected,
                    })
                    .collect(),
                tests: tests.len(),
            };
            Ok(warp::reply::json(&view).into_response())
        }
        .await,
    )
}

#[derive(Deserialize)]
struct SubmissionBody {
    language: String,
    code: String,
    #[serde(default)]
    locale: Option<String>,
}

pub async fn submit(slug: String, ctx: Arc<Ctx>, headers: HeaderMap, body: BodyStream) -> Response {
    respond(try_submit(&ctx, &slug, &headers, body).await)
}

async fn try_submit(ctx: &Ctx, slug: &str, headers: &HeaderMap, body: BodyStream) -> Result<Response, Problem> {
    let state = &ctx.state;
    let token = auth::authenticate(&state.store, headers.get(header::AUTHORIZATION)).await?;
    let buf = super::checks::read_body(headers, body, super::checks::body_limit(&state.limits)).await?;
    let sub: SubmissionBody = serde_json::from_slice(&buf).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body must be a JSON object {{\"language\", \"code\", \"locale\"?}}: {e}"),
        )
    })?;
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
    let user = super::checks::api_user(&buf)?;
    let deps = ctx.admission();
    let application = TaskApplication {
        slug: slug.to_string(),
        language: sub.language,
        code: sub.code.into_bytes(),
        locale,
        by: Submitter::Token {
            id: token.id,
            per_minute: token.rate_per_minute,
            user,
        },
    };
    let (id, _task) = admission::admit_submission(&deps, application, async |_| Ok(None))
        .await
        .map_err(|r| match r {
            admission::Refusal::Invalid(e) => invalid(e),
            r => refused(&token, r),
        })?;
    let mut res = warp::reply::with_status(
        warp::reply::json(&serde_json::json!({ "id": id, "status": "queued" })),
        StatusCode::ACCEPTED,
    )
    .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/submissions/{id}")) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// A submission as the API shows it. The graded fields are null (and `tests` empty) until done.
#[derive(Serialize)]
struct SubmissionView<'a> {
    id: i64,
    task: &'a str,
    language: &'a str,
    status: &'a str,
    verdict: Option<&'a str>,
    passed: i32,
    total: i32,
    tests: &'a [TestResult],
    compile_output: Option<&'a str>,
    explanation: Option<&'a crate::analyzer::Explanation>,
    duration_ms: Option<u64>,
    created_at: String,
    started_at: Option<String>,
    finished_at: Option<String>,
}

fn view(row: &SubmissionRow) -> SubmissionView<'_> {
    let g = row.result.as_ref();
    SubmissionView {
        id: row.id,
        task: &row.task_slug,
        language: &row.language,
        status: &row.status,
        verdict: row.verdict.as_deref(),
        passed: row.passed,
        total: row.total,
        tests: g.map(|g| g.tests.as_slice()).unwrap_or(&[]),
        compile_output: g.and_then(|g| g.compile_output.as_deref()),
        explanation: g.and_then(|g| g.explanation.as_ref()),
        duration_ms: g.map(|g| g.duration_ms),
        created_at: crate::time::rfc3339(row.created_at),
        started_at: row.started_at.map(crate::time::rfc3339),
        finished_at: row.finished_at.map(crate::time::rfc3339),
    }
}

pub async fn fetch(id: i64, ctx: Arc<Ctx>, headers: HeaderMap, query: HashMap<String, String>) -> Response {
    respond(try_fetch(&ctx, id, &headers, &query).await)
}

async fn try_fetch(
    ctx: &Ctx,
    id: i64,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<Response, Problem> {
    let token = auth::authenticate(&ctx.state.store, headers.get(header::AUTHORIZATION)).await?;
    let deadline = Instant::now() + parse_wait(query)?;
    let mut done = ctx.submission_done.subscribe();
    loop {
        let row = db("reading a submission", async {
            store::submission(&ctx.state.store.client().await?, id).await
        })
        .await?;
        // Another token's submission is answered exactly like a missing one.
        let row = match row {
            Some(r) if r.token_id == Some(token.id) => r,
            _ => return Err(Problem::not_found()),
        };
        let now = Instant::now();
        if row.status == "done" || now >= deadline || ctx.shutdown.is_cancelled() {
            return Ok(warp::reply::json(&view(&row)).into_response());
        }
        super::ctx::wait_for_notice(&mut done, &ctx.shutdown, id, deadline).await;
    }
}
