//! Tasks, their tests and submissions. A submission goes through the same guarded states as a
//! check (`queued` → `running` → `done`, each finish `WHERE status <> 'done'`), so a re-delivered
//! job never grades twice.

use super::{Client, StoreError};
use crate::registry::Locale;
use crate::tasks::catalogue::Loaded;
use crate::tasks::{Checker, Graded, Task, TaskLimits, TaskTest};
use std::time::{Duration, SystemTime};

const TASK_COLUMNS: &str = "id, slug, topic, position, title_ru, title_en, statement_ru, statement_en, languages, \
     checker, float_epsilon, stop_at_first_failure, limits, hints, solutions, published";

fn row_to_task(r: &tokio_postgres::Row) -> Task {
    let limits: Option<serde_json::Value> = r.get(12);
    let hints: serde_json::Value = r.get(13);
    let solutions: serde_json::Value = r.get(14);
    Task {
        id: r.get(0),
        slug: r.get(1),
        topic: r.get(2),
        position: r.get(3),
        title_ru: r.get(4),
        title_en: r.get(5),
        statement_ru: r.get(6),
        statement_en: r.get(7),
        languages: r.get(8),
        checker: Checker::parse(r.get::<_, &str>(9)).unwrap_or_default(),
        float_epsilon: r.get(10),
        stop_at_first_failure: r.get(11),
        limits: limits
            .and_then(|v| serde_json::from_value::<TaskLimits>(v).ok())
            .unwrap_or_default(),
        hints: serde_json::from_value(hints).unwrap_or_default(),
        solutions: serde_json::from_value(solutions).unwrap_or_default(),
        published: r.get(15),
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Invalid(format!("encoding a task: {e}")))
}

pub async fn count(client: &Client) -> Result<i64, StoreError> {
    Ok(client.query_one("SELECT count(*) FROM tasks", &[]).await?.get(0))
}

/// What an import did with one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Imported {
    Added,
    Updated,
    /// A teacher edited it since it was loaded: left as they made it.
    KeptEdited,
}

/// Loads one catalogue task: added when new; replaced (with its tests) when it is still as the
/// catalogue left it; kept when a teacher edited it. One transaction: nothing is half-saved.
pub async fn import(client: &mut Client, l: &Loaded) -> Result<Imported, StoreError> {
    let tx = client.transaction().await?;
    let existing = tx
        .query_opt(
            "SELECT id, from_catalogue FROM tasks WHERE slug = $1 FOR UPDATE",
            &[&l.task.slug],
        )
        .await?;
    let t = &l.task;
    let (hints, solutions, limits) = (json(&t.hints)?, json(&t.solutions)?, json(&t.limits)?);
    let (id, outcome) = match existing {
        Some(r) if !r.get::<_, bool>(1) => return Ok(Imported::KeptEdited),
        Some(r) => {
            let id: i64 = r.get(0);
            tx.execute(
                "UPDATE tasks SET topic = $2, position = $3, title_ru = $4, title_en = $5, statement_ru = $6,
                        statement_en = $7, languages = $8, checker = $9, float_epsilon = $10,
                        stop_at_first_failure = $11, limits = $12, hints = $13, solutions = $14, updated_at = now()
                  WHERE id = $1",
                &[
                    &id,
                    &t.topic,
                    &t.position,
                    &t.title_ru,
                    &t.title_en,
                    &t.statement_ru,
                    &t.statement_en,
                    &t.languages,
                    &t.checker.as_str(),
                    &t.float_epsilon,
                    &t.stop_at_first_failure,
                    &limits,
                    &hints,
                    &solutions,
                ],
            )
            .await?;
            tx.execute("DELETE FROM task_tests WHERE task_id = $1", &[&id]).await?;
            (id, Imported::Updated)
        }
        None => {
            let r = tx
                .query_one(
                    "INSERT INTO tasks (slug, topic, position, title_ru, title_en, statement_ru, statement_en, languages,
                                        checker, float_epsilon, stop_at_first_failure, limits, hints, solutions,
                                        published, from_catalogue)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, TRUE) RETURNING id",
                    &[
                        &t.slug, &t.topic, &t.position, &t.title_ru, &t.title_en, &t.statement_ru, &t.statement_en,
                        &t.languages, &t.checker.as_str(), &t.float_epsilon, &t.stop_at_first_failure, &limits,
                        &hints, &solutions, &t.published,
                    ],
                )
                .await?;
            (r.get(0), Imported::Added)
        }
    };
    for test in &l.tests {
        tx.execute(
            "INSERT INTO task_tests (task_id, position, stdin, expected, hidden, note_ru, note_en)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &id,
                &test.position,
                &test.stdin,
                &test.expected,
                &test.hidden,
                &test.note_ru,
                &test.note_en,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(outcome)
}

/// Published tasks, by topic and position.
pub async fn published(client: &Client) -> Result<Vec<Task>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {TASK_COLUMNS} FROM tasks WHERE published
                  ORDER BY array_position(ARRAY['io','conditions','loops','strings','lists','functions'], topic) NULLS LAST,
                           topic, position, slug"
            ),
            &[],
        )
        .await?;
    Ok(rows.iter().map(row_to_task).collect())
}

