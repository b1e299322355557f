//! The panel's pages and actions (after login and the CSRF check).

use super::{redirect, AdminState, Req, R};
use crate::i18n::t;
use crate::registry::Locale;
use crate::store::admins::{self, Session};
use crate::store::{access, settings, Client};
use serde_json::{json, Map, Value};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::Reply;

pub(super) const PER_PAGE: i64 = 25;
/// Lists of big tables count matches up to this many.
const COUNT_CAP: i64 = 10_001;

fn loc(s: &Session) -> Locale {
    if s.admin.locale == "en" {
        Locale::En
    } else {
        Locale::Ru
    }
}

pub(super) fn tr(s: &Session, key: &str) -> String {
    t(loc(s), key)
}

/// What every page's layout needs.
pub(super) async fn base(
    client: &Client,
    s: &Session,
    nav: &str,
    title: String,
) -> Result<Map<String, Value>, crate::store::StoreError> {
    let pending: i64 = client
        .query_one("SELECT count(*) FROM access_requests WHERE status = 'pending'", &[])
        .await?
        .get(0);
    let mut m = Map::new();
    m.insert(
        "me".into(),
        json!({"username": s.admin.username, "superuser": s.admin.superuser}),
    );
    m.insert("csrf_token".into(), json!(s.csrf));
    m.insert("nav".into(), json!(nav));
    m.insert("title".into(), json!(title));
    m.insert("pending".into(), json!(pending));
    Ok(m)
}

pub(super) fn page(state: &AdminState, s: &Session, name: &str, data: Map<String, Value>) -> Response {
    warp::reply::html(state.templates.page(name, &s.admin.locale, Value::Object(data))).into_response()
}

pub(super) fn page_status(
    state: &AdminState,
    s: &Session,
    name: &str,
    data: Map<String, Value>,
    status: StatusCode,
) -> Response {
    warp::reply::with_status(page(state, s, name, data), status).into_response()
}

/// The page number asked for, clamped to the pages there are (a huge number shows the last one).
pub(super) fn pager(req: &Req, total: i64, path: &str) -> (i64, Value) {
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
    let v = json!({
        "many": last > 1, "page": page, "last": last, "total": total,
        "prev": (page > 1).then(|| link(page - 1)),
        "next": (page < last).then(|| link(page + 1)),
    });
    ((page - 1) * PER_PAGE, v)
}

