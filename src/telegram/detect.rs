//! What a student's unfenced text is: a program (and in which language, when the code says so
//! itself) or plain chat. Pure and table-tested: no I/O, no language packs — it names languages
//! by their pack names (`python`, `c`, `cpp`, …), and the caller keeps a guess only when that
//! pack is installed.
//!
//! Why: without it, a C program sent without a fence ran as the student's last language
//! (Python) and came back as a Python `SyntaxError`, and "привет, как дела?" became a
//! `SyntaxError` card counted in the analytics. The signals are the ones a teacher would see at
//! a glance — `#include`, `public class`, `fn main`, `package main`, `<?php`, a shebang,
//! `program X;` — scored per language; a guess is made only when one language clearly wins.
//! "Not code" is said only when nothing in the text looks like code (no language signal, and
//! no line shaped like a statement), so a beginner's broken program is still a program.

use regex::Regex;
use std::sync::LazyLock;

/// The verdict on a piece of unfenced text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// Whether the text looks like a program at all.
    pub is_code: bool,
    /// The language the code itself names, when one language clearly wins.
    pub language: Option<&'static str>,
}

/// One signal: a pattern, the language it points to, and how strongly.
struct Signal {
    language: &'static str,
    weight: u32,
    pattern: Regex,
}

/// A strong signal (3) decides alone; weak ones (1) add up. Patterns are checked against the
/// whole text (multi-line mode), so `^` is the start of a line.
const SIGNALS: &[(&str, u32, &str)] = &[
    // Shebangs name their interpreter.
    ("python", 5, r"\A#!.*\bpython"),
    ("bash", 5, r"\A#!.*\b(bash|sh)\b"),
    ("javascript", 5, r"\A#!.*\bnode\b"),
    ("ruby", 5, r"\A#!.*\bruby\b"),
    ("php", 5, r"\A#!.*\bphp\b"),
    // PHP.
    ("php", 6, r"<\?php"),
    ("php", 1, r"\$[A-Za-z_]\w*\s*=[^=].*;\s*$"),
    ("php", 1, r"^\s*echo\s+.*;\s*$"),
    // C and C++: an include decides between the two (C++ headers, `std::`, `cout`).
    (
        "c",
        3,
        r"^\s*#\s*include\s*<(stdio|stdlib|string|math|ctype|stdbool|time|limits)\.h>",
    ),
    ("c", 2, r"\b(printf|scanf)\s*\("),
    ("c", 1, r"^\s*int\s+main\s*\("),
    (
        "cpp",
        4,
        r"^\s*#\s*include\s*<(iostream|bits/stdc\+\+\.h|vector|string|algorithm|map|set|cmath|iomanip|fstream|sstream)>",
    ),
    ("cpp", 4, r"\busing\s+namespace\s+std\s*;"),
    ("cpp", 3, r"\bstd::|\bcout\s*<<|\bcin\s*>>"),
    // Java and C#: `public static void main` vs `static void Main`.
    ("java", 4, r"\bpublic\s+static\s+void\s+main\s*\(\s*String"),
    ("java", 3, r"\bSystem\.out\.print(ln|f)?\s*\("),
    ("java", 2, r"\bimport\s+java\.|\bnew\s+Scanner\s*\(\s*System\.in"),
    ("java", 1, r"^\s*public\s+class\s+\w+"),
    ("csharp", 4, r"\bstatic\s+(async\s+)?(void|int|Task)\s+Main\s*\("),
    ("csharp", 4, r"\bConsole\.(WriteLine|Write|ReadLine)\s*\("),
    ("csharp", 3, r"^\s*using\s+System(\.\w+)*\s*;"),
    // Go.
    ("go", 5, r"^\s*package\s+main\b"),
    ("go", 3, r"\bfmt\.(Print|Println|Printf|Scan|Scanln|Scanf|Sprintf)\s*\("),
    ("go", 2, r"^\s*func\s+\w+\s*\([^)]*\)\s*[\w\[\]*]*\s*\{"),
    ("go", 1, r"\w+\s*:=\s*"),
    // Rust.
    ("rust", 5, r"^\s*fn\s+main\s*\(\s*\)"),
    ("rust", 3, r"\b(println|print|format|vec|panic)!\s*[\(\[]"),
    ("rust", 2, r"\blet\s+mut\s+\w+"),
    (
        "rust",
        1,
        r"^\s*(pub\s+)?fn\s+\w+\s*(<[^>]*>)?\s*\(.*\)\s*(->\s*[\w<>&]+\s*)?\{",
    ),
    // Pascal.
    ("pascal", 5, r"(?i)^\s*program\s+\w+\s*;"),
    ("pascal", 3, r"(?i)\b(writeln|readln)\s*[\(;]"),
    ("pascal", 3, r"(?i)^\s*end\.\s*\z"),
    (
        "pascal",
        2,
        r"(?i)^\s*var\s*$|^\s*var\s+\w+(\s*,\s*\w+)*\s*:\s*(integer|real|string|char|boolean|longint)\b",
    ),
    ("pascal", 1, r"(?i)^\s*begin\s*$"),
    ("pascal", 1, r":="),
    // SQL: a script starts with a statement keyword.
    (
        "sql",
        4,
        r"(?i)^\s*(select\s+.+\s+from\s+\w+|create\s+table\s+\w+|insert\s+into\s+\w+|update\s+\w+\s+set\b|delete\s+from\s+\w+|drop\s+table\b)",
    ),
    ("sql", 2, r"(?i)^\s*select\s+[\w*'(]"),
    // TypeScript: JavaScript plus type annotations.
    (
        "typescript",
        3,
        r"\b(let|const|var)\s+\w+\s*:\s*(number|string|boolean|any|\w+\[\])\b",
    ),
    (
        "typescript",
        3,
        r"\bfunction\s+\w+\s*\([^)]*:\s*(number|string|boolean|any)\b",
    ),
    ("typescript", 2, r"^\s*(interface|type)\s+\w+\s*(=|\{)"),
    ("javascript", 3, r"\bconsole\.(log|error|warn)\s*\("),
    (
        "javascript",
        2,
        r"\b(require\s*\(\s*['\x22]|document\.|process\.stdin|readline\.createInterface)",
    ),
    ("javascript", 1, r"^\s*(let|const|var)\s+\w+\s*="),
    ("javascript", 1, r"^\s*function\s+\w+\s*\(|=>"),
    // Ruby: `puts`, blocks, `end` without a colon anywhere.
    ("ruby", 3, r"^\s*puts\s|\bputs\(|\bgets\.(chomp|to_i|to_f)"),
    ("ruby", 2, r"\.each\s+do\s*\||\bdo\s*\|\w+\|"),
    ("ruby", 1, r"^\s*def\s+\w+[^:]*$"),
    ("ruby", 1, r"^\s*end\s*$"),
    // Bash.
    (
        "bash",
        3,
        r"^\s*(if\s+\[|for\s+\w+\s+in\s+.*;\s*do\b|while\s+.*;\s*do\b|fi\s*$|done\s*$|esac\s*$)",
    ),
    ("bash", 2, r"^\s*read\s+(-p\s+|-r\s+)?\w+|\$\{?\w+\}?|\$\(\("),
    ("bash", 1, r"^\s*echo\s+[^;(]*$"),
    // Python: `def …:` / `if …:` with a colon, `print(`, `input(`, imports.
    ("python", 3, r"^\s*(def|class)\s+\w+.*:\s*(#.*)?$"),
    ("python", 3, r"^\s*(if|elif|while|for)\s+.+:\s*(#.*)?$|^\s*else\s*:\s*$"),
    ("python", 3, r"^\s*print\s*\("),
    ("python", 2, r"\binput\s*\("),
    ("python", 1, r"\brange\s*\(|\blen\s*\("),
    ("python", 2, r"^\s*(import\s+\w+|from\s+\w+(\.\w+)*\s+import\s)"),
    (
        "python",
        1,
        r"\b(int|str|float)\s*\(|\bf['\x22]|\bTrue\b|\bFalse\b|\bNone\b",
    ),
];

