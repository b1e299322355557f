//! Does the mentoring work, in the panel: the fix rate beside each registry entry (and the
//! list sorted by it), the entry's figures with its two text variants side by side (set a
//! variant, promote the better one — both audited), and the analytics page's section: fix
//! rate by explanation source and the entries to rewrite first. The figures are
//! `store::efficacy`'s.

use super::charts::ranked;
use super::page::{not_found, tr};
use super::request::{redirect, Req, R};
use super::state::AdminState;
use crate::registry::catalogue::{EntryTexts, EntryVariant};
use crate::store::admins::{self, Session};
use crate::store::catalogue::EntryLine;
use crate::store::efficacy::{self, Figures};
use crate::store::{Client, StoreError};
use serde::Serialize;
use serde_json::json;

/// Entries with fewer decided explanations are not ranked among the ones to rewrite.
const MIN_DECIDED: i64 = 5;

/// One set of figures as the panel prints it.
#[derive(Debug, Clone, Serialize, Default)]
pub(super) struct Shown {
    pub key: String,
    pub n: i64,
    pub explained: i64,
    pub pending: i64,
    pub fixed: i64,
    /// "67 %", or "—" while nothing is decided.
    pub rate: String,
    /// "21–94 %".
    pub ci: String,
    pub attempts: String,
    pub seconds: String,
    pub up: i64,
    pub down: i64,
    pub deleted: bool,
}

pub(super) fn shown(f: &Figures) -> Shown {
    let pct = |x: f64| format!("{:.0}", x * 100.0);
    Shown {
        key: f.key.clone(),
        n: f.decided(),
        explained: f.explained,
        pending: f.pending,
        fixed: f.fixed,
        rate: f
            .fix_rate
            .map(|r| format!("{} %", pct(r)))
            .unwrap_or_else(|| "—".into()),
        ci: if f.decided() > 0 {
            format!("{}–{} %", pct(f.ci95.0), pct(f.ci95.1))
        } else {
            "—".into()
        },
        attempts: f
            .median_attempts
            .map(|a| format!("{a:.0}"))
            .unwrap_or_else(|| "—".into()),
        seconds: f
            .median_seconds_to_fix
            .map(|s| format!("{s:.0} s"))
            .unwrap_or_else(|| "—".into()),
        up: f.up,
        down: f.down,
        deleted: f.deleted,
    }
}

/// A registry list line with its fix rate.
#[derive(Serialize)]
pub(super) struct RegistryLine {
    #[serde(flatten)]
    pub entry: EntryLine,
    pub efficacy: Shown,
    #[serde(skip)]
    rate: Option<f64>,
}

/// The list's lines with each entry's fix rate and n.
pub(super) async fn lines(c: &Client, entries: Vec<EntryLine>) -> Result<Vec<RegistryLine>, StoreError> {
    let rates = efficacy::entry_rates(c).await?;
    Ok(entries
        .into_iter()
        .map(|entry| {
            let f = rates.get(&entry.slug).cloned().unwrap_or_else(|| Figures {
                key: entry.slug.clone(),
                ..Default::default()
            });
            RegistryLine {
                efficacy: shown(&f),
                rate: f.fix_rate,
                entry,
            }
        })
        .collect())
}

/// Lowest fix rate first (the entries to rewrite), entries with nothing decided last; more
/// decided explanations first among equal rates.
pub(super) fn sort_by_fix_rate(lines: &mut [RegistryLine]) {
    lines.sort_by(|a, b| match (a.rate, b.rate) {
        (Some(x), Some(y)) => x
            .partial_cmp(&y)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.efficacy.n.cmp(&a.efficacy.n)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.entry.slug.cmp(&b.entry.slug),
    });
}

/// The entry page's section: its figures, and the variants' side by side.
#[derive(Serialize, Default)]
pub(super) struct EntrySection {
    pub own: Shown,
    pub split: bool,
    pub a: Shown,
    pub b: Shown,
    /// The variant's texts, for its form (empty when there is none).
    pub variant: EntryVariant,
}

