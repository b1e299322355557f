//! What teachers read about submissions: the filtered list, a task's statistics (attempts,
//! solvers, the test that fails most, the verdicts), each student's progress, and the CSV
//! export streamed row by row. Read-only: callers pass the reader (the replica, when set).

use super::{Client, StoreError};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

/// The list's filters; an empty one does not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub task: String,
    pub user: Option<i64>,
    pub verdict: String,
    /// `YYYY-MM-DD`, inclusive.
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubmissionLine {
    pub id: i64,
    pub created: String,
    pub task: String,
    pub user_id: String,
    pub language: String,
    pub verdict: String,
    pub passed: i32,
    pub total: i32,
}

// The filter and the columns as macros, so each query is one literal (`concat!`), never `format!`.
macro_rules! filter {
    () => {
        "($1 = '' OR t.slug = $1) AND ($2::bigint IS NULL OR s.user_id = $2)
       AND ($3 = '' OR COALESCE(s.verdict, s.status) = $3)
       AND ($4 = '' OR s.created_at >= $4::date) AND ($5 = '' OR s.created_at < $5::date + 1)"
    };
}

macro_rules! line_columns {
    () => {
        "s.id, to_char(s.created_at, 'YYYY-MM-DD HH24:MI:SS'), t.slug, COALESCE(s.user_id::text, ''),
       s.language, COALESCE(s.verdict, s.status), s.passed, s.total"
    };
}

fn line(r: &tokio_postgres::Row) -> SubmissionLine {
    SubmissionLine {
        id: r.get(0),
        created: r.get(1),
        task: r.get(2),
        user_id: r.get(3),
        language: r.get(4),
        verdict: r.get(5),
        passed: r.get(6),
        total: r.get(7),
    }
}

/// One page of the list (newest first) and how many match.
pub async fn list(c: &Client, f: &Filter, offset: i64, limit: i64) -> Result<(Vec<SubmissionLine>, i64), StoreError> {
    let sql = concat!(
        "SELECT ",
        line_columns!(),
        " FROM submissions s JOIN tasks t ON t.id = s.task_id WHERE ",
        filter!(),
        " ORDER BY s.id DESC OFFSET $6 LIMIT $7"
    );
    let rows = c
        .query(sql, &[&f.task, &f.user, &f.verdict, &f.from, &f.to, &offset, &limit])
        .await?;
    let count_sql = concat!(
        "SELECT count(*) FROM submissions s JOIN tasks t ON t.id = s.task_id WHERE ",
        filter!()
    );
    let total: i64 = c
        .query_one(count_sql, &[&f.task, &f.user, &f.verdict, &f.from, &f.to])
        .await?
        .get(0);
    Ok((rows.iter().map(line).collect(), total))
}

/// Every submission, oldest first, as the CSV export streams it.
pub async fn csv_rows(c: &Client) -> Result<impl Stream<Item = Result<SubmissionLine, StoreError>> + Send, StoreError> {
    let sql = concat!(
        "SELECT ",
        line_columns!(),
        " FROM submissions s JOIN tasks t ON t.id = s.task_id ORDER BY s.id"
    );
    let rows = c.query_raw(sql, std::iter::empty::<i32>()).await?;
    Ok(rows.map(|r| Ok(line(&r?))))
}

/// A task's statistics over its finished submissions.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskStats {
    pub attempts: i64,
    pub students: i64,
    pub solvers: i64,
    /// Solvers among the students who tried, in percent.
    pub solve_rate: i64,
    /// The median number of attempts a solver made up to and including the first accepted one.
    pub median_attempts: Option<f64>,
    /// The test number that failed most often, and how often.
    pub worst_test: Option<(i32, i64)>,
    pub verdicts: Vec<(String, i64)>,
}

pub async fn task_stats(c: &Client, task: i64) -> Result<TaskStats, StoreError> {
    let r = c
        .query_one(
            "SELECT count(*), count(DISTINCT user_id), count(DISTINCT user_id) FILTER (WHERE verdict = 'accepted')
               FROM submissions WHERE task_id = $1 AND status = 'done'",
            &[&task],
        )
        .await?;
    let (attempts, students, solvers): (i64, i64, i64) = (r.get(0), r.get(1), r.get(2));
    let median: Option<f64> = c
        .query_one(
            "WITH firsts AS (
                 SELECT user_id, min(id) AS first_ok FROM submissions
                  WHERE task_id = $1 AND status = 'done' AND verdict = 'accepted' AND user_id IS NOT NULL
                  GROUP BY user_id)
             SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n)::float8 FROM (
                 SELECT count(*) AS n FROM submissions s JOIN firsts f ON f.user_id = s.user_id
                  WHERE s.task_id = $1 AND s.status = 'done' AND s.id <= f.first_ok GROUP BY s.user_id) m",
            &[&task],
        )
        .await?
        .get(0);
    let worst = c
        .query_opt(
            "SELECT (x->>'n')::int, count(*) FROM submissions s, jsonb_array_elements(s.result->'tests') x
              WHERE s.task_id = $1 AND s.status = 'done' AND x->>'verdict' <> 'passed'
              GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
            &[&task],
        )
        .await?
        .map(|r| (r.get(0), r.get(1)));
    let verdicts = c
        .query(
            "SELECT COALESCE(verdict, status), count(*) FROM submissions WHERE task_id = $1
              GROUP BY 1 ORDER BY 2 DESC, 1",
            &[&task],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    Ok(TaskStats {
        attempts,
        students,
        solvers,
        solve_rate: if students > 0 { solvers * 100 / students } else { 0 },
        median_attempts: median,
        worst_test: worst,
        verdicts,
    })
}

/// One student's standing on the published tasks.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub user_id: i64,
    pub name: String,
    pub tried: i64,
    pub solved: i64,
    pub attempts: i64,
    pub last: String,
}

pub async fn progress(c: &Client, limit: i64) -> Result<Vec<Progress>, StoreError> {
    let rows = c
        .query(
            "SELECT s.user_id, COALESCE(u.username, u.first_name, ''), count(DISTINCT s.task_id),
                    count(DISTINCT s.task_id) FILTER (WHERE s.verdict = 'accepted'), count(*),
                    to_char(max(s.created_at), 'YYYY-MM-DD HH24:MI')
               FROM submissions s LEFT JOIN users u ON u.id = s.user_id
              WHERE s.user_id IS NOT NULL GROUP BY s.user_id, u.username, u.first_name
              ORDER BY 4 DESC, 5, 1 LIMIT $1",
            &[&limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| Progress {
            user_id: r.get(0),
            name: r.get(1),
            tried: r.get(2),
            solved: r.get(3),
            attempts: r.get(4),
            last: r.get(5),
        })
        .collect())
}
