//! The AI client against the fake OpenAI-compatible server: every failure mode, the cache, the
//! guardrail against code, and the circuit breaker. Real HTTP on loopback, real reqwest.

mod common;

use devmentor::ai::cache::AnswerCache;
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::ai::{AiClient, AiError, AiSettings};
use devmentor::analyzer::extract::ExtractedError;
use devmentor::analyzer::Analyzer;
use devmentor::registry::Locale;
use devmentor::Secret;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn settings(fake: &FakeOpenAi, model: &str) -> AiSettings {
    AiSettings {
        base_url: fake.base_url(),
        api_key: Secret::new("gsk_test_key"),
        model: model.into(),
        timeout: Duration::from_secs(2),
        max_retry_wait: Duration::from_secs(2),
        max_retries: 2,
        max_concurrency: 4,
    }
}

async fn client(mode: FakeMode) -> (FakeOpenAi, AiClient) {
    let fake = FakeOpenAi::start(mode).await.unwrap();
    let c = AiClient::new(settings(&fake, "openai/gpt-oss-20b"), AnswerCache::memory()).unwrap();
    (fake, c)
}

fn error() -> ExtractedError {
    ExtractedError {
        error_type: "JSONDecodeError".into(),
        message: "Expecting value: line 1 column 1 (char 0)".into(),
        line: Some(3),
        source_line: Some("data = json.loads(text)".into()),
        suggestion: None,
        ..Default::default()
    }
}

const CODE: &str = "import json\ntext = input()\ndata = json.loads(text)\nprint(data)\n";

#[tokio::test]
async fn a_normal_answer_in_the_students_language_with_only_what_is_needed() {
    let (fake, c) = client(FakeMode::Normal).await;
    let a = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    assert!(!a.cached);
    assert!(
        a.text.contains("JSONDecodeError") && a.text.contains("строке 3"),
        "{}",
        a.text
    );
    let req = &fake.requests()[0];
    assert_eq!(req["model"], "openai/gpt-oss-20b");
    assert_eq!(req["reasoning_effort"], "low");
    let system = req["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("Answer in Russian") && system.contains("NEVER write a corrected program"));
    let user = req["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Message: Expecting value") && user.contains("   3 | data = json.loads(text)"));
    assert!(fake.heads()[0]
        .to_lowercase()
        .contains("authorization: bearer gsk_test_key"));
    assert!(fake.heads()[0].starts_with("POST /openai/v1/chat/completions "));

    // A long program is never sent whole: only the lines around the error.
    let long: String = (1..=200).map(|i| format!("value_{i} = {i}\n")).collect();
    let mut e = error();
    e.line = Some(120);
    e.message = "another message".into();
    c.explain("python", Locale::En, &e, &long).await.unwrap();
    let user = fake.requests()[1]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        user.contains("value_120 = 120") && !user.contains("value_1 = 1\n") && !user.contains("value_200"),
        "{user}"
    );
    assert!(fake.requests()[1]["messages"][0]["content"]
        .as_str()
        .unwrap()
        .contains("Answer in English"));
}

