//! The admin panel: server-rendered pages (handlebars) under `/admin/` on `HTTP_ADDR`.
//!
//! Security: argon2id passwords, sessions in PostgreSQL behind an `HttpOnly; SameSite=Strict`
//! cookie (`Secure` behind https), idle expiry, a login rate limit per account and per IP, a CSRF
//! token in every state-changing form (403 without it), `ALLOWED_HOSTS`, and CSP /
//! frame-ancestors headers. Every template escapes what it shows: student code and output are
//! hostile. Every change is written to the audit log with the state before and after.
//! `SECRET_KEY` signs the session cookie and the login form's token (`signing`).
//!
//! One module per page area (users, access, checks, registry, content, broadcasts, accounts,
//! analytics), `routes` maps URLs to them, `page` is what they share. Their queries live in
//! `store/`; read-only pages read through `AdminState::reader` (the replica, when set).

mod access;
mod accounts;
mod analytics;
mod broadcasts;
mod charts;
mod checks;
mod content;
mod page;
mod registry;
mod render;
mod routes;
mod signing;
mod users;

use crate::store::admins::{self, Session};
use crate::store::replica::Reader;
use crate::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::Reply;

pub use render::Templates;

/// Sends a Telegram user an HTML message (the bot role's sender, when it runs in this process).
pub type Notifier = Arc<dyn Fn(i64, String) + Send + Sync>;

pub struct AdminState {
    pub store: Store,
    /// Where the dashboard, analytics, lists and CSV exports read (`DATABASE_REPLICA_URL`).
    pub reader: Reader,
    signer: signing::Signer,
    pub templates: Templates,
    pub allowed_hosts: Vec<String>,
    /// Sessions end after this long without a request.
    pub idle: Duration,
    pub notify: Option<Notifier>,
    limiter: Mutex<HashMap<String, VecDeque<Instant>>>,
}

const COOKIE: &str = "dm_admin";
const LOGIN_COOKIE: &str = "dm_login_csrf";
/// Failed logins allowed per account and per IP within the window.
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AdminState {
    pub fn new(store: Store, allowed_hosts: Vec<String>, notify: Option<Notifier>) -> AdminState {
        AdminState {
            reader: Reader::primary(store.clone()),
            store,
            signer: signing::Signer::new(crate::Secret::default()),
            templates: Templates::new(),
            allowed_hosts,
            idle: Duration::from_secs(30 * 60),
            notify,
            limiter: Mutex::new(HashMap::new()),
        }
    }

    /// Read-only pages read from the replica at `url` (empty: from the primary).
    pub fn with_replica(mut self, url: &str) -> AdminState {
        self.reader = Reader::with_replica(self.store.clone(), url);
        self
    }

    /// `SECRET_KEY`: signs the session cookie and the login form's token.
    pub fn with_secret_key(mut self, key: crate::Secret) -> AdminState {
        self.signer = signing::Signer::new(key);
        self
    }

    fn failures(&self, key: &str) -> usize {
        let mut m = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        let q = m.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| t.elapsed() > FAILURE_WINDOW) {
            q.pop_front();
        }
        q.len()
    }

    fn fail(&self, key: &str) {
        let mut m = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_string()).or_default().push_back(Instant::now());
        if m.len() > 100_000 {
            m.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
    }
}

/// One request, as the pages see it.
pub struct Req {
    pub method: Method,
    /// The path after `/admin/`, without a trailing slash.
    pub path: String,
    pub query: HashMap<String, String>,
    pub form: Vec<(String, String)>,
    pub ip: String,
    pub user_agent: String,
    pub https: bool,
    cookies: HashMap<String, String>,
}

impl Req {
    pub fn q(&self, k: &str) -> &str {
        self.query.get(k).map(String::as_str).unwrap_or("")
    }

    pub fn f(&self, k: &str) -> &str {
        self.form
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    pub fn f_all(&self, k: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// Adds the security headers every admin response carries.
pub fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: &'static str, v: &'static str| {
        h.insert(k, warp::http::HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, "x-frame-options", "DENY");
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    r
}

pub fn redirect(to: &str) -> Response {
    let mut r = warp::reply::with_status("", StatusCode::SEE_OTHER).into_response();
    if let Ok(v) = warp::http::HeaderValue::from_str(to) {
        r.headers_mut().insert("location", v);
    }
    r
}

fn cookie_header(name: &str, value: &str, https: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict");
    if https {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = warp::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append("set-cookie", v);
    }
    r
}

fn plain(status: StatusCode, text: &str) -> Response {
    secure(warp::reply::with_status(text.to_string(), status).into_response())
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves one request under `/admin`.
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    state: &AdminState,
    method: Method,
    tail: &str,
    query: HashMap<String, String>,
    headers: &HeaderMap,
    remote: Option<std::net::SocketAddr>,
    body: &[u8],
) -> Response {
    // ALLOWED_HOSTS: a request for another host name is refused (DNS rebinding, host poisoning).
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    let name = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(&host);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if !state
        .allowed_hosts
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(name))
    {
        return plain(
            StatusCode::BAD_REQUEST,
            "Bad Request: this host name is not in ALLOWED_HOSTS",
        );
    }
    let forwarded = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let req = Req {
        path: tail.trim_matches('/').to_string(),
        query,
        form: if method == Method::POST {
            serde_urlencoded::from_bytes(body).unwrap_or_default()
        } else {
            Vec::new()
        },
        ip: forwarded("x-forwarded-for")
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()))
            .or_else(|| remote.map(|r| r.ip().to_string()))
            .unwrap_or_default(),
        user_agent: forwarded("user-agent").unwrap_or_default(),
        https: forwarded("x-forwarded-proto").is_some_and(|p| p == "https"),
        cookies: cookies(headers),
        method,
    };
    let r = match dispatch(state, &req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, path = req.path, "admin page failed");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "The admin panel cannot reach its database right now. Try again in a moment.",
            )
        }
    };
    secure(r)
}

