//! A fake Telegram Bot API server: real HTTP on loopback, spoken to by the real teloxide client
//! (`TELEGRAM_API_URL`). Tests and the playground play the student's side through
//! [`FakeTelegram`]'s methods (send a message, edit it, send a document, press a button) and read
//! the chat as the student would see it.
//!
//! Bot side: getMe, getUpdates (long poll), sendMessage, editMessageText, editMessageReplyMarkup,
//! sendDocument (multipart), sendChatAction, answerCallbackQuery, setMyCommands, getFile and the
//! file download, deleteWebhook/setWebhook. Every call is recorded. A test can make the next call
//! of a method answer 429 with `retry_after`, or make a chat answer 403 ("bot was blocked").

use bytes::{Buf, Bytes};
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use warp::http::StatusCode;
use warp::Filter;

/// The bot as the fake introduces it in `getMe`.
pub const BOT_ID: i64 = 777_000;
pub const BOT_USERNAME: &str = "devmentor_fake_bot";

/// A student, as Telegram describes them. Their private chat has their id.
#[derive(Debug, Clone, PartialEq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl TgUser {
    pub fn new(id: i64, first_name: &str) -> TgUser {
        TgUser {
            id,
            first_name: first_name.into(),
            username: None,
            language_code: Some("ru".into()),
        }
    }

    pub fn with_username(mut self, name: &str) -> TgUser {
        self.username = Some(name.into());
        self
    }

    pub fn with_language(mut self, code: &str) -> TgUser {
        self.language_code = Some(code.into());
        self
    }

    fn json(&self) -> Value {
        let mut u = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(n) = &self.username {
            u["username"] = json!(n);
        }
        if let Some(l) = &self.language_code {
            u["language_code"] = json!(l);
        }
        u
    }

    fn chat_json(&self) -> Value {
        let mut c = json!({"id": self.id, "type": "private", "first_name": self.first_name});
        if let Some(n) = &self.username {
            c["username"] = json!(n);
        }
        c
    }
}

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
    webhook: Option<String>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    state: Arc<Mutex<State>>,
    changed: Arc<Notify>,
    addr: SocketAddr,
}

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

