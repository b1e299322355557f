//! The figures read from the lineage's counters: per source, entry, variant, task and language.

use super::*;

/// One line of figures: a source, an entry, a variant, a task or a language.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    /// The source, the entry's slug, the task's slug or the language.
    pub key: String,
    pub language: Option<String>,
    pub explained: i64,
    /// Explanations still waiting for a next try (counted neither way).
    pub pending: i64,
    pub fixed: i64,
    /// `fixed / (explained − pending)`; `None` while nothing is decided.
    pub fix_rate: Option<f64>,
    pub ci95: (f64, f64),
    pub median_attempts: Option<f64>,
    pub median_seconds_to_fix: Option<f64>,
    pub up: i64,
    pub down: i64,
    /// Entries: deleted since (its history stays under the slug it had).
    pub deleted: bool,
}

impl Figures {
    pub fn decided(&self) -> i64 {
        (self.explained - self.pending).max(0)
    }

    fn finish(&mut self) {
        let n = self.decided();
        self.fix_rate = (n > 0).then(|| self.fixed as f64 / n as f64);
        self.ci95 = wilson(self.fixed, n);
    }
}

/// What to count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub language: Option<String>,
    /// Explanations from this day (UTC, `YYYY-MM-DD`, see [`parse_day`]) on.
    pub since: Option<String>,
}

/// A day from `YYYY-MM-DD` or an RFC 3339 instant (`2025-03-01T10:00:00Z`: its UTC day);
/// `None` when it is neither or names no real day (2025-02-30).
pub fn parse_day(s: &str) -> Option<String> {
    let s = s.trim();
    let day = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with('t') || rest.starts_with(' ')) {
        return None;
    }
    let b = day.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        day.get(r)
            .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))?
            .parse::<u32>()
            .ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (y >= 1970 && (1..=days).contains(&d)).then(|| day.to_string())
}

/// Figures of one dimension (`source`, `entry`, `variant`, `task`; `language` is the sources
/// summed per language), keyed by the counters' key.
pub async fn figures(client: &Client, dim: &str, filter: &Filter) -> Result<Vec<Figures>, StoreError> {
    let mut out = counts(client, dim, filter).await?;
    medians(client, dim, filter, &mut out).await?;
    name(client, dim, out).await
}

/// Entry keys (ids) to names, for `dim` = `entry`.
async fn name(client: &Client, dim: &str, mut out: Vec<Figures>) -> Result<Vec<Figures>, StoreError> {
    if dim == "entry" {
        name_entries(client, &mut out).await?;
    }
    Ok(out)
}

fn read_dim(dim: &str) -> (&str, bool) {
    match dim {
        "language" => ("source", true),
        d => (d, false),
    }
}

/// The figures of [`figures`] without the medians (and, for entries, still keyed by id): the
/// counters alone, which is all a list of rates needs.
async fn counts(client: &Client, dim: &str, filter: &Filter) -> Result<Vec<Figures>, StoreError> {
    let (read_dim, by_language) = read_dim(dim);
    let since = filter.since.clone().unwrap_or_else(|| "1970-01-01".into());
    let language = filter.language.clone().unwrap_or_default();
    let rows = client
        .query(
            "SELECT CASE WHEN $4 THEN language ELSE key END, sum(explained)::bigint, sum(fixed)::bigint,
                    sum(up)::bigint, sum(down)::bigint
               FROM efficacy_daily
              WHERE dim = $1 AND day >= $2::text::date AND ($3 = '' OR language = $3)
              GROUP BY 1",
            &[&read_dim, &since, &language, &by_language],
        )
        .await?;
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    for r in &rows {
        let key: String = r.get(0);
        out.insert(
            key.clone(),
            Figures {
                key,
                explained: r.get(1),
                fixed: r.get(2),
                up: r.get(3),
                down: r.get(4),
                ..Default::default()
            },
        );
    }
    // Explanations still inside their window: few (the last half hour's checks, the last
    // day's submissions), read through the partial index on open rows.
    let pending = client
        .query(
            "SELECT d.key, l.language, count(*) FROM attempt_links l, devmentor_efficacy_dims(l) d
              WHERE l.next_id IS NULL AND l.window_ends > now() AND d.dim = $1
                AND (l.created_at AT TIME ZONE 'UTC')::date >= $2::text::date AND ($3 = '' OR l.language = $3)
              GROUP BY 1, 2",
            &[&read_dim, &since, &language],
        )
        .await?;
    for r in &pending {
        let key: String = if by_language { r.get(1) } else { r.get(0) };
        if let Some(f) = out.get_mut(&key) {
            f.pending += r.get::<_, i64>(2);
        }
    }
    let mut out: Vec<Figures> = out.into_values().collect();
    for f in &mut out {
        f.finish();
    }
    Ok(out)
}

