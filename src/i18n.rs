//! Interface strings in Russian (default) and English, from `templates/locale/*.toml`.
//!
//! Built into the binary; a key missing in Russian falls back to English, and a key missing
//! everywhere shows itself, so a gap is visible rather than silent. A value that depends on a
//! number is a table of CLDR plural forms (`{ one = …, few = …, many = …, other = … }`): the form
//! is chosen by Unicode's plural rules (`intl_pluralrules`), since Russian has three forms for
//! whole numbers and hand-written rules get 11–14 and 111 wrong.

use crate::registry::Locale;
use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
use std::collections::HashMap;
use std::sync::LazyLock;

/// One locale file: plain strings, and the plural tables by key and category.
#[derive(Default)]
struct Strings {
    plain: HashMap<String, String>,
    plural: HashMap<String, HashMap<String, String>>,
}

static RU: LazyLock<Strings> = LazyLock::new(|| parse(include_str!("../templates/locale/ru.toml")));
static EN: LazyLock<Strings> = LazyLock::new(|| parse(include_str!("../templates/locale/en.toml")));

fn parse(text: &str) -> Strings {
    // The files are checked by a unit test; a broken file yields no strings, never a crash.
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let mut s = Strings::default();
    for (k, v) in table {
        match v {
            toml::Value::String(v) => {
                s.plain.insert(k, v);
            }
            toml::Value::Table(forms) => {
                let forms = forms
                    .into_iter()
                    .filter_map(|(c, f)| f.as_str().map(|f| (c, f.to_string())))
                    .collect();
                s.plural.insert(k, forms);
            }
            _ => {}
        }
    }
    s
}

fn strings(locale: Locale) -> &'static Strings {
    match locale {
        Locale::Ru => &RU,
        Locale::En => &EN,
    }
}

pub fn t(locale: Locale, key: &str) -> String {
    strings(locale)
        .plain
        .get(key)
        .or_else(|| EN.plain.get(key))
        .cloned()
        .unwrap_or_else(|| key.to_string())
}

/// `t` with `{name}` placeholders filled.
pub fn tf(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    fill(t(locale, key), args)
}

fn fill(mut s: String, args: &[(&str, &str)]) -> String {
    for (k, v) in args {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// The CLDR plural category of `number` (as written: `"3"`, `"1.5"`) in `locale`; `None` when
/// it is not a number.
pub fn plural_category(locale: Locale, number: &str) -> Option<PluralCategory> {
    static RULES: LazyLock<[Option<PluralRules>; 2]> = LazyLock::new(|| {
        let rules = |tag: &str| {
            let id: unic_langid::LanguageIdentifier = tag.parse().ok()?;
            PluralRules::create(id, PluralRuleType::CARDINAL).ok()
        };
        [rules("ru"), rules("en")]
    });
    let rules = RULES[match locale {
        Locale::Ru => 0,
        Locale::En => 1,
    }]
    .as_ref()?;
    // Operands are read as written in English; a Russian decimal comma is the same number.
    let number = number.trim().replace(',', ".");
    rules.select(number.as_str()).ok()
}

/// The name of a category as it is written in the locale files.
pub fn category_name(c: PluralCategory) -> &'static str {
    match c {
        PluralCategory::ZERO => "zero",
        PluralCategory::ONE => "one",
        PluralCategory::TWO => "two",
        PluralCategory::FEW => "few",
        PluralCategory::MANY => "many",
        PluralCategory::OTHER => "other",
    }
}

/// A string that depends on the number `n`: the key's plural form for `n` in `locale`, with
/// `{n}` and the other placeholders filled. A plain string under the key is used as it is.
pub fn tp(locale: Locale, key: &str, n: u64, args: &[(&str, &str)]) -> String {
    let number = n.to_string();
    let category = plural_category(locale, &number).map(category_name).unwrap_or("other");
    let form = [strings(locale), &*EN].iter().find_map(|s| {
        let forms = s.plural.get(key)?;
        forms.get(category).or_else(|| forms.get("other")).cloned()
    });
    let mut all: Vec<(&str, &str)> = vec![("n", &number)];
    all.extend_from_slice(args);
    fill(form.unwrap_or_else(|| t(locale, key)), &all)
}

/// The English indefinite article for a word, by its sound: "an int", "an object", "a str",
/// "a list", "a NoneType", "a union", "an undefined", "an x" (said "ex").
pub fn indefinite_article(word: &str) -> &'static str {
    let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
    let lower = w.to_lowercase();
    let Some(first) = lower.chars().next() else {
        return "a";
    };
    // A lone letter or an all-capitals abbreviation is said letter by letter ("an SQL", "a URL").
    let letters = w.chars().take_while(|c| c.is_alphabetic()).count();
    let spelled = letters == 1
        || (letters > 1 && letters <= 4 && w.chars().take(letters).all(|c| c.is_ascii_uppercase()) && !is_word(&lower));
    if spelled {
        return if "aefhilmnorsx".contains(first) { "an" } else { "a" };
    }
    if first.is_ascii_digit() {
        // 8, 11, 18, 80…: "an eight", "an eleven".
        return if lower.starts_with('8') || lower.starts_with("11") || lower.starts_with("18") {
            "an"
        } else {
            "a"
        };
    }
    // Words whose first vowel letter sounds like a consonant, and the silent h.
    const YOU_OR_WON: &[&str] = &[
        "uni", "use", "usa", "usi", "usu", "uti", "ure", "uri", "eu", "ewe", "one", "once",
    ];
    const SILENT_H: &[&str] = &["hour", "honest", "honor", "honour", "heir"];
    if YOU_OR_WON.iter().any(|p| lower.starts_with(p)) && !lower.starts_with("unin") {
        return "a";
    }
    if SILENT_H.iter().any(|p| lower.starts_with(p)) {
        return "an";
    }
    if "aeiou".contains(first) {
        "an"
    } else {
        "a"
    }
}

