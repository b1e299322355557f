//! The analyzer: turns a failed run into an explanation a beginner can use.
//!
//! Extract the error (`extract`), look it up in the registry (in memory, reloadable without a
//! restart), and only when nothing matches ask the LLM (cached). Every explanation given, and
//! every error nobody could explain, is recorded for the admins' backlog when a database is
//! attached.

pub mod extract;
pub mod kind;
pub mod more;

use crate::ai::AiClient;
use crate::i18n;
use crate::registry::store::{record_event, ExplanationEvent};
use crate::registry::{Entry, Locale, Matcher};
use crate::sandbox::Verdict;
use crate::store::Store;
use extract::ExtractedError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// What the student is told about a failure, in the JSON shape of `devmentor check --json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Explanation {
    /// `registry`, `ai`, `cache`, or `none` when nobody could explain the error.
    pub source: String,
    pub slug: Option<String>,
    pub error_type: String,
    pub line: Option<u32>,
    pub title: String,
    pub text: String,
    pub hint: Option<String>,
    /// The failing line of the student's program, as written.
    pub source_line: Option<String>,
    /// The interpreter's own "Did you mean …?".
    pub suggestion: Option<String>,
    pub example_bad: Option<String>,
    pub example_good: Option<String>,
    /// The output's line that says what went wrong, as printed: the card leads with it.
    pub error_line: Option<String>,
    /// The language refused the program before running it (see `extract::ExtractedError`).
    pub before_start: bool,
    /// "The same error" across attempts ([`error_fingerprint`]): the lineage compares it with
    /// the student's next try (`store::efficacy`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The registry entry's text variant shown, `<round>a` or `<round>b`, while the entry runs a
    /// split (`None` when it has one text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

tokio::task_local! {
    /// The student the explanation is for (`store::efficacy::student_key`), set by the worker
    /// around a job so the analyzer can pick a registry entry's text variant for them. Unset
    /// (the CLI, benchmarks) means the main text.
    pub static STUDENT: String;
}

/// Everything the analyzer needs to know about a finished check.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    pub language: &'a str,
    pub verdict: Verdict,
    pub exit_code: Option<i64>,
    pub signal: Option<&'a str>,
    /// The run's stderr (or the compiler's messages), hook report lines removed.
    pub stderr: &'a str,
    /// The Python hook's report, when there was one.
    pub python_report: Option<&'a str>,
    pub code: &'a str,
    pub file_name: &'a str,
    /// The program was stopped for printing too much.
    pub output_limit_hit: bool,
    pub timeout_s: f64,
    pub memory_mb: u64,
    pub output_kb: usize,
    pub locale: Locale,
    pub check_id: Option<i64>,
}

pub struct Analyzer {
    matcher: RwLock<Arc<Matcher>>,
    ai: Option<Arc<AiClient>>,
    store: Option<Store>,
}

impl Analyzer {
    pub fn new(entries: Vec<Entry>, ai: Option<Arc<AiClient>>, store: Option<Store>) -> Analyzer {
        let (matcher, _) = Matcher::build(entries);
        Analyzer {
            matcher: RwLock::new(Arc::new(matcher)),
            ai,
            store,
        }
    }

    /// Swaps in a new registry; checks already running keep the old one.
    pub fn reload(&self, entries: Vec<Entry>) -> Vec<(String, String)> {
        let (matcher, skipped) = Matcher::build(entries);
        *self.matcher.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(matcher);
        skipped
    }

    /// Reloads the registry from PostgreSQL (after an admin's change).
    pub async fn reload_from_db(&self) -> Result<usize, crate::store::StoreError> {
        let Some(store) = &self.store else {
            return Ok(self.matcher().len());
        };
        let entries = crate::registry::store::load(&store.client().await?).await?;
        self.reload(entries);
        Ok(self.matcher().len())
    }

