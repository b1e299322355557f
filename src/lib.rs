//! Dev-Mentor's capabilities: plain async Rust, no actors inside, each testable alone.
//!
//! `actors/` (the `devmentor` binary) decides who does what and when; this crate knows how.

pub mod admin;
pub mod admission;
pub mod ai;
pub mod analyzer;
pub mod api;
pub mod check;
pub mod config;
pub mod http;
pub mod i18n;
pub mod metrics;
pub mod queue;
pub mod registry;
pub mod sandbox;
pub mod secret;
pub mod store;
pub mod tasks;
pub mod telegram;
pub mod time;
pub mod worker;

pub use config::Config;
pub use secret::Secret;
