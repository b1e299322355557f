//! `devmentor migrate` and `devmentor registry …`: the common-error registry from the command
//! line.

use crate::setup;
use anyhow::Context;
use devmentor::analyzer::extract;
use devmentor::check::{run_check, CheckRequest, InputLimits};
use devmentor::registry::{self, catalogue, Entry, Locale, Matcher};
use devmentor::sandbox::{Languages, Sandbox};
use devmentor::store::Store;
use devmentor::Config;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum RegistryCommand {
    /// Upsert catalogue entries by slug (default: the `containers/` folder, else the built-in
    /// catalogue). Entries an admin edited are never overwritten.
    Import { path: Option<PathBuf> },
    /// Show which entry matches an error text (a file, or `-` / nothing for stdin).
    Test {
        file: Option<PathBuf>,
        #[arg(long, value_name = "L")]
        lang: String,
        #[arg(long, default_value = "ru")]
        locale: String,
    },
    /// Run every entry's sample program in the sandbox and check that the entry matches it.
    Verify {
        /// A catalogue file or folder (default: the built-in catalogue).
        path: Option<PathBuf>,
        #[arg(long, value_name = "L")]
        lang: Option<String>,
    },
    /// List the entries of the registry in use.
    List {
        #[arg(long, value_name = "L")]
        lang: Option<String>,
    },
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    Ok(Store::connect(config.database_url.expose(), Duration::from_secs(5)).await?)
}

/// The shipped catalogue: the `containers/` folder when present, else the built-in copy.
fn shipped_catalogue(config: &Config) -> anyhow::Result<Vec<Entry>> {
    let dir = &config.sandbox.languages_dir;
    if dir.join("errors-common.toml").is_file() {
        Ok(catalogue::load_path(dir)?)
    } else {
        Ok(catalogue::builtin()?)
    }
}

pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let store = connect(config).await?;
    let applied = store.migrate().await?;
    if applied.is_empty() {
        println!("migrations: up to date");
    } else {
        for m in &applied {
            println!("applied {m}");
        }
    }
    let mut client = store.client().await?;
    let kinds = devmentor::analyzer::kind::backfill(&client).await?;
    if kinds > 0 {
        println!("backlog: {kinds} earlier explanation events grouped by the kind of their error");
    }
    if registry::store::count(&client).await? == 0 {
        let entries = shipped_catalogue(config)?;
        let report = registry::store::import(&mut client, &entries).await?;
        println!("registry was empty: loaded {} catalogue entries", report.inserted);
    } else {
        println!(
            "registry: {} entries (use `devmentor registry import` to update from the catalogue)",
            registry::store::count(&client).await?
        );
    }
    crate::tasks_cmd::load_starter_if_empty(&store).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn run(config: &Config, what: RegistryCommand) -> anyhow::Result<ExitCode> {
    match what {
        RegistryCommand::Import { path } => {
            let entries = match path {
                Some(p) => catalogue::load_path(&p)?,
                None => shipped_catalogue(config)?,
            };
            let store = connect(config).await?;
            store.migrate().await?;
            let mut client = store.client().await?;
            let r = registry::store::import(&mut client, &entries).await?;
            println!(
                "imported {} entries: {} new, {} updated, {} kept as an admin edited them",
                entries.len(),
                r.inserted,
                r.updated,
                r.kept_admin_edits
            );
            Ok(ExitCode::SUCCESS)
        }
        RegistryCommand::Test { file, lang, locale } => test(config, file.as_deref(), &lang, &locale).await,
        RegistryCommand::Verify { path, lang } => verify(config, path.as_deref(), lang.as_deref()).await,
        RegistryCommand::List { lang } => {
            let store = setup::try_store(config).await;
            let (entries, _) = setup::registry_entries(store.as_ref()).await?;
            for e in entries
                .iter()
                .filter(|e| lang.as_deref().is_none_or(|l| e.language == l))
            {
                println!(
                    "{:<44} {:<11} {:<28} {:>4}  {}",
                    e.slug, e.language, e.error_type, e.priority, e.en.title
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn languages(config: &Config) -> anyhow::Result<Languages> {
    Ok(devmentor::sandbox::Languages::from_config(&config.sandbox)?)
}

async fn test(config: &Config, file: Option<&Path>, lang: &str, locale: &str) -> anyhow::Result<ExitCode> {
    let locale = Locale::parse(locale).with_context(|| format!("unknown locale {locale:?}: use ru or en"))?;
    let langs = languages(config)?;
    let pack = langs
        .find(lang)
        .with_context(|| format!("unsupported language {lang:?}; supported: {}", langs.names().join(", ")))?;
    let mut raw = Vec::new();
    match file {
        Some(p) if p != Path::new("-") => {
            raw = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        _ => {
            std::io::stdin()
                .read_to_end(&mut raw)
                .context("cannot read standard input")?;
        }
    }
    let text = String::from_utf8_lossy(&raw);
    let (clean, report) = extract::split_python_report(&text);
    let Some(error) = extract::extract(&pack.name, &clean, report.as_deref(), "", &pack.file) else {
        println!("no recognisable {} error in this text", pack.name);
        return Ok(ExitCode::from(1));
    };
    let store = setup::try_store(config).await;
    let (entries, _) = setup::registry_entries(store.as_ref()).await?;
    let (matcher, _) = Matcher::build(entries);
    println!("error type: {}", error.error_type);
    println!("message:    {}", error.message);
    if let Some(l) = error.line {
        println!("line:       {l}");
    }
    if let Some(s) = &error.suggestion {
        println!("suggestion: {s}");
    }
    match matcher.find(
        &pack.name,
        &error.error_type,
        &error.message,
        error.source_line.as_deref(),
    ) {
        Some(m) => {
            let r = m.render(locale);
            println!("matched:    {} (priority {})", m.entry.slug, m.entry.priority);
            for (k, v) in &m.captures {
                println!("  {k} = {v}");
            }
            println!("\n{}\n\n{}\n\n{}\n\n→ {}", r.title, r.what, r.why, r.hint);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            println!("matched:    nothing (the AI would be asked)");
            Ok(ExitCode::from(1))
        }
    }
}

/// Runs every sample program through the real pipeline; prints one line per entry.
async fn verify(config: &Config, path: Option<&Path>, lang: Option<&str>) -> anyhow::Result<ExitCode> {
    let entries = match path {
        Some(p) => catalogue::load_path(p)?,
        None => catalogue::builtin()?,
    };
    let mut all = catalogue::builtin()?;
    // The entries under test replace their built-in namesakes, so new ones are matched too.
    all.retain(|e| !entries.iter().any(|n| n.slug == e.slug));
    all.extend(entries.iter().cloned());
    let analyzer = devmentor::analyzer::Analyzer::new(all, None, None);
    let sandbox = Sandbox::connect(&config.sandbox).await?;
    let limits = InputLimits::from(&config.sandbox);
    let mut failures = 0;
    let mut checked = 0;
    for e in entries.iter().filter(|e| lang.is_none_or(|l| e.language == l)) {
        let Some(program) = &e.sample_program else { continue };
        checked += 1;
        let request = CheckRequest {
            language: e.language.clone(),
            code: program.as_bytes().to_vec(),
            stdin: e.sample_stdin.clone().unwrap_or_default().into_bytes(),
            locale: Locale::Ru,
            check_id: None,
        };
        let outcome = match run_check(&sandbox, Some(&analyzer), &request, &limits).await {
            Ok(r) => r,
            Err(err) => {
                failures += 1;
                println!("FAIL {:<44} the check did not run: {err}", e.slug);
                continue;
            }
        };
        let got = outcome.explanation.as_ref();
        let slug = got.and_then(|x| x.slug.as_deref()).unwrap_or("-");
        let line = got.and_then(|x| x.line);
        if slug == e.slug && (e.sample_line.is_none() || line == e.sample_line) {
            println!(
                "ok   {:<44} line {}",
                e.slug,
                line.map(|l| l.to_string()).unwrap_or("-".into())
            );
        } else {
            failures += 1;
            let shown: String = outcome.stderr.chars().take(300).collect();
            println!(
                "FAIL {:<44} got {slug} at line {:?} (want line {:?}); verdict {}; stderr: {shown:?}",
                e.slug, line, e.sample_line, outcome.verdict
            );
        }
    }
    sandbox.shutdown().await;
    println!("{checked} entries verified, {failures} failed");
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
