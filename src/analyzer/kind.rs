//! The kind of an error: its message with the parts that change from one program to the next
//! (numbers, quoted names and values, file paths, addresses) blanked out.
//!
//! One tokenisation serves two readers, so they cannot drift apart: the backlog of unmatched
//! errors groups by the kind's fingerprint (`ZeroDivisionError` at two different lines,
//! `KeyError: 'a'` and `KeyError: 'b'` are one row), and "create an entry" from that row
//! gets a pattern that matches every message of the kind, in the same words the live matcher
//! sees (the message, never the `Type:` prefix).

use regex::Regex;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// A piece of a message: kept as written, or a value that varies.
#[derive(Debug, Clone, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    /// A quoted value; the quote characters it opens and closes with.
    Quoted(char, char),
    Path,
    Hex,
    Number,
}

/// Quoted values first (a straight quote opens only after a non-word character, so the
/// apostrophe of "can't" is text; a quoted path is one value), then paths, addresses, numbers.
static VARYING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?P<q>\B'[^'\n]*'\B|\B"[^"\n]*"\B|‘[^’\n]*’|“[^”\n]*”|«[^»\n]*»|\B`[^`\n]*`\B)"#,
        r"|(?P<path>(?:[A-Za-z]:)?[\w.~-]*(?:[/\\][\w.~-]+)+[/\\]?)",
        // Every word (dots inside allowed), sorted out below: a word with letters and digits
        // (`python3.12`, `E0308`) is a name, not a number.
        r"|(?P<word>\b\w+(?:\.\w+)*\b)",
    ))
    .expect("static regex")
});

fn pieces(message: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for c in VARYING.captures_iter(message) {
        let Some(whole) = c.get(0) else { continue };
        let piece = if let Some(q) = c.name("q") {
            let mut chars = q.as_str().chars();
            let open = chars.next().unwrap_or('\'');
            let close = chars.next_back().unwrap_or(open);
            Piece::Quoted(open, close)
        } else if c.name("path").is_some() {
            Piece::Path
        } else {
            let w = whole.as_str();
            let parts: Vec<&str> = w.split('.').collect();
            let number = parts.len() <= 2
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            let hex = w.len() > 2 && w.starts_with("0x") && w[2..].bytes().all(|b| b.is_ascii_hexdigit());
            match (number, hex) {
                (true, _) => Piece::Number,
                (_, true) => Piece::Hex,
                // A word as written: it stays in the text around it.
                _ => continue,
            }
        };
        if whole.start() > at {
            out.push(Piece::Text(&message[at..whole.start()]));
        }
        out.push(piece);
        at = whole.end();
    }
    if at < message.len() {
        out.push(Piece::Text(&message[at..]));
    }
    out
}

/// The message with its varying parts as placeholders and its spacing collapsed:
/// `name 'total' is not defined` → `name '…' is not defined`.
pub fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for p in pieces(message.trim()) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Quoted(o, c) => {
                out.push(o);
                out.push('…');
                out.push(c);
            }
            Piece::Path => out.push_str("<path>"),
            Piece::Hex => out.push_str("0x…"),
            Piece::Number => out.push('N'),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The backlog's key for an error: language, type and normalised message (not the failing
