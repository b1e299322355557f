//! The playground behaves as Telegram's own clients do (issue 15, item 22), in headless
//! Chromium at a desktop's and a phone's width (1280 and 390 px): the bot's answers to button
//! presses pop up (👍, a stale "which language?" button); Enter sends and Shift+Enter starts a
//! new line, as in Telegram Desktop; a sent message can be edited, and the edit re-runs the
//! program in the same card; the composer never hides the newest message; a folded quote opens
//! with a tap and the bot's keyboard folds away (⌨️), as in Telegram. Screenshots go to
//! target/test-artifacts/playground-w<width>-*.png.

mod common;

use common::{wait_ready, Driver, Env};
use devmentor::i18n::t;
use devmentor::registry::Locale;
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";

/// The page itself, not the window's frame, is `width` px wide.
async fn set_width(d: &Driver, width: i64, height: i64) {
    d.cmd("window/rect", json!({"width": width, "height": height})).await;
    let inner = d.eval("return window.innerWidth").await.as_i64().unwrap_or(width);
    if inner != width {
        d.cmd("window/rect", json!({"width": 2 * width - inner, "height": height}))
            .await;
    }
    assert_eq!(d.eval("return window.innerWidth").await, json!(width));
}

/// How many messages the student has sent.
async fn mine(d: &Driver) -> i64 {
    d.eval("return document.querySelectorAll('#chat .me').length")
        .await
        .as_i64()
        .unwrap()
}

/// The id of the last bot message whose text contains `needle`, once there is one.
async fn bot_message(d: &Driver, what: &str, needle: &str) -> i64 {
    let script = format!(
        "var b = Array.from(document.querySelectorAll('#chat .bot')).filter(function (e) {{ return e.innerText.includes({}); }}); return b.length ? Number(b[b.length - 1].getAttribute('data-id')) : null",
        json!(needle)
    );
    d.wait_for(what, &script).await.as_i64().unwrap()
}

/// The pop-up shows `text` (Telegram's brief notice over the chat).
async fn toast_says(d: &Driver, what: &str, text: &str) {
    d.wait_for(
        what,
        &format!(
            "var t = document.getElementById('toast'); return !t.hidden && t.textContent === {}",
            json!(text)
        ),
    )
    .await;
}

