//! The check pipeline as one function: validate → run in the sandbox → judge.
//!
//! `devmentor check`, the worker pool and the HTTP API all call [`run_check`], so a check means
//! the same thing wherever it starts. The analyzer fills `explanation` in a later step.

use crate::analyzer::{extract, Analyzer, Explanation, Failure};
use crate::registry::Locale;
use crate::sandbox::{Sandbox, SandboxError, StepOutcome, Verdict};
use serde::{Deserialize, Serialize};

/// Limits on what a student may send, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    pub max_source_bytes: usize,
    pub max_stdin_bytes: usize,
}

impl From<&crate::config::SandboxConfig> for InputLimits {
    fn from(c: &crate::config::SandboxConfig) -> Self {
        InputLimits {
            max_source_bytes: c.max_source_bytes,
            max_stdin_bytes: c.max_stdin_bytes,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// A language name or alias (`python`, `py`, `c++`…).
    pub language: String,
    pub code: Vec<u8>,
    pub stdin: Vec<u8>,
    /// The language of the explanation.
    pub locale: Locale,
    /// The `checks` row this run belongs to, when there is one (for explanation events).
    pub check_id: Option<i64>,
}

/// The result of a check, in the JSON shape of `devmentor check --json`: the one value that
/// travels from the sandbox to the `checks` row, the card, the API and the CLI.
/// Stored results are read leniently (`serde(default)`): a field an older version did not
/// write reads as empty, never as an unreadable row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CheckResult {
    pub language: String,
    pub verdict: Verdict,
    pub exit_code: Option<i64>,
    pub signal: Option<String>,
    pub stdout: String,
    pub stderr: String,
    pub truncated: bool,
    pub duration_ms: u64,
    pub explanation: Option<Explanation>,
}

impl CheckResult {
    /// A result that says plainly the service failed, not the student's program. The only
    /// place such a result is built.
    pub fn internal_error(language: &str, reason: &str) -> CheckResult {
        CheckResult {
            language: language.to_string(),
            verdict: Verdict::InternalError,
            exit_code: None,
            signal: None,
            stdout: String::new(),
            stderr: format!("devmentor: {reason}"),
            truncated: false,
            duration_ms: 0,
            explanation: None,
        }
    }
}

/// What happened to the program, in a beginner's words: the card's headline. A compiler's
/// error and a source the language refused to read both mean the program never started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Finished,
    DidNotStart,
    StoppedWithError,
    TooSlow,
    TooMuchMemory,
    /// The student pressed ⏹.
    StoppedByYou,
    ServiceFailed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::DidNotStart => "did_not_start",
            Outcome::StoppedWithError => "stopped_with_error",
            Outcome::TooSlow => "too_slow",
            Outcome::TooMuchMemory => "too_much_memory",
            Outcome::StoppedByYou => "stopped_by_you",
            Outcome::ServiceFailed => "service_failed",
        }
    }
}

impl CheckResult {
    pub fn outcome(&self) -> Outcome {
        match self.verdict {
            Verdict::Ok => Outcome::Finished,
            Verdict::CompileError => Outcome::DidNotStart,
            Verdict::RuntimeError if self.explanation.as_ref().is_some_and(|e| e.before_start) => Outcome::DidNotStart,
            Verdict::RuntimeError => Outcome::StoppedWithError,
            Verdict::Timeout => Outcome::TooSlow,
            Verdict::MemoryLimit => Outcome::TooMuchMemory,
            Verdict::Stopped => Outcome::StoppedByYou,
            Verdict::InternalError => Outcome::ServiceFailed,
        }
    }
}

/// Why a check could not run at all. Each message tells the student or operator what to do.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("the source is empty: there is no program to run")]
    EmptySource,
    #[error("the source is {size} bytes; the limit is {limit} bytes")]
    SourceTooLarge { size: usize, limit: usize },
    #[error("the source is not text (binary data or not UTF-8): send the program's source code")]
    NotText,
    #[error("the input is {size} bytes; the limit is {limit} bytes")]
    StdinTooLarge { size: usize, limit: usize },
    #[error("unsupported language {name:?}; supported: {known}")]
    UnknownLanguage { name: String, known: String },
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// Checks that `code` is a program we can run: present, small enough, text.
pub fn validate_source(code: &[u8], limits: &InputLimits) -> Result<String, CheckError> {
    if code.len() > limits.max_source_bytes {
        return Err(CheckError::SourceTooLarge {
            size: code.len(),
            limit: limits.max_source_bytes,
        });
    }
    let text = std::str::from_utf8(code).map_err(|_| CheckError::NotText)?;
    // A NUL (or other control bytes apart from whitespace) never occurs in real source code.
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return Err(CheckError::NotText);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(CheckError::EmptySource);
    }
    Ok(text.to_string())
}

/// Runs one check and, when it failed, explains it (`analyzer`: `None` leaves `explanation`
/// empty). Errors mean no check ran (bad input, Docker down, image missing); any other failure
/// becomes an `internal_error` verdict.
pub async fn run_check(
    sandbox: &Sandbox,
    analyzer: Option<&Analyzer>,
    request: &CheckRequest,
    limits: &InputLimits,
) -> Result<CheckResult, CheckError> {
    run_check_until(sandbox, analyzer, request, limits, None).await
}

