//! The HTTP API as a client sees it: a real server on 127.0.0.1:0 (`api::serve`), real
//! PostgreSQL (a fresh database per test) and Redis (a key prefix per test), spoken to with
//! reqwest. Outages are real too: a private `redis-server` that the test kills and restarts, and
//! a TCP proxy in front of PostgreSQL that the test closes and reopens.

mod common;

use common::db::{self, TestDb};
use common::harness::{free_port, redis_url};
use devmentor::api::{self, ApiState, RateLimiter};
use devmentor::check::{CheckResult, InputLimits};
use devmentor::config::SandboxConfig;
use devmentor::metrics::Metrics;
use devmentor::queue::Queue;
use devmentor::registry::Locale;
use devmentor::sandbox::language::default_limits;
use devmentor::sandbox::{Languages, Verdict};
use devmentor::store::{checks, tokens, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn limits() -> InputLimits {
    InputLimits::from(&SandboxConfig::default())
}

/// A running API and what it stands on.
struct App {
    base: String,
    db: TestDb,
    queue: Queue,
    redis_url: String,
    prefix: String,
    metrics: Arc<Metrics>,
    http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The usual set-up: the shared Redis, PostgreSQL directly, no Docker.
async fn spawn_app() -> App {
    let db = db::fresh().await;
    let store = db.store.clone();
    start(db, store, &redis_url(), None).await
}

async fn start(db: TestDb, store: Store, redis_url: &str, docker: Option<bollard::Docker>) -> App {
    let prefix = common::harness::redis_prefix("api");
    let queue = Queue::connect(redis_url, &prefix)
        .await
        .expect("Redis must be running: run `make test`");
    let metrics = Arc::new(Metrics::default());
    let api = Arc::new(ApiState {
        store,
        queue: queue.clone(),
        metrics: metrics.clone(),
        languages: Arc::new(Languages::builtin(default_limits(10, 64 * 1024))),
        limits: limits(),
    });
    let state = Arc::new(devmentor::http::ServerState::api_only(api, docker));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, task) = devmentor::http::serve("127.0.0.1:0".parse().unwrap(), state, async {
        let _ = stopped.await;
    })
    .await
    .unwrap();
    App {
        base: format!("http://{addr}"),
        db,
        queue,
        redis_url: redis_url.to_string(),
        prefix,
        metrics,
        http: reqwest::Client::new(),
        stop: Some(stop),
        task: Some(task),
    }
}

impl App {
    /// A new API token: (its id, the token).
    async fn token(&self, name: &str, rate_per_minute: i32) -> (i64, String) {
        let client = self.db.store.client().await.unwrap();
        tokens::create(&client, name, rate_per_minute).await.unwrap()
    }

    async fn post(&self, token: Option<&str>, body: impl Into<reqwest::Body>) -> reqwest::Response {
        let mut req = self.http.post(format!("{}/api/v1/checks", self.base)).body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    async fn submit(&self, token: &str, check: &Value) -> reqwest::Response {
        self.post(Some(token), check.to_string()).await
    }

    /// Submits a valid check and returns its id.
    async fn submit_ok(&self, token: &str) -> i64 {
        let res = self
            .submit(token, &json!({"language": "python", "code": "print(1)\n"}))
            .await;
        assert_eq!(res.status(), 202);
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Rows in `checks`, read directly (not through the API's own store).
    async fn rows(&self) -> i64 {
        let client = self.db.store.client().await.unwrap();
        client
            .query_one("SELECT count(*) FROM checks", &[])
            .await
            .unwrap()
            .get(0)
    }

    async fn waiting(&self) -> u64 {
        self.queue.depth().await.unwrap().waiting
    }

    /// Stops the server, removes the Redis keys and the database.
    async fn finish(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the server stops after its shutdown signal")
                .unwrap();
        }
        self.queue.quit().await;
        delete_keys(&self.redis_url, &self.prefix).await;
        self.db.drop_db().await;
    }
}

async fn delete_keys(url: &str, prefix: &str) {
    use fred::prelude::*;
    let Ok(config) = Config::from_url(url) else { return };
    let Ok(client) = Builder::from_config(config).build() else {
        return;
    };
    if client.init().await.is_ok() {
        let _: Result<i64, _> = client
            .del(vec![format!("{prefix}checks"), format!("{prefix}results")])
            .await;
        let _ = client.quit().await;
    }
}

/// Asserts a JSON error with this status and code, and a message for a person.
async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "expected {status} {code}");
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    assert!(ct.starts_with("application/json"), "{ct}");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.is_empty());
    body
}

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn a_valid_check_is_stored_queued_and_enqueued() {
    let app = spawn_app().await;
    let (token_id, token) = app.token("front-end", 60).await;
    let res = app
        .submit(
            &token,
            &json!({"language": "py", "code": "print(input())\n", "stdin": "hi\n", "locale": "en"}),
        )
        .await;
    assert_eq!(res.status(), 202);
    let location = header(&res, "location").unwrap();
    let body: Value = res.json().await.unwrap();
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body, json!({"id": id, "status": "queued"}));
    assert_eq!(location, format!("/api/v1/checks/{id}"));

    let client = app.db.store.client().await.unwrap();
    let row = checks::get(&client, id).await.unwrap().unwrap();
    assert_eq!(row.status, "queued");
    assert_eq!(row.source, "api");
    assert_eq!(row.language, "python", "an alias is stored as the language's name");
    assert_eq!(row.code, "print(input())\n");
    assert_eq!(row.stdin, b"hi\n");
    assert_eq!(row.locale, Locale::En);
    assert_eq!(row.token_id, Some(token_id));
    assert_eq!(app.waiting().await, 1);
    let jobs = app
        .queue
        .claim("test-worker", 10, Duration::from_millis(100))
        .await
        .unwrap();
    assert_eq!(jobs.iter().map(|j| j.check_id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(app.metrics.checks_submitted.load(Ordering::Relaxed), 1);
    app.finish().await;
}

#[tokio::test]
async fn a_long_poll_returns_the_check_once_a_worker_finishes_it() {
    let app = spawn_app().await;
    let (_, token) = app.token("front-end", 60).await;
    let id = app.submit_ok(&token).await;

    // A worker takes the check and finishes it while the client is waiting.
    let store = app.db.store.clone();
    let worker = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let client = store.client().await.unwrap();
        checks::start(&client, id, "test-worker").await.unwrap().unwrap();
        let result = CheckResult {
            language: "python".into(),
            verdict: Verdict::RuntimeError,
            exit_code: Some(1),
            signal: None,
            stdout: "1\n".into(),
            stderr: "ZeroDivisionError: division by zero\n".into(),
            truncated: false,
            duration_ms: 41,
            explanation: None,
        };
        let mut value = serde_json::to_value(&result).unwrap();
        value["explanation"] = json!({"source": "registry", "slug": "python-zero-division", "line": 2});
        let result: CheckResult = serde_json::from_value(value).unwrap();
        assert!(checks::finish(&client, id, &result).await.unwrap());
    });
    let res = app.get(&format!("/api/v1/checks/{id}?wait=10"), Some(&token)).await;
    assert_eq!(res.status(), 200);
    let check: Value = res.json().await.unwrap();
    worker.await.unwrap();

    let keys: Vec<&str> = check.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "id",
        "status",
        "language",
        "verdict",
        "exit_code",
        "signal",
        "stdout",
        "stderr",
        "truncated",
        "duration_ms",
        "explanation",
        "created_at",
        "started_at",
        "finished_at",
    ];
    expected.sort_unstable();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort_unstable();
    assert_eq!(keys_sorted, expected);
    assert_eq!(check["id"], id);
    assert_eq!(check["status"], "done");
    assert_eq!(check["language"], "python");
    assert_eq!(check["verdict"], "runtime_error");
    assert_eq!(check["exit_code"], 1);
    assert_eq!(check["signal"], Value::Null);
    assert_eq!(check["stdout"], "1\n");
    assert_eq!(check["stderr"], "ZeroDivisionError: division by zero\n");
    assert_eq!(check["truncated"], false);
    assert_eq!(check["duration_ms"], 41);
    assert_eq!(check["explanation"]["slug"], "python-zero-division");

    // The timestamps are the stored instants, in RFC 3339 UTC, exactly as PostgreSQL prints them.
    let client = app.db.store.client().await.unwrap();
    let fmt = r#"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#;
    let row = client
        .query_one(
            &format!(
                "SELECT to_char(created_at AT TIME ZONE 'UTC', {fmt}), to_char(started_at AT TIME ZONE 'UTC', {fmt}),
                        to_char(finished_at AT TIME ZONE 'UTC', {fmt}) FROM checks WHERE id = $1"
            ),
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(check["created_at"], row.get::<_, String>(0));
    assert_eq!(check["started_at"], row.get::<_, String>(1));
    assert_eq!(check["finished_at"], row.get::<_, String>(2));
    app.finish().await;
}

