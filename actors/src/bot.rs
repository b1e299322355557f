//! The bot role: a supervisor over ingress (Telegram updates → session actors), the session
//! supervisor (one actor per user) and delivery (finished checks → the result card).
//!
//! Everything the role's actors share is in [`BotCtx`]; what must survive a restart is in
//! PostgreSQL (users, dialogue state, checks) and Redis (the results stream).

use crate::supervisor::{RestartPolicy, Restarts};
use devmentor::ai::AiClient;
use devmentor::check::InputLimits;
use devmentor::queue::Queue;
use devmentor::registry::Locale;
use devmentor::sandbox::Languages;
use devmentor::store::settings::SettingsCache;
use devmentor::store::Store;
use devmentor::telegram::render::Button;
use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, MessageId, ParseMode, ReplyParameters};
use teloxide::RequestError;

pub type Tg = Bot;

/// What the bot role's actors share.
pub struct BotCtx {
    pub tg: Tg,
    pub store: Store,
    pub queue: Queue,
    pub languages: Arc<Languages>,
    pub limits: InputLimits,
    pub settings: SettingsCache,
    pub ai: Option<Arc<AiClient>>,
    pub metrics: Arc<devmentor::metrics::Metrics>,
    pub config: devmentor::config::BotConfig,
    pub exec_timeout: Duration,
    /// Telegram's sending limits (messages overall and per chat).
    pub gate: Mutex<devmentor::telegram::limits::RateGate>,
    /// Checks whose "typing…" action is being refreshed until delivery.
    pub inflight: Mutex<HashSet<i64>>,
    /// Stops long polling and the delivery loop.
    pub stop: tokio_util::sync::CancellationToken,
    /// This process's consumer name on the results stream.
    pub name: String,
    /// Talking to the playground's fake Telegram: its visitors need no whitelist entry.
    pub playground: bool,
}

/// Builds the Telegram client for the Bot API at `api_url` (sends are paced by [`BotCtx::gate`]).
pub fn telegram_client(token: &str, api_url: &str) -> anyhow::Result<Tg> {
    let url =
        reqwest::Url::parse(api_url).map_err(|e| anyhow::anyhow!("TELEGRAM_API_URL {api_url:?} is not a URL: {e}"))?;
    let client = teloxide::net::default_reqwest_settings()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| anyhow::anyhow!("HTTP client: {e}"))?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

pub fn keyboard(rows: &[Vec<Button>]) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(rows.iter().map(|r| {
        r.iter()
            .map(|(t, d)| InlineKeyboardButton::callback(t.clone(), d.clone()))
            .collect::<Vec<_>>()
    }))
}

/// What a failed send means for the caller.
#[derive(Debug)]
pub enum SendError {
    /// 403: the user blocked the bot (they are marked).
    Blocked,
    Other(String),
}

impl BotCtx {
    /// Waits until a new message to `chat` is within Telegram's limits.
    pub async fn pace(&self, chat: i64) {
        loop {
            let wait = match self.gate.lock() {
                Ok(mut g) => g.reserve(chat, Instant::now()),
                Err(_) => Duration::ZERO,
            };
            if wait.is_zero() {
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Runs a Telegram call, waiting out 429 `retry_after` (up to three times).
    pub async fn call<T, F, Fut>(&self, chat: i64, mut f: F) -> Result<T, SendError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let mut attempts = 0;
        loop {
            match f().await {
                Ok(v) => return Ok(v),
                Err(RequestError::RetryAfter(s)) if attempts < 3 => {
                    attempts += 1;
                    tracing::info!(chat, retry_after_s = s.seconds(), "Telegram asked to slow down");
                    tokio::time::sleep(s.duration()).await;
                }
                Err(RequestError::Api(teloxide::ApiError::BotBlocked))
                | Err(RequestError::Api(teloxide::ApiError::UserDeactivated)) => {
                    tracing::info!(chat, "the user blocked the bot; marking them");
                    if let Ok(c) = self.store.client().await {
                        let _ = devmentor::store::users::mark_bot_blocked(&c, chat).await;
                    }
                    return Err(SendError::Blocked);
                }
                Err(e) => return Err(SendError::Other(e.to_string())),
            }
        }
    }

    /// Sends an HTML message, optionally with inline buttons and as a reply.
    pub async fn send(
        &self,
        chat: i64,
        html: &str,
        buttons: Option<&[Vec<Button>]>,
        reply_to: Option<i32>,
    ) -> Result<i32, SendError> {
        self.pace(chat).await;
        let m = self
            .call(chat, || {
                let mut r = self.tg.send_message(ChatId(chat), html).parse_mode(ParseMode::Html);
                if let Some(b) = buttons {
                    r = r.reply_markup(keyboard(b));
                }
                if let Some(to) = reply_to {
                    r = r.reply_parameters(ReplyParameters::new(MessageId(to)).allow_sending_without_reply());
                }
                r.into_future()
            })
            .await?;
        Ok(m.id.0)
    }

    /// Edits a message; "not modified" counts as done.
    pub async fn edit(&self, chat: i64, message: i32, html: &str, buttons: &[Vec<Button>]) -> Result<(), SendError> {
        let r = self
            .call(chat, || {
                self.tg
                    .edit_message_text(ChatId(chat), MessageId(message), html)
                    .parse_mode(ParseMode::Html)
                    .reply_markup(keyboard(buttons))
                    .into_future()
            })
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(SendError::Other(e)) if e.contains("message is not modified") => Ok(()),
            Err(e) => Err(e),
        }
    }

    pub fn display_name(&self, language: &str) -> String {
        self.languages
            .find(language)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| language.to_string())
    }
}

