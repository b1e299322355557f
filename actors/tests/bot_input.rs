//! Understanding what the student sent (issue 15, "What people see"): the real `devmentor run`
//! against real PostgreSQL, Redis and Docker and the fake Telegram Bot API. The test plays the
//! students: it sends what beginners really send — a C program without a fence, "привет", a
//! paste Telegram split in two, a program with its input, code pasted from a web page — and
//! reads the chat and the `checks` table as they and the analytics would see them.

mod common;

use devmentor::telegram::fake::TgUser;
use std::time::Duration;

use common::bot::{BotUnderTest, Setup, WAIT};

/// The bot and worker roles in one process (with an AI), for the students `whitelist`.
async fn service(tag: &str, whitelist: &[i64]) -> BotUnderTest {
    BotUnderTest::start(Setup {
        tag,
        whitelist,
        ai: true,
        ..Setup::default()
    })
    .await
}

/// What these tests ask of the bot beyond the shared waits.
trait InputTests {
    async fn db_says(&self, sql: &str, want: &str);
}

impl InputTests for BotUnderTest {
    /// Waits until `sql` answers `want`.
    async fn db_says(&self, sql: &str, want: &str) {
        let until = std::time::Instant::now() + WAIT;
        loop {
            let got = self.env.psql(sql);
            if got == want {
                return;
            }
            assert!(
                std::time::Instant::now() < until,
                "{sql}: {got:?}, not {want:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Item 1: a C program without a fence runs as C; chat is answered, never run, never counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn code_names_its_own_language_and_chat_is_not_a_check() {
    let s = service("inlang", &[5001]).await;
    let u = TgUser::new(5001, "Аня");
    // The student's last language is Python: the C program still runs as C.
    let m = s.fake.send_text(&u, "/start");
    s.said(&u, m, "Аня").await;
    s.env.psql("UPDATE users SET prog_language = 'python' WHERE id = 5001");
    let c = "#include <stdio.h>\n\nint main(void) {\n    printf(\"hello from C\\n\");\n    return 0;\n}";
    let m = s.fake.send_text(&u, c);
    let card = s.card(&u, m).await;
    assert!(card.text.contains("hello from C"), "{}", card.text);
    assert!(!card.text.contains("SyntaxError"), "{}", card.text);
    assert_eq!(s.env.psql("SELECT language FROM checks"), "c");
    assert_eq!(
        s.env.psql("SELECT prog_language FROM users WHERE id = 5001"),
        "python",
        "a recognised language does not change the student's default"
    );

    // Chat in Russian and English: a short "not code" answer, no check row, nothing to analyse.
    for chat in ["привет, как дела?", "hello, can you help me?"] {
        let m = s.fake.send_text(&u, chat);
        let r = s.reply_with(&u, m, "/help").await;
        assert!(
            r.text.contains("не похоже на программу") && r.text.contains("```python"),
            "{}",
            r.text
        );
    }
    // A beginner's broken Python is still a program: it runs, and its error is explained.
    let m = s.fake.send_text(&u, "for i in range(3)\n    print(i)");
    let card = s.card(&u, m).await;
    assert!(card.text.contains("SyntaxError"), "{}", card.text);
    assert_eq!(
        s.checks(),
        2,
        "the C program and the broken Python; chat is not counted"
    );
    assert_eq!(
        s.env
            .psql("SELECT count(*) FROM checks WHERE code LIKE '%привет%' OR code LIKE '%hello, can%'"),
        "0"
    );
}

/// Item 1 (the buttons) and item 13: "which language?" runs just that program; the default is
/// a separate button; several programs waiting each keep their own question; a question whose
/// program already ran says it is out of date.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_waiting_program_keeps_its_question_and_stale_buttons_say_so() {
    let s = service("inask", &[5101]).await;
    let u = TgUser::new(5101, "Борис");
    // No language in the code, none chosen, no default: the bot asks, twice, keeping both.
    let first = s.fake.send_text(&u, "a = 6 * 7");
    let ask1 = s.reply_with(&u, first, "На каком языке").await;
    let second = s.fake.send_text(&u, "b = 5 + 5");
    let ask2 = s.reply_with(&u, second, "На каком языке").await;
    assert_eq!(s.checks(), 0);

    // The first question's Python button runs the first program — not the last one sent.
    let run_first = common::bot::data(&ask1, &format!("p:{first}:python"));
    s.fake.press(&u, ask1.message_id, &run_first);
    s.card(&u, first).await;
    assert_eq!(s.env.psql("SELECT code FROM checks"), "a = 6 * 7");
    assert_eq!(
        s.env
            .psql("SELECT coalesce(prog_language, '-') FROM users WHERE id = 5101"),
        "-",
        "a language picked for one program is not made the default"
    );
    // The question now says what ran, with the separate "make it the default" button.
    let asked = s
        .fake
        .wait_for(u.id, WAIT, |_| {
            s.fake
                .message(u.id, ask1.message_id)
                .filter(|m| m.buttons.iter().flatten().any(|(_, d)| d == "d:python"))
        })
        .await
        .unwrap_or_else(|| panic!("{:#?}", s.fake.message(u.id, ask1.message_id)));
    assert!(asked.text.contains("Python"), "{}", asked.text);

    // The second program still waits on its own question.
    let run_second = common::bot::data(&ask2, &format!("p:{second}:python"));
    s.fake.press(&u, ask2.message_id, &run_second);
    s.card(&u, second).await;
    assert_eq!(
        s.env.psql("SELECT string_agg(code, ' | ' ORDER BY id) FROM checks"),
        "a = 6 * 7 | b = 5 + 5",
        "both programs ran, each once, in the order chosen"
    );

    // The first question's buttons again: out of date, and they say so.
    let before = s.fake.calls("answerCallbackQuery").len();
    s.fake.press(&u, ask1.message_id, &run_first);
    let until = std::time::Instant::now() + WAIT;
    loop {
        let calls = s.fake.calls("answerCallbackQuery");
        if calls[before.min(calls.len())..]
            .iter()
            .any(|c| c.params["text"].as_str().is_some_and(|t| t.contains("устарел")))
        {
            break;
        }
        assert!(std::time::Instant::now() < until, "no stale answer: {}", s.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(s.checks(), 2, "a stale button runs nothing");

    // "Make it the default" is its own, visible choice.
    s.fake.press(&u, ask1.message_id, "d:python");
    s.db_says("SELECT prog_language FROM users WHERE id = 5101", "python")
        .await;
}

/// Item 2: a paste Telegram split in two runs once, whole; a paste whose end never came is
/// asked for as a file; a program sent while another runs is queued and run after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_split_paste_runs_whole_and_a_busy_student_is_queued() {
    let s = service("insplit", &[5201]).await;
    let u = TgUser::new(5201, "Вера");
    let lines: Vec<String> = (0..500).map(|i| format!("v{i} = {i}")).collect();
    let (head, tail) = lines.split_at(330);
    let part1 = format!("```python\n{}", head.join("\n"));
    let part2 = format!("{}\nprint('END', v0 + v499)\n```", tail.join("\n"));
    assert!(part1.len() > 3000 && part1.len() <= 4096 && part2.len() < 3000);
    let m1 = s.fake.send_text(&u, &part1);
    let m2 = s.fake.send_text(&u, &part2);
    let card = s.card(&u, m1).await;
    assert!(card.text.contains("END 499"), "the whole program ran: {}", card.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.checks(), 1, "one paste, one check");
    assert!(
        !s.fake.chat(u.id).iter().any(|m| m.from_bot && m.reply_to == Some(m2)),
        "the second part is not answered on its own"
    );

    // A long paste whose closing fence never comes: an honest "send it as a file".
    let m = s.fake.send_text(&u, &part1);
    let r = s.reply_with(&u, m, "файлом").await;
    assert!(r.text.contains("4096"), "{}", r.text);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(s.checks(), 1, "a cut paste is not run");

    // Sent while the previous program runs: queued (and told so), then run after it.
    let slow = s
        .fake
        .send_text(&u, "```python\nimport time\ntime.sleep(3)\nprint('first done')\n```");
    let next = s.fake.send_text(&u, "```python\nprint('second done')\n```");
    let q = s.reply_with(&u, next, "в очереди").await;
    assert!(q.text.contains('1'), "{}", q.text);
    let first = s.card(&u, slow).await;
    assert!(first.text.contains("first done"));
    let second = s.card(&u, next).await;
    assert!(second.text.contains("second done"), "{}", second.text);
    assert_eq!(s.checks(), 3);
}

/// Item 3: the input sent with the code, in one message; one plain prompt; the card echoes the
/// input; a C `scanf` that read nothing is told it was waiting for input. /help says how.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn input_comes_with_the_code_and_the_card_shows_it() {
    let s = service("instdin", &[5301]).await;
    let u = TgUser::new(5301, "Глеб");
    let m = s.fake.send_text(&u, "/help");
    let help = s.said(&u, m, "```input").await;
    assert!(!help.text.contains("stdin"), "no jargon: {}", help.text);

    let m = s
        .fake
        .send_text(&u, "```python\nn = int(input())\nprint(n * 2)\n```\n```input\n21\n```");
    let card = s.card(&u, m).await;
    assert!(card.text.contains("42"), "{}", card.text);
    assert!(card.text.contains("<b>Ввод</b>\n<pre>21</pre>"), "{}", card.text);
    assert!(!card.text.contains("EOFError"));
    assert_eq!(s.env.psql("SELECT convert_from(stdin, 'UTF8') FROM checks"), "21");

    // C with scanf and no input: it "ran", but the card and one prompt say it waited for input.
    let c = "#include <stdio.h>\nint main() {\n    int a = 0, b = 0;\n    scanf(\"%d %d\", &a, &b);\n    printf(\"sum=%d\\n\", a + b);\n    return 0;\n}";
    let m = s.fake.send_text(&u, c);
    let card = s.card(&u, m).await;
    assert!(card.text.contains("ввода не было"), "{}", card.text);
    let prompt = s.said(&u, card.message_id, "Что ввести").await;
    assert!(
        prompt.reply_markup.as_ref().is_some_and(|r| r["force_reply"] == true),
        "{prompt:#?}"
    );
    assert!(
        !prompt.text.contains('#') && !prompt.text.contains("stdin"),
        "plain words: {}",
        prompt.text
    );
    let prompts = s
        .fake
        .chat(u.id)
        .iter()
        .filter(|x| x.from_bot && x.message_id > card.message_id && x.text.contains("ввод"))
        .count();
    assert_eq!(prompts, 1, "one prompt, not two");
    let answer = s.fake.reply(&u, prompt.message_id, "2 3");
    let card = s.card(&u, answer).await;
    assert!(card.text.contains("sum=5"), "{}", card.text);
    assert!(card.text.contains("<pre>2 3</pre>"), "{}", card.text);

    // Answering the same (now answered) prompt again: out of date, nothing runs.
    let before = s.checks();
    let late = s.fake.reply(&u, prompt.message_id, "7 8");
    s.reply_with(&u, late, "неактуален").await;
    assert_eq!(s.checks(), before);
}

/// Item 4: indentation of non-breaking spaces works (and the student is told); `py3` is a tag.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pasted_non_breaking_spaces_and_tag_aliases_work() {
    let s = service("innbsp", &[5401]).await;
    let u = TgUser::new(5401, "Дина").with_language("en");
    let code = "```py3\nfor i in range(3):\n\u{a0}\u{a0}\u{a0}\u{a0}print('row', i)\n```";
    let m = s.fake.send_text(&u, code);
    let card = s.card(&u, m).await;
    assert!(card.text.contains("row 2"), "{}", card.text);
    assert!(card.text.contains("ran without errors"), "{}", card.text);
    let note = s.reply_with(&u, m, "non-breaking spaces").await;
    assert!(note.text.contains('4'), "{}", note.text);
    assert_eq!(s.env.psql("SELECT language FROM checks"), "python");
    assert_eq!(
        s.env.psql("SELECT position(E'\\u00a0' in code) FROM checks"),
        "0",
        "the stored code has ordinary spaces"
    );
}
