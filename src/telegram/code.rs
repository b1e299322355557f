//! Code in: ```lang fences, plain text, or a document; which language it is; and the program's
//! input when the student sends it along.
//!
//! A message may hold two fenced blocks: the first is the program, the second (or any block
//! tagged `input`, `stdin`, `in`, `ввод`) is what the program reads — so a program that asks for
//! input can be sent with it in one message instead of failing with EOF first. Unfenced text
//! goes through the detector (`detect`): the language the code names itself, or "not code".
//! Non-breaking spaces pasted from a web page are made ordinary spaces (and the caller tells the
//! student), because every compiler here rejects them as indentation.

use super::detect;
use crate::sandbox::Languages;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incoming {
    pub code: String,
    /// The language named by the fence tag or the file extension (a language pack name).
    pub language: Option<String>,
    /// A fence tag or extension that names no language we run (to say so).
    pub unknown_tag: Option<String>,
    /// The language the unfenced code names itself (`#include`, `fn main`, …), when installed.
    pub guessed: Option<String>,
    /// The program's input, from a second fenced block (or one tagged `input`/`stdin`).
    pub stdin: Option<String>,
    /// Unfenced text that does not look like a program (chat): it is answered, never run.
    pub not_code: bool,
    /// How many non-breaking (or zero-width) spaces were replaced in the code.
    pub spaces_fixed: usize,
}

/// Fence tags that name the program's input rather than a language.
const INPUT_TAGS: [&str; 7] = ["input", "stdin", "in", "ввод", "вход", "data", "данные"];

/// Fence tags people use that are not a pack's name or alias (`py3`, `jsx`, `c++17`…).
const TAG_ALIASES: &[(&str, &str)] = &[
    ("py3", "python"),
    ("py2", "python"),
    ("ipython", "python"),
    ("pycon", "python"),
    ("python2", "python"),
    ("jsx", "javascript"),
    ("es6", "javascript"),
    ("ecmascript", "javascript"),
    ("tsx", "typescript"),
    ("cplusplus", "cpp"),
    ("cc", "cpp"),
    ("hpp", "cpp"),
    ("h", "c"),
    ("zsh", "bash"),
    ("console", "bash"),
    ("shellscript", "bash"),
    ("objectpascal", "pascal"),
    ("lazarus", "pascal"),
    ("mysql", "sql"),
    ("postgres", "sql"),
    ("postgresql", "sql"),
    ("psql", "sql"),
    ("plsql", "sql"),
    ("dotnet", "csharp"),
];

/// One fenced block: its tag (may be empty) and body.
struct Block<'a> {
    tag: &'a str,
    body: &'a str,
    /// The byte range of the whole block (fences included) in the text.
    span: (usize, usize),
}

/// All fenced blocks of a text, in order; an unclosed last fence runs to the end.
fn blocks(text: &str) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("```") {
        let start = from + i;
        let after = &text[start + 3..];
        let (first_line, rest) = after.split_once('\n').unwrap_or((after, ""));
        let tag = first_line.trim();
        // "```print(1)```" on one line: no tag, the line is code.
        let (tag, body, body_at) = if tag.contains(char::is_whitespace) || tag.contains("```") || rest.is_empty() {
            ("", after, start + 3)
        } else {
            (tag, rest, start + 3 + first_line.len() + 1)
        };
        let (body, end) = match body.find("```") {
            Some(e) => (&body[..e], body_at + e + 3),
            None => (body, text.len()),
        };
        out.push(Block {
            tag,
            body,
            span: (start, end),
        });
        from = end;
        if from >= text.len() {
            break;
        }
    }
    out
}

fn is_input_tag(tag: &str) -> bool {
    INPUT_TAGS.contains(&tag.to_lowercase().as_str())
}

