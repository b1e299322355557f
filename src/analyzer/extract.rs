//! Error extraction: one error out of a failed run's stderr or compiler output.
//!
//! Per language: the error type, the message, the line in the student's own file (never a
//! library frame), the failing source line, and the tool's own suggestion ("Did you mean …?")
//! kept apart from the message. Python prefers the structured report of its sandbox hook and
//! parses the traceback text only as a fallback. Work is bounded: input is cut to a fixed size
//! and every regex is linear-time.

mod bash;
mod csharp;
mod pascal;
mod php;
mod ruby;
mod sql;
mod typescript;

use regex::Regex;
use serde::Serialize;
use std::sync::LazyLock;

/// Marker of the Python hook's JSON report line (see containers/python/language.toml).
pub const PY_REPORT_MARKER: &str = "\u{2}DMERR ";

/// Only the last part of an enormous output is read: the error is at the end.
const MAX_SCAN_BYTES: usize = 64 * 1024;
const MAX_MESSAGE_CHARS: usize = 2000;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExtractedError {
    pub error_type: String,
    pub message: String,
    pub line: Option<u32>,
    pub source_line: Option<String>,
    pub suggestion: Option<String>,
    /// The line of the output the error was read from, as printed (`ZeroDivisionError: division
    /// by zero`, `main.c:2:5: error: …`): what the card quotes first.
    pub quote: Option<String>,
    /// The program never started: the language rejected the source before running any of it
    /// (Python's `SyntaxError`, PHP's `ParseError`…). A compiler's error is a `compile_error`
    /// verdict already.
    pub before_start: bool,
}

/// Removes the Python hook's report lines from what the student sees; returns the cleaned text
/// and the last report.
pub fn split_python_report(stderr: &str) -> (String, Option<String>) {
    let mut report = None;
    let mut cleaned = String::with_capacity(stderr.len());
    for line in stderr.split_inclusive('\n') {
        if let Some(json) = line.strip_prefix(PY_REPORT_MARKER) {
            report = Some(json.trim_end().to_string());
        } else {
            cleaned.push_str(line);
        }
    }
    (cleaned, report)
}

/// Extracts the error of a failed step. `output` is the run's stderr (or the compiler's
/// messages); `code` the student's source, to quote the failing line.
pub fn extract(
    language: &str,
    output: &str,
    python_report: Option<&str>,
    code: &str,
    file_name: &str,
) -> Option<ExtractedError> {
    // Mono prints the exception before its (up to 1,000-frame) stack trace: C# reads the head.
    let whole = output;
    let output = tail(output, MAX_SCAN_BYTES);
    let mut e = match language {
        "python" => python_report
            .and_then(parse_python_report)
            .or_else(|| python_text(output, file_name)),
        "javascript" => javascript(output, file_name),
        "c" | "cpp" => gcc(output, file_name).or_else(|| cxx_runtime(output)),
        "java" => java(output, file_name),
        "go" => go(output, file_name),
        "rust" => rust(output, file_name),
        "typescript" => typescript::extract(output, file_name),
        "sql" => sql::extract(output, code),
        "php" => php::extract(output, file_name),
        "ruby" => ruby::extract(output, file_name),
        "bash" => bash::extract(output, file_name),
        "pascal" => pascal::extract(output, code, file_name),
        "csharp" => csharp::extract(head(whole, MAX_SCAN_BYTES), code, file_name),
        _ => None,
    }?;
    let (message, suggestion) = split_suggestion(&e.message);
    e.message = truncate_chars(message.trim(), MAX_MESSAGE_CHARS);
    if e.suggestion.is_none() {
        e.suggestion = suggestion;
    }
    let scanned = if language == "csharp" {
        head(whole, MAX_SCAN_BYTES)
    } else {
        output
    };
    e.quote = decisive_line(language, scanned, &e);
    e.before_start = before_start(language, output, &e, file_name);
    if e.source_line.is_none() {
        e.source_line = e
            .line
            .and_then(|n| code.lines().nth(n.saturating_sub(1) as usize))
            .map(|l| l.trim().to_string());
    }
    Some(e)
}