fn url_with(req: &Req, path: &str, set: &[(&str, &str)]) -> String {
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

pub async fn route(state: &AdminState, req: &Req, s: &Session) -> R {
    let parts: Vec<&str> = req.path.split('/').filter(|p| !p.is_empty()).collect();
    let post = req.method == Method::POST;
    match (post, parts.as_slice()) {
        (false, []) => dashboard(state, s).await,
        (false, ["users"]) => users(state, req, s).await,
        (false, ["users.csv"]) => users_csv(state).await,
        (false, ["users", id]) => user(state, s, id).await,
        (true, ["users", "bulk"]) => {
            let ids: Vec<i64> = req.f_all("ids").iter().filter_map(|i| i.parse().ok()).collect();
            for id in &ids {
                user_action(state, req, s, *id, req.f("action")).await?;
            }
            Ok(redirect("/admin/users"))
        }
        (true, ["users", id, action]) => {
            let Ok(id) = id.parse::<i64>() else {
                return Ok(not_found(s));
            };
            user_action(state, req, s, id, action).await?;
            Ok(redirect(&format!("/admin/users/{id}")))
        }
        (false, ["access"]) => access_page(state, s).await,
        (true, ["access", "whitelist"]) => whitelist_change(state, req, s).await,
        (true, ["access", id, decision]) => access_decide(state, req, s, id, decision).await,
        (false, ["checks"]) => checks(state, req, s).await,
        (false, ["checks.csv"]) => checks_csv(state).await,
        (false, ["checks", id]) => check(state, s, id).await,
        (false, ["settings"]) if s.admin.superuser => {
            settings_page(state, s, &settings::load(&state.store.client().await?).await?, vec![]).await
        }
        (true, ["settings"]) if s.admin.superuser => settings_save(state, req, s).await,
        (_, ["settings"]) => Ok(forbidden(s)),
        (false, ["faq"]) => faq_list(state, s).await,
        (false, ["faq", "new"]) => {
            faq_form(
                state,
                s,
                None,
                json!({"locale": "ru", "position": 0, "published": true}),
                vec![],
            )
            .await
        }
        (true, ["faq", "new"]) => faq_save(state, req, s, None).await,
        (false, ["faq", id]) => {
            let Ok(id) = id.parse::<i64>() else {
                return Ok(not_found(s));
            };
            match faq_get(&state.store.client().await?, id).await? {
                Some(item) => faq_form(state, s, Some(id), item, vec![]).await,
                None => Ok(not_found(s)),
            }
        }
        (true, ["faq", id]) => match id.parse::<i64>() {
            Ok(id) => faq_save(state, req, s, Some(id)).await,
            Err(_) => Ok(not_found(s)),
        },
        (true, ["faq", id, "delete"]) => faq_delete(state, req, s, id).await,
        (false, ["audit"]) => audit(state, req, s).await,
        (false, ["registry"]) => super::registry::list(state, req, s).await,
        (false, ["registry", "new"]) => super::registry::new_form(state, req, s).await,
        (true, ["registry", "new"]) => super::registry::save(state, req, s, None).await,
        (_, ["registry", "tester"]) => super::registry::tester(state, req, s).await,
        (false, ["registry", slug]) => super::registry::edit_form(state, s, slug).await,
        (true, ["registry", slug]) => super::registry::save(state, req, s, Some(slug)).await,
        (true, ["registry", slug, "delete"]) => super::registry::delete(state, req, s, slug).await,
        (false, ["unmatched"]) => super::registry::unmatched(state, req, s).await,
        (false, ["admins"]) if s.admin.superuser => super::accounts::admins_page(state, s, vec![], None).await,
        (true, ["admins"]) if s.admin.superuser => super::accounts::create_admin(state, req, s).await,
        (true, ["admins", id, action]) if s.admin.superuser => {
            super::accounts::admin_action(state, req, s, id, action).await
        }
        (false, ["tokens"]) if s.admin.superuser => super::accounts::tokens_page(state, s, None, vec![]).await,
        (true, ["tokens"]) if s.admin.superuser => super::accounts::create_token(state, req, s).await,
        (true, ["tokens", id, "revoke"]) if s.admin.superuser => super::accounts::revoke_token(state, req, s, id).await,
        (_, ["admins" | "tokens", ..]) => Ok(forbidden(s)),
        (false, ["analytics"]) => super::analytics::page_(state, s).await,
        (false, ["broadcasts"]) => super::broadcasts::list(state, s).await,
        (false, ["broadcasts", "new"]) => super::broadcasts::new_form(state, s).await,
        (true, ["broadcasts", "new"]) => super::broadcasts::create(state, req, s).await,
        (false, ["broadcasts", id]) => super::broadcasts::detail(state, s, id, None).await,
        (true, ["broadcasts", id, action]) => super::broadcasts::act(state, req, s, id, action).await,
        (false, ["password"]) => password_page(state, s, vec![]).await,
        (true, ["password"]) => password_save(state, req, s).await,
        (true, ["locale"]) => {
            let l = if req.f("locale") == "en" { "en" } else { "ru" };
            admins::set_locale(&state.store.client().await?, s.admin.id, l).await?;
            Ok(redirect("/admin/"))
        }
        _ => Ok(not_found(s)),
    }
}

pub(super) fn not_found(s: &Session) -> Response {
    warp::reply::with_status(
        warp::reply::html(format!(
            "<!doctype html><p>{}</p><p><a href=\"/admin/\">←</a></p>",
            handlebars::html_escape(&tr(s, "admin.not_found"))
        )),
        StatusCode::NOT_FOUND,
    )
    .into_response()
}

fn forbidden(s: &Session) -> Response {
    warp::reply::with_status(
        warp::reply::html(format!(
            "<!doctype html><p>{}</p><p><a href=\"/admin/\">←</a></p>",
            handlebars::html_escape(&tr(s, "admin.forbidden"))
        )),
        StatusCode::FORBIDDEN,
    )
    .into_response()
}

async fn dashboard(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    // Totals come from the daily aggregates (checks_daily), not from a scan of `checks`.
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM users),
                    (SELECT count(*) FROM users WHERE last_seen_at > now() - interval '7 days'),
                    (SELECT count(*) FROM checks WHERE created_at >= date_trunc('day', now())),
                    (SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily),
                    (SELECT count(*) FROM access_requests WHERE status = 'pending'),
                    (SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily
                      WHERE day = (now() AT TIME ZONE 'UTC')::date AND verdict <> 'ok')",
            &[],
        )
        .await?;
    let verdicts: Vec<Value> = c
        .query(
            "SELECT verdict, sum(n)::bigint FROM checks_daily GROUP BY 1 ORDER BY 2 DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| json!({"verdict": r.get::<_, String>(0), "count": r.get::<_, i64>(1)}))
        .collect();
    let mut m = base(&c, s, "dashboard", tr(s, "admin.nav.dashboard")).await?;
    m.insert(
        "stats".into(),
        json!({"users": row.get::<_, i64>(0), "active_7d": row.get::<_, i64>(1), "checks_today": row.get::<_, i64>(2),
               "checks": row.get::<_, i64>(3), "pending": row.get::<_, i64>(4), "failed_today": row.get::<_, i64>(5)}),
    );
    m.insert("verdicts".into(), json!(verdicts));
    Ok(page(state, s, "dashboard", m))
}

