//! Buttons: the card's (re-run, input, full output, explain more, the catalogue's example, votes),
//! history pages, the language and interface-language choices. Buttons about a check work for its
//! owner only. A button whose question has moved on (its program already ran, or was replaced) says
//! so.

use super::{commands, db, programs, say, send_err, SessionState, Who, R};
use crate::bot::BotCtx;
use devmentor::i18n::{t, tf};
use devmentor::registry::Locale;
use devmentor::store::checks;
use devmentor::store::users::{self, Dialogue, WaitingProgram};
use devmentor::telegram::callback::Callback;
use devmentor::telegram::code::Incoming;
use devmentor::telegram::render::{self, escape};
use std::future::IntoFuture;
use std::time::Instant;
use teloxide::payloads::AnswerCallbackQuerySetters;
use teloxide::prelude::*;
use teloxide::types::{ForceReply, MaybeInaccessibleMessage, ReplyMarkup};

pub(super) async fn answer(ctx: &BotCtx, q: &teloxide::types::CallbackQuery, text: Option<&str>) {
    let r = ctx
        .call(q.from.id.0 as i64, || {
            let mut r = ctx.tg.answer_callback_query(q.id.clone());
            if let Some(t) = text {
                r = r.text(t.to_string());
            }
            r.into_future()
        })
        .await;
    if let Err(e) = r {
        tracing::debug!(?e, "answerCallbackQuery failed");
    }
}