/// The newest message is in view, above the composer, which sits at the window's bottom; the
/// page does not scroll sideways.
async fn newest_is_visible(d: &Driver, width: i64, when: &str) {
    // The chat scrolls to the end once a message arrives (the page polls every 0.7 s): give
    // it one poll, then wait for the scroll up to 10 s and judge the last reading.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let v: Value = loop {
        let v: Value = d
            .eval(
                "var m = document.querySelectorAll('#chat .msg'); var last = m[m.length - 1].getBoundingClientRect();
             var chat = document.getElementById('chat').getBoundingClientRect();
             var f = document.querySelector('footer').getBoundingClientRect();
             return {bottom: last.bottom, top: last.top, chat_top: chat.top, footer_top: f.top, footer_bottom: f.bottom,
                     height: window.innerHeight, sideways: document.documentElement.scrollWidth - window.innerWidth}",
            )
            .await;
        let g = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let settled = g("bottom") <= g("footer_top") + 1.0 && g("bottom") > g("chat_top");
        if settled || std::time::Instant::now() > until {
            break v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let f = |k: &str| v[k].as_f64().unwrap();
    assert!(
        f("bottom") <= f("footer_top") + 1.0,
        "{when} at {width} px: the newest message ends below the composer: {v}"
    );
    assert!(
        f("bottom") > f("chat_top"),
        "{when} at {width} px: the newest message is scrolled out of view: {v}"
    );
    assert!(
        (f("footer_bottom") - f("height")).abs() <= 1.0,
        "{when} at {width} px: the composer is not at the bottom: {v}"
    );
    assert!(f("sideways") <= 1.0, "{when} at {width} px scrolls sideways: {v}");
}

async fn a_student_at(base: &str, width: i64) {
    let height = if width < 600 { 844 } else { 900 };
    let d = Driver::start().await;
    set_width(&d, width, height).await;
    // The page speaks Russian (the bot's default) whatever the browser's language.
    d.open(&format!("{base}/playground")).await;
    d.eval("localStorage.setItem('dm_lang', 'ru'); return true").await;
    d.open(&format!("{base}/playground")).await;
    let shot = |name: &str| format!("playground-w{width}-{name}");

    // Enter sends, and the box is empty again.
    d.type_text("/start").await;
    d.press_in_box(ENTER).await;
    d.wait_for(
        "/start sent with Enter",
        "var m = document.querySelectorAll('#chat .me'); return m.length === 1 && m[0].innerText.includes('/start') && document.getElementById('text').value === ''",
    )
    .await;
    d.wait_for(
        "the welcome and its keyboard",
        "return document.querySelector('#chat .bot') !== null && document.getElementById('kb').children.length > 0",
    )
    .await;
    newest_is_visible(&d, width, "the welcome, with the menu keyboard").await;

    // A stale button answers that it is stale. A program with no language in it, none chosen:
    // the bot asks which; /cancel drops the program; the question's button then says so.
    d.type_text("a = 6 * 7").await;
    d.press_in_box(ENTER).await;
    let ask_text = t(Locale::Ru, "bot.ask_language");
    let ask = bot_message(&d, "which language?", &ask_text[..ask_text.find('?').unwrap()]).await;
    let python = d
        .wait_for(
            "the question's Python button",
            &format!(
                "var b = document.querySelector('#chat .bot[data-id=\"{ask}\"] button[data-callback^=\"p:\"][data-callback$=\":python\"]'); return b ? b.getAttribute('data-callback') : null"
            ),
        )
        .await;
    d.type_text("/cancel").await;
    d.press_in_box(ENTER).await;
    bot_message(&d, "cancelled", &t(Locale::Ru, "bot.cancelled")).await;
    d.eval(&format!(
        "document.querySelector('#chat .bot[data-id=\"{ask}\"] button[data-callback={}]').click(); return true",
        json!(python.as_str().unwrap())
    ))
    .await;
    let stale = t(Locale::Ru, "bot.callback.stale");
    toast_says(&d, "the stale button's answer", &stale).await;
    d.screenshot(&shot("stale-button")).await;
    // The pop-up fades by itself, as Telegram's does.
    d.wait_for("the pop-up gone", "return document.getElementById('toast').hidden")
        .await;
    // The question itself now says it is out of date, with no buttons left to press.
    d.wait_for(
        "the question marked stale",
        &format!(
            "var q = document.querySelector('#chat .bot[data-id=\"{ask}\"]'); return q.innerText.includes({}) && !q.querySelector('button')",
            json!(stale)
        ),
    )
    .await;

    // Shift+Enter starts a new line and sends nothing; Enter then sends the whole program.
    let sent = mine(&d).await;
    let program = "```python\nprint('answer', 6 * 7)\n```";
    d.type_text(program).await;
    let typed = d.eval("return document.getElementById('text').value").await;
    assert_eq!(typed, json!(program), "Shift+Enter adds lines at {width} px");
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(mine(&d).await, sent, "Shift+Enter sends nothing");
    d.press_in_box(ENTER).await;
    let card = bot_message(&d, "the card with 42", "answer 42").await;
    let source = d
        .eval("var m = document.querySelectorAll('#chat .me'); return Number(m[m.length - 1].getAttribute('data-id'))")
        .await;
    assert_eq!(mine(&d).await, sent + 1, "one message for the whole program");
    let source_text = d
        .eval(&format!(
            "return document.querySelector('#chat .me[data-id=\"{source}\"]').innerText"
        ))
        .await;
    assert!(
        source_text.as_str().unwrap().contains("print('answer', 6 * 7)"),
        "{source_text}"
    );
    newest_is_visible(&d, width, "a result card").await;

    // A sent message can be edited (✏️, as in Telegram); the edit re-runs the program and the
    // same card shows the new result.
    d.click(&format!("#chat .me[data-id=\"{source}\"] button.edit")).await;
    assert_eq!(
        d.eval("return document.getElementById('text').value").await,
        json!(program),
        "editing starts from the message's text"
    );
    // The box grows to show the whole program (three lines), as Telegram's does.
    let fits = d
        .eval("var b = document.getElementById('text'); return b.scrollHeight <= b.clientHeight + 2")
        .await;
    assert_eq!(fits, json!(true), "the message box shows every line at {width} px");
    let editing = d
        .eval("var r = document.getElementById('replying'); return r.hidden ? null : r.innerText")
        .await;
    assert!(
        editing.as_str().is_some_and(|s| s.contains("Изменение")),
        "the composer says it is editing: {editing}"
    );
    d.screenshot(&shot("editing")).await;
    let el = d.find("#text").await.unwrap();
    d.cmd(&format!("element/{el}/clear"), json!({})).await;
    d.type_text("```python\nprint('answer', 6 * 8)\n```").await;
    d.press_in_box(ENTER).await;
    d.wait_for(
        "the message shown edited",
        &format!(
            "var m = document.querySelector('#chat .me[data-id=\"{source}\"]'); return m.innerText.includes(\"6 * 8)\") && m.querySelector('.meta') !== null"
        ),
    )
    .await;
    d.wait_for(
        "the same card re-run with 48",
        &format!(
            "var c = document.querySelector('#chat .bot[data-id=\"{card}\"]'); return c && c.innerText.includes('answer 48') && !c.innerText.includes('answer 42')"
        ),
    )
    .await;
    assert_eq!(mine(&d).await, sent + 1, "an edit is not a new message");
    d.screenshot(&shot("edited-rerun")).await;

    // 👍 under a card: the bot's thanks pop up.
    d.type_text("```python\na = 10\nb = 0\nprint(a / b)\n```").await;
    d.press_in_box(ENTER).await;
    let zero = bot_message(&d, "the ZeroDivisionError card", "ZeroDivisionError").await;
    let up = format!("#chat .bot[data-id=\"{zero}\"] button[data-callback^=\"v:\"][data-callback$=\":1\"]");
    d.wait_for(
        "the card's 👍",
        &format!("return document.querySelector('{up}') !== null"),
    )
    .await;
    newest_is_visible(&d, width, "the ZeroDivisionError card").await;
    d.eval(&format!("document.querySelector('{up}').click(); return true"))
        .await;
    toast_says(&d, "the vote's thanks", &t(Locale::Ru, "bot.callback.vote_thanks")).await;
    d.screenshot(&shot("vote-notice")).await;
    d.wait_for("the thanks gone", "return document.getElementById('toast').hidden")
        .await;

    // The full traceback is folded, as Telegram's expandable quote is; a tap opens it.
    let quote = format!("#chat .bot[data-id=\"{zero}\"] blockquote.expandable");
    let height = format!("return document.querySelector('{quote}').getBoundingClientRect().height");
    let folded = d.eval(&height).await.as_f64().unwrap();
    d.eval(&format!(
        "document.querySelector('{quote}').scrollIntoView({{block: 'center'}}); return true"
    ))
    .await;
    d.click(&quote).await;
    d.wait_for(
        "the quote opened",
        &format!("return document.querySelector('{quote}').classList.contains('open')"),
    )
    .await;
    let open = d.eval(&height).await.as_f64().unwrap();
    assert!(open > folded + 10.0, "the quote grows when tapped: {folded} → {open}");
    d.screenshot(&shot("quote-open")).await;

    // The bot's reply keyboard folds away with ⌨️ (the chat gets the room) and comes back.
    let footer = "return document.querySelector('footer').getBoundingClientRect().height";
    let with_kb = d.eval(footer).await.as_f64().unwrap();
    d.click("#kb-toggle").await;
    d.wait_for("the keyboard folded", "return document.getElementById('kb').hidden")
        .await;
    let without = d.eval(footer).await.as_f64().unwrap();
    assert!(without + 40.0 < with_kb, "the composer shrinks: {with_kb} → {without}");
    d.eval("var c = document.getElementById('chat'); c.scrollTop = c.scrollHeight; return true")
        .await;
    newest_is_visible(&d, width, "the keyboard folded").await;
    d.screenshot(&shot("keyboard-folded")).await;
    d.click("#kb-toggle").await;
    d.wait_for(
        "the keyboard back",
        "return !document.getElementById('kb').hidden && document.getElementById('kb').children.length > 0",
    )
    .await;
    drop(d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_playground_behaves_like_a_telegram_client_at_both_widths() {
    let env = Env::new("playui", &[("BOT_TOKEN", "")]);
    let mut service = env.spawn("bot,worker,admin", "p0");
    wait_ready(&reqwest::Client::new(), &env.base()).await;
    for width in [1280, 390] {
        a_student_at(&env.base(), width).await;
    }
    let votes = env.psql("SELECT count(*) FROM feedback WHERE vote = 1");
    assert_eq!(votes, "2", "each width's 👍 was recorded");
    common::stop(&mut service);
}
