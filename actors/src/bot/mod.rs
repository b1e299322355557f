//! The bot role: one supervisor over ingress (Telegram updates → session actors), the session
//! supervisor (one actor per user), delivery (finished checks → the result card) and the
//! broadcaster, under the process's one [`Supervisor`](crate::supervisor).
//!
//! Everything the role's actors share is in [`BotCtx`]; what must survive a restart is in
//! PostgreSQL (users, dialogue state, checks) and Redis (the results stream).

pub mod broadcaster;
pub mod delivery;
pub mod ingress;
pub mod session;
pub mod telegram;

use crate::fault::FaultInjection;
use crate::supervisor::{self, Children, Escalation, RestartPolicy, SupervisorArgs, SupervisorMsg};
use devmentor::admission::RateLimiter;
use devmentor::ai::AiClient;
use devmentor::check::InputLimits;
use devmentor::queue::Queue;
use devmentor::registry::Locale;
use devmentor::sandbox::Languages;
use devmentor::store::settings::SettingsCache;
use devmentor::store::Store;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef};
use std::future::IntoFuture;
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use telegram::{telegram_client, SendError, Tg};
use teloxide::prelude::Requester;

/// What the bot role's actors share.
pub struct BotCtx {
    pub tg: Tg,
    pub store: Store,
    pub queue: Queue,
    pub languages: Arc<Languages>,
    pub limits: InputLimits,
    pub settings: SettingsCache,
    /// The process's one AI client (shared with the worker's analyzer when both run here).
    pub ai: Option<Arc<AiClient>>,
    pub metrics: Arc<devmentor::metrics::Metrics>,
    pub config: devmentor::config::BotConfig,
    pub exec_timeout: Duration,
    /// Telegram's sending limits (messages overall and per chat).
    pub gate: Mutex<devmentor::telegram::limits::RateGate>,
    /// Students' checks per minute (admission's limiter for the bot).
    pub limiter: RateLimiter,
    /// Cancelled at shutdown.
    pub stop: tokio_util::sync::CancellationToken,
    /// This process's consumer name on the results stream.
    pub name: String,
    /// Talking to the playground's fake Telegram: its visitors need no whitelist entry.
    pub playground: bool,
    /// Fault injection for the runtime's own tests (never set from configuration).
    pub fault: Arc<FaultInjection>,
}

impl BotCtx {
    pub fn display_name(&self, language: &str) -> String {
        self.languages
            .find(language)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| language.to_string())
    }

    /// What admission needs, lent by the bot.
    pub fn admission(&self) -> devmentor::admission::Deps<'_> {
        devmentor::admission::Deps {
            store: &self.store,
            queue: &self.queue,
            languages: &self.languages,
            limits: &self.limits,
            limiter: &self.limiter,
            queue_timeout: Duration::from_secs(3),
            db_timeout: Duration::from_secs(10),
        }
    }
}

/// Sets the command menu: Russian as the default list, English for `en` clients.
pub async fn set_commands(ctx: &BotCtx) {
    use teloxide::types::BotCommand;
    for (locale, code) in [(Locale::Ru, None), (Locale::En, Some("en"))] {
        let cmds: Vec<BotCommand> = session::commands::MENU_COMMANDS
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
            tracing::warn!(error = %e, "setMyCommands failed; the command menu may be stale");
        }
    }
}

// ---- the role's children, under the one supervisor ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Child {
    Sessions,
    Ingress,
    Delivery,
    Broadcaster,
}

struct Role {
    ctx: Arc<BotCtx>,
}

impl Children for Role {
    type Key = Child;

    fn supervisor(&self) -> &'static str {
        "bot role"
    }

    fn name(&self, key: Child) -> String {
        match key {
            Child::Sessions => "sessions",
            Child::Ingress => "ingress",
            Child::Delivery => "delivery",
            Child::Broadcaster => "broadcaster",
        }
        .to_string()
    }

    async fn start(&self, key: Child, sup: ActorCell) -> Result<Option<ActorCell>, ActorProcessingErr> {
        let ctx = self.ctx.clone();
        let cell = match key {
            Child::Sessions => {
                let name = Some(session::SUPERVISOR_NAME.to_string());
                Actor::spawn_linked(name, session::SessionSupervisor, ctx, sup)
                    .await?
                    .0
                    .get_cell()
            }
            Child::Ingress => Actor::spawn_linked(None, ingress::Ingress, ctx, sup)
                .await?
                .0
                .get_cell(),
            Child::Delivery => Actor::spawn_linked(None, delivery::Delivery, ctx, sup)
                .await?
                .0
                .get_cell(),
            Child::Broadcaster => Actor::spawn_linked(None, broadcaster::Broadcaster, ctx, sup)
                .await?
                .0
                .get_cell(),
        };
        Ok(Some(cell))
    }

    async fn prepare(&self) {
        set_commands(&self.ctx).await;
    }
}

/// Starts the bot role linked to `parent` (or alone, for the bot benchmark).
pub async fn spawn(
    ctx: Arc<BotCtx>,
    policy: RestartPolicy,
    parent: impl Into<Option<ActorCell>>,
) -> Result<ActorRef<SupervisorMsg<Child>>, ractor::SpawnErr> {
    let args = SupervisorArgs {
        keys: vec![Child::Sessions, Child::Ingress, Child::Delivery, Child::Broadcaster],
        policy,
        metrics: ctx.metrics.clone(),
        stopping: ctx.stop.clone(),
        escalation: Escalation::Fail,
        children: Arc::new(Role { ctx }),
    };
    Ok(supervisor::spawn(None, args, parent.into()).await?.0)
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
    ai: Option<Arc<AiClient>>,
    fault: Arc<FaultInjection>,
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
        limiter: RateLimiter::default(),
        fault,
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