use warp::Reply;

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
                    let params = read_params(ctype.as_deref(), body).await;
                    Ok::<_, std::convert::Infallible>(me.handle(&bot, &method, params).await)
                }
            });
        let me = self.clone();
        let file = warp::get()
            .and(warp::path("file"))
            .and(warp::path::param::<String>())
            .and(warp::path::tail())
            .map(move |_bot: String, tail: warp::path::Tail| {
                // teloxide percent-encodes the `/` inside file paths.
                let path = percent_decode(tail.as_str());
                let found = me
                    .lock()
                    .files
                    .values()
                    .find(|(p, _)| *p == path)
                    .map(|(_, b)| b.clone());
                match found {
                    Some(b) => warp::reply::with_status(b, StatusCode::OK).into_response(),
                    None => api_error(404, "Not Found", None),
                }
            });
        file.or(method)
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

    fn answer(&self, method: &str, p: &Value) -> (u16, warp::reply::Response) {
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
            "getMe" => (200, ok(bot_me())),
            "deleteWebhook" => {
                st.webhook = None;
                (200, ok(json!(true)))
            }
            "setWebhook" => {
                st.webhook = p.get("url").and_then(|u| u.as_str()).map(String::from);
                (200, ok(json!(true)))
            }
            "setMyCommands" | "sendChatAction" | "answerCallbackQuery" | "deleteMyCommands" => (200, ok(json!(true))),
            "sendMessage" | "sendDocument" => {
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
            "editMessageText" | "editMessageReplyMarkup" => {
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
            "getFile" => {
                let id = p.get("file_id").and_then(|v| v.as_str()).unwrap_or("");
                match st.files.get(id) {
                    Some((path, bytes)) => (
                        200,
                        ok(
                            json!({"file_id": id, "file_unique_id": format!("u{id}"), "file_size": bytes.len(),
                                  "file_path": path}),
                        ),
                    ),
                    None => (400, api_error(400, "Bad Request: invalid file_id", None)),
                }
            }
            _ => (404, api_error(404, "Not Found: method not found", None)),
        }
    }

    async fn get_updates(&self, p: &Value) -> warp::reply::Response {
        let offset = p.get("offset").and_then(as_i64).unwrap_or(0);
        let limit = p.get("limit").and_then(as_i64).unwrap_or(100).clamp(1, 100) as usize;
        let timeout = p.get("timeout").and_then(as_i64).unwrap_or(0).clamp(0, 50) as u64;
        let deadline = Instant::now() + Duration::from_secs(timeout);
        loop {
            let notified = self.changed.notified();
            {
                let mut st = self.lock();
                while st.updates.front().is_some_and(|(id, _)| *id < offset) {
                    st.updates.pop_front();
                }
                if !st.updates.is_empty() || Instant::now() >= deadline {
                    let batch: Vec<Value> = st.updates.iter().take(limit).map(|(_, u)| u.clone()).collect();
                    return ok(Value::Array(batch));
                }
            }
            let _ = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), notified).await;
        }
    }

    fn push_update(&self, st: &mut State, kind: &str, payload: Value) -> i64 {
        let id = st.next_update;
        st.next_update += 1;
        st.updates.push_back((id, json!({"update_id": id, kind: payload})));
        id
    }

    fn user_message(&self, user: &TgUser, text: &str, reply_to: Option<i32>, document: Option<Document>) -> i32 {
        let mid = {
            let mut st = self.lock();
            let mid = st.next_message;
            st.next_message += 1;
            let m = ChatMessage {
                message_id: mid,
                chat_id: user.id,
                from_bot: false,
                text: text.to_string(),
                parse_mode: None,
                buttons: Vec::new(),
                reply_markup: None,
                document: document.clone(),
                edits: 0,
                reply_to,
            };
            let mut json =
                json!({"message_id": mid, "date": now_unix(), "chat": user.chat_json(), "from": user.json()});
            match &document {
                Some(d) => {
                    let file_id = format!("doc{mid}");
                    let path = format!("documents/file_{mid}");
                    json["document"] = json!({"file_id": file_id, "file_unique_id": format!("u{file_id}"),
                                              "file_name": d.file_name, "file_size": d.bytes.len(),
                                              "mime_type": "application/octet-stream"});
                    if !text.is_empty() {
                        json["caption"] = json!(text);
                    }
                    st.files.insert(file_id, (path, d.bytes.clone()));
                }
                None => json["text"] = json!(text),
            }
            if let Some(r) = reply_to.and_then(|r| st.messages.get(&(user.id, r))) {
                json["reply_to_message"] = message_json(r, None);
            }
            st.messages.insert((user.id, mid), m);
            self.push_update(&mut st, "message", json);
            mid
        };
        self.changed.notify_waiters();
        mid
    }

    /// Takes every update not yet fetched, as Telegram does to deliver them to a webhook (the
    /// caller posts them).
    pub fn take_updates(&self) -> Vec<Value> {
        self.lock().updates.drain(..).map(|(_, u)| u).collect()
    }

    /// The student sends a text message; returns its message id.
    pub fn send_text(&self, user: &TgUser, text: &str) -> i32 {
        self.user_message(user, text, None, None)
    }

    /// The student replies to message `to` (a bot's ForceReply prompt, or their own code for /run).
    pub fn reply(&self, user: &TgUser, to: i32, text: &str) -> i32 {
        self.user_message(user, text, Some(to), None)
    }

    /// The student sends a file.
    pub fn send_document(&self, user: &TgUser, file_name: &str, bytes: &[u8], caption: &str) -> i32 {
        let d = Document {
            file_name: file_name.into(),
            bytes: bytes.to_vec(),
        };
        self.user_message(user, caption, None, Some(d))
    }

    /// The student sends something that is not text or a file (`"sticker"`, `"photo"`, `"voice"`).
    pub fn send_other(&self, user: &TgUser, kind: &str) -> i32 {
        let mut st = self.lock();
        let mid = st.next_message;
        st.next_message += 1;
        let mut json = json!({"message_id": mid, "date": now_unix(), "chat": user.chat_json(), "from": user.json()});
        let file = json!({"file_id": format!("f{mid}"), "file_unique_id": format!("uf{mid}"), "file_size": 10});
        match kind {
            "sticker" => {
                json["sticker"] = json!({"file_id": format!("f{mid}"), "file_unique_id": format!("uf{mid}"),
                                         "type": "regular", "width": 512, "height": 512, "is_animated": false,
                                         "is_video": false, "emoji": "🙂"})
            }
            "photo" => {
                let mut p = file.clone();
                p["width"] = json!(90);
                p["height"] = json!(90);
                json["photo"] = json!([p]);
            }
            _ => {
                let mut v = file.clone();
                v["duration"] = json!(2);
                json["voice"] = v;
            }
        }
        self.push_update(&mut st, "message", json);
        drop(st);
        self.changed.notify_waiters();
        mid
    }

    /// The student edits their message `message_id` to `text`.
    pub fn edit_text(&self, user: &TgUser, message_id: i32, text: &str) {
        let mut st = self.lock();
        if let Some(m) = st.messages.get_mut(&(user.id, message_id)) {
            m.text = text.to_string();
            m.edits += 1;
        }
        let json = json!({"message_id": message_id, "date": now_unix(), "edit_date": now_unix(),
                          "chat": user.chat_json(), "from": user.json(), "text": text});
        self.push_update(&mut st, "edited_message", json);
        drop(st);
        self.changed.notify_waiters();
    }

    /// The student presses an inline button with `data` under message `message_id`; returns the
    /// callback query id.
    pub fn press(&self, user: &TgUser, message_id: i32, data: &str) -> String {
        let mut st = self.lock();
        st.next_callback += 1;
        let id = format!("cb{}", st.next_callback);
        let mut q = json!({"id": id, "from": user.json(), "chat_instance": format!("ci{}", user.id), "data": data});
        if let Some(m) = st.messages.get(&(user.id, message_id)) {
            q["message"] = message_json(m, None);
        }
        self.push_update(&mut st, "callback_query", q);
        drop(st);
        self.changed.notify_waiters();
        id
    }

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

    /// Updates not yet fetched by the bot.
    pub fn pending_updates(&self) -> usize {
        self.lock().updates.len()
    }

    pub fn webhook(&self) -> Option<String> {
        self.lock().webhook.clone()
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

fn bot_me() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Dev-Mentor", "username": BOT_USERNAME,
           "can_join_groups": false, "can_read_all_group_messages": false, "supports_inline_queries": false,
           "can_connect_to_business": false, "has_main_web_app": false})
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()))
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

