//! Admin accounts (argon2id), their sessions and the audit log.

use super::{tokens, Client, StoreError};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    pub id: i64,
    pub username: String,
    pub superuser: bool,
    pub locale: String,
    pub active: bool,
}

/// A logged-in admin and the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub admin: Admin,
    pub csrf: String,
}

fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut bytes = vec![0u8; n];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?,
        &mut bytes,
    )
    .map_err(|e| StoreError::Invalid(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A fresh random token (cookies, CSRF).
pub fn new_token() -> Result<String, StoreError> {
    random_hex(32)
}

pub fn hash_password(password: &str) -> Result<String, StoreError> {
    let mut salt = [0u8; 16];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").map_err(|e| StoreError::Invalid(e.to_string()))?,
        &mut salt,
    )
    .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| StoreError::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(e.to_string()))
}

fn password_matches(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Why a new account or password is refused.
pub fn check_new_credentials(username: &str, password: &str) -> Result<(), String> {
    let u = username.trim();
    if u.len() < 3 || u.len() > 64 || !u.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c)) {
        return Err("the username must be 3–64 letters, digits or . _ - @".into());
    }
    if password.chars().count() < 10 {
        return Err("the password must be at least 10 characters".into());
    }
    if password.eq_ignore_ascii_case(u) {
        return Err("the password must differ from the username".into());
    }
    Ok(())
}

fn row_to_admin(r: &tokio_postgres::Row) -> Admin {
    Admin {
        id: r.get(0),
        username: r.get(1),
        superuser: r.get::<_, &str>(2) == "superuser",
        locale: r.get(3),
        active: r.get(4),
    }
}

/// Creates an account; `Ok(None)` when the username is taken.
pub async fn create(
    client: &Client,
    username: &str,
    password: &str,
    superuser: bool,
) -> Result<Option<i64>, StoreError> {
    check_new_credentials(username, password).map_err(StoreError::Invalid)?;
    let hash = hash_password(password)?;
    let role = if superuser { "superuser" } else { "staff" };
    let row = client
        .query_opt(
            "INSERT INTO admins (username, password_hash, role) VALUES ($1, $2, $3)
             ON CONFLICT (lower(username)) DO NOTHING RETURNING id",
            &[&username.trim(), &hash, &role],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// The account if the password is right (and the account active).
pub async fn authenticate(client: &Client, username: &str, password: &str) -> Result<Option<Admin>, StoreError> {
    let row = client
        .query_opt(
            "SELECT a.id, a.username, a.role, a.locale, a.active, a.password_hash FROM admins a
              WHERE lower(a.username) = lower($1)",
            &[&username.trim()],
        )
        .await?;
    let Some(row) = row else {
        // Spend the same time as a real check, so timing does not tell which usernames exist.
        let _ = password_matches(password, DUMMY_HASH);
        return Ok(None);
    };
    let hash: String = row.get(5);
    let admin = row_to_admin(&row);
    if admin.active && password_matches(password, &hash) {
        client
            .execute("UPDATE admins SET last_login_at = now() WHERE id = $1", &[&admin.id])
            .await?;
        Ok(Some(admin))
    } else {
        Ok(None)
    }
}

/// argon2id of a random string: what a login for an unknown user is checked against.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$HnGs3wQvUtV1oMbXzuDk4C9E1X6lqgQ2GkVWJ0NC1kA";

pub async fn set_password(client: &Client, id: i64, password: &str) -> Result<(), StoreError> {
    if password.chars().count() < 10 {
        return Err(StoreError::Invalid(
            "the password must be at least 10 characters".into(),
        ));
    }
    let hash = hash_password(password)?;
    client
        .execute("UPDATE admins SET password_hash = $2 WHERE id = $1", &[&id, &hash])
        .await?;
    // Other sessions of this account end.
    client
        .execute("DELETE FROM admin_sessions WHERE admin_id = $1", &[&id])
        .await?;
    Ok(())
}

pub async fn set_locale(client: &Client, id: i64, locale: &str) -> Result<(), StoreError> {
    client
        .execute("UPDATE admins SET locale = $2 WHERE id = $1", &[&id, &locale])
        .await?;
    Ok(())
}

/// Starts a session; returns the cookie value (only its hash is stored).
pub async fn start_session(client: &Client, admin_id: i64, ip: &str, user_agent: &str) -> Result<String, StoreError> {
    let token = new_token()?;
    let csrf = new_token()?;
    let ua: String = user_agent.chars().take(300).collect();
    // Logins are rare: a good moment to sweep sessions idle for a day or more.
    client
        .execute(
            "DELETE FROM admin_sessions WHERE last_seen_at < now() - interval '1 day'",
            &[],
        )
        .await?;
    client
        .execute(
            "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, ip, user_agent) VALUES ($1, $2, $3, $4, $5)",
            &[&tokens::hash(&token), &admin_id, &csrf, &ip, &ua],
        )
        .await?;
    Ok(token)
}

/// The session of a cookie, unless idle longer than `idle_seconds` (then it is deleted).
/// One statement on the hot path; other expired sessions are swept at the next login.
pub async fn session(client: &Client, cookie: &str, idle_seconds: f64) -> Result<Option<Session>, StoreError> {
    let hash = tokens::hash(cookie);
    let row = client
        .query_opt(
            "UPDATE admin_sessions s SET last_seen_at = now() FROM admins a
              WHERE s.token_hash = $1 AND a.id = s.admin_id AND a.active
                AND s.last_seen_at >= now() - make_interval(secs => $2)
              RETURNING a.id, a.username, a.role, a.locale, a.active, s.csrf_token",
            &[&hash, &idle_seconds],
        )
        .await?;
    if row.is_none() {
        client
            .execute("DELETE FROM admin_sessions WHERE token_hash = $1", &[&hash])
            .await?;
    }
    Ok(row.map(|r| Session {
        admin: row_to_admin(&r),
        csrf: r.get(5),
    }))
}

pub async fn end_session(client: &Client, cookie: &str) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM admin_sessions WHERE token_hash = $1",
            &[&tokens::hash(cookie)],
        )
        .await?;
    Ok(())
}

