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

/// A task solved in the playground: the list, the card, task mode, a wrong answer with its
/// diff, then an accepted solution and ✅ in the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_is_solved_in_the_playground() {
    let env = Env::new("playtask", &[("BOT_TOKEN", "")]);
    let mut service = env.spawn("bot,worker,admin", "p0");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let id = env.psql("SELECT id FROM tasks WHERE slug = 'sum-of-two'");
    // The playground's visitor speaks the browser's language: either title will do.
    let titles = env.psql("SELECT title_ru || '|' || title_en FROM tasks WHERE slug = 'sum-of-two'");
    let (ru, en) = titles.split_once('|').unwrap();
    let d = Driver::start().await;
    d.cmd("url", json!({"url": format!("{}/playground", env.base())})).await;
    d.type_and_send("/tasks").await;
    let task_button = format!("button[data-callback=\"t:{id}\"]");
    d.wait_for(
        "the task list",
        &format!("return document.querySelector('{task_button}') !== null"),
    )
    .await;
    // A script click: the chat re-renders as messages arrive, so a found element may go stale.
    d.eval(&format!("document.querySelector('{task_button}').click()"))
        .await;
    let solve = format!("button[data-callback=\"o:{id}\"]");
    d.wait_for(
        "the task card",
        &format!("return document.querySelector('{solve}') !== null"),
    )
    .await;
    d.eval(&format!("document.querySelector('{solve}').click()")).await;
    d.wait_for(
        "task mode",
        "var t = document.getElementById('chat').innerText; return t.includes('Жду решение') || t.includes('Send your solution')",
    )
    .await;
    d.type_and_send("```python\na, b = map(int, input().split())\nprint(a * b)\n```")
        .await;
    d.wait_for(
        "the wrong answer with its diff",
        "return document.getElementById('chat').innerText.includes('➜')",
    )
    .await;
    d.type_and_send("```python\na, b = map(int, input().split())\nprint(a + b)\n```")
        .await;
    d.wait_for(
        "accepted",
        "var t = document.getElementById('chat').innerText; return t.includes('решена!') || t.includes('solved!')",
    )
    .await;
    d.type_and_send("/tasks").await;
    d.wait_for(
        "✅ in the list",
        &format!(
            "var t = document.getElementById('chat').innerText; return t.includes('✅ {ru}') || t.includes('✅ {en}')"
        ),
    )
    .await;
    drop(d);
    common::stop(&mut service);
}
