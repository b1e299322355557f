//! SQL (the sqlite3 shell, `-bail`): the error that stopped the script.
//!
//! The shell reports `Parse error near line 4: no such table: users` when a statement could not
//! be prepared (syntax, unknown names, misuse of an aggregate…) and `Runtime error near line 2:
//! UNIQUE constraint failed: users.email (19)` when it failed while running (constraints, type
//! mismatches), with SQLite's result code in parentheses. The error type is that code's name,
//! `SQLITE_CONSTRAINT` (19), `SQLITE_MISMATCH` (20)…, and `SQLITE_ERROR` for a statement that
//! could not be prepared; the message is the text without the code.
//!
//! "Line N" is where the failing statement *starts*. A beginner's SELECT spans lines, so when the
//! shell also prints the statement with a caret under the error (its whitespace turned into
//! spaces), the statement is found in the script and the caret gives the line it points at.

use super::ExtractedError;
use regex::Regex;
use std::sync::LazyLock;

pub(super) fn extract(output: &str, code: &str) -> Option<ExtractedError> {
    static ERROR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?m)^(?:Parse error|Runtime error|Error)(?: near line (?P<line>\d+))?: (?:near line (?P<old_line>\d+): )?(?P<msg>.*)$",
        )
        .expect("static regex")
    });
    static CODE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?P<msg>.*?) \((?P<code>\d+)\)$").expect("static regex"));
    let c = ERROR.captures(output)?;
    let line: Option<u32> = c
        .name("line")
        .or_else(|| c.name("old_line"))
        .and_then(|l| l.as_str().parse().ok());
    let text = c["msg"].trim_end();
    let (message, code_number) = match CODE.captures(text) {
        Some(m) => (m["msg"].to_string(), m["code"].parse::<u32>().ok()),
        None => (text.to_string(), None),
    };
    let after = &output[c.get(0).map_or(output.len(), |m| m.end())..];
    let line = line.map(|start| caret_line(after, code, start).unwrap_or(start));
    Some(ExtractedError {
        error_type: result_code_name(code_number.unwrap_or(1)).to_string(),
        message,
        line,
        ..Default::default()
    })
}

