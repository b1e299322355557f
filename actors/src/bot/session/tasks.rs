//! Tasks in the bot: `/tasks` (the list with ✅/✖/·), a task's card, task mode (a dialogue
//! state in PostgreSQL, so it survives restarts: the next code is a solution), submitting
//! through admission, hints (the teacher's in order, then the LLM's Socratic one), `/progress`.

use super::{db, notice, say, SessionState, Who, R};
use crate::bot::BotCtx;
use devmentor::admission::{self, Refusal, Submitter, TaskApplication};
use devmentor::i18n::{t, tf};
use devmentor::store::tasks as store;
use devmentor::store::users::{self, Dialogue};
use devmentor::tasks::{SubmissionVerdict, Task};
use devmentor::telegram::code::Incoming;
use devmentor::telegram::render::escape;
use devmentor::telegram::task_card::{self, Standing};
use std::sync::atomic::{AtomicI64, Ordering};

/// The published tasks with this student's standing on each.
async fn standings(ctx: &BotCtx, who: &Who) -> R<Vec<(Task, Standing)>> {
    let client = db(ctx).await?;
    let tasks = store::published(&client).await?;
    let mine = store::standings(&client, who.user.id).await?;
    Ok(tasks
        .into_iter()
        .map(|t| {
            let s = match mine.get(&t.id) {
                Some(true) => Standing::Solved,
                Some(false) => Standing::Tried,
                None => Standing::New,
            };
            (t, s)
        })
        .collect())
}

/// `/tasks`, or the list edited into `edit`.
pub(super) async fn list(ctx: &BotCtx, who: &Who, edit: Option<i32>) -> R {
    let card = task_card::task_list(&standings(ctx, who).await?, who.locale);
    match edit {
        Some(mid) => ctx.edit(who.chat, mid, &card.html, &card.buttons).await.ok(),
        None => ctx
            .send(who.chat, &card.html, Some(&card.buttons), None)
            .await
            .ok()
            .map(|_| ()),
    };
    Ok(())
}

pub(super) async fn progress(ctx: &BotCtx, who: &Who) -> R {
    let html = task_card::progress(&standings(ctx, who).await?, who.locale);
    ctx.send(who.chat, &html, None, None).await.ok();
    Ok(())
}

async fn published(ctx: &BotCtx, id: i64) -> R<Option<Task>> {
    Ok(store::by_id(&db(ctx).await?, id).await?.filter(|t| t.published))
}

/// A task's card (a new message, or edited into `edit`).
pub(super) async fn show(ctx: &BotCtx, who: &Who, id: i64, edit: Option<i32>) -> R {
    let Some(task) = published(ctx, id).await? else {
        return say(ctx, who, "bot.task.missing").await;
    };
    let tests = store::tests(&db(ctx).await?, task.id).await?;
    let language = who.user.prog_language.clone().unwrap_or_default();
    let card = task_card::task(&task, &tests, who.locale, &language);
    match edit {
        Some(mid) => ctx.edit(who.chat, mid, &card.html, &card.buttons).await.ok(),
        None => ctx
            .send(who.chat, &card.html, Some(&card.buttons), None)
            .await
            .ok()
            .map(|_| ()),
    };
    Ok(())
}

/// "✍️ Send a solution": task mode until the student leaves it (`/cancel`, another command).
pub(super) async fn solve(ctx: &BotCtx, who: &Who, id: i64) -> R {
    let Some(task) = published(ctx, id).await? else {
        return say(ctx, who, "bot.task.missing").await;
    };
    users::set_dialogue(&db(ctx).await?, who.user.id, &Dialogue::Task { task: task.id }).await?;
    let language = who
        .user
        .prog_language
        .clone()
        .or_else(|| task.languages.first().cloned())
        .unwrap_or_else(|| who.settings.default_language.clone());
    let text = tf(
        who.locale,
        "bot.task.send_solution",
        &[
            ("title", task.title(who.locale)),
            ("language", &ctx.display_name(&language)),
        ],
    );
    ctx.send(who.chat, &escape(&text), None, None).await.ok();
    Ok(())
}

