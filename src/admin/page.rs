//! What every page of the panel shares: the layout's data, rendering (a page's data is a struct
//! serialised into its template), the pager, links that keep the filters, the 403/404 pages and
//! the streamed CSV export.

use super::request::Req;
use super::state::AdminState;
use crate::registry::Locale;
use crate::store::admins::Session;
use crate::store::{access, Client, StoreError};
use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::Reply;

pub(super) const PER_PAGE: i64 = 25;

tokio::task_local! {
    /// The message the request's flash cookie asks its page to show (see `admin::dispatch`).
    pub(super) static FLASH: Option<super::request::Flash>;
}

/// The flash of this request, in the admin's language, and its kind (`""` or `error`).
fn current_flash(s: &Session) -> (Option<String>, &'static str) {
    let Some(f) = FLASH.try_with(|f| f.clone()).ok().flatten() else {
        return (None, "");
    };
    let key = format!("admin.flash.{}", f.key);
    let text = match f.n {
        Some(n) => crate::i18n::tf(locale_of(s), &key, &[("n", &n.to_string())]),
        None => tr(s, &key),
    };
    (Some(text), if f.error { "error" } else { "" })
}

pub(super) fn locale_of(s: &Session) -> Locale {
    if s.admin.locale == "en" {
        Locale::En
    } else {
        Locale::Ru
    }
}

pub(super) fn tr(s: &Session, key: &str) -> String {
    crate::i18n::t(locale_of(s), key)
}

#[derive(Serialize)]
pub(super) struct Me {
    username: String,
    superuser: bool,
}

/// The layout's part of every page.
#[derive(Serialize)]
pub(super) struct Layout {
    me: Me,
    csrf_token: String,
    nav: &'static str,
    title: String,
    /// Access requests waiting (the badge in the menu).
    pending: i64,
    pub flash: Option<String>,
    flash_kind: &'static str,
}

/// One page's data: the layout's and the page's own, side by side at the template's root.
#[derive(Serialize)]
struct Page<'a, T: Serialize> {
    #[serde(flatten)]
    layout: &'a Layout,
    #[serde(flatten)]
    data: &'a T,
}

pub(super) async fn layout(c: &Client, s: &Session, nav: &'static str, title: String) -> Result<Layout, StoreError> {
    let mut l = bare_layout(s, nav, title);
    l.pending = access::pending_count(c).await?;
    Ok(l)
}

/// The layout without the database's part (the pending badge): for error pages, which must
/// render even when the database is what failed.
pub(super) fn bare_layout(s: &Session, nav: &'static str, title: String) -> Layout {
    let (flash, flash_kind) = current_flash(s);
    Layout {
        me: Me {
            username: s.admin.username.clone(),
            superuser: s.admin.superuser,
        },
        csrf_token: s.csrf.clone(),
        nav,
        title,
        pending: 0,
        flash,
        flash_kind,
    }
}

impl Layout {
    /// Shows `text` as this page's message (an error when `error`).
    pub fn say(&mut self, text: String, error: bool) {
        self.flash = Some(text);
        self.flash_kind = if error { "error" } else { "" };
    }
}

/// 200 with the page, or 500 when its template does not render (strict mode: a variable the
/// data lacks is an error, never an empty spot).
pub(super) fn render<T: Serialize>(state: &AdminState, s: &Session, name: &str, layout: &Layout, data: &T) -> Response {
    render_status(state, s, name, layout, data, StatusCode::OK)
}

pub(super) fn render_status<T: Serialize>(
    state: &AdminState,
    s: &Session,
    name: &str,
    layout: &Layout,
    data: &T,
    status: StatusCode,
) -> Response {
    html(
        state.templates.page(name, &s.admin.locale, &Page { layout, data }),
        status,
    )
}

