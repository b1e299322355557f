//! The audit log page: filters (who, action, object, dates; logins only when asked for) and,
//! for every row, the fields that changed, old → new, instead of the whole stored JSON.
//! One object's history (`?object_type=…&object_id=…`) is the same page filtered.

use super::page::{layout, pager, render, tr, url_with, Choice, Pager, PER_PAGE};
use super::request::{Req, R};
use super::state::AdminState;
use crate::store::admins::{self, AuditFilter, AuditRow, Session};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Longest value a change shows; the rest is in its tooltip.
const VALUE_CHARS: usize = 160;

/// One field's change.
#[derive(Serialize)]
pub(super) struct Change {
    field: String,
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

fn shown(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
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

/// The fields that differ between `before` and `after` (stored JSON text; empty = none).
pub(super) fn changes(before: &str, after: &str) -> (Vec<Change>, bool) {
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
            let (old, new) = (b.get(k).and_then(shown), a.get(k).and_then(shown));
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
                old: old.as_deref().map(cut),
                new: new.as_deref().map(cut),
                full,
            })
        })
        .collect();
    (list, whole)
}

pub(super) fn lines(rows: Vec<AuditRow>) -> Vec<AuditLine> {
    rows.into_iter()
        .map(|r| {
            let (changes, whole) = changes(&r.before, &r.after);
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
        rows: lines(rows),
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
        let (c, whole) = changes(before, after);
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
        let (c, whole) = changes("", r#"{"username": "a", "superuser": false, "note": ""}"#);
        assert!(whole);
        assert_eq!(c.len(), 2, "an empty field of a new object is left out");
        let long = "x".repeat(500);
        let (c, _) = changes(r#"{"text": "a"}"#, &format!(r#"{{"text": "{long}"}}"#));
        assert!(c[0].new.as_ref().unwrap().chars().count() <= VALUE_CHARS);
        assert!(c[0].full.as_ref().unwrap().contains(&long));
    }
}
