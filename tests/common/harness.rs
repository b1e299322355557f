//! The test harness of both crates: where the real services are (`DATABASE_URL`, `REDIS_URL`,
//! with the defaults `make test` sets up), a fresh PostgreSQL database per test (created here,
//! dropped with `WITH (FORCE)` so lingering connections cannot keep it), a Redis key prefix per
//! test and a free loopback port. Tests run in parallel and leave nothing behind.
//!
//! Shared by both test crates, as `bridge.rs` is: this crate's `common` declares it, and
//! actors/tests/common/mod.rs includes the same file with `#[path]`. Each crate builds its own
//! helpers on it — this crate's `db::fresh` (a migrated `Store`), the runtime's `Env` (the real
//! `devmentor` binary, which migrates with its own command) — so how a test finds, makes and
//! removes its database is written once. It uses only `std` and `psql`, so a synchronous
//! helper (`Env::new`) and an async one can both call it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The database tests connect to for creating and dropping theirs.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://devmentor:devmentor@127.0.0.1:5432/devmentor".into())
}

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The same server and credentials as [`admin_url`], database `db`.
pub fn url_for(db: &str) -> String {
    let base = admin_url();
    match base.rfind('/') {
        Some(i) => format!("{}/{db}", &base[..i]),
        None => panic!("DATABASE_URL needs a database name: {base}"),
    }
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A number no other call in this process gets: with the process id, names are unique.
pub fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A Redis key prefix of this test's own: `test:<tag>:<pid>:<n>:`.
pub fn redis_prefix(tag: &str) -> String {
    format!("test:{tag}:{}:{}:", std::process::id(), next())
}

/// Runs `sql` with `psql` against `url` (`-qtA`: values only, unaligned).
pub fn psql(url: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args([url, "-qtAc", sql])
        .output()
        .expect("psql (PostgreSQL's client) must be installed: run `make test`, which installs it")
}

/// Creates database `name` (after dropping a leftover of that name); returns its URL.
pub fn create_database(name: &str) -> String {
    let admin = admin_url();
    psql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    let out = psql(&admin, &format!("CREATE DATABASE {name}"));
    assert!(
        out.status.success(),
        "cannot create the test database {name} ({admin}): is PostgreSQL running (`make test` starts it)? {}",
        String::from_utf8_lossy(&out.stderr)
    );
    url_for(name)
}

/// Drops database `name`, ending any connection still open to it. Never panics (it runs from
/// `Drop`s).
pub fn drop_database(name: &str) {
    let _ = psql(&admin_url(), &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
}
