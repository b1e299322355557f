//! A long run in progress: once a check has taken ~3 s, its "⏳" message shows the elapsed time
//! (edited every few seconds, within Telegram's pacing) and a ⏹ button. Pressing ⏹ puts a stop
//! request in Redis, where the worker running the check — on whatever machine — watches for it
//! and kills the container; the card then says the run was stopped by the student.
//!
//! Delivery edits the same message into the card, possibly while a tick edits it: a tick that
//! finds the check finished after its own edit draws the card again, so the card always wins.

use super::{db, SessionMsg, SessionState, Who, R};
use crate::bot::delivery;
use devmentor::i18n::{t, tf};
use devmentor::registry::Locale;
use devmentor::store::checks;
use devmentor::telegram::callback::Callback;
use devmentor::telegram::render::escape;
use std::time::{Duration, Instant};

/// The elapsed time appears once a run has taken this long.
const FIRST_TICK: Duration = Duration::from_secs(3);
/// Then it is refreshed this often (an edit counts against the chat's message pacing).
const EVERY: Duration = Duration::from_secs(3);

/// A check whose "⏳" message shows its elapsed time.
pub(super) struct Ticking {
    chat: i64,
    message: i32,
    started: Instant,
    language: String,
    locale: Locale,
}

/// Starts showing check `check`'s elapsed time on its "⏳" message `message` after a moment.
pub(super) fn watch(st: &mut SessionState, who: &Who, check: i64, message: i32, language: &str) {
    if message == 0 {
        return;
    }
    st.ticking.insert(
        check,
        Ticking {
            chat: who.chat,
            message,
            started: Instant::now(),
            language: st.ctx.display_name(language),
            locale: who.locale,
        },
    );
    st.myself.send_after(FIRST_TICK, move || SessionMsg::Elapsed(check));
}

/// "⏳ Python: running for 6 s" with ⏹ (the whole seconds, in the student's language).
fn running_for(locale: Locale, language: &str, elapsed: Duration, check: i64) -> (String, Vec<Vec<(String, String)>>) {
    let html = escape(&tf(
        locale,
        "bot.progress.running_for",
        &[("language", language), ("seconds", &elapsed.as_secs().to_string())],
    ));
    let buttons = vec![vec![(t(locale, "bot.button.stop"), Callback::Stop(check).encode())]];
    (html, buttons)
}

/// One tick: refresh the elapsed time unless the check is delivered (or past all reason).
pub(super) async fn tick(st: &mut SessionState, check: i64) {
    let Some(run) = st.ticking.get(&check) else { return };
    let (chat, message) = (run.chat, run.message);
    let gone = !st.running.contains_key(&check) || st.ctx.stop.is_cancelled();
    if gone {
        st.ticking.remove(&check);
        return;
    }
    // Telegram's pacing: a tick that would have to wait is skipped, not queued.
    let wait = match st.ctx.gate.lock() {
        Ok(mut g) => g.reserve(chat, Instant::now()),
        Err(_) => Duration::ZERO,
    };
    if !wait.is_zero() {
        st.myself.send_after(wait, move || SessionMsg::Elapsed(check));
        return;
    }
    let (html, buttons) = running_for(run.locale, &run.language, run.started.elapsed(), check);
    let ctx = st.ctx.clone();
    if ctx.edit(chat, message, &html, &buttons).await.is_err() {
        // The message is gone or cannot be edited: nothing left to tick on.
        st.ticking.remove(&check);
        return;
    }
    let finished = match ctx.store.client().await {
        Ok(c) => checks::get(&c, check)
            .await
            .ok()
            .flatten()
            .is_none_or(|r| r.status == "done"),
        Err(_) => false,
    };
    if finished {
        // Delivery may have edited the card in before this tick's edit: draw it again.
        st.ticking.remove(&check);
        if let Err(e) = delivery::redraw(&ctx, check).await {
            tracing::warn!(check, error = %e, "redrawing a card after a progress tick failed");
        }
        return;
    }
    st.myself.send_after(EVERY, move || SessionMsg::Elapsed(check));
}

/// ⏹ pressed on check `row`'s "⏳" message: ask its worker to stop it, or say it already ended.
pub(super) async fn stop(
    st: &mut SessionState,
    who: &Who,
    q: &teloxide::types::CallbackQuery,
    row: checks::CheckRow,
) -> R {
    let ctx = st.ctx.clone();
    // Fresh: the row read for the ownership check may be older than the run's end.
    let row = checks::get(&db(&ctx).await?, row.id).await?.unwrap_or(row);
    if row.status == "done" {
        super::callbacks::answer(&ctx, q, Some(&t(who.locale, "bot.stop.already_done"))).await;
        return Ok(());
    }
    if let Err(e) = ctx.queue.request_stop(row.id).await {
        tracing::warn!(check = row.id, error = %e, "could not ask the worker to stop a check");
        super::callbacks::answer(&ctx, q, Some(&t(who.locale, "bot.stop.failed"))).await;
        return Ok(());
    }
    tracing::info!(check = row.id, user = who.user.id, "the student asked to stop a check");
    super::callbacks::answer(&ctx, q, Some(&t(who.locale, "bot.stop.requested"))).await;
    if let Some(run) = st.ticking.remove(&row.id) {
        let html = escape(&tf(run.locale, "bot.stop.stopping", &[("language", &run.language)]));
        ctx.edit(run.chat, run.message, &html, &[]).await.ok();
        // As with a tick: should the card have come in meanwhile, it is drawn again.
        let done = checks::get(&db(&ctx).await?, row.id)
            .await?
            .is_none_or(|r| r.status == "done");
        if done {
            delivery::redraw(&ctx, row.id).await.ok();
        }
    }
    Ok(())
}
