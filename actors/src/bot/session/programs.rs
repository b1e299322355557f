//! Programs in: a message, a document or an edited message becomes code, a language and maybe
//! its input, then a check through admission (the one path shared with the API) — or a clear
//! answer why not: chat that is not code is answered and never run (nor counted), a paste that
//! arrived cut short is asked for as a file, and a program whose language cannot be told waits
//! for a button that runs just it.

use super::{commands, db, notice, say, send_err, SessionState, Who, R};
use crate::bot::session::commands::Command;
use crate::bot::{BotCtx, SendError};
use devmentor::admission::{self, Application, Refusal, Submitter};
use devmentor::check::{validate_source, CheckError};
use devmentor::i18n::{t, tf};
use devmentor::registry::Locale;
use devmentor::store::checks;
use devmentor::store::users::{self, Dialogue, WaitingProgram};
use devmentor::telegram::callback::Callback;
use devmentor::telegram::code::{self, Incoming};
use devmentor::telegram::detect;
use devmentor::telegram::render::escape;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;
use teloxide::net::Download;
use teloxide::prelude::*;
use teloxide::types::Message;

pub(super) async fn on_message(st: &mut SessionState, who: &Who, m: &Message, received: Instant) -> R {
    let ctx = st.ctx.clone();
    if let Some(text) = m.text() {
        if let Some(cmd) = Command::parse(text) {
            return commands::on_command(st, who, m, cmd, received).await;
        }
    }
    let replies_to_prompt = m
        .reply_to_message()
        .is_some_and(|r| r.from.as_ref().is_some_and(|f| f.is_bot) && r.text().is_some_and(is_input_prompt));
    // Input for a check the student asked to re-run with stdin — unless, instead of answering,
    // they sent a new program (fenced, or code that names its language).
    if let Dialogue::Stdin { check } = &who.user.dialogue {
        if let Some(text) = m.text() {
            let check = *check;
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
            let new_program = !replies_to_prompt && (text.contains("```") || detect::detect(text).language.is_some());
            if !new_program {
                return rerun_with_stdin(st, who, check, text, m.id.0, received).await;
            }
        }
    } else if replies_to_prompt && m.text().is_some() {
        // An answer to an input request that is no longer open (answered, or another came).
        let html = escape(&t(who.locale, "bot.stdin_stale"));
        ctx.send(who.chat, &html, None, Some(m.id.0)).await.ok();
        return Ok(());
    }
    if let Some(doc) = m.document() {
        return on_document(st, who, m, doc, received).await;
    }
    let Some(text) = m.text() else {
        return say(&ctx, who, "bot.unsupported").await;
    };
    on_text(st, who, text, m.id.0, received).await
}

/// Whether a bot message is the input request (`bot.stdin_prompt`, in either language, alone or
/// after the "it waited for input" offer).
fn is_input_prompt(text: &str) -> bool {
    [Locale::Ru, Locale::En]
        .into_iter()
        .any(|l| text.contains(t(l, "bot.stdin_prompt").trim()))
}

/// A text message (or a joined long paste) that is not a command: a program, or chat.
pub(super) async fn on_text(st: &mut SessionState, who: &Who, text: &str, message_id: i32, received: Instant) -> R {
    let ctx = st.ctx.clone();
    if matches!(who.user.dialogue, Dialogue::Code) {
        users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
    }
    if super::intake::cut_off(text) {
        let html = t(who.locale, "bot.cut_off");
        ctx.send(who.chat, &html, None, Some(message_id)).await.ok();
        return Ok(());
    }
    let incoming = code::from_text(text, &ctx.languages);
    if incoming.not_code {
        // Chat is answered, never run: no check row, nothing in the analytics.
        ctx.send(who.chat, &t(who.locale, "bot.not_code"), None, Some(message_id))
            .await
            .ok();
        return Ok(());
    }
    // Task mode: the code is a solution to the task.
    if let Dialogue::Task { task } = who.user.dialogue {
        return super::tasks::submit(st, who, task, incoming, message_id).await;
    }
    submit(st, who, incoming, Vec::new(), Some(message_id), None, received).await
}