/// The printed line the extracted error came from. Tracebacks that end with the error (Python,
/// Node, Ruby, bash) are read from the end; compilers print their first error first. Indented
/// lines (a quoted source line, a stack frame) are passed over when a line of its own exists.
fn decisive_line(language: &str, output: &str, e: &ExtractedError) -> Option<String> {
    let message: String = e.message.lines().next().unwrap_or("").trim().chars().take(80).collect();
    let needle = if message.is_empty() {
        e.error_type.as_str()
    } else {
        message.as_str()
    };
    if needle.is_empty() {
        return None;
    }
    let from_end =
        matches!(language, "python" | "javascript" | "typescript" | "ruby" | "bash") && !e.error_type.starts_with("TS");
    let candidates: Vec<&str> = output.lines().filter(|l| l.contains(needle)).collect();
    let unindented: Vec<&str> = candidates
        .iter()
        .copied()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .collect();
    let pool = if unindented.is_empty() { candidates } else { unindented };
    let typed: Vec<&str> = pool.iter().copied().filter(|l| l.contains(&e.error_type)).collect();
    let pool = if typed.is_empty() { pool } else { typed };
    let line = if from_end { pool.last() } else { pool.first() }?;
    Some(truncate_chars(line.trim(), 300))
}

/// Whether the language refused the program before running any of it. Python, Node, PHP and
/// Ruby read the whole file first; bash and SQLite run it statement by statement, so their
/// syntax errors may come after work was done. A syntax error raised by running code (Python's
/// `eval`, Node's `JSON.parse`) has a stack through the student's file.
fn before_start(language: &str, output: &str, e: &ExtractedError, file_name: &str) -> bool {
    let t = e.error_type.as_str();
    match language {
        "python" => {
            matches!(t, "SyntaxError" | "IndentationError" | "TabError")
                && !output.contains("Traceback (most recent call last):")
        }
        "javascript" => {
            t == "SyntaxError"
                && !output
                    .lines()
                    .any(|l| l.trim_start().starts_with("at ") && l.contains(file_name))
        }
        "php" => t == "ParseError",
        "ruby" => t == "SyntaxError",
        _ => false,
    }
}

fn head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// `"name 'x' is not defined. Did you mean: 'y'?"` → message and `'y'`.
fn split_suggestion(message: &str) -> (String, Option<String>) {
    static DID_YOU_MEAN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)[.;,]?\s*(?:did you mean|did you forget(?: to)?):?\s*(?P<s>[^\n]+?)\??$")
            .expect("static regex")
    });
    match DID_YOU_MEAN.captures(message) {
        Some(c) => {
            let whole = c.get(0).map(|m| m.start()).unwrap_or(message.len());
            let s = c["s"]
                .trim()
                .trim_matches(|ch| matches!(ch, '\'' | '‘' | '’'))
                .to_string();
            (message[..whole].to_string(), Some(s).filter(|s| !s.is_empty()))
        }
        None => (message.to_string(), None),
    }
}

fn parse_python_report(json: &str) -> Option<ExtractedError> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    Some(ExtractedError {
        error_type: v.get("type")?.as_str()?.to_string(),
        message: v.get("message").and_then(|m| m.as_str()).unwrap_or("").to_string(),
        line: v.get("line").and_then(|l| l.as_u64()).map(|l| l as u32),
        ..Default::default()
    })
}

