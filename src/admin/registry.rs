//! Registry pages: the common-error entries (list, create, edit, delete — validated on save and
//! tried against the entry's own sample), the tester, and the backlog of unmatched errors.

use super::page::{choices, form_status, layout, not_found, pager, render, render_status, tr, Choice, Pager, PER_PAGE};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use crate::registry::catalogue::{message_of, Entry, EntryTexts};
use crate::registry::matcher::sample_check;
use crate::registry::{Locale, Matcher, Problem, RegistryError};
use crate::store::admins::{self, Session};
use crate::store::catalogue;
use serde::Serialize;
use serde_json::json;

const LANGUAGES: [&str; 8] = ["*", "python", "javascript", "c", "cpp", "java", "go", "rust"];

#[derive(Serialize)]
struct ListPage {
    entries: Vec<super::efficacy::RegistryLine>,
    /// Sorted by fix rate, lowest first (`?sort=fix_rate`).
    by_fix_rate: bool,
    sort_link: String,
    languages: Vec<Choice>,
    q: String,
    pages: Pager,
}

pub async fn list(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    let q = req.q("q").trim().chars().take(100).collect::<String>();
    let language = req.q("language").to_string();
    let like = crate::store::user_list::like_escape(&q);
    let total = catalogue::count(&c, &like, &language).await?;
    let (offset, pages) = pager(req, total, "/admin/registry");
    let locale = if s.admin.locale == "en" { "en" } else { "ru" };
    let by_fix_rate = req.q("sort") == "fix_rate";
    let entries = if by_fix_rate {
        // Every matching entry (a registry has hundreds, not millions), sorted, then the page.
        let all = catalogue::page(&c, &like, &language, locale, 0, total.max(1)).await?;
        let mut lines = super::efficacy::lines(&c, all).await?;
        super::efficacy::sort_by_fix_rate(&mut lines);
        lines
            .into_iter()
            .skip(offset as usize)
            .take(PER_PAGE as usize)
            .collect()
    } else {
        super::efficacy::lines(
            &c,
            catalogue::page(&c, &like, &language, locale, offset, PER_PAGE).await?,
        )
        .await?
    };
    let sort_link = super::page::url_with(
        req,
        "/admin/registry",
        &[("sort", if by_fix_rate { "" } else { "fix_rate" })],
    );
    let languages = choices(catalogue::languages(&c).await?, &language);
    let l = layout(&c, s, "registry", tr(s, "admin.nav.registry")).await?;
    Ok(render(
        state,
        s,
        "registry",
        &l,
        &ListPage {
            entries,
            by_fix_rate,
            sort_link,
            languages,
            q,
            pages,
        },
    ))
}

async fn find(state: &AdminState, slug: &str) -> Result<Option<Entry>, crate::store::StoreError> {
    let all = crate::registry::store::load(&state.store.client().await?).await?;
    Ok(all.into_iter().find(|e| e.slug == slug))
}

#[derive(Serialize)]
struct FormPage<'a> {
    e: &'a Entry,
    /// Editing: the entry's fix rate and its variants' (`admin::efficacy`).
    efficacy: Option<super::efficacy::EntrySection>,
    editing: Option<&'a str>,
    action: String,
    languages: [&'static str; 8],
    errors: Vec<String>,
}

async fn form(state: &AdminState, s: &Session, entry: &Entry, editing: Option<&str>, errors: Vec<String>) -> R {
    let c = state.store.client().await?;
    let title = match editing {
        Some(slug) => format!("{} · {slug}", tr(s, "admin.nav.registry")),
        None => tr(s, "admin.registry.new"),
    };
    let l = layout(&c, s, "registry", title).await?;
    let status = form_status(&errors);
    let efficacy = match editing {
        Some(slug) => match find(state, slug).await? {
            Some(stored) => Some(super::efficacy::entry_section(&c, &stored).await?),
            None => None,
        },
        None => None,
    };
    let data = FormPage {
        e: entry,
        efficacy,
        editing,
        action: editing
            .map(|sl| format!("/admin/registry/{sl}"))
            .unwrap_or_else(|| "/admin/registry/new".into()),
        languages: LANGUAGES,
        errors,
    };
    Ok(render_status(state, s, "registry_form", &l, &data, status))
}

