//! Commands: `/start`, `/help`, `/run`, `/language`, `/settings`, `/history`, `/faq`,
//! `/cancel` — typed or pressed on the main menu (its labels, in either language, are the same
//! commands) — and the markup they send (the menus; history and FAQ are rendered by
//! `telegram::render`).

use super::{db, programs, say, SessionState, Who, R};
use crate::bot::BotCtx;
use devmentor::i18n::{t, tf};
use devmentor::registry::Locale;
use devmentor::store::users::{self, Dialogue};
use devmentor::telegram::callback::Callback;
use devmentor::telegram::code;
use devmentor::telegram::render::{escape, Button};
use std::time::Instant;
use teloxide::types::{KeyboardButton, KeyboardMarkup, Message, ReplyMarkup};

/// The command menu, in its order (`setMyCommands`).
pub const MENU_COMMANDS: [&str; 8] = [
    "start", "help", "run", "language", "settings", "history", "faq", "cancel",
];
/// The main-menu buttons that are commands too.
const MENU_LABELS: [(&str, Command); 7] = [
    ("run", Command::Run),
    ("tasks", Command::Tasks),
    ("language", Command::Language),
    ("history", Command::History),
    ("faq", Command::Faq),
    ("settings", Command::Settings),
    ("help", Command::Help),
];
const LANGUAGE_MENU: [&str; 7] = ["python", "javascript", "c", "cpp", "java", "go", "rust"];
pub(super) const HISTORY_PAGE: i64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Start,
    Help,
    Run,
    Language,
    Settings,
    History,
    Faq,
    Cancel,
    Tasks,
    Progress,
    /// A `/word` this bot does not know.
    Unknown,
}

impl Command {
    /// The command a text is: `/cmd`, `/cmd@bot`, or a main-menu button label in either language.
    pub fn parse(text: &str) -> Option<Command> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix('/') {
            let word = rest.split_whitespace().next().unwrap_or("");
            let name = word.split('@').next().unwrap_or("").to_ascii_lowercase();
            return Some(match name.as_str() {
                "start" => Command::Start,
                "help" => Command::Help,
                "run" => Command::Run,
                "language" => Command::Language,
                "settings" => Command::Settings,
                "history" => Command::History,
                "faq" => Command::Faq,
                "cancel" => Command::Cancel,
                "tasks" => Command::Tasks,
                "progress" => Command::Progress,
                _ => Command::Unknown,
            });
        }
        for locale in [Locale::Ru, Locale::En] {
            for (key, c) in MENU_LABELS {
                if text == t(locale, &format!("bot.menu.{key}")) {
                    return Some(c);
                }
            }
        }
        None
    }
}

pub(super) fn main_menu(locale: Locale) -> KeyboardMarkup {
    let b = |k: &str| KeyboardButton::new(t(locale, k));
    KeyboardMarkup::new(vec![
        vec![b("bot.menu.run"), b("bot.menu.tasks")],
        vec![b("bot.menu.language")],
        vec![b("bot.menu.history"), b("bot.menu.faq")],
        vec![b("bot.menu.settings"), b("bot.menu.help")],
    ])
    .resize_keyboard()
}

pub(super) async fn on_command(st: &mut SessionState, who: &Who, m: &Message, cmd: Command, received: Instant) -> R {
    let ctx = st.ctx.clone();
    let chat = who.chat;
    match cmd {
        Command::Start => {
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
            let text = match who.settings.welcome_text(who.locale) {
                Some(w) => escape(&w.replace("{name}", &who.user.first_name)),
                None => escape(&tf(who.locale, "bot.welcome", &[("name", &who.user.first_name)])),
            };
            ctx.send_with_markup(chat, &text, ReplyMarkup::Keyboard(main_menu(who.locale)))
                .await
                .ok();
        }
        Command::Help => {
            let html = tf(who.locale, "bot.help", &[("languages", &escape(&language_list(&ctx)))]);
            ctx.send(chat, &html, None, None).await.ok();
        }
        Command::Run => {
            // `/run` as a reply to a message with code runs that code.
            if let Some(r) = m.reply_to_message() {
                if let Some(doc) = r.document() {
                    return programs::on_document(st, who, r, doc, received).await;
                }
                if let Some(text) = r.text().filter(|t| Command::parse(t).is_none()) {
                    let incoming = code::from_text(text, &ctx.languages);
                    return programs::submit(st, who, incoming, Vec::new(), Some(r.id.0), None, received).await;
                }
            }
            // `/run <code>` on one message.
            let inline = m
                .text()
                .and_then(|t| t.trim().split_once(char::is_whitespace))
                .map(|(_, c)| c.trim());
            if let Some(code_text) = inline.filter(|c| !c.is_empty()) {
                let incoming = code::from_text(code_text, &ctx.languages);
                return programs::submit(st, who, incoming, Vec::new(), Some(m.id.0), None, received).await;
            }
            users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Code).await?;
            say(&ctx, who, "bot.send_code").await?;
        }
        Command::Language => {
            let html = escape(&t(who.locale, "bot.choose_language"));
            ctx.send(chat, &html, Some(&language_buttons(&ctx)), None).await.ok();
        }
        Command::Settings => {
            let buttons = vec![vec![
                ("🇷🇺 Русский".to_string(), Callback::Locale(Locale::Ru).encode()),
                ("🇬🇧 English".to_string(), Callback::Locale(Locale::En).encode()),
            ]];
            ctx.send(chat, &escape(&t(who.locale, "bot.settings")), Some(&buttons), None)
                .await
                .ok();
        }
        Command::History => history(&ctx, who, 0, None).await?,
        Command::Faq => super::faq::list(&ctx, who, 0, None).await?,
        Command::Cancel => {
            let key = if who.user.dialogue == Dialogue::Idle {
                "bot.nothing_to_cancel"
            } else {
                users::set_dialogue(&db(&ctx).await?, who.user.id, &Dialogue::Idle).await?;
                "bot.cancelled"
            };
            let html = escape(&t(who.locale, key));
            ctx.send_with_markup(chat, &html, ReplyMarkup::Keyboard(main_menu(who.locale)))
                .await
                .ok();
        }
        Command::Tasks => super::tasks::list(&ctx, who, None).await?,
        Command::Progress => super::tasks::progress(&ctx, who).await?,
        Command::Unknown => say(&ctx, who, "bot.unknown_command").await?,
    }
    Ok(())
}

pub(super) fn language_list(ctx: &BotCtx) -> String {
    ctx.languages
        .names()
        .iter()
        .map(|n| ctx.display_name(n))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn language_buttons(ctx: &BotCtx) -> Vec<Vec<Button>> {
    language_rows(ctx, |n| Callback::Language(n.to_string()))
}

/// The languages as rows of three buttons, the popular ones first; `callback` makes each
/// button's action from the language's name.
pub(super) fn language_rows(ctx: &BotCtx, callback: impl Fn(&str) -> Callback) -> Vec<Vec<Button>> {
    let mut names: Vec<String> = LANGUAGE_MENU
        .iter()
        .filter(|n| ctx.languages.find(n).is_some())
        .map(|n| n.to_string())
        .collect();
    for n in ctx.languages.names() {
        if !names.iter().any(|m| m == n) {
            names.push(n.to_string());
        }
    }
    names
        .chunks(3)
        .map(|row| {
            row.iter()
                .map(|n| (ctx.display_name(n), callback(n).encode()))
                .collect()
        })
        .collect()
}

pub(super) async fn history(ctx: &BotCtx, who: &Who, page: i64, edit: Option<i32>) -> R {
    super::history::show(ctx, who, page, edit).await
}
