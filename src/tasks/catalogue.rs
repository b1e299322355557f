//! The starter task set: one folder per task under `containers/tasks/` (`task.toml`, and
//! `solution.<ext>` reference solutions), built into the binary like the error catalogue.
//! `devmentor migrate` loads it into an empty `tasks` table; `devmentor tasks import [PATH]`
//! adds new tasks and updates the ones teachers have not edited.

use super::{Checker, Hint, Task, TaskLimits, TaskTest};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/starter_tasks.rs"));

/// The largest expected output a test may have (a task is data a student's card shows).
pub const MAX_EXPECTED_BYTES: usize = 64 * 1024;
/// The largest test input.
pub const MAX_STDIN_BYTES: usize = 64 * 1024;

pub const TOPICS: [&str; 6] = ["io", "conditions", "loops", "strings", "lists", "functions"];

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
}

/// A task with its tests, as loaded from files.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub task: Task,
    pub tests: Vec<TaskTest>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskFile {
    slug: String,
    topic: String,
    #[serde(default)]
    order: i32,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    checker: Option<String>,
    float_epsilon: Option<f64>,
    #[serde(default = "yes")]
    stop_at_first_failure: bool,
    #[serde(default)]
    timeout_s: Option<f64>,
    #[serde(default)]
    memory_mb: Option<u64>,
    title: Texts,
    statement: Texts,
    #[serde(default)]
    hints: Vec<Hint>,
    #[serde(default)]
    tests: Vec<TestFile>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Texts {
    ru: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    #[serde(default)]
    stdin: String,
    expected: String,
    #[serde(default)]
    hidden: bool,
    note_ru: Option<String>,
    note_en: Option<String>,
}

/// The language a reference solution file is in, by its extension.
pub fn language_of_solution(file_name: &str) -> Option<&'static str> {
    Some(match file_name.rsplit_once('.')?.1 {
        "py" => "python",
        "cpp" => "cpp",
        "c" => "c",
        "js" => "javascript",
        "ts" => "typescript",
        "java" => "java",
        "go" => "go",
        "rs" => "rust",
        "rb" => "ruby",
        "php" => "php",
        "cs" => "csharp",
        "pas" => "pascal",
        "sh" => "bash",
        _ => return None,
    })
}

/// Parses one task: its `task.toml` text and its solution files.
pub fn parse(origin: &str, text: &str, solutions: &[(&str, &str)]) -> Result<Loaded, TaskError> {
    let invalid = |message: String| TaskError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let f: TaskFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let checker = match f.checker.as_deref() {
        None => Checker::Lines,
        Some(c) => {
            Checker::parse(c).ok_or_else(|| invalid(format!("unknown checker {c:?}: exact, lines, tokens or float")))?
        }
    };
    let mut solved = BTreeMap::new();
    for (name, code) in solutions {
        let lang = language_of_solution(name).ok_or_else(|| invalid(format!("{name}: not a known language")))?;
        solved.insert(lang.to_string(), code.to_string());
    }
    let task = Task {
        id: 0,
        slug: f.slug,
        topic: f.topic,
        position: f.order,
        title_ru: f.title.ru,
        title_en: f.title.en,
        statement_ru: f.statement.ru,
        statement_en: f.statement.en,
        languages: f.languages,
        checker,
        float_epsilon: f.float_epsilon.unwrap_or(1e-6),
        stop_at_first_failure: f.stop_at_first_failure,
        limits: TaskLimits {
            timeout_s: f.timeout_s,
            memory_mb: f.memory_mb,
        },
        hints: f.hints,
        solutions: solved,
        published: true,
    };
    let tests: Vec<TaskTest> = f
        .tests
        .into_iter()
        .enumerate()
        .map(|(i, t)| TaskTest {
            id: 0,
            position: i as i32 + 1,
            stdin: t.stdin,
            expected: t.expected,
            hidden: t.hidden,
            note_ru: t.note_ru,
            note_en: t.note_en,
        })
        .collect();
    validate(&task, &tests).map_err(invalid)?;
    Ok(Loaded { task, tests })
}