pub async fn by_slug(client: &Client, slug: &str) -> Result<Option<Task>, StoreError> {
    let row = client
        .query_opt(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE slug = $1"), &[&slug])
        .await?;
    Ok(row.as_ref().map(row_to_task))
}

pub async fn by_id(client: &Client, id: i64) -> Result<Option<Task>, StoreError> {
    let row = client
        .query_opt(&format!("SELECT {TASK_COLUMNS} FROM tasks WHERE id = $1"), &[&id])
        .await?;
    Ok(row.as_ref().map(row_to_task))
}

/// A task's tests, in order.
pub async fn tests(client: &Client, task_id: i64) -> Result<Vec<TaskTest>, StoreError> {
    let rows = client
        .query(
            "SELECT id, position, stdin, expected, hidden, note_ru, note_en FROM task_tests
              WHERE task_id = $1 ORDER BY position",
            &[&task_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TaskTest {
            id: r.get(0),
            position: r.get(1),
            stdin: r.get(2),
            expected: r.get(3),
            hidden: r.get(4),
            note_ru: r.get(5),
            note_en: r.get(6),
        })
        .collect())
}

/// Records that the references passed every test (or not).
pub async fn set_validated(client: &Client, task_id: i64, ok: bool) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE tasks SET validated_at = CASE WHEN $2 THEN now() END WHERE id = $1",
            &[&task_id, &ok],
        )
        .await?;
    Ok(())
}

// ---- submissions ----

#[derive(Debug, Clone, Default)]
pub struct NewSubmission {
    pub task_id: i64,
    pub language: String,
    pub code: String,
    pub locale: Locale,
    /// `api` or `bot`.
    pub source: String,
    pub token_id: Option<i64>,
    pub user_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub message_id: Option<i32>,
    /// API submissions: the front end's own name for its student (`"user"`).
    pub api_user: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SubmissionRow {
    pub id: i64,
    pub task_id: i64,
    pub task_slug: String,
    pub status: String,
    pub source: String,
    pub language: String,
    pub locale: Locale,
    pub code: String,
    pub verdict: Option<String>,
    pub passed: i32,
    pub total: i32,
    pub result: Option<Graded>,
    pub token_id: Option<i64>,
    pub user_id: Option<i64>,
    pub chat_id: Option<i64>,
    pub message_id: Option<i32>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    pub delivered_at: Option<SystemTime>,
    pub api_user: Option<String>,
}

const SUBMISSION_COLUMNS: &str =
    "s.id, s.task_id, t.slug, s.status, s.source, s.language, s.locale, s.code, s.verdict, \
     s.passed, s.total, s.result, s.token_id, s.user_id, s.chat_id, s.message_id, s.created_at, s.started_at, \
     s.finished_at, s.delivered_at, s.api_user";

fn row_to_submission(r: &tokio_postgres::Row) -> SubmissionRow {
    let result: Option<serde_json::Value> = r.get(11);
    SubmissionRow {
        id: r.get(0),
        task_id: r.get(1),
        task_slug: r.get(2),
        status: r.get(3),
        source: r.get(4),
        language: r.get(5),
        locale: Locale::parse(r.get::<_, &str>(6)).unwrap_or_default(),
        code: r.get(7),
        verdict: r.get(8),
        passed: r.get(9),
        total: r.get(10),
        result: result.and_then(|v| serde_json::from_value(v).ok()),
        token_id: r.get(12),
        user_id: r.get(13),
        chat_id: r.get(14),
        message_id: r.get(15),
        created_at: r.get(16),
        started_at: r.get(17),
        finished_at: r.get(18),
        delivered_at: r.get(19),
        api_user: r.get(20),
    }
}

pub async fn insert_submission(client: &Client, s: &NewSubmission) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "INSERT INTO submissions (task_id, language, code, locale, source, token_id, user_id, chat_id, message_id, total,
                                      api_user)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, (SELECT count(*) FROM task_tests WHERE task_id = $1), $10)
             RETURNING id",
            &[
                &s.task_id,
                &s.language,
                &s.code,
                &s.locale.as_str(),
                &s.source,
                &s.token_id,
                &s.user_id,
                &s.chat_id,
                &s.message_id,
                &s.api_user,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn submission(client: &Client, id: i64) -> Result<Option<SubmissionRow>, StoreError> {
    let row = client
        .query_opt(
            &format!("SELECT {SUBMISSION_COLUMNS} FROM submissions s JOIN tasks t ON t.id = s.task_id WHERE s.id = $1"),
            &[&id],
        )
        .await?;
    Ok(row.as_ref().map(row_to_submission))
}

/// A worker takes the submission: `None` when it is already done (a duplicate delivery).
pub async fn start_submission(client: &Client, id: i64, worker: &str) -> Result<Option<SubmissionRow>, StoreError> {
    // One round trip: the guarded UPDATE and the row (with its task's slug) together.
    let row = client
        .query_opt(
            "WITH s AS (UPDATE submissions SET status = 'running', attempts = attempts + 1, worker = $2,
                        started_at = COALESCE(started_at, now()), updated_at = now()
                  WHERE id = $1 AND status <> 'done' RETURNING *)
                 SELECT s.id, s.task_id, t.slug, s.status, s.source, s.language, s.locale, s.code, s.verdict,
                        s.passed, s.total, s.result, s.token_id, s.user_id, s.chat_id, s.message_id, s.created_at,
                        s.started_at, s.finished_at, s.delivered_at, s.api_user
                   FROM s JOIN tasks t ON t.id = s.task_id",
            &[&id, &worker],
        )
        .await?;
    Ok(row.as_ref().map(row_to_submission))
}

