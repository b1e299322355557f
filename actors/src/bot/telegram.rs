//! Sending to Telegram: the client, pacing under Telegram's limits, 429 `retry_after` waited
//! out, and a typed [`SendError`] built from teloxide's `ApiError` variants (never from an
//! error's text), so callers decide by what happened: not modified, message gone, blocked,
//! retry after, or something else.

use super::BotCtx;
use devmentor::telegram::render::Button;
use std::future::IntoFuture;
use std::time::{Duration, Instant};
use teloxide::payloads::{EditMessageTextSetters, SendDocumentSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{
    ChatAction, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageId, ParseMode, ReplyMarkup,
    ReplyParameters,
};
use teloxide::{ApiError, RequestError};

pub type Tg = Bot;

/// Builds the Telegram client for the Bot API at `api_url` (sends are paced by [`BotCtx::gate`]).
pub fn telegram_client(token: &str, api_url: &str) -> anyhow::Result<Tg> {
    let url =
        reqwest::Url::parse(api_url).map_err(|e| anyhow::anyhow!("TELEGRAM_API_URL {api_url:?} is not a URL: {e}"))?;
    let client = teloxide::net::default_reqwest_settings()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| anyhow::anyhow!("HTTP client: {e}"))?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

pub fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|r| {
        r.iter()
            .map(|(t, d)| InlineKeyboardButton::callback(t.clone(), d.clone()))
            .collect::<Vec<_>>()
    }))
}

/// What a failed Telegram call means for the caller.
#[derive(Debug)]
pub enum SendError {
    /// An edit that would change nothing.
    NotModified,
    /// The message to edit is gone (deleted by the student) or can no longer be edited.
    MessageGone,
    /// The user blocked the bot or deleted their account (they are marked).
    Blocked,
    /// Telegram still asks to slow down after the retries.
    RetryAfter(Duration),
    Other(String),
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::NotModified => f.write_str("the message is not modified"),
            SendError::MessageGone => f.write_str("the message is gone or cannot be edited"),
            SendError::Blocked => f.write_str("the user blocked the bot"),
            SendError::RetryAfter(d) => write!(f, "Telegram asks to retry after {} s", d.as_secs()),
            SendError::Other(e) => write!(f, "Telegram: {e}"),
        }
    }
}

impl std::error::Error for SendError {}

impl SendError {
    fn of(e: RequestError) -> SendError {
        match e {
            RequestError::Api(ApiError::MessageNotModified) => SendError::NotModified,
            RequestError::Api(ApiError::MessageToEditNotFound | ApiError::MessageCantBeEdited) => {
                SendError::MessageGone
            }
            RequestError::Api(ApiError::BotBlocked | ApiError::UserDeactivated) => SendError::Blocked,
            RequestError::RetryAfter(s) => SendError::RetryAfter(s.duration()),
            e => SendError::Other(e.to_string()),
        }
    }
}

impl BotCtx {
    /// Waits until a new message to `chat` is within Telegram's limits.
    pub async fn pace(&self, chat: i64) {
        loop {
            let wait = match self.gate.lock() {
                Ok(mut g) => g.reserve(chat, Instant::now()),
                Err(_) => Duration::ZERO,
            };
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Runs a Telegram call, waiting out 429 `retry_after` (up to three times); a user who
    /// blocked the bot is marked.
    pub async fn call<T, F, Fut>(&self, chat: i64, mut f: F) -> Result<T, SendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let mut attempts = 0;
        loop {
            match f().await.map_err(SendError::of) {
                Ok(v) => return Ok(v),
                Err(SendError::RetryAfter(d)) if attempts < 3 => {
                    attempts += 1;
                    tracing::info!(chat, retry_after_s = d.as_secs(), "Telegram asked to slow down");
                    tokio::time::sleep(d).await;
                }
                Err(SendError::Blocked) => {
                    tracing::info!(chat, "the user blocked the bot; marking them");
                    if let Ok(c) = self.store.client().await {
                        let _ = devmentor::store::users::mark_bot_blocked(&c, chat).await;
                    }
                    return Err(SendError::Blocked);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends an HTML message, optionally with inline buttons and as a reply.
    pub async fn send(
        &self,
        chat: i64,
        html: &str,
        buttons: Option<&[Vec<Button>]>,
        reply_to: Option<i32>,
    ) -> Result<i32, SendError> {
        self.pace(chat).await;
        let m = self
            .call(chat, || {
                let mut r = self.tg.send_message(ChatId(chat), html).parse_mode(ParseMode::Html);
                if let Some(b) = buttons {
                    r = r.reply_markup(keyboard(b));
                }
                if let Some(to) = reply_to {
                    r = r.reply_parameters(ReplyParameters::new(MessageId(to)).allow_sending_without_reply());
                }
                r.into_future()
            })
            .await?;
        Ok(m.id.0)
    }

    /// Sends an HTML message with a reply keyboard (the main menu, a ForceReply prompt).
    pub async fn send_with_markup(&self, chat: i64, html: &str, markup: ReplyMarkup) -> Result<i32, SendError> {
        self.pace(chat).await;
        let m = self
            .call(chat, || {
                self.tg
                    .send_message(ChatId(chat), html)
                    .parse_mode(ParseMode::Html)
                    .reply_markup(markup.clone())
                    .into_future()
            })
            .await?;
        Ok(m.id.0)
    }

    /// Edits a message; "not modified" counts as done.
    pub async fn edit(&self, chat: i64, message: i32, html: &str, buttons: &[Vec<Button>]) -> Result<(), SendError> {
        let r = self
            .call(chat, || {
                self.tg
                    .edit_message_text(ChatId(chat), MessageId(message), html)
                    .parse_mode(ParseMode::Html)
                    .reply_markup(keyboard(buttons))
                    .into_future()
            })
            .await;
        match r {
            Ok(_) | Err(SendError::NotModified) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Edits a card in, or — when the message is gone — sends it anew.
    pub async fn edit_or_send(
        &self,
        chat: i64,
        message: i32,
        html: &str,
        buttons: &[Vec<Button>],
    ) -> Result<(), SendError> {
        match self.edit(chat, message, html, buttons).await {
            Err(SendError::MessageGone) => self.send(chat, html, Some(buttons), None).await.map(|_| ()),
            r => r,
        }
    }

    /// Sends a text file (the full output of a program).
    pub async fn send_text_file(&self, chat: i64, name: &str, bytes: Vec<u8>, caption: &str) -> Result<(), SendError> {
        self.pace(chat).await;
        self.call(chat, || {
            self.tg
                .send_document(
                    ChatId(chat),
                    InputFile::memory(bytes.clone()).file_name(name.to_string()),
                )
                .caption(caption.to_string())
                .into_future()
        })
        .await
        .map(|_| ())
    }

    /// Shows "typing…" in the chat (it lasts about five seconds).
    pub async fn typing(&self, chat: i64) {
        let _ = self.tg.send_chat_action(ChatId(chat), ChatAction::Typing).await;
    }
}
