//! `/faq` in the bot: the questions as buttons (a page at a time), and one question's answer in
//! full — split into as many messages as Telegram's 4,096 characters need, never cut short.
//!
//! Answers are written in the admin panel in Telegram's HTML subset ([`ALLOWED`], checked on
//! save by [`super::html::check_markup`]); an answer stored before that check that is not valid
//! markup is shown as plain text, never sent as broken HTML.

use super::callback::Callback;
use super::html;
use super::render::{escape, Button, Card, TELEGRAM_TEXT_LIMIT};
use crate::i18n::{t, tf};
use crate::registry::Locale;

/// The markup an FAQ answer may use (the admin form names them).
pub const ALLOWED: &str = "<b>, <i>, <u>, <s>, <code>, <pre>, <a href=\"https://…\">, <blockquote>";

/// Questions per page of the list.
pub const PAGE: usize = 8;

/// A question's button label: its start, on one line.
fn label(question: &str) -> String {
    let q: String = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if q.chars().count() > 60 {
        format!("{}…", q.chars().take(59).collect::<String>())
    } else {
        q
    }
}

/// Page `page` of the question list: a button per question, and paging buttons.
pub fn list(entries: &[(i64, String)], page: usize, locale: Locale) -> Card {
    let pages = entries.len().div_ceil(PAGE).max(1);
    let page = page.min(pages - 1);
    let mut html = format!("<b>{}</b>", escape(&t(locale, "bot.faq.title")));
    html.push_str(&format!("\n{}", escape(&t(locale, "bot.faq.choose"))));
    if pages > 1 {
        html.push_str(&format!(
            "\n<i>{}</i>",
            escape(&tf(
                locale,
                "bot.faq.page",
                &[("page", &(page + 1).to_string()), ("pages", &pages.to_string())]
            ))
        ));
    }
    let mut buttons: Vec<Vec<Button>> = entries
        .iter()
        .skip(page * PAGE)
        .take(PAGE)
        .map(|(id, q)| vec![(label(q), Callback::Faq(*id).encode())])
        .collect();
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((t(locale, "bot.faq.prev"), Callback::FaqPage(page as i64 - 1).encode()));
    }
    if page + 1 < pages {
        nav.push((t(locale, "bot.faq.next"), Callback::FaqPage(page as i64 + 1).encode()));
    }
    if !nav.is_empty() {
        buttons.push(nav);
    }
    Card { html, buttons }
}

/// One answer as the messages it takes: the question in bold, then the answer's HTML (or its
/// text, when it is not valid markup), split where lines end and within Telegram's limit.
pub fn answer(question: &str, answer: &str) -> Vec<String> {
    let body = match html::check_markup(answer) {
        Ok(()) => answer.trim().to_string(),
        Err(_) => escape(answer.trim()),
    };
    split_html(
        &format!("<b>{}</b>\n\n{body}", escape(question.trim())),
        TELEGRAM_TEXT_LIMIT - 96,
    )
}

