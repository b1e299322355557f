//! The task form as a teacher types it (every field a string, so a mistake comes back exactly
//! as it was) and its checks: what makes a task, in the admin's language, or each mistake.

use super::content::LANGUAGES;
use super::page::tr;
use super::request::Req;
use crate::store::admins::Session;
use crate::tasks::catalogue::TOPICS;
use crate::tasks::{Checker, Hint, Task};
use serde::Serialize;

/// The form as typed: every field a string, so a mistake comes back exactly as it was.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskForm {
    pub id: i64,
    pub slug: String,
    pub topic: String,
    pub position: String,
    pub title_ru: String,
    pub title_en: String,
    pub statement_ru: String,
    pub statement_en: String,
    pub languages: String,
    pub checker: String,
    pub float_epsilon: String,
    pub stop_at_first_failure: bool,
    pub hints_ru: String,
    pub hints_en: String,
    pub solution_python: String,
    pub solution_cpp: String,
    pub published: bool,
}

impl TaskForm {
    pub(super) fn of(t: &Task) -> TaskForm {
        let sol = |l: &str| t.solutions.get(l).cloned().unwrap_or_default();
        let hints = |f: fn(&Hint) -> &str| t.hints.iter().map(f).collect::<Vec<_>>().join("\n");
        TaskForm {
            id: t.id,
            slug: t.slug.clone(),
            topic: t.topic.clone(),
            position: t.position.to_string(),
            title_ru: t.title_ru.clone(),
            title_en: t.title_en.clone(),
            statement_ru: t.statement_ru.clone(),
            statement_en: t.statement_en.clone(),
            languages: t.languages.join(", "),
            checker: t.checker.as_str().to_string(),
            float_epsilon: t.float_epsilon.to_string(),
            stop_at_first_failure: t.stop_at_first_failure,
            hints_ru: hints(|h| &h.ru),
            hints_en: hints(|h| &h.en),
            solution_python: sol("python"),
            solution_cpp: sol("cpp"),
            published: t.published,
        }
    }

    pub(super) fn from_req(req: &Req, id: i64) -> TaskForm {
        let text = |k: &str| req.f(k).replace("\r\n", "\n");
        TaskForm {
            id,
            slug: req.f("slug").trim().to_string(),
            topic: req.f("topic").trim().to_string(),
            position: req.f("position").trim().to_string(),
            title_ru: req.f("title_ru").trim().to_string(),
            title_en: req.f("title_en").trim().to_string(),
            statement_ru: text("statement_ru").trim().to_string(),
            statement_en: text("statement_en").trim().to_string(),
            languages: req.f("languages").trim().to_string(),
            checker: req.f("checker").to_string(),
            float_epsilon: req.f("float_epsilon").trim().to_string(),
            stop_at_first_failure: req.f("stop_at_first_failure") == "1",
            hints_ru: text("hints_ru").trim().to_string(),
            hints_en: text("hints_en").trim().to_string(),
            solution_python: text("solution_python"),
            solution_cpp: text("solution_cpp"),
            published: false,
        }
    }

    /// The task this form describes over `base` (the stored one: its other languages'
    /// references and its limits stay), or what is wrong with it, in the admin's language.
    pub(super) fn to_task(&self, s: &Session, base: &Task) -> Result<Task, Vec<String>> {
        let mut errors = Vec::new();
        let mut t = base.clone();
        let slug_ok = !self.slug.is_empty()
            && self.slug.len() <= 64
            && !self.slug.starts_with('-')
            && self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !slug_ok {
            errors.push(tr(s, "admin.tasks.err_slug"));
        }
        if !TOPICS.contains(&self.topic.as_str()) {
            let words: Vec<String> = TOPICS.iter().map(|t| tr(s, &format!("admin.code.topic.{t}"))).collect();
            errors.push(format!("{} {}", tr(s, "admin.tasks.err_topic"), words.join(", ")));
        }
        let position = match self.position.as_str() {
            "" => Some(0),
            p => p.parse::<i32>().ok(),
        };
        if position.is_none() {
            errors.push(tr(s, "admin.tasks.err_position"));
        }
        if self.title_ru.is_empty() || self.title_en.is_empty() {
            errors.push(tr(s, "admin.tasks.err_title"));
        }
        for (key, text) in [
            ("admin.tasks.statement_ru", &self.statement_ru),
            ("admin.tasks.statement_en", &self.statement_en),
        ] {
            if let Err(e) = crate::telegram::html::check(text) {
                errors.push(format!("{}: {e}", tr(s, key)));
            }
        }
        let languages: Vec<String> = self
            .languages
            .split(',')
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        for l in &languages {
            if !LANGUAGES.contains(&l.as_str()) {
                errors.push(format!(
                    "{} {l} ({})",
                    tr(s, "admin.tasks.err_language"),
                    LANGUAGES.join(", ")
                ));
            }
        }
        let checker = Checker::parse(&self.checker);
        if checker.is_none() {
            errors.push(tr(s, "admin.tasks.err_checker"));
        }
        let epsilon = match self.float_epsilon.as_str() {
            "" => Some(1e-6),
            e => e.parse::<f64>().ok().filter(|e| e.is_finite() && *e >= 0.0),
        };
        if epsilon.is_none() {
            errors.push(tr(s, "admin.tasks.err_epsilon"));
        }
        let lines = |t: &str| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let (ru, en) = (lines(&self.hints_ru), lines(&self.hints_en));
        if ru.len() != en.len() {
            errors.push(tr(s, "admin.tasks.err_hints"));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        t.slug = self.slug.clone();
        t.topic = self.topic.clone();
        t.position = position.unwrap_or(0);
        t.title_ru = self.title_ru.clone();
        t.title_en = self.title_en.clone();
        t.statement_ru = self.statement_ru.clone();
        t.statement_en = self.statement_en.clone();
        t.languages = languages;
        t.checker = checker.unwrap_or_default();
        t.float_epsilon = epsilon.unwrap_or(1e-6);
        t.stop_at_first_failure = self.stop_at_first_failure;
        t.hints = ru.into_iter().zip(en).map(|(ru, en)| Hint { ru, en }).collect();
        for (lang, code) in [("python", &self.solution_python), ("cpp", &self.solution_cpp)] {
            if code.trim().is_empty() {
                t.solutions.remove(lang);
            } else {
                t.solutions.insert(lang.to_string(), code.clone());
            }
        }
        Ok(t)
    }
}