const USER_STATUS: &str = "CASE $2
    WHEN 'blocked' THEN u.blocked
    WHEN 'whitelisted' THEN EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username))
    WHEN 'bot_blocked' THEN u.bot_blocked
    ELSE TRUE END";

async fn users(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    // Search: id, username or name. The text is a bound parameter, never SQL.
    let q = req.q("q").trim().chars().take(100).collect::<String>();
    let status = match req.q("status") {
        v @ ("blocked" | "whitelisted" | "bot_blocked") => v,
        _ => "all",
    };
    let (sort_col, sort_key) = match req.q("sort").trim_start_matches('-') {
        "id" => ("u.id", "id"),
        "name" => ("lower(u.first_name)", "name"),
        "checks" => ("u.checks_count", "checks"),
        _ => ("u.last_seen_at", "last_seen"),
    };
    let desc = req.q("sort").is_empty() || req.q("sort").starts_with('-');
    let search = "($1 = '' OR u.id::text = $1 OR lower(u.username) LIKE '%' || lower($1) || '%'
                   OR lower(u.first_name || ' ' || COALESCE(u.last_name, '')) LIKE '%' || lower($1) || '%')";
    let like_safe = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    // Filters with counts (for the current search); the selected one's count is the total.
    let mut filters = Vec::new();
    let mut total = 0;
    for (key, label) in [
        ("all", "admin.users.all"),
        ("whitelisted", "admin.users.whitelisted"),
        ("blocked", "admin.users.blocked"),
        ("bot_blocked", "admin.users.bot_blocked"),
    ] {
        let n: i64 = c
            .query_one(
                &format!("SELECT count(*) FROM users u WHERE {search} AND {USER_STATUS}"),
                &[&like_safe, &key],
            )
            .await?
            .get(0);
        if key == status {
            total = n;
        }
        filters.push(
            json!({"href": url_with(req, "/admin/users", &[("status", if key == "all" { "" } else { key })]),
                            "label": tr(s, label), "count": n, "on": key == status}),
        );
    }
    let (offset, pages) = pager(req, total, "/admin/users");
    let rows = c
        .query(
            &format!(
                "SELECT u.id, u.first_name || COALESCE(' ' || u.last_name, ''), u.username, u.checks_count,
                        to_char(u.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), u.blocked, u.bot_blocked,
                        EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username))
                   FROM users u WHERE {search} AND {USER_STATUS}
                  ORDER BY {sort_col} {}, u.id OFFSET $3 LIMIT $4",
                if desc { "DESC" } else { "ASC" }
            ),
            &[&like_safe, &status, &offset, &PER_PAGE],
        )
        .await?;
    let users: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"id": r.get::<_, i64>(0), "name": r.get::<_, String>(1), "username": r.get::<_, Option<String>>(2),
                   "checks": r.get::<_, i64>(3), "last_seen": r.get::<_, String>(4), "blocked": r.get::<_, bool>(5),
                   "bot_blocked": r.get::<_, bool>(6), "whitelisted": r.get::<_, bool>(7)})
        })
        .collect();
    let columns: Vec<Value> = [
        ("id", "Telegram id"),
        ("name", "admin.col.name"),
        ("checks", "admin.col.checks"),
        ("last_seen", "admin.col.last_seen"),
    ]
    .iter()
    .map(|(key, label)| {
        let on = *key == sort_key;
        let next = if on && desc { key.to_string() } else { format!("-{key}") };
        json!({"href": url_with(req, "/admin/users", &[("sort", &next)]),
                   "label": if label.starts_with("admin.") { tr(s, label) } else { label.to_string() },
                   "on": on, "arrow": if desc { "↓" } else { "↑" }})
    })
    .collect();
    let mut m = base(&c, s, "users", tr(s, "admin.nav.users")).await?;
    m.insert("users".into(), json!(users));
    m.insert("q".into(), json!(q));
    m.insert("status".into(), json!(if status == "all" { "" } else { status }));
    m.insert("sort".into(), json!(req.q("sort")));
    m.insert("filters".into(), json!(filters));
    m.insert("columns".into(), json!(columns));
    m.insert("pages".into(), pages);
    Ok(page(state, s, "users", m))
}