enum Tok<'a> {
    Open(String, &'a str),
    Close(&'a str),
    /// A character or an entity: one visible character.
    Char(&'a str),
}

fn tokens(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let len = match c {
            '<' => match rest.find('>') {
                Some(end) => {
                    let raw = &rest[..=end];
                    if raw.starts_with("</") {
                        out.push(Tok::Close(raw));
                    } else {
                        let name = raw[1..raw.len() - 1]
                            .split_whitespace()
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase();
                        out.push(Tok::Open(name, raw));
                    }
                    end + 1
                }
                None => {
                    out.push(Tok::Char(&rest[..1]));
                    1
                }
            },
            '&' => {
                let end = rest.find(';').filter(|e| *e <= 10).map(|e| e + 1).unwrap_or(1);
                out.push(Tok::Char(&rest[..end]));
                end
            }
            c => {
                out.push(Tok::Char(&rest[..c.len_utf8()]));
                c.len_utf8()
            }
        };
        i += len;
    }
    out
}

/// Splits valid Telegram HTML into parts of at most `limit` characters each, markup included
/// (Telegram's own limit counts the text after parsing, so this is on the safe side whatever
/// the client counts), at line ends where it can: a part closes the tags still open and the
/// next opens them again, so every part is valid HTML on its own. Parts with no visible text
/// are dropped.
pub fn split_html(html: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(64);
    let toks = tokens(html);
    let len = |t: &Tok| match t {
        Tok::Char(raw) | Tok::Close(raw) => raw.chars().count(),
        Tok::Open(_, raw) => raw.chars().count(),
    };
    // Lines: token ranges ending after a '\n'.
    let mut lines: Vec<&[Tok]> = Vec::new();
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if matches!(t, Tok::Char("\n")) {
            lines.push(&toks[start..=i]);
            start = i + 1;
        }
    }
    if start < toks.len() {
        lines.push(&toks[start..]);
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    // Characters in `cur`, and whether it has any visible text yet.
    let mut used = 0;
    let mut content = false;
    let mut open: Vec<(String, &str)> = Vec::new();
    // What closing the open tags costs (`</b>` is the name and three characters).
    let closing = |open: &[(String, &str)]| open.iter().map(|(n, _)| n.chars().count() + 3).sum::<usize>();
    let flush =
        |cur: &mut String, used: &mut usize, content: &mut bool, open: &[(String, &str)], parts: &mut Vec<String>| {
            for (name, _) in open.iter().rev() {
                cur.push_str(&format!("</{name}>"));
            }
            if *content {
                parts.push(std::mem::take(cur).trim().to_string());
            }
            cur.clear();
            for (_, raw) in open {
                cur.push_str(raw);
            }
            *used = cur.chars().count();
            *content = false;
        };
    for line in lines {
        let width: usize = line.iter().map(len).sum();
        if content && used + width + closing(&open) > limit {
            flush(&mut cur, &mut used, &mut content, &open, &mut parts);
        }
        for t in line {
            let w = len(t);
            match t {
                Tok::Open(name, raw) => {
                    // Room for the tag, its closing and one character inside.
                    if content && used + w + closing(&open) + name.chars().count() + 4 > limit {
                        flush(&mut cur, &mut used, &mut content, &open, &mut parts);
                    }
                    open.push((name.clone(), raw));
                    cur.push_str(raw);
                }
                Tok::Close(raw) => {
                    open.pop();
                    cur.push_str(raw);
                }
                Tok::Char(raw) => {
                    if content && used + w + closing(&open) > limit {
                        flush(&mut cur, &mut used, &mut content, &open, &mut parts);
                    }
                    cur.push_str(raw);
                    content |= !raw.trim().is_empty();
                }
            }
            used += w;
        }
    }
    flush(&mut cur, &mut used, &mut content, &[], &mut parts);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_answer_is_split_whole_and_every_part_is_valid() {
        let para: String = (0..60)
            .map(|i| format!("<b>line {i}</b> and some words that fill it up\n"))
            .collect();
        let long = format!("<pre>{}</pre>\n{}", "x\n".repeat(1500), para.repeat(4));
        let parts = answer("Why <so> long?", &long);
        assert!(parts.len() >= 3, "{}", parts.len());
        for p in &parts {
            assert!(p.chars().count() <= TELEGRAM_TEXT_LIMIT, "{}", p.chars().count());
            html::check(p).unwrap_or_else(|e| panic!("{e}: {p}"));
        }
        assert!(parts[0].starts_with("<b>Why &lt;so&gt; long?</b>"));
        let text = |s: &str| -> String {
            s.replace("<pre>", "")
                .replace("</pre>", "")
                .replace("<b>", "")
                .replace("</b>", "")
        };
        let joined: String = parts.iter().map(|p| text(p)).collect::<Vec<_>>().join("\n");
        let whole = text(&long);
        let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(words(&joined)[3..], words(&whole)[..], "nothing is lost");
    }

    #[test]
    fn markup_is_kept_and_bad_markup_is_text() {
        assert_eq!(
            answer("Q", "<b>bold</b> &amp; <i>it</i>"),
            vec!["<b>Q</b>\n\n<b>bold</b> &amp; <i>it</i>"]
        );
        assert_eq!(
            answer("Q", "a < b <script>"),
            vec!["<b>Q</b>\n\na &lt; b &lt;script&gt;"]
        );
    }

    #[test]
    fn the_list_pages() {
        let entries: Vec<(i64, String)> = (1..=10).map(|i| (i, format!("Question {i}?"))).collect();
        let c = list(&entries, 0, Locale::En);
        assert_eq!(c.buttons.len(), PAGE + 1);
        assert_eq!(c.buttons[0][0].1, "A:1");
        assert!(c.buttons[PAGE].iter().any(|(_, d)| d == "Q:1"));
        let c = list(&entries, 1, Locale::En);
        assert_eq!(c.buttons[0][0].1, "A:9");
        assert!(c.buttons.last().unwrap().iter().any(|(_, d)| d == "Q:0"));
    }
}
