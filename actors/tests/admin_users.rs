//! Students and access in the panel: hostile names shown as text, search as a parameter, page
//! numbers clamped, actions only with the CSRF token and each audited, bulk actions, access
//! requests, the whitelist by username, and the CSV export.

mod common;
mod panel;

use panel::Panel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_list_escapes_searches_safely_and_clamps_pages() {
    let mut panel = Panel::start("adm_ulist").await;
    let b = &mut panel.b;
    let p = b.get("/admin/users").await;
    assert!(p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !p.body.contains("<script>alert"));
    let p = b.get("/admin/users?q=%27%20OR%201%3D1%20--").await;
    assert_eq!(p.status, 200);
    assert!(!p.body.contains("alice_a"), "the search is a parameter, not SQL");
    let p = b.get("/admin/users?q=alice").await;
    assert!(p.body.contains("alice_a") && !p.body.contains("Bob"));
    let p = b.get("/admin/users?page=99999999999").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("Alice"), "a huge page number shows the last page");
    let p = b.get("/admin/users?status=blocked").await;
    assert!(p.body.contains("Заблокирован (0)") || p.body.contains("(0)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_needs_the_csrf_token_and_is_audited() {
    let mut panel = Panel::start("adm_block").await;
    let p = panel.b.post("/admin/users/501/block", &[]).await;
    assert_eq!(p.status, 403);
    assert_eq!(panel.env.psql("SELECT blocked FROM users WHERE id = 501"), "f");
    let p = panel.post("/admin/users/501/block", &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(panel.env.psql("SELECT blocked FROM users WHERE id = 501"), "t");
    assert_eq!(
        panel.env.psql("SELECT admin_name || ' ' || action || ' ' || (before->>'blocked') || ' ' || (after->>'blocked') FROM audit_log WHERE object_id = '501'"),
        "root_admin user.block false true"
    );
    let p = panel.b.get("/admin/users/501").await;
    assert!(
        p.body.contains("<td>пользователь заблокирован</td>"),
        "the user's history shows the action"
    );
    assert_eq!(panel.post("/admin/users/501/unblock", &[]).await.status, 303);
    assert_eq!(panel.env.psql("SELECT blocked FROM users WHERE id = 501"), "f");
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) > 0 FROM audit_log WHERE action = 'user.unblock'"),
        "t"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_apply_to_every_chosen_user() {
    let mut panel = Panel::start("adm_bulk").await;
    let p = panel
        .post(
            "/admin/users/bulk",
            &[("action", "whitelist"), ("ids", "501"), ("ids", "502")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) FROM whitelist WHERE subject IN ('501', '502')"),
        "2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_requests_are_approved_or_denied_and_audited() {
    let mut panel = Panel::start("adm_access").await;
    let env_id = panel.env.psql("SELECT id FROM access_requests WHERE user_id = 503");
    let p = panel.b.get("/admin/access").await;
    assert!(p.body.contains("Bob"));
    let p = panel.post(&format!("/admin/access/{env_id}/approve"), &[]).await;
    assert_eq!(p.status, 303);
    let env = &panel.env;
    assert_eq!(
        env.psql("SELECT status FROM access_requests WHERE user_id = 503"),
        "approved"
    );
    assert_eq!(env.psql("SELECT count(*) FROM whitelist WHERE subject = '503'"), "1");
    assert_eq!(
        env.psql("SELECT count(*) FROM audit_log WHERE action = 'access.approve'"),
        "1"
    );
    env.psql("INSERT INTO access_requests (user_id) VALUES (502)");
    let rid = env.psql("SELECT id FROM access_requests WHERE user_id = 502");
    assert_eq!(panel.post(&format!("/admin/access/{rid}/deny"), &[]).await.status, 303);
    assert_eq!(
        panel.env.psql("SELECT status FROM access_requests WHERE user_id = 502"),
        "denied"
    );
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) > 0 FROM audit_log WHERE action = 'access.deny'"),
        "t"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whitelist_takes_usernames_and_refuses_nonsense() {
    let mut panel = Panel::start("adm_wl").await;
    let p = panel
        .post("/admin/access/whitelist", &[("subject", "not valid!")])
        .await;
    assert_eq!(p.status, 422);
    // Added as a username (normalised), shown, then removed.
    for (field, value, stored) in [("subject", "@Future_Student", "1"), ("remove", "future_student", "0")] {
        let p = panel.post("/admin/access/whitelist", &[(field, value)]).await;
        assert_eq!(p.status, 303, "{field}");
        let sql = "SELECT count(*) FROM whitelist WHERE subject = 'future_student'";
        assert_eq!(panel.env.psql(sql), stored, "{field}");
        if stored == "1" {
            assert!(panel.b.get("/admin/access").await.body.contains("future_student"));
        }
    }
    for action in ["whitelist.add", "whitelist.remove"] {
        assert_eq!(
            panel
                .env
                .psql(&format!("SELECT count(*) > 0 FROM audit_log WHERE action = '{action}'")),
            "t",
            "{action}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_csv_quotes_hostile_names() {
    let mut panel = Panel::start("adm_ucsv").await;
    let p = panel.b.get("/admin/users.csv").await;
    assert!(
        p.body.starts_with("id,username") && p.body.contains("\"<script>alert(1)</script>\""),
        "{}",
        p.body
    );
    assert!(p.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(
        p.headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"users.csv\""
    );
}

/// The export streams: thousands of rows, each once, in id order, byte for byte the format of
/// old (a formula-looking name neutralised).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_users_csv_streams_every_row() {
    let mut panel = Panel::start("adm_ucsv2").await;
    panel.env.psql(
        "INSERT INTO users (id, username, first_name, first_seen_at, last_seen_at)
         SELECT g, 'u' || g, CASE WHEN g = 10007 THEN '=cmd()' ELSE 'N' || g END,
                '2026-01-02 03:04:05', '2026-01-02 03:04:05' FROM generate_series(10001, 13000) g",
    );
    let p = panel.b.get("/admin/users.csv").await;
    let lines: Vec<&str> = p.body.lines().collect();
    assert_eq!(lines.len(), 1 + 3 + 3000, "header, the seed's three, then 3000");
    assert_eq!(
        lines[0],
        "id,username,first_name,last_name,language_code,checks,blocked,bot_blocked,first_seen,last_seen"
    );
    assert_eq!(
        lines[4 + 6],
        "10007,\"u10007\",\"'=cmd()\",\"\",\"\",0,false,false,2026-01-02 03:04:05,2026-01-02 03:04:05"
    );
    assert!(p.body.ends_with("2026-01-02 03:04:05\n"));
}