#[tokio::test]
async fn answers_are_cached_by_fingerprint_with_hit_counts() {
    let (fake, c) = client(FakeMode::Normal).await;
    let first = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    let second = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    assert!(second.cached);
    assert_eq!(first.text, second.text);
    assert_eq!(fake.requests().len(), 1, "the second answer comes from the cache");
    assert_eq!(c.stats.cache_hits.load(Ordering::Relaxed), 1);
    // Another locale is another answer.
    let en = c.explain("python", Locale::En, &error(), CODE).await.unwrap();
    assert!(!en.cached);
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn answers_with_code_get_one_rewrite_then_are_refused() {
    let (fake, c) = client(FakeMode::CodeThenClean).await;
    let a = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    assert!(!a.text.contains("```"), "{}", a.text);
    assert_eq!(fake.requests().len(), 2);
    let rewrite = fake.requests()[1]["messages"].as_array().unwrap().clone();
    assert_eq!(rewrite.len(), 4);
    assert!(
        rewrite[3]["content"].as_str().unwrap().contains("without")
            || rewrite[3]["content"].as_str().unwrap().contains("words only")
    );

    let (fake, c) = client(FakeMode::AlwaysCode).await;
    let err = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err();
    assert_eq!(err, AiError::CodeInAnswer);
    assert_eq!(fake.requests().len(), 2, "exactly one rewrite is asked for");
}

#[tokio::test]
async fn slow_answers_time_out() {
    let (_fake, c) = client(FakeMode::Slow(Duration::from_secs(5))).await;
    let t = Instant::now();
    let err = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err();
    assert_eq!(err, AiError::Timeout);
    assert!(t.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn rate_limits_honour_retry_after_with_a_cap() {
    let (fake, c) = client(FakeMode::RateLimited {
        times: 1,
        retry_after: "1".into(),
    })
    .await;
    let t = Instant::now();
    c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    assert!(t.elapsed() >= Duration::from_secs(1), "waited {:?}", t.elapsed());
    assert_eq!(fake.requests().len(), 2);

    // A huge retry-after is capped (2 s here), and retries stop after max_retries.
    let (fake, c) = client(FakeMode::RateLimited {
        times: 100,
        retry_after: "3600".into(),
    })
    .await;
    let t = Instant::now();
    let err = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err();
    assert_eq!(err, AiError::RateLimited);
    assert_eq!(fake.requests().len(), 3);
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "waits are capped: {:?}",
        t.elapsed()
    );
    assert!(c.stats.rate_limited.load(Ordering::Relaxed) >= 3);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let (fake, c) = client(FakeMode::ServerError { times: 2 }).await;
    c.explain("python", Locale::Ru, &error(), CODE).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
    let (fake, c) = client(FakeMode::ServerError { times: 100 }).await;
    assert_eq!(
        c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err(),
        AiError::Server(500)
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn malformed_and_cut_off_answers_are_errors() {
    let (_f, c) = client(FakeMode::Malformed).await;
    assert!(matches!(
        c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err(),
        AiError::Malformed(_)
    ));
    let (_f, c) = client(FakeMode::LengthEmpty).await;
    assert_eq!(
        c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err(),
        AiError::Empty("length".into())
    );
}

#[tokio::test]
async fn bad_keys_and_dead_models_are_loud_and_stop_calls() {
    let (fake, c) = client(FakeMode::Unauthorized).await;
    assert_eq!(
        c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err(),
        AiError::Unauthorized
    );
    assert_eq!(c.stats.auth_errors.load(Ordering::Relaxed), 1);
    // The breaker opens at once for a bad key: the next call does not reach the server.
    let mut e = error();
    e.message = "different".into();
    assert_eq!(
        c.explain("python", Locale::Ru, &e, CODE).await.unwrap_err(),
        AiError::CircuitOpen
    );
    assert_eq!(fake.requests().len(), 1);

    let fake = FakeOpenAi::start(FakeMode::Decommissioned).await.unwrap();
    let c = AiClient::new(settings(&fake, "llama3-8b-8192"), AnswerCache::memory()).unwrap();
    let err = c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err();
    assert_eq!(err, AiError::ModelDecommissioned("llama3-8b-8192".into()));
    assert_eq!(c.stats.decommissioned.load(Ordering::Relaxed), 1);
    assert!(
        fake.requests()[0].get("reasoning_effort").is_none(),
        "llama models get no reasoning_effort"
    );
}

#[tokio::test]
async fn the_circuit_breaker_stops_an_outage_from_slowing_every_check() {
    let fake = FakeOpenAi::start(FakeMode::ServerError { times: 1000 }).await.unwrap();
    let mut s = settings(&fake, "openai/gpt-oss-20b");
    s.max_retries = 0;
    let c = AiClient::new(s, AnswerCache::memory()).unwrap();
    for i in 0..4 {
        let mut e = error();
        e.message = format!("m{i}");
        assert_eq!(
            c.explain("python", Locale::Ru, &e, CODE).await.unwrap_err(),
            AiError::Server(500)
        );
    }
    let t = Instant::now();
    assert_eq!(
        c.explain("python", Locale::Ru, &error(), CODE).await.unwrap_err(),
        AiError::CircuitOpen
    );
    assert!(t.elapsed() < Duration::from_millis(50));
    assert_eq!(fake.requests().len(), 4);
}

fn failure(stderr: &str, locale: Locale) -> devmentor::analyzer::Failure<'_> {
    common::python_failure(stderr, "import weird\nweird.go()\n", locale, None)
}

#[tokio::test]
async fn the_analyzer_asks_the_ai_only_when_the_registry_has_nothing() {
    let fake = FakeOpenAi::start(FakeMode::Normal).await.unwrap();
    let ai = std::sync::Arc::new(AiClient::new(settings(&fake, "openai/gpt-oss-20b"), AnswerCache::memory()).unwrap());
    let entries = devmentor::registry::catalogue::builtin().unwrap();
    let analyzer = Analyzer::new(entries.clone(), Some(ai), None);

    let known = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nZeroDivisionError: division by zero\n";
    let x = analyzer.explain(&failure(known, Locale::Ru)).await.unwrap();
    assert_eq!(x.source, "registry");
    assert!(fake.requests().is_empty(), "a registry match never calls the AI");

    let unknown = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nweird.WeirdError: the flux capacitor is empty\n";
    let x = analyzer.explain(&failure(unknown, Locale::En)).await.unwrap();
    assert_eq!(x.source, "ai");
    assert_eq!(x.error_type, "WeirdError");
    assert_eq!(x.line, Some(2));
    assert!(x.text.contains("WeirdError"));
    let x = analyzer.explain(&failure(unknown, Locale::En)).await.unwrap();
    assert_eq!(x.source, "cache");

    // Without a key: no AI, and the student is told so plainly.
    let analyzer = Analyzer::new(entries, None, None);
    let x = analyzer.explain(&failure(unknown, Locale::Ru)).await.unwrap();
    assert_eq!(x.source, "none");
    assert!(x.text.contains("не подключены"), "{}", x.text);
}

#[tokio::test]
async fn ai_calls_are_bounded_in_concurrency() {
    let fake = FakeOpenAi::start(FakeMode::Slow(Duration::from_millis(300)))
        .await
        .unwrap();
    let mut s = settings(&fake, "openai/gpt-oss-20b");
    s.max_concurrency = 1;
    let c = std::sync::Arc::new(AiClient::new(s, AnswerCache::memory()).unwrap());
    let t = Instant::now();
    let calls = (0..3).map(|i| {
        let c = c.clone();
        tokio::spawn(async move {
            let mut e = error();
            e.message = format!("distinct {i}");
            c.explain("python", Locale::En, &e, CODE).await
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap().unwrap();
    }
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "one at a time: {:?}",
        t.elapsed()
    );
    assert_eq!(fake.requests().len(), 3);
}
