//! The result card: a finished check as one Telegram HTML message with its buttons.
//!
//! Everything from the student's program is hostile text: it is stripped of ANSI escapes and
//! NULs, cut to fit, and HTML-escaped. Telegram allows 4,096 characters of text per message; the
//! output gets about 3,500 of them (40 lines), and the full output is a button away.

use super::callback::Callback;
use crate::analyzer::Explanation;
use crate::check::{CheckResult, Outcome};
use crate::i18n::{t, tf, tp};
use crate::registry::Locale;
use crate::sandbox::Verdict;

/// A button: label and callback data.
pub type Button = (String, String);

#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    pub html: String,
    pub buttons: Vec<Vec<Button>>,
}

pub const MAX_OUTPUT_CHARS: usize = 3_500;
pub const MAX_OUTPUT_LINES: usize = 40;
const MAX_STDERR_CHARS: usize = 1_200;
const MAX_STDERR_LINES: usize = 20;
/// Telegram's limit on a message's text (counted after entities are parsed).
pub const TELEGRAM_TEXT_LIMIT: usize = 4_096;

/// Escapes text for Telegram's HTML parse mode.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Removes ANSI escape sequences (colours, cursor moves), NULs and other control characters
/// except newlines and tabs; carriage returns end lines.
pub fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => {
                // CSI: ESC [ params final-byte; OSC: ESC ] … BEL or ESC \; else one char.
                match chars.peek() {
                    Some('[') => {
                        chars.next();
                        for n in chars.by_ref() {
                            if ('@'..='~').contains(&n) {
                                break;
                            }
                        }
                    }
                    Some(']') => {
                        chars.next();
                        while let Some(n) = chars.next() {
                            if n == '\u{7}' || (n == '\u{1b}' && chars.peek() == Some(&'\\')) {
                                if n == '\u{1b}' {
                                    chars.next();
                                }
                                break;
                            }
                        }
                    }
                    Some(_) => {
                        chars.next();
                    }
                    None => {}
                }
            }
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The first `max_lines` lines and `max_chars` characters of `s`, and whether it was cut.
pub fn head(s: &str, max_chars: usize, max_lines: usize) -> (String, bool) {
    let mut out = String::new();
    let mut chars = 0;
    for (i, line) in s.split_inclusive('\n').enumerate() {
        if i >= max_lines {
            return (out, true);
        }
        let n = line.chars().count();
        if chars + n > max_chars {
            out.extend(line.chars().take(max_chars - chars));
            return (out, true);
        }
        out.push_str(line);
        chars += n;
    }
    (out, false)
}

/// The last lines of `s` (the end of a traceback is where the error is).
fn tail(s: &str, max_chars: usize, max_lines: usize) -> (String, bool) {
    let lines: Vec<&str> = s.split_inclusive('\n').collect();
    let mut out: Vec<&str> = Vec::new();
    let mut chars = 0;
    for line in lines.iter().rev() {
        let n = line.chars().count();
        if out.len() >= max_lines || chars + n > max_chars {
            break;
        }
        out.push(line);
        chars += n;
    }
    let cut = out.len() < lines.len();
    if out.is_empty() {
        // One huge line: its end.
        let all: Vec<char> = s.chars().collect();
        return (all[all.len().saturating_sub(max_chars)..].iter().collect(), true);
    }
    out.reverse();
    (out.concat(), cut)
}

/// The headline: what happened in a beginner's words (did not start, stopped with an error,
/// too slow, too much memory), then the signal or exit code when the program ran, and the time.
fn status_line(v: &CheckResult, locale: Locale) -> String {
    let outcome = v.outcome();
    let key = format!("bot.outcome.{}", outcome.as_str());
    let mut parts = vec![format!("<b>{}</b>", escape(&t(locale, &key)))];
    let ran = !matches!(outcome, Outcome::DidNotStart | Outcome::ServiceFailed);
    if let Some(sig) = v.signal.as_ref().filter(|_| ran) {
        let words = t(locale, &format!("bot.signal.{sig}"));
        let words = if words.starts_with("bot.signal.") {
            tf(locale, "bot.signal.other", &[("signal", sig)])
        } else {
            words
        };
        parts.push(escape(&words));
    } else if let Some(code) = v
        .exit_code
        .filter(|_| ran && (v.verdict != Verdict::Ok || v.exit_code != Some(0)))
    {
        parts.push(escape(&tf(locale, "bot.exit_code", &[("code", &code.to_string())])));
    }
    if v.verdict != Verdict::InternalError {
        parts.push(escape(&tf(
            locale,
            "bot.duration",
            &[("seconds", &seconds(v.duration_ms, locale))],
        )));
    }
    parts.join(" · ")
}

