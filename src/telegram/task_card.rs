//! Tasks in Telegram: the task list by topic (✅ solved, ✖ tried, · new), the task card (the
//! statement and its visible examples), the graded submission's card and progress. HTML for
//! Telegram; everything from a student's program is escaped. A hidden test shows its number
//! and verdict only — its data is not in the result to begin with.

use super::callback::Callback;
use super::render::{clean, escape, head, Button, Card};
use crate::i18n::{t, tf};
use crate::registry::Locale;
use crate::tasks::catalogue::TOPICS;
use crate::tasks::{Graded, SubmissionVerdict, Task, TaskTest, TestResult, TestVerdict};

/// A student's standing on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Solved,
    Tried,
    New,
}

impl Standing {
    fn mark(self) -> &'static str {
        match self {
            Standing::Solved => "✅",
            Standing::Tried => "✖",
            Standing::New => "·",
        }
    }
}

fn topic_name(topic: &str, locale: Locale) -> String {
    let key = format!("bot.topic.{topic}");
    let name = t(locale, &key);
    if name == key {
        topic.to_string()
    } else {
        name
    }
}

/// `/tasks`: one button per task, grouped by topic in the catalogue's order.
pub fn task_list(tasks: &[(Task, Standing)], locale: Locale) -> Card {
    if tasks.is_empty() {
        return Card {
            html: escape(&t(locale, "bot.tasks.empty")),
            buttons: Vec::new(),
        };
    }
    let mut html = escape(&t(locale, "bot.tasks.title"));
    let mut buttons: Vec<Vec<Button>> = Vec::new();
    let mut topics: Vec<&str> = TOPICS.to_vec();
    for (task, _) in tasks {
        if !topics.contains(&task.topic.as_str()) {
            topics.push(&task.topic);
        }
    }
    for topic in topics {
        let in_topic: Vec<&(Task, Standing)> = tasks.iter().filter(|(t, _)| t.topic == topic).collect();
        if in_topic.is_empty() {
            continue;
        }
        html.push_str(&format!("\n\n<b>{}</b>", escape(&topic_name(topic, locale))));
        for (task, standing) in in_topic {
            html.push_str(&format!("\n{} {}", standing.mark(), escape(task.title(locale))));
            buttons.push(vec![(
                format!("{} {}", standing.mark(), task.title(locale)),
                Callback::Task(task.id).encode(),
            )]);
        }
    }
    Card { html, buttons }
}

/// A task's card: the statement, the visible tests as examples, and what to press.
pub fn task(task: &Task, tests: &[TaskTest], locale: Locale, language: &str) -> Card {
    let mut html = format!("<b>{}</b>\n\n{}", escape(task.title(locale)), task.statement(locale));
    let examples: Vec<&TaskTest> = tests.iter().filter(|t| !t.hidden).collect();
    if !examples.is_empty() {
        html.push_str(&format!("\n\n<b>{}</b>", escape(&t(locale, "bot.task.examples"))));
        for e in examples {
            html.push_str(&format!(
                "\n{}:\n<pre>{}</pre>{}:\n<pre>{}</pre>",
                escape(&t(locale, "bot.task.input")),
                escape(&head(e.stdin.trim_end(), 400, 10).0),
                escape(&t(locale, "bot.task.expected")),
                escape(&head(e.expected.trim_end(), 400, 10).0),
            ));
        }
    }
    let langs = if task.languages.is_empty() {
        t(locale, "bot.task.any_language")
    } else {
        tf(
            locale,
            "bot.task.languages",
            &[("languages", &task.languages.join(", "))],
        )
    };
    html.push_str(&format!(
        "\n\n<i>{} {}</i>",
        escape(&langs),
        escape(&tf(locale, "bot.task.tests", &[("count", &tests.len().to_string())]))
    ));
    let _ = language;
    Card {
        html,
        buttons: vec![
            vec![(t(locale, "bot.button.solve"), Callback::Solve(task.id).encode())],
            vec![(t(locale, "bot.button.tasks"), Callback::Tasks.encode())],
        ],
    }
}

