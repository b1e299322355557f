//! The panel's doors: accounts from the command line, the login page and its CSRF token, wrong
//! passwords, the rate limit, ALLOWED_HOSTS, idle expiry, logout, password changes and the
//! session cookie that `SECRET_KEY` signs.

mod common;
mod panel;

use common::{csrf_of, Browser, Env};
use panel::{create_admin, Panel, ROOT, STAFF};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn createsuperuser_makes_argon2id_accounts_and_refuses_bad_ones() {
    let env = Env::new("adm_cli", &[]);
    let out = create_admin(&env, "root_admin", "a long enough password", false);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("superuser"));
    let again = create_admin(&env, "ROOT_admin", "another long password", false);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"));
    let short = create_admin(&env, "shorty", "short", false);
    assert!(!short.status.success() && String::from_utf8_lossy(&short.stderr).contains("10 characters"));
    assert!(create_admin(&env, "staff_member", "staff password 123", true)
        .status
        .success());
    assert!(env
        .psql("SELECT password_hash FROM admins WHERE username = 'root_admin'")
        .starts_with("$argon2id$"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logging_in_needs_the_login_token_and_the_right_password() {
    let panel = Panel::start("adm_login").await;
    let mut b = panel.browser();
    // Not logged in: the login page, with security headers and a login CSRF cookie.
    let p = b.get("/admin/").await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/login"));
    let p = b.get("/admin/login").await;
    assert_eq!(p.status, 200);
    assert!(p.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert_eq!(p.headers["x-frame-options"], "DENY");
    let set_cookie = p.headers["set-cookie"].to_str().unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    // Forged or missing CSRF on the login form: 403.
    let p = b
        .post(
            "/admin/login",
            &[("username", "root_admin"), ("password", "a long enough password")],
        )
        .await;
    assert_eq!(p.status, 403);
    // A wrong password: a generic message.
    let p = b.login("root_admin", "wrong password!").await;
    assert_eq!(p.status, 401);
    assert!(p.body.contains("Неверный логин или пароль"));
    let p = b.login("nobody_here", "wrong password!").await;
    assert_eq!(p.status, 401, "an unknown user looks the same");
    // Logged in.
    let p = b.login("root_admin", "a long enough password").await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/"), "{}", p.body);
    let c = p.headers["set-cookie"].to_str().unwrap();
    assert!(c.starts_with("dm_admin=") && c.contains("HttpOnly") && c.contains("SameSite=Strict"));
    let p = b.get("/admin/").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("root_admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_host_name_is_refused() {
    let panel = Panel::start("adm_hosts").await;
    let r = reqwest::Client::new()
        .get(format!("{}/admin/login", panel.env.base()))
        .header("host", "evil.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failures_hold_even_the_right_password() {
    let panel = Panel::start("adm_limit").await;
    let mut m = panel.browser();
    for _ in 0..5 {
        assert_eq!(m.login("staff_member", "not the password").await.status, 401);
    }
    let p = m.login("staff_member", "staff password 123").await;
    assert_eq!(p.status, 429, "{}", p.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sessions_expire_and_logout_ends_the_session() {
    let mut panel = Panel::start("adm_idle").await;
    let mut idle = panel.browser();
    assert_eq!(idle.login(STAFF.0, STAFF.1).await.status, 303);
    panel
        .env
        .psql("UPDATE admin_sessions SET last_seen_at = now() - interval '2 hours'");
    assert_eq!((idle.get("/admin/").await.location), "/admin/login");
    assert_eq!(panel.b.get("/admin/").await.status, 303, "every idle session ended");
    assert_eq!(panel.b.login(ROOT.0, ROOT.1).await.status, 303);
    panel.csrf = csrf_of(&panel.b.get("/admin/").await.body);
    // Logout ends the session.
    let p = panel.post("/admin/logout", &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(panel.b.get("/admin/").await.status, 303);
    assert_eq!(
        panel.env.psql(
            "SELECT count(*) FROM admin_sessions s JOIN admins a ON a.id = s.admin_id WHERE a.username = 'root_admin'"
        ),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_checks_the_current_one_and_ends_the_old() {
    let mut panel = Panel::start("adm_pw").await;
    // Wrong current, mismatch, then done (and the old one stops working).
    for (current, repeat, status) in [
        ("nope nope nope", "newer password 1", 422),
        ("a long enough password", "other password 1", 422),
        ("a long enough password", "newer password 1", 303),
    ] {
        let form = [("current", current), ("new", "newer password 1"), ("repeat", repeat)];
        assert_eq!(
            panel.post("/admin/password", &form).await.status,
            status,
            "{current} / {repeat}"
        );
    }
    assert_eq!(panel.browser().login(ROOT.0, ROOT.1).await.status, 401);
    assert_eq!(panel.b.login(ROOT.0, "newer password 1").await.status, 303);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_interface_speaks_the_admins_language() {
    let mut panel = Panel::start("adm_locale").await;
    let p = panel.post("/admin/locale", &[("locale", "en")]).await;
    assert_eq!(p.status, 303);
    assert!(panel.b.get("/admin/users").await.body.contains("Whitelisted"));
}

/// `SECRET_KEY` signs the session cookie: a cookie with the right session token but no valid
/// signature is refused, and a new key ends every session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_key_signs_the_session_cookie() {
    let key = ("SECRET_KEY", "first key: 0123456789abcdef0123456789abcdef");
    let mut panel = Panel::start_with("adm_key", &[key]).await;
    let cookie = panel.b.cookies["dm_admin"].clone();
    let (token, sig) = cookie.rsplit_once('.').expect("token.signature");
    assert_eq!((token.len(), sig.len()), (64, 64), "{cookie}");
    // The bare token, or one with another signature, opens nothing.
    for forged in [token.to_string(), format!("{token}.{}", "0".repeat(64))] {
        let mut f = Browser::new(&panel.env.base());
        f.cookies.insert("dm_admin".into(), forged);
        assert_eq!(f.get("/admin/").await.location, "/admin/login");
    }
    assert_eq!(panel.b.get("/admin/").await.status, 200, "the signed cookie works");
    // A login token that was not signed with the key is refused.
    let mut f = Browser::new(&panel.env.base());
    let fake = "a".repeat(64);
    f.cookies.insert("dm_login_csrf".into(), fake.clone());
    let p = f
        .post(
            "/admin/login",
            &[("csrf_token", &fake), ("username", ROOT.0), ("password", ROOT.1)],
        )
        .await;
    assert_eq!(p.status, 403);
    // Another SECRET_KEY: the old cookie no longer opens the panel.
    common::stop(&mut panel.service);
    let other = ("SECRET_KEY", "second key: 0123456789abcdef0123456789abcdef");
    panel.env.vars.push((other.0.into(), other.1.into()));
    panel.service = panel.env.spawn("admin", "admin2");
    common::wait_ready(&reqwest::Client::new(), &panel.env.base()).await;
    assert_eq!(panel.b.get("/admin/").await.location, "/admin/login");
    assert_eq!(panel.b.login(ROOT.0, ROOT.1).await.status, 303);
    assert_eq!(panel.b.get("/admin/").await.status, 200);
}
