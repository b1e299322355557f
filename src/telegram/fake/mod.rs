//! A fake Telegram Bot API server: real HTTP on loopback, spoken to by the real teloxide client
//! (`TELEGRAM_API_URL`). Tests and the playground play the student's side through
//! [`FakeTelegram`]'s methods (send a message, edit it, send a document, press a button) and read
//! the chat as the student would see it.
//!
//! Bot side: getMe, getUpdates (long poll), sendMessage, editMessageText, editMessageReplyMarkup,
//! sendDocument (multipart), sendChatAction, answerCallbackQuery (shown to the student who pressed:
//! `notices`), setMyCommands, getFile and the
//! file download, deleteWebhook/setWebhook. Every call is recorded. A test can make the next call
//! of a method answer 429 with `retry_after`, or make a chat answer 403 ("bot was blocked").
//!
//! This file is the server: its state, the routes, the dispatch of a call to its method family
//! and the failures a test injects. The families live beside it: `messages` (what the bot
//! sends and edits, and the chat as it looks), `updates` (getUpdates, the webhook),
//! `student` (the student's side), `files` (getFile and downloads), `commands` (the
//! stateless answers) and `params` (how a call's parameters are read off the wire).

mod commands;
mod files;
mod messages;
mod notices;
mod params;
mod student;
mod updates;

pub use messages::{ChatMessage, Document};
pub use notices::Notice;
pub use student::TgUser;

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use warp::http::StatusCode;
use warp::{Filter, Reply};

/// The bot as the fake introduces it in `getMe`.
pub const BOT_ID: i64 = 777_000;
pub const BOT_USERNAME: &str = "devmentor_fake_bot";

/// A recorded Bot API call.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub params: Value,
    pub at: Instant,
    /// The HTTP status the fake answered with.
    pub status: u16,
}

#[derive(Debug, Clone)]
enum Failure {
    RetryAfter(u32),
    Api(u16, String),
}

#[derive(Default)]
struct State {
    next_update: i64,
    updates: VecDeque<(i64, Value)>,
    next_message: i32,
    messages: BTreeMap<(i64, i32), ChatMessage>,
    calls: Vec<Call>,
    files: HashMap<String, (String, Vec<u8>)>,
    failures: HashMap<String, VecDeque<Failure>>,
    blocked: HashSet<i64>,
    next_callback: u64,
    /// Who pressed each button (callback query id → user), for its answer.
    callback_users: HashMap<String, i64>,
    next_notice: u64,
    notices: Vec<Notice>,
    webhook: Option<String>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    addr: SocketAddr,
}

/// What a method answers: the HTTP status (recorded with the call) and the response.
type Answer = (u16, warp::reply::Response);

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn ok(result: Value) -> warp::reply::Response {
    warp::reply::with_status(
        warp::reply::json(&json!({"ok": true, "result": result})),
        StatusCode::OK,
    )
    .into_response()
}

