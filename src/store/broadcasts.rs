//! Broadcasts and their per-recipient delivery rows.

use super::{Client, StoreError};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Broadcast {
    pub id: i64,
    pub text: String,
    pub audience: String,
    pub active_days: i32,
    pub locale: String,
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub total: i64,
    pub sent: i64,
    pub failed: i64,
    pub blocked: i64,
    pub remaining: i64,
}

/// A broadcast with its delivery counts; `$tail` groups and filters. One constant statement
/// per use (no SQL assembled at run time).
macro_rules! select_broadcasts {
    ($tail:literal) => {
        concat!(
            "SELECT b.id, b.text, b.audience, b.active_days, b.locale, b.status, b.created_by,
        to_char(b.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
        count(d.user_id), count(*) FILTER (WHERE d.status = 'sent'),
        count(*) FILTER (WHERE d.status IN ('failed', 'unknown')), count(*) FILTER (WHERE d.status = 'blocked'),
        count(*) FILTER (WHERE d.status IN ('pending', 'sending'))
   FROM broadcasts b LEFT JOIN broadcast_deliveries d ON d.broadcast_id = b.id",
            " ",
            $tail
        )
    };
}

fn row(r: &tokio_postgres::Row) -> Broadcast {
    Broadcast {
        id: r.get(0),
        text: r.get(1),
        audience: r.get(2),
        active_days: r.get(3),
        locale: r.get(4),
        status: r.get(5),
        created_by: r.get(6),
        created_at: r.get(7),
        total: r.get(8),
        sent: r.get(9),
        failed: r.get(10),
        blocked: r.get(11),
        remaining: r.get(12),
    }
}

pub async fn create(
    client: &Client,
    text: &str,
    audience: &str,
    active_days: i32,
    locale: &str,
    by: &str,
) -> Result<i64, StoreError> {
    Ok(client
        .query_one(
            "INSERT INTO broadcasts (text, audience, active_days, locale, created_by) VALUES ($1, $2, $3, $4, $5)
             RETURNING id",
            &[&text, &audience, &active_days, &locale, &by],
        )
        .await?
        .get(0))
}

pub async fn get(client: &Client, id: i64) -> Result<Option<Broadcast>, StoreError> {
    Ok(client
        .query_opt(select_broadcasts!("WHERE b.id = $1 GROUP BY b.id"), &[&id])
        .await?
        .as_ref()
        .map(row))
}

pub async fn list(client: &Client, limit: i64) -> Result<Vec<Broadcast>, StoreError> {
    Ok(client
        .query(
            select_broadcasts!("GROUP BY b.id ORDER BY b.id DESC LIMIT $1"),
            &[&limit],
        )
        .await?
        .iter()
        .map(row)
        .collect())
}

/// Recipients of an audience: not blocked by an admin, not having blocked the bot.
macro_rules! audience_where {
    ($select:literal, $tail:literal) => {
        concat!($select, " ", "NOT u.blocked AND NOT u.bot_blocked AND CASE $2
    WHEN 'whitelisted' THEN EXISTS (SELECT 1 FROM whitelist w WHERE w.subject = u.id::text OR w.subject = lower(u.username))
    WHEN 'active' THEN u.last_seen_at > now() - make_interval(days => $3)
    WHEN 'locale' THEN COALESCE(u.locale, CASE WHEN u.language_code IS NULL OR u.language_code ~* '^(ru|uk|be|kk|ky|uz|tg|hy|az|ka)' THEN 'ru' ELSE 'en' END) = $4
    ELSE TRUE END", " ", $tail)
    };
}

/// How many users an audience reaches now.
pub async fn audience_size(client: &Client, audience: &str, days: i32, locale: &str) -> Result<i64, StoreError> {
    Ok(client
        .query_one(
            audience_where!("SELECT count(*) FROM users u WHERE $1::int IS NULL AND", ""),
            &[&None::<i32>, &audience, &days, &locale],
        )
        .await?
        .get(0))
}

/// Draft → sending: one delivery row per recipient (the audience as of now). False when the
/// broadcast is not a draft (started twice, say).
pub async fn start(client: &mut Client, id: i64) -> Result<bool, StoreError> {
    let tx = client.transaction().await?;
    let Some(b) = tx
        .query_opt(
            "UPDATE broadcasts SET status = 'sending', started_at = now() WHERE id = $1 AND status = 'draft'
             RETURNING audience, active_days, locale",
            &[&id],
        )
        .await?
    else {
        return Ok(false);
    };
    let (audience, days, locale): (String, i32, String) = (b.get(0), b.get(1), b.get(2));
    tx.execute(
        audience_where!(
            "INSERT INTO broadcast_deliveries (broadcast_id, user_id) SELECT $1, u.id FROM users u WHERE",
            "ON CONFLICT DO NOTHING"
        ),
        &[&id, &audience, &days, &locale],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// sending ⇄ paused, or → cancelled (what was not sent stays unsent).
pub async fn set_status(client: &Client, id: i64, from: &[&str], to: &str) -> Result<bool, StoreError> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    Ok(client
        .execute(
            "UPDATE broadcasts SET status = $3, finished_at = CASE WHEN $3 IN ('cancelled', 'done') THEN now() END
              WHERE id = $1 AND status = ANY($2)",
            &[&id, &from, &to],
        )
        .await?
        == 1)
}

/// Broadcasts being sent, oldest first.
pub async fn sending(client: &Client) -> Result<Vec<(i64, String)>, StoreError> {
    Ok(client
        .query(
            "SELECT id, text FROM broadcasts WHERE status = 'sending' ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect())
}

/// Rows a crash left in `sending` may have been delivered: they become `unknown`, never resent.
pub async fn settle_interrupted(client: &Client) -> Result<u64, StoreError> {
    Ok(client
        .execute(
            "UPDATE broadcast_deliveries SET status = 'unknown', error = 'interrupted: may have been sent',
                    updated_at = now() WHERE status = 'sending'",
            &[],
        )
        .await?)
}

/// Claims up to `n` recipients of a broadcast that is still `sending`.
pub async fn claim(client: &Client, id: i64, n: i64) -> Result<Vec<i64>, StoreError> {
    Ok(client
        .query(
            "UPDATE broadcast_deliveries SET status = 'sending', updated_at = now()
              WHERE (broadcast_id, user_id) IN (
                    SELECT d.broadcast_id, d.user_id FROM broadcast_deliveries d JOIN broadcasts b ON b.id = d.broadcast_id
                     WHERE d.broadcast_id = $1 AND d.status = 'pending' AND b.status = 'sending'
                     ORDER BY d.user_id LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
              RETURNING user_id",
            &[&id, &n],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

pub async fn delivered(
    client: &Client,
    id: i64,
    user: i64,
    status: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE broadcast_deliveries SET status = $3, error = $4, updated_at = now()
              WHERE broadcast_id = $1 AND user_id = $2",
            &[&id, &user, &status, &error],
        )
        .await?;
    Ok(())
}

/// Marks the broadcast done when nothing is left to send.
pub async fn finish_if_done(client: &Client, id: i64) -> Result<bool, StoreError> {
    Ok(client
        .execute(
            "UPDATE broadcasts SET status = 'done', finished_at = now() WHERE id = $1 AND status = 'sending'
                AND NOT EXISTS (SELECT 1 FROM broadcast_deliveries WHERE broadcast_id = $1 AND status IN ('pending', 'sending'))",
            &[&id],
        )
        .await?
        == 1)
}
