//! What the bot says: the settings (welcome texts, whitelist and maintenance modes, limits;
//! superusers only) and the FAQ. Invalid input saves nothing and brings the form back as typed.

use super::page::{form_status, layout, not_found, render_status, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use crate::store::admins::{self, Session};
use crate::store::faq::{self, FaqItem};
use crate::store::settings::{self, Settings};
use serde::Serialize;
use serde_json::{Map, Value};

pub(super) const LANGUAGES: [&str; 7] = ["python", "javascript", "c", "cpp", "java", "go", "rust"];

#[derive(Serialize)]
struct SettingsPage<'a> {
    s: &'a Settings,
    errors: Vec<String>,
    languages: [&'static str; 7],
}

pub async fn settings_page(state: &AdminState, s: &Session) -> R {
    let current = settings::load(&state.store.client().await?).await?;
    settings_form(state, s, &current, vec![]).await
}

async fn settings_form(state: &AdminState, s: &Session, current: &Settings, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let l = layout(&c, s, "settings", tr(s, "admin.nav.settings")).await?;
    let status = form_status(&errors);
    let data = SettingsPage {
        s: current,
        errors,
        languages: LANGUAGES,
    };
    Ok(render_status(state, s, "settings", &l, &data, status))
}

pub async fn settings_save(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let before = settings::load(&c).await?;
    let mut errors = Vec::new();
    let num = |k: &str, max: i64, errors: &mut Vec<String>| -> i64 {
        match req.f(k).trim().parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => n,
            _ => {
                let label = if k == "ai_daily_quota" {
                    "admin.settings.ai_quota"
                } else {
                    "admin.settings.rate"
                };
                errors.push(format!("{}: 0–{max}", tr(s, label)));
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
    let new = Settings {
        welcome_text_ru: text("welcome_text_ru", &mut errors),
        welcome_text_en: text("welcome_text_en", &mut errors),
        whitelist_mode: req.f("whitelist_mode") == "1",
        maintenance_mode: req.f("maintenance_mode") == "1",
        maintenance_message_ru: text("maintenance_message_ru", &mut errors),
        maintenance_message_en: text("maintenance_message_en", &mut errors),
        rate_limit_per_minute: num("rate_limit_per_minute", 600, &mut errors) as u32,
        ai_daily_quota: num("ai_daily_quota", 10_000, &mut errors) as i32,
        default_language: match req.f("default_language") {
            l if l.is_empty() || LANGUAGES.contains(&l) => l.to_string(),
            _ => {
                errors.push(tr(s, "admin.settings.default_language"));
                String::new()
            }
        },
    };
    if !errors.is_empty() {
        // Nothing is saved; the form comes back with what was typed.
        return settings_form(state, s, &new, errors).await;
    }
    let before_v = serde_json::to_value(&before).unwrap_or_default();
    let after_v = serde_json::to_value(&new).unwrap_or_default();
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

#[derive(Serialize)]
struct FaqList {
    items: Vec<FaqItem>,
}

pub async fn faq_list(state: &AdminState, s: &Session) -> R {
    let c = state.store.client().await?;
    let items = faq::list(&c).await?;
    let l = layout(&c, s, "faq", tr(s, "admin.nav.faq")).await?;
    Ok(render_status(
        state,
        s,
        "faq",
        &l,
        &FaqList { items },
        warp::http::StatusCode::OK,
    ))
}

#[derive(Serialize)]
struct FaqForm {
    item: FaqItem,
    action: String,
    errors: Vec<String>,
    /// Which markup an answer may use, in the admin's language.
    markup_hint: String,
}

/// The longest answer the form takes (the bot sends a long one in several messages).
const MAX_ANSWER_CHARS: usize = 20_000;

async fn faq_form(state: &AdminState, s: &Session, item: FaqItem, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let title = if item.id.is_some() {
        tr(s, "admin.faq.edit")
    } else {
        tr(s, "admin.faq.new")
    };
    let l = layout(&c, s, "faq", title).await?;
    let status = form_status(&errors);
    let action = item
        .id
        .map(|i| format!("/admin/faq/{i}"))
        .unwrap_or_else(|| "/admin/faq/new".into());
    Ok(render_status(
        state,
        s,
        "faq_form",
        &l,
        &FaqForm {
            item,
            action,
            errors,
            markup_hint: tr(s, "admin.faq.markup_hint").replace("{tags}", crate::telegram::faq::ALLOWED),
        },
        status,
    ))
}

pub async fn faq_new(state: &AdminState, s: &Session) -> R {
    let item = FaqItem {
        id: None,
        locale: "ru".into(),
        question: String::new(),
        answer: String::new(),
        position: 0,
        published: true,
    };
    faq_form(state, s, item, vec![]).await
}

pub async fn faq_edit(state: &AdminState, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    match faq::get(&state.store.client().await?, id).await? {
        Some(item) => faq_form(state, s, item, vec![]).await,
        None => Ok(not_found(state, s)),
    }
}

pub async fn faq_save(state: &AdminState, req: &Req, s: &Session, id: Option<i64>) -> R {
    let c = state.store.client().await?;
    let position = match req.f("position").trim() {
        "" => Some(0),
        p => p.parse::<i32>().ok(),
    };
    let item = FaqItem {
        id,
        locale: if req.f("locale") == "en" { "en" } else { "ru" }.into(),
        question: req.f("question").trim().to_string(),
        answer: req.f("answer").replace("\r\n", "\n").trim().to_string(),
        position: position.unwrap_or(0),
        published: req.f("published") == "1",
    };
    let mut errors = Vec::new();
    if item.question.is_empty() || item.question.chars().count() > 300 {
        errors.push(tr(s, "admin.faq.err_question"));
    }
    if item.answer.is_empty() || item.answer.chars().count() > MAX_ANSWER_CHARS {
        errors.push(tr(s, "admin.faq.err_answer"));
    } else if let Err(why) = crate::telegram::html::check_markup(&item.answer) {
        // Refused, not stored: the bot would have to show it as broken text.
        errors.push(format!("{}: {why}", tr(s, "admin.faq.err_markup")));
    }
    if position.is_none() {
        errors.push(tr(s, "admin.faq.err_position"));
    }
    if !errors.is_empty() {
        return faq_form(state, s, item, errors).await;
    }
    let before = match id {
        Some(i) => match faq::get(&c, i).await? {
            Some(b) => Some(b),
            None => return Ok(not_found(state, s)),
        },
        None => None,
    };
    let Some(new_id) = faq::save(&c, &item).await? else {
        return Ok(not_found(state, s));
    };
    let action = if id.is_some() { "faq.update" } else { "faq.create" };
    admins::audit(
        &c,
        &s.admin,
        action,
        "faq",
        &new_id.to_string(),
        before.map(|b| serde_json::to_value(b).unwrap_or_default()),
        Some(serde_json::to_value(&item).unwrap_or_default()),
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/faq"))
}

pub async fn faq_delete(state: &AdminState, req: &Req, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    let Some(before) = faq::get(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    faq::delete(&c, id).await?;
    admins::audit(
        &c,
        &s.admin,
        "faq.delete",
        "faq",
        &id.to_string(),
        Some(serde_json::to_value(before).unwrap_or_default()),
        None,
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/faq"))
}
