//! The security suite: hostile programs against the real sandbox. Each case asserts the
//! verdict and that the host is unharmed (no container, no process, no secret left behind).

mod common;

use common::{check, finish, sandbox};
use devmentor::sandbox::Verdict;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Host processes whose command line contains `marker`.
fn host_processes_with(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.contains(marker) {
                found.push(cmd);
            }
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fork_bomb_hits_the_pids_limit_and_the_host_is_fine() {
    let (sb, limits) = sandbox(|c| c.exec_timeout_seconds = 5).await;
    let code = "import os\nwhile True:\n    os.fork()\n";
    let r = check(&sb, &limits, "python", code, "").await;
    // 64 copies of Python 3.13 may also fill the 256 MB before the loop gives up: the memory
    // limit is then a true verdict too, and the pids limit must still have refused the forks.
    assert!(
        matches!(
            r.verdict,
            Verdict::RuntimeError | Verdict::Timeout | Verdict::MemoryLimit
        ),
        "fork bomb: {:?} {:?}",
        r.verdict,
        &r.stderr[..r.stderr.len().min(300)]
    );
    assert!(
        r.verdict == Verdict::Timeout || r.stderr.contains("Resource temporarily unavailable"),
        "the pids limit must stop the forks: {:?}",
        &r.stderr[..r.stderr.len().min(300)]
    );
    finish(sb).await;
    // The host can still start processes.
    let status = std::process::Command::new("true").status().expect("host can fork");
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_hog_gets_memory_limit() {
    let (sb, limits) = sandbox(|_| {}).await;
    let code = "chunks = []\nwhile True:\n    chunks.append(bytearray(10 * 1024 * 1024))\n";
    let r = check(&sb, &limits, "python", code, "").await;
    assert_eq!(r.verdict, Verdict::MemoryLimit, "{r:?}");
    assert_eq!(r.signal.as_deref(), Some("SIGKILL"));
    // A C program touching memory page by page meets the same fate.
    let code = "#include <stdlib.h>\n#include <string.h>\nint main(void) { for (;;) { char *p = malloc(1 << 20); if (!p) return 2; memset(p, 1, 1 << 20); } }\n";
    let r = check(&sb, &limits, "c", code, "").await;
    assert_eq!(r.verdict, Verdict::MemoryLimit, "{r:?}");
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_loop_and_sleep_time_out_within_the_limit() {
    let (sb, limits) = sandbox(|c| c.exec_timeout_seconds = 2).await;
    for code in ["while True:\n    pass\n", "import time\ntime.sleep(120)\n"] {
        let t = Instant::now();
        let r = check(&sb, &limits, "python", code, "").await;
        let elapsed = t.elapsed();
        assert_eq!(r.verdict, Verdict::Timeout, "{code}: {r:?}");
        assert!(
            r.duration_ms >= 2000 && r.duration_ms < 2500,
            "reported {} ms",
            r.duration_ms
        );
        assert!(
            elapsed < Duration::from_secs(2) + Duration::from_secs(3),
            "{code}: took {elapsed:?}"
        );
    }
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_network_anywhere() {
    // The host as a container on the default bridge would reach it, and a port this test listens
    // on there: PostgreSQL and Redis listen on loopback only, so without an open port every host
    // case would be refused whatever the sandbox did. The control connection from here proves the
    // address and port answer, so "blocked" below is the sandbox's doing.
    let host = common::bridge::host_address();
    eprintln!("the host on Docker's default bridge: {host}");
    let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, 0)).expect("a port to listen on");
    let port = listener.local_addr().expect("its port").port();
    TcpStream::connect_timeout(&(host, port).into(), Duration::from_secs(2))
        .unwrap_or_else(|e| panic!("the control: {host}:{port} does not answer from the host itself: {e}"));
    listener.accept().expect("the control connection");
    listener.set_nonblocking(true).expect("non-blocking accept");

    let (sb, limits) = sandbox(|_| {}).await;
    let code = r#"
import os, socket
print("interfaces", sorted(os.listdir("/sys/class/net")))
host, port = input().split()
targets = [("192.0.2.1", 80), (host, int(port)), (host, 5432), (host, 6379), (host, 2375), ("127.0.0.1", 5432), ("127.0.0.1", 6379)]
for host, port in targets:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect((host, port))
        print("CONNECTED", host, port)
    except OSError as e:
        print("blocked", host, port, e.errno)
    finally:
        s.close()
try:
    socket.getaddrinfo("pypi.org", 443)
    print("RESOLVED")
except OSError:
    print("dns blocked")
"#;
    let r = check(&sb, &limits, "python", code, &format!("{host} {port}\n")).await;
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert!(
        r.stdout.contains("interfaces ['lo']"),
        "only loopback may exist: {}",
        r.stdout
    );
    assert!(!r.stdout.contains("CONNECTED"), "{}", r.stdout);
    assert!(!r.stdout.contains("RESOLVED"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("blocked {host} {port} ")), "{}", r.stdout);
    assert_eq!(r.stdout.matches("blocked").count(), 8, "{}", r.stdout);
    match listener.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the host's listener saw a connection from the sandbox: {other:?}"),
    }
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_holds_no_host_secrets_and_no_docker_socket() {
    // Secrets a worker might hold, set in this process before the sandbox starts.
    let secrets = [
        ("BOT_TOKEN", "123456:TEST-bot-token-must-not-leak"),
        ("AI_API_KEY", "gsk_test_ai_key_must_not_leak"),
        ("POSTGRES_PASSWORD", "pg-password-must-not-leak"),
        ("SECRET_KEY", "django-secret-must-not-leak"),
    ];
    for (k, v) in secrets {
        std::env::set_var(k, v);
    }
    let (sb, limits) = sandbox(|_| {}).await;
    let code = r#"
import os
for k, v in sorted(os.environ.items()):
    print(f"{k}={v}")
print("uid", os.getuid(), "gid", os.getgid())
for p in ["/var/run/docker.sock", "/run/docker.sock", "/var/run/docker", "/run/containerd"]:
    print(p, "exists" if os.path.exists(p) else "absent")
"#;
    let r = check(&sb, &limits, "python", code, "").await;
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    for (k, v) in secrets {
        assert!(!r.stdout.contains(v), "{k} leaked into the sandbox:\n{}", r.stdout);
        assert!(
            !r.stdout.contains(&format!("{k}=")),
            "{k} is set in the sandbox:\n{}",
            r.stdout
        );
    }
    // Nothing else of the host's environment either.
    for (k, v) in std::env::vars() {
        if v.len() >= 8
            && ![
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "C.UTF-8",
            ]
            .contains(&v.as_str())
        {
            assert!(
                !r.stdout.contains(&format!("{k}={v}")),
                "host variable {k} reached the sandbox"
            );
        }
    }
    assert!(r.stdout.contains("HOME=/sandbox"), "{}", r.stdout);
    assert!(
        r.stdout.contains("uid 10001 gid 10001"),
        "must not run as root: {}",
        r.stdout
    );
    assert!(
        !r.stdout.contains(" exists"),
        "Docker's socket must not be reachable: {}",
        r.stdout
    );
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_is_read_only_and_scratch_is_capped() {
    let (sb, limits) = sandbox(|_| {}).await;
    let code = r#"
import os
for path in ["/evil", "/etc/passwd", "/usr/bin/python3", "/bin/sh"]:
    try:
        with open(path, "a") as f:
            f.write("x")
        print("WROTE", path)
    except OSError as e:
        print("refused", path, e.strerror)
written = 0
try:
    with open("/sandbox/big", "wb") as f:
        block = b"\0" * (1 << 20)
        for _ in range(1024):
            f.write(block)
            f.flush()
            written += 1
except OSError as e:
    print("scratch full after", written, "MiB:", e.strerror)
print("done")
"#;
    let r = check(&sb, &limits, "python", code, "").await;
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert!(!r.stdout.contains("WROTE"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("refused").count(), 4, "{}", r.stdout);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("scratch full"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    let mib: u64 = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    assert!(mib <= 64, "scratch must be capped at 64 MiB, got {mib}: {line}");
    assert!(r.stdout.ends_with("done\n"));
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_megabytes_of_output_are_capped() {
    let (sb, limits) = sandbox(|_| {}).await;
    let code = "import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(100):\n    sys.stdout.write(chunk)\nsys.stderr.write('finished\\n')\n";
    let t = Instant::now();
    let r = check(&sb, &limits, "python", code, "").await;
    eprintln!(
        "took {:?}, reported {} ms, verdict {}",
        t.elapsed(),
        r.duration_ms,
        r.verdict
    );
    assert!(r.truncated, "{:?}", r.verdict);
    assert_eq!(r.stdout.len(), 64 * 1024);
    assert!(r.stdout.bytes().all(|b| b == b'x'));
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "capping must stop the program early"
    );
    // Stopped early on purpose: the verdict says the run did not finish normally.
    assert_ne!(r.verdict, Verdict::InternalError);
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphaned_background_processes_die_with_the_run() {
    let (sb, limits) = sandbox(|_| {}).await;
    let marker = "4242.4242";
    let code = format!(
        "import subprocess\np = subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\nprint('started', p.pid > 0)\n"
    );
    let r = check(&sb, &limits, "python", &code, "").await;
    assert_eq!(r.verdict, Verdict::Ok, "{r:?}");
    assert_eq!(r.stdout, "started True\n");
    finish(sb).await;
    // The container is gone, and with it every process it started.
    let mut left = host_processes_with(&format!("sleep {marker}"));
    for _ in 0..50 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = host_processes_with(&format!("sleep {marker}"));
    }
    assert!(left.is_empty(), "orphan survived: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_checks_at_once_without_cross_talk() {
    let (mut sb, limits) = sandbox(|c| c.warm_pool_size = 4).await;
    sb.start_pool(&std::collections::HashMap::from([
        ("python".to_string(), 4),
        ("c".to_string(), 2),
    ]));
    let sb = std::sync::Arc::new(sb);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let sb = sb.clone();
        tasks.push(tokio::spawn(async move {
            let (lang, code) = if i % 3 == 0 {
                ("c", "#include <stdio.h>\nint main(void) { char b[64]; if (!fgets(b, sizeof b, stdin)) return 1; FILE *f = fopen(\"/sandbox/shared.txt\", \"a\"); fputs(b, f); fclose(f); f = fopen(\"/sandbox/shared.txt\", \"r\"); int lines = 0; while (fgets(b, sizeof b, f)) { lines++; fputs(b, stdout); } printf(\"lines=%d\\n\", lines); return 0; }\n")
            } else {
                ("python", "import os\nv = input()\nwith open('/sandbox/shared.txt', 'a') as f:\n    f.write(v + '\\n')\nprint(open('/sandbox/shared.txt').read(), end='')\nprint('lines=' + str(len(open('/sandbox/shared.txt').readlines())))\n")
            };
            let token = format!("token-{i}-{}", i * 7919);
            let r = check(&sb, &limits, lang, code, &format!("{token}\n")).await;
            (token, r)
        }));
    }
    for t in tasks {
        let (token, r) = t.await.unwrap();
        assert_eq!(r.verdict, Verdict::Ok, "{token}: {r:?}");
        // Each program sees only its own file: one line, its own token.
        assert_eq!(r.stdout, format!("{token}\nlines=1\n"), "cross-talk");
    }
    let sb = std::sync::Arc::try_unwrap(sb).ok().expect("all tasks done");
    finish(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_removes_expired_orphans_only() {
    use bollard::models::ContainerCreateBody;
    use std::collections::HashMap;
    let (sb, _) = sandbox(|_| {}).await;
    let docker = sb.docker();
    let mk = |expires: u64| ContainerCreateBody {
        image: Some("devmentor/python:latest".into()),
        cmd: Some(vec!["true".into()]),
        labels: Some(HashMap::from([
            ("devmentor.sandbox".to_string(), "1".to_string()),
            ("devmentor.expires".to_string(), expires.to_string()),
            ("devmentor.owner".to_string(), sb.owner().to_string()),
        ])),
        ..Default::default()
    };
    let expired = docker.create_container(None, mk(1)).await.unwrap().id;
    let live = docker.create_container(None, mk(u64::MAX / 2)).await.unwrap().id;
    let removed = sb.reap_orphans().await.unwrap();
    assert!(removed >= 1);
    let left = sb.own_containers().await.unwrap();
    assert!(!left.contains(&expired), "the expired orphan must go");
    assert!(left.contains(&live), "a live container must stay");
    docker
        .remove_container(
            &live,
            Some(
                bollard::query_parameters::RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .build(),
            ),
        )
        .await
        .unwrap();
    finish(sb).await;
}