/// One audit row: who did what to which object, with the state before and after.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    client: &Client,
    admin: &Admin,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<Value>,
    after: Option<Value>,
    ip: &str,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO audit_log (admin_id, admin_name, action, object_type, object_id, before, after, ip)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &admin.id,
                &admin.username,
                &action,
                &object_type,
                &object_id,
                &before,
                &after,
                &ip,
            ],
        )
        .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub admin_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: String,
    pub after: String,
}

/// Audit rows, newest first, optionally of one object (its whole history, logins included).
pub async fn audit_rows(
    client: &Client,
    object: Option<(&str, &str)>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64), StoreError> {
    let (t, o) = object.unwrap_or(("", ""));
    let f = AuditFilter {
        object_type: t.to_string(),
        object_id: o.to_string(),
        logins: true,
        ..AuditFilter::default()
    };
    audit_filtered(client, &f, offset, limit).await
}

/// The audit log's filters (`''`/`None` = any). Logins are a security record, not a change:
/// they are kept, and shown only when asked for (`logins`, or the action `admin.login`).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub admin: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    /// Dates, `YYYY-MM-DD` (UTC), both ends included.
    pub from: Option<String>,
    pub to: Option<String>,
    pub logins: bool,
}

macro_rules! audit_where {
    ($select:literal, $tail:literal) => {
        concat!(
            $select,
            " FROM audit_log WHERE ($1 = '' OR admin_name = $1) AND ($2 = '' OR action = $2)
                 AND ($3 = '' OR object_type = $3) AND ($4 = '' OR object_id = $4)
                 AND ($5::text IS NULL OR at >= $5::date) AND ($6::text IS NULL OR at < $6::date + 1)
                 AND ($7 OR $2 = 'admin.login' OR action <> 'admin.login') ",
            $tail
        )
    };
}

