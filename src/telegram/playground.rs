//! The playground: with no `BOT_TOKEN`, the admin role serves `/playground`, a web page where a
//! person chats with the bot as a Telegram user would. The page talks to the same fake Bot API
//! the tests use ([`FakeTelegram`]); the bot on the other side is the real bot role.
//!
//! | route | what |
//! |---|---|
//! | `GET /playground` | the page |
//! | `POST /playground/api/send` `{"user","text","reply_to"?}` | the user sends a message |
//! | `POST /playground/api/document` `{"user","file_name","text"}` | the user sends a file |
//! | `POST /playground/api/press` `{"user","message_id","data"}` | the user presses a button |
//! | `POST /playground/api/edit` `{"user","message_id","text"}` | the user edits a message |
//! | `GET /playground/api/chat?user=ID` | the chat, as it looks now, and the bot's answers to button presses (`notices`: a toast, or a dialog for `show_alert`) |
//! | `GET /playground/api/file?user=ID&message=N` | a document the bot sent |

use super::fake::{ChatMessage, FakeTelegram, TgUser};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::Reply;

const PAGE: &str = include_str!("../../templates/playground/index.html");

#[derive(Deserialize)]
struct PgUser {
    id: i64,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    language_code: Option<String>,
}

impl PgUser {
    fn tg(&self) -> Option<TgUser> {
        // Playground users live in their own id range, far from real Telegram ids.
        if !(PLAYGROUND_IDS).contains(&self.id) {
            return None;
        }
        let name = if self.first_name.trim().is_empty() {
            "Student".to_string()
        } else {
            self.first_name.chars().take(64).collect()
        };
        let mut u = TgUser::new(self.id, &name);
        u.language_code = self.language_code.clone().filter(|l| l == "ru" || l == "en");
        Some(u)
    }
}

/// Ids the page may use for its visitors.
pub const PLAYGROUND_IDS: std::ops::Range<i64> = 9_000_000_000..9_999_999_999;

#[derive(Deserialize)]
struct Req {
    user: PgUser,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reply_to: Option<i32>,
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    message_id: i32,
    #[serde(default)]
    data: String,
}

fn bad(message: &str) -> Response {
    warp::reply::with_status(warp::reply::json(&json!({"error": message})), StatusCode::BAD_REQUEST).into_response()
}

fn message_json(m: &ChatMessage) -> Value {
    json!({
        "id": m.message_id,
        "from_bot": m.from_bot,
        "text": m.text,
        "html": m.parse_mode.as_deref() == Some("HTML"),
        "buttons": m.buttons,
        "keyboard": m.reply_markup.as_ref().and_then(|r| r.get("keyboard")).cloned(),
        "force_reply": m.reply_markup.as_ref().is_some_and(|r| r.get("force_reply").is_some()),
        "document": m.document.as_ref().map(|d| json!({"file_name": d.file_name, "size": d.bytes.len()})),
        "edits": m.edits,
        "reply_to": m.reply_to,
    })
}

/// Serves one playground request; `path` is what follows `/playground/`.
pub async fn handle(
    fake: &FakeTelegram,
    path: &str,
    method: &Method,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    match (method.as_str(), path.trim_end_matches('/')) {
        ("GET", "") => warp::reply::with_header(
            warp::reply::html(PAGE),
            "content-security-policy",
            "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        .into_response(),
        ("GET", "api/chat") => {
            let Some(id) = query.get("user").and_then(|v| v.parse::<i64>().ok()) else {
                return bad("?user=ID is required");
            };
            let chat: Vec<Value> = fake.chat(id).iter().map(message_json).collect();
            let notices: Vec<Value> = fake
                .notices(id)
                .iter()
                .map(|n| json!({"id": n.id, "text": n.text, "alert": n.show_alert}))
                .collect();
            warp::reply::json(&json!({"messages": chat, "notices": notices})).into_response()
        }
        ("GET", "api/file") => {
            let user = query.get("user").and_then(|v| v.parse::<i64>().ok());
            let message = query.get("message").and_then(|v| v.parse::<i32>().ok());
            let doc = user
                .zip(message)
                .and_then(|(u, m)| fake.message(u, m))
                .and_then(|m| m.document);
            match doc {
                Some(d) => {
                    let name = d.file_name.replace(['"', '\\', '\r', '\n'], "_");
                    let r = warp::reply::with_header(d.bytes, "content-type", "text/plain; charset=utf-8");
                    warp::reply::with_header(r, "content-disposition", format!("attachment; filename=\"{name}\""))
                        .into_response()
                }
                None => warp::reply::with_status("no such document", StatusCode::NOT_FOUND).into_response(),
            }
        }
        ("POST", action @ ("api/send" | "api/document" | "api/press" | "api/edit")) => {
            let req: Req = match serde_json::from_slice(body) {
                Ok(r) => r,
                Err(e) => return bad(&format!("the body is not the expected JSON: {e}")),
            };
            let Some(user) = req.user.tg() else {
                return bad("user.id is outside the playground's range");
            };
            let id = match action {
                "api/send" => match req.reply_to {
                    Some(to) => fake.reply(&user, to, &req.text),
                    None => fake.send_text(&user, &req.text),
                },
                "api/document" => {
                    if req.file_name.trim().is_empty() {
                        return bad("file_name is required");
                    }
                    fake.send_document(&user, &req.file_name, req.text.as_bytes(), "")
                }
                "api/press" => {
                    fake.press(&user, req.message_id, &req.data);
                    req.message_id
                }
                _ => {
                    fake.edit_text(&user, req.message_id, &req.text);
                    req.message_id
                }
            };
            warp::reply::json(&json!({"message_id": id})).into_response()
        }
        _ => warp::reply::with_status(warp::reply::json(&json!({"error": "not found"})), StatusCode::NOT_FOUND)
            .into_response(),
    }
}