fn verdict_words(v: Option<TestVerdict>, locale: Locale) -> String {
    let key = match v {
        Some(TestVerdict::Passed) => "passed",
        Some(TestVerdict::WrongAnswer) => "wrong_answer",
        Some(TestVerdict::RuntimeError) => "runtime_error",
        Some(TestVerdict::Timeout) => "timeout",
        Some(TestVerdict::MemoryLimit) => "memory_limit",
        Some(TestVerdict::InternalError) | None => "internal_error",
    };
    t(locale, &format!("bot.task.verdict.{key}"))
}

/// The first differing line of `actual` marked with ➜ (the rest as it is), cut to fit.
fn marked(actual: &str, line: Option<usize>) -> String {
    let cleaned = clean(actual);
    let (shown, _) = head(cleaned.trim_end(), 600, 12);
    shown
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if Some(i + 1) == line {
                format!("➜ {}", escape(l))
            } else {
                format!("  {}", escape(l))
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn failing_test(f: &TestResult, locale: Locale, html: &mut String) {
    let n = f.n.to_string();
    let verdict = verdict_words(f.verdict, locale);
    if f.hidden {
        html.push_str(&format!(
            "\n\n{}",
            escape(&tf(
                locale,
                "bot.task.failed_hidden",
                &[("n", &n), ("verdict", &verdict)]
            ))
        ));
        return;
    }
    html.push_str(&format!(
        "\n\n<b>{}</b>",
        escape(&tf(
            locale,
            "bot.task.failed_visible",
            &[("n", &n), ("verdict", &verdict)]
        ))
    ));
    let block = |label: &str, text: &str| {
        format!(
            "\n{}:\n<pre>{}</pre>",
            escape(&t(locale, label)),
            escape(&head(clean(text).trim_end(), 600, 12).0)
        )
    };
    html.push_str(&block("bot.task.input", f.stdin.as_deref().unwrap_or("")));
    html.push_str(&block("bot.task.expected", f.expected.as_deref().unwrap_or("")));
    html.push_str(&format!(
        "\n{}:\n<pre>{}</pre>",
        escape(&t(locale, "bot.task.actual")),
        marked(f.actual.as_deref().unwrap_or(""), f.first_diff_line)
    ));
    if let Some(line) = f.first_diff_line {
        html.push_str(&escape(&tf(
            locale,
            "bot.task.diff_line",
            &[("line", &line.to_string())],
        )));
    }
    if let Some(err) = f.stderr.as_deref() {
        html.push_str(&format!(
            "\n<blockquote expandable>{}</blockquote>",
            escape(&head(clean(err).trim(), 800, 12).0)
        ));
    }
    if let Some(note) = &f.note {
        html.push_str(&format!("\n💡 {}", escape(note)));
    }
}

/// A graded submission's card.
pub fn submission(task: &Task, submission_id: i64, g: &Graded, locale: Locale, ai_hints: bool) -> Card {
    let title = task.title(locale);
    let counts = [
        ("title", title),
        ("passed", &g.passed.to_string()),
        ("total", &g.total.to_string()),
    ];
    let mut html;
    if g.verdict == SubmissionVerdict::Accepted {
        html = format!("<b>{}</b>", escape(&tf(locale, "bot.task.accepted", &counts)));
    } else {
        html = format!("❌ <b>{}</b>", escape(&tf(locale, "bot.task.failed", &counts)));
        if g.verdict == SubmissionVerdict::CompileError {
            html.push_str(&format!("\n\n{}", escape(&t(locale, "bot.task.compile_error"))));
            if let Some(out) = &g.compile_output {
                html.push_str(&format!(
                    "\n<blockquote expandable>{}</blockquote>",
                    escape(&head(clean(out).trim(), 1_000, 15).0)
                ));
            }
        } else if let Some(f) = g.first_failure() {
            failing_test(f, locale, &mut html);
        } else if g.verdict == SubmissionVerdict::InternalError {
            html.push_str(&format!(
                "\n\n{}",
                escape(&t(locale, "bot.task.verdict.internal_error"))
            ));
        }
        if let Some(e) = &g.explanation {
            html.push_str("\n\n");
            html.push_str(&super::render::explanation_html(e, locale));
        }
    }
    let mut buttons = Vec::new();
    if g.verdict != SubmissionVerdict::Accepted && (!task.hints.is_empty() || ai_hints) {
        // Without an AI, the button says the hints are the teacher's (and how many there are).
        let label = if ai_hints {
            t(locale, "bot.button.hint")
        } else {
            tf(
                locale,
                "bot.button.hint_teacher",
                &[("count", &task.hints.len().to_string())],
            )
        };
        buttons.push(vec![(label, Callback::Hint(submission_id, 0).encode())]);
    }
    buttons.push(vec![
        (t(locale, "bot.button.resubmit"), Callback::Solve(task.id).encode()),
        (t(locale, "bot.button.back_to_task"), Callback::Task(task.id).encode()),
    ]);
    buttons.push(vec![(t(locale, "bot.button.tasks"), Callback::Tasks.encode())]);
    Card { html, buttons }
}

/// `/progress`: solved tasks by topic.
pub fn progress(tasks: &[(Task, Standing)], locale: Locale) -> String {
    let solved = tasks.iter().filter(|(_, s)| *s == Standing::Solved).count();
    let mut html = format!(
        "<b>{}</b>",
        escape(&tf(
            locale,
            "bot.progress.title",
            &[("solved", &solved.to_string()), ("total", &tasks.len().to_string())]
        ))
    );
    for topic in TOPICS {
        let in_topic: Vec<_> = tasks.iter().filter(|(t, _)| t.topic == topic).collect();
        if in_topic.is_empty() {
            continue;
        }
        let done = in_topic.iter().filter(|(_, s)| *s == Standing::Solved).count();
        html.push_str(&format!(
            "\n{}",
            escape(&tf(
                locale,
                "bot.progress.topic",
                &[
                    ("topic", &topic_name(topic, locale)),
                    ("solved", &done.to_string()),
                    ("total", &in_topic.len().to_string())
                ]
            ))
        ));
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_failure_shows_its_number_only_and_a_visible_one_its_diff() {
        let task = Task {
            id: 3,
            title_ru: "Сумма".into(),
            title_en: "Sum".into(),
            ..Default::default()
        };
        let hidden = Graded {
            verdict: SubmissionVerdict::WrongAnswer,
            passed: 2,
            total: 5,
            tests: vec![
                TestResult {
                    n: 1,
                    verdict: Some(TestVerdict::Passed),
                    ..Default::default()
                },
                TestResult {
                    n: 2,
                    verdict: Some(TestVerdict::Passed),
                    ..Default::default()
                },
                TestResult {
                    n: 3,
                    hidden: true,
                    verdict: Some(TestVerdict::WrongAnswer),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let c = submission(&task, 9, &hidden, Locale::Ru, false);
        assert!(c.html.contains("скрытый тест 3"), "{}", c.html);
        assert!(!c.html.contains("<pre>"), "no data of a hidden test: {}", c.html);
        assert!(
            !c.buttons.iter().flatten().any(|(_, d)| d.starts_with("n:")),
            "no hints at all: no button"
        );
        let with_hints = Task {
            hints: vec![crate::tasks::Hint::default(); 2],
            ..task.clone()
        };
        let c = submission(&with_hints, 9, &hidden, Locale::En, false);
        assert!(
            c.buttons
                .iter()
                .flatten()
                .any(|(l, d)| d == "n:9:0" && l.contains("teacher") && l.contains('2')),
            "without AI the button says whose hints: {:?}",
            c.buttons
        );
        let visible = Graded {
            verdict: SubmissionVerdict::WrongAnswer,
            passed: 0,
            total: 5,
            tests: vec![TestResult {
                n: 1,
                verdict: Some(TestVerdict::WrongAnswer),
                stdin: Some("2 3\n".into()),
                expected: Some("5\n".into()),
                actual: Some("<b>-1</b>\n".into()),
                first_diff_line: Some(1),
                ..Default::default()
            }],
            ..Default::default()
        };
        let c = submission(&task, 9, &visible, Locale::En, true);
        assert!(c.html.contains("➜ &lt;b&gt;-1&lt;/b&gt;"), "{}", c.html);
        assert!(c.html.contains("line 1"));
        assert!(c.buttons.iter().flatten().any(|(_, d)| d == "n:9:0"));
    }
}