pub(super) async fn on_document(
    st: &mut SessionState,
    who: &Who,
    m: &Message,
    doc: &teloxide::types::Document,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let size = doc.file.size as u64;
    let limit = ctx
        .config
        .max_document_bytes
        .min(ctx.limits.max_source_bytes as u64 * 4);
    if size > limit {
        let html = escape(&tf(
            who.locale,
            "bot.doc_too_large",
            &[("size", &human_size(size)), ("limit", &human_size(limit))],
        ));
        ctx.send(who.chat, &html, None, Some(m.id.0)).await.ok();
        return Ok(());
    }
    let file = ctx.tg.get_file(doc.file.id.clone()).await?;
    let mut bytes = Vec::with_capacity(size as usize);
    ctx.tg.download_file(&file.path, &mut bytes).await?;
    let name = doc.file_name.clone().unwrap_or_default();
    let text = match validate_source(&bytes, &ctx.limits) {
        Ok(t) => t,
        Err(e) => return refuse_source(&ctx, who, &e, m.id.0).await,
    };
    let incoming = code::from_document(&name, text, &ctx.languages);
    if let Dialogue::Task { task } = who.user.dialogue {
        return super::tasks::submit(st, who, task, incoming, m.id.0).await;
    }
    submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

async fn refuse_source(ctx: &BotCtx, who: &Who, e: &CheckError, reply_to: i32) -> R {
    let text = match e {
        CheckError::EmptySource => t(who.locale, "bot.empty"),
        CheckError::SourceTooLarge { size, limit } => tf(
            who.locale,
            "bot.too_large",
            &[("size", &size.to_string()), ("limit", &limit.to_string())],
        ),
        CheckError::NotText => t(who.locale, "bot.binary"),
        other => other.to_string(),
    };
    ctx.send(who.chat, &escape(&text), None, Some(reply_to)).await.ok();
    Ok(())
}

/// Code in: resolve the language (the fence tag or extension, else what the code names itself,
/// else the student's last language, else the default), apply the per-user limits, then start
/// the check. Input sent along with the code (a second block) replaces `stdin`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn submit(
    st: &mut SessionState,
    who: &Who,
    incoming: Incoming,
    stdin: Vec<u8>,
    source_message: Option<i32>,
    card: Option<i32>,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let reply_to = source_message.unwrap_or(0);
    if let Err(e) = validate_source(incoming.code.as_bytes(), &ctx.limits) {
        return refuse_source(&ctx, who, &e, reply_to).await;
    }
    let stdin = match &incoming.stdin {
        Some(given) => {
            let mut bytes = given.as_bytes().to_vec();
            if !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes
        }
        None => stdin,
    };
    let language = incoming
        .language
        .clone()
        .or_else(|| incoming.guessed.clone())
        .or_else(|| {
            incoming
                .unknown_tag
                .is_none()
                .then(|| who.user.prog_language.clone())
                .flatten()
        })
        .or_else(|| {
            let d = &who.settings.default_language;
            (incoming.unknown_tag.is_none() && ctx.languages.find(d).is_some()).then(|| d.clone())
        });
    let Some(language) = language else {
        // Ask, keeping the code until a language button is pressed; programs already waiting
        // keep waiting (each question's buttons name its own program).
        let mut earlier = Vec::new();
        if let Dialogue::Language {
            code,
            source_message_id,
            stdin,
            earlier: before,
        } = &who.user.dialogue
        {
            earlier.extend(before.iter().cloned());
            earlier.push(WaitingProgram {
                code: code.clone(),
                source_message_id: *source_message_id,
                stdin: stdin.clone(),
            });
        }
        // The oldest beyond the bound: its question's buttons then say it is out of date.
        let keep = earlier.len().saturating_sub(WAITING_MAX);
        earlier.drain(..keep);
        let d = Dialogue::Language {
            code: incoming.code.clone(),
            source_message_id: reply_to,
            stdin: String::from_utf8_lossy(&stdin).into_owned(),
            earlier,
        };
        users::set_dialogue(&db(&ctx).await?, who.user.id, &d).await?;
        let text = match &incoming.unknown_tag {
            Some(tag) => tf(
                who.locale,
                "bot.unknown_tag",
                &[("tag", tag), ("languages", &commands::language_list(&ctx))],
            ),
            None => t(who.locale, "bot.ask_language"),
        };
        ctx.send(
            who.chat,
            &escape(&text),
            Some(&run_as_buttons(&ctx, reply_to)),
            Some(reply_to),
        )
        .await
        .ok();
        return Ok(());
    };
    if incoming.spaces_fixed > 0 {
        let html = escape(&tf(
            who.locale,
            "bot.spaces_fixed",
            &[("count", &incoming.spaces_fixed.to_string())],
        ));
        ctx.send(who.chat, &html, None, source_message).await.ok();
    }
    start_check(
        st,
        who,
        &language,
        &incoming.code,
        stdin,
        source_message,
        card,
        received,
    )
    .await
}