/// Code from a message's text: the first fenced block when there is one (its tag picks the
/// language) and a second block as the input; else the whole text, recognised by the detector.
pub fn from_text(text: &str, languages: &Languages) -> Incoming {
    let (text, spaces_fixed) = normalize_spaces(text);
    let all = blocks(&text);
    let input_at = all
        .iter()
        .position(|b| is_input_tag(b.tag))
        .or_else(|| (all.len() >= 2).then_some(1));
    let code_at = (0..all.len()).find(|i| Some(*i) != input_at);
    let stdin = input_at.map(|i| all[i].body.trim_matches('\n').to_string());
    let mut incoming = match code_at {
        Some(i) => {
            let (language, unknown_tag) = resolve(all[i].tag, languages);
            Incoming {
                code: all[i].body.trim_matches('\n').to_string(),
                language,
                unknown_tag,
                ..Incoming::default()
            }
        }
        None => {
            // No code block: the text outside an input block is the program.
            let outside = match input_at {
                Some(i) => {
                    let (a, b) = all[i].span;
                    format!("{}{}", &text[..a], &text[b..])
                }
                None => text.clone(),
            };
            let code = outside.trim_matches('\n').to_string();
            let guess = detect::detect(&code);
            Incoming {
                guessed: guess.language.and_then(|l| languages.find(l)).map(|p| p.name.clone()),
                not_code: !guess.is_code,
                code,
                ..Incoming::default()
            }
        }
    };
    incoming.stdin = stdin;
    incoming.spaces_fixed = spaces_fixed;
    incoming
}

/// Code from a document: the language from the file name's extension.
pub fn from_document(file_name: &str, text: String, languages: &Languages) -> Incoming {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let language = languages.by_extension(&ext).map(|p| p.name.clone());
    let unknown_tag = (language.is_none() && !ext.is_empty()).then(|| format!(".{ext}"));
    let (code, spaces_fixed) = normalize_spaces(&text);
    let guessed = if language.is_none() {
        detect::detect(&code)
            .language
            .and_then(|l| languages.find(l))
            .map(|p| p.name.clone())
    } else {
        None
    };
    Incoming {
        code,
        language,
        unknown_tag,
        guessed,
        spaces_fixed,
        ..Incoming::default()
    }
}

/// Replaces non-breaking and zero-width spaces (web pages are full of them; compilers reject
/// them) with ordinary spaces, or removes them; returns the text and how many were changed.
pub fn normalize_spaces(text: &str) -> (String, usize) {
    let mut n = 0;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{00A0}' | '\u{2007}' | '\u{202F}' | '\u{2002}' | '\u{2003}' | '\u{2009}' => {
                n += 1;
                out.push(' ');
            }
            '\u{200B}' | '\u{FEFF}' => n += 1,
            c => out.push(c),
        }
    }
    (out, n)
}