fn csv_field(s: &str) -> String {
    // Quoted, and a leading formula character neutralised (CSV injection into spreadsheets).
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn csv(name: &str, body: String) -> Response {
    let r = warp::reply::with_header(body, "content-type", "text/csv; charset=utf-8");
    warp::reply::with_header(r, "content-disposition", format!("attachment; filename=\"{name}\"")).into_response()
}

async fn users_csv(state: &AdminState) -> R {
    let c = state.store.client().await?;
    let rows = c
        .query(
            "SELECT id, COALESCE(username, ''), first_name, COALESCE(last_name, ''), COALESCE(language_code, ''),
                    checks_count, blocked, bot_blocked, to_char(first_seen_at, 'YYYY-MM-DD HH24:MI:SS'),
                    to_char(last_seen_at, 'YYYY-MM-DD HH24:MI:SS') FROM users ORDER BY id",
            &[],
        )
        .await?;
    let mut out = String::from(
        "id,username,first_name,last_name,language_code,checks,blocked,bot_blocked,first_seen,last_seen\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{}\n",
            r.get::<_, i64>(0),
            csv_field(r.get(1)),
            csv_field(r.get(2)),
            csv_field(r.get(3)),
            csv_field(r.get(4)),
            r.get::<_, i64>(5),
            r.get::<_, bool>(6),
            r.get::<_, bool>(7),
            r.get::<_, String>(8),
            r.get::<_, String>(9)
        ));
    }
    Ok(csv("users.csv", out))
}

async fn user_json(c: &Client, id: i64) -> Result<Option<Value>, crate::store::StoreError> {
    let row = c
        .query_opt(
            "SELECT u.id, u.first_name || COALESCE(' ' || u.last_name, ''), u.username, u.checks_count,
                    to_char(u.last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), u.blocked, u.bot_blocked,
                    EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username)),
                    COALESCE(u.language_code, ''), COALESCE(u.locale, '')
               FROM users u WHERE u.id = $1",
            &[&id],
        )
        .await?;
    Ok(row.map(|r| {
        json!({"id": r.get::<_, i64>(0), "name": r.get::<_, String>(1), "username": r.get::<_, Option<String>>(2),
               "checks": r.get::<_, i64>(3), "last_seen": r.get::<_, String>(4), "blocked": r.get::<_, bool>(5),
               "bot_blocked": r.get::<_, bool>(6), "whitelisted": r.get::<_, bool>(7),
               "language_code": r.get::<_, String>(8), "locale": r.get::<_, String>(9)})
    }))
}

async fn user(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let Some(u) = user_json(&c, id).await? else {
        return Ok(not_found(s));
    };
    let checks: Vec<Value> = c
        .query(
            "SELECT id, language, COALESCE(verdict, status), to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
               FROM checks WHERE user_id = $1 ORDER BY id DESC LIMIT 20",
            &[&id],
        )
        .await?
        .iter()
        .map(|r| json!({"id": r.get::<_, i64>(0), "language": r.get::<_, String>(1), "verdict": r.get::<_, String>(2), "created": r.get::<_, String>(3)}))
        .collect();
    let (history, _) = admins::audit_rows(&c, Some(("user", &id.to_string())), 0, 50).await?;
    let mut m = base(
        &c,
        s,
        "users",
        format!("{} · {}", tr(s, "admin.nav.users"), u["name"].as_str().unwrap_or("")),
    )
    .await?;
    m.insert("user".into(), u);
    m.insert("checks".into(), json!(checks));
    m.insert("history".into(), json!(history));
    Ok(page(state, s, "user", m))
}

/// block / unblock / whitelist / unwhitelist, audited with the state before and after.
async fn user_action(
    state: &AdminState,
    req: &Req,
    s: &Session,
    id: i64,
    action: &str,
) -> Result<(), crate::store::StoreError> {
    let c = state.store.client().await?;
    let Some(before) = user_json(&c, id).await? else {
        return Ok(());
    };
    match action {
        "block" => {
            c.execute("UPDATE users SET blocked = TRUE WHERE id = $1", &[&id])
                .await?;
        }
        "unblock" => {
            c.execute("UPDATE users SET blocked = FALSE WHERE id = $1", &[&id])
                .await?;
        }
        "whitelist" => {
            access::whitelist_add(&c, &id.to_string(), &s.admin.username).await?;
        }
        "unwhitelist" => {
            access::whitelist_remove(&c, &id.to_string()).await?;
            if let Some(name) = before["username"].as_str() {
                access::whitelist_remove(&c, &name.to_lowercase()).await?;
            }
        }
        _ => return Ok(()),
    }
    let after = user_json(&c, id).await?;
    let pick = |v: &Value| json!({"blocked": v["blocked"], "whitelisted": v["whitelisted"]});
    admins::audit(
        &c,
        &s.admin,
        &format!("user.{action}"),
        "user",
        &id.to_string(),
        Some(pick(&before)),
        after.as_ref().map(pick),
        &req.ip,
    )
    .await
}

async fn access_page(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let rows: Vec<Value> = c
        .query(
            "SELECT r.id, r.user_id, u.first_name, u.username, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
               FROM access_requests r JOIN users u ON u.id = r.user_id WHERE r.status = 'pending' ORDER BY r.id",
            &[],
        )
        .await?
        .iter()
        .map(|r| json!({"id": r.get::<_, i64>(0), "user_id": r.get::<_, i64>(1), "name": r.get::<_, String>(2),
                        "username": r.get::<_, Option<String>>(3), "created": r.get::<_, String>(4)}))
        .collect();
    let whitelist: Vec<Value> = access::whitelist_list(&c)
        .await?
        .into_iter()
        .map(|(subject, by, name)| json!({"subject": subject, "added_by": by, "name": name}))
        .collect();
    let mut m = base(&c, s, "access", tr(s, "admin.nav.access")).await?;
    m.insert("requests".into(), json!(rows));
    m.insert("whitelist".into(), json!(whitelist));
    Ok(page(state, s, "access", m))
}

