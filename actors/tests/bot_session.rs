//! What a student sees around their checks (issue 15, items 10, 12 and 14), end to end: the
//! real `devmentor run` against real PostgreSQL, Redis and Docker and the fake Bot API.
//!
//! - a program stuck in a loop shows its elapsed time and ⏹; pressing ⏹ stops it on the worker
//!   (another process: the stop travels through Redis), the card says so, the row records
//!   `stopped`, and the container is gone;
//! - `/history` says when, in which language, how each check ended and the error's name, and
//!   its buttons reopen a card and run a check again;
//! - `/faq` lists questions as buttons; a long answer arrives whole, in Telegram HTML;
//! - the admin's FAQ form says which markup is allowed and refuses broken markup.

mod common;
mod panel;

use devmentor::i18n::t;
use devmentor::registry::Locale;
use devmentor::telegram::fake::{ChatMessage, TgUser};
use std::process::Command;
use std::time::{Duration, Instant};

use common::bot::{data, has, BotUnderTest, Setup, WAIT};

/// The bot and the worker, each its own process (the stop must travel between them).
async fn start(tag: &str, user: i64) -> BotUnderTest {
    // A time limit far above the few seconds a stop may take: a timeout is never mistaken for it.
    BotUnderTest::start(Setup {
        tag,
        whitelist: &[user],
        vars: &[("EXEC_TIMEOUT_SECONDS", "40")],
        processes: &[("worker", "worker"), ("bot", "bot")],
        ..Setup::default()
    })
    .await
}

/// What these tests ask of the bot beyond the shared waits.
trait SessionTests {
    fn busy_containers(&self) -> Vec<String>;
}