/// Fills in the medians of `out` (lines of [`counts`] of the same `dim` and `filter`) from the
/// histograms, reading only those lines' keys.
async fn medians(client: &Client, dim: &str, filter: &Filter, out: &mut [Figures]) -> Result<(), StoreError> {
    if out.is_empty() {
        return Ok(());
    }
    let (read_dim, by_language) = read_dim(dim);
    let since = filter.since.clone().unwrap_or_else(|| "1970-01-01".into());
    let language = filter.language.clone().unwrap_or_default();
    let keys: Vec<String> = out.iter().map(|f| f.key.clone()).collect();
    // By language the keys are languages, not the sources the rows are keyed by.
    let hist = client
        .query(
            "SELECT CASE WHEN $4 THEN language ELSE key END, measure, bucket, sum(n)::bigint
               FROM efficacy_hist
              WHERE dim = $1 AND day >= $2::text::date AND ($3 = '' OR language = $3)
                AND ($4 OR key = ANY($5))
              GROUP BY 1, 2, 3",
            &[&read_dim, &since, &language, &by_language, &keys],
        )
        .await?;
    let mut attempts: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
    let mut seconds: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
    for r in &hist {
        let (key, measure, bucket, n): (String, &str, i32, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let h = if measure == "attempts" {
            &mut attempts
        } else {
            &mut seconds
        };
        *h.entry(key).or_default().entry(bucket).or_insert(0) += n;
    }
    for f in out.iter_mut() {
        f.median_attempts = attempts.get(&f.key).and_then(median_attempts);
        f.median_seconds_to_fix = seconds.get(&f.key).and_then(median_seconds);
    }
    Ok(())
}

/// Entry keys are ids (an entry may be re-slugged: its history follows it); shows them as the
/// entry's slug now, or the slug it had when it was deleted.
async fn name_entries(client: &Client, out: &mut [Figures]) -> Result<(), StoreError> {
    let ids: Vec<i64> = out.iter().filter_map(|f| f.key.parse().ok()).collect();
    let rows = client
        .query(
            "SELECT i.id, e.slug, COALESCE(e.language, last.language), last.entry_slug
               FROM unnest($1::bigint[]) i (id) LEFT JOIN registry_entries e ON e.id = i.id
               LEFT JOIN LATERAL (SELECT l.entry_slug, l.language FROM attempt_links l WHERE l.entry_id = i.id
                                   ORDER BY l.created_at DESC LIMIT 1) last ON TRUE",
            &[&ids],
        )
        .await?;
    // id → (its slug now, its language (a deleted one's from its history), the slug it explained under).
    type Names = HashMap<i64, (Option<String>, Option<String>, Option<String>)>;
    let names: Names = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    for f in out.iter_mut() {
        let Ok(id) = f.key.parse::<i64>() else { continue };
        if let Some((now, language, then)) = names.get(&id) {
            f.deleted = now.is_none();
            f.key = now.clone().or_else(|| then.clone()).unwrap_or_else(|| format!("#{id}"));
            f.language = language.clone();
        }
    }
    Ok(())
}

/// Figures of one entry by slug, and of its current experiment's two variants (`a`, `b`).
pub async fn entry_figures(
    client: &Client,
    slug: &str,
) -> Result<(Option<Figures>, Option<(Figures, Figures)>), StoreError> {
    let row = client
        .query_opt(
            "SELECT id, variant_round, variant_texts IS NOT NULL FROM registry_entries WHERE slug = $1",
            &[&slug],
        )
        .await?;
    let Some(row) = row else { return Ok((None, None)) };
    let (id, round, has_variant): (i64, i32, bool) = (row.get(0), row.get(1), row.get(2));
    // The counters of every entry (one indexed read), the histograms of this one only.
    let filter = Filter::default();
    let mut own: Vec<Figures> = counts(client, "entry", &filter)
        .await?
        .into_iter()
        .filter(|f| f.key == id.to_string())
        .collect();
    medians(client, "entry", &filter, &mut own).await?;
    let own = name(client, "entry", own).await?.into_iter().next();
    if !has_variant {
        return Ok((own, None));
    }
    let variants = figures_of_keys(client, &[format!("{id}:{round}a"), format!("{id}:{round}b")]).await?;
    let mut a = variants.first().cloned().unwrap_or_default();
    let mut b = variants.get(1).cloned().unwrap_or_default();
    a.key = format!("{round}a");
    b.key = format!("{round}b");
    Ok((own, Some((a, b))))
}

/// Variant figures for exactly these keys (in this order; missing ones are zero).
async fn figures_of_keys(client: &Client, keys: &[String]) -> Result<Vec<Figures>, StoreError> {
    let filter = Filter::default();
    let mut all: Vec<Figures> = counts(client, "variant", &filter)
        .await?
        .into_iter()
        .filter(|f| keys.contains(&f.key))
        .collect();
    medians(client, "variant", &filter, &mut all).await?;
    Ok(keys
        .iter()
        .map(|k| {
            all.iter().find(|f| &f.key == k).cloned().unwrap_or_else(|| {
                let mut f = Figures {
                    key: k.clone(),
                    ..Default::default()
                };
                f.finish();
                f
            })
        })
        .collect())
}

/// Explanations per entry for the registry list: `(explained decided, fix rate)` by slug.
/// No medians: the list shows the rate and n (the interval on hover), not the times.
pub async fn entry_rates(client: &Client) -> Result<HashMap<String, Figures>, StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    Ok(name(client, "entry", all)
        .await?
        .into_iter()
        .map(|f| (f.key.clone(), f))
        .collect())
}

