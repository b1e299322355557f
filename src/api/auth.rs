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
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
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

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Submissions per token per minute.
#[derive(Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<i64, Bucket>>,
}

/// Buckets kept before idle ones are forgotten; a full bucket and a missing one mean the same.
const PRUNE_ABOVE: usize = 10_000;

impl RateLimiter {
    /// Takes one request from the token's bucket; `Err(seconds)` says when the next one fits.
    pub fn take(&self, token_id: i64, per_minute: i32, now: Instant) -> Result<(), u64> {
        if per_minute <= 0 {
            // A token allowed nothing: the honest answer is "not within a minute".
            return Err(60);
        }
        let capacity = f64::from(per_minute);
        let per_second = capacity / 60.0;
        // A poisoned lock only means another request panicked mid-update; the counts stay usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            // A bucket untouched for a minute is full again, whatever its rate.
            buckets.retain(|_, b| now.saturating_duration_since(b.at) < Duration::from_secs(60));
        }
        let b = buckets.entry(token_id).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * per_second;
        // The cap follows the token's current rate, so lowering it takes effect at once.
        b.tokens = (b.tokens + refill).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - b.tokens) / per_second).ceil() as u64).max(1))
        }
    }

    pub fn check(&self, token: &Token) -> Result<(), Problem> {
        self.take(token.id, token.rate_per_minute, Instant::now())
            .map_err(|seconds| Problem {
                retry_after: Some(seconds),
                ..Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limited",
                    format!(
                        "this token may submit {} checks per minute; try again in {seconds} s",
                        token.rate_per_minute.max(0)
                    ),
                )
            })
    }
}
