//! Who is calling, and how often: bearer tokens (checked against `api_tokens`, where only their
//! hashes live) and a per-token rate limit.
//!
//! The limit is a token bucket in this process's memory: a burst of up to `rate_per_minute`
//! submissions, refilled evenly over the minute. Several API processes each keep their own
//! buckets, which only loosens the limit by their number; nothing breaks when Redis or
//! PostgreSQL restarts, because nothing here lives there.

use super::problem::Problem;
use super::timeouts::DB_TIMEOUT;
use crate::store::tokens::{self, Token};
use crate::store::Store;
use warp::http::{HeaderValue, StatusCode};

/// The token in an `Authorization: Bearer …` header.
pub fn bearer(header: Option<&HeaderValue>) -> Result<&str, Problem> {
    let Some(value) = header else {
        return Err(Problem::unauthorized(
            "send your API token: `Authorization: Bearer <token>`",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| Problem::unauthorized("the Authorization header must be `Bearer <token>`"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Problem::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        ));
    }
    Ok(token)
}

/// The token's record, or why the request is refused. The database being down is a 503, not a
/// 401: the client's token is probably fine and it should retry, not discard it.
pub async fn authenticate(store: &Store, header: Option<&HeaderValue>) -> Result<Token, Problem> {
    let token = bearer(header)?;
    let verified = tokio::time::timeout(DB_TIMEOUT, async {
        let client = store.client().await?;
        tokens::verify(&client, token).await
    })
    .await;
    match verified {
        Ok(Ok(Some(t))) => Ok(t),
        Ok(Ok(None)) => Err(Problem::unauthorized(
            "this API token is not valid (unknown or revoked)",
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "API: cannot verify a token");
            Err(Problem::database_unavailable())
        }
        Err(_) => {
            tracing::warn!("API: the database did not answer a token check in time");
            Err(Problem::database_unavailable())
        }
    }
}

pub use crate::admission::RateLimiter;

/// The API's answer to a token over its rate.
pub fn rate_limited(token: &Token, seconds: u64) -> Problem {
    Problem {
        retry_after: Some(seconds),
        ..Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this token may submit {} checks per minute; try again in {seconds} s",
                token.rate_per_minute.max(0)
            ),
        )
    }
}
