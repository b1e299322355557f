//! One request as the pages see it, and the pieces of every response: security headers,
//! redirects, cookies, plain-text refusals.

use std::collections::HashMap;
use warp::http::{HeaderMap, Method, StatusCode};
use warp::reply::Response;
use warp::Reply;

/// What a page answers: a response, or the database being out of reach (a 503 page).
pub(super) type R = Result<Response, crate::store::StoreError>;

pub(super) const COOKIE: &str = "dm_admin";
pub(super) const LOGIN_COOKIE: &str = "dm_login_csrf";

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
    pub(super) cookies: HashMap<String, String>,
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

pub(super) fn cookies(headers: &HeaderMap) -> HashMap<String, String> {
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

pub(super) fn cookie_header(name: &str, value: &str, https: bool, max_age: Option<i64>) -> String {
    let mut c = format!("{name}={value}; Path=/admin; HttpOnly; SameSite=Strict");
    if https {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    c
}

pub(super) fn with_cookie(mut r: Response, cookie: String) -> Response {
    if let Ok(v) = warp::http::HeaderValue::from_str(&cookie) {
        r.headers_mut().append("set-cookie", v);
    }
    r
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response {
    secure(warp::reply::with_status(text.to_string(), status).into_response())
}

pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