/// Starts a check through admission. "⏳" is sent (or the old card edited) once every rule
/// passed and before the row is written, so delivery always has a message to edit.
#[allow(clippy::too_many_arguments)]
pub(super) async fn start_check(
    st: &mut SessionState,
    who: &Who,
    language: &str,
    code_text: &str,
    stdin: Vec<u8>,
    source_message: Option<i32>,
    card: Option<i32>,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let application = Application {
        language: language.to_string(),
        code: code_text.as_bytes().to_vec(),
        stdin,
        locale: who.locale,
        by: Submitter::Student {
            user_id: who.user.id,
            chat_id: who.chat,
            source_message_id: source_message,
            per_minute: who.settings.rate_limit_per_minute as i32,
        },
    };
    let shown = AtomicI64::new(0);
    let show = async |accepted: &admission::Accepted| -> Result<Option<i32>, ()> {
        let running = escape(&tf(
            who.locale,
            "bot.running",
            &[("language", &ctx.display_name(&accepted.language))],
        ));
        let sent = match card {
            Some(id) => match ctx.edit(who.chat, id, &running, &[]).await {
                Ok(()) => Ok(id),
                Err(SendError::Blocked) => Err(SendError::Blocked),
                Err(_) => ctx.send(who.chat, &running, None, source_message).await,
            },
            None => ctx.send(who.chat, &running, None, source_message).await,
        };
        match sent {
            Ok(id) => {
                shown.store(i64::from(id), Ordering::Relaxed);
                Ok(Some(id))
            }
            Err(e) => {
                tracing::info!(user = who.user.id, error = %e, "the \"running\" message could not be sent; no check");
                Err(())
            }
        }
    };
    match admission::admit(&ctx.admission(), application, show).await {
        Ok(id) => {
            ctx.metrics.bot_ack_seconds.observe(received.elapsed().as_secs_f64());
            st.started(id, who.chat);
            let message = i32::try_from(shown.load(Ordering::Relaxed)).unwrap_or(0);
            super::progress::watch(st, who, id, message, language);
            st.keep_typing().await;
            Ok(())
        }
        Err(Refusal::Invalid(CheckError::StdinTooLarge { size, limit })) => {
            let html = escape(&format!(
                "{} ({size} / {limit})",
                t(who.locale, "bot.stdin_placeholder")
            ));
            ctx.send(who.chat, &html, None, source_message).await.ok();
            Ok(())
        }
        Err(Refusal::Invalid(e)) => refuse_source(&ctx, who, &e, source_message.unwrap_or(0)).await,
        Err(Refusal::Busy { .. }) => {
            // Kept and run after the running one (`intake`); without an update at hand (a
            // button's re-run is the update itself) it is the plain "busy".
            if st.current.is_some() {
                super::intake::queue_current(st, who, source_message).await;
            } else {
                notice(st, who, &escape(&t(who.locale, "bot.busy")), source_message).await;
            }
            Ok(())
        }
        Err(Refusal::RateLimited { retry_after }) => {
            let html = escape(&tf(
                who.locale,
                "bot.rate_limited",
                &[("seconds", &retry_after.to_string())],
            ));
            notice(st, who, &html, source_message).await;
            Ok(())
        }
        Err(Refusal::QueueUnavailable) => {
            // Nothing was stored: the "⏳" message says so, and the student sends the code again.
            let html = escape(&t(who.locale, "bot.queue_unavailable"));
            match i32::try_from(shown.load(Ordering::Relaxed)) {
                Ok(id) if id != 0 => ctx.edit(who.chat, id, &html, &[]).await.map_err(send_err)?,
                _ => {
                    ctx.send(who.chat, &html, None, source_message)
                        .await
                        .map_err(send_err)?;
                }
            }
            Ok(())
        }
        Err(Refusal::Abandoned) => Ok(()),
        Err(Refusal::Database(e)) => Err(e.into()),
        // Only task submissions are refused for these.
        Err(e @ (Refusal::UnknownTask { .. } | Refusal::LanguageNotAllowed { .. })) => Err(e.into()),
    }
}

pub(super) async fn on_edit(st: &mut SessionState, who: &Who, m: &Message) -> R {
    let ctx = st.ctx.clone();
    let Some(text) = m.text() else { return Ok(()) };
    if Command::parse(text).is_some() {
        return Ok(());
    }
    let Some(prev) = checks::by_source_message(&db(&ctx).await?, who.chat, m.id.0).await? else {
        return Ok(());
    };
    if prev.user_id != Some(who.user.id) {
        return Ok(());
    }
    let mut incoming = code::from_text(text, &ctx.languages);
    if incoming.not_code {
        ctx.send(who.chat, &t(who.locale, "bot.not_code"), None, Some(m.id.0))
            .await
            .ok();
        return Ok(());
    }
    if incoming.language.is_none() && incoming.unknown_tag.is_none() {
        incoming.language = Some(incoming.guessed.clone().unwrap_or_else(|| prev.language.clone()));
    }
    submit(
        st,
        who,
        incoming,
        prev.stdin.clone(),
        Some(m.id.0),
        prev.message_id,
        Instant::now(),
    )
    .await
}

pub(super) async fn rerun_with_stdin(
    st: &mut SessionState,
    who: &Who,
    check: i64,
    text: &str,
    reply_to: i32,
    received: Instant,
) -> R {
    let ctx = st.ctx.clone();
    let Some(row) = checks::get(&db(&ctx).await?, check).await? else {
        return say(&ctx, who, "bot.check_missing").await;
    };
    if row.user_id != Some(who.user.id) {
        return say(&ctx, who, "bot.callback.not_yours").await;
    }
    let mut stdin = text.as_bytes().to_vec();
    if !stdin.ends_with(b"\n") {
        stdin.push(b'\n');
    }
    start_check(st, who, &row.language, &row.code, stdin, Some(reply_to), None, received).await
}

/// Programs that may wait for a language at once (the newest plus this many earlier ones).
const WAITING_MAX: usize = 4;

/// The "which language?" buttons for the program of message `source_message_id`: each runs
/// just that program in that language.
pub(super) fn run_as_buttons(ctx: &BotCtx, source_message_id: i32) -> Vec<Vec<devmentor::telegram::render::Button>> {
    commands::language_rows(ctx, |n| Callback::RunAs(source_message_id, n.to_string()))
}