use std::future::IntoFuture;

/// Sets the command menu: Russian as the default list, English for `en` clients.
pub async fn set_commands(ctx: &BotCtx) {
    use teloxide::types::BotCommand;
    for (locale, code) in [(Locale::Ru, None), (Locale::En, Some("en"))] {
        let cmds: Vec<BotCommand> = [
            "start", "help", "run", "language", "settings", "history", "faq", "cancel",
        ]
        .iter()
        .map(|c| BotCommand::new(*c, devmentor::i18n::t(locale, &format!("bot.cmd.{c}"))))
        .collect();
        let r = ctx
            .call(0, || {
                let mut r = ctx.tg.set_my_commands(cmds.clone());
                if let Some(code) = code {
                    r = teloxide::payloads::SetMyCommandsSetters::language_code(r, code);
                }
                r.into_future()
            })
            .await;
        if let Err(e) = r {
            tracing::warn!(?e, "setMyCommands failed; the command menu may be stale");
        }
    }
}

// ---- the role supervisor ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Child {
    Sessions,
    Ingress,
    Delivery,
    Broadcaster,
}

pub struct BotRole;

pub struct BotRoleState {
    ctx: Arc<BotCtx>,
    policy: RestartPolicy,
    children: HashMap<ractor::ActorId, Child>,
    restarts: HashMap<Child, Restarts>,
}

pub enum BotRoleMsg {
    Restart(Child),
}

impl BotRole {
    async fn spawn(
        myself: &ActorRef<BotRoleMsg>,
        st: &mut BotRoleState,
        child: Child,
    ) -> Result<(), ActorProcessingErr> {
        let cell = myself.get_cell();
        let id = match child {
            Child::Sessions => {
                let name = Some(crate::session::SUPERVISOR_NAME.to_string());
                let (a, _) = Actor::spawn_linked(name, crate::session::SessionSupervisor, st.ctx.clone(), cell).await?;
                a.get_id()
            }
            Child::Ingress => {
                let (a, _) = Actor::spawn_linked(None, crate::ingress::Ingress, st.ctx.clone(), cell).await?;
                a.get_id()
            }
            Child::Delivery => {
                let (a, _) = Actor::spawn_linked(None, crate::delivery::Delivery, st.ctx.clone(), cell).await?;
                a.get_id()
            }
            Child::Broadcaster => {
                let (a, _) = Actor::spawn_linked(None, crate::broadcaster::Broadcaster, st.ctx.clone(), cell).await?;
                a.get_id()
            }
        };
        st.children.insert(id, child);
        Ok(())
    }
}

impl Actor for BotRole {
    type Msg = BotRoleMsg;
    type State = BotRoleState;
    type Arguments = (Arc<BotCtx>, RestartPolicy);

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        (ctx, policy): Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        set_commands(&ctx).await;
        let mut st = BotRoleState {
            ctx,
            policy,
            children: HashMap::new(),
            restarts: HashMap::new(),
        };
        for c in [Child::Sessions, Child::Ingress, Child::Delivery, Child::Broadcaster] {
            Self::spawn(&myself, &mut st, c).await?;
        }
        Ok(st)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let BotRoleMsg::Restart(child) = msg;
        if st.ctx.stop.is_cancelled() {
            return Ok(());
        }
        if let Err(e) = Self::spawn(&myself, st, child).await {
            self.failed(&myself, st, child, e.to_string())?;
        } else {
            tracing::info!(?child, "bot role child restarted");
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        st: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, reason) = match evt {
            SupervisionEvent::ActorFailed(cell, err) => (cell, err.to_string()),
            SupervisionEvent::ActorTerminated(cell, _, reason) => (cell, reason.unwrap_or_else(|| "stopped".into())),
            _ => return Ok(()),
        };
        let Some(child) = st.children.remove(&cell.get_id()) else {
            return Ok(());
        };
        if st.ctx.stop.is_cancelled() {
            return Ok(());
        }
        self.failed(&myself, st, child, reason)
    }

    async fn post_stop(&self, _: ActorRef<Self::Msg>, st: &mut Self::State) -> Result<(), ActorProcessingErr> {
        st.ctx.stop.cancel();
        Ok(())
    }
}

