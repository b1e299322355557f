//! `devmentor run [--roles bot,worker,admin]`: the service.
//!
//! Connects what the chosen roles need (PostgreSQL always — it is the source of truth —, Redis,
//! Docker for workers), starts the supervised actor tree, and on SIGTERM/SIGINT stops claiming,
//! lets running checks finish within the grace period, leaves the rest to the stream, and exits 0.

use crate::admin::AdminArgs;
use crate::fault::FaultInjection;
use crate::root::Roles;
use crate::sandbox_pool::PoolContext;
use crate::supervisor::RestartPolicy;
use anyhow::Context;
use devmentor::ai::{cache::AnswerCache, AiClient, AiSettings};
use devmentor::analyzer::Analyzer;
use devmentor::api::ApiState;
use devmentor::check::InputLimits;
use devmentor::http::ServerState;
use devmentor::metrics::Metrics;
use devmentor::queue::Queue;
use devmentor::sandbox::{language, Sandbox};
use devmentor::store::Store;
use devmentor::worker::Worker;
use devmentor::Config;
use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Role {
    Bot,
    Worker,
    Admin,
}

pub fn parse_roles(s: &str) -> Result<HashSet<Role>, String> {
    let mut roles = HashSet::new();
    for r in s.split(',').map(str::trim).filter(|r| !r.is_empty()) {
        roles.insert(match r {
            "bot" => Role::Bot,
            "worker" => Role::Worker,
            "admin" => Role::Admin,
            other => return Err(format!("unknown role {other:?}: use bot, worker, admin")),
        });
    }
    if roles.is_empty() {
        return Err("no role given: use bot, worker, admin".into());
    }
    Ok(roles)
}

/// Test hooks: fault injection and a channel that reports the bound HTTP address.
#[derive(Default)]
pub struct Hooks {
    pub fault: Arc<FaultInjection>,
    pub bound: Option<tokio::sync::watch::Sender<Option<std::net::SocketAddr>>>,
    pub worker_name: Option<String>,
    /// Stops the service like SIGTERM does (for in-process use, e.g. `bench pipeline`).
    pub stop: Option<tokio_util::sync::CancellationToken>,
    /// The Bot API the bot role talks to instead of the configured one (the playground's fake).
    pub telegram_url: Option<String>,
}

impl Hooks {
    /// Fault injection from the environment (see [`crate::fault`]).
    pub fn from_env() -> Hooks {
        Hooks {
            fault: Arc::new(FaultInjection::from_env()),
            ..Default::default()
        }
    }
}

