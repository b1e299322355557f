//! Grading a submission: compile once, then each test in its own fresh container (the sandbox
//! contract holds per run), up to `parallel` at a time, in order; stop at the first failure or
//! run them all, as the task says. Each test's output is compared by the task's checker. The
//! overall verdict is `accepted`, or the first failing test's, or `compile_error` /
//! `internal_error` when no test could run.

use super::checker::compare;
use super::{Graded, SubmissionVerdict, Task, TaskTest, TestResult, TestVerdict};
use crate::analyzer::Analyzer;
use crate::check::{judge, CheckError};
use crate::registry::Locale;
use crate::sandbox::{Build, LanguagePack, Sandbox, SandboxError, StepOutcome, Verdict};
use std::time::Instant;

/// Outputs and inputs kept in a result for a visible test (the card shows less still).
pub const SHOWN_BYTES: usize = 4 * 1024;

/// What to grade.
pub struct Submission<'a> {
    pub task: &'a Task,
    pub tests: &'a [TaskTest],
    /// A canonical language name the task allows.
    pub language: &'a str,
    pub code: &'a str,
    pub locale: Locale,
    /// The submission's id, for explanation events.
    pub id: Option<i64>,
}

/// The language pack with the task's limits over its own.
pub fn pack_for(sandbox: &Sandbox, task: &Task, language: &str) -> Option<LanguagePack> {
    let mut pack = sandbox.languages().find(language)?.clone();
    if let Some(t) = task.limits.timeout_s.filter(|t| *t > 0.0) {
        pack.run_limits.timeout_s = t;
    }
    if let Some(m) = task.limits.memory_mb.filter(|m| *m > 0) {
        pack.run_limits.memory_mb = m;
    }
    Some(pack)
}

/// Grades `s`; `progress(done, total)` is told after each test. Errors mean nothing could be
/// graded at all (Docker down, image missing): the caller retries later.
pub async fn grade(
    sandbox: &Sandbox,
    analyzer: Option<&Analyzer>,
    s: &Submission<'_>,
    parallel: usize,
    progress: impl Fn(usize, usize),
) -> Result<Graded, CheckError> {
    let started = Instant::now();
    let total = s.tests.len() as i32;
    let Some(pack) = pack_for(sandbox, s.task, s.language) else {
        return Err(CheckError::UnknownLanguage {
            name: s.language.to_string(),
            known: sandbox.languages().names().join(", "),
        });
    };
    let program = match sandbox.build(&pack, s.code).await {
        Ok(Build::Ready { program, .. }) => program,
        Ok(Build::Failed(run)) => {
            let Some(step) = run.compile.as_ref() else {
                return Ok(Graded::internal_error(total, "a failed build without a compile step"));
            };
            let judged = judge(&pack, run.verdict, step, true, s.code, analyzer, s.locale, s.id).await;
            return Ok(Graded {
                verdict: match run.verdict {
                    Verdict::Timeout => SubmissionVerdict::Timeout,
                    Verdict::MemoryLimit => SubmissionVerdict::MemoryLimit,
                    _ => SubmissionVerdict::CompileError,
                },
                total,
                compile_output: Some(judged.stderr),
                explanation: judged.explanation,
                duration_ms: started.elapsed().as_millis() as u64,
                ..Default::default()
            });
        }
        Err(
            e @ (SandboxError::DockerUnavailable { .. }
            | SandboxError::ImageMissing { .. }
            | SandboxError::ImageOutdated { .. }),
        ) => return Err(e.into()),
        Err(e) => return Ok(Graded::internal_error(total, &e.to_string())),
    };
    let mut results: Vec<TestResult> = Vec::with_capacity(s.tests.len());
    // The step of the first failing visible test, to explain it.
    let mut to_explain: Option<(Verdict, StepOutcome)> = None;
    let mut failed = false;
    for chunk in s.tests.chunks(parallel.max(1)) {
        let runs = chunk
            .iter()
            .map(|t| sandbox.run_built(&pack, &program, t.stdin.as_bytes()));
        let outcomes = futures_util::future::join_all(runs).await;
        for (test, outcome) in chunk.iter().zip(outcomes) {
            let (result, step) = judge_test(s, &pack, test, outcome);
            if result.verdict != Some(TestVerdict::Passed) && !failed {
                failed = true;
                if !test.hidden {
                    if let (Some(step), Some(v)) = (step, result.verdict) {
                        if !matches!(v, TestVerdict::WrongAnswer | TestVerdict::InternalError) {
                            to_explain = Some((step.run_verdict(&pack.memory_error_patterns), step));
                        }
                    }
                }
            }
            results.push(result);
            progress(results.len(), s.tests.len());
        }
        if failed && s.task.stop_at_first_failure {
            break;
        }
    }
    if s.task.stop_at_first_failure {
        // Tests that ran beside the failing one (in the same parallel batch) are not reported:
        // the submission stopped at its first failure.
        if let Some(i) = results.iter().position(|t| t.verdict != Some(TestVerdict::Passed)) {
            results.truncate(i + 1);
        }
    }
    let passed = results
        .iter()
        .filter(|t| t.verdict == Some(TestVerdict::Passed))
        .count() as i32;
    let verdict = results
        .iter()
        .find(|t| t.verdict != Some(TestVerdict::Passed))
        .and_then(|t| t.verdict)
        .map(SubmissionVerdict::from)
        .unwrap_or(if total == 0 {
            SubmissionVerdict::InternalError
        } else {
            SubmissionVerdict::Accepted
        });
    let explanation = match to_explain {
        Some((v, step)) => {
            judge(&pack, v, &step, false, s.code, analyzer, s.locale, s.id)
                .await
                .explanation
        }
        None => None,
    };
    Ok(Graded {
        verdict,
        passed,
        total,
        tests: results,
        compile_output: None,
        explanation,
        duration_ms: started.elapsed().as_millis() as u64,
    })
}

