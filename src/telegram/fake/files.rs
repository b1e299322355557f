//! Files: `getFile` (a document's path) and the download route `GET /file/bot<token>/<path>`,
//! which the bot uses to read the documents students send.

use super::{api_error, ok, params::percent_decode, Answer, FakeTelegram, State};
use serde_json::{json, Value};
use warp::http::StatusCode;
use warp::{Filter, Reply};

pub(super) fn get_file(st: &State, p: &Value) -> Answer {
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

impl FakeTelegram {
    pub(super) fn file_route(
        &self,
    ) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
        let me = self.clone();
        warp::get()
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
            })
    }
}
