//! The `checks` table: written first (status `queued`) before a job reaches Redis, updated by
//! workers, finished exactly once. Every transition is a guarded `UPDATE … WHERE status …`,
//! so a re-delivered job can never produce a second result.
//!
//! The statements every check goes through (insert, get, start, finish) are prepared once per
//! pooled connection (`prepare_cached`): a plain query string is parsed anew each time, a
//! round trip and a server-side transaction of its own before the statement even runs.

use super::{Client, StoreError};
use crate::check::CheckResult;
use crate::registry::Locale;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Default)]
pub struct NewCheck {
    pub language: String,
    pub code: String,
    pub stdin: Vec<u8>,
    pub locale: Locale,
    /// `api`, `bot` or `cli`.
    pub source: String,
    pub token_id: Option<i64>,
    pub user_id: Option<i64>,
    /// Bot checks: the chat and the "⏳" message that becomes the result card.
    pub chat_id: Option<i64>,
    pub message_id: Option<i32>,
    /// Bot checks: the student's message with the code (an edit of it re-runs the check).
    pub source_message_id: Option<i32>,
    /// API checks: the front end's own name for its student (`"user"`), for the lineage.
    pub api_user: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CheckRow {
    pub id: i64,
    pub status: String,
    pub source: String,
    pub language: String,
    pub locale: Locale,
    pub code: String,
    pub stdin: Vec<u8>,
    pub verdict: Option<String>,
    /// The result, once done (decoded here, once; a stored value this version cannot read is
    /// logged and left `None`, which every reader shows as the service's failure).
    pub result: Option<CheckResult>,
    pub attempts: i32,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    pub chat_id: Option<i64>,
    pub message_id: Option<i32>,
    pub source_message_id: Option<i32>,
    pub delivered_at: Option<SystemTime>,
    pub api_user: Option<String>,
}

const COLUMNS: &str =
    "id, status, source, language, locale, code, stdin, verdict, result, attempts, user_id, token_id, \
                       created_at, started_at, finished_at, chat_id, message_id, source_message_id, delivered_at, api_user";

fn row_to_check(r: &tokio_postgres::Row) -> CheckRow {
    CheckRow {
        id: r.get(0),
        status: r.get(1),
        source: r.get(2),
        language: r.get(3),
        locale: Locale::parse(r.get::<_, &str>(4)).unwrap_or_default(),
        code: r.get(5),
        stdin: r.get(6),
        verdict: r.get(7),
        result: decode_result(r.get(0), r.get(7), r.get(8)),
        attempts: r.get(9),
        user_id: r.get(10),
        token_id: r.get(11),
        created_at: r.get(12),
        started_at: r.get(13),
        finished_at: r.get(14),
        chat_id: r.get(15),
        message_id: r.get(16),
        source_message_id: r.get(17),
        delivered_at: r.get(18),
        api_user: r.get(19),
    }
}

fn decode_result(id: i64, verdict: Option<&str>, value: Option<serde_json::Value>) -> Option<CheckResult> {
    let mut value = value?;
    // The verdict column is the authority when the stored object lacks one.
    if let (Some(v), Some(obj)) = (verdict, value.as_object_mut()) {
        obj.entry("verdict")
            .or_insert_with(|| serde_json::Value::String(v.to_string()));
    }
    match serde_json::from_value(value) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(check = id, error = %e, "a stored result this version cannot read");
            None
        }
    }
}

