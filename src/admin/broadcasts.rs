//! Broadcast pages: compose (checked as Telegram HTML, with a preview), send to yourself, start
//! to an audience, watch progress, pause, resume, cancel. The broadcaster actor of the bot role
//! does the sending.

use super::pages::{base, not_found, page, page_status, tr};
use super::{redirect, AdminState, Req, R};
use crate::store::admins::{self, Session};
use crate::store::broadcasts;
use serde_json::json;
use warp::http::StatusCode;

const AUDIENCES: [&str; 4] = ["all", "whitelisted", "active", "locale"];

pub async fn list(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let items = broadcasts::list(&c, 100).await?;
    let mut m = base(&c, s, "broadcasts", tr(s, "admin.nav.broadcasts")).await?;
    m.insert("items".into(), json!(items));
    Ok(page(state, s, "broadcasts", m))
}

async fn compose(state: &AdminState, s: &Session, form: serde_json::Value, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let mut sizes = serde_json::Map::new();
    for a in AUDIENCES {
        let days = form["active_days"].as_i64().unwrap_or(30) as i32;
        let locale = form["locale"].as_str().unwrap_or("ru");
        sizes.insert(a.into(), json!(broadcasts::audience_size(&c, a, days, locale).await?));
    }
    let mut m = base(&c, s, "broadcasts", tr(s, "admin.broadcast.new")).await?;
    m.insert("f".into(), form);
    m.insert("sizes".into(), json!(sizes));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    Ok(page_status(state, s, "broadcast_new", m, status))
}

pub async fn new_form(state: &AdminState, s: &Session) -> R {
    compose(
        state,
        s,
        json!({"text": "", "audience": "all", "active_days": 30, "locale": "ru"}),
        vec![],
    )
    .await
}

pub async fn create(state: &AdminState, req: &Req, s: &Session) -> R {
    let text = req.f("text").replace("\r\n", "\n");
    let audience = if AUDIENCES.contains(&req.f("audience")) {
        req.f("audience")
    } else {
        "all"
    };
    let days: i32 = req.f("active_days").trim().parse().unwrap_or(30).clamp(1, 3650);
    let locale = if req.f("locale") == "en" { "en" } else { "ru" };
    let form = json!({"text": text, "audience": audience, "active_days": days, "locale": locale});
    if let Err(why) = crate::telegram::html::check(&text) {
        let msg = if why == "empty" {
            tr(s, "admin.broadcast.err_empty")
        } else {
            format!("{}: {why}", tr(s, "admin.broadcast.err_html"))
        };
        return compose(state, s, form, vec![msg]).await;
    }
    let c = state.store.client().await?;
    let id = broadcasts::create(&c, &text, audience, days, locale, &s.admin.username).await?;
    admins::audit(
        &c,
        &s.admin,
        "broadcast.create",
        "broadcast",
        &id.to_string(),
        None,
        Some(form),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/broadcasts/{id}")))
}

pub async fn detail(state: &AdminState, s: &Session, id: &str, flash: Option<String>) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let Some(b) = broadcasts::get(&c, id).await? else {
        return Ok(not_found(s));
    };
    let telegram_id: Option<i64> = c
        .query_one("SELECT telegram_id FROM admins WHERE id = $1", &[&s.admin.id])
        .await?
        .get(0);
    let mut m = base(&c, s, "broadcasts", format!("{} #{id}", tr(s, "admin.nav.broadcasts"))).await?;
    // The text passed the Telegram-HTML check when it was saved: only Telegram's tags, safe links.
    m.insert("preview".into(), json!(b.text));
    m.insert("refresh".into(), json!(b.status == "sending"));
    m.insert("b".into(), json!(b));
    m.insert("telegram_id".into(), json!(telegram_id));
    m.insert("bot_here".into(), json!(state.notify.is_some()));
    if let Some(f) = flash {
        m.insert("flash".into(), json!(f));
    }
    Ok(page(state, s, "broadcast", m))
}

pub async fn act(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Ok(bid) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let mut c = state.store.client().await?;
    let Some(b) = broadcasts::get(&c, bid).await? else {
        return Ok(not_found(s));
    };
    let done = match action {
        "test" => {
            let Ok(tid) = req.f("telegram_id").trim().parse::<i64>() else {
                return detail(state, s, id, Some(tr(s, "admin.broadcast.err_telegram_id"))).await;
            };
            c.execute("UPDATE admins SET telegram_id = $2 WHERE id = $1", &[&s.admin.id, &tid])
                .await?;
            let Some(notify) = &state.notify else {
                return detail(state, s, id, Some(tr(s, "admin.broadcast.err_no_bot"))).await;
            };
            notify(tid, b.text.clone());
            return detail(state, s, id, Some(tr(s, "admin.broadcast.tested"))).await;
        }
        "start" => broadcasts::start(&mut c, bid).await?,
        "pause" => broadcasts::set_status(&c, bid, &["sending"], "paused").await?,
        "resume" => broadcasts::set_status(&c, bid, &["paused"], "sending").await?,
        "cancel" => broadcasts::set_status(&c, bid, &["draft", "sending", "paused"], "cancelled").await?,
        _ => return Ok(not_found(s)),
    };
    if done {
        admins::audit(
            &c,
            &s.admin,
            &format!("broadcast.{action}"),
            "broadcast",
            id,
            Some(json!({"status": b.status})),
            broadcasts::get(&c, bid)
                .await?
                .map(|n| json!({"status": n.status, "recipients": n.total})),
            &req.ip,
        )
        .await?;
    }
    Ok(redirect(&format!("/admin/broadcasts/{bid}")))
}
