//! `devmentor bench sandbox`: hello-world checks through the real check pipeline, against a
//! baseline of one fresh container per check driven through the Docker API (create, start,
//! wait, logs, remove), measured in the same run on the same machine.

use devmentor::check::{run_check, CheckRequest, InputLimits};
use devmentor::sandbox::launcher::Step;
use devmentor::sandbox::spec::{container_body, SpecSettings};
use devmentor::sandbox::{LanguagePack, Sandbox, Verdict};
use devmentor::Config;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Sandbox latency (p50/p95) and throughput vs. a fresh-container baseline.
    Sandbox {
        /// Checks to run (and baseline containers to start).
        #[arg(long, default_value_t = 40)]
        runs: usize,
        /// Checks in flight at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
        /// Language of the hello-world program.
        #[arg(long, default_value = "python")]
        lang: String,
        /// Warm containers per step (default: the configured pool size, at least concurrency + 1).
        #[arg(long)]
        pool: Option<usize>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// The whole service: HTTP API → job stream → worker pool → result, against a baseline of
    /// one fresh container per check at the same concurrency.
    Pipeline {
        #[arg(long, default_value_t = 300)]
        checks: usize,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long)]
        json: bool,
    },
    /// The bot's ingress: update → "⏳" latency, RSS, and the memory of an idle session actor,
    /// against the fake Telegram, with a no-sandbox runner finishing the checks at once.
    Bot {
        #[arg(long, default_value_t = 1000)]
        users: usize,
        #[arg(long, default_value_t = 5000)]
        messages: usize,
        /// Messages sent per second (round-robin over the users).
        #[arg(long, default_value_t = 250)]
        rate: u32,
        #[arg(long)]
        json: bool,
    },
    /// Admin page latency (dashboard, filtered checks list, user page) on a seeded throw-away
    /// database of --checks checks and --users users.
    Admin {
        #[arg(long, default_value_t = 1_000_000)]
        checks: i64,
        #[arg(long, default_value_t = 50_000)]
        users: i64,
        #[arg(long)]
        json: bool,
    },
    /// Registry lookups (extraction excluded) over every catalogue entry's sample error.
    Analyzer {
        /// Passes over the whole catalogue.
        #[arg(long, default_value_t = 200)]
        rounds: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// A task submission end to end (compile once, a fresh container per test) against the
    /// same tests as fresh containers one after another.
    Tasks {
        /// Tests in the submission.
        #[arg(long, default_value_t = 10)]
        tests: usize,
        /// Submissions to time.
        #[arg(long, default_value_t = 10)]
        runs: usize,
        /// Warm containers (default: the configured pool size, at least tests + 1).
        #[arg(long)]
        pool: Option<usize>,
        #[arg(long)]
        json: bool,
    },
}

/// Hello world in every shipped language.
pub fn hello_world(language: &str) -> Option<&'static str> {
    Some(match language {
        "python" => "print('Hello, world!')\n",
        "javascript" => "console.log('Hello, world!');\n",
        "c" => "#include <stdio.h>\nint main(void) { puts(\"Hello, world!\"); return 0; }\n",
        "cpp" => "#include <iostream>\nint main() { std::cout << \"Hello, world!\" << std::endl; }\n",
        "java" => {
            "public class Main { public static void main(String[] a) { System.out.println(\"Hello, world!\"); } }\n"
        }
        "go" => "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"Hello, world!\") }\n",
        "rust" => "fn main() { println!(\"Hello, world!\"); }\n",
        "typescript" => "const greeting: string = \"Hello, world!\";\nconsole.log(greeting);\n",
        "sql" => ".mode list\n.headers off\nSELECT 'Hello, world!';\n",
        "php" => "<?php\necho \"Hello, world!\\n\";\n",
        "ruby" => "puts 'Hello, world!'\n",
        "bash" => "echo 'Hello, world!'\n",
        "pascal" => "program Hello;\nbegin\n  writeln('Hello, world!');\nend.\n",
        "csharp" => "class Program { static void Main() { System.Console.WriteLine(\"Hello, world!\"); } }\n",
        _ => return None,
    })
}

