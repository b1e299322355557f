//! The numbers of the dashboard and the analytics page. Read-only, bounded to recent windows,
//! mostly from the daily aggregates (`checks_daily`, `user_days`, `active_daily`,
//! `check_durations_daily`): no scan of `checks`.

use super::{Client, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub users: i64,
    pub active_7d: i64,
    pub checks_today: i64,
    pub checks: i64,
    pub pending: i64,
    pub failed_today: i64,
}

pub async fn dashboard(c: &Client) -> Result<Dashboard, StoreError> {
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM users),
                    (SELECT count(*) FROM users WHERE last_seen_at > now() - interval '7 days'),
                    (SELECT count(*) FROM checks WHERE created_at >= date_trunc('day', now())),
                    (SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily),
                    (SELECT count(*) FROM access_requests WHERE status = 'pending'),
                    (SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily
                      WHERE day = (now() AT TIME ZONE 'UTC')::date AND verdict <> 'ok')",
            &[],
        )
        .await?;
    Ok(Dashboard {
        users: row.get(0),
        active_7d: row.get(1),
        checks_today: row.get(2),
        checks: row.get(3),
        pending: row.get(4),
        failed_today: row.get(5),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct VerdictCount {
    pub verdict: String,
    pub count: i64,
}

/// Checks per verdict, all time, most first.
pub async fn verdicts(c: &Client) -> Result<Vec<VerdictCount>, StoreError> {
    Ok(c.query(
        "SELECT verdict, sum(n)::bigint FROM checks_daily GROUP BY 1 ORDER BY 2 DESC",
        &[],
    )
    .await?
    .iter()
    .map(|r| VerdictCount {
        verdict: r.get(0),
        count: r.get(1),
    })
    .collect())
}

/// `(day, verdict, checks)` for each of the last 30 days and each of `verdicts`, by day.
pub async fn checks_per_day(c: &Client, verdicts: &[&str]) -> Result<Vec<(String, String, i64)>, StoreError> {
    let verdicts: Vec<String> = verdicts.iter().map(|v| v.to_string()).collect();
    Ok(c
        .query(
            "SELECT to_char(d, 'YYYY-MM-DD'), v.verdict, COALESCE(sum(k.n), 0)::bigint
               FROM generate_series(date_trunc('day', now()) - interval '29 days', date_trunc('day', now()), interval '1 day') d
               CROSS JOIN unnest($1::text[]) AS v(verdict)
               LEFT JOIN checks_daily k ON k.day = d::date AND k.verdict = v.verdict
              GROUP BY 1, 2 ORDER BY 1",
            &[&verdicts],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}

/// `(day, active students)` for each of the last 30 days.
pub async fn active_per_day(c: &Client) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(c
        .query(
            "SELECT to_char(d, 'YYYY-MM-DD'), COALESCE(a.n, 0)::bigint
               FROM generate_series(date_trunc('day', now()) - interval '29 days', date_trunc('day', now()), interval '1 day') d
               LEFT JOIN active_daily a ON a.day = d::date
              ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// The ten most frequent `language · error type` of the last 30 days.
pub async fn top_errors(c: &Client) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(c.query(
        "SELECT language || ' · ' || error_type, count(*) FROM explanation_events
              WHERE created_at > now() - interval '30 days' GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        &[],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Explanations of the last 30 days by where they came from.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    pub registry: i64,
    pub ai: i64,
    pub cache: i64,
    pub none: i64,
}

pub async fn sources(c: &Client) -> Result<Sources, StoreError> {
    let r = c
        .query_one(
            "SELECT count(*) FILTER (WHERE source = 'registry'), count(*) FILTER (WHERE source = 'ai'),
                    count(*) FILTER (WHERE source = 'cache'), count(*) FILTER (WHERE source = 'none')
               FROM explanation_events WHERE created_at > now() - interval '30 days'",
            &[],
        )
        .await?;
    Ok(Sources {
        registry: r.get(0),
        ai: r.get(1),
        cache: r.get(2),
        none: r.get(3),
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    pub p50: f64,
    pub p95: f64,
    pub n: i64,
}

/// Run time percentiles of the last 7 days' finished checks.
pub async fn timing(c: &Client) -> Result<Timing, StoreError> {
    // The last 7 UTC days of the bucketed durations (V11): a few hundred rows, not a week of checks.
    let rows = c
        .query(
            "SELECT bucket, sum(n)::bigint FROM check_durations_daily
              WHERE day > (now() AT TIME ZONE 'UTC')::date - 7 GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?;
    let hist: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(Timing {
        p50: duration_percentile(&hist, 0.5).round(),
        p95: duration_percentile(&hist, 0.95).round(),
        n: hist.iter().map(|(_, n)| n).sum(),
    })
}

/// The `q` quantile of a `check_durations_daily` histogram (`(bucket, n)` by bucket), linear
/// within its bucket: bucket 0 is [0, 1) ms, bucket i ≥ 1 is [1.05^(i-1), 1.05^i) ms. 0 when empty.
pub fn duration_percentile(hist: &[(i32, i64)], q: f64) -> f64 {
    let total: i64 = hist.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return 0.0;
    }
    let target = q * total as f64;
    let mut below = 0.0;
    for (b, n) in hist {
        let n = *n as f64;
        if n > 0.0 && below + n >= target {
            let (lo, hi) = if *b <= 0 {
                (0.0, 1.0)
            } else {
                (1.05f64.powi(b - 1), 1.05f64.powi(*b))
            };
            return lo + (hi - lo) * ((target - below) / n);
        }
        below += n;
    }
    hist.last().map(|(b, _)| 1.05f64.powi(*b)).unwrap_or(0.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct Votes {
    pub registry_up: i64,
    pub registry_down: i64,
    pub ai_up: i64,
    pub ai_down: i64,
}

/// The students' votes on explanations, registry against the rest.
pub async fn votes(c: &Client) -> Result<Votes, StoreError> {
    let r = c
        .query_one(
            "SELECT count(*) FILTER (WHERE vote > 0 AND source = 'registry'), count(*) FILTER (WHERE vote < 0 AND source = 'registry'),
                    count(*) FILTER (WHERE vote > 0 AND source <> 'registry'), count(*) FILTER (WHERE vote < 0 AND source <> 'registry')
               FROM feedback",
            &[],
        )
        .await?;
    Ok(Votes {
        registry_up: r.get(0),
        registry_down: r.get(1),
        ai_up: r.get(2),
        ai_down: r.get(3),
    })
}

#[cfg(test)]
mod tests {
    use super::duration_percentile;

    /// The bucket `devmentor_duration_bucket` (V11) gives `ms`.
    fn bucket(ms: f64) -> i32 {
        if ms < 1.0 {
            0
        } else {
            ((ms.ln() / 1.05f64.ln()).floor() as i32 + 1).min(500)
        }
    }

    #[test]
    fn percentiles_from_buckets_are_within_five_percent() {
        assert_eq!(duration_percentile(&[], 0.5), 0.0);
        let one = [(bucket(31.0), 1)];
        assert_eq!(duration_percentile(&one, 0.5).round(), 31.0);
        // 1…1000 ms once each: p50 ≈ 500, p95 ≈ 950.
        let mut h = std::collections::BTreeMap::new();
        for ms in 1..=1000 {
            *h.entry(bucket(ms as f64)).or_insert(0i64) += 1;
        }
        let h: Vec<(i32, i64)> = h.into_iter().collect();
        let (p50, p95) = (duration_percentile(&h, 0.5), duration_percentile(&h, 0.95));
        assert!((p50 - 500.0).abs() / 500.0 < 0.05, "{p50}");
        assert!((p95 - 950.0).abs() / 950.0 < 0.05, "{p95}");
        assert!(duration_percentile(&[(0, 3)], 0.95) < 1.0);
    }
}