/// Code in task mode: a submission, graded on every test; the "⏳" message becomes its card.
pub(super) async fn submit(st: &mut SessionState, who: &Who, id: i64, incoming: Incoming, reply_to: i32) -> R {
    let ctx = st.ctx.clone();
    let Some(task) = published(&ctx, id).await? else {
        users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
        return say(&ctx, who, "bot.task.missing").await;
    };
    let language = incoming
        .language
        .clone()
        .or_else(|| who.user.prog_language.clone().filter(|l| task.allows(l)))
        .or_else(|| task.languages.first().cloned())
        .unwrap_or_else(|| who.settings.default_language.clone());
    let application = TaskApplication {
        slug: task.slug.clone(),
        language,
        code: incoming.code.into_bytes(),
        locale: who.locale,
        by: Submitter::Student {
            user_id: who.user.id,
            chat_id: who.chat,
            source_message_id: Some(reply_to),
            per_minute: who.settings.rate_limit_per_minute as i32,
        },
    };
    let shown = AtomicI64::new(0);
    let title = task.title(who.locale).to_string();
    let show = async |_: &admission::Accepted| -> Result<Option<i32>, ()> {
        let html = escape(&tf(who.locale, "bot.task.grading", &[("title", &title)]));
        match ctx.send(who.chat, &html, None, Some(reply_to)).await {
            Ok(mid) => {
                shown.store(i64::from(mid), Ordering::Relaxed);
                Ok(Some(mid))
            }
            Err(_) => Err(()),
        }
    };
    let text = match admission::admit_submission(&ctx.admission(), application, show).await {
        Ok(_) => return Ok(()),
        Err(Refusal::Busy { .. }) => {
            notice(st, who, &escape(&t(who.locale, "bot.task.busy")), Some(reply_to)).await;
            return Ok(());
        }
        Err(Refusal::RateLimited { retry_after }) => {
            tf(who.locale, "bot.rate_limited", &[("seconds", &retry_after.to_string())])
        }
        Err(Refusal::LanguageNotAllowed { allowed, .. }) => tf(
            who.locale,
            "bot.task.not_allowed",
            &[("languages", &allowed.join(", "))],
        ),
        Err(Refusal::UnknownTask { .. }) => t(who.locale, "bot.task.missing"),
        Err(Refusal::QueueUnavailable) => t(who.locale, "bot.queue_unavailable"),
        Err(Refusal::Invalid(e)) => match e {
            devmentor::check::CheckError::EmptySource => t(who.locale, "bot.empty"),
            devmentor::check::CheckError::NotText => t(who.locale, "bot.binary"),
            devmentor::check::CheckError::SourceTooLarge { size, limit } => tf(
                who.locale,
                "bot.too_large",
                &[("size", &size.to_string()), ("limit", &limit.to_string())],
            ),
            other => other.to_string(),
        },
        Err(Refusal::Abandoned) => return Ok(()),
        Err(Refusal::Database(e)) => return Err(e.into()),
    };
    let html = escape(&text);
    match i32::try_from(shown.load(Ordering::Relaxed)) {
        Ok(mid) if mid != 0 => ctx.edit(who.chat, mid, &html, &[]).await.ok(),
        _ => ctx.send(who.chat, &html, None, Some(reply_to)).await.ok().map(|_| ()),
    };
    Ok(())
}

/// 💡 hint `k` for a submission: the teacher's hints in order, then the LLM's (with only what
/// the student may see: the statement, their code, a failing *visible* test, the error).
pub(super) async fn hint(ctx: &BotCtx, who: &Who, submission: i64, k: i64) -> R {
    let client = db(ctx).await?;
    let Some(row) = store::submission(&client, submission).await? else {
        return say(ctx, who, "bot.check_missing").await;
    };
    if row.user_id != Some(who.user.id) {
        return say(ctx, who, "bot.callback.not_yours").await;
    }
    let Some(task) = store::by_id(&client, row.task_id).await? else {
        return say(ctx, who, "bot.task.missing").await;
    };
    drop(client);
    let Some(graded) = row.result.as_ref() else {
        return Ok(());
    };
    if graded.verdict == SubmissionVerdict::Accepted {
        return say(ctx, who, "bot.hint.solved").await;
    }

    let total = task.hints.len() as i64;
    let next = devmentor::telegram::callback::Callback::Hint(submission, k + 1).encode();
    if k < total {
        let h = &task.hints[k as usize];
        let html = format!(
            "<b>{}</b>\n{}",
            escape(&tf(
                who.locale,
                "bot.hint.teacher",
                &[("n", &(k + 1).to_string()), ("total", &total.to_string())]
            )),
            escape(h.text(who.locale))
        );
        let more = k + 1 < total || ctx.ai.is_some();
        let buttons = [vec![(t(who.locale, "bot.button.next_hint"), next)]];
        credit_hint(ctx, submission).await;
        ctx.send(who.chat, &html, more.then_some(&buttons[..]), None).await.ok();
        return Ok(());
    }
    let Some(ai) = ctx.ai.clone() else {
        let key = if total > 0 {
            "bot.hint.no_ai"
        } else {
            "bot.hint.none_left"
        };
        return say(ctx, who, key).await;
    };
    let quota = who.settings.ai_daily_quota;
    if !users::take_ai_quota(&db(ctx).await?, who.user.id, quota).await? {
        let html = escape(&tf(who.locale, "bot.ai_quota", &[("quota", &quota.to_string())]));
        ctx.send(who.chat, &html, None, None).await.ok();
        return Ok(());
    }
    let failing = graded.first_failure();
    let visible = failing.filter(|f| !f.hidden);
    let request = devmentor::ai::prompt::HintRequest {
        slug: &task.slug,
        statement: task.statement(who.locale),
        code: &row.code,
        verdict: graded.verdict.as_str(),
        test_number: visible.map(|f| f.n),
        visible: visible.map(|f| {
            (
                f.stdin.as_deref().unwrap_or(""),
                f.expected.as_deref().unwrap_or(""),
                f.actual.as_deref().unwrap_or(""),
            )
        }),
        error: graded
            .compile_output
            .as_deref()
            .or(visible.and_then(|f| f.stderr.as_deref())),
    };
    let html = match ai.hint(&row.language, who.locale, &request).await {
        Ok(answer) => {
            credit_hint(ctx, submission).await;
            format!(
                "<b>{}</b>\n{}",
                escape(&t(who.locale, "bot.hint.ai")),
                escape(&answer.text)
            )
        }
        Err(e) => {
            tracing::warn!(submission, error = %e, "an AI hint failed");
            escape(&t(who.locale, "bot.ai_unavailable"))
        }
    };
    ctx.send(who.chat, &html, None, None).await.ok();
    Ok(())
}

/// A hint was shown: the student's next try of the task now answers the hint (the lineage of
/// `store::efficacy`). Best effort: the hint matters more than its bookkeeping.
async fn credit_hint(ctx: &BotCtx, submission: i64) {
    let r = match db(ctx).await {
        Ok(c) => devmentor::store::efficacy::hint_shown(&c, submission)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(format!("{e:?}")),
    };
    if let Err(e) = r {
        tracing::warn!(submission, error = %e, "a hint could not be credited in the lineage");
    }
}
