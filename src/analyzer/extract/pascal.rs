//! Free Pascal's messages: the compiler's `main.pas(L,C) Error: …` and the program's run-time
//! errors.
//!
//! The compiler (run with `-v0ew`, see containers/pascal/language.toml) prints
//! `main.pas(5,3) Fatal: Syntax error, ";" expected but "identifier WRITELN" found`; the first
//! `Error` or `Fatal` line is the error (the summary `There were 2 errors compiling module` is
//! not). Two of its locations are moved to where the student has to look: a missing `;` is
//! reported at the token after it, at the start of the next line, so the line before is the one
//! to show; and an unexpected end of file is reported one line past the file, so its last line
//! is shown.
//!
//! A run-time error has two shapes. A program without SysUtils prints the bare number,
//! `Runtime error 201 at $…`, with a backtrace whose frames carry `line 7 of main.pas`
//! (compiled with `-gl`); with SysUtils the same error becomes an exception and the program
//! prints `An unhandled exception occurred at $…:` and `ERangeError: Range check error`. The
//! bare numbers are reported as the exception SysUtils turns them into, with its text (the
//! table below, each checked against fpc 3.2.2), so one catalogue entry explains both shapes.
//! A failed `Assert` prints its own line, `x must be positive (main.pas, line 5).`.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

/// Run-time error numbers as SysUtils reports them (`RunErrorToExcept` and the I/O error texts
/// of fpc 3.2.2's sysconst, as the programs print them in the sandbox).
const RUNTIME_ERRORS: &[(u32, &str, &str)] = &[
    (2, "EInOutError", "File not found"),
    (5, "EInOutError", "Access denied"),
    (100, "EInOutError", "Read past end of file"),
    (103, "EInOutError", "File not open"),
    (104, "EInOutError", "File not open for input"),
    (105, "EInOutError", "File not open for output"),
    (106, "EInOutError", "Invalid input"),
    (200, "EDivByZero", "Division by zero"),
    (201, "ERangeError", "Range check error"),
    (202, "EStackOverflow", "Stack overflow"),
    (205, "EOverflow", "Floating point overflow"),
    (207, "EInvalidOp", "Invalid floating point operation"),
    (208, "EZeroDivide", "Floating point division by zero"),
    (215, "EIntOverflow", "Arithmetic overflow"),
    (216, "EAccessViolation", "Access violation"),
];

pub(super) fn extract(output: &str, code: &str, file_name: &str) -> Option<ExtractedError> {
    compile_error(output, code, file_name).or_else(|| runtime_error(output, file_name))
}

fn compile_error(output: &str, code: &str, file_name: &str) -> Option<ExtractedError> {
    let pattern = format!(
        r"(?m)^(?:\./)?{}\((?P<line>\d+)(?:,(?P<col>\d+))?\) (?:Error|Fatal): (?P<msg>.*)$",
        regex::escape(file_name)
    );
    let re = Regex::new(&pattern).ok()?;
    let c = re
        .captures_iter(output)
        .find(|c| !c["msg"].starts_with("There were "))?;
    let message = c["msg"].trim_end().to_string();
    let mut line: u32 = c["line"].parse().ok()?;
    let col: Option<usize> = c.name("col").and_then(|m| m.as_str().parse().ok());
    let lines: Vec<&str> = code.lines().collect();
    if message.starts_with(r#"Syntax error, ";" expected"#) {
        if let (Some(col), Some(text)) = (col, lines.get(line.saturating_sub(1) as usize)) {
            let indent = text.chars().take_while(|ch| ch.is_whitespace()).count();
            if col <= indent + 1 {
                if let Some(prev) = last_code_line(&lines, line.saturating_sub(1)) {
                    line = prev;
                }
            }
        }
    }
    let past_the_end = line as usize > lines.len()
        || lines
            .get(line.saturating_sub(1) as usize)
            .is_some_and(|l| l.trim().is_empty());
    if past_the_end {
        if let Some(last) = last_code_line(&lines, line.min(lines.len() as u32)) {
            line = last;
        }
    }
    Some(ExtractedError {
        error_type: "CompileError".into(),
        message,
        line: Some(line),
        ..Default::default()
    })
}

/// The last line at or before `upto` (1-based) that is not blank.
fn last_code_line(lines: &[&str], upto: u32) -> Option<u32> {
    (1..=upto.min(lines.len() as u32))
        .rev()
        .find(|&n| !lines[n as usize - 1].trim().is_empty())
}

