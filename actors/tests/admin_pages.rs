//! Every page of the panel renders under Handlebars strict mode (a variable a template names
//! and its data lacks would be a 500), in both languages; the 404 and 403 pages are templates;
//! analytics draws its charts; a broadcast draft can be cancelled.

mod common;
mod panel;

use panel::{Panel, STAFF};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_in_both_languages() {
    let mut panel = Panel::start("adm_pages").await;
    panel.env.psql(
        "INSERT INTO explanation_events (language, error_type, message, fingerprint, source, locale)
           VALUES ('python', 'WeirdError', 'm', 'fp1', 'ai', 'ru');
         INSERT INTO faq (locale, question, answer) VALUES ('ru', 'Q?', 'A.');
         INSERT INTO broadcasts (text, audience, created_by) VALUES ('<b>Hi</b>', 'all', 'test');",
    );
    let check = panel.env.psql("SELECT id FROM checks LIMIT 1");
    let faq = panel.env.psql("SELECT id FROM faq LIMIT 1");
    let bc = panel.env.psql("SELECT id FROM broadcasts LIMIT 1");
    let pages = [
        "/admin/".to_string(),
        "/admin/users".into(),
        "/admin/users?q=a&status=whitelisted&sort=-name&page=2".into(),
        "/admin/users/501".into(),
        "/admin/users/503".into(),
        "/admin/access".into(),
        "/admin/checks".into(),
        "/admin/checks?user=502&source=none&from=2020-01-01&to=2099-01-01".into(),
        format!("/admin/checks/{check}"),
        "/admin/settings".into(),
        "/admin/faq".into(),
        "/admin/faq/new".into(),
        format!("/admin/faq/{faq}"),
        "/admin/audit".into(),
        "/admin/audit?object_type=user&object_id=501".into(),
        "/admin/registry".into(),
        "/admin/registry/new".into(),
        "/admin/registry/python-zero-division".into(),
        "/admin/registry/tester".into(),
        "/admin/unmatched".into(),
        "/admin/admins".into(),
        "/admin/tokens".into(),
        "/admin/analytics".into(),
        "/admin/broadcasts".into(),
        "/admin/broadcasts/new".into(),
        format!("/admin/broadcasts/{bc}"),
        "/admin/password".into(),
    ];
    for locale in ["ru", "en"] {
        assert_eq!(panel.post("/admin/locale", &[("locale", locale)]).await.status, 303);
        for path in &pages {
            let p = panel.b.get(path).await;
            assert_eq!(p.status, 200, "{path} ({locale}): {}", p.body);
            assert!(p.body.contains("</html>"), "{path} ({locale}): {}", p.body);
        }
    }
    // A check that never finished (no result at all) renders too.
    panel
        .env
        .psql("INSERT INTO checks (language, code, source, status) VALUES ('go', 'x', 'api', 'queued')");
    let id = panel.env.psql("SELECT max(id) FROM checks");
    assert_eq!(panel.b.get(&format!("/admin/checks/{id}")).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_found_and_forbidden_are_pages_in_the_admins_language() {
    let mut panel = Panel::start("adm_errors").await;
    for path in [
        "/admin/nowhere",
        "/admin/users/999999",
        "/admin/checks/x",
        "/admin/faq/12345",
    ] {
        let p = panel.b.get(path).await;
        assert_eq!(p.status, 404, "{path}");
        // Inside the layout: the menu, the message, a way back.
        assert!(
            p.body.contains("<nav id=\"menu\">") && p.body.contains("<a href=\"/admin/\">← Назад</a>"),
            "{}",
            p.body
        );
    }
    assert_eq!(panel.post("/admin/locale", &[("locale", "en")]).await.status, 303);
    let en = panel.b.get("/admin/nowhere").await.body;
    let mut staff = panel.browser();
    assert_eq!(staff.login(STAFF.0, STAFF.1).await.status, 303);
    let p = staff.get("/admin/settings").await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("<nav id=\"menu\">"), "{}", p.body);
    assert!(p.body.contains("<h1>Нет доступа</h1>"), "{}", p.body);
    assert!(en.contains("<h1>Not found</h1>"), "{en}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_draws_server_side_svg_charts() {
    let mut panel = Panel::start("adm_analytics").await;
    let p = panel.b.get("/admin/analytics").await;
    assert_eq!(p.status, 200);
    assert!(p.body.matches("<svg").count() >= 3, "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_draft_can_be_cancelled() {
    let mut panel = Panel::start("adm_bcancel").await;
    let p = panel
        .post("/admin/broadcasts/new", &[("text", "Draft"), ("audience", "all")])
        .await;
    assert_eq!(panel.post(&format!("{}/cancel", p.location), &[]).await.status, 303);
    assert_eq!(panel.env.psql("SELECT status FROM broadcasts"), "cancelled");
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) > 0 FROM audit_log WHERE action = 'broadcast.cancel'"),
        "t"
    );
}