/// A fence tag as a language: a pack's name or alias, a common tag alias, the name with a
/// version (`python3.12`, `c++17`), or a file extension.
fn resolve(tag: &str, languages: &Languages) -> (Option<String>, Option<String>) {
    let tag = tag.trim().trim_start_matches('{').trim_end_matches('}');
    let tag = tag
        .strip_prefix("language-")
        .or_else(|| tag.strip_prefix("lang-"))
        .unwrap_or(tag);
    if tag.is_empty() {
        return (None, None);
    }
    let lower = tag.to_lowercase();
    let versionless = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    let found = languages
        .find(&lower)
        .or_else(|| {
            TAG_ALIASES
                .iter()
                .find(|(a, _)| *a == lower)
                .and_then(|(_, l)| languages.find(l))
        })
        .or_else(|| (!versionless.is_empty()).then(|| languages.find(versionless)).flatten())
        .or_else(|| languages.by_extension(&lower));
    match found {
        Some(p) => (Some(p.name.clone()), None),
        None => (None, Some(tag.chars().take(32).collect())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::language::default_limits;

    fn langs() -> Languages {
        Languages::builtin(default_limits(10, 65536))
    }

    #[test]
    fn fences_pick_the_language() {
        let l = langs();
        let i = from_text("look:\n```js\nconsole.log(1)\n```\nthanks", &l);
        assert_eq!(i.code, "console.log(1)");
        assert_eq!(i.language.as_deref(), Some("javascript"));
        let i = from_text("```python\nprint(1)\nprint(2)\n```", &l);
        assert_eq!(i.code, "print(1)\nprint(2)");
        assert_eq!(i.language.as_deref(), Some("python"));
        let i = from_text("```\nx = 1\n```", &l);
        assert_eq!((i.code.as_str(), i.language), ("x = 1", None));
        let i = from_text("```brainfuck\n+++\n```", &l);
        assert_eq!(i.unknown_tag.as_deref(), Some("brainfuck"));
        let i = from_text("```print(1)```", &l);
        assert_eq!(i.code, "print(1)");
        let i = from_text("print('hi')\n", &l);
        assert_eq!(i.code.as_str(), "print('hi')");
        assert_eq!(
            (i.language, i.guessed.as_deref(), i.not_code),
            (None, Some("python"), false)
        );
    }

    #[test]
    fn the_usual_tag_aliases_are_accepted() {
        let l = langs();
        for (tag, want) in [
            ("py3", "python"),
            ("Python3", "python"),
            ("python3.12", "python"),
            ("PY", "python"),
            ("c++", "cpp"),
            ("c++17", "cpp"),
            ("C", "c"),
            ("golang", "go"),
            ("rs", "rust"),
            ("jsx", "javascript"),
            ("node", "javascript"),
            ("ts", "typescript"),
            ("c#", "csharp"),
            ("cs", "csharp"),
            ("sh", "bash"),
            ("zsh", "bash"),
            ("pas", "pascal"),
            ("rb", "ruby"),
            ("php", "php"),
            ("java", "java"),
            ("sqlite", "sql"),
            ("postgresql", "sql"),
            ("language-python", "python"),
        ] {
            let i = from_text(&format!("```{tag}\nx\n```"), &l);
            assert_eq!(i.language.as_deref(), Some(want), "tag {tag}");
        }
    }

    #[test]
    fn a_second_block_is_the_input() {
        let l = langs();
        let i = from_text("```python\nn = int(input())\nprint(n * 2)\n```\n```\n21\n```", &l);
        assert_eq!(i.code, "n = int(input())\nprint(n * 2)");
        assert_eq!(i.stdin.as_deref(), Some("21"));
        assert_eq!(i.language.as_deref(), Some("python"));
        // A block tagged `input` is the input wherever it is; the other block is the code.
        let i = from_text("```input\n3 4\n```\n```c\nint main(){}\n```", &l);
        assert_eq!((i.code.as_str(), i.stdin.as_deref()), ("int main(){}", Some("3 4")));
        // Unfenced code with a tagged input block after it.
        let i = from_text("a = input()\nprint(a)\n```stdin\nhello\n```", &l);
        assert_eq!(
            (i.code.as_str(), i.stdin.as_deref()),
            ("a = input()\nprint(a)", Some("hello"))
        );
        assert_eq!(i.guessed.as_deref(), Some("python"));
        // One block: no input.
        assert_eq!(from_text("```py\nprint(1)\n```", &l).stdin, None);
    }

    #[test]
    fn non_breaking_spaces_are_made_ordinary() {
        let l = langs();
        let i = from_text(
            "```python\nfor i in range(2):\n\u{a0}\u{a0}\u{a0}\u{a0}print(i)\n```",
            &l,
        );
        assert_eq!(i.code, "for i in range(2):\n    print(i)");
        assert_eq!(i.spaces_fixed, 4);
        assert_eq!(from_text("print(1)", &l).spaces_fixed, 0);
    }

    #[test]
    fn chat_is_marked_not_code_and_c_is_recognised() {
        let l = langs();
        let i = from_text("привет, как дела?", &l);
        assert!(i.not_code);
        let i = from_text("#include <stdio.h>\nint main() { printf(\"hi\\n\"); }", &l);
        assert_eq!((i.not_code, i.guessed.as_deref()), (false, Some("c")));
        // Fenced text is what the student calls code, whatever it looks like.
        assert!(!from_text("```\nпривет\n```", &l).not_code);
    }

    #[test]
    fn documents_by_extension() {
        let l = langs();
        assert_eq!(
            from_document("a.py", "x".into(), &l).language.as_deref(),
            Some("python")
        );
        assert_eq!(
            from_document("Main.JAVA", "x".into(), &l).language.as_deref(),
            Some("java")
        );
        let i = from_document("notes.docx", "x".into(), &l);
        assert_eq!((i.language, i.unknown_tag.as_deref()), (None, Some(".docx")));
        assert_eq!(from_document("README", "x".into(), &l).unknown_tag, None);
        let i = from_document("Makefile", "package main\nfunc main() {}\n".into(), &l);
        assert_eq!(i.guessed.as_deref(), Some("go"));
    }
}
