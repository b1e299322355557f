//! A task's tests in the panel (add, edit, delete, move up or down, hide or show) and the
//! validation of its reference solutions: each graded against every test in the real sandbox,
//! the way a student's submission is. Only when every reference passes every test is the task
//! marked validated, and only a validated task can be published.

use super::page::{not_found, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use super::tasks::{find, page, refuse, Extras, TaskForm};
use super::zip;
use crate::registry::Locale;
use crate::store::admins::{self, Session};
use crate::store::task_admin;
use crate::store::tasks as task_store;
use crate::tasks::catalogue::{MAX_EXPECTED_BYTES, MAX_STDIN_BYTES};
use crate::tasks::grade::{grade, Submission};
use crate::tasks::{SubmissionVerdict, Task};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

/// A test's input and expected output from the form, or the message key of what is wrong.
fn test_data(req: &Req) -> Result<(String, String), &'static str> {
    let stdin = req.f("stdin").replace("\r\n", "\n");
    let expected = req.f("expected").replace("\r\n", "\n");
    if expected.trim().is_empty() {
        return Err("admin.tasks.err_expected_empty");
    }
    if expected.len() > MAX_EXPECTED_BYTES {
        return Err("admin.tasks.err_expected_size");
    }
    if stdin.len() > MAX_STDIN_BYTES {
        return Err("admin.tasks.err_stdin_size");
    }
    Ok((stdin, expected))
}

