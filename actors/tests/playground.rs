//! The playground in a real browser: `devmentor run` with no `BOT_TOKEN` serves `/playground`,
//! and headless Chromium (through chromedriver's WebDriver protocol) chats with the bot there:
//! /start, a language button, code, the rendered result card.

mod common;

use common::{free_port, wait_ready, Env};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Driver {
    http: reqwest::Client,
    base: String,
    session: String,
    process: Child,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Driver {
    async fn start() -> Driver {
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

    async fn cmd(&self, path: &str, body: Value) -> Value {
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

    async fn find(&self, css: &str) -> Option<String> {
        let v = self
            .cmd("element", json!({"using": "css selector", "value": css}))
            .await;
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(|id| id.as_str())
            .map(String::from)
    }

    async fn eval(&self, script: &str) -> Value {
        self.cmd("execute/sync", json!({"script": script, "args": []})).await
    }

    async fn wait_for(&self, what: &str, script: &str) -> Value {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let v = self.eval(script).await;
            if !v.is_null() && v != json!(false) {
                return v;
            }
            if Instant::now() > until {
                let chat = self.eval("return document.getElementById('chat').innerText").await;
                panic!("{what}: not seen in the page; the chat shows:\n{chat}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn click(&self, css: &str) {
        let el = self.find(css).await.unwrap_or_else(|| panic!("no element {css}"));
        self.cmd(&format!("element/{el}/click"), json!({})).await;
    }

    async fn type_and_send(&self, text: &str) {
        let el = self.find("#text").await.expect("the message box");
        self.cmd(&format!("element/{el}/value"), json!({"text": text})).await;
        self.click("#send").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_playground_chats_with_the_bot_in_a_browser() {
    let env = Env::new("playground", &[("BOT_TOKEN", "")]);
    let mut service = env.spawn("bot,worker,admin", "p0");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let page = http.get(format!("{}/playground", env.base())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors"));

    let d = Driver::start().await;
    d.cmd("url", json!({"url": format!("{}/playground", env.base())})).await;
    d.type_and_send("/start").await;
    d.wait_for(
        "the welcome",
        "return document.querySelector('.bot') !== null && document.getElementById('kb').children.length > 0",
    )
    .await;
    d.type_and_send("/language").await;
    d.wait_for(
        "language buttons",
        "return document.querySelector('button[data-callback=\"l:python\"]') !== null",
    )
    .await;
    d.click("button[data-callback=\"l:python\"]").await;
    d.wait_for(
        "the language is set",
        "return document.getElementById('chat').innerText.includes('Python 3 ✅')",
    )
    .await;
    d.type_and_send("print('<b>not bold</b>', 6 * 7)").await;
    let card = d
        .wait_for(
            "the result card",
            "var p = document.querySelectorAll('.bot pre'); return p.length ? p[p.length - 1].innerText : null",
        )
        .await;
    assert!(
        card.as_str().unwrap().contains("<b>not bold</b> 42"),
        "output shown as text: {card}"
    );
    let bold_inside_pre = d.eval("return document.querySelectorAll('.bot pre b').length").await;
    assert_eq!(bold_inside_pre, json!(0), "the program's output is never markup");
    d.wait_for(
        "the card's buttons",
        "return document.querySelector('button[data-callback^=\"r:\"]') !== null",
    )
    .await;
    drop(d);
    common::stop(&mut service);
}
