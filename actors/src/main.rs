//! The `devmentor` command: the runtime's entry point and the operator's tools.
//!
//! Subcommands are thin: they load the configuration, call into the `devmentor` library and
//! print. `anyhow` lives here, at the edge; the library speaks in typed errors.

mod access_cmd;
mod admin;
mod admin_cmd;
mod bench;
mod bench_admin;
mod bench_bot;
mod bench_cpu;
mod bench_tasks;
mod bot;
mod check_cmd;
mod doctor;
mod efficacy_cmd;
mod fault;
mod reaper;
mod registry_cmd;
mod root;
mod run;
mod sandbox_pool;
mod setup;
mod supervisor;
mod tasks_cmd;
mod term;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "devmentor",
    version,
    about = "Dev-Mentor: runs students' code safely and explains their errors"
)]
struct Cli {
    /// Configuration file (default: ./devmentor.toml when present, or $DEVMENTOR_CONFIG).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: the supervised actor tree of the chosen roles.
    Run {
        /// Roles to run, comma-separated: bot, worker, admin (default: all).
        #[arg(long, default_value = "bot,worker,admin", value_parser = run::parse_roles)]
        roles: std::collections::HashSet<run::Role>,
    },
    /// API tokens for the HTTP API.
    Token {
        #[command(subcommand)]
        what: TokenCommand,
    },
    /// Run one program in the sandbox and report what happened.
    Check(check_cmd::CheckArgs),
    /// Measure the product (sandbox latency and throughput).
    Bench {
        #[command(subcommand)]
        what: bench::BenchCommand,
    },
    /// Sandbox maintenance.
    Sandbox {
        #[command(subcommand)]
        what: SandboxCommand,
    },
    /// List the supported languages and whether their images are built.
    Languages,
    /// Create an admin account for the panel (interactive, or --username NAME --password-stdin).
    Createsuperuser(admin_cmd::CreateSuperuserArgs),
    /// Check the set-up: configuration, PostgreSQL, migrations, Redis, Docker, images, Telegram, AI.
    Doctor {
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The bot's whitelist: add, remove, list (Telegram ids or usernames).
    Whitelist {
        #[command(subcommand)]
        what: access_cmd::WhitelistCommand,
    },
    /// Apply database migrations; load the shipped catalogue and starter tasks into empty tables.
    Migrate,
    /// The common-error registry: import, test, verify, list.
    Registry {
        #[command(subcommand)]
        what: registry_cmd::RegistryCommand,
    },
    /// Graded tasks: import the starter set (or a folder of tasks), list them.
    Tasks {
        #[command(subcommand)]
        what: tasks_cmd::TasksCommand,
    },
    /// Does the mentoring work: rebuild the lineage of explanations and their fix rates.
    Efficacy {
        #[command(subcommand)]
        what: efficacy_cmd::EfficacyCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once, as the last line.
    Create {
        name: String,
        /// Checks per minute allowed for this token.
        #[arg(long, default_value_t = 60)]
        rate: i32,
    },
}

#[derive(Subcommand)]
enum SandboxCommand {
    /// Remove orphaned sandbox containers (expired ones; `--all`: every sandbox container).
    Reap {
        #[arg(long)]
        all: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devmentor: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        let config = devmentor::Config::load(cli.config.as_deref())?;
        match cli.command {
            Command::Run { roles } => run::run(&config, roles, run::Hooks::from_env()).await,
            Command::Token {
                what: TokenCommand::Create { name, rate },
            } => run::create_token(&config, &name, rate).await,
            Command::Check(args) => check_cmd::run(&config, args).await,
            Command::Bench { what } => bench::run(&config, what).await,
            Command::Sandbox {
                what: SandboxCommand::Reap { all },
            } => {
                let docker = devmentor::sandbox::connect_docker(&config.sandbox.docker_host).await?;
                let n = if all {
                    devmentor::sandbox::reaper::reap_all(&docker).await?
                } else {
                    devmentor::sandbox::reaper::reap_orphans(&docker).await?
                };
                println!("removed {n} sandbox container(s)");
                Ok(ExitCode::SUCCESS)
            }
            Command::Languages => check_cmd::list_languages(&config).await,
            Command::Createsuperuser(args) => admin_cmd::create_superuser(&config, args).await,
            Command::Doctor { json } => doctor::run(&config, json).await,
            Command::Whitelist { what } => access_cmd::run(&config, what).await,
            Command::Migrate => registry_cmd::migrate(&config).await,
            Command::Registry { what } => registry_cmd::run(&config, what).await,
            Command::Tasks { what } => tasks_cmd::run(&config, what).await,
            Command::Efficacy { what } => efficacy_cmd::run(&config, what).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{} {e:#}", term::paint(term::RED, "error:", term::stderr_is_tty()));
            ExitCode::from(2)
        }
    }
}

/// Logs go to stderr, so `--json` output on stdout stays exactly one object. `RUST_LOG` tunes it;
/// `LOG_FORMAT=json` (the default when `DEVMENTOR_ENV=production`) writes one JSON object per line.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let production = std::env::var("DEVMENTOR_ENV").is_ok_and(|v| v.eq_ignore_ascii_case("production"));
    let json = match std::env::var("LOG_FORMAT") {
        Ok(f) => f.eq_ignore_ascii_case("json"),
        Err(_) => production,
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().with_current_span(false).init();
    } else {
        builder.with_ansi(term::stderr_is_tty()).init();
    }
}
