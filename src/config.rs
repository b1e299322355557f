//! One `Config` for the whole program: defaults that serve a newcomer, then an optional
//! `devmentor.toml`, then environment variables (the original deployment's names win).
//!
//! Every key is documented in `devmentor.example.toml`. Secrets are [`Secret`]s, so printing a
//! `Config` with `{:?}` is always safe.

use crate::secret::Secret;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Groq's OpenAI-compatible endpoint: the default LLM provider.
pub const DEFAULT_AI_BASE_URL: &str = "https://api.groq.com/openai/v1";
/// `llama3-8b-8192`, the original model, is decommissioned at Groq.
pub const DEFAULT_AI_MODEL: &str = "openai/gpt-oss-20b";
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the configuration file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {name}={value:?} is not valid: {reason}")]
    Env {
        name: &'static str,
        value: String,
        reason: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// PostgreSQL connection URL; built from `POSTGRES_*` when `DATABASE_URL` is absent.
    pub database_url: Secret,
    /// Optional streaming replica: the admin panel's dashboard, analytics, lists and CSV exports
    /// read from it, falling back to the primary when it does not answer.
    pub database_replica_url: Secret,
    /// Redis connection URL; built from `REDIS_HOST`/`REDIS_PORT` when `REDIS_URL` is absent.
    pub redis_url: Secret,
    /// Telegram bot token (`BOT_TOKEN`). Empty: the bot role does not start.
    pub bot_token: Secret,
    pub telegram_api_url: String,
    /// LLM key (`AI_API_KEY`). Empty: no AI explanations.
    pub ai_api_key: Secret,
    pub ai_base_url: String,
    pub ai_model_name: String,
    /// Signs the admin session cookie and the login form's CSRF token (`admin::signing`).
    pub secret_key: Secret,
    pub allowed_hosts: Vec<String>,
    /// Where the HTTP API, the admin panel and `/metrics` listen.
    pub http_addr: String,
    /// A process without the admin role (a worker) serves only `/healthz`, `/readyz` and
    /// `/metrics` here, so its sandbox metrics can be scraped. Empty (default): no listener.
    /// Env: METRICS_ADDR.
    pub metrics_addr: String,
    /// `development` (default) or `production`: production refuses to start with a missing or
    /// default `SECRET_KEY`, `BOT_TOKEN` or database password. Env: DEVMENTOR_ENV.
    pub environment: String,
    pub sandbox: SandboxConfig,
    pub runtime: RuntimeConfig,
    pub bot: BotConfig,
}

/// The Telegram bot role.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BotConfig {
    /// A user's session actor stops after this long without updates (its state is in PostgreSQL).
    pub session_idle_seconds: u64,
    /// Webhook mode: the public HTTPS URL Telegram posts updates to (ending in `/telegram/webhook`),
    /// served by the admin role. Empty: long polling. Env: TELEGRAM_WEBHOOK_URL.
    pub webhook_url: String,
    /// The secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (webhook mode).
    /// Env: TELEGRAM_WEBHOOK_SECRET.
    pub webhook_secret: crate::secret::Secret,
    /// Telegram's limits, applied to sends: messages per second overall and per chat per minute.
    pub messages_per_second: u32,
    pub messages_per_minute_per_chat: u32,
    /// Largest document accepted as code, in bytes (Telegram lets bots download up to 20 MB).
    pub max_document_bytes: u64,
}

impl Default for BotConfig {
    fn default() -> Self {
        BotConfig {
            session_idle_seconds: 600,
            webhook_url: String::new(),
            webhook_secret: crate::secret::Secret::default(),
            messages_per_second: 30,
            messages_per_minute_per_chat: 20,
            max_document_bytes: 1024 * 1024,
        }
    }
}