pub async fn run(config: &Config, roles: HashSet<Role>, mut hooks: Hooks) -> anyhow::Result<ExitCode> {
    if config.is_production() {
        let problems = config.production_problems();
        anyhow::ensure!(
            problems.is_empty(),
            "refusing to start in production (DEVMENTOR_ENV=production):\n  - {}",
            problems.join("\n  - ")
        );
    }
    let metrics = Arc::new(Metrics::default());
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(10)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    let queue = Queue::connect(config.redis_url.expose(), &config.runtime.redis_prefix).await?;
    let policy = RestartPolicy::from_config(&config.runtime);
    let languages = Arc::new(devmentor::sandbox::Languages::from_config(&config.sandbox)?);
    let limits = InputLimits::from(&config.sandbox);
    let stop = tokio_util::sync::CancellationToken::new();
    // Without BOT_TOKEN the bot role talks to an in-process fake Bot API, which the admin
    // role's /playground page drives: a newcomer can try the product with no token.
    let mut playground = None;
    if roles.contains(&Role::Bot) && config.bot_token.is_empty() && hooks.telegram_url.is_none() {
        let fake = devmentor::telegram::fake::FakeTelegram::start().await?;
        hooks.telegram_url = Some(fake.url());
        tracing::warn!(
            "BOT_TOKEN is not set: the bot talks to a built-in fake Telegram; try it at http://{}/playground",
            config.http_addr
        );
        playground = Some(fake);
    }
    // One AI client per process (its concurrency limit, breaker and cache are per process):
    // the worker's analyzer and the bot's "explain more" share it.
    let ai = match AiSettings::from_config(config) {
        Some(s) => Some(Arc::new(AiClient::new(s, AnswerCache::Postgres(store.clone()))?)),
        None => {
            tracing::info!("AI_API_KEY is not set: unmatched errors get no AI explanation");
            None
        }
    };
    let bot = if roles.contains(&Role::Bot) {
        let telegram_url = hooks.telegram_url.take();
        Some(
            crate::bot::start_ctx(
                config,
                &store,
                &queue,
                &languages,
                limits,
                &metrics,
                stop.clone(),
                telegram_url,
                playground.is_some(),
                ai.clone(),
                hooks.fault.clone(),
            )
            .await?,
        )
    } else {
        None
    };
    let webhook = match &bot {
        Some(_) if !config.bot.webhook_url.is_empty() && !config.bot_token.is_empty() => {
            anyhow::ensure!(
                roles.contains(&Role::Admin),
                "webhook mode (TELEGRAM_WEBHOOK_URL) needs the admin role in the same process: run --roles bot,admin"
            );
            Some(devmentor::http::Webhook {
                secret: config.bot.webhook_secret.clone(),
                sink: std::sync::Arc::new(crate::bot::ingress::route_json),
            })
        }
        _ => None,
    };
    let mut sandbox_for_shutdown = None;
    let mut pool = None;
    let mut reaper = None;
    let mut reloader = None;
    let mut docker = None;
    if roles.contains(&Role::Worker) {
        let mut sandbox = Sandbox::connect(&config.sandbox).await?;
        if let Err(e) = sandbox.reap_orphans().await {
            tracing::warn!(error = %e, "could not reap orphaned containers");
        }
        sandbox.start_pool(&language::pool_sizes(
            config.sandbox.warm_pool_size,
            &config.sandbox.warm_pool,
            sandbox.languages(),
        ));
        docker = Some(sandbox.docker().clone());
        let sandbox = Arc::new(sandbox);
        let entries = devmentor::registry::store::load(&store.client().await?).await?;
        let entries = if entries.is_empty() {
            tracing::warn!("the registry is empty: using the built-in catalogue (run `devmentor migrate`)");
            devmentor::registry::catalogue::builtin()?
        } else {
            entries
        };
        let analyzer = Arc::new(Analyzer::new(entries, ai.clone(), Some(store.clone())));
        reloader = Some(devmentor::registry::listen::spawn_reloader(
            store.clone(),
            analyzer.clone(),
            stop.clone(),
        ));
        register_worker_gauges(&metrics, &sandbox, &analyzer);
        let name = hooks.worker_name.clone().unwrap_or_else(worker_name);
        let worker = Arc::new(Worker {
            name,
            store: store.clone(),
            queue: queue.clone(),
            sandbox: sandbox.clone(),
            analyzer,
            limits,
            metrics: metrics.clone(),
            max_deliveries: config.runtime.max_deliveries,
            task_parallelism: config.runtime.pool_size.max(1),
        });
        let ctx = Arc::new(PoolContext {
            worker,
            visibility_timeout: Duration::from_secs(config.runtime.visibility_timeout_seconds),
            stop: stop.clone(),
            busy: Default::default(),
            fault: hooks.fault.clone(),
        });
        pool = Some((ctx, config.runtime.pool_size));
        reaper = Some(crate::reaper::ReaperArgs {
            store: store.clone(),
            queue: queue.clone(),
            metrics: metrics.clone(),
            stuck_after: Duration::from_secs(config.runtime.stuck_after_seconds),
            interval: Duration::from_secs(config.runtime.reaper_interval_seconds.max(1)),
            docker: docker.clone(),
        });
        sandbox_for_shutdown = Some(sandbox);
    }
    // What every HTTP server of this process shares; the admin role adds the panel, the webhook
    // and the playground.
    let base = Arc::new(ApiState {
        store: store.clone(),
        queue: queue.clone(),
        metrics: metrics.clone(),
        languages: languages.clone(),
        limits,
    });
    let bound = hooks
        .bound
        .take()
        .unwrap_or_else(|| tokio::sync::watch::channel(None).0);
    let admin = if roles.contains(&Role::Admin) {
        let addr = config
            .http_addr
            .parse()
            .with_context(|| format!("HTTP_ADDR {:?} is not host:port", config.http_addr))?;
        let panel = devmentor::admin::AdminState::new(
            store.clone(),
            config.allowed_hosts.clone(),
            bot.clone().map(crate::bot::notifier),
        )
        .with_replica(config.database_replica_url.expose())
        .with_secret_key(config.secret_key.clone())
        .with_sandbox(config.sandbox.clone());
        let api = Arc::new(ServerState {
            webhook,
            playground,
            admin: Some(Arc::new(panel)),
            ..ServerState::api_only(base, docker)
        });
        Some(AdminArgs {
            addr,
            api,
            bound,
            probes_only: false,
        })
    } else if !config.metrics_addr.is_empty() {
        // A process without the admin role (a worker machine) can still be probed and scraped.
        let addr = config
            .metrics_addr
            .parse()
            .with_context(|| format!("METRICS_ADDR {:?} is not host:port", config.metrics_addr))?;
        Some(AdminArgs {
            addr,
            api: Arc::new(ServerState::api_only(base, docker)),
            bound,
            probes_only: true,
        })
    } else {
        None
    };

    let external_stop = hooks.stop.clone().unwrap_or_default();
    let (failed_tx, mut failed_rx) = tokio::sync::watch::channel(None);
    let busy_ctx = pool.as_ref().map(|(c, _)| c.clone());
    let tree = Roles {
        bot: bot.clone(),
        pool,
        reaper,
        admin,
        policy,
        metrics: metrics.clone(),
        stopping: stop.clone(),
    };
    let (root, handle) = crate::root::start(tree, failed_tx)
        .await
        .context("the root supervisor did not start")?;
    tracing::info!(?roles, "devmentor is running");

    let mut handle = handle;
    let signal = shutdown_signal();
    tokio::pin!(signal);
    let failure = tokio::select! {
        _ = &mut signal => None,
        _ = external_stop.cancelled() => None,
        _ = &mut handle => failed_rx.borrow_and_update().clone().or_else(|| Some("the root supervisor stopped".into())),
    };
    // Graceful shutdown: stop claiming, let running checks finish, then stop the tree.
    stop.cancel();
    if let Some(ctx) = &busy_ctx {
        let until = Instant::now() + Duration::from_secs(config.runtime.shutdown_grace_seconds);
        while ctx.busy.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = ctx.busy.load(Ordering::SeqCst);
        if left > 0 {
            tracing::warn!(
                running = left,
                "grace period over: unfinished checks stay on the stream for another worker"
            );
        }
    }
    if !handle.is_finished() {
        crate::root::stop(&root, handle, Duration::from_secs(10)).await;
    }
    if let Some(r) = reloader {
        let _ = r.await;
    }
    if let Some(sandbox) = sandbox_for_shutdown {
        sandbox.shutdown().await;
    }
    queue.quit().await;
    match failure {
        None => {
            tracing::info!("stopped");
            Ok(ExitCode::SUCCESS)
        }
        Some(reason) => {
            eprintln!("error: {reason}");
            Ok(ExitCode::from(1))
        }
    }
}