/// line: the same mistake on two lines is one kind).
pub fn fingerprint(language: &str, error_type: &str, message: &str) -> String {
    let mut h = Sha256::new();
    for part in [language, error_type, &normalise(message)] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// A registry pattern for every message of this message's kind, anchored at both ends:
/// `Expecting value: line 1 column 1 (char 0)` →
/// `^Expecting\s+value:\s+line\s+\d+…$`. It matches `message` itself (a test holds it to that).
pub fn pattern(message: &str) -> String {
    let mut out = String::from("^");
    for p in pieces(message.trim()) {
        match p {
            Piece::Text(t) => {
                let words: Vec<&str> = t.split_whitespace().collect();
                if t.starts_with(char::is_whitespace) && out != "^" {
                    out.push_str(r"\s+");
                }
                out.push_str(&words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join(r"\s+"));
                if t.ends_with(char::is_whitespace) && !words.is_empty() {
                    out.push_str(r"\s+");
                }
            }
            Piece::Quoted(o, c) => {
                let (o, c) = (regex::escape(&o.to_string()), regex::escape(&c.to_string()));
                out.push_str(&format!("{o}[^{c}\\n]*{c}"));
            }
            Piece::Path => out.push_str(r"\S+"),
            Piece::Hex => out.push_str(r"0x[0-9a-fA-F]+"),
            Piece::Number => out.push_str(r"\d+(?:\.\d+)?"),
        }
    }
    out.push('$');
    out
}

/// Gives the events recorded before kinds existed their kind, in batches; returns how many.
pub async fn backfill(c: &crate::store::Client) -> Result<u64, crate::store::StoreError> {
    use crate::store::catalogue::{events_without_kind, set_kinds};
    let mut done = 0;
    loop {
        let rows = events_without_kind(c, 1000).await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let kinds: Vec<String> = rows.iter().map(|(_, l, t, m)| fingerprint(l, t, m)).collect();
        let n = set_kinds(c, &ids, &kinds).await?;
        if n == 0 {
            return Ok(done); // the rows went away meanwhile; nothing left to do
        }
        done += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_kind_whatever_the_values() {
        assert_eq!(normalise("'a'"), normalise("'b'"));
        assert_eq!(
            fingerprint("python", "KeyError", "'a'"),
            fingerprint("python", "KeyError", "'b'")
        );
        assert_ne!(
            fingerprint("python", "KeyError", "'a'"),
            fingerprint("python", "IndexError", "'a'")
        );
        assert_eq!(
            normalise("Expecting value: line 1 column 1 (char 0)"),
            "Expecting value: line N column N (char N)"
        );
        assert_eq!(
            normalise("No such file or directory: '/tmp/x/data.txt'"),
            normalise("No such file or directory: 'input.csv'")
        );
        assert_eq!(normalise("cannot open /usr/lib/a.so"), "cannot open <path>");
        assert_eq!(normalise("object at 0x7f3a2b1c4d50  is bad"), "object at 0x… is bad");
        assert_eq!(
            normalise("can't multiply sequence by non-int of type 'float'"),
            "can't multiply sequence by non-int of type '…'"
        );
        assert_eq!(normalise("list index out of range"), "list index out of range");
        assert_eq!(
            normalise("E0308 in python3.12"),
            "E0308 in python3.12",
            "names keep their digits"
        );
        assert_eq!(
            normalise("unsupported operand type(s) for /: 'int' and 'str'"),
            "unsupported operand type(s) for /: '…' and '…'"
        );
    }

    #[test]
    fn the_pattern_matches_every_message_of_the_kind_and_no_other() {
        for (a, b, other) in [
            (
                "Expecting value: line 1 column 1 (char 0)",
                "Expecting value: line 12 column 3 (char 40)",
                "Expecting ',' delimiter: line 1 column 5 (char 4)",
            ),
            ("'a'", "'some key'", "a"),
            (
                "name 'x' is not defined",
                "name 'total_sum' is not defined",
                "name 'x' is not defined yet",
            ),
            (
                "[Errno 2] No such file: '/a/b.txt'",
                "[Errno 13] No such file: 'c'",
                "No such file",
            ),
            ("division by zero", "division  by zero", "division by zero!"),
        ] {
            let re = Regex::new(&pattern(a)).unwrap();
            assert!(re.is_match(a), "{} vs {a}", pattern(a));
            assert!(re.is_match(b), "{} vs {b}", pattern(a));
            assert!(!re.is_match(other), "{} vs {other}", pattern(a));
            assert_eq!(normalise(a), normalise(b));
        }
    }
}