#[tokio::test]
async fn a_long_poll_on_a_queued_check_answers_at_its_deadline() {
    let app = spawn_app().await;
    let (_, token) = app.token("front-end", 60).await;
    let id = app.submit_ok(&token).await;

    let started = Instant::now();
    let res = app.get(&format!("/api/v1/checks/{id}?wait=1"), Some(&token)).await;
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(res.status(), 200);
    let check: Value = res.json().await.unwrap();
    assert_eq!(check["status"], "queued");
    assert_eq!(check["language"], "python");
    for field in [
        "verdict",
        "exit_code",
        "stdout",
        "stderr",
        "explanation",
        "started_at",
        "finished_at",
    ] {
        assert_eq!(check[field], Value::Null, "{field}");
    }
    assert!(check["created_at"].as_str().unwrap().ends_with('Z'));

    let res = app.get(&format!("/api/v1/checks/{id}"), Some(&token)).await;
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "queued");
    for bad in ["61", "-1", "1.5", "soon"] {
        let res = app.get(&format!("/api/v1/checks/{id}?wait={bad}"), Some(&token)).await;
        expect_error(res, 400, "invalid_wait").await;
    }
    app.finish().await;
}

#[tokio::test]
async fn bad_submissions_are_refused_and_nothing_is_kept() {
    let app = spawn_app().await;
    let (_, token) = app.token("front-end", 1000).await;
    let (revoked_id, revoked) = app.token("old", 60).await;
    {
        let client = app.db.store.client().await.unwrap();
        client
            .execute("UPDATE api_tokens SET revoked = TRUE WHERE id = $1", &[&revoked_id])
            .await
            .unwrap();
    }
    let limits = limits();
    let check = |language: &str, code: String| json!({"language": language, "code": code}).to_string();
    let cases: Vec<(&str, Option<&str>, String, u16, &str)> = vec![
        (
            "truncated JSON",
            Some(&token),
            r#"{"language": "python", "code": "#.into(),
            400,
            "malformed_json",
        ),
        ("not an object", Some(&token), "[1, 2]".into(), 400, "malformed_json"),
        ("empty body", Some(&token), String::new(), 400, "malformed_json"),
        (
            "code is a number",
            Some(&token),
            r#"{"language": "python", "code": 5}"#.into(),
            400,
            "malformed_json",
        ),
        (
            "no code",
            Some(&token),
            r#"{"language": "python"}"#.into(),
            400,
            "malformed_json",
        ),
        (
            "unknown language",
            Some(&token),
            check("cobol", "DISPLAY 'HI'.".into()),
            422,
            "unknown_language",
        ),
        (
            "empty code",
            Some(&token),
            check("python", String::new()),
            422,
            "empty_source",
        ),
        (
            "blank code",
            Some(&token),
            check("python", " \n\t\n".into()),
            422,
            "empty_source",
        ),
        (
            "binary code",
            Some(&token),
            check("python", "print(1)\u{0}\u{1}".into()),
            422,
            "not_text",
        ),
        (
            "code over the limit",
            Some(&token),
            check("python", "#".repeat(limits.max_source_bytes + 1)),
            413,
            "source_too_large",
        ),
        (
            "stdin over the limit",
            Some(&token),
            json!({"language": "python", "code": "print(1)", "stdin": "x".repeat(limits.max_stdin_bytes + 1)})
                .to_string(),
            413,
            "stdin_too_large",
        ),
        (
            "unknown locale",
            Some(&token),
            json!({"language": "python", "code": "print(1)", "locale": "fr"}).to_string(),
            422,
            "unknown_locale",
        ),
        (
            "no token",
            None,
            check("python", "print(1)".into()),
            401,
            "unauthorized",
        ),
        (
            "unknown token",
            Some("dm_0123456789"),
            check("python", "print(1)".into()),
            401,
            "unauthorized",
        ),
        (
            "revoked token",
            Some(&revoked),
            check("python", "print(1)".into()),
            401,
            "unauthorized",
        ),
        // The token is checked before the body is even read.
        (
            "bad token and bad JSON",
            Some("dm_nope"),
            "{".into(),
            401,
            "unauthorized",
        ),
    ];
    for (what, token, body, status, code) in cases {
        let res = app.post(token, body).await;
        if status == 401 {
            assert_eq!(
                header(&res, "www-authenticate").as_deref(),
                Some("Bearer realm=\"devmentor\""),
                "{what}"
            );
        }
        let err = expect_error(res, status, code).await;
        if code == "unknown_language" {
            let message = err["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("python") && message.contains("rust"),
                "lists the languages: {message}"
            );
        }
        if code == "malformed_json" && what == "truncated JSON" {
            assert!(err["error"]["message"].as_str().unwrap().contains("EOF"), "{err}");
        }
        assert_eq!(app.rows().await, 0, "{what}: nothing stored");
        assert_eq!(app.waiting().await, 0, "{what}: nothing enqueued");
    }

    // Another scheme than Bearer.
    let res = app
        .http
        .post(format!("{}/api/v1/checks", app.base))
        .header("authorization", format!("Basic {token}"))
        .body(check("python", "print(1)".into()))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "unauthorized").await;

    // A body over the cap, declared with Content-Length: refused before it is read.
    let huge = check("python", "#".repeat(api::body_limit(&limits)));
    expect_error(app.post(Some(&token), huge).await, 413, "payload_too_large").await;

    // The same, chunked (no Content-Length): refused once it grows past the cap.
    let (status, body) = chunked_post(&app.base, &token, api::body_limit(&limits) + 64 * 1024).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("payload_too_large"), "{body}");

    assert_eq!(app.rows().await, 0);
    assert_eq!(app.waiting().await, 0);
    assert_eq!(app.metrics.checks_submitted.load(Ordering::Relaxed), 0);
    app.finish().await;
}