/// The service: worker pool, job stream, supervision.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Sandbox actors per worker process: checks run at once. Env: WORKER_POOL_SIZE.
    pub pool_size: usize,
    /// Redis key prefix, so several deployments can share one Redis.
    pub redis_prefix: String,
    /// A job claimed but not acknowledged for this long is taken over by another worker.
    pub visibility_timeout_seconds: u64,
    /// Deliveries after which a check fails with `internal_error` instead of being retried.
    pub max_deliveries: u64,
    /// Unfinished checks untouched for this long are re-enqueued by the reaper.
    pub stuck_after_seconds: u64,
    pub reaper_interval_seconds: u64,
    /// Running checks get this long to finish on SIGTERM before the process exits.
    pub shutdown_grace_seconds: u64,
    /// Supervision: more than `max_restarts` restarts of one child within `restart_window_seconds`
    /// escalate to the parent.
    pub max_restarts: u32,
    pub restart_window_seconds: u64,
    /// Concurrent AI calls per worker process.
    pub ai_concurrency: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            pool_size: 2,
            redis_prefix: "devmentor:".into(),
            visibility_timeout_seconds: 120,
            max_deliveries: 3,
            stuck_after_seconds: 300,
            reaper_interval_seconds: 30,
            shutdown_grace_seconds: 30,
            max_restarts: 5,
            restart_window_seconds: 60,
            ai_concurrency: 4,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: Secret::new("postgres://devmentor:devmentor@127.0.0.1:5432/devmentor"),
            database_replica_url: Secret::default(),
            redis_url: Secret::new("redis://127.0.0.1:6379"),
            bot_token: Secret::default(),
            telegram_api_url: DEFAULT_TELEGRAM_API_URL.into(),
            ai_api_key: Secret::default(),
            ai_base_url: DEFAULT_AI_BASE_URL.into(),
            ai_model_name: DEFAULT_AI_MODEL.into(),
            secret_key: Secret::default(),
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into()],
            http_addr: "127.0.0.1:8080".into(),
            metrics_addr: String::new(),
            environment: "development".into(),
            sandbox: SandboxConfig::default(),
            runtime: RuntimeConfig::default(),
            bot: BotConfig::default(),
        }
    }
}

/// Settings of the Docker sandbox. Per-language limits live in `containers/<lang>/language.toml`
/// and can be overridden here under `[sandbox.limits.<lang>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Docker endpoint (`DOCKER_HOST`): `unix:///var/run/docker.sock`, `tcp://host:2375`.
    /// Empty: the local socket.
    pub docker_host: String,
    /// OCI runtime: `runc` (Docker's default) or `runsc` (gVisor) when the operator installed it.
    pub runtime: String,
    /// Wall-clock limit of a program's run, in seconds (`EXEC_TIMEOUT_SECONDS`); a language's
    /// `[limits] timeout_s` overrides it.
    pub exec_timeout_seconds: u64,
    /// The folder of language packs (`<dir>/<lang>/language.toml`). When it does not exist the
    /// packs built into the binary are used.
    pub languages_dir: PathBuf,
    /// `uid:gid` the program runs as; never root.
    pub user: String,
    /// Largest accepted source file, in bytes.
    pub max_source_bytes: usize,
    /// Largest accepted standard input, in bytes.
    pub max_stdin_bytes: usize,
    /// Output kept per stream (stdout, stderr), in bytes; the rest is cut and `truncated` set.
    pub output_limit_bytes: usize,
    /// Containers kept created, started and waiting per language and step. 0 disables the pool.
    pub warm_pool_size: usize,
    /// Per-language pool sizes, e.g. `python = 4`.
    pub warm_pool: HashMap<String, usize>,
    /// A waiting container older than this is replaced by a fresh one.
    pub warm_max_age_seconds: u64,
    /// Per-language limit overrides, e.g. `[sandbox.limits.java] memory_mb = 512`.
    pub limits: BTreeMap<String, crate::sandbox::LimitsOverride>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            docker_host: String::new(),
            runtime: "runc".into(),
            exec_timeout_seconds: 10,
            languages_dir: PathBuf::from("containers"),
            user: "10001:10001".into(),
            max_source_bytes: 64 * 1024,
            max_stdin_bytes: 1024 * 1024,
            output_limit_bytes: 64 * 1024,
            warm_pool_size: 2,
            warm_pool: HashMap::new(),
            warm_max_age_seconds: 600,
            limits: BTreeMap::new(),
        }
    }
}

/// Values that must never reach production (the examples' placeholders).
const PLACEHOLDERS: &[&str] = &[
    "",
    "change-me",
    "changeme",
    "devmentor",
    "secret",
    "password",
    "postgres",
];

impl Config {
    pub fn is_production(&self) -> bool {
        self.environment.eq_ignore_ascii_case("production")
    }

    /// What is not fit for production: a missing or placeholder `SECRET_KEY`, `BOT_TOKEN` or
    /// database password. Empty when all is well.
    pub fn production_problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let secret = self.secret_key.expose();
        if PLACEHOLDERS.contains(&secret.trim()) || secret.len() < 32 {
            out.push("SECRET_KEY is missing, a placeholder or shorter than 32 characters: set a long random value (openssl rand -hex 32)".into());
        }
        if self.bot_token.is_empty() {
            out.push("BOT_TOKEN is missing: set the token from @BotFather".into());
        }
        let password = self
            .database_url
            .expose()
            .parse::<tokio_postgres::Config>()
            .ok()
            .and_then(|c| c.get_password().map(|p| String::from_utf8_lossy(p).into_owned()))
            .unwrap_or_default();
        if PLACEHOLDERS.contains(&password.as_str()) {
            out.push(
                "the database password is missing or a placeholder: set POSTGRES_PASSWORD to a long random value"
                    .into(),
            );
        }
        out
    }
}

