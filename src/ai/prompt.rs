//! The prompt: what the model is asked, with the guardrails that keep it a mentor and not a
//! solution vending machine, and the check that its answer holds no code.

use crate::analyzer::extract::ExtractedError;
use crate::registry::Locale;

/// Bumped whenever the prompt changes, so cached answers of an older prompt are not reused.
pub const PROMPT_VERSION: &str = "v1";

/// Programs up to this many lines are sent whole; longer ones only around the failing line.
const WHOLE_PROGRAM_LINES: usize = 30;
const CONTEXT_LINES: usize = 3;

pub fn system_prompt(language: &str, locale: Locale) -> String {
    let answer_in = match locale {
        Locale::Ru => "Answer in Russian, addressing the student as «ты».",
        Locale::En => "Answer in English.",
    };
    format!(
        "You are a patient programming mentor for beginners. A student's {language} program failed.\n\
         Explain the error so that the student understands it and can fix it themselves:\n\
         1. what the error message means, in plain words;\n\
         2. where it happened (point at the line given);\n\
         3. why it most likely happened;\n\
         4. one hint on what to check next.\n\
         Rules: {answer_in} 80 to 160 words. Plain sentences, no headings, no lists longer than 4 items. \
         NEVER write a corrected program, code blocks or lines of code; you may name a variable, function or \
         operator inline. Do not invent facts about code you were not shown."
    )
}

/// The user message: the error, the failing line, and a few lines around it (never a long
/// program whole).
pub fn user_prompt(error: &ExtractedError, code: &str) -> String {
    let mut s = format!("Error type: {}\nMessage: {}\n", error.error_type, error.message);
    if let Some(sug) = &error.suggestion {
        s.push_str(&format!("The interpreter suggests: {sug}\n"));
    }
    if let Some(line) = error.line {
        s.push_str(&format!("Line: {line}\n"));
    }
    if let Some(src) = &error.source_line {
        s.push_str(&format!("Failing line: {src}\n"));
    }
    let excerpt = excerpt(code, error.line);
    if !excerpt.is_empty() {
        s.push_str("Code (line numbers on the left):\n");
        s.push_str(&excerpt);
    }
    s
}

/// What a task hint may be built from: only what the student can see.
pub struct HintRequest<'a> {
    pub slug: &'a str,
    pub statement: &'a str,
    pub code: &'a str,
    /// `wrong_answer`, `runtime_error`, …
    pub verdict: &'a str,
    /// The failing test's number, when it is a visible one.
    pub test_number: Option<i32>,
    /// The failing visible test: input, expected and actual output.
    pub visible: Option<(&'a str, &'a str, &'a str)>,
    /// The error the program printed (visible tests and compile errors only).
    pub error: Option<&'a str>,
}

pub fn hint_system_prompt(language: &str, locale: Locale) -> String {
    let answer_in = match locale {
        Locale::Ru => "Answer in Russian, addressing the student as «ты».",
        Locale::En => "Answer in English.",
    };
    format!(
        "You are a patient programming mentor. A beginner's {language} solution to an exercise does not pass.\n\
         Give ONE hint in the Socratic way: point at what to look at (a line, a case, a kind of input), \
         name the idea or concept that applies, and end with a question the student can ask themselves.\n\
         Rules: {answer_in} 40 to 110 words. NEVER write code, a corrected line, pseudo-code, or the algorithm \
         step by step; never state the expected output for inputs you were not shown. You may name a \
         variable, function or operator inline."
    )
}

pub fn hint_user_prompt(h: &HintRequest<'_>) -> String {
    let mut s = format!("Exercise:\n{}\n\nResult: {}\n", h.statement, h.verdict);
    if let (Some(n), Some((input, expected, actual))) = (h.test_number, h.visible) {
        s.push_str(&format!(
            "Failing example test {n}:\ninput:\n{input}\nexpected output:\n{expected}\nthe program printed:\n{actual}\n"
        ));
    } else if h.visible.is_none() && h.error.is_none() {
        s.push_str("It fails one of the hidden tests (their data is not shown to anyone).\n");
    }
    if let Some(e) = h.error {
        s.push_str(&format!("Error output:\n{e}\n"));
    }
    s.push_str("Student's code (line numbers on the left):\n");
    s.push_str(&excerpt(h.code, None));
    s
}

/// Numbered lines: the whole program when short, else the lines around `line`.
pub fn excerpt(code: &str, line: Option<u32>) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let (from, to) = if lines.len() <= WHOLE_PROGRAM_LINES {
        (0, lines.len())
    } else {
        match line {
            Some(n) if n as usize >= 1 && n as usize <= lines.len() => {
                let i = n as usize - 1;
                (
                    i.saturating_sub(CONTEXT_LINES),
                    (i + CONTEXT_LINES + 1).min(lines.len()),
                )
            }
            _ => return String::new(),
        }
    };
    lines[from..to]
        .iter()
        .enumerate()
        .map(|(k, l)| format!("{:>4} | {}\n", from + k + 1, l.chars().take(200).collect::<String>()))
        .collect()
}

pub const REWRITE_WITHOUT_CODE: &str =
    "Your answer contains code. Rewrite the same explanation in words only: no code blocks, no lines of code.";

/// True when an answer shows code: a fenced block, or several lines that read like code.
pub fn contains_code(answer: &str) -> bool {
    if answer.contains("```") || answer.contains("~~~") {
        return true;
    }
    let code_like = answer
        .lines()
        .filter(|l| {
            let t = l.trim_end();
            (l.starts_with("    ") || l.starts_with('\t')) && !t.trim().is_empty()
                || t.ends_with(';')
                || t.ends_with('{')
                || t.trim_start().starts_with("def ")
                || t.trim_start().starts_with("for ") && t.ends_with(':')
        })
        .count();
    code_like >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_programs_are_never_sent_whole() {
        let code: String = (1..=100).map(|i| format!("x{i} = {i}\n")).collect();
        let e = ExtractedError {
            error_type: "NameError".into(),
            message: "m".into(),
            line: Some(50),
            ..Default::default()
        };
        let p = user_prompt(&e, &code);
        assert!(p.contains("  50 | x50 = 50"));
        assert!(p.contains("  47 | x47"));
        assert!(!p.contains("x46 ="));
        assert!(!p.contains("x54 ="));
        let short = "a = 1\nprint(b)\n";
        assert!(user_prompt(&e, short).contains("   2 | print(b)"));
    }

    #[test]
    fn code_is_detected() {
        assert!(contains_code("Look:\n```python\nprint(x)\n```"));
        assert!(contains_code("Fix it:\n    total = 0\n    for x in xs:\n"));
        assert!(!contains_code(
            "The name `total` is used before it gets a value. Check line 3; it is spelled differently."
        ));
    }
}
