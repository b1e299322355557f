//! The README's "Production" section, followed line by line, as an operator on a fresh server
//! would: the test reads the section's command block from README.md and runs each line in a copy
//! of the repository (the files a clone has), with `make` and the compose file as they are.
//!
//! What a machine without a registry cannot do is replaced, and only that: `.env` names stand-in
//! images (containers/offline-base-images.sh, containers/offline-service-images.sh) for the
//! official ones, the certificate for `localhost` comes from a CA of the test's own, Telegram and
//! Groq are fake servers on this machine, and `make images-prod` (official language images) is
//! checked by the presence of the same `devmentor/<lang>` images `make images` builds offline
//! (make test runs it first). Then the stack is used as its users use it: the admin logs in
//! through nginx over HTTPS and whitelists a student, the student's programs run on the workers
//! and come back as result cards; backup, restore, the upgrade line, webhook mode with two bot
//! replicas behind nginx, and `make down-prod` follow.
//!
//! A test binary of its own: it builds images and runs a whole stack for minutes.

mod common;

use common::{csrf_of, free_port, workspace, Browser};
use devmentor::ai::fake::{FakeMode, FakeOpenAi};
use devmentor::telegram::fake::{ChatMessage, FakeTelegram, TgUser};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(120);
const ADMIN: &str = "ops_admin";
const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A command as a new user's shell runs it: only PATH, HOME and LANG from this process, so no
/// variable of the test runner overrides `.env` in compose's interpolation.
fn shell(dir: &Path, line: &str) -> Command {
    let mut c = Command::new("bash");
    c.args(["-c", line]).current_dir(dir).env_clear();
    for k in ["PATH", "HOME", "LANG"] {
        if let Ok(v) = std::env::var(k) {
            c.env(k, v);
        }
    }
    c
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(dir: &Path, line: &str) -> Output {
    let t = Instant::now();
    let out = shell(dir, line).output().expect("bash runs");
    assert!(out.status.success(), "`{line}` failed:\n{}", text(&out));
    let first = line.lines().next().unwrap_or_default();
    eprintln!("`{first}`: ok in {:.0} s", t.elapsed().as_secs_f64());
    out
}

/// Without terminal colour sequences (ESC [ … m).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The command lines of the first ```sh block of README's "## Production" section, without
/// their comments.
fn readme_steps(readme: &Path) -> Vec<String> {
    let md = std::fs::read_to_string(readme).unwrap();
    let section = &md[md.find("\n## Production\n").expect("a Production section")..];
    let block = &section[section.find("```sh\n").expect("a command block") + 6..];
    let block = &block[..block.find("```").unwrap()];
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The upgrade command of the README ("Upgrades: `git pull && …`"), without `git pull` (the copy
/// is the newest version already).
fn readme_upgrade(readme: &Path) -> String {
    let md = std::fs::read_to_string(readme).unwrap();
    let at = md.find("Upgrades: `git pull && ").expect("the upgrade line") + "Upgrades: `git pull && ".len();
    md[at..at + md[at..].find('`').unwrap()].to_string()
}

/// Sets `KEY=value` in an env file as an operator's editor would: the line that names the key
/// (commented out or not) is replaced, a missing key is appended.
fn set_env(file: &Path, values: &[(&str, String)]) {
    let mut lines: Vec<String> = std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for (k, v) in values {
        let named = |l: &String| {
            let l = l.trim_start_matches('#');
            l.split_once('=').is_some_and(|(name, _)| name == *k)
        };
        match lines.iter().position(named) {
            Some(i) => lines[i] = format!("{k}={v}"),
            None => lines.push(format!("{k}={v}")),
        }
    }
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

fn random_hex(bytes: usize) -> String {
    let out = Command::new("openssl")
        .args(["rand", "-hex", &bytes.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The files a clone of this repository has (tracked, and new files not ignored), copied.
fn copy_checkout(from: &Path, to: &Path) {
    let out = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(from)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let name = std::str::from_utf8(name).unwrap();
        let src = from.join(name);
        if !src.is_file() {
            continue; // deleted in the work tree
        }
        let dst = to.join(name);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&src, &dst).unwrap();
    }
}

/// What a `docker` command printed (trimmed).
fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().expect("docker runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Fails, naming the address, unless a container (on the default bridge) can open a TCP connection
/// to each `address:port`: a firewall on this machine would otherwise show as a stack that never
/// answers. `image` is a Debian with bash (the offline runtime stand-in).
fn reachable_from_a_container(image: &str, address: std::net::Ipv4Addr, ports: &[&str]) {
    let script: Vec<String> = ports
        .iter()
        .map(|p| format!("exec 3<>/dev/tcp/{address}/{p} && exec 3>&-"))
        .collect();
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            image,
            "timeout",
            "10",
            "bash",
            "-c",
            &script.join(" && "),
        ])
        .output()
        .expect("docker runs");
    assert!(
        out.status.success(),
        "a container cannot reach the fake servers at {address} ports {ports:?} (the host's address on the default bridge): {}",
        text(&out)
    );
}

/// The stack's workers use the host's /var/run/docker.sock (docker-compose.yml mounts it) and the
/// README's commands run in a shell without DOCKER_HOST: the test's own `docker` calls must talk
/// to that same engine, not to another one DOCKER_HOST names.
fn assert_the_default_engine() {
    if let Ok(host) = std::env::var("DOCKER_HOST") {
        let same = |p: &str| std::fs::canonicalize(p).ok();
        let default = same("/var/run/docker.sock");
        assert!(
            host.is_empty() || host.strip_prefix("unix://").is_some_and(|p| default.is_some() && same(p) == default),
            "DOCKER_HOST={host}: this test runs the production stack on the engine at /var/run/docker.sock only (docker-compose.yml mounts that socket into the workers); unset DOCKER_HOST"
        );
    }
}

/// `docker compose` when the plugin is there, else `docker-compose` (as the Makefile chooses).
fn compose_command() -> &'static str {
    let plugin = Command::new("docker")
        .args(["compose", "version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if plugin {
        "docker compose"
    } else {
        "docker-compose"
    }
}

/// The copy and its compose project; whatever happens, the project's containers and volumes go.
struct Stack {
    dir: PathBuf,
    project: String,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let out = shell(
            &self.dir,
            &format!("{} down -v --remove-orphans -t 40", compose_command()),
        )
        .output();
        if let Ok(out) = out {
            if !out.status.success() {
                eprintln!("compose down: {}", text(&out));
            }
        }
        let _ = std::fs::remove_dir_all(self.dir.parent().unwrap());
    }
}

impl Stack {
    /// `name status` of the project's containers.
    fn containers(&self) -> Vec<(String, String)> {
        docker(&[
            "ps",
            "-a",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.project),
            "--format",
            "{{.Label \"com.docker.compose.service\"}}\t{{.Status}}",
        ])
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    }

    /// Waits until `bots` bot and `workers` worker containers are running and healthy, and nginx
    /// is up.
    async fn wait_healthy(&self, bots: usize, workers: usize) {
        let until = Instant::now() + WAIT;
        loop {
            let cs = self.containers();
            let healthy = |svc: &str| cs.iter().filter(|(s, st)| s == svc && st.contains("(healthy)")).count();
            let nginx_up = cs.iter().any(|(s, st)| s == "nginx" && st.starts_with("Up"));
            if healthy("bot") == bots && healthy("worker") == workers && nginx_up {
                return;
            }
            assert!(
                Instant::now() < until,
                "the stack did not become healthy: {cs:?}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    fn logs(&self) -> String {
        text(
            &shell(&self.dir, &format!("{} logs --tail=60 --no-color", compose_command()))
                .output()
                .unwrap(),
        )
    }

    /// One value from the stack's database, through the postgres service.
    fn psql(&self, sql: &str) -> String {
        let out = ok(
            &self.dir,
            &format!(
                "{} exec -T postgres sh -c 'psql -qtA -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"' <<'SQL'\n{sql}\nSQL",
                compose_command()
            ),
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// `make superuser-prod` at a terminal: the test types at the prompts as a person would.
fn superuser_at_a_terminal(dir: &Path) -> String {
    let mut child = shell(dir, "script -qfec 'make superuser-prod' /dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("script (util-linux) gives make a terminal");
    let seen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let mut stdin = child.stdin.take().unwrap();
    // Each prompt is looked for after the previous one ("Password:" is also in "Password (again):").
    let mut from = 0;
    for (prompt, answer) in [
        ("Username:", ADMIN),
        ("Password:", ADMIN_PASSWORD),
        ("(again):", ADMIN_PASSWORD),
    ] {
        let until = Instant::now() + WAIT;
        loop {
            let s = seen.lock().unwrap().clone();
            if let Some(i) = s[from..].find(prompt) {
                from += i + prompt.len();
                break;
            }
            assert!(Instant::now() < until, "no {prompt:?} prompt; the terminal shows:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
        // Enter at a terminal is a carriage return.
        write!(stdin, "{answer}\r").unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let s = seen.lock().unwrap().clone();
    assert!(status.success(), "make superuser-prod failed:\n{s}");
    assert!(!s.contains(ADMIN_PASSWORD), "the password is not echoed:\n{s}");
    s
}

/// The bot's result card replying to message `to` (sent as "⏳", then edited into the card).
async fn card(fake: &FakeTelegram, user: &TgUser, to: i32, stack: &Stack) -> ChatMessage {
    fake.wait_for(user.id, WAIT, |chat| {
        chat.iter()
            .find(|m| m.from_bot && m.reply_to == Some(to) && m.edits >= 1)
            .cloned()
    })
    .await
    .unwrap_or_else(|| panic!("no result card for {to}: {:#?}\n{}", fake.chat(user.id), stack.logs()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_production_section_works_line_by_line() {
    assert_the_default_engine();
    let root = workspace();
    // Stand-ins for the images a registry would give.
    ok(&root, &format!("{} fetch --locked", env!("CARGO")));
    let base = ok(&root, "containers/offline-base-images.sh");
    let build_args = String::from_utf8_lossy(&base.stdout)
        .lines()
        .last()
        .unwrap()
        .to_string();
    let mut images: Vec<(&str, String)> = build_args
        .split_whitespace()
        .filter_map(|a| a.split_once('='))
        .map(|(k, v)| {
            (
                if k == "RUST_IMAGE" {
                    "RUST_IMAGE"
                } else {
                    "RUNTIME_IMAGE"
                },
                v.to_string(),
            )
        })
        .collect();
    assert_eq!(images.len(), 2, "{build_args}");
    let services = ok(&root, "containers/offline-service-images.sh");
    for line in String::from_utf8_lossy(&services.stdout).lines() {
        let (k, v) = line.split_once('=').unwrap();
        let k = ["POSTGRES_IMAGE", "REDIS_IMAGE", "NGINX_IMAGE"]
            .into_iter()
            .find(|n| *n == k)
            .unwrap_or_else(|| panic!("unexpected line {line}"));
        images.push((k, v.to_string()));
    }
    assert_eq!(images.len(), 5);

    // A clean clone, in a folder whose name is the compose project's.
    let project = format!("dmstack{}", std::process::id());
    let dir = std::env::temp_dir().join(format!("{project}-parent")).join(&project);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    copy_checkout(&root, &dir);
    let stack = Stack {
        dir: dir.clone(),
        project: project.clone(),
    };

    // Telegram and Groq: fake servers listening on every interface of this machine, which the
    // stack's containers reach at the host's address on the default bridge (a local address of
    // the host, so containers on the compose network reach it too).
    let host = common::bridge::host_address();
    let telegram = FakeTelegram::start_on(([0, 0, 0, 0], 0).into()).await.unwrap();
    let tg_port = telegram.url().rsplit(':').next().unwrap().to_string();
    let ai = FakeOpenAi::start_on(([0, 0, 0, 0], 0).into(), FakeMode::Normal)
        .await
        .unwrap();
    let ai_port = ai
        .base_url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let runtime_image = images
        .iter()
        .find(|(k, _)| *k == "RUNTIME_IMAGE")
        .map(|(_, v)| v.clone())
        .unwrap();
    reachable_from_a_container(&runtime_image, host, &[&tg_port, &ai_port]);
    let https_port = free_port();
    let http_port = free_port();
    let docker_gid = std::fs::metadata("/var/run/docker.sock")
        .map(|m| std::os::unix::fs::MetadataExt::gid(&m).to_string())
        .expect("the Docker socket");

    let steps = readme_steps(&root.join("README.md"));
    eprintln!("the README's production steps: {steps:#?}");
    let mut done = Vec::new();
    for step in &steps {
        match step.as_str() {
            "cp .env.example .env" => {
                ok(&dir, step);
                let mut values = vec![
                    ("BOT_TOKEN", "7000001:STACK-TEST-TOKEN".to_string()),
                    ("SECRET_KEY", random_hex(32)),
                    ("POSTGRES_PASSWORD", random_hex(24)),
                    ("PUBLIC_HOST", "localhost".into()),
                    ("ALLOWED_HOSTS", "localhost".into()),
                    ("DOCKER_GID", docker_gid.clone()),
                    ("AI_API_KEY", "stack-test-key".into()),
                    ("AI_BASE_URL", format!("http://{host}:{ai_port}/openai/v1")),
                    ("TELEGRAM_API_URL", format!("http://{host}:{tg_port}")),
                    ("WORKER_REPLICAS", "2".into()),
                    ("NGINX_HTTP_PORT", http_port.to_string()),
                    ("NGINX_HTTPS_PORT", https_port.to_string()),
                ];
                values.extend(images.iter().cloned());
                set_env(&dir.join(".env"), &values);
            }
            "mkdir certs" => {
                ok(&dir, step);
                // A certificate for localhost from a CA of the test's own (as from certbot).
                ok(
                    &dir,
                    "set -e; ca=../test-ca
                     openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=stack-test-ca \
                        -keyout $ca.key -out $ca.pem 2>/dev/null
                     openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
                        -keyout certs/privkey.pem -out ../server.csr 2>/dev/null
                     printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >../ext
                     openssl x509 -req -in ../server.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial \
                        -days 2 -extfile ../ext -out certs/fullchain.pem 2>/dev/null",
                );
            }
            "make images-prod" => {
                // Official language images cannot be pulled here; `make images` built the same
                // names offline before the tests started.
                for lang in ["python", "javascript", "c", "cpp", "java", "go", "rust"] {
                    ok(
                        &dir,
                        &format!("docker image inspect devmentor/{lang}:latest >/dev/null"),
                    );
                }
            }
            "make superuser-prod" => {
                let terminal = superuser_at_a_terminal(&dir);
                assert!(
                    terminal.contains(&format!("created superuser \"{ADMIN}\"")),
                    "{terminal}"
                );
            }
            "make doctor-prod" => {
                let out = ok(&dir, step);
                let report = String::from_utf8_lossy(&out.stdout).to_string();
                // One line per check (configuration, PostgreSQL, migrations, Redis, Docker,
                // images, Telegram, AI), every one ok, then "ready".
                // (make echoes the compose command first)
                let lines: Vec<&str> = report.lines().filter(|l| !l.starts_with(compose_command())).collect();
                assert_eq!(lines.len(), 9, "{report}");
                assert!(lines[..8].iter().all(|l| l.starts_with("ok ")), "{report}");
                assert!(
                    !report.contains("FAIL") && report.trim_end().ends_with("ready"),
                    "{report}"
                );
            }
            "make logs-prod" => {
                // It follows until Ctrl-C: interrupted after a few seconds, as a person would.
                let out = shell(&dir, &format!("timeout -s INT 8 {step}")).output().unwrap();
                let logs = strip_ansi(&text(&out));
                for svc in ["bot", "worker"] {
                    // "bot_1  | {…}" (docker-compose) or "bot-1  | {…}" (the Compose plugin).
                    let json_lines = logs
                        .lines()
                        .filter(|l| l.starts_with(&format!("{svc}_")) || l.starts_with(&format!("{svc}-")))
                        .filter_map(|l| l.split_once("| "))
                        .filter(|(_, payload)| serde_json::from_str::<serde_json::Value>(payload).is_ok())
                        .count();
                    assert!(json_lines > 0, "no JSON log line from {svc}:\n{logs}");
                }
            }
            s if s.starts_with("make ") && !s.contains(['&', ';', '|', '$', '`']) => {
                ok(&dir, step);
            }
            other => panic!("the README's production block has a step this test does not know: {other}"),
        }
        done.push(step.clone());
    }
    for needed in [
        "make build-prod",
        "make migrate-prod",
        "make up-prod",
        "make superuser-prod",
        "make doctor-prod",
    ] {
        assert!(done.iter().any(|s| s == needed), "the README no longer says `{needed}`");
    }

    // Bot, both workers and nginx up and healthy.
    stack.wait_healthy(1, 2).await;

    // The admin, through nginx over HTTPS (trusting the test's CA).
    let pem = std::fs::read(dir.parent().unwrap().join("test-ca.pem")).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .timeout(Duration::from_secs(30));
    let mut b = Browser::with_client(client, &format!("https://localhost:{https_port}"));
    let p = b.login(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/"), "{}", p.body);
    let p = b.get("/admin/").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains(ADMIN));
    // Plain HTTP only redirects; metrics stay inside the compose network.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://localhost:{http_port}/admin/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("https://localhost"));
    assert_eq!(b.get("/metrics").await.status, 404);

    // A student: turned away until whitelisted in the panel, then their programs run.
    let ada = TgUser::new(5550001, "Ада").with_username("ada_student");
    let m = telegram.send_text(&ada, "print(6 * 7)");
    let id = ada.id.to_string();
    telegram
        .wait_for(ada.id, WAIT, |chat| {
            chat.iter()
                .find(|r| r.from_bot && r.message_id > m && r.text.contains(&id))
                .cloned()
        })
        .await
        .unwrap_or_else(|| {
            panic!(
                "a stranger is told their id: {:#?}\n{}",
                telegram.chat(ada.id),
                stack.logs()
            )
        });
    assert_eq!(
        stack.psql("SELECT count(*) FROM checks"),
        "0",
        "nothing runs for a stranger"
    );
    let p = b.get("/admin/access").await;
    let csrf = csrf_of(&p.body);
    let p = b
        .post(
            "/admin/access/whitelist",
            &[("csrf_token", &csrf), ("subject", "@ada_student")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);

    let m = telegram.send_text(&ada, "```python\nprint(6 * 7)\n```");
    let c = card(&telegram, &ada, m, &stack).await;
    assert!(c.text.contains("42"), "{}", c.text);
    let m = telegram.send_text(&ada, "```python\nx = 10\nprint(x / 0)\n```");
    let c = card(&telegram, &ada, m, &stack).await;
    assert!(
        c.text.contains("ZeroDivisionError") && c.text.contains("из справочника типичных ошибок"),
        "explained from the registry, in Russian: {}",
        c.text
    );
    // Six classmates at once (one program at a time each), so both workers have work; every
    // program is recorded and answered.
    let mut sent = Vec::new();
    for i in 1..=6 {
        let student = TgUser::new(5550001 + i, &format!("Student {i}"));
        let p = b
            .post(
                "/admin/access/whitelist",
                &[("csrf_token", &csrf), ("subject", &student.id.to_string())],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
        sent.push((i, student));
    }
    let sent: Vec<_> = sent
        .into_iter()
        .map(|(i, s)| {
            let m = telegram.send_text(&s, &format!("```python\nprint({i} * 111)\n```"));
            (i, s, m)
        })
        .collect();
    for (i, student, m) in &sent {
        let c = card(&telegram, student, *m, &stack).await;
        assert!(c.text.contains(&(i * 111).to_string()), "{}", c.text);
    }
    assert_eq!(stack.psql("SELECT count(*) FROM checks WHERE status = 'done'"), "8");
    let per_worker = stack.psql("SELECT count(DISTINCT worker) FROM checks");
    eprintln!("checks were run by {per_worker} worker(s)");

    // Backup, then a check after it, then restore: the database is as it was at the backup.
    let out = ok(&dir, "make backup-prod");
    let said = text(&out);
    let file = said
        .lines()
        .find_map(|l| l.strip_prefix("backup written to "))
        .unwrap_or_else(|| panic!("{said}"))
        .trim()
        .to_string();
    let dump = ok(&dir, &format!("gunzip -c {file}"));
    assert!(String::from_utf8_lossy(&dump.stdout).contains("CREATE TABLE public.checks"));
    let m = telegram.send_text(&ada, "```python\nprint('after the backup')\n```");
    card(&telegram, &ada, m, &stack).await;
    assert_eq!(stack.psql("SELECT count(*) FROM checks"), "9");
    ok(&dir, &format!("make restore-prod BACKUP={file}"));
    assert_eq!(stack.psql("SELECT count(*) FROM checks"), "8");
    stack.wait_healthy(1, 2).await;
    let m = telegram.send_text(&ada, "```python\nprint('after the restore')\n```");
    let c = card(&telegram, &ada, m, &stack).await;
    assert!(c.text.contains("after the restore"), "{}", c.text);

    // The upgrade line (the copy is the newest version: nothing to pull).
    let upgrade = readme_upgrade(&root.join("README.md"));
    ok(&dir, &upgrade);
    stack.wait_healthy(1, 2).await;
    let m = telegram.send_text(&ada, "```python\nprint('after the upgrade')\n```");
    let c = card(&telegram, &ada, m, &stack).await;
    assert!(c.text.contains("after the upgrade"), "{}", c.text);

    // nginx still reaches the bot, whose container the upgrade may have recreated elsewhere.
    assert_eq!(b.get("/admin/").await.status, 200);

    // Scaling the bot: webhook mode, two bot replicas behind nginx. Telegram's deliveries are
    // played by the test: it takes the fake's pending updates and posts them through nginx with
    // the secret the bot registered, as Telegram does.
    let hook = format!("https://localhost:{https_port}/telegram/webhook");
    let secret = random_hex(16);
    set_env(
        &dir.join(".env"),
        &[
            ("TELEGRAM_WEBHOOK_URL", hook.clone()),
            ("TELEGRAM_WEBHOOK_SECRET", secret.clone()),
            ("BOT_REPLICAS", "2".into()),
        ],
    );
    ok(&dir, "make up-prod");
    stack.wait_healthy(2, 2).await;
    let until = Instant::now() + WAIT;
    while telegram.webhook().as_deref() != Some(hook.as_str()) {
        assert!(Instant::now() < until, "no setWebhook: {}", stack.logs());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let registered = telegram.calls("setWebhook");
    assert!(
        registered
            .iter()
            .any(|c| c.params.get("secret_token").and_then(|v| v.as_str()) == Some(&secret)),
        "the bot registers its secret with the webhook"
    );
    telegram.take_updates(); // none should be left from polling, but none may be replayed either
    let deliver = |update: serde_json::Value, secret: String| {
        let http = b.http.clone();
        let url = hook.clone();
        async move {
            // Telegram retries a delivery nginx could not pass on (a bot replica still starting).
            let until = Instant::now() + Duration::from_secs(30);
            loop {
                let status = http
                    .post(&url)
                    .header("X-Telegram-Bot-Api-Secret-Token", &secret)
                    .json(&update)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16();
                if !matches!(status, 502..=504) || Instant::now() > until {
                    return status;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let mut cards = Vec::new();
    for (i, student, _) in &sent {
        let m = telegram.send_text(student, &format!("```python\nprint('webhook', {i})\n```"));
        cards.push((*i, student.clone(), m));
    }
    let updates = telegram.take_updates();
    assert_eq!(updates.len(), sent.len());
    assert_eq!(
        deliver(updates[0].clone(), "wrong".into()).await,
        401,
        "a wrong secret is refused"
    );
    for u in updates {
        assert_eq!(deliver(u, secret.clone()).await, 200);
    }
    for (i, student, m) in &cards {
        let c = card(&telegram, student, *m, &stack).await;
        assert!(c.text.contains(&format!("webhook {i}")), "{}", c.text);
    }
    // Both bot replicas took updates (nginx uses the name's addresses in turn).
    let bots = docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=com.docker.compose.project={project}"),
        "--filter",
        "label=com.docker.compose.service=bot",
    ]);
    let bots: Vec<&str> = bots.split_whitespace().collect();
    assert_eq!(bots.len(), 2);
    for id in bots {
        let metrics = ok(
            &dir,
            &format!("docker exec {id} curl -fsS http://127.0.0.1:8080/metrics"),
        );
        let updates: f64 = String::from_utf8_lossy(&metrics.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("devmentor_bot_updates_total "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0);
        assert!(updates > 0.0, "bot replica {id} took no update");
    }

    // Down: no container of the project, and no sandbox container, is left.
    ok(&dir, "make down-prod");
    assert!(stack.containers().is_empty(), "{:?}", stack.containers());
    assert!(
        docker(&["ps", "-aq", "--filter", "label=devmentor.sandbox"]).is_empty(),
        "sandbox containers left behind after make down-prod (name, owner, created, image):\n{}",
        docker(&[
            "ps",
            "-a",
            "--filter",
            "label=devmentor.sandbox",
            "--format",
            "{{.Names}} {{.Label \"devmentor.owner\"}} {{.CreatedAt}} {{.Image}}",
        ])
    );
}
