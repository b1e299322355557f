//! The common-error registry: entries (from the catalogue files or PostgreSQL), the in-memory
//! matcher, and the rendering of an entry's texts for a student.
//!
//! The catalogue ships with the product (`containers/<lang>/errors*.toml`,
//! `containers/errors-common.toml`, also built into the binary); PostgreSQL holds the live
//! registry that admins edit (see `store`).

pub mod catalogue;
pub mod listen;
pub mod matcher;
pub mod store;

pub use catalogue::{Entry, EntryTexts};
pub use matcher::{Match, Matcher};

/// Interface languages of explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    Ru,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::Ru => "ru",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().to_lowercase().as_str() {
            "ru" | "russian" | "рус" => Some(Locale::Ru),
            "en" | "english" => Some(Locale::En),
            _ => None,
        }
    }
}

/// What is wrong with an entry. The text is for logs and the command line; the admin panel
/// says each in the admin's language, by its variant.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("slug must be lowercase letters, digits and dashes")]
    Slug,
    #[error("language and error_type are required")]
    Required,
    #[error("pattern does not compile: {0}")]
    Pattern(String),
    #[error("line_pattern does not compile: {0}")]
    LinePattern(String),
    #[error("pattern {pattern:?} does not match its sample error {sample:?}")]
    SampleUnmatched { pattern: String, sample: String },
    #[error("a title is required in at least one locale")]
    Title,
    #[error("{locale} text uses {{{name}}}, which the pattern does not capture")]
    Placeholder { locale: String, name: String },
    #[error("duplicate slug")]
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("entry {slug}: {problem}")]
    Invalid { slug: String, problem: Problem },
    #[error("catalogue {path}: {message}")]
    Catalogue { path: String, message: String },
    #[error("database: {0}")]
    Database(#[from] crate::store::StoreError),
}
