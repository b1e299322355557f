//! Registry pages: the common-error entries (list, create, edit, delete — validated on save and
//! tried against the entry's own sample), the tester, and the backlog of unmatched errors.

use super::pages::{base, not_found, page, page_status, pager, tr, PER_PAGE};
use super::{redirect, AdminState, Req, R};
use crate::registry::catalogue::{Entry, EntryTexts};
use crate::registry::{Locale, Matcher};
use crate::store::admins::{self, Session};
use serde_json::{json, Value};
use warp::http::StatusCode;

const LANGUAGES: [&str; 8] = ["*", "python", "javascript", "c", "cpp", "java", "go", "rust"];

pub async fn list(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let q = req.q("q").trim().chars().take(100).collect::<String>();
    let language = req.q("language").to_string();
    let filter = "($1 = '' OR e.slug ILIKE '%' || $1 || '%' OR e.error_type ILIKE '%' || $1 || '%'
                  OR EXISTS (SELECT 1 FROM registry_texts t WHERE t.entry_id = e.id AND t.title ILIKE '%' || $1 || '%'))
                  AND ($2 = '' OR e.language = $2)";
    let like = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    let total: i64 = c
        .query_one(
            &format!("SELECT count(*) FROM registry_entries e WHERE {filter}"),
            &[&like, &language],
        )
        .await?
        .get(0);
    let (offset, pages) = pager(req, total, "/admin/registry");
    let locale = if s.admin.locale == "en" { "en" } else { "ru" };
    let rows: Vec<Value> = c
        .query(
            &format!(
                "SELECT e.slug, e.language, e.error_type, e.priority, e.enabled, e.edited_by_admin,
                        COALESCE((SELECT t.title FROM registry_texts t WHERE t.entry_id = e.id AND t.locale = $5), ''),
                        (SELECT count(*) FROM explanation_events v WHERE v.entry_slug = e.slug)
                   FROM registry_entries e WHERE {filter}
                  ORDER BY e.language, e.priority DESC, e.slug OFFSET $3 LIMIT $4"
            ),
            &[&like, &language, &offset, &PER_PAGE, &locale],
        )
        .await?
        .iter()
        .map(|r| {
            json!({"slug": r.get::<_, String>(0), "language": r.get::<_, String>(1), "error_type": r.get::<_, String>(2),
                   "priority": r.get::<_, i32>(3), "enabled": r.get::<_, bool>(4), "edited": r.get::<_, bool>(5),
                   "title": r.get::<_, String>(6), "hits": r.get::<_, i64>(7)})
        })
        .collect();
    let counts: Vec<Value> = c
        .query(
            "SELECT language, count(*) FROM registry_entries GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let l: String = r.get(0);
            json!({"value": l.clone(), "count": r.get::<_, i64>(1), "on": l == language})
        })
        .collect();
    let mut m = base(&c, s, "registry", tr(s, "admin.nav.registry")).await?;
    m.insert("entries".into(), json!(rows));
    m.insert("languages".into(), json!(counts));
    m.insert("q".into(), json!(q));
    m.insert("pages".into(), pages);
    Ok(page(state, s, "registry", m))
}

async fn find(state: &AdminState, slug: &str) -> Result<Option<Entry>, crate::store::StoreError> {
    let all = crate::registry::store::load(&state.store.client().await?).await?;
    Ok(all.into_iter().find(|e| e.slug == slug))
}

async fn form(state: &AdminState, s: &Session, entry: Value, editing: Option<&str>, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let title = match editing {
        Some(slug) => format!("{} · {slug}", tr(s, "admin.nav.registry")),
        None => tr(s, "admin.registry.new"),
    };
    let mut m = base(&c, s, "registry", title).await?;
    m.insert("e".into(), entry);
    m.insert("editing".into(), json!(editing));
    m.insert(
        "action".into(),
        json!(editing
            .map(|sl| format!("/admin/registry/{sl}"))
            .unwrap_or_else(|| "/admin/registry/new".into())),
    );
    m.insert("languages".into(), json!(LANGUAGES));
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    m.insert("errors".into(), json!(errors));
    Ok(page_status(state, s, "registry_form", m, status))
}

