//! The LLM fallback: an OpenAI-compatible chat-completions client (Groq by default).
//!
//! Only called when the registry has no entry for an error. Bounded in every direction: a
//! request timeout, capped waits on 429 (`retry-after` plus jitter), backoff on 5xx, a circuit
//! breaker so an outage does not slow every check, and a cache keyed by a fingerprint of the
//! error so the same mistake is explained once. Answers with code are sent back once for a
//! rewrite, then refused.

pub mod breaker;
pub mod cache;
pub mod fake;
pub mod prompt;

use crate::analyzer::extract::ExtractedError;
use crate::registry::Locale;
use crate::secret::Secret;
use breaker::Breaker;
use cache::AnswerCache;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct AiSettings {
    pub base_url: String,
    pub api_key: Secret,
    pub model: String,
    pub timeout: Duration,
    /// Longest wait honoured from a `retry-after` header.
    pub max_retry_wait: Duration,
    pub max_retries: u32,
    /// AI calls in flight at once from this process; more wait their turn.
    pub max_concurrency: usize,
}

impl AiSettings {
    pub fn from_config(c: &crate::Config) -> Option<AiSettings> {
        if c.ai_api_key.is_empty() {
            return None;
        }
        Some(AiSettings {
            base_url: c.ai_base_url.trim_end_matches('/').to_string(),
            api_key: c.ai_api_key.clone(),
            model: c.ai_model_name.clone(),
            timeout: Duration::from_secs(20),
            max_retry_wait: Duration::from_secs(10),
            max_retries: 2,
            max_concurrency: c.runtime.ai_concurrency.max(1),
        })
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum AiError {
    #[error("the AI service is failing; calls are paused for a while (circuit open)")]
    CircuitOpen,
    #[error("the AI service did not answer in time")]
    Timeout,
    #[error("the AI service is rate limiting us (429)")]
    RateLimited,
    #[error("the AI service failed with HTTP {0}")]
    Server(u16),
    #[error("AI_API_KEY was rejected (HTTP 401): check the key")]
    Unauthorized,
    #[error("the AI model is decommissioned: {0} — set AI_MODEL_NAME to a current model")]
    ModelDecommissioned(String),
    #[error("the AI service refused the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the AI answer is malformed: {0}")]
    Malformed(String),
    #[error("the AI answer was cut off empty (finish_reason {0})")]
    Empty(String),
    #[error("the AI answer kept including code after a rewrite was asked for")]
    CodeInAnswer,
    #[error("cannot reach the AI service: {0}")]
    Http(String),
}

/// Counters for `/metrics` and the admin's analytics.
#[derive(Debug, Default)]
pub struct AiStats {
    pub calls: AtomicU64,
    pub errors: AtomicU64,
    pub cache_hits: AtomicU64,
    pub rate_limited: AtomicU64,
    pub auth_errors: AtomicU64,
    pub decommissioned: AtomicU64,
    pub rewrites: AtomicU64,
    pub tokens: AtomicU64,
    pub latency_ms_total: AtomicU64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AiAnswer {
    pub text: String,
    pub cached: bool,
    pub fingerprint: String,
}

pub struct AiClient {
    http: reqwest::Client,
    settings: AiSettings,
    breaker: Mutex<Breaker>,
    cache: AnswerCache,
    limit: tokio::sync::Semaphore,
    pub stats: AiStats,
}

impl AiClient {
    pub fn new(settings: AiSettings, cache: AnswerCache) -> Result<AiClient, AiError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(5))
            .user_agent("devmentor")
            .build()
            .map_err(|e| AiError::Http(e.to_string()))?;
        let limit = tokio::sync::Semaphore::new(settings.max_concurrency.max(1));
        Ok(AiClient {
            http,
            settings,
            breaker: Mutex::new(Breaker::default()),
            cache,
            limit,
            stats: AiStats::default(),
        })
    }

    /// Whether a call could be made now: false while the circuit breaker is open after repeated
    /// failures, so the card does not offer 🧠 that would only answer "unavailable".
    pub fn available(&self) -> bool {
        !self.lock_breaker().is_open(Instant::now())
    }

    pub fn model(&self) -> &str {
        &self.settings.model
    }

    /// Tries the key: `GET /models`. The models the service offers, or why it refused.
    pub async fn list_models(&self) -> Result<Vec<String>, AiError> {
        let url = format!("{}/models", self.settings.base_url);
        let r = self
            .http
            .get(url)
            .bearer_auth(self.settings.api_key.expose())
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    AiError::Timeout
                } else {
                    AiError::Http(e.to_string())
                }
            })?;
        match r.status().as_u16() {
            200 => {}
            401 | 403 => return Err(AiError::Unauthorized),
            429 => return Err(AiError::RateLimited),
            s if s >= 500 => return Err(AiError::Server(s)),
            s => {
                return Err(AiError::Rejected {
                    status: s,
                    message: r.text().await.unwrap_or_default().chars().take(200).collect(),
                })
            }
        }
        let v: serde_json::Value = r.json().await.map_err(|e| AiError::Malformed(e.to_string()))?;
        Ok(v["data"]
            .as_array()
            .map(|a| a.iter().filter_map(|m| m["id"].as_str().map(String::from)).collect())
            .unwrap_or_default())
    }

    /// Explains `error`, from the cache when this exact error was explained before.
    pub async fn explain(
        &self,
        language: &str,
        locale: Locale,
        error: &ExtractedError,
        code: &str,
    ) -> Result<AiAnswer, AiError> {
        let system = prompt::system_prompt(language, locale);
        let user = prompt::user_prompt(error, code);
        self.answer(language, locale, error, system, user).await
    }

    /// A hint for a task's failing submission: a Socratic nudge (what to look at, which idea
    /// applies, a question to ask oneself), never code or the algorithm written out. Only what
    /// the student may see goes in: the statement, their code, the failing *visible* test and
    /// the error. Same guardrails (rewrite once, then refuse), cache, limits and breaker as
    /// [`AiClient::explain`].
    pub async fn hint(&self, language: &str, locale: Locale, h: &prompt::HintRequest<'_>) -> Result<AiAnswer, AiError> {
        // Cached by task, test, verdict and the exact code: the same attempt gets the same hint.
        let key = ExtractedError {
            error_type: format!("task-hint:{}", h.slug),
            message: format!(
                "{}:{}:{}",
                h.test_number.unwrap_or(0),
                h.verdict,
                crate::ai::cache::digest(h.code)
            ),
            ..Default::default()
        };
        let system = prompt::hint_system_prompt(language, locale);
        let user = prompt::hint_user_prompt(h);
        self.answer(language, locale, &key, system, user).await
    }

    async fn answer(
        &self,
        language: &str,
        locale: Locale,
        error: &ExtractedError,
        system: String,
        user: String,
    ) -> Result<AiAnswer, AiError> {
        let fingerprint = cache::fingerprint(language, &self.settings.model, locale, error);
        if let Some(text) = self.cache.get(&fingerprint).await {
            self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(AiAnswer {
                text,
                cached: true,
                fingerprint,
            });
        }
        // Bounded concurrency: a burst of unknown errors queues here instead of flooding the API.
        let _permit = self.limit.acquire().await.map_err(|_| AiError::CircuitOpen)?;
        if !self.lock_breaker().allow(Instant::now()) {
            return Err(AiError::CircuitOpen);
        }
        let started = Instant::now();
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let result = self.ask(system, user).await;
        self.stats
            .latency_ms_total
            .fetch_add(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        match &result {
            Ok(text) => {
                self.lock_breaker().success();
                self.cache
                    .put(&fingerprint, language, &self.settings.model, locale, error, text)
                    .await;
            }
            Err(e) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                // A wrong key or a dead model fails every call: pause for longer.
                let long = matches!(e, AiError::Unauthorized | AiError::ModelDecommissioned(_));
                // A refused answer is the model's fault, not the service's: it does not trip the breaker.
                if !matches!(e, AiError::CodeInAnswer) {
                    self.lock_breaker().failure(Instant::now(), long);
                }
            }
        }
        result.map(|text| AiAnswer {
            text,
            cached: false,
            fingerprint,
        })
    }

    fn lock_breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        // The breaker holds counters only; a poisoned lock still has usable state.
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn ask(&self, system: String, user: String) -> Result<String, AiError> {
        let mut messages = vec![
            json!({"role": "system", "content": system}),
            json!({"role": "user", "content": user}),
        ];
        let first = self.complete(&messages).await?;
        if !prompt::contains_code(&first) {
            return Ok(first);
        }
        // One chance to rewrite without code.
        self.stats.rewrites.fetch_add(1, Ordering::Relaxed);
        messages.push(json!({"role": "assistant", "content": first}));
        messages.push(json!({"role": "user", "content": prompt::REWRITE_WITHOUT_CODE}));
        let second = self.complete(&messages).await?;
        if prompt::contains_code(&second) {
            return Err(AiError::CodeInAnswer);
        }
        Ok(second)
    }

    /// One chat completion, with the retry policy.
    async fn complete(&self, messages: &[serde_json::Value]) -> Result<String, AiError> {
        let mut body = json!({
            "model": self.settings.model,
            "messages": messages,
            "temperature": 0.3,
            "max_tokens": 700,
        });
        if supports_reasoning_effort(&self.settings.model) {
            body["reasoning_effort"] = json!("low");
        }
        let url = format!("{}/chat/completions", self.settings.base_url);
        let mut attempt = 0;
        loop {
            let response = self
                .http
                .post(&url)
                .bearer_auth(self.settings.api_key.expose())
                .json(&body)
                .send()
                .await;
            let response = match response {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Err(AiError::Timeout),
                Err(e) => return Err(AiError::Http(without_url(&e))),
            };
            let status = response.status().as_u16();
            if status == 429 {
                self.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                if attempt >= self.settings.max_retries {
                    return Err(AiError::RateLimited);
                }
                let wait = retry_after(response.headers())
                    .unwrap_or(Duration::from_secs(1))
                    .min(self.settings.max_retry_wait);
                tracing::warn!(wait_ms = wait.as_millis() as u64, "AI rate limited (429); retrying");
                tokio::time::sleep(wait + jitter()).await;
                attempt += 1;
                continue;
            }
            if status >= 500 {
                if attempt >= self.settings.max_retries {
                    return Err(AiError::Server(status));
                }
                tokio::time::sleep(Duration::from_millis(400 * 2u64.pow(attempt)) + jitter()).await;
                attempt += 1;
                continue;
            }
            let text = response.text().await.map_err(|e| {
                if e.is_timeout() {
                    AiError::Timeout
                } else {
                    AiError::Http(without_url(&e))
                }
            })?;
            if status == 401 {
                self.stats.auth_errors.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "AI_API_KEY was rejected by {} (HTTP 401): AI explanations are off until it is fixed",
                    self.settings.base_url
                );
                return Err(AiError::Unauthorized);
            }
            if status >= 400 {
                let (code, message) = api_error(&text);
                if code.as_deref() == Some("model_decommissioned") || message.contains("decommissioned") {
                    self.stats.decommissioned.fetch_add(1, Ordering::Relaxed);
                    tracing::error!(model = %self.settings.model, "the AI model is decommissioned: set AI_MODEL_NAME ({message})");
                    return Err(AiError::ModelDecommissioned(self.settings.model.clone()));
                }
                return Err(AiError::Rejected { status, message });
            }
            return self.parse_completion(&text);
        }
    }

    fn parse_completion(&self, text: &str) -> Result<String, AiError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| AiError::Malformed(e.to_string()))?;
        let choice = v
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| AiError::Malformed("no choices".into()))?;
        let content = choice
            .get("message")
            .and_then(|m| m.get("content"))
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .trim()
            .to_string();
        if let Some(t) = v
            .get("usage")
            .and_then(|u| u.get("total_tokens"))
            .and_then(|t| t.as_u64())
        {
            self.stats.tokens.fetch_add(t, Ordering::Relaxed);
        }
        if content.is_empty() {
            let reason = choice
                .get("finish_reason")
                .and_then(|r| r.as_str())
                .unwrap_or("unknown");
            return Err(AiError::Empty(reason.to_string()));
        }
        Ok(content)
    }
}

/// Models that accept `reasoning_effort` (Groq's gpt-oss and qwen3 families).
fn supports_reasoning_effort(model: &str) -> bool {
    let m = model.to_lowercase();
    m.contains("gpt-oss") || m.contains("qwen3")
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
}

/// Up to 250 ms, so clients that were told the same `retry-after` do not return in lockstep.
fn jitter() -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(u64::from(nanos % 250))
}

fn api_error(body: &str) -> (Option<String>, String) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let err = v.get("error");
    let code = err
        .and_then(|e| e.get("code"))
        .and_then(|c| c.as_str())
        .map(str::to_string);
    let message = err
        .and_then(|e| e.get("message"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .unwrap_or_else(|| body.chars().take(200).collect());
    (code, message)
}

/// reqwest errors print the URL; ours has no secret in it, but keep logs short and stable.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "<ai endpoint>");
    }
    s
}