fn seconds(ms: u64, locale: Locale) -> String {
    let s = format!("{:.2}", ms as f64 / 1000.0);
    match locale {
        Locale::Ru => s.replace('.', ","),
        Locale::En => s,
    }
}

/// The code-block class for Telegram's syntax highlighting.
fn code_class(language: &str) -> &str {
    match language {
        "cpp" => "cpp",
        "javascript" => "javascript",
        other => other,
    }
}

/// Renders the card. `check_id` goes into the buttons; 🧠 "explain more" is offered only when
/// `ai_available` (an AI is configured and its breaker lets calls through).
pub fn card(check_id: i64, v: &CheckResult, locale: Locale, display_language: &str, ai_available: bool) -> Card {
    let mut budget = MAX_OUTPUT_CHARS;
    loop {
        let c = card_with_budget(check_id, v, locale, display_language, budget, ai_available);
        if visible_len(&c.html) <= TELEGRAM_TEXT_LIMIT || budget < 200 {
            return c;
        }
        budget = budget * 2 / 3;
    }
}

fn card_with_budget(
    check_id: i64,
    v: &CheckResult,
    locale: Locale,
    display_language: &str,
    budget: usize,
    ai_available: bool,
) -> Card {
    let mut html = String::new();
    html.push_str(&format!(
        "{} {}\n{}",
        outcome_emoji(v.outcome()),
        status_line(v, locale),
        escape(&tf(locale, "bot.card.language", &[("language", display_language)]))
    ));
    let stdout = clean(&v.stdout);
    let stderr = clean(&v.stderr);
    let mut cut_any = v.truncated;
    if !stdout.is_empty() {
        let (shown, cut) = head(&stdout, budget, MAX_OUTPUT_LINES);
        cut_any |= cut;
        html.push_str(&format!("\n\n<b>{}</b>", escape(&t(locale, "bot.card.output"))));
        if cut {
            let total_lines = stdout.lines().count();
            html.push_str(&format!(
                " <i>{}</i>",
                escape(&tf(
                    locale,
                    "bot.card.output_cut",
                    &[
                        ("shown", &shown.lines().count().to_string()),
                        ("of_lines", &tp(locale, "bot.plural.of_lines", total_lines as u64, &[]),),
                        ("chars", &shown.chars().count().to_string()),
                        (
                            "of_chars",
                            &tp(locale, "bot.plural.of_chars", stdout.chars().count() as u64, &[]),
                        ),
                    ]
                ))
            ));
        }
        html.push_str(&format!(
            "\n<pre><code class=\"language-{}\">{}</code></pre>",
            code_class("text"),
            escape(shown.trim_end_matches('\n'))
        ));
    } else if v.verdict == Verdict::Ok {
        html.push_str(&format!("\n\n<i>{}</i>", escape(&t(locale, "bot.card.no_output"))));
    }
    if v.truncated {
        html.push_str(&format!("\n<i>{}</i>", escape(&t(locale, "bot.card.truncated"))));
    }
    if !stderr.trim().is_empty() {
        let label = if v.verdict == Verdict::CompileError {
            "bot.card.compiler"
        } else {
            "bot.card.errors"
        };
        html.push_str(&format!("\n\n<b>{}</b>", escape(&t(locale, label))));
        // The line that says what went wrong comes first; the rest is a tap away.
        let decisive = v
            .explanation
            .as_ref()
            .and_then(|e| e.error_line.as_deref())
            .map(clean)
            .filter(|l| !l.trim().is_empty() && stderr.contains(l.trim()));
        let only_that = decisive.as_deref().is_some_and(|l| stderr.trim() == l.trim());
        if let Some(line) = &decisive {
            html.push_str(&format!(
                "\n<blockquote><code>{}</code></blockquote>",
                escape(&head(line.trim(), 300, 1).0)
            ));
        }
        if !only_that {
            let (shown, cut) = tail(&stderr, MAX_STDERR_CHARS.min(budget), MAX_STDERR_LINES);
            cut_any |= cut;
            if decisive.is_some() {
                html.push_str(&format!("\n<i>{}</i>", escape(&t(locale, "bot.card.errors_full"))));
            }
            if cut {
                html.push_str(&format!(" <i>{}</i>", escape(&t(locale, "bot.card.errors_cut"))));
            }
            html.push_str(&format!(
                "\n<blockquote expandable>{}</blockquote>",
                escape(shown.trim_matches('\n'))
            ));
        }
    }
    if let Some(e) = &v.explanation {
        html.push_str("\n\n");
        html.push_str(&explanation_html(e, locale));
    }
    Card {
        html,
        buttons: buttons(check_id, v, locale, cut_any, ai_available),
    }
}

