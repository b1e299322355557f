//! Handlebars templates of the panel (`templates/admin/*.hbs`, built into the binary), with a
//! `t` helper for the admin's language and one stylesheet. Strict mode: a variable a template
//! names and the page's data lacks is a render error (a 500 and a log line), never a blank.

use handlebars::{Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason};
use serde_json::Value;

pub const STYLE: &str = include_str!("../../templates/admin/style.css");

const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../templates/admin/layout.hbs")),
    ("pager", include_str!("../../templates/admin/pager.hbs")),
    ("login", include_str!("../../templates/admin/login.hbs")),
    ("dashboard", include_str!("../../templates/admin/dashboard.hbs")),
    ("users", include_str!("../../templates/admin/users.hbs")),
    ("user", include_str!("../../templates/admin/user.hbs")),
    ("access", include_str!("../../templates/admin/access.hbs")),
    ("checks", include_str!("../../templates/admin/checks.hbs")),
    ("check", include_str!("../../templates/admin/check.hbs")),
    ("settings", include_str!("../../templates/admin/settings.hbs")),
    ("faq", include_str!("../../templates/admin/faq.hbs")),
    ("faq_form", include_str!("../../templates/admin/faq_form.hbs")),
    ("audit", include_str!("../../templates/admin/audit.hbs")),
    ("audit_rows", include_str!("../../templates/admin/audit_rows.hbs")),
    ("password", include_str!("../../templates/admin/password.hbs")),
    ("registry", include_str!("../../templates/admin/registry.hbs")),
    ("registry_form", include_str!("../../templates/admin/registry_form.hbs")),
    ("tester", include_str!("../../templates/admin/tester.hbs")),
    ("unmatched", include_str!("../../templates/admin/unmatched.hbs")),
    ("broadcasts", include_str!("../../templates/admin/broadcasts.hbs")),
    ("broadcast_new", include_str!("../../templates/admin/broadcast_new.hbs")),
    ("broadcast", include_str!("../../templates/admin/broadcast.hbs")),
    ("admins", include_str!("../../templates/admin/admins.hbs")),
    ("tokens", include_str!("../../templates/admin/tokens.hbs")),
    ("analytics", include_str!("../../templates/admin/analytics.hbs")),
    ("tasks", include_str!("../../templates/admin/tasks.hbs")),
    ("task", include_str!("../../templates/admin/tasks_task.hbs")),
    (
        "submissions",
        include_str!("../../templates/admin/tasks_submissions.hbs"),
    ),
    ("submission", include_str!("../../templates/admin/tasks_submission.hbs")),
    ("progress", include_str!("../../templates/admin/tasks_progress.hbs")),
    ("error", include_str!("../../templates/admin/error.hbs")),
    (
        "efficacy_entry",
        include_str!("../../templates/admin/efficacy_entry.hbs"),
    ),
    (
        "efficacy_analytics",
        include_str!("../../templates/admin/efficacy_analytics.hbs"),
    ),
];

pub struct Templates {
    hb: Handlebars<'static>,
}

/// `{{t "admin.key"}}`: the string in the page's locale (`locale` at the root of the data).
fn t_helper(h: &Helper, _: &Handlebars, ctx: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let key = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("t", 0))?;
    let locale = match ctx.data().get("locale").and_then(|l| l.as_str()) {
        Some("en") => crate::registry::Locale::En,
        _ => crate::registry::Locale::Ru,
    };
    let text = crate::i18n::t(locale, key);
    out.write(&handlebars::html_escape(&text))?;
    Ok(())
}

/// `{{code "verdict" value}}`: a stored code (`runtime_error`, `registry`, `draft`,
/// `admin.login` …) in the page's language (`admin.code.<group>.<value>`); a code without a
/// translation shows as it is, so a new one is never a blank.
fn code_helper(h: &Helper, _: &Handlebars, ctx: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let group = h
        .param(0)
        .and_then(|p| p.value().as_str())
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("code", 0))?;
    let value = match h.param(1).map(|p| p.value()) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    if value.is_empty() {
        return Ok(());
    }
    out.write(&handlebars::html_escape(&code_text(ctx, group, &value)))?;
    Ok(())
}

fn locale_in(ctx: &Context) -> crate::registry::Locale {
    match ctx.data().get("locale").and_then(|l| l.as_str()) {
        Some("en") => crate::registry::Locale::En,
        _ => crate::registry::Locale::Ru,
    }
}

/// The translation of a code, or the code itself.
fn code_text(ctx: &Context, group: &str, value: &str) -> String {
    let key = format!("admin.code.{group}.{value}");
    let text = crate::i18n::t(locale_in(ctx), &key);
    if text == key {
        value.to_string()
    } else {
        text
    }
}

/// `{{#if (eq a b)}}`.
fn eq_helper(h: &Helper, _: &Handlebars, _: &Context, _: &mut RenderContext, out: &mut dyn Output) -> HelperResult {
    let a = h.param(0).map(|p| p.value().clone()).unwrap_or(Value::Null);
    let b = h.param(1).map(|p| p.value().clone()).unwrap_or(Value::Null);
    // Numbers and strings compare by their text (`(eq page "3")`).
    let text = |v: &Value| v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
    let same = a == b || text(&a) == text(&b);
    if same {
        out.write("true")?;
    }
    Ok(())
}

impl Templates {
    pub fn new() -> Templates {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        for (name, text) in TEMPLATES {
            // The templates are checked by a unit test; a broken one renders as an error page.
            if let Err(e) = hb.register_template_string(name, *text) {
                tracing::error!(template = name, error = %e, "admin template does not compile");
            }
        }
        hb.register_helper("t", Box::new(t_helper));
        hb.register_helper("eq", Box::new(eq_helper));
        hb.register_helper("code", Box::new(code_helper));
        Templates { hb }
    }

    /// Renders `name` with `data` (plus `locale`); the error says which template and variable.
    pub fn page<T: serde::Serialize>(&self, name: &str, locale: &str, data: &T) -> Result<String, String> {
        let mut data = serde_json::to_value(data).map_err(|e| format!("{name}: {e}"))?;
        if let Some(m) = data.as_object_mut() {
            m.insert("locale".into(), Value::String(locale.to_string()));
        }
        self.hb.render(name, &data).map_err(|e| {
            tracing::error!(template = name, error = %e, "admin template failed");
            format!("{name}: {e}")
        })
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles_and_escapes() {
        let mut hb = Handlebars::new();
        for (name, text) in TEMPLATES {
            hb.register_template_string(name, *text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let t = Templates::new();
        let layout = serde_json::json!({"me": {"username": "a", "superuser": false}, "csrf_token": "t",
            "nav": "", "title": "x", "pending": 0, "flash": null, "flash_kind": ""});
        let mut data = layout.clone();
        data["key"] = "admin.not_found".into();
        data["back"] = "/admin/<x>".into();
        let html = t.page("error", "en", &data).unwrap();
        assert!(html.contains("/admin/&lt;x&gt;"));
        assert!(html.contains("<nav"), "an error page keeps the menu");
        let mut data = layout;
        data["key"] = "admin.not_found".into();
        assert!(t.page("error", "en", &data).is_err(), "strict: `back` is missing");
    }
}
