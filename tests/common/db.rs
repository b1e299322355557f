//! A fresh PostgreSQL database per test (created, migrated, dropped), so tests run in
//! parallel and leave nothing behind. `make test` starts PostgreSQL with the `devmentor` role.
//! Where the server is, and how a database is made and removed, is the shared
//! [`harness`](super::harness)'s.

#![allow(dead_code)]

use super::harness;
use devmentor::store::Store;
use std::time::Duration;

/// The server's administrative database (`DATABASE_URL`).
pub fn admin_url() -> String {
    harness::admin_url()
}

pub struct TestDb {
    pub store: Store,
    pub name: String,
    pub url: String,
}

pub async fn fresh() -> TestDb {
    let name = format!("dm_test_{}_{}", std::process::id(), harness::next());
    let url = harness::create_database(&name);
    let store = Store::connect(&url, Duration::from_secs(5))
        .await
        .expect("PostgreSQL must be running for these tests: run `make test`, which starts it");
    store.migrate().await.expect("migrations apply to an empty database");
    TestDb { store, name, url }
}

impl TestDb {
    pub async fn drop_db(self) {
        drop(self.store);
        // `WITH (FORCE)`: connections of the dropped pool may linger for a moment.
        harness::drop_database(&self.name);
    }
}