pub async fn run(config: &Config, what: BenchCommand) -> anyhow::Result<ExitCode> {
    let (runs, concurrency, lang, pool, json) = match what {
        BenchCommand::Sandbox {
            runs,
            concurrency,
            lang,
            pool,
            json,
        } => (runs, concurrency, lang, pool, json),
        BenchCommand::Analyzer { rounds, json } => return bench_analyzer(rounds, json),
        BenchCommand::Admin { checks, users, json } => {
            return crate::bench_admin::run(config, checks, users, json).await
        }
        BenchCommand::Bot {
            users,
            messages,
            rate,
            json,
        } => return crate::bench_bot::run(config, users, messages, rate, json).await,
        BenchCommand::Pipeline {
            checks,
            concurrency,
            json,
        } => return bench_pipeline(config, checks, concurrency, json).await,
        BenchCommand::Tasks {
            tests,
            runs,
            pool,
            json,
        } => return crate::bench_tasks::run(config, tests, runs, pool, json).await,
    };
    anyhow::ensure!(
        runs > 0 && concurrency > 0,
        "--runs and --concurrency must be at least 1"
    );
    let mut sandbox = Sandbox::connect(&config.sandbox).await?;
    let pack = sandbox
        .languages()
        .find(&lang)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "unsupported language {lang:?}; supported: {}",
                sandbox.languages().names().join(", ")
            )
        })?
        .clone();
    let code = hello_world(&pack.name).ok_or_else(|| anyhow::anyhow!("no hello world for {}", pack.name))?;
    sandbox.ensure_image(&pack).await?;

    let configured = config
        .sandbox
        .warm_pool
        .get(&pack.name)
        .copied()
        .unwrap_or(config.sandbox.warm_pool_size);
    let pool_size = pool.unwrap_or(configured.max(concurrency + 1));
    sandbox.start_pool(&HashMap::from([(pack.name.clone(), pool_size)]));
    if !sandbox.wait_pool_full(Duration::from_secs(120)).await {
        eprintln!("warning: the warm pool did not fill within 120 s");
    }
    let sandbox = Arc::new(sandbox);
    let limits = InputLimits::from(&config.sandbox);

    // Our path: the check pipeline with the warm pool, `concurrency` checks in flight.
    let started = Instant::now();
    let request = CheckRequest {
        language: pack.name.clone(),
        code: code.as_bytes().to_vec(),
        stdin: vec![],
        locale: devmentor::registry::Locale::Ru,
        check_id: None,
    };
    let latencies: Vec<Result<Duration, String>> = futures_util::stream::iter(0..runs)
        .map(|_| {
            let sandbox = sandbox.clone();
            let request = request.clone();
            async move {
                let t = Instant::now();
                match run_check(&sandbox, None, &request, &limits).await {
                    Ok(r) if r.verdict == Verdict::Ok && r.stdout.contains("Hello, world!") => Ok(t.elapsed()),
                    Ok(r) => Err(format!("unexpected result: {} {:?}", r.verdict, r.stderr)),
                    Err(e) => Err(e.to_string()),
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = started.elapsed();
    sandbox.shutdown().await;
    let mut ours = Vec::with_capacity(runs);
    for l in latencies {
        ours.push(l.map_err(|e| anyhow::anyhow!("a benchmark check failed: {e}"))?);
    }

    // Baseline: one fresh container per check, sequential, through the Docker API.
    let settings = baseline_settings(config);
    let mut baseline = Vec::with_capacity(runs);
    for _ in 0..runs {
        baseline.push(baseline_once(sandbox.docker(), &pack, &settings, code, "", "Hello, world!").await?);
    }

    let p50 = percentile(&ours, 50.0);
    let p95 = percentile(&ours, 95.0);
    let base50 = percentile(&baseline, 50.0);
    let report = serde_json::json!({
        "image": pack.image,
        "language": pack.name,
        "runs": runs,
        "concurrency": concurrency,
        "pool_size": pool_size,
        "p50_ms": round(p50),
        "p95_ms": round(p95),
        "throughput_per_s": round(runs as f64 / wall.as_secs_f64()),
        "baseline_p50_ms": round(base50),
        "baseline_p95_ms": round(percentile(&baseline, 95.0)),
        "ratio_p50": round(p50 / base50),
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// A fresh container per check, the way a naive runner does it: create, start, wait, logs,
/// remove. Same image and limits; the program comes on the command line.
/// How the baseline's fresh containers are made: the sandbox's user and runtime, owned by this
/// benchmark.
pub(crate) fn baseline_settings(config: &Config) -> SpecSettings {
    SpecSettings {
        user: config.sandbox.user.clone(),
        runtime: config.sandbox.runtime.clone(),
        max_idle: Duration::from_secs(60),
        owner: format!("bench-{}", std::process::id()),
    }
}

pub(crate) async fn baseline_once(
    docker: &bollard::Docker,
    pack: &LanguagePack,
    settings: &SpecSettings,
    code: &str,
    stdin: &str,
    expect: &str,
) -> anyhow::Result<Duration> {
    use bollard::query_parameters::{LogsOptionsBuilder, RemoveContainerOptionsBuilder};
    let mut body = container_body(pack, Step::Run, settings);
    let steps = match &pack.compile {
        // A subshell, as the launcher runs it: compile commands `exec` the compiler.
        Some(c) => format!("mkdir -p build && ( {c} ) && {}", pack.run),
        None => pack.run.clone(),
    };
    // The pack's `prepare` runs first, as in a warm container (PHP's run command needs its files).
    let prepare = pack.prepare.as_deref().map(|p| format!("{p}\n")).unwrap_or_default();
    let script = format!(
        "cd /sandbox && {prepare}printf '%s' \"$1\" > {file} && FILE={file} && STEM={stem} && printf '%s' \"$2\" | ( {steps} )",
        file = pack.file,
        // Java runs the class named after the file (Main.java → Main).
        stem = pack.file.rsplit_once('.').map_or(pack.file.as_str(), |(stem, _)| stem),
    );
    body.cmd = Some(vec![
        "/bin/sh".into(),
        "-c".into(),
        script,
        "sh".into(),
        code.into(),
        stdin.into(),
    ]);
    body.open_stdin = Some(false);
    body.stdin_once = Some(false);
    body.attach_stdin = Some(false);
    if let Some(hc) = body.host_config.as_mut() {
        hc.log_config = None; // the daemon's default driver, so `logs` works
        if pack.compile.is_some() {
            hc.memory = Some((pack.compile_limits.memory_mb * 1024 * 1024) as i64);
            hc.memory_swap = hc.memory;
        }
    }
    let t = Instant::now();
    let id = docker.create_container(None, body).await?.id;
    docker.start_container(&id, None).await?;
    let mut wait = docker.wait_container(&id, None);
    while let Some(r) = wait.next().await {
        r?;
    }
    let opts = LogsOptionsBuilder::default().stdout(true).stderr(true).build();
    let mut out = String::new();
    let mut logs = docker.logs(&id, Some(opts));
    while let Some(chunk) = logs.next().await {
        out.push_str(&chunk?.to_string());
    }
    docker
        .remove_container(&id, Some(RemoveContainerOptionsBuilder::default().force(true).build()))
        .await?;
    let elapsed = t.elapsed();
    anyhow::ensure!(out.contains(expect), "baseline run printed {out:?}, not {expect:?}");
    Ok(elapsed)
}

pub(crate) fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(|a, b| a.total_cmp(b));
    if ms.is_empty() {
        return 0.0;
    }
    // Nearest-rank percentile.
    let rank = ((p / 100.0) * ms.len() as f64).ceil().max(1.0) as usize;
    ms[rank.min(ms.len()) - 1]
}

pub(crate) fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Times `Matcher::find` for every catalogue entry's sample error, many rounds over.
fn bench_analyzer(rounds: usize, json: bool) -> anyhow::Result<ExitCode> {
    use devmentor::registry::{catalogue, Matcher};
    anyhow::ensure!(rounds > 0, "--rounds must be at least 1");
    let entries = catalogue::builtin()?;
    let built = Instant::now();
    let (matcher, skipped) = Matcher::build(entries.clone());
    let build_ms = built.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(skipped.is_empty(), "catalogue entries were skipped: {skipped:?}");
    let mut samples = Vec::with_capacity(entries.len() * rounds);
    let mut matched = 0;
    for round in 0..rounds {
        for e in &entries {
            let t = Instant::now();
            let hit = matcher.find(&e.language, &e.error_type, &e.sample_error, None);
            samples.push(t.elapsed());
            if round == 0 && hit.is_some() {
                matched += 1;
            }
        }
    }
    let us = |p: f64| round(percentile(&samples, p) * 1000.0);
    let report = serde_json::json!({
        "entries": entries.len(),
        "lookups": samples.len(),
        "matched": matched,
        "p50_us": us(50.0),
        "p95_us": us(95.0),
        "p99_us": us(99.0),
        "p50_ms": (percentile(&samples, 50.0) * 10_000.0).round() / 10_000.0,
        "p95_ms": (percentile(&samples, 95.0) * 10_000.0).round() / 10_000.0,
        "max_us": us(100.0),
        "build_ms": round(build_ms),
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the worker and admin roles in this process (own Redis prefix, random port), submits
/// hello-world checks through the HTTP API and waits for each result.
async fn bench_pipeline(config: &Config, checks: usize, concurrency: usize, json: bool) -> anyhow::Result<ExitCode> {
    use crate::run::{run, Hooks, Role};
    anyhow::ensure!(
        checks > 0 && concurrency > 0,
        "--checks and --concurrency must be at least 1"
    );
    let mut config = config.clone();
    config.runtime.redis_prefix = format!("bench:{}:", std::process::id());
    config.http_addr = "127.0.0.1:0".into();
    let store = devmentor::store::Store::connect(config.database_url.expose(), Duration::from_secs(5)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    let (_, token) = devmentor::store::tokens::create(&store.client().await?, "bench", 1_000_000).await?;
    let (bound_tx, mut bound_rx) = tokio::sync::watch::channel(None);
    let stop = tokio_util::sync::CancellationToken::new();
    let hooks = Hooks {
        bound: Some(bound_tx),
        stop: Some(stop.clone()),
        ..Hooks::default()
    };
    let roles = [Role::Worker, Role::Admin].into_iter().collect();
    let cfg = config.clone();
    let service = tokio::spawn(async move { run(&cfg, roles, hooks).await });
    let addr = loop {
        if let Some(a) = *bound_rx.borrow_and_update() {
            break a;
        }
        if service.is_finished() {
            anyhow::bail!("the service did not start");
        }
        tokio::time::timeout(Duration::from_secs(60), bound_rx.changed()).await??;
    };
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    // Let the warm pool fill before timing, as in a running service (its start-up burst of
    // container creations would otherwise be charged to the first checks).
    let target: usize = {
        let sandbox = Sandbox::connect(&config.sandbox).await?;
        let sizes = devmentor::sandbox::language::pool_sizes(
            config.sandbox.warm_pool_size,
            &config.sandbox.warm_pool,
            sandbox.languages(),
        );
        sandbox
            .languages()
            .iter()
            .map(|p| sizes.get(&p.name).copied().unwrap_or(0) * if p.is_compiled() { 2 } else { 1 })
            .sum()
    };
    let fill_until = Instant::now() + Duration::from_secs(180);
    while Instant::now() < fill_until {
        let text = http.get(format!("{base}/metrics")).send().await?.text().await?;
        let ready = text
            .lines()
            .find_map(|l| l.strip_prefix("devmentor_warm_pool_ready "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        if ready as usize >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rss_before = rss_kib();
    let xacts_before = transactions(&store).await?;
    let cpu_before = crate::bench_cpu::CpuSample::now();
    let started = Instant::now();
    let results: Vec<anyhow::Result<Duration>> = futures_util::stream::iter(0..checks)
        .map(|i| {
            let (http, base, token) = (http.clone(), base.clone(), token.clone());
            async move {
                let t = Instant::now();
                let r = http
                    .post(format!("{base}/api/v1/checks"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"language": "python", "code": format!("print('Hello, world!', {i})\n")}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().as_u16() == 202, "submit failed: {}", r.text().await?);
                let id = r.json::<serde_json::Value>().await?["id"].as_i64().unwrap_or_default();
                loop {
                    let v: serde_json::Value = http
                        .get(format!("{base}/api/v1/checks/{id}?wait=30"))
                        .bearer_auth(&token)
                        .send()
                        .await?
                        .json()
                        .await?;
                    if v["status"] == "done" {
                        anyhow::ensure!(
                            v["stdout"] == format!("Hello, world! {i}\n"),
                            "wrong result for {id}: {v}"
                        );
                        return Ok(t.elapsed());
                    }
                }
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = started.elapsed();
    let cpu = crate::bench_cpu::CpuSample::now().per_check_since(&cpu_before, checks);
    let rss_during = rss_kib();
    let mut ours = Vec::new();
    let mut failures = 0;
    for r in results {
        match r {
            Ok(d) => ours.push(d),
            Err(e) => {
                failures += 1;
                eprintln!("check failed: {e:#}");
            }
        }
    }
    // Count what the database says: every check exactly once.
    let client = store.client().await?;
    let row = client
        .query_one(
            "SELECT count(*) FILTER (WHERE status = 'done'), count(*) FROM checks WHERE token_id = (SELECT id FROM api_tokens WHERE token_hash = $1)",
            &[&devmentor::store::tokens::hash(&token)],
        )
        .await?;
    let (done, total): (i64, i64) = (row.get(0), row.get(1));
    // Stop the service as SIGTERM would, then measure the baseline on a quiet machine.
    stop.cancel();
    let _ = service.await;
    // A backend reports its counts when it goes idle (at most once a second) or exits.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let xacts = transactions(&store).await? - xacts_before;
    let sandbox = Sandbox::connect(&config.sandbox).await?;
    let pack = sandbox
        .languages()
        .find("python")
        .ok_or_else(|| anyhow::anyhow!("no python pack"))?
        .clone();
    let settings = baseline_settings(&config);
    let docker = sandbox.docker().clone();
    let base_started = Instant::now();
    let baseline: Vec<anyhow::Result<Duration>> = futures_util::stream::iter(0..checks)
        .map(|_| {
            let (docker, pack, settings) = (docker.clone(), pack.clone(), settings.clone());
            async move {
                baseline_once(
                    &docker,
                    &pack,
                    &settings,
                    "print('Hello, world!')\n",
                    "",
                    "Hello, world!",
                )
                .await
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let base_wall = base_started.elapsed();
    let baseline: Vec<Duration> = baseline.into_iter().collect::<anyhow::Result<_>>()?;
    let report = serde_json::json!({
        "checks": checks,
        "concurrency": concurrency,
        "pool_size": config.runtime.pool_size,
        "completed": ours.len(),
        "failed": failures,
        "done_in_db": done,
        "rows_in_db": total,
        "p50_ms": round(percentile(&ours, 50.0)),
        "p95_ms": round(percentile(&ours, 95.0)),
        "throughput_per_s": round(ours.len() as f64 / wall.as_secs_f64()),
        "baseline_p50_ms": round(percentile(&baseline, 50.0)),
        "baseline_p95_ms": round(percentile(&baseline, 95.0)),
        "baseline_throughput_per_s": round(checks as f64 / base_wall.as_secs_f64()),
        "cpu_ms_per_check": cpu,
        "pg_transactions_per_check": round(xacts as f64 / checks as f64),
        "rss_kib_before": rss_before,
        "rss_kib_under_load": rss_during,
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Transactions committed or rolled back in this database so far (each statement outside an
/// explicit transaction is one).
async fn transactions(store: &devmentor::store::Store) -> anyhow::Result<i64> {
    let row = store
        .client()
        .await?
        .query_one(
            "SELECT (xact_commit + xact_rollback)::bigint FROM pg_stat_database WHERE datname = current_database()",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// Resident memory of this process, from /proc.
pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
