//! Tasks: exercises with tests. A teacher writes the statement, the tests (visible ones are the
//! examples, hidden ones keep a solution honest) and reference solutions; a student's
//! submission is graded in the sandbox (`grade`): compiled once, each test in its own fresh
//! container, the output compared as the task's checker says (`checker`). The starter set ships
//! as files (`catalogue`), like the error registry.
//!
//! A hidden test's data (its input, expected and actual output, the program's errors on it) is
//! never put in a result: what is not stored cannot leak to a student, an API client or an LLM.

pub mod catalogue;
pub mod checker;
pub mod grade;

use crate::analyzer::Explanation;
use crate::registry::Locale;
pub use checker::Checker;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A teacher's hint, in both languages.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hint {
    pub ru: String,
    pub en: String,
}

impl Hint {
    pub fn text(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ru => &self.ru,
            Locale::En => &self.en,
        }
    }
}

/// Limits a task sets over its language's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TaskLimits {
    pub timeout_s: Option<f64>,
    pub memory_mb: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Task {
    pub id: i64,
    pub slug: String,
    pub topic: String,
    pub position: i32,
    pub title_ru: String,
    pub title_en: String,
    pub statement_ru: String,
    pub statement_en: String,
    /// Empty: any language.
    pub languages: Vec<String>,
    pub checker: Checker,
    pub float_epsilon: f64,
    pub stop_at_first_failure: bool,
    pub limits: TaskLimits,
    pub hints: Vec<Hint>,
    /// Reference solutions by language.
    pub solutions: BTreeMap<String, String>,
    pub published: bool,
}

impl Task {
    pub fn title(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ru => &self.title_ru,
            Locale::En => &self.title_en,
        }
    }

    pub fn statement(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ru => &self.statement_ru,
            Locale::En => &self.statement_en,
        }
    }

    /// Whether a submission in `language` (a canonical name) is accepted.
    pub fn allows(&self, language: &str) -> bool {
        self.languages.is_empty() || self.languages.iter().any(|l| l == language)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TaskTest {
    pub id: i64,
    /// 1-based, the test's number as the student sees it.
    pub position: i32,
    pub stdin: String,
    pub expected: String,
    pub hidden: bool,
    pub note_ru: Option<String>,
    pub note_en: Option<String>,
}

/// One test's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestVerdict {
    Passed,
    WrongAnswer,
    RuntimeError,
    Timeout,
    MemoryLimit,
    /// The service failed to run it (not the program's fault).
    InternalError,
}

/// A submission's outcome: `accepted`, or the first failing test's verdict, or what stopped it
/// before any test ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionVerdict {
    Accepted,
    WrongAnswer,
    RuntimeError,
    CompileError,
    Timeout,
    MemoryLimit,
    #[default]
    InternalError,
}

impl SubmissionVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionVerdict::Accepted => "accepted",
            SubmissionVerdict::WrongAnswer => "wrong_answer",
            SubmissionVerdict::RuntimeError => "runtime_error",
            SubmissionVerdict::CompileError => "compile_error",
            SubmissionVerdict::Timeout => "timeout",
            SubmissionVerdict::MemoryLimit => "memory_limit",
            SubmissionVerdict::InternalError => "internal_error",
        }
    }
}

impl From<TestVerdict> for SubmissionVerdict {
    fn from(v: TestVerdict) -> Self {
        match v {
            TestVerdict::Passed => SubmissionVerdict::Accepted,
            TestVerdict::WrongAnswer => SubmissionVerdict::WrongAnswer,
            TestVerdict::RuntimeError => SubmissionVerdict::RuntimeError,
            TestVerdict::Timeout => SubmissionVerdict::Timeout,
            TestVerdict::MemoryLimit => SubmissionVerdict::MemoryLimit,
            TestVerdict::InternalError => SubmissionVerdict::InternalError,
        }
    }
}

/// One test as graded. For a hidden test only `n`, `hidden`, `verdict`, `duration_ms` and
/// `truncated` are ever filled.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TestResult {
    pub n: i32,
    pub hidden: bool,
    pub verdict: Option<TestVerdict>,
    pub duration_ms: u64,
    /// The output was cut at the limit (a huge output is a wrong answer, never a crash).
    pub truncated: bool,
    pub stdin: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    /// The program's errors on this test.
    pub stderr: Option<String>,
    pub exit_code: Option<i64>,
    /// The first line where actual and expected differ (wrong answers).
    pub first_diff_line: Option<usize>,
    /// The teacher's note for this test, in the student's language.
    pub note: Option<String>,
}

/// A graded submission, as stored in `submissions.result` and shown by the API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Graded {
    pub verdict: SubmissionVerdict,
    pub passed: i32,
    pub total: i32,
    /// The tests that ran, in order.
    pub tests: Vec<TestResult>,
    /// The compiler's messages, when compilation failed.
    pub compile_output: Option<String>,
    /// The explanation of a compile error, or of the first failing visible test's error.
    pub explanation: Option<Explanation>,
    /// The whole submission's time in the sandbox.
    pub duration_ms: u64,
}

impl Graded {
    /// The service failed, not the program (the one place this result is built).
    pub fn internal_error(total: i32, reason: &str) -> Graded {
        Graded {
            verdict: SubmissionVerdict::InternalError,
            total,
            compile_output: Some(format!("devmentor: {reason}")),
            ..Default::default()
        }
    }

    /// The first test that did not pass.
    pub fn first_failure(&self) -> Option<&TestResult> {
        self.tests.iter().find(|t| t.verdict != Some(TestVerdict::Passed))
    }
}
