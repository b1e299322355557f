//! The check log: the filtered list (totals from the daily aggregates where they suffice), one
//! check with its code, output and explanation (all shown as text: they are hostile), and the
//! CSV export.

use super::page::{choices, csv_field, csv_stream, layout, not_found, pager, render, tr, Choice, Pager, PER_PAGE};
use super::request::{Req, R};
use super::state::AdminState;
use crate::store::admins::Session;
use crate::store::check_log::{self, CheckLine, Filter};
use serde::Serialize;

/// Lists of big tables count matches up to this many.
const COUNT_CAP: i64 = 10_001;
const SOURCES: [&str; 4] = ["registry", "ai", "cache", "none"];

#[derive(Serialize)]
struct ListPage {
    checks: Vec<CheckLine>,
    verdicts: Vec<Choice>,
    languages: Vec<Choice>,
    sources: Vec<Choice>,
    user: String,
    from: Option<String>,
    to: Option<String>,
    pages: Pager,
}

pub async fn list(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    let date = |k: &str| {
        let v = req.q(k);
        (v.len() == 10 && v.chars().all(|ch| ch.is_ascii_digit() || ch == '-')).then(|| v.to_string())
    };
    let f = Filter {
        verdict: req.q("verdict").to_string(),
        language: req.q("language").to_string(),
        source: req.q("source").to_string(),
        user: req.q("user").trim().parse::<i64>().ok(),
        from: date("from"),
        to: date("to"),
    };
    // Counting millions of rows would dominate the page: without user or source filters the
    // total comes from the daily aggregates (plus the few unfinished checks); otherwise it is
    // counted up to COUNT_CAP, like Django admin's show_full_result_count = False.
    let total = if f.user.is_none() && f.source.is_empty() {
        check_log::total_from_aggregates(&c, &f).await?
    } else {
        check_log::count_capped(&c, &f, COUNT_CAP).await?
    };
    let (offset, mut pages) = pager(req, total, "/admin/checks");
    if total >= COUNT_CAP {
        pages.total = format!("{}+", COUNT_CAP - 1);
    }
    let checks = check_log::page(&c, &f, offset, PER_PAGE).await?;
    let (verdicts, languages) = check_log::facets(&c).await?;
    let sources = SOURCES
        .iter()
        .map(|v| Choice {
            value: v.to_string(),
            count: None,
            on: *v == f.source,
        })
        .collect();
    let l = layout(&c, s, "checks", tr(s, "admin.nav.checks")).await?;
    let data = ListPage {
        checks,
        verdicts: choices(verdicts, &f.verdict),
        languages: choices(languages, &f.language),
        sources,
        user: req.q("user").to_string(),
        from: f.from,
        to: f.to,
        pages,
    };
    Ok(render(state, s, "checks", &l, &data))
}

pub async fn csv(state: &AdminState) -> R {
    let c = state.reader.client().await?;
    let rows = check_log::csv_rows(&c).await?;
    Ok(csv_stream(
        "checks.csv",
        "id,created,source,user_id,language,verdict,explanation_source,duration_ms\n",
        c,
        rows,
        |r| {
            format!(
                "{},{},{},{},{},{},{},{}\n",
                r.id,
                r.created,
                csv_field(&r.source),
                r.user_id,
                csv_field(&r.language),
                csv_field(&r.verdict),
                csv_field(&r.explanation_source),
                r.duration_ms
            )
        },
    ))
}

#[derive(Serialize)]
struct CheckView {
    id: i64,
    language: String,
    verdict: String,
    exit_code: Option<i64>,
    signal: Option<String>,
    user_id: Option<i64>,
    source: String,
    created: String,
    started: String,
    finished: String,
    duration: Option<i64>,
    code: String,
    stdin: String,
    stdout: Option<String>,
    stderr: Option<String>,
    explanation: Option<ExplanationView>,
}

/// The explanation's texts (a field the stored result lacks shows empty).
#[derive(Serialize)]
struct ExplanationView {
    source: String,
    /// The registry entry that explained it, linked from the page.
    slug: String,
    title: String,
    text: String,
    hint: String,
}

impl ExplanationView {
    fn from_json(v: &serde_json::Value) -> ExplanationView {
        let field = |k: &str| match &v[k] {
            serde_json::Value::String(t) => t.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        ExplanationView {
            source: field("source"),
            slug: field("slug"),
            title: field("title"),
            text: field("text"),
            hint: field("hint"),
        }
    }
}

#[derive(Serialize)]
struct DetailPage {
    check: CheckView,
}

pub async fn detail(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    let Some(row) = check_log::get(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    let locale = super::page::locale_of(s);
    let ts = |t: Option<std::time::SystemTime>| t.map(|t| crate::time::human(t, locale)).unwrap_or_default();
    let check = CheckView {
        id: row.id,
        language: row.language,
        verdict: row.verdict,
        exit_code: row.exit_code,
        signal: row.signal,
        user_id: row.user_id,
        source: row.source,
        created: crate::time::human(row.created_at, locale),
        started: ts(row.started_at),
        finished: ts(row.finished_at),
        duration: row.duration_ms,
        code: row.code,
        stdin: String::from_utf8_lossy(&row.stdin).into_owned(),
        stdout: row.stdout,
        stderr: row.stderr,
        explanation: row.explanation.as_ref().map(ExplanationView::from_json),
    };
    let l = layout(
        &c,
        s,
        "checks",
        crate::i18n::tf(
            super::page::locale_of(s),
            "admin.check.title_one",
            &[("id", &id.to_string())],
        ),
    )
    .await?;
    Ok(render(state, s, "check", &l, &DetailPage { check }))
}