type R = Result<Response, crate::store::StoreError>;

async fn dispatch(state: &AdminState, req: &Req) -> R {
    match (req.method.as_str(), req.path.as_str()) {
        (_, "style.css") => {
            Ok(warp::reply::with_header(render::STYLE, "content-type", "text/css; charset=utf-8").into_response())
        }
        ("GET", "login") => login_page(state, req, None, StatusCode::OK),
        ("POST", "login") => login(state, req).await,
        _ => {
            let client = state.store.client().await?;
            // A cookie this service did not sign never reaches the database.
            let token = req.cookies.get(COOKIE).and_then(|c| state.signer.session_token(c));
            let session = match token {
                Some(t) => admins::session(&client, t, state.idle.as_secs_f64()).await?,
                None => None,
            };
            drop(client);
            let Some(session) = session else {
                if req.method == Method::GET {
                    return Ok(redirect("/admin/login"));
                }
                return Ok(plain(
                    StatusCode::FORBIDDEN,
                    "Forbidden: your session has expired; log in again.",
                ));
            };
            if req.method == Method::POST && !constant_time_eq(req.f("csrf_token"), &session.csrf) {
                return Ok(plain(
                    StatusCode::FORBIDDEN,
                    "Forbidden: the form's CSRF token is missing or wrong. Reload the page and try again.",
                ));
            }
            if (req.method.as_str(), req.path.as_str()) == ("POST", "logout") {
                if let Some(t) = token {
                    admins::end_session(&state.store.client().await?, t).await?;
                }
                return Ok(with_cookie(
                    redirect("/admin/login"),
                    cookie_header(COOKIE, "", req.https, Some(0)),
                ));
            }
            routes::route(state, req, &session).await
        }
    }
}

#[derive(serde::Serialize)]
struct LoginPage<'a> {
    csrf_token: &'a str,
    error: Option<&'a str>,
    username: &'a str,
}

fn login_page(state: &AdminState, req: &Req, error: Option<&str>, status: StatusCode) -> R {
    // Login CSRF: a double-submit token (cookie + hidden field), since there is no session yet;
    // signed with SECRET_KEY, so a cookie planted by someone else does not pass.
    let token = match req.cookies.get(LOGIN_COOKIE) {
        Some(t) if state.signer.login_token_valid(t) => t.clone(),
        _ => state.signer.login_token(&admins::new_token()?),
    };
    let locale = if req.q("lang") == "en" { "en" } else { "ru" };
    let data = LoginPage {
        csrf_token: &token,
        error,
        username: req.f("username"),
    };
    let r = page::html(state.templates.page("login", locale, &data), status);
    Ok(with_cookie(
        r,
        cookie_header(LOGIN_COOKIE, &token, req.https, Some(3600)),
    ))
}

async fn login(state: &AdminState, req: &Req) -> R {
    let cookie = req.cookies.get(LOGIN_COOKIE).map(String::as_str).unwrap_or("");
    if !state.signer.login_token_valid(cookie) || !constant_time_eq(cookie, req.f("csrf_token")) {
        return Ok(plain(
            StatusCode::FORBIDDEN,
            "Forbidden: the form's CSRF token is missing or wrong. Reload the login page.",
        ));
    }
    let username = req.f("username").trim().to_lowercase();
    let (by_user, by_ip) = (format!("user:{username}"), format!("ip:{}", req.ip));
    if state.failures(&by_user) >= MAX_FAILURES || state.failures(&by_ip) >= MAX_FAILURES * 4 {
        return login_page(state, req, Some("too_many"), StatusCode::TOO_MANY_REQUESTS);
    }
    let client = state.store.client().await?;
    match admins::authenticate(&client, &username, req.f("password")).await? {
        Some(admin) => {
            let token = admins::start_session(&client, admin.id, &req.ip, &req.user_agent).await?;
            admins::audit(
                &client,
                &admin,
                "admin.login",
                "admin",
                &admin.id.to_string(),
                None,
                None,
                &req.ip,
            )
            .await?;
            Ok(with_cookie(
                redirect("/admin/"),
                cookie_header(COOKIE, &state.signer.session_cookie(&token), req.https, None),
            ))
        }
        None => {
            state.fail(&by_user);
            state.fail(&by_ip);
            login_page(state, req, Some("wrong"), StatusCode::UNAUTHORIZED)
        }
    }
}

/// What the pages need to know about the admin who asks.
pub fn is_superuser(s: &Session) -> bool {
    s.admin.superuser
}
