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
//! analytics, tasks and their tests, submissions), `routes` maps URLs to them, `page` is what they share. Their queries live in
//! `store/`; read-only pages read through `AdminState::reader` (the replica, when set).

mod access;
mod accounts;
mod analytics;
mod audit;
mod broadcasts;
mod charts;
mod checks;
mod content;
mod efficacy;
mod page;
mod registry;
mod render;
mod request;
mod routes;
mod signing;
mod state;
mod submissions;
mod task_form;
mod task_tests;
mod tasks;
mod users;
mod zip;

use crate::store::admins::{self, Session};
use request::{
    constant_time_eq, cookie_header, cookies, plain, sets_flash, with_cookie, Flash, COOKIE, FLASH_COOKIE,
    LOGIN_COOKIE, R,
};
use state::MAX_FAILURES;
use std::collections::HashMap;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::Reply;

pub use render::Templates;
pub use request::{redirect, secure, Req};
pub use state::{AdminState, Notifier};

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
    let content_type = forwarded("content-type").unwrap_or_default();
    let (form, files) = if method != Method::POST {
        (Vec::new(), Vec::new())
    } else if content_type.starts_with("multipart/form-data") {
        request::multipart(body, &content_type)
    } else {
        (serde_urlencoded::from_bytes(body).unwrap_or_default(), Vec::new())
    };
    let req = Req {
        path: tail.trim_matches('/').to_string(),
        query,
        form,
        files,
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
            // The message a redirect left for this page is shown once, then cleared; every
            // change that ends in a redirect leaves one ("saved" unless it chose its own).
            let flash = req.cookies.get(FLASH_COOKIE).and_then(|v| Flash::parse(v));
            let had_cookie = req.cookies.contains_key(FLASH_COOKIE);
            let mut r = page::FLASH.scope(flash, routes::route(state, req, &session)).await?;
            let redirected = r.status() == StatusCode::SEE_OTHER;
            if req.method == Method::POST && redirected && !sets_flash(&r) && req.path != "locale" {
                r = with_cookie(r, cookie_header(FLASH_COOKIE, "ok.saved", req.https, Some(60)));
            } else if had_cookie && !redirected && !sets_flash(&r) {
                r = with_cookie(r, cookie_header(FLASH_COOKIE, "", req.https, Some(0)));
            }
            Ok(r)
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
