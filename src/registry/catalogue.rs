//! Registry entries and the catalogue files they come from.

use super::{Locale, RegistryError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The catalogue built into the binary, so `devmentor check` works with no database and from
/// any directory.
const BUILTIN: &[(&str, &str)] = &[
    (
        "errors-common.toml",
        include_str!("../../containers/errors-common.toml"),
    ),
    (
        "python/errors.toml",
        include_str!("../../containers/python/errors.toml"),
    ),
    (
        "python/errors.part2.toml",
        include_str!("../../containers/python/errors.part2.toml"),
    ),
    (
        "javascript/errors.toml",
        include_str!("../../containers/javascript/errors.toml"),
    ),
    ("c/errors.toml", include_str!("../../containers/c/errors.toml")),
    ("cpp/errors.toml", include_str!("../../containers/cpp/errors.toml")),
    ("java/errors.toml", include_str!("../../containers/java/errors.toml")),
    ("go/errors.toml", include_str!("../../containers/go/errors.toml")),
    ("rust/errors.toml", include_str!("../../containers/rust/errors.toml")),
    ("php/errors.toml", include_str!("../../containers/php/errors.toml")),
    ("ruby/errors.toml", include_str!("../../containers/ruby/errors.toml")),
    ("bash/errors.toml", include_str!("../../containers/bash/errors.toml")),
    (
        "typescript/errors.toml",
        include_str!("../../containers/typescript/errors.toml"),
    ),
    ("sql/errors.toml", include_str!("../../containers/sql/errors.toml")),
    (
        "pascal/errors.toml",
        include_str!("../../containers/pascal/errors.toml"),
    ),
    (
        "csharp/errors.toml",
        include_str!("../../containers/csharp/errors.toml"),
    ),
];

/// The texts of an entry in one locale. Empty fields fall back to English.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EntryTexts {
    pub title: String,
    pub what: String,
    pub why: String,
    pub hint: String,
    pub example_bad: String,
    pub example_good: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub slug: String,
    /// Filled from the file's folder when absent; `*` for sandbox verdicts of every language.
    #[serde(default)]
    pub language: String,
    pub error_type: String,
    pub pattern: String,
    #[serde(default)]
    pub line_pattern: Option<String>,
    #[serde(default = "default_priority")]
    pub priority: i32,
    #[serde(default = "default_true")]
    pub enabled: bool,
    pub sample_error: String,
    #[serde(default)]
    pub sample_program: Option<String>,
    #[serde(default)]
    pub sample_stdin: Option<String>,
    #[serde(default)]
    pub sample_line: Option<u32>,
    #[serde(default)]
    pub ru: EntryTexts,
    #[serde(default)]
    pub en: EntryTexts,
    /// A second text being tried against this one (PostgreSQL only, never in the catalogue).
    #[serde(skip)]
    pub variant: Option<EntryVariant>,
}

/// An entry's second text (B) and the round of the experiment (see `store::efficacy`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EntryVariant {
    pub round: i32,
    pub ru: EntryTexts,
    pub en: EntryTexts,
}

impl EntryVariant {
    /// The entry with the variant's texts; a field the variant leaves empty keeps the entry's.
    pub fn apply(&self, entry: &Entry) -> Entry {
        let merge = |own: &EntryTexts, v: &EntryTexts| {
            let f = |a: &String, b: &String| if b.trim().is_empty() { a.clone() } else { b.clone() };
            EntryTexts {
                title: f(&own.title, &v.title),
                what: f(&own.what, &v.what),
                why: f(&own.why, &v.why),
                hint: f(&own.hint, &v.hint),
                example_bad: f(&own.example_bad, &v.example_bad),
                example_good: f(&own.example_good, &v.example_good),
            }
        };
        Entry {
            ru: merge(&entry.ru, &self.ru),
            en: merge(&entry.en, &self.en),
            variant: None,
            ..entry.clone()
        }
    }
}

fn default_priority() -> i32 {
    50
}

fn default_true() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    entry: Vec<Entry>,
}

impl Entry {
    pub fn texts(&self, locale: Locale) -> &EntryTexts {
        match locale {
            Locale::Ru => &self.ru,
            Locale::En => &self.en,
        }
    }

