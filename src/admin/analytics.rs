//! The dashboard and the analytics page. Both read through the replica when one is set, and
//! every number comes from a bounded window or the daily aggregates (`store::stats`).

use super::charts::{ranked, stacked};
use super::page::{layout, render, tr};
use super::request::R;
use super::state::AdminState;
use crate::store::admins::Session;
use crate::store::broadcasts::Broadcast;
use crate::store::stats::{self, Dashboard, Timing, VerdictCount, Votes};
use serde::Serialize;

const VERDICTS: [&str; 7] = [
    "ok",
    "runtime_error",
    "compile_error",
    "timeout",
    "memory_limit",
    "stopped",
    "internal_error",
];

#[derive(Serialize)]
struct DashboardPage {
    stats: Dashboard,
    verdicts: Vec<VerdictCount>,
    /// Today (UTC), for the cards' links to today's checks.
    today: String,
}

pub async fn dashboard(state: &AdminState, s: &Session) -> R {
    let c = state.reader.client().await?;
    // Totals come from the daily aggregates (checks_daily), not from a scan of `checks`.
    let data = DashboardPage {
        stats: stats::dashboard(&c).await?,
        verdicts: stats::verdicts(&c).await?,
        today: crate::time::rfc3339(std::time::SystemTime::now())[..10].to_string(),
    };
    let l = layout(&c, s, "dashboard", tr(s, "admin.nav.dashboard")).await?;
    Ok(render(state, s, "dashboard", &l, &data))
}

#[derive(Serialize)]
struct SourcesView {
    registry: i64,
    ai: i64,
    cache: i64,
    none: i64,
    registry_pct: String,
    ai_pct: String,
    none_pct: String,
}

#[derive(Serialize)]
struct AnalyticsPage {
    checks_chart: String,
    active_chart: String,
    top_chart: String,
    sources: SourcesView,
    timing: Timing,
    votes: Votes,
    broadcasts: Vec<Broadcast>,
    /// Fix rate by source, the entries to rewrite first (`admin::efficacy`).
    efficacy: super::efficacy::AnalyticsSection,
}

pub async fn page(state: &AdminState, s: &Session) -> R {
    let c = state.reader.client().await?;
    // Checks per day by verdict, and active users per day, over 30 days (every day shown).
    let mut by_day: Vec<(String, Vec<f64>)> = Vec::new();
    for (day, verdict, n) in stats::checks_per_day(&c, &VERDICTS).await? {
        if by_day.last().map(|(d, _)| d != &day).unwrap_or(true) {
            by_day.push((day.clone(), vec![0.0; VERDICTS.len()]));
        }
        if let (Some(i), Some(last)) = (VERDICTS.iter().position(|v| *v == verdict), by_day.last_mut()) {
            last.1[i] = n as f64;
        }
    }
    let active: Vec<(String, Vec<f64>)> = stats::active_per_day(&c)
        .await?
        .into_iter()
        .map(|(d, n)| (d, vec![n as f64]))
        .collect();
    let top: Vec<(String, f64)> = stats::top_errors(&c)
        .await?
        .into_iter()
        .map(|(l, n)| (l, n as f64))
        .collect();
    let verdict_names: Vec<String> = VERDICTS
        .iter()
        .map(|v| tr(s, &format!("admin.code.verdict.{v}")))
        .collect();
    let src = stats::sources(&c).await?;
    let total = (src.registry + src.ai + src.cache + src.none).max(1) as f64;
    let pct = |n: i64| format!("{:.0}%", n as f64 * 100.0 / total);
    let data = AnalyticsPage {
        checks_chart: stacked(&by_day, &verdict_names.iter().map(String::as_str).collect::<Vec<_>>()),
        active_chart: stacked(&active, &[&tr(s, "admin.analytics.active")]),
        top_chart: ranked(&top),
        sources: SourcesView {
            registry: src.registry,
            ai: src.ai,
            cache: src.cache,
            none: src.none,
            registry_pct: pct(src.registry),
            ai_pct: pct(src.ai + src.cache),
            none_pct: pct(src.none),
        },
        timing: stats::timing(&c).await?,
        votes: stats::votes(&c).await?,
        broadcasts: crate::store::broadcasts::list(&c, 5).await?,
        efficacy: super::efficacy::analytics_section(&c, s).await?,
    };
    let l = layout(&c, s, "analytics", tr(s, "admin.nav.analytics")).await?;
    Ok(render(state, s, "analytics", &l, &data))
}
