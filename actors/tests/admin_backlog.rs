//! The panel's main way to grow the registry, end to end: a real check (real sandbox) whose
//! error no entry explains lands in the unmatched backlog, grouped with another message of the
//! same kind; "create an entry" opens a pre-filled form that saves as it is; the registry
//! reloads from PostgreSQL, and the same programs are now explained by the new entry.

mod common;
mod panel;

use common::{submit, wait_done, wait_ready, Browser, Env};
use panel::{create_admin, ROOT};
use std::time::{Duration, Instant};

/// Two programs, one kind of error: `Expecting value: line N column N (char N)`.
const FIRST: &str = "import json\nprint(json.loads(''))\n";
const SECOND: &str = "import json\n\ndata = json.loads('{\"a\": }')\n";

fn unescape(s: &str) -> String {
    s.replace("&#x3D;", "=")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#x60;", "`")
        .replace("&amp;", "&")
}

/// The value of the input `name` in a form.
fn input(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no input {name}"));
    let rest = &html[at + name.len() + 15..];
    unescape(&rest[..rest.find('"').unwrap()])
}

fn textarea(html: &str, name: &str) -> String {
    let at = html
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("no textarea {name}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    unescape(&rest[start..rest.find("</textarea>").unwrap()])
}

async fn explained(env: &Env, token: &str, code: &str) -> serde_json::Value {
    let http = reqwest::Client::new();
    let id = submit(&http, &env.base(), token, code).await;
    let v = wait_done(&http, &env.base(), token, id, Duration::from_secs(90)).await;
    assert_eq!(v["verdict"], "runtime_error", "{v}");
    v["explanation"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_made_from_the_backlog_explains_the_same_program() {
    let env = Env::new("adm_backlog", &[]);
    assert!(create_admin(&env, ROOT.0, ROOT.1, false).status.success());
    let token = env.token();
    let mut service = env.spawn("worker,admin", "svc");
    wait_ready(&reqwest::Client::new(), &env.base()).await;

    // Nothing in the registry knows this error.
    for code in [FIRST, SECOND] {
        let e = explained(&env, &token, code).await;
        assert_eq!(e["source"], "none", "{e}");
        assert_eq!(e["error_type"], "JSONDecodeError", "{e}");
    }

    let mut b = Browser::new(&env.base());
    assert_eq!(b.login(ROOT.0, ROOT.1).await.status, 303);
    let backlog = b.get("/admin/unmatched").await;
    assert_eq!(backlog.status, 200, "{}", backlog.body);
    // One row for the kind: two messages, two checks.
    assert_eq!(
        backlog.body.matches("<code>JSONDecodeError</code>").count(),
        1,
        "two messages of one kind are one row: {}",
        backlog.body
    );
    assert!(backlog.body.contains("<td>2</td><td>python</td>"), "{}", backlog.body);
    let at = backlog.body.find("\" class=\"create\"").expect("a create link");
    let href = &backlog.body[..at];
    let href = unescape(&href[href.rfind("href=\"").unwrap() + 6..]);
    assert!(href.starts_with("/admin/registry/new?"), "{href}");

    // The pre-filled form: the message alone, a pattern for the kind.
    let form = b.get(&href).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let csrf = common::csrf_of(&form.body);
    let (pattern, sample, error_type) = (
        input(&form.body, "pattern"),
        textarea(&form.body, "sample_error"),
        input(&form.body, "error_type"),
    );
    assert_eq!(error_type, "JSONDecodeError");
    assert!(sample.starts_with("Expecting value: line 1 column "), "{sample}");
    assert!(
        !sample.contains("JSONDecodeError"),
        "the matcher never sees the type: {sample}"
    );
    assert!(form.body.contains("<option value=\"python\" selected>"));

    // The tester, before the entry exists: nothing fits.
    let traceback = format!(
        "Traceback (most recent call last):\n  File \"/sandbox/main.py\", line 2, in <module>\njson.decoder.JSONDecodeError: {sample}"
    );
    let t = b
        .post(
            "/admin/registry/tester",
            &[("csrf_token", &csrf), ("language", "python"), ("error", &traceback)],
        )
        .await;
    assert!(t.body.contains("class=\"flash error\""), "{}", t.body);

    // Saved as pre-filled, plus a slug and titles.
    let reloads = env.log("svc").matches("registry reloaded").count();
    let saved = b
        .post(
            "/admin/registry/new",
            &[
                ("csrf_token", &csrf),
                ("slug", "python-json-empty"),
                ("language", "python"),
                ("error_type", &error_type),
                ("pattern", &pattern),
                ("sample_error", &sample),
                ("priority", "50"),
                ("enabled", "1"),
                ("ru_title", "Это не JSON"),
                ("ru_what", "json.loads получил строку, в которой нет JSON."),
                ("en_title", "This is not JSON"),
            ],
        )
        .await;
    assert_eq!(
        (saved.status, saved.location.as_str()),
        (303, "/admin/registry/python-json-empty"),
        "{}",
        saved.body
    );
    let page = b.get("/admin/registry/python-json-empty").await;
    assert!(page.body.contains("Сохранено."), "a message after the save");

    // The tester agrees now.
    let t = b
        .post(
            "/admin/registry/tester",
            &[("csrf_token", &csrf), ("language", "python"), ("error", &traceback)],
        )
        .await;
    assert!(t.body.contains("/admin/registry/python-json-empty"), "{}", t.body);

    // The running worker reloads the registry from PostgreSQL (NOTIFY), then explains both
    // programs with the new entry.
    let until = Instant::now() + Duration::from_secs(30);
    while env.log("svc").matches("registry reloaded").count() <= reloads {
        assert!(Instant::now() < until, "no reload:\n{}", env.log("svc"));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for code in [FIRST, SECOND] {
        let e = explained(&env, &token, code).await;
        assert_eq!(e["source"], "registry", "{e}");
        assert_eq!(e["slug"], "python-json-empty", "{e}");
        assert_eq!(e["title"], "Это не JSON", "{e}");
    }
    // The check's page names the entry and links to it.
    let last = env.psql("SELECT max(id) FROM checks");
    let check = b.get(&format!("/admin/checks/{last}")).await;
    assert!(
        check.body.contains("href=\"/admin/registry/python-json-empty\""),
        "{}",
        check.body
    );
    common::stop(&mut service);
}