pub(super) async fn on_callback(st: &mut SessionState, who: &Who, q: &teloxide::types::CallbackQuery) -> R {
    let ctx = st.ctx.clone();
    let Some(cb) = q.data.as_deref().and_then(Callback::parse) else {
        answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
        return Ok(());
    };
    let source_message = q.message.as_ref().map(|m| m.id().0);
    // Buttons about a check: only its owner may press them.
    let owned = |row: &Option<checks::CheckRow>| -> Result<checks::CheckRow, &'static str> {
        match row {
            None => Err("bot.check_missing"),
            Some(r) if r.user_id != Some(who.user.id) => Err("bot.callback.not_yours"),
            Some(r) => Ok(r.clone()),
        }
    };
    let check_id = match &cb {
        Callback::Rerun(id)
        | Callback::Explain(id)
        | Callback::FullOutput(id)
        | Callback::Input(id)
        | Callback::Example(id) => Some(*id),
        Callback::Vote(id, _) => Some(*id),
        Callback::Stop(id) | Callback::Card(id) => Some(*id),
        _ => None,
    };
    let row = match check_id {
        Some(id) => match owned(&checks::get(&db(&ctx).await?, id).await?) {
            Ok(r) => Some(r),
            Err(key) => {
                answer(&ctx, q, Some(&t(who.locale, key))).await;
                return Ok(());
            }
        },
        None => None,
    };
    match cb {
        Callback::Rerun(_) => {
            answer(&ctx, q, None).await;
            let r = row.expect("owned row");
            programs::start_check(
                st,
                who,
                &r.language,
                &r.code,
                r.stdin.clone(),
                None,
                None,
                Instant::now(),
            )
            .await?;
        }
        Callback::Input(id) => {
            answer(&ctx, q, None).await;
            ask_stdin(&ctx, who.user.id, who.chat, who.locale, id, false).await?;
        }
        Callback::FullOutput(id) => {
            let r = row.expect("owned row");
            let (stdout, stderr) = r
                .result
                .as_ref()
                .map(|x| (x.stdout.as_str(), x.stderr.as_str()))
                .unwrap_or(("", ""));
            let mut out = render::clean(stdout);
            if !stderr.is_empty() {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&render::clean(stderr));
            }
            if out.is_empty() {
                answer(&ctx, q, Some(&t(who.locale, "bot.full.empty"))).await;
                return Ok(());
            }
            answer(&ctx, q, None).await;
            let caption = tf(who.locale, "bot.full.caption", &[("id", &id.to_string())]);
            ctx.send_text_file(who.chat, &format!("output-{id}.txt"), out.into_bytes(), &caption)
                .await
                .ok();
        }
        Callback::Vote(id, up) => {
            let r = row.expect("owned row");
            let source = r
                .result
                .as_ref()
                .and_then(|x| x.explanation.as_ref())
                .map(|e| e.source.clone())
                .unwrap_or_default();
            users::vote(&db(&ctx).await?, id, who.user.id, if up { 1 } else { -1 }, &source).await?;
            answer(&ctx, q, Some(&t(who.locale, "bot.callback.vote_thanks"))).await;
        }
        Callback::Example(_) => {
            let r = row.expect("owned row");
            let html = r
                .result
                .as_ref()
                .and_then(|x| x.explanation.as_ref())
                .and_then(|e| render::example(e, &r.language, who.locale));
            let Some(html) = html else {
                answer(&ctx, q, Some(&t(who.locale, "bot.example.none"))).await;
                return Ok(());
            };
            answer(&ctx, q, None).await;
            ctx.send(who.chat, &html, None, r.message_id).await.ok();
        }
        Callback::Explain(id) => {
            answer(&ctx, q, None).await;
            explain_more(&ctx, who, row.expect("owned row"), id).await?;
        }
        Callback::History(page) => {
            answer(&ctx, q, None).await;
            let edit = q
                .message
                .as_ref()
                .and_then(|m| match m {
                    MaybeInaccessibleMessage::Regular(m) => m.text(),
                    _ => None,
                })
                .is_some_and(|t| t.starts_with("🕘"));
            commands::history(&ctx, who, page, if edit { source_message } else { None }).await?;
        }
        Callback::Language(name) => {
            let Some(pack) = ctx.languages.find(&name) else {
                answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
                return Ok(());
            };
            let name = pack.name.clone();
            let client = db(&ctx).await?;
            users::set_prog_language(&client, who.user.id, &name).await?;
            let text = tf(
                who.locale,
                "bot.language_set",
                &[("language", &ctx.display_name(&name))],
            );
            answer(&ctx, q, Some(&text)).await;
            // A question sent before "which language?" named its program: the newest waiting
            // program runs (this menu also sets the default, as it always did).
            if let Dialogue::Language {
                code,
                source_message_id,
                stdin,
                earlier,
            } = &who.user.dialogue
            {
                let rest = waiting_after(earlier.clone());
                users::set_dialogue(&client, who.user.id, &rest).await?;
                drop(client);
                let incoming = Incoming {
                    code: code.clone(),
                    language: Some(name),
                    stdin: (!stdin.is_empty()).then(|| stdin.clone()),
                    ..Incoming::default()
                };
                let src = (*source_message_id != 0).then_some(*source_message_id);
                return programs::submit(st, who, incoming, Vec::new(), src, None, Instant::now()).await;
            }
            if let Some(mid) = source_message {
                ctx.edit(who.chat, mid, &escape(&text), &[]).await.ok();
            }
        }
        Callback::RunAs(program, name) => {
            let Some(pack) = ctx.languages.find(&name) else {
                answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
                return Ok(());
            };
            let name = pack.name.clone();
            let Some((waiting, rest)) = take_waiting(&who.user.dialogue, program) else {
                // Its program already ran or was replaced: say so, and take the buttons away.
                let stale = t(who.locale, "bot.callback.stale");
                answer(&ctx, q, Some(&stale)).await;
                if let Some(mid) = source_message {
                    ctx.edit(who.chat, mid, &escape(&stale), &[]).await.ok();
                }
                return Ok(());
            };
            users::set_dialogue(&db(&ctx).await?, who.user.id, &rest).await?;
            answer(&ctx, q, None).await;
            // This program only; making the language the default is its own, visible button.
            if let Some(mid) = source_message {
                let display = ctx.display_name(&name);
                let text = escape(&tf(who.locale, "bot.run_as", &[("language", &display)]));
                let label = tf(who.locale, "bot.button.make_default", &[("language", &display)]);
                let buttons = vec![vec![(label, Callback::MakeDefault(name.clone()).encode())]];
                ctx.edit(who.chat, mid, &text, &buttons).await.ok();
            }
            let incoming = Incoming {
                code: waiting.code,
                language: Some(name),
                stdin: (!waiting.stdin.is_empty()).then_some(waiting.stdin),
                ..Incoming::default()
            };
            let src = (waiting.source_message_id != 0).then_some(waiting.source_message_id);
            return programs::submit(st, who, incoming, Vec::new(), src, None, Instant::now()).await;
        }
        Callback::MakeDefault(name) => {
            let Some(pack) = ctx.languages.find(&name) else {
                answer(&ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
                return Ok(());
            };
            let name = pack.name.clone();
            users::set_prog_language(&db(&ctx).await?, who.user.id, &name).await?;
            let text = tf(
                who.locale,
                "bot.language_set",
                &[("language", &ctx.display_name(&name))],
            );
            answer(&ctx, q, Some(&text)).await;
            if let Some(mid) = source_message {
                ctx.edit(who.chat, mid, &escape(&text), &[]).await.ok();
            }
        }
        Callback::Locale(locale) => {
            users::set_locale(&db(&ctx).await?, who.user.id, locale).await?;
            answer(&ctx, q, None).await;
            let text = escape(&t(locale, "bot.settings_set"));
            ctx.send_with_markup(who.chat, &text, ReplyMarkup::Keyboard(commands::main_menu(locale)))
                .await
                .ok();
        }
        Callback::Tasks => {
            answer(&ctx, q, None).await;
            super::tasks::list(&ctx, who, source_message).await?;
        }
        Callback::Task(id) => {
            answer(&ctx, q, None).await;
            super::tasks::show(&ctx, who, id, None).await?;
        }
        Callback::Solve(id) => {
            answer(&ctx, q, None).await;
            super::tasks::solve(&ctx, who, id).await?;
        }
        Callback::Hint(submission, k) => {
            answer(&ctx, q, None).await;
            super::tasks::hint(&ctx, who, submission, k).await?;
        }
        Callback::Stop(_) => super::progress::stop(st, who, q, row.expect("owned row")).await?,
        Callback::Card(id) => super::history::reopen(&ctx, who, q, row.expect("owned row"), id).await?,
        Callback::Faq(id) => super::faq::answer(&ctx, who, q, id).await?,
        Callback::FaqPage(page) => super::faq::page(&ctx, who, q, page).await?,
        Callback::RequestAccess => {
            // Already allowed in: nothing to request.
            answer(&ctx, q, Some(&t(who.locale, "bot.access.approved"))).await;
        }
    }
    Ok(())
}

