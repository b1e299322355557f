//! Access to the bot: pending access requests (approve → whitelisted; the student is told, in
//! their language) and the whitelist itself, by Telegram id or username.

use super::page::{layout, message, not_found, render, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use crate::registry::Locale;
use crate::store::access::{self, PendingRequest};
use crate::store::admins::{self, Session};
use serde::Serialize;
use serde_json::json;
use warp::http::StatusCode;

#[derive(Serialize)]
struct WhitelistLine {
    subject: String,
    added_by: String,
    name: Option<String>,
}

#[derive(Serialize)]
struct AccessPage {
    requests: Vec<PendingRequest>,
    whitelist: Vec<WhitelistLine>,
}

pub async fn page(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let requests = access::pending_with_users(&c).await?;
    let whitelist = access::whitelist_list(&c)
        .await?
        .into_iter()
        .map(|(subject, added_by, name)| WhitelistLine {
            subject,
            added_by,
            name,
        })
        .collect();
    let l = layout(&c, s, "access", tr(s, "admin.nav.access")).await?;
    Ok(render(state, s, "access", &l, &AccessPage { requests, whitelist }))
}

pub async fn decide(state: &AdminState, req: &Req, s: &Session, id: &str, decision: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let status = match decision {
        "approve" => "approved",
        "deny" => "denied",
        _ => return Ok(not_found(state, s)),
    };
    let mut c = state.store.client().await?;
    let Some(user_id) = access::decide(&mut c, id, status, &s.admin.username).await? else {
        return Ok(redirect("/admin/access"));
    };
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
        let locale = access::user_language(&c, user_id)
            .await?
            .map(|(locale, code)| {
                locale
                    .and_then(|l| Locale::parse(&l))
                    .unwrap_or_else(|| crate::store::users::locale_for_code(code.as_deref()))
            })
            .unwrap_or_default();
        let key = if status == "approved" {
            "bot.access.approved"
        } else {
            "bot.access.denied"
        };
        notify(user_id, crate::telegram::render::escape(&crate::i18n::t(locale, key)));
    }
    Ok(redirect("/admin/access"))
}

/// Adds (`subject`) or removes (`remove`) a whitelist entry: a Telegram id or a username.
pub async fn whitelist_change(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let (text, adding) = if req.f("remove").is_empty() {
        (req.f("subject"), true)
    } else {
        (req.f("remove"), false)
    };
    let Some(subject) = access::normalize_subject(text) else {
        return Ok(message(
            state,
            s,
            "admin.access.bad_subject",
            "/admin/access",
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
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
            ("whitelist.add", false, true)
        } else {
            ("whitelist.remove", true, false)
        };
        admins::audit(
            &c,
            &s.admin,
            action,
            "whitelist",
            &subject,
            Some(json!({ "whitelisted": before })),
            Some(json!({ "whitelisted": after })),
            &req.ip,
        )
        .await?;
    }
    Ok(redirect("/admin/access"))
}
