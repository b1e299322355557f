//! The teachers' side of tasks (the admin panel): the list with test counts, saving a task as
//! a teacher edited it (`from_catalogue = FALSE`, so `devmentor tasks import` keeps the edit),
//! publishing, the tests (add, edit, delete, reorder, hide), and submissions with their
//! statistics. A change to what grading depends on (the references, the tests) clears
//! `validated_at`: the references must pass again before the task can be published.

use super::{Client, StoreError};
use crate::tasks::Task;
use serde::Serialize;

/// One row of the tasks list.
#[derive(Debug, Clone, Serialize)]
pub struct TaskRow {
    pub id: i64,
    pub slug: String,
    pub topic: String,
    pub position: i32,
    pub title_ru: String,
    pub title_en: String,
    pub tests: i64,
    pub hidden: i64,
    pub published: bool,
    pub validated: bool,
}

pub async fn list(c: &Client) -> Result<Vec<TaskRow>, StoreError> {
    let rows = c
        .query(
            "SELECT t.id, t.slug, t.topic, t.position, t.title_ru, t.title_en,
                    count(x.id), count(x.id) FILTER (WHERE x.hidden), t.published, t.validated_at IS NOT NULL
               FROM tasks t LEFT JOIN task_tests x ON x.task_id = t.id
              GROUP BY t.id ORDER BY t.topic, t.position, t.slug",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| TaskRow {
            id: r.get(0),
            slug: r.get(1),
            topic: r.get(2),
            position: r.get(3),
            title_ru: r.get(4),
            title_en: r.get(5),
            tests: r.get(6),
            hidden: r.get(7),
            published: r.get(8),
            validated: r.get(9),
        })
        .collect())
}

pub async fn is_validated(c: &Client, id: i64) -> Result<bool, StoreError> {
    Ok(
        c.query_opt("SELECT validated_at IS NOT NULL FROM tasks WHERE id = $1", &[&id])
            .await?
            .is_some_and(|r| r.get(0)),
    )
}

pub async fn slug_taken(c: &Client, slug: &str, except: Option<i64>) -> Result<bool, StoreError> {
    Ok(c.query_opt(
        "SELECT 1 FROM tasks WHERE slug = $1 AND id IS DISTINCT FROM $2",
        &[&slug, &except],
    )
    .await?
    .is_some())
}

fn json<T: Serialize>(v: &T) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(v).map_err(|e| StoreError::Invalid(format!("encoding a task: {e}")))
}

/// Inserts (`t.id == 0`) or updates a task as a teacher wrote it; returns its id (`None`: no
/// such task). An update whose references changed clears `validated_at`.
pub async fn save(c: &Client, t: &Task) -> Result<Option<i64>, StoreError> {
    let (limits, hints, solutions) = (json(&t.limits)?, json(&t.hints)?, json(&t.solutions)?);
    let checker = t.checker.as_str();
    let row = if t.id == 0 {
        c.query_opt(
            "INSERT INTO tasks (slug, topic, position, title_ru, title_en, statement_ru, statement_en, languages,
                                checker, float_epsilon, stop_at_first_failure, limits, hints, solutions,
                                published, from_catalogue)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, FALSE) RETURNING id",
            &[
                &t.slug,
                &t.topic,
                &t.position,
                &t.title_ru,
                &t.title_en,
                &t.statement_ru,
                &t.statement_en,
                &t.languages,
                &checker,
                &t.float_epsilon,
                &t.stop_at_first_failure,
                &limits,
                &hints,
                &solutions,
                &t.published,
            ],
        )
        .await?
    } else {
        c.query_opt(
            "UPDATE tasks SET slug = $2, topic = $3, position = $4, title_ru = $5, title_en = $6,
                    statement_ru = $7, statement_en = $8, languages = $9, checker = $10, float_epsilon = $11,
                    stop_at_first_failure = $12, limits = $13, hints = $14,
                    validated_at = CASE WHEN solutions = $15 AND checker = $10 AND float_epsilon = $11
                                        AND limits IS NOT DISTINCT FROM $13 THEN validated_at END,
                    solutions = $15, from_catalogue = FALSE, updated_at = now()
              WHERE id = $1 RETURNING id",
            &[
                &t.id,
                &t.slug,
                &t.topic,
                &t.position,
                &t.title_ru,
                &t.title_en,
                &t.statement_ru,
                &t.statement_en,
                &t.languages,
                &checker,
                &t.float_epsilon,
                &t.stop_at_first_failure,
                &limits,
                &hints,
                &solutions,
            ],
        )
        .await?
    };
    Ok(row.map(|r| r.get(0)))
}

