//! Delivery: finished checks → the result card. Reads "done" events from the results stream in
//! the `delivery` consumer group (several bot replicas share the work), edits the "⏳" message
//! into the card, records `delivered_at`, then acks. Events of a dead replica are reclaimed after
//! the visibility timeout, and a sweep delivers finished checks whose event was lost (Redis
//! restarted empty, or the bot was down), so every result reaches its student once.

use crate::bot::{BotCtx, SendError};
use devmentor::queue::{Job, Queue};
use devmentor::store::checks;
use devmentor::telegram::render::{self, ResultView};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Delivery;

pub struct DeliveryState {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Actor for Delivery {
    type Msg = ();
    type State = DeliveryState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(&self, myself: ActorRef<()>, ctx: Arc<BotCtx>) -> Result<DeliveryState, ActorProcessingErr> {
        let consumer = ctx.queue.results_consumer().await?;
        let task = tokio::spawn(async move {
            if let Err(e) = run(ctx, consumer).await {
                // The actor fails and its supervisor restarts it with backoff.
                myself.stop(Some(format!("delivery loop failed: {e}")));
            }
        });
        Ok(DeliveryState { task: Some(task) })
    }

    async fn post_stop(&self, _: ActorRef<()>, st: &mut DeliveryState) -> Result<(), ActorProcessingErr> {
        if let Some(t) = st.task.take() {
            t.abort();
        }
        Ok(())
    }
}

async fn run(ctx: Arc<BotCtx>, q: Queue) -> anyhow::Result<()> {
    let mut last_sweep = Instant::now() - Duration::from_secs(3600);
    let mut failures = 0u32;
    loop {
        if ctx.stop.is_cancelled() {
            return Ok(());
        }
        if last_sweep.elapsed() >= Duration::from_secs(10) {
            last_sweep = Instant::now();
            sweep(&ctx, &q).await;
        }
        let jobs = tokio::select! {
            _ = ctx.stop.cancelled() => return Ok(()),
            r = q.claim(&ctx.name, 32, Duration::from_secs(2)) => r,
        };
        match jobs {
            Ok(jobs) => {
                failures = 0;
                for job in jobs {
                    handle(&ctx, &q, &job).await;
                }
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, "reading the results stream failed");
                if failures > 30 {
                    anyhow::bail!("the results stream has been unreadable for a minute: {e}");
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

async fn handle(ctx: &BotCtx, q: &Queue, job: &Job) {
    match deliver(ctx, job.check_id).await {
        Ok(()) => {
            let _ = q.ack(job).await;
        }
        // Left pending: reclaimed and retried after the visibility timeout, or by the sweep.
        Err(e) => tracing::warn!(check = job.check_id, error = %e, "delivering a result failed; will retry"),
    }
}

/// Reclaims events of dead consumers and delivers finished checks nobody announced.
async fn sweep(ctx: &BotCtx, q: &Queue) {
    if let Ok(jobs) = q.reclaim(&ctx.name, Duration::from_secs(60), 64).await {
        for job in jobs {
            handle(ctx, q, &job).await;
        }
    }
    let ids = match ctx.store.client().await {
        Ok(c) => checks::undelivered(&c, Duration::from_secs(15), 200)
            .await
            .unwrap_or_default(),
        Err(_) => return,
    };
    for id in ids {
        if let Err(e) = deliver(ctx, id).await {
            tracing::warn!(check = id, error = %e, "delivering a result (sweep) failed");
        }
    }
}

/// Edits check `id`'s card in, unless it is not a bot check, not finished, or delivered already.
pub async fn deliver(ctx: &BotCtx, id: i64) -> anyhow::Result<()> {
    let client = ctx.store.client().await?;
    let Some(row) = checks::get(&client, id).await? else {
        return Ok(());
    };
    if row.source != "bot" || row.delivered_at.is_some() || row.status != "done" {
        return Ok(());
    }
    let (Some(chat), Some(message), Some(user)) = (row.chat_id, row.message_id, row.user_id) else {
        checks::mark_delivered(&client, id).await?;
        return Ok(());
    };
    drop(client);
    let view: ResultView = row
        .result
        .clone()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let card = render::card(id, &view, row.locale, &ctx.display_name(&row.language));
    let sent = match ctx.edit(chat, message, &card.html, &card.buttons).await {
        Ok(()) => Ok(()),
        // The "⏳" message is gone (deleted by the student): send the card anew.
        Err(SendError::Other(e))
            if e.contains("message to edit not found") || e.contains("message can't be edited") =>
        {
            ctx.send(chat, &card.html, Some(&card.buttons), None).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    if let Ok(mut s) = ctx.inflight.lock() {
        s.remove(&id);
    }
    match sent {
        Ok(()) | Err(SendError::Blocked) => {}
        Err(SendError::Other(e)) => anyhow::bail!("editing the card: {e}"),
    }
    checks::mark_delivered(&ctx.store.client().await?, id).await?;
    ctx.metrics.bot_delivered.fetch_add(1, Ordering::Relaxed);
    if render::wanted_input(&view) && row.stdin.is_empty() {
        crate::session::ask_stdin(ctx, user, chat, row.locale, id, true).await?;
    }
    Ok(())
}
