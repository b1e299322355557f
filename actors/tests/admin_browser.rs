//! The admin panel in headless Chromium: log in, search users, edit a registry entry and try it
//! in the tester, send a broadcast to a fake-Telegram audience and watch it finish. Screenshots
//! go to target/test-artifacts/admin-*.png.

mod common;

use common::{wait_ready, Driver, Env};
use devmentor::telegram::fake::FakeTelegram;
use std::io::Write;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_works_through_the_panel_in_a_browser() {
    let fake = FakeTelegram::start().await.unwrap();
    let url = fake.url();
    let env = Env::new("adminui", &[("BOT_TOKEN", "42:TOKEN"), ("TELEGRAM_API_URL", &url)]);
    let mut c = env
        .command(&["createsuperuser", "--username", "ui_admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "browser password").unwrap();
    assert!(c.wait().unwrap().success());
    env.psql(
        "INSERT INTO users (id, username, first_name) SELECT g, 'student' || g, 'Student ' || g FROM generate_series(8001, 8030) g;
         INSERT INTO users (id, username, first_name) VALUES (8100, 'marina_k', 'Марина');",
    );
    let mut svc = env.spawn("bot,admin", "ui");
    wait_ready(&reqwest::Client::new(), &env.base()).await;
    let base = env.base();
    let d = Driver::start().await;

    // Log in.
    d.open(&format!("{base}/admin/login?lang=en")).await;
    d.type_into("input[name=username]", "ui_admin").await;
    d.type_into("input[name=password]", "browser password").await;
    d.screenshot("admin-1-login").await;
    d.click("form button").await;
    d.wait_for("the dashboard", "return document.querySelector('.cards') !== null")
        .await;
    d.screenshot("admin-2-dashboard").await;

    // Search users.
    d.open(&format!("{base}/admin/users")).await;
    d.type_into("input[name=q]", "marina").await;
    d.click("form.filters button").await;
    let rows = d
        .wait_for(
            "the search result",
            "return location.search.includes('q=marina') ? document.querySelectorAll('table tr').length : null",
        )
        .await;
    assert_eq!(rows, serde_json::json!(2), "the header and Марина");
    d.wait_for("Марина listed", "return document.body.innerText.includes('Марина')")
        .await;
    d.screenshot("admin-3-users").await;

    // Edit a registry entry, then try an error in the tester.
    d.open(&format!("{base}/admin/registry/python-zero-division")).await;
    d.type_into("input[name=en_title]", "Division by zero (edited)").await;
    d.screenshot("admin-4-registry-edit").await;
    d.click("form.form button").await;
    // Saved: the page came back with its confirmation (before that, the form already holds
    // the typed title, so the title alone proves nothing).
    d.wait_for("saved", "return document.querySelector('p.flash') !== null && location.pathname.endsWith('/admin/registry/python-zero-division') && document.querySelector('input[name=en_title]').value.includes('edited')").await;
    assert_eq!(
        env.psql("SELECT edited_by_admin FROM registry_entries WHERE slug = 'python-zero-division'"),
        "t"
    );
    d.open(&format!("{base}/admin/registry/tester")).await;
    d.type_into("textarea[name=error]", "Traceback (most recent call last):\n  File \"main.py\", line 2, in <module>\nZeroDivisionError: division by zero").await;
    d.click("form.form button").await;
    d.wait_for(
        "the tester's answer",
        "return document.body.innerText.includes('Division by zero (edited)')",
    )
    .await;
    d.screenshot("admin-5-tester").await;

    // A broadcast to everyone, watched until it is done.
    d.open(&format!("{base}/admin/broadcasts/new")).await;
    d.type_into("textarea[name=text]", "<b>Hello</b> from the browser")
        .await;
    d.click("form.form button").await;
    d.wait_for("the preview", "return document.querySelector('.tg-preview b') !== null")
        .await;
    d.screenshot("admin-6-broadcast-draft").await;
    d.click("form[action$='/start'] button").await;
    // A mass action asks first, with the number of recipients (30 students and Марина).
    let question = d.accept_alert().await;
    assert!(question.contains("31"), "{question}");
    d.wait_for(
        "the broadcast finished",
        "return document.getElementById('status') && document.getElementById('status').dataset.status === 'done'",
    )
    .await;
    d.screenshot("admin-7-broadcast-done").await;
    for id in 8001..=8030 {
        assert_eq!(
            fake.chat(id)
                .iter()
                .filter(|m| m.text.contains("from the browser"))
                .count(),
            1,
            "user {id}"
        );
    }
    drop(d);
    common::stop(&mut svc);
}
