//! The student's experience end to end: the real `devmentor run` (bot + worker roles) against
//! real PostgreSQL, Redis and Docker, talking to the fake Telegram Bot API server through the
//! real teloxide client. The test plays the students: it sends messages, files and button
//! presses into the fake, and reads the chat as they would see it.

mod common;

use common::Env;
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::telegram::fake::{ChatMessage, FakeTelegram, TgUser};
use std::process::Child;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(60);

struct Service {
    fake: FakeTelegram,
    env: Env,
    children: Vec<Child>,
    _ai: FakeOpenAi,
}

impl Drop for Service {
    fn drop(&mut self) {
        for c in &mut self.children {
            common::stop(c);
        }
        // Containers of a process killed on purpose (its owner is gone) are orphans.
        let _ = self.env.command(&["sandbox", "reap"]).output();
    }
}

async fn service(tag: &str, roles: &[&str], whitelist: &[i64]) -> Service {
    service_with(tag, roles, whitelist, &[]).await
}

async fn service_with(tag: &str, roles: &[&str], whitelist: &[i64], extra: &[(&str, &str)]) -> Service {
    let fake = FakeTelegram::start().await.unwrap();
    let ai = FakeOpenAi::start(FakeMode::Normal).await.unwrap();
    let url = fake.url();
    let ai_url = ai.base_url();
    let mut vars = vec![
        ("BOT_TOKEN", "123456:TEST-TOKEN"),
        ("TELEGRAM_API_URL", url.as_str()),
        ("AI_API_KEY", "test-key"),
        ("AI_BASE_URL", ai_url.as_str()),
    ];
    vars.extend_from_slice(extra);
    let env = Env::new(tag, &vars);
    for id in whitelist {
        let out = env.command(&["whitelist", "add", &id.to_string()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let children = roles
        .iter()
        .enumerate()
        .map(|(i, r)| env.spawn(r, &format!("p{i}")))
        .collect();
    let s = Service {
        fake,
        env,
        children,
        _ai: ai,
    };
    // Ready when the bot has set its commands (it has connected and started polling).
    let until = std::time::Instant::now() + WAIT;
    while s.fake.calls("setMyCommands").len() < 2 {
        assert!(std::time::Instant::now() < until, "the bot did not start: {}", s.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    s
}

impl Service {
    fn logs(&self) -> String {
        (0..self.children.len())
            .map(|i| self.env.log(&format!("p{i}")))
            .collect::<Vec<_>>()
            .join("\n----\n")
    }

    /// The bot's message replying to the student's message `to`.
    async fn reply_to(&self, user: &TgUser, to: i32) -> ChatMessage {
        self.fake
            .wait_for(user.id, WAIT, |chat| {
                chat.iter().find(|m| m.from_bot && m.reply_to == Some(to)).cloned()
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "no reply to message {to}: {:#?}\n{}",
                    self.fake.chat(user.id),
                    self.logs()
                )
            })
    }

    /// The result card for the student's message `to`: a reply sent as "⏳" and edited into a
    /// card (it has the 🔁 button).
    async fn card(&self, user: &TgUser, to: i32) -> ChatMessage {
        self.fake
            .wait_for(user.id, WAIT, |chat| {
                chat.iter()
                    .find(|m| {
                        m.from_bot
                            && m.reply_to == Some(to)
                            && m.edits >= 1
                            && m.buttons.iter().flatten().any(|(_, d)| d.starts_with("r:"))
                    })
                    .cloned()
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "no result card for {to}: {:#?}\n{}",
                    self.fake.chat(user.id),
                    self.logs()
                )
            })
    }

    async fn card_by_id(&self, user: &TgUser, id: i32) -> ChatMessage {
        self.fake
            .wait_for(user.id, WAIT, |chat| {
                chat.iter()
                    .find(|m| m.message_id == id && !m.text.starts_with('⏳'))
                    .cloned()
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "card {id} never filled: {:#?}\n{}",
                    self.fake.chat(user.id),
                    self.logs()
                )
            })
    }

    /// The first bot message after `after` whose text contains `needle`.
    async fn said(&self, user: &TgUser, after: i32, needle: &str) -> ChatMessage {
        self.fake
            .wait_for(user.id, WAIT, |chat| {
                chat.iter()
                    .find(|m| m.from_bot && m.message_id > after && m.text.contains(needle))
                    .cloned()
            })
            .await
            .unwrap_or_else(|| {
                panic!(
                    "the bot never said {needle:?}: {:#?}\n{}",
                    self.fake.chat(user.id),
                    self.logs()
                )
            })
    }

    fn button(m: &ChatMessage, prefix: &str) -> String {
        m.buttons
            .iter()
            .flatten()
            .map(|(_, d)| d.clone())
            .find(|d| d.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix}… button on {m:#?}"))
    }

    async fn choose_python(&self, user: &TgUser) {
        let m = self.fake.send_text(user, "/language");
        let menu = self.said(user, m, "").await;
        self.fake.press(user, menu.message_id, "l:python");
        self.fake
            .wait_for(user.id, WAIT, |_| {
                (self
                    .env
                    .psql(&format!("SELECT prog_language FROM users WHERE id = {}", user.id))
                    == "python")
                    .then_some(())
            })
            .await
            .expect("language saved");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_student_runs_code_and_uses_every_button() {
    let users: Vec<i64> = (1001..=1012).collect();
    let s = service("botflow", &["bot,worker"], &users).await;
    let u = |i: i64, name: &str| TgUser::new(i, name);

    // /start: the welcome with the student's name and the main menu; commands in ru and en.
    let anna = u(1001, "Анна");
    let m = s.fake.send_text(&anna, "/start");
    let welcome = s.said(&anna, m, "Анна").await;
    assert!(welcome
        .reply_markup
        .as_ref()
        .is_some_and(|r| r.get("keyboard").is_some()));
    let cmds = s.fake.calls("setMyCommands");
    assert!(cmds
        .iter()
        .any(|c| c.params.get("language_code").is_none()
            && c.params.to_string().contains("Выбрать язык программирования")));
    assert!(cmds.iter().any(|c| c.params["language_code"] == "en"));

    // Plain text code with a chosen language: "⏳" at once, then the result card.
    s.choose_python(&anna).await;
    let m = s.fake.send_text(&anna, "print(6 * 7)");
    let card = s.card(&anna, m).await;
    assert!(card.text.contains("42"), "{card:#?}");
    assert_eq!(card.parse_mode.as_deref(), Some("HTML"));
    assert!(card.text.contains("<pre><code"), "{}", card.text);
    assert!(!s.fake.calls("sendChatAction").is_empty(), "typing… was shown");
    // `/run` as a reply to a message with code runs it again; a 429 on the edit is waited out.
    s.fake.fail_with_retry_after("editMessageText", 1);
    s.fake.reply(&anna, m, "/run");
    s.fake
        .wait_for(anna.id, WAIT, |chat| {
            let cards: Vec<_> = chat
                .iter()
                .filter(|x| x.from_bot && x.reply_to == Some(m) && x.text.contains("42"))
                .collect();
            (cards.len() == 2).then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("/run as a reply: {:#?}\n{}", s.fake.chat(anna.id), s.logs()));
    assert!(
        s.fake.calls("editMessageText").iter().any(|c| c.status == 429),
        "the fake answered 429 once"
    );

    // A fenced JavaScript block picks its language by the tag.
    let boris = u(1002, "Boris").with_language("en");
    let m = s
        .fake
        .send_text(&boris, "here:\n```js\nconsole.log('hi from ' + 'js')\n```");
    let card = s.card(&boris, m).await;
    assert!(
        card.text.contains("hi from js") && card.text.contains("JavaScript"),
        "{}",
        card.text
    );
    assert!(
        card.text.contains("ran without errors"),
        "English for an English client: {}",
        card.text
    );

    // A .py document.
    let vera = u(1003, "Вера");
    let m = s
        .fake
        .send_document(&vera, "main.py", b"print(sum([1, 2, 3]) * 7)\n", "");
    let card = s.card(&vera, m).await;
    assert!(card.text.contains("42"), "{}", card.text);

    // An error explained from the registry in Russian, then in English after /settings.
    let gleb = u(1004, "Глеб");
    let m = s.fake.send_text(&gleb, "```python\na = 10\nb = 0\nprint(a / b)\n```");
    let card = s.card(&gleb, m).await;
    assert!(card.text.contains("из справочника типичных ошибок"), "{}", card.text);
    assert!(card.text.contains("ZeroDivisionError"));
    assert!(
        card.text.contains("<code>print(a / b)</code>"),
        "quotes the failing line: {}",
        card.text
    );
    assert!(card.text.contains("<blockquote expandable>"));
    let m2 = s.fake.send_text(&gleb, "/settings");
    let menu = s.said(&gleb, m2, "").await;
    s.fake.press(&gleb, menu.message_id, "s:en");
    let done = s.said(&gleb, menu.message_id, "English").await;
    let m = s.fake.send_text(&gleb, "```python\nprint(1 / 0)\n```");
    assert!(m > done.message_id);
    let card_en = s.card(&gleb, m).await;
    assert!(
        card_en.text.contains("from the common-errors guide"),
        "{}",
        card_en.text
    );

    // 👍 stores a vote; 🧠 asks the AI even though the registry matched.
    let vote = Service::button(&card, "v:");
    s.fake.press(&gleb, card.message_id, &vote);
    let check = vote.split(':').nth(1).unwrap().to_string();
    s.fake
        .wait_for(gleb.id, WAIT, |_| {
            (s.env
                .psql(&format!("SELECT vote FROM feedback WHERE check_id = {check}"))
                == "1")
                .then_some(())
        })
        .await
        .expect("the vote is stored");
    let explain = Service::button(&card_en, "x:");
    let last = s.fake.chat(gleb.id).last().unwrap().message_id;
    s.fake.press(&gleb, card_en.message_id, &explain);
    let ai = s.said(&gleb, last, "AI mentor").await;
    s.fake
        .wait_for(gleb.id, WAIT, |chat| {
            chat.iter()
                .find(|m| m.message_id == ai.message_id && m.text.contains("from the AI mentor"))
                .cloned()
        })
        .await
        .unwrap_or_else(|| panic!("AI explanation: {:#?}", s.fake.chat(gleb.id)));
    assert!(
        s.fake.calls("answerCallbackQuery").len() >= 3,
        "every callback is answered"
    );

    // Long output: cut in the card, the whole of it as a document.
    let dina = u(1005, "Дина");
    let m = s
        .fake
        .send_text(&dina, "```python\nfor i in range(1000):\n    print('line', i)\n```");
    let card = s.card(&dina, m).await;
    assert!(
        card.text.contains("line 39") && !card.text.contains("line 999"),
        "{}",
        card.text
    );
    assert!(card.text.contains("40 из 1000"), "{}", card.text);
    let full = Service::button(&card, "f:");
    s.fake.press(&dina, card.message_id, &full);
    let doc = s
        .fake
        .wait_for(dina.id, WAIT, |chat| chat.iter().find_map(|m| m.document.clone()))
        .await
        .unwrap_or_else(|| {
            panic!(
                "the full output as a document: {:?}\n{}",
                s.fake.calls("sendDocument"),
                s.logs()
            )
        });
    assert!(doc.file_name.ends_with(".txt"));
    let text = String::from_utf8(doc.bytes).unwrap();
    assert!(text.contains("line 0\n") && text.contains("line 999"));

    // 🔁 runs it again into a new card; 🕘 lists the history with re-run buttons.
    let rerun = Service::button(&card, "r:");
    let before = s.fake.chat(dina.id).last().unwrap().message_id;
    s.fake.press(&dina, card.message_id, &rerun);
    let again = s.said(&dina, before, "⏳").await;
    let again = s.card_by_id(&dina, again.message_id).await;
    assert!(again.text.contains("line 39"));
    let hist = Service::button(&card, "h:");
    let before = s.fake.chat(dina.id).last().unwrap().message_id;
    s.fake.press(&dina, card.message_id, &hist);
    let h = s.said(&dina, before, "🕘").await;
    assert_eq!(
        h.buttons.iter().flatten().filter(|(_, d)| d.starts_with("r:")).count(),
        2
    );

    // stdin: a program that wanted input gets ⌨️ offered at once; the answer re-runs it.
    let egor = u(1006, "Егор");
    let m = s
        .fake
        .send_text(&egor, "```python\nn = int(input())\nprint(n * 2)\n```");
    let card = s.card(&egor, m).await;
    assert!(card.text.contains("EOFError"), "{}", card.text);
    let prompt = s.said(&egor, card.message_id, "Что ввести").await;
    assert!(
        prompt.reply_markup.as_ref().is_some_and(|r| r["force_reply"] == true),
        "{prompt:#?}"
    );
    let answer = s.fake.reply(&egor, prompt.message_id, "21");
    let card = s.card(&egor, answer).await;
    assert!(card.text.contains("42"), "{}", card.text);
    // ⌨️ pressed by hand does the same.
    let input = Service::button(&card, "i:");
    s.fake.press(&egor, card.message_id, &input);
    let prompt = s.said(&egor, card.message_id, "Что ввести").await;
    let answer = s.fake.reply(&egor, prompt.message_id, "50");
    assert!(s.card(&egor, answer).await.text.contains("100"));

    // Editing the message with the code re-runs it into the same card.
    let zoya = u(1007, "Зоя");
    s.choose_python(&zoya).await;
    let m = s.fake.send_text(&zoya, "print('first')");
    let card = s.card(&zoya, m).await;
    assert!(card.text.contains("first"));
    s.fake.edit_text(&zoya, m, "print('second')");
    s.fake
        .wait_for(zoya.id, WAIT, |chat| {
            chat.iter()
                .find(|x| x.message_id == card.message_id && x.text.contains("second"))
                .cloned()
        })
        .await
        .unwrap_or_else(|| panic!("edit → re-run: {:#?}\n{}", s.fake.chat(zoya.id), s.logs()));
    assert_eq!(
        s.fake
            .chat(zoya.id)
            .iter()
            .filter(|x| x.from_bot && x.reply_to == Some(m))
            .count(),
        1,
        "the same card, not a new one"
    );

    // The rate limit: the third check within a minute is refused with a wait.
    s.env
        .psql("INSERT INTO settings (key, value) VALUES ('rate_limit_per_minute', '2')");
    let ivan = u(1008, "Иван");
    s.choose_python(&ivan).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the settings reload on NOTIFY
    for i in 0..2 {
        let m = s.fake.send_text(&ivan, &format!("print({i})"));
        s.card(&ivan, m).await;
    }
    let m = s.fake.send_text(&ivan, "print(3)");
    let r = s.reply_to(&ivan, m).await;
    assert!(r.text.contains("Подожди") && r.text.contains(" с"), "{}", r.text);
    s.env.psql("DELETE FROM settings WHERE key = 'rate_limit_per_minute'");

    // 403: the student blocked the bot; they are marked so broadcasts skip them.
    let kira = u(1009, "Кира");
    s.fake.block_bot(kira.id);
    s.fake.send_text(&kira, "print(1)");
    s.fake
        .wait_for(kira.id, WAIT, |_| {
            (s.env
                .psql(&format!("SELECT bot_blocked FROM users WHERE id = {}", kira.id))
                == "t")
                .then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("403 → bot_blocked: {}", s.logs()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn access_is_checked_on_every_update_and_bad_input_gets_polite_answers() {
    let s = service("botaccess", &["bot,worker"], &[2001, 2002]).await;

    // A stranger is told their id and may request access; their buttons do nothing else.
    let stranger = TgUser::new(2999, "Stranger").with_username("stranger_1");
    let m = s.fake.send_text(&stranger, "print(1)");
    let denied = s.said(&stranger, m, "2999").await;
    assert_eq!(Service::button(&denied, "a"), "a");
    s.fake.press(&stranger, denied.message_id, "r:1");
    s.fake.press(&stranger, denied.message_id, "a");
    s.said(&stranger, denied.message_id, "Запрос отправлен").await;
    assert_eq!(
        s.env.psql("SELECT status FROM access_requests WHERE user_id = 2999"),
        "pending"
    );
    assert_eq!(
        s.env.psql("SELECT count(*) FROM checks"),
        "0",
        "nothing ran for a stranger"
    );
    // Whitelisting by username lets them in and approves the request.
    let out = s.env.command(&["whitelist", "add", "@Stranger_1"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        s.env.psql("SELECT status FROM access_requests WHERE user_id = 2999"),
        "approved"
    );
    let list = s.env.command(&["whitelist", "list"]).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("stranger_1"));
    let bad = s.env.command(&["whitelist", "add", "not a user"]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("Telegram id"));

    let u = TgUser::new(2001, "Олег");
    // Stickers and voice: a polite "send code".
    let m = s.fake.send_other(&u, "sticker");
    s.said(&u, m, "Стикеры").await;
    // A 100 KB paste.
    let big = format!("print('{}')", "x".repeat(100 * 1024));
    let m = s.fake.send_text(&u, &format!("```python\n{big}\n```"));
    assert!(s.reply_to(&u, m).await.text.contains("слишком большая"));
    // A binary document, a 30 MB one, one without an extension.
    let m = s.fake.send_document(&u, "prog.py", &[0, 159, 146, 150, 255, 0, 1], "");
    assert!(s.reply_to(&u, m).await.text.contains("не похоже на текст"));
    let m = s.fake.send_document(&u, "huge.py", &vec![b'#'; 30 * 1024 * 1024], "");
    assert!(s.reply_to(&u, m).await.text.contains("слишком большой"));
    // A file without an extension whose code does not say its language (and no last language
    // yet): the bot asks; the program runs once a language is picked …
    let m = s.fake.send_document(&u, "notes", b"1 2 3\n4 5 6\n", "");
    let ask = s.reply_to(&u, m).await;
    assert!(ask.text.contains("На каком языке"), "{}", ask.text);
    let python = ask
        .buttons
        .iter()
        .flatten()
        .map(|(_, d)| d.clone())
        .find(|d| d.starts_with("p:") && d.ends_with(":python"))
        .unwrap_or_else(|| panic!("a Python button: {ask:#?}"));
    s.fake.press(&u, ask.message_id, &python);
    let card = s.card(&u, m).await;
    assert!(
        card.text.contains("SyntaxError"),
        "the waiting code ran once a language was picked: {}",
        card.text
    );
    // … while code that says its language itself (`print(…)`) runs at once.
    let m = s.fake.send_document(&u, "Makefile", b"print('no extension')\n", "");
    let card = s.card(&u, m).await;
    assert!(
        card.text.contains("no extension"),
        "recognised as Python: {}",
        card.text
    );
    // An unknown fence tag.
    let m = s.fake.send_text(&u, "```brainfuck\n+++.\n```");
    assert!(s.reply_to(&u, m).await.text.contains("brainfuck"));
    // Someone else's check.
    let other = TgUser::new(2002, "Other");
    let m = s.fake.send_text(&other, "x");
    let _ = s.reply_to(&other, m).await;
    let card_id = Service::button(&card, "r:");
    s.fake.press(&other, card.message_id, &card_id);
    let until = std::time::Instant::now() + WAIT;
    loop {
        let answered = s
            .fake
            .calls("answerCallbackQuery")
            .iter()
            .any(|c| c.params["text"].as_str().is_some_and(|t| t.contains("не твоя")));
        if answered {
            break;
        }
        assert!(std::time::Instant::now() < until, "not-yours answer: {}", s.logs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // 50 messages in a second: one check runs, nothing is queued twice, nothing crashes.
    let before: i64 = s.env.psql("SELECT count(*) FROM checks").parse().unwrap();
    for i in 0..50 {
        s.fake
            .send_text(&u, &format!("```python\nimport time\ntime.sleep(1)\nprint({i})\n```"));
    }
    s.fake
        .wait_for(u.id, WAIT, |_| (s.fake.pending_updates() == 0).then_some(()))
        .await
        .expect("all updates consumed");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after: i64 = s.env.psql("SELECT count(*) FROM checks").parse().unwrap();
    assert_eq!(after - before, 1, "one running check per user");
    let busy = s
        .fake
        .chat(u.id)
        .iter()
        .filter(|m| m.text.contains("ещё выполняется"))
        .count();
    assert!(
        (1..=3).contains(&busy),
        "busy notices are not repeated 49 times: {busy}"
    );
    // Still alive and answering.
    let m = s.fake.send_text(&u, "/help");
    s.said(&u, m, "/language").await;

    // Maintenance mode answers everyone with its message.
    s.env.psql(
        "INSERT INTO settings (key, value) VALUES ('maintenance_mode', 'true'), \
         ('maintenance_message_ru', '\"Чиним сервер\"')",
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let m = s.fake.send_text(&other, "print(1)");
    s.said(&other, m, "Чиним сервер").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_result_is_delivered_once_across_a_bot_restart() {
    let mut s = service("botrestart", &["worker", "bot"], &[3001]).await;
    let u = TgUser::new(3001, "Пётр");
    let m = s
        .fake
        .send_text(&u, "```python\nimport time\ntime.sleep(3)\nprint('survived')\n```");
    let first = s.reply_to(&u, m).await;
    assert!(first.text.starts_with('⏳'));
    let until = std::time::Instant::now() + WAIT;
    while s.env.psql("SELECT status FROM checks") != "running" {
        assert!(
            std::time::Instant::now() < until,
            "the check did not start: {}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The bot process dies while the check runs; the worker finishes it meanwhile.
    let bot = &mut s.children[1];
    bot.kill().unwrap();
    bot.wait().unwrap();
    let until = std::time::Instant::now() + WAIT;
    while s.env.psql("SELECT status FROM checks") != "done" {
        assert!(
            std::time::Instant::now() < until,
            "the worker did not finish: {}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let edits_before = s.fake.message(u.id, first.message_id).unwrap().edits;
    assert_eq!(edits_before, 0, "nobody delivered while the bot was down");
    // A new bot process delivers it, once.
    let replacement = s.env.spawn("bot", "p2");
    s.children.push(replacement);
    let card = s.card_by_id(&u, first.message_id).await;
    assert!(card.text.contains("survived"));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        s.fake.message(u.id, first.message_id).unwrap().edits,
        1,
        "delivered once"
    );
    assert_eq!(s.fake.calls("sendMessage").len(), 1, "no second card");
    assert!(!s.env.psql("SELECT delivered_at FROM checks").is_empty());

    // Dialogue state survives a restart: ⌨️ asked for input, the bot restarts, the answer runs.
    let input = Service::button(&card, "i:");
    s.fake.press(&u, card.message_id, &input);
    let prompt = s.said(&u, card.message_id, "Что ввести").await;
    let bot = s.children.last_mut().unwrap();
    bot.kill().unwrap();
    bot.wait().unwrap();
    let again = s.env.spawn("bot", "p3");
    s.children.push(again);
    let answer = s.fake.reply(&u, prompt.message_id, "ignored input");
    let card = s.card(&u, answer).await;
    assert!(card.text.contains("survived"), "{}", card.text);
    assert_eq!(s.env.psql("SELECT count(*) FROM checks WHERE stdin <> ''::bytea"), "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn webhook_mode_takes_updates_only_with_the_secret() {
    let hook = "https://bot.example.org/telegram/webhook";
    let s = service_with(
        "bothook",
        &["bot,worker,admin"],
        &[4001],
        &[
            ("TELEGRAM_WEBHOOK_URL", hook),
            ("TELEGRAM_WEBHOOK_SECRET", "s3cret-token"),
        ],
    )
    .await;
    assert_eq!(
        s.fake.webhook().as_deref(),
        Some(hook),
        "setWebhook with the configured URL"
    );
    assert!(s.fake.calls("getUpdates").is_empty(), "no long polling in webhook mode");
    let http = reqwest::Client::new();
    common::wait_ready(&http, &s.env.base()).await;
    let update = serde_json::json!({"update_id": 1, "message": {"message_id": 10, "date": 1_700_000_000,
        "chat": {"id": 4001, "type": "private", "first_name": "Web"},
        "from": {"id": 4001, "is_bot": false, "first_name": "Web", "language_code": "en"}, "text": "/help"}});
    let url = format!("{}/telegram/webhook", s.env.base());
    for secret in [None, Some("wrong")] {
        let mut r = http.post(&url).json(&update);
        if let Some(v) = secret {
            r = r.header("X-Telegram-Bot-Api-Secret-Token", v);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status(), 401, "secret {secret:?}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(s.fake.chat(4001).is_empty(), "refused updates reach nobody");
    let r = http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret-token")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let u = TgUser::new(4001, "Web").with_language("en");
    s.said(&u, 0, "/language").await;
}

/// Ingress and delivery do their work inside their actors' message handling: a panic in either
/// reaches the bot role's supervisor, which restarts the actor, and no message is lost — Telegram
/// sends the unconfirmed update again, and the undelivered card is delivered by the restarted
/// delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_panic_in_ingress_or_delivery_restarts_it_and_messages_keep_flowing() {
    let s = service_with(
        "botpanic",
        &["bot,worker,admin"],
        &[3101],
        &[
            ("DEVMENTOR_FAULT_PANIC_MARKER", "CRASH_HERE"),
            ("DEVMENTOR_FAULT_PANIC_IN", "ingress,delivery"),
        ],
    )
    .await;
    let u = TgUser::new(3101, "Ира");
    // The marker is in the message (ingress panics on the update) and in the code (delivery
    // panics on its card): both crash once.
    let m = s
        .fake
        .send_text(&u, "```python\nprint('still here')  # CRASH_HERE\n```");
    let card = s.card(&u, m).await;
    assert!(card.text.contains("still here"), "{}", card.text);
    let logs = s.logs();
    assert!(logs.contains("fault injection: ingress crashes"), "{logs}");
    assert!(logs.contains("fault injection: delivery crashes"), "{logs}");
    // Both were restarted by their supervisor, once each.
    let http = reqwest::Client::new();
    common::wait_ready(&http, &s.env.base()).await;
    let metrics = common::metrics(&http, &s.env.base()).await;
    assert!(
        metrics.contains("devmentor_actor_restarts_total{actor=\"ingress\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("devmentor_actor_restarts_total{actor=\"delivery\"} 1"),
        "{metrics}"
    );
    // And messages keep flowing through the restarted actors.
    let m2 = s.fake.send_text(&u, "```python\nprint(6 * 7)\n```");
    let card = s.card(&u, m2).await;
    assert!(card.text.contains("42"), "{}", card.text);
    assert_eq!(
        s.env.psql("SELECT count(*) FROM checks"),
        "2",
        "the redelivered update ran once"
    );
}

/// A task solved in Telegram: `/tasks`, the card, task mode, a wrong answer with the diff, the
/// teacher's hints then the AI's (which never sees a hidden test), an accepted solution, ✅ in
/// `/tasks` and in `/progress`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_student_solves_a_task_in_telegram() {
    let s = service("bottask", &["bot,worker"], &[3201]).await;
    let u = TgUser::new(3201, "Лена");
    let task_id = s.env.psql("SELECT id FROM tasks WHERE slug = 'sum-of-two'");
    let title = s.env.psql("SELECT title_ru FROM tasks WHERE slug = 'sum-of-two'");
    let m = s.fake.send_text(&u, "/tasks");
    let list = s.said(&u, m, &title).await;
    assert!(list.text.contains(&format!("· {title}")), "{}", list.text);
    s.fake.press(&u, list.message_id, &format!("t:{task_id}"));
    let card = s.said(&u, list.message_id, "Примеры").await;
    s.fake.press(&u, card.message_id, &format!("o:{task_id}"));
    let prompt = s.said(&u, card.message_id, "Жду решение").await;
    assert_eq!(
        s.env.psql("SELECT state->>'await' FROM users WHERE id = 3201"),
        "task",
        "task mode is stored"
    );

    // A wrong answer: the first visible test with input, expected, actual and the diff marked.
    let m = s
        .fake
        .send_text(&u, "```python\na, b = map(int, input().split())\nprint(a - b)\n```");
    let graded = s.said(&u, prompt.message_id, "не проходит").await;
    assert!(graded.text.contains("➜"), "{}", graded.text);
    assert_eq!(graded.reply_to, Some(m));
    let sub = s.env.psql("SELECT max(id) FROM submissions");
    // The teacher's hints in order, then the AI's.
    let hints: usize = s
        .env
        .psql("SELECT jsonb_array_length(hints) FROM tasks WHERE slug = 'sum-of-two'")
        .parse()
        .unwrap();
    let mut last = graded.message_id;
    for k in 0..hints {
        s.fake.press(&u, graded.message_id, &format!("n:{sub}:{k}"));
        let h = s.said(&u, last, &format!("Подсказка {} из {hints}", k + 1)).await;
        last = h.message_id;
    }
    s.fake.press(&u, graded.message_id, &format!("n:{sub}:{hints}"));
    s.said(&u, last, "Подсказка наставника").await;
    let asked = s._ai.requests();
    assert!(!asked.is_empty(), "the AI was asked for a hint");
    let hidden = s.env.psql(
        "SELECT string_agg(stdin, '|') FROM task_tests t JOIN tasks k ON k.id = t.task_id \
         WHERE k.slug = 'sum-of-two' AND t.hidden",
    );
    for h in hidden.split('|').map(str::trim).filter(|h| h.len() >= 6) {
        for r in &asked {
            assert!(!r.to_string().contains(h), "a hidden test's input reached the AI: {h}");
        }
    }

    // Accepted (slowly: the living message shows the progress first), then ✅ in /tasks and
    // in /progress.
    let m = s.fake.send_text(
        &u,
        "```python\nimport time\ntime.sleep(0.5)\na, b = map(int, input().split())\nprint(a + b)\n```",
    );
    let ok = s.said(&u, m, "решена").await;
    assert!(ok.edits >= 2, "progress, then the result, in one message: {ok:#?}");
    let m2 = s.fake.send_text(&u, "/tasks");
    let list = s.said(&u, m2.max(ok.message_id), &title).await;
    assert!(list.text.contains(&format!("✅ {title}")), "{}", list.text);
    let m3 = s.fake.send_text(&u, "/progress");
    s.said(&u, m3, "решено задач 1").await;
}
