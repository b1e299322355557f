//! Delivery: finished checks → the result card. Reads "done" events from the results stream in
//! the `delivery` consumer group (several bot replicas share the work), edits the "⏳" message
//! into the card, records `delivered_at`, then acks. Events of a dead replica are reclaimed after
//! the visibility timeout, and a sweep delivers finished checks whose event was lost (Redis
//! restarted empty, or the bot was down), so every result reaches its student once.
//!
//! Each read of the stream is one message the actor handles (`Tick` to itself), so a panic
//! reaches the bot role's supervisor. Delivery tells the student's session that the check is
//! delivered (and whether the program wanted input): the dialogue is the session's.

use super::session::{self, Delivered};
use super::{BotCtx, SendError};
use crate::fault::Site;
use devmentor::check::CheckResult;
use devmentor::queue::{Job, JobKind, Queue};
use devmentor::store::checks;
use devmentor::store::tasks as store_tasks;
use devmentor::telegram::render;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Delivery;

pub enum DeliveryMsg {
    Tick,
}

pub struct DeliveryState {
    ctx: Arc<BotCtx>,
    queue: Queue,
    last_sweep: Instant,
    failures: u32,
}

impl Actor for Delivery {
    type Msg = DeliveryMsg;
    type State = DeliveryState;
    type Arguments = Arc<BotCtx>;