async fn access_decide(state: &AdminState, req: &Req, s: &Session, id: &str, decision: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let status = match decision {
        "approve" => "approved",
        "deny" => "denied",
        _ => return Ok(not_found(s)),
    };
    let mut c = state.store.client().await?;
    let tx = c.transaction().await?;
    let row = tx
        .query_opt(
            "UPDATE access_requests SET status = $2, decided_at = now(), decided_by = $3
              WHERE id = $1 AND status = 'pending' RETURNING user_id",
            &[&id, &status, &s.admin.username],
        )
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(redirect("/admin/access"));
    };
    let user_id: i64 = row.get(0);
    if status == "approved" {
        tx.execute(
            "INSERT INTO whitelist (subject, added_by) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&user_id.to_string(), &s.admin.username],
        )
        .await?;
    }
    tx.commit().await?;
    admins::audit(
        &c,
        &s.admin,
        &format!("access.{decision}"),
        "access_request",
        &id.to_string(),
        Some(json!({"status": "pending"})),
        Some(json!({"status": status, "user_id": user_id})),
        &req.ip,
    )
    .await?;
    // Tell the student, in their language.
    if let Some(notify) = &state.notify {
        let locale = c
            .query_opt("SELECT locale, language_code FROM users WHERE id = $1", &[&user_id])
            .await?
            .map(|r| {
                r.get::<_, Option<String>>(0)
                    .and_then(|l| Locale::parse(&l))
                    .unwrap_or_else(|| crate::store::users::locale_for_code(r.get::<_, Option<String>>(1).as_deref()))
            })
            .unwrap_or_default();
        let key = if status == "approved" {
            "bot.access.approved"
        } else {
            "bot.access.denied"
        };
        notify(user_id, crate::telegram::render::escape(&t(locale, key)));
    }
    Ok(redirect("/admin/access"))
}

