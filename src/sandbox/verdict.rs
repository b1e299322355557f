//! Verdicts: what happened to a student's program, in the words the whole product uses.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    RuntimeError,
    CompileError,
    Timeout,
    MemoryLimit,
    /// The student stopped the run (⏹) before it ended: not the program's failure, not ours.
    Stopped,
    /// Also what a stored result without a verdict reads as: never `ok` by default.
    #[default]
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
            Verdict::Stopped => "stopped",
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
    /// The exit code, with `128 + n` for a program killed by signal `n`, as a shell reports it.
    pub exit_code: Option<i64>,
    /// The signal that ended the program, when it was one (dm-init knows; a bare `128 + n`
    /// from `exit(128 + n)` is not a signal).
    pub signal: Option<i64>,
    pub oom_killed: bool,
    pub timed_out: bool,
    /// Killed because the student asked to stop it (see `Sandbox::run_until`).
    pub stopped: bool,
    pub duration: Duration,
}

impl StepOutcome {
    /// The name of the signal that ended the program.
    pub fn signal(&self) -> Option<&'static str> {
        self.signal.and_then(signal_name)
    }

    /// Judges a run step. `memory_patterns` are a language's own out-of-memory messages.
    pub fn run_verdict(&self, memory_patterns: &[String]) -> Verdict {
        if self.stopped {
            return Verdict::Stopped;
        }
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

/// Linux signal numbers to names (x86-64 and arm64 agree on these). Real-time signals are
/// named as `kill -l` names them.
pub fn signal_name(n: i64) -> Option<&'static str> {
    const REALTIME: [&str; 31] = [
        "SIGRTMIN",
        "SIGRTMIN+1",
        "SIGRTMIN+2",
        "SIGRTMIN+3",
        "SIGRTMIN+4",
        "SIGRTMIN+5",
        "SIGRTMIN+6",
        "SIGRTMIN+7",
        "SIGRTMIN+8",
        "SIGRTMIN+9",
        "SIGRTMIN+10",
        "SIGRTMIN+11",
        "SIGRTMIN+12",
        "SIGRTMIN+13",
        "SIGRTMIN+14",
        "SIGRTMIN+15",
        "SIGRTMAX-14",
        "SIGRTMAX-13",
        "SIGRTMAX-12",
        "SIGRTMAX-11",
        "SIGRTMAX-10",
        "SIGRTMAX-9",
        "SIGRTMAX-8",
        "SIGRTMAX-7",
        "SIGRTMAX-6",
        "SIGRTMAX-5",
        "SIGRTMAX-4",
        "SIGRTMAX-3",
        "SIGRTMAX-2",
        "SIGRTMAX-1",
        "SIGRTMAX",
    ];
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
        16 => "SIGSTKFLT",
        17 => "SIGCHLD",
        18 => "SIGCONT",
        19 => "SIGSTOP",
        20 => "SIGTSTP",
        21 => "SIGTTIN",
        22 => "SIGTTOU",
        23 => "SIGURG",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        26 => "SIGVTALRM",
        27 => "SIGPROF",
        28 => "SIGWINCH",
        29 => "SIGIO",
        30 => "SIGPWR",
        31 => "SIGSYS",
        34..=64 => REALTIME[(n - 34) as usize],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(code: Option<i64>) -> StepOutcome {
        StepOutcome {
            exit_code: code,
            signal: code.filter(|c| *c > 128).map(|c| c - 128),
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
        o.stopped = true;
        assert_eq!(
            o.run_verdict(&[]),
            Verdict::Stopped,
            "a stop pressed wins over what the kill looks like"
        );
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
        // exit(139) is an exit code, not a segfault.
        let exited = StepOutcome {
            exit_code: Some(139),
            ..Default::default()
        };
        assert_eq!(exited.signal(), None);
        assert_eq!(signal_name(34), Some("SIGRTMIN"));
        assert_eq!(signal_name(64), Some("SIGRTMAX"));
        assert_eq!(signal_name(32), None);
        assert_eq!(
            serde_json::to_string(&Verdict::MemoryLimit).unwrap(),
            "\"memory_limit\""
        );
        assert_eq!(serde_json::to_string(&Verdict::Stopped).unwrap(), "\"stopped\"");
    }
}
