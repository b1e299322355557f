use super::*;

fn view(verdict: &str, stdout: &str, stderr: &str) -> CheckResult {
    CheckResult {
        language: "python".into(),
        verdict: serde_json::from_value(serde_json::Value::String(verdict.into())).unwrap(),
        exit_code: Some(if verdict == "ok" { 0 } else { 1 }),
        signal: None,
        stdout: stdout.into(),
        stderr: stderr.into(),
        truncated: false,
        duration_ms: 1234,
        explanation: None,
    }
}

#[test]
fn the_input_is_echoed_after_the_headline() {
    let card = card(9, &view("ok", "42\n", ""), Locale::En, "Python 3", false);
    let headline = card.html.split("\n\n").next().unwrap().to_string();
    let with = with_input(card.clone(), b"21\n<b>\n", false, Locale::En);
    assert!(with.html.starts_with(&headline), "{}", with.html);
    assert!(
        with.html.contains("<b>Input</b>\n<pre>21\n&lt;b&gt;</pre>"),
        "{}",
        with.html
    );
    assert!(with.html.find("Input").unwrap() < with.html.find("42").unwrap());
    assert_eq!(with.buttons, card.buttons);
    // No input, and the program did not read any: the card is unchanged.
    assert_eq!(with_input(card.clone(), b"", false, Locale::En), card);
    // No input, but the program reads some: it is told it was waiting for input.
    let waited = with_input(card.clone(), b"", true, Locale::Ru);
    assert!(waited.html.contains("ввода не было"), "{}", waited.html);
    // Long input is cut to its beginning.
    let long: String = (0..100).map(|i| format!("{i}\n")).collect();
    let cut = with_input(card, long.as_bytes(), false, Locale::En);
    assert!(cut.html.contains("(the beginning)") && !cut.html.contains("\n99\n"));
}

#[test]
fn hostile_output_is_escaped_and_cleaned() {
    let v = view("ok", "<script>alert(1)</script>\u{1b}[31mred\u{1b}[0m\0!", "");
    let c = card(5, &v, Locale::En, "Python", false);
    assert!(
        c.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;red!"),
        "{}",
        c.html
    );
    assert!(!c.html.contains('\u{1b}') && !c.html.contains('\0'));
    assert!(c.html.contains("1.23"));
    assert!(c.buttons.iter().flatten().all(|(_, d)| d.len() <= 64));
}

#[test]
fn long_output_is_cut_and_offers_the_full_document() {
    let out: String = (0..1000).map(|i| format!("line {i}\n")).collect();
    let v = view("ok", &out, "");
    let c = card(9, &v, Locale::Ru, "Python", false);
    assert!(visible_len(&c.html) <= TELEGRAM_TEXT_LIMIT);
    assert!(c.html.contains("line 39") && !c.html.contains("line 40\n"));
    assert!(c.html.contains("40") && c.html.contains("1000"), "{}", c.html);
    assert!(c.buttons.iter().flatten().any(|(_, d)| d == "f:9"));
    let wide = "x".repeat(20_000);
    let c = card(9, &view("runtime_error", &wide, &wide), Locale::Ru, "Python", false);
    assert!(visible_len(&c.html) <= TELEGRAM_TEXT_LIMIT, "{}", visible_len(&c.html));
}

#[test]
fn explanation_is_labelled_by_source_and_quotes_the_line() {
    let mut v = view("runtime_error", "", "Traceback\nZeroDivisionError: division by zero\n");
    v.explanation = Some(Explanation {
        source: "registry".into(),
        error_type: "ZeroDivisionError".into(),
        line: Some(3),
        title: "Деление на ноль".into(),
        text: "Ты делишь на ноль.".into(),
        hint: Some("Проверь делитель".into()),
        source_line: Some("print(1/0)".into()),
        ..Default::default()
    });
    let c = card(1, &v, Locale::Ru, "Python", true);
    assert!(c.html.contains("<blockquote expandable>"));
    assert!(c.html.contains("<code>print(1/0)</code>"));
    assert!(c.html.contains(&t(Locale::Ru, "bot.source.registry")));
    assert!(c.buttons.iter().flatten().any(|(_, d)| d == "v:1:1"));
    assert!(c.buttons.iter().flatten().any(|(_, d)| d == "x:1"));
}

#[test]
fn the_languages_own_suggestion_is_shown() {
    let e = Explanation {
        title: "x".into(),
        text: "y".into(),
        suggestion: Some("count<".into()),
        ..Default::default()
    };
    let html = explanation_html(&e, Locale::En);
    assert!(html.contains("did you mean <code>count&lt;</code>?"), "{html}");
}

#[test]
fn inline_code_becomes_code_tags() {
    assert_eq!(inline_code("call `input()` first"), "call <code>input()</code> first");
    assert_eq!(inline_code("`a` and `b`"), "<code>a</code> and <code>b</code>");
    assert_eq!(inline_code("a lone ` stays"), "a lone ` stays");
    assert_eq!(inline_code("`x` then `"), "<code>x</code> then `");
    assert_eq!(inline_code("`&lt;b&gt;`"), "<code>&lt;b&gt;</code>");
}

#[test]
fn clean_handles_escapes_and_carriage_returns() {
    assert_eq!(clean("a\r\nb\rc\u{1b}]0;title\u{7}d\u{1b}[1;32me"), "a\nb\ncde");
}
