//! The error registry in the panel: validation on save (regex, sample, duplicate slug), create,
//! the tester, the backlog of unmatched errors, delete, and one entry's history.

mod common;
mod panel;

use panel::Panel;

fn entry(slug: &'static str, pattern: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("slug", slug),
        ("language", "python"),
        ("error_type", "RecursionError"),
        ("pattern", pattern),
        ("sample_error", "maximum recursion depth exceeded"),
        // Above the catalogue's own RecursionError entry (80), or the save says it would be
        // shadowed.
        ("priority", "90"),
        ("enabled", "1"),
        ("ru_title", "Бесконечная рекурсия"),
        ("ru_what", "Функция вызывает себя без конца."),
        ("en_title", "Endless recursion"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_validated_created_and_deleted_with_their_history() {
    let mut panel = Panel::start("adm_reg").await;
    let p = panel.b.get("/admin/registry?language=python&q=zero").await;
    assert!(p.body.contains("python-zero-division"), "the catalogue is listed");
    for (slug, pattern, why) in [
        (
            "py-recursion-test",
            "maximum (recursion",
            "Шаблон не разбирается как регулярное выражение",
        ),
        (
            "py-recursion-test",
            "stack overflow",
            "Шаблон не совпадает с примером ошибки",
        ),
        ("python-zero-division", "maximum recursion", "slug"),
    ] {
        let p = panel.post("/admin/registry/new", &entry(slug, pattern)).await;
        assert_eq!(p.status, 422, "{why}");
        assert!(p.body.contains(why), "{why}: {}", p.body);
    }
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) FROM registry_entries WHERE slug = 'py-recursion-test'"),
        "0"
    );
    let p = panel
        .post(
            "/admin/registry/new",
            &entry("py-recursion-test", "maximum recursion depth"),
        )
        .await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (303, "/admin/registry/py-recursion-test"),
        "{}",
        p.body
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT edited_by_admin FROM registry_entries WHERE slug = 'py-recursion-test'"),
        "t"
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) FROM audit_log WHERE action = 'registry.create'"),
        "1"
    );
    assert_eq!(panel.b.get("/admin/registry/py-recursion-test").await.status, 200);
    assert_eq!(
        panel.post("/admin/registry/py-recursion-test/delete", &[]).await.status,
        303
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) FROM registry_entries WHERE slug = 'py-recursion-test'"),
        "0"
    );
    // The history of one object.
    panel.post("/admin/users/501/block", &[]).await;
    let p = panel
        .b
        .get("/admin/audit?object_type=registry_entry&object_id=py-recursion-test")
        .await;
    assert!(
        p.body.contains("<td>запись справочника создана</td>")
            && p.body.contains("<td>запись справочника удалена</td>"),
        "{}",
        p.body
    );
    assert!(
        !p.body.contains("<td>пользователь заблокирован</td>"),
        "only this object's history"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tester_finds_the_entry_a_student_would_get() {
    let mut panel = Panel::start("adm_tester").await;
    let p = panel
        .post(
            "/admin/registry/tester",
            &[("language", "python"), ("error", "Traceback (most recent call last):\n  File \"main.py\", line 1, in <module>\nZeroDivisionError: division by zero")],
        )
        .await;
    assert!(p.body.contains("python-zero-division"), "{}", p.body);
    let p = panel
        .post(
            "/admin/registry/tester",
            &[("language", "python"), ("error", "nothing like an error")],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unmatched_errors_are_listed_with_a_link_to_make_an_entry() {
    let mut panel = Panel::start("adm_unmatched").await;
    panel.env.psql(
        "INSERT INTO explanation_events (language, error_type, message, fingerprint, source, locale)
         VALUES ('python', 'WeirdError', 'strange <thing>', 'fp1', 'ai', 'ru'),
                ('python', 'WeirdError', 'strange <thing>', 'fp1', 'ai', 'ru')",
    );
    let p = panel.b.get("/admin/unmatched").await;
    assert!(p.body.contains("WeirdError") && p.body.contains("strange &lt;thing&gt;"));
    assert!(
        p.body
            .contains("/admin/registry/new?language&#x3D;python&amp;error_type&#x3D;WeirdError"),
        "{}",
        p.body
    );
    let p = panel
        .b
        .get("/admin/registry/new?language=python&error_type=WeirdError&sample_error=WeirdError%3A%20strange")
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    // The message as the matcher sees it, and a pattern for its kind.
    assert!(p.body.contains(">strange</textarea>"), "{}", p.body);
    assert!(p.body.contains("name=\"pattern\" value=\"^strange$\""), "{}", p.body);
}
