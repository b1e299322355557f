//! Ingress: Telegram updates in (long polling; the webhook route of the admin role uses
//! [`route`] too), each routed to its user's session actor, in order.

use crate::bot::BotCtx;
use crate::session::{SupervisorMsg, SUPERVISOR_NAME};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::{Duration, Instant};
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update, UpdateKind};

pub struct Ingress;

pub struct IngressState {
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The user an update comes from (updates without one — channel posts and the like — are
/// ignored).
pub fn user_of(update: &Update) -> Option<i64> {
    let from = match &update.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.from.as_ref(),
        UpdateKind::CallbackQuery(q) => Some(&q.from),
        _ => None,
    }?;
    (!from.is_bot).then_some(from.id.0 as i64)
}

/// Hands an update to the session supervisor; false when the bot role is not running here.
pub fn route(update: Update) -> bool {
    let Some(user) = user_of(&update) else {
        return true;
    };
    match ractor::registry::where_is(SUPERVISOR_NAME) {
        Some(cell) => {
            let sup: ActorRef<SupervisorMsg> = cell.into();
            sup.cast(SupervisorMsg::Route(user, Box::new(update), Instant::now()))
                .is_ok()
        }
        None => false,
    }
}

/// The webhook's sink: one update as JSON. Malformed updates are logged and dropped (true), so
/// Telegram does not resend them forever.
pub fn route_json(body: &[u8]) -> bool {
    // From bytes, not from a `serde_json::Value`: teloxide's update parser needs the former.
    match serde_json::from_slice::<Update>(body) {
        Ok(u) if matches!(u.kind, UpdateKind::Error(_)) => {
            tracing::warn!("webhook: an update of a kind this bot does not handle; dropped");
            true
        }
        Ok(u) => route(u),
        Err(e) => {
            tracing::warn!(error = %e, "webhook: an update teloxide cannot read; dropped");
            true
        }
    }
}

impl Actor for Ingress {
    type Msg = ();
    type State = IngressState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(&self, _: ActorRef<()>, ctx: Arc<BotCtx>) -> Result<IngressState, ActorProcessingErr> {
        if !ctx.config.webhook_url.is_empty() {
            let mut r = ctx.tg.set_webhook(reqwest::Url::parse(&ctx.config.webhook_url)?);
            let secret = ctx.config.webhook_secret.expose();
            if !secret.is_empty() {
                r = teloxide::payloads::SetWebhookSetters::secret_token(r, secret.to_string());
            }
            r.await?;
            tracing::info!("webhook mode: Telegram posts updates to the admin role's /telegram/webhook");
            return Ok(IngressState { task: None });
        }
        // Long polling and a webhook exclude each other.
        if let Err(e) = ctx.tg.delete_webhook().await {
            tracing::warn!(error = %e, "deleteWebhook failed");
        }
        let task = tokio::spawn(poll(ctx));
        Ok(IngressState { task: Some(task) })
    }

    async fn post_stop(&self, _: ActorRef<()>, st: &mut IngressState) -> Result<(), ActorProcessingErr> {
        if let Some(t) = st.task.take() {
            t.abort();
        }
        Ok(())
    }
}

async fn poll(ctx: Arc<BotCtx>) {
    let mut offset: i32 = 0;
    let mut backoff = Duration::from_millis(500);
    let allowed = vec![
        AllowedUpdate::Message,
        AllowedUpdate::EditedMessage,
        AllowedUpdate::CallbackQuery,
    ];
    tracing::info!("long polling for Telegram updates");
    loop {
        let req = ctx
            .tg
            .get_updates()
            .offset(offset)
            .timeout(25)
            .allowed_updates(allowed.clone());
        let r = tokio::select! {
            _ = ctx.stop.cancelled() => return,
            r = req.send() => r,
        };
        match r {
            Ok(updates) => {
                backoff = Duration::from_millis(500);
                for u in updates {
                    offset = offset.max(u.id.0 as i32 + 1);
                    // The session supervisor may be restarting: wait for it rather than drop.
                    let mut u = Some(u);
                    while let Some(update) = u.take() {
                        if !route(update.clone()) {
                            if ctx.stop.is_cancelled() {
                                return;
                            }
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            u = Some(update);
                        }
                    }
                }
            }
            Err(teloxide::RequestError::RetryAfter(s)) => tokio::time::sleep(s.duration()).await,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "getUpdates failed");
                tokio::select! {
                    _ = ctx.stop.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(30));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_update_is_routed_by_its_sender() {
        let v = serde_json::json!({"update_id": 1, "message": {"message_id": 10, "date": 1_700_000_000,
            "chat": {"id": 4001, "type": "private", "first_name": "Web"},
            "from": {"id": 4001, "is_bot": false, "first_name": "Web", "language_code": "en"}, "text": "/help"}});
        let u: Update = serde_json::from_slice(v.to_string().as_bytes()).unwrap();
        assert!(!matches!(u.kind, UpdateKind::Error(_)), "{:?}", u.kind);
        assert_eq!(user_of(&u), Some(4001));
    }
}
