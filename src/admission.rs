//! Admission: the one way a check gets in, for the bot and the HTTP API alike.
//!
//! In order: the program is validated (language, source, input), a student may have one
//! running check at a time, the submitter's rate limit is taken, the `checks` row is written
//! (PostgreSQL is the source of truth), then the job goes on the Redis stream. One rule for a
//! stream that refuses the job: the row is deleted again (guarded by `status = 'queued'`, so a
//! job that reached a worker after all is left to finish) and the caller is told the queue is
//! unavailable — the student or client still has the program and simply sends it again, and
//! nothing runs that nobody is waiting for.

use crate::check::{validate_source, CheckError, InputLimits};
use crate::queue::Queue;
use crate::registry::Locale;
use crate::sandbox::Languages;
use crate::store::checks::{self, NewCheck};
use crate::store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A student's unfinished check older than this no longer blocks the next one (a check stuck
/// by an outage must not lock anybody out).
pub const BUSY_HORIZON: Duration = Duration::from_secs(15 * 60);

/// What admission needs; each entry point lends its own (the limiter is per entry point).
pub struct Deps<'a> {
    pub store: &'a Store,
    pub queue: &'a Queue,
    pub languages: &'a Languages,
    pub limits: &'a InputLimits,
    pub limiter: &'a RateLimiter,
    /// How long the stream may take to accept a job before it counts as down.
    pub queue_timeout: Duration,
    /// How long one PostgreSQL step may take before the database counts as down.
    pub db_timeout: Duration,
}

impl Deps<'_> {
    /// Runs one PostgreSQL step within `db_timeout`.
    async fn db<T, F>(&self, what: &str, step: F) -> Result<T, StoreError>
    where
        F: std::future::Future<Output = Result<T, StoreError>>,
    {
        match tokio::time::timeout(self.db_timeout, step).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable {
                reason: format!("{what}: no answer within {:?}", self.db_timeout),
            }),
        }
    }
}

/// Who submits, and what comes with that.
#[derive(Debug, Clone)]
pub enum Submitter {
    /// A Telegram user; the check's card is a message in `chat_id`.
    Student {
        user_id: i64,
        chat_id: i64,
        /// The student's message with the code (editing it re-runs the check).
        source_message_id: Option<i32>,
        /// Checks per minute; 0 means no limit (the admin's setting).
        per_minute: i32,
    },
    /// An API token; `per_minute` ≤ 0 allows nothing. `user`: the front end's own name for its
    /// student (the request's optional `"user"`), so one token can stand for many students.
    Token {
        id: i64,
        per_minute: i32,
        user: Option<String>,
    },
}

/// A program someone wants run.
#[derive(Debug, Clone)]
pub struct Application {
    /// A language name or alias.
    pub language: String,
    pub code: Vec<u8>,
    pub stdin: Vec<u8>,
    pub locale: Locale,
    pub by: Submitter,
}

/// What passed validation (handed to the card callback).
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The canonical name (`py` becomes `python`).
    pub language: String,
    pub code: String,
}

/// Why a check was not admitted. Each variant is a clear answer for its caller.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Invalid(#[from] CheckError),
    #[error("the previous check ({check}) is still running")]
    Busy { check: i64 },
    #[error("too many checks; the next one fits in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the job queue is unavailable; nothing was stored")]
    QueueUnavailable,
    #[error("the database is unavailable: {0}")]
    Database(#[from] StoreError),
    /// The caller's card could not be shown (the student blocked the bot): nothing was stored.
    #[error("the caller gave up before the check was stored")]
    Abandoned,
    /// No published task has this slug (unpublished tasks do not exist for students).
    #[error("there is no task {slug:?}")]
    UnknownTask { slug: String },
    #[error("the task {slug:?} accepts {}; not {language}", allowed.join(", "))]
    LanguageNotAllowed {
        slug: String,
        language: String,
        allowed: Vec<String>,
    },
}

