//! The fake's stateless answers: getMe (who the bot is) and the calls whose only effect in real
//! Telegram is outside any chat the tests read (setMyCommands, deleteMyCommands,
//! sendChatAction). They are recorded like every call, so a test can still
//! see that the bot made them.

use super::{ok, Answer, BOT_ID, BOT_USERNAME};
use serde_json::{json, Value};

pub(super) fn answer(method: &str) -> Answer {
    match method {
        "getMe" => (200, ok(bot_me())),
        _ => (200, ok(json!(true))),
    }
}

fn bot_me() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Dev-Mentor", "username": BOT_USERNAME,
           "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
           "can_connect_to_business": false, "has_main_web_app": false})
}
