//! The production stack's files: docker-compose.yml validates with the `.env` an operator makes
//! from `.env.example`, refuses to start without the database password, and every variable the
//! compose file uses is documented in `.env.example`.

mod common;

use common::workspace;
use std::process::Command;

fn compose() -> Vec<String> {
    let v2 = Command::new("docker").args(["compose", "version"]).output();
    if v2.is_ok_and(|o| o.status.success()) {
        vec!["docker".into(), "compose".into()]
    } else {
        vec!["docker-compose".into()]
    }
}

fn config_in(dir: &std::path::Path) -> std::process::Output {
    let c = compose();
    Command::new(&c[0])
        .args(&c[1..])
        .args(["config", "-q"])
        .current_dir(dir)
        .output()
        .expect("docker compose (or docker-compose) is installed by `make test`")
}

#[test]
fn docker_compose_validates_with_the_example_env() {
    let root = workspace();
    let dir = std::env::temp_dir().join(format!("dm-compose-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("containers")).unwrap();
    std::fs::copy(root.join("docker-compose.yml"), dir.join("docker-compose.yml")).unwrap();
    std::fs::copy(root.join("containers/nginx.conf"), dir.join("containers/nginx.conf")).unwrap();
    let example = std::fs::read_to_string(root.join(".env.example")).unwrap();

    // As shipped, the required password is empty: compose refuses, naming it.
    std::fs::write(dir.join(".env"), &example).unwrap();
    let out = config_in(&dir);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("POSTGRES_PASSWORD"));

    // Filled in as the README says: valid.
    let filled = example
        .replace("\nBOT_TOKEN=\n", "\nBOT_TOKEN=123:abc\n")
        .replace("\nSECRET_KEY=\n", "\nSECRET_KEY=0123456789abcdef0123456789abcdef\n")
        .replace("\nPOSTGRES_PASSWORD=\n", "\nPOSTGRES_PASSWORD=a-long-random-password\n");
    std::fs::write(dir.join(".env"), &filled).unwrap();
    let out = config_in(&dir);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // The app image's base images follow .env (a build machine that cannot pull substitutes
    // them, README "Building the app image without a registry").
    let offline = filled.replace(
        "\nRUST_IMAGE=rust:1-slim-bookworm\n",
        "\nRUST_IMAGE=devmentor/offline-rust:bookworm\n",
    );
    assert_ne!(offline, filled, "RUST_IMAGE is in .env.example");
    std::fs::write(dir.join(".env"), &offline).unwrap();
    let c = compose();
    let out = Command::new(&c[0])
        .args(&c[1..])
        .arg("config")
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("RUST_IMAGE: devmentor/offline-rust:bookworm"), "{text}");
    assert!(text.contains("RUNTIME_IMAGE: debian:bookworm-slim"), "{text}");

    // Every ${VAR} of the compose file is documented in .env.example.
    let yml = std::fs::read_to_string(root.join("docker-compose.yml")).unwrap();
    for part in yml.split("${").skip(1) {
        let name: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        assert!(example.contains(&format!("\n{name}=")), "{name} is not in .env.example");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Scale-out as an operator runs it: two worker processes on one PostgreSQL and Redis share the
/// checks; one is killed mid-load and the other finishes everything, each check answered once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_the_checks_and_lose_none_when_one_dies() {
    use common::{wait_ready, Env};
    use std::time::{Duration, Instant};
    let env = Env::new(
        "scale",
        &[("VISIBILITY_TIMEOUT_SECONDS", "3"), ("WORKER_POOL_SIZE", "2")],
    );
    let token = env.token();
    let mut api = env.spawn("admin", "api");
    let mut a = env.spawn("worker", "a");
    let mut b = env.spawn("worker", "b");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let code = format!("import time\ntime.sleep(1)\nprint({i})\n");
        ids.push(common::submit(&http, &env.base(), &token, &code).await);
    }
    // Both workers take checks.
    let until = Instant::now() + Duration::from_secs(90);
    while env.psql("SELECT count(DISTINCT worker) FROM checks WHERE worker IS NOT NULL") != "2" {
        assert!(
            Instant::now() < until,
            "the checks did not spread:\n{}\n{}",
            env.log("a"),
            env.log("b")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.kill().unwrap();
    a.wait().unwrap();
    for (i, id) in ids.iter().enumerate() {
        let v = common::wait_done(&http, &env.base(), &token, *id, Duration::from_secs(90)).await;
        assert_eq!(v["status"], "done", "check {id} lost:\n{}", env.log("b"));
        assert_eq!(v["stdout"], format!("{i}\n"));
    }
    assert_eq!(env.psql("SELECT count(*) FROM checks WHERE status = 'done'"), "12");
    assert_eq!(common::results_len(&env), "12", "each check answered once");
    assert!(common::sigterm(&mut b).success());
    assert!(common::sigterm(&mut api).success());
    // The killed worker's warm containers are orphans the reaper recognises.
    let out = env.command(&["sandbox", "reap"]).output().unwrap();
    assert!(out.status.success());
}

/// A worker machine runs no admin role, yet must be probed and scraped: with `METRICS_ADDR` it
/// serves `/healthz`, `/readyz` and `/metrics` (its own sandbox figures) and nothing else there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_probes_and_its_metrics_on_metrics_addr() {
    use common::{free_port, submit, wait_done, wait_ready, Env};
    use std::time::Duration;
    let probe_port = free_port();
    let probes = format!("http://127.0.0.1:{probe_port}");
    let env = Env::new("probes", &[("METRICS_ADDR", &format!("127.0.0.1:{probe_port}"))]);
    let token = env.token();
    // The admin role has its own server on HTTP_ADDR and ignores METRICS_ADDR.
    let mut api = env.spawn("admin", "api");
    let mut worker = env.spawn("worker", "worker");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    wait_ready(&http, &probes).await;
    let ready = http.get(format!("{probes}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let v: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(v["docker"], "ok", "{v}");

    let id = submit(&http, &env.base(), &token, "print(6 * 7)\n").await;
    let v = wait_done(&http, &env.base(), &token, id, Duration::from_secs(60)).await;
    assert_eq!(v["stdout"], "42\n", "{v}\n{}", env.log("worker"));
    // The worker counts the check just after it stores the result (which is what ends the
    // long poll above), so the figure may trail by a moment.
    let until = std::time::Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = common::metrics(&http, &probes).await;
        if text.contains("devmentor_checks_total{verdict=\"ok\"} 1") || std::time::Instant::now() > until {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(text.contains("devmentor_checks_total{verdict=\"ok\"} 1"), "{text}");
    assert!(text.contains("devmentor_sandbox_seconds_count 1"), "{text}");
    assert!(text.contains("devmentor_warm_pool_ready"), "{text}");
    // Only the probes: no API, no panel on that port.
    let r = http
        .post(format!("{probes}/api/v1/checks"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"language": "python", "code": "print(1)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        http.get(format!("{probes}/admin/login")).send().await.unwrap().status(),
        404
    );
    assert!(common::sigterm(&mut worker).success());
    assert!(common::sigterm(&mut api).success());
}
