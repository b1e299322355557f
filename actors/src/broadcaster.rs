//! The broadcaster (bot role): sends broadcasts under Telegram's limits (at most 25 messages a
//! second of its own, inside the bot's overall limit; 429 `retry_after` waited out), marks users
//! who blocked the bot, and resumes after a restart from the per-recipient rows — a recipient
//! whose row a crash left half-done is never sent the message again.

use crate::bot::{BotCtx, SendError};
use devmentor::store::broadcasts;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages per second a broadcast may use (Telegram allows about 30 overall).
const PER_SECOND: u32 = 25;

pub struct Broadcaster;

pub struct BroadcasterState {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Actor for Broadcaster {
    type Msg = ();
    type State = BroadcasterState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(&self, myself: ActorRef<()>, ctx: Arc<BotCtx>) -> Result<BroadcasterState, ActorProcessingErr> {
        let n = broadcasts::settle_interrupted(&ctx.store.client().await?).await?;
        if n > 0 {
            tracing::warn!(
                recipients = n,
                "broadcast deliveries interrupted by a restart are marked unknown, not resent"
            );
        }
        let task = tokio::spawn(async move {
            if let Err(e) = run(ctx).await {
                myself.stop(Some(format!("broadcaster failed: {e}")));
            }
        });
        Ok(BroadcasterState { task: Some(task) })
    }

    async fn post_stop(&self, _: ActorRef<()>, st: &mut BroadcasterState) -> Result<(), ActorProcessingErr> {
        if let Some(t) = st.task.take() {
            t.abort();
        }
        Ok(())
    }
}

async fn run(ctx: Arc<BotCtx>) -> anyhow::Result<()> {
    let gap = Duration::from_secs(1) / PER_SECOND;
    let mut failures = 0u32;
    loop {
        if ctx.stop.is_cancelled() {
            return Ok(());
        }
        match step(&ctx, gap).await {
            Ok(worked) => {
                failures = 0;
                if !worked {
                    tokio::select! {
                        _ = ctx.stop.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "broadcaster step failed");
                anyhow::ensure!(failures < 30, "broadcasts have failed for half a minute: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
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
            };
            broadcasts::delivered(&client, id, user, status, error.as_deref()).await?;
            if let Some(rest) = gap.checked_sub(started.elapsed()) {
                tokio::time::sleep(rest).await;
            }
        }
    }
    Ok(worked)
}
