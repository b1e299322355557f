//! Verdicts: what happened to a student's program, in the words the whole product uses.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    RuntimeError,
    CompileError,
    Timeout,
    MemoryLimit,
    InternalError,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::RuntimeError => "runtime_error",
            Verdict::CompileError => "compile_error",
            Verdict::Timeout => "timeout",
            Verdict::MemoryLimit => "memory_limit",
            Verdict::InternalError => "internal_error",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one container step produced, before it is judged.
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some output was cut at the limit.
    pub truncated: bool,
    /// The container was stopped because its output ran past the limit.
    pub output_limit_hit: bool,
    pub exit_code: Option<i64>,
    pub oom_killed: bool,
    pub timed_out: bool,
    pub duration: Duration,
}

impl StepOutcome {
    /// The signal that ended the program, from the shell's `128 + n` convention.
    pub fn signal(&self) -> Option<&'static str> {
        match self.exit_code {
            Some(code) if code > 128 && code <= 128 + 64 => signal_name(code - 128),
            _ => None,
        }
    }

    /// Judges a run step. `memory_patterns` are a language's own out-of-memory messages.
    pub fn run_verdict(&self, memory_patterns: &[String]) -> Verdict {
        if self.timed_out {
            return Verdict::Timeout;
        }
        if self.oom_killed {
            return Verdict::MemoryLimit;
        }
        match self.exit_code {
            Some(0) => Verdict::Ok,
            Some(_) => {
                let stderr = String::from_utf8_lossy(&self.stderr);
                if memory_patterns.iter().any(|p| stderr.contains(p.as_str())) {
                    Verdict::MemoryLimit
                } else {
                    Verdict::RuntimeError
                }
            }
            None => Verdict::InternalError,
        }
    }
}

/// Linux signal numbers to names (x86-64 and arm64 agree on these).
pub fn signal_name(n: i64) -> Option<&'static str> {
    Some(match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(code: Option<i64>) -> StepOutcome {
        StepOutcome {
            exit_code: code,
            ..Default::default()
        }
    }

    #[test]
    fn verdicts_follow_the_outcome() {
        assert_eq!(outcome(Some(0)).run_verdict(&[]), Verdict::Ok);
        assert_eq!(outcome(Some(1)).run_verdict(&[]), Verdict::RuntimeError);
        assert_eq!(outcome(None).run_verdict(&[]), Verdict::InternalError);
        let mut o = outcome(Some(137));
        o.oom_killed = true;
        assert_eq!(o.run_verdict(&[]), Verdict::MemoryLimit);
        o.timed_out = true;
        assert_eq!(o.run_verdict(&[]), Verdict::Timeout);
        let mut j = outcome(Some(1));
        j.stderr = b"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space".to_vec();
        assert_eq!(
            j.run_verdict(&["java.lang.OutOfMemoryError".into()]),
            Verdict::MemoryLimit
        );
    }

    #[test]
    fn signals_are_named() {
        assert_eq!(outcome(Some(139)).signal(), Some("SIGSEGV"));
        assert_eq!(outcome(Some(134)).signal(), Some("SIGABRT"));
        assert_eq!(outcome(Some(1)).signal(), None);
        assert_eq!(
            serde_json::to_string(&Verdict::MemoryLimit).unwrap(),
            "\"memory_limit\""
        );
    }
}
