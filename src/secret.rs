//! A string that must never be printed: tokens, passwords, keys.
//!
//! `Debug` and `Display` print a fixed mask, so a `Config` can be logged or shown with `{:?}`
//! without leaking anything. The value is reachable only through [`Secret::expose`], which makes
//! every place that uses a secret easy to find.

use std::fmt;

/// A secret value with a redacting `Debug`/`Display`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself. Call it only where the value leaves the process (an HTTP header, a
    /// database connection): never to log or render it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("\"[redacted]\"")
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), "\"[redacted]\"");
        assert_eq!(format!("{s}"), "\"[redacted]\"");
        assert_eq!(s.expose(), "hunter2-very-secret");
        assert_eq!(format!("{:?}", Secret::default()), "\"\"");
    }
}
