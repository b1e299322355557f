//! Analytics: inline SVG charts drawn on the server (no JavaScript). Every query is bounded to a
//! recent window and served by an index on `created_at`.

use super::pages::{base, page, tr};
use super::{AdminState, R};
use crate::store::admins::Session;
use handlebars::html_escape;
use serde_json::json;

const COLORS: [&str; 6] = ["#2a6fb0", "#b3261e", "#c77c02", "#6b4fbb", "#1f7a3a", "#6b7785"];

/// Stacked bars, one per day; `series` names the stacks.
fn stacked(days: &[(String, Vec<f64>)], series: &[&str]) -> String {
    let (w, h, pad) = (720.0, 200.0, 28.0);
    let max = days
        .iter()
        .map(|(_, v)| v.iter().sum::<f64>())
        .fold(0.0, f64::max)
        .max(1.0);
    let n = days.len().max(1) as f64;
    let bw = (w - pad) / n;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        h + 40.0
    );
    svg.push_str(&format!(
        "<text x=\"0\" y=\"12\" class=\"axis\">{}</text><line x1=\"{pad}\" y1=\"{h}\" x2=\"{w}\" y2=\"{h}\" class=\"base\"/>",
        max as i64
    ));
    for (i, (day, values)) in days.iter().enumerate() {
        let x = pad + i as f64 * bw;
        let mut y = h;
        for (j, v) in values.iter().enumerate() {
            let bh = v / max * (h - 16.0);
            if bh > 0.0 {
                y -= bh;
                svg.push_str(&format!(
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"{}\"><title>{} {}: {}</title></rect>",
                    x + 1.0,
                    (bw - 2.0).max(1.0),
                    COLORS[j % COLORS.len()],
                    html_escape(day),
                    html_escape(series.get(j).copied().unwrap_or("")),
                    *v as i64
                ));
            }
        }
        if i % 7 == 0 || i + 1 == days.len() {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{}\" class=\"axis\">{}</text>",
                x,
                h + 14.0,
                html_escape(day.get(5..).unwrap_or(day))
            ));
        }
    }
    for (j, name) in series.iter().enumerate() {
        let x = pad + j as f64 * 120.0;
        svg.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>",
            h + 22.0,
            COLORS[j % COLORS.len()],
            x + 14.0,
            h + 31.0,
            html_escape(name)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars with labels.
fn ranked(items: &[(String, f64)]) -> String {
    let (w, row) = (720.0, 22.0);
    let max = items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {}\" class=\"chart\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
        (items.len().max(1) as f64) * row
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let y = i as f64 * row;
        let bw = v / max * (w - 260.0);
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{:.1}\" class=\"axis\">{}</text><rect x=\"220\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"axis\">{}</text>",
            y + 15.0,
            html_escape(&label.chars().take(34).collect::<String>()),
            y + 4.0,
            row - 8.0,
            COLORS[0],
            226.0 + bw,
            y + 15.0,
            *v as i64
        ));
    }
    svg.push_str("</svg>");
    svg
}

const VERDICTS: [&str; 6] = [
    "ok",
    "runtime_error",
    "compile_error",
    "timeout",
    "memory_limit",
    "internal_error",
];

