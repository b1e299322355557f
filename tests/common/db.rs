//! A fresh PostgreSQL database per test (created, migrated, dropped), so tests run in
//! parallel and leave nothing behind. `make test` starts PostgreSQL with the `devmentor` role.

#![allow(dead_code)]

use devmentor::store::Store;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://devmentor:devmentor@127.0.0.1:5432/devmentor".into())
}

pub struct TestDb {
    pub store: Store,
    pub name: String,
    pub url: String,
}

pub async fn fresh() -> TestDb {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!("dm_test_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
    let admin = Store::connect(&admin_url(), Duration::from_secs(5))
        .await
        .expect("PostgreSQL must be running for these tests: run `make test`, which starts it");
    let client = admin.client().await.unwrap();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    let base = admin_url();
    let url = match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("DATABASE_URL needs a database name"),
    };
    let store = Store::connect(&url, Duration::from_secs(5)).await.unwrap();
    store.migrate().await.expect("migrations apply to an empty database");
    TestDb { store, name, url }
}

impl TestDb {
    pub async fn drop_db(self) {
        drop(self.store);
        let admin = Store::connect(&admin_url(), Duration::from_secs(5)).await.unwrap();
        let client = admin.client().await.unwrap();
        // Connections of the dropped pool may linger for a moment.
        let _ = client
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .await;
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {}", self.name))
            .await
            .unwrap();
    }
}