/// Adds (`subject`) or removes (`remove`) a whitelist entry: a Telegram id or a username.
async fn whitelist_change(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let (text, adding) = if req.f("remove").is_empty() {
        (req.f("subject"), true)
    } else {
        (req.f("remove"), false)
    };
    let Some(subject) = access::normalize_subject(text) else {
        return Ok(warp::reply::with_status(
            warp::reply::html(format!(
                "<!doctype html><p>{}</p><p><a href=\"/admin/access\">←</a></p>",
                handlebars::html_escape(&tr(s, "admin.access.bad_subject"))
            )),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .into_response());
    };
    let changed = if adding {
        let added = access::whitelist_add(&c, &subject, &s.admin.username).await?;
        access::approve_requests_of(&c, &subject, &s.admin.username).await?;
        added
    } else {
        access::whitelist_remove(&c, &subject).await?
    };
    if changed {
        let (action, before, after) = if adding {
            (
                "whitelist.add",
                json!({"whitelisted": false}),
                json!({"whitelisted": true}),
            )
        } else {
            (
                "whitelist.remove",
                json!({"whitelisted": true}),
                json!({"whitelisted": false}),
            )
        };
        admins::audit(
            &c,
            &s.admin,
            action,
            "whitelist",
            &subject,
            Some(before),
            Some(after),
            &req.ip,
        )
        .await?;
    }
    Ok(redirect("/admin/access"))
}

const SOURCES: [&str; 4] = ["registry", "ai", "cache", "none"];

async fn checks(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let verdict = req.q("verdict").to_string();
    let language = req.q("language").to_string();
    let source = req.q("source").to_string();
    let user = req.q("user").trim().parse::<i64>().ok();
    let date = |k: &str| {
        let v = req.q(k);
        (v.len() == 10 && v.chars().all(|ch| ch.is_ascii_digit() || ch == '-')).then(|| v.to_string())
    };
    let (from, to) = (date("from"), date("to"));
    let filter = "($1 = '' OR verdict = $1) AND ($2 = '' OR language = $2)
                  AND ($3 = '' OR result->'explanation'->>'source' = $3) AND ($4::bigint IS NULL OR user_id = $4)
                  AND ($5::text IS NULL OR created_at >= $5::date) AND ($6::text IS NULL OR created_at < $6::date + 1)";
    // Counting millions of rows would dominate the page: without user or source filters the
    // total comes from the daily aggregates (plus the few unfinished checks); otherwise it is
    // counted up to COUNT_CAP, like Django admin's show_full_result_count = False.
    let total: i64 = if user.is_none() && source.is_empty() {
        let finished: i64 = c
            .query_one(
                "SELECT COALESCE(sum(n), 0)::bigint FROM checks_daily
                  WHERE ($1 = '' OR verdict = $1) AND ($2 = '' OR language = $2)
                    AND ($3::text IS NULL OR day >= $3::date) AND ($4::text IS NULL OR day <= $4::date)",
                &[&verdict, &language, &from, &to],
            )
            .await?
            .get(0);
        let unfinished: i64 = if verdict.is_empty() {
            c.query_one(
                "SELECT count(*) FROM checks WHERE status <> 'done' AND ($1 = '' OR language = $1)
                    AND ($2::text IS NULL OR created_at >= $2::date) AND ($3::text IS NULL OR created_at < $3::date + 1)",
                &[&language, &from, &to],
            )
            .await?
            .get(0)
        } else {
            0
        };
        finished + unfinished
    } else {
        c.query_one(
            &format!("SELECT count(*) FROM (SELECT 1 FROM checks WHERE {filter} LIMIT {COUNT_CAP}) t"),
            &[&verdict, &language, &source, &user, &from, &to],
        )
        .await?
        .get(0)
    };
    let (offset, mut pages) = pager(req, total, "/admin/checks");
    if total >= COUNT_CAP {
        pages["total"] = json!(format!("{}+", COUNT_CAP - 1));
    }
    let rows: Vec<Value> = c
        .query(
            &format!(
                "SELECT id, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), user_id, source, language,
                        COALESCE(verdict, status), COALESCE(result->'explanation'->>'source', ''),
                        COALESCE((result->>'duration_ms')::bigint, 0)
                   FROM checks WHERE {filter} ORDER BY id DESC OFFSET $7 LIMIT $8"
            ),
            &[&verdict, &language, &source, &user, &from, &to, &offset, &PER_PAGE],
        )
        .await?
        .iter()
        .map(|r| json!({"id": r.get::<_, i64>(0), "created": r.get::<_, String>(1), "user_id": r.get::<_, Option<i64>>(2),
                        "source": r.get::<_, String>(3), "language": r.get::<_, String>(4), "verdict": r.get::<_, String>(5),
                        "explanation": r.get::<_, String>(6), "duration": r.get::<_, i64>(7)}))
        .collect();
    let counts = |col: &'static str, chosen: String| {
        let c = &c;
        async move {
            let rows = c
                .query(
                    &format!("SELECT {col}, sum(n)::bigint FROM checks_daily GROUP BY 1 ORDER BY 1"),
                    &[],
                )
                .await?;
            Ok::<_, crate::store::StoreError>(
                rows.iter()
                    .map(|r| {
                        let v: String = r.get(0);
                        json!({"value": v, "count": r.get::<_, i64>(1), "on": v == chosen})
                    })
                    .collect::<Vec<_>>(),
            )
        }
    };
    let verdicts = counts("verdict", verdict.clone()).await?;
    let languages = counts("language", language.clone()).await?;
    let sources: Vec<Value> = SOURCES
        .iter()
        .map(|v| json!({"value": v, "on": *v == source}))
        .collect();
    let mut m = base(&c, s, "checks", tr(s, "admin.nav.checks")).await?;
    m.insert("checks".into(), json!(rows));
    m.insert("verdicts".into(), json!(verdicts));
    m.insert("languages".into(), json!(languages));
    m.insert("sources".into(), json!(sources));
    m.insert("user".into(), json!(req.q("user")));
    m.insert("from".into(), json!(from));
    m.insert("to".into(), json!(to));
    m.insert("pages".into(), pages);
    Ok(page(state, s, "checks", m))
}

async fn checks_csv(state: &AdminState) -> R {
    let c = state.store.client().await?;
    let rows = c
        .query(
            "SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS'), source, COALESCE(user_id::text, ''), language,
                    COALESCE(verdict, status), COALESCE(result->'explanation'->>'source', ''),
                    COALESCE((result->>'duration_ms')::bigint, 0)
               FROM checks ORDER BY id",
            &[],
        )
        .await?;
    let mut out = String::from("id,created,source,user_id,language,verdict,explanation_source,duration_ms\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            r.get::<_, i64>(0),
            r.get::<_, String>(1),
            csv_field(r.get(2)),
            r.get::<_, String>(3),
            csv_field(r.get(4)),
            csv_field(r.get(5)),
            csv_field(r.get(6)),
            r.get::<_, i64>(7)
        ));
    }
    Ok(csv("checks.csv", out))
}

