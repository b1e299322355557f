//! Interface strings in Russian (default) and English, from `templates/locale/*.toml`.
//!
//! Built into the binary; a key missing in Russian falls back to English, and a key missing
//! everywhere shows itself, so a gap is visible rather than silent.

use crate::registry::Locale;
use std::collections::HashMap;
use std::sync::LazyLock;

static RU: LazyLock<HashMap<String, String>> = LazyLock::new(|| parse(include_str!("../templates/locale/ru.toml")));
static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| parse(include_str!("../templates/locale/en.toml")));

fn parse(text: &str) -> HashMap<String, String> {
    // The files are checked by a unit test; a broken file yields no strings, never a crash.
    toml::from_str(text).unwrap_or_default()
}

pub fn t(locale: Locale, key: &str) -> String {
    let own = match locale {
        Locale::Ru => &*RU,
        Locale::En => &*EN,
    };
    own.get(key)
        .or_else(|| EN.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// `t` with `{name}` placeholders filled.
pub fn tf(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    let mut s = t(locale, key);
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_parse_and_english_is_complete() {
        let ru: HashMap<String, String> = toml::from_str(include_str!("../templates/locale/ru.toml")).unwrap();
        let en: HashMap<String, String> = toml::from_str(include_str!("../templates/locale/en.toml")).unwrap();
        for k in ru.keys() {
            assert!(en.contains_key(k), "en.toml lacks {k}");
        }
        for k in en.keys() {
            assert!(ru.contains_key(k), "ru.toml lacks {k}");
        }
        assert!(tf(Locale::En, "analyzer.unmatched.no_ai", &[("error", "X")]).contains("“X”"));
    }
}