/// Copies a task and its tests under `slug`, unpublished and not validated.
pub async fn duplicate(c: &mut Client, id: i64, slug: &str) -> Result<Option<i64>, StoreError> {
    let tx = c.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "INSERT INTO tasks (slug, topic, position, title_ru, title_en, statement_ru, statement_en, languages,
                                checker, float_epsilon, stop_at_first_failure, limits, hints, solutions)
             SELECT $2, topic, position, title_ru, title_en, statement_ru, statement_en, languages, checker,
                    float_epsilon, stop_at_first_failure, limits, hints, solutions FROM tasks WHERE id = $1
             RETURNING id",
            &[&id, &slug],
        )
        .await?
    else {
        return Ok(None);
    };
    let new: i64 = row.get(0);
    tx.execute(
        "INSERT INTO task_tests (task_id, position, stdin, expected, hidden, note_ru, note_en)
         SELECT $2, position, stdin, expected, hidden, note_ru, note_en FROM task_tests WHERE task_id = $1",
        &[&id, &new],
    )
    .await?;
    tx.commit().await?;
    Ok(Some(new))
}

pub async fn set_published(c: &Client, id: i64, on: bool) -> Result<bool, StoreError> {
    Ok(c.execute(
        "UPDATE tasks SET published = $2, from_catalogue = FALSE, updated_at = now() WHERE id = $1",
        &[&id, &on],
    )
    .await?
        == 1)
}

/// The tests changed: the task is a teacher's now and its references must pass again.
async fn tests_changed(c: &impl deadpool_postgres::GenericClient, task: i64) -> Result<(), StoreError> {
    c.execute(
        "UPDATE tasks SET validated_at = NULL, from_catalogue = FALSE, updated_at = now() WHERE id = $1",
        &[&task],
    )
    .await?;
    Ok(())
}

/// Appends tests (input, expected, hidden) after the last one, all or none.
pub async fn add_tests(c: &mut Client, task: i64, tests: &[(String, String, bool)]) -> Result<(), StoreError> {
    let tx = c.transaction().await?;
    for (stdin, expected, hidden) in tests {
        tx.execute(
            "INSERT INTO task_tests (task_id, position, stdin, expected, hidden)
             SELECT $1, COALESCE(max(position), 0) + 1, $2, $3, $4 FROM task_tests WHERE task_id = $1",
            &[&task, stdin, expected, hidden],
        )
        .await?;
    }
    tests_changed(&tx, task).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update_test(c: &Client, task: i64, test: i64, stdin: &str, expected: &str) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE task_tests SET stdin = $3, expected = $4 WHERE task_id = $1 AND id = $2",
            &[&task, &test, &stdin, &expected],
        )
        .await?;
    if n == 1 {
        tests_changed(c, task).await?;
    }
    Ok(n == 1)
}

pub async fn toggle_hidden(c: &Client, task: i64, test: i64) -> Result<bool, StoreError> {
    let n = c
        .execute(
            "UPDATE task_tests SET hidden = NOT hidden WHERE task_id = $1 AND id = $2",
            &[&task, &test],
        )
        .await?;
    if n == 1 {
        tests_changed(c, task).await?;
    }
    Ok(n == 1)
}

/// Numbers a task's tests 1, 2, … again in their order. Through negative numbers first: the
/// `(task_id, position)` uniqueness is checked row by row.
async fn renumber(tx: &deadpool_postgres::Transaction<'_>, task: i64) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE task_tests SET position = -position WHERE task_id = $1",
        &[&task],
    )
    .await?;
    tx.execute(
        "UPDATE task_tests x SET position = o.n
           FROM (SELECT id, row_number() OVER (ORDER BY -position)::int AS n FROM task_tests WHERE task_id = $1) o
          WHERE x.id = o.id",
        &[&task],
    )
    .await?;
    Ok(())
}

pub async fn delete_test(c: &mut Client, task: i64, test: i64) -> Result<bool, StoreError> {
    let tx = c.transaction().await?;
    let n = tx
        .execute("DELETE FROM task_tests WHERE task_id = $1 AND id = $2", &[&task, &test])
        .await?;
    renumber(&tx, task).await?;
    tests_changed(&tx, task).await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// Swaps a test with the one before it (`up`) or after it.
pub async fn move_test(c: &mut Client, task: i64, test: i64, up: bool) -> Result<bool, StoreError> {
    let tx = c.transaction().await?;
    let Some(row) = tx
        .query_opt(
            "SELECT position FROM task_tests WHERE task_id = $1 AND id = $2",
            &[&task, &test],
        )
        .await?
    else {
        return Ok(false);
    };
    let at: i32 = row.get(0);
    let other = if up { at - 1 } else { at + 1 };
    let n = tx
        .execute(
            "UPDATE task_tests SET position = -1 WHERE task_id = $1 AND position = $2",
            &[&task, &other],
        )
        .await?;
    if n == 0 {
        return Ok(false); // already first or last
    }
    tx.execute(
        "UPDATE task_tests SET position = $3 WHERE task_id = $1 AND id = $2",
        &[&task, &test, &other],
    )
    .await?;
    tx.execute(
        "UPDATE task_tests SET position = $2 WHERE task_id = $1 AND position = -1",
        &[&task, &at],
    )
    .await?;
    tests_changed(&tx, task).await?;
    tx.commit().await?;
    Ok(true)
}
