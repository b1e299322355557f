//! Shared by the service tests: a fresh database and Redis prefix per test, and the real
//! `devmentor` binary run against them.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ADMIN_DB: &str = "postgres://devmentor:devmentor@127.0.0.1:5432/devmentor";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_devmentor")
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A fresh database, migrated by the real command, and a Redis prefix of its own.
pub struct Env {
    pub db: String,
    pub vars: Vec<(String, String)>,
    pub port: u16,
}

impl Env {
    pub fn new(tag: &str, extra: &[(&str, &str)]) -> Env {
        let db = format!("dm_rt_{tag}_{}", std::process::id());
        let psql = |sql: &str| {
            Command::new("psql")
                .args([ADMIN_DB, "-qtAc", sql])
                .output()
                .expect("psql")
        };
        psql(&format!("DROP DATABASE IF EXISTS {db}"));
        assert!(psql(&format!("CREATE DATABASE {db}")).status.success());
        let port = free_port();
        let mut vars: Vec<(String, String)> = vec![
            (
                "DATABASE_URL".into(),
                format!("postgres://devmentor:devmentor@127.0.0.1:5432/{db}"),
            ),
            ("REDIS_PREFIX".into(), format!("test:{tag}:{}:", std::process::id())),
            ("HTTP_ADDR".into(), format!("127.0.0.1:{port}")),
            ("AI_API_KEY".into(), String::new()),
            ("SANDBOX_WARM_POOL_SIZE".into(), "1".into()),
            ("RUST_LOG".into(), "devmentor=info,devmentor_actors=info".into()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let env = Env { db, vars, port };
        let out = env.command(&["migrate"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        env
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        c.args(args).current_dir(workspace());
        for (k, v) in &self.vars {
            c.env(k, v);
        }
        c
    }

    pub fn token(&self) -> String {
        let out = self
            .command(&["token", "create", "tests", "--rate", "1000"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap()
            .trim()
            .to_string()
    }

    pub fn spawn(&self, roles: &str, log: &str) -> Child {
        let log = std::fs::File::create(std::env::temp_dir().join(format!("{}-{log}.log", self.db))).unwrap();
        self.command(&["run", "--roles", roles])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(std::env::temp_dir().join(format!("{}-{name}.log", self.db))).unwrap_or_default()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn psql(&self, sql: &str) -> String {
        let url = format!("postgres://devmentor:devmentor@127.0.0.1:5432/{}", self.db);
        let out = Command::new("psql")
            .args([url.as_str(), "-qtAc", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        // Warm containers of any service process this test killed (their owner is gone).
        let _ = self.command(&["sandbox", "reap"]).output();
        let _ = Command::new("psql")
            .args([
                ADMIN_DB,
                "-qtAc",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
            ])
            .output();
    }
}

pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the service did not come up at {base}");
}

/// SIGTERM, then the exit status (a graceful stop removes the process's warm containers).
pub fn sigterm(child: &mut Child) -> std::process::ExitStatus {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < until, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Stops a service process for good, from a `Drop` (never panics): SIGTERM, up to 20 s for a
/// graceful exit, then SIGKILL.
pub fn stop(child: &mut Child) {
    if child.try_wait().ok().flatten().is_some() {
        return;
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub async fn submit(http: &reqwest::Client, base: &str, token: &str, code: &str) -> i64 {
    let r = http
        .post(format!("{base}/api/v1/checks"))
        .bearer_auth(token)
        .json(&serde_json::json!({"language": "python", "code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "{:?}", r.text().await);
    r.json::<serde_json::Value>().await.unwrap()["id"].as_i64().unwrap()
}

pub async fn wait_done(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    id: i64,
    within: Duration,
) -> serde_json::Value {
    let until = Instant::now() + within;
    loop {
        let v: serde_json::Value = http
            .get(format!("{base}/api/v1/checks/{id}?wait=5"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if v["status"] == "done" || Instant::now() > until {
            return v;
        }
    }
}

/// Entries on the results stream ("done" events) of this test's Redis prefix.
pub fn results_len(env: &Env) -> String {
    let prefix = env.vars.iter().find(|(k, _)| k == "REDIS_PREFIX").unwrap().1.clone();
    let out = Command::new("redis-cli")
        .args(["XLEN", &format!("{prefix}results")])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
