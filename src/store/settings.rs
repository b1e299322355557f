//! Operator settings, stored as key → JSON rows in `settings`. A missing key is its built-in
//! default. [`SettingsCache`] keeps a copy in memory, reloaded on `settings_changed`, so an
//! admin's change takes effect without a restart.

use super::{listen, Client, Store, StoreError};
use crate::registry::Locale;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The /start greeting; empty = the built-in text of the locale file.
    pub welcome_text_ru: String,
    pub welcome_text_en: String,
    /// Only whitelisted users may use the bot.
    pub whitelist_mode: bool,
    /// Everyone but the admins is told `maintenance_message_*`.
    pub maintenance_mode: bool,
    pub maintenance_message_ru: String,
    pub maintenance_message_en: String,
    /// Checks a user may start per minute.
    pub rate_limit_per_minute: u32,
    /// AI explanations ("🧠 explain more" and unmatched errors) per user per day.
    pub ai_daily_quota: i32,
    /// The programming language for code that names none; empty = ask with buttons.
    pub default_language: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            welcome_text_ru: String::new(),
            welcome_text_en: String::new(),
            whitelist_mode: true,
            maintenance_mode: false,
            maintenance_message_ru: String::new(),
            maintenance_message_en: String::new(),
            rate_limit_per_minute: 10,
            ai_daily_quota: 20,
            default_language: String::new(),
        }
    }
}

impl Settings {
    pub fn welcome_text(&self, locale: Locale) -> Option<&str> {
        let s = match locale {
            Locale::Ru => &self.welcome_text_ru,
            Locale::En => &self.welcome_text_en,
        };
        (!s.trim().is_empty()).then_some(s.as_str())
    }

    pub fn maintenance_message(&self, locale: Locale) -> Option<&str> {
        let s = match locale {
            Locale::Ru => &self.maintenance_message_ru,
            Locale::En => &self.maintenance_message_en,
        };
        (!s.trim().is_empty()).then_some(s.as_str())
    }
}

/// Reads every setting; unknown keys are ignored and a value of the wrong type keeps the default.
pub async fn load(client: &Client) -> Result<Settings, StoreError> {
    let rows = client.query("SELECT key, value FROM settings", &[]).await?;
    let mut settings = serde_json::to_value(Settings::default()).unwrap_or_default();
    if let Some(map) = settings.as_object_mut() {
        for r in &rows {
            let key: String = r.get(0);
            let value: serde_json::Value = r.get(1);
            if map.contains_key(&key) {
                let mut trial = map.clone();
                trial.insert(key.clone(), value.clone());
                if serde_json::from_value::<Settings>(serde_json::Value::Object(trial)).is_ok() {
                    map.insert(key, value);
                } else {
                    tracing::warn!(key, "setting has a value of the wrong type; using the default");
                }
            }
        }
    }
    Ok(serde_json::from_value(settings).unwrap_or_default())
}

/// Sets one setting; an unknown key or a value of the wrong type is refused.
pub async fn set(client: &Client, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
    let mut trial = serde_json::to_value(Settings::default()).unwrap_or_default();
    let known = trial
        .as_object_mut()
        .and_then(|m| m.insert(key.to_string(), value.clone()));
    if known.is_none() || serde_json::from_value::<Settings>(trial).is_err() {
        return Err(StoreError::Invalid(format!(
            "{key} = {value}: unknown setting or wrong type"
        )));
    }
    client
        .execute(
            "INSERT INTO settings (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
            &[&key, value],
        )
        .await?;
    Ok(())
}

/// The settings in memory, kept fresh by `LISTEN settings_changed`.
#[derive(Clone, Default)]
pub struct SettingsCache {
    inner: Arc<RwLock<Settings>>,
}

impl SettingsCache {
    pub fn get(&self) -> Settings {
        self.inner.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// Loads the settings now and keeps reloading them on every change until `stop`.
    pub async fn start(store: Store, stop: CancellationToken) -> Result<SettingsCache, StoreError> {
        let cache = SettingsCache::default();
        cache.reload(&store).await?;
        let (tx, _task) = listen::spawn(store.clone(), "settings_changed", stop.clone());
        let mut rx = tx.subscribe();
        let this = cache.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    r = rx.recv() => if let Err(tokio::sync::broadcast::error::RecvError::Closed) = r { return },
                    // A safety net for a notification lost between reconnections.
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                }
                if let Err(e) = this.reload(&store).await {
                    tracing::warn!(error = %e, "reloading settings failed; keeping the previous ones");
                }
            }
        });
        Ok(cache)
    }

    async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let fresh = load(&store.client().await?).await?;
        if let Ok(mut s) = self.inner.write() {
            *s = fresh;
        }
        Ok(())
    }

    /// A cache holding fixed settings (tests, benchmarks).
    pub fn fixed(settings: Settings) -> SettingsCache {
        SettingsCache {
            inner: Arc::new(RwLock::new(settings)),
        }
    }
}

/// Published FAQ entries of a locale, in order: (question, answer).
pub async fn faq(client: &Client, locale: Locale) -> Result<Vec<(String, String)>, StoreError> {
    let rows = client
        .query(
            "SELECT question, answer FROM faq WHERE published AND locale = $1 ORDER BY position, id",
            &[&locale.as_str()],
        )
        .await?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}
