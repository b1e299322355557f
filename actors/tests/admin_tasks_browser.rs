//! A teacher writes a task in headless Chromium: the form, a test, the reference check in the
//! real sandbox, then publishing. Screenshots go to target/test-artifacts/admin-task-*.png.

mod common;
mod panel;

use common::{wait_ready, Driver, Env};
use panel::{create_admin, ROOT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teacher_writes_and_publishes_a_task_in_a_browser() {
    let env = Env::new("adm_taskui", &[]);
    assert!(create_admin(&env, ROOT.0, ROOT.1, false).status.success());
    let mut svc = env.spawn("admin", "taskui");
    wait_ready(&reqwest::Client::new(), &env.base()).await;
    let base = env.base();
    let d = Driver::start().await;
    d.open(&format!("{base}/admin/login")).await;
    d.type_into("input[name=username]", ROOT.0).await;
    d.type_into("input[name=password]", ROOT.1).await;
    d.click("form button").await;
    d.wait_for("the dashboard", "return document.querySelector('.cards') !== null")
        .await;

    d.open(&format!("{base}/admin/tasks/new")).await;
    for (field, text) in [
        ("input[name=slug]", "ui-double"),
        ("input[name=title_ru]", "Удвоить"),
        ("input[name=title_en]", "Double it"),
        ("textarea[name=statement_ru]", "Выведите <b>2n</b>."),
        ("textarea[name=statement_en]", "Print <b>2n</b>."),
        ("textarea[name=solution_python]", "print(2 * int(input()))"),
    ] {
        d.type_into(field, text).await;
    }
    d.screenshot("admin-task-1-new").await;
    d.click("form.form button").await;
    d.wait_for(
        "the task page",
        "return /\\/admin\\/tasks\\/\\d+$/.test(location.pathname) && document.getElementById('tests') !== null",
    )
    .await;

    d.type_into("form[action$='/tests'] textarea[name=stdin]", "21").await;
    d.type_into("form[action$='/tests'] textarea[name=expected]", "42")
        .await;
    d.click("form[action$='/tests'] button").await;
    d.wait_for(
        "the test listed",
        "return document.querySelectorAll('form[action$=\"/save\"]').length === 1",
    )
    .await;

    d.click("form[action$='/validate'] button").await;
    d.wait_for(
        "the references checked",
        "return document.querySelector('tr.ref-python') !== null && document.body.innerText.includes('accepted (1/1)')",
    )
    .await;
    d.screenshot("admin-task-2-validated").await;
    d.click("form[action$='/publish'] button").await;
    d.wait_for(
        "published",
        "return document.querySelector('form[action$=\"/unpublish\"]') !== null",
    )
    .await;
    d.screenshot("admin-task-3-published").await;
    assert_eq!(
        env.psql("SELECT published, validated_at IS NOT NULL FROM tasks WHERE slug = 'ui-double'"),
        "t|t"
    );
    drop(d);
    common::stop(&mut svc);
}
