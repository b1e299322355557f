//! PHP's own error lines: `Parse error: …`, `Fatal error: Uncaught TypeError: …`, `Warning: …`.
//!
//! PHP (run with `display_errors=stderr`, see containers/php/language.toml) prints every problem
//! as one line `Severity: message in /sandbox/main.php on line N`, and an uncaught exception as
//! `Fatal error: Uncaught Class: message in /sandbox/main.php:N` followed by its stack trace.
//! What ended the program (a parse or fatal error) wins; a run that only warned is explained by
//! its first warning, the one the others usually follow from.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

/// `PHP ` appears when the same line also goes to the error log (log_errors on a default php.ini).
static DIAGNOSTIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?:PHP )?(?P<sev>Parse error|Fatal error|Recoverable fatal error|Warning|Notice|Deprecated):\s+(?P<body>.*)$",
    )
    .expect("static regex")
});
static UNCAUGHT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^Uncaught (?P<class>[A-Za-z_\\][\w\\]*): ?(?P<msg>.*)$").expect("static regex"));

pub(super) fn extract(output: &str, file_name: &str) -> Option<ExtractedError> {
    let mut fatal = None;
    let mut warning = None;
    let mut notice = None;
    for line in output.lines() {
        let Some(c) = DIAGNOSTIC.captures(line.trim_end()) else {
            continue;
        };
        let body = &c["body"];
        match &c["sev"] {
            "Parse error" => {
                fatal = Some(diagnostic("ParseError", body, file_name));
                break;
            }
            "Fatal error" | "Recoverable fatal error" => {
                fatal = Some(match UNCAUGHT.captures(body) {
                    Some(u) => {
                        let class = &u["class"];
                        let short = class.rsplit('\\').next().unwrap_or(class);
                        diagnostic(short, &u["msg"], file_name)
                    }
                    None => diagnostic("FatalError", body, file_name),
                });
                break;
            }
            "Warning" if warning.is_none() => warning = Some(diagnostic("Warning", body, file_name)),
            "Notice" | "Deprecated" if notice.is_none() => notice = Some(diagnostic(&c["sev"], body, file_name)),
            _ => {}
        }
    }
    fatal.or(warning).or(notice)
}