fn message_json(m: &ChatMessage, edit_date: Option<i64>) -> Value {
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

/// The parameters of a call: JSON, a urlencoded form, or multipart (a document arrives as
/// `{"file_name", "bytes"}` under its field name).
async fn read_params(
    ctype: Option<&str>,
    body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin + Send + 'static,
) -> Value {
    let ctype = ctype.unwrap_or("");
    if ctype.starts_with("multipart/form-data") {
        let boundary = ctype
            .split("boundary=")
            .nth(1)
            .unwrap_or("")
            .trim_matches('"')
            .to_string();
        let bytes = collect(body).await;
        return parse_multipart(&bytes, &boundary);
    }
    let bytes = collect(body).await;
    if ctype.starts_with("application/x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&bytes);
        let mut m = serde_json::Map::new();
        for (k, v) in pairs {
            m.insert(k, serde_json::from_str(&v).unwrap_or(Value::String(v)));
        }
        return Value::Object(m);
    }
    serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({}))
}

async fn collect(
    body: impl futures_util::Stream<Item = Result<impl Buf, warp::Error>> + Unpin + Send + 'static,
) -> Vec<u8> {
    body.map_ok(|mut b| b.copy_to_bytes(b.remaining()))
        .try_fold(Vec::new(), |mut acc, b: Bytes| async move {
            acc.extend_from_slice(&b);
            Ok(acc)
        })
        .await
        .unwrap_or_default()
}

fn serde_urlencoded_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_multipart(body: &[u8], boundary: &str) -> Value {
    let mut m = serde_json::Map::new();
    if boundary.is_empty() {
        return Value::Object(m);
    }
    let delim = format!("--{boundary}");
    let parts = split_bytes(body, delim.as_bytes());
    for part in parts {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(sep) = find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..sep]).to_string();
        let mut content = &part[sep + 4..];
        if content.ends_with(b"\r\n") {
            content = &content[..content.len() - 2];
        }
        let disp = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or("");
        let name = attr(disp, "name").unwrap_or_default();
        if name.is_empty() {
            continue;
        }
        match attr(disp, "filename") {
            Some(file_name) => {
                m.insert(name, json!({"file_name": file_name, "bytes": content}));
            }
            None => {
                let v = String::from_utf8_lossy(content).to_string();
                m.insert(name, serde_json::from_str(&v).unwrap_or(Value::String(v)));
            }
        }
    }
    // teloxide sends files as separate parts referenced by "attach://<part name>".
    let refs: Vec<(String, String)> = m
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix("attach://")?.to_string())))
        .collect();
    for (field, part) in refs {
        if let Some(file) = m.remove(&part) {
            m.insert(field, file);
        }
    }
    Value::Object(m)
}

fn attr(disposition: &str, key: &str) -> Option<String> {
    disposition.split(';').map(str::trim).find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(body: &'a [u8], delim: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(i) = find(rest, delim) {
        out.push(&rest[..i]);
        rest = &rest[i + delim.len()..];
    }
    out.push(rest);
    out.into_iter().skip(1).filter(|p| !p.starts_with(b"--")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_and_files() {
        let body = b"--XX\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XX\r\nContent-Disposition: form-data; name=\"document\"; filename=\"out.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n";
        let v = parse_multipart(body, "XX");
        assert_eq!(v["chat_id"], json!(42));
        assert_eq!(v["document"]["file_name"], json!("out.txt"));
        assert_eq!(v["document"]["bytes"], json!(b"hello".to_vec()));
    }

    #[test]
    fn urlencoded_values_are_decoded() {
        let pairs = serde_urlencoded_pairs(b"a=1&text=hi+there%21");
        assert_eq!(
            pairs,
            vec![("a".into(), "1".into()), ("text".into(), "hi there!".into())]
        );
    }
}