/// The traceback text: the last block wins (chained exceptions print the final one last), and
/// warnings printed before it are ignored.
fn python_text(output: &str, file_name: &str) -> Option<ExtractedError> {
    static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration|[A-Z]\w*))(?::\s?(?P<msg>.*))?$")
            .expect("static regex")
    });
    static FILE_LINE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)"#).expect("static regex"));
    let lines: Vec<&str> = output.lines().collect();
    let start = lines
        .iter()
        .rposition(|l| l.starts_with("Traceback (most recent call last):"))
        .unwrap_or(0);
    let block = &lines[start..];
    let (idx, caps) = block
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, l)| ERROR_LINE.captures(l).filter(|_| !l.starts_with(' ')).map(|c| (i, c)))?;
    let full_type = caps.name("type")?.as_str();
    let mut line = None;
    for l in &block[..idx] {
        if let Some(c) = FILE_LINE.captures(l) {
            let file = &c["file"];
            if file.ends_with(&format!("/{file_name}")) || file == file_name {
                line = c["line"].parse().ok();
            }
        }
    }
    Some(ExtractedError {
        error_type: full_type.rsplit('.').next().unwrap_or(full_type).to_string(),
        message: caps.name("msg").map(|m| m.as_str()).unwrap_or("").to_string(),
        line,
        ..Default::default()
    })
}

/// Node prints `file:line`, the source line, a caret, then `Type: message` and a stack.
fn javascript(output: &str, file_name: &str) -> Option<ExtractedError> {
    static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:Uncaught )?(?P<type>[A-Z]\w*(?:Error|Exception)?|Error)(?: \[\w+\])?: (?P<msg>.*)$")
            .expect("static regex")
    });
    static THROWN_PLAIN: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?P<type>[A-Z]\w*Error)$").expect("static regex"));
    let lines: Vec<&str> = output.lines().collect();
    let (idx, error_type, message) = lines.iter().enumerate().find_map(|(i, l)| {
        if let Some(c) = ERROR_LINE.captures(l) {
            return Some((i, c["type"].to_string(), c["msg"].to_string()));
        }
        THROWN_PLAIN
            .captures(l)
            .map(|c| (i, c["type"].to_string(), String::new()))
    })?;
    let file_re = Regex::new(&format!(r"{}:(\d+)", regex::escape(file_name))).ok()?;
    // The header (`/sandbox/main.js:2`) comes first; else the first stack frame in our file.
    let line = lines[..idx]
        .iter()
        .chain(lines[idx..].iter())
        .find_map(|l| file_re.captures(l).and_then(|c| c[1].parse().ok()));
    Some(ExtractedError {
        error_type,
        message,
        line,
        ..Default::default()
    })
}

/// The first diagnostic matched by `pattern` (named groups `line` and `msg`) as a compile error.
fn compile_error(output: &str, pattern: &str) -> Option<ExtractedError> {
    let c = Regex::new(pattern).ok()?.captures(output)?;
    Some(ExtractedError {
        error_type: "CompileError".into(),
        message: c["msg"].to_string(),
        line: c["line"].parse().ok(),
        ..Default::default()
    })
}

/// gcc/g++ diagnostics: the first `main.c:L:C: error: …`, or a linker error.
fn gcc(output: &str, file_name: &str) -> Option<ExtractedError> {
    let pattern = format!(
        r"(?m)^(?:\./)?{}:(?P<line>\d+):(?:\d+:)? (?:fatal )?error: (?P<msg>.*)$",
        regex::escape(file_name)
    );
    if let Some(e) = compile_error(output, &pattern) {
        return Some(e);
    }
    static LINK: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)(?:undefined reference to|multiple definition of) .*$").expect("static regex")
    });
    let m = LINK.find(output)?;
    Some(ExtractedError {
        error_type: "LinkError".into(),
        message: m.as_str().trim().to_string(),
        ..Default::default()
    })
}

