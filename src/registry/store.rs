//! The registry's tables in PostgreSQL: load, import from the catalogue, admin saves, and the
//! explanation events behind the "unmatched errors" backlog.

use super::catalogue::{Entry, EntryTexts};
use super::{Locale, RegistryError};
use crate::store::{Client, StoreError};

/// What `registry import` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
    /// Entries an admin edited: left as they are.
    pub kept_admin_edits: usize,
}

pub async fn count(client: &Client) -> Result<i64, StoreError> {
    Ok(client
        .query_one("SELECT count(*) FROM registry_entries", &[])
        .await?
        .get(0))
}

/// Every entry with its texts.
pub async fn load(client: &Client) -> Result<Vec<Entry>, StoreError> {
    let rows = client
        .query(
            "SELECT e.id, e.slug, e.language, e.error_type, e.pattern, e.line_pattern, e.priority, e.enabled,
                    e.sample_error, e.sample_program, e.sample_stdin, e.sample_line,
                    t.locale, t.title, t.what, t.why, t.hint, t.example_bad, t.example_good,
                    e.variant_texts, e.variant_round
               FROM registry_entries e LEFT JOIN registry_texts t ON t.entry_id = e.id
              ORDER BY e.id",
            &[],
        )
        .await?;
    let mut entries: Vec<(i64, Entry)> = Vec::new();
    for row in rows {
        let id: i64 = row.get(0);
        if entries.last().map(|(i, _)| *i) != Some(id) {
            entries.push((
                id,
                Entry {
                    slug: row.get(1),
                    language: row.get(2),
                    error_type: row.get(3),
                    pattern: row.get(4),
                    line_pattern: row.get(5),
                    priority: row.get(6),
                    enabled: row.get(7),
                    sample_error: row.get(8),
                    sample_program: row.get(9),
                    sample_stdin: row.get(10),
                    sample_line: row.get::<_, Option<i32>>(11).map(|l| l.max(0) as u32),
                    ru: EntryTexts::default(),
                    en: EntryTexts::default(),
                    variant: row
                        .get::<_, Option<serde_json::Value>>(19)
                        .and_then(|v| serde_json::from_value::<crate::registry::catalogue::EntryVariant>(v).ok())
                        .map(|v| crate::registry::catalogue::EntryVariant {
                            round: row.get(20),
                            ..v
                        }),
                },
            ));
        }
        let Some(locale) = row.get::<_, Option<String>>(12) else {
            continue;
        };
        let texts = EntryTexts {
            title: row.get(13),
            what: row.get(14),
            why: row.get(15),
            hint: row.get(16),
            example_bad: row.get(17),
            example_good: row.get(18),
        };
        if let Some((_, e)) = entries.last_mut() {
            match Locale::parse(&locale) {
                Some(Locale::Ru) => e.ru = texts,
                Some(Locale::En) => e.en = texts,
                None => {}
            }
        }
    }
    Ok(entries.into_iter().map(|(_, e)| e).collect())
}

/// Upserts catalogue entries by slug, in one transaction. Entries an admin edited are kept.
pub async fn import(client: &mut Client, entries: &[Entry]) -> Result<ImportReport, RegistryError> {
    for e in entries {
        e.validate()?;
    }
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let mut report = ImportReport::default();
    for e in entries {
        let existing = tx
            .query_opt(
                "SELECT id, edited_by_admin FROM registry_entries WHERE slug = $1 FOR UPDATE",
                &[&e.slug],
            )
            .await
            .map_err(StoreError::from)?;
        match existing {
            Some(row) if row.get::<_, bool>(1) => {
                report.kept_admin_edits += 1;
                continue;
            }
            Some(_) => report.updated += 1,
            None => report.inserted += 1,
        }
        let id = write_entry(&tx, e, false).await?;
        write_texts(&tx, id, e).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    Ok(report)
}

/// Saves one entry as an admin edited it: validated first (the regex compiles and matches the
/// sample; the reason is returned otherwise), then marked `edited_by_admin`.
pub async fn save_admin_edit(client: &mut Client, entry: &Entry) -> Result<(), RegistryError> {
    entry.validate()?;
    let tx = client.transaction().await.map_err(StoreError::from)?;
    let id = write_entry(&tx, entry, true).await?;
    write_texts(&tx, id, entry).await?;
    tx.commit().await.map_err(StoreError::from)?;
    Ok(())
}

/// Inserts or updates the entry by slug; an admin's mark, once set, stays set.
async fn write_entry(tx: &deadpool_postgres::Transaction<'_>, e: &Entry, by_admin: bool) -> Result<i64, StoreError> {
    let sample_line = e.sample_line.map(|l| l as i32);
    let row = tx
        .query_one(
            "INSERT INTO registry_entries (slug, language, error_type, pattern, line_pattern, priority, enabled,
                    sample_error, sample_program, sample_stdin, sample_line, edited_by_admin)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
             ON CONFLICT (slug) DO UPDATE SET language = EXCLUDED.language, error_type = EXCLUDED.error_type,
                    pattern = EXCLUDED.pattern, line_pattern = EXCLUDED.line_pattern, priority = EXCLUDED.priority,
                    enabled = EXCLUDED.enabled, sample_error = EXCLUDED.sample_error,
                    sample_program = EXCLUDED.sample_program, sample_stdin = EXCLUDED.sample_stdin,
                    sample_line = EXCLUDED.sample_line,
                    edited_by_admin = registry_entries.edited_by_admin OR EXCLUDED.edited_by_admin,
                    updated_at = now()
             RETURNING id",
            &[
                &e.slug,
                &e.language,
                &e.error_type,
                &e.pattern,
                &e.line_pattern,
                &e.priority,
                &e.enabled,
                &e.sample_error,
                &e.sample_program,
                &e.sample_stdin,
                &sample_line,
                &by_admin,
            ],
        )
        .await?;
    Ok(row.get(0))
}

async fn write_texts(tx: &deadpool_postgres::Transaction<'_>, id: i64, e: &Entry) -> Result<(), StoreError> {
    for (locale, t) in [("ru", &e.ru), ("en", &e.en)] {
        tx.execute(
            "INSERT INTO registry_texts (entry_id, locale, title, what, why, hint, example_bad, example_good)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (entry_id, locale) DO UPDATE SET title = EXCLUDED.title, what = EXCLUDED.what,
                 why = EXCLUDED.why, hint = EXCLUDED.hint, example_bad = EXCLUDED.example_bad,
                 example_good = EXCLUDED.example_good",
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
    Ok(())
}

/// One explanation given to a student (or an error nobody could explain).
#[derive(Debug, Clone)]
pub struct ExplanationEvent<'a> {
    pub check_id: Option<i64>,
    pub language: &'a str,
    pub error_type: &'a str,
    pub message: &'a str,
    pub source_line: Option<&'a str>,
    pub fingerprint: &'a str,
    /// The error's kind (`analyzer::kind::fingerprint`): what the backlog groups by.
    pub kind_fingerprint: &'a str,
    pub entry_slug: Option<&'a str>,
    pub source: &'a str,
    pub locale: Locale,
}

pub async fn record_event(client: &Client, ev: &ExplanationEvent<'_>) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO explanation_events (check_id, language, error_type, message, source_line, fingerprint,
                    entry_slug, source, locale, kind_fingerprint)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &ev.check_id,
                &ev.language,
                &ev.error_type,
                &ev.message,
                &ev.source_line,
                &ev.fingerprint,
                &ev.entry_slug,
                &ev.source,
                &ev.locale.as_str(),
                &ev.kind_fingerprint,
            ],
        )
        .await?;
    Ok(())
}
