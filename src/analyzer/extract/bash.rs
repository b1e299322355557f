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
        .rev()
        .filter_map(|l| prefix.captures(l.trim_end()))
        .find(|c| !QUOTE.is_match(&c[2]))
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

#[cfg(test)]
mod tests {
    // Output captured from devmentor/bash (bash 5.2, Debian 13).
    use super::super::extract;

    fn bash(stderr: &str, code: &str) -> (String, String, Option<u32>, Option<String>) {
        let e = extract("bash", stderr, None, code, "main.sh").expect("an error");
        (e.error_type, e.message, e.line, e.source_line)
    }

    #[test]
    fn the_three_types() {
        let (t, m, l, s) = bash(
            "main.sh: line 2: ecko: command not found\n",
            "greeting=Hi\necko \"$greeting\"\n",
        );
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("CommandNotFound", "ecko: command not found", Some(2))
        );
        assert_eq!(s.as_deref(), Some("ecko \"$greeting\""));
        let (t, m, l, _) = bash(
            "main.sh: line 4: syntax error near unexpected token `fi'\nmain.sh: line 4: `fi'\n",
            "",
        );
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("SyntaxError", "syntax error near unexpected token `fi'", Some(4)),
            "the quoted line after a syntax error is not the error"
        );
        let (t, m, _, _) = bash(
            "main.sh: line 2: 3.5: syntax error: invalid arithmetic operator (error token is \".5\")\n",
            "",
        );
        assert_eq!(
            (t.as_str(), m.as_str()),
            (
                "Error",
                "3.5: syntax error: invalid arithmetic operator (error token is \".5\")"
            )
        );
    }

    #[test]
    fn the_last_error_is_the_one_that_ended_the_script() {
        let stderr = "main.sh: line 2: [: -gt: unary operator expected\nmain.sh: line 5: nmae: unbound variable\n";
        let (t, m, l, _) = bash(stderr, "");
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("Error", "nmae: unbound variable", Some(5))
        );
        // A program's own output that merely looks similar, under another name, is not bash's.
        assert_eq!(
            extract("bash", "other.sh: line 1: x: command not found\n", None, "", "main.sh"),
            None
        );
        assert_eq!(
            extract(
                "bash",
                "cat: numbers.txt: No such file or directory\n",
                None,
                "",
                "main.sh"
            ),
            None
        );
    }
}
