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
mod tests;