/// POST `/admin/tasks/{id}/tests`: appends one test.
pub(super) async fn add(state: &AdminState, req: &Req, s: &Session, task: &Task) -> R {
    let (stdin, expected) = match test_data(req) {
        Ok(d) => d,
        Err(key) => return refuse(state, s, task, key).await,
    };
    let hidden = req.f("hidden") == "1";
    let mut c = state.store.client().await?;
    task_admin::add_tests(&mut c, task.id, &[(stdin.clone(), expected.clone(), hidden)]).await?;
    let after = json!({"stdin": stdin, "expected": expected, "hidden": hidden});
    admins::audit(
        &c,
        &s.admin,
        "task.test_add",
        "task",
        &task.id.to_string(),
        None,
        Some(after),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/tasks/{}#tests", task.id)))
}

/// POST `/admin/tasks/{id}/import`: appends the tests of a zip of `N.in`/`N.out` pairs (a
/// missing `N.in` is an empty input), all or none.
pub(super) async fn import(state: &AdminState, req: &Req, s: &Session, task: &Task) -> R {
    let tests = match zip_tests(req, s) {
        Ok(t) => t,
        Err(errors) => {
            return page(
                state,
                s,
                TaskForm::of(task),
                Extras {
                    errors,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let hidden = req.f("hidden") == "1";
    let rows: Vec<_> = tests.iter().map(|(_, i, o)| (i.clone(), o.clone(), hidden)).collect();
    let mut c = state.store.client().await?;
    task_admin::add_tests(&mut c, task.id, &rows).await?;
    let numbers: Vec<u32> = tests.iter().map(|(n, _, _)| *n).collect();
    let after = json!({"imported": numbers, "hidden": hidden});
    admins::audit(
        &c,
        &s.admin,
        "task.test_import",
        "task",
        &task.id.to_string(),
        None,
        Some(after),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/tasks/{}#tests", task.id)))
}

/// The uploaded archive's tests in number order, or every problem with it.
fn zip_tests(req: &Req, s: &Session) -> Result<Vec<(u32, String, String)>, Vec<String>> {
    let Some(file) = req.files.iter().find(|f| f.field == "zip" && !f.data.is_empty()) else {
        return Err(vec![tr(s, "admin.tasks.err_zip_missing")]);
    };
    let entries = zip::entries(&file.data, MAX_EXPECTED_BYTES.max(MAX_STDIN_BYTES))
        .map_err(|e| vec![format!("{} ({e})", tr(s, "admin.tasks.err_zip_bad"))])?;
    let mut errors = Vec::new();
    let mut pairs: BTreeMap<u32, (Option<String>, Option<String>)> = BTreeMap::new();
    for e in entries {
        let base = e.name.rsplit('/').next().unwrap_or_default();
        if e.name.starts_with("__MACOSX/") || base.starts_with('.') {
            continue; // what archivers add beside the files
        }
        let parsed = base
            .rsplit_once('.')
            .and_then(|(n, ext)| Some((n.parse::<u32>().ok().filter(|n| *n > 0)?, ext)))
            .filter(|(_, ext)| *ext == "in" || *ext == "out");
        let Some((n, ext)) = parsed else {
            errors.push(format!("{}: {}", tr(s, "admin.tasks.err_zip_name"), e.name));
            continue;
        };
        let Some(text) = String::from_utf8(e.data).ok().filter(|t| !t.contains('\0')) else {
            errors.push(format!("{}: {}", tr(s, "admin.tasks.err_zip_binary"), e.name));
            continue;
        };
        let text = text.replace("\r\n", "\n");
        let slot = pairs.entry(n).or_default();
        let place = if ext == "in" { &mut slot.0 } else { &mut slot.1 };
        if place.replace(text).is_some() {
            errors.push(format!("{}: {}", tr(s, "admin.tasks.err_zip_twice"), e.name));
        }
    }
    let mut tests = Vec::new();
    for (n, (input, output)) in pairs {
        match (input, output) {
            (Some(i), Some(o)) if !o.trim().is_empty() => tests.push((n, i, o)),
            _ => errors.push(format!("{}: {n}.in / {n}.out", tr(s, "admin.tasks.err_zip_unpaired"))),
        }
    }
    if tests.is_empty() && errors.is_empty() {
        errors.push(tr(s, "admin.tasks.err_zip_empty"));
    }
    if errors.is_empty() {
        Ok(tests)
    } else {
        Err(errors)
    }
}

/// POST `/admin/tasks/{id}/tests/{test}/{save|delete|up|down|hide}`.
pub async fn act(state: &AdminState, req: &Req, s: &Session, id: &str, test: &str, action: &str) -> R {
    let Some(task) = find(state, id).await? else {
        return Ok(not_found(state, s));
    };
    let Ok(test_id) = test.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let mut c = state.store.client().await?;
    let tests = task_store::tests(&c, task.id).await?;
    let Some(before) = tests.iter().find(|t| t.id == test_id) else {
        return Ok(not_found(state, s));
    };
    let before_v = json!({"position": before.position, "stdin": before.stdin, "expected": before.expected, "hidden": before.hidden});
    let after = match action {
        "save" => {
            let (stdin, expected) = match test_data(req) {
                Ok(d) => d,
                Err(key) => return refuse(state, s, &task, key).await,
            };
            task_admin::update_test(&c, task.id, test_id, &stdin, &expected).await?;
            Some(json!({"position": before.position, "stdin": stdin, "expected": expected, "hidden": before.hidden}))
        }
        "delete" => {
            task_admin::delete_test(&mut c, task.id, test_id).await?;
            None
        }
        "up" | "down" => {
            if !task_admin::move_test(&mut c, task.id, test_id, action == "up").await? {
                return Ok(redirect(&format!("/admin/tasks/{}#tests", task.id)));
            }
            let to = before.position + if action == "up" { -1 } else { 1 };
            Some(json!({"position": to}))
        }
        "hide" => {
            task_admin::toggle_hidden(&c, task.id, test_id).await?;
            Some(json!({"hidden": !before.hidden}))
        }
        _ => return Ok(not_found(state, s)),
    };
    admins::audit(
        &c,
        &s.admin,
        &format!("task.test_{action}"),
        "task_test",
        &test_id.to_string(),
        Some(before_v),
        after,
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/tasks/{}#tests", task.id)))
}

/// One reference solution's outcome, as the task page shows it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct RefResult {
    language: String,
    verdict: String,
    accepted: bool,
    passed: i32,
    total: i32,
    tests: Vec<RefTest>,
    compile_output: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct RefTest {
    n: i32,
    verdict: String,
    passed: bool,
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// POST `/admin/tasks/{id}/validate`: grades every reference against every test.
pub(super) async fn validate(state: &AdminState, req: &Req, s: &Session, task: &Task) -> R {
    let c = state.store.client().await?;
    let tests = task_store::tests(&c, task.id).await?;
    if tests.is_empty() {
        return refuse(state, s, task, "admin.tasks.err_publish_no_tests").await;
    }
    if task.solutions.is_empty() {
        return refuse(state, s, task, "admin.tasks.err_no_solutions").await;
    }
    let Some(sandbox) = state.sandbox().await else {
        return refuse(state, s, task, "admin.tasks.err_no_sandbox").await;
    };
    // Every test runs, so the teacher sees each one's verdict, not only the first failure.
    let whole = Task {
        stop_at_first_failure: false,
        ..task.clone()
    };
    let mut results = Vec::new();
    for (language, code) in &task.solutions {
        let sub = Submission {
            task: &whole,
            tests: &tests,
            language,
            code,
            locale: Locale::Ru,
            id: None,
        };
        let r = match grade(&sandbox, None, &sub, 1, |_, _| {}).await {
            Ok(g) => RefResult {
                language: language.clone(),
                verdict: g.verdict.as_str().to_string(),
                accepted: g.verdict == SubmissionVerdict::Accepted,
                passed: g.passed,
                total: g.total,
                tests: g
                    .tests
                    .iter()
                    .map(|t| RefTest {
                        n: t.n,
                        verdict: t.verdict.map(|v| name(&v)).unwrap_or_default(),
                        passed: t.verdict == Some(crate::tasks::TestVerdict::Passed),
                    })
                    .collect(),
                compile_output: g.compile_output,
            },
            Err(e) => RefResult {
                language: language.clone(),
                verdict: SubmissionVerdict::InternalError.as_str().to_string(),
                accepted: false,
                passed: 0,
                total: tests.len() as i32,
                tests: vec![],
                compile_output: Some(e.to_string()),
            },
        };
        results.push(r);
    }
    // The runs' containers are removed in the background: wait for that before answering, so
    // the panel's process leaves none behind when it stops.
    sandbox.settle().await;
    let ok = results.iter().all(|r| r.accepted);
    task_store::set_validated(&c, task.id, ok).await?;
    let summary: Vec<_> = results
        .iter()
        .map(|r| json!({"language": r.language, "verdict": r.verdict, "passed": r.passed, "total": r.total}))
        .collect();
    admins::audit(
        &c,
        &s.admin,
        "task.validate",
        "task",
        &task.id.to_string(),
        None,
        Some(json!({"validated": ok, "references": summary})),
        &req.ip,
    )
    .await?;
    let key = if ok {
        "admin.tasks.validated_ok"
    } else {
        "admin.tasks.validated_failed"
    };
    let x = Extras {
        notice: Some(tr(s, key)),
        validation: results,
        ..Default::default()
    };
    page(state, s, TaskForm::of(task), x).await
}