/// Records the graded result, once: true only for the call that finished it.
pub async fn finish_submission(client: &Client, id: i64, g: &Graded) -> Result<bool, StoreError> {
    let result = json(g)?;
    let n = client
        .execute(
            "UPDATE submissions SET status = 'done', verdict = $2, passed = $3, total = $4, result = $5,
                    finished_at = now(), updated_at = now()
              WHERE id = $1 AND status <> 'done'",
            &[&id, &g.verdict.as_str(), &g.passed, &g.total, &result],
        )
        .await?;
    Ok(n == 1)
}

/// Deletes a submission whose job never reached the queue, unless a worker already has it.
pub async fn delete_queued_submission(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM submissions WHERE id = $1 AND status = 'queued'", &[&id])
        .await?;
    Ok(())
}

pub async fn requeue_submission(client: &Client, id: i64) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE submissions SET status = 'queued', enqueued = enqueued + 1, updated_at = now()
              WHERE id = $1 AND status <> 'done'",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}

/// Unfinished submissions untouched for `older_than` (their job may be lost).
pub async fn stuck_submissions(client: &Client, older_than: Duration, limit: i64) -> Result<Vec<i64>, StoreError> {
    let rows = client
        .query(
            "SELECT id FROM submissions WHERE status <> 'done' AND updated_at < now() - make_interval(secs => $1)
              ORDER BY id LIMIT $2",
            &[&older_than.as_secs_f64(), &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// The user's (or token's) unfinished submission of the last `horizon`, if any.
pub async fn unfinished_submission(
    client: &Client,
    user_id: Option<i64>,
    token_id: Option<i64>,
    horizon: Duration,
) -> Result<Option<i64>, StoreError> {
    let row = client
        .query_opt(
            "SELECT id FROM submissions
              WHERE status <> 'done' AND created_at > now() - make_interval(secs => $3)
                AND (user_id = $1 OR ($1 IS NULL AND token_id = $2))
              ORDER BY id DESC LIMIT 1",
            &[&user_id, &token_id, &horizon.as_secs_f64()],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// A user's tasks: for each task they submitted to, whether one submission was accepted.
pub async fn standings(client: &Client, user_id: i64) -> Result<std::collections::HashMap<i64, bool>, StoreError> {
    let rows = client
        .query(
            "SELECT task_id, bool_or(verdict = 'accepted') FROM submissions WHERE user_id = $1 GROUP BY task_id",
            &[&user_id],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), r.get::<_, Option<bool>>(1).unwrap_or(false)))
        .collect())
}

/// Records that a bot submission's card was edited in.
pub async fn mark_submission_delivered(client: &Client, id: i64) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE submissions SET delivered_at = now() WHERE id = $1 AND delivered_at IS NULL",
            &[&id],
        )
        .await?;
    Ok(())
}

/// Graded bot submissions whose card was not edited in, graded at least `older_than` ago.
pub async fn undelivered_submissions(
    client: &Client,
    older_than: Duration,
    limit: i64,
) -> Result<Vec<i64>, StoreError> {
    let rows = client
        .query(
            "SELECT id FROM submissions WHERE source = 'bot' AND delivered_at IS NULL AND status = 'done'
                AND finished_at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2",
            &[&older_than.as_secs_f64(), &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Graded submissions after `(created_at, id)`, in the order they were made, each with the
/// hints its student opened: the history `devmentor efficacy rebuild` replays.
pub async fn done_submissions_after(
    client: &Client,
    created_at: SystemTime,
    id: i64,
    limit: i64,
) -> Result<Vec<(SubmissionRow, i32)>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {SUBMISSION_COLUMNS}, s.hints_shown FROM submissions s JOIN tasks t ON t.id = s.task_id
                  WHERE s.status = 'done' AND (s.created_at, s.id) > ($1, $2)
                  ORDER BY s.created_at, s.id LIMIT $3"
            ),
            &[&created_at, &id, &limit],
        )
        .await?;
    Ok(rows.iter().map(|r| (row_to_submission(r), r.get(21))).collect())
}
