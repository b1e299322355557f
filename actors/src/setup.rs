//! Building the analyzer for a command: the registry from PostgreSQL when there is one with
//! entries, else the catalogue built into the binary; the AI client when a key is configured.

use devmentor::ai::{cache::AnswerCache, AiClient, AiSettings};
use devmentor::analyzer::Analyzer;
use devmentor::registry::{self, Entry};
use devmentor::store::Store;
use devmentor::Config;
use std::sync::Arc;
use std::time::Duration;

/// Where the registry came from, for the human report.
pub enum RegistrySource {
    Database,
    Builtin,
}

/// Connects to PostgreSQL if it answers quickly; `None` otherwise (commands that can work
/// without a database must not wait on one).
pub async fn try_store(config: &Config) -> Option<Store> {
    match Store::connect(config.database_url.expose(), Duration::from_secs(2)).await {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::info!(error = %e, "no database: using the built-in catalogue");
            None
        }
    }
}

pub async fn registry_entries(store: Option<&Store>) -> anyhow::Result<(Vec<Entry>, RegistrySource)> {
    if let Some(store) = store {
        if let Ok(client) = store.client().await {
            if let Ok(entries) = registry::store::load(&client).await {
                if !entries.is_empty() {
                    return Ok((entries, RegistrySource::Database));
                }
            }
        }
    }
    Ok((registry::catalogue::builtin()?, RegistrySource::Builtin))
}

pub async fn analyzer(config: &Config) -> anyhow::Result<(Analyzer, RegistrySource)> {
    let store = try_store(config).await;
    let (entries, source) = registry_entries(store.as_ref()).await?;
    // Events and the shared AI cache only make sense against a migrated database.
    let store = match source {
        RegistrySource::Database => store,
        RegistrySource::Builtin => None,
    };
    let ai = match AiSettings::from_config(config) {
        Some(settings) => {
            let cache = match &store {
                Some(s) => AnswerCache::Postgres(s.clone()),
                None => AnswerCache::memory(),
            };
            Some(Arc::new(AiClient::new(settings, cache)?))
        }
        None => None,
    };
    Ok((Analyzer::new(entries, ai, store), source))
}
