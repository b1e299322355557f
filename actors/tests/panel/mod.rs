//! Shared by the admin panel's tests: accounts made by the real `createsuperuser`, the panel
//! (`devmentor run --roles admin`) on a fresh database, and a logged-in browser.
#![allow(dead_code)]

use crate::common::{csrf_of, stop, wait_ready, Browser, Env};
use std::io::Write;
use std::process::{Child, Stdio};

/// The superuser every panel test logs in as, and a staff account beside it.
pub const ROOT: (&str, &str) = ("root_admin", "a long enough password");
pub const STAFF: (&str, &str) = ("staff_member", "staff password 123");

/// A hostile student, a check with hostile code and output, an access request.
pub const SEED: &str = "INSERT INTO users (id, username, first_name, language_code) VALUES
       (501, 'alice_a', 'Alice', 'en'), (502, 'mallory', '<script>alert(1)</script>', 'ru'),
       (503, NULL, 'Bob', 'ru');
     INSERT INTO checks (language, code, source, user_id, status, verdict, result) VALUES
       ('python', '<script>document.cookie</script>', 'bot', 502, 'done', 'ok',
        '{\"stdout\": \"<b>hi</b>\", \"stderr\": \"\", \"duration_ms\": 12}');
     INSERT INTO access_requests (user_id) VALUES (503);";

pub fn create_admin(env: &Env, user: &str, password: &str, staff: bool) -> std::process::Output {
    let mut args = vec!["createsuperuser", "--username", user, "--password-stdin"];
    if staff {
        args.push("--staff");
    }
    let mut c = env
        .command(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(c.stdin.take().unwrap(), "{password}").unwrap();
    c.wait_with_output().unwrap()
}

/// The panel running on its own database, with [`ROOT`] and [`STAFF`], [`SEED`]'s rows, and
/// a browser logged in as [`ROOT`].
pub struct Panel {
    pub env: Env,
    pub service: Child,
    pub b: Browser,
    /// [`ROOT`]'s session token for forms.
    pub csrf: String,
}

impl Panel {
    pub async fn start(tag: &str) -> Panel {
        Panel::start_with(tag, &[]).await
    }

    pub async fn start_with(tag: &str, extra: &[(&str, &str)]) -> Panel {
        let env = Env::new(tag, extra);
        assert!(create_admin(&env, ROOT.0, ROOT.1, false).status.success());
        assert!(create_admin(&env, STAFF.0, STAFF.1, true).status.success());
        env.psql(SEED);
        Panel::serve(env).await
    }

    /// Starts the panel on `env` as it is and logs in as [`ROOT`].
    pub async fn serve(env: Env) -> Panel {
        let service = env.spawn("admin", "admin");
        wait_ready(&reqwest::Client::new(), &env.base()).await;
        let mut b = Browser::new(&env.base());
        let p = b.login(ROOT.0, ROOT.1).await;
        assert_eq!((p.status, p.location.as_str()), (303, "/admin/"), "{}", p.body);
        let csrf = csrf_of(&b.get("/admin/").await.body);
        Panel { env, service, b, csrf }
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.env.base())
    }

    /// POSTs `form` plus the CSRF token.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> crate::common::Page {
        let csrf = self.csrf.clone();
        let mut f = form.to_vec();
        f.push(("csrf_token", &csrf));
        self.b.post(path, &f).await
    }
}

impl Drop for Panel {
    fn drop(&mut self) {
        // Before `env` drops the database.
        stop(&mut self.service);
    }
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zip archive of `files`, stored (not compressed): what a teacher uploads.
pub fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let offset = out.len() as u32;
        let (crc, size, n) = (crc32(data), data.len() as u32, name.len() as u16);
        out.extend_from_slice(&[0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [crc, size, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&[0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        for v in [crc, size, size] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        central.extend_from_slice(&n.to_le_bytes());
        central.extend_from_slice(&[0; 12]);
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (at, len, count) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&[0, 0]);
    out
}