/// POSTs `size` bytes with `Transfer-Encoding: chunked` over a plain socket (reqwest cannot
/// stream a body without a feature we do not need); returns the status and the body.
async fn chunked_post(base: &str, token: &str, size: usize) -> (u16, String) {
    let addr = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/checks HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'#'; 16 * 1024];
    let mut sent = 0;
    while sent < size {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        // The server may answer and close before everything is sent; that is the point.
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

#[tokio::test]
async fn routing_errors_are_json_too() {
    let app = spawn_app().await;
    let (_, token) = app.token("front-end", 60).await;
    expect_error(app.get("/nope", None).await, 404, "not_found").await;
    expect_error(app.get("/api/v1/checks/abc", Some(&token)).await, 404, "not_found").await;
    expect_error(app.get("/api/v1/checks/999999", Some(&token)).await, 404, "not_found").await;
    expect_error(app.get("/api/v1/checks/1", None).await, 401, "unauthorized").await;

    let res = app.get("/api/v1/checks", Some(&token)).await;
    assert_eq!(header(&res, "allow").as_deref(), Some("POST"));
    expect_error(res, 405, "method_not_allowed").await;
    let res = app
        .http
        .delete(format!("{}/api/v1/checks/1", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&res, "allow").as_deref(), Some("GET"));
    expect_error(res, 405, "method_not_allowed").await;
    let res = app.http.post(format!("{}/healthz", app.base)).send().await.unwrap();
    expect_error(res, 405, "method_not_allowed").await;
    app.finish().await;
}

#[tokio::test]
async fn rate_limit_and_token_isolation() {
    let app = spawn_app().await;
    let (_, alice) = app.token("alice", 2).await;
    let (_, bob) = app.token("bob", 60).await;
    let first = app.submit_ok(&alice).await;
    app.submit_ok(&alice).await;
    let res = app
        .submit(&alice, &json!({"language": "python", "code": "print(1)"}))
        .await;
    let retry: u64 = header(&res, "retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=30).contains(&retry),
        "2 per minute: the next one fits within 30 s, not {retry}"
    );
    expect_error(res, 429, "rate_limited").await;
    assert_eq!(app.rows().await, 2);
    assert_eq!(app.waiting().await, 2);

    // Bob has his own allowance, and cannot see Alice's checks: the same 404 as a missing id.
    app.submit_ok(&bob).await;
    expect_error(
        app.get(&format!("/api/v1/checks/{first}"), Some(&bob)).await,
        404,
        "not_found",
    )
    .await;
    // Reading is not rate-limited: a client may poll its checks.
    for _ in 0..5 {
        assert_eq!(
            app.get(&format!("/api/v1/checks/{first}"), Some(&alice)).await.status(),
            200
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let db = db::fresh().await;
    let store = db.store.clone();
    let docker = bollard::Docker::connect_with_local_defaults().unwrap();
    let app = start(db, store, &redis_url(), Some(docker)).await;

    let res = app.get("/healthz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status": "ready", "postgres": "ok", "redis": "ok", "docker": "ok"})
    );

    let (_, token) = app.token("front-end", 60).await;
    app.submit_ok(&token).await;
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type")
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    for line in [
        "devmentor_checks_submitted_total 1",
        "# TYPE devmentor_queue_waiting gauge",
        "devmentor_queue_waiting 1",
        "# TYPE devmentor_queue_pending gauge",
        "devmentor_queue_pending 0",
        "# TYPE devmentor_sandbox_seconds histogram",
    ] {
        assert!(text.lines().any(|l| l == line), "{line:?} missing from:\n{text}");
    }
    app.finish().await;
}

/// A `redis-server` of the test's own, which it can kill and restart on the same port.
struct RedisServer {
    port: u16,
    child: Option<tokio::process::Child>,
}

impl RedisServer {
    async fn start(port: u16) -> RedisServer {
        let child = tokio::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (`make test` installs it)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start on port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        RedisServer {
            port,
            child: Some(child),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }
}

#[tokio::test]
async fn redis_outage_answers_503_keeps_nothing_and_recovers() {
    let mut redis = RedisServer::start(free_port()).await;
    let db = db::fresh().await;
    let store = db.store.clone();
    let app = start(db, store, &redis.url(), None).await;
    let (_, token) = app.token("front-end", 600).await;
    let first = app.submit_ok(&token).await;

    redis.kill().await;
    let res = app
        .submit(&token, &json!({"language": "python", "code": "print(2)"}))
        .await;
    assert_eq!(header(&res, "retry-after").as_deref(), Some("5"));
    expect_error(res, 503, "queue_unavailable").await;
    assert_eq!(app.rows().await, 1, "the refused check's row is gone");

    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 503);
    let ready: Value = res.json().await.unwrap();
    assert_eq!(ready["postgres"], "ok");
    assert!(ready["redis"].as_str().unwrap().starts_with("down"), "{ready}");
    // Metrics still answer, without the queue gauges they cannot know.
    let text = app.get("/metrics", None).await.text().await.unwrap();
    assert!(text.contains("devmentor_checks_submitted_total 1"));
    assert!(!text.contains("devmentor_queue_waiting"));
    // Reading a check needs PostgreSQL only.
    assert_eq!(
        app.get(&format!("/api/v1/checks/{first}"), Some(&token)).await.status(),
        200
    );
    assert_eq!(app.get("/healthz", None).await.status(), 200);

    // Redis comes back (empty, as after a crash without persistence); the API follows by itself.
    let _redis = RedisServer::start(redis.port).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let second = loop {
        let res = app
            .submit(&token, &json!({"language": "python", "code": "print(3)"}))
            .await;
        if res.status() == 202 {
            break res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        }
        expect_error(res, 503, "queue_unavailable").await;
        assert!(
            Instant::now() < deadline,
            "the API did not recover after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    let client = app.db.store.client().await.unwrap();
    let ids: Vec<i64> = client
        .query("SELECT id FROM checks ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![first, second], "only the accepted checks are stored");
    // The job is on the new stream (workers recreate their group after a restart). The Redis
    // client also delivers the jobs of the refused submissions once it reconnects; their rows
    // are gone, so a worker drops them (`worker::Outcome::Missing`) and none of them runs.
    app.queue.ensure_group().await.unwrap();
    let jobs = app
        .queue
        .claim("test-worker", 100, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(jobs.iter().any(|j| j.check_id == second), "{jobs:?}");
    assert!(
        jobs.iter().all(|j| j.check_id == second || !ids.contains(&j.check_id)),
        "{jobs:?}"
    );
    app.finish().await;
}

/// A TCP proxy in front of PostgreSQL: `stop` closes the port and every connection through it,
/// as a crashed server would; `start` on the same port brings it back.
struct Proxy {
    port: u16,
    target: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(port: u16, target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts every connection.
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                while conns.try_join_next().is_some() {}
            }
        });
        Proxy {
            port,
            target,
            task: Some(task),
        }
    }

    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

#[tokio::test]
async fn postgres_outage_answers_503_and_recovers() {
    let db = db::fresh().await;
    // postgres://user:password@host:port/name → host:port, and the same URL through the proxy.
    let (head, tail) = db.url.rsplit_once('@').unwrap();
    let (hostport, name) = tail.split_once('/').unwrap();
    let target = tokio::net::lookup_host(hostport).await.unwrap().next().unwrap();
    let mut proxy = Proxy::start(0, target).await;
    let store = Store::connect(
        &format!("{head}@127.0.0.1:{}/{name}", proxy.port),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    let app = start(db, store, &redis_url(), None).await;
    let (_, token) = app.token("front-end", 600).await;
    let first = app.submit_ok(&token).await;

    proxy.stop().await;
    let res = app
        .submit(&token, &json!({"language": "python", "code": "print(2)"}))
        .await;
    expect_error(res, 503, "database_unavailable").await;
    let res = app.get(&format!("/api/v1/checks/{first}"), Some(&token)).await;
    expect_error(res, 503, "database_unavailable").await;
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 503);
    let ready: Value = res.json().await.unwrap();
    assert!(ready["postgres"].as_str().unwrap().starts_with("down"), "{ready}");
    assert_eq!(ready["redis"], "ok");
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    assert_eq!(
        app.waiting().await,
        1,
        "nothing was enqueued while the database was away"
    );

    let _proxy = Proxy::start(proxy.port, proxy.target).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = app
            .submit(&token, &json!({"language": "python", "code": "print(3)"}))
            .await;
        if res.status() == 202 {
            break;
        }
        expect_error(res, 503, "database_unavailable").await;
        assert!(
            Instant::now() < deadline,
            "the API did not recover after PostgreSQL came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.get("/readyz", None).await.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/checks/{first}"), Some(&token)).await.status(),
        200
    );
    assert_eq!(app.rows().await, 2);
    assert_eq!(app.waiting().await, 2);
    app.finish().await;
}

#[tokio::test]
async fn shutdown_answers_long_polls_at_once() {
    let mut app = spawn_app().await;
    let (_, token) = app.token("front-end", 60).await;
    let id = app.submit_ok(&token).await;
    let poll = {
        let req = app
            .http
            .get(format!("{}/api/v1/checks/{id}?wait=60", app.base))
            .bearer_auth(&token);
        tokio::spawn(async move { req.send().await.unwrap().json::<Value>().await.unwrap() })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = app.stop.take().unwrap().send(());
    // Far below the 60 s the client asked for: the server answers what it has and stops.
    let check = tokio::time::timeout(Duration::from_secs(20), poll)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(check["status"], "queued");
    tokio::time::timeout(Duration::from_secs(20), app.task.take().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(app.base.trim_start_matches("http://"))
            .await
            .is_err(),
        "the port is closed"
    );
    app.finish().await;
}

#[test]
fn timestamps_are_rfc3339_utc() {
    let at =
        |secs: u64, micros: u64| api::rfc3339(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros));
    assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
    assert_eq!(at(951_868_799, 999_999), "2000-02-29T23:59:59.999999Z");
    assert_eq!(at(1_700_000_000, 123_456), "2023-11-14T22:13:20.123456Z");
    assert_eq!(at(1_709_251_199, 0), "2024-02-29T23:59:59.000000Z");
    assert_eq!(at(4_102_444_800, 0), "2100-01-01T00:00:00.000000Z");
    assert_eq!(
        api::rfc3339(UNIX_EPOCH - Duration::from_micros(1)),
        "1969-12-31T23:59:59.999999Z"
    );
    assert_eq!(
        api::rfc3339(UNIX_EPOCH - Duration::from_secs(86_400)),
        "1969-12-31T00:00:00.000000Z"
    );
}

#[test]
fn the_rate_limit_allows_a_burst_then_refills_evenly() {
    let limiter = RateLimiter::default();
    let t0 = Instant::now();
    for _ in 0..3 {
        assert_eq!(limiter.take(1, 3, t0), Ok(()));
    }
    // 3 per minute: one more every 20 s.
    assert_eq!(limiter.take(1, 3, t0), Err(20));
    assert_eq!(limiter.take(1, 3, t0 + Duration::from_secs(10)), Err(10));
    assert_eq!(limiter.take(1, 3, t0 + Duration::from_secs(21)), Ok(()));
    // Each token has its own bucket; a token allowed nothing is told to wait a minute.
    assert_eq!(limiter.take(2, 3, t0), Ok(()));
    assert_eq!(limiter.take(3, 0, t0), Err(60));
}

#[test]
fn submissions_are_validated_in_full() {
    let small = InputLimits {
        max_source_bytes: 100,
        max_stdin_bytes: 10,
    };
    let langs = Languages::builtin(default_limits(10, 1024));
    let ok = api::validate(
        br#"{"language":"PY","code":"\ufeffprint(1)\n","stdin":"5","locale":"en"}"#,
        &langs,
        &small,
    )
    .unwrap();
    assert_eq!(
        ok,
        api::Accepted {
            language: "python".into(),
            code: "print(1)\n".into(),
            stdin: b"5".to_vec(),
            locale: Locale::En
        }
    );
    let code = |body: &str| api::validate(body.as_bytes(), &langs, &small).unwrap_err().code;
    assert_eq!(
        code(&format!(r#"{{"language":"python","code":"{}"}}"#, "a".repeat(101))),
        "source_too_large"
    );
    assert_eq!(
        code(r#"{"language":"python","code":"x","stdin":"12345678901"}"#),
        "stdin_too_large"
    );
    assert_eq!(api::body_limit(&small), 256 * 1024);
    assert!(api::body_limit(&limits()) > 2 * (limits().max_source_bytes + limits().max_stdin_bytes));

    let wait = |v: &str| api::parse_wait(&[("wait".to_string(), v.to_string())].into());
    assert_eq!(api::parse_wait(&Default::default()), Ok(Duration::ZERO));
    assert_eq!(wait("60"), Ok(Duration::from_secs(60)));
    assert!(wait("61").is_err());
}
