//! A production sandbox Dockerfile builds from the same package list as the offline image and
//! gives the student the same toolchain: `make images-prod` builds containers/python/Dockerfile
//! here, on a machine that cannot pull, against an offline stand-in for debian:trixie-slim
//! (`containers/offline-base-images.sh --debian-only`, passed as `--build-arg DEBIAN_IMAGE`),
//! under a test name. The result carries dm-init and the toolchain label of the offline
//! image's Python, and programs run through the real sandbox with a language pack pointing at
//! it: output, a registry explanation at the right line, stdin.
//!
//! The built image is kept (`devmentor-prodtest/python:latest`), so a later run reuses Docker's
//! layer cache instead of downloading the packages again.

mod common;

use common::{check, finish, sandbox};
use devmentor::analyzer::Analyzer;
use devmentor::check::{run_check, CheckRequest};
use devmentor::registry::{catalogue, Locale};
use devmentor::sandbox::Verdict;
use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIX: &str = "devmentor-prodtest";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn label(image: &str, name: &str) -> String {
    run(Command::new("docker").args([
        "image",
        "inspect",
        "-f",
        &format!("{{{{index .Config.Labels \"{name}\"}}}}"),
        image,
    ]))
    .trim()
    .to_string()
}

/// "Python 3.13.5" -> "Python 3.13": Debian's point releases may differ between two builds.
fn minor(version: &str) -> String {
    let (name, number) = version.rsplit_once(' ').unwrap_or(("", version));
    let parts: Vec<&str> = number.split('.').take(2).collect();
    format!("{name} {}", parts.join("."))
}

/// A languages folder holding only the python pack, with `image` replaced.
fn python_pack_using(image: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devmentor-prodtest-{}", std::process::id()));
    let pack = dir.join("python");
    std::fs::create_dir_all(&pack).unwrap();
    let toml = std::fs::read_to_string(root().join("containers/python/language.toml")).unwrap();
    assert!(
        toml.contains("image = \"devmentor/python:latest\""),
        "python's pack names its image"
    );
    let toml = toml.replace("image = \"devmentor/python:latest\"", &format!("image = \"{image}\""));
    std::fs::write(pack.join("language.toml"), toml).unwrap();
    dir
}

fn remove(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_dockerfile_builds_on_trixie_and_runs_what_the_offline_image_runs() {
    let out = run(Command::new(root().join("containers/offline-base-images.sh"))
        .arg("--debian-only")
        .env("DEBIAN_SUITE", "trixie")
        .current_dir(root()));
    let base = out.lines().last().unwrap_or_default().trim().to_string();
    assert_eq!(base, "DEBIAN_IMAGE=devmentor/offline-debian:trixie-slim");

    // Exactly what production runs, with the base and the image names replaced.
    run(Command::new("make")
        .args(["images-prod", "LANGUAGES=python"])
        .arg(format!("IMAGE_PREFIX={PREFIX}"))
        .arg(format!("PROD_BUILD_ARGS=--build-arg {base}"))
        .current_dir(root()));
    let image = format!("{PREFIX}/python:latest");
    assert_eq!(label(&image, "devmentor.init"), "1");
    assert_eq!(
        run(Command::new("docker").args(["image", "inspect", "-f", "{{.Config.User}}", &image])).trim(),
        "10001:10001"
    );
    let toolchain = label(&image, "devmentor.toolchain");
    assert!(toolchain.starts_with("Python 3.13."), "toolchain label: {toolchain:?}");
    // The offline image (`make images`) has the same interpreter.
    let offline = label("devmentor/python:latest", "devmentor.toolchain");
    assert_eq!(
        minor(&toolchain),
        minor(&offline),
        "production {toolchain:?}, offline {offline:?}"
    );

    let dir = python_pack_using(&image);
    let (sb, limits) = sandbox(|c| {
        c.languages_dir = dir.clone();
        c.exec_timeout_seconds = 10;
    })
    .await;
    let ok = check(&sb, &limits, "python", "import sys\nprint(sys.version_info[:2])\n", "").await;
    assert_eq!(ok.verdict, Verdict::Ok, "{ok:?}");
    assert_eq!(ok.stdout, "(3, 13)\n");
    let echo = check(&sb, &limits, "python", "print('echo: ' + input())\n", "hi\n").await;
    assert_eq!(echo.stdout, "echo: hi\n", "{echo:?}");

    let analyzer = Analyzer::new(catalogue::builtin().expect("catalogue"), None, None);
    let request = CheckRequest {
        language: "python".into(),
        code: b"numbers = []\ntotal = 10\nprint(total / len(numbers))\n".to_vec(),
        stdin: vec![],
        locale: Locale::En,
        check_id: None,
    };
    let failed = run_check(&sb, Some(&analyzer), &request, &limits).await.unwrap();
    assert_eq!(failed.verdict, Verdict::RuntimeError, "{failed:?}");
    assert_eq!(failed.exit_code, Some(1));
    let x = failed.explanation.expect("an explanation");
    assert_eq!(
        (x.source.as_str(), x.slug.as_deref(), x.line),
        ("registry", Some("python-zero-division"), Some(3)),
        "{x:?}"
    );
    finish(sb).await;
    remove(&dir);
}

/// One toolchain definition, two builders: every language's Dockerfile installs its own
/// packages.txt on debian:trixie-slim and runs its prepare.sh (the scripts the offline builder
/// runs), packages.txt says how to print the version, and `make images-prod` builds it.
#[test]
fn every_language_dockerfile_follows_the_template() {
    let containers = root().join("containers");
    let makefile = std::fs::read_to_string(root().join("Makefile")).unwrap();
    let languages: Vec<&str> = makefile
        .lines()
        .find_map(|l| l.strip_prefix("LANGUAGES :="))
        .expect("the Makefile's LANGUAGES")
        .split_whitespace()
        .collect();
    let mut seen = 0;
    for entry in std::fs::read_dir(&containers).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("packages.txt").is_file() {
            continue;
        }
        seen += 1;
        let lang = dir.file_name().unwrap().to_str().unwrap().to_string();
        let packages = std::fs::read_to_string(dir.join("packages.txt")).unwrap();
        assert!(
            packages.lines().any(|l| l.trim_start().starts_with("# version:")),
            "{lang}/packages.txt has no `# version:` command"
        );
        let dockerfile =
            std::fs::read_to_string(dir.join("Dockerfile")).unwrap_or_else(|e| panic!("{lang}/Dockerfile: {e}"));
        for needed in [
            "ARG DEBIAN_IMAGE=debian:trixie-slim".to_string(),
            "FROM ${DEBIAN_IMAGE}\n".to_string(),
            format!("COPY {lang}/packages.txt /tmp/packages.txt"),
            "$(sed 's/#.*//' /tmp/packages.txt)".to_string(),
        ] {
            assert!(dockerfile.contains(&needed), "{lang}/Dockerfile lacks {needed:?}");
        }
        if dir.join("prepare.sh").is_file() {
            assert!(
                dockerfile.contains(&format!("COPY {lang}/prepare.sh"))
                    && dockerfile.contains("RUN sh /tmp/devmentor-prepare/prepare.sh"),
                "{lang}/Dockerfile does not run {lang}/prepare.sh"
            );
        }
        assert!(
            languages.contains(&lang.as_str()),
            "{lang} is not in the Makefile's LANGUAGES"
        );
    }
    assert!(seen >= 7, "only {seen} languages have a packages.txt");
}