/// Splits PHP's locations off a message and keeps the line that matters to the student.
///
/// `f(): Argument #1 ($a) must be of type int, string given, called in /sandbox/main.php on
/// line 6 and defined in /sandbox/main.php:2`: the mistake is at the call (line 6), so a
/// `called in`/`passed in` location in our file wins over where the function is defined or
/// where the exception was thrown. A location in another file (an included library) is never
/// reported as the student's line.
fn diagnostic(error_type: &str, body: &str, file_name: &str) -> ExtractedError {
    static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:,? (?P<kind>called|passed) in (?P<f1>\S+?) on line (?P<l1>\d+)| in (?P<f2>\S+?) on line (?P<l2>\d+)|,? (?:and defined )?in (?P<f3>\S+?):(?P<l3>\d+))",
        )
        .expect("static regex")
    });
    let ours = |file: &str| file == file_name || file.ends_with(&format!("/{file_name}"));
    let (mut caller, mut last) = (None, None);
    let mut message = String::with_capacity(body.len());
    let mut rest = 0;
    for c in LOCATION.captures_iter(body) {
        let Some(whole) = c.get(0) else { continue };
        message.push_str(&body[rest..whole.start()]);
        rest = whole.end();
        let (file, line) = [("f1", "l1"), ("f2", "l2"), ("f3", "l3")]
            .iter()
            .find_map(|(f, l)| Some((c.name(f)?.as_str(), c.name(l)?.as_str().parse::<u32>().ok())))
            .unwrap_or(("", None));
        if let Some(kind) = c.name("kind") {
            // "1 passed in … on line 6 and exactly 2 expected": keep the sentence readable.
            if kind.as_str() == "passed" {
                message.push_str(" passed");
            }
            if ours(file) && caller.is_none() {
                caller = line;
            }
        }
        if ours(file) {
            last = line;
        }
    }
    message.push_str(&body[rest..]);
    ExtractedError {
        error_type: error_type.to_string(),
        message: message.trim().trim_end_matches(',').to_string(),
        line: caller.or(last),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    // Output captured from devmentor/php (PHP 8.4, Debian 13) with the pack's run command.
    use super::super::extract;

    fn php(stderr: &str, code: &str) -> (String, String, Option<u32>, Option<String>) {
        let e = extract("php", stderr, None, code, "main.php").expect("an error");
        (e.error_type, e.message, e.line, e.source_line)
    }

    #[test]
    fn parse_errors_keep_php_words_and_line() {
        let (t, m, l, _) = php(
            "\nParse error: syntax error, unexpected token \"echo\" in /sandbox/main.php on line 3\n",
            "<?php\n$name = \"Ann\"\necho $name;\n",
        );
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("ParseError", "syntax error, unexpected token \"echo\"", Some(3))
        );
        let (_, m, l, s) = php(
            "PHP Parse error:  Unclosed '{' on line 2 in /sandbox/main.php on line 4\n",
            "<?php\nfor (;;) {\n  echo 1;\n",
        );
        assert_eq!((m.as_str(), l, s), ("Unclosed '{' on line 2", Some(4), None));
    }

    #[test]
    fn uncaught_exceptions_point_at_the_call() {
        let stderr = "PHP Fatal error:  Uncaught TypeError: add(): Argument #1 ($a) must be of type int, string given, called in /sandbox/main.php on line 5 and defined in /sandbox/main.php:2\nStack trace:\n#0 /sandbox/main.php(5): add()\n#1 {main}\n  thrown in /sandbox/main.php on line 2\n";
        let code =
            "<?php\nfunction add(int $a, int $b): int {\n    return $a + $b;\n}\necho add(\"ten\", 5), \"\\n\";\n";
        let (t, m, l, s) = php(stderr, code);
        assert_eq!(t, "TypeError");
        assert_eq!(m, "add(): Argument #1 ($a) must be of type int, string given");
        assert_eq!(l, Some(5));
        assert_eq!(s.as_deref(), Some("echo add(\"ten\", 5), \"\\n\";"));
        let (t, m, l, _) = php(
            "Fatal error: Uncaught ArgumentCountError: Too few arguments to function area(), 1 passed in /sandbox/main.php on line 5 and exactly 2 expected in /sandbox/main.php:2\nStack trace:\n#0 /sandbox/main.php(5): area()\n#1 {main}\n  thrown in /sandbox/main.php on line 2\n",
            "",
        );
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            (
                "ArgumentCountError",
                "Too few arguments to function area(), 1 passed and exactly 2 expected",
                Some(5)
            )
        );
        let (t, m, l, _) = php(
            "Fatal error: Uncaught DivisionByZeroError: Modulo by zero in /sandbox/main.php:2\nStack trace:\n#0 {main}\n  thrown in /sandbox/main.php on line 2\n",
            "",
        );
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("DivisionByZeroError", "Modulo by zero", Some(2))
        );
        let (t, _, _, _) = php(
            "Fatal error: Uncaught App\\Models\\NotFound: gone in /sandbox/main.php:9\n",
            "",
        );
        assert_eq!(t, "NotFound", "the class without its namespace");
    }

    #[test]
    fn a_fatal_error_wins_over_warnings_and_the_first_warning_over_later_ones() {
        let stderr = "\nWarning: Undefined variable $a in /sandbox/main.php on line 2\n\nWarning: Undefined array key 3 in /sandbox/main.php on line 4\n\nFatal error: Allowed memory size of 201326592 bytes exhausted (tried to allocate 300003328 bytes) in /sandbox/main.php on line 6\n";
        let (t, m, l, _) = php(stderr, "");
        assert_eq!((t.as_str(), l), ("FatalError", Some(6)));
        assert!(m.starts_with("Allowed memory size"), "{m}");
        let (t, m, l, _) = php(&stderr[..stderr.find("\nFatal").unwrap()], "");
        assert_eq!(
            (t.as_str(), m.as_str(), l),
            ("Warning", "Undefined variable $a", Some(2))
        );
        let (_, m, _, _) = php(
            "Warning: Trying to access array offset on false in /sandbox/main.php on line 3\n",
            "",
        );
        assert_eq!(m, "Trying to access array offset on false");
    }

    #[test]
    fn a_location_in_another_file_is_not_the_students_line() {
        let (_, m, l, _) = php("Warning: Undefined variable $x in /sandbox/lib.php on line 7\n", "");
        assert_eq!((m.as_str(), l), ("Undefined variable $x", None));
        assert_eq!(extract("php", "hello\n", None, "", "main.php"), None);
    }
}