/// Audit rows matching `f`, newest first, and how many match.
pub async fn audit_filtered(
    client: &Client,
    f: &AuditFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<AuditRow>, i64), StoreError> {
    let p: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
        &f.admin,
        &f.action,
        &f.object_type,
        &f.object_id,
        &f.from,
        &f.to,
        &f.logins,
    ];
    let mut with_page = p.to_vec();
    with_page.push(&offset);
    with_page.push(&limit);
    let rows = client
        .query(
            audit_where!(
                "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), admin_name, action, object_type,
                        object_id, COALESCE(before::text, ''), COALESCE(after::text, '')",
                "ORDER BY at DESC, id DESC OFFSET $8 LIMIT $9"
            ),
            &with_page,
        )
        .await?;
    let total: i64 = client.query_one(audit_where!("SELECT count(*)", ""), &p).await?.get(0);
    Ok((
        rows.iter()
            .map(|r| AuditRow {
                id: r.get(0),
                at: r.get(1),
                admin_name: r.get(2),
                action: r.get(3),
                object_type: r.get(4),
                object_id: r.get(5),
                before: r.get(6),
                after: r.get(7),
            })
            .collect(),
        total,
    ))
}

/// The values the audit log's filters offer: admins, actions, object types.
pub async fn audit_facets(client: &Client) -> Result<(Vec<String>, Vec<String>, Vec<String>), StoreError> {
    let column = |sql: &'static str| async move {
        Ok::<Vec<String>, StoreError>(client.query(sql, &[]).await?.iter().map(|r| r.get(0)).collect())
    };
    Ok((
        column("SELECT DISTINCT admin_name FROM audit_log ORDER BY 1").await?,
        column("SELECT DISTINCT action FROM audit_log ORDER BY 1").await?,
        column("SELECT DISTINCT object_type FROM audit_log ORDER BY 1").await?,
    ))
}

/// An account as the superuser's page lists it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AccountLine {
    pub id: i64,
    pub username: String,
    pub superuser: bool,
    pub active: bool,
    pub last_login: String,
}

/// Every account, by name.
pub async fn list(client: &Client) -> Result<Vec<AccountLine>, StoreError> {
    Ok(client
        .query(
            "SELECT id, username, role, active, COALESCE(to_char(last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '—')
               FROM admins ORDER BY lower(username)",
            &[],
        )
        .await?
        .iter()
        .map(|r| AccountLine {
            id: r.get(0),
            username: r.get(1),
            superuser: r.get::<_, String>(2) == "superuser",
            active: r.get(3),
            last_login: r.get(4),
        })
        .collect())
}

/// Activates or deactivates an account; a deactivated one's sessions end.
pub async fn set_active(client: &Client, id: i64, active: bool) -> Result<(), StoreError> {
    client
        .execute("UPDATE admins SET active = $2 WHERE id = $1", &[&id, &active])
        .await?;
    if !active {
        client
            .execute("DELETE FROM admin_sessions WHERE admin_id = $1", &[&id])
            .await?;
    }
    Ok(())
}

/// `superuser` or `staff`.
pub async fn set_role(client: &Client, id: i64, superuser: bool) -> Result<(), StoreError> {
    let role = if superuser { "superuser" } else { "staff" };
    client
        .execute("UPDATE admins SET role = $2 WHERE id = $1", &[&id, &role])
        .await?;
    Ok(())
}

/// The Telegram id an admin sends test broadcasts to.
pub async fn telegram_id(client: &Client, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(client
        .query_one("SELECT telegram_id FROM admins WHERE id = $1", &[&id])
        .await?
        .get(0))
}

pub async fn set_telegram_id(client: &Client, id: i64, telegram_id: i64) -> Result<(), StoreError> {
    client
        .execute("UPDATE admins SET telegram_id = $2 WHERE id = $1", &[&id, &telegram_id])
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(password_matches("correct horse battery", &h));
        assert!(!password_matches("wrong", &h));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(check_new_credentials("al", "long enough pw").is_err());
        assert!(check_new_credentials("alice", "short").is_err());
        assert!(check_new_credentials("alice", "long enough pw").is_ok());
    }
}
