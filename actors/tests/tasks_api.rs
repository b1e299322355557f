//! Tasks through the documented HTTP API, against the real `devmentor run` (worker + admin
//! roles), PostgreSQL, Redis and Docker: the starter set loaded by `devmentor migrate`, a wrong
//! answer with the diff, an accepted solution, per-test verdicts with hidden tests bare, bad
//! input refused with a clear problem and nothing stored, a worker killed mid-submission.

mod common;

use common::Env;
use serde_json::{json, Value};
use std::time::Duration;

const SUM_PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn submit(&self, slug: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/tasks/{slug}/submissions", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn graded(&self, slug: &str, language: &str, code: &str) -> Value {
        let (status, v) = self.submit(slug, json!({"language": language, "code": code})).await;
        assert_eq!(status, 202, "{v}");
        let id = v["id"].as_i64().unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let (status, v) = self.get(&format!("/api/v1/submissions/{id}?wait=10")).await;
            assert_eq!(status, 200, "{v}");
            if v["status"] == "done" {
                return v;
            }
            assert!(std::time::Instant::now() < until, "submission {id} never finished: {v}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_task_is_listed_shown_and_graded_through_the_api() {
    let env = Env::new("tasksapi", &[]);
    let mut service = env.spawn("worker,admin", "svc");
    let http = reqwest::Client::new();
    common::wait_ready(&http, &env.base()).await;
    let api = Api {
        http,
        base: env.base(),
        token: env.token(),
    };

    // The starter set is there, in Russian by default and in English on request.
    let (status, list) = api.get("/api/v1/tasks").await;
    assert_eq!(status, 200, "{list}");
    let tasks = list["tasks"].as_array().unwrap();
    assert!(tasks.len() >= 20, "{list}");
    let sum = tasks
        .iter()
        .find(|t| t["slug"] == "sum-of-two")
        .expect("sum-of-two listed");
    assert_eq!(sum["topic"], "io");
    assert!(sum["languages"].is_array());
    let ru_title = sum["title"].as_str().unwrap().to_string();
    let (_, en) = api.get("/api/v1/tasks?locale=en").await;
    let en_title = en["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "sum-of-two")
        .unwrap()["title"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(ru_title, en_title);

    // A task shows its visible tests only.
    let (status, task) = api.get("/api/v1/tasks/sum-of-two").await;
    assert_eq!(status, 200, "{task}");
    let examples = task["examples"].as_array().unwrap();
    let hidden = env.psql(
        "SELECT count(*) FROM task_tests t JOIN tasks k ON k.id = t.task_id WHERE k.slug = 'sum-of-two' AND t.hidden",
    );
    let all = task["tests"].as_u64().unwrap();
    assert_eq!(examples.len() as u64 + hidden.parse::<u64>().unwrap(), all);
    assert!(examples
        .iter()
        .all(|e| e["stdin"].is_string() && e["expected"].is_string()));
    let hidden_inputs: Vec<String> = env
        .psql(
            "SELECT stdin FROM task_tests t JOIN tasks k ON k.id = t.task_id WHERE k.slug = 'sum-of-two' AND t.hidden",
        )
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| l.len() >= 6)
        .collect();
    for h in &hidden_inputs {
        assert!(!task.to_string().contains(h.as_str()), "hidden input {h} shown: {task}");
    }

    // A wrong answer: the first failing visible test with input, expected and actual.
    let v = api
        .graded(
            "sum-of-two",
            "python",
            "a, b = map(int, input().split())\nprint(a - b)\n",
        )
        .await;
    assert_eq!(v["verdict"], "wrong_answer", "{v}");
    assert_eq!(v["task"], "sum-of-two");
    let first = &v["tests"][0];
    assert_eq!(first["verdict"], "wrong_answer", "{v}");
    assert_eq!(first["hidden"], false);
    assert!(first["stdin"].is_string() && first["expected"].is_string() && first["actual"].is_string());
    assert_eq!(first["first_diff_line"], 1);

    // A program correct on small numbers only (C++ `int`): a hidden test fails, and it carries
    // its number and verdict only.
    let v = api
        .graded(
            "sum-of-two",
            "cpp",
            "#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b<<\"\\n\";}\n",
        )
        .await;
    assert_eq!(v["verdict"], "wrong_answer", "{v}");
    let failing = v["tests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["verdict"] != "passed")
        .unwrap();
    assert_eq!(failing["hidden"], true, "{v}");
    for field in ["stdin", "expected", "actual", "stderr"] {
        assert!(failing[field].is_null(), "a hidden test shows {field}: {v}");
    }
    for h in &hidden_inputs {
        assert!(!v.to_string().contains(h.as_str()), "hidden input {h} leaked: {v}");
    }

    // Accepted: every test passed.
    let v = api.graded("sum-of-two", "python", SUM_PY).await;
    assert_eq!(v["verdict"], "accepted", "{v}");
    assert_eq!(v["passed"], v["total"]);
    assert_eq!(v["tests"].as_array().unwrap().len() as u64, all);

    // Bad input: a clear problem each, and nothing stored.
    let before = env.psql("SELECT count(*) FROM submissions");
    let (s, p) = api
        .submit("no-such-task", json!({"language": "python", "code": SUM_PY}))
        .await;
    assert_eq!((s, p["error"]["code"].as_str()), (404, Some("unknown_task")), "{p}");
    env.psql("UPDATE tasks SET published = FALSE WHERE slug = 'factorial'");
    let (s, p) = api
        .submit("factorial", json!({"language": "python", "code": SUM_PY}))
        .await;
    assert_eq!(
        (s, p["error"]["code"].as_str()),
        (404, Some("unknown_task")),
        "an unpublished task: {p}"
    );
    assert_eq!(api.get("/api/v1/tasks/factorial").await.0, 404);
    env.psql("UPDATE tasks SET languages = '{python}' WHERE slug = 'even-odd'");
    let (s, p) = api
        .submit("even-odd", json!({"language": "cpp", "code": "int main(){}"}))
        .await;
    assert_eq!(
        (s, p["error"]["code"].as_str()),
        (422, Some("language_not_allowed")),
        "{p}"
    );
    let (s, p) = api
        .submit("sum-of-two", json!({"language": "cobol", "code": "x"}))
        .await;
    assert_eq!((s, p["error"]["code"].as_str()), (422, Some("unknown_language")), "{p}");
    let (s, p) = api
        .submit("sum-of-two", json!({"language": "python", "code": "  "}))
        .await;
    assert_eq!((s, p["error"]["code"].as_str()), (422, Some("empty_source")), "{p}");
    let (s, p) = api.submit("sum-of-two", json!({"code": SUM_PY})).await;
    assert_eq!((s, p["error"]["code"].as_str()), (400, Some("malformed_json")), "{p}");
    let (s, p) = api
        .submit("sum-of-two", json!({"language": "python", "code": "x".repeat(200_000)}))
        .await;
    assert_eq!((s, p["error"]["code"].as_str()), (413, Some("source_too_large")), "{p}");
    assert_eq!(
        env.psql("SELECT count(*) FROM submissions"),
        before,
        "nothing half-saved"
    );
    // Without a token: 401, like checks.
    let r = api.http.get(format!("{}/api/v1/tasks", api.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // Another token's submission is not there.
    let id = env.psql("SELECT max(id) FROM submissions");
    let other = Api {
        http: api.http.clone(),
        base: api.base.clone(),
        token: env.token(),
    };
    assert_eq!(other.get(&format!("/api/v1/submissions/{id}")).await.0, 404);

    common::stop(&mut service);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_worker_killed_mid_submission_finishes_it_once() {
    let env = Env::new("taskskill", &[("VISIBILITY_TIMEOUT_SECONDS", "3")]);
    let mut admin = env.spawn("admin", "admin");
    let mut worker = env.spawn("worker", "w1");
    let http = reqwest::Client::new();
    common::wait_ready(&http, &env.base()).await;
    let api = Api {
        http,
        base: env.base(),
        token: env.token(),
    };
    // A slow but correct solution: every test sleeps, so the worker is killed mid-grading.
    let slow = "import time\ntime.sleep(1.5)\na, b = map(int, input().split())\nprint(a + b)\n";
    let (status, v) = api
        .submit("sum-of-two", json!({"language": "python", "code": slow}))
        .await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_i64().unwrap();
    let until = std::time::Instant::now() + Duration::from_secs(60);
    while env.psql(&format!("SELECT status FROM submissions WHERE id = {id}")) != "running" {
        assert!(std::time::Instant::now() < until, "never started: {}", env.log("w1"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    let _ = env.command(&["sandbox", "reap"]).output();
    let mut second = env.spawn("worker", "w2");
    let v = api.graded_id(id).await;
    assert_eq!(v["verdict"], "accepted", "{v}\n{}", env.log("w2"));
    assert_eq!(
        env.psql(&format!("SELECT attempts >= 2 FROM submissions WHERE id = {id}")),
        "t"
    );
    assert_eq!(env.psql("SELECT count(*) FROM submissions WHERE status = 'done'"), "1");
    common::stop(&mut second);
    common::stop(&mut admin);
}

impl Api {
    async fn graded_id(&self, id: i64) -> Value {
        let until = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let (_, v) = self.get(&format!("/api/v1/submissions/{id}?wait=10")).await;
            if v["status"] == "done" || std::time::Instant::now() > until {
                return v;
            }
        }
    }
}
