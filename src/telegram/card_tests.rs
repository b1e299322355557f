//! The result card as a student reads it, built from real tool output through the real
//! extractor and the built-in catalogue (no AI): the headline says what happened in a
//! beginner's words and agrees with the explanation, the decisive line comes first, the
//! buttons offer only what can answer.

use super::render::{card, example, Card};
use crate::analyzer::{Analyzer, Failure};
use crate::check::{CheckResult, Outcome};
use crate::i18n::t;
use crate::registry::{catalogue, Locale};
use crate::sandbox::Verdict;

struct Run<'a> {
    language: &'a str,
    file: &'a str,
    verdict: Verdict,
    exit_code: Option<i64>,
    code: &'a str,
    stdout: &'a str,
    stderr: &'a str,
}

async fn result(r: &Run<'_>, locale: Locale) -> CheckResult {
    let analyzer = Analyzer::new(catalogue::builtin().expect("catalogue"), None, None);
    let failure = Failure {
        language: r.language,
        verdict: r.verdict,
        exit_code: r.exit_code,
        signal: None,
        stderr: r.stderr,
        python_report: None,
        code: r.code,
        file_name: r.file,
        output_limit_hit: false,
        timeout_s: 5.0,
        memory_mb: 256,
        output_kb: 64,
        locale,
        check_id: None,
    };
    CheckResult {
        language: r.language.into(),
        verdict: r.verdict,
        exit_code: r.exit_code,
        signal: None,
        stdout: r.stdout.into(),
        stderr: r.stderr.into(),
        truncated: false,
        duration_ms: 40,
        explanation: analyzer.explain(&failure).await,
    }
}

fn headline(c: &Card) -> &str {
    c.html.lines().next().unwrap_or("")
}

const ZERO: Run = Run {
    language: "python",
    file: "main.py",
    verdict: Verdict::RuntimeError,
    exit_code: Some(1),
    code: "a = 10\nb = 0\nprint(a / b)\n",
    stdout: "",
    stderr: "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 3, in <module>\n    print(a / b)\n          ~~^~~\nZeroDivisionError: division by zero\n",
};

const SYNTAX: Run = Run {
    language: "python",
    file: "main.py",
    verdict: Verdict::RuntimeError,
    exit_code: Some(1),
    code: "print('hi'\n",
    stdout: "",
    stderr: "  File \"/sandbox/main.py\", line 1\n    print('hi'\n         ^\nSyntaxError: '(' was never closed\n",
};

const GCC: Run = Run {
    language: "c",
    file: "main.c",
    verdict: Verdict::CompileError,
    exit_code: Some(1),
    code: "int main(void) {\n    int x = 1\n    return x;\n}\n",
    stdout: "",
    stderr: "main.c: In function ‘main’:\nmain.c:2:14: error: expected ‘,’ or ‘;’ before ‘return’\n    2 |     int x = 1\n      |              ^\n      |              ;\n    3 |     return x;\n      |     ~~~~~~\n",
};

#[tokio::test]
async fn the_decisive_line_leads_and_the_traceback_stays_a_tap_away() {
    let v = result(&ZERO, Locale::Ru).await;
    let c = card(1, &v, Locale::Ru, "Python", false);
    let quote = "<blockquote><code>ZeroDivisionError: division by zero</code></blockquote>";
    let at = c.html.find(quote).unwrap_or_else(|| panic!("{}", c.html));
    let full = c
        .html
        .find("<blockquote expandable>Traceback")
        .expect("the whole traceback");
    assert!(at < full, "the decisive line comes before the traceback: {}", c.html);
    assert!(headline(&c).contains(&t(Locale::Ru, "bot.outcome.stopped_with_error")));
    assert_eq!(v.outcome(), Outcome::StoppedWithError);
}

#[tokio::test]
async fn a_syntax_error_is_a_program_that_did_not_start() {
    for locale in [Locale::Ru, Locale::En] {
        let v = result(&SYNTAX, locale).await;
        assert_eq!(v.outcome(), Outcome::DidNotStart);
        let c = card(2, &v, locale, "Python", false);
        let head = headline(&c);
        assert!(head.contains(&t(locale, "bot.outcome.did_not_start")), "{head}");
        assert!(!head.contains(&t(locale, "bot.verdict.runtime_error")), "{head}");
        assert!(
            !head.contains("1 "),
            "no exit code for a program that never ran: {head}"
        );
        // The explanation agrees: the catalogue says the program did not start.
        let text = &v.explanation.as_ref().expect("explained").text;
        let agrees = match locale {
            Locale::Ru => text.contains("не начала работать") || text.contains("не запустилась"),
            Locale::En => text.contains("did not") && text.contains("start"),
        };
        assert!(agrees, "{text}");
    }
}