/// The explanation part of a card (also used alone for "🧠 explain more").
pub fn explanation_html(e: &Explanation, locale: Locale) -> String {
    let source = match e.source.as_str() {
        "registry" => t(locale, "bot.source.registry"),
        "ai" | "cache" => t(locale, "bot.source.ai"),
        _ => t(locale, "bot.source.none"),
    };
    let mut s = format!("🧠 <b>{}</b> <i>({})</i>", escape(&e.title), escape(&source));
    if let Some(line) = &e.source_line {
        let label = match e.line {
            Some(n) => tf(locale, "bot.card.line_n", &[("line", &n.to_string())]),
            None => t(locale, "bot.card.line"),
        };
        s.push_str(&format!(
            "\n{} <code>{}</code>",
            escape(&label),
            escape(&head(line.trim(), 300, 1).0)
        ));
    }
    s.push_str(&format!("\n{}", inline_code(&escape(&head(&e.text, 1_500, 30).0))));
    if let Some(sug) = &e.suggestion {
        s.push_str(&format!(
            "\n🔎 {}",
            tf(locale, "bot.card.suggestion", &[("name", &escape(sug))])
        ));
    }
    if let Some(h) = e.hint.as_deref().filter(|h| !h.trim().is_empty()) {
        s.push_str(&format!("\n💡 {}", inline_code(&escape(&head(h, 600, 10).0))));
    }
    s
}

/// The catalogue's Markdown inline code (`` `input()` ``) as Telegram HTML `<code>`, in text
/// already escaped. A lone backtick stays as it is.
pub fn inline_code(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len() < 3 {
        return escaped.to_string();
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    let pairs = (parts.len() - 1) / 2;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            // Odd separators open, even ones close, while a closing one follows.
            out.push_str(if i > pairs * 2 {
                "`"
            } else if i % 2 == 1 {
                "<code>"
            } else {
                "</code>"
            });
        }
        out.push_str(part);
    }
    out
}

/// The card's emoji: what happened, as the headline says it.
pub fn outcome_emoji(o: Outcome) -> &'static str {
    match o {
        Outcome::Finished => "✅",
        Outcome::DidNotStart => "🛠",
        Outcome::StoppedWithError => "❌",
        Outcome::TooSlow => "⏱",
        Outcome::TooMuchMemory => "💾",
        Outcome::StoppedByYou => "⏹",
        Outcome::ServiceFailed => "⚠️",
    }
}

/// The one verdict-to-emoji table (cards, history, the admin's check log).
pub fn emoji(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Ok => "✅",
        Verdict::RuntimeError => "❌",
        Verdict::CompileError => "🛠",
        Verdict::Timeout => "⏱",
        Verdict::MemoryLimit => "💾",
        Verdict::Stopped => "⏹",
        Verdict::InternalError => "⚠️",
    }
}

fn buttons(id: i64, v: &CheckResult, locale: Locale, cut: bool, ai_available: bool) -> Vec<Vec<Button>> {
    let b = |key: &str, c: Callback| (t(locale, key), c.encode());
    let mut rows = vec![vec![
        b("bot.button.rerun", Callback::Rerun(id)),
        b("bot.button.input", Callback::Input(id)),
    ]];
    let failed = !matches!(v.verdict, Verdict::Ok | Verdict::InternalError | Verdict::Stopped);
    let mut second = Vec::new();
    if v.explanation.as_ref().is_some_and(has_example) {
        second.push(b("bot.button.example", Callback::Example(id)));
    }
    if failed && ai_available {
        second.push(b("bot.button.explain", Callback::Explain(id)));
    }
    if cut {
        second.push(b("bot.button.full", Callback::FullOutput(id)));
    }
    if !second.is_empty() {
        rows.push(second);
    }
    if v.explanation.as_ref().is_some_and(|e| e.source != "none") {
        rows.push(vec![
            b("bot.button.up", Callback::Vote(id, true)),
            b("bot.button.down", Callback::Vote(id, false)),
            b("bot.button.history", Callback::History(0)),
        ]);
    } else {
        rows[0].push(b("bot.button.history", Callback::History(0)));
    }
    rows
}