/// Checks the program against the languages and limits, before anything else happens.
pub fn validate(
    languages: &Languages,
    limits: &InputLimits,
    language: &str,
    code: &[u8],
    stdin: &[u8],
) -> Result<Accepted, CheckError> {
    let Some(pack) = languages.find(language) else {
        return Err(CheckError::UnknownLanguage {
            name: language.to_string(),
            known: languages.names().join(", "),
        });
    };
    let code = validate_source(code, limits)?;
    if stdin.len() > limits.max_stdin_bytes {
        return Err(CheckError::StdinTooLarge {
            size: stdin.len(),
            limit: limits.max_stdin_bytes,
        });
    }
    Ok(Accepted {
        language: pack.name.clone(),
        code,
    })
}

/// Admits a check: validation, one running check per student, the rate limit, the row, the
/// job. `card` runs after every rule passed and before the row is written: the bot sends its
/// "⏳" message there, so the row always names a message delivery can edit; `Err(())` abandons.
pub async fn admit<F>(deps: &Deps<'_>, app: Application, card: F) -> Result<i64, Refusal>
where
    F: AsyncFnOnce(&Accepted) -> Result<Option<i32>, ()>,
{
    let accepted = validate(deps.languages, deps.limits, &app.language, &app.code, &app.stdin)?;
    limits(deps, &app.by, |user| async move {
        checks::unfinished_for_user(&deps.store.client().await?, user, BUSY_HORIZON).await
    })
    .await?;
    let message_id = card(&accepted).await.map_err(|()| Refusal::Abandoned)?;
    let mut new = NewCheck {
        language: accepted.language,
        code: accepted.code,
        stdin: app.stdin,
        locale: app.locale,
        message_id,
        ..Default::default()
    };
    match app.by {
        Submitter::Student {
            user_id,
            chat_id,
            source_message_id,
            ..
        } => {
            new.source = "bot".into();
            new.user_id = Some(user_id);
            new.chat_id = Some(chat_id);
            new.source_message_id = source_message_id;
        }
        Submitter::Token { id, user, .. } => {
            new.source = "api".into();
            new.token_id = Some(id);
            new.api_user = user;
        }
    }
    let id = deps
        .db("storing a check", async {
            checks::insert(&deps.store.client().await?, &new).await
        })
        .await?;
    // A command sent while Redis is away waits for the reconnection, so the timeout is what
    // turns "Redis is down" into an answer.
    let enqueued = match tokio::time::timeout(deps.queue_timeout, deps.queue.enqueue(id)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::warn!(check = id, error = %e, "cannot enqueue a check");
            false
        }
        Err(_) => {
            tracing::warn!(check = id, "Redis did not take the job within {:?}", deps.queue_timeout);
            false
        }
    };
    if !enqueued {
        if let Err(e) = deps.db("removing an unqueued check", forget(deps.store, id)).await {
            // Both stores failed at once. The row stays `queued` and the stuck-check reaper will
            // enqueue it later, so the check may still run although the caller was refused.
            tracing::error!(check = id, error = %e, "an unqueued check could not be removed");
            return Err(Refusal::Database(e));
        }
        return Err(Refusal::QueueUnavailable);
    }
    Ok(id)
}

/// A solution someone wants graded.
#[derive(Debug, Clone)]
pub struct TaskApplication {
    pub slug: String,
    pub language: String,
    pub code: Vec<u8>,
    pub locale: Locale,
    pub by: Submitter,
}

