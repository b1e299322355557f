//! Entry variants (a second text, promotion), the unmatched-errors backlog ranked by harm, and rebuilding the lineage from history.

use super::*;

/// Sets (or with `None` removes) an entry's second text; a new round starts, so the split's
/// figures count from here. Returns the entry's variant before, `None` when there is no entry.
pub async fn set_variant(
    client: &Client,
    slug: &str,
    texts: Option<&crate::registry::catalogue::EntryVariant>,
) -> Result<Option<Option<serde_json::Value>>, StoreError> {
    let value = texts
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| StoreError::Invalid(format!("encoding a variant: {e}")))?;
    let row = client
        .query_opt(
            "WITH old AS (SELECT id, variant_texts FROM registry_entries WHERE slug = $1 FOR UPDATE)
             UPDATE registry_entries e SET variant_texts = $2, variant_round = e.variant_round + 1, updated_at = now()
               FROM old WHERE e.id = old.id RETURNING old.variant_texts",
            &[&slug, &value],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Promotes the second text: it becomes the entry's text (each field it fills replaces the
/// main one), the variant is removed and a new round starts. The explanations already given
/// stay attributed to the variant they showed. Returns the texts before and after, `None`
/// when the entry has no variant.
pub async fn promote_variant(
    client: &mut Client,
    slug: &str,
) -> Result<Option<(crate::registry::Entry, crate::registry::Entry)>, StoreError> {
    let entries = crate::registry::store::load(client).await?;
    let Some(before) = entries.into_iter().find(|e| e.slug == slug) else {
        return Ok(None);
    };
    let Some(v) = before.variant.clone() else {
        return Ok(None);
    };
    let tx = client.transaction().await?;
    // The variant read is still the entry's (no one changed it meanwhile).
    let row = tx
        .query_opt(
            "SELECT id FROM registry_entries WHERE slug = $1 AND variant_round = $2 AND variant_texts IS NOT NULL
                FOR UPDATE",
            &[&slug, &v.round],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.get(0);
    let after = v.apply(&before);
    for (locale, t) in [("ru", &after.ru), ("en", &after.en)] {
        tx.execute(
            "INSERT INTO registry_texts (entry_id, locale, title, what, why, hint, example_bad, example_good)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (entry_id, locale) DO UPDATE SET title = $3, what = $4, why = $5, hint = $6,
                    example_bad = $7, example_good = $8",
            &[
                &id,
                &locale,
                &t.title,
                &t.what,
                &t.why,
                &t.hint,
                &t.example_bad,
                &t.example_good,
            ],
        )
        .await?;
    }
    tx.execute(
        "UPDATE registry_entries SET variant_texts = NULL, variant_round = variant_round + 1, edited_by_admin = TRUE,
                updated_at = now() WHERE id = $1",
        &[&id],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((before, after)))
}

// ---- the backlog ----

/// One kind of error no entry explained (`analyzer::kind`: the same mistake with another name
/// or number is one row), with how many students it held back.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    /// The kind (or, for an event recorded before kinds existed, its own fingerprint).
    pub fingerprint: String,
    /// Different messages of the kind.
    pub variants: i64,
    pub language: String,
    pub error_type: String,
    pub message: String,
    pub count: i64,
    pub last: String,
    /// Explanations of it whose next try did not fix it (decided ones).
    pub not_fixed: i64,
    /// `count × (1 − fix rate)`: the ranking (an error with no decided next try counts whole).
    pub held_back: i64,
    pub fix_rate: Option<f64>,
    /// The AI's latest answer to it, and the students' votes on its explanations.
    pub ai: Option<String>,
    pub up: i64,
    pub down: i64,
}

/// The unmatched backlog ranked by how many students each error held back: how often it came,
/// times the share of its explanations the next try did not fix, grouped by kind. One query.
pub async fn backlog(client: &Client, offset: i64, limit: i64) -> Result<Vec<Backlog>, StoreError> {
    let rows = client
        .query(
            "WITH g AS (
                 SELECT COALESCE(kind_fingerprint, fingerprint) AS kind, min(language) AS language,
                        min(error_type) AS error_type, (array_agg(message ORDER BY id DESC))[1] AS message,
                        count(*) AS n, count(DISTINCT message) AS variants, max(created_at) AS last,
                        array_agg(DISTINCT fingerprint) AS fps,
                        array_agg(check_id) FILTER (WHERE check_id IS NOT NULL) AS checks
                   FROM explanation_events WHERE entry_slug IS NULL GROUP BY 1),
             r AS (
                 SELECT g.*, h.explained, h.fixed,
                        (h.explained - (SELECT count(*) FROM attempt_links a
                                         WHERE a.next_id IS NULL AND a.window_ends > now() AND a.entry_slug IS NULL
                                           AND a.kind = 'check' AND a.fingerprint = ANY(g.fps)))::bigint AS decided
                   FROM g, LATERAL (
                        SELECT COALESCE(sum(d.explained), 0)::bigint AS explained, COALESCE(sum(d.fixed), 0)::bigint AS fixed
                          FROM efficacy_daily d WHERE d.dim = 'unmatched' AND d.key = ANY(g.fps)) h)
             SELECT kind, language, error_type, message, n, to_char(last AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    greatest(decided - fixed, 0)::bigint, decided, fixed,
                    round(n * CASE WHEN decided > 0 THEN 1 - fixed::float8 / decided ELSE 1 END)::bigint AS held,
                    (SELECT c.result->'explanation'->>'text' FROM checks c
                      WHERE c.id = ANY(r.checks) AND c.result->'explanation'->>'source' IN ('ai', 'cache')
                      ORDER BY c.id DESC LIMIT 1),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(r.checks) AND f.vote > 0),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(r.checks) AND f.vote < 0),
                    variants
               FROM r ORDER BY held DESC, n DESC, last DESC OFFSET $1 LIMIT $2",
            &[&offset, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (decided, fixed): (i64, i64) = (r.get(7), r.get(8));
            Backlog {
                fingerprint: r.get(0),
                language: r.get(1),
                error_type: r.get(2),
                message: r.get(3),
                count: r.get(4),
                last: r.get(5),
                not_fixed: r.get(6),
                held_back: r.get(9),
                fix_rate: (decided > 0).then(|| fixed as f64 / decided as f64),
                ai: r.get(10),
                up: r.get(11),
                down: r.get(12),
                variants: r.get(13),
            }
        })
        .collect())
}