/// The entries to rewrite first: the lowest fix rate among those with at least `min_n`
/// decided explanations.
pub async fn lowest_entries(client: &Client, min_n: i64, limit: usize) -> Result<Vec<Figures>, StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    lowest_of(client, all, min_n, limit).await
}

/// The analytics page's two lists of entries from one pass over the counters: the ones to
/// rewrite first ([`lowest_entries`]) and the deleted ones' history.
pub async fn entry_lists(
    client: &Client,
    min_n: i64,
    limit: usize,
    deleted_limit: usize,
) -> Result<(Vec<Figures>, Vec<Figures>), StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    let deleted = deleted_of(client, all.clone(), deleted_limit).await?;
    Ok((lowest_of(client, all, min_n, limit).await?, deleted))
}

async fn lowest_of(
    client: &Client,
    mut all: Vec<Figures>,
    min_n: i64,
    limit: usize,
) -> Result<Vec<Figures>, StoreError> {
    let filter = Filter::default();
    all.retain(|f| f.decided() >= min_n);
    let ids: Vec<String> = all.iter().map(|f| f.key.clone()).collect();
    let all = name(client, "entry", all).await?;
    let mut all: Vec<(String, Figures)> = ids.into_iter().zip(all).filter(|(_, f)| !f.deleted).collect();
    all.sort_by(|(_, a), (_, b)| {
        a.fix_rate
            .partial_cmp(&b.fix_rate)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.decided().cmp(&a.decided()))
    });
    all.truncate(limit);
    // The histograms of the ones shown only (keyed by id, as the counters are).
    let mut by_id: Vec<Figures> = all
        .iter()
        .map(|(id, _)| Figures {
            key: id.clone(),
            ..Default::default()
        })
        .collect();
    medians(client, "entry", &filter, &mut by_id).await?;
    Ok(all
        .into_iter()
        .zip(by_id)
        .map(|((_, f), m)| Figures {
            median_attempts: m.median_attempts,
            median_seconds_to_fix: m.median_seconds_to_fix,
            ..f
        })
        .collect())
}

/// Entries deleted after they explained errors, with their figures under the slug they had
/// (most explanations first): their history stays on the analytics page, though there is
/// nothing left to rewrite.
async fn deleted_of(client: &Client, all: Vec<Figures>, limit: usize) -> Result<Vec<Figures>, StoreError> {
    let ids: Vec<i64> = all.iter().filter_map(|f| f.key.parse().ok()).collect();
    // Only the ids no entry has now are named (one cheap query for the live ones).
    let gone: std::collections::HashSet<i64> = client
        .query(
            "SELECT i.id FROM unnest($1::bigint[]) i (id)
              WHERE NOT EXISTS (SELECT 1 FROM registry_entries e WHERE e.id = i.id)",
            &[&ids],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out: Vec<Figures> = all
        .into_iter()
        .filter(|f| f.key.parse().is_ok_and(|id: i64| gone.contains(&id)))
        .collect();
    name_entries(client, &mut out).await?;
    out.sort_by(|a, b| b.explained.cmp(&a.explained).then(a.key.cmp(&b.key)));
    out.truncate(limit);
    Ok(out)
}
