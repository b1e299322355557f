//! The panel's shared state: the database (and the reader for read-only pages), the templates,
//! the signer, the allowed host names, the idle timeout, the notifier, and the login limiter.

use super::render::Templates;
use super::signing::Signer;
use crate::config::SandboxConfig;
use crate::sandbox::Sandbox;
use crate::store::replica::Reader;
use crate::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Sends a Telegram user an HTML message (the bot role's sender, when it runs in this process).
pub type Notifier = Arc<dyn Fn(i64, String) + Send + Sync>;

pub struct AdminState {
    pub store: Store,
    /// Where the dashboard, analytics, lists and CSV exports read (`DATABASE_REPLICA_URL`).
    pub reader: Reader,
    pub(super) signer: Signer,
    pub templates: Templates,
    pub allowed_hosts: Vec<String>,
    /// Sessions end after this long without a request.
    pub idle: Duration,
    pub notify: Option<Notifier>,
    limiter: Mutex<HashMap<String, VecDeque<Instant>>>,
    /// Where task validation runs reference solutions (`None`: validation is unavailable).
    sandbox_config: Option<SandboxConfig>,
    /// Connected on the first validation, so a panel that never validates never needs Docker.
    sandbox: tokio::sync::OnceCell<Arc<Sandbox>>,
}

/// Failed logins allowed per account and per IP within the window.
pub(super) const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

impl AdminState {
    pub fn new(store: Store, allowed_hosts: Vec<String>, notify: Option<Notifier>) -> AdminState {
        AdminState {
            reader: Reader::primary(store.clone()),
            store,
            signer: Signer::new(crate::Secret::default()),
            templates: Templates::new(),
            allowed_hosts,
            idle: Duration::from_secs(30 * 60),
            notify,
            limiter: Mutex::new(HashMap::new()),
            sandbox_config: None,
            sandbox: tokio::sync::OnceCell::new(),
        }
    }

    /// Read-only pages read from the replica at `url` (empty: from the primary).
    pub fn with_replica(mut self, url: &str) -> AdminState {
        self.reader = Reader::with_replica(self.store.clone(), url);
        self
    }

    /// `SECRET_KEY`: signs the session cookie and the login form's token.
    pub fn with_secret_key(mut self, key: crate::Secret) -> AdminState {
        self.signer = Signer::new(key);
        self
    }

    /// The value of the session cookie (`dm_admin`) for a session `token`, signed as a login
    /// signs it: for tools that start a session themselves (`devmentor bench admin`).
    pub fn session_cookie(&self, token: &str) -> String {
        self.signer.session_cookie(token)
    }

    /// The sandbox task validation grades reference solutions in.
    pub fn with_sandbox(mut self, config: SandboxConfig) -> AdminState {
        self.sandbox_config = Some(config);
        self
    }

    /// The sandbox, connected on first use; `None` when none is configured or Docker is out of
    /// reach (a failed connection is retried on the next validation).
    pub(super) async fn sandbox(&self) -> Option<Arc<Sandbox>> {
        let config = self.sandbox_config.as_ref()?;
        let got = self
            .sandbox
            .get_or_try_init(|| async { Sandbox::connect(config).await.map(Arc::new) })
            .await;
        match got {
            Ok(s) => Some(s.clone()),
            Err(e) => {
                tracing::warn!(error = %e, "the panel cannot reach the sandbox");
                None
            }
        }
    }

    pub(super) fn failures(&self, key: &str) -> usize {
        let mut m = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        let q = m.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| t.elapsed() > FAILURE_WINDOW) {
            q.pop_front();
        }
        q.len()
    }

    pub(super) fn fail(&self, key: &str) {
        let mut m = self.limiter.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_string()).or_default().push_back(Instant::now());
        if m.len() > 100_000 {
            m.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
    }
}