    async fn pre_start(
        &self,
        myself: ActorRef<DeliveryMsg>,
        ctx: Arc<BotCtx>,
    ) -> Result<DeliveryState, ActorProcessingErr> {
        let queue = ctx.queue.results_consumer().await?;
        myself.cast(DeliveryMsg::Tick)?;
        Ok(DeliveryState {
            ctx,
            queue,
            last_sweep: Instant::now() - Duration::from_secs(3600),
            failures: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<DeliveryMsg>,
        _: DeliveryMsg,
        st: &mut DeliveryState,
    ) -> Result<(), ActorProcessingErr> {
        let ctx = st.ctx.clone();
        if ctx.stop.is_cancelled() {
            return Ok(());
        }
        if st.last_sweep.elapsed() >= Duration::from_secs(10) {
            st.last_sweep = Instant::now();
            sweep(&ctx, &st.queue).await;
        }
        let jobs = tokio::select! {
            _ = ctx.stop.cancelled() => return Ok(()),
            r = st.queue.claim(&ctx.name, 32, Duration::from_secs(2)) => r,
        };
        match jobs {
            Ok(jobs) => {
                st.failures = 0;
                for job in jobs {
                    handle(&ctx, &st.queue, &job).await;
                }
                myself.cast(DeliveryMsg::Tick)?;
            }
            Err(e) => {
                st.failures += 1;
                tracing::warn!(error = %e, "reading the results stream failed");
                if st.failures > 30 {
                    // The actor fails and its supervisor restarts it with backoff.
                    return Err(format!("the results stream has been unreadable for a minute: {e}").into());
                }
                myself.send_after(Duration::from_secs(2), || DeliveryMsg::Tick);
            }
        }
        Ok(())
    }

    async fn post_stop(&self, _: ActorRef<DeliveryMsg>, st: &mut DeliveryState) -> Result<(), ActorProcessingErr> {
        st.queue.quit().await;
        Ok(())
    }
}

async fn handle(ctx: &BotCtx, q: &Queue, job: &Job) {
    let delivered = match (job.kind, job.progress) {
        (JobKind::Check, _) => deliver(ctx, job.check_id).await,
        (JobKind::Submission, None) => deliver_submission(ctx, job.check_id).await,
        (JobKind::Submission, Some((done, total))) => show_progress(ctx, job.check_id, done, total).await,
    };
    match delivered {
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
    let subs = match ctx.store.client().await {
        Ok(c) => store_tasks::undelivered_submissions(&c, Duration::from_secs(15), 200)
            .await
            .unwrap_or_default(),
        Err(_) => return,
    };
    for id in subs {
        if let Err(e) = deliver_submission(ctx, id).await {
            tracing::warn!(submission = id, error = %e, "delivering a graded submission (sweep) failed");
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
    if ctx.fault.fires(Site::Delivery, &row.code) {
        // Mid-delivery: the event stays pending, so the restarted actor (or the sweep) delivers it.
        panic!("fault injection: delivery crashes on check {id}");
    }
    let result = row
        .result
        .clone()
        .unwrap_or_else(|| CheckResult::internal_error(&row.language, "the result was lost"));
    let waited = waited_for_input(&row, &result);
    let card = card_of(ctx, &row);
    // The "⏳" message may be gone (deleted by the student): then the card is sent anew.
    match ctx.edit_or_send(chat, message, &card.html, &card.buttons).await {
        Ok(()) | Err(SendError::Blocked) => {}
        Err(e) => anyhow::bail!("editing the card: {e}"),
    }
    checks::mark_delivered(&ctx.store.client().await?, id).await?;
    ctx.metrics.bot_delivered.fetch_add(1, Ordering::Relaxed);
    let wants_input = (render::wanted_input(&result) || waited) && row.stdin.is_empty();
    session::tell(Delivered {
        user,
        chat,
        locale: row.locale,
        check: id,
        wants_input,
    });
    Ok(())
}

/// A program that reads input but got none (a C `scanf` goes on silently): the card says so.
fn waited_for_input(row: &checks::CheckRow, result: &CheckResult) -> bool {
    row.stdin.is_empty()
        && result.verdict != devmentor::sandbox::Verdict::CompileError
        && devmentor::telegram::detect::reads_input(&row.language, &row.code)
}

/// A finished check's card, drawn from its stored result (a lost result reads as our failure).
pub fn card_of(ctx: &BotCtx, row: &checks::CheckRow) -> render::Card {
    let result = row
        .result
        .clone()
        .unwrap_or_else(|| CheckResult::internal_error(&row.language, "the result was lost"));
    let waited = waited_for_input(row, &result);
    let ai_available = ctx.ai.as_ref().is_some_and(|ai| ai.available());
    let card = render::card(
        row.id,
        &result,
        row.locale,
        &ctx.display_name(&row.language),
        ai_available,
    );
    render::with_input(card, &row.stdin, waited && !render::wanted_input(&result), row.locale)
}

/// Draws finished check `id`'s card on its message again: a progress tick may have edited the
/// message after delivery did. Not a delivery: nothing is marked or told.
pub async fn redraw(ctx: &BotCtx, id: i64) -> anyhow::Result<()> {
    let Some(row) = checks::get(&ctx.store.client().await?, id).await? else {
        return Ok(());
    };
    let (Some(chat), Some(message)) = (row.chat_id, row.message_id) else {
        return Ok(());
    };
    if row.status != "done" || row.source != "bot" {
        return Ok(());
    }
    let card = card_of(ctx, &row);
    match ctx.edit_or_send(chat, message, &card.html, &card.buttons).await {
        Ok(()) | Err(SendError::Blocked) => Ok(()),
        Err(e) => anyhow::bail!("redrawing the card: {e}"),
    }
}

/// Edits a bot submission's "⏳" message into its graded card, once.
pub async fn deliver_submission(ctx: &BotCtx, id: i64) -> anyhow::Result<()> {
    let client = ctx.store.client().await?;
    let Some(row) = store_tasks::submission(&client, id).await? else {
        return Ok(());
    };
    if row.source != "bot" || row.delivered_at.is_some() || row.status != "done" {
        return Ok(());
    }
    let (Some(chat), Some(message), Some(task)) = (
        row.chat_id,
        row.message_id,
        store_tasks::by_id(&client, row.task_id).await?,
    ) else {
        store_tasks::mark_submission_delivered(&client, id).await?;
        return Ok(());
    };
    drop(client);
    let graded = row
        .result
        .clone()
        .unwrap_or_else(|| devmentor::tasks::Graded::internal_error(row.total, "the result was lost"));
    let card = devmentor::telegram::task_card::submission(&task, id, &graded, row.locale, ctx.ai.is_some());
    match ctx.edit_or_send(chat, message, &card.html, &card.buttons).await {
        Ok(()) | Err(SendError::Blocked) => {}
        Err(e) => anyhow::bail!("editing the submission card: {e}"),
    }
    store_tasks::mark_submission_delivered(&ctx.store.client().await?, id).await?;
    ctx.metrics.bot_delivered.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// "⏳ test 3 of 8…" on a bot submission's living message, while it is graded.
async fn show_progress(ctx: &BotCtx, id: i64, done: u32, total: u32) -> anyhow::Result<()> {
    let client = ctx.store.client().await?;
    let Some(row) = store_tasks::submission(&client, id).await? else {
        return Ok(());
    };
    let (Some(chat), Some(message), Some(task)) = (
        row.chat_id,
        row.message_id,
        store_tasks::by_id(&client, row.task_id).await?,
    ) else {
        return Ok(());
    };
    if row.status == "done" {
        return Ok(());
    }
    let html = devmentor::telegram::render::escape(&devmentor::i18n::tf(
        row.locale,
        "bot.task.progress",
        &[
            ("title", task.title(row.locale)),
            ("done", &done.to_string()),
            ("total", &total.to_string()),
            ("next", &(done + 1).min(total).to_string()),
        ],
    ));
    // Best effort: a lost progress edit is not worth a retry.
    ctx.edit(chat, message, &html, &[]).await.ok();
    Ok(())
}
