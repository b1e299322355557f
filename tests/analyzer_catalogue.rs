//! The shipped catalogue against reality: every entry's sample program runs in the real
//! sandbox, and the entry must be the one that explains it, at the right line, with its texts
//! filled in, in Russian and in English.

mod common;

use common::{finish, sandbox};
use devmentor::analyzer::Analyzer;
use devmentor::check::{run_check, CheckRequest};
use devmentor::registry::{catalogue, Entry, Locale};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

#[test]
fn the_catalogue_is_big_enough_and_well_formed() {
    let entries = catalogue::builtin().expect("the built-in catalogue parses and validates");
    let mut per_language: HashMap<&str, usize> = HashMap::new();
    for e in &entries {
        *per_language.entry(e.language.as_str()).or_default() += 1;
        assert!(
            e.slug.starts_with(&format!("{}-", e.language)) || e.language == "*",
            "{}: slug prefix",
            e.slug
        );
        for (locale, t) in [("ru", &e.ru), ("en", &e.en)] {
            let n = words(&t.what) + words(&t.why) + words(&t.hint);
            assert!(
                (80..=160).contains(&n),
                "{} ({locale}): what+why+hint has {n} words, want 80–160",
                e.slug
            );
            assert!(!t.title.trim().is_empty(), "{} ({locale}): title", e.slug);
            assert!(
                !t.example_bad.contains("```") && !t.hint.contains("```"),
                "{} ({locale}): no code blocks",
                e.slug
            );
        }
        if e.language != "*" {
            assert!(e.sample_program.is_some(), "{}: needs a sample program", e.slug);
            assert!(
                e.sample_line.is_some()
                    || e.error_type.starts_with("SIG")
                    || e.error_type == "LinkError"
                    || e.error_type.contains("::")
                    || e.error_type == "panic" && e.language != "rust"
                    // A language's own words for a sandbox verdict: no line to point at.
                    || matches!(e.error_type.as_str(), "Timeout" | "MemoryLimit" | "OutputLimit"),
                "{}: needs a sample line",
                e.slug
            );
        }
    }
    for (lang, min) in [
        ("python", 40),
        ("javascript", 15),
        ("c", 12),
        ("cpp", 12),
        ("java", 12),
        ("go", 10),
        ("rust", 10),
        ("typescript", 15),
        ("sql", 15),
        ("php", 15),
        ("ruby", 15),
        ("bash", 15),
    ] {
        let n = per_language.get(lang).copied().unwrap_or(0);
        assert!(n >= min, "{lang}: {n} entries, want at least {min}");
    }
    for verdict in ["Timeout", "MemoryLimit", "OutputLimit"] {
        assert!(
            entries.iter().any(|e| e.language == "*" && e.error_type == verdict),
            "an entry for {verdict}"
        );
    }
}

async fn verify(
    sb: &devmentor::sandbox::Sandbox,
    analyzer: &Analyzer,
    limits: &devmentor::check::InputLimits,
    e: &Entry,
) -> Result<(), String> {
    let program = e.sample_program.as_deref().ok_or("no sample program")?;
    let mut seen = Vec::new();
    for locale in [Locale::Ru, Locale::En] {
        let request = CheckRequest {
            language: e.language.clone(),
            code: program.as_bytes().to_vec(),
            stdin: e.sample_stdin.clone().unwrap_or_default().into_bytes(),
            locale,
            check_id: None,
        };
        let r = run_check(sb, Some(analyzer), &request, limits)
            .await
            .map_err(|err| err.to_string())?;
        let x = r
            .explanation
            .as_ref()
            .ok_or_else(|| format!("no explanation; verdict {} stderr {:?}", r.verdict, r.stderr))?;
        if x.slug.as_deref() != Some(e.slug.as_str()) {
            return Err(format!(
                "matched {:?} ({}: {:?}); stderr {:?}",
                x.slug,
                x.error_type,
                x.text.chars().take(60).collect::<String>(),
                r.stderr.chars().take(400).collect::<String>()
            ));
        }
        if let Some(want) = e.sample_line {
            if x.line != Some(want) {
                return Err(format!("line {:?}, want {want}", x.line));
            }
        }
        for (what, text) in [("title", &x.title), ("text", &x.text)] {
            if text.trim().is_empty() {
                return Err(format!("{locale:?} {what} is empty"));
            }
            if catalogue::placeholders(text)
                .iter()
                .any(|p| e.pattern.contains(&format!("?P<{p}>")))
            {
                return Err(format!("{locale:?} {what} has an unfilled placeholder: {text}"));
            }
        }
        if x.source != "registry" {
            return Err(format!("source {}", x.source));
        }
        seen.push(x.title.clone());
    }
    if seen[0] == seen[1] && !e.ru.title.is_empty() {
        return Err("the Russian and English titles are identical: is the Russian text missing?".into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_entry_explains_its_own_sample_program() {
    let entries = catalogue::builtin().expect("catalogue");
    let analyzer = Arc::new(Analyzer::new(entries.clone(), None, None));
    let (mut sb, limits) = sandbox(|c| c.exec_timeout_seconds = 5).await;
    let languages: Vec<String> = sb.languages().names().iter().map(|s| s.to_string()).collect();
    sb.start_pool(&languages.iter().map(|l| (l.clone(), 1)).collect());
    let sb = Arc::new(sb);
    let with_samples: Vec<Entry> = entries.into_iter().filter(|e| e.sample_program.is_some()).collect();
    let results: Vec<(String, Result<(), String>)> = futures_util::stream::iter(with_samples)
        .map(|e| {
            let (sb, analyzer) = (sb.clone(), analyzer.clone());
            async move {
                let r = verify(&sb, &analyzer, &limits, &e).await;
                (e.slug.clone(), r)
            }
        })
        .buffer_unordered(3)
        .collect()
        .await;
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(s, r)| r.as_ref().err().map(|e| format!("{s}: {e}")))
        .collect();
    let sb = Arc::try_unwrap(sb).ok().expect("no check in flight");
    finish(sb).await;
    assert!(
        results.len() >= 111,
        "only {} entries have sample programs",
        results.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} entries failed:\n{}",
        failures.len(),
        results.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_verdicts_are_explained_too() {
    let analyzer = Analyzer::new(catalogue::builtin().expect("catalogue"), None, None);
    let (sb, limits) = sandbox(|c| c.exec_timeout_seconds = 3).await;
    let cases = [
        ("while True:\n    pass\n", "any-timeout", "3 с"),
        (
            "x = []\nwhile True:\n    x.append(bytearray(1 << 24))\n",
            "any-memory-limit",
            "256 МБ",
        ),
        ("while True:\n    print('spam' * 100)\n", "any-output-limit", "64 КБ"),
        ("import sys\nsys.exit(3)\n", "any-exit-code", "кодом 3"),
    ];
    for (code, slug, fragment) in cases {
        let request = CheckRequest {
            language: "python".into(),
            code: code.into(),
            stdin: vec![],
            locale: Locale::Ru,
            check_id: None,
        };
        let r = run_check(&sb, Some(&analyzer), &request, &limits).await.unwrap();
        let x = r
            .explanation
            .unwrap_or_else(|| panic!("{slug}: no explanation ({})", r.verdict));
        assert_eq!(x.slug.as_deref(), Some(slug), "{code}");
        assert!(
            x.title.contains(fragment) || x.text.contains(fragment),
            "{slug}: {} / {}",
            x.title,
            x.text
        );
    }
    finish(sb).await;
}
