//! The production application image (containers/app.Dockerfile) builds and works, on a machine
//! that cannot pull: the two base images are replaced through the Dockerfile's build arguments
//! by offline stand-ins (containers/offline-base-images.sh). The built image then runs as the
//! compose file runs it: non-root, configuration from the environment, the host's Docker socket
//! for the worker role; a check submitted to it is run, and its HEALTHCHECK turns healthy.
//!
//! A test binary of its own, so the release build inside Docker (minutes on two cores) does not
//! run beside the timing-sensitive service tests.

mod common;

use common::{submit, wait_done, workspace, Env};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const IMAGE: &str = "devmentor/app:offline-test";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn docker(args: &[&str]) -> String {
    String::from_utf8_lossy(&run(Command::new("docker").args(args)).stdout)
        .trim()
        .to_string()
}

struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_image_builds_from_offline_base_images_and_runs_checks() {
    let root = workspace();
    // The crates of Cargo.lock must be in the local cache the builder stand-in copies.
    run(Command::new(env!("CARGO"))
        .args(["fetch", "--locked"])
        .current_dir(&root));
    let out = run(Command::new(root.join("containers/offline-base-images.sh")).current_dir(&root));
    let args_line = String::from_utf8_lossy(&out.stdout).lines().last().unwrap().to_string();
    let build_args: Vec<&str> = args_line.split_whitespace().collect();
    assert_eq!(build_args.len(), 4, "{args_line}");
    assert!(build_args.contains(&"RUNTIME_IMAGE=devmentor/offline-debian:bookworm-slim"));

    let t = Instant::now();
    let mut build = Command::new("docker");
    build
        .args(["build", "-f", "containers/app.Dockerfile", "-t", IMAGE])
        .args(&build_args)
        .arg(".")
        .current_dir(&root);
    run(&mut build);
    eprintln!("app image built in {:.0} s", t.elapsed().as_secs_f64());

    // What the Dockerfile promises: a non-root user, a healthcheck, the binary as entry point,
    // production settings by default, and nothing of the build context it must not carry.
    assert_eq!(
        docker(&["image", "inspect", "-f", "{{.Config.User}}", IMAGE]),
        "10000:10000"
    );
    assert!(docker(&["image", "inspect", "-f", "{{json .Config.Healthcheck}}", IMAGE]).contains("/healthz"));
    let env = docker(&["image", "inspect", "-f", "{{json .Config.Env}}", IMAGE]);
    assert!(
        env.contains("DEVMENTOR_ENV=production") && env.contains("LOG_FORMAT=json"),
        "{env}"
    );
    let listing = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "/bin/sh",
        IMAGE,
        "-c",
        "id -u; ls /app; ls /app/templates/admin | head -n 3; test ! -e /app/target && test ! -e /app/.git && echo clean",
    ]);
    assert!(listing.starts_with("10000\n"), "{listing}");
    assert!(listing.contains("containers") && listing.contains("templates") && listing.ends_with("clean"));
    let version = docker(&["run", "--rm", IMAGE, "--version"]);
    assert!(version.starts_with("devmentor "), "{version}");

    // In production (the image's default) the app refuses to start without its secrets.
    let out = Command::new("docker")
        .args(["run", "--rm", "--network", "none", IMAGE, "run", "--roles", "worker"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SECRET_KEY") && err.contains("BOT_TOKEN"), "{err}");

    // As the compose file's worker (and bot's admin role), against this machine's PostgreSQL,
    // Redis and Docker: the Docker socket's group is added, as `group_add` does in compose.
    let env = Env::new("appimage", &[]);
    let gid = std::fs::metadata("/var/run/docker.sock")
        .map(|m| std::os::unix::fs::MetadataExt::gid(&m).to_string())
        .expect("the Docker socket");
    let name = format!("dm-appimage-{}", std::process::id());
    let mut cmd = Command::new("docker");
    cmd.args(["run", "-d", "--name", &name, "--network", "host", "--group-add", &gid])
        .args(["-v", "/var/run/docker.sock:/var/run/docker.sock"])
        .args(["-e", "DEVMENTOR_ENV=development"]);
    for (k, v) in &env.vars {
        cmd.args(["-e", &format!("{k}={v}")]);
    }
    cmd.args([IMAGE, "run", "--roles", "worker,admin"]);
    let id = String::from_utf8_lossy(&run(&mut cmd).stdout).trim().to_string();
    let container = Container(id);

    let http = reqwest::Client::new();
    let token = env.token();
    let deadline = Instant::now() + Duration::from_secs(60);
    while http
        .get(format!("{}/readyz", env.base()))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(
            Instant::now() < deadline,
            "the containerised service never became ready:\n{}",
            docker_logs(&container.0)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let id = submit(&http, &env.base(), &token, "print(sum(range(10)))\n").await;
    let v = wait_done(&http, &env.base(), &token, id, Duration::from_secs(60)).await;
    assert_eq!(v["verdict"], "ok", "{v}\n{}", docker_logs(&container.0));
    assert_eq!(v["stdout"], "45\n");
    // The admin panel's templates are found inside the image.
    let page = http.get(format!("{}/admin/login", env.base())).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("csrf_token"));
    // Logs are JSON lines in the image's default format.
    let logs = docker_logs(&container.0);
    let first = logs.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(
        serde_json::from_str::<serde_json::Value>(first).is_ok(),
        "not JSON: {first}"
    );
    // Docker's own view: the image's HEALTHCHECK passes (first probe after its 15 s interval).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let status = docker(&["inspect", "-f", "{{.State.Health.Status}}", &container.0]);
        if status == "healthy" {
            break;
        }
        assert!(status != "unhealthy" && Instant::now() < deadline, "health: {status}");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // SIGTERM (docker stop) ends it cleanly.
    docker(&["stop", "-t", "40", &container.0]);
    assert_eq!(docker(&["inspect", "-f", "{{.State.ExitCode}}", &container.0]), "0");
}

fn docker_logs(id: &str) -> String {
    let out = Command::new("docker").args(["logs", id]).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
