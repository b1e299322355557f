//! A bot under test: the real `devmentor run` with the bot role (and workers) against the fake
//! Telegram Bot API, optionally with the fake OpenAI-compatible AI, and the waits every bot test
//! needs — the result card, a message that says something, a reply — each failing with the
//! whole chat and the service's log.

use super::{stop, Env};
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::telegram::fake::{ChatMessage, FakeTelegram, TgUser};
use std::process::Child;
use std::time::{Duration, Instant};

/// How long a test waits for the bot.
pub const WAIT: Duration = Duration::from_secs(90);

/// What to start.
pub struct Setup<'a> {
    /// Database and Redis prefix tag.
    pub tag: &'a str,
    /// Telegram ids added to the whitelist.
    pub whitelist: &'a [i64],
    /// Configure the fake AI (`AI_API_KEY` stays empty without it).
    pub ai: bool,
    /// More environment variables.
    pub vars: &'a [(&'a str, &'a str)],
    /// The service processes: `(roles, log name)`; the first one's log is read first.
    pub processes: &'a [(&'a str, &'a str)],
}

impl Default for Setup<'_> {
    fn default() -> Self {
        Setup {
            tag: "bot",
            whitelist: &[],
            ai: false,
            vars: &[],
            processes: &[("bot,worker", "p0")],
        }
    }
}

pub struct BotUnderTest {
    pub fake: FakeTelegram,
    pub env: Env,
    /// `(log name, process)`.
    pub processes: Vec<(String, Child)>,
    pub ai: Option<FakeOpenAi>,
}

impl Drop for BotUnderTest {
    fn drop(&mut self) {
        for (_, c) in &mut self.processes {
            stop(c);
        }
        // Containers of a process killed on purpose (its owner is gone) are orphans.
        let _ = self.env.command(&["sandbox", "reap"]).output();
    }
}

impl BotUnderTest {
    /// Starts the processes and waits until the bot has registered its commands (both languages).
    pub async fn start(s: Setup<'_>) -> BotUnderTest {
        let fake = FakeTelegram::start().await.unwrap();
        let url = fake.url();
        let ai = if s.ai {
            Some(FakeOpenAi::start(FakeMode::Normal).await.unwrap())
        } else {
            None
        };
        let ai_url = ai.as_ref().map(|a| a.base_url()).unwrap_or_default();
        let mut vars = vec![("BOT_TOKEN", "123456:TEST-TOKEN"), ("TELEGRAM_API_URL", url.as_str())];
        if ai.is_some() {
            vars.push(("AI_API_KEY", "test-key"));
            vars.push(("AI_BASE_URL", ai_url.as_str()));
        }
        vars.extend_from_slice(s.vars);
        let env = Env::new(s.tag, &vars);
        for id in s.whitelist {
            let out = env.command(&["whitelist", "add", &id.to_string()]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        let processes = s
            .processes
            .iter()
            .map(|(roles, log)| (log.to_string(), env.spawn(roles, log)))
            .collect();
        let b = BotUnderTest {
            fake,
            env,
            processes,
            ai,
        };
        let until = Instant::now() + WAIT;
        while b.fake.calls("setMyCommands").len() < 2 {
            assert!(Instant::now() < until, "the bot did not start: {}", b.logs());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        b
    }

    /// Every process's log, each under its name.
    pub fn logs(&self) -> String {
        self.processes
            .iter()
            .map(|(name, _)| format!("---- {name}\n{}", self.env.log(name)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The process started with log name `name`.
    pub fn process(&self, name: &str) -> &Child {
        &self
            .processes
            .iter()
            .find(|(n, _)| n == name)
            .expect("no such process")
            .1
    }

    /// Checks recorded so far.
    pub fn checks(&self) -> i64 {
        self.env.psql("SELECT count(*) FROM checks").parse().unwrap()
    }

    /// Waits until `f` finds something in `user`'s chat; fails with the chat and the logs.
    pub async fn until<T>(&self, user: &TgUser, what: &str, f: impl FnMut(&[ChatMessage]) -> Option<T>) -> T {
        match self.fake.wait_for(user.id, WAIT, f).await {
            Some(v) => v,
            None => panic!(
                "{what}: not seen; the chat: {:#?}\n{}",
                self.fake.chat(user.id),
                self.logs()
            ),
        }
    }

    /// The result card replying to the student's message `to`: the "⏳" message edited into a
    /// card (it has 🔁).
    pub async fn card(&self, user: &TgUser, to: i32) -> ChatMessage {
        self.until(user, &format!("the result card for {to}"), |chat| {
            chat.iter()
                .find(|m| m.from_bot && m.reply_to == Some(to) && m.edits >= 1 && has(m, "r:"))
                .cloned()
        })
        .await
    }

    /// The first bot message after `after` whose text contains `needle`.
    pub async fn said(&self, user: &TgUser, after: i32, needle: &str) -> ChatMessage {
        self.until(user, &format!("a message saying {needle:?}"), |chat| {
            chat.iter()
                .find(|m| m.from_bot && m.message_id > after && m.text.contains(needle))
                .cloned()
        })
        .await
    }

    /// The bot's reply to message `to` containing `needle`.
    pub async fn reply_with(&self, user: &TgUser, to: i32, needle: &str) -> ChatMessage {
        self.until(user, &format!("a reply to {to} saying {needle:?}"), |chat| {
            chat.iter()
                .find(|m| m.from_bot && m.reply_to == Some(to) && m.text.contains(needle))
                .cloned()
        })
        .await
    }
}

/// Whether a message has a button whose callback data starts with `prefix`.
pub fn has(m: &ChatMessage, prefix: &str) -> bool {
    m.buttons.iter().flatten().any(|(_, d)| d.starts_with(prefix))
}

/// The callback data of the message's first button that starts with `prefix`.
pub fn data(m: &ChatMessage, prefix: &str) -> String {
    m.buttons
        .iter()
        .flatten()
        .map(|(_, d)| d.clone())
        .find(|d| d.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button: {m:#?}"))
}
