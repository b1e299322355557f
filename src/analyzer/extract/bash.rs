//! bash's own error lines: `main.sh: line 3: foo: command not found`.
//!
//! bash names the script and the line of every error it reports; the message is what follows.
//! The error that ended the script is the last one bash printed (a syntax error, an unbound
//! variable under `set -u` and a bad substitution stop it; most others do not), so the last
//! wins. Types: `SyntaxError` (the script could not be read), `CommandNotFound` (exit code 127),
//! `Error` for everything else; the catalogue tells them apart by their message.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn extract(output: &str, file_name: &str) -> Option<ExtractedError> {
    // `main.sh: line 5: `fi'` after a syntax error only quotes the offending line: skipped.
    static QUOTE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^`.*'$").expect("static regex"));
    let prefix = Regex::new(&format!(r"^(?:\S*/)?{}: line (\d+): (.*)$", regex::escape(file_name))).ok()?;
    let (line, message) = output
        .lines()
        .filter_map(|l| prefix.captures(l.trim_end()))
        .filter(|c| !QUOTE.is_match(&c[2]))
        .last()
        .map(|c| (c[1].parse::<u32>().ok(), c[2].to_string()))?;
    let error_type = if message.starts_with("syntax error") {
        "SyntaxError"
    } else if message.ends_with(": command not found") {
        "CommandNotFound"
    } else {
        "Error"
    };
    Some(ExtractedError {
        error_type: error_type.into(),
        message,
        line,
        ..Default::default()
    })
}