fn runtime_error(output: &str, file_name: &str) -> Option<ExtractedError> {
    static BARE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^Runtime error (?P<num>\d+) at \$[0-9A-Fa-f]+").expect("static regex"));
    static UNHANDLED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^An unhandled exception occurred at \$[0-9A-Fa-f]+:\n(?P<text>[^\n]*)$").expect("static regex")
    });
    static CLASS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?P<class>[A-Za-z_]\w*): (?P<msg>.*)$").expect("static regex"));
    let assertion = Regex::new(&format!(
        r"(?m)^(?P<msg>.*\({}, line (?P<line>\d+)\))\.?$",
        regex::escape(file_name)
    ))
    .ok()?;
    let frame = Regex::new(&format!(r"line (\d+) of {}", regex::escape(file_name))).ok()?;
    let line_after = |end: usize| frame.captures(&output[end..]).and_then(|m| m[1].parse::<u32>().ok());
    if let Some(c) = UNHANDLED.captures(output) {
        let text = c["text"].trim_end();
        let (error_type, message) = match CLASS.captures(text) {
            Some(k) => (k["class"].to_string(), k["msg"].to_string()),
            None => ("RuntimeError".to_string(), text.to_string()),
        };
        let line =
            line_after(c.get(0)?.end()).or_else(|| assertion.captures(&message).and_then(|a| a["line"].parse().ok()));
        return Some(ExtractedError {
            error_type,
            message,
            line,
            ..Default::default()
        });
    }
    if let Some(c) = BARE.captures(output) {
        let num: u32 = c["num"].parse().ok()?;
        let (error_type, message) = match RUNTIME_ERRORS.iter().find(|(n, _, _)| *n == num) {
            Some((_, class, text)) => (class.to_string(), text.to_string()),
            None => ("RuntimeError".to_string(), format!("Runtime error {num}")),
        };
        return Some(ExtractedError {
            error_type,
            message,
            line: line_after(c.get(0)?.end()),
            ..Default::default()
        });
    }
    // A failed Assert without SysUtils: the message and its place, then exit code 227.
    let c = assertion.captures(output)?;
    Some(ExtractedError {
        error_type: "EAssertionFailed".into(),
        message: c["msg"].to_string(),
        line: c["line"].parse().ok(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::extract;

    // Captured from devmentor/pascal (fpc 3.2.2, Debian 13) in the sandbox.
    #[test]
    fn compile_errors_point_at_the_line_to_fix() {
        let code = "program C1;\nvar x: integer;\nbegin\n  x := 5\n  writeln(x);\nend.\n";
        let out = "main.pas(5,3) Fatal: Syntax error, \";\" expected but \"identifier WRITELN\" found\nFatal: Compilation aborted\nError: /usr/bin/ppcx64 returned an error exitcode\n";
        let e = extract("pascal", out, None, code, "main.pas").unwrap();
        assert_eq!(e.error_type, "CompileError");
        assert_eq!(
            e.message,
            "Syntax error, \";\" expected but \"identifier WRITELN\" found"
        );
        assert_eq!(e.line, Some(4), "the line that lacks the semicolon");
        assert_eq!(e.source_line.as_deref(), Some("x := 5"));

        let code = "program A;\nvar x: integer;\nbegin\n  y := 3;\nend.\n";
        let out = "main.pas(4,3) Error: Identifier not found \"y\"\nmain.pas(6) Fatal: There were 1 errors compiling module, stopping\nFatal: Compilation aborted\n";
        let e = extract("pascal", out, None, code, "main.pas").unwrap();
        assert_eq!((e.message.as_str(), e.line), ("Identifier not found \"y\"", Some(4)));

        // A warning before the error is not the error.
        let out = "main.pas(4,6) Warning: Variable \"x\" does not seem to be initialized\nmain.pas(7,4) Fatal: Syntax error, \";\" expected but \".\" found\n";
        let code = "program A;\nvar x: integer;\nbegin\n  if x = 1 then\n  begin\n    writeln(1);\nend.\n";
        let e = extract("pascal", out, None, code, "main.pas").unwrap();
        assert_eq!(e.line, Some(7), "a `.` in mid-line stays where it is");
    }

    #[test]
    fn a_missing_end_is_shown_at_the_last_line() {
        let code = "program A;\nbegin\n  writeln(1);\n";
        let e = extract(
            "pascal",
            "main.pas(4) Fatal: Unexpected end of file\nFatal: Compilation aborted\n",
            None,
            code,
            "main.pas",
        )
        .unwrap();
        assert_eq!((e.message.as_str(), e.line), ("Unexpected end of file", Some(3)));
        assert_eq!(e.source_line.as_deref(), Some("writeln(1);"));
        let code = "program A;\nbegin\n  writeln(1);\nend\n\n";
        let e = extract(
            "pascal",
            "main.pas(6) Fatal: Syntax error, \".\" expected but \"end of file\" found\n",
            None,
            code,
            "main.pas",
        )
        .unwrap();
        assert_eq!((e.line, e.source_line.as_deref()), (Some(4), Some("end")));
    }

    #[test]
    fn bare_runtime_errors_read_as_their_exceptions() {
        let out = "Runtime error 201 at $00000000004010F4\n  $00000000004010F4  main,  line 7 of main.pas\n  $0000000000422F1C\n\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("ERangeError", "Range check error", Some(7))
        );
        let out = "Runtime error 106 at $00000000004010BB\n  $00000000004010BB  main,  line 4 of main.pas\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("EInOutError", "Invalid input", Some(4))
        );
        // The first frame is inside the run-time library: the student's line is the next one.
        let out = "Runtime error 202 at $000000000041726C\n  $000000000041726C\n  $00000000004010E2  F,  line 4 of main.pas\n  $00000000004010E2  F,  line 4 of main.pas\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("EStackOverflow", Some(4)));
        let out = "Runtime error 204 at $00000000004193A4\n  $00000000004193A4\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("RuntimeError", "Runtime error 204", None)
        );
    }

    #[test]
    fn exceptions_and_assertions() {
        let out = "An unhandled exception occurred at $00000000004349E7:\nEConvertError: \"12a\" is an invalid integer\n  $00000000004349E7\n  $00000000004010AB  main,  line 4 of main.pas\n\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("EConvertError", "\"12a\" is an invalid integer", Some(4))
        );
        let out = "An unhandled exception occurred at $0000000000422EAC:\nEAssertionFailed: x must be positive (main.pas, line 5)\n";
        let e = extract("pascal", out, None, "", "main.pas").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("EAssertionFailed", Some(5)));
        let e = extract(
            "pascal",
            "x must be positive (main.pas, line 5).\n",
            None,
            "",
            "main.pas",
        )
        .unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("EAssertionFailed", "x must be positive (main.pas, line 5)", Some(5))
        );
        assert_eq!(extract("pascal", "some text\n", None, "", "main.pas"), None);
    }
}
