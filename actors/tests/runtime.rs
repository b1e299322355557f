//! The service as operators run it: `devmentor run` processes against real PostgreSQL, Redis
//! and Docker, driven through the HTTP API. Faults are real too: SIGKILL, a Redis wiped mid-load,
//! a sandbox actor that panics mid-job, a restart storm.

mod common;

use common::{results_len, sigterm, submit, wait_done, wait_ready, Env};
use std::process::Command;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_through_the_api_and_get_the_result_then_shut_down_cleanly() {
    let env = Env::new("api", &[]);
    let token = env.token();
    let mut service = env.spawn("worker,admin", "svc");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let ok = submit(&http, &env.base(), &token, "print('hello from the API')\n").await;
    let bad = submit(&http, &env.base(), &token, "x = [1, 2]\nprint(x[5])\n").await;
    let v = wait_done(&http, &env.base(), &token, ok, Duration::from_secs(60)).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["stdout"], "hello from the API\n");
    assert!(v["finished_at"].is_string());
    let v = wait_done(&http, &env.base(), &token, bad, Duration::from_secs(60)).await;
    assert_eq!(v["verdict"], "runtime_error");
    assert_eq!(v["explanation"]["slug"], "python-index-error-list");
    let metrics = common::metrics(&http, &env.base()).await;
    assert!(
        metrics.contains("devmentor_checks_total{verdict=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("devmentor_warm_pool_ready"), "{metrics}");
    let ready = http.get(format!("{}/readyz", env.base())).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let status = sigterm(&mut service);
    assert!(status.success(), "SIGTERM must exit 0: {status:?}\n{}", env.log("svc"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_load_loses_nothing_and_answers_nothing_twice() {
    let env = Env::new(
        "kill",
        &[("VISIBILITY_TIMEOUT_SECONDS", "3"), ("WORKER_POOL_SIZE", "2")],
    );
    let token = env.token();
    let mut api = env.spawn("admin", "api");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let mut doomed = env.spawn("worker", "doomed");
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            submit(
                &http,
                &env.base(),
                &token,
                &format!("import time\ntime.sleep(1.5)\nprint({i})\n"),
            )
            .await,
        );
    }
    // Wait until the doomed worker is running checks, then SIGKILL it.
    let until = Instant::now() + Duration::from_secs(60);
    while env.psql("SELECT count(*) FROM checks WHERE status = 'running'") == "0" {
        assert!(Instant::now() < until, "nothing started:\n{}", env.log("doomed"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let doomed_pid = doomed.id();
    doomed.kill().unwrap();
    doomed.wait().unwrap();
    let mut rescuer = env.spawn("worker", "rescuer");
    for (i, id) in ids.iter().enumerate() {
        let v = wait_done(&http, &env.base(), &token, *id, Duration::from_secs(90)).await;
        assert_eq!(v["status"], "done", "check {id} lost:\n{}", env.log("rescuer"));
        assert_eq!(v["stdout"], format!("{i}\n"));
    }
    // One result each, one "done" event each.
    assert_eq!(env.psql("SELECT count(*) FROM checks WHERE status = 'done'"), "6");
    assert_eq!(results_len(&env), "6", "each check is answered exactly once");
    assert!(sigterm(&mut rescuer).success());
    assert!(sigterm(&mut api).success());
    // What the killed worker left in Docker is an orphan the reaper recognises (its process is
    // gone), even before the containers expire.
    let out = env.command(&["sandbox", "reap"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let owner = format!(
        "label=devmentor.owner={}-{}-0",
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim(),
        doomed_pid
    );
    let left = Command::new("docker")
        .args(["ps", "-aq", "--filter", &owner])
        .output()
        .unwrap();
    assert!(left.stdout.is_empty(), "the killed worker's containers are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_actor_that_panics_mid_job_is_restarted_and_the_job_completes() {
    let env = Env::new(
        "panic",
        &[
            ("VISIBILITY_TIMEOUT_SECONDS", "2"),
            ("DEVMENTOR_FAULT_PANIC_MARKER", "#crash-here"),
        ],
    );
    let token = env.token();
    let mut service = env.spawn("worker,admin", "svc");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let id = submit(&http, &env.base(), &token, "print('survived')  #crash-here\n").await;
    let v = wait_done(&http, &env.base(), &token, id, Duration::from_secs(60)).await;
    assert_eq!(v["stdout"], "survived\n", "{v}\n{}", env.log("svc"));
    let metrics = common::metrics(&http, &env.base()).await;
    assert!(
        metrics.contains("devmentor_actor_restarts_total{actor=\"sandbox\"} 1"),
        "{metrics}"
    );
    assert!(sigterm(&mut service).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_storm_escalates_and_stops_the_process() {
    let env = Env::new(
        "storm",
        &[
            ("VISIBILITY_TIMEOUT_SECONDS", "1"),
            ("DEVMENTOR_FAULT_PANIC_MARKER", "#always"),
            ("DEVMENTOR_FAULT_PANIC_ALWAYS", "1"),
            ("WORKER_POOL_SIZE", "1"),
        ],
    );
    let token = env.token();
    let mut service = env.spawn("worker,admin", "svc");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    submit(&http, &env.base(), &token, "print(1)  #always\n").await;
    let until = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = service.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < until, "the storm never escalated:\n{}", env.log("svc"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(!status.success(), "a restart storm must end the process with an error");
    assert!(env.log("svc").contains("restart storm"), "{}", env.log("svc"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_wiped_mid_load_every_check_still_completes() {
    let env = Env::new("wipe", &[("WORKER_POOL_SIZE", "1")]);
    // The reaper's thresholds come from a config file (no environment variables for them).
    let config = std::env::temp_dir().join(format!("{}-devmentor.toml", env.db));
    std::fs::write(
        &config,
        "[runtime]\nstuck_after_seconds = 3\nreaper_interval_seconds = 1\n",
    )
    .unwrap();
    let mut env = env;
    env.vars.push(("DEVMENTOR_CONFIG".into(), config.display().to_string()));
    let token = env.token();
    let mut service = env.spawn("worker,admin", "svc");
    let http = reqwest::Client::new();
    wait_ready(&http, &env.base()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            submit(
                &http,
                &env.base(),
                &token,
                &format!("import time\ntime.sleep(0.5)\nprint({i})\n"),
            )
            .await,
        );
    }
    // Wipe this test's keys (as if Redis restarted empty) while the worker is busy.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let prefix = env.vars.iter().find(|(k, _)| k == "REDIS_PREFIX").unwrap().1.clone();
    let out = Command::new("redis-cli")
        .args(["DEL", &format!("{prefix}checks"), &format!("{prefix}results")])
        .output()
        .unwrap();
    assert!(out.status.success());
    for (i, id) in ids.iter().enumerate() {
        let v = wait_done(&http, &env.base(), &token, *id, Duration::from_secs(90)).await;
        assert_eq!(v["status"], "done", "check {id} never completed:\n{}", env.log("svc"));
        assert_eq!(v["stdout"], format!("{i}\n"));
    }
    assert!(sigterm(&mut service).success());
}
