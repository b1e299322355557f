//! Callback answers (`answerCallbackQuery`): in real Telegram the pressing user sees the text
//! as a brief pop-up over the chat, or, with `show_alert`, as a dialog to dismiss. The fake
//! remembers which student pressed each button, so a test or the playground can show them
//! what the bot answered.

use super::{ok, Answer, FakeTelegram, State};
use serde_json::{json, Value};

/// What the bot answered to a button press, as its student sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Increasing per fake: a page shows each notice once.
    pub id: u64,
    pub user: i64,
    pub text: String,
    /// A dialog to dismiss, not a pop-up that fades.
    pub show_alert: bool,
}

/// `answerCallbackQuery`: a notice for the student who pressed, when there is text to show.
pub(super) fn answer_callback(st: &mut State, p: &Value) -> Answer {
    let id = p.get("callback_query_id").and_then(|v| v.as_str()).unwrap_or("");
    let Some(user) = st.callback_users.get(id).copied() else {
        return (
            400,
            super::api_error(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
                None,
            ),
        );
    };
    let text = p.get("text").and_then(|v| v.as_str()).unwrap_or("").to_string();
    if text.chars().count() > 200 {
        return (400, super::api_error(400, "Bad Request: MESSAGE_TOO_LONG", None));
    }
    if !text.is_empty() {
        let show_alert = p
            .get("show_alert")
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"));
        st.next_notice += 1;
        let id = st.next_notice;
        st.notices.push(Notice {
            id,
            user,
            text,
            show_alert,
        });
    }
    (200, ok(json!(true)))
}

impl FakeTelegram {
    /// The callback answers shown to `user`, oldest first.
    pub fn notices(&self, user: i64) -> Vec<Notice> {
        self.lock().notices.iter().filter(|n| n.user == user).cloned().collect()
    }
}
