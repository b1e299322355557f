//! Issue 18, item 3 ("Variants") and its "Bad input", end to end: the real `devmentor run`
//! (worker and admin roles) against real PostgreSQL, Redis and Docker; students behind one API
//! token told apart by `"user"`. An entry with history gets a second text (ru/en) in the panel
//! (audited); students are split by `store::efficacy::variant_b` (computed here to pick students
//! of both halves), each sees the same text on every check, and the entry's page shows both
//! variants' figures with their 95 % intervals; the better one is promoted (audited) and becomes
//! the entry's text. A student who never tries again is pending until the window closes, then
//! not fixed. An entry deleted after it explained errors keeps its history under its slug
//! (marked deleted); a re-slugged one keeps its figures under the new slug.

mod common;
mod panel;

use common::figures::{assert_line, find_table_row, row_cells, Api, Want};
use common::{Browser, Env};
use devmentor::store::efficacy::variant_b;
use serde_json::Value;
use std::process::Child;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(90);
const ENTRY: &str = "python-zero-division";
const ERR: &str = "a = 10\nb = 0\nprint(a / b)\n";
const ERR_AGAIN: &str = "a = 10\nb = 0\nprint('a / b =', a / b)\n";
const FIX: &str = "a = 10\nb = 2\nprint(a / b)\n";
const JS_ERR: &str = "const n = 3;\nconsole.log(total + n);\n";
const JS_FIX: &str = "const n = 3;\nconst total = 1;\nconsole.log(total + n);\n";

const B_RU_TITLE: &str = "Делить на ноль нельзя (вариант Б)";
const B_RU_WHAT: &str = "Знаменатель равен нулю: проверьте его до деления.";
const B_EN_TITLE: &str = "You cannot divide by zero (variant B)";
const B_EN_WHAT: &str = "The divisor is zero: check it before dividing.";

/// The entries line whose slug is `slug`, if any.
fn entry_line<'a>(stats: &'a Value, slug: &str) -> Option<&'a Value> {
    stats["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no entries: {stats}"))
        .iter()
        .find(|l| l["slug"] == slug)
}

struct Service {
    env: Env,
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        common::stop(&mut self.child);
    }
}

impl Service {
    fn reloads(&self) -> usize {
        self.env.log("p0").matches("registry reloaded").count()
    }

