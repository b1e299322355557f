//! The playground in a real browser: `devmentor run` with no `BOT_TOKEN` serves `/playground`,
//! and headless Chromium (through chromedriver's WebDriver protocol) chats with the bot there:
//! /start, a language button, code, the rendered result card.

mod common;

use common::{wait_ready, Driver, Env};
use serde_json::json;

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
