//! Registry entries and the catalogue files they come from.

use super::{Locale, Problem, RegistryError};
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

    /// The sample as the live matcher would see it: the message, without a `Type:` prefix
    /// (see [`message_of`]).
    pub fn sample_message(&self) -> &str {
        message_of(&self.error_type, &self.sample_error)
    }

    /// Checks what an admin or a catalogue author could get wrong: the regexes compile, the
    /// sample matches, every `{capture}` used in a text exists. The reason names the field.
    pub fn validate(&self) -> Result<(), RegistryError> {
        let invalid = |problem: Problem| RegistryError::Invalid {
            slug: self.slug.clone(),
            problem,
        };
        if self.slug.is_empty()
            || !self
                .slug
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(Problem::Slug));
        }
        if self.language.is_empty() || self.error_type.trim().is_empty() {
            return Err(invalid(Problem::Required));
        }
        let re = regex::RegexBuilder::new(&self.pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| invalid(Problem::Pattern(e.to_string())))?;
        if let Some(lp) = self.line_pattern.as_deref().filter(|p| !p.is_empty()) {
            regex::RegexBuilder::new(lp)
                .size_limit(1 << 20)
                .build()
                .map_err(|e| invalid(Problem::LinePattern(e.to_string())))?;
        }
        if !re.is_match(self.sample_message()) {
            return Err(invalid(Problem::SampleUnmatched {
                pattern: self.pattern.clone(),
                sample: self.sample_message().to_string(),
            }));
        }
        if self.en.title.trim().is_empty() && self.ru.title.trim().is_empty() {
            return Err(invalid(Problem::Title));
        }
        let names: Vec<&str> = re.capture_names().flatten().collect();
        for (locale, t) in [("ru", &self.ru), ("en", &self.en)] {
            for text in [&t.title, &t.what, &t.why, &t.hint] {
                for placeholder in placeholders(text) {
                    if !names.contains(&placeholder) {
                        return Err(invalid(Problem::Placeholder {
                            locale: locale.into(),
                            name: placeholder.into(),
                        }));
                    }
                }
            }
        }
        Ok(())
    }
}

/// The message the matcher sees in an error line someone typed or pasted: the extractors hand
/// the matcher `Expecting value…` out of `json.decoder.JSONDecodeError: Expecting value…`, so
/// a sample written with its type (`JSONDecodeError: …`, with or without the module path) is
/// read without it. Any other text is the message as it stands.
pub fn message_of<'a>(error_type: &str, text: &'a str) -> &'a str {
    let t = text.trim();
    let Some((head, rest)) = t.split_once(':') else {
        return t;
    };
    let head = head.trim();
    let named = !error_type.is_empty()
        && (head == error_type || head.strip_suffix(error_type).is_some_and(|m| m.ends_with('.')));
    if named {
        rest.trim()
    } else {
        t
    }
}

/// A piece of an entry's text: literal text, a `{name}` placeholder, or a number placeholder
/// with the word forms that agree with it, `{length:элемент|элемента|элементов}` (Russian:
/// one|few|many, English: one|other; CLDR's categories in that order).
#[derive(Debug, Clone, PartialEq)]
pub enum Piece<'a> {
    Text(&'a str),
    Value(&'a str),
    Plural(&'a str, Vec<&'a str>),
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A text split into its pieces; braces that are not placeholders stay text.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut literal_from = 0;
    let mut i = 0;
    while let Some(offset) = text[i..].find('{') {
        let open = i + offset;
        let after = &text[open + 1..];
        let found = after
            .find(['}', '{'])
            .filter(|&end| after.as_bytes()[end] == b'}')
            .and_then(|end| {
                let inner = &after[..end];
                let piece = match inner.split_once(':') {
                    None if is_name(inner) => Piece::Value(inner),
                    Some((name, forms)) if is_name(name) && forms.contains('|') => {
                        Piece::Plural(name, forms.split('|').collect())
                    }
                    _ => return None,
                };
                Some((piece, open + 1 + end + 1))
            });
        match found {
            Some((piece, close)) => {
                if open > literal_from {
                    out.push(Piece::Text(&text[literal_from..open]));
                }
                out.push(piece);
                literal_from = close;
                i = close;
            }
            None => i = open + 1,
        }
    }
    if literal_from < text.len() {
        out.push(Piece::Text(&text[literal_from..]));
    }
    out
}

/// `{name}` placeholders in a text (plain and plural ones).
pub fn placeholders(text: &str) -> Vec<&str> {
    pieces(text)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Value(n) | Piece::Plural(n, _) => Some(n),
            Piece::Text(_) => None,
        })
        .collect()
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
                problem: Problem::Duplicate,
            });
        }
    }
    Ok(())
}
