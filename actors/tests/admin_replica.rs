//! `DATABASE_REPLICA_URL`: the panel's read-only pages (dashboard, lists, analytics, CSV exports)
//! read from a real streaming replica, and fall back to the primary when it is down.
//!
//! The test runs a PostgreSQL 15 primary and a replica of its own (`initdb`, then
//! `pg_basebackup -R`), on ports of their own, so the shared server is left untouched.

mod common;
mod panel;

use common::{free_port, Env};
use panel::{create_admin, Panel, ROOT};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// Runs a PostgreSQL program as the `postgres` user when the test runs as root (initdb refuses
/// root), as the current user otherwise.
fn pg(program: &str, args: &[&str]) -> std::process::Output {
    let path = format!("{BIN}/{program}");
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let out = if root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", &path])
            .args(args)
            .output()
    } else {
        Command::new(&path).args(args).output()
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

struct Cluster {
    dir: PathBuf,
    port: u16,
}

impl Cluster {
    fn url(&self, db: &str) -> String {
        format!("postgres://devmentor@127.0.0.1:{}/{db}", self.port)
    }

    fn configure(&self, socket_dir: &Path) {
        let conf = self.dir.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push_str(&format!(
            "\nport = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\nmax_wal_senders = 5\nfsync = off\n",
            self.port,
            socket_dir.display()
        ));
        std::fs::write(conf, text).unwrap();
    }

    fn start(&self) {
        let log = self.dir.with_extension("log");
        pg(
            "pg_ctl",
            &[
                "-D",
                self.dir.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self) {
        pg(
            "pg_ctl",
            &["-D", self.dir.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new("psql")
            .args([self.url(db).as_str(), "-qtAc", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

/// Both clusters, stopped and removed at the end.
struct Pair {
    base: PathBuf,
    primary: Cluster,
    replica: Cluster,
}

impl Pair {
    fn new() -> Pair {
        let base = std::env::temp_dir().join(format!("dm_replica_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres", base.to_str().unwrap()])
            .status();
        let primary = Cluster {
            dir: base.join("primary"),
            port: free_port(),
        };
        pg(
            "initdb",
            &[
                "-D",
                primary.dir.to_str().unwrap(),
                "-U",
                "devmentor",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        primary.configure(&base);
        primary.start();
        assert_eq!(primary.psql("postgres", "CREATE DATABASE devmentor"), "");
        let replica = Cluster {
            dir: base.join("replica"),
            port: free_port(),
        };
        pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "devmentor",
                "-D",
                replica.dir.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                // Without these it waits for a spread checkpoint and syncs every file.
                "--checkpoint=fast",
                "--no-sync",
            ],
        );
        replica.configure(&base);
        replica.start();
        Pair { base, primary, replica }
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for c in [&self.replica, &self.primary] {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--", &format!("{BIN}/pg_ctl")])
                .args(["-D", c.dir.to_str().unwrap(), "-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

async fn wait_for(what: &str, mut ok: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while !ok().await {
        assert!(Instant::now() < until, "{what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_pages_read_the_replica_and_fall_back_to_the_primary() {
    let pair = Pair::new();
    let (primary, replica) = (pair.primary.url("devmentor"), pair.replica.url("devmentor"));
    let env = Env::new(
        "adm_replica",
        &[("DATABASE_URL", &primary), ("DATABASE_REPLICA_URL", &replica)],
    );
    assert!(create_admin(&env, ROOT.0, ROOT.1, false).status.success());
    let mut panel = Panel::serve(env).await;
    // The schema reached the replica; now hold its replay, so what it shows is what it had.
    wait_for("the replica has the schema", async || {
        pair.replica.psql("devmentor", "SELECT count(*) FROM admins") == "1"
    })
    .await;
    pair.replica.psql("devmentor", "SELECT pg_wal_replay_pause()");
    pair.primary.psql(
        "devmentor",
        "INSERT INTO users (id, first_name) VALUES (9001, 'Replicated Rita')",
    );
    let p = panel.b.get("/admin/users").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        !p.body.contains("Replicated Rita"),
        "the list reads the (paused) replica"
    );
    let p = panel.b.get("/admin/users/9001").await;
    assert!(p.body.contains("Replicated Rita"), "a detail page reads the primary");
    // Replication resumes: the row written on the primary appears on the replica-backed pages.
    pair.replica.psql("devmentor", "SELECT pg_wal_replay_resume()");
    wait_for("the row reaches the replica-backed list", async || {
        panel.b.get("/admin/users").await.body.contains("Replicated Rita")
    })
    .await;
    assert!(panel.b.get("/admin/users.csv").await.body.contains("Replicated Rita"));
    assert!(
        panel.b.get("/admin/").await.body.contains("<b>1</b>"),
        "the dashboard counts her"
    );

    // The replica stops: every page still answers, from the primary, and says so in the log.
    pair.replica.stop();
    pair.primary.psql(
        "devmentor",
        "INSERT INTO users (id, first_name) VALUES (9002, 'Primary Paul')",
    );
    for path in [
        "/admin/",
        "/admin/users",
        "/admin/checks",
        "/admin/analytics",
        "/admin/audit",
        "/admin/registry",
        "/admin/unmatched",
    ] {
        let p = panel.b.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
    }
    assert!(panel.b.get("/admin/users").await.body.contains("Primary Paul"));
    let csv = panel.b.get("/admin/users.csv").await.body;
    assert!(csv.contains("Primary Paul") && csv.contains("Replicated Rita"));
    assert!(
        panel
            .env
            .log("admin")
            .contains("the read replica is unavailable; reading from the primary"),
        "{}",
        panel.env.log("admin")
    );
}