/// [`run_check`] that the student can stop: when `stop` is cancelled the program is killed at
/// once and the result's verdict is `stopped` (nothing to explain).
pub async fn run_check_until(
    sandbox: &Sandbox,
    analyzer: Option<&Analyzer>,
    request: &CheckRequest,
    limits: &InputLimits,
    stop: Option<&tokio_util::sync::CancellationToken>,
) -> Result<CheckResult, CheckError> {
    let pack = sandbox
        .languages()
        .find(&request.language)
        .ok_or_else(|| CheckError::UnknownLanguage {
            name: request.language.clone(),
            known: sandbox.languages().names().join(", "),
        })?;
    let code = validate_source(&request.code, limits)?;
    if request.stdin.len() > limits.max_stdin_bytes {
        return Err(CheckError::StdinTooLarge {
            size: request.stdin.len(),
            limit: limits.max_stdin_bytes,
        });
    }
    let run = match sandbox.run_until(pack, &code, &request.stdin, stop).await {
        Ok(run) => run,
        Err(
            e @ (SandboxError::DockerUnavailable { .. }
            | SandboxError::ImageMissing { .. }
            | SandboxError::ImageOutdated { .. }),
        ) => return Err(e.into()),
        Err(e) => {
            tracing::error!(language = %pack.name, error = %e, "check failed inside the sandbox");
            return Ok(CheckResult::internal_error(&pack.name, &e.to_string()));
        }
    };
    // The step the student cares about: the run, or the compiler when it stopped there.
    let (step, compiled_only) = match (run.run.as_ref(), run.compile.as_ref()) {
        (Some(step), _) => (step, false),
        (None, Some(step)) => (step, true),
        (None, None) => return Err(SandboxError::Internal("a check produced no step".into()).into()),
    };
    Ok(judge(
        pack,
        run.verdict,
        step,
        compiled_only,
        &code,
        analyzer,
        request.locale,
        request.check_id,
    )
    .await)
}

/// One step's outcome as a result: its output for the student (the Python hook's report taken
/// out) and, when it failed and an analyzer is given, the explanation. A task's tests are
/// judged here too, one run each.
#[allow(clippy::too_many_arguments)]
pub async fn judge(
    pack: &crate::sandbox::LanguagePack,
    verdict: Verdict,
    step: &StepOutcome,
    compiled_only: bool,
    code: &str,
    analyzer: Option<&Analyzer>,
    locale: Locale,
    check_id: Option<i64>,
) -> CheckResult {
    let raw_stderr = String::from_utf8_lossy(&step.stderr);
    // The Python hook's report is for the analyzer, not for the student's eyes.
    let (stderr, python_report) = extract::split_python_report(&raw_stderr);
    let mut result = CheckResult {
        language: pack.name.clone(),
        verdict,
        // A run the student stopped was killed by us: its SIGKILL is not the program's doing.
        exit_code: step.exit_code.filter(|_| verdict != Verdict::Stopped),
        signal: step
            .signal()
            .filter(|_| verdict != Verdict::Stopped)
            .map(str::to_string),
        stdout: String::from_utf8_lossy(&step.stdout).into_owned(),
        stderr,
        truncated: step.truncated,
        duration_ms: step.duration.as_millis() as u64,
        explanation: None,
    };
    if let Some(analyzer) = analyzer {
        let limits = if compiled_only {
            pack.compile_limits
        } else {
            pack.run_limits
        };
        let failure = Failure {
            language: &pack.name,
            verdict: result.verdict,
            exit_code: result.exit_code,
            signal: result.signal.as_deref(),
            stderr: &result.stderr,
            python_report: python_report.as_deref(),
            code,
            file_name: &pack.file_name_for(code),
            output_limit_hit: step.output_limit_hit,
            timeout_s: limits.timeout_s,
            memory_mb: limits.memory_mb,
            output_kb: limits.output_kb,
            locale,
            check_id,
        };
        result.explanation = analyzer.explain(&failure).await;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: InputLimits = InputLimits {
        max_source_bytes: 64,
        max_stdin_bytes: 8,
    };

    #[test]
    fn bad_sources_get_clear_errors() {
        assert!(matches!(validate_source(b"", &LIMITS), Err(CheckError::EmptySource)));
        assert!(matches!(
            validate_source(b"  \n\t", &LIMITS),
            Err(CheckError::EmptySource)
        ));
        assert!(matches!(
            validate_source(&[b'a'; 65], &LIMITS),
            Err(CheckError::SourceTooLarge { size: 65, limit: 64 })
        ));
        assert!(matches!(
            validate_source(b"\xff\xfeprint", &LIMITS),
            Err(CheckError::NotText)
        ));
        assert!(matches!(
            validate_source(b"print(1)\0", &LIMITS),
            Err(CheckError::NotText)
        ));
        assert_eq!(
            validate_source("\u{feff}print('привет')".as_bytes(), &LIMITS).unwrap(),
            "print('привет')"
        );
    }
}
