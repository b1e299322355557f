//! The check log as the admin panel reads it: the filtered list and its total, the facet
//! counts, one check's page and the CSV export. Read-only; the `checks` table's writes live in
//! `store::checks`. Optional filters are bound parameters (`'' = any`, `NULL = any`).

use super::{Client, StoreError};
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use std::time::SystemTime;

/// The list's filters: verdict `$1`, language `$2`, explanation source `$3`, user `$4`,
/// from `$5`, to `$6` (dates).
macro_rules! checks_where {
    ($select:literal, $tail:literal) => {
        concat!(
            $select,
            " FROM checks WHERE ($1 = '' OR verdict = $1) AND ($2 = '' OR language = $2)
                  AND ($3 = '' OR result->'explanation'->>'source' = $3) AND ($4::bigint IS NULL OR user_id = $4)
                  AND ($5::text IS NULL OR created_at >= $5::date) AND ($6::text IS NULL OR created_at < $6::date + 1) ",
            $tail
        )
    };
}

#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub verdict: String,
    pub language: String,
    pub source: String,
    pub user: Option<i64>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Finished checks from the daily aggregates plus the unfinished ones: no scan of `checks`
/// (for filters the aggregates know: verdict, language, dates).
pub async fn total_from_aggregates(c: &Client, f: &Filter) -> Result<i64, StoreError> {
    let finished: i64 = c
        .query_one(
            "SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily
              WHERE ($1 = '' OR verdict = $1) AND ($2 = '' OR language = $2)
                AND ($3::text IS NULL OR day >= $3::date) AND ($4::text IS NULL OR day <= $4::date)",
            &[&f.verdict, &f.language, &f.from, &f.to],
        )
        .await?
        .get(0);
    let unfinished: i64 = if f.verdict.is_empty() {
        c.query_one(
            "SELECT count(*) FROM checks WHERE status <> 'done' AND ($1 = '' OR language = $1)
                AND ($2::text IS NULL OR created_at >= $2::date) AND ($3::text IS NULL OR created_at < $3::date + 1)",
            &[&f.language, &f.from, &f.to],
        )
        .await?
        .get(0)
    } else {
        0
    };
    Ok(finished + unfinished)
}

/// The matching checks, counted up to `cap`.
pub async fn count_capped(c: &Client, f: &Filter, cap: i64) -> Result<i64, StoreError> {
    Ok(c.query_one(
        checks_where!("SELECT count(*) FROM (SELECT 1", "LIMIT $7) t"),
        &[&f.verdict, &f.language, &f.source, &f.user, &f.from, &f.to, &cap],
    )
    .await?
    .get(0))
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub id: i64,
    pub created: String,
    pub user_id: Option<i64>,
    pub source: String,
    pub language: String,
    pub verdict: String,
    pub explanation: String,
    pub duration: i64,
    /// The explanation's title (what the student read), and its registry entry.
    pub title: Option<String>,
    pub slug: Option<String>,
}

pub async fn page(c: &Client, f: &Filter, offset: i64, limit: i64) -> Result<Vec<CheckLine>, StoreError> {
    let rows = c
        .query(
            checks_where!(
                "SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), user_id, source, language,
                        COALESCE(verdict, status), COALESCE(result->'explanation'->>'source', ''),
                        COALESCE((result->>'duration_ms')::bigint, 0),
                        NULLIF(result->'explanation'->>'title', ''), result->'explanation'->>'slug'",
                "ORDER BY id DESC OFFSET $7 LIMIT $8"
            ),
            &[
                &f.verdict,
                &f.language,
                &f.source,
                &f.user,
                &f.from,
                &f.to,
                &offset,
                &limit,
            ],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| CheckLine {
            id: r.get(0),
            created: r.get(1),
            user_id: r.get(2),
            source: r.get(3),
            language: r.get(4),
            verdict: r.get(5),
            explanation: r.get(6),
            duration: r.get(7),
            title: r.get(8),
            slug: r.get(9),
        })
        .collect())
}

/// `(value, checks)` per verdict and per language, from the daily aggregates.
pub async fn facets(c: &Client) -> Result<(Vec<(String, i64)>, Vec<(String, i64)>), StoreError> {
    let pairs = |rows: Vec<tokio_postgres::Row>| rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    let verdicts = c
        .query(
            "SELECT verdict, sum(n)::bigint FROM checks_daily GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?;
    let languages = c
        .query(
            "SELECT language, sum(n)::bigint FROM checks_daily GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?;
    Ok((pairs(verdicts), pairs(languages)))
}

/// One check as its admin page shows it (the result's fields picked out by PostgreSQL).
#[derive(Debug, Clone)]
pub struct CheckPage {
    pub id: i64,
    pub language: String,
    pub verdict: String,
    pub user_id: Option<i64>,
    pub source: String,
    pub code: String,
    pub stdin: Vec<u8>,
    pub created_at: SystemTime,
    pub started_at: Option<SystemTime>,
    pub finished_at: Option<SystemTime>,
    pub exit_code: Option<i64>,
    pub signal: Option<String>,
    pub duration_ms: Option<i64>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
    pub explanation: Option<serde_json::Value>,
}

pub async fn get(c: &Client, id: i64) -> Result<Option<CheckPage>, StoreError> {
    let row = c
        .query_opt(
            "SELECT id, language, COALESCE(verdict, status), user_id, source, code, stdin, created_at, started_at,
                    finished_at, (result->>'exit_code')::bigint, result->>'signal', (result->>'duration_ms')::bigint,
                    result->>'stdout', result->>'stderr', NULLIF(result->'explanation', 'null'::jsonb)
               FROM checks WHERE id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| CheckPage {
        id: r.get(0),
        language: r.get(1),
        verdict: r.get(2),
        user_id: r.get(3),
        source: r.get(4),
        code: r.get(5),
        stdin: r.get(6),
        created_at: r.get(7),
        started_at: r.get(8),
        finished_at: r.get(9),
        exit_code: r.get(10),
        signal: r.get(11),
        duration_ms: r.get(12),
        stdout: r.get(13),
        stderr: r.get(14),
        explanation: r.get(15),
    }))
}

/// One line of `checks.csv`.
pub struct CsvCheck {
    pub id: i64,
    pub created: String,
    pub source: String,
    pub user_id: String,
    pub language: String,
    pub verdict: String,
    pub explanation_source: String,
    pub duration_ms: i64,
}

/// Every check, by id, as a stream of rows.
pub async fn csv_rows(c: &Client) -> Result<impl Stream<Item = Result<CsvCheck, StoreError>> + Send, StoreError> {
    let rows = c
        .query_raw(
            "SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'), source, COALESCE(user_id::text, ''), language,
                    COALESCE(verdict, status), COALESCE(result->'explanation'->>'source', ''),
                    COALESCE((result->>'duration_ms')::bigint, 0)
               FROM checks ORDER BY id",
            std::iter::empty::<i32>(),
        )
        .await?;
    Ok(rows.map(|r| {
        let r = r?;
        Ok(CsvCheck {
            id: r.get(0),
            created: r.get(1),
            source: r.get(2),
            user_id: r.get(3),
            language: r.get(4),
            verdict: r.get(5),
            explanation_source: r.get(6),
            duration_ms: r.get(7),
        })
    }))
}
