//! The admins' own pages: accounts (create, role, deactivate, reset password; superusers), API
//! tokens (create — shown once —, revoke; superusers), the audit log, one's own password and
//! the panel's language.

use super::page::{form_status, layout, not_found, render_status, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use crate::store::admins::{self, AccountLine, Session};
use crate::store::tokens::{self, TokenLine};
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
struct AdminsPage {
    admins: Vec<AccountLine>,
    self_id: i64,
    errors: Vec<String>,
}

pub async fn admins_page(state: &AdminState, s: &Session, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let l = layout(&c, s, "admins", tr(s, "admin.nav.admins")).await?;
    let status = form_status(&errors);
    let data = AdminsPage {
        admins: admins::list(&c).await?,
        self_id: s.admin.id,
        errors,
    };
    Ok(render_status(state, s, "admins", &l, &data, status))
}

pub async fn create_admin(state: &AdminState, req: &Req, s: &Session) -> R {
    let (username, password) = (req.f("username").trim(), req.f("password"));
    if let Err(e) = admins::check_new_credentials(username, password) {
        return admins_page(state, s, vec![e]).await;
    }
    let superuser = req.f("role") == "superuser";
    let c = state.store.client().await?;
    match admins::create(&c, username, password, superuser).await? {
        Some(id) => {
            let after = json!({"username": username, "superuser": superuser});
            admins::audit(
                &c,
                &s.admin,
                "admin.create",
                "admin",
                &id.to_string(),
                None,
                Some(after),
                &req.ip,
            )
            .await?;
            Ok(redirect("/admin/admins"))
        }
        None => admins_page(state, s, vec![tr(s, "admin.admins.exists")]).await,
    }
}

async fn account(c: &crate::store::Client, id: i64) -> Result<Option<AccountLine>, crate::store::StoreError> {
    Ok(admins::list(c).await?.into_iter().find(|a| a.id == id))
}

pub async fn admin_action(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    let Some(before) = account(&c, id).await? else {
        return Ok(not_found(state, s));
    };
    if id == s.admin.id && action != "password" {
        return admins_page(state, s, vec![tr(s, "admin.admins.not_self")]).await;
    }
    match action {
        "activate" | "deactivate" => admins::set_active(&c, id, action == "activate").await?,
        "superuser" | "staff" => admins::set_role(&c, id, action == "superuser").await?,
        "password" => {
            if let Err(e) = admins::check_new_credentials(&before.username, req.f("password")) {
                return admins_page(state, s, vec![e]).await;
            }
            admins::set_password(&c, id, req.f("password")).await?;
        }
        _ => return Ok(not_found(state, s)),
    }
    let after = account(&c, id).await?;
    admins::audit(
        &c,
        &s.admin,
        &format!("admin.{action}"),
        "admin",
        &id.to_string(),
        serde_json::to_value(before).ok(),
        after.and_then(|a| serde_json::to_value(a).ok()),
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/admins"))
}

#[derive(Serialize)]
struct TokensPage {
    tokens: Vec<TokenLine>,
    new_token: Option<String>,
    errors: Vec<String>,
}

pub async fn tokens_page(state: &AdminState, s: &Session, new_token: Option<String>, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let l = layout(&c, s, "tokens", tr(s, "admin.nav.tokens")).await?;
    let status = form_status(&errors);
    let data = TokensPage {
        tokens: tokens::list(&c).await?,
        new_token,
        errors,
    };
    Ok(render_status(state, s, "tokens", &l, &data, status))
}

pub async fn create_token(state: &AdminState, req: &Req, s: &Session) -> R {
    let name = req.f("name").trim();
    let rate = req.f("rate").trim().parse::<i32>().unwrap_or(0);
    if name.is_empty() || name.chars().count() > 100 || !(1..=10_000).contains(&rate) {
        return tokens_page(state, s, None, vec![tr(s, "admin.tokens.invalid")]).await;
    }
    let c = state.store.client().await?;
    let (id, token) = tokens::create(&c, name, rate).await?;
    let after = json!({"name": name, "rate_per_minute": rate});
    admins::audit(
        &c,
        &s.admin,
        "token.create",
        "api_token",
        &id.to_string(),
        None,
        Some(after),
        &req.ip,
    )
    .await?;
    // Shown on this response only: it is stored hashed.
    tokens_page(state, s, Some(token), vec![]).await
}

pub async fn revoke_token(state: &AdminState, req: &Req, s: &Session, id: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    if tokens::revoke(&c, id).await? {
        admins::audit(
            &c,
            &s.admin,
            "token.revoke",
            "api_token",
            &id.to_string(),
            Some(json!({"revoked": false})),
            Some(json!({"revoked": true})),
            &req.ip,
        )
        .await?;
    }
    Ok(redirect("/admin/tokens"))
}

#[derive(Serialize)]
struct PasswordPage {
    errors: Vec<String>,
}

pub async fn password_page(state: &AdminState, s: &Session, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let l = layout(&c, s, "", tr(s, "admin.password.title")).await?;
    let status = form_status(&errors);
    Ok(render_status(
        state,
        s,
        "password",
        &l,
        &PasswordPage { errors },
        status,
    ))
}

pub async fn password_save(state: &AdminState, req: &Req, s: &Session) -> R {
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

pub async fn set_locale(state: &AdminState, req: &Req, s: &Session) -> R {
    let l = if req.f("locale") == "en" { "en" } else { "ru" };
    admins::set_locale(&state.store.client().await?, s.admin.id, l).await?;
    Ok(redirect("/admin/"))
}
