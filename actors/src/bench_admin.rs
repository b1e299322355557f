//! `devmentor bench admin [--checks N] [--users N] [--json]`: admin page latency on big tables.
//!
//! Creates a throw-away database next to the configured one, seeds it (1,000,000 checks and
//! 50,000 users by default), serves the admin panel from this process and times real HTTP
//! requests with a logged-in session: the dashboard, the checks list with a filter, a user's page,
//! and the mentoring's figures — the registry list sorted by fix rate, an entry's page with its
//! variants, the analytics page and `GET /api/v1/stats/explanations` — over the lineage of the
//! seeded checks (every failed check explained and linked: `attempt_links` and its counters).
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
         ALTER TABLE checks DISABLE TRIGGER checks_duration_count;
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
         ALTER TABLE checks ENABLE TRIGGER checks_duration_count;
         INSERT INTO check_durations_daily (day, bucket, n)
         SELECT (created_at AT TIME ZONE 'UTC')::date, devmentor_duration_bucket((result->>'duration_ms')::float8), count(*)
           FROM checks GROUP BY 1, 2;
         INSERT INTO checks_daily (day, verdict, language, n)
         SELECT (created_at AT TIME ZONE 'UTC')::date, verdict, language, count(*) FROM checks GROUP BY 1, 2, 3;
         ALTER TABLE user_days DISABLE TRIGGER user_days_count;
         INSERT INTO user_days (day, user_id)
         SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date, user_id FROM checks WHERE user_id IS NOT NULL;
         ALTER TABLE user_days ENABLE TRIGGER user_days_count;
         INSERT INTO active_daily (day, n) SELECT day, count(*) FROM user_days GROUP BY 1;
         ANALYZE;"
    ))
    .await?;
    seed_lineage(&c).await?;
    let seed_seconds = seeded.elapsed().as_secs_f64();
    let (_, api_token) = devmentor::store::tokens::create(&c, "bench", 1_000_000).await?;
    let entry_page = format!(
        "/admin/registry/{}",
        c.query_one(
            "SELECT slug FROM registry_entries WHERE variant_texts IS NOT NULL LIMIT 1",
            &[]
        )
        .await?
        .get::<_, String>(0)
    );
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
    let admin_state = Arc::new(devmentor::admin::AdminState::new(
        store.clone(),
        vec!["127.0.0.1".into()],
        None,
    ));
    // Signed as a login signs it: an unsigned cookie is a redirect to the login page, and
    // timing that page would say nothing about the pages under test.
    let cookie = admin_state.session_cookie(&cookie);
    let state = Arc::new(ServerState {
        admin: Some(admin_state),
        ..ServerState::api_only(api, None)
    });
    let stop = tokio_util::sync::CancellationToken::new();
    let s = stop.clone();
    let (addr, server) = serve("127.0.0.1:0".parse()?, state, async move { s.cancelled().await }).await?;
    // Redirects are not followed: each timed request must be the page itself (checked: 200).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
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
        (
            "registry_by_fix_rate",
            vec!["/admin/registry?sort=fix_rate".to_string()],
        ),
        ("registry_entry", vec![entry_page.clone()]),
        ("analytics", vec!["/admin/analytics".to_string()]),
        ("api_explanation_stats", vec!["/api/v1/stats/explanations".to_string()]),
    ] {
        let mut samples = Vec::with_capacity(SAMPLES);
        for i in 0..SAMPLES + 3 {
            let path = &paths[i % paths.len()];
            let t = Instant::now();
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", format!("dm_admin={cookie}"))
                .header("authorization", format!("Bearer {api_token}"))
                .send()
                .await?;
            anyhow::ensure!(r.status() == reqwest::StatusCode::OK, "{path} answered {}", r.status());
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

/// The registry (the shipped catalogue, a variant on every tenth entry) and the lineage of
/// the seeded checks: each failed check explained (by an entry for the even ones, else by the
/// AI, the cache or nothing), two in three fixed by the next try, the last half hour's still
/// pending; then the counters, rebuilt from the rows as `devmentor efficacy rebuild` does.
async fn seed_lineage(c: &devmentor::store::Client) -> anyhow::Result<()> {
    let entries = devmentor::registry::catalogue::builtin()?;
    for e in &entries {
        c.execute(
            "INSERT INTO registry_entries (slug, language, error_type, pattern, sample_error, priority)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (slug) DO NOTHING",
            &[
                &e.slug,
                &e.language,
                &e.error_type,
                &e.pattern,
                &e.sample_error,
                &e.priority,
            ],
        )
        .await?;
    }
    c.batch_execute(
        "INSERT INTO registry_texts (entry_id, locale, title, what)
         SELECT id, l, slug || ' title', 'what' FROM registry_entries, unnest(ARRAY['ru', 'en']) l;
         UPDATE registry_entries SET variant_texts = '{\"ru\": {\"what\": \"B\"}, \"en\": {\"what\": \"B\"}}',
                variant_round = 1 WHERE id % 10 = 0;
         CREATE TEMP TABLE bench_entries AS
             SELECT row_number() OVER (ORDER BY id) - 1 AS i, id, slug, variant_texts IS NOT NULL AS split
               FROM registry_entries;
         ALTER TABLE attempt_links DISABLE TRIGGER attempt_links_count;
         INSERT INTO attempt_links (kind, attempt_id, student, language, source, entry_id, entry_slug, variant,
                                    fingerprint, created_at, window_ends, chain_n, chain_started, next_kind, next_id,
                                    link, fixed, attempts_to_fix, seconds_to_fix, seconds_bucket, up, down)
         SELECT 'check', c.id, 'u:' || c.user_id, c.language,
                CASE WHEN c.id % 2 = 0 THEN 'registry' ELSE (ARRAY['ai', 'cache', 'none'])[1 + c.id % 3] END,
                CASE WHEN c.id % 2 = 0 THEN e.id END, CASE WHEN c.id % 2 = 0 THEN e.slug END,
                CASE WHEN c.id % 2 = 0 AND e.split THEN '1' || (ARRAY['a', 'b'])[1 + c.id % 4 / 2] END,
                md5((c.id % 5000)::text), c.created_at, c.created_at + interval '30 minutes', 1 + c.id % 2, c.created_at,
                CASE WHEN c.created_at < now() - interval '30 minutes' THEN 'check' END,
                CASE WHEN c.created_at < now() - interval '30 minutes' THEN c.id + 1 END,
                CASE WHEN c.created_at < now() - interval '30 minutes' THEN 'similar' END,
                CASE WHEN c.created_at < now() - interval '30 minutes' THEN c.id % 3 <> 0 END,
                CASE WHEN c.id % 3 <> 0 THEN 1 + c.id % 2 END,
                CASE WHEN c.id % 3 <> 0 THEN 20 + c.id % 600 END,
                CASE WHEN c.id % 3 <> 0 THEN
                    (SELECT count(*) - 1 FROM unnest(ARRAY[0,5,10,15,20,30,45,60,90,120,180,300,450,600,900]) b
                      WHERE b <= 20 + c.id % 600)::int END,
                (c.id % 17 = 0)::int, (c.id % 19 = 0)::int
           FROM checks c JOIN bench_entries e ON e.i = c.id % (SELECT count(*) FROM bench_entries)
          WHERE c.verdict <> 'ok';
         ALTER TABLE attempt_links ENABLE TRIGGER attempt_links_count;
         SELECT devmentor_efficacy_recount();
         ANALYZE;",
    )
    .await?;
    Ok(())
}
