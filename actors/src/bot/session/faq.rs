//! `/faq`: the questions as buttons (`telegram::faq` draws them), and one answer in full, in as
//! many messages as it takes.

use super::{db, say, Who, R};
use crate::bot::BotCtx;
use devmentor::i18n::t;
use devmentor::store::faq as store;
use devmentor::telegram::faq;

/// The list's page `page`, sent anew or edited into message `edit`.
pub(super) async fn list(ctx: &BotCtx, who: &Who, page: i64, edit: Option<i32>) -> R {
    let entries = store::published(&db(ctx).await?, who.locale.as_str()).await?;
    if entries.is_empty() {
        return say(ctx, who, "bot.faq.empty").await;
    }
    let entries: Vec<(i64, String)> = entries.into_iter().filter_map(|e| Some((e.id?, e.question))).collect();
    let card = faq::list(&entries, page.clamp(0, 10_000) as usize, who.locale);
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

/// A question's page button.
pub(super) async fn page(ctx: &BotCtx, who: &Who, q: &teloxide::types::CallbackQuery, page: i64) -> R {
    super::callbacks::answer(ctx, q, None).await;
    list(ctx, who, page, q.message.as_ref().map(|m| m.id().0)).await
}

/// A question pressed: its answer, whole, in order.
pub(super) async fn answer(ctx: &BotCtx, who: &Who, q: &teloxide::types::CallbackQuery, id: i64) -> R {
    let Some(item) = store::get(&db(ctx).await?, id).await?.filter(|i| i.published) else {
        super::callbacks::answer(ctx, q, Some(&t(who.locale, "bot.callback.outdated"))).await;
        return Ok(());
    };
    super::callbacks::answer(ctx, q, None).await;
    for part in faq::answer(&item.question, &item.answer) {
        // In order, each paced: a lost part would leave the answer with a hole.
        if let Err(e) = ctx.send(who.chat, &part, None, None).await {
            tracing::warn!(faq = id, error = %e, "sending part of an FAQ answer failed");
            break;
        }
    }
    Ok(())
}
