//! The student's side: a Telegram user ([`TgUser`]) and what they do in their private chat with
//! the bot — send text, reply, send a document or a sticker, edit a message, press a button.
//! Each action becomes an update for the bot, as Telegram would describe it.

use super::messages::message_json;
use super::{now_unix, ChatMessage, Document, FakeTelegram};
use serde_json::{json, Value};

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

impl FakeTelegram {
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
        st.callback_users.insert(id.clone(), user.id);
        let mut q = json!({"id": id, "from": user.json(), "chat_instance": format!("ci{}", user.id), "data": data});
        if let Some(m) = st.messages.get(&(user.id, message_id)) {
            q["message"] = message_json(m, None);
        }
        self.push_update(&mut st, "callback_query", q);
        drop(st);
        self.changed.notify_waiters();
        id
    }
}
