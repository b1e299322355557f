//! `devmentor bench admin [--checks N] [--users N] [--json]`: admin page latency on big tables.
//!
//! Creates a throw-away database next to the configured one, seeds it (1,000,000 checks and
//! 50,000 users by default), serves the admin panel from this process and times real HTTP
//! requests with a logged-in session: the dashboard, the checks list with a filter, a user's page.
//! The database is dropped at the end.

use crate::bench::{percentile, round};
use devmentor::api::ApiState;
use devmentor::http::{serve, ServerState};
use devmentor::store::{admins, Store};
use devmentor::Config;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SAMPLES: usize = 60;

pub async fn run(config: &Config, checks: i64, users: i64, json: bool) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1..=20_000_000).contains(&checks),
        "--checks must be between 1 and 20,000,000"
    );
    anyhow::ensure!(
        (1..=5_000_000).contains(&users),
        "--users must be between 1 and 5,000,000"
    );
    let main = Store::connect(config.database_url.expose(), Duration::from_secs(10)).await?;
    let name = format!("devmentor_bench_admin_{}", std::process::id());
    let admin = main.client().await?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .map_err(|e| anyhow::anyhow!("creating the benchmark's database (needs CREATEDB): {e:?}"))?;
    drop(admin);
    let url = devmentor::store::url_with_dbname(config.database_url.expose(), &name)?;
    let result = measure(config, &url, checks, users).await;
    let _ = main
        .client()
        .await?
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
    let (seed_seconds, pages) = result?;
    let goal_met = pages.iter().all(|(_, _, p95)| *p95 < 100.0);
    let out = serde_json::json!({
        "checks": checks,
        "users": users,
        "seed_seconds": round(seed_seconds),
        "samples_per_page": SAMPLES,
        "pages": pages.iter().map(|(n, p50, p95)| (n.to_string(), serde_json::json!({"p50_ms": round(*p50), "p95_ms": round(*p95)})))
            .collect::<serde_json::Map<_, _>>(),
        "goal_p95_ms": 100,
        "goal_met": goal_met,
    });
    if json {
        println!("{out}");
    } else {
        println!("bench admin: {checks} checks, {users} users (seeded in {seed_seconds:.1} s)");
        for (n, p50, p95) in &pages {
            println!("  {n:<14} p50 {p50:7.1} ms   p95 {p95:7.1} ms");
        }
        println!(
            "  goal: p95 < 100 ms each — {}",
            if goal_met { "met" } else { "NOT met" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

type Pages = Vec<(&'static str, f64, f64)>;

async fn measure(config: &Config, url: &str, checks: i64, users: i64) -> anyhow::Result<(f64, Pages)> {
    let store = Store::connect(url, Duration::from_secs(10)).await?;
    store.migrate().await?;
    let seeded = Instant::now();
    let c = store.client().await?;
    c.batch_execute(&format!(
        "INSERT INTO users (id, username, first_name, language_code, checks_count, last_seen_at)
         SELECT g, 'user' || g, 'Student ' || g, CASE WHEN g % 5 = 0 THEN 'en' ELSE 'ru' END, 20,
                now() - (g % 60) * interval '1 day'
           FROM generate_series(1, {users}) g;
         ALTER TABLE checks DISABLE TRIGGER checks_daily_count;
         INSERT INTO checks (language, code, source, user_id, status, verdict, result, created_at, finished_at)
         SELECT (ARRAY['python','javascript','c','cpp','java','go','rust'])[1 + g % 7],
                'print(' || g || ')', 'bot', 1 + g % {users}, 'done',
                (ARRAY['ok','ok','ok','runtime_error','compile_error','timeout'])[1 + g % 6],
                jsonb_build_object('stdout', 'line ' || g, 'stderr', '', 'duration_ms', 20 + g % 200,
                                   'explanation', CASE WHEN g % 2 = 0 THEN jsonb_build_object('source', 'registry') END),
                now() - (g % 90) * interval '1 day' - (g % 86400) * interval '1 second',
                now() - (g % 90) * interval '1 day'
           FROM generate_series(1, {checks}) g;
         ALTER TABLE checks ENABLE TRIGGER checks_daily_count;
         INSERT INTO checks_daily (day, verdict, language, n)
         SELECT (created_at AT TIME ZONE 'UTC')::date, verdict, language, count(*) FROM checks GROUP BY 1, 2, 3;
         INSERT INTO user_days (day, user_id)
         SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, user_id FROM checks WHERE user_id IS NOT NULL;
         ANALYZE;"
    ))
    .await?;
    let seed_seconds = seeded.elapsed().as_secs_f64();
    admins::create(&c, "bench_admin", "benchmark password", true).await?;
    let admin = admins::authenticate(&c, "bench_admin", "benchmark password")
        .await?
        .ok_or_else(|| anyhow::anyhow!("the benchmark's admin cannot log in"))?;
    let cookie = admins::start_session(&c, admin.id, "127.0.0.1", "bench").await?;
    drop(c);

    let queue = devmentor::queue::Queue::connect(
        config.redis_url.expose(),
        &format!("bench:admin:{}:", std::process::id()),
    )
    .await?;
    let api = Arc::new(ApiState {
        store: store.clone(),
        queue: queue.clone(),
        metrics: Arc::new(devmentor::metrics::Metrics::default()),
        languages: Arc::new(devmentor::sandbox::Languages::from_config(&config.sandbox)?),
        limits: devmentor::check::InputLimits::from(&config.sandbox),
    });
    let state = Arc::new(ServerState {
        admin: Some(Arc::new(devmentor::admin::AdminState::new(
            store.clone(),
            vec!["127.0.0.1".into()],
            None,
        ))),
        ..ServerState::api_only(api, None)
    });
    let stop = tokio_util::sync::CancellationToken::new();
    let s = stop.clone();
    let (addr, server) = serve("127.0.0.1:0".parse()?, state, async move { s.cancelled().await }).await?;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let mut pages = Vec::new();
    let user_pages: Vec<String> = (0..SAMPLES as i64)
        .map(|i| format!("/admin/users/{}", 1 + (i * 7919) % users))
        .collect();
    for (name, paths) in [
        ("dashboard", vec!["/admin/".to_string()]),
        (
            "checks_filter",
            vec!["/admin/checks?verdict=runtime_error&language=python".to_string()],
        ),
        ("user_detail", user_pages),
    ] {
        let mut samples = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES + 3 {
            let path = &paths[i % paths.len()];
            let t = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", format!("dm_admin={cookie}"))
                .send()
                .await?;
            anyhow::ensure!(r.status().is_success(), "{path} answered {}", r.status());
            let _ = r.bytes().await?;
            if i >= 3 {
                samples.push(t.elapsed());
            }
        }
        pages.push((name, percentile(&samples, 50.0), percentile(&samples, 95.0)));
    }
    stop.cancel();
    let _ = server.await;
    let _ = queue.destroy().await;
    Ok((seed_seconds, pages))
}