pub(super) async fn entry_section(c: &Client, entry: &crate::registry::Entry) -> Result<EntrySection, StoreError> {
    let (own, split) = efficacy::entry_figures(c, &entry.slug).await?;
    let own = own.unwrap_or_else(|| Figures {
        key: entry.slug.clone(),
        ..Default::default()
    });
    let mut section = EntrySection {
        own: shown(&own),
        variant: entry.variant.clone().unwrap_or_default(),
        ..Default::default()
    };
    if let Some((a, b)) = split {
        section.split = true;
        section.a = shown(&a);
        section.b = shown(&b);
    }
    Ok(section)
}

fn variant_from(req: &Req) -> EntryVariant {
    let texts = |l: &str| EntryTexts {
        title: req.f(&format!("v_{l}_title")).trim().to_string(),
        what: req.f(&format!("v_{l}_what")).replace("\r\n", "\n").trim().to_string(),
        why: req.f(&format!("v_{l}_why")).replace("\r\n", "\n").trim().to_string(),
        hint: req.f(&format!("v_{l}_hint")).replace("\r\n", "\n").trim().to_string(),
        example_bad: String::new(),
        example_good: String::new(),
    };
    EntryVariant {
        round: 0,
        ru: texts("ru"),
        en: texts("en"),
    }
}

/// `POST /admin/registry/{slug}/variant`: sets the second text (a variant with every field
/// empty removes it). A new split round starts; the entry's history stays as it was.
pub(super) async fn save_variant(state: &AdminState, req: &Req, s: &Session, slug: &str) -> R {
    let v = variant_from(req);
    let empty = [&v.ru, &v.en]
        .iter()
        .all(|t| t.title.is_empty() && t.what.is_empty() && t.why.is_empty() && t.hint.is_empty());
    let c = state.store.client().await?;
    let Some(before) = efficacy::set_variant(&c, slug, (!empty).then_some(&v)).await? else {
        return Ok(not_found(state, s));
    };
    let action = if empty {
        "registry.variant_remove"
    } else {
        "registry.variant_set"
    };
    admins::audit(
        &c,
        &s.admin,
        action,
        "registry_entry",
        slug,
        before,
        (!empty).then(|| json!(v)),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/registry/{slug}#efficacy")))
}

/// `POST /admin/registry/{slug}/promote`: the second text becomes the entry's text.
pub(super) async fn promote(state: &AdminState, req: &Req, s: &Session, slug: &str) -> R {
    let mut c = state.store.client().await?;
    let Some((before, after)) = efficacy::promote_variant(&mut c, slug).await? else {
        return Ok(not_found(state, s));
    };
    admins::audit(
        &c,
        &s.admin,
        "registry.variant_promote",
        "registry_entry",
        slug,
        Some(json!({"texts": {"ru": before.ru, "en": before.en}, "variant": before.variant})),
        Some(json!({"texts": {"ru": after.ru, "en": after.en}})),
        &req.ip,
    )
    .await?;
    Ok(redirect(&format!("/admin/registry/{slug}#efficacy")))
}

/// The analytics page's section.
#[derive(Serialize)]
pub(super) struct AnalyticsSection {
    pub sources_chart: String,
    pub sources: Vec<Shown>,
    pub languages: Vec<Shown>,
    pub lowest: Vec<Shown>,
    /// Entries deleted after they explained errors: their history, under the slug they had.
    pub deleted: Vec<Shown>,
    pub min_decided: i64,
}

pub(super) async fn analytics_section(c: &Client, s: &Session) -> Result<AnalyticsSection, StoreError> {
    let filter = efficacy::Filter::default();
    let sources = efficacy::figures(c, "source", &filter).await?;
    let languages = efficacy::figures(c, "language", &filter).await?;
    let (lowest, deleted) = efficacy::entry_lists(c, MIN_DECIDED, 10, 20).await?;
    let chart: Vec<(String, f64)> = sources
        .iter()
        .map(|f| {
            (
                format!(
                    "{} (n={})",
                    tr(s, &format!("admin.efficacy.source_{}", f.key)),
                    f.decided()
                ),
                f.fix_rate.unwrap_or(0.0) * 100.0,
            )
        })
        .collect();
    Ok(AnalyticsSection {
        sources_chart: ranked(&chart),
        sources: sources.iter().map(shown).collect(),
        languages: languages.iter().map(shown).collect(),
        lowest: lowest.iter().map(shown).collect(),
        deleted: deleted.iter().map(shown).collect(),
        min_decided: MIN_DECIDED,
    })
}
