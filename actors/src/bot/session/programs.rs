//! Programs in: a message, a document or an edited message becomes code and a language, then a
//! check through admission (the one path shared with the API) — or a clear answer why not.

use super::{commands, db, notice, say, send_err, SessionState, Who, R};
use crate::bot::session::commands::Command;
use crate::bot::{BotCtx, SendError};
use devmentor::admission::{self, Application, Refusal, Submitter};
use devmentor::check::{validate_source, CheckError};
use devmentor::i18n::{t, tf};
use devmentor::store::checks;
use devmentor::store::users::{self, Dialogue};
use devmentor::telegram::code::{self, Incoming};
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
    // Input for a check the student asked to re-run with stdin.
    if let Dialogue::Stdin { check } = &who.user.dialogue {
        if let Some(text) = m.text() {
            let check = *check;
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
            return rerun_with_stdin(st, who, check, text, m.id.0, received).await;
        }
    }
    if let Some(doc) = m.document() {
        return on_document(st, who, m, doc, received).await;
    }
    let Some(text) = m.text() else {
        return say(&ctx, who, "bot.unsupported").await;
    };
    if matches!(who.user.dialogue, Dialogue::Code) {
        users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
    }
    let incoming = code::from_text(text, &ctx.languages);
    // Task mode: the code is a solution to the task.
    if let Dialogue::Task { task } = who.user.dialogue {
        return super::tasks::submit(st, who, task, incoming, m.id.0).await;
    }
    submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await
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

/// Code in: resolve the language, apply the per-user limits, then start the check.
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
    let language = incoming
        .language
        .clone()
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
        // Ask, keeping the code until a language button is pressed.
        let d = Dialogue::Language {
            code: incoming.code.clone(),
            source_message_id: reply_to,
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
            Some(&commands::language_buttons(&ctx)),
            Some(reply_to),
        )
        .await
        .ok();
        return Ok(());
    };
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
            notice(st, who, &escape(&t(who.locale, "bot.busy")), source_message).await;
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
    if incoming.language.is_none() && incoming.unknown_tag.is_none() {
        incoming.language = Some(prev.language.clone());
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