/// Asks for a check's standard input with ForceReply; the answer re-runs the check with it.
/// `offer` adds why (delivery offers it when the program failed waiting for input).
pub async fn ask_stdin(ctx: &BotCtx, user_id: i64, chat: i64, locale: Locale, check: i64, offer: bool) -> R {
    users::set_dialogue(&db(ctx).await?, user_id, &Dialogue::Stdin { check }).await?;
    let prompt = tf(locale, "bot.stdin_prompt", &[("id", &check.to_string())]);
    let text = if offer {
        format!("{}\n\n{prompt}", t(locale, "bot.stdin_offer"))
    } else {
        prompt
    };
    let reply = ForceReply::new().input_field_placeholder(Some(t(locale, "bot.stdin_placeholder")));
    ctx.send_with_markup(chat, &escape(&text), ReplyMarkup::ForceReply(reply))
        .await
        .ok();
    Ok(())
}

/// "🧠 Explain more": the process's one AI client, asked through the analyzer (where every other
/// AI call is made), counted against the student's daily quota.
async fn explain_more(ctx: &BotCtx, who: &Who, row: checks::CheckRow, id: i64) -> R {
    let Some(result) = row
        .result
        .as_ref()
        .filter(|r| r.verdict != devmentor::sandbox::Verdict::Ok)
    else {
        return say(ctx, who, "bot.ai_nothing").await;
    };
    let Some(ai) = ctx.ai.clone() else {
        return say(ctx, who, "bot.ai_unavailable").await;
    };
    let quota = who.settings.ai_daily_quota;
    if !users::take_ai_quota(&db(ctx).await?, who.user.id, quota).await? {
        let html = escape(&tf(who.locale, "bot.ai_quota", &[("quota", &quota.to_string())]));
        ctx.send(who.chat, &html, None, row.message_id).await.ok();
        return Ok(());
    }
    let Some(pack) = ctx.languages.find(&row.language) else {
        return say(ctx, who, "bot.check_missing").await;
    };
    let Some(error) = devmentor::analyzer::more::error_of(pack, result, &row.code, who.locale, id) else {
        return say(ctx, who, "bot.ai_nothing").await;
    };
    let thinking = ctx
        .send(
            who.chat,
            &escape(&t(who.locale, "bot.ai_thinking")),
            None,
            row.message_id,
        )
        .await
        .map_err(send_err)?;
    let html = match devmentor::analyzer::more::explain_more(&ai, &pack.name, &error, &row.code, who.locale).await {
        Ok(explanation) => render::explanation_html(&explanation, who.locale),
        Err(e) => {
            tracing::warn!(check = id, error = %e, "explain more: the AI call failed");
            escape(&t(who.locale, "bot.ai_unavailable"))
        }
    };
    let buttons = vec![vec![
        (t(who.locale, "bot.button.up"), Callback::Vote(id, true).encode()),
        (t(who.locale, "bot.button.down"), Callback::Vote(id, false).encode()),
    ]];
    ctx.edit(who.chat, thinking, &html, &buttons).await.ok();
    Ok(())
}

/// The program of message `program` among those waiting for a language, and the dialogue
/// without it (the others keep waiting); `None` when it no longer waits.
fn take_waiting(dialogue: &Dialogue, program: i32) -> Option<(WaitingProgram, Dialogue)> {
    let Dialogue::Language {
        code,
        source_message_id,
        stdin,
        earlier,
    } = dialogue
    else {
        return None;
    };
    let mut all = earlier.clone();
    all.push(WaitingProgram {
        code: code.clone(),
        source_message_id: *source_message_id,
        stdin: stdin.clone(),
    });
    let at = all.iter().position(|w| w.source_message_id == program)?;
    let taken = all.remove(at);
    Some((taken, waiting_after(all)))
}

/// The dialogue once the newest waiting program is taken: the rest still wait, else idle.
fn waiting_after(mut rest: Vec<WaitingProgram>) -> Dialogue {
    match rest.pop() {
        None => Dialogue::Idle,
        Some(newest) => Dialogue::Language {
            code: newest.code,
            source_message_id: newest.source_message_id,
            stdin: newest.stdin,
            earlier: rest,
        },
    }
}
