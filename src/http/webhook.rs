//! `POST /telegram/webhook`: Telegram's updates in webhook mode, handed to the bot role once the
//! secret header matches `TELEGRAM_WEBHOOK_SECRET`.

use crate::api::Problem;
use std::sync::Arc;
use warp::reply::Response;
use warp::Reply;

/// Hands one Telegram update (JSON bytes) to the bot role.
pub type UpdateSink = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Telegram posts updates here in webhook mode; the secret is checked first.
#[derive(Clone)]
pub struct Webhook {
    pub secret: crate::secret::Secret,
    /// Takes one update (the JSON body); false when the bot role cannot take it now (→ 503,
    /// Telegram retries).
    pub sink: UpdateSink,
}

pub(super) fn receive(hook: Option<&Webhook>, secret: Option<String>, body: &[u8]) -> Response {
    let Some(hook) = hook else {
        return Problem::not_found().into_response();
    };
    let expected = hook.secret.expose().as_bytes();
    let given = secret.unwrap_or_default();
    if !expected.is_empty() && !constant_time_eq(expected, given.as_bytes()) {
        return Problem::new(
            warp::http::StatusCode::UNAUTHORIZED,
            "bad_secret",
            "the X-Telegram-Bot-Api-Secret-Token header does not match TELEGRAM_WEBHOOK_SECRET",
        )
        .into_response();
    }
    if (hook.sink)(body) {
        warp::reply::json(&serde_json::json!({})).into_response()
    } else {
        Problem::new(
            warp::http::StatusCode::SERVICE_UNAVAILABLE,
            "bot_unavailable",
            "the bot role is restarting; Telegram will retry",
        )
        .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
