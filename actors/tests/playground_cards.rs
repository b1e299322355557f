//! Screenshots of the result card in the playground (issue 15's acceptance): a Python
//! ZeroDivisionError, a Python SyntaxError, a C compile error and the input flow, each at
//! 1280 and 390 px wide (on the phone also the card's end, with its buttons), saved as PNGs
//! under target/test-artifacts/. The real `devmentor run`
//! with no `BOT_TOKEN` serves `/playground`; headless Chromium chats with the bot there.

mod common;

use common::{wait_ready, Driver, Env};
use serde_json::json;

/// Waits for the last bot message whose text contains `needle` (with its buttons when
/// `buttons`), scrolls it to the top of the view, and saves it at both widths.
async fn shoot(d: &Driver, name: &str, needle: &str, buttons: bool) {
    let find = format!(
        "var b = Array.from(document.querySelectorAll('.bot')).filter(function (e) {{ return e.innerText.includes({}) && ({} || e.querySelector('.buttons')); }}); return b.length ? b[b.length - 1] : null",
        json!(needle),
        !buttons
    );
    d.wait_for(&format!("the card with {needle:?}"), &find).await;
    for (width, height) in [(1280, 1000), (390, 844)] {
        d.cmd("window/rect", json!({"width": width, "height": height})).await;
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        let scroll = format!(
            "var b = Array.from(document.querySelectorAll('.bot')).filter(function (e) {{ return e.innerText.includes({}); }}); var e = b[b.length - 1]; var prev = e.previousElementSibling; (prev || e).scrollIntoView({{block: 'start'}}); return true",
            json!(needle)
        );
        d.eval(&scroll).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        d.screenshot(&format!("card-{name}-{width}")).await;
        if width == 390 {
            // A phone shows the card's top; its end (the explanation's last lines, the buttons)
            // is one more screen down.
            let end = format!(
                "var b = Array.from(document.querySelectorAll('.bot')).filter(function (e) {{ return e.innerText.includes({}); }}); b[b.length - 1].scrollIntoView({{block: 'end'}}); return true",
                json!(needle)
            );
            d.eval(&end).await;
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            d.screenshot(&format!("card-{name}-{width}-end")).await;
        }
    }
    d.cmd("window/rect", json!({"width": 1280, "height": 1000})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_result_cards_in_the_playground() {
    let env = Env::new("playcards", &[("BOT_TOKEN", "")]);
    let mut service = env.spawn("bot,worker,admin", "p0");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let d = Driver::start().await;
    d.cmd("url", json!({"url": format!("{}/playground", env.base())})).await;
    d.type_and_send("/start").await;
    d.wait_for(
        "the welcome",
        "return document.querySelector('.bot') !== null && document.getElementById('kb').children.length > 0",
    )
    .await;

    // A runtime error: the card leads with the line that says what went wrong.
    d.type_and_send("```python\na = 10\nb = 0\nprint(a / b)\n```").await;
    shoot(&d, "zero-division", "ZeroDivisionError: division by zero", true).await;
    let first_quote = d
        .eval("var b = document.querySelectorAll('.bot'); var q = b[b.length - 1].querySelector('blockquote'); return q ? q.innerText : null")
        .await;
    assert_eq!(
        first_quote,
        json!("ZeroDivisionError: division by zero"),
        "the decisive line first"
    );

    // A SyntaxError: the program did not start.
    d.type_and_send("```python\nprint('hi'\n```").await;
    shoot(&d, "syntax-error", "was never closed", true).await;
    let head = d
        .eval("var b = document.querySelectorAll('.bot'); return b[b.length - 1].innerText.split('\\n')[0]")
        .await;
    let head = head.as_str().unwrap_or("");
    assert!(
        head.contains("не запустилась") || head.contains("did not start"),
        "{head}"
    );

    // A C compile error: the compiler's error line first.
    d.type_and_send(
        "```c\n#include <stdio.h>\nint main(void) {\n    int x = 1\n    printf(\"%d\\n\", x);\n    return 0;\n}\n```",
    )
    .await;
    shoot(&d, "c-compile-error", "error: expected", true).await;

    // The input flow: the program wants input, the bot asks for it, the student answers.
    d.type_and_send("```python\nname = input()\nprint('Привет,', name)\n```")
        .await;
    d.wait_for(
        "the input prompt",
        "return document.getElementById('replying').hidden === false",
    )
    .await;
    d.type_and_send("Мир").await;
    shoot(&d, "input-flow", "Привет, Мир", true).await;

    drop(d);
    common::stop(&mut service);
}
