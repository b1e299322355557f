//! The result card a student reads (issue 15): the real `devmentor run` against real
//! PostgreSQL, Redis and Docker and the fake Telegram Bot API. A failed program's card leads
//! with the line that says what went wrong; a program the language refused says it did not
//! start; 🧠 is offered only when an AI can answer; 📖 shows the catalogue's example.

mod common;

use devmentor::i18n::t;
use devmentor::registry::{catalogue, Locale};
use devmentor::telegram::fake::{ChatMessage, TgUser};
use devmentor::telegram::render::escape;

use common::bot::{BotUnderTest, Setup};

/// The bot and a worker; with `ai`, an AI (the fake OpenAI-compatible server) is configured,
/// without it `AI_API_KEY` is empty.
async fn service(tag: &str, whitelist: &[i64], ai: bool) -> BotUnderTest {
    BotUnderTest::start(Setup {
        tag,
        whitelist,
        ai,
        ..Setup::default()
    })
    .await
}

fn data(m: &ChatMessage) -> Vec<String> {
    m.buttons.iter().flatten().map(|(_, d)| d.clone()).collect()
}

fn first_line(m: &ChatMessage) -> &str {
    m.text.lines().next().unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_an_ai_the_card_leads_with_the_error_and_offers_the_example_not_the_brain() {
    let s = service("card_noai", &[1501, 1502], false).await;
    let anna = TgUser::new(1501, "Анна");

    // ZeroDivisionError: the decisive line first, the traceback after it, folded.
    let m = s.fake.send_text(&anna, "```python\na = 10\nb = 0\nprint(a / b)\n```");
    let card = s.card(&anna, m).await;
    let quote = "<blockquote><code>ZeroDivisionError: division by zero</code></blockquote>";
    let at = card.text.find(quote).unwrap_or_else(|| panic!("{}", card.text));
    let traceback = card
        .text
        .find("<blockquote expandable>Traceback (most recent call last):")
        .unwrap_or_else(|| panic!("{}", card.text));
    assert!(at < traceback, "{}", card.text);
    assert!(
        first_line(&card).contains(&t(Locale::Ru, "bot.outcome.stopped_with_error")),
        "{}",
        card.text
    );
    let buttons = data(&card);
    assert!(
        !buttons.iter().any(|d| d.starts_with("x:")),
        "no 🧠 without an AI: {buttons:?}"
    );

    // 📖: the catalogue entry's own wrong and right examples, as a separate message.
    let example = buttons
        .iter()
        .find(|d| d.starts_with("e:"))
        .unwrap_or_else(|| panic!("no 📖 button: {buttons:?}"))
        .clone();
    let slug = s.env.psql(&format!(
        "SELECT result->'explanation'->>'slug' FROM checks WHERE message_id = {} AND chat_id = {}",
        card.message_id, anna.id
    ));
    let entry = catalogue::builtin()
        .unwrap()
        .into_iter()
        .find(|e| e.slug == slug)
        .unwrap_or_else(|| panic!("the card's entry {slug:?} is in the catalogue"));
    let last = s.fake.chat(anna.id).last().map(|m| m.message_id).unwrap_or(0);
    s.fake.press(&anna, card.message_id, &example);
    let shown = s.said(&anna, last, &escape(entry.ru.example_bad.trim())).await;
    assert!(
        shown.text.contains(&escape(entry.ru.example_good.trim())),
        "{}",
        shown.text
    );
    assert!(shown.text.contains(&t(Locale::Ru, "bot.example.bad")), "{}", shown.text);

    // A SyntaxError: the program did not start, as its explanation says too.
    let boris = TgUser::new(1502, "Boris").with_language("en");
    let m = s.fake.send_text(&boris, "```python\nprint('hi'\n```");
    let card = s.card(&boris, m).await;
    let head = first_line(&card);
    assert!(
        head.contains(&t(Locale::En, "bot.outcome.did_not_start")),
        "{}",
        card.text
    );
    assert!(!head.contains(&t(Locale::En, "bot.verdict.runtime_error")), "{head}");
    assert!(!head.contains("exit code"), "{head}");
    assert!(
        card.text.contains("did not even start") || card.text.contains("did not start"),
        "{}",
        card.text
    );
    assert!(!data(&card).iter().any(|d| d.starts_with("x:")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_an_ai_the_card_offers_explain_more() {
    let s = service("card_ai", &[1511], true).await;
    let vera = TgUser::new(1511, "Вера");
    let m = s.fake.send_text(&vera, "```python\nprint(1 / 0)\n```");
    let card = s.card(&vera, m).await;
    let explain = data(&card)
        .into_iter()
        .find(|d| d.starts_with("x:"))
        .unwrap_or_else(|| panic!("🧠 with an AI: {:?}", card.buttons));
    let last = s.fake.chat(vera.id).last().map(|m| m.message_id).unwrap_or(0);
    s.fake.press(&vera, card.message_id, &explain);
    let answer = s.said(&vera, last, &t(Locale::Ru, "analyzer.ai.title")).await;
    assert!(
        !answer.text.contains(&t(Locale::Ru, "bot.ai_unavailable")),
        "{}",
        answer.text
    );
}

/// Items 5, 8 and 11 through the bot: the catalogue's inline code arrives as `<code>`, never as
/// raw backticks; Python's own "Did you mean …?" is shown in a sentence; a number in an
/// explanation agrees with its noun (Russian's three plural forms).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_card_shows_code_as_code_the_languages_suggestion_and_agreeing_numbers() {
    let s = service("card_words", &[1521], false).await;
    let gleb = TgUser::new(1521, "Глеб");
    let m = s.fake.send_text(&gleb, "```python\ncount = 3\nprint(cout)\n```");
    let card = s.card(&gleb, m).await;
    assert!(card.text.contains("NameError"), "{}", card.text);
    let suggestion = t(Locale::Ru, "bot.card.suggestion").replace("{name}", "count");
    assert!(
        card.text.contains(&suggestion),
        "the language's own suggestion: {}",
        card.text
    );
    assert!(
        !card.text.contains('`'),
        "no raw Markdown in the HTML card: {}",
        card.text
    );
    assert!(card.text.contains("<code>"), "{}", card.text);

    // Go says the length; the explanation puts the noun in the form that number needs.
    for (length, words) in [
        (3, "всего 3 элемента"),
        (5, "всего 5 элементов"),
        (1, "всего 1 элемент"),
    ] {
        let items = vec!["7"; length].join(", ");
        let code =
            format!("```go\npackage main\n\nfunc main() {{\n\ta := []int{{{items}}}\n\ti := 9\n\t_ = a[i]\n}}\n```");
        let m = s.fake.send_text(&gleb, &code);
        let card = s.card(&gleb, m).await;
        assert!(card.text.contains(words), "{length}: {}", card.text);
    }
}
