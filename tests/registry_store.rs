//! The registry in PostgreSQL: migrations, import that respects admin edits, validation on
//! save, reload without a restart, change notifications, explanation events, the AI cache.

mod common;

use common::db;
use devmentor::ai::cache::AnswerCache;
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::ai::{AiClient, AiSettings};
use devmentor::analyzer::Analyzer;
use devmentor::registry::{catalogue, store, Locale, RegistryError};
use std::time::Duration;

fn failure(stderr: &str) -> devmentor::analyzer::Failure<'_> {
    common::python_failure(stderr, "x = 1\nprint(x / 0)\n", Locale::Ru, Some(42))
}

const ZERO: &str = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nZeroDivisionError: division by zero\n";
const UNKNOWN: &str = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nlib.OddError: something odd\n";

#[tokio::test]
async fn import_upserts_by_slug_and_never_overwrites_an_admin_edit() {
    let db = db::fresh().await;
    let entries = catalogue::builtin().unwrap();
    let mut client = db.store.client().await.unwrap();
    let r = store::import(&mut client, &entries).await.unwrap();
    assert_eq!(r.inserted, entries.len());
    assert_eq!(store::count(&client).await.unwrap() as usize, entries.len());

    // An admin rewrites one entry's Russian title.
    let mut edited = entries
        .iter()
        .find(|e| e.slug == "python-zero-division")
        .unwrap()
        .clone();
    edited.ru.title = "Деление на ноль (правка админа)".into();
    store::save_admin_edit(&mut client, &edited).await.unwrap();

    let r = store::import(&mut client, &entries).await.unwrap();
    assert_eq!(r.inserted, 0);
    assert_eq!(r.kept_admin_edits, 1);
    assert_eq!(r.updated, entries.len() - 1);
    let loaded = store::load(&client).await.unwrap();
    let e = loaded.iter().find(|e| e.slug == "python-zero-division").unwrap();
    assert_eq!(e.ru.title, "Деление на ноль (правка админа)");
    assert_eq!(e.en.title, edited.en.title, "the English text survives the round trip");
    assert_eq!(loaded.len(), entries.len());
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn an_invalid_regex_is_rejected_on_save_with_the_reason() {
    let db = db::fresh().await;
    let mut client = db.store.client().await.unwrap();
    let mut bad = catalogue::builtin()
        .unwrap()
        .into_iter()
        .find(|e| e.slug == "python-zero-division")
        .unwrap();
    bad.pattern = "division by (zero".into();
    let err = store::save_admin_edit(&mut client, &bad).await.unwrap_err();
    assert!(matches!(err, RegistryError::Invalid { .. }));
    assert!(err.to_string().contains("does not compile"), "{err}");
    bad.pattern = "^modulo".into();
    let err = store::save_admin_edit(&mut client, &bad).await.unwrap_err();
    assert!(err.to_string().contains("does not match its sample"), "{err}");
    assert_eq!(store::count(&client).await.unwrap(), 0, "nothing was written");

    // A bad row written behind the validation's back is never loaded into the matcher.
    client
        .batch_execute(
            "INSERT INTO registry_entries (slug, language, error_type, pattern, sample_error) \
             VALUES ('python-broken', 'python', 'ZeroDivisionError', '(unclosed', 'x')",
        )
        .await
        .unwrap();
    let analyzer = Analyzer::new(store::load(&client).await.unwrap(), None, None);
    assert_eq!(analyzer.matcher().len(), 0);
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn admin_changes_reload_without_a_restart_and_are_notified() {
    let db = db::fresh().await;
    let mut client = db.store.client().await.unwrap();
    let entries = catalogue::builtin().unwrap();
    store::import(&mut client, &entries).await.unwrap();
    let analyzer = Analyzer::new(store::load(&client).await.unwrap(), None, Some(db.store.clone()));
    let before = analyzer.explain(&failure(ZERO)).await.unwrap();
    assert_eq!(before.slug.as_deref(), Some("python-zero-division"));

    let (listener, mut connection) = db.store.dedicated().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let pump = tokio::spawn(async move {
        let mut stream = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(Ok(msg)) = stream.next().await {
            if let tokio_postgres::AsyncMessage::Notification(n) = msg {
                let _ = tx.send(n.channel().to_string());
            }
        }
    });
    listener.batch_execute("LISTEN registry_changed").await.unwrap();

    let mut edited = entries
        .iter()
        .find(|e| e.slug == "python-zero-division")
        .unwrap()
        .clone();
    edited.ru.title = "Сначала так".into();
    store::save_admin_edit(&mut client, &edited).await.unwrap();
    let channel = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a notification")
        .unwrap();
    assert_eq!(channel, "registry_changed");

    // The reloader a worker runs picks the next change up by itself.
    let analyzer = std::sync::Arc::new(analyzer);
    let stop = tokio_util::sync::CancellationToken::new();
    let reloader = devmentor::registry::listen::spawn_reloader(db.store.clone(), analyzer.clone(), stop.clone());
    tokio::time::sleep(Duration::from_millis(300)).await;
    edited.ru.title = "Новый заголовок".into();
    store::save_admin_edit(&mut client, &edited).await.unwrap();
    let mut after = None;
    for _ in 0..50 {
        let x = analyzer.explain(&failure(ZERO)).await.unwrap();
        if x.title == "Новый заголовок" {
            after = Some(x);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        after.is_some(),
        "the analyzer picked up the admin's change without a restart"
    );
    stop.cancel();
    reloader.await.unwrap();
    pump.abort();
    drop(listener);
    drop(client);
    db.drop_db().await;
}

#[tokio::test]
async fn every_explanation_is_recorded_and_ai_answers_are_cached_in_postgres() {
    let db = db::fresh().await;
    let mut client = db.store.client().await.unwrap();
    store::import(&mut client, &catalogue::builtin().unwrap())
        .await
        .unwrap();
    let fake = FakeOpenAi::start(FakeMode::Normal).await.unwrap();
    let settings = AiSettings {
        base_url: fake.base_url(),
        api_key: devmentor::Secret::new("k"),
        model: "openai/gpt-oss-20b".into(),
        timeout: Duration::from_secs(2),
        max_retry_wait: Duration::from_secs(1),
        max_retries: 1,
        max_concurrency: 4,
    };
    let ai = std::sync::Arc::new(AiClient::new(settings, AnswerCache::Postgres(db.store.clone())).unwrap());
    let analyzer = Analyzer::new(
        store::load(&client).await.unwrap(),
        Some(ai.clone()),
        Some(db.store.clone()),
    );

    assert_eq!(analyzer.explain(&failure(ZERO)).await.unwrap().source, "registry");
    assert_eq!(analyzer.explain(&failure(UNKNOWN)).await.unwrap().source, "ai");
    assert_eq!(analyzer.explain(&failure(UNKNOWN)).await.unwrap().source, "cache");
    assert_eq!(fake.requests().len(), 1);

    let rows = client
        .query(
            "SELECT check_id, error_type, entry_slug, source, fingerprint FROM explanation_events ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].get::<_, Option<i64>>(0), Some(42));
    assert_eq!(
        rows[0].get::<_, Option<String>>(2).as_deref(),
        Some("python-zero-division")
    );
    assert_eq!(rows[1].get::<_, String>(1), "OddError");
    assert_eq!(
        rows[1].get::<_, Option<String>>(2),
        None,
        "unmatched: no entry, a fingerprint"
    );
    assert_eq!(rows[1].get::<_, String>(3), "ai");
    assert_eq!(rows[2].get::<_, String>(3), "cache");
    assert_eq!(
        rows[1].get::<_, String>(4),
        rows[2].get::<_, String>(4),
        "the same error, the same fingerprint"
    );
    let hits: i64 = client.query_one("SELECT hits FROM ai_cache", &[]).await.unwrap().get(0);
    assert_eq!(hits, 1);
    drop(client);
    db.drop_db().await;
}