/// Rebuilds the lineage from the history of checks and submissions (`devmentor efficacy
/// rebuild`): every finished attempt in the order it was made, through [`record`], then the
/// votes and the counters. Returns `(attempts read, link rows)`.
pub async fn rebuild(client: &mut Client) -> Result<(i64, i64), StoreError> {
    // The entry that explained each attempt, as the links said: a check's stored result names
    // the entry by the slug it had, and an entry deleted or re-slugged since would otherwise
    // lose its history (looked up by slug, it is no entry or another one).
    client
        .batch_execute(
            "DROP TABLE IF EXISTS pg_temp.efficacy_kept_entries;
             CREATE TEMP TABLE efficacy_kept_entries AS
               SELECT kind, attempt_id, entry_id FROM attempt_links WHERE entry_id IS NOT NULL;
             TRUNCATE attempt_links",
        )
        .await?;
    let mut read = 0i64;
    let mut after: (SystemTime, i64) = (SystemTime::UNIX_EPOCH, 0);
    loop {
        let batch = crate::store::checks::done_after(client, after.0, after.1, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = (last.0.created_at, last.0.id);
        for (row, fingerprint) in &batch {
            let Some(mut result) = row.result.clone() else { continue };
            if let (Some(e), Some(fp)) = (result.explanation.as_mut(), fingerprint) {
                e.fingerprint.get_or_insert_with(|| fp.clone());
            }
            if let Some(a) = Attempt::of_check(row, &result) {
                record(client, &a).await?;
                read += 1;
            }
        }
    }
    let mut after: (SystemTime, i64) = (SystemTime::UNIX_EPOCH, 0);
    loop {
        let batch = crate::store::tasks::done_submissions_after(client, after.0, after.1, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = (last.0.created_at, last.0.id);
        for (row, hints) in &batch {
            let Some(graded) = row.result.as_ref() else { continue };
            if let Some(a) = Attempt::of_submission(row, graded) {
                // A hint opened after this result credits the next try to the hint.
                let a = Attempt {
                    explained: a.explained.map(|e| Explained {
                        source: if *hints > 0 { "hint".into() } else { e.source },
                        ..e
                    }),
                    ..a
                };
                record(client, &a).await?;
                read += 1;
            }
        }
    }
    let tx = client.transaction().await?;
    tx.execute(
        "UPDATE attempt_links l SET entry_id = k.entry_id FROM efficacy_kept_entries k
          WHERE l.kind = k.kind AND l.attempt_id = k.attempt_id AND l.entry_id IS DISTINCT FROM k.entry_id",
        &[],
    )
    .await?;
    tx.execute(
        "UPDATE attempt_links l SET up = (f.vote > 0)::int, down = (f.vote < 0)::int
           FROM feedback f WHERE l.kind = 'check' AND l.attempt_id = f.check_id",
        &[],
    )
    .await?;
    tx.execute("SELECT devmentor_efficacy_recount()", &[]).await?;
    let rows: i64 = tx.query_one("SELECT count(*) FROM attempt_links", &[]).await?.get(0);
    tx.execute("DROP TABLE efficacy_kept_entries", &[]).await?;
    tx.commit().await?;
    Ok((read, rows))
}