/// One test's verdict from its run. A hidden test's result carries no data.
fn judge_test(
    s: &Submission<'_>,
    pack: &LanguagePack,
    test: &TaskTest,
    outcome: Result<StepOutcome, SandboxError>,
) -> (TestResult, Option<StepOutcome>) {
    let mut r = TestResult {
        n: test.position,
        hidden: test.hidden,
        ..Default::default()
    };
    let step = match outcome {
        Ok(step) => step,
        Err(e) => {
            tracing::error!(task = %s.task.slug, test = test.position, error = %e, "a test could not run");
            r.verdict = Some(TestVerdict::InternalError);
            return (r, None);
        }
    };
    let actual = String::from_utf8_lossy(&step.stdout);
    r.duration_ms = step.duration.as_millis() as u64;
    r.truncated = step.truncated;
    let verdict = match step.run_verdict(&pack.memory_error_patterns) {
        // Stopped for printing too much: the output is wrong, the program did not crash.
        Verdict::RuntimeError if step.output_limit_hit => {
            r.truncated = true;
            TestVerdict::WrongAnswer
        }
        Verdict::Ok => {
            let c = compare(s.task.checker, &test.expected, &actual, s.task.float_epsilon);
            if c.passed && !step.truncated {
                TestVerdict::Passed
            } else {
                r.first_diff_line = c.first_diff_line;
                TestVerdict::WrongAnswer
            }
        }
        Verdict::Timeout => TestVerdict::Timeout,
        Verdict::MemoryLimit => TestVerdict::MemoryLimit,
        // Task submissions are not stopped by the student; a stop can only be ours.
        Verdict::InternalError | Verdict::Stopped => TestVerdict::InternalError,
        Verdict::RuntimeError | Verdict::CompileError => TestVerdict::RuntimeError,
    };
    r.verdict = Some(verdict);
    if !test.hidden && verdict != TestVerdict::Passed {
        r.stdin = Some(cap(&test.stdin));
        r.expected = Some(cap(&test.expected));
        r.actual = Some(cap(&actual));
        let stderr = String::from_utf8_lossy(&step.stderr);
        let (stderr, _) = crate::analyzer::extract::split_python_report(&stderr);
        r.stderr = (!stderr.trim().is_empty()).then(|| cap(&stderr));
        r.exit_code = step.exit_code;
        r.note = match s.locale {
            Locale::Ru => test.note_ru.clone(),
            Locale::En => test.note_en.clone(),
        }
        .filter(|n| !n.trim().is_empty());
    }
    (r, Some(step))
}

/// The first [`SHOWN_BYTES`] of `s`, cut at a character boundary.
fn cap(s: &str) -> String {
    if s.len() <= SHOWN_BYTES {
        return s.to_string();
    }
    let mut end = SHOWN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}