/// A C/C++ program's own last words: an uncaught exception or a failed assertion.
fn cxx_runtime(output: &str) -> Option<ExtractedError> {
    static THROW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"terminate called after throwing an instance of '(?P<type>[^']+)'(?:\s*\n\s*what\(\):\s*(?P<msg>.*))?",
        )
        .expect("static regex")
    });
    static ASSERT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^[^\n]*?:(?P<line>\d+): [^\n]*: Assertion `(?P<msg>.*)' failed\.$").expect("static regex")
    });
    if let Some(c) = THROW.captures(output) {
        return Some(ExtractedError {
            error_type: c["type"].to_string(),
            message: c.name("msg").map(|m| m.as_str().to_string()).unwrap_or_default(),
            ..Default::default()
        });
    }
    let c = ASSERT.captures(output)?;
    Some(ExtractedError {
        error_type: "SIGABRT".into(),
        message: format!("Assertion `{}' failed.", &c["msg"]),
        line: c["line"].parse().ok(),
        ..Default::default()
    })
}

fn java(output: &str, file_name: &str) -> Option<ExtractedError> {
    if let Some(e) = compile_error(
        output,
        &format!(r"(?m)^{}:(?P<line>\d+): error: (?P<msg>.*)$", regex::escape(file_name)),
    ) {
        return Some(e);
    }
    static EXC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?m)^Exception in thread "[^"]*" (?P<type>[\w.$]+)(?:: (?P<msg>.*))?$"#).expect("static regex")
    });
    let c = EXC.captures(output)?;
    let full = &c["type"];
    let frame = Regex::new(&format!(r"\({}:(\d+)\)", regex::escape(file_name))).ok()?;
    let after = &output[c.get(0)?.end()..];
    Some(ExtractedError {
        error_type: full.rsplit('.').next().unwrap_or(full).to_string(),
        message: c.name("msg").map(|m| m.as_str().to_string()).unwrap_or_default(),
        line: frame.captures(after).and_then(|m| m[1].parse().ok()),
        ..Default::default()
    })
}

fn go(output: &str, file_name: &str) -> Option<ExtractedError> {
    if !output.contains("goroutine ") {
        let pattern = format!(
            r"(?m)^(?:\./)?{}:(?P<line>\d+):\d+: (?P<msg>.*)$",
            regex::escape(file_name)
        );
        if let Some(e) = compile_error(output, &pattern) {
            return Some(e);
        }
    }
    static PANIC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?m)^(?P<type>panic|fatal error): (?P<msg>.*?)(?: \[recovered\])?$").expect("static regex")
    });
    let c = PANIC.captures(output)?;
    let frame = Regex::new(&format!(r"/{}:(\d+)", regex::escape(file_name))).ok()?;
    let after = &output[c.get(0)?.end()..];
    // `panic: main.MyErr{…}` or a plain string, as printed; ` [recovered]` is cut by the regex.
    let message = c["msg"].to_string();
    Some(ExtractedError {
        error_type: c["type"].to_string(),
        message,
        line: frame.captures(after).and_then(|m| m[1].parse().ok()),
        ..Default::default()
    })
}

