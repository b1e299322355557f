//! `devmentor check` as a user runs it: the exact JSON shape, the human report, and a clear
//! message with the right exit status for every kind of bad input.

/// Where the services are and a database per test: the harness both test crates share.
#[path = "../../tests/common/harness.rs"]
mod harness;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn devmentor(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_devmentor"));
    cmd.args(args)
        .current_dir(workspace())
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run devmentor")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn scratch(name: &str, content: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("devmentor-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn json_output_is_exactly_one_object_with_the_documented_fields() {
    let file = scratch("hello.py", b"print('hi')\nimport sys\nprint('err', file=sys.stderr)\n");
    let out = devmentor(&["check", file.to_str().unwrap(), "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "language",
        "verdict",
        "exit_code",
        "signal",
        "stdout",
        "stderr",
        "truncated",
        "duration_ms",
        "explanation",
    ];
    expected.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected);
    assert_eq!(v["language"], "python");
    assert_eq!(v["verdict"], "ok");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["signal"], serde_json::Value::Null);
    assert_eq!(v["stdout"], "hi\n");
    assert_eq!(v["stderr"], "err\n");
    assert_eq!(v["truncated"], false);
    assert!(v["duration_ms"].as_u64().is_some());
    assert_eq!(v["explanation"], serde_json::Value::Null);
}

