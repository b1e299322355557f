//! Access to the bot: the whitelist (by Telegram id or username) and access requests.

use super::{Client, StoreError};

/// A whitelist subject as stored: a numeric Telegram id, or a username lower-cased without `@`.
/// `None` when the text is neither (empty, spaces, characters Telegram does not allow).
pub fn normalize_subject(text: &str) -> Option<String> {
    let t = text.trim();
    if let Ok(id) = t.parse::<i64>() {
        return (id > 0).then(|| id.to_string());
    }
    let name = t.strip_prefix('@').unwrap_or(t).to_ascii_lowercase();
    let valid = (5..=32).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    valid.then_some(name)
}

/// Adds a subject; false when it was already there.
pub async fn whitelist_add(client: &Client, subject: &str, added_by: &str) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "INSERT INTO whitelist (subject, added_by) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&subject, &added_by],
        )
        .await?;
    Ok(n == 1)
}

/// Removes a subject; false when it was not there.
pub async fn whitelist_remove(client: &Client, subject: &str) -> Result<bool, StoreError> {
    let n = client
        .execute("DELETE FROM whitelist WHERE subject = $1", &[&subject])
        .await?;
    Ok(n == 1)
}

/// Whitelist entries with who added them, and the user's name when they have written already.
pub async fn whitelist_list(client: &Client) -> Result<Vec<(String, String, Option<String>)>, StoreError> {
    let rows = client
        .query(
            "SELECT w.subject, w.added_by, u.first_name FROM whitelist w
               LEFT JOIN users u ON w.subject = u.id::text OR w.subject = lower(u.username)
              ORDER BY w.created_at, w.subject",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
}

pub async fn is_whitelisted(client: &Client, id: i64, username: Option<&str>) -> Result<bool, StoreError> {
    let name = username.map(|u| u.to_ascii_lowercase()).unwrap_or_default();
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM whitelist WHERE subject = $1 OR (subject = $2 AND $2 <> ''))",
            &[&id.to_string(), &name],
        )
        .await?;
    Ok(row.get(0))
}

/// Marks the pending access requests of the user a subject names as approved; how many.
pub async fn approve_requests_of(client: &Client, subject: &str, by: &str) -> Result<u64, StoreError> {
    Ok(client
        .execute(
            "UPDATE access_requests SET status = 'approved', decided_at = now(), decided_by = $2
              WHERE status = 'pending'
                AND user_id IN (SELECT id FROM users WHERE id::text = $1 OR lower(username) = $1)",
            &[&subject, &by],
        )
        .await?)
}

/// Files an access request; false when one is already pending.
pub async fn request_access(client: &Client, user_id: i64) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "INSERT INTO access_requests (user_id) VALUES ($1) ON CONFLICT (user_id) WHERE status = 'pending' DO NOTHING",
            &[&user_id],
        )
        .await?;
    Ok(n == 1)
}

pub async fn pending_requests(client: &Client) -> Result<Vec<(i64, i64)>, StoreError> {
    let rows = client
        .query(
            "SELECT id, user_id FROM access_requests WHERE status = 'pending' ORDER BY id",
            &[],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// How many access requests wait for a decision (the panel's badge).
pub async fn pending_count(client: &Client) -> Result<i64, StoreError> {
    Ok(client
        .query_one("SELECT count(*) FROM access_requests WHERE status = 'pending'", &[])
        .await?
        .get(0))
}

/// A pending request as the access page lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PendingRequest {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub username: Option<String>,
    pub created: String,
}

pub async fn pending_with_users(client: &Client) -> Result<Vec<PendingRequest>, StoreError> {
    Ok(client
        .query(
            "SELECT r.id, r.user_id, u.first_name, u.username, to_char(r.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
               FROM access_requests r JOIN users u ON u.id = r.user_id WHERE r.status = 'pending' ORDER BY r.id",
            &[],
        )
        .await?
        .iter()
        .map(|r| PendingRequest {
            id: r.get(0),
            user_id: r.get(1),
            name: r.get(2),
            username: r.get(3),
            created: r.get(4),
        })
        .collect())
}

/// Decides a pending request (`approved` also whitelists the user), in one transaction;
/// returns the user's id, or None when the request is not pending (decided already, or gone).
pub async fn decide(client: &mut Client, id: i64, status: &str, by: &str) -> Result<Option<i64>, StoreError> {
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "UPDATE access_requests SET status = $2, decided_at = now(), decided_by = $3
              WHERE id = $1 AND status = 'pending' RETURNING user_id",
            &[&id, &status, &by],
        )
        .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    let user_id: i64 = row.get(0);
    if status == "approved" {
        tx.execute(
            "INSERT INTO whitelist (subject, added_by) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&user_id.to_string(), &by],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Some(user_id))
}

/// A user's chosen locale and Telegram language code, when the user exists.
pub async fn user_language(
    client: &Client,
    user_id: i64,
) -> Result<Option<(Option<String>, Option<String>)>, StoreError> {
    Ok(client
        .query_opt("SELECT locale, language_code FROM users WHERE id = $1", &[&user_id])
        .await?
        .map(|r| (r.get(0), r.get(1))))
}

#[cfg(test)]
mod tests {
    use super::normalize_subject;

    #[test]
    fn subjects_are_ids_or_usernames() {
        assert_eq!(normalize_subject("123456").as_deref(), Some("123456"));
        assert_eq!(normalize_subject(" @Alice_1 ").as_deref(), Some("alice_1"));
        assert_eq!(normalize_subject("alice").as_deref(), Some("alice"));
        assert_eq!(normalize_subject("bob"), None);
        assert_eq!(normalize_subject(""), None);
        assert_eq!(normalize_subject("-5"), None);
        assert_eq!(normalize_subject("@a"), None);
        assert_eq!(normalize_subject("not a name"), None);
        assert_eq!(normalize_subject("1abc"), None);
    }
}