fn has_example(e: &Explanation) -> bool {
    [&e.example_bad, &e.example_good]
        .iter()
        .any(|x| x.as_deref().is_some_and(|s| !s.trim().is_empty()))
}

/// 📖 The catalogue's example for an explanation: a small program with the same mistake and the
/// same program done right (never the student's own code). `None` when the entry has none.
pub fn example(e: &Explanation, language: &str, locale: Locale) -> Option<String> {
    if !has_example(e) {
        return None;
    }
    let mut html = format!(
        "📖 <b>{}</b>",
        escape(&tf(locale, "bot.example.title", &[("title", &e.title)]))
    );
    for (key, code) in [
        ("bot.example.bad", &e.example_bad),
        ("bot.example.good", &e.example_good),
    ] {
        if let Some(code) = code.as_deref().filter(|c| !c.trim().is_empty()) {
            html.push_str(&format!(
                "\n\n{}\n<pre><code class=\"language-{}\">{}</code></pre>",
                escape(&t(locale, key)),
                code_class(language),
                escape(&head(code.trim_matches('\n'), 1_500, 40).0)
            ));
        }
    }
    Some(html)
}

/// The characters Telegram counts: the text without tags, entities decoded.
pub fn visible_len(html: &str) -> usize {
    let mut n = 0;
    let mut in_tag = false;
    let mut in_entity = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            '&' => {
                in_entity = true;
                n += 1;
            }
            ';' if in_entity => in_entity = false,
            _ if in_entity => {}
            _ => n += 1,
        }
    }
    n
}

/// How much of the input a card echoes.
const MAX_INPUT_ECHO_CHARS: usize = 300;
const MAX_INPUT_ECHO_LINES: usize = 8;

/// The card with what the program was given to read, so the student sees the run's input
/// beside its output; `waited` (the program reads input and got none) says so instead. The
/// block goes right after the card's first paragraph (its headline), and only when the card
/// still fits Telegram's limit. Self-contained, so the card's own layout can change around it.
pub fn with_input(mut card: Card, stdin: &[u8], waited: bool, locale: Locale) -> Card {
    let block = if !stdin.is_empty() {
        let text = clean(&String::from_utf8_lossy(stdin));
        let (shown, cut) = head(text.trim_end_matches('\n'), MAX_INPUT_ECHO_CHARS, MAX_INPUT_ECHO_LINES);
        let mut b = format!("\n\n<b>{}</b>", escape(&t(locale, "bot.card.input")));
        if cut {
            b.push_str(&format!(" <i>{}</i>", escape(&t(locale, "bot.card.input_cut"))));
        }
        b.push_str(&format!("\n<pre>{}</pre>", escape(shown.trim_end_matches('\n'))));
        b
    } else if waited {
        format!("\n\n⌨️ {}", t(locale, "bot.card.waited_input"))
    } else {
        return card;
    };
    if visible_len(&card.html) + visible_len(&block) > TELEGRAM_TEXT_LIMIT {
        return card;
    }
    let at = card.html.find("\n\n").unwrap_or(card.html.len());
    card.html.insert_str(at, &block);
    card
}

/// Whether the program seems to have waited for input it did not get (to offer ⌨️ at once).
pub fn wanted_input(v: &CheckResult) -> bool {
    let e = v.explanation.as_ref().map(|e| e.error_type.as_str()).unwrap_or("");
    let text = format!("{}\n{}", v.stderr, e);
    v.verdict == Verdict::RuntimeError
        && (e == "EOFError"
            || text.contains("EOFError")
            || text.contains("NoSuchElementException")
            || text.contains("unexpected EOF")
            || text.contains("unexpected end of file"))
}

#[cfg(test)]
mod tests;
