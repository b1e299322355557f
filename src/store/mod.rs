//! PostgreSQL: the connection pool and the migrations (`sql/migrations/`, embedded at build
//! time). Table families have their own query modules next to the capability that owns them
//! (`registry::store`, …); SQL is raw and parameterised.

pub mod access;
pub mod admins;
pub mod broadcasts;
pub mod catalogue;
pub mod check_log;
pub mod checks;
pub mod efficacy;
pub mod faq;
pub mod listen;
pub mod replica;
pub mod settings;
pub mod stats;
pub mod task_admin;
pub mod task_stats;
pub mod tasks;
pub mod tokens;
pub mod user_list;
pub mod users;

use std::time::Duration;

mod embedded {
    refinery::embed_migrations!("sql/migrations");
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("PostgreSQL is not reachable ({reason}); start it (`make services`) or set DATABASE_URL")]
    Unavailable { reason: String },
    #[error("invalid database URL: {0}")]
    Url(String),
    #[error("PostgreSQL: {}", postgres_detail(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    #[error("migrations: {0}")]
    Migration(String),
    #[error("{0}")]
    Invalid(String),
}

/// What PostgreSQL said, not just "db error": the server's message and its SQLSTATE (not its
/// DETAIL line, which may quote a row's values).
fn postgres_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Pool(e.to_string())
    }
}

pub type Client = deadpool_postgres::Object;

#[derive(Clone)]
pub struct Store {
    pool: deadpool_postgres::Pool,
    config: tokio_postgres::Config,
}

impl Store {
    /// Connects (checking one connection within `timeout`) and returns the pool.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Store, StoreError> {
        let store = Store::lazy(url, timeout)?;
        match tokio::time::timeout(timeout, store.pool.get()).await {
            Ok(Ok(_)) => Ok(store),
            Ok(Err(e)) => Err(StoreError::Unavailable { reason: e.to_string() }),
            Err(_) => Err(StoreError::Unavailable {
                reason: format!("no answer within {timeout:?}"),
            }),
        }
    }

    /// The pool without a first connection: it connects on first use (a replica that may be
    /// down when the process starts).
    pub fn lazy(url: &str, timeout: Duration) -> Result<Store, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Url(e.to_string()))?;
        let manager = deadpool_postgres::Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig {
                recycling_method: deadpool_postgres::RecyclingMethod::Fast,
            },
        );
        let pool = deadpool_postgres::Pool::builder(manager)
            .max_size(16)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(timeout))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Store { pool, config })
    }

    pub async fn client(&self) -> Result<Client, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Applies pending migrations; returns the names of those applied now.
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let (mut client, connection) = self.config.connect(tokio_postgres::NoTls).await?;
        let task = tokio::spawn(connection);
        let report = embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(|e| StoreError::Migration(e.to_string()))?;
        drop(client);
        let _ = task.await;
        Ok(report.applied_migrations().iter().map(|m| m.to_string()).collect())
    }

    /// A dedicated connection (for `LISTEN`, which needs one connection for its lifetime).
    pub async fn dedicated(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
        ),
        StoreError,
    > {
        Ok(self.config.connect(tokio_postgres::NoTls).await?)
    }
}

/// The newest migration this build knows.
pub fn schema_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version() as i64)
        .max()
        .unwrap_or(0)
}

/// Refuses to run against a database behind this build (with the command that fixes it) or
/// ahead of it (a newer release migrated it).
pub async fn ensure_migrated(store: &Store) -> Result<(), StoreError> {
    let client = store.client().await?;
    let row = client
        .query_one("SELECT to_regclass('public.refinery_schema_history') IS NOT NULL", &[])
        .await?;
    let applied: i64 = if row.get::<_, bool>(0) {
        client
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::bigint FROM refinery_schema_history",
                &[],
            )
            .await?
            .get(0)
    } else {
        0
    };
    let known = schema_version();
    if applied < known {
        Err(StoreError::Migration(format!(
            "the database is not migrated (it is at V{applied}, this build needs V{known}): run `devmentor migrate`"
        )))
    } else if applied > known {
        Err(StoreError::Migration(format!(
            "the database schema (V{applied}) is newer than this build knows (V{known}): run the newer devmentor release"
        )))
    } else {
        Ok(())
    }
}

/// The same server and credentials as `url`, another database (benchmarks' throw-away ones).
pub fn url_with_dbname(url: &str, db: &str) -> Result<String, StoreError> {
    let c: tokio_postgres::Config = url
        .parse()
        .map_err(|e: tokio_postgres::Error| StoreError::Url(e.to_string()))?;
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let auth = match c.get_password() {
        Some(p) => format!("{}:{}", c.get_user().unwrap_or("devmentor"), String::from_utf8_lossy(p)),
        None => c.get_user().unwrap_or("devmentor").to_string(),
    };
    Ok(format!(
        "postgres://{auth}@{host}:{}/{db}",
        c.get_ports().first().copied().unwrap_or(5432)
    ))
}
