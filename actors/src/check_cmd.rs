//! `devmentor check FILE`: one program through the same pipeline the workers use.
//!
//! Exit status 0 whenever a verdict was produced (a failing program is a successful check);
//! 2 when the input is unusable; 3 when the machine is not ready (Docker, images).

use crate::term::{self, paint};
use anyhow::Context;
use devmentor::check::{run_check, validate_source, CheckError, CheckRequest, CheckResult, InputLimits};
use devmentor::registry::Locale;
use devmentor::sandbox::{Sandbox, SandboxError, Verdict};
use devmentor::Config;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The program's source file (`-` reads it from standard input).
    file: PathBuf,
    /// The language (python, javascript, c, cpp, java, go, rust, or an alias); default: from
    /// the file's extension.
    #[arg(long, value_name = "L")]
    lang: Option<String>,
    /// A file whose contents become the program's standard input.
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// Print exactly one JSON object instead of the human report.
    #[arg(long)]
    json: bool,
    /// Language of the explanation: ru (default) or en.
    #[arg(long, default_value = "ru", value_parser = parse_locale)]
    locale: Locale,
}

fn parse_locale(s: &str) -> Result<Locale, String> {
    Locale::parse(s).ok_or_else(|| format!("unknown locale {s:?}: use ru or en"))
}

fn read_input(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).context("cannot read standard input")?;
        return Ok(buf);
    }
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

