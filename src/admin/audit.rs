//! The audit log page: filters (who, action, object, dates; logins only when asked for) and,
//! for every row, the fields that changed, old → new, instead of the whole stored JSON.
//! One object's history (`?object_type=…&object_id=…`) is the same page filtered.

use super::page::{layout, pager, render, tr, url_with, Choice, Pager, PER_PAGE};
use super::request::{Req, R};
use super::state::AdminState;
use crate::registry::Locale;
use crate::store::admins::{self, AuditFilter, AuditRow, Session};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest value a change shows; the rest is in its tooltip.
const VALUE_CHARS: usize = 160;

/// One field's change, in the admin's language.
#[derive(Serialize)]
pub(super) struct Change {
    /// The stored name (`ru.title`).
    field: String,
    /// Its words (`русский · заголовок`).
    label: String,
    old: Option<String>,
    new: Option<String>,
    /// The whole values, when `old`/`new` were cut.
    full: Option<String>,
}

/// One audit row as the page shows it.
#[derive(Serialize)]
pub(super) struct AuditLine {
    at: String,
    admin_name: String,
    action: String,
    object_type: String,
    object_id: String,
    /// The object's history in the log.
    history: String,
    /// Changed fields (an update), or every field of a created or deleted object.
    changes: Vec<Change>,
    /// Created or deleted: the fields are folded away under a summary.
    whole: bool,
    fields: usize,
}

/// `{"a": {"b": 1}}` → `a.b = 1`.
fn flatten(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// `prefix.code` in the admin's language, or the code itself when nobody named it.
fn word(locale: Locale, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}.{code}");
    let text = crate::i18n::t(locale, &key);
    if text == key {
        code.to_string()
    } else {
        text
    }
}

/// A field's name in words: each part of `ru.title` by `admin.field.<part>`.
fn label(locale: Locale, key: &str) -> String {
    key.split('.')
        .map(|part| word(locale, "admin.field", part))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The group of codes (`admin.code.<group>.<value>`) a field's text values are.
fn codes_of(key: &str) -> Option<&'static str> {
    match key.rsplit('.').next().unwrap_or(key) {
        "verdict" => Some("verdict"),
        "status" => Some("status"),
        "audience" => Some("audience"),
        "locale" => Some("locale"),
        "role" => Some("role"),
        "source" => Some("source"),
        "topic" => Some("topic"),
        "checker" => Some("checker"),
        _ => None,
    }
}

