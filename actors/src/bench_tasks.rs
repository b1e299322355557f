//! `devmentor bench tasks --tests N [--runs R] [--json]`: a Python task submission with N tests
//! graded end to end the way a worker grades it (compile once, a fresh container per test from
//! the warm pool, tests in parallel, the checker), timed R times; and, measured in the same
//! run, the baseline: the same N tests as fresh containers one after another through the
//! Docker API (create, start, wait, logs, remove), as a runner without a pool does it.
//! Prints `{"tests","runs","p50_ms","p95_ms","baseline_p50_ms", …}`.

use crate::bench::{baseline_once, baseline_settings, percentile, round};
use devmentor::config::Config;
use devmentor::sandbox::Sandbox;
use devmentor::tasks::grade::{grade, Submission};
use devmentor::tasks::{Checker, SubmissionVerdict, Task, TaskTest};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SOLUTION: &str = "a, b = map(int, input().split())\nprint(a + b)\n";

pub async fn run(
    config: &Config,
    tests: usize,
    runs: usize,
    pool: Option<usize>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(tests > 0 && runs > 0, "--tests and --runs must be at least 1");
    let task = Task {
        slug: "bench-sum".into(),
        checker: Checker::Lines,
        stop_at_first_failure: true,
        published: true,
        ..Default::default()
    };
    let cases: Vec<TaskTest> = (0..tests as i64)
        .map(|i| TaskTest {
            position: i as i32 + 1,
            stdin: format!("{} {}\n", i * 7 - 20, i * 1_000_003),
            expected: format!("{}\n", i * 7 - 20 + i * 1_000_003),
            hidden: i >= 2,
            ..Default::default()
        })
        .collect();
    let mut sandbox = Sandbox::connect(&config.sandbox).await?;
    let pack = sandbox
        .languages()
        .find("python")
        .ok_or_else(|| anyhow::anyhow!("the python language pack is missing"))?
        .clone();
    sandbox.ensure_image(&pack).await?;
    let parallel = config.runtime.pool_size.max(1);
    // As `bench sandbox` does for its concurrency: warm containers for the whole submission
    // (an operator sizes `warm_pool` for the tasks they give), unless `--pool` says otherwise.
    let pool = pool.unwrap_or_else(|| {
        config
            .sandbox
            .warm_pool
            .get("python")
            .copied()
            .unwrap_or(config.sandbox.warm_pool_size)
            .max(tests + 1)
    });
    sandbox.start_pool(&HashMap::from([("python".to_string(), pool)]));
    if !sandbox.wait_pool_full(Duration::from_secs(120)).await {
        eprintln!("warning: the warm pool did not fill within 120 s");
    }
    let submission = Submission {
        task: &task,
        tests: &cases,
        language: "python",
        code: SOLUTION,
        locale: devmentor::registry::Locale::Ru,
        id: None,
    };
    let mut ours = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let g = grade(&sandbox, None, &submission, parallel, |_, _| {}).await?;
        anyhow::ensure!(
            g.verdict == SubmissionVerdict::Accepted && g.passed == tests as i32,
            "the benchmark submission was not accepted: {g:?}"
        );
        ours.push(t.elapsed());
        // Let the pool refill, as it does between submissions in service.
        sandbox.wait_pool_full(Duration::from_secs(30)).await;
    }
    sandbox.shutdown().await;

    let settings = baseline_settings(config);
    let mut baseline = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        for c in &cases {
            baseline_once(
                sandbox.docker(),
                &pack,
                &settings,
                SOLUTION,
                &c.stdin,
                c.expected.trim(),
            )
            .await?;
        }
        baseline.push(t.elapsed());
    }
    let (p50, base50) = (percentile(&ours, 50.0), percentile(&baseline, 50.0));
    let report = serde_json::json!({
        "tests": tests,
        "runs": runs,
        "parallel": parallel,
        "pool_size": pool,
        "p50_ms": round(p50),
        "p95_ms": round(percentile(&ours, 95.0)),
        "baseline_p50_ms": round(base50),
        "baseline_p95_ms": round(percentile(&baseline, 95.0)),
        "ratio_p50": round(p50 / base50),
    });
    if json {
        println!("{report}");
    } else {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    Ok(ExitCode::SUCCESS)
}
