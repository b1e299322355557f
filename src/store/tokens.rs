//! API bearer tokens: only a SHA-256 of each token is stored; the token is shown once, when it
//! is created.

use super::{Client, StoreError};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub rate_per_minute: i32,
}

pub fn hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token (`dm_` + 48 hex digits from the OS's randomness).
pub fn generate() -> std::io::Result<String> {
    let mut bytes = [0u8; 24];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    Ok(format!(
        "dm_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// Creates a token; returns its id and the token itself (never retrievable again).
pub async fn create(client: &Client, name: &str, rate_per_minute: i32) -> Result<(i64, String), StoreError> {
    let token = generate().map_err(|e| StoreError::Pool(format!("no randomness: {e}")))?;
    let row = client
        .query_one(
            "INSERT INTO api_tokens (name, token_hash, rate_per_minute) VALUES ($1, $2, $3) RETURNING id",
            &[&name, &hash(&token), &rate_per_minute],
        )
        .await?;
    Ok((row.get(0), token))
}

/// The token's record when it is valid (exists, not revoked). `last_used_at` moves at most once
/// a minute, so most requests only read (no row lock, no WAL write on the hot path).
pub async fn verify(client: &Client, token: &str) -> Result<Option<Token>, StoreError> {
    // Every API request runs it: prepared once per pooled connection (see `checks`).
    let statement = client
        .prepare_cached(
            "WITH t AS (SELECT id, name, rate_per_minute, last_used_at FROM api_tokens
                         WHERE token_hash = $1 AND NOT revoked),
                  u AS (UPDATE api_tokens SET last_used_at = now()
                         WHERE id IN (SELECT id FROM t WHERE last_used_at IS NULL
                                                          OR last_used_at < now() - interval '1 minute'))
             SELECT id, name, rate_per_minute FROM t",
        )
        .await?;
    let row = client.query_opt(&statement, &[&hash(token)]).await?;
    Ok(row.map(|r| Token {
        id: r.get(0),
        name: r.get(1),
        rate_per_minute: r.get(2),
    }))
}

/// A token as the panel lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenLine {
    pub id: i64,
    pub name: String,
    pub rate: i32,
    pub revoked: bool,
    pub created: String,
    pub last_used: String,
    pub checks: i64,
}

/// Every token, newest first, with how many checks it submitted.
pub async fn list(client: &Client) -> Result<Vec<TokenLine>, StoreError> {
    Ok(client
        .query(
            "SELECT id, name, rate_per_minute, revoked, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    COALESCE(to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '—'),
                    (SELECT count(*) FROM checks WHERE token_id = api_tokens.id)
               FROM api_tokens ORDER BY id DESC",
            &[],
        )
        .await?
        .iter()
        .map(|r| TokenLine {
            id: r.get(0),
            name: r.get(1),
            rate: r.get(2),
            revoked: r.get(3),
            created: r.get(4),
            last_used: r.get(5),
            checks: r.get(6),
        })
        .collect())
}

/// Revokes a token; false when it was revoked already or does not exist.
pub async fn revoke(client: &Client, id: i64) -> Result<bool, StoreError> {
    Ok(client
        .execute(
            "UPDATE api_tokens SET revoked = TRUE WHERE id = $1 AND NOT revoked",
            &[&id],
        )
        .await?
        == 1)
}
