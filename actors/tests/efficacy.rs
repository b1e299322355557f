//! Does the mentoring work (issue 18), end to end: the real `devmentor run` (bot, worker and
//! admin roles) against real PostgreSQL, Redis and Docker and the fake Telegram Bot API.
//! Students fix an error after the registry explained it, fail to fix it, fix a task after a
//! 💡 hint, edit their message and press 🔁; API students behind one token are told apart by
//! the `"user"` field. Then the figures on the registry entry's page, the registry list sorted
//! by fix rate, the analytics page and `GET /api/v1/stats/explanations` must say exactly what
//! the test did, with the 95 % interval computed here, independently (Wilson 1927).

mod common;
mod panel;

use common::bot::{data, BotUnderTest, Setup, WAIT};
use common::figures::{assert_line, row_cells, row_containing, table_row, Api, Want};
use common::Browser;
use devmentor::telegram::fake::{ChatMessage, TgUser};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ENTRY: &str = "python-zero-division";

/// A ZeroDivisionError, the same error in another program, and the fix.
const ERR: &str = "a = 10\nb = 0\nprint(a / b)\n";
const ERR_AGAIN: &str = "a = 10\nb = 0\nprint('a / b =', a / b)\n";
const FIX: &str = "a = 10\nb = 2\nprint(a / b)\n";

fn fenced(code: &str) -> String {
    format!("```python\n{code}```")
}

/// What this test asks of the bot beyond the shared waits.
trait Lineage {
    async fn checks_done(&self, user: &TgUser, n: usize) -> Vec<i64>;
    fn link(&self, kind: &str, id: i64) -> String;
}