    /// Waits until the worker has reloaded the registry more than `before` times.
    async fn reloaded_after(&self, before: usize) {
        let until = Instant::now() + WAIT;
        while self.reloads() <= before {
            assert!(
                Instant::now() < until,
                "the registry was never reloaded: {}",
                self.env.log("p0")
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The link row of a check: `link|fixed|variant|next_id` (empty fields for NULL).
    fn link(&self, id: i64) -> String {
        self.env.psql(&format!(
            "SELECT concat_ws('|', COALESCE(link, ''), COALESCE(fixed::text, ''), COALESCE(variant, ''),
                    COALESCE(next_id::text, ''))
               FROM attempt_links WHERE kind = 'check' AND attempt_id = {id}"
        ))
    }

    fn audits(&self, action: &str) -> i64 {
        self.env
            .psql(&format!(
                "SELECT count(*) FROM audit_log WHERE action = '{action}' AND object_id = '{ENTRY}'
                    AND admin_name = '{}'",
                panel::ROOT.0
            ))
            .parse()
            .unwrap()
    }
}

/// What a student was shown: the explanation's title and text.
fn shown_text(check: &Value) -> String {
    let e = &check["explanation"];
    format!(
        "{}\n{}",
        e["title"].as_str().unwrap_or(""),
        e["text"].as_str().unwrap_or("")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn variants_promotion_and_entries_that_changed() {
    let env = Env::new("efficacy_variants", &[]);
    assert!(panel::create_admin(&env, panel::ROOT.0, panel::ROOT.1, false)
        .status
        .success());
    let token = env.token();
    let token_id = env.psql("SELECT max(id) FROM api_tokens");
    let child = env.spawn("worker,admin", "p0");
    let s = Service { env, child };
    let http = reqwest::Client::new();
    common::wait_ready(&http, &s.env.base()).await;
    let api = Api {
        http,
        base: s.env.base(),
        token,
    };

    // History before the variant: one student explained (the main text) and fixed.
    let h1 = api.check("python", ERR, Some("hist")).await;
    assert_eq!(h1["explanation"]["slug"], ENTRY, "{h1}");
    assert!(h1["explanation"].get("variant").is_none(), "one text, no split: {h1}");
    let main_text = shown_text(&h1);
    let h2 = api.check("python", FIX, Some("hist")).await;
    let (h1, h2) = (h1["id"].as_i64().unwrap(), h2["id"].as_i64().unwrap());
    assert_eq!(s.link(h1), format!("similar|true||{h2}"));

    // The admin adds a second text (ru/en) on the entry's page.
    let mut b = Browser::new(&s.env.base());
    let p = b.login(panel::ROOT.0, panel::ROOT.1).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("action=\"/admin/registry/{ENTRY}/variant\"")),
        "the variant form"
    );
    assert!(
        !page
            .body
            .contains(&format!("action=\"/admin/registry/{ENTRY}/promote\"")),
        "nothing to promote without a variant"
    );
    let csrf = common::csrf_of(&page.body);
    let reloads = s.reloads();
    let p = b
        .post(
            &format!("/admin/registry/{ENTRY}/variant"),
            &[
                ("csrf_token", csrf.as_str()),
                ("v_ru_title", B_RU_TITLE),
                ("v_ru_what", B_RU_WHAT),
                ("v_ru_why", "Python не знает, чему равно x / 0."),
                ("v_ru_hint", "Добавьте if b != 0."),
                ("v_en_title", B_EN_TITLE),
                ("v_en_what", B_EN_WHAT),
                ("v_en_why", "Python has no value for x / 0."),
                ("v_en_hint", "Add if b != 0."),
            ],
        )
        .await;
    assert_eq!(
        (p.status, p.location.as_str()),
        (303, format!("/admin/registry/{ENTRY}#efficacy").as_str()),
        "{}",
        p.body
    );
    assert_eq!(s.audits("registry.variant_set"), 1, "the variant is audited");
    let round: i32 = s
        .env
        .psql(&format!(
            "SELECT variant_round FROM registry_entries WHERE slug = '{ENTRY}' AND variant_texts IS NOT NULL"
        ))
        .parse()
        .expect("the variant is saved");
    s.reloaded_after(reloads).await;
    let (va, vb) = (format!("{round}a"), format!("{round}b"));

    // Students of both halves, chosen by the product's own split of "t:<token>:<user>".
    let key = |u: &str| format!("t:{token_id}:{u}");
    let pick = |want_b: bool| -> Vec<String> {
        (0..)
            .map(|i| format!("student-{i}"))
            .filter(|u| variant_b(&key(u), ENTRY) == want_b)
            .take(2)
            .collect()
    };
    let (a_users, b_users) = (pick(false), pick(true));

    // A: the first fixes; the second fails again and then never tries again (pending).
    // B: the first fixes; the second fails again, then fixes.
    let a0 = api.check("python", ERR, Some(&a_users[0])).await;
    let a0f = api.check("python", FIX, Some(&a_users[0])).await;
    let a1 = api.check("python", ERR, Some(&a_users[1])).await;
    let a1again = api.check_in("python", ERR_AGAIN, Some(&a_users[1]), Some("en")).await;
    let b0 = api.check("python", ERR, Some(&b_users[0])).await;
    let b0f = api.check("python", FIX, Some(&b_users[0])).await;
    let b1 = api.check("python", ERR, Some(&b_users[1])).await;
    let b1again = api.check_in("python", ERR_AGAIN, Some(&b_users[1]), Some("en")).await;
    let b1f = api.check("python", FIX, Some(&b_users[1])).await;
    // Russian by default, English where asked (the third of each half): each language's text.
    for (c, v, en) in [
        (&a0, &va, false),
        (&a1, &va, false),
        (&a1again, &va, true),
        (&b0, &vb, false),
        (&b1, &vb, false),
        (&b1again, &vb, true),
    ] {
        assert_eq!(c["explanation"]["slug"], ENTRY, "{c}");
        assert_eq!(c["explanation"]["variant"].as_str(), Some(v.as_str()), "{c}");
        let text = shown_text(c);
        let has_b = |t: &str, w: &str| text.contains(t) && text.contains(w);
        match (*v == vb, en) {
            (true, false) => assert!(has_b(B_RU_TITLE, B_RU_WHAT), "variant B in Russian: {text}"),
            (true, true) => assert!(has_b(B_EN_TITLE, B_EN_WHAT), "variant B in English: {text}"),
            (false, false) => assert_eq!(text, main_text, "variant A is the main text"),
            (false, true) => {
                assert!(
                    text != main_text && !text.contains("(variant B)"),
                    "A in English: {text}"
                );
                assert!(!c["explanation"]["title"].as_str().unwrap_or("").is_empty(), "{c}");
            }
        }
    }
    let id = |c: &Value| c["id"].as_i64().unwrap();
    assert_eq!(s.link(id(&a0)), format!("similar|true|{va}|{}", id(&a0f)));
    assert_eq!(s.link(id(&a1)), format!("similar|false|{va}|{}", id(&a1again)));
    assert_eq!(s.link(id(&a1again)), format!("||{va}|"), "never tried again: waiting");
    assert_eq!(s.link(id(&b0)), format!("similar|true|{vb}|{}", id(&b0f)));
    assert_eq!(s.link(id(&b1)), format!("similar|false|{vb}|{}", id(&b1again)));
    assert_eq!(s.link(id(&b1again)), format!("similar|true|{vb}|{}", id(&b1f)));

    let want_a = Want {
        explained: 3,
        pending: 1,
        fixed: 1,
    };
    let want_b = Want {
        explained: 3,
        pending: 0,
        fixed: 2,
    };
    // The whole entry: the history before the split and both halves.
    let own = Want {
        explained: 7,
        pending: 1,
        fixed: 4,
    };
    let stats = api.stats("?language=python").await;
    assert_line(entry_line(&stats, ENTRY).expect("the entry"), own);

    // The entry's page: both variants side by side, with their intervals.
    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for (class, v, want) in [("efficacy-a", &va, want_a), ("efficacy-b", &vb, want_b)] {
        let cells = row_cells(&page.body, &format!("class=\"{class}\""));
        let (rate, ci) = want.shown();
        assert!(cells[0].contains(&format!("({v})")), "{class}: {cells:?}");
        assert_eq!(
            cells[1..6].to_vec(),
            vec![
                want.explained.to_string(),
                want.pending.to_string(),
                want.fixed.to_string(),
                rate,
                ci
            ],
            "{class}: {cells:?}"
        );
    }
    let (rate, ci) = own.shown();
    let cells = row_cells(&page.body, "efficacy-own");
    assert_eq!(
        cells[1..6].to_vec(),
        vec!["7".to_string(), "1".into(), "4".into(), rate, ci],
        "{cells:?}"
    );
    // The variant's texts are in its form, for editing.
    assert!(page
        .body
        .contains(&format!("name=\"v_ru_title\" value=\"{B_RU_TITLE}\"")));
    assert!(page
        .body
        .contains(&format!("action=\"/admin/registry/{ENTRY}/promote\"")));

    // A student who never tries again: pending until the window closes, then not fixed (the
    // window's end is moved into the past here; the figures are read live, not cached).
    s.env.psql(&format!(
        "UPDATE attempt_links SET window_ends = now() - interval '1 second'
          WHERE kind = 'check' AND attempt_id = {}",
        id(&a1again)
    ));
    let closed_a = Want {
        explained: 3,
        pending: 0,
        fixed: 1,
    };
    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    let cells = row_cells(&page.body, "class=\"efficacy-a\"");
    let (rate, ci) = closed_a.shown();
    assert_eq!(
        cells[1..6].to_vec(),
        vec!["3".to_string(), "0".into(), "1".into(), rate, ci],
        "the window closed: not fixed: {cells:?}"
    );
    let own = Want {
        explained: 7,
        pending: 0,
        fixed: 4,
    };
    assert_line(entry_line(&api.stats("").await, ENTRY).unwrap(), own);

    // Promote the better one (B: 2 of 3 against 1 of 3).
    let csrf = common::csrf_of(&page.body);
    let reloads = s.reloads();
    let p = b
        .post(
            &format!("/admin/registry/{ENTRY}/promote"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(s.audits("registry.variant_promote"), 1, "the promotion is audited");
    let after = s.env.psql(&format!(
        "SELECT after::text FROM audit_log WHERE action = 'registry.variant_promote' AND object_id = '{ENTRY}'"
    ));
    assert!(after.contains(B_RU_TITLE) && after.contains(B_EN_TITLE), "{after}");
    assert_eq!(
        s.env.psql(&format!(
            "SELECT concat_ws('|', variant_texts IS NULL, variant_round > {round}) FROM registry_entries WHERE slug = '{ENTRY}'"
        )),
        "t|t",
        "no variant, a new round"
    );
    s.reloaded_after(reloads).await;
    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    assert!(page.body.contains(B_RU_TITLE), "the main text is B's now");
    assert!(!page
        .body
        .contains(&format!("action=\"/admin/registry/{ENTRY}/promote\"")));
    // Every student now gets the promoted text, with no variant; the history stays attributed.
    let a_now = api.check("python", ERR, Some(&a_users[0])).await;
    assert!(a_now["explanation"].get("variant").is_none(), "{a_now}");
    let text = shown_text(&a_now);
    assert!(
        (text.contains(B_RU_TITLE) && text.contains(B_RU_WHAT))
            || (text.contains(B_EN_TITLE) && text.contains(B_EN_WHAT)),
        "the promoted text: {text}"
    );
    assert_eq!(s.link(id(&b0)), format!("similar|true|{vb}|{}", id(&b0f)));
    // Fixed, to leave nothing pending.
    let a_now_fix = api.check("python", FIX, Some(&a_users[0])).await;
    assert_eq!(s.link(id(&a_now)), format!("similar|true||{}", id(&a_now_fix)));
    let own = Want {
        explained: 8,
        pending: 0,
        fixed: 5,
    };
    let before_delete = api.stats("?language=python").await;
    assert_line(entry_line(&before_delete, ENTRY).unwrap(), own);

    // Re-slugged: a JavaScript entry explains and is fixed, then gets another slug.
    let j1 = api.check("javascript", JS_ERR, Some("js-student")).await;
    let js_entry = j1["explanation"]["slug"].as_str().unwrap_or_default().to_string();
    assert!(!js_entry.is_empty(), "{j1}");
    api.check("javascript", JS_FIX, Some("js-student")).await;
    let js = Want {
        explained: 1,
        pending: 0,
        fixed: 1,
    };
    assert_line(entry_line(&api.stats("").await, &js_entry).unwrap(), js);
    let renamed = format!("{js_entry}-renamed");
    s.env.psql(&format!(
        "UPDATE registry_entries SET slug = '{renamed}' WHERE slug = '{js_entry}'"
    ));

    // Deleted after it explained errors: in the panel.
    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    let csrf = common::csrf_of(&page.body);
    let p = b
        .post(
            &format!("/admin/registry/{ENTRY}/delete"),
            &[("csrf_token", csrf.as_str())],
        )
        .await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/registry"), "{}", p.body);
    assert_eq!(
        s.env
            .psql(&format!("SELECT count(*) FROM registry_entries WHERE slug = '{ENTRY}'")),
        "0"
    );

    for query in ["", "?language=python"] {
        let stats = api.stats(query).await;
        let gone = entry_line(&stats, ENTRY).unwrap_or_else(|| panic!("{query}: the deleted entry: {stats:#}"));
        assert_line(gone, own);
        assert_eq!(gone["deleted"], true, "{gone}");
        assert_eq!(gone["language"], "python", "{gone}");
    }
    let stats = api.stats("").await;
    let moved = entry_line(&stats, &renamed).unwrap_or_else(|| panic!("the new slug: {stats:#}"));
    assert_line(moved, js);
    assert_eq!(moved["language"], "javascript", "{moved}");
    assert!(moved.get("deleted").is_none(), "{moved}");
    assert!(
        entry_line(&stats, &js_entry).is_none(),
        "nothing under the old slug: {stats:#}"
    );
    let js_stats = api.stats("?language=javascript").await;
    assert_line(entry_line(&js_stats, &renamed).unwrap(), js);

    // The panel: the re-slugged entry's page has its figures; the analytics page still lists
    // the deleted one's history under its slug; the registry list no longer has it.
    let page = b.get(&format!("/admin/registry/{renamed}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cells = row_cells(&page.body, "efficacy-own");
    let (rate, ci) = js.shown();
    assert_eq!(
        cells[1..6].to_vec(),
        vec!["1".to_string(), "0".into(), "1".into(), rate, ci],
        "{cells:?}"
    );
    let page = b.get("/admin/analytics").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // Not among the entries to rewrite (there is nothing left to rewrite), but its history is
    // listed under its slug, marked deleted.
    assert!(
        find_table_row(&page.body, "efficacy-lowest", ENTRY).is_none(),
        "a deleted entry is not to be rewritten"
    );
    let gone = find_table_row(&page.body, "efficacy-deleted", &format!("{ENTRY} (удалена)"))
        .unwrap_or_else(|| panic!("the deleted entry's history: {}", page.body));
    let (rate, ci) = own.shown();
    assert_eq!(
        gone[1..6].to_vec(),
        vec!["8".to_string(), "0".into(), "5".into(), rate, ci],
        "{gone:?}"
    );
    assert!(
        find_table_row(&page.body, "efficacy-deleted", &format!("{renamed} (удалена)")).is_none(),
        "a re-slugged entry is not deleted"
    );
    let list = b.get("/admin/registry").await;
    assert!(!list.body.contains(&format!("/admin/registry/{ENTRY}\"")));

    // Rebuilt from history: the same figures, still under the slugs they had (the window
    // moved by hand above is recomputed from the check's time: that student waits again).
    let out = s.env.command(&["efficacy", "rebuild"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rebuilt = api.stats("").await;
    let gone = entry_line(&rebuilt, ENTRY).unwrap_or_else(|| panic!("after the rebuild: {rebuilt:#}"));
    assert_line(
        gone,
        Want {
            explained: 8,
            pending: 1,
            fixed: 5,
        },
    );
    assert_eq!(gone["deleted"], true, "{gone}");
    assert_line(entry_line(&rebuilt, &renamed).unwrap(), js);
}
