//! Checkers: whether a program's output is the expected one, as the task says to compare.
//!
//! `exact` compares bytes; `lines` (the default) ignores trailing spaces on each line and
//! trailing newlines; `tokens` ignores all whitespace between words; `float` compares tokens
//! and lets numbers differ by an epsilon (absolute or relative). The outcome also names the first
//! line that differs, for the card's diff.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Checker {
    Exact,
    #[default]
    Lines,
    Tokens,
    Float,
}

impl Checker {
    pub fn as_str(self) -> &'static str {
        match self {
            Checker::Exact => "exact",
            Checker::Lines => "lines",
            Checker::Tokens => "tokens",
            Checker::Float => "float",
        }
    }

    pub fn parse(s: &str) -> Option<Checker> {
        match s {
            "exact" => Some(Checker::Exact),
            "lines" => Some(Checker::Lines),
            "tokens" => Some(Checker::Tokens),
            "float" => Some(Checker::Float),
            _ => None,
        }
    }
}

/// How the output compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub passed: bool,
    /// The first line (1-based) where actual and expected differ, when they do.
    pub first_diff_line: Option<usize>,
}

/// Compares `actual` with `expected` as `checker` says.
pub fn compare(checker: Checker, expected: &str, actual: &str, epsilon: f64) -> Comparison {
    let passed = match checker {
        Checker::Exact => expected == actual,
        Checker::Lines => lines(expected) == lines(actual),
        Checker::Tokens => expected.split_whitespace().eq(actual.split_whitespace()),
        Checker::Float => {
            let (e, a): (Vec<&str>, Vec<&str>) = (
                expected.split_whitespace().collect(),
                actual.split_whitespace().collect(),
            );
            e.len() == a.len() && e.iter().zip(&a).all(|(e, a)| token_matches(e, a, epsilon))
        }
    };
    Comparison {
        passed,
        first_diff_line: (!passed).then(|| first_diff_line(expected, actual)),
    }
}

/// Lines without trailing spaces, and without the empty lines at the end.
fn lines(s: &str) -> Vec<&str> {
    let mut v: Vec<&str> = s.split('\n').map(|l| l.trim_end_matches([' ', '\t', '\r'])).collect();
    while v.last().is_some_and(|l| l.is_empty()) {
        v.pop();
    }
    v
}

fn token_matches(expected: &str, actual: &str, epsilon: f64) -> bool {
    if expected == actual {
        return true;
    }
    match (expected.parse::<f64>(), actual.parse::<f64>()) {
        (Ok(e), Ok(a)) if e.is_finite() && a.is_finite() => {
            let diff = (e - a).abs();
            diff <= epsilon || diff <= epsilon * e.abs().max(a.abs())
        }
        _ => false,
    }
}

fn first_diff_line(expected: &str, actual: &str) -> usize {
    let (e, a) = (lines(expected), lines(actual));
    let n = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    n + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_ignores_trailing_spaces_and_final_newlines_only() {
        assert!(compare(Checker::Lines, "5\n", "5", 0.0).passed);
        assert!(compare(Checker::Lines, "a b\nc\n", "a b  \r\nc\n\n\n", 0.0).passed);
        let c = compare(Checker::Lines, "a\nb\nc\n", "a\nB\nc\n", 0.0);
        assert_eq!(
            c,
            Comparison {
                passed: false,
                first_diff_line: Some(2)
            }
        );
        assert!(
            !compare(Checker::Lines, "a b\n", "a  b\n", 0.0).passed,
            "inner spaces count"
        );
        assert!(
            !compare(Checker::Lines, "a\n\nb\n", "a\nb\n", 0.0).passed,
            "inner empty lines count"
        );
    }

    #[test]
    fn exact_tokens_and_float() {
        assert!(!compare(Checker::Exact, "5\n", "5", 0.0).passed);
        assert!(compare(Checker::Exact, "5\n", "5\n", 0.0).passed);
        assert!(compare(Checker::Tokens, "1 2 3\n", "1\n2   3", 0.0).passed);
        assert!(!compare(Checker::Tokens, "1 2 3", "1 2", 0.0).passed);
        assert!(compare(Checker::Float, "3.3333", "3.33333333", 1e-3).passed);
        assert!(compare(Checker::Float, "1000000", "1000000.5", 1e-6).passed, "relative");
        assert!(!compare(Checker::Float, "3.33", "3.40", 1e-3).passed);
        assert!(!compare(Checker::Float, "nan", "1", 1e-3).passed);
        assert!(compare(Checker::Float, "yes 2.0", "yes 2", 1e-9).passed);
        // A program printing more than expected fails at the first extra line.
        let c = compare(Checker::Lines, "1\n", "1\n2\n", 0.0);
        assert_eq!(c.first_diff_line, Some(2));
    }
}
