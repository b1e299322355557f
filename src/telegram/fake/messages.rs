//! Messages: what the bot sends (`sendMessage`, `sendDocument`) and edits (`editMessageText`,
//! `editMessageReplyMarkup`), checked the way Telegram checks them (empty or over-long text, an
//! edit that changes nothing, a message that is not there); and the chat as the student sees it
//! now, which tests read and wait on.

use super::{api_error, as_i64, now_unix, ok, Answer, FakeTelegram, State, BOT_ID, BOT_USERNAME};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A message in a chat, as it looks now (after edits).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    pub message_id: i32,
    pub chat_id: i64,
    pub from_bot: bool,
    pub text: String,
    pub parse_mode: Option<String>,
    /// Inline buttons as (label, callback data), row by row.
    pub buttons: Vec<Vec<(String, String)>>,
    /// The reply keyboard or ForceReply markup, as sent.
    pub reply_markup: Option<Value>,
    pub document: Option<Document>,
    pub edits: u32,
    pub reply_to: Option<i32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// `sendMessage` and `sendDocument`: a new bot message in the chat.
pub(super) fn send(st: &mut State, method: &str, chat_id: Option<i64>, p: &Value) -> Answer {
    let Some(chat_id) = chat_id else {
        return (400, api_error(400, "Bad Request: chat_id is empty", None));
    };
    let text = p
        .get("text")
        .or_else(|| p.get("caption"))
        .and_then(|t| t.as_str())
        .unwrap_or("");
    if method == "sendMessage" && text.trim().is_empty() {
        return (400, api_error(400, "Bad Request: message text is empty", None));
    }
    if text.chars().count() > 4096 {
        return (400, api_error(400, "Bad Request: message is too long", None));
    }
    let document = p.get("document").and_then(|d| {
        Some(Document {
            file_name: d.get("file_name")?.as_str()?.to_string(),
            bytes: d
                .get("bytes")?
                .as_array()?
                .iter()
                .filter_map(|b| b.as_u64().map(|b| b as u8))
                .collect(),
        })
    });
    if method == "sendDocument" && document.is_none() {
        return (
            400,
            api_error(400, "Bad Request: there is no document in the request", None),
        );
    }
    let id = st.next_message;
    st.next_message += 1;
    let m = ChatMessage {
        message_id: id,
        chat_id,
        from_bot: true,
        text: text.to_string(),
        parse_mode: p.get("parse_mode").and_then(|v| v.as_str()).map(String::from),
        buttons: buttons(p.get("reply_markup")),
        reply_markup: p.get("reply_markup").cloned(),
        document,
        edits: 0,
        reply_to: p
            .pointer("/reply_parameters/message_id")
            .or_else(|| p.get("reply_to_message_id"))
            .and_then(as_i64)
            .map(|v| v as i32),
    };
    let json = message_json(&m, None);
    st.messages.insert((chat_id, id), m);
    (200, ok(json))
}

/// `editMessageText` and `editMessageReplyMarkup`: a bot message changes in place.
pub(super) fn edit(st: &mut State, method: &str, chat_id: Option<i64>, p: &Value) -> Answer {
    let mid = p.get("message_id").and_then(as_i64).unwrap_or(0) as i32;
    let Some(chat_id) = chat_id else {
        return (400, api_error(400, "Bad Request: chat_id is empty", None));
    };
    let Some(m) = st.messages.get_mut(&(chat_id, mid)) else {
        return (400, api_error(400, "Bad Request: message to edit not found", None));
    };
    let text = if method == "editMessageText" {
        p.get("text").and_then(|t| t.as_str()).unwrap_or("").to_string()
    } else {
        m.text.clone()
    };
    if text.chars().count() > 4096 {
        return (400, api_error(400, "Bad Request: MESSAGE_TOO_LONG", None));
    }
    let new_buttons = buttons(p.get("reply_markup"));
    if text == m.text && new_buttons == m.buttons {
        return (
            400,
            api_error(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup \
                 are exactly the same as a current content and reply markup of the message",
                None,
            ),
        );
    }
    m.text = text;
    m.buttons = new_buttons;
    m.reply_markup = p.get("reply_markup").cloned();
    if method == "editMessageText" {
        m.parse_mode = p.get("parse_mode").and_then(|v| v.as_str()).map(String::from);
    }
    m.edits += 1;
    let json = message_json(m, Some(now_unix()));
    (200, ok(json))
}

fn buttons(markup: Option<&Value>) -> Vec<Vec<(String, String)>> {
    markup
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(|k| k.as_array())
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    row.as_array()
                        .map(|bs| {
                            bs.iter()
                                .map(|b| {
                                    let text = b.get("text").and_then(|t| t.as_str()).unwrap_or("").to_string();
                                    let data = b
                                        .get("callback_data")
                                        .and_then(|t| t.as_str())
                                        .unwrap_or("")
                                        .to_string();
                                    (text, data)
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The message as the Bot API describes it (in a reply, a callback query, an edit's answer).
pub(super) fn message_json(m: &ChatMessage, edit_date: Option<i64>) -> Value {
    let mut j = json!({"message_id": m.message_id, "date": now_unix(),
                       "chat": {"id": m.chat_id, "type": "private", "first_name": "Student"}});
    if m.from_bot {
        j["from"] = json!({"id": BOT_ID, "is_bot": true, "first_name": "Dev-Mentor", "username": BOT_USERNAME});
    } else {
        j["from"] = json!({"id": m.chat_id, "is_bot": false, "first_name": "Student"});
    }
    match &m.document {
        Some(d) => {
            j["document"] = json!({"file_id": format!("bd{}", m.message_id), "file_unique_id": format!("ubd{}", m.message_id),
                                   "file_name": d.file_name, "file_size": d.bytes.len()});
            if !m.text.is_empty() {
                j["caption"] = json!(m.text);
            }
        }
        None => j["text"] = json!(m.text),
    }
    if let Some(e) = edit_date {
        j["edit_date"] = json!(e);
    }
    if m.reply_markup
        .as_ref()
        .is_some_and(|r| r.get("inline_keyboard").is_some())
    {
        j["reply_markup"] = m.reply_markup.clone().unwrap_or_default();
    }
    j
}

impl FakeTelegram {
    /// The chat with `chat_id`, oldest message first, as it looks now.
    pub fn chat(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.lock()
            .messages
            .range((chat_id, i32::MIN)..=(chat_id, i32::MAX))
            .map(|(_, m)| m.clone())
            .collect()
    }

    pub fn message(&self, chat_id: i64, message_id: i32) -> Option<ChatMessage> {
        self.lock().messages.get(&(chat_id, message_id)).cloned()
    }

    /// Waits until `f` finds something in the chat `chat_id`, or `timeout` passes.
    pub async fn wait_for<T>(
        &self,
        chat_id: i64,
        timeout: Duration,
        mut f: impl FnMut(&[ChatMessage]) -> Option<T>,
    ) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.changed.notified();
            if let Some(v) = f(&self.chat(chat_id)) {
                return Some(v);
            }
            if Instant::now() >= deadline {
                return None;
            }
            let _ = tokio::time::timeout(
                deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(200)),
                notified,
            )
            .await;
        }
    }
}