/// A rendered page with `status`, or the 500 of a template that failed.
pub(super) fn html(rendered: Result<String, String>, status: StatusCode) -> Response {
    match rendered {
        Ok(body) => warp::reply::with_status(warp::reply::html(body), status).into_response(),
        Err(e) => warp::reply::with_status(
            warp::reply::html(format!(
                "<!doctype html><title>Error</title><p>{}</p>",
                handlebars::html_escape(&e)
            )),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
        .into_response(),
    }
}

/// 422 when the form came back with errors.
pub(super) fn form_status(errors: &[String]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

#[derive(Serialize)]
struct ErrorPage<'a> {
    key: &'a str,
    back: &'a str,
}

/// A page with one message (`key`, translated) and a link back, inside the layout (menu
/// included), titled by the message.
pub(super) fn message(state: &AdminState, s: &Session, key: &str, back: &str, status: StatusCode) -> Response {
    let l = bare_layout(s, "", tr(s, &format!("{key}_title")));
    render_status(state, s, "error", &l, &ErrorPage { key, back }, status)
}

pub(super) fn not_found(state: &AdminState, s: &Session) -> Response {
    message(state, s, "admin.not_found", "/admin/", StatusCode::NOT_FOUND)
}

pub(super) fn forbidden(state: &AdminState, s: &Session) -> Response {
    message(state, s, "admin.forbidden", "/admin/", StatusCode::FORBIDDEN)
}

/// The pager partial's data.
#[derive(Serialize)]
pub(super) struct Pager {
    many: bool,
    page: i64,
    last: i64,
    /// A number, or `10000+` for lists counted only that far.
    pub total: String,
    prev: Option<String>,
    next: Option<String>,
}

/// The page number asked for, clamped to the pages there are (a huge number shows the last
/// one); returns the offset and the pager.
pub(super) fn pager(req: &Req, total: i64, path: &str) -> (i64, Pager) {
    let last = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = req.q("page").parse::<i64>().unwrap_or(1).clamp(1, last);
    let link = |p: i64| {
        let mut q: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| *k != "page")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        q.sort();
        q.push(("page".into(), p.to_string()));
        format!("{path}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
    };
    let pager = Pager {
        many: last > 1,
        page,
        last,
        total: total.to_string(),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < last).then(|| link(page + 1)),
    };
    ((page - 1) * PER_PAGE, pager)
}

/// This list's URL with `set` changed (an empty value removes the parameter) and the page reset.
pub(super) fn url_with(req: &Req, path: &str, set: &[(&str, &str)]) -> String {
    let mut q: Vec<(String, String)> = req
        .query
        .iter()
        .filter(|(k, _)| *k != "page" && !set.iter().any(|(s, _)| s == k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in set {
        if !v.is_empty() {
            q.push((k.to_string(), v.to_string()));
        }
    }
    q.sort();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
    }
}

/// One value of a filter drop-down.
#[derive(Serialize)]
pub(super) struct Choice {
    pub value: String,
    pub count: Option<i64>,
    pub on: bool,
}

pub(super) fn choices(values: Vec<(String, i64)>, chosen: &str) -> Vec<Choice> {
    values
        .into_iter()
        .map(|(value, n)| Choice {
            on: value == chosen,
            value,
            count: Some(n),
        })
        .collect()
}

/// A CSV field: quoted, and a leading formula character neutralised (CSV injection into
/// spreadsheets).
pub(super) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The chunks of a streamed body.
struct Chunks(tokio::sync::mpsc::Receiver<Result<bytes::Bytes, std::io::Error>>);

impl futures_util::Stream for Chunks {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// Rows a CSV export sends in one chunk.
const CSV_BATCH: usize = 500;

/// A CSV download streamed as the rows arrive: `header`, then `line(row)` for each row of
/// `rows`. The connection `c` is held until the last row is sent. A database error mid-way ends
/// the body early (the client sees a broken download, never a silently short file).
pub(super) fn csv_stream<S, T, F>(name: &str, header: &'static str, c: Client, rows: S, line: F) -> Response
where
    S: futures_util::Stream<Item = Result<T, StoreError>> + Send + 'static,
    T: Send + 'static,
    F: Fn(T) -> String + Send + 'static,
{
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let _held = c;
        let mut rows = std::pin::pin!(rows);
        let mut out = String::from(header);
        let mut n = 0;
        while let Some(row) = rows.next().await {
            match row {
                Ok(row) => out.push_str(&line(row)),
                Err(e) => {
                    tracing::warn!(error = %e, "CSV export interrupted");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
            n += 1;
            if n % CSV_BATCH == 0 && tx.send(Ok(std::mem::take(&mut out).into())).await.is_err() {
                return; // the client went away
            }
        }
        let _ = tx.send(Ok(out.into())).await;
    });
    let r = warp::reply::stream(Chunks(rx));
    let r = warp::reply::with_header(r, "content-type", "text/csv; charset=utf-8");
    warp::reply::with_header(r, "content-disposition", format!("attachment; filename=\"{name}\"")).into_response()
}