    pub fn matcher(&self) -> Arc<Matcher> {
        self.matcher.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn ai(&self) -> Option<&Arc<AiClient>> {
        self.ai.as_ref()
    }

    /// The error behind a failure: a sandbox verdict, or what the output says.
    pub fn error_of(f: &Failure<'_>) -> Option<ExtractedError> {
        let verdict_error = |t: &str, m: String| {
            Some(ExtractedError {
                error_type: t.into(),
                message: m,
                ..Default::default()
            })
        };
        match f.verdict {
            Verdict::Ok | Verdict::InternalError | Verdict::Stopped => None,
            Verdict::Timeout => verdict_error("Timeout", format_number(f.timeout_s)),
            Verdict::MemoryLimit => verdict_error("MemoryLimit", f.memory_mb.to_string()),
            _ if f.output_limit_hit => verdict_error("OutputLimit", f.output_kb.to_string()),
            Verdict::RuntimeError | Verdict::CompileError => {
                extract::extract(f.language, f.stderr, f.python_report, f.code, f.file_name).or_else(|| {
                    match f.signal {
                        Some(sig) => verdict_error(sig, String::new()),
                        None => verdict_error("ExitCode", f.exit_code.unwrap_or(1).to_string()),
                    }
                })
            }
        }
    }

    /// Explains a failure; `None` when there is nothing to explain (`ok`, `internal_error`).
    pub async fn explain(&self, f: &Failure<'_>) -> Option<Explanation> {
        let mut error = Self::error_of(f)?;
        let matcher = self.matcher();
        let mut found = matcher.find(
            f.language,
            &error.error_type,
            &error.message,
            error.source_line.as_deref(),
        );
        // A signal the language's entries do not cover: say what the exit code says.
        if found.is_none() && f.signal.is_some_and(|s| s == error.error_type) {
            error = ExtractedError {
                error_type: "ExitCode".into(),
                message: f.exit_code.unwrap_or(1).to_string(),
                ..error
            };
            found = matcher.find(f.language, &error.error_type, &error.message, None);
        }
        let fingerprint = error_fingerprint(f.language, &error);
        let mut explanation = match found {
            Some(m) => {
                let (m, variant) = pick_variant(m);
                let r = m.render(f.locale);
                let text = [r.what, r.why]
                    .into_iter()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join("\n\n");
                Explanation {
                    source: "registry".into(),
                    slug: Some(m.entry.slug.clone()),
                    error_type: error.error_type.clone(),
                    line: error.line,
                    title: r.title,
                    text,
                    hint: Some(r.hint).filter(|h| !h.trim().is_empty()),
                    source_line: error.source_line.clone(),
                    suggestion: error.suggestion.clone(),
                    example_bad: Some(r.example_bad).filter(|s| !s.is_empty()),
                    example_good: Some(r.example_good).filter(|s| !s.is_empty()),
                    error_line: error.quote.clone(),
                    before_start: error.before_start,
                    fingerprint: None,
                    variant,
                }
            }
            None => self.explain_unmatched(f, &error).await,
        };
        explanation.fingerprint = Some(fingerprint.clone());
        self.record(f, &error, &fingerprint, &explanation).await;
        Some(explanation)
    }

    async fn explain_unmatched(&self, f: &Failure<'_>, error: &ExtractedError) -> Explanation {
        let plain = |key: &str| Explanation {
            source: "none".into(),
            slug: None,
            error_type: error.error_type.clone(),
            line: error.line,
            title: i18n::t(f.locale, "analyzer.unmatched.title"),
            text: i18n::tf(f.locale, key, &[("error", &error.error_type)]),
            hint: Some(i18n::t(f.locale, "analyzer.unmatched.hint")),
            source_line: error.source_line.clone(),
            suggestion: error.suggestion.clone(),
            example_bad: None,
            example_good: None,
            error_line: error.quote.clone(),
            before_start: error.before_start,
            fingerprint: None,
            variant: None,
        };
        let Some(ai) = &self.ai else {
            return plain("analyzer.unmatched.no_ai");
        };
        match ai.explain(f.language, f.locale, error, f.code).await {
            Ok(answer) => Explanation {
                source: if answer.cached { "cache" } else { "ai" }.into(),
                title: i18n::t(f.locale, "analyzer.ai.title"),
                text: answer.text,
                hint: None,
                ..plain("analyzer.unmatched.no_ai")
            },
            Err(e) => {
                tracing::warn!(language = f.language, error_type = %error.error_type, error = %e, "AI explanation failed");
                plain("analyzer.unmatched.ai_failed")
            }
        }
    }

    async fn record(&self, f: &Failure<'_>, error: &ExtractedError, fingerprint: &str, e: &Explanation) {
        let Some(store) = &self.store else { return };
        let kind_fingerprint = kind::fingerprint(f.language, &error.error_type, &error.message);
        let event = ExplanationEvent {
            check_id: f.check_id,
            language: f.language,
            error_type: &error.error_type,
            message: &error.message,
            source_line: error.source_line.as_deref(),
            fingerprint,
            kind_fingerprint: &kind_fingerprint,
            entry_slug: e.slug.as_deref(),
            source: &e.source,
            locale: f.locale,
        };
        let result = async { record_event(&store.client().await?, &event).await }.await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not record an explanation event");
        }
    }
}

/// The text a student gets from a matched entry: its second variant for about half of the
/// students (a stable hash of the student and the entry) while the entry has one, with the
/// variant's name; the main text otherwise.
fn pick_variant(m: crate::registry::Match) -> (crate::registry::Match, Option<String>) {
    let Some(v) = m.entry.variant.as_ref() else {
        return (m, None);
    };
    let b = STUDENT
        .try_with(|s| crate::store::efficacy::variant_b(s, &m.entry.slug))
        .unwrap_or(false);
    let name = format!("{}{}", v.round, if b { 'b' } else { 'a' });
    if !b {
        return (m, Some(name));
    }
    let entry = Arc::new(v.apply(&m.entry));
    (
        crate::registry::Match {
            entry,
            captures: m.captures,
        },
        Some(name),
    )
}

/// Groups the same mistake across students: language, type, normalised message, failing line.
pub fn error_fingerprint(language: &str, e: &ExtractedError) -> String {
    let mut h = Sha256::new();
    for part in [
        language,
        &e.error_type,
        &crate::ai::cache::normalise(&e.message),
        e.source_line.as_deref().unwrap_or("").trim(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        format!("{x:.1}")
    }
}
