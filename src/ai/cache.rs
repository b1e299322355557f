//! The AI answer cache, keyed by a fingerprint of the error: in PostgreSQL (shared by every
//! worker, with hit counts for the admin) or in memory when there is no database.

use crate::analyzer::extract::ExtractedError;
use crate::registry::Locale;
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;

#[allow(clippy::large_enum_variant)] // one per process; boxing buys nothing
pub enum AnswerCache {
    Memory(Mutex<HashMap<String, (String, u64)>>),
    Postgres(Store),
}

/// A stable key for "this error, explained by this model with this prompt, in this locale".
pub fn fingerprint(language: &str, model: &str, locale: Locale, e: &ExtractedError) -> String {
    let mut h = Sha256::new();
    for part in [
        language,
        model,
        super::prompt::PROMPT_VERSION,
        locale.as_str(),
        &e.error_type,
        &normalise(&e.message),
        e.source_line.as_deref().unwrap_or("").trim(),
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A short stable digest of a text (a student's code, in a hint's cache key).
pub fn digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whitespace collapsed and memory addresses blanked: they differ between runs, the error does not.
pub fn normalise(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for word in message.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.starts_with("0x") && word.len() > 6 && word[2..].chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str("0x…");
        } else {
            out.push_str(word);
        }
    }
    out
}

impl AnswerCache {
    pub fn memory() -> AnswerCache {
        AnswerCache::Memory(Mutex::new(HashMap::new()))
    }

    pub async fn get(&self, fingerprint: &str) -> Option<String> {
        match self {
            AnswerCache::Memory(m) => {
                let mut m = m.lock().unwrap_or_else(|p| p.into_inner());
                m.get_mut(fingerprint).map(|(answer, hits)| {
                    *hits += 1;
                    answer.clone()
                })
            }
            AnswerCache::Postgres(store) => {
                let client = store.client().await.ok()?;
                let row = client
                    .query_opt(
                        "UPDATE ai_cache SET hits = hits + 1, last_hit_at = now() WHERE fingerprint = $1 RETURNING answer",
                        &[&fingerprint],
                    )
                    .await
                    .map_err(|e| tracing::warn!(error = %e, "AI cache read failed"))
                    .ok()??;
                Some(row.get(0))
            }
        }
    }

    pub async fn put(
        &self,
        fingerprint: &str,
        language: &str,
        model: &str,
        locale: Locale,
        e: &ExtractedError,
        answer: &str,
    ) {
        match self {
            AnswerCache::Memory(m) => {
                m.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(fingerprint.to_string(), (answer.to_string(), 0));
            }
            AnswerCache::Postgres(store) => {
                let Ok(client) = store.client().await else { return };
                let result = client
                    .execute(
                        "INSERT INTO ai_cache (fingerprint, language, model, prompt_version, locale, error_type, message, answer)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (fingerprint) DO UPDATE SET answer = EXCLUDED.answer",
                        &[&fingerprint, &language, &model, &super::prompt::PROMPT_VERSION, &locale.as_str(),
                          &e.error_type, &e.message, &answer],
                    )
                    .await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "AI cache write failed");
                }
            }
        }
    }

    /// Hits recorded for a fingerprint (for tests and the admin's view).
    pub async fn hits(&self, fingerprint: &str) -> Option<u64> {
        match self {
            AnswerCache::Memory(m) => m
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(fingerprint)
                .map(|(_, h)| *h),
            AnswerCache::Postgres(store) => {
                let client = store.client().await.ok()?;
                let row = client
                    .query_opt("SELECT hits FROM ai_cache WHERE fingerprint = $1", &[&fingerprint])
                    .await
                    .ok()??;
                Some(row.get::<_, i64>(0) as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_addresses_and_spacing_but_not_the_error() {
        let e = |m: &str| ExtractedError {
            error_type: "T".into(),
            message: m.into(),
            ..Default::default()
        };
        let a = fingerprint("python", "m", Locale::Ru, &e("object at 0x7f3a2b1c4d50  is bad"));
        let b = fingerprint("python", "m", Locale::Ru, &e("object at 0x7f00000000ff is bad"));
        assert_eq!(a, b);
        assert_ne!(
            a,
            fingerprint("python", "m", Locale::En, &e("object at 0x7f3a2b1c4d50 is bad"))
        );
        assert_ne!(
            a,
            fingerprint("python", "m", Locale::Ru, &e("object at 0x7f3a2b1c4d50 is good"))
        );
    }
}
