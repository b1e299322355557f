//! The in-memory matcher: compiled once per registry version, then lock-free to read.
//!
//! Entries are grouped by (language, error type); each group holds a `RegexSet`, so one pass
//! over the message finds every candidate, and the highest-priority candidate whose optional
//! source-line pattern also matches wins. Invalid rows are skipped with a warning, never loaded.

use super::catalogue::{pieces, Entry, EntryTexts, Piece};
use super::Locale;
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Longest message the matcher looks at; anything longer is cut first (bounded work).
const MAX_INPUT: usize = 4096;
/// Longest captured value put into a text.
const MAX_CAPTURE: usize = 80;

struct Member {
    entry: Arc<Entry>,
    regex: Regex,
    line: Option<Regex>,
}

struct Group {
    set: RegexSet,
    members: Vec<Member>,
}

pub struct Matcher {
    groups: HashMap<(String, String), Group>,
    len: usize,
}

/// A matched entry with the values its pattern captured.
#[derive(Debug, Clone)]
pub struct Match {
    pub entry: Arc<Entry>,
    pub captures: BTreeMap<String, String>,
}

impl Matcher {
    /// Builds the matcher; returns it with the slugs that were skipped and why.
    pub fn build(entries: Vec<Entry>) -> (Matcher, Vec<(String, String)>) {
        let mut skipped = Vec::new();
        let mut by_group: HashMap<(String, String), Vec<Member>> = HashMap::new();
        for entry in entries.into_iter().filter(|e| e.enabled) {
            if let Err(e) = entry.validate() {
                tracing::warn!(slug = %entry.slug, error = %e, "registry entry skipped");
                skipped.push((entry.slug.clone(), e.to_string()));
                continue;
            }
            // `validate` compiled both, so these cannot fail; stay defensive all the same.
            let Ok(regex) = RegexBuilder::new(&entry.pattern).size_limit(1 << 20).build() else {
                continue;
            };
            let line = entry
                .line_pattern
                .as_deref()
                .filter(|p| !p.is_empty())
                .and_then(|p| Regex::new(p).ok());
            by_group
                .entry((entry.language.clone(), entry.error_type.clone()))
                .or_default()
                .push(Member {
                    entry: Arc::new(entry),
                    regex,
                    line,
                });
        }
        let mut groups = HashMap::new();
        let mut len = 0;
        for (key, mut members) in by_group {
            members.sort_by(|a, b| {
                b.entry
                    .priority
                    .cmp(&a.entry.priority)
                    .then_with(|| a.entry.slug.cmp(&b.entry.slug))
            });
            let set = match RegexSetBuilder::new(members.iter().map(|m| m.entry.pattern.as_str()))
                .size_limit(1 << 24)
                .build()
            {
                Ok(set) => set,
                Err(e) => {
                    tracing::warn!(language = %key.0, error_type = %key.1, error = %e, "registry group skipped");
                    for m in &members {
                        skipped.push((m.entry.slug.clone(), e.to_string()));
                    }
                    continue;
                }
            };
            len += members.len();
            groups.insert(key, Group { set, members });
        }
        (Matcher { groups, len }, skipped)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The best entry for an error: the language's own entries first, then those for every
    /// language (`*`).
    pub fn find(&self, language: &str, error_type: &str, message: &str, source_line: Option<&str>) -> Option<Match> {
        let message = cut(message, MAX_INPUT);
        for lang in [language, "*"] {
            let Some(group) = self.groups.get(&(lang.to_string(), error_type.to_string())) else {
                continue;
            };
            let hits = group.set.matches(message);
            if !hits.matched_any() {
                continue;
            }
            // Members are in priority order, so the first hit that also passes its line
            // pattern is the winner.
            for (i, m) in group.members.iter().enumerate() {
                if !hits.matched(i) {
                    continue;
                }
                if let Some(line_re) = &m.line {
                    if !source_line.is_some_and(|l| line_re.is_match(cut(l, MAX_INPUT))) {
                        continue;
                    }
                }
                let mut captures = BTreeMap::new();
                if let Some(c) = m.regex.captures(message) {
                    for name in m.regex.capture_names().flatten() {
                        if let Some(v) = c.name(name) {
                            captures.insert(name.to_string(), cut(v.as_str(), MAX_CAPTURE).to_string());
                        }
                    }
                }
                return Some(Match {
                    entry: m.entry.clone(),
                    captures,
                });
            }
        }
        None
    }
}

/// What the live matcher makes of `entry`'s own sample once `entry` joins `registry` (in place
/// of the entry with its slug): `Ok` when it picks `entry`; otherwise the slug that wins
/// instead, or `None` when nothing matches. The sample is read as the matcher reads a real
/// error ([`Entry::sample_message`]), and the failing line is the sample program's
/// `sample_line` when there is one.
pub fn sample_check(registry: Vec<Entry>, entry: &Entry) -> Result<(), Option<String>> {
    let line = entry
        .sample_program
        .as_deref()
        .zip(entry.sample_line)
        .and_then(|(p, n)| p.lines().nth(n.saturating_sub(1) as usize))
        .map(str::trim);
    let mut candidate = entry.clone();
    candidate.enabled = true;
    if line.is_none() {
        // A line pattern with no sample line to try it on: check the message alone.
        candidate.line_pattern = None;
    }
    let mut all: Vec<Entry> = registry.into_iter().filter(|e| e.slug != entry.slug).collect();
    all.push(candidate);
    let (matcher, _) = Matcher::build(all);
    match matcher.find(&entry.language, &entry.error_type, entry.sample_message(), line) {
        Some(m) if m.entry.slug == entry.slug => Ok(()),
        Some(m) => Err(Some(m.entry.slug.clone())),
        None => Err(None),
    }
}

impl Match {
    /// The texts in `locale`, each field falling back to English where the locale's is empty.
    /// The entry's texts for `locale`, placeholders filled in.
    pub fn render(&self, locale: Locale) -> EntryTexts {
        let own = self.entry.texts(locale);
        let en = &self.entry.en;
        // A field missing in `locale` is the English one, filled by English rules.
        let pick = |f: fn(&EntryTexts) -> &String| {
            let v = f(own);
            if v.trim().is_empty() {
                (f(en).clone(), Locale::En)
            } else {
                (v.clone(), locale)
            }
        };
        let fill = |(s, l): (String, Locale)| fill(&s, &self.captures, l);
        EntryTexts {
            title: fill(pick(|t| &t.title)),
            what: fill(pick(|t| &t.what)),
            why: fill(pick(|t| &t.why)),
            hint: fill(pick(|t| &t.hint)),
            example_bad: pick(|t| &t.example_bad).0,
            example_good: pick(|t| &t.example_good).0,
        }
    }
}

/// Fills `{name}` with its captured value (a missing capture becomes an empty string) and
/// `{name:form|form…}` with the number and the form its plural category takes in `locale`.
/// In English an "a"/"an" right before a value is made to agree with it ("an int").
pub fn fill(text: &str, captures: &BTreeMap<String, String>, locale: Locale) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for piece in pieces(text) {
        match piece {
            Piece::Text(t) => out.push_str(t),
            Piece::Value(name) => {
                let value = captures.get(name).map(String::as_str).unwrap_or("");
                if locale == Locale::En {
                    crate::i18n::fix_article(&mut out, value);
                }
                out.push_str(value);
            }
            Piece::Plural(name, forms) => {
                let value = captures.get(name).map(String::as_str).unwrap_or("");
                out.push_str(value);
                out.push(' ');
                out.push_str(plural_form(locale, value, &forms));
            }
        }
    }
    out
}

