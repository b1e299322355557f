//! Shared by the service tests: a fresh database and Redis prefix per test, and the real
//! `devmentor` binary run against them. The services, the databases, the prefixes and the ports
//! come from the harness both test crates share (tests/common/harness.rs).
#![allow(dead_code)]

/// The host's address on Docker's default bridge: one file for both test crates (see there).
#[path = "../../../tests/common/bridge.rs"]
pub mod bridge;

/// Where the services are, a database and a Redis prefix per test: one file for both test
/// crates (see there).
#[path = "../../../tests/common/harness.rs"]
pub mod harness;

/// A bot under test against the fake Bot API, and the waits bot tests share.
pub mod bot;

/// The fix-rate figures as a test reads them (issue 18).
pub mod figures;

pub use harness::free_port;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_devmentor")
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A fresh database, migrated by the real command, and a Redis prefix of its own.
pub struct Env {
    pub db: String,
    pub vars: Vec<(String, String)>,
    pub port: u16,
    /// Service processes started by [`Env::spawn`]: stopped when the `Env` drops, so a test that
    /// fails before it stops its service leaves no process (and no containers) behind.
    spawned: std::sync::Mutex<Vec<u32>>,
}

impl Env {
    pub fn new(tag: &str, extra: &[(&str, &str)]) -> Env {
        let db = format!("dm_rt_{tag}_{}", std::process::id());
        let url = harness::create_database(&db);
        let port = free_port();
        let mut vars: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), url),
            ("REDIS_PREFIX".into(), harness::redis_prefix(tag)),
            ("HTTP_ADDR".into(), format!("127.0.0.1:{port}")),
            ("AI_API_KEY".into(), String::new()),
            ("SANDBOX_WARM_POOL_SIZE".into(), "1".into()),
            ("RUST_LOG".into(), "devmentor=info,devmentor_actors=info".into()),
        ];
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let env = Env {
            db,
            vars,
            port,
            spawned: Default::default(),
        };
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
        let child = self
            .command(&["run", "--roles", roles])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.spawned.lock().unwrap().push(child.id());
        child
    }

    pub fn log(&self, name: &str) -> String {
        std::fs::read_to_string(std::env::temp_dir().join(format!("{}-{name}.log", self.db))).unwrap_or_default()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn psql(&self, sql: &str) -> String {
        let out = harness::psql(&harness::url_for(&self.db), sql);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Whether process `pid` still runs (a zombie, exited but not yet waited for, does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
        })
        .unwrap_or(false)
}

impl Drop for Env {
    fn drop(&mut self) {
        // Services the test did not stop (it failed first): SIGTERM (a graceful stop removes
        // their containers), then SIGKILL after 20 s.
        for pid in self.spawned.lock().map(|v| v.clone()).unwrap_or_default() {
            if !running(pid) {
                continue;
            }
            let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
            let until = Instant::now() + Duration::from_secs(20);
            while running(pid) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(100));
            }
            if running(pid) {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        // Warm containers of any service process this test killed (their owner is gone).
        let _ = self.command(&["sandbox", "reap"]).output();
        harness::drop_database(&self.db);
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

/// The Prometheus text a server at `base` serves on `/metrics`.
pub async fn metrics(http: &reqwest::Client, base: &str) -> String {
    http.get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
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

/// A headless Chromium driven through chromedriver's WebDriver protocol.
pub struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    process: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Ending the WebDriver session closes Chromium; chromedriver's own children are ended
        // too, so no browser outlives the test.
        let _ = Command::new("curl")
            .args([
                "-s",
                "-m",
                "5",
                "-X",
                "DELETE",
                &format!("{}/session/{}", self.base, self.session),
            ])
            .output();
        let _ = Command::new("pkill")
            .args(["-P", &self.process.id().to_string()])
            .status();
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    pub async fn start() -> Driver {
        let port = free_port();
        let process = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed by `make test` (apt-get install chromium-driver)");
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let until = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{base}/status")).send().await.is_err() {
            assert!(Instant::now() < until, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"]}}}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Driver {
            http,
            base,
            session,
            process,
        }
    }

    pub async fn cmd(&self, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}/{path}", self.base, self.session);
        let r: Value = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["value"].clone()
    }

    pub async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .cmd("element", json!({"using": "css selector", "value": css}))
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .map(String::from)
    }