pub async fn run(config: &Config, args: CheckArgs) -> anyhow::Result<ExitCode> {
    let limits = InputLimits::from(&config.sandbox);
    // Everything that can be judged without Docker is judged first: a typo should not wait on
    // the engine, and the messages stay useful on a machine without it.
    let code = match read_input(&args.file, "source file") {
        Ok(c) => c,
        Err(e) => return Ok(fail_input(&format!("{e:#}"))),
    };
    let stdin = match &args.stdin {
        Some(p) => match read_input(p, "stdin file") {
            Ok(s) => s,
            Err(e) => return Ok(fail_input(&format!("{e:#}"))),
        },
        None => Vec::new(),
    };
    if let Err(e) = validate_source(&code, &limits) {
        return Ok(fail_input(&format!("{}: {e}", args.file.display())));
    }

    let languages = devmentor::sandbox::Languages::from_config(&config.sandbox)?;
    let language = match &args.lang {
        Some(l) => match languages.find(l) {
            Some(p) => p.name.clone(),
            None => {
                return Ok(fail_input(&format!(
                    "unsupported language {l:?}; supported: {}",
                    languages.names().join(", ")
                )))
            }
        },
        None => {
            let ext = args.file.extension().and_then(|e| e.to_str()).unwrap_or("");
            match languages.by_extension(ext) {
                Some(p) => p.name.clone(),
                None => {
                    return Ok(fail_input(&format!(
                        "cannot tell the language of {} from its extension{}; pass --lang (one of: {})",
                        args.file.display(),
                        if ext.is_empty() {
                            String::new()
                        } else {
                            format!(" .{ext}")
                        },
                        languages.names().join(", ")
                    )))
                }
            }
        }
    };

    let sandbox = match Sandbox::connect(&config.sandbox).await {
        Ok(s) => s,
        Err(e) => return Ok(fail_env(&e)),
    };
    let result = async {
        let pack = sandbox.languages().find(&language).context("language vanished")?;
        if let Err(e) = sandbox.ensure_image(pack).await {
            return Ok(Err(e));
        }
        if let Err(e) = sandbox.reap_orphans().await {
            tracing::warn!(error = %e, "could not reap orphaned containers");
        }
        let (analyzer, _) = crate::setup::analyzer(config).await?;
        let request = CheckRequest {
            language: language.clone(),
            code,
            stdin,
            locale: args.locale,
            check_id: None,
        };
        anyhow::Ok(match run_check(&sandbox, Some(&analyzer), &request, &limits).await {
            Ok(r) => Ok(r),
            Err(CheckError::Sandbox(e)) => Err(e),
            Err(e) => return Err(e.into()),
        })
    }
    .await;
    // Whatever happened, every container this command made is gone before it exits.
    sandbox.shutdown().await;
    match result? {
        Ok(r) => {
            if args.json {
                emit(&(serde_json::to_string(&r)? + "\n"));
            } else {
                emit(&print_human(&r, &args.file));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Ok(fail_env(&e)),
    }
}

/// Writes the command's report to stdout. A reader that closed the pipe early (`| head`) has
/// what it wanted: that is not an error and never a panic.
fn emit(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

fn fail_input(message: &str) -> ExitCode {
    eprintln!("{} {message}", paint(term::RED, "error:", term::stderr_is_tty()));
    ExitCode::from(2)
}

fn fail_env(e: &SandboxError) -> ExitCode {
    eprintln!("{} {e}", paint(term::RED, "error:", term::stderr_is_tty()));
    ExitCode::from(3)
}

fn verdict_words(v: Verdict) -> (&'static str, &'static str, &'static str) {
    match v {
        Verdict::Ok => ("✔", "OK", term::GREEN),
        Verdict::RuntimeError => ("✘", "Runtime error", term::RED),
        Verdict::CompileError => ("✘", "Compilation error", term::RED),
        Verdict::Timeout => ("⏱", "Time limit exceeded", term::YELLOW),
        Verdict::MemoryLimit => ("▲", "Memory limit exceeded", term::YELLOW),
        Verdict::Stopped => ("■", "Stopped before it ended", term::YELLOW),
        Verdict::InternalError => ("!", "Internal error (not your program's fault)", term::RED),
    }
}

fn print_human(r: &CheckResult, file: &Path) -> String {
    let mut out = String::new();
    let color = term::stdout_is_tty();
    let (mark, words, code) = verdict_words(r.verdict);
    let mut status = format!("{mark} {words}");
    match (&r.signal, r.exit_code) {
        (Some(sig), _) => status.push_str(&format!(" · killed by {sig}")),
        (None, Some(c)) => status.push_str(&format!(" · exit code {c}")),
        _ => {}
    }
    status.push_str(&format!(" · {} ms", r.duration_ms));
    let _ = writeln!(
        out,
        "{}",
        paint(term::DIM, &format!("{} · {}", r.language, file.display()), color)
    );
    let _ = writeln!(out, "{}", paint(&format!("{};{code}", term::BOLD), &status, color));
    for (name, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if text.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", paint(term::CYAN, &format!("── {name} ──"), color));
        let _ = write!(out, "{text}");
        if !text.ends_with('\n') {
            let _ = writeln!(out);
        }
    }
    if r.stdout.is_empty() && r.stderr.is_empty() {
        let _ = writeln!(out, "{}", paint(term::DIM, "(no output)", color));
    }
    if r.truncated {
        let _ = writeln!(
            out,
            "{}",
            paint(
                term::YELLOW,
                "… output truncated at the limit; the program was stopped",
                color
            )
        );
    }
    if let Some(e) = &r.explanation {
        print_explanation(&mut out, e, color);
    }
    out
}

fn print_explanation(out: &mut String, e: &devmentor::analyzer::Explanation, color: bool) {
    let source = match e.source.as_str() {
        "registry" => format!("registry: {}", e.slug.as_deref().unwrap_or("")),
        other => other.to_string(),
    };
    let _ = writeln!(out);
    let title = paint(
        &format!("{};{}", term::BOLD, term::CYAN),
        &format!("💡 {}", e.title),
        color,
    );
    let _ = writeln!(out, "{title} {}", paint(term::DIM, &format!("({source})"), color));
    if let (Some(line), Some(src)) = (e.line, &e.source_line) {
        let _ = writeln!(out, "{}", paint(term::DIM, &format!("   line {line}: {src}"), color));
    }
    if let Some(s) = &e.suggestion {
        let _ = writeln!(out, "{}", paint(term::DIM, &format!("   suggestion: {s}"), color));
    }
    let _ = writeln!(out, "{}", e.text);
    if let Some(h) = &e.hint {
        let _ = writeln!(out, "{} {h}", paint(term::YELLOW, "→", color));
    }
}

pub async fn list_languages(config: &Config) -> anyhow::Result<ExitCode> {
    let sandbox = Sandbox::connect(&config.sandbox).await;
    let languages = devmentor::sandbox::Languages::from_config(&config.sandbox)?;
    let mut out = String::new();
    for pack in languages.iter() {
        // The toolchain's version is the image's own label (set when it was built).
        let (version, image) = match &sandbox {
            Ok(s) => match devmentor::sandbox::inspect_image(s.docker(), pack).await {
                Ok(info) => (
                    info.toolchain.unwrap_or_else(|| "version unknown".into()),
                    "image ready",
                ),
                Err(SandboxError::ImageMissing { .. }) => ("-".into(), "image missing (make images)"),
                Err(SandboxError::ImageOutdated { .. }) => ("-".into(), "image outdated (make images)"),
                Err(_) => ("-".into(), "image unknown"),
            },
            Err(_) => ("-".into(), "docker unreachable"),
        };
        let _ = writeln!(
            out,
            "{:<11} {:<22} .{:<18} {:<28} {:<29} {}",
            pack.name,
            pack.display_name,
            pack.extensions.join(" ."),
            pack.image,
            image,
            version
        );
    }
    emit(&out);
    Ok(ExitCode::SUCCESS)
}
