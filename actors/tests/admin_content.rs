//! What the bot says, edited in the panel: settings (validated, nothing half-saved, audited,
//! superusers only) and the FAQ (validated, created, edited, deleted, each audited).

mod common;
mod panel;

use panel::{Panel, STAFF};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_save_only_valid_values_and_are_audited() {
    let mut panel = Panel::start("adm_settings").await;
    let form = |rate: &'static str| {
        vec![
            ("welcome_text_ru", "Привет!"),
            ("welcome_text_en", ""),
            ("whitelist_mode", "1"),
            ("maintenance_message_ru", ""),
            ("maintenance_message_en", ""),
            ("rate_limit_per_minute", rate),
            ("ai_daily_quota", "5"),
            ("default_language", "python"),
        ]
    };
    let p = panel.post("/admin/settings", &form("lots")).await;
    assert_eq!(p.status, 422);
    assert_eq!(
        panel.env.psql("SELECT count(*) FROM settings"),
        "0",
        "nothing half-saved"
    );
    let p = panel.post("/admin/settings", &form("7")).await;
    assert_eq!(p.status, 303);
    let env = &panel.env;
    assert_eq!(
        env.psql("SELECT value FROM settings WHERE key = 'rate_limit_per_minute'"),
        "7"
    );
    assert_eq!(
        env.psql("SELECT value FROM settings WHERE key = 'welcome_text_ru'"),
        "\"Привет!\""
    );
    assert_eq!(
        env.psql("SELECT count(*) FROM audit_log WHERE action = 'settings.update'"),
        "1"
    );
    let p = panel.b.get("/admin/audit").await;
    assert!(p.body.contains("settings.update"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_cannot_reach_the_superuser_pages() {
    let panel = Panel::start("adm_staff").await;
    let mut staff = panel.browser();
    assert_eq!(staff.login(STAFF.0, STAFF.1).await.status, 303);
    assert_eq!(staff.get("/admin/settings").await.status, 403);
    assert_eq!(staff.get("/admin/admins").await.status, 403);
    assert_eq!(staff.get("/admin/tokens").await.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faq_is_validated_created_edited_and_deleted_with_an_audit_trail() {
    let mut panel = Panel::start("adm_faq").await;
    let p = panel
        .post("/admin/faq/new", &[("locale", "ru"), ("question", ""), ("answer", "x")])
        .await;
    assert_eq!(p.status, 422);
    assert_eq!(panel.env.psql("SELECT count(*) FROM faq"), "0");
    let p = panel
        .post(
            "/admin/faq/new",
            &[
                ("locale", "ru"),
                ("question", "Как запустить?"),
                ("answer", "Пришли код."),
                ("position", "1"),
                ("published", "1"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    let fid = panel.env.psql("SELECT id FROM faq");
    assert_eq!(panel.b.get(&format!("/admin/faq/{fid}")).await.status, 200);
    let p = panel
        .post(
            &format!("/admin/faq/{fid}"),
            &[
                ("locale", "en"),
                ("question", "How to run?"),
                ("answer", "Send code."),
                ("position", "2"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(
        panel
            .env
            .psql(&format!("SELECT locale || published FROM faq WHERE id = {fid}")),
        "enfalse"
    );
    let p = panel.post(&format!("/admin/faq/{fid}/delete"), &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(
        panel
            .env
            .psql("SELECT string_agg(action, ',' ORDER BY id) FROM audit_log WHERE object_type = 'faq'"),
        "faq.create,faq.update,faq.delete"
    );
    let p = panel.b.get("/admin/audit").await;
    assert!(p.body.contains("faq.delete"));
}