/// What makes a task unfit to publish or store: each problem in words a teacher understands.
pub fn validate(task: &Task, tests: &[TaskTest]) -> Result<(), String> {
    let mut problems = Vec::new();
    let slug_ok = !task.slug.is_empty()
        && task.slug.len() <= 64
        && task
            .slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !task.slug.starts_with('-');
    if !slug_ok {
        problems.push(format!(
            "slug {:?}: lowercase letters, digits and dashes, up to 64",
            task.slug
        ));
    }
    for (what, text) in [("title (ru)", &task.title_ru), ("title (en)", &task.title_en)] {
        if text.trim().is_empty() {
            problems.push(format!("{what} is empty"));
        }
    }
    for (what, text) in [
        ("statement (ru)", &task.statement_ru),
        ("statement (en)", &task.statement_en),
    ] {
        if let Err(e) = crate::telegram::html::check(text) {
            problems.push(format!("{what}: {e}"));
        }
    }
    if task.published && tests.is_empty() {
        problems.push("a task with no tests cannot be published".into());
    }
    for t in tests {
        if t.expected.len() > MAX_EXPECTED_BYTES {
            problems.push(format!(
                "test {}: the expected output is {} bytes; the limit is {MAX_EXPECTED_BYTES}",
                t.position,
                t.expected.len()
            ));
        }
        if t.stdin.len() > MAX_STDIN_BYTES {
            problems.push(format!(
                "test {}: the input is {} bytes; the limit is {MAX_STDIN_BYTES}",
                t.position,
                t.stdin.len()
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// The starter set built into the binary.
pub fn builtin() -> Result<Vec<Loaded>, TaskError> {
    STARTER
        .iter()
        .map(|(slug, text, solutions)| parse(&format!("containers/tasks/{slug}"), text, solutions))
        .collect()
}

/// The tasks under `dir` (one folder each), for `devmentor tasks import PATH`.
pub fn load_dir(dir: &Path) -> Result<Vec<Loaded>, TaskError> {
    let io = |p: &Path, error| TaskError::Io {
        path: p.display().to_string(),
        error,
    };
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("task.toml").is_file())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        let toml_path = d.join("task.toml");
        let text = std::fs::read_to_string(&toml_path).map_err(|e| io(&toml_path, e))?;
        let mut files = Vec::new();
        for e in std::fs::read_dir(&d).map_err(|e| io(&d, e))?.filter_map(Result::ok) {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("solution.") {
                let code = std::fs::read_to_string(e.path()).map_err(|err| io(&e.path(), err))?;
                files.push((name, code));
            }
        }
        let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), c.as_str())).collect();
        out.push(parse(&d.display().to_string(), &text, &refs)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_set_parses_and_has_sum_of_two() {
        let set = builtin().expect("the starter set parses");
        if set.is_empty() {
            return;
        }
        let sum = set
            .iter()
            .find(|l| l.task.slug == "sum-of-two")
            .expect("sum-of-two is in the set");
        assert!(sum.tests.len() >= 5);
        assert!(sum.tests.iter().any(|t| t.hidden));
        assert!(sum.task.solutions.contains_key("python") && sum.task.solutions.contains_key("cpp"));
        for l in &set {
            assert!(
                TOPICS.contains(&l.task.topic.as_str()),
                "{}: topic {}",
                l.task.slug,
                l.task.topic
            );
        }
    }

    #[test]
    fn bad_tasks_are_refused_with_the_reason() {
        let text = r#"slug = "Bad Slug"
topic = "io"
title = { ru = "", en = "x" }
statement = { ru = "<b>unclosed", en = "ok" }
"#;
        let e = parse("t", text, &[]).unwrap_err().to_string();
        assert!(e.contains("slug") && e.contains("title (ru) is empty"), "{e}");
        assert!(e.contains("statement (ru)"), "{e}");
        assert!(e.contains("no tests cannot be published"), "{e}");
        let e = parse("t", "slug = \"x\"\ntopic = \"io\"\nchecker = \"regex\"\ntitle = {ru=\"a\",en=\"b\"}\nstatement = {ru=\"a\",en=\"b\"}\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown checker"), "{e}");
    }
}
