//! The `checks` table: written first (status `queued`) before a job reaches Redis, updated by
//! workers, finished exactly once. Every transition is a guarded `UPDATE … WHERE status …`,
//! so a re-delivered job can never produce a second result.

use super::{Client, StoreError};
use crate::registry::Locale;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone)]
pub struct NewCheck {
    pub language: String,
    pub code: String,
    pub stdin: Vec<u8>,
    pub locale: Locale,
    /// `api`, `bot` or `cli`.
    pub source: String,
    pub token_id: Option<i64>,
    pub user_id: Option<i64>,
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
    /// The `devmentor check --json` object, once done.
    pub result: Option<serde_json::Value>,
    pub attempts: i32,
    pub user_id: Option<i64>,
    pub token_id: Option<i64>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
}

const COLUMNS: &str =
    "id, status, source, language, locale, code, stdin, verdict, result, attempts, user_id, token_id, \
                       created_at, started_at, finished_at";

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
        result: r.get(8),
        attempts: r.get(9),
        user_id: r.get(10),
        token_id: r.get(11),
        created_at: r.get(12),
        started_at: r.get(13),
        finished_at: r.get(14),
    }
}

pub async fn insert(client: &Client, c: &NewCheck) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "INSERT INTO checks (language, code, stdin, locale, source, token_id, user_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &c.language,
                &c.code,
                &c.stdin,
                &c.locale.as_str(),
                &c.source,
                &c.token_id,
                &c.user_id,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn get(client: &Client, id: i64) -> Result<Option<CheckRow>, StoreError> {
    let row = client
        .query_opt(&format!("SELECT {COLUMNS} FROM checks WHERE id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(row_to_check))
}

/// A worker takes the check: `None` when it is already done (a duplicate delivery).
pub async fn start(client: &Client, id: i64, worker: &str) -> Result<Option<CheckRow>, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "UPDATE checks SET status = 'running', attempts = attempts + 1, worker = $2,
                        started_at = COALESCE(started_at, now()), updated_at = now()
                  WHERE id = $1 AND status <> 'done' RETURNING {COLUMNS}"
            ),
            &[&id, &worker],
        )
        .await?;
    Ok(row.as_ref().map(row_to_check))
}

/// Records the result, once: true only for the call that finished it.
pub async fn finish(client: &Client, id: i64, verdict: &str, result: &serde_json::Value) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE checks SET status = 'done', verdict = $2, result = $3, finished_at = now(), updated_at = now()
              WHERE id = $1 AND status <> 'done'",
            &[&id, &verdict, result],
        )
        .await?;
    Ok(n == 1)
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
