//! `/history`: the student's last checks (`telegram::history` draws the page), and a card
//! reopened from its stored result.

use super::{db, say, Who, R};
use crate::bot::{delivery, BotCtx};
use devmentor::i18n::t;
use devmentor::store::checks;
use devmentor::telegram::history::{self, Entry};
use devmentor::telegram::render::Card;
use std::time::SystemTime;

/// Checks per page.
const PAGE: i64 = super::commands::HISTORY_PAGE;

/// Page `page` of the history, sent anew or edited into message `edit`.
pub(super) async fn show(ctx: &BotCtx, who: &Who, page: i64, edit: Option<i32>) -> R {
    let page = page.clamp(0, 10_000);
    let rows = checks::history(&db(ctx).await?, who.user.id, page * PAGE, PAGE + 1).await?;
    if rows.is_empty() && page == 0 {
        return say(ctx, who, "bot.history.empty").await;
    }
    let more = rows.len() as i64 > PAGE;
    let entries: Vec<Entry> = rows
        .iter()
        .take(PAGE as usize)
        .map(|r| Entry {
            id: r.id,
            created: r.created_at,
            language: ctx.display_name(&r.language),
            result: r.result.as_ref().filter(|_| r.status == "done"),
        })
        .collect();
    let Card { html, buttons } = history::page(&entries, page, more, SystemTime::now(), who.locale);
    match edit {
        Some(mid) => ctx.edit(who.chat, mid, &html, &buttons).await.ok(),
        None => ctx.send(who.chat, &html, Some(&buttons), None).await.ok().map(|_| ()),
    };
    Ok(())
}

/// 📋 on a history line: check `id`'s card again, drawn from its stored result, as a new
/// message (its buttons work as on the original).
pub(super) async fn reopen(
    ctx: &BotCtx,
    who: &Who,
    q: &teloxide::types::CallbackQuery,
    row: checks::CheckRow,
    id: i64,
) -> R {
    if row.status != "done" {
        super::callbacks::answer(ctx, q, Some(&t(who.locale, "bot.history.still_running"))).await;
        return Ok(());
    }
    super::callbacks::answer(ctx, q, None).await;
    let card = delivery::card_of(ctx, &row);
    debug_assert_eq!(row.id, id);
    ctx.send(who.chat, &card.html, Some(&card.buttons), None).await.ok();
    Ok(())
}
