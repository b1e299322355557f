//! A teacher writes a task in headless Chromium: the form, a test, the reference check in the
//! real sandbox, then publishing. Screenshots go to target/test-artifacts/admin-task-*.png.

mod common;
mod panel;

use common::{wait_ready, Driver, Env};
use panel::{create_admin, zip, ROOT};

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

    // Two more tests from a zip of N.in/N.out pairs, uploaded through the file input.
    let archive = std::env::temp_dir().join(format!("{}-tests.zip", env.db));
    std::fs::write(
        &archive,
        zip(&[
            ("2.in", b"0\n"),
            ("2.out", b"0\n"),
            ("3.in", b"-5\n"),
            ("3.out", b"-10\n"),
        ]),
    )
    .unwrap();
    let input = d
        .find("form[action$='/import'] input[type=file]")
        .await
        .expect("the zip input");
    d.cmd(
        &format!("element/{input}/value"),
        serde_json::json!({"text": archive.display().to_string()}),
    )
    .await;
    d.click("form[action$='/import'] button").await;
    d.wait_for(
        "the imported tests listed",
        "return document.querySelectorAll('form[action$=\"/save\"]').length === 3",
    )
    .await;
    d.screenshot("admin-task-2-imported").await;

    d.click("form[action$='/validate'] button").await;
    d.wait_for(
        "the references checked",
        "return document.querySelector('tr.ref-python') !== null && document.body.innerText.includes('принято (3/3)')",
    )
    .await;
    d.screenshot("admin-task-3-validated").await;
    d.click("form[action$='/publish'] button").await;
    d.wait_for(
        "published",
        "return document.querySelector('form[action$=\"/unpublish\"]') !== null",
    )
    .await;
    d.screenshot("admin-task-4-published").await;
    assert_eq!(
        env.psql("SELECT published, validated_at IS NOT NULL FROM tasks WHERE slug = 'ui-double'"),
        "t|t"
    );
    // Statistics: two students, one solves it on the second attempt.
    env.psql(
        "INSERT INTO submissions (task_id, status, source, user_id, language, code, verdict, passed, total)
         SELECT id, 'done', 'bot', u, 'python', 'x', v, p, 3 FROM tasks,
           (VALUES (901, 'wrong_answer', 1), (901, 'accepted', 3), (902, 'runtime_error', 0)) AS s(u, v, p)
         WHERE slug = 'ui-double'",
    );
    let id = env.psql("SELECT id FROM tasks WHERE slug = 'ui-double'");
    d.open(&format!("{base}/admin/tasks/{id}")).await;
    let stats = d
        .wait_for(
            "the task's statistics",
            "var t = document.body.innerText; return t.includes('1 / 2') ? t : null",
        )
        .await;
    assert!(stats.as_str().unwrap().contains("50"), "solve rate 50 %: {stats}");
    d.screenshot("admin-task-5-statistics").await;
    drop(d);
    common::stop(&mut svc);
}