async fn check(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let Some(row) = crate::store::checks::get(&c, id).await? else {
        return Ok(not_found(s));
    };
    let r = serde_json::to_value(&row.result).unwrap_or(Value::Null);
    let ts = |t: Option<std::time::SystemTime>| t.map(crate::api::rfc3339).unwrap_or_default();
    let check = json!({
        "id": row.id, "language": row.language, "verdict": row.verdict.clone().unwrap_or(row.status.clone()),
        "exit_code": r["exit_code"], "signal": r["signal"], "user_id": row.user_id, "source": row.source,
        "created": crate::api::rfc3339(row.created_at), "started": ts(row.started_at), "finished": ts(row.finished_at),
        "duration": r["duration_ms"], "code": row.code, "stdin": String::from_utf8_lossy(&row.stdin),
        "stdout": r["stdout"], "stderr": r["stderr"], "explanation": r["explanation"],
    });
    let mut m = base(&c, s, "checks", format!("{} #{id}", tr(s, "admin.check.title"))).await?;
    m.insert("check".into(), check);
    Ok(page(state, s, "check", m))
}

async fn settings_page(state: &AdminState, s: &Session, current: &settings::Settings, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let mut m = base(&c, s, "settings", tr(s, "admin.nav.settings")).await?;
    m.insert("s".into(), json!(current));
    m.insert("errors".into(), json!(errors));
    m.insert(
        "languages".into(),
        json!(["python", "javascript", "c", "cpp", "java", "go", "rust"]),
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(page_status(state, s, "settings", m, status))
}

async fn settings_save(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let before = settings::load(&c).await?;
    let mut errors = Vec::new();
    let num = |k: &str, max: i64, errors: &mut Vec<String>| -> i64 {
        match req.f(k).trim().parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => n,
            _ => {
                errors.push(format!(
                    "{}: 0–{max}",
                    tr(
                        s,
                        &format!(
                            "admin.settings.{}",
                            if k == "ai_daily_quota" { "ai_quota" } else { "rate" }
                        )
                    )
                ));
                0
            }
        }
    };
    let text = |k: &str, errors: &mut Vec<String>| -> String {
        let v = req.f(k).replace("\r\n", "\n");
        if v.chars().count() > 3000 {
            errors.push(format!("{k}: ≤ 3000"));
        }
        v
    };
    let new = settings::Settings {
        welcome_text_ru: text("welcome_text_ru", &mut errors),
        welcome_text_en: text("welcome_text_en", &mut errors),
        whitelist_mode: req.f("whitelist_mode") == "1",
        maintenance_mode: req.f("maintenance_mode") == "1",
        maintenance_message_ru: text("maintenance_message_ru", &mut errors),
        maintenance_message_en: text("maintenance_message_en", &mut errors),
        rate_limit_per_minute: num("rate_limit_per_minute", 600, &mut errors) as u32,
        ai_daily_quota: num("ai_daily_quota", 10_000, &mut errors) as i32,
        default_language: match req.f("default_language") {
            l @ ("" | "python" | "javascript" | "c" | "cpp" | "java" | "go" | "rust") => l.to_string(),
            _ => {
                errors.push(tr(s, "admin.settings.default_language"));
                String::new()
            }
        },
    };
    if !errors.is_empty() {
        // Nothing is saved; the form comes back with what was typed.
        return settings_page(state, s, &new, errors).await;
    }
    let before_v = json!(before);
    let after_v = json!(new);
    let mut changed_before = Map::new();
    let mut changed_after = Map::new();
    for (k, v) in after_v.as_object().into_iter().flatten() {
        if before_v.get(k) != Some(v) {
            settings::set(&c, k, v).await?;
            changed_before.insert(k.clone(), before_v[k].clone());
            changed_after.insert(k.clone(), v.clone());
        }
    }
    if !changed_after.is_empty() {
        admins::audit(
            &c,
            &s.admin,
            "settings.update",
            "settings",
            "",
            Some(Value::Object(changed_before)),
            Some(Value::Object(changed_after)),
            &req.ip,
        )
        .await?;
    }
    Ok(redirect("/admin/settings"))
}

async fn faq_get(c: &Client, id: i64) -> Result<Option<Value>, crate::store::StoreError> {
    Ok(c.query_opt("SELECT id, locale, question, answer, position, published FROM faq WHERE id = $1", &[&id])
        .await?
        .map(|r| json!({"id": r.get::<_, i64>(0), "locale": r.get::<_, String>(1), "question": r.get::<_, String>(2),
                        "answer": r.get::<_, String>(3), "position": r.get::<_, i32>(4), "published": r.get::<_, bool>(5)})))
}

async fn faq_list(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let items: Vec<Value> = c
        .query(
            "SELECT id, locale, question, position, published FROM faq ORDER BY locale, position, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            json!({"id": r.get::<_, i64>(0), "locale": r.get::<_, String>(1), "question": r.get::<_, String>(2),
                        "position": r.get::<_, i32>(3), "published": r.get::<_, bool>(4)})
        })
        .collect();
    let mut m = base(&c, s, "faq", tr(s, "admin.nav.faq")).await?;
    m.insert("items".into(), json!(items));
    Ok(page(state, s, "faq", m))
}