#[tokio::test]
async fn a_compile_error_did_not_start_and_quotes_the_compilers_error_line() {
    let v = result(&GCC, Locale::Ru).await;
    assert_eq!(v.outcome(), Outcome::DidNotStart);
    let c = card(3, &v, Locale::Ru, "C", false);
    assert!(headline(&c).starts_with("🛠"), "{}", headline(&c));
    assert!(headline(&c).contains(&t(Locale::Ru, "bot.outcome.did_not_start")));
    assert!(
        c.html
            .contains("<blockquote><code>main.c:2:14: error: expected ‘,’ or ‘;’ before ‘return’</code></blockquote>"),
        "{}",
        c.html
    );
}

#[test]
fn each_verdict_has_its_beginners_headline() {
    for (verdict, outcome) in [
        (Verdict::Ok, Outcome::Finished),
        (Verdict::CompileError, Outcome::DidNotStart),
        (Verdict::RuntimeError, Outcome::StoppedWithError),
        (Verdict::Timeout, Outcome::TooSlow),
        (Verdict::MemoryLimit, Outcome::TooMuchMemory),
        (Verdict::InternalError, Outcome::ServiceFailed),
        (Verdict::Stopped, Outcome::StoppedByYou),
    ] {
        let v = CheckResult {
            language: "python".into(),
            verdict,
            exit_code: Some(if verdict == Verdict::Ok { 0 } else { 137 }),
            ..Default::default()
        };
        assert_eq!(v.outcome(), outcome, "{verdict}");
        for locale in [Locale::Ru, Locale::En] {
            let c = card(4, &v, locale, "Python", false);
            let key = format!("bot.outcome.{}", outcome.as_str());
            assert!(headline(&c).contains(&t(locale, &key)), "{}", headline(&c));
        }
    }
}

#[tokio::test]
async fn explain_more_only_with_an_ai_and_the_example_when_the_entry_has_one() {
    let v = result(&ZERO, Locale::Ru).await;
    let data = |c: &Card| c.buttons.iter().flatten().map(|(_, d)| d.clone()).collect::<Vec<_>>();
    let without = card(7, &v, Locale::Ru, "Python", false);
    assert!(!data(&without).contains(&"x:7".to_string()), "{:?}", without.buttons);
    assert!(data(&without).contains(&"e:7".to_string()), "{:?}", without.buttons);
    let with = card(7, &v, Locale::Ru, "Python", true);
    assert!(data(&with).contains(&"x:7".to_string()));
    let e = v.explanation.as_ref().expect("explained");
    let html = example(e, "python", Locale::Ru).expect("the entry has examples");
    let bad = e.example_bad.as_deref().expect("bad example");
    assert!(html.contains(&super::render::escape(bad.trim())), "{html}");
    assert!(html.contains(&t(Locale::Ru, "bot.example.good")));
    // An error nobody explained has no example to offer.
    let plain = CheckResult {
        verdict: Verdict::RuntimeError,
        ..Default::default()
    };
    assert!(!data(&card(8, &plain, Locale::Ru, "Python", false)).contains(&"e:8".to_string()));
}

#[tokio::test]
async fn numbers_in_explanations_agree_with_their_nouns() {
    let java = |length: u32| {
        Run {
        language: "java",
        file: "Main.java",
        verdict: Verdict::RuntimeError,
        exit_code: Some(1),
        code: "",
        stdout: "",
        stderr: Box::leak(
            format!("Exception in thread \"main\" java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length {length}\n\tat Main.main(Main.java:4)\n")
                .into_boxed_str(),
        ),
    }
    };
    for (n, ru, en) in [
        (1, "всего 1 элемент.", "only 1 element."),
        (2, "всего 2 элемента.", "only 2 elements."),
        (3, "всего 3 элемента.", "only 3 elements."),
        (5, "всего 5 элементов.", "only 5 elements."),
        (11, "всего 11 элементов.", "only 11 elements."),
        (21, "всего 21 элемент.", "only 21 elements."),
        (22, "всего 22 элемента.", "only 22 elements."),
        (25, "всего 25 элементов.", "only 25 elements."),
        (101, "всего 101 элемент.", "only 101 elements."),
        (111, "всего 111 элементов.", "only 111 elements."),
    ] {
        let r = java(n);
        let text = result(&r, Locale::Ru).await.explanation.expect("explained").text;
        assert!(text.contains(ru), "{n}: {text}");
        let text = result(&r, Locale::En).await.explanation.expect("explained").text;
        assert!(text.contains(en), "{n}: {text}");
    }
}