pub async fn new_form(state: &AdminState, req: &Req, s: &Session) -> R {
    // Prefilled from the unmatched backlog ("create an entry from this").
    let e = json!({"language": req.q("language"), "error_type": req.q("error_type"),
                   "sample_error": req.q("sample_error"), "priority": 50, "enabled": true,
                   "pattern": regex::escape(req.q("sample_error")),
                   "ru": {}, "en": {}});
    form(state, s, e, None, vec![]).await
}

pub async fn edit_form(state: &AdminState, s: &Session, slug: &str) -> R {
    match find(state, slug).await? {
        Some(e) => form(state, s, json!(e), Some(slug), vec![]).await,
        None => Ok(not_found(s)),
    }
}

fn entry_from(req: &Req, slug: &str) -> Entry {
    let opt = |k: &str| Some(req.f(k).replace("\r\n", "\n")).filter(|v| !v.trim().is_empty());
    let texts = |l: &str| EntryTexts {
        title: req.f(&format!("{l}_title")).trim().to_string(),
        what: req.f(&format!("{l}_what")).replace("\r\n", "\n").trim().to_string(),
        why: req.f(&format!("{l}_why")).replace("\r\n", "\n").trim().to_string(),
        hint: req.f(&format!("{l}_hint")).replace("\r\n", "\n").trim().to_string(),
        example_bad: req.f(&format!("{l}_example_bad")).replace("\r\n", "\n"),
        example_good: req.f(&format!("{l}_example_good")).replace("\r\n", "\n"),
    };
    Entry {
        slug: slug.trim().to_string(),
        language: req.f("language").trim().to_string(),
        error_type: req.f("error_type").trim().to_string(),
        pattern: req.f("pattern").to_string(),
        line_pattern: opt("line_pattern"),
        priority: req.f("priority").trim().parse().unwrap_or(50),
        enabled: req.f("enabled") == "1",
        sample_error: req.f("sample_error").replace("\r\n", "\n"),
        sample_program: opt("sample_program"),
        sample_stdin: opt("sample_stdin"),
        sample_line: req.f("sample_line").trim().parse().ok(),
        ru: texts("ru"),
        en: texts("en"),
    }
}