static COMPILED: LazyLock<Vec<Signal>> = LazyLock::new(|| {
    SIGNALS
        .iter()
        .filter_map(|(language, weight, p)| {
            // The table is constant and a unit test compiles every pattern, so a bad one is
            // caught there; at run time it is skipped rather than panicking.
            Regex::new(&format!("(?m){p}")).ok().map(|pattern| Signal {
                language,
                weight: *weight,
                pattern,
            })
        })
        .collect()
});

/// A line shaped like a statement in most languages: an assignment, a call, a block brace, a
/// line ending in `;`, `{` or `:` after a keyword-ish head, or an operator between names.
static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        ^\s*[A-Za-z_][\w.\[\]]*\s*(=|\+=|-=|\*=|/=|:=)\s*\S      # x = …
      | [A-Za-z_]\w*\(.*\)                                      # call(…) with no space before (
      | [;{}]\s*$                                               # ends in ; { }
      | ^\s*[{}]                                                # a brace line
      | ^\s*(\#|//|--)\s*\S                                     # a comment line
      ",
    )
    // A constant pattern, compiled by every test run: it cannot fail at run time.
    .expect("the statement pattern compiles")
});

/// Whether the text is a program, and in which language when its code says so.
pub fn detect(text: &str) -> Guess {
    let text = text.trim();
    if text.is_empty() {
        return Guess {
            is_code: false,
            language: None,
        };
    }
    let mut scores: Vec<(&'static str, u32)> = Vec::new();
    for s in COMPILED.iter() {
        if s.pattern.is_match(text) {
            match scores.iter_mut().find(|(l, _)| *l == s.language) {
                Some((_, n)) => *n += s.weight,
                None => scores.push((s.language, s.weight)),
            }
        }
    }
    adjust(text, &mut scores);
    scores.sort_by_key(|s| std::cmp::Reverse(s.1));
    let best = scores.first().copied();
    let second = scores.get(1).map(|s| s.1).unwrap_or(0);
    // A guess needs a strong signal and a clear lead over the runner-up.
    let language = best.filter(|(_, n)| *n >= 3 && *n >= second + 2).map(|(l, _)| l);
    let is_code = language.is_some() || best.is_some_and(|(_, n)| n >= 2) || looks_like_statements(text);
    Guess { is_code, language }
}

/// Corrections the single patterns cannot make: C++ is C plus more, TypeScript is JavaScript
/// plus types, and a `#include` line is a comment-looking line to the Python/Bash patterns.
fn adjust(text: &str, scores: &mut [(&'static str, u32)]) {
    let get = |scores: &[(&str, u32)], l: &str| scores.iter().find(|(x, _)| *x == l).map(|s| s.1).unwrap_or(0);
    let cpp = get(scores, "cpp");
    let ts = get(scores, "typescript");
    let c = get(scores, "c");
    let pascal = get(scores, "pascal");
    let has_include = text.contains("#include");
    for (l, n) in scores.iter_mut() {
        match *l {
            // Every C++ program here also looks like C (main, printf): C++ signals take C's.
            "cpp" if cpp >= 3 => *n += c,
            "typescript" if ts >= 3 => *n += get_js(text),
            // `#include`, `:=` in Pascal or Go: not Bash variables, not Python.
            "bash" | "python" | "ruby" if has_include || pascal >= 5 => *n = 0,
            _ => {}
        }
    }
}

/// JavaScript's own signals, for TypeScript's lead (TypeScript is JavaScript with types).
fn get_js(text: &str) -> u32 {
    COMPILED
        .iter()
        .filter(|s| s.language == "javascript" && s.pattern.is_match(text))
        .map(|s| s.weight)
        .sum()
}

/// Half or more of the non-empty lines look like statements, and the text is not prose ending
/// in a question or exclamation mark.
fn looks_like_statements(text: &str) -> bool {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if lines.is_empty() {
        return false;
    }
    let code = lines.iter().filter(|l| STATEMENT.is_match(l) && !is_prose(l)).count();
    code * 2 >= lines.len()
}

/// A line that reads as a sentence: mostly letters and spaces, several words, sentence
/// punctuation, no code operators.
fn is_prose(line: &str) -> bool {
    let words = line.split_whitespace().count();
    let letters = line.chars().filter(|c| c.is_alphabetic() || c.is_whitespace()).count();
    let total = line.chars().count().max(1);
    words >= 4 && letters * 100 / total >= 85 && !line.contains(['=', ';', '{', '}'])
}

/// Whether a program in `language` reads its standard input (to tell a student whose program
/// read nothing — a C `scanf` that got no input goes on silently — that it was waiting for some).
pub fn reads_input(language: &str, code: &str) -> bool {
    static READS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\b(scanf|getchar|fgets|gets|getline|cin\s*>>|Scanner\s*\(|readLine|ReadLine|ReadKey|readln|read\s*\(|input\s*\(|gets\b|STDIN|process\.stdin|readline|fmt\.Scan\w*|bufio\.NewReader\s*\(\s*os\.Stdin|stdin\(\)|fgetc|read\s+-?\w*)",
        )
        // A constant pattern, compiled by every test run: it cannot fail at run time.
        .expect("the input pattern compiles")
    });
    language != "sql" && READS.is_match(code)
}

#[cfg(test)]
mod tests;