impl Config {
    /// Loads the configuration: `path` (or `DEVMENTOR_CONFIG`, or `./devmentor.toml` when it
    /// exists), then the process environment.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let explicit = path
            .map(Path::to_path_buf)
            .or_else(|| env.get("DEVMENTOR_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(p) => Some(p),
            None => Some(PathBuf::from("devmentor.toml")).filter(|p| p.exists()),
        };
        let mut config = match file {
            Some(p) => Self::from_file(&p)?,
            None => Config::default(),
        };
        config.apply_env(&env)?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Applies environment variables over the file's values. Taking the map as an argument
    /// keeps tests free of process-global state.
    pub fn apply_env(&mut self, env: &HashMap<String, String>) -> Result<(), ConfigError> {
        let get = |k: &str| env.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());

        if let Some(url) = get("DATABASE_URL") {
            self.database_url = Secret::new(url);
        } else if [
            "POSTGRES_HOST",
            "POSTGRES_PORT",
            "POSTGRES_DB",
            "POSTGRES_USER",
            "POSTGRES_PASSWORD",
        ]
        .iter()
        .any(|k| get(k).is_some())
        {
            let host = get("POSTGRES_HOST").unwrap_or_else(|| "127.0.0.1".into());
            let port = parse_env::<u16>(env, "POSTGRES_PORT")?.unwrap_or(5432);
            let db = get("POSTGRES_DB").unwrap_or_else(|| "devmentor".into());
            let user = get("POSTGRES_USER").unwrap_or_else(|| "devmentor".into());
            let password = env.get("POSTGRES_PASSWORD").cloned().unwrap_or_default();
            let auth = if password.is_empty() {
                percent_encode(&user)
            } else {
                format!("{}:{}", percent_encode(&user), percent_encode(&password))
            };
            self.database_url = Secret::new(format!("postgres://{auth}@{host}:{port}/{}", percent_encode(&db)));
        }
        if let Some(url) = get("DATABASE_REPLICA_URL") {
            self.database_replica_url = Secret::new(url);
        }
        if let Some(url) = get("REDIS_URL") {
            self.redis_url = Secret::new(url);
        } else if get("REDIS_HOST").is_some() || get("REDIS_PORT").is_some() {
            let host = get("REDIS_HOST").unwrap_or_else(|| "127.0.0.1".into());
            let port = parse_env::<u16>(env, "REDIS_PORT")?.unwrap_or(6379);
            self.redis_url = Secret::new(format!("redis://{host}:{port}"));
        }
        if let Some(v) = get("BOT_TOKEN") {
            self.bot_token = Secret::new(v);
        }
        if let Some(v) = get("TELEGRAM_API_URL") {
            self.telegram_api_url = v;
        }
        if let Some(v) = get("TELEGRAM_WEBHOOK_URL") {
            self.bot.webhook_url = v;
        }
        if let Some(v) = get("TELEGRAM_WEBHOOK_SECRET") {
            self.bot.webhook_secret = Secret::new(v);
        }
        if let Some(v) = get("AI_API_KEY") {
            self.ai_api_key = Secret::new(v);
        }
        if let Some(v) = get("AI_BASE_URL") {
            self.ai_base_url = v;
        }
        if let Some(v) = get("AI_MODEL_NAME") {
            self.ai_model_name = v;
        }
        if let Some(v) = get("SECRET_KEY") {
            self.secret_key = Secret::new(v);
        }
        if let Some(v) = get("ALLOWED_HOSTS") {
            self.allowed_hosts = v
                .split(',')
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect();
        }
        if let Some(v) = get("HTTP_ADDR") {
            self.http_addr = v;
        }
        if let Some(v) = get("METRICS_ADDR") {
            self.metrics_addr = v.trim().to_string();
        }
        if let Some(v) = get("DEVMENTOR_ENV") {
            self.environment = v;
        }
        if let Some(v) = get("DOCKER_HOST") {
            self.sandbox.docker_host = v;
        }
        if let Some(v) = get("SANDBOX_RUNTIME") {
            self.sandbox.runtime = v;
        }
        if let Some(v) = parse_env::<u64>(env, "EXEC_TIMEOUT_SECONDS")? {
            if v == 0 || v > 600 {
                return Err(ConfigError::Env {
                    name: "EXEC_TIMEOUT_SECONDS",
                    value: v.to_string(),
                    reason: "must be between 1 and 600 seconds".into(),
                });
            }
            self.sandbox.exec_timeout_seconds = v;
        }
        if let Some(v) = parse_env::<usize>(env, "SANDBOX_WARM_POOL_SIZE")? {
            self.sandbox.warm_pool_size = v;
        }
        if let Some(v) = parse_env::<usize>(env, "WORKER_POOL_SIZE")? {
            self.runtime.pool_size = v.max(1);
        }
        if let Some(v) = parse_env::<u64>(env, "VISIBILITY_TIMEOUT_SECONDS")? {
            self.runtime.visibility_timeout_seconds = v.max(1);
        }
        if let Some(v) = get("REDIS_PREFIX") {
            self.runtime.redis_prefix = v;
        }
        if let Some(v) = get("SANDBOX_LANGUAGES_DIR") {
            self.sandbox.languages_dir = PathBuf::from(v);
        }
        Ok(())
    }
}