/// Short capitalised words said as words, not letters.
fn is_word(lower: &str) -> bool {
    lower.chars().any(|c| "aeiouy".contains(c)) && !matches!(lower, "sql" | "url" | "html" | "json" | "nan" | "io")
}

/// English text with every "a"/"an" right before `{value}` made to agree with the value, so
/// "a {type}" filled with `int` reads "an int". `before` is the text up to the value.
pub fn fix_article(before: &mut String, value: &str) {
    for (article, cap) in [(" a ", false), (" an ", false), (" A ", true), (" An ", true)] {
        let with_space = format!(" {before}");
        if with_space.ends_with(article) || (with_space == article) {
            let cut = before.len() - (article.len() - 1);
            before.truncate(cut);
            let right = indefinite_article(value);
            if cap {
                before.push_str(if right == "an" { "An " } else { "A " });
            } else {
                before.push_str(right);
                before.push(' ');
            }
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_parse_and_english_is_complete() {
        let ru: toml::Table = toml::from_str(include_str!("../templates/locale/ru.toml")).unwrap();
        let en: toml::Table = toml::from_str(include_str!("../templates/locale/en.toml")).unwrap();
        for k in ru.keys() {
            assert!(en.contains_key(k), "en.toml lacks {k}");
        }
        for k in en.keys() {
            assert!(ru.contains_key(k), "ru.toml lacks {k}");
        }
        // A plural table has the forms its locale needs for whole numbers.
        for (k, v) in &ru {
            if let Some(forms) = v.as_table() {
                for c in ["one", "few", "many"] {
                    assert!(forms.contains_key(c), "ru.toml {k} lacks the {c} form");
                }
            }
        }
        for (k, v) in &en {
            if let Some(forms) = v.as_table() {
                for c in ["one", "other"] {
                    assert!(forms.contains_key(c), "en.toml {k} lacks the {c} form");
                }
            }
        }
        assert!(tf(Locale::En, "analyzer.unmatched.no_ai", &[("error", "X")]).contains("“X”"));
    }

    #[test]
    fn russian_has_three_forms_for_whole_numbers() {
        let cat = |n: &str| plural_category(Locale::Ru, n).map(category_name);
        for (n, c) in [
            ("1", "one"),
            ("2", "few"),
            ("5", "many"),
            ("11", "many"),
            ("21", "one"),
            ("22", "few"),
            ("25", "many"),
            ("101", "one"),
            ("111", "many"),
            ("1,5", "other"),
        ] {
            assert_eq!(cat(n), Some(c), "{n}");
        }
        assert_eq!(plural_category(Locale::En, "1").map(category_name), Some("one"));
        assert_eq!(plural_category(Locale::En, "11").map(category_name), Some("other"));
        assert_eq!(plural_category(Locale::Ru, "много"), None);
        let lines = |n| tp(Locale::Ru, "bot.plural.of_lines", n, &[]);
        assert_eq!(lines(1), "из 1 строки");
        assert_eq!(lines(2), "из 2 строк");
        assert_eq!(lines(21), "из 21 строки");
        assert_eq!(lines(111), "из 111 строк");
        assert_eq!(tp(Locale::En, "bot.plural.of_lines", 1, &[]), "of 1 line");
        assert_eq!(tp(Locale::En, "bot.plural.of_lines", 40, &[]), "of 40 lines");
    }

    #[test]
    fn english_articles_follow_the_sound() {
        for (w, a) in [
            ("int", "an"),
            ("str", "a"),
            ("list", "a"),
            ("object", "an"),
            ("NoneType", "a"),
            ("Integer", "an"),
            ("String", "a"),
            ("undefined", "an"),
            ("union", "a"),
            ("unicode", "a"),
            ("uninitialized", "an"),
            ("array", "an"),
            ("hour", "an"),
            ("x", "an"),
            ("SQL", "an"),
            ("URL", "a"),
            ("'", "a"),
            ("8", "an"),
            ("5", "a"),
        ] {
            assert_eq!(indefinite_article(w), a, "{w}");
        }
        let mut s = "A value of a ".to_string();
        fix_article(&mut s, "int");
        assert_eq!(s, "A value of an ");
        let mut s = "An ".to_string();
        fix_article(&mut s, "str");
        assert_eq!(s, "A ");
        let mut s = "the ".to_string();
        fix_article(&mut s, "int");
        assert_eq!(s, "the ");
    }
}