pub async fn new_form(state: &AdminState, req: &Req, s: &Session) -> R {
    // Prefilled from the unmatched backlog ("create an entry from this"): the sample is the
    // message as the matcher sees it (no `Type:` prefix, even from an older link), and the
    // pattern matches every message of its kind (`analyzer::kind`), numbers and names free.
    let error_type = req.q("error_type").trim();
    let sample = message_of(error_type, req.q("sample_error")).to_string();
    let e = Entry {
        slug: String::new(),
        language: req.q("language").to_string(),
        error_type: error_type.to_string(),
        pattern: if sample.is_empty() {
            String::new()
        } else {
            crate::analyzer::kind::pattern(&sample)
        },
        line_pattern: None,
        priority: 50,
        enabled: true,
        sample_error: sample,
        sample_program: None,
        sample_stdin: None,
        sample_line: None,
        ru: EntryTexts::default(),
        en: EntryTexts::default(),
        variant: None,
    };
    form(state, s, &e, None, vec![]).await
}

pub async fn edit_form(state: &AdminState, s: &Session, slug: &str) -> R {
    match find(state, slug).await? {
        Some(e) => form(state, s, &e, Some(slug), vec![]).await,
        None => Ok(not_found(state, s)),
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
        variant: None,
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
            None => return Ok(not_found(state, s)),
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
    match entry.validate() {
        Err(RegistryError::Invalid { problem, .. }) => errors.push(problem_text(s, &problem)),
        Err(e) => errors.push(e.to_string()),
        Ok(()) if errors.is_empty() => {
            // The same test the live matcher will make: the whole registry, this entry in it,
            // the sample read as a real error is read.
            let registry = crate::registry::store::load(&state.store.client().await?).await?;
            match sample_check(registry, &entry) {
                Ok(()) => {}
                Err(None) => errors.push(tr(s, "admin.registry.err_live")),
                Err(Some(other)) => errors.push(crate::i18n::tf(
                    locale(s),
                    "admin.registry.err_shadowed",
                    &[("slug", &other)],
                )),
            }
        }
        Ok(()) => {}
    }
    if !errors.is_empty() {
        return form(state, s, &entry, editing, errors).await;
    }
    let mut c = state.store.client().await?;
    if let Err(e) = crate::registry::store::save_admin_edit(&mut c, &entry).await {
        return form(state, s, &entry, editing, vec![e.to_string()]).await;
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

fn locale(s: &Session) -> Locale {
    if s.admin.locale == "en" {
        Locale::En
    } else {
        Locale::Ru
    }
}

/// A validation problem in the admin's language.
fn problem_text(s: &Session, p: &Problem) -> String {
    let l = locale(s);
    let t = |key: &str| tr(s, key);
    match p {
        Problem::Slug => t("admin.registry.err_slug"),
        Problem::Required => t("admin.registry.err_required"),
        Problem::Pattern(_) => t("admin.registry.err_pattern"),
        Problem::LinePattern(_) => t("admin.registry.err_line_pattern"),
        Problem::SampleUnmatched { sample, .. } => {
            crate::i18n::tf(l, "admin.registry.err_sample", &[("sample", sample)])
        }
        Problem::Title => t("admin.registry.err_title"),
        Problem::Placeholder { locale, name } => crate::i18n::tf(
            l,
            "admin.registry.err_placeholder",
            &[("locale", locale), ("name", &format!("{{{name}}}"))],
        ),
        Problem::Duplicate => t("admin.registry.err_duplicate"),
    }
}

pub async fn delete(state: &AdminState, req: &Req, s: &Session, slug: &str) -> R {
    let Some(before) = find(state, slug).await? else {
        return Ok(not_found(state, s));
    };
    let c = state.store.client().await?;
    catalogue::delete(&c, slug).await?;
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

#[derive(Serialize)]
struct Texts {
    title: String,
    what: String,
    why: String,
    hint: String,
}

impl Texts {
    fn of(t: &EntryTexts) -> Texts {
        Texts {
            title: t.title.clone(),
            what: t.what.clone(),
            why: t.why.clone(),
            hint: t.hint.clone(),
        }
    }
}

#[derive(Serialize)]
struct Match {
    slug: String,
    captures: serde_json::Value,
    ru: Texts,
    en: Texts,
}

#[derive(Serialize)]
struct TesterResult {
    extracted: bool,
    error_type: String,
    message: String,
    line: Option<u32>,
    #[serde(rename = "match")]
    found: Option<Match>,
}

#[derive(Serialize)]
struct TesterPage<'a> {
    languages: &'a [&'static str],
    language: &'a str,
    error: String,
    result: Option<TesterResult>,
}

/// The tester: paste an error, see which entry matches and the texts a student would get.
pub async fn tester(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.store.client().await?;
    let language = match req.f("language") {
        "" => "python",
        l => l,
    };
    let error_text = req.f("error").replace("\r\n", "\n");
    let mut result = None;
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
        result = Some(match &extracted {
            None => TesterResult {
                extracted: false,
                error_type: String::new(),
                message: String::new(),
                line: None,
                found: None,
            },
            Some(e) => {
                let found = matcher.find(language, &e.error_type, &e.message, e.source_line.as_deref());
                TesterResult {
                    extracted: true,
                    error_type: e.error_type.clone(),
                    message: e.message.clone(),
                    line: e.line,
                    found: found.map(|f| Match {
                        slug: f.entry.slug.clone(),
                        captures: json!(f.captures),
                        ru: Texts::of(&f.render(Locale::Ru)),
                        en: Texts::of(&f.render(Locale::En)),
                    }),
                }
            }
        });
    }
    let l = layout(&c, s, "registry", tr(s, "admin.registry.tester")).await?;
    let data = TesterPage {
        languages: &LANGUAGES[1..],
        language,
        error: error_text,
        result,
    };
    Ok(render(state, s, "tester", &l, &data))
}

#[derive(Serialize)]
struct UnmatchedLine {
    language: String,
    error_type: String,
    message: String,
    count: i64,
    variants: i64,
    many: bool,
    last: String,
    ai: Option<String>,
    up: i64,
    down: i64,
    create: String,
    /// `count × (1 − fix rate)`: the ranking (`store::efficacy::backlog`).
    held_back: i64,
    not_fixed: i64,
    fix_rate: String,
}

#[derive(Serialize)]
struct UnmatchedPage {
    rows: Vec<UnmatchedLine>,
    pages: Pager,
}

/// Errors nobody explained from the registry, those that held back the most students first
/// (how often it came × the share its next try did not fix), with the AI's answer and the
/// students' votes on it.
pub async fn unmatched(state: &AdminState, req: &Req, s: &Session) -> R {
    let c = state.reader.client().await?;
    let total = catalogue::unmatched_count(&c).await?;
    let (offset, pages) = pager(req, total, "/admin/unmatched");
    let rows = crate::store::efficacy::backlog(&c, offset, PER_PAGE)
        .await?
        .into_iter()
        .map(|u| {
            // The message alone: what the matcher will be given (never `Type: message`).
            let create = format!(
                "/admin/registry/new?{}",
                serde_urlencoded::to_string([
                    ("language", u.language.as_str()),
                    ("error_type", u.error_type.as_str()),
                    ("sample_error", u.message.as_str())
                ])
                .unwrap_or_default()
            );
            UnmatchedLine {
                language: u.language,
                error_type: u.error_type,
                message: u.message,
                count: u.count,
                many: u.variants > 1,
                variants: u.variants,
                last: u.last,
                ai: u.ai,
                up: u.up,
                down: u.down,
                create,
                held_back: u.held_back,
                not_fixed: u.not_fixed,
                fix_rate: u
                    .fix_rate
                    .map(|r| format!("{:.0} %", r * 100.0))
                    .unwrap_or_else(|| "—".into()),
            }
        })
        .collect();
    let l = layout(&c, s, "unmatched", tr(s, "admin.nav.unmatched")).await?;
    Ok(render(state, s, "unmatched", &l, &UnmatchedPage { rows, pages }))
}