fn parse_env<T: std::str::FromStr>(env: &HashMap<String, String>, name: &'static str) -> Result<Option<T>, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<T>().map(Some).map_err(|e| ConfigError::Env {
            name,
            value: v.to_string(),
            reason: e.to_string(),
        }),
    }
}

/// Percent-encodes a URL user-info or path component (RFC 3986 unreserved characters pass).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_serve_a_newcomer() {
        let c = Config::default();
        assert_eq!(c.sandbox.exec_timeout_seconds, 10);
        assert_eq!(c.ai_model_name, "openai/gpt-oss-20b");
        assert_eq!(c.http_addr, "127.0.0.1:8080");
        assert_eq!(c.sandbox.runtime, "runc");
    }

    #[test]
    fn postgres_parts_build_a_url_with_an_encoded_password() {
        let mut c = Config::default();
        c.apply_env(&env(&[
            ("POSTGRES_HOST", "db"),
            ("POSTGRES_USER", "app"),
            ("POSTGRES_PASSWORD", "p@ss/w:rd"),
            ("POSTGRES_DB", "mentor"),
        ]))
        .unwrap();
        assert_eq!(c.database_url.expose(), "postgres://app:p%40ss%2Fw%3Ard@db:5432/mentor");
        assert!(
            !format!("{c:?}").contains("p%40ss"),
            "Debug must not print the password"
        );
    }

    #[test]
    fn database_url_wins_over_parts_and_redis_parts_build_a_url() {
        let mut c = Config::default();
        c.apply_env(&env(&[
            ("DATABASE_URL", "postgres://x@y/z"),
            ("POSTGRES_HOST", "ignored"),
            ("REDIS_HOST", "cache"),
            ("REDIS_PORT", "6380"),
            ("ALLOWED_HOSTS", "a.example, b.example ,"),
            ("EXEC_TIMEOUT_SECONDS", "5"),
        ]))
        .unwrap();
        assert_eq!(c.database_url.expose(), "postgres://x@y/z");
        assert_eq!(c.redis_url.expose(), "redis://cache:6380");
        assert_eq!(c.allowed_hosts, vec!["a.example", "b.example"]);
        assert_eq!(c.sandbox.exec_timeout_seconds, 5);
    }

    #[test]
    fn bad_numbers_are_named_in_the_error() {
        let mut c = Config::default();
        let err = c.apply_env(&env(&[("EXEC_TIMEOUT_SECONDS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("EXEC_TIMEOUT_SECONDS"), "{err}");
        let err = c.apply_env(&env(&[("EXEC_TIMEOUT_SECONDS", "0")])).unwrap_err();
        assert!(err.to_string().contains("between 1 and 600"), "{err}");
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let mut c = Config::default();
        c.apply_env(&env(&[
            ("BOT_TOKEN", "123456:ABC-secret-token"),
            ("AI_API_KEY", "gsk_secret_key"),
            ("SECRET_KEY", "django-insecure-xyz"),
            ("REDIS_URL", "redis://:redispass@r:6379"),
        ]))
        .unwrap();
        let shown = format!("{c:?}");
        for s in ["ABC-secret-token", "gsk_secret_key", "django-insecure-xyz", "redispass"] {
            assert!(!shown.contains(s), "{s} leaked in {shown}");
        }
    }

    #[test]
    fn the_example_file_parses_and_unknown_keys_are_refused() {
        let text = include_str!("../devmentor.example.toml");
        let c = Config::from_toml(text).expect("devmentor.example.toml must stay valid");
        assert_eq!(c.sandbox.output_limit_bytes, 64 * 1024);
        let err = Config::from_toml("sandbx = 1").unwrap_err();
        assert!(err.contains("sandbx"), "{err}");
    }
}