/// The form for `number` among `forms`, listed in the locale's CLDR order (ru: one, few,
/// many, other; en: one, other); a missing form is the last one given.
fn plural_form<'a>(locale: Locale, number: &str, forms: &[&'a str]) -> &'a str {
    use intl_pluralrules::PluralCategory as C;
    let order: &[C] = match locale {
        Locale::Ru => &[C::ONE, C::FEW, C::MANY, C::OTHER],
        Locale::En => &[C::ONE, C::OTHER],
    };
    // Russian fractions ("2,5 секунды") take the genitive singular, which is the "few" form.
    let category = crate::i18n::plural_category(locale, number).unwrap_or(C::OTHER);
    let index = order.iter().position(|c| *c == category).unwrap_or(order.len() - 1);
    let index = if locale == Locale::Ru && category == C::OTHER && forms.len() < 4 {
        1
    } else {
        index
    };
    forms.get(index).or(forms.last()).copied().unwrap_or("")
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::catalogue::parse;

    const SAMPLE: &str = r#"
[[entry]]
slug = "python-name-error"
error_type = "NameError"
pattern = "^name '(?P<name>[^']+)' is not defined"
priority = 50
sample_error = "name 'x' is not defined"
[entry.ru]
title = "Имя {name} не найдено"
what = "Питон не знает имени {name}."
[entry.en]
title = "Name {name} is not defined"
what = "Python does not know {name}."
why = "Typo?"
hint = "Check the spelling."

