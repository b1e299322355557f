//! The students: the list (search, status filters with counts, sort, bulk actions), one
//! student's page with their checks and history, block/whitelist actions (audited with the
//! state before and after), and the CSV export.

use super::page::{csv_field, csv_stream, layout, not_found, pager, render, tr, url_with, Pager, PER_PAGE};
use super::request::{redirect, redirect_with, Flash, Req, R};
use super::state::AdminState;
use crate::store::admins::{self, Session};
use crate::store::user_list::{self, RecentCheck, Sort, UserDetail, UserRow, STATUSES};
use crate::store::{access, StoreError};
use serde::Serialize;

#[derive(Serialize)]
struct Chip {
    href: String,
    label: String,
    count: i64,
    on: bool,
}

#[derive(Serialize)]
struct Column {
    href: String,
    label: String,
    on: bool,
    arrow: &'static str,
}

#[derive(Serialize)]
struct ListPage {
    users: Vec<UserRow>,
    /// This list's URL, for the bulk form to come back to.
    here: String,
    q: String,
    status: &'static str,
    sort: String,
    filters: Vec<Chip>,
    columns: Vec<Column>,
    pages: Pager,
}

fn label_key(status: &str) -> &'static str {
    match status {
        "whitelisted" => "admin.users.whitelisted",
        "blocked" => "admin.users.blocked",
        "bot_blocked" => "admin.users.bot_blocked",
        _ => "admin.users.all",
    }
}

pub async fn list(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    // Search: id, username or name. The text is a bound parameter, never SQL.
    let q = req.q("q").trim().chars().take(100).collect::<String>();
    let status = STATUSES
        .iter()
        .copied()
        .find(|v| *v != "all" && *v == req.q("status"))
        .unwrap_or("all");
    let sort = Sort::parse(req.q("sort").trim_start_matches('-'));
    let desc = req.q("sort").is_empty() || req.q("sort").starts_with('-');
    let like = user_list::like_escape(&q);
    // Filters with counts (for the current search); the selected one's count is the total.
    let mut filters = Vec::new();
    let mut total = 0;
    for key in STATUSES {
        let n = user_list::count(&c, &like, key).await?;
        if key == status {
            total = n;
        }
        filters.push(Chip {
            href: url_with(req, "/admin/users", &[("status", if key == "all" { "" } else { key })]),
            label: tr(s, label_key(key)),
            count: n,
            on: key == status,
        });
    }
    let (offset, pages) = pager(req, total, "/admin/users");
    let users = user_list::page(&c, &like, status, sort, desc, offset, PER_PAGE).await?;
    let columns = [
        (Sort::Id, "Telegram id"),
        (Sort::Name, "admin.col.name"),
        (Sort::Checks, "admin.col.checks"),
        (Sort::LastSeen, "admin.col.last_seen"),
    ]
    .iter()
    .map(|(col, label)| {
        let on = *col == sort;
        let key = col.key();
        let next = if on && desc { key.to_string() } else { format!("-{key}") };
        Column {
            href: url_with(req, "/admin/users", &[("sort", &next)]),
            label: if label.starts_with("admin.") {
                tr(s, label)
            } else {
                label.to_string()
            },
            on,
            arrow: if desc { "↓" } else { "↑" },
        }
    })
    .collect();
    let l = layout(&c, s, "users", tr(s, "admin.nav.users")).await?;
    let data = ListPage {
        users,
        here: url_with(req, "/admin/users", &[]),
        q,
        status: if status == "all" { "" } else { status },
        sort: req.q("sort").to_string(),
        filters,
        columns,
        pages,
    };
    Ok(render(state, s, "users", &l, &data))
}

pub async fn csv(state: &AdminState) -> R {
    let c = state.reader.client().await?;
    let rows = user_list::csv_rows(&c).await?;
    Ok(csv_stream(
        "users.csv",
        "id,username,first_name,last_name,language_code,checks,blocked,bot_blocked,first_seen,last_seen\n",
        c,
        rows,
        |u| {
            format!(
                "{},{},{},{},{},{},{},{},{},{}\n",
                u.id,
                csv_field(&u.username),
                csv_field(&u.first_name),
                csv_field(&u.last_name),
                csv_field(&u.language_code),
                u.checks,
                u.blocked,
                u.bot_blocked,
                u.first_seen,
                u.last_seen
            )
        },
    ))
}

#[derive(Serialize)]
struct DetailPage {
    user: UserDetail,
    checks: Vec<RecentCheck>,
    /// This student's audit history, as the audit log shows it.
    rows: Vec<super::audit::AuditLine>,
}

pub async fn detail(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    let Some(user) = user_list::get(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    let checks = user_list::recent_checks(&c, id, 20).await?;
    let (history, _) = admins::audit_rows(&c, Some(("user", &id.to_string())), 0, 50).await?;
    let title = format!("{} · {}", tr(s, "admin.nav.users"), user.row.name);
    let l = layout(&c, s, "users", title).await?;
    let rows = super::audit::lines(history, super::page::locale_of(s));
    Ok(render(state, s, "user", &l, &DetailPage { user, checks, rows }))
}

/// The actions a list's bulk form may ask for (no default: the admin chooses one).
const BULK: [&str; 4] = ["whitelist", "unwhitelist", "block", "unblock"];

pub async fn bulk(state: &AdminState, req: &Req, s: &Session) -> R {
    let ids: Vec<i64> = req.f_all("ids").iter().filter_map(|i| i.parse().ok()).collect();
    let action = req.f("action");
    // Back to the list as it was (its search and filters), with what happened.
    let back = match req.f("back") {
        b if b.starts_with("/admin/users") && !b.starts_with("/admin/users/") => b,
        _ => "/admin/users",
    };
    if ids.is_empty() {
        return Ok(redirect_with(back, Flash::error("bulk_none"), req.https));
    }
    if !BULK.contains(&action) {
        return Ok(redirect_with(back, Flash::error("bulk_no_action"), req.https));
    }
    for id in &ids {
        apply(state, req, s, *id, action).await?;
    }
    let flash = Flash {
        n: Some(ids.len() as i64),
        ..Flash::ok("applied")
    };
    Ok(redirect_with(back, flash, req.https))
}

pub async fn act(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    apply(state, req, s, id, action).await?;
    Ok(redirect(&format!("/admin/users/{id}")))
}

/// block / unblock / whitelist / unwhitelist, audited with the state before and after.
async fn apply(state: &AdminState, req: &Req, s: &Session, id: i64, action: &str) -> Result<(), StoreError> {
    let c = state.store.client().await?;
    let Some(before) = user_list::get(&c, id).await? else {
        return Ok(());
    };
    match action {
        "block" => user_list::set_blocked(&c, id, true).await?,
        "unblock" => user_list::set_blocked(&c, id, false).await?,
        "whitelist" => {
            access::whitelist_add(&c, &id.to_string(), &s.admin.username).await?;
        }
        "unwhitelist" => {
            access::whitelist_remove(&c, &id.to_string()).await?;
            if let Some(name) = &before.row.username {
                access::whitelist_remove(&c, &name.to_lowercase()).await?;
            }
        }
        _ => return Ok(()),
    }
    let after = user_list::get(&c, id).await?;
    let pick = |u: &UserDetail| serde_json::json!({"blocked": u.row.blocked, "whitelisted": u.row.whitelisted});
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