    pub async fn eval(&self, script: &str) -> Value {
        self.cmd("execute/sync", json!({"script": script, "args": []})).await
    }

    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.eval(script).await;
            // A WebDriver error (an open dialog, a page still loading) is an object with an
            // `error`: not an answer, keep waiting.
            let failed = v.get("error").is_some() && v.get("message").is_some();
            if !v.is_null() && v != json!(false) && !failed {
                return v;
            }
            if Instant::now() > until {
                let chat = self.eval("return document.getElementById('chat').innerText").await;
                panic!("{what}: not seen in the page; the chat shows:\n{chat}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.cmd(&format!("element/{el}/click"), json!({})).await;
    }

    /// Types into the element `css` (after clearing it).
    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.cmd(&format!("element/{el}/clear"), json!({})).await;
        self.cmd(&format!("element/{el}/value"), json!({"text": text})).await;
    }

    /// Waits for a `window.confirm`/`alert` dialog, accepts it and returns its text.
    pub async fn accept_alert(&self) -> String {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/alert/text", self.base, self.session);
            let v: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
            if let Some(text) = v["value"].as_str() {
                self.cmd("alert/accept", json!({})).await;
                return text.to_string();
            }
            assert!(Instant::now() < until, "no dialog opened: {v}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn open(&self, url: &str) {
        self.cmd("url", json!({"url": url})).await;
    }

    /// Saves a PNG of the page under target/test-artifacts/ (kept as a test artifact).
    pub async fn screenshot(&self, name: &str) {
        use base64::Engine;
        let url = format!("{}/session/{}/screenshot", self.base, self.session);
        let v: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(v["value"].as_str().unwrap_or(""))
            .unwrap_or_default();
        let dir = workspace().join("target/test-artifacts");
        let _ = std::fs::create_dir_all(&dir);
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Types `text` into the playground's message box as a person would: each line break as
    /// Shift+Enter (Enter alone sends, as in Telegram Desktop).
    pub async fn type_text(&self, text: &str) {
        let el = self.find("#text").await.expect("the message box");
        let keys = text.replace('\n', "\u{E008}\u{E007}\u{E000}");
        self.cmd(&format!("element/{el}/value"), json!({"text": keys})).await;
    }

    /// Presses `key` (a WebDriver key code such as `\u{E007}`, Enter) in the message box.
    pub async fn press_in_box(&self, key: &str) {
        let el = self.find("#text").await.expect("the message box");
        self.cmd(&format!("element/{el}/value"), json!({"text": key})).await;
    }

    pub async fn type_and_send(&self, text: &str) {
        self.type_text(text).await;
        self.click("#send").await;
    }
}

/// A browser without JavaScript: keeps cookies, follows nothing by itself.
pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        Browser::with_client(reqwest::Client::builder(), base)
    }

    /// From a client builder of the caller's (e.g. one trusting a test certificate authority);
    /// redirects are never followed.
    pub fn with_client(builder: reqwest::ClientBuilder, base: &str) -> Browser {
        Browser {
            http: builder.redirect(reqwest::redirect::Policy::none()).build().unwrap(),
            base: base.to_string(),
            cookies: HashMap::new(),
        }
    }

    pub async fn send(&mut self, r: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let r = r.header("cookie", cookie).send().await.unwrap();
        for c in r.headers().get_all("set-cookie") {
            let c = c.to_str().unwrap();
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let r = self.http.get(format!("{}{path}", self.base));
        self.send(r).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let r = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(r).await
    }

    /// POSTs a body the caller built (e.g. `multipart/form-data`).
    pub async fn post_body(&mut self, path: &str, content_type: &str, body: Vec<u8>) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.send(r).await
    }

    pub async fn login(&mut self, user: &str, password: &str) -> Page {
        let page = self.get("/admin/login").await;
        let csrf = csrf_of(&page.body);
        self.post(
            "/admin/login",
            &[("csrf_token", &csrf), ("username", user), ("password", password)],
        )
        .await
    }
}

pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf_token\" value=\"").expect("a csrf_token field") + 25;
    html[i..i + 64].to_string()
}
