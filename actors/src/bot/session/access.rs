//! Access: who may use the bot, checked on every kind of update (callback queries included):
//! the block list, maintenance mode and the whitelist (with its "request access" button).

use super::callbacks::answer;
use super::{db, Who, R};
use crate::bot::BotCtx;
use devmentor::i18n::{t, tf};
use devmentor::store::access;
use devmentor::telegram::callback::Callback;
use devmentor::telegram::render::escape;
use teloxide::types::{Update, UpdateKind};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Refusal {
    Blocked,
    Maintenance,
    NotWhitelisted,
}

pub(super) fn refusal(ctx: &BotCtx, who: &Who) -> Option<Refusal> {
    if who.user.blocked {
        return Some(Refusal::Blocked);
    }
    if who.settings.maintenance_mode {
        return Some(Refusal::Maintenance);
    }
    let playground_visitor = ctx.playground && devmentor::telegram::playground::PLAYGROUND_IDS.contains(&who.user.id);
    if who.settings.whitelist_mode && !playground_visitor && !who.user.whitelisted {
        return Some(Refusal::NotWhitelisted);
    }
    None
}

fn refusal_text(who: &Who, r: Refusal) -> String {
    match r {
        Refusal::Blocked => t(who.locale, "bot.blocked"),
        Refusal::Maintenance => who
            .settings
            .maintenance_message(who.locale)
            .map(String::from)
            .unwrap_or_else(|| t(who.locale, "bot.maintenance")),
        Refusal::NotWhitelisted => {
            let s = tf(who.locale, "bot.denied", &[("id", &who.user.id.to_string())]);
            s.replace("<code>", "").replace("</code>", "")
        }
    }
}

/// Answers an update from someone who may not use the bot now.
pub(super) async fn refuse(ctx: &BotCtx, who: &Who, update: &Update, refusal: Refusal) -> R {
    let chat = who.chat;
    match &update.kind {
        UpdateKind::CallbackQuery(q) => {
            if refusal == Refusal::NotWhitelisted && q.data.as_deref() == Some(&Callback::RequestAccess.encode()) {
                answer(ctx, q, None).await;
                let filed = access::request_access(&db(ctx).await?, who.user.id).await?;
                let key = if filed {
                    "bot.access.requested"
                } else {
                    "bot.access.already"
                };
                ctx.send(chat, &escape(&t(who.locale, key)), None, None).await.ok();
                return Ok(());
            }
            answer(ctx, q, Some(&refusal_text(who, refusal))).await;
        }
        UpdateKind::EditedMessage(_) => {}
        _ => {
            let buttons = (refusal == Refusal::NotWhitelisted).then(|| {
                vec![vec![(
                    t(who.locale, "bot.button.request_access"),
                    Callback::RequestAccess.encode(),
                )]]
            });
            let html = match refusal {
                Refusal::NotWhitelisted => tf(who.locale, "bot.denied", &[("id", &who.user.id.to_string())]),
                _ => escape(&refusal_text(who, refusal)),
            };
            ctx.send(chat, &html, buttons.as_deref(), None).await.ok();
        }
    }
    Ok(())
}