[[entry]]
slug = "python-name-error-print"
error_type = "NameError"
pattern = "^name '(?P<name>pr[a-z]*t)' is not defined"
priority = 90
sample_error = "name 'prnt' is not defined"
[entry.en]
title = "Did you mean print?"
"#;

    #[test]
    fn priority_captures_and_locale_fallback() {
        let entries = parse(SAMPLE, "test", "python").unwrap();
        let (m, skipped) = Matcher::build(entries);
        assert!(skipped.is_empty());
        assert_eq!(m.len(), 2);
        let hit = m
            .find("python", "NameError", "name 'prnt' is not defined", None)
            .unwrap();
        assert_eq!(hit.entry.slug, "python-name-error-print");
        let hit = m
            .find(
                "python",
                "NameError",
                "name 'total' is not defined",
                Some("print(total)"),
            )
            .unwrap();
        assert_eq!(hit.entry.slug, "python-name-error");
        let ru = hit.render(Locale::Ru);
        assert_eq!(ru.title, "Имя total не найдено");
        assert_eq!(ru.why, "Typo?", "missing Russian falls back to English");
        assert_eq!(hit.render(Locale::En).what, "Python does not know total.");
        assert!(m.find("python", "TypeError", "x", None).is_none());
        assert!(m
            .find("javascript", "NameError", "name 'x' is not defined", None)
            .is_none());
    }

    #[test]
    fn a_sample_with_its_type_is_read_as_the_matcher_reads_a_real_error() {
        use crate::registry::catalogue::message_of;
        assert_eq!(
            message_of("JSONDecodeError", "JSONDecodeError: Expecting value: line 1"),
            "Expecting value: line 1"
        );
        assert_eq!(
            message_of("JSONDecodeError", "json.decoder.JSONDecodeError: Expecting value"),
            "Expecting value"
        );
        assert_eq!(message_of("KeyError", "name 'x': y"), "name 'x': y");
        assert_eq!(
            message_of("NameError", "name 'x' is not defined"),
            "name 'x' is not defined"
        );
        let mut entries = parse(SAMPLE, "test", "python").unwrap();
        // The backlog's old pre-fill: the pattern and the sample both carry the type.
        let mut e = entries[0].clone();
        e.slug = "python-json".into();
        e.error_type = "JSONDecodeError".into();
        e.pattern = "^JSONDecodeError: Expecting".into();
        e.sample_error = "JSONDecodeError: Expecting value: line 1 column 1 (char 0)".into();
        e.ru.title = "JSON".into();
        e.en.title = "JSON".into();
        e.ru.what = String::new();
        e.en.what = String::new();
        assert!(
            e.validate().is_err(),
            "the matcher never sees the type, so neither does the check"
        );
        assert_eq!(sample_check(entries.clone(), &e), Err(None));
        e.pattern = "^Expecting value".into();
        assert!(e.validate().is_ok());
        assert_eq!(sample_check(entries.clone(), &e), Ok(()));
        let (m, _) = Matcher::build(vec![e.clone()]);
        assert!(m
            .find(
                "python",
                "JSONDecodeError",
                "Expecting value: line 1 column 1 (char 0)",
                None
            )
            .is_some());
        // Shadowed by a higher-priority entry of the same kind: the check names it.
        entries[1].pattern = "^name '(?P<name>[^']+)' is not defined".into();
        entries[0].priority = 10;
        assert_eq!(
            sample_check(entries.clone(), &entries[0]),
            Err(Some("python-name-error-print".into()))
        );
    }

    #[test]
    fn invalid_rows_are_never_loaded() {
        let mut entries = parse(SAMPLE, "test", "python").unwrap();
        entries[0].pattern = "([unclosed".into();
        let (m, skipped) = Matcher::build(entries);
        assert_eq!(m.len(), 1);
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].1.contains("does not compile"), "{}", skipped[0].1);
    }

    #[test]
    fn fill_agrees_numbers_and_articles() {
        let caps = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let ru = "в массиве всего {n:элемент|элемента|элементов}";
        for (n, want) in [
            ("1", "1 элемент"),
            ("2", "2 элемента"),
            ("5", "5 элементов"),
            ("11", "11 элементов"),
            ("21", "21 элемент"),
            ("22", "22 элемента"),
            ("25", "25 элементов"),
            ("101", "101 элемент"),
            ("111", "111 элементов"),
        ] {
            assert_eq!(
                fill(ru, &caps(&[("n", n)]), Locale::Ru),
                format!("в массиве всего {want}")
            );
        }
        // A fraction takes the fourth form when one is given, else the "few" one.
        let secs = "дольше {s:секунды|секунд|секунд|секунды}";
        assert_eq!(fill(secs, &caps(&[("s", "2.5")]), Locale::Ru), "дольше 2.5 секунды");
        assert_eq!(fill(secs, &caps(&[("s", "5")]), Locale::Ru), "дольше 5 секунд");
        let en = "only {n:element|elements}";
        assert_eq!(fill(en, &caps(&[("n", "1")]), Locale::En), "only 1 element");
        assert_eq!(fill(en, &caps(&[("n", "11")]), Locale::En), "only 11 elements");
        let t = "A {type} value met a {other}; use an {type} here";
        assert_eq!(
            fill(t, &caps(&[("type", "int"), ("other", "str")]), Locale::En),
            "An int value met a str; use an int here"
        );
        assert_eq!(
            fill(t, &caps(&[("type", "NoneType"), ("other", "object")]), Locale::En),
            "A NoneType value met an object; use a NoneType here"
        );
        // Russian has no articles: the text is left alone; code braces stay text.
        assert_eq!(fill("a {x} {y: 1}", &caps(&[("x", "int")]), Locale::Ru), "a int {y: 1}");
    }
}