fn api_error(status: u16, description: &str, parameters: Option<Value>) -> warp::reply::Response {
    let mut body = json!({"ok": false, "error_code": status, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    warp::reply::with_status(warp::reply::json(&body), code).into_response()
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

const METHODS: &[&str] = &[
    "getMe",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "sendDocument",
    "sendChatAction",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "getFile",
    "deleteWebhook",
    "setWebhook",
];

impl FakeTelegram {
    /// Starts the server on an ephemeral loopback port; it runs as long as the runtime does.
    pub async fn start() -> std::io::Result<FakeTelegram> {
        Self::start_on(([127, 0, 0, 1], 0).into()).await
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<FakeTelegram> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let fake = FakeTelegram {
            state: Arc::new(Mutex::new(State {
                next_update: 1,
                next_message: 1,
                ..Default::default()
            })),
            changed: Arc::new(Notify::new()),
            addr,
        };
        let routes = fake.routes();
        tokio::spawn(warp::serve(routes).incoming(listener).run());
        Ok(fake)
    }

    /// The base URL for `TELEGRAM_API_URL`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn routes(&self) -> impl Filter<Extract = (warp::reply::Response,), Error = std::convert::Infallible> + Clone {
        let me = self.clone();
        let method = warp::post()
            .and(warp::path::param::<String>())
            .and(warp::path::param::<String>())
            .and(warp::path::end())
            .and(warp::header::optional::<String>("content-type"))
            .and(warp::body::stream())
            .and_then(move |bot: String, method: String, ctype: Option<String>, body| {
                let me = me.clone();
                async move {
                    let params = params::read(ctype.as_deref(), body).await;
                    Ok::<_, std::convert::Infallible>(me.handle(&bot, &method, params).await)
                }
            });
        self.file_route()
            .or(method)
            .unify()
            .recover(|_r: warp::Rejection| async {
                Ok::<_, std::convert::Infallible>(api_error(404, "Not Found", None))
            })
            .unify()
    }

    async fn handle(&self, bot: &str, method: &str, params: Value) -> warp::reply::Response {
        if !bot.starts_with("bot") || bot.len() < 5 {
            return api_error(404, "Not Found", None);
        }
        // Method names are case-insensitive in the Bot API (teloxide sends `GetMe`).
        let method = METHODS
            .iter()
            .find(|m| m.eq_ignore_ascii_case(method))
            .copied()
            .unwrap_or(method);
        if method == "getUpdates" {
            return self.get_updates(&params).await;
        }
        let (status, reply) = self.answer(method, &params);
        self.lock().calls.push(Call {
            method: method.to_string(),
            params,
            at: Instant::now(),
            status,
        });
        self.changed.notify_waiters();
        reply
    }

    fn answer(&self, method: &str, p: &Value) -> Answer {
        let mut st = self.lock();
        if let Some(f) = st.failures.get_mut(method).and_then(|q| q.pop_front()) {
            return match f {
                Failure::RetryAfter(s) => (
                    429,
                    api_error(
                        429,
                        &format!("Too Many Requests: retry after {s}"),
                        Some(json!({"retry_after": s})),
                    ),
                ),
                Failure::Api(code, d) => (code, api_error(code, &d, None)),
            };
        }
        let chat_id = p.get("chat_id").and_then(as_i64);
        if let Some(c) = chat_id {
            if st.blocked.contains(&c) && method != "answerCallbackQuery" {
                return (403, api_error(403, "Forbidden: bot was blocked by the user", None));
            }
        }
        match method {
            "answerCallbackQuery" => notices::answer_callback(&mut st, p),
            "getMe" | "setMyCommands" | "sendChatAction" | "deleteMyCommands" => commands::answer(method),
            "deleteWebhook" | "setWebhook" => updates::set_webhook(&mut st, method, p),
            "sendMessage" | "sendDocument" => messages::send(&mut st, method, chat_id, p),
            "editMessageText" | "editMessageReplyMarkup" => messages::edit(&mut st, method, chat_id, p),
            "getFile" => files::get_file(&st, p),
            _ => (404, api_error(404, "Not Found: method not found", None)),
        }
    }

    /// Every recorded call of `method` (all calls for `""`).
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.lock()
            .calls
            .iter()
            .filter(|c| method.is_empty() || c.method == method)
            .cloned()
            .collect()
    }

    /// The next call of `method` answers 429 with `retry_after` seconds.
    pub fn fail_with_retry_after(&self, method: &str, seconds: u32) {
        self.lock()
            .failures
            .entry(method.into())
            .or_default()
            .push_back(Failure::RetryAfter(seconds));
    }

    /// The next call of `method` answers with this API error.
    pub fn fail_with(&self, method: &str, status: u16, description: &str) {
        self.lock()
            .failures
            .entry(method.into())
            .or_default()
            .push_back(Failure::Api(status, description.into()));
    }

    /// The student blocks the bot: sends to their chat answer 403.
    pub fn block_bot(&self, chat_id: i64) {
        self.lock().blocked.insert(chat_id);
    }
}
