//! Tasks in the panel: the list, the task page (its form, its tests, its statistics) and what
//! a teacher does with a task as a whole: save, duplicate, publish. A form with mistakes comes
//! back as typed with a message for each and saves nothing; a task without tests, or whose
//! reference solutions have not passed validation (`task_tests::validate`), is not published.

use super::page::{form_status, layout, message, not_found, render_status, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
pub(super) use super::task_form::TaskForm;
use super::task_tests::RefResult;
use crate::store::admins::{self, Session};
use crate::store::task_admin::{self, TaskRow};
use crate::store::task_stats::{self, TaskStats};
use crate::store::tasks as task_store;
use crate::tasks::catalogue::TOPICS;
use crate::tasks::{Task, TaskTest};
use serde::Serialize;
use warp::http::StatusCode;

#[derive(Serialize)]
struct ListPage {
    tasks: Vec<TaskRow>,
}

pub async fn list(state: &AdminState, s: &Session) -> R {
    let c = state.reader.client().await?;
    let tasks = task_admin::list(&c).await?;
    let l = layout(&c, s, "tasks", tr(s, "admin.nav.tasks")).await?;
    Ok(render_status(
        state,
        s,
        "tasks",
        &l,
        &ListPage { tasks },
        StatusCode::OK,
    ))
}

/// What the task page shows besides the form.
#[derive(Default)]
pub(super) struct Extras {
    pub errors: Vec<String>,
    pub notice: Option<String>,
    pub validation: Vec<RefResult>,
}

#[derive(Serialize)]
struct TaskPage {
    form: TaskForm,
    topics: [&'static str; 6],
    checkers: [&'static str; 4],
    tests: Vec<TaskTest>,
    validated: bool,
    stats: Option<TaskStats>,
    errors: Vec<String>,
    notice: Option<String>,
    validation: Vec<RefResult>,
    max_expected: usize,
}

pub(super) async fn page(state: &AdminState, s: &Session, form: TaskForm, x: Extras) -> R {
    let c = state.store.client().await?;
    let (tests, validated, stats) = if form.id > 0 {
        (
            task_store::tests(&c, form.id).await?,
            task_admin::is_validated(&c, form.id).await?,
            Some(task_stats::task_stats(&c, form.id).await?),
        )
    } else {
        (vec![], false, None)
    };
    let title = if form.id > 0 {
        format!("{} · {}", tr(s, "admin.tasks.task"), form.slug)
    } else {
        tr(s, "admin.tasks.new")
    };
    let l = layout(&c, s, "tasks", title).await?;
    let status = form_status(&x.errors);
    let data = TaskPage {
        form,
        topics: TOPICS,
        checkers: ["lines", "exact", "tokens", "float"],
        tests,
        validated,
        stats,
        errors: x.errors,
        notice: x.notice,
        validation: x.validation,
        max_expected: crate::tasks::catalogue::MAX_EXPECTED_BYTES,
    };
    Ok(render_status(state, s, "task", &l, &data, status))
}

pub async fn new_form(state: &AdminState, s: &Session) -> R {
    let form = TaskForm {
        topic: "io".into(),
        position: "0".into(),
        checker: "lines".into(),
        float_epsilon: "0.000001".into(),
        stop_at_first_failure: true,
        ..Default::default()
    };
    page(state, s, form, Extras::default()).await
}

/// The task `id` names, if there is one.
pub(super) async fn find(state: &AdminState, id: &str) -> Result<Option<Task>, crate::store::StoreError> {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(None);
    };
    task_store::by_id(&state.store.client().await?, id).await
}

pub async fn edit_form(state: &AdminState, s: &Session, id: &str) -> R {
    match find(state, id).await? {
        Some(t) => page(state, s, TaskForm::of(&t), Extras::default()).await,
        None => Ok(not_found(state, s)),
    }
}

/// Shows the stored task with a message (after an action that changed nothing).
pub(super) async fn refuse(state: &AdminState, s: &Session, t: &Task, key: &str) -> R {
    let x = Extras {
        errors: vec![tr(s, key)],
        ..Default::default()
    };
    page(state, s, TaskForm::of(t), x).await
}

pub async fn save(state: &AdminState, req: &Req, s: &Session, id: Option<&str>) -> R {
    let before = match id {
        Some(id) => match find(state, id).await? {
            Some(t) => Some(t),
            None => return Ok(not_found(state, s)),
        },
        None => None,
    };
    let base = before.clone().unwrap_or_default();
    let mut form = TaskForm::from_req(req, base.id);
    form.published = base.published;
    let task = match form.to_task(s, &base) {
        Ok(t) => t,
        Err(errors) => {
            return page(
                state,
                s,
                form,
                Extras {
                    errors,
                    ..Default::default()
                },
            )
            .await
        }
    };
    let c = state.store.client().await?;
    if task_admin::slug_taken(&c, &task.slug, before.as_ref().map(|b| b.id)).await? {
        let errors = vec![tr(s, "admin.tasks.err_slug_taken")];
        return page(
            state,
            s,
            form,
            Extras {
                errors,
                ..Default::default()
            },
        )
        .await;
    }
    let Some(new_id) = task_admin::save(&c, &task).await? else {
        return Ok(not_found(state, s));
    };
    let action = if before.is_some() { "task.update" } else { "task.create" };
    let json = |t: &Task| serde_json::to_value(TaskForm::of(t)).ok();
    admins::audit(
        &c,
        &s.admin,
        action,
        "task",
        &new_id.to_string(),
        before.as_ref().and_then(json),
        json(&task),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/tasks/{new_id}")))
}

/// `publish`, `unpublish`, `duplicate`, and the tests' `add`/`validate` (in `task_tests`).
pub async fn act(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Some(task) = find(state, id).await? else {
        return Ok(not_found(state, s));
    };
    let mut c = state.store.client().await?;
    let (audit_action, after) = match action {
        "publish" => {
            if task_store::tests(&c, task.id).await?.is_empty() {
                return refuse(state, s, &task, "admin.tasks.err_publish_no_tests").await;
            }
            if !task_admin::is_validated(&c, task.id).await? {
                return refuse(state, s, &task, "admin.tasks.err_publish_unvalidated").await;
            }
            task_admin::set_published(&c, task.id, true).await?;
            ("task.publish", serde_json::json!({"published": true}))
        }
        "unpublish" => {
            task_admin::set_published(&c, task.id, false).await?;
            ("task.unpublish", serde_json::json!({"published": false}))
        }
        "duplicate" => {
            let mut slug = format!("{}-copy", task.slug);
            slug.truncate(64);
            if task_admin::slug_taken(&c, &slug, None).await? {
                return refuse(state, s, &task, "admin.tasks.err_copy_exists").await;
            }
            let Some(new) = task_admin::duplicate(&mut c, task.id, &slug).await? else {
                return Ok(not_found(state, s));
            };
            let after = serde_json::json!({"copy_of": task.id, "slug": slug});
            admins::audit(
                &c,
                &s.admin,
                "task.duplicate",
                "task",
                &new.to_string(),
                None,
                Some(after),
                &req.ip,
            )
            .await?;
            return Ok(redirect(&format!("/admin/tasks/{new}")));
        }
        "tests" => return super::task_tests::add(state, req, s, &task).await,
        "import" => return super::task_tests::import(state, req, s, &task).await,
        "validate" => return super::task_tests::validate(state, req, s, &task).await,
        _ => {
            return Ok(message(
                state,
                s,
                "admin.not_found",
                "/admin/tasks",
                StatusCode::NOT_FOUND,
            ))
        }
    };
    let before = serde_json::json!({"published": task.published});
    admins::audit(
        &c,
        &s.admin,
        audit_action,
        "task",
        &task.id.to_string(),
        Some(before),
        Some(after),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/tasks/{}", task.id)))
}
