//! Superusers' pages: API tokens (shown once, usable, revocable) and admin accounts (create,
//! reset a password, deactivate, change a role), each audited.

mod common;
mod panel;

use panel::Panel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_are_shown_once_usable_and_revocable() {
    let mut panel = Panel::start("adm_tokens").await;
    let p = panel.post("/admin/tokens", &[("name", "lms"), ("rate", "0")]).await;
    assert_eq!(p.status, 422);
    let p = panel.post("/admin/tokens", &[("name", "lms"), ("rate", "30")]).await;
    let i = p.body.find("id=\"new-token\">").expect("the new token is shown") + 15;
    let token = p.body[i..].split('<').next().unwrap().to_string();
    let api = reqwest::Client::new();
    let base = panel.env.base();
    let submit = |t: String| {
        api.post(format!("{base}/api/v1/checks"))
            .bearer_auth(t)
            .json(&serde_json::json!({"language": "python", "code": "print(1)"}))
            .send()
    };
    assert_eq!(submit(token.clone()).await.unwrap().status(), 202);
    let tid = panel.env.psql("SELECT id FROM api_tokens WHERE name = 'lms'");
    assert_eq!(
        panel.post(&format!("/admin/tokens/{tid}/revoke"), &[]).await.status,
        303
    );
    assert_eq!(submit(token).await.unwrap().status(), 401);
    assert!(!panel.b.get("/admin/tokens").await.body.contains("id=\"new-token\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn superusers_manage_accounts() {
    let mut panel = Panel::start("adm_accounts").await;
    // A superuser creates one, resets a password, deactivates an account.
    let p = panel
        .post(
            "/admin/admins",
            &[
                ("username", "helper_1"),
                ("password", "helper password 1"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    let hid = panel.env.psql("SELECT id FROM admins WHERE username = 'helper_1'");
    let p = panel
        .post(
            &format!("/admin/admins/{hid}/password"),
            &[("password", "a brand new password")],
        )
        .await;
    assert_eq!(p.status, 303);
    let mut helper = panel.browser();
    assert_eq!(helper.login("helper_1", "a brand new password").await.status, 303);
    assert_eq!(
        panel.post(&format!("/admin/admins/{hid}/deactivate"), &[]).await.status,
        303
    );
    assert_eq!(
        helper.get("/admin/").await.status,
        303,
        "a deactivated admin's session ends"
    );
    assert_eq!(
        panel.browser().login("helper_1", "a brand new password").await.status,
        401
    );
    // A role change, both ways.
    let sid = panel.env.psql("SELECT id FROM admins WHERE username = 'staff_member'");
    assert_eq!(
        panel.post(&format!("/admin/admins/{sid}/superuser"), &[]).await.status,
        303
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT role FROM admins WHERE username = 'staff_member'"),
        "superuser"
    );
    assert_eq!(panel.post(&format!("/admin/admins/{sid}/staff"), &[]).await.status, 303);
    assert!(
        panel
            .env
            .psql("SELECT count(*) FROM audit_log WHERE action LIKE 'admin.%'")
            .parse::<i64>()
            .unwrap()
            >= 5
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) > 0 FROM audit_log WHERE action = 'admin.superuser'"),
        "t"
    );
    // Not oneself.
    let me = panel.env.psql("SELECT id FROM admins WHERE username = 'root_admin'");
    assert_eq!(
        panel.post(&format!("/admin/admins/{me}/deactivate"), &[]).await.status,
        422
    );
}
