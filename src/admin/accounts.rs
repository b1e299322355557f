//! Superuser pages: admin accounts (create, role, deactivate, reset password) and API tokens
//! (create — shown once —, revoke).

use super::pages::{base, not_found, page_status, tr};
use super::{redirect, AdminState, Req, R};
use crate::store::admins::{self, Session};
use serde_json::{json, Value};
use warp::http::StatusCode;

async fn admins_json(state: &AdminState) -> Result<Vec<Value>, crate::store::StoreError> {
    Ok(state
        .store
        .client()
        .await?
        .query(
            "SELECT id, username, role, active, COALESCE(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '—')
               FROM admins ORDER BY lower(username)",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            json!({"id": r.get::<_, i64>(0), "username": r.get::<_, String>(1), "superuser": r.get::<_, String>(2) == "superuser",
                   "active": r.get::<_, bool>(3), "last_login": r.get::<_, String>(4)})
        })
        .collect())
}

pub async fn admins_page(state: &AdminState, s: &Session, errors: Vec<String>, flash: Option<String>) -> R {
    let c = state.store.client().await?;
    let mut m = base(&c, s, "admins", tr(s, "admin.nav.admins")).await?;
    m.insert("admins".into(), json!(admins_json(state).await?));
    m.insert("self_id".into(), json!(s.admin.id));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    if let Some(f) = flash {
        m.insert("flash".into(), json!(f));
    }
    Ok(page_status(state, s, "admins", m, status))
}

pub async fn create_admin(state: &AdminState, req: &Req, s: &Session) -> R {
    let (username, password) = (req.f("username").trim(), req.f("password"));
    if let Err(e) = admins::check_new_credentials(username, password) {
        return admins_page(state, s, vec![e], None).await;
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
        None => admins_page(state, s, vec![tr(s, "admin.admins.exists")], None).await,
    }
}

pub async fn admin_action(state: &AdminState, req: &Req, s: &Session, id: &str, action: &str) -> R {
    let Ok(id) = id.parse::<i64>() else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let Some(before) = admins_json(state).await?.into_iter().find(|a| a["id"] == id) else {
        return Ok(not_found(s));
    };
    if id == s.admin.id && action != "password" {
        return admins_page(state, s, vec![tr(s, "admin.admins.not_self")], None).await;
    }
    match action {
        "activate" | "deactivate" => {
            let active = action == "activate";
            c.execute("UPDATE admins SET active = $2 WHERE id = $1", &[&id, &active])
                .await?;
            if !active {
                c.execute("DELETE FROM admin_sessions WHERE admin_id = $1", &[&id])
                    .await?;
            }
        }
        "superuser" | "staff" => {
            c.execute("UPDATE admins SET role = $2 WHERE id = $1", &[&id, &action])
                .await?;
        }
        "password" => {
            if let Err(e) = admins::check_new_credentials(before["username"].as_str().unwrap_or(""), req.f("password"))
            {
                return admins_page(state, s, vec![e], None).await;
            }
            admins::set_password(&c, id, req.f("password")).await?;
        }
        _ => return Ok(not_found(s)),
    }
    let after = admins_json(state).await?.into_iter().find(|a| a["id"] == id);
    admins::audit(
        &c,
        &s.admin,
        &format!("admin.{action}"),
        "admin",
        &id.to_string(),
        Some(before),
        after,
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/admins"))
}

pub async fn tokens_page(state: &AdminState, s: &Session, new_token: Option<String>, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let tokens: Vec<Value> = c
        .query(
            "SELECT id, name, rate_per_minute, revoked, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    COALESCE(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '—'),
                    (SELECT count(*) FROM checks WHERE token_id = api_tokens.id)
               FROM api_tokens ORDER BY id DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            json!({"id": r.get::<_, i64>(0), "name": r.get::<_, String>(1), "rate": r.get::<_, i32>(2), "revoked": r.get::<_, bool>(3),
                   "created": r.get::<_, String>(4), "last_used": r.get::<_, String>(5), "checks": r.get::<_, i64>(6)})
        })
        .collect();
    let mut m = base(&c, s, "tokens", tr(s, "admin.nav.tokens")).await?;
    m.insert("tokens".into(), json!(tokens));
    m.insert("new_token".into(), json!(new_token));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    Ok(page_status(state, s, "tokens", m, status))
}

pub async fn create_token(state: &AdminState, req: &Req, s: &Session) -> R {
    let name = req.f("name").trim();
    let rate = req.f("rate").trim().parse::<i32>().unwrap_or(0);
    if name.is_empty() || name.chars().count() > 100 || !(1..=10_000).contains(&rate) {
        return tokens_page(state, s, None, vec![tr(s, "admin.tokens.invalid")]).await;
    }
    let c = state.store.client().await?;
    let (id, token) = crate::store::tokens::create(&c, name, rate).await?;
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
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    let n = c
        .execute(
            "UPDATE api_tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked",
            &[&id],
        )
        .await?;
    if n == 1 {
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