#[test]
fn a_failing_program_is_a_successful_check_with_stdin_and_lang() {
    let file = scratch("prog.txt", b"n = int(input())\nprint(10 // n)\n");
    let input = scratch("in.txt", b"0\n");
    let out = devmentor(
        &[
            "check",
            file.to_str().unwrap(),
            "--lang",
            "py",
            "--stdin",
            input.to_str().unwrap(),
            "--json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "runtime_error");
    assert_eq!(v["exit_code"], 1);
    assert!(v["stderr"].as_str().unwrap().contains("ZeroDivisionError"));
}

#[test]
fn the_human_report_says_what_happened() {
    let file = scratch(
        "boom.c",
        b"#include <stdio.h>\nint main(void) { puts(\"before\"); return 5; }\n",
    );
    let out = devmentor(&["check", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("Runtime error"), "{s}");
    assert!(s.contains("exit code 5"), "{s}");
    assert!(s.contains("before"), "{s}");
    assert!(!s.contains("\x1b["), "no colours when not a terminal");
}

#[test]
fn a_reader_that_closes_the_pipe_early_is_not_a_crash() {
    // `devmentor check prog.py | head -1`: the reader may be gone before the report is written.
    let file = scratch("many.py", b"for i in range(2000):\n    print(i)\n");
    for json in [false, true] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_devmentor"));
        cmd.args(["check", file.to_str().unwrap()])
            .current_dir(workspace())
            .env_remove("RUST_LOG")
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take()); // the reader is gone before anything is written
        let out = child.wait_with_output().unwrap();
        let err = text(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(out.status.code(), Some(0), "{err}");
    }
}

fn assert_refused(args: &[&str], env: &[(&str, &str)], status: i32, needle: &str) {
    let out = devmentor(args, env);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(status), "{args:?}: {err}");
    assert!(err.contains(needle), "{args:?}: expected {needle:?} in {err:?}");
    assert!(out.stdout.is_empty(), "nothing on stdout when no check ran");
}

#[test]
fn bad_input_gets_a_clear_message_and_a_nonzero_status() {
    let empty = scratch("empty.py", b"");
    assert_refused(
        &["check", empty.to_str().unwrap(), "--json"],
        &[],
        2,
        "the source is empty",
    );
    let big = scratch("big.py", &vec![b'#'; 70 * 1024]);
    assert_refused(&["check", big.to_str().unwrap()], &[], 2, "the limit is 65536 bytes");
    let binary = scratch("bin.py", &[0x7f, b'E', b'L', b'F', 0, 0, 0xff, 0xfe]);
    assert_refused(&["check", binary.to_str().unwrap()], &[], 2, "not text");
    let unknown = scratch("notes.xyz", b"print(1)\n");
    assert_refused(&["check", unknown.to_str().unwrap()], &[], 2, "pass --lang");
    let py = scratch("ok.py", b"print(1)\n");
    assert_refused(
        &["check", py.to_str().unwrap(), "--lang", "cobol"],
        &[],
        2,
        "unsupported language \"cobol\"",
    );
    assert_refused(
        &["check", "/nonexistent/prog.py"],
        &[],
        2,
        "cannot read the source file",
    );
}

#[test]
fn docker_down_and_missing_images_say_how_to_fix_it() {
    let py = scratch("fine.py", b"print(1)\n");
    assert_refused(
        &["check", py.to_str().unwrap()],
        &[("DOCKER_HOST", "unix:///nonexistent/docker.sock")],
        3,
        "Start it",
    );
    // A language pack whose image was never built.
    let dir = std::env::temp_dir().join(format!("devmentor-packs-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("ghost")).unwrap();
    std::fs::write(
        dir.join("ghost/language.toml"),
        "name = 'ghost'\ndisplay_name = 'Ghost'\nextensions = ['gh']\nimage = 'devmentor/ghost-never-built:latest'\nfile = 'main.gh'\nrun = 'cat main.gh'\n",
    )
    .unwrap();
    let gh = scratch("x.gh", b"boo\n");
    assert_refused(
        &["check", gh.to_str().unwrap()],
        &[("SANDBOX_LANGUAGES_DIR", dir.to_str().unwrap())],
        3,
        "make images",
    );
}

#[test]
fn a_registry_explanation_in_russian_by_default_and_english_on_request() {
    let file = workspace().join("tests/programs/zero_division.py");
    let out = devmentor(&["check", file.to_str().unwrap(), "--json"], &[("AI_API_KEY", "")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = &v["explanation"];
    assert_eq!(x["source"], "registry");
    assert_eq!(x["slug"], "python-zero-division");
    assert_eq!(x["error_type"], "ZeroDivisionError");
    assert_eq!(x["line"], 2, "the line inside average(), where the division is");
    assert!(
        x["title"].as_str().unwrap().chars().any(|c| ('а'..='я').contains(&c)),
        "Russian: {x}"
    );
    assert!(
        !v["stderr"].as_str().unwrap().contains("DMERR"),
        "the hook's report is not shown"
    );

    let out = devmentor(&["check", file.to_str().unwrap(), "--json", "--locale", "en"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let title = v["explanation"]["title"].as_str().unwrap();
    assert!(title.is_ascii() && !title.is_empty(), "English: {title}");
    assert_eq!(v["explanation"]["line"], 2);
    // The human report shows it too.
    let out = devmentor(&["check", file.to_str().unwrap()], &[]);
    let s = text(&out.stdout);
    assert!(s.contains("registry: python-zero-division"), "{s}");
}

#[test]
fn registry_test_shows_which_entry_matches_an_error_text() {
    let err = scratch(
        "err.txt",
        b"Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 4, in <module>\nKeyError: 'apples'\n",
    );
    let out = devmentor(
        &[
            "registry",
            "test",
            err.to_str().unwrap(),
            "--lang",
            "python",
            "--locale",
            "en",
        ],
        &[],
    );
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{s}{}", text(&out.stderr));
    assert!(s.contains("matched:    python-key-error"), "{s}");
    assert!(s.contains("apples"), "captures are shown and filled in: {s}");
    let nothing = scratch("none.txt", b"all good here\n");
    let out = devmentor(
        &["registry", "test", nothing.to_str().unwrap(), "--lang", "python"],
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("no recognisable python error"));
}

#[test]
fn migrate_loads_the_catalogue_into_an_empty_registry_once() {
    let name = format!("dm_cli_{}", std::process::id());
    let url = harness::create_database(&name);
    let out = devmentor(&["migrate"], &[("DATABASE_URL", &url)]);
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{s}{}", text(&out.stderr));
    assert!(s.contains("applied V1__registry"), "{s}");
    assert!(s.contains("loaded") && s.contains("catalogue entries"), "{s}");
    let again = devmentor(&["migrate"], &[("DATABASE_URL", &url)]);
    assert!(text(&again.stdout).contains("up to date"));
    let import = devmentor(&["registry", "import"], &[("DATABASE_URL", &url)]);
    assert!(text(&import.stdout).contains("0 new"), "{}", text(&import.stdout));
    // With a database, check uses it and records the explanation.
    let file = workspace().join("tests/programs/zero_division.py");
    let out = devmentor(&["check", file.to_str().unwrap(), "--json"], &[("DATABASE_URL", &url)]);
    assert_eq!(out.status.code(), Some(0));
    let count = harness::psql(&url, "SELECT count(*) FROM explanation_events");
    assert_eq!(text(&count.stdout).trim(), "1");
    let out = devmentor(
        &["migrate"],
        &[("DATABASE_URL", "postgres://devmentor:devmentor@127.0.0.1:1/nowhere")],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        text(&out.stderr).contains("PostgreSQL is not reachable"),
        "{}",
        text(&out.stderr)
    );
    harness::drop_database(&name);
}

/// `devmentor languages` lists every language with its image's state and the toolchain version
/// the image records (label devmentor.toolchain, set by `make images` from packages.txt).
#[test]
fn languages_shows_each_image_and_its_toolchain_version() {
    let out = devmentor(&["languages"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    for (lang, version) in [
        ("python", "Python 3.13."),
        ("javascript", "Node.js 20."),
        ("c", "gcc 14."),
        ("cpp", "g++ 14."),
        ("java", "OpenJDK 21."),
        ("go", "Go 1.24."),
        ("rust", "rustc 1.85."),
    ] {
        let line = listing
            .lines()
            .find(|l| l.split_whitespace().next() == Some(lang))
            .unwrap_or_else(|| panic!("no line for {lang}:\n{listing}"));
        assert!(
            line.contains("image ready") && line.contains(version),
            "{lang}: want the image ready with {version}…: {line}"
        );
    }
}