/// Admits a task submission like a check: the task must be published and allow the language,
/// the code passes the same validation, a student has one submission running at a time, the
/// rate limit is the submitter's, then the row and the job (deleted again if the stream
/// refuses it). Returns the submission's id and its task.
pub async fn admit_submission<F>(
    deps: &Deps<'_>,
    app: TaskApplication,
    card: F,
) -> Result<(i64, crate::tasks::Task), Refusal>
where
    F: AsyncFnOnce(&Accepted) -> Result<Option<i32>, ()>,
{
    use crate::store::tasks as store;
    let task = deps
        .db("reading a task", async {
            store::by_slug(&deps.store.client().await?, &app.slug).await
        })
        .await?
        .filter(|t| t.published)
        .ok_or_else(|| Refusal::UnknownTask { slug: app.slug.clone() })?;
    let accepted = validate(deps.languages, deps.limits, &app.language, &app.code, b"")?;
    if !task.allows(&accepted.language) {
        return Err(Refusal::LanguageNotAllowed {
            slug: task.slug.clone(),
            language: accepted.language,
            allowed: task.languages.clone(),
        });
    }
    limits(deps, &app.by, |user| async move {
        store::unfinished_submission(&deps.store.client().await?, Some(user), None, BUSY_HORIZON).await
    })
    .await?;
    let message_id = card(&accepted).await.map_err(|()| Refusal::Abandoned)?;
    let mut new = store::NewSubmission {
        task_id: task.id,
        language: accepted.language,
        code: accepted.code,
        locale: app.locale,
        message_id,
        ..Default::default()
    };
    match app.by {
        Submitter::Student { user_id, chat_id, .. } => {
            new.source = "bot".into();
            new.user_id = Some(user_id);
            new.chat_id = Some(chat_id);
        }
        Submitter::Token { id, user, .. } => {
            new.source = "api".into();
            new.token_id = Some(id);
            new.api_user = user;
        }
    }
    let id = deps
        .db("storing a submission", async {
            store::insert_submission(&deps.store.client().await?, &new).await
        })
        .await?;
    let enqueued = matches!(
        tokio::time::timeout(deps.queue_timeout, deps.queue.enqueue_submission(id)).await,
        Ok(Ok(_))
    );
    if !enqueued {
        tracing::warn!(submission = id, "the job stream did not take a submission");
        let forget = async { store::delete_queued_submission(&deps.store.client().await?, id).await };
        if let Err(e) = deps.db("removing an unqueued submission", forget).await {
            tracing::error!(submission = id, error = %e, "an unqueued submission could not be removed");
            return Err(Refusal::Database(e));
        }
        return Err(Refusal::QueueUnavailable);
    }
    Ok((id, task))
}

/// The per-submitter rules: a student has one running job at a time (`running` finds it), and
/// everyone keeps to their rate limit (a student's 0 means none; a token's 0 allows nothing).
async fn limits<F, Fut>(deps: &Deps<'_>, by: &Submitter, running: F) -> Result<(), Refusal>
where
    F: FnOnce(i64) -> Fut,
    Fut: std::future::Future<Output = Result<Option<i64>, StoreError>>,
{
    let (key, per_minute, unlimited) = match by {
        Submitter::Student {
            user_id, per_minute, ..
        } => {
            if let Some(check) = deps.db("looking for a running job", running(*user_id)).await? {
                return Err(Refusal::Busy { check });
            }
            (*user_id, *per_minute, *per_minute <= 0)
        }
        Submitter::Token { id, per_minute, .. } => (*id, *per_minute, false),
    };
    if !unlimited {
        deps.limiter
            .take(key, per_minute, Instant::now())
            .map_err(|retry_after| Refusal::RateLimited { retry_after })?;
    }
    Ok(())
}

/// Deletes a check whose job never reached the queue, unless a worker already has it.
async fn forget(store: &Store, id: i64) -> Result<(), StoreError> {
    checks::delete_queued(&store.client().await?, id).await
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Submissions per minute per submitter: a token bucket in this process's memory — a burst of
/// up to `per_minute`, refilled evenly over the minute. Several processes each keep their own
/// buckets, which only loosens the limit by their number; nothing breaks when Redis or
/// PostgreSQL restarts, because nothing here lives there.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

/// Buckets kept before idle ones are forgotten; a full bucket and a missing one mean the same.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// Takes one submission from `key`'s bucket; `Err(seconds)` says when the next one fits.
    pub fn take(&self, key: i64, per_minute: i32, now: Instant) -> Result<(), u64> {
        if per_minute <= 0 {
            // Allowed nothing: the honest answer is "not within a minute".
            return Err(60);
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            // A bucket untouched for a minute is full again, whatever its rate.
            buckets.retain(|_, b| now.saturating_duration_since(b.at) < Duration::from_secs(60));
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_second;
        // The cap follows the current rate, so lowering it takes effect at once.
        b.tokens = (b.tokens + refill).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / per_second).ceil() as u64).max(1))
        }
    }
}