    /// Checks what an admin or a catalogue author could get wrong: the regexes compile, the
    /// sample matches, every `{capture}` used in a text exists. The reason names the field.
    pub fn validate(&self) -> Result<(), RegistryError> {
        let invalid = |message: String| RegistryError::Invalid {
            slug: self.slug.clone(),
            message,
        };
        if self.slug.is_empty()
            || !self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid("slug must be lowercase letters, digits and dashes".into()));
        }
        if self.language.is_empty() || self.error_type.trim().is_empty() {
            return Err(invalid("language and error_type are required".into()));
        }
        let re = regex::RegexBuilder::new(&self.pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| invalid(format!("pattern does not compile: {e}")))?;
        if let Some(lp) = self.line_pattern.as_deref().filter(|p| !p.is_empty()) {
            regex::RegexBuilder::new(lp)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| invalid(format!("line_pattern does not compile: {e}")))?;
        }
        if !re.is_match(&self.sample_error) {
            return Err(invalid(format!(
                "pattern {:?} does not match its sample error {:?}",
                self.pattern, self.sample_error
            )));
        }
        if self.en.title.trim().is_empty() && self.ru.title.trim().is_empty() {
            return Err(invalid("a title is required in at least one locale".into()));
        }
        let names: Vec<&str> = re.capture_names().flatten().collect();
        for (locale, t) in [("ru", &self.ru), ("en", &self.en)] {
            for text in [&t.title, &t.what, &t.why, &t.hint] {
                for placeholder in placeholders(text) {
                    if !names.contains(&placeholder) {
                        return Err(invalid(format!(
                            "{locale} text uses {{{placeholder}}}, which the pattern does not capture"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `{name}` placeholders in a text.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if after[..end].chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && end > 0 => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// Parses one catalogue file; `language` is its folder's name (`*` for the common file).
pub fn parse(text: &str, origin: &str, language: &str) -> Result<Vec<Entry>, RegistryError> {
    let file: CatalogueFile = toml::from_str(text).map_err(|e| RegistryError::Catalogue {
        path: origin.into(),
        message: e.to_string(),
    })?;
    let mut entries = file.entry;
    for e in &mut entries {
        if e.language.is_empty() {
            e.language = language.to_string();
        }
        for t in [&mut e.ru, &mut e.en] {
            t.example_bad = t.example_bad.trim_matches('\n').to_string();
            t.example_good = t.example_good.trim_matches('\n').to_string();
        }
        e.validate()?;
    }
    Ok(entries)
}

/// Every entry of the built-in catalogue.
pub fn builtin() -> Result<Vec<Entry>, RegistryError> {
    let mut all = Vec::new();
    for (name, text) in BUILTIN {
        let language = if name.starts_with("errors-common") {
            "*"
        } else {
            name.split('/').next().unwrap_or("*")
        };
        all.extend(parse(text, &format!("(built-in) {name}"), language)?);
    }
    check_unique(&all)?;
    Ok(all)
}

/// Loads a catalogue from disk: a folder laid out like `containers/`, or a single file.
pub fn load_path(path: &Path) -> Result<Vec<Entry>, RegistryError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| RegistryError::Catalogue {
            path: p.display().to_string(),
            message: e.to_string(),
        })
    };
    let mut all = Vec::new();
    if path.is_file() {
        let language = language_of(path);
        all.extend(parse(&read(path)?, &path.display().to_string(), &language)?);
    } else {
        let mut files: Vec<std::path::PathBuf> = Vec::new();
        let common = path.join("errors-common.toml");
        if common.is_file() {
            files.push(common);
        }
        let mut dirs: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| RegistryError::Catalogue {
                path: path.display().to_string(),
                message: e.to_string(),
            })?
            .flatten()
            .map(|d| d.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let mut names: Vec<_> = std::fs::read_dir(&dir)
                .into_iter()
                .flatten()
                .flatten()
                .map(|d| d.path())
                .filter(|p| {
                    let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    n.starts_with("errors") && n.ends_with(".toml")
                })
                .collect();
            names.sort();
            files.extend(names);
        }
        for f in files {
            let language = language_of(&f);
            all.extend(parse(&read(&f)?, &f.display().to_string(), &language)?);
        }
    }
    check_unique(&all)?;
    Ok(all)
}

fn language_of(path: &Path) -> String {
    if path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("errors-common"))
    {
        return "*".into();
    }
    path.parent()
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("*")
        .to_string()
}

fn check_unique(entries: &[Entry]) -> Result<(), RegistryError> {
    let mut seen = BTreeMap::new();
    for e in entries {
        if seen.insert(e.slug.as_str(), ()).is_some() {
            return Err(RegistryError::Invalid {
                slug: e.slug.clone(),
                message: "duplicate slug".into(),
            });
        }
    }
    Ok(())
}
