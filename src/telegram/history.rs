//! `/history` in the bot: the student's last checks, newest first, a page at a time. Each line
//! says when (relative, in the student's language), in which language, how it ended in words
//! and the error's name; each check has a button to see its card again and one to run it again.

use super::callback::Callback;
use super::render::{emoji, escape, Button, Card};
use crate::check::CheckResult;
use crate::i18n::{t, tf};
use crate::registry::Locale;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One check on a `/history` page.
pub struct Entry<'a> {
    pub id: i64,
    pub created: SystemTime,
    /// The language's display name.
    pub language: String,
    /// The stored result; `None` while the check waits or runs.
    pub result: Option<&'a CheckResult>,
}

/// "just now", "5 min ago", "3 h ago", "2 days ago", then the date (UTC).
pub fn when(created: SystemTime, now: SystemTime, locale: Locale) -> String {
    let ago = now.duration_since(created).unwrap_or(Duration::ZERO).as_secs();
    let n = |v: u64| v.to_string();
    match ago {
        0..60 => t(locale, "bot.history.just_now"),
        60..3600 => tf(locale, "bot.history.minutes_ago", &[("n", &n(ago / 60))]),
        3600..86_400 => tf(locale, "bot.history.hours_ago", &[("n", &n(ago / 3600))]),
        86_400..604_800 => tf(locale, "bot.history.days_ago", &[("n", &n(ago / 86_400))]),
        _ => date(created, locale),
    }
}

/// The calendar date of `at` (UTC): 05.03.2026 in Russian, 2026-03-05 in English.
fn date(at: SystemTime, locale: Locale) -> String {
    let days = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs() as i64 / 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    match locale {
        Locale::Ru => format!("{d:02}.{m:02}.{y}"),
        Locale::En => format!("{y}-{m:02}-{d:02}"),
    }
}

/// The error's name, as the explanation (or the signal) names it.
fn error_name(r: &CheckResult) -> Option<String> {
    r.explanation
        .as_ref()
        .map(|e| e.error_type.trim())
        .filter(|n| !n.is_empty() && !matches!(*n, "ExitCode" | "Timeout" | "MemoryLimit" | "OutputLimit"))
        .map(str::to_string)
        .or_else(|| r.signal.clone())
}

/// A page of `/history`.
pub fn page(entries: &[Entry], page: i64, more: bool, now: SystemTime, locale: Locale) -> Card {
    let mut html = format!(
        "🕘 <b>{}</b>",
        escape(&tf(locale, "bot.history.heading", &[("page", &(page + 1).to_string())]))
    );
    let mut buttons: Vec<Vec<Button>> = Vec::new();
    for e in entries {
        let (mark, outcome) = match e.result {
            Some(r) => (
                emoji(r.verdict),
                t(locale, &format!("bot.verdict.{}", r.verdict.as_str())),
            ),
            None => ("⏳", t(locale, "bot.history.running")),
        };
        html.push_str(&format!(
            "\n\n{mark} <b>#{}</b> · {} · {}\n{}",
            e.id,
            escape(&when(e.created, now, locale)),
            escape(&e.language),
            escape(&outcome)
        ));
        if let Some(name) = e.result.and_then(error_name) {
            html.push_str(&format!(": <code>{}</code>", escape(&name)));
        }
        buttons.push(vec![
            (
                tf(locale, "bot.history.open", &[("id", &e.id.to_string())]),
                Callback::Card(e.id).encode(),
            ),
            (
                tf(locale, "bot.history.rerun", &[("id", &e.id.to_string())]),
                Callback::Rerun(e.id).encode(),
            ),
        ]);
    }
    let mut nav = Vec::new();
    if page > 0 {
        nav.push((t(locale, "bot.button.newer"), Callback::History(page - 1).encode()));
    }
    if more {
        nav.push((t(locale, "bot.button.more"), Callback::History(page + 1).encode()));
    }
    if !nav.is_empty() {
        buttons.push(nav);
    }
    Card { html, buttons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyzer::Explanation;
    use crate::sandbox::Verdict;

    #[test]
    fn relative_times_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let ago = |s: u64| now - Duration::from_secs(s);
        assert_eq!(when(ago(5), now, Locale::En), t(Locale::En, "bot.history.just_now"));
        assert!(when(ago(300), now, Locale::En).contains('5'));
        assert!(when(ago(7200), now, Locale::Ru).contains('2'));
        // 2026-05-28 (the epoch second above) minus 30 days.
        assert_eq!(when(ago(30 * 86_400), now, Locale::En), "2026-04-28");
        assert_eq!(when(ago(30 * 86_400), now, Locale::Ru), "28.04.2026");
        assert_eq!(date(UNIX_EPOCH, Locale::En), "1970-01-01");
    }

    #[test]
    fn a_line_says_when_what_and_which_error() {
        let r = CheckResult {
            verdict: Verdict::RuntimeError,
            explanation: Some(Explanation {
                error_type: "ZeroDivisionError".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let now = SystemTime::now();
        let entries = [
            Entry {
                id: 7,
                created: now,
                language: "Python 3".into(),
                result: Some(&r),
            },
            Entry {
                id: 8,
                created: now,
                language: "C".into(),
                result: None,
            },
        ];
        let c = page(&entries, 0, true, now, Locale::En);
        assert!(c.html.contains("#7"), "{}", c.html);
        assert!(c.html.contains("Python 3") && c.html.contains(&t(Locale::En, "bot.verdict.runtime_error")));
        assert!(c.html.contains("<code>ZeroDivisionError</code>"), "{}", c.html);
        assert_eq!(c.buttons[0][0].1, "k:7");
        assert_eq!(c.buttons[0][1].1, "r:7");
        assert!(c.buttons[2].iter().any(|(_, d)| d == "h:1"));
    }
}