impl BotRole {
    fn failed(
        &self,
        myself: &ActorRef<BotRoleMsg>,
        st: &mut BotRoleState,
        child: Child,
        reason: String,
    ) -> Result<(), ActorProcessingErr> {
        let name = match child {
            Child::Sessions => "sessions",
            Child::Ingress => "ingress",
            Child::Delivery => "delivery",
            Child::Broadcaster => "broadcaster",
        };
        st.ctx.metrics.actor_restarted(name);
        match st.restarts.entry(child).or_default().record(Instant::now(), &st.policy) {
            Ok(backoff) => {
                tracing::warn!(child = name, %reason, backoff_ms = backoff.as_millis() as u64, "bot role child died; restarting");
                myself.send_after(backoff, move || BotRoleMsg::Restart(child));
                Ok(())
            }
            Err(e) => Err(format!(
                "bot role: {name} restarted {} times within the window, last: {reason}",
                e.restarts
            )
            .into()),
        }
    }
}

/// Connects what the bot role needs. Without `BOT_TOKEN` the role talks to `telegram_url` (the
/// playground's fake Bot API) when given, else it does not start.
#[allow(clippy::too_many_arguments)]
pub async fn start_ctx(
    config: &devmentor::Config,
    store: &Store,
    queue: &Queue,
    languages: &Arc<Languages>,
    limits: InputLimits,
    metrics: &Arc<devmentor::metrics::Metrics>,
    stop: tokio_util::sync::CancellationToken,
    telegram_url: Option<String>,
    playground: bool,
) -> anyhow::Result<Arc<BotCtx>> {
    let (token, url) = match telegram_url {
        Some(url) => ("0:playground".to_string(), url),
        None => {
            let token = config.bot_token.expose().to_string();
            anyhow::ensure!(
                !token.is_empty(),
                "the bot role needs BOT_TOKEN (from @BotFather); without it `make run` serves the playground"
            );
            (token, config.telegram_api_url.clone())
        }
    };
    let tg = telegram_client(&token, &url)?;
    let me = tokio::time::timeout(Duration::from_secs(15), tg.get_me().into_future())
        .await
        .map_err(|_| anyhow::anyhow!("the Telegram Bot API at {url} did not answer getMe within 15 s"))?
        .map_err(|e| anyhow::anyhow!("the Telegram Bot API refused getMe ({e}): check BOT_TOKEN"))?;
    tracing::info!(username = me.username(), "Telegram bot connected");
    let settings = SettingsCache::start(store.clone(), stop.clone()).await?;
    let ai = match devmentor::ai::AiSettings::from_config(config) {
        Some(s) => Some(Arc::new(AiClient::new(
            s,
            devmentor::ai::cache::AnswerCache::Postgres(store.clone()),
        )?)),
        None => None,
    };
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "bot".into());
    Ok(Arc::new(BotCtx {
        tg,
        store: store.clone(),
        queue: queue.clone(),
        languages: languages.clone(),
        limits,
        settings,
        ai,
        metrics: metrics.clone(),
        config: config.bot.clone(),
        exec_timeout: Duration::from_secs(config.sandbox.exec_timeout_seconds.max(1)),
        gate: Mutex::new(devmentor::telegram::limits::RateGate::new(
            config.bot.messages_per_second,
            config.bot.messages_per_minute_per_chat,
        )),
        inflight: Mutex::new(HashSet::new()),
        stop,
        name: format!("bot-{}-{}", host.trim(), std::process::id()),
        playground,
    }))
}

/// Lets the admin panel tell someone something (an access decision, a broadcast test) through
/// this process's bot role: the HTML message is sent in the background, paced like every other.
pub fn notifier(ctx: Arc<BotCtx>) -> devmentor::admin::Notifier {
    Arc::new(move |user: i64, html: String| {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            if let Err(e) = ctx.send(user, &html, None, None).await {
                tracing::info!(user, ?e, "could not notify the user");
            }
        });
    })
}
