//! `devmentor bench bot --users N --messages M [--rate R] [--json]`: the bot role's own cost.
//!
//! The real bot role (ingress, sessions, delivery) runs in this process against the fake
//! Telegram Bot API on loopback and the real PostgreSQL and Redis. The sandbox is excluded: a
//! **no-sandbox runner** consumes the job stream and finishes every check at once with a fixed "ok"
//! result, so what is measured is the bot, not Docker. Messages go out at `--rate` per second,
//! round-robin over `--users` users; the latency of a message is from the moment the fake makes
//! the update available to the moment the bot's "⏳" reply (or any reply to it) arrives there.
//! Telegram's own sending limits are lifted here (the fake has none); in production they bound
//! throughput, not this latency.

use crate::bench::{percentile, round, rss_kib};
use crate::bot::session::Session;
use crate::bot::start_ctx;
use crate::supervisor::RestartPolicy;
use devmentor::check::InputLimits;
use devmentor::metrics::Metrics;
use devmentor::queue::Queue;
use devmentor::sandbox::Languages;
use devmentor::store::{checks, Store};
use devmentor::telegram::fake::{FakeTelegram, TgUser};
use devmentor::Config;
use ractor::Actor;
use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

const IDLE_SESSIONS: usize = 10_000;

pub async fn run(config: &Config, users: usize, messages: usize, rate: u32, json: bool) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(users >= 1, "--users must be at least 1");
    anyhow::ensure!(messages >= 1, "--messages must be at least 1");
    anyhow::ensure!(
        (1..=5000).contains(&rate),
        "--rate must be between 1 and 5000 messages per second"
    );
    let pid = std::process::id() as i64;
    let base = 8_000_000_000 + (pid % 1000) * 1_000_000;
    let fake = FakeTelegram::start().await?;
    let store = Store::connect(config.database_url.expose(), Duration::from_secs(10)).await?;
    devmentor::store::ensure_migrated(&store).await?;
    let queue = Queue::connect(config.redis_url.expose(), &format!("bench:bot:{pid}:")).await?;
    {
        let c = store.client().await?;
        let ids: Vec<String> = (0..users as i64).map(|i| (base + i).to_string()).collect();
        c.execute(
            "INSERT INTO whitelist (subject, added_by) SELECT unnest($1::text[]), 'bench' ON CONFLICT DO NOTHING",
            &[&ids],
        )
        .await?;
    }
    let mut cfg = config.clone();
    cfg.bot.messages_per_second = 1_000_000;
    cfg.bot.messages_per_minute_per_chat = 1_000_000;
    let metrics = Arc::new(Metrics::default());
    let languages = Arc::new(Languages::from_config(&cfg.sandbox)?);
    let stop = CancellationToken::new();
    let ctx = start_ctx(
        &cfg,
        &store,
        &queue,
        &languages,
        InputLimits::from(&cfg.sandbox),
        &metrics,
        stop.clone(),
        Some(fake.url()),
        false,
        None,
        Default::default(),
    )
    .await?;
    let role = crate::bot::spawn(ctx.clone(), RestartPolicy::from_config(&cfg.runtime), None).await?;
    let runner = tokio::spawn(instant_runner(store.clone(), queue.clone(), stop.clone()));
    while fake.calls("setMyCommands").len() < 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let rss_before = rss_kib();
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let code = "```python\nprint('bench')\n```";
    let people: Vec<TgUser> = (0..users as i64).map(|i| TgUser::new(base + i, "Bench")).collect();
    let mut sent: Vec<(i64, i32, Instant)> = Vec::with_capacity(messages);
    for i in 0..messages {
        tokio::time::sleep_until((start + interval * i as u32).into()).await;
        let u = &people[i % users];
        let id = fake.send_text(u, code);
        sent.push((u.id, id, Instant::now()));
    }
    let send_seconds = start.elapsed().as_secs_f64();
    // Wait for every message's reply (a minute at most).
    let deadline = Instant::now() + Duration::from_secs(60);
    let replies = loop {
        let replies = first_replies(&fake);
        if sent.iter().all(|(c, m, _)| replies.contains_key(&(*c, *m))) || Instant::now() > deadline {
            break replies;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let rss_loaded = rss_kib();
    let mut latencies = Vec::new();
    let (mut hourglass, mut other) = (0usize, 0usize);
    for (chat, mid, at) in &sent {
        if let Some((when, text)) = replies.get(&(*chat, *mid)) {
            latencies.push(when.saturating_duration_since(*at));
            if text.starts_with('⏳') {
                hourglass += 1;
            } else {
                other += 1;
            }
        }
    }
    let unanswered = sent.len() - latencies.len();

    // The memory of an idle session actor: spawn many, measure the resident-set growth.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle_before = rss_kib();
    let mut idle = Vec::with_capacity(IDLE_SESSIONS);
    for i in 0..IDLE_SESSIONS as i64 {
        let (a, h) = Actor::spawn(None, Session, (ctx.clone(), base + 500_000 + i)).await?;
        idle.push((a, h));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle_after = rss_kib();
    let per_session = (rss_idle_after.saturating_sub(rss_idle_before) * 1024) as f64 / IDLE_SESSIONS as f64;
    for (a, h) in idle {
        a.stop(None);
        let _ = h.await;
    }

    stop.cancel();
    role.stop_and_wait(None, None).await.ok();
    let _ = runner.await;
    cleanup(&store, &queue, base, users).await;

    let p50 = percentile(&latencies, 50.0);
    let p99 = percentile(&latencies, 99.0);
    let max = latencies.iter().max().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    let result = serde_json::json!({
        "users": users,
        "messages": messages,
        "rate_per_s": rate,
        "send_seconds": round(send_seconds),
        "answered": latencies.len(),
        "answered_hourglass": hourglass,
        "answered_other": other,
        "unanswered": unanswered,
        "ingress_to_hourglass_p50_ms": round(p50),
        "ingress_to_hourglass_p99_ms": round(p99),
        "ingress_to_hourglass_max_ms": round(max),
        "rss_kib_before": rss_before,
        "rss_kib_under_load": rss_loaded,
        "idle_session_bytes": round(per_session),
        "idle_sessions_measured": IDLE_SESSIONS,
        "goal_p99_ms": 50,
        "goal_idle_session_bytes": 16384,
        "runner": "no-sandbox: checks are finished at once by an in-process consumer; no Docker",
        "telegram": "fake Bot API on loopback; Telegram's sending limits lifted",
    });
    if json {
        println!("{result}");
    } else {
        println!("bench bot: {users} users, {messages} messages at {rate}/s (no-sandbox runner, fake Telegram)");
        println!(
            "  answered {} ({} ⏳, {} other), unanswered {unanswered}",
            latencies.len(),
            hourglass,
            other
        );
        println!("  update → ⏳: p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms   (goal p99 < 50 ms)");
        println!("  RSS: {rss_before} KiB before, {rss_loaded} KiB under load");
        println!("  idle session actor: {per_session:.0} bytes ({IDLE_SESSIONS} measured; goal ≤ 16384)");
    }
    Ok(if unanswered == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The first bot message replying to each student message: (chat, message) → (when, text).
fn first_replies(fake: &FakeTelegram) -> HashMap<(i64, i32), (Instant, String)> {
    let mut out = HashMap::new();
    for c in fake.calls("sendMessage") {
        let chat = c.params.get("chat_id").and_then(|v| v.as_i64());
        let to = c
            .params
            .pointer("/reply_parameters/message_id")
            .and_then(|v| v.as_i64());
        if let (Some(chat), Some(to)) = (chat, to) {
            let text = c.params.get("text").and_then(|t| t.as_str()).unwrap_or("").to_string();
            out.entry((chat, to as i32)).or_insert((c.at, text));
        }
    }
    out
}

/// Finishes every check at once with a fixed result: the sandbox is not what this measures.
async fn instant_runner(store: Store, queue: Queue, stop: CancellationToken) {
    let Ok(consumer) = queue.for_consumer().await else {
        return;
    };
    let result = devmentor::check::CheckResult {
        language: "python".into(),
        verdict: devmentor::sandbox::Verdict::Ok,
        exit_code: Some(0),
        signal: None,
        stdout: "bench\n".into(),
        stderr: String::new(),
        truncated: false,
        duration_ms: 0,
        explanation: None,
    };
    while !stop.is_cancelled() {
        let jobs = tokio::select! {
            _ = stop.cancelled() => return,
            r = consumer.claim("no-sandbox-runner", 64, Duration::from_millis(500)) => r.unwrap_or_default(),
        };
        for job in jobs {
            if let Ok(c) = store.client().await {
                let _ = checks::start(&c, job.check_id, "no-sandbox-runner").await;
                let _ = checks::finish(&c, job.check_id, &result).await;
            }
            let _ = queue.publish_done(job.check_id).await;
            let _ = consumer.ack(&job).await;
        }
    }
}

async fn cleanup(store: &Store, queue: &Queue, base: i64, users: usize) {
    let last = base + 1_000_000;
    if let Ok(c) = store.client().await {
        let _ = c
            .execute(
                "DELETE FROM checks WHERE user_id >= $1 AND user_id < $2",
                &[&base, &last],
            )
            .await;
        let _ = c
            .execute("DELETE FROM users WHERE id >= $1 AND id < $2", &[&base, &last])
            .await;
        let ids: Vec<String> = (0..users as i64).map(|i| (base + i).to_string()).collect();
        let _ = c
            .execute("DELETE FROM whitelist WHERE subject = ANY($1)", &[&ids])
            .await;
    }
    let _ = queue.destroy().await;
}
