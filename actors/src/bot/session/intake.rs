//! What happens to a message before it is handled: long pastes Telegram split are joined, and a
//! program that arrives while the student's previous one runs waits its turn.
//!
//! **Joining.** Telegram cuts a message longer than 4,096 characters into consecutive messages
//! that reach the bot within a second or so of each other. A text message of at least
//! [`SPLIT_AT`] characters (UTF-16 units, as Telegram counts) is therefore held for
//! [`JOIN_WINDOW`]; every text that follows within the window is appended (with a newline, where
//! the cut was), and the window restarts while the parts stay long. A short part ends the paste
//! at once; the window's end ends it too. The joined text is then handled as one message, the
//! first part's: one program, run once, whole. Anything else that arrives meanwhile (a button, a
//! file) first releases what is held, so order is kept. Short messages are never held, so several
//! programs sent in a row stay several programs.
//!
//! **Queueing.** Admission allows one running check per user. A check refused as "busy" is not
//! dropped: its update is kept (at most [`QUEUE_MAX`]), the student is told its place, and it is
//! handled again when the running check is delivered (or, when this session does not know the
//! running check, on a timer). Past the bound the student is told plainly that this one did not
//! run. The queue lives in the session's memory: a restart of the bot process loses it, as it
//! loses "typing…" — the student then sees no result for those and sends them again.

use super::{SessionMsg, SessionState, Who};
use devmentor::i18n::tf;
use devmentor::telegram::render::escape;
use std::time::{Duration, Instant};
use teloxide::types::{MediaKind, MediaText, MessageCommon, MessageKind, Update, UpdateKind};

/// A part at least this long (UTF-16 units) may be the first of a message Telegram split.
pub(super) const SPLIT_AT: usize = 3_000;
/// How long a possibly split part waits for the next one.
pub(super) const JOIN_WINDOW: Duration = Duration::from_millis(1_500);
/// Programs that may wait behind a running one.
pub(super) const QUEUE_MAX: usize = 3;
/// When the running check is not this session's (another bot process started it), how often
/// the queue tries again.
const RETRY_EVERY: Duration = Duration::from_secs(3);

/// Parts of a long paste, held until the paste is complete.
pub(super) struct Parts {
    update: Box<Update>,
    received: Instant,
    texts: Vec<String>,
    generation: u64,
}

/// The text of a new (not edited) message that is not a command.
fn plain_text(update: &Update) -> Option<&str> {
    match &update.kind {
        UpdateKind::Message(m) => m.text().filter(|t| super::commands::Command::parse(t).is_none()),
        _ => None,
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The held parts as one update: the first part's message with the joined text.
fn joined(p: Parts) -> (Box<Update>, Instant) {
    let mut update = p.update;
    if let UpdateKind::Message(m) = &mut update.kind {
        if let MessageKind::Common(MessageCommon {
            media_kind: MediaKind::Text(MediaText { text, entities, .. }),
            ..
        }) = &mut m.kind
        {
            *text = p.texts.join("\n");
            // Offsets of the first part's entities would point into the wrong text.
            entities.clear();
        }
    }
    (update, p.received)
}

/// Takes an update in; returns what is to be handled now, in order (nothing while a long paste
/// may still be arriving).
pub(super) fn take(st: &mut SessionState, update: Box<Update>, received: Instant) -> Vec<(Box<Update>, Instant)> {
    let text = plain_text(&update).map(str::to_string);
    match (st.parts.take(), text) {
        (Some(mut p), Some(t)) => {
            let long = utf16_len(&t) >= SPLIT_AT;
            p.texts.push(t);
            if long {
                hold(st, p);
                Vec::new()
            } else {
                vec![joined(p)]
            }
        }
        (Some(p), None) => vec![joined(p), (update, received)],
        (None, Some(t)) if utf16_len(&t) >= SPLIT_AT => {
            let p = Parts {
                update,
                received,
                texts: vec![t],
                generation: 0,
            };
            hold(st, p);
            Vec::new()
        }
        (None, _) => vec![(update, received)],
    }
}

fn hold(st: &mut SessionState, mut p: Parts) {
    st.parts_generation += 1;
    p.generation = st.parts_generation;
    let generation = p.generation;
    st.parts = Some(p);
    st.myself.send_after(JOIN_WINDOW, move || SessionMsg::Flush(generation));
}

/// The window of the held paste `generation` ended: it is complete as it is.
pub(super) fn flush(st: &mut SessionState, generation: u64) -> Option<(Box<Update>, Instant)> {
    if st.parts.as_ref().is_some_and(|p| p.generation == generation) {
        st.parts.take().map(joined)
    } else {
        None
    }
}

/// Whether a text still has an open ``` fence (an odd number of them): its end never came.
pub(super) fn cut_off(text: &str) -> bool {
    utf16_len(text) >= SPLIT_AT && text.matches("```").count() % 2 == 1
}

/// Admission said "busy": keep the update being handled for later, and say so.
pub(super) async fn queue_current(st: &mut SessionState, who: &Who, reply_to: Option<i32>) {
    let Some(current) = st.current.take() else { return };
    st.busy = true;
    if st.replaying {
        // Still busy on a retry: it keeps its place at the front, silently.
        st.queue.push_front(current);
    } else if st.queue.len() >= QUEUE_MAX {
        let html = escape(&tf(who.locale, "bot.queue_full", &[("max", &QUEUE_MAX.to_string())]));
        super::notice(st, who, &html, reply_to).await;
    } else {
        st.queue.push_back(current);
        let html = escape(&tf(
            who.locale,
            "bot.queued",
            &[("position", &st.queue.len().to_string())],
        ));
        st.ctx.send(who.chat, &html, None, reply_to).await.ok();
    }
    if st.running.is_empty() {
        st.myself.send_after(RETRY_EVERY, || SessionMsg::Drain);
    }
}

/// The next waiting update, when nothing of this session's runs.
pub(super) fn next(st: &mut SessionState) -> Option<(Box<Update>, Instant)> {
    if st.running.is_empty() {
        st.queue.pop_front()
    } else {
        None
    }
}
