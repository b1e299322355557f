//! Broadcasts through the panel and the bot role: composed, checked, sent to the fake Telegram
//! under the limits, 403 users marked, and restarts mid-broadcast that send nobody anything twice.

mod common;
mod panel;

use common::{csrf_of, wait_ready, Browser, Env};
use panel::create_admin;

/// Broadcasts end to end: composed and checked in the panel, sent by the bot role's broadcaster
/// to the fake Telegram under the limits, 403 users marked, and a restart mid-broadcast resumes
/// without sending anyone the message twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_reach_their_audience_once() {
    use devmentor::telegram::fake::FakeTelegram;
    use std::time::{Duration, Instant};
    let fake = FakeTelegram::start().await.unwrap();
    let url = fake.url();
    let env = Env::new("broadcast", &[("BOT_TOKEN", "42:TOKEN"), ("TELEGRAM_API_URL", &url)]);
    assert!(create_admin(&env, "caster", "broadcast password", false)
        .status
        .success());
    env.psql(
        "INSERT INTO users (id, first_name, language_code) SELECT g, 'User ' || g, 'ru' FROM generate_series(7001, 7060) g;
         INSERT INTO whitelist (subject) SELECT g::text FROM generate_series(7001, 7010) g;
         UPDATE users SET blocked = TRUE WHERE id = 7060;",
    );
    fake.block_bot(7005);
    let mut service = env.spawn("bot,admin", "svc");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let mut b = Browser::new(&env.base());
    assert_eq!(b.login("caster", "broadcast password").await.status, 303);
    let csrf = csrf_of(&b.get("/admin/broadcasts/new").await.body);

    // Bad broadcasts are refused with the reason, nothing saved.
    let long = "x".repeat(5000);
    for (text, why) in [
        ("", "пуст"),
        (long.as_str(), "4096"),
        ("<script>x</script>", "not allowed"),
    ] {
        let p = b
            .post(
                "/admin/broadcasts/new",
                &[("csrf_token", &csrf), ("text", text), ("audience", "all")],
            )
            .await;
        assert_eq!(p.status, 422, "{why}");
        assert!(p.body.contains(why), "{why}: {}", p.body);
    }
    assert_eq!(env.psql("SELECT count(*) FROM broadcasts"), "0");

    // A draft for the whitelisted users: preview, send to myself, then start.
    let p = b
        .post(
            "/admin/broadcasts/new",
            &[
                ("csrf_token", &csrf),
                ("text", "<b>Hello</b>, whitelisted!"),
                ("audience", "whitelisted"),
            ],
        )
        .await;
    assert_eq!(p.status, 303);
    let first = p.location.clone();
    let page = b.get(&first).await;
    assert!(page
        .body
        .contains("<div class=\"tg-preview\"><b>Hello</b>, whitelisted!</div>"));
    let p = b
        .post(
            &format!("{first}/test"),
            &[("csrf_token", &csrf), ("telegram_id", "9999")],
        )
        .await;
    assert_eq!(p.status, 200);
    fake.wait_for(9999, Duration::from_secs(30), |chat| {
        chat.iter().find(|m| m.text.contains("Hello")).cloned()
    })
    .await
    .expect("the test message reached the admin");
    assert_eq!(
        b.post(&format!("{first}/start"), &[("csrf_token", &csrf)]).await.status,
        303
    );
    let until = Instant::now() + Duration::from_secs(60);
    while env.psql(&format!("SELECT status FROM broadcasts WHERE id = {}", &first[18..])) != "done" {
        assert!(Instant::now() < until, "not done: {}", env.log("svc"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let got = |text: &str, id: i64| {
        fake.chat(id)
            .iter()
            .filter(|m| m.from_bot && m.text.contains(text))
            .count()
    };
    for id in 7001..=7010 {
        assert_eq!(got("whitelisted!", id), if id == 7005 { 0 } else { 1 }, "user {id}");
    }
    assert_eq!(got("whitelisted!", 7011), 0, "not in the audience");
    assert_eq!(env.psql("SELECT bot_blocked FROM users WHERE id = 7005"), "t");
    let page = b.get(&first).await;
    assert!(page.body.contains("done"));

    // A broadcast to everyone, interrupted by a restart: it resumes, and nobody gets it twice.
    let p = b
        .post(
            "/admin/broadcasts/new",
            &[
                ("csrf_token", &csrf),
                ("text", "Second <i>news</i>"),
                ("audience", "all"),
            ],
        )
        .await;
    let second = p.location.clone();
    let id = &second[18..];
    assert_eq!(
        b.post(&format!("{second}/start"), &[("csrf_token", &csrf)])
            .await
            .status,
        303
    );
    while env.psql(&format!(
        "SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = {id} AND status = 'sent'"
    )) == "0"
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    service.kill().unwrap();
    service.wait().unwrap();
    let sent_before: i64 = env
        .psql(&format!(
            "SELECT count(*) FROM broadcast_deliveries WHERE broadcast_id = {id} AND status = 'sent'"
        ))
        .parse()
        .unwrap();
    assert!(
        sent_before < 58,
        "the restart happened mid-broadcast ({sent_before} sent)"
    );
    let mut service = env.spawn("bot,admin", "svc2");
    let until = Instant::now() + Duration::from_secs(60);
    while env.psql(&format!("SELECT status FROM broadcasts WHERE id = {id}")) != "done" {
        assert!(Instant::now() < until, "not resumed: {}", env.log("svc2"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for uid in 7001..=7059 {
        assert!(got("Second", uid) <= 1, "user {uid} got it twice");
    }
    assert_eq!(got("Second", 7060), 0, "blocked users are skipped");
    let delivered: i64 = (7001..=7059).map(|u| got("Second", u) as i64).sum();
    assert!(
        delivered >= 57,
        "everyone but the 403 user (and at most one interrupted send) got it: {delivered}"
    );
    // Under the limit: no second holds more than 25 broadcast messages.
    let times: Vec<Instant> = fake
        .calls("sendMessage")
        .iter()
        .filter(|c| c.params["text"].as_str().is_some_and(|t| t.contains("Second")))
        .map(|c| c.at)
        .collect();
    for (i, t) in times.iter().enumerate() {
        let in_window = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        assert!(in_window <= 26, "{in_window} messages within one second");
    }
    common::stop(&mut service);
}

/// The acceptance run: 2,000 recipients through the fake Telegram with injected 429s and 403s,
/// the process killed mid-way and started again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_to_2000_users_survives_429s_403s_and_a_restart() {
    use devmentor::telegram::fake::FakeTelegram;
    use std::time::{Duration, Instant};
    let fake = FakeTelegram::start().await.unwrap();
    let url = fake.url();
    let env = Env::new("bc2000", &[("BOT_TOKEN", "42:TOKEN"), ("TELEGRAM_API_URL", &url)]);
    env.psql(
        "INSERT INTO users (id, first_name) SELECT g, 'U' || g FROM generate_series(100001, 102000) g;
         INSERT INTO broadcasts (text, audience, created_by) VALUES ('<b>Big</b> news', 'all', 'test');",
    );
    let blocked: Vec<i64> = (100001..=102000).step_by(100).collect();
    for id in &blocked {
        fake.block_bot(*id);
    }
    for _ in 0..3 {
        fake.fail_with_retry_after("sendMessage", 1);
    }
    let mut svc = env.spawn("bot,admin", "big1");
    common::wait_ready(&reqwest::Client::new(), &env.base()).await;
    // Started as the panel's "start" does it.
    let mut c = devmentor::store::Store::connect(&env.vars[0].1, Duration::from_secs(5))
        .await
        .unwrap()
        .client()
        .await
        .unwrap();
    assert!(devmentor::store::broadcasts::start(&mut c, 1).await.unwrap());
    let sent = || {
        env.psql("SELECT count(*) FROM broadcast_deliveries WHERE status <> 'pending'")
            .parse::<i64>()
            .unwrap()
    };
    let until = Instant::now() + Duration::from_secs(120);
    while sent() < 400 {
        assert!(Instant::now() < until, "too slow: {}", env.log("big1"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    svc.kill().unwrap();
    svc.wait().unwrap();
    let mut svc = env.spawn("bot,admin", "big2");
    let until = Instant::now() + Duration::from_secs(240);
    while env.psql("SELECT status FROM broadcasts WHERE id = 1") != "done" {
        assert!(Instant::now() < until, "not finished: {}", env.log("big2"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let mut got = std::collections::HashMap::new();
    let mut times = Vec::new();
    for call in fake.calls("sendMessage") {
        if call.status == 200 && call.params["text"].as_str() == Some("<b>Big</b> news") {
            *got.entry(call.params["chat_id"].as_i64().unwrap()).or_insert(0) += 1;
            times.push(call.at);
        }
    }
    assert!(got.values().all(|n| *n == 1), "nobody gets it twice");
    let missing: Vec<i64> = (100001..=102000)
        .filter(|id| !blocked.contains(id) && !got.contains_key(id))
        .collect();
    let unknown: i64 = env
        .psql("SELECT count(*) FROM broadcast_deliveries WHERE status = 'unknown'")
        .parse()
        .unwrap();
    assert!(
        missing.len() as i64 <= unknown && unknown <= 1,
        "missing {missing:?}, in doubt {unknown}"
    );
    assert_eq!(
        env.psql("SELECT count(*) FROM users WHERE bot_blocked"),
        blocked.len().to_string(),
        "403 users are marked"
    );
    assert_eq!(
        env.psql("SELECT count(*) FROM broadcast_deliveries WHERE status = 'blocked'"),
        blocked.len().to_string()
    );
    times.sort();
    for (i, t) in times.iter().enumerate() {
        let n = times[i..]
            .iter()
            .take_while(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        assert!(n <= 26, "{n} messages within one second");
    }
    assert_eq!(
        fake.calls("sendMessage").iter().filter(|c| c.status == 429).count(),
        3,
        "429s were injected and waited out"
    );
    common::stop(&mut svc);
}
