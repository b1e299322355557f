//! `devmentor doctor` against a healthy set-up and a broken one (each broken part named).

mod common;

use common::{bin, free_port, Env};
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::telegram::fake::FakeTelegram;
use std::process::Command;

fn doctor(vars: &[(String, String)], extra: &[(&str, &str)]) -> (bool, serde_json::Value) {
    let mut c = Command::new(bin());
    c.args(["doctor", "--json"]);
    for (k, v) in vars {
        c.env(k, v);
    }
    for (k, v) in extra {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), v)
}

fn state<'a>(v: &'a serde_json::Value, check: &str) -> &'a str {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .and_then(|c| c["state"].as_str())
        .unwrap_or_else(|| panic!("no {check} line: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_healthy_set_up_and_names_each_broken_part() {
    let telegram = FakeTelegram::start().await.unwrap();
    let ai = FakeOpenAi::start(FakeMode::Normal).await.unwrap();
    let env = Env::new("doctor", &[]);
    let healthy: [(&str, String); 4] = [
        ("BOT_TOKEN", "123:TOKEN".into()),
        ("TELEGRAM_API_URL", telegram.url()),
        ("AI_API_KEY", "key".into()),
        ("AI_BASE_URL", ai.base_url()),
    ];
    let healthy: Vec<(&str, &str)> = healthy.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ok, v) = doctor(&env.vars, &healthy);
    assert!(ok, "{v}");
    for check in [
        "postgresql",
        "migrations",
        "redis",
        "docker",
        "images",
        "telegram",
        "ai",
    ] {
        assert_eq!(state(&v, check), "ok", "{check}: {v}");
    }

    // Everything broken at once: each part says so, with a fix.
    let closed = free_port();
    let dead = format!("127.0.0.1:{closed}");
    let bad_ai = FakeOpenAi::start(FakeMode::Unauthorized).await.unwrap();
    let broken: [(&str, String); 8] = [
        (
            "DATABASE_URL",
            format!("postgres://devmentor:devmentor@{dead}/devmentor"),
        ),
        ("REDIS_URL", format!("redis://{dead}")),
        ("DOCKER_HOST", format!("tcp://{dead}")),
        ("BOT_TOKEN", "123:TOKEN".into()),
        ("TELEGRAM_API_URL", format!("http://{dead}")),
        ("AI_API_KEY", "wrong".into()),
        ("AI_BASE_URL", bad_ai.base_url()),
        ("DEVMENTOR_ENV", "production".into()),
    ];
    let broken: Vec<(&str, &str)> = broken.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (ok, v) = doctor(&env.vars, &broken);
    assert!(!ok, "{v}");
    for check in ["configuration", "postgresql", "redis", "docker", "telegram", "ai"] {
        assert_eq!(state(&v, check), "fail", "{check}: {v}");
    }
    assert_eq!(state(&v, "migrations"), "skip");
    for c in v["checks"].as_array().unwrap() {
        if c["state"] == "fail" {
            assert!(!c["fix"].as_str().unwrap().is_empty(), "a fix for {c}");
        }
    }
    let text = v.to_string();
    assert!(text.contains("SECRET_KEY") && text.contains("401"), "{text}");

    // A database behind this build is named with the command that fixes it.
    env.psql("DELETE FROM refinery_schema_history WHERE version = (SELECT max(version) FROM refinery_schema_history)");
    let (ok, v) = doctor(&env.vars, &healthy);
    assert!(!ok);
    assert_eq!(state(&v, "migrations"), "fail");
    assert!(v.to_string().contains("devmentor migrate"));
}
