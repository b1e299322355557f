//! `devmentor doctor [--json]`: is this set-up ready? One line per check, with the fix.
//!
//! Configuration, PostgreSQL, migrations, Redis, Docker, the language images, the Telegram token
//! (getMe), the AI key (GET /models). Exit 0 when nothing failed (warnings allowed), 1 otherwise.

use devmentor::ai::{cache::AnswerCache, AiClient, AiSettings};
use devmentor::queue::Queue;
use devmentor::store::Store;
use devmentor::Config;
use serde::Serialize;
use std::future::IntoFuture;
use std::process::ExitCode;
use std::time::Duration;
use teloxide::prelude::Requester;

#[derive(Serialize, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
enum State {
    Ok,
    Warn,
    Fail,
    Skip,
}

#[derive(Serialize)]
struct Line {
    check: &'static str,
    state: State,
    detail: String,
    /// What to do about it (empty when all is well).
    fix: String,
}

fn line(check: &'static str, state: State, detail: impl Into<String>, fix: impl Into<String>) -> Line {
    Line {
        check,
        state,
        detail: detail.into(),
        fix: fix.into(),
    }
}

const T: Duration = Duration::from_secs(5);

pub async fn run(config: &Config, json: bool) -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();

    // Configuration.
    let problems = config.production_problems();
    out.push(match (config.is_production(), problems.is_empty()) {
        (_, true) => line("configuration", State::Ok, format!("{} mode", config.environment), ""),
        (true, false) => line("configuration", State::Fail, problems.join("; "), "set them in .env"),
        (false, false) => line(
            "configuration",
            State::Warn,
            format!("development mode; not fit for production: {}", problems.join("; ")),
            "fine for development; set them before DEVMENTOR_ENV=production",
        ),
    });

    // PostgreSQL and the migrations.
    match tokio::time::timeout(T, Store::connect(config.database_url.expose(), T)).await {
        Ok(Ok(store)) => {
            out.push(line("postgresql", State::Ok, "reachable", ""));
            out.push(match devmentor::store::ensure_migrated(&store).await {
                Ok(()) => line(
                    "migrations",
                    State::Ok,
                    format!("schema V{}", devmentor::store::schema_version()),
                    "",
                ),
                Err(e) => line(
                    "migrations",
                    State::Fail,
                    e.to_string(),
                    "run `devmentor migrate` (make migrate-prod)",
                ),
            });
        }
        Ok(Err(e)) => {
            out.push(line(
                "postgresql",
                State::Fail,
                e.to_string(),
                "start PostgreSQL or fix DATABASE_URL / POSTGRES_*",
            ));
            out.push(line("migrations", State::Skip, "PostgreSQL unreachable", ""));
        }
        Err(_) => {
            out.push(line(
                "postgresql",
                State::Fail,
                "no answer within 5 s",
                "start PostgreSQL or fix DATABASE_URL",
            ));
            out.push(line("migrations", State::Skip, "PostgreSQL unreachable", ""));
        }
    }

    // Redis.
    let redis = tokio::time::timeout(T, async {
        let q = Queue::connect(config.redis_url.expose(), &config.runtime.redis_prefix).await?;
        q.ping().await?;
        let depth = q.depth().await?;
        q.quit().await;
        Ok::<_, devmentor::queue::QueueError>(depth)
    })
    .await;
    out.push(match redis {
        Ok(Ok(d)) => line(
            "redis",
            State::Ok,
            format!("reachable; {} waiting, {} running", d.waiting, d.pending),
            "",
        ),
        Ok(Err(e)) => line(
            "redis",
            State::Fail,
            e.to_string(),
            "start Redis or fix REDIS_URL / REDIS_HOST",
        ),
        Err(_) => line(
            "redis",
            State::Fail,
            "no answer within 5 s",
            "start Redis or fix REDIS_URL",
        ),
    });

    // Docker and the images.
    match tokio::time::timeout(T, devmentor::sandbox::connect_docker(&config.sandbox.docker_host)).await {
        Ok(Ok(docker)) => {
            out.push(line("docker", State::Ok, "reachable", ""));
            let languages = devmentor::sandbox::Languages::from_config(&config.sandbox)?;
            let mut missing = Vec::new();
            for pack in languages.iter() {
                match devmentor::sandbox::check_image(&docker, pack).await {
                    Ok(()) => {}
                    Err(devmentor::sandbox::SandboxError::ImageOutdated { .. }) => {
                        missing.push(format!("{} (outdated)", pack.image))
                    }
                    Err(_) => missing.push(pack.image.clone()),
                }
            }
            out.push(if missing.is_empty() {
                line(
                    "images",
                    State::Ok,
                    format!("{} language images present", languages.iter().count()),
                    "",
                )
            } else {
                line(
                    "images",
                    State::Fail,
                    format!("missing: {}", missing.join(", ")),
                    "build them: `make images` (offline) or `make images-prod`",
                )
            });
        }
        Ok(Err(e)) => {
            out.push(line(
                "docker",
                State::Fail,
                e.to_string(),
                "start dockerd, or set DOCKER_HOST",
            ));
            out.push(line("images", State::Skip, "Docker unreachable", ""));
        }
        Err(_) => {
            out.push(line(
                "docker",
                State::Fail,
                "no answer within 5 s",
                "start dockerd, or set DOCKER_HOST",
            ));
            out.push(line("images", State::Skip, "Docker unreachable", ""));
        }
    }

    // Telegram.
    if config.bot_token.is_empty() {
        out.push(line(
            "telegram",
            State::Warn,
            "BOT_TOKEN is not set: the bot runs against the playground only",
            "set BOT_TOKEN (from @BotFather) to serve Telegram",
        ));
    } else {
        let r = match crate::bot::telegram_client(config.bot_token.expose(), &config.telegram_api_url) {
            Ok(bot) => tokio::time::timeout(Duration::from_secs(10), bot.get_me().into_future())
                .await
                .map_err(|_| "no answer within 10 s".to_string())
                .and_then(|r| r.map_err(|e| e.to_string())),
            Err(e) => Err(e.to_string()),
        };
        out.push(match r {
            Ok(me) => line("telegram", State::Ok, format!("token valid: @{}", me.username()), ""),
            Err(e) => line(
                "telegram",
                State::Fail,
                format!("getMe failed: {e}"),
                "check BOT_TOKEN (and TELEGRAM_API_URL)",
            ),
        });
    }

    // The AI key.
    match AiSettings::from_config(config) {
        None => out.push(line(
            "ai",
            State::Warn,
            "AI_API_KEY is not set: unknown errors get no AI explanation",
            "set AI_API_KEY (Groq) to enable the AI mentor",
        )),
        Some(settings) => {
            let model = settings.model.clone();
            let client = AiClient::new(settings, AnswerCache::Memory(Default::default()))?;
            out.push(
                match tokio::time::timeout(Duration::from_secs(10), client.list_models()).await {
                    Ok(Ok(models)) if models.contains(&model) => {
                        line("ai", State::Ok, format!("key valid; model {model} available"), "")
                    }
                    Ok(Ok(_)) => line(
                        "ai",
                        State::Fail,
                        format!("key valid, but the service does not offer {model}"),
                        "set AI_MODEL_NAME to one of the service's models",
                    ),
                    Ok(Err(e)) => line("ai", State::Fail, e.to_string(), "check AI_API_KEY and AI_BASE_URL"),
                    Err(_) => line("ai", State::Fail, "no answer within 10 s", "check AI_BASE_URL"),
                },
            );
        }
    }

    let failed = out.iter().any(|l| l.state == State::Fail);
    if json {
        println!("{}", serde_json::json!({"ok": !failed, "checks": out}));
    } else {
        let tty = crate::term::stdout_is_tty();
        for l in &out {
            let (mark, colour) = match l.state {
                State::Ok => ("ok  ", crate::term::GREEN),
                State::Warn => ("warn", crate::term::YELLOW),
                State::Fail => ("FAIL", crate::term::RED),
                State::Skip => ("skip", crate::term::DIM),
            };
            let fix = if l.fix.is_empty() {
                String::new()
            } else {
                format!("  → {}", l.fix)
            };
            println!(
                "{} {:<14} {}{fix}",
                crate::term::paint(colour, mark, tty),
                l.check,
                l.detail
            );
        }
        println!(
            "{}",
            if failed {
                "some checks failed: fix them and run `devmentor doctor` again"
            } else {
                "ready"
            }
        );
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
