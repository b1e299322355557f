//! What the server's routes need: the API's dependencies and the optional parts (Docker for
//! `/readyz`, the webhook, the playground, the admin panel).

use super::webhook::Webhook;
use crate::api::ApiState;
use std::sync::Arc;

/// Everything the server's routes need.
pub struct ServerState {
    /// The API's dependencies (PostgreSQL, Redis, metrics, languages, limits); the probes use
    /// them too.
    pub api: Arc<ApiState>,
    /// `None`: no worker role in this process, so `/readyz` does not ask Docker.
    pub docker: Option<bollard::Docker>,
    /// Telegram webhook mode: where `POST /telegram/webhook` hands updates.
    pub webhook: Option<Webhook>,
    /// No `BOT_TOKEN`: the fake Bot API the playground page chats through.
    pub playground: Option<crate::telegram::fake::FakeTelegram>,
    /// The admin panel at `/admin/`.
    pub admin: Option<Arc<crate::admin::AdminState>>,
}

impl ServerState {
    /// The API and the probes only.
    pub fn api_only(api: Arc<ApiState>, docker: Option<bollard::Docker>) -> ServerState {
        ServerState {
            api,
            docker,
            webhook: None,
            playground: None,
            admin: None,
        }
    }
}
