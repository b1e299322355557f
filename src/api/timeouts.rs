//! How long one step of an API request may take.

use std::time::Duration;

/// One PostgreSQL step of a request (pool checkout included).
pub(super) const DB_TIMEOUT: Duration = Duration::from_secs(5);
/// Handing a job to Redis.
pub(super) const QUEUE_TIMEOUT: Duration = Duration::from_secs(3);
