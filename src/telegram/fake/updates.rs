//! Updates: the queue of what students did, handed to the bot by `getUpdates` (long poll with
//! `offset`, `limit` and `timeout`, as Telegram does) or taken by a test to post to the bot's
//! webhook; and `setWebhook`/`deleteWebhook`, which only record the URL.

use super::{as_i64, ok, Answer, FakeTelegram, State};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(super) fn set_webhook(st: &mut State, method: &str, p: &Value) -> Answer {
    st.webhook = match method {
        "setWebhook" => p.get("url").and_then(|u| u.as_str()).map(String::from),
        _ => None,
    };
    (200, ok(json!(true)))
}

impl FakeTelegram {
    pub(super) async fn get_updates(&self, p: &Value) -> warp::reply::Response {
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

    pub(super) fn push_update(&self, st: &mut State, kind: &str, payload: Value) -> i64 {
        let id = st.next_update;
        st.next_update += 1;
        st.updates.push_back((id, json!({"update_id": id, kind: payload})));
        id
    }

    /// Takes every update not yet fetched, as Telegram does to deliver them to a webhook (the
    /// caller posts them).
    pub fn take_updates(&self) -> Vec<Value> {
        self.lock().updates.drain(..).map(|(_, u)| u).collect()
    }

    /// Updates not yet fetched by the bot.
    pub fn pending_updates(&self) -> usize {
        self.lock().updates.len()
    }

    pub fn webhook(&self) -> Option<String> {
        self.lock().webhook.clone()
    }
}