async fn faq_form(state: &AdminState, s: &Session, id: Option<i64>, item: Value, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let title = if id.is_some() {
        tr(s, "admin.faq.edit")
    } else {
        tr(s, "admin.faq.new")
    };
    let mut m = base(&c, s, "faq", title).await?;
    m.insert("item".into(), item);
    m.insert(
        "action".into(),
        json!(id
            .map(|i| format!("/admin/faq/{i}"))
            .unwrap_or_else(|| "/admin/faq/new".into())),
    );
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    Ok(page_status(state, s, "faq_form", m, status))
}

async fn faq_save(state: &AdminState, req: &Req, s: &Session, id: Option<i64>) -> R {
    let c = state.store.client().await?;
    let locale = if req.f("locale") == "en" { "en" } else { "ru" };
    let question = req.f("question").trim().to_string();
    let answer = req.f("answer").replace("\r\n", "\n").trim().to_string();
    let mut errors = Vec::new();
    if question.is_empty() || question.chars().count() > 300 {
        errors.push(tr(s, "admin.faq.err_question"));
    }
    if answer.is_empty() || answer.chars().count() > 3000 {
        errors.push(tr(s, "admin.faq.err_answer"));
    }
    let position = match req.f("position").trim() {
        "" => 0,
        p => p.parse::<i32>().unwrap_or_else(|_| {
            errors.push(tr(s, "admin.faq.err_position"));
            0
        }),
    };
    let published = req.f("published") == "1";
    let item = json!({"id": id, "locale": locale, "question": question, "answer": answer, "position": position, "published": published});
    if !errors.is_empty() {
        return faq_form(state, s, id, item, errors).await;
    }
    let before = match id {
        Some(i) => faq_get(&c, i).await?,
        None => None,
    };
    let new_id: i64 = match id {
        Some(i) => {
            if before.is_none() {
                return Ok(not_found(s));
            }
            c.execute(
                "UPDATE faq SET locale = $2, question = $3, answer = $4, position = $5, published = $6, updated_at = now() WHERE id = $1",
                &[&i, &locale, &question, &answer, &position, &published],
            )
            .await?;
            i
        }
        None => c
            .query_one(
                "INSERT INTO faq (locale, question, answer, position, published) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                &[&locale, &question, &answer, &position, &published],
            )
            .await?
            .get(0),
    };
    let action = if id.is_some() { "faq.update" } else { "faq.create" };
    admins::audit(
        &c,
        &s.admin,
        action,
        "faq",
        &new_id.to_string(),
        before,
        Some(item),
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/faq"))
}

async fn faq_delete(state: &AdminState, req: &Req, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let Some(before) = faq_get(&c, id).await? else {
        return Ok(not_found(s));
    };
    c.execute("DELETE FROM faq WHERE id = $1", &[&id]).await?;
    admins::audit(
        &c,
        &s.admin,
        "faq.delete",
        "faq",
        &id.to_string(),
        Some(before),
        None,
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/faq"))
}

async fn audit(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    // ?object_type=…&object_id=… : the history of one object.
    let object = Some((req.q("object_type"), req.q("object_id"))).filter(|(t, _)| !t.is_empty());
    let (_, total) = admins::audit_rows(&c, object, 0, 1).await?;
    let (offset, pages) = pager(req, total, "/admin/audit");
    let (rows, _) = admins::audit_rows(&c, object, offset, PER_PAGE).await?;
    let title = match object {
        Some((t, o)) => format!("{} · {t} {o}", tr(s, "admin.history")),
        None => tr(s, "admin.nav.audit"),
    };
    let mut m = base(&c, s, "audit", title).await?;
    m.insert("rows".into(), json!(rows));
    m.insert("pages".into(), pages);
    Ok(page(state, s, "audit", m))
}

async fn password_page(state: &AdminState, s: &Session, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let mut m = base(&c, s, "", tr(s, "admin.password.title")).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    Ok(page_status(state, s, "password", m, status))
}

async fn password_save(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    if admins::authenticate(&c, &s.admin.username, req.f("current"))
        .await?
        .is_none()
    {
        return password_page(state, s, vec![tr(s, "admin.password.wrong_current")]).await;
    }
    if req.f("new") != req.f("repeat") {
        return password_page(state, s, vec![tr(s, "admin.password.mismatch")]).await;
    }
    if let Err(e) = admins::check_new_credentials(&s.admin.username, req.f("new")) {
        return password_page(state, s, vec![e]).await;
    }
    admins::set_password(&c, s.admin.id, req.f("new")).await?;
    admins::audit(
        &c,
        &s.admin,
        "admin.password",
        "admin",
        &s.admin.id.to_string(),
        None,
        None,
        &req.ip,
    )
    .await?;
    // Every session of the account ended with the change: log in with the new password.
    Ok(redirect("/admin/login"))
}