pub async fn insert(client: &Client, c: &NewCheck) -> Result<i64, StoreError> {
    // The user's check counter moves in the same statement.
    let statement = client
        .prepare_cached(
            "WITH c AS (
                 INSERT INTO checks (language, code, stdin, locale, source, token_id, user_id, chat_id, message_id,
                                     source_message_id, api_user)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id),
             u AS (UPDATE users SET checks_count = checks_count + 1 WHERE id = $7)
             SELECT id FROM c",
        )
        .await?;
    let row = client
        .query_one(
            &statement,
            &[
                &c.language,
                &c.code,
                &c.stdin,
                &c.locale.as_str(),
                &c.source,
                &c.token_id,
                &c.user_id,
                &c.chat_id,
                &c.message_id,
                &c.source_message_id,
                &c.api_user,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn get(client: &Client, id: i64) -> Result<Option<CheckRow>, StoreError> {
    let statement = client
        .prepare_cached(&format!("SELECT {COLUMNS} FROM checks WHERE id = $1"))
        .await?;
    let row = client.query_opt(&statement, &[&id]).await?;
    Ok(row.as_ref().map(row_to_check))
}

/// A worker takes the check: `None` when it is already done (a duplicate delivery).
pub async fn start(client: &Client, id: i64, worker: &str) -> Result<Option<CheckRow>, StoreError> {
    let statement = client
        .prepare_cached(&format!(
            "UPDATE checks SET status = 'running', attempts = attempts + 1, worker = $2,
                    started_at = COALESCE(started_at, now()), updated_at = now()
              WHERE id = $1 AND status <> 'done' RETURNING {COLUMNS}"
        ))
        .await?;
    let row = client.query_opt(&statement, &[&id, &worker]).await?;
    Ok(row.as_ref().map(row_to_check))
}

/// Records the result, once: true only for the call that finished it.
pub async fn finish(client: &Client, id: i64, result: &CheckResult) -> Result<bool, StoreError> {
    let verdict = result.verdict.as_str();
    let result = serde_json::to_value(result).map_err(|e| StoreError::Invalid(format!("encoding a result: {e}")))?;
    let statement = client
        .prepare_cached(
            "UPDATE checks SET status = 'done', verdict = $2, result = $3, finished_at = now(), updated_at = now()
              WHERE id = $1 AND status <> 'done'",
        )
        .await?;
    let n = client.execute(&statement, &[&id, &verdict, &result]).await?;
    Ok(n == 1)
}

/// Deletes a check whose job never reached the queue. Guarded by `status = 'queued'`: should a
/// late job have reached a worker after all, its check is left to finish.
pub async fn delete_queued(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM checks WHERE id = $1 AND status = 'queued'", &[&id])
        .await?;
    Ok(())
}

/// Puts a check back to `queued` (a worker released it at shutdown, or the reaper re-enqueues it).
pub async fn requeue(client: &Client, id: i64) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE checks SET status = 'queued', enqueued = enqueued + 1, updated_at = now()
              WHERE id = $1 AND status <> 'done'",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}

/// Unfinished checks untouched for `older_than`: their job may be lost (Redis lost its data,
/// say).
pub async fn stuck(client: &Client, older_than: Duration, limit: i64) -> Result<Vec<i64>, StoreError> {
    let secs = older_than.as_secs_f64();
    let rows = client
        .query(
            "SELECT id FROM checks WHERE status <> 'done' AND updated_at < now() - make_interval(secs => $1)
              ORDER BY id LIMIT $2",
            &[&secs, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Finished bot checks whose card was not edited in (the done event was lost, or the bot was
/// down), finished at least `older_than` ago.
pub async fn undelivered(client: &Client, older_than: Duration, limit: i64) -> Result<Vec<i64>, StoreError> {
    let rows = client
        .query(
            "SELECT id FROM checks WHERE source = 'bot' AND delivered_at IS NULL AND status = 'done'
                AND finished_at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2",
            &[&older_than.as_secs_f64(), &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Records that the result card was edited in.
pub async fn mark_delivered(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE checks SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL",
            &[&id],
        )
        .await?;
    Ok(())
}

/// The user's unfinished check, if any (one running check per user). Checks older than
/// `horizon` do not count, so a check stuck by an outage cannot lock a student out.
pub async fn unfinished_for_user(client: &Client, user_id: i64, horizon: Duration) -> Result<Option<i64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id FROM checks WHERE user_id = $1 AND status <> 'done'
                AND created_at > now() - make_interval(secs => $2) ORDER BY id DESC LIMIT 1",
            &[&user_id, &horizon.as_secs_f64()],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The latest check started from the student's message `source_message_id` in `chat_id`.
pub async fn by_source_message(
    client: &Client,
    chat_id: i64,
    source_message_id: i32,
) -> Result<Option<CheckRow>, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {COLUMNS} FROM checks WHERE chat_id = $1 AND source_message_id = $2 ORDER BY id DESC LIMIT 1"
            ),
            &[&chat_id, &source_message_id],
        )
        .await?;
    Ok(row.as_ref().map(row_to_check))
}

/// A page of a user's checks, newest first.
pub async fn history(client: &Client, user_id: i64, offset: i64, limit: i64) -> Result<Vec<CheckRow>, StoreError> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM checks WHERE user_id = $1 ORDER BY id DESC OFFSET $2 LIMIT $3"),
            &[&user_id, &offset, &limit],
        )
        .await?;
    Ok(rows.iter().map(row_to_check).collect())
}

/// Checks by status, for metrics and tests.
pub async fn count_by_status(client: &Client) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = client
        .query(
            "SELECT status, count(*) FROM checks GROUP BY status ORDER BY status",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Finished checks after `(created_at, id)`, in the order they were made, each with the
/// fingerprint its explanation event recorded (results written before the fingerprint was
/// part of the explanation): the history `devmentor efficacy rebuild` replays.
pub async fn done_after(
    client: &Client,
    created_at: SystemTime,
    id: i64,
    limit: i64,
) -> Result<Vec<(CheckRow, Option<String>)>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS},
                        (SELECT v.fingerprint FROM explanation_events v WHERE v.check_id = checks.id ORDER BY v.id DESC LIMIT 1)
                   FROM checks WHERE status = 'done' AND (created_at, id) > ($1, $2)
                  ORDER BY created_at, id LIMIT $3"
            ),
            &[&created_at, &id, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| (row_to_check(r), r.get(20))).collect())
}
