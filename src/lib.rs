//! Dev-Mentor's capabilities: plain async Rust, no actors inside, each testable alone.
//!
//! `actors/` (the `devmentor` binary) decides who does what and when; this crate knows how.

pub mod check;
pub mod config;
pub mod sandbox;
pub mod secret;

pub use config::Config;
pub use secret::Secret;