impl SessionTests for BotUnderTest {
    /// The worker's sandbox containers that run a program right now (more than dm-init inside).
    fn busy_containers(&self) -> Vec<String> {
        let owner = format!("-{}-", self.process("worker").id());
        let out = Command::new("docker")
            .args([
                "ps",
                "--filter",
                "label=devmentor.sandbox",
                "--format",
                "{{.ID}} {{.Label \"devmentor.owner\"}}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, o)| o.contains(&owner))
            .map(|(id, _)| id.to_string())
            .filter(|id| {
                let top = Command::new("docker").args(["top", id]).output().unwrap();
                // A header line, dm-init, and the student's program when one runs.
                String::from_utf8_lossy(&top.stdout).lines().count() > 2
            })
            .collect()
    }
}

fn exists(container: &str) -> bool {
    Command::new("docker")
        .args(["inspect", container])
        .output()
        .unwrap()
        .status
        .success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stuck_program_shows_its_time_and_the_stop_button_stops_it_on_the_worker() {
    let b = start("sess_stop", 5101).await;
    let ira = TgUser::new(5101, "Ира");
    let m = b.fake.send_text(&ira, "```python\nwhile True:\n    pass\n```");
    // After ~3 s the "⏳" message shows how long it has been running, and ⏹.
    let running = b
        .until(&ira, "the elapsed time and ⏹", |chat| {
            chat.iter()
                .find(|x| x.from_bot && x.reply_to == Some(m) && has(x, "c:"))
                .cloned()
        })
        .await;
    assert!(running.text.starts_with('⏳'), "{}", running.text);
    assert!(
        running.text.contains("работает уже") && running.text.chars().any(|c| c.is_ascii_digit()),
        "elapsed seconds in words: {}",
        running.text
    );
    let stop = data(&running, "c:");
    assert!(running.buttons.iter().flatten().any(|(l, _)| l.contains('⏹')));
    // It ticks: a later edit shows more seconds.
    let first_edits = running.edits;
    let ticked = b
        .until(&ira, "a second tick", |chat| {
            chat.iter()
                .find(|x| x.message_id == running.message_id && x.edits > first_edits && has(x, "c:"))
                .cloned()
        })
        .await;
    assert_ne!(ticked.text, running.text, "the seconds moved on");
    // The student's program is running in one of the worker's containers.
    let busy = b.busy_containers();
    assert_eq!(busy.len(), 1, "one container runs the loop: {busy:?}");

    let pressed = Instant::now();
    b.fake.press(&ira, running.message_id, &stop);
    let card = b.card(&ira, m).await;
    let took = pressed.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "stopped within seconds, not at the 40 s limit: {took:?}"
    );
    assert_eq!(card.message_id, running.message_id, "the same message became the card");
    assert!(card.text.starts_with('⏹'), "{}", card.text);
    assert!(
        card.text.contains(&t(Locale::Ru, "bot.outcome.stopped_by_you")),
        "{}",
        card.text
    );
    assert!(
        !card.text.contains("SIGKILL"),
        "our kill is not the program's signal: {}",
        card.text
    );
    assert!(!has(&card, "c:"), "no ⏹ on a finished card");
    assert!(!has(&card, "x:"), "nothing to explain about a stop");
    let check = stop.trim_start_matches("c:");
    assert_eq!(
        b.env.psql(&format!(
            "SELECT status || ' ' || verdict FROM checks WHERE id = {check}"
        )),
        "done stopped"
    );
    assert_eq!(
        b.env
            .psql(&format!("SELECT result->>'verdict' FROM checks WHERE id = {check}")),
        "stopped"
    );
    let notices = b.fake.notices(ira.id);
    assert!(
        notices.iter().any(|n| n.text == t(Locale::Ru, "bot.stop.requested")),
        "the press was answered: {notices:?}"
    );
    // The container that ran the loop is removed.
    let until = Instant::now() + Duration::from_secs(20);
    while exists(&busy[0]) {
        assert!(Instant::now() < until, "container {} is still there", busy[0]);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(b.busy_containers().is_empty(), "nothing runs any more");

    // ⏹ pressed again, after the end: it says so.
    b.fake.press(&ira, running.message_id, &stop);
    let until = Instant::now() + WAIT;
    while !b
        .fake
        .notices(ira.id)
        .iter()
        .any(|n| n.text == t(Locale::Ru, "bot.stop.already_done"))
    {
        assert!(
            Instant::now() < until,
            "no answer to a late ⏹: {:?}",
            b.fake.notices(ira.id)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        b.env.psql(&format!("SELECT verdict FROM checks WHERE id = {check}")),
        "stopped",
        "a late press changes nothing"
    );
    // The card did not go back to "⏳".
    let now = b.fake.message(ira.id, card.message_id).unwrap();
    assert!(now.text.starts_with('⏹'), "{}", now.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn history_says_when_what_and_which_error_and_reopens_and_reruns() {
    let b = start("sess_hist", 5201).await;
    let oleg = TgUser::new(5201, "Олег").with_language("en");
    let ok = b.fake.send_text(&oleg, "```python\nimport time\nprint('fine')\n```");
    b.card(&oleg, ok).await;
    let bad = b.fake.send_text(&oleg, "```python\nimport time\nprint(1 / 0)\n```");
    let failed = b.card(&oleg, bad).await;
    let m = b.fake.send_text(&oleg, "/history");
    let page = b
        .until(&oleg, "the history", |chat| {
            chat.iter()
                .find(|x| x.from_bot && x.message_id > m && x.text.starts_with("🕘"))
                .cloned()
        })
        .await;
    let text = &page.text;
    assert!(text.contains(&t(Locale::En, "bot.history.just_now")), "when: {text}");
    assert!(text.contains("Python"), "language: {text}");
    assert!(
        text.contains(&t(Locale::En, "bot.verdict.ok")),
        "outcome in words: {text}"
    );
    assert!(text.contains(&t(Locale::En, "bot.verdict.runtime_error")), "{text}");
    assert!(
        text.contains("<code>ZeroDivisionError</code>"),
        "the error's name: {text}"
    );
    assert!(!text.contains("import time"), "not the programs' first lines: {text}");
    assert_eq!(page.parse_mode.as_deref(), Some("HTML"));
    // Newest first: the failed check's line and buttons come first.
    let failed_id = data(&failed, "r:").trim_start_matches("r:").to_string();
    assert_eq!(page.buttons[0][0].1, format!("k:{failed_id}"));
    assert_eq!(page.buttons[0][1].1, format!("r:{failed_id}"));

    // 📋 reopens the card from the stored result, as a new message.
    b.fake.press(&oleg, page.message_id, &format!("k:{failed_id}"));
    let reopened = b
        .until(&oleg, "the reopened card", |chat| {
            chat.iter()
                .find(|x| x.from_bot && x.message_id > page.message_id && has(x, "r:"))
                .cloned()
        })
        .await;
    assert_eq!(
        reopened.text, failed.text,
        "the same card, drawn from the stored result"
    );
    // 🔁 runs the same code again: a new check with a new card.
    b.fake.press(&oleg, page.message_id, &format!("r:{failed_id}"));
    let rerun = b
        .until(&oleg, "the re-run's card", |chat| {
            chat.iter()
                .find(|x| {
                    x.from_bot
                        && x.message_id > reopened.message_id
                        && has(x, "r:")
                        && data(x, "r:") != format!("r:{failed_id}")
                })
                .cloned()
        })
        .await;
    assert!(rerun.text.contains("ZeroDivisionError"), "{}", rerun.text);
    assert_eq!(b.env.psql("SELECT count(*) FROM checks WHERE code LIKE '%1 / 0%'"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_faq_lists_questions_and_a_long_answer_arrives_whole_in_html() {
    let b = start("sess_faq", 5301).await;
    let lines: String = (1..=150)
        .map(|i| format!("<b>Step {i}</b>: read the <i>error</i> and <code>print(x)</code> what you see.\n"))
        .collect();
    let long = format!("{lines}<a href=\"https://docs.python.org\">The end.</a>");
    assert!(long.chars().count() > 8000);
    b.env.psql(&format!(
        "INSERT INTO faq (locale, question, answer, position, published) VALUES
           ('en', 'How do I debug?', $q${long}$q$, 1, true),
           ('en', 'Short one?', 'Yes, <b>short</b>.', 2, true),
           ('en', 'Hidden?', 'no', 3, false),
           ('ru', 'Вопрос?', 'Ответ.', 1, true)"
    ));
    let ann = TgUser::new(5301, "Ann").with_language("en");
    let m = b.fake.send_text(&ann, "/faq");
    let list = b
        .until(&ann, "the question list", |chat| {
            chat.iter()
                .find(|x| x.from_bot && x.message_id > m && has(x, "A:"))
                .cloned()
        })
        .await;
    let labels: Vec<&str> = list.buttons.iter().flatten().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        ["How do I debug?", "Short one?"],
        "published, in this language, in order"
    );
    let debug = data(&list, "A:");
    b.fake.press(&ann, list.message_id, &debug);
    let parts = b
        .until(&ann, "the whole answer", |chat| {
            let parts: Vec<ChatMessage> = chat
                .iter()
                .filter(|x| x.from_bot && x.message_id > list.message_id)
                .cloned()
                .collect();
            parts
                .last()
                .is_some_and(|p| p.text.contains("The end."))
                .then_some(parts)
        })
        .await;
    assert!(parts.len() >= 3, "split across messages: {}", parts.len());
    for p in &parts {
        assert_eq!(p.parse_mode.as_deref(), Some("HTML"), "rendered, not literal tags");
        assert!(p.text.chars().count() <= 4096);
        devmentor::telegram::html::check(&p.text).unwrap_or_else(|e| panic!("{e}: {}", p.text));
    }
    assert!(parts[0].text.starts_with("<b>How do I debug?</b>"), "{}", parts[0].text);
    let all: String = parts.iter().map(|p| p.text.as_str()).collect();
    for i in 1..=150 {
        assert!(
            all.contains(&format!("<b>Step {i}</b>")),
            "step {i} is missing: nothing is dropped"
        );
    }
    assert!(all.contains("<a href=\"https://docs.python.org\">The end.</a>"));
    assert!(!all.contains("&lt;b&gt;"), "HTML is rendered, not shown as text");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faq_form_names_the_allowed_markup_and_refuses_broken_markup() {
    let mut panel = panel::Panel::start("sess_faqform").await;
    let form = panel.b.get("/admin/faq/new").await;
    assert_eq!(form.status, 200);
    assert!(
        form.body.contains("&lt;blockquote&gt;"),
        "the form names the tags: {}",
        form.body
    );
    assert!(form.body.contains("HTML Telegram"), "in the admin's language (Russian)");
    for bad in [
        "<script>alert(1)</script>",
        "<b>never closed",
        "a & b",
        "<a href=\"javascript:x\">x</a>",
    ] {
        let p = panel
            .post(
                "/admin/faq/new",
                &[
                    ("locale", "ru"),
                    ("question", "Как?"),
                    ("answer", bad),
                    ("position", "1"),
                    ("published", "1"),
                ],
            )
            .await;
        assert_eq!(p.status, 422, "{bad} is refused");
        assert!(
            p.body.contains(&t(Locale::Ru, "admin.faq.err_markup")),
            "a clear message for {bad}: {}",
            p.body
        );
        assert!(p.body.contains("name=\"answer\""), "the form is shown again");
    }
    assert_eq!(panel.env.psql("SELECT count(*) FROM faq"), "0", "nothing saved");
    let long = format!("<b>{}</b>", "x".repeat(6000));
    let p = panel
        .post(
            "/admin/faq/new",
            &[
                ("locale", "ru"),
                ("question", "Как?"),
                ("answer", &long),
                ("position", "1"),
                ("published", "1"),
            ],
        )
        .await;
    assert_eq!(
        p.status, 303,
        "valid markup, longer than one message, is saved: {}",
        p.body
    );
    assert_eq!(panel.env.psql("SELECT length(answer) FROM faq"), "6007");
}