fn worker_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "worker".into());
    format!("{}-{}", host.trim(), std::process::id())
}

fn register_worker_gauges(metrics: &Metrics, sandbox: &Arc<Sandbox>, analyzer: &Arc<Analyzer>) {
    let s = sandbox.clone();
    metrics.gauge(
        "devmentor_warm_pool_ready",
        "Warm sandbox containers waiting.",
        Box::new(move || s.pool_stats().ready as f64),
    );
    let s = sandbox.clone();
    metrics.gauge(
        "devmentor_sandbox_outcome_mismatches",
        "Runs whose reported outcome Docker's record of the exit code contradicted (should stay 0).",
        Box::new(move || s.outcome_mismatches() as f64),
    );
    if let Some(ai) = analyzer.ai().cloned() {
        let stats = |f: fn(&devmentor::ai::AiStats) -> u64, ai: &Arc<AiClient>| {
            let ai = ai.clone();
            Box::new(move || f(&ai.stats) as f64) as devmentor::metrics::Gauge
        };
        metrics.gauge(
            "devmentor_ai_calls",
            "AI requests made.",
            stats(|s| s.calls.load(Ordering::Relaxed), &ai),
        );
        metrics.gauge(
            "devmentor_ai_errors",
            "AI requests that failed.",
            stats(|s| s.errors.load(Ordering::Relaxed), &ai),
        );
        metrics.gauge(
            "devmentor_ai_cache_hits",
            "AI answers served from the cache.",
            stats(|s| s.cache_hits.load(Ordering::Relaxed), &ai),
        );
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => return std::future::pending().await,
    };
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
    }
}

/// `devmentor token create NAME`: the token is printed once, as the last line.
pub async fn create_token(config: &Config, name: &str, rate: i32) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(!name.trim().is_empty(), "the token needs a name");
    anyhow::ensure!(rate > 0, "--rate must be at least 1 per minute");
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(5)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    let (id, token) = devmentor::store::tokens::create(&store.client().await?, name.trim(), rate).await?;
    println!(
        "created API token {:?} (id {id}, {rate} checks/minute); it is shown only now:",
        name.trim()
    );
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
