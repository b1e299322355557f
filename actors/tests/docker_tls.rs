//! A dedicated Docker host over TLS (README, "The Docker socket", option 1): the sandbox speaks to
//! `DOCKER_HOST=tcp://…` with `DOCKER_TLS_VERIFY=1` and the client certificate from
//! `DOCKER_CERT_PATH`, the Docker CLI's conventions. The remote engine is stood in for by a TLS
//! endpoint (stunnel, requiring a client certificate signed by our CA) in front of this machine's
//! Docker socket: the same bytes a `dockerd --tlsverify` on another host would see. (Not socat:
//! its OPENSSL-LISTEN with `verify=1` fails TLS session resumption, which a real dockerd allows.)

mod common;

use common::{bin, free_port, workspace};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let ca_key = format!("{name}-ca-key.pem");
    let ca = format!("{name}-ca.pem");
    openssl(dir, &["genrsa", "-out", &ca_key, "2048"]);
    let subj = format!("/CN={name} test CA");
    openssl(
        dir,
        &[
            "req", "-x509", "-new", "-key", &ca_key, "-sha256", "-days", "2", "-subj", &subj, "-out", &ca,
        ],
    );
    for (who, ext) in [
        (
            "server",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        ),
        ("client", "extendedKeyUsage=clientAuth\n"),
    ] {
        let key = format!("{name}-{who}-key.pem");
        let csr = format!("{name}-{who}.csr");
        let cert = format!("{name}-{who}-cert.pem");
        let extfile = format!("{name}-{who}.ext");
        std::fs::write(dir.join(&extfile), ext).unwrap();
        openssl(dir, &["genrsa", "-out", &key, "2048"]);
        openssl(
            dir,
            &[
                "req",
                "-new",
                "-key",
                &key,
                "-subj",
                &format!("/CN={who}"),
                "-out",
                &csr,
            ],
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                &ca,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-sha256",
                "-extfile",
                &extfile,
                "-out",
                &cert,
            ],
        );
    }
}

/// A client certificate folder as the Docker CLI expects it: ca.pem, cert.pem, key.pem.
fn cert_dir(dir: &Path, ca_of: &str, client_of: &str) -> std::path::PathBuf {
    let d = dir.join(format!("certs-{ca_of}-{client_of}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(dir.join(format!("{ca_of}-ca.pem")), d.join("ca.pem")).unwrap();
    std::fs::copy(dir.join(format!("{client_of}-client-cert.pem")), d.join("cert.pem")).unwrap();
    std::fs::copy(dir.join(format!("{client_of}-client-key.pem")), d.join("key.pem")).unwrap();
    d
}

struct Proxy(Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn check(file: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    let input = file.with_extension("in");
    std::fs::write(&input, "student\n").unwrap();
    c.args([
        "check",
        file.to_str().unwrap(),
        "--stdin",
        input.to_str().unwrap(),
        "--json",
    ])
    .current_dir(workspace());
    c.env_remove("DOCKER_TLS_VERIFY").env_remove("DOCKER_CERT_PATH");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn checks_run_on_a_docker_engine_reached_over_tls_with_a_client_certificate() {
    let dir = std::env::temp_dir().join(format!("dm-docker-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    make_ca(&dir, "good");
    make_ca(&dir, "rogue");

    let port = free_port();
    let conf = dir.join("stunnel.conf");
    std::fs::write(
        &conf,
        format!(
            "foreground = yes\npid =\n[docker]\naccept = 127.0.0.1:{port}\nconnect = /var/run/docker.sock\n\
             cert = {d}/good-server-cert.pem\nkey = {d}/good-server-key.pem\nCAfile = {d}/good-ca.pem\n\
             verifyChain = yes\nrequireCert = yes\n",
            d = dir.display()
        ),
    )
    .unwrap();
    let _proxy = Proxy(
        Command::new("stunnel")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("stunnel (installed by `make test`)"),
    );
    let until = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "stunnel never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    let host = format!("tcp://127.0.0.1:{port}");
    let program = dir.join("hello.py");
    std::fs::write(&program, "name = input()\nprint(f'hello over TLS, {name}')\n").unwrap();

    // The right CA and a client certificate it signed: the check runs on the remote engine.
    let good = cert_dir(&dir, "good", "good");
    let ok = |h: &str| {
        let out = check(
            &program,
            &[
                ("DOCKER_HOST", h),
                ("DOCKER_TLS_VERIFY", "1"),
                ("DOCKER_CERT_PATH", good.to_str().unwrap()),
            ],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["verdict"], "ok", "{v}");
        assert_eq!(v["stdout"], "hello over TLS, student\n", "{v}");
    };
    ok(&host);
    ok(&format!("https://127.0.0.1:{port}"));

    let refused = |env: &[(&str, &str)], says: &str| {
        let out = check(&program, env);
        assert!(!out.status.success(), "{env:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("not reachable") && err.contains(says), "{env:?}: {err}");
    };
    // A client certificate from another CA: the engine refuses the handshake.
    let rogue = cert_dir(&dir, "good", "rogue");
    refused(
        &[
            ("DOCKER_HOST", &host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", rogue.to_str().unwrap()),
        ],
        &host,
    );
    // Our CA does not vouch for the server: we refuse it.
    let wrong_ca = cert_dir(&dir, "rogue", "good");
    refused(
        &[
            ("DOCKER_HOST", &host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", wrong_ca.to_str().unwrap()),
        ],
        &host,
    );
    // Plain HTTP to a TLS endpoint, and TLS with no certificates: clear errors, nothing run.
    refused(&[("DOCKER_HOST", &host)], &host);
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    refused(
        &[
            ("DOCKER_HOST", &host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", empty.to_str().unwrap()),
        ],
        "ca.pem is missing",
    );
    refused(&[("DOCKER_HOST", "ftp://127.0.0.1:1")], "unsupported DOCKER_HOST");
    let _ = std::fs::remove_dir_all(&dir);
}