/// The line the shell's caret points at: `after` holds the two lines it prints below the error,
/// `  SELECT a,   b, FROM t;` and `  ` + spaces + `^--- error here` (or `error here ---^`), where
/// the caret's column minus the indent is the error's byte offset in the statement as printed.
fn caret_line(after: &str, code: &str, start: u32) -> Option<u32> {
    let mut lines = after.lines().skip_while(|l| l.is_empty());
    let snippet = lines.next()?.strip_prefix("  ")?;
    let caret = lines.next()?;
    if !(caret.ends_with("^--- error here") || caret.ends_with("error here ---^")) || snippet.is_empty() {
        return None;
    }
    let offset = caret.find('^')?.checked_sub(2)?;
    // The script from the statement's first line, with whitespace as the shell prints it.
    let from_start: String = code
        .split_inclusive('\n')
        .skip(start.checked_sub(1)? as usize)
        .collect();
    // The shell turns each whitespace *byte* into a space and counts the offset in bytes, so
    // the comparison is byte for byte (a statement may hold Cyrillic text).
    let haystack: Vec<u8> = from_start
        .bytes()
        .map(|b| if b.is_ascii_whitespace() { b' ' } else { b })
        .collect();
    let at = find(&haystack, snippet.as_bytes())?;
    let error_at = (at + offset).min(from_start.len());
    let newlines = from_start.as_bytes()[..error_at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count();
    Some(start + newlines as u32)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// SQLite's primary result codes (sqlite3.h); an extended code keeps its primary in the low byte.
fn result_code_name(code: u32) -> &'static str {
    match code & 0xff {
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        _ => "SQLITE_ERROR",
    }
}

#[cfg(test)]
mod tests {
    use super::super::extract as extract_any;

    fn extract(output: &str, code: &str) -> super::ExtractedError {
        extract_any("sql", output, None, code, "main.sql").expect("an error")
    }

    // Captured from the sandbox (devmentor/sql: SQLite 3.46.1, `-bail -header -table`).
    #[test]
    fn a_constraint_failure_at_run_time_names_its_result_code() {
        let code = "CREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL);\nINSERT INTO users(email) VALUES ('a@x.ru'), ('b@x.ru');\nSELECT * FROM users;\nINSERT INTO users(email)\n  VALUES ('a@x.ru');\n";
        let e = extract(
            "Runtime error near line 4: UNIQUE constraint failed: users.email (19)\n",
            code,
        );
        assert_eq!(e.error_type, "SQLITE_CONSTRAINT");
        assert_eq!(e.message, "UNIQUE constraint failed: users.email");
        assert_eq!(e.line, Some(4));
        assert_eq!(e.source_line.as_deref(), Some("INSERT INTO users(email)"));
        let e = extract(
            "Runtime error near line 1: datatype mismatch (20)\n",
            "INSERT INTO t VALUES('x');\n",
        );
        assert_eq!(
            (e.error_type.as_str(), e.message.as_str()),
            ("SQLITE_MISMATCH", "datatype mismatch")
        );
    }

    #[test]
    fn the_caret_points_into_a_statement_over_several_lines() {
        let code = "CREATE TABLE t(a, b);\nSELECT\n  a,\n  b,\nFROM t;\n";
        let e = extract(
            "Parse error near line 2: near \"FROM\": syntax error\n  SELECT   a,   b, FROM t;\n                   ^--- error here\n",
            code,
        );
        assert_eq!(e.error_type, "SQLITE_ERROR");
        assert_eq!(e.message, "near \"FROM\": syntax error");
        assert_eq!(e.line, Some(5));
        assert_eq!(e.source_line.as_deref(), Some("FROM t;"));
        let code = "CREATE TABLE t(a);\nINSERT INTO t VALUES (1)\nINSERT INTO t VALUES (2);\n";
        let e = extract(
            "Parse error near line 2: near \"INSERT\": syntax error\n  INSERT INTO t VALUES (1) INSERT INTO t VALUES (2);\n             error here ---^\n",
            code,
        );
        assert_eq!(e.line, Some(3), "the caret is under the second INSERT");
        let code = "CREATE TABLE t(a, b);\n\nSELECT a,\n  c\nFROM t\nWHERE a > 1;\n";
        let e = extract(
            "Parse error near line 3: no such column: c\n  SELECT a,   c FROM t WHERE a > 1;\n              ^--- error here\n",
            code,
        );
        assert_eq!((e.message.as_str(), e.line), ("no such column: c", Some(4)));
    }

    #[test]
    fn without_a_caret_the_statements_first_line_and_the_first_line_of_the_message() {
        let e = extract(
            "Parse error near line 2: no such table: users\n",
            "SELECT 1;\nSELECT * FROM users;\n",
        );
        assert_eq!((e.error_type.as_str(), e.line), ("SQLITE_ERROR", Some(2)));
        let e = extract(
            "Parse error near line 1: unrecognized token: \"'abc;\nSELECT 2;\"\n  SELECT 'abc; SELECT 2;\n         ^--- error here\n",
            "SELECT 'abc;\nSELECT 2;\n",
        );
        assert_eq!((e.message.as_str(), e.line), ("unrecognized token: \"'abc;", Some(1)));
        let e = extract(
            "Error: unknown command or invalid arguments:  \"foo\". Enter \".help\" for help\n",
            ".foo\n",
        );
        assert_eq!((e.error_type.as_str(), e.line), ("SQLITE_ERROR", None));
        let e = extract("Error: near line 3: no such table: t\n", "");
        assert_eq!(e.line, Some(3), "older shells: `Error: near line N:`");
    }
}
