//! Submissions in the panel: the filtered list (task, student, verdict, dates), one submission
//! with its code and each test's verdict (shown as text: student code is hostile; a hidden
//! test's data is never stored, so only its verdict shows), the students' progress, and the
//! CSV export streamed as the rows arrive.

use super::page::{csv_field, csv_stream, layout, not_found, pager, render, tr, Pager, PER_PAGE};
use super::request::{Req, R};
use super::state::AdminState;
use crate::store::admins::Session;
use crate::store::task_stats::{self, Filter, Progress, SubmissionLine};
use crate::store::tasks as task_store;
use crate::tasks::TestResult;
use serde::Serialize;

#[derive(Serialize)]
struct ListPage {
    submissions: Vec<SubmissionLine>,
    task: String,
    user: String,
    verdict: String,
    from: String,
    to: String,
    verdicts: [&'static str; 7],
    pages: Pager,
}

pub async fn list(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    let date = |k: &str| {
        let v = req.q(k);
        if v.len() == 10 && v.chars().all(|ch| ch.is_ascii_digit() || ch == '-') {
            v.to_string()
        } else {
            String::new()
        }
    };
    let f = Filter {
        task: req.q("task").trim().to_string(),
        user: req.q("user").trim().parse::<i64>().ok(),
        verdict: req.q("verdict").to_string(),
        from: date("from"),
        to: date("to"),
    };
    let (_, total) = task_stats::list(&c, &f, 0, 0).await?;
    let (offset, pages) = pager(req, total, "/admin/submissions");
    let (submissions, _) = task_stats::list(&c, &f, offset, PER_PAGE).await?;
    let l = layout(&c, s, "submissions", tr(s, "admin.nav.submissions")).await?;
    let data = ListPage {
        submissions,
        task: f.task,
        user: req.q("user").to_string(),
        verdict: f.verdict,
        from: f.from,
        to: f.to,
        verdicts: [
            "accepted",
            "wrong_answer",
            "runtime_error",
            "compile_error",
            "timeout",
            "memory_limit",
            "internal_error",
        ],
        pages,
    };
    Ok(render(state, s, "submissions", &l, &data))
}

#[derive(Serialize)]
struct DetailPage {
    id: i64,
    task_id: i64,
    task: String,
    user_id: Option<i64>,
    language: String,
    status: String,
    verdict: String,
    passed: i32,
    total: i32,
    code: String,
    tests: Vec<TestResult>,
    compile_output: Option<String>,
}

pub async fn detail(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.reader.client().await?;
    let Some(sub) = task_store::submission(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    let l = layout(
        &c,
        s,
        "submissions",
        format!("{} #{id}", tr(s, "admin.submissions.one")),
    )
    .await?;
    let result = sub.result.unwrap_or_default();
    let data = DetailPage {
        id,
        task_id: sub.task_id,
        task: sub.task_slug,
        user_id: sub.user_id,
        language: sub.language,
        verdict: sub.verdict.unwrap_or_else(|| sub.status.clone()),
        status: sub.status,
        passed: sub.passed,
        total: sub.total,
        code: sub.code,
        tests: result.tests,
        compile_output: result.compile_output,
    };
    Ok(render(state, s, "submission", &l, &data))
}

#[derive(Serialize)]
struct ProgressPage {
    students: Vec<Progress>,
}

pub async fn progress(state: &AdminState, s: &Session) -> R {
    let c = state.reader.client().await?;
    let students = task_stats::progress(&c, 500).await?;
    let l = layout(&c, s, "submissions", tr(s, "admin.submissions.progress")).await?;
    Ok(render(state, s, "progress", &l, &ProgressPage { students }))
}

pub async fn csv(state: &AdminState) -> R {
    let c = state.reader.client().await?;
    let rows = task_stats::csv_rows(&c).await?;
    Ok(csv_stream(
        "submissions.csv",
        "id,created,task,user_id,language,verdict,passed,total\n",
        c,
        rows,
        |r| {
            format!(
                "{},{},{},{},{},{},{},{}\n",
                r.id,
                r.created,
                csv_field(&r.task),
                r.user_id,
                csv_field(&r.language),
                csv_field(&r.verdict),
                r.passed,
                r.total
            )
        },
    ))
}
