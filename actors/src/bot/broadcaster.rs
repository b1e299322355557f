//! The broadcaster (bot role): sends broadcasts under Telegram's limits (at most 25 messages a
//! second of its own, inside the bot's overall limit; 429 `retry_after` waited out), marks users
//! who blocked the bot, and resumes after a restart from the per-recipient rows — a recipient
//! whose row a crash left half-done is never sent the message again. Each batch is one message
//! the actor handles (`Tick` to itself), so a panic reaches the bot role's supervisor.

use super::{BotCtx, SendError};
use devmentor::store::broadcasts;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages per second a broadcast may use (Telegram allows about 30 overall).
const PER_SECOND: u32 = 25;

pub struct Broadcaster;

pub enum BroadcasterMsg {
    Tick,
}

pub struct BroadcasterState {
    ctx: Arc<BotCtx>,
    failures: u32,
}

impl Actor for Broadcaster {
    type Msg = BroadcasterMsg;
    type State = BroadcasterState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(
        &self,
        myself: ActorRef<BroadcasterMsg>,
        ctx: Arc<BotCtx>,
    ) -> Result<BroadcasterState, ActorProcessingErr> {
        let n = broadcasts::settle_interrupted(&ctx.store.client().await?).await?;
        if n > 0 {
            tracing::warn!(
                recipients = n,
                "broadcast deliveries interrupted by a restart are marked unknown, not resent"
            );
        }
        myself.cast(BroadcasterMsg::Tick)?;
        Ok(BroadcasterState { ctx, failures: 0 })
    }

    async fn handle(
        &self,
        myself: ActorRef<BroadcasterMsg>,
        _: BroadcasterMsg,
        st: &mut BroadcasterState,
    ) -> Result<(), ActorProcessingErr> {
        if st.ctx.stop.is_cancelled() {
            return Ok(());
        }
        let gap = Duration::from_secs(1) / PER_SECOND;
        match step(&st.ctx, gap).await {
            Ok(true) => {
                st.failures = 0;
                myself.cast(BroadcasterMsg::Tick)?;
            }
            Ok(false) => {
                st.failures = 0;
                myself.send_after(Duration::from_secs(1), || BroadcasterMsg::Tick);
            }
            Err(e) => {
                st.failures += 1;
                tracing::warn!(error = %e, "broadcaster step failed");
                if st.failures >= 30 {
                    return Err(format!("broadcasts have failed for half a minute: {e}").into());
                }
                myself.send_after(Duration::from_secs(1), || BroadcasterMsg::Tick);
            }
        }
        Ok(())
    }
}

/// Sends one batch of each running broadcast; false when there was nothing to send.
async fn step(ctx: &BotCtx, gap: Duration) -> anyhow::Result<bool> {
    let client = ctx.store.client().await?;
    let running = broadcasts::sending(&client).await?;
    let mut worked = false;
    for (id, text) in running {
        // One recipient at a time: a crash can leave at most one delivery in doubt.
        for _ in 0..PER_SECOND {
            let Some(user) = broadcasts::claim(&client, id, 1).await?.pop() else {
                if broadcasts::finish_if_done(&client, id).await? {
                    tracing::info!(broadcast = id, "broadcast finished");
                }
                break;
            };
            worked = true;
            let started = Instant::now();
            let (status, error) = match ctx.send(user, &text, None, None).await {
                Ok(_) => ("sent", None),
                Err(SendError::Blocked) => ("blocked", None),
                Err(SendError::Other(e)) => ("failed", Some(e)),
                Err(e) => ("failed", Some(e.to_string())),
            };
            broadcasts::delivered(&client, id, user, status, error.as_deref()).await?;
            if let Some(rest) = gap.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
        }
    }
    Ok(worked)
}