impl Lineage for BotUnderTest {
    /// Waits until `user` has `n` finished checks; returns their ids, oldest first.
    async fn checks_done(&self, user: &TgUser, n: usize) -> Vec<i64> {
        let until = Instant::now() + WAIT;
        loop {
            let ids = self.env.psql(&format!(
                "SELECT string_agg(id::text, ',' ORDER BY id) FROM checks WHERE user_id = {} AND status = 'done'",
                user.id
            ));
            let ids: Vec<i64> = ids.split(',').filter_map(|s| s.trim().parse().ok()).collect();
            if ids.len() >= n {
                return ids;
            }
            assert!(
                Instant::now() < until,
                "{} has {ids:?} done, not {n}\n{}",
                user.id,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The link row of an attempt: `link|fixed|chain_n|source|next_id` (empty fields for NULL).
    fn link(&self, kind: &str, id: i64) -> String {
        self.env.psql(&format!(
            "SELECT concat_ws('|', COALESCE(link, ''), COALESCE(fixed::text, ''), chain_n, source,
                    COALESCE(next_id::text, ''))
               FROM attempt_links WHERE kind = '{kind}' AND attempt_id = {id}"
        ))
    }
}

/// The card's 👍 (`v:<check>:1`) or 👎 (`v:<check>:0`).
fn vote(m: &ChatMessage, up: bool) -> String {
    let end = if up { ":1" } else { ":0" };
    m.buttons
        .iter()
        .flatten()
        .map(|(_, d)| d.clone())
        .find(|d| d.starts_with("v:") && d.ends_with(end))
        .unwrap_or_else(|| panic!("no vote button on {m:#?}"))
}

/// The line of `list` (`entries`, `sources`, `tasks`, `languages`) whose `field` is `key`.
fn line<'a>(stats: &'a Value, list: &str, field: &str, key: &str) -> &'a Value {
    stats[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}: {stats}"))
        .iter()
        .find(|l| l[field] == key)
        .unwrap_or_else(|| panic!("no {list} line {field}={key}: {stats:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_figures_say_what_the_students_did() {
    let whitelist: Vec<i64> = (2001..=2005).collect();
    let s = BotUnderTest::start(Setup {
        tag: "efficacy",
        whitelist: &whitelist,
        processes: &[("bot,worker,admin", "p0")],
        ..Setup::default()
    })
    .await;
    assert!(panel::create_admin(&s.env, panel::ROOT.0, panel::ROOT.1, false)
        .status
        .success());
    let http = reqwest::Client::new();
    common::wait_ready(&http, &s.env.base()).await;
    let api = Api {
        http,
        base: s.env.base(),
        token: s.env.token(),
    };

    // (a) A fix after a registry explanation: the corrected program a moment later, 👍.
    let anna = TgUser::new(2001, "Анна");
    let m = s.fake.send_text(&anna, &fenced(ERR));
    let card = s.card(&anna, m).await;
    assert!(card.text.contains("ZeroDivisionError"), "{}", card.text);
    let a1 = s.checks_done(&anna, 1).await[0];
    assert_eq!(
        s.env.psql(&format!(
            "SELECT result->'explanation'->>'slug' FROM checks WHERE id = {a1}"
        )),
        ENTRY
    );
    assert_eq!(s.link("check", a1), "||1|registry|", "waiting for its next try");
    s.fake.press(&anna, card.message_id, &vote(&card, true));
    let m = s.fake.send_text(&anna, &fenced(FIX));
    s.card(&anna, m).await;
    let a2 = s.checks_done(&anna, 2).await[1];
    assert_eq!(s.link("check", a1), format!("similar|true|1|registry|{a2}"));
    assert_eq!(s.link("check", a2), "", "a success waits for nothing");

    // (b) Not fixed: the same error in a changed program; that one waits in turn (pending), 👎.
    let boris = TgUser::new(2002, "Boris").with_language("en");
    let m = s.fake.send_text(&boris, &fenced(ERR));
    let card = s.card(&boris, m).await;
    s.fake.press(&boris, card.message_id, &vote(&card, false));
    let m = s.fake.send_text(&boris, &fenced(ERR_AGAIN));
    s.card(&boris, m).await;
    let b = s.checks_done(&boris, 2).await;
    assert_eq!(s.link("check", b[0]), format!("similar|false|1|registry|{}", b[1]));
    assert_eq!(s.link("check", b[1]), "||2|registry|", "the second in a row, waiting");

    // (d) Edit and re-run: Clara edits her message into the fix (the same card); Dina presses
    // 🔁 and gets the same error (a re-run is a next try too).
    let clara = TgUser::new(2003, "Клара");
    let m = s.fake.send_text(&clara, &fenced(ERR));
    let card = s.card(&clara, m).await;
    s.fake.edit_text(&clara, m, &fenced(FIX));
    let c = s.checks_done(&clara, 2).await;
    s.fake
        .wait_for(clara.id, WAIT, |chat| {
            chat.iter()
                .find(|x| x.message_id == card.message_id && x.text.contains("5.0"))
                .cloned()
        })
        .await
        .unwrap_or_else(|| panic!("edit → re-run: {:#?}\n{}", s.fake.chat(clara.id), s.logs()));
    assert_eq!(s.link("check", c[0]), format!("edit|true|1|registry|{}", c[1]));

    let dina = TgUser::new(2004, "Дина");
    let m = s.fake.send_text(&dina, &fenced(ERR));
    let card = s.card(&dina, m).await;
    s.fake.press(&dina, card.message_id, &data(&card, "r:"));
    let d = s.checks_done(&dina, 2).await;
    assert_eq!(s.link("check", d[0]), format!("rerun|false|1|registry|{}", d[1]));
    assert_eq!(s.link("check", d[1]), "||2|registry|");

    // (c) A task: a wrong answer, the teacher's 💡 hint, then an accepted solution.
    let lena = TgUser::new(2005, "Лена");
    let task_id = s.env.psql("SELECT id FROM tasks WHERE slug = 'sum-of-two'");
    let title = s.env.psql("SELECT title_ru FROM tasks WHERE slug = 'sum-of-two'");
    let m = s.fake.send_text(&lena, "/tasks");
    let list = s.said(&lena, m, &title).await;
    s.fake.press(&lena, list.message_id, &format!("t:{task_id}"));
    let task_card = s.said(&lena, list.message_id, "Примеры").await;
    s.fake.press(&lena, task_card.message_id, &format!("o:{task_id}"));
    let prompt = s.said(&lena, task_card.message_id, "Жду решение").await;
    s.fake
        .send_text(&lena, "```python\na, b = map(int, input().split())\nprint(a - b)\n```");
    let graded = s.said(&lena, prompt.message_id, "не проходит").await;
    let s1: i64 = s.env.psql("SELECT max(id) FROM submissions").parse().unwrap();
    assert_eq!(s.link("submission", s1), "||1|none|", "a wrong answer nobody explained");
    s.fake.press(&lena, graded.message_id, &format!("n:{s1}:0"));
    let hint = s.said(&lena, graded.message_id, "Подсказка 1 из").await;
    let until = Instant::now() + WAIT;
    while s.link("submission", s1) != "||1|hint|" {
        assert!(
            Instant::now() < until,
            "the hint is credited: {}",
            s.link("submission", s1)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let m = s
        .fake
        .send_text(&lena, "```python\na, b = map(int, input().split())\nprint(a + b)\n```");
    s.said(&lena, m.max(hint.message_id), "решена").await;
    let s2: i64 = s.env.psql("SELECT max(id) FROM submissions").parse().unwrap();
    assert_eq!(s.link("submission", s1), format!("submission|true|1|hint|{s2}"));

    // The API: two students behind one token, told apart by "user".
    for (bad, why) in [
        (json!(""), "empty"),
        (json!(5), "not a string"),
        (json!("a\u{7}b"), "control"),
    ] {
        let (status, v) = api
            .post(
                "/api/v1/checks",
                json!({"language": "python", "code": ERR, "user": bad}),
            )
            .await;
        assert_eq!(
            (status, v["error"]["code"].as_str()),
            (422, Some("invalid_user")),
            "{why}: {v}"
        );
    }
    let x1 = api.check("python", ERR, Some("ann")).await;
    assert_eq!(x1["explanation"]["slug"], ENTRY, "{x1}");
    let x1 = x1["id"].as_i64().unwrap();
    // Bob runs the fixed program: it is not Ann's next try.
    let x2 = api.check("python", FIX, Some("bob")).await;
    assert_eq!(x2["verdict"], "ok", "{x2}");
    assert_eq!(s.link("check", x1), "||1|registry|", "bob's run is not ann's next try");
    // Counted at once while pending: ann's check is explained and waiting.
    let before = api.stats("?language=python").await;
    assert_line(
        line(&before, "entries", "slug", ENTRY),
        Want {
            explained: 7,
            pending: 3,
            fixed: 2,
        },
    );
    let x3 = api.check("python", FIX, Some("ann")).await["id"].as_i64().unwrap();
    assert_eq!(s.link("check", x1), format!("similar|true|1|registry|{x3}"));
    // A front end without "user": the token is the student. A wrong answer, then accepted.
    let t1 = api
        .submission("sum-of-two", "a, b = map(int, input().split())\nprint(a * b)\n", None)
        .await;
    assert_eq!(t1["verdict"], "wrong_answer", "{t1}");
    let t2 = api
        .submission("sum-of-two", "a, b = map(int, input().split())\nprint(a + b)\n", None)
        .await;
    assert_eq!(t2["verdict"], "accepted", "{t2}");
    let (t1, t2) = (t1["id"].as_i64().unwrap(), t2["id"].as_i64().unwrap());
    assert_eq!(s.link("submission", t1), format!("submission|true|1|none|{t2}"));
    // Another language, for the filter: a JavaScript error and its fix, by ann.
    let j1 = api
        .check("javascript", "const n = 3;\nconsole.log(total + n);\n", Some("ann"))
        .await;
    let js_entry = j1["explanation"]["slug"].as_str().unwrap_or_default().to_string();
    assert!(
        j1["explanation"]["source"] == "registry" && !js_entry.is_empty(),
        "{j1}"
    );
    api.check(
        "javascript",
        "const n = 3;\nconst total = 1;\nconsole.log(total + n);\n",
        Some("ann"),
    )
    .await;
    let j1 = j1["id"].as_i64().unwrap();
    assert!(
        s.link("check", j1).starts_with("similar|true|1|registry|"),
        "{}",
        s.link("check", j1)
    );

    // What the test did. Python, the entry: Anna fixed, Boris not (his second waits), Clara
    // fixed by an edit, Dina not by 🔁 (her second waits), ann fixed: 7 explained, 2 pending,
    // 3 of 5 fixed, each fix at the first try.
    let entry = Want {
        explained: 7,
        pending: 2,
        fixed: 3,
    };
    let registry_py = entry;
    let hint = Want {
        explained: 1,
        pending: 0,
        fixed: 1,
    };
    let none = hint;
    let task = Want {
        explained: 2,
        pending: 0,
        fixed: 2,
    };
    let python = Want {
        explained: 9,
        pending: 2,
        fixed: 5,
    };
    let js = Want {
        explained: 1,
        pending: 0,
        fixed: 1,
    };

    let stats = api.stats("?language=python").await;
    let e = line(&stats, "entries", "slug", ENTRY);
    assert_line(e, entry);
    assert_eq!(e["language"], "python", "{e}");
    assert_eq!(e["median_attempts"], 1.0, "{e}");
    assert_eq!((e["up"].as_i64(), e["down"].as_i64()), (Some(1), Some(1)), "{e}");
    // The time to fix, from the attempts' own times: the median is read from a histogram, so
    // it must lie in the bucket of the true median (the second of the three fixes).
    let mut secs: Vec<f64> = s
        .env
        .psql(&format!(
            "SELECT string_agg(extract(epoch FROM n.created_at - c.created_at)::text, ',')
               FROM checks c JOIN checks n ON (c.id, n.id) IN (({a1}, {a2}), ({}, {}), ({x1}, {x3}))",
            c[0], c[1]
        ))
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    secs.sort_by(f64::total_cmp);
    assert_eq!(secs.len(), 3, "{secs:?}");
    let edges = devmentor::store::efficacy::SECONDS_EDGES;
    let i = edges.iter().rposition(|e| secs[1] >= *e).unwrap();
    let median = e["median_seconds_to_fix"].as_f64().unwrap_or_else(|| panic!("{e}"));
    assert!(
        edges[i] <= median && median <= edges[i + 1],
        "median {median} outside [{}, {}] of {secs:?}",
        edges[i],
        edges[i + 1]
    );
    assert!(
        stats["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["slug"] != js_entry.as_str()),
        "language=python leaves JavaScript out: {stats}"
    );
    assert_line(line(&stats, "sources", "source", "registry"), registry_py);
    assert_line(line(&stats, "sources", "source", "hint"), hint);
    assert_line(line(&stats, "sources", "source", "none"), none);
    assert!(
        stats["sources"].as_array().unwrap().iter().all(|l| l["source"] != "ai"),
        "no AI here: {stats}"
    );
    assert_line(line(&stats, "tasks", "task", "sum-of-two"), task);
    assert_line(line(&stats, "languages", "language", "python"), python);

    // Every language; since today (UTC) the same; since tomorrow nothing.
    let all = api.stats("").await;
    assert_line(line(&all, "entries", "slug", ENTRY), entry);
    assert_line(line(&all, "entries", "slug", &js_entry), js);
    assert_line(
        line(&all, "sources", "source", "registry"),
        Want {
            explained: 8,
            pending: 2,
            fixed: 4,
        },
    );
    let today = s.env.psql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    let tomorrow = s
        .env
        .psql("SELECT to_char((now() AT TIME ZONE 'UTC') + interval '1 day', 'YYYY-MM-DD')");
    assert_eq!(api.stats(&format!("?since={today}")).await["entries"], all["entries"]);
    let later = api.stats(&format!("?since={tomorrow}T00:00:00Z")).await;
    assert_eq!(later["entries"], json!([]), "{later}");
    assert_eq!(later["sources"], json!([]), "{later}");
    let (status, v) = api.get("/api/v1/stats/explanations?since=yesterday").await;
    assert_eq!(status, 400, "{v}");
    let (status, v) = api.get("/api/v1/stats/explanations?language=cobol-9").await;
    assert_eq!(status, 422, "{v}");
    let r = api
        .http
        .get(format!("{}/api/v1/stats/explanations", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401, "an API token is needed");

    // The panel says the same.
    let mut b = Browser::new(&s.env.base());
    let p = b.login(panel::ROOT.0, panel::ROOT.1).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let (rate, ci) = entry.shown();

    let page = b.get(&format!("/admin/registry/{ENTRY}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let own = row_cells(&page.body, "efficacy-own");
    let seconds = format!("{median:.0} s");
    assert_eq!(
        own[1..].to_vec(),
        vec![
            "7",
            "2",
            "3",
            rate.as_str(),
            ci.as_str(),
            "1",
            seconds.as_str(),
            "1 / 1"
        ],
        "{own:?}"
    );

    // The registry list sorted by fix rate: the lowest first, entries with nothing decided last;
    // the rate and n beside each, the interval on hover.
    let list = b.get("/admin/registry?sort=fix_rate").await;
    assert_eq!(list.status, 200, "{}", list.body);
    let first = row_containing(&list.body, "<td><a href=\"/admin/registry/");
    assert_eq!(first[0], ENTRY, "the lowest fix rate first: {first:?}");
    assert_eq!(
        (first[6].as_str(), first[7].as_str()),
        (rate.as_str(), "5"),
        "{first:?}"
    );
    let second = row_containing(&list.body, &format!("<td><a href=\"/admin/registry/{js_entry}\""));
    assert_eq!((second[6].as_str(), second[7].as_str()), ("100 %", "1"), "{second:?}");
    assert!(
        list.body.find(&format!("/admin/registry/{ENTRY}\""))
            < list.body.find(&format!("/admin/registry/{js_entry}\"")),
        "60 % before 100 %"
    );
    assert!(
        list.body.contains(&format!("title=\"95 %: {ci}\"")),
        "the interval on hover"
    );

    let page = b.get("/admin/analytics").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let reg = Want {
        explained: 8,
        pending: 2,
        fixed: 4,
    };
    for (source, want) in [("registry", reg), ("hint", hint), ("none", none)] {
        let (rate, ci) = want.shown();
        let cells = row_cells(&page.body, &format!("data-source=\"{source}\""));
        assert_eq!(
            cells[1..6].to_vec(),
            vec![
                want.explained.to_string(),
                want.pending.to_string(),
                want.fixed.to_string(),
                rate,
                ci
            ],
            "{source}: {cells:?}"
        );
    }
    // The check time (p50 / p95 over 7 days) is read from bucketed durations: n exact, the
    // percentiles within 5 % of the exact ones over the same checks.
    let stat = &page.body[..page.body.find(" ms</b><span>").expect("the check time")];
    let stat = &stat[stat.rfind("<b>").unwrap() + 3..];
    let (p50, p95) = stat.split_once(" / ").unwrap();
    let (p50, p95): (f64, f64) = (p50.trim().parse().unwrap(), p95.trim().parse().unwrap());
    let durations: Vec<f64> = s
        .env
        .psql(
            "SELECT string_agg(result->>'duration_ms', ',' ORDER BY (result->>'duration_ms')::float)
               FROM checks WHERE status = 'done' AND result ? 'duration_ms'",
        )
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    let n = durations.len();
    let at = page.body.find(" ms</b><span>").unwrap();
    assert!(
        page.body[at..at + 300].contains(&format!("({n})</span>")),
        "n = {n}: {}",
        &page.body[at..at + 300]
    );
    // The histogram's q-quantile lies in the bucket of the ⌈q·n⌉-th duration.
    for (q, shown) in [(0.5, p50), (0.95, p95)] {
        let d = durations[((q * n as f64).ceil() as usize).max(1) - 1];
        assert!(
            (shown - d).abs() <= d * 0.05 + 1.0,
            "p{q}: {shown} vs {d} of {durations:?}"
        );
    }
    let (rate_py, ci_py) = python.shown();
    let py = table_row(&page.body, "efficacy-languages", "python");
    assert_eq!(
        py[1..5].to_vec(),
        vec!["9".to_string(), "5".into(), rate_py, ci_py],
        "{py:?}"
    );
    // The entries to rewrite first (n ≥ 5): this one, with its n.
    let low = table_row(&page.body, "efficacy-lowest", ENTRY);
    assert_eq!(
        low[1..5].to_vec(),
        vec!["5".to_string(), "3".into(), rate.clone(), ci.clone()],
        "{low:?}"
    );
    assert!(
        !page.body[page.body.find("efficacy-lowest").unwrap()..].contains(&js_entry),
        "one decided explanation is too few to rank"
    );

    // `devmentor efficacy rebuild` from history gives the same figures.
    let out = s.env.command(&["efficacy", "rebuild"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rebuilt = api.stats("").await;
    for list in ["entries", "sources", "tasks", "languages"] {
        assert_eq!(rebuilt[list], all[list], "{list} after the rebuild");
    }
}
