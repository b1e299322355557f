//! Ingress: Telegram updates in (long polling; the webhook route of the admin role uses
//! [`route`] too), each routed to its user's session actor, in order. Each long poll is one
//! message the actor handles (`Poll` to itself), so a panic in it reaches the bot role's
//! supervisor, which restarts ingress; the offset lives in the actor's state only because
//! Telegram keeps unconfirmed updates and sends them again.

use super::session::{SupervisorMsg, SUPERVISOR_NAME};
use super::BotCtx;
use crate::fault::Site;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::{Duration, Instant};
use teloxide::payloads::GetUpdatesSetters;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update, UpdateKind};

pub struct Ingress;

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

pub enum IngressMsg {
    Poll,
}

pub struct IngressState {
    ctx: Arc<BotCtx>,
    offset: i32,
    backoff: Duration,
}

impl Actor for Ingress {
    type Msg = IngressMsg;
    type State = IngressState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(
        &self,
        myself: ActorRef<IngressMsg>,
        ctx: Arc<BotCtx>,
    ) -> Result<IngressState, ActorProcessingErr> {
        if !ctx.config.webhook_url.is_empty() {
            let mut r = ctx.tg.set_webhook(reqwest::Url::parse(&ctx.config.webhook_url)?);
            let secret = ctx.config.webhook_secret.expose();
            if !secret.is_empty() {
                r = teloxide::payloads::SetWebhookSetters::secret_token(r, secret.to_string());
            }
            r.await?;
            tracing::info!("webhook mode: Telegram posts updates to the admin role's /telegram/webhook");
        } else {
            // Long polling and a webhook exclude each other.
            if let Err(e) = ctx.tg.delete_webhook().await {
                tracing::warn!(error = %e, "deleteWebhook failed");
            }
            tracing::info!("long polling for Telegram updates");
            myself.cast(IngressMsg::Poll)?;
        }
        Ok(IngressState {
            ctx,
            offset: 0,
            backoff: Duration::from_millis(500),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<IngressMsg>,
        _: IngressMsg,
        st: &mut IngressState,
    ) -> Result<(), ActorProcessingErr> {
        let ctx = st.ctx.clone();
        let allowed = vec![
            AllowedUpdate::Message,
            AllowedUpdate::EditedMessage,
            AllowedUpdate::CallbackQuery,
        ];
        let req = ctx
            .tg
            .get_updates()
            .offset(st.offset)
            .timeout(25)
            .allowed_updates(allowed);
        let r = tokio::select! {
            _ = ctx.stop.cancelled() => return Ok(()),
            r = req.send() => r,
        };
        match r {
            Ok(updates) => {
                st.backoff = Duration::from_millis(500);
                for u in updates {
                    st.offset = st.offset.max(u.id.0 as i32 + 1);
                    if ctx.fault.fires(Site::Ingress, &text_of(&u)) {
                        panic!("fault injection: ingress crashes on update {}", u.id.0);
                    }
                    // The session supervisor may be restarting: wait for it rather than drop.
                    while !route(u.clone()) {
                        if ctx.stop.is_cancelled() {
                            return Ok(());
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                myself.cast(IngressMsg::Poll)?;
            }
            Err(teloxide::RequestError::RetryAfter(s)) => {
                myself.send_after(s.duration(), || IngressMsg::Poll);
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = st.backoff.as_millis() as u64, "getUpdates failed");
                myself.send_after(st.backoff, || IngressMsg::Poll);
                st.backoff = (st.backoff * 2).min(Duration::from_secs(30));
            }
        }
        Ok(())
    }
}

/// The text of an update (for fault injection).
fn text_of(u: &Update) -> String {
    match &u.kind {
        UpdateKind::Message(m) | UpdateKind::EditedMessage(m) => m.text().unwrap_or_default().to_string(),
        _ => String::new(),
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