/// A value as the admin reads it: yes/no, a code in words, free text as it is, a list of
/// objects as `field: value, …; …`.
fn shown(locale: Locale, key: &str, v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(crate::i18n::t(locale, if *b { "admin.yes" } else { "admin.no" })),
        Value::String(s) => Some(match codes_of(key) {
            Some(group) if !s.is_empty() => word(locale, &format!("admin.code.{group}"), s),
            _ => s.clone(),
        }),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => {
            let one = |item: &Value| match item {
                Value::Object(m) => m
                    .iter()
                    .map(|(k, v)| {
                        let v = shown(locale, k, v).unwrap_or_else(|| "—".into());
                        format!("{}: {v}", label(locale, k))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                other => shown(locale, key, other).unwrap_or_else(|| "—".into()),
            };
            let sep = if items.iter().any(Value::is_object) { "; " } else { ", " };
            Some(items.iter().map(one).collect::<Vec<_>>().join(sep))
        }
        other => Some(other.to_string()),
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= VALUE_CHARS {
        s.to_string()
    } else {
        s.chars().take(VALUE_CHARS - 1).chain(['…']).collect()
    }
}

/// The fields that differ between `before` and `after` (stored JSON text; empty = none), named
/// and valued in the admin's language.
pub(super) fn changes(locale: Locale, before: &str, after: &str) -> (Vec<Change>, bool) {
    let parse = |t: &str| -> BTreeMap<String, Value> {
        let mut out = BTreeMap::new();
        if let Ok(v) = serde_json::from_str::<Value>(t) {
            flatten("", &v, &mut out);
        }
        out
    };
    let (b, a) = (parse(before), parse(after));
    let whole = b.is_empty() || a.is_empty();
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let list = keys
        .into_iter()
        .filter_map(|k| {
            let show = |v: Option<&Value>| v.and_then(|v| shown(locale, k, v));
            let (old, new) = (show(b.get(k)), show(a.get(k)));
            if old == new
                || (whole && old.as_deref().unwrap_or("").is_empty() && new.as_deref().unwrap_or("").is_empty())
            {
                return None;
            }
            let long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.chars().count() > VALUE_CHARS);
            let full = (long(&old) || long(&new))
                .then(|| format!("{} → {}", old.as_deref().unwrap_or("—"), new.as_deref().unwrap_or("—")));
            Some(Change {
                field: k.clone(),
                label: label(locale, k),
                old: old.as_deref().map(cut),
                new: new.as_deref().map(cut),
                full,
            })
        })
        .collect();
    (list, whole)
}

pub(super) fn lines(rows: Vec<AuditRow>, locale: Locale) -> Vec<AuditLine> {
    rows.into_iter()
        .map(|r| {
            let (changes, whole) = changes(locale, &r.before, &r.after);
            let history = format!(
                "/admin/audit?{}",
                serde_urlencoded::to_string([
                    ("object_type", r.object_type.as_str()),
                    ("object_id", r.object_id.as_str())
                ])
                .unwrap_or_default()
            );
            AuditLine {
                at: r.at,
                admin_name: r.admin_name,
                action: r.action,
                object_type: r.object_type,
                object_id: r.object_id,
                history,
                fields: changes.len(),
                changes,
                whole,
            }
        })
        .collect()
}

#[derive(Serialize)]
struct AuditPage {
    rows: Vec<AuditLine>,
    admins: Vec<Choice>,
    actions: Vec<Choice>,
    objects: Vec<Choice>,
    object_id: String,
    from: Option<String>,
    to: Option<String>,
    logins: bool,
    /// The same filters without any: the "reset" link.
    reset: String,
    pages: Pager,
}

fn date(req: &Req, k: &str) -> Option<String> {
    let v = req.q(k);
    (v.len() == 10 && v.chars().all(|ch| ch.is_ascii_digit() || ch == '-')).then(|| v.to_string())
}

/// The audit log, newest first, filtered.
pub async fn page(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    let f = AuditFilter {
        admin: req.q("admin").to_string(),
        action: req.q("action").to_string(),
        object_type: req.q("object_type").to_string(),
        object_id: req.q("object_id").trim().to_string(),
        from: date(req, "from"),
        to: date(req, "to"),
        // One object's history is all of it; the whole log hides logins unless asked.
        logins: req.q("logins") == "1" || !req.q("object_id").is_empty(),
    };
    let (_, total) = admins::audit_filtered(&c, &f, 0, 0).await?;
    let (offset, pages) = pager(req, total, "/admin/audit");
    let (rows, _) = admins::audit_filtered(&c, &f, offset, PER_PAGE).await?;
    let (who, actions, objects) = admins::audit_facets(&c).await?;
    let pick = |values: Vec<String>, chosen: &str| {
        values
            .into_iter()
            .map(|value| Choice {
                on: value == chosen,
                value,
                count: None,
            })
            .collect::<Vec<_>>()
    };
    let title = if f.object_type.is_empty() || f.object_id.is_empty() {
        tr(s, "admin.nav.audit")
    } else {
        let object = tr(s, &format!("admin.code.object.{}", f.object_type));
        format!("{} · {object} {}", tr(s, "admin.history"), f.object_id)
    };
    let l = layout(&c, s, "audit", title).await?;
    let data = AuditPage {
        rows: lines(rows, super::page::locale_of(s)),
        admins: pick(who, &f.admin),
        actions: pick(actions, &f.action),
        objects: pick(objects, &f.object_type),
        object_id: f.object_id.clone(),
        from: f.from.clone(),
        to: f.to.clone(),
        logins: f.logins,
        reset: url_with(
            req,
            "/admin/audit",
            &[
                ("admin", ""),
                ("action", ""),
                ("object_type", ""),
                ("object_id", ""),
                ("from", ""),
                ("to", ""),
                ("logins", ""),
            ],
        ),
        pages,
    };
    Ok(render(state, s, "audit", &l, &data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_that_changed_old_to_new() {
        let before = r#"{"slug": "x", "priority": 50, "ru": {"title": "Старое", "what": "same"}}"#;
        let after = r#"{"slug": "x", "priority": 60, "ru": {"title": "Новое", "what": "same"}}"#;
        let (c, whole) = changes(Locale::En, before, after);
        assert!(!whole);
        let got: Vec<(&str, Option<&str>, Option<&str>)> = c
            .iter()
            .map(|c| (c.field.as_str(), c.old.as_deref(), c.new.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("priority", Some("50"), Some("60")),
                ("ru.title", Some("Старое"), Some("Новое"))
            ]
        );
        let (c, whole) = changes(Locale::En, "", r#"{"username": "a", "superuser": false, "note": ""}"#);
        assert!(whole);
        assert_eq!(c.len(), 2, "an empty field of a new object is left out");
        let long = "x".repeat(500);
        let (c, _) = changes(Locale::En, r#"{"text": "a"}"#, &format!(r#"{{"text": "{long}"}}"#));
        assert!(c[0].new.as_ref().unwrap().chars().count() <= VALUE_CHARS);
        assert!(c[0].full.as_ref().unwrap().contains(&long));
    }

    #[test]
    fn fields_and_values_in_the_admins_language() {
        let got = |locale, before: &str, after: &str| -> Vec<(String, Option<String>, Option<String>)> {
            changes(locale, before, after)
                .0
                .into_iter()
                .map(|c| (c.label, c.old, c.new))
                .collect()
        };
        let s = |v: &str| Some(v.to_string());
        let (before, after) = (
            r#"{"blocked": false, "whitelisted": true}"#,
            r#"{"blocked": true, "whitelisted": true}"#,
        );
        assert_eq!(
            got(Locale::Ru, before, after),
            vec![(s("заблокирован").unwrap(), s("нет"), s("да"))]
        );
        assert_eq!(
            got(Locale::En, before, after),
            vec![(s("blocked").unwrap(), s("no"), s("yes"))]
        );
        // Codes by their words; free text as it is; a nested field by both its parts.
        let (before, after) = (
            r#"{"status": "pending", "locale": "ru", "ru": {"title": "status"}}"#,
            r#"{"status": "approved", "locale": "en", "ru": {"title": "accepted"}}"#,
        );
        assert_eq!(
            got(Locale::Ru, before, after),
            vec![
                (s("язык").unwrap(), s("русский"), s("английский")),
                (s("русский · заголовок").unwrap(), s("status"), s("accepted")),
                (s("статус").unwrap(), s("ждёт решения"), s("одобрена")),
            ]
        );
        // The reference runs of a validation: each one's fields in words.
        let after = r#"{"validated": false, "imported": [1, 2],
            "references": [{"language": "python", "verdict": "accepted", "passed": 3, "total": 3},
                           {"language": "cpp", "verdict": "wrong_answer", "passed": 1, "total": 3}]}"#;
        let lines = got(Locale::Ru, "", after);
        assert_eq!(lines[0], (s("загружены тесты").unwrap(), None, s("1, 2")));
        assert_eq!(
            lines[1],
            (
                s("эталонные решения").unwrap(),
                None,
                s(
                    "язык: python, пройдено тестов: 3, всего тестов: 3, результат: принято; \
                   язык: cpp, пройдено тестов: 1, всего тестов: 3, результат: неверный ответ"
                )
            )
        );
        assert_eq!(lines[2], (s("проверена эталонами").unwrap(), None, s("нет")));
        assert_eq!(
            got(
                Locale::En,
                r#"{"topic": "io", "checker": "exact"}"#,
                r#"{"topic": "loops", "checker": "lines"}"#
            ),
            vec![
                (
                    s("output comparison").unwrap(),
                    s("exact match"),
                    s("line by line, trailing spaces ignored")
                ),
                (s("topic").unwrap(), s("Input and output"), s("Loops")),
            ]
        );
        // A field nobody named keeps its stored name.
        assert_eq!(got(Locale::Ru, "", r#"{"brand_new": 1}"#)[0].0, "brand_new");
    }

    /// Every field an audit row records (the objects' own fields and the ones written out by
    /// hand next to `admins::audit`) has a name in both languages.
    #[test]
    fn every_recorded_field_is_named() {
        use crate::registry::catalogue::{Entry, EntryVariant};
        let entry: Entry = serde_json::from_value(serde_json::json!({
            "slug": "x", "error_type": "E", "pattern": "p", "sample_error": "s",
            "line_pattern": "l", "sample_program": "p", "sample_stdin": "i", "sample_line": 1
        }))
        .unwrap();
        let objects = [
            serde_json::to_value(crate::store::settings::Settings::default()).unwrap(),
            serde_json::to_value(crate::store::faq::FaqItem {
                id: Some(1),
                locale: "ru".into(),
                question: "q".into(),
                answer: "a".into(),
                position: 1,
                published: true,
            })
            .unwrap(),
            serde_json::to_value(&entry).unwrap(),
            serde_json::to_value(EntryVariant::default()).unwrap(),
            serde_json::to_value(super::super::task_form::TaskForm::default()).unwrap(),
            serde_json::to_value(crate::store::admins::AccountLine {
                id: 1,
                username: "a".into(),
                superuser: false,
                active: true,
                last_login: "—".into(),
            })
            .unwrap(),
        ];
        let mut names: Vec<String> = Vec::new();
        for o in &objects {
            let mut flat = BTreeMap::new();
            flatten("", o, &mut flat);
            names.extend(
                flat.into_keys()
                    .flat_map(|k| k.split('.').map(String::from).collect::<Vec<_>>()),
            );
        }
        // Written by hand where the rows are recorded (users, access, tokens, tasks, tests,
        // broadcasts, the registry's second text).
        let by_hand = "blocked whitelisted status user_id name rate_per_minute revoked username superuser \
            published copy_of slug stdin expected hidden position imported validated references \
            language verdict passed total text audience active_days locale recipients texts variant \
            ru en round title what why hint example_bad example_good";
        names.extend(by_hand.split_whitespace().map(String::from));
        names.sort();
        names.dedup();
        for locale in [Locale::Ru, Locale::En] {
            for n in &names {
                let key = format!("admin.field.{n}");
                assert_ne!(
                    crate::i18n::t(locale, &key),
                    key,
                    "{locale:?}: no name for the field {n}"
                );
            }
        }
        assert!(names.len() > 60, "{names:?}");
    }
}
