//! The students as the admin panel lists them: search, status filters, sort, one student's
//! page, block/unblock and the CSV export. Every statement is a constant; the search text and
//! the filters are bound parameters.

use super::{Client, StoreError};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

/// The status filters of the list.
pub const STATUSES: [&str; 4] = ["all", "whitelisted", "blocked", "bot_blocked"];

/// Statements over `users u` with the search (`$1`, LIKE-escaped) and the status (`$2`)
/// filters; written out by a macro so each is one constant string.
macro_rules! users_where {
    ($select:literal, $tail:literal) => {
        concat!(
            $select,
            " FROM users u WHERE ($1 = '' OR u.id::text = $1 OR lower(u.username) LIKE '%' || lower($1) || '%'
                   OR lower(u.first_name || ' ' || COALESCE(u.last_name, '')) LIKE '%' || lower($1) || '%')
               AND CASE $2
                     WHEN 'blocked' THEN u.blocked
                     WHEN 'whitelisted' THEN EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username))
                     WHEN 'bot_blocked' THEN u.bot_blocked
                     ELSE TRUE END ",
            $tail
        )
    };
}

macro_rules! users_page {
    ($order:literal) => {
        users_where!(
            "SELECT u.id, u.first_name || COALESCE(' ' || u.last_name, ''), u.username, u.checks_count,
                    to_char(u.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), u.blocked, u.bot_blocked,
                    EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username))",
            $order
        )
    };
}

/// The list's sort columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Id,
    Name,
    Checks,
    LastSeen,
}

impl Sort {
    /// `id`, `name`, `checks`, else `last_seen`.
    pub fn parse(key: &str) -> Sort {
        match key {
            "id" => Sort::Id,
            "name" => Sort::Name,
            "checks" => Sort::Checks,
            _ => Sort::LastSeen,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Sort::Id => "id",
            Sort::Name => "name",
            Sort::Checks => "checks",
            Sort::LastSeen => "last_seen",
        }
    }

    /// One fixed statement per column and direction, so each keeps its own plan.
    fn statement(self, desc: bool) -> &'static str {
        match (self, desc) {
            (Sort::Id, false) => users_page!("ORDER BY u.id ASC, u.id OFFSET $3 LIMIT $4"),
            (Sort::Id, true) => users_page!("ORDER BY u.id DESC, u.id OFFSET $3 LIMIT $4"),
            (Sort::Name, false) => users_page!("ORDER BY lower(u.first_name) ASC, u.id OFFSET $3 LIMIT $4"),
            (Sort::Name, true) => users_page!("ORDER BY lower(u.first_name) DESC, u.id OFFSET $3 LIMIT $4"),
            (Sort::Checks, false) => users_page!("ORDER BY u.checks_count ASC, u.id OFFSET $3 LIMIT $4"),
            (Sort::Checks, true) => users_page!("ORDER BY u.checks_count DESC, u.id OFFSET $3 LIMIT $4"),
            (Sort::LastSeen, false) => users_page!("ORDER BY u.last_seen_at ASC, u.id OFFSET $3 LIMIT $4"),
            (Sort::LastSeen, true) => users_page!("ORDER BY u.last_seen_at DESC, u.id OFFSET $3 LIMIT $4"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub name: String,
    pub username: Option<String>,
    pub checks: i64,
    pub last_seen: String,
    pub blocked: bool,
    pub bot_blocked: bool,
    pub whitelisted: bool,
}

fn row_to_user(r: &tokio_postgres::Row) -> UserRow {
    UserRow {
        id: r.get(0),
        name: r.get(1),
        username: r.get(2),
        checks: r.get(3),
        last_seen: r.get(4),
        blocked: r.get(5),
        bot_blocked: r.get(6),
        whitelisted: r.get(7),
    }
}

/// `text` made safe inside a LIKE pattern.
pub fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// How many students match the search (`like`, see [`like_escape`]) and the status filter.
pub async fn count(c: &Client, like: &str, status: &str) -> Result<i64, StoreError> {
    Ok(c.query_one(users_where!("SELECT count(*)", ""), &[&like, &status])
        .await?
        .get(0))
}

#[allow(clippy::too_many_arguments)]
pub async fn page(
    c: &Client,
    like: &str,
    status: &str,
    sort: Sort,
    desc: bool,
    offset: i64,
    limit: i64,
) -> Result<Vec<UserRow>, StoreError> {
    let rows = c
        .query(sort.statement(desc), &[&like, &status, &offset, &limit])
        .await?;
    Ok(rows.iter().map(row_to_user).collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct UserDetail {
    #[serde(flatten)]
    pub row: UserRow,
    pub language_code: String,
    pub locale: String,
}

pub async fn get(c: &Client, id: i64) -> Result<Option<UserDetail>, StoreError> {
    let row = c
        .query_opt(
            "SELECT u.id, u.first_name || COALESCE(' ' || u.last_name, ''), u.username, u.checks_count,
                    to_char(u.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), u.blocked, u.bot_blocked,
                    EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username)),
                    COALESCE(u.language_code, ''), COALESCE(u.locale, '')
               FROM users u WHERE u.id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| UserDetail {
        row: row_to_user(&r),
        language_code: r.get(8),
        locale: r.get(9),
    }))
}

pub async fn set_blocked(c: &Client, id: i64, blocked: bool) -> Result<(), StoreError> {
    c.execute("UPDATE users SET blocked = $2 WHERE id = $1", &[&id, &blocked])
        .await?;
    Ok(())
}

/// One line of `users.csv`.
pub struct CsvUser {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub language_code: String,
    pub checks: i64,
    pub blocked: bool,
    pub bot_blocked: bool,
    pub first_seen: String,
    pub last_seen: String,
}

/// Every student, by id, as a stream of rows (the export never holds the table in memory).
pub async fn csv_rows(c: &Client) -> Result<impl Stream<Item = Result<CsvUser, StoreError>> + Send, StoreError> {
    let rows = c
        .query_raw(
            "SELECT id, COALESCE(username, ''), first_name, COALESCE(last_name, ''), COALESCE(language_code, ''),
                    checks_count, blocked, bot_blocked, to_char(first_seen_at, 'YYYY-MM-DD HH24:MI:SS'),
                    to_char(last_seen_at, 'YYYY-MM-DD HH24:MI:SS') FROM users ORDER BY id",
            std::iter::empty::<i32>(),
        )
        .await?;
    Ok(rows.map(|r| {
        let r = r?;
        Ok(CsvUser {
            id: r.get(0),
            username: r.get(1),
            first_name: r.get(2),
            last_name: r.get(3),
            language_code: r.get(4),
            checks: r.get(5),
            blocked: r.get(6),
            bot_blocked: r.get(7),
            first_seen: r.get(8),
            last_seen: r.get(9),
        })
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct RecentCheck {
    pub id: i64,
    pub language: String,
    pub verdict: String,
    pub created: String,
}

/// A student's latest checks, newest first.
pub async fn recent_checks(c: &Client, user_id: i64, limit: i64) -> Result<Vec<RecentCheck>, StoreError> {
    Ok(c.query(
        "SELECT id, language, COALESCE(verdict, status), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
               FROM checks WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        &[&user_id, &limit],
    )
    .await?
    .iter()
    .map(|r| RecentCheck {
        id: r.get(0),
        language: r.get(1),
        verdict: r.get(2),
        created: r.get(3),
    })
    .collect())
}
