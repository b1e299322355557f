//! Broadcast pages: compose (checked as Telegram HTML, with a preview), send to yourself, start
//! to an audience, watch progress, pause, resume, cancel. The broadcaster actor of the bot role
//! does the sending.

use super::page::{form_status, layout, not_found, render, render_status, tr};
use super::request::{redirect, redirect_with, Flash, Req, R};
use super::state::AdminState;
use crate::store::admins::{self, Session};
use crate::store::broadcasts::{self, Broadcast};
use serde::Serialize;
use serde_json::json;

const AUDIENCES: [&str; 4] = ["all", "whitelisted", "active", "locale"];

#[derive(Serialize)]
struct ListPage {
    items: Vec<Broadcast>,
}

pub async fn list(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let items = broadcasts::list(&c, 100).await?;
    let l = layout(&c, s, "broadcasts", tr(s, "admin.nav.broadcasts")).await?;
    Ok(render(state, s, "broadcasts", &l, &ListPage { items }))
}

/// The compose form as typed.
#[derive(Serialize)]
struct Draft {
    text: String,
    audience: String,
    active_days: i32,
    locale: String,
}

#[derive(Serialize)]
struct Sizes {
    all: i64,
    whitelisted: i64,
    active: i64,
    locale: i64,
}

#[derive(Serialize)]
struct ComposePage {
    f: Draft,
    sizes: Sizes,
    errors: Vec<String>,
}

async fn compose(state: &AdminState, s: &Session, form: Draft, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let size = |a: &'static str| broadcasts::audience_size(&c, a, form.active_days, &form.locale);
    let sizes = Sizes {
        all: size(AUDIENCES[0]).await?,
        whitelisted: size(AUDIENCES[1]).await?,
        active: size(AUDIENCES[2]).await?,
        locale: size(AUDIENCES[3]).await?,
    };
    let l = layout(&c, s, "broadcasts", tr(s, "admin.broadcast.new")).await?;
    let status = form_status(&errors);
    Ok(render_status(
        state,
        s,
        "broadcast_new",
        &l,
        &ComposePage { f: form, sizes, errors },
        status,
    ))
}

pub async fn new_form(state: &AdminState, s: &Session) -> R {
    let draft = Draft {
        text: String::new(),
        audience: "all".into(),
        active_days: 30,
        locale: "ru".into(),
    };
    compose(state, s, draft, vec![]).await
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
    let form = Draft {
        text: text.clone(),
        audience: audience.to_string(),
        active_days: days,
        locale: locale.to_string(),
    };
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
        Some(json!({"text": text, "audience": audience, "active_days": days, "locale": locale})),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/broadcasts/{id}")))
}

#[derive(Serialize)]
struct DetailPage {
    /// The text passed the Telegram-HTML check when it was saved: only Telegram's tags, safe
    /// links.
    preview: String,
    refresh: bool,
    b: Broadcast,
    telegram_id: Option<i64>,
    bot_here: bool,
    start_confirm: String,
}

/// One broadcast; `flash` is a message about the last action (`true`: an error).
pub async fn detail(state: &AdminState, s: &Session, id: &str, flash: Option<(String, bool)>) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    let Some(b) = broadcasts::get(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    let telegram_id = admins::telegram_id(&c, s.admin.id).await?;
    let locale = super::page::locale_of(s);
    let title = crate::i18n::tf(locale, "admin.broadcast.title_one", &[("id", &id.to_string())]);
    let mut l = layout(&c, s, "broadcasts", title).await?;
    if let Some((text, error)) = flash {
        l.say(text, error);
    }
    // The confirmation names how many people the message would reach now.
    let recipients = if b.status == "draft" {
        broadcasts::audience_size(&c, &b.audience, b.active_days, &b.locale).await?
    } else {
        b.total
    };
    let data = DetailPage {
        start_confirm: crate::i18n::tf(locale, "admin.confirm.start", &[("n", &recipients.to_string())]),
        preview: b.text.clone(),
        refresh: b.status == "sending",
        b,
        telegram_id,
        bot_here: state.notify.is_some(),
    };
    Ok(render(state, s, "broadcast", &l, &data))
}

pub async fn act(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Ok(bid) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let mut c = state.store.client().await?;
    let Some(b) = broadcasts::get(&c, bid).await? else {
        return Ok(not_found(state, s));
    };
    let done = match action {
        "test" => {
            let Ok(tid) = req.f("telegram_id").trim().parse::<i64>() else {
                return detail(state, s, id, Some((tr(s, "admin.broadcast.err_telegram_id"), true))).await;
            };
            admins::set_telegram_id(&c, s.admin.id, tid).await?;
            let Some(notify) = &state.notify else {
                return detail(state, s, id, Some((tr(s, "admin.broadcast.err_no_bot"), true))).await;
            };
            notify(tid, b.text.clone());
            return detail(state, s, id, Some((tr(s, "admin.broadcast.tested"), false))).await;
        }
        "start" => broadcasts::start(&mut c, bid).await?,
        "pause" => broadcasts::set_status(&c, bid, &["sending"], "paused").await?,
        "resume" => broadcasts::set_status(&c, bid, &["paused"], "sending").await?,
        "cancel" => broadcasts::set_status(&c, bid, &["draft", "sending", "paused"], "cancelled").await?,
        _ => return Ok(not_found(state, s)),
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
    let to = format!("/admin/broadcasts/{bid}");
    Ok(match action {
        "start" if done => redirect_with(&to, Flash::ok("started"), req.https),
        _ => redirect(&to),
    })
}
