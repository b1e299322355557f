//! Shared set-up for the sandbox integration tests: a real Docker engine and the real images
//! (`make test` starts Docker and builds them first).

#![allow(dead_code)]

pub mod bridge;
pub mod db;
pub mod harness;

use devmentor::check::{run_check, CheckRequest, CheckResult, InputLimits};
use devmentor::config::SandboxConfig;
use devmentor::sandbox::Sandbox;
use std::path::PathBuf;

pub fn sandbox_config(tweak: impl FnOnce(&mut SandboxConfig)) -> SandboxConfig {
    let mut c = SandboxConfig {
        languages_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("containers"),
        warm_pool_size: 0,
        ..SandboxConfig::default()
    };
    tweak(&mut c);
    c
}

pub async fn sandbox(tweak: impl FnOnce(&mut SandboxConfig)) -> (Sandbox, InputLimits) {
    // `RUST_LOG=devmentor=debug cargo test -- --nocapture` shows what the sandbox does.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let config = sandbox_config(tweak);
    let sb = Sandbox::connect(&config)
        .await
        .expect("Docker must be running for the sandbox tests: run `make test`, which starts it");
    (sb, InputLimits::from(&config))
}

pub async fn check(sb: &Sandbox, limits: &InputLimits, lang: &str, code: &str, stdin: &str) -> CheckResult {
    let request = CheckRequest {
        language: lang.into(),
        code: code.as_bytes().to_vec(),
        stdin: stdin.as_bytes().to_vec(),
        locale: devmentor::registry::Locale::Ru,
        check_id: None,
    };
    run_check(sb, None, &request, limits)
        .await
        .unwrap_or_else(|e| panic!("{lang}: the check did not run: {e}"))
}

/// Shuts the sandbox down and asserts it left no container behind.
pub async fn finish(sb: Sandbox) {
    sb.shutdown().await;
    let left = sb.own_containers().await.expect("list containers");
    assert!(left.is_empty(), "containers left behind by {}: {left:?}", sb.owner());
}

/// A failed Python run, as the analyzer receives it, for tests that need no sandbox.
pub fn python_failure<'a>(
    stderr: &'a str,
    code: &'a str,
    locale: devmentor::registry::Locale,
    check_id: Option<i64>,
) -> devmentor::analyzer::Failure<'a> {
    devmentor::analyzer::Failure {
        language: "python",
        verdict: devmentor::sandbox::Verdict::RuntimeError,
        exit_code: Some(1),
        signal: None,
        stderr,
        python_report: None,
        code,
        file_name: "main.py",
        output_limit_hit: false,
        timeout_s: 10.0,
        memory_mb: 256,
        output_kb: 64,
        locale,
        check_id,
    }
}