/// Create (`editing` None) or update: validated (regexes compile, the pattern matches the sample,
/// placeholders exist), the slug unique; nothing is saved unless all of it holds.
pub async fn save(state: &AdminState, req: &Req, s: &Session, editing: Option<&str>) -> R {
    let slug = editing.unwrap_or(req.f("slug"));
    let entry = entry_from(req, slug);
    let before = match editing {
        Some(sl) => match find(state, sl).await? {
            Some(e) => Some(e),
            None => return Ok(not_found(s)),
        },
        None => None,
    };
    let mut errors = Vec::new();
    if !LANGUAGES.contains(&entry.language.as_str()) {
        errors.push(tr(s, "admin.registry.err_language"));
    }
    if req.f("priority").trim().parse::<i32>().is_err() {
        errors.push(tr(s, "admin.registry.err_priority"));
    }
    if editing.is_none() && find(state, &entry.slug).await?.is_some() {
        errors.push(format!("{} ({})", tr(s, "admin.registry.err_duplicate"), entry.slug));
    }
    if let Err(e) = entry.validate() {
        errors.push(e.to_string());
    }
    if !errors.is_empty() {
        return form(state, s, json!(entry), editing, errors).await;
    }
    let mut c = state.store.client().await?;
    if let Err(e) = crate::registry::store::save_admin_edit(&mut c, &entry).await {
        return form(state, s, json!(entry), editing, vec![e.to_string()]).await;
    }
    let action = if editing.is_some() {
        "registry.update"
    } else {
        "registry.create"
    };
    admins::audit(
        &c,
        &s.admin,
        action,
        "registry_entry",
        &entry.slug,
        before.map(|b| json!(b)),
        Some(json!(entry)),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/registry/{}", entry.slug)))
}

pub async fn delete(state: &AdminState, req: &Req, s: &Session, slug: &str) -> R {
    let Some(before) = find(state, slug).await? else {
        return Ok(not_found(s));
    };
    let c = state.store.client().await?;
    c.execute("DELETE FROM registry_entries WHERE slug = $1", &[&slug])
        .await?;
    admins::audit(
        &c,
        &s.admin,
        "registry.delete",
        "registry_entry",
        slug,
        Some(json!(before)),
        None,
        &req.ip,
    )
    .await?;
    Ok(redirect("/admin/registry"))
}

/// The tester: paste an error, see which entry matches and the texts a student would get.
pub async fn tester(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let language = match req.f("language") {
        "" => "python",
        l => l,
    };
    let error_text = req.f("error").replace("\r\n", "\n");
    let mut m = base(&c, s, "registry", tr(s, "admin.registry.tester")).await?;
    m.insert("languages".into(), json!(&LANGUAGES[1..]));
    m.insert("language".into(), json!(language));
    m.insert("error".into(), json!(error_text));
    if !error_text.trim().is_empty() {
        let pack_file = match language {
            "java" => "Main.java",
            "javascript" => "main.js",
            "c" => "main.c",
            "cpp" => "main.cpp",
            "go" => "main.go",
            "rust" => "main.rs",
            _ => "main.py",
        };
        let extracted = crate::analyzer::extract::extract(language, &error_text, None, "", pack_file);
        let entries = crate::registry::store::load(&c).await?;
        let (matcher, _) = Matcher::build(entries);
        let result = match &extracted {
            None => json!({"extracted": false}),
            Some(e) => {
                let found = matcher.find(language, &e.error_type, &e.message, e.source_line.as_deref());
                json!({"extracted": true, "error_type": e.error_type, "message": e.message, "line": e.line,
                "match": found.map(|f| {
                    let (ru, en) = (f.render(Locale::Ru), f.render(Locale::En));
                    json!({"slug": f.entry.slug, "captures": f.captures, "ru": ru_json(&ru), "en": ru_json(&en)})
                })})
            }
        };
        m.insert("result".into(), result);
    }
    Ok(page(state, s, "tester", m))
}

fn ru_json(t: &EntryTexts) -> Value {
    json!({"title": t.title, "what": t.what, "why": t.why, "hint": t.hint})
}

/// Errors nobody explained from the registry, most frequent first, with the AI's answer and the
/// students' votes on it.
pub async fn unmatched(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let total: i64 = c
        .query_one(
            "SELECT count(DISTINCT fingerprint) FROM explanation_events WHERE entry_slug IS NULL",
            &[],
        )
        .await?
        .get(0);
    let (offset, pages) = pager(req, total, "/admin/unmatched");
    let rows: Vec<Value> = c
        .query(
            "WITH g AS (
                 SELECT fingerprint, min(language) AS language, min(error_type) AS error_type,
                        min(message) AS message, count(*) AS n, max(created_at) AS last,
                        array_agg(check_id) FILTER (WHERE check_id IS NOT NULL) AS checks
                   FROM explanation_events WHERE entry_slug IS NULL GROUP BY fingerprint)
             SELECT g.fingerprint, g.language, g.error_type, g.message, g.n,
                    to_char(g.last AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    (SELECT c.result->'explanation'->>'text' FROM checks c
                      WHERE c.id = ANY(g.checks) AND c.result->'explanation'->>'source' IN ('ai', 'cache')
                      ORDER BY c.id DESC LIMIT 1),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(g.checks) AND f.vote > 0),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(g.checks) AND f.vote < 0)
               FROM g ORDER BY g.n DESC, g.last DESC OFFSET $1 LIMIT $2",
            &[&offset, &PER_PAGE],
        )
        .await?
        .iter()
        .map(|r| {
            let (language, error_type, message): (String, String, String) = (r.get(1), r.get(2), r.get(3));
            let sample = if message.is_empty() {
                error_type.clone()
            } else {
                format!("{error_type}: {message}")
            };
            let create = format!(
                "/admin/registry/new?{}",
                serde_urlencoded::to_string([
                    ("language", language.as_str()),
                    ("error_type", error_type.as_str()),
                    ("sample_error", sample.as_str())
                ])
                .unwrap_or_default()
            );
            json!({"language": language, "error_type": error_type, "message": message, "count": r.get::<_, i64>(4),
                   "last": r.get::<_, String>(5), "ai": r.get::<_, Option<String>>(6), "up": r.get::<_, i64>(7),
                   "down": r.get::<_, i64>(8), "create": create})
        })
        .collect();
    let mut m = base(&c, s, "unmatched", tr(s, "admin.nav.unmatched")).await?;
    m.insert("rows".into(), json!(rows));
    m.insert("pages".into(), pages);
    Ok(page(state, s, "unmatched", m))
}
