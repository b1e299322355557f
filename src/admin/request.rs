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
/// The one-shot message the next page shows after a change ("Saved", "Applied to 3").
pub(super) const FLASH_COOKIE: &str = "dm_flash";

/// Messages a page can be asked to show after a redirect: only these keys are ever read from
/// the cookie, so it cannot carry text of its own onto a page.
pub(super) const FLASHES: [&str; 7] = [
    "saved",
    "deleted",
    "started",
    "applied",
    "bulk_none",
    "bulk_no_action",
    "revoked",
];

/// The message after a change: `ok` or `error`, one of [`FLASHES`], and a count for those that
/// take one.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Flash {
    pub error: bool,
    pub key: &'static str,
    pub n: Option<i64>,
}

impl Flash {
    pub fn ok(key: &'static str) -> Flash {
        Flash {
            error: false,
            key,
            n: None,
        }
    }

    pub fn error(key: &'static str) -> Flash {
        Flash {
            error: true,
            key,
            n: None,
        }
    }

    fn cookie_value(&self) -> String {
        let kind = if self.error { "error" } else { "ok" };
        match self.n {
            Some(n) => format!("{kind}.{}.{n}", self.key),
            None => format!("{kind}.{}", self.key),
        }
    }

    pub fn parse(v: &str) -> Option<Flash> {
        let mut parts = v.split('.');
        let error = match parts.next()? {
            "ok" => false,
            "error" => true,
            _ => return None,
        };
        let key = parts.next()?;
        let key = FLASHES.iter().copied().find(|k| *k == key)?;
        let n = match parts.next() {
            Some(n) => Some(n.parse().ok()?),
            None => None,
        };
        Some(Flash { error, key, n })
    }
}

/// A redirect that shows `flash` on the page it leads to.
pub(super) fn redirect_with(to: &str, flash: Flash, https: bool) -> Response {
    with_cookie(
        redirect(to),
        cookie_header(FLASH_COOKIE, &flash.cookie_value(), https, Some(60)),
    )
}

/// Whether the response already sets the flash cookie.
pub(super) fn sets_flash(r: &Response) -> bool {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&format!("{FLASH_COOKIE}="))))
}

/// One request, as the pages see it.
pub struct Req {
    pub method: Method,
    /// The path after `/admin/`, without a trailing slash.
    pub path: String,
    pub query: HashMap<String, String>,
    pub form: Vec<(String, String)>,
    /// The files of a `multipart/form-data` form (its text fields are in `form`).
    pub files: Vec<Upload>,
    pub ip: String,
    pub user_agent: String,
    pub https: bool,
    pub(super) cookies: HashMap<String, String>,
}

/// One uploaded file.
pub struct Upload {
    pub field: String,
    pub filename: String,
    pub data: Vec<u8>,
}

/// The text fields and the files of a `multipart/form-data` body (RFC 7578); a malformed body
/// gives what was read before the fault (then the CSRF check refuses a form without its token).
pub(super) fn multipart(body: &[u8], content_type: &str) -> (Vec<(String, String)>, Vec<Upload>) {
    let (mut form, mut files) = (Vec::new(), Vec::new());
    let Some(boundary) = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| format!("--{}", b.trim_matches('"')))
    else {
        return (form, files);
    };
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let delimiter = format!("\r\n{boundary}");
    let Some(mut at) = find(body, boundary.as_bytes(), 0).map(|p| p + boundary.len()) else {
        return (form, files);
    };
    while body.get(at..at + 2) == Some(b"\r\n") {
        let Some(head_end) = find(body, b"\r\n\r\n", at + 2) else {
            break;
        };
        let Some(end) = find(body, delimiter.as_bytes(), head_end + 4) else {
            break;
        };
        let head = String::from_utf8_lossy(&body[at + 2..head_end]);
        let data = &body[head_end + 4..end];
        let param = |name: &str| {
            head.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
                .and_then(|l| {
                    l.split(';').find_map(|p| {
                        p.trim()
                            .strip_prefix(&format!("{name}="))
                            .map(|v| v.trim_matches('"').to_string())
                    })
                })
        };
        let field = param("name").unwrap_or_default();
        match param("filename") {
            Some(filename) => files.push(Upload {
                field,
                filename,
                data: data.to_vec(),
            }),
            None => form.push((field, String::from_utf8_lossy(data).into_owned())),
        }
        at = end + delimiter.len();
    }
    (form, files)
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
