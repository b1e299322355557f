//! The error registry's tables as the admin panel lists them (search, language facet, hits),
//! deletes an entry, and the backlog of errors nothing in the registry explained. Loading and
//! saving whole entries is `registry::store`'s.

use super::{Client, StoreError};
use serde::Serialize;

/// Statements over `registry_entries e` with the search (`$1`, LIKE-escaped) and language
/// (`$2`) filters.
macro_rules! entries_where {
    ($select:literal, $tail:literal) => {
        concat!(
            $select,
            " FROM registry_entries e WHERE ($1 = '' OR e.slug ILIKE '%' || $1 || '%' OR e.error_type ILIKE '%' || $1 || '%'
                  OR EXISTS (SELECT 1 FROM registry_texts t WHERE t.entry_id = e.id AND t.title ILIKE '%' || $1 || '%'))
                  AND ($2 = '' OR e.language = $2) ",
            $tail
        )
    };
}

pub async fn count(c: &Client, like: &str, language: &str) -> Result<i64, StoreError> {
    Ok(c.query_one(entries_where!("SELECT count(*)", ""), &[&like, &language])
        .await?
        .get(0))
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryLine {
    pub slug: String,
    pub language: String,
    pub error_type: String,
    pub priority: i32,
    pub enabled: bool,
    pub edited: bool,
    pub title: String,
    pub hits: i64,
}

/// A page of entries, with the title in `locale` and how often each explained an error.
pub async fn page(
    c: &Client,
    like: &str,
    language: &str,
    locale: &str,
    offset: i64,
    limit: i64,
) -> Result<Vec<EntryLine>, StoreError> {
    let rows = c
        .query(
            entries_where!(
                "SELECT e.slug, e.language, e.error_type, e.priority, e.enabled, e.edited_by_admin,
                        COALESCE((SELECT t.title FROM registry_texts t WHERE t.entry_id = e.id AND t.locale = $5), ''),
                        (SELECT count(*) FROM explanation_events v WHERE v.entry_slug = e.slug)",
                "ORDER BY e.language, e.priority DESC, e.slug OFFSET $3 LIMIT $4"
            ),
            &[&like, &language, &offset, &limit, &locale],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| EntryLine {
            slug: r.get(0),
            language: r.get(1),
            error_type: r.get(2),
            priority: r.get(3),
            enabled: r.get(4),
            edited: r.get(5),
            title: r.get(6),
            hits: r.get(7),
        })
        .collect())
}

/// `(language, entries)`.
pub async fn languages(c: &Client) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(c.query(
        "SELECT language, count(*) FROM registry_entries GROUP BY 1 ORDER BY 1",
        &[],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

pub async fn delete(c: &Client, slug: &str) -> Result<(), StoreError> {
    c.execute("DELETE FROM registry_entries WHERE slug = $1", &[&slug])
        .await?;
    Ok(())
}

/// How many kinds of error nothing in the registry explained (an event recorded before kinds
/// existed and not yet backfilled counts by its old fingerprint).
pub async fn unmatched_count(c: &Client) -> Result<i64, StoreError> {
    Ok(c.query_one(
        "SELECT count(DISTINCT COALESCE(kind_fingerprint, fingerprint)) FROM explanation_events WHERE entry_slug IS NULL",
        &[],
    )
    .await?
    .get(0))
}

/// Up to `limit` events recorded before kinds existed: `(id, language, error_type, message)`.
pub async fn events_without_kind(c: &Client, limit: i64) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    Ok(c.query(
        "SELECT id, language, error_type, message FROM explanation_events
          WHERE kind_fingerprint IS NULL ORDER BY id LIMIT $1",
        &[&limit],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
    .collect())
}

/// Sets the kind of the events `ids[i]` to `kinds[i]`, in one statement.
pub async fn set_kinds(c: &Client, ids: &[i64], kinds: &[String]) -> Result<u64, StoreError> {
    Ok(c.execute(
        "UPDATE explanation_events e SET kind_fingerprint = k.kind
           FROM unnest($1::bigint[], $2::text[]) AS k(id, kind) WHERE e.id = k.id",
        &[&ids, &kinds],
    )
    .await?)
}