fn rust(output: &str, file_name: &str) -> Option<ExtractedError> {
    static COMPILE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^error(?:\[(?P<code>E\d{4})\])?: (?P<msg>.*)$").expect("static regex"));
    let location = Regex::new(&format!(r"-->\s*(?:\./)?{}:(\d+):\d+", regex::escape(file_name))).ok()?;
    if let Some(c) = COMPILE
        .captures(output)
        .filter(|c| !c["msg"].starts_with("aborting due to"))
    {
        let after = &output[c.get(0)?.end()..];
        return Some(ExtractedError {
            error_type: c
                .name("code")
                .map(|m| m.as_str().to_string())
                .unwrap_or_else(|| "CompileError".into()),
            message: c["msg"].to_string(),
            line: location.captures(after).and_then(|m| m[1].parse().ok()),
            ..Default::default()
        });
    }
    // 1.63: `thread 'main' panicked at 'msg', main.rs:1:53`; 1.73+: `… panicked at main.rs:1:53:\nmsg`
    static OLD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?s)thread '[^']*'(?: \(\d+\))? panicked at '(?P<msg>.*?)', (?:\./)?(?P<file>[\w./-]+):(?P<line>\d+):\d+",
        )
        .expect("static regex")
    });
    static NEW: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"thread '[^']*'(?: \(\d+\))? panicked at (?:\./)?(?P<file>[\w./-]+):(?P<line>\d+):\d+:\n(?P<msg>[^\n]*)",
        )
        .expect("static regex")
    });
    let c = OLD.captures(output).or_else(|| NEW.captures(output))?;
    let in_own_file = c["file"].ends_with(file_name);
    Some(ExtractedError {
        error_type: "panic".into(),
        message: c["msg"].to_string(),
        line: in_own_file.then(|| c["line"].parse().ok()).flatten(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_report_wins_and_suggestions_are_kept_apart() {
        let stderr = "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\nNameError: name 'mesage' is not defined. Did you mean: 'message'?\n\u{2}DMERR {\"type\": \"NameError\", \"message\": \"name 'mesage' is not defined. Did you mean: 'message'?\", \"line\": 2, \"offset\": null}\n";
        let (clean, report) = split_python_report(stderr);
        assert!(!clean.contains("DMERR"));
        let e = extract(
            "python",
            &clean,
            report.as_deref(),
            "message = 1\nprint(mesage)\n",
            "main.py",
        )
        .unwrap();
        assert_eq!(e.error_type, "NameError");
        assert_eq!(e.message, "name 'mesage' is not defined");
        assert_eq!(e.suggestion.as_deref(), Some("message"));
        let (m, s) = split_suggestion("‘cout’ was not declared in this scope; did you mean ‘count’?");
        assert_eq!(
            (m.as_str(), s.as_deref()),
            ("‘cout’ was not declared in this scope", Some("count"))
        );
        let (m, s) = split_suggestion("name 'math' is not defined. Did you forget to import 'math'?");
        assert_eq!(
            (m.as_str(), s.as_deref()),
            ("name 'math' is not defined", Some("import 'math"))
        );
        assert_eq!(e.line, Some(2));
        assert_eq!(e.source_line.as_deref(), Some("print(mesage)"));
    }

    #[test]
    fn python_text_fallback_handles_chains_warnings_and_library_frames() {
        let stderr = "/sandbox/main.py:1: SyntaxWarning: \"is\" with a literal. Did you mean \"==\"?\n\
Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 3, in <module>\n    d['x']\nKeyError: 'x'\n\n\
During handling of the above exception, another exception occurred:\n\n\
Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 5, in <module>\n    json.loads('{')\n  File \"/usr/lib/python3.11/json/__init__.py\", line 346, in loads\n\
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
        let e = extract("python", stderr, None, "", "main.py").unwrap();
        assert_eq!(e.error_type, "JSONDecodeError");
        assert_eq!(e.line, Some(5), "the student's line, not the library's");
        assert_eq!(e.message, "Expecting value: line 1 column 1 (char 0)");
        let e = extract(
            "python",
            "  File \"/sandbox/main.py\", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n",
            None,
            "def f(:\n",
            "main.py",
        )
        .unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("SyntaxError", Some(1)));
        let e = extract(
            "python",
            "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\nZeroDivisionError\n",
            None,
            "",
            "main.py",
        )
        .unwrap();
        assert_eq!((e.error_type.as_str(), e.message.as_str()), ("ZeroDivisionError", ""));
    }

    #[test]
    fn an_error_in_library_frames_only_has_no_line_of_ours() {
        let stderr = "Traceback (most recent call last):\n  File \"/usr/lib/python3.11/runpy.py\", line 198, in _run_module_as_main\n  File \"/usr/lib/python3.11/json/decoder.py\", line 355, in raw_decode\njson.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n";
        let e = extract("python", stderr, None, "print(1)\n", "main.py").unwrap();
        assert_eq!(e.error_type, "JSONDecodeError");
        assert_eq!(
            e.line, None,
            "a library's line number is never reported as the student's"
        );
        assert_eq!(e.source_line, None);
        let e = extract("javascript", "node:internal/modules/cjs/loader:1080\n  throw err;\n  ^\n\nError: Cannot find module 'lodash'\n    at Module._resolveFilename (node:internal/modules/cjs/loader:1077:15)\n", None, "", "main.js").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("Error", None));
    }

    #[test]
    fn javascript_errors() {
        let stderr = "/sandbox/main.js:2\nconsole.log(user.name);\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at Object.<anonymous> (/sandbox/main.js:2:18)\n    at Module._compile (node:internal/modules/cjs/loader:1256:14)\n\nNode.js v18.19.0\n";
        let e = extract(
            "javascript",
            stderr,
            None,
            "const user = undefined;\nconsole.log(user.name);\n",
            "main.js",
        )
        .unwrap();
        assert_eq!(e.error_type, "TypeError");
        assert_eq!(e.message, "Cannot read properties of undefined (reading 'name')");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.source_line.as_deref(), Some("console.log(user.name);"));
    }

    #[test]
    fn gcc_compile_link_and_runtime() {
        let e = extract(
            "c",
            "main.c: In function ‘main’:\nmain.c:2:32: error: expected ‘;’ before ‘return’\n",
            None,
            "",
            "main.c",
        )
        .unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("CompileError", "expected ‘;’ before ‘return’", Some(2))
        );
        let e = extract("c", "/usr/bin/ld: /tmp/ccX.o: in function `main':\nmain.c:(.text+0x5): undefined reference to `foo'\ncollect2: error: ld returned 1 exit status\n", None, "", "main.c").unwrap();
        assert_eq!(e.error_type, "LinkError");
        assert!(e.message.starts_with("undefined reference to `foo'"), "{}", e.message);
        let e = extract("cpp", "terminate called after throwing an instance of 'std::out_of_range'\n  what():  vector::_M_range_check: __n (which is 2) >= this->size() (which is 0)\n", None, "", "main.cpp").unwrap();
        assert_eq!(e.error_type, "std::out_of_range");
        assert!(e.message.starts_with("vector::_M_range_check"));
        let e = extract(
            "c",
            "main: main.c:4: main: Assertion `x > 0' failed.\n",
            None,
            "",
            "main.c",
        )
        .unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("SIGABRT", Some(4)));
    }

    #[test]
    fn java_go_rust() {
        let e = extract(
            "java",
            "Main.java:3: error: ';' expected\n        int x = 5\n                 ^\n1 error\n",
            None,
            "",
            "Main.java",
        )
        .unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("CompileError", "';' expected", Some(3))
        );
        let e = extract("java", "Exception in thread \"main\" java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 2\n\tat Main.main(Main.java:4)\n", None, "", "Main.java").unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.line),
            ("ArrayIndexOutOfBoundsException", Some(4))
        );
        let e = extract(
            "go",
            "# command-line-arguments\n./main.go:3:15: x declared but not used\n",
            None,
            "",
            "main.go",
        )
        .unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("CompileError", "x declared but not used", Some(3))
        );
        let e = extract("go", "panic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.main()\n\t/sandbox/main.go:8 +0x1d\nexit status 2\n", None, "", "main.go").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("panic", Some(8)));
        assert_eq!(e.message, "runtime error: index out of range [5] with length 3");
        let e = extract(
            "rust",
            "error[E0308]: mismatched types\n --> main.rs:1:26\n  |\n1 | fn main() { let x: i32 = \"text\"; }\n",
            None,
            "",
            "main.rs",
        )
        .unwrap();
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str(), e.line),
            ("E0308", "mismatched types", Some(1))
        );
        let e = extract("rust", "thread 'main' panicked at 'index out of bounds: the len is 0 but the index is 7', main.rs:1:53\nnote: run with `RUST_BACKTRACE=1`\n", None, "", "main.rs").unwrap();
        assert_eq!((e.error_type.as_str(), e.line), ("panic", Some(1)));
        assert_eq!(e.message, "index out of bounds: the len is 0 but the index is 7");
        let e = extract(
            "rust",
            "thread 'main' (3429) panicked at main.rs:2:5:\nattempt to subtract with overflow\n",
            None,
            "",
            "main.rs",
        )
        .unwrap();
        assert_eq!(
            (e.message.as_str(), e.line),
            ("attempt to subtract with overflow", Some(2))
        );
    }

    #[test]
    fn nothing_recognisable_and_huge_inputs_are_bounded() {
        assert_eq!(extract("python", "just some text\n", None, "", "main.py"), None);
        let huge = format!("{}\nTraceback (most recent call last):\n  File \"/sandbox/main.py\", line 9, in <module>\nValueError: {}\n", "x".repeat(5_000_000), "y".repeat(10_000));
        let t = std::time::Instant::now();
        let e = extract("python", &huge, None, "", "main.py").unwrap();
        assert_eq!(e.error_type, "ValueError");
        assert_eq!(e.message.chars().count(), MAX_MESSAGE_CHARS);
        assert!(t.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(extract("python", "\u{fffd}\u{fffd}", None, "", "main.py"), None);
    }

    /// The line each language's tools print to say what went wrong, as the card quotes it.
    #[test]
    fn the_decisive_line_of_each_language() {
        let cases: &[(&str, &str, &str, &str, &str)] = &[
            (
                "python",
                "main.py",
                "print(10 / 0)\n",
                "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    print(10 / 0)\n          ~~~^~~\nZeroDivisionError: division by zero\n",
                "ZeroDivisionError: division by zero",
            ),
            (
                "python",
                "main.py",
                "raise ValueError(\"bad age\")\n",
                "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    raise ValueError(\"bad age\")\nValueError: bad age\n",
                "ValueError: bad age",
            ),
            (
                "python",
                "main.py",
                "print('hi'\n",
                "  File \"/sandbox/main.py\", line 1\n    print('hi'\n         ^\nSyntaxError: '(' was never closed\n",
                "SyntaxError: '(' was never closed",
            ),
            (
                "java",
                "Main.java",
                "",
                "Exception in thread \"main\" java.lang.ArithmeticException: / by zero\n\tat Main.main(Main.java:3)\n",
                "Exception in thread \"main\" java.lang.ArithmeticException: / by zero",
            ),
            (
                "java",
                "Main.java",
                "",
                "Main.java:3: error: ';' expected\n        int x = 5\n                 ^\n1 error\n",
                "Main.java:3: error: ';' expected",
            ),
            (
                "c",
                "main.c",
                "",
                "main.c: In function ‘main’:\nmain.c:3:5: error: ‘y’ undeclared (first use in this function)\n    3 |     y = 2;\n      |     ^\nmain.c:3:5: note: each undeclared identifier is reported only once\n",
                "main.c:3:5: error: ‘y’ undeclared (first use in this function)",
            ),
            (
                "cpp",
                "main.cpp",
                "",
                "main.cpp: In function ‘int main()’:\nmain.cpp:4:5: error: ‘cout’ was not declared in this scope\n    4 |     cout << 1;\n",
                "main.cpp:4:5: error: ‘cout’ was not declared in this scope",
            ),
            (
                "rust",
                "main.rs",
                "",
                "error[E0308]: mismatched types\n --> main.rs:2:18\n  |\n2 |     let x: i32 = \"text\";\n  |            ---   ^^^^^^ expected `i32`, found `&str`\n",
                "error[E0308]: mismatched types",
            ),
            (
                "go",
                "main.go",
                "",
                "panic: runtime error: integer divide by zero\n\ngoroutine 1 [running]:\nmain.main()\n\t/sandbox/main.go:6 +0x1d\n",
                "panic: runtime error: integer divide by zero",
            ),
            (
                "go",
                "main.go",
                "",
                "# command-line-arguments\n./main.go:3:5: declared and not used: x\n",
                "./main.go:3:5: declared and not used: x",
            ),
            (
                "javascript",
                "main.js",
                "",
                "/sandbox/main.js:2\nconsole.log(user.name);\n                 ^\n\nTypeError: Cannot read properties of undefined (reading 'name')\n    at Object.<anonymous> (/sandbox/main.js:2:18)\n\nNode.js v20.19.2\n",
                "TypeError: Cannot read properties of undefined (reading 'name')",
            ),
            (
                "javascript",
                "main.js",
                "",
                "/sandbox/main.js:1\nthrow new Error(\"boom\");\n^\n\nError: boom\n    at Object.<anonymous> (/sandbox/main.js:1:7)\n",
                "Error: boom",
            ),
            (
                "ruby",
                "main.rb",
                "",
                "main.rb:1:in `/': divided by 0 (ZeroDivisionError)\n\tfrom main.rb:1:in `<main>'\n",
                "main.rb:1:in `/': divided by 0 (ZeroDivisionError)",
            ),
            (
                "php",
                "main.php",
                "",
                "PHP Fatal error:  Uncaught DivisionByZeroError: Division by zero in /sandbox/main.php:2\nStack trace:\n#0 {main}\n  thrown in /sandbox/main.php on line 2\n",
                "PHP Fatal error:  Uncaught DivisionByZeroError: Division by zero in /sandbox/main.php:2",
            ),
            (
                "bash",
                "main.sh",
                "",
                "main.sh: line 2: foo: command not found\n",
                "main.sh: line 2: foo: command not found",
            ),
        ];
        for (language, file, code, stderr, want) in cases {
            let e = extract(language, stderr, None, code, file).unwrap_or_else(|| panic!("{language}: {stderr}"));
            assert_eq!(e.quote.as_deref(), Some(*want), "{language}: {stderr}");
        }
    }

    /// Which errors mean the program never started: the language refused to read it.
    #[test]
    fn a_source_the_language_refused_never_started() {
        let cases: &[(&str, &str, &str, bool)] = &[
            (
                "python",
                "main.py",
                "  File \"/sandbox/main.py\", line 1\n    print('hi'\n         ^\nSyntaxError: '(' was never closed\n",
                true,
            ),
            (
                "python",
                "main.py",
                "  File \"/sandbox/main.py\", line 2\n    print(1)\nIndentationError: unexpected indent\n",
                true,
            ),
            (
                "python",
                "main.py",
                "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\n    eval('1 +')\n  File \"<string>\", line 1\n    1 +\n       ^\nSyntaxError: invalid syntax\n",
                false,
            ),
            (
                "python",
                "main.py",
                "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 1, in <module>\nZeroDivisionError: division by zero\n",
                false,
            ),
            (
                "javascript",
                "main.js",
                "/sandbox/main.js:1\nlet x = ;\n        ^\n\nSyntaxError: Unexpected token ';'\n    at internalCompileFunction (node:internal/vm:76:18)\n    at wrapSafe (node:internal/modules/cjs/loader:1283:20)\n",
                true,
            ),
            (
                "javascript",
                "main.js",
                "undefined:1\n{\n \n\nSyntaxError: Unexpected end of JSON input\n    at JSON.parse (<anonymous>)\n    at Object.<anonymous> (/sandbox/main.js:1:6)\n",
                false,
            ),
            (
                "php",
                "main.php",
                "PHP Parse error:  syntax error, unexpected token \"echo\" in /sandbox/main.php on line 3\n",
                true,
            ),
            (
                "ruby",
                "main.rb",
                "main.rb:2: syntax error, unexpected end-of-input (SyntaxError)\n",
                true,
            ),
            (
                "bash",
                "main.sh",
                "main.sh: line 3: syntax error near unexpected token `fi'\n",
                false,
            ),
        ];
        for (language, file, stderr, want) in cases {
            let e = extract(language, stderr, None, "", file).unwrap_or_else(|| panic!("{language}: {stderr}"));
            assert_eq!(e.before_start, *want, "{language}: {stderr}");
        }
    }
}