pub async fn page_(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    // Checks per day by verdict, and active users per day, over 30 days (every day shown).
    // From the daily aggregates (checks_daily, user_days): no scan of `checks`.
    let rows = c
        .query(
            "SELECT to_char(d, 'YYYY-MM-DD'), v.verdict, COALESCE(sum(k.n), 0)::bigint
               FROM generate_series(date_trunc('day', now()) - interval '29 days', date_trunc('day', now()), interval '1 day') d
               CROSS JOIN unnest($1::text[]) AS v(verdict)
               LEFT JOIN checks_daily k ON k.day = d::date AND k.verdict = v.verdict
              GROUP BY 1, 2 ORDER BY 1",
            &[&VERDICTS.iter().map(|v| v.to_string()).collect::<Vec<_>>()],
        )
        .await?;
    let mut by_day: Vec<(String, Vec<f64>)> = Vec::new();
    for r in &rows {
        let (day, verdict, n): (String, String, i64) = (r.get(0), r.get(1), r.get(2));
        if by_day.last().map(|(d, _)| d != &day).unwrap_or(true) {
            by_day.push((day.clone(), vec![0.0; VERDICTS.len()]));
        }
        if let (Some(i), Some(last)) = (VERDICTS.iter().position(|v| *v == verdict), by_day.last_mut()) {
            last.1[i] = n as f64;
        }
    }
    let active: Vec<(String, Vec<f64>)> = c
        .query(
            "SELECT to_char(d, 'YYYY-MM-DD'), (SELECT count(*) FROM user_days u WHERE u.day = d::date)
               FROM generate_series(date_trunc('day', now()) - interval '29 days', date_trunc('day', now()), interval '1 day') d
              ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), vec![r.get::<_, i64>(1) as f64]))
        .collect();
    let top: Vec<(String, f64)> = c
        .query(
            "SELECT language || ' · ' || error_type, count(*) FROM explanation_events
              WHERE created_at > now() - interval '30 days' GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1) as f64))
        .collect();
    let sources = c
        .query_one(
            "SELECT count(*) FILTER (WHERE source = 'registry'), count(*) FILTER (WHERE source = 'ai'),
                    count(*) FILTER (WHERE source = 'cache'), count(*) FILTER (WHERE source = 'none')
               FROM explanation_events WHERE created_at > now() - interval '30 days'",
            &[],
        )
        .await?;
    let (registry, ai, cache, none): (i64, i64, i64, i64) =
        (sources.get(0), sources.get(1), sources.get(2), sources.get(3));
    let total = (registry + ai + cache + none).max(1) as f64;
    let pct = |n: i64| format!("{:.0}%", n as f64 * 100.0 / total);
    let timing = c
        .query_one(
            "SELECT COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY (result->>'duration_ms')::float), 0),
                    COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY (result->>'duration_ms')::float), 0),
                    count(*)
               FROM checks WHERE status = 'done' AND created_at > now() - interval '7 days' AND result ? 'duration_ms'",
            &[],
        )
        .await?;
    let votes = c
        .query_one(
            "SELECT count(*) FILTER (WHERE vote > 0 AND source = 'registry'), count(*) FILTER (WHERE vote < 0 AND source = 'registry'),
                    count(*) FILTER (WHERE vote > 0 AND source <> 'registry'), count(*) FILTER (WHERE vote < 0 AND source <> 'registry')
               FROM feedback",
            &[],
        )
        .await?;
    let broadcasts = crate::store::broadcasts::list(&c, 5).await?;
    let mut m = base(&c, s, "analytics", tr(s, "admin.nav.analytics")).await?;
    m.insert("checks_chart".into(), json!(stacked(&by_day, &VERDICTS)));
    m.insert(
        "active_chart".into(),
        json!(stacked(&active, &[&tr(s, "admin.analytics.active")])),
    );
    m.insert("top_chart".into(), json!(ranked(&top)));
    m.insert(
        "sources".into(),
        json!({"registry": registry, "ai": ai, "cache": cache, "none": none,
               "registry_pct": pct(registry), "ai_pct": pct(ai + cache), "none_pct": pct(none)}),
    );
    m.insert(
        "timing".into(),
        json!({"p50": timing.get::<_, f64>(0).round(), "p95": timing.get::<_, f64>(1).round(), "n": timing.get::<_, i64>(2)}),
    );
    m.insert(
        "votes".into(),
        json!({"registry_up": votes.get::<_, i64>(0), "registry_down": votes.get::<_, i64>(1),
               "ai_up": votes.get::<_, i64>(2), "ai_down": votes.get::<_, i64>(3)}),
    );
    m.insert("broadcasts".into(), json!(broadcasts));
    Ok(page(state, s, "analytics", m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_escaped_labels() {
        let svg = stacked(&[("2026-11-01".into(), vec![3.0, 1.0])], &["ok", "<b>"]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        let svg = ranked(&[("python · <Error>".into(), 5.0)]);
        assert!(svg.contains("&lt;Error&gt;"));
    }
}
