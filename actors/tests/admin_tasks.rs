//! Tasks in the panel: a teacher creates a task (bad input refused, nothing saved), adds and
//! edits tests, checks the reference solutions in the real sandbox (Docker), and publishes only
//! a task with tests whose references pass; every change is audited. Submissions: the list,
//! one submission shown as text, the task's statistics, the students' progress, the CSV.

mod common;
mod panel;

use panel::{zip, Panel};

const PY: &str = "a, b = map(int, input().split())\nprint(a + b)\n";
const CPP: &str =
    "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; std::cout << a + b << \"\\n\"; }\n";

fn task_form<'a>(slug: &'a str, statement: &'a str, python: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("slug", slug),
        ("topic", "io"),
        ("position", "5"),
        ("title_ru", "Сумма"),
        ("title_en", "Sum"),
        ("statement_ru", statement),
        ("statement_en", "Print <b>a + b</b>."),
        ("languages", "python, cpp"),
        ("checker", "tokens"),
        ("float_epsilon", ""),
        ("stop_at_first_failure", "1"),
        ("hints_ru", "Прочитайте два числа"),
        ("hints_en", "Read two numbers"),
        ("solution_python", python),
        ("solution_cpp", CPP),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_written_tested_validated_and_published() {
    let mut panel = Panel::start("adm_tasks").await;
    let tasks_before = panel.env.psql("SELECT count(*) FROM tasks");
    // Bad input: the form comes back with a message for each mistake, nothing is saved.
    let mut bad = task_form("Bad Slug", "Выведите <b>a + b", PY);
    bad[6] = ("languages", "python, cobol");
    let p = panel.post("/admin/tasks/new", &bad).await;
    assert_eq!(p.status, 422, "{}", p.body);
    assert!(p.body.contains("cobol") && p.body.contains("Bad Slug"), "{}", p.body);
    assert_eq!(panel.env.psql("SELECT count(*) FROM tasks"), tasks_before);

    let p = panel
        .post("/admin/tasks/new", &task_form("sum-ab", "Выведите <b>a + b</b>.", PY))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = panel.env.psql("SELECT id FROM tasks WHERE slug = 'sum-ab'");
    assert_eq!(p.location, format!("/admin/tasks/{id}"));
    let env = &panel.env;
    assert_eq!(
        env.psql(
            "SELECT languages::text, checker, from_catalogue, published, hints::text FROM tasks WHERE slug = 'sum-ab'"
        ),
        "{python,cpp}|tokens|f|f|[{\"en\": \"Read two numbers\", \"ru\": \"Прочитайте два числа\"}]"
    );
    let list = panel.b.get("/admin/tasks").await;
    assert!(
        list.body.contains("sum-ab") && list.body.contains("/admin/tasks"),
        "{}",
        list.body
    );

    // No tests: not published.
    let base = format!("/admin/tasks/{id}");
    let p = panel.post(&format!("{base}/publish"), &[]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("без тестов"), "{}", p.body);
    assert_eq!(
        panel.env.psql(&format!("SELECT published FROM tasks WHERE id = {id}")),
        "f"
    );

    // Tests: added; an oversized expected output refused.
    for (stdin, expected, hidden) in [("1 2\n", "3\n", ""), ("40 2\n", "42\n", "1"), ("-5 5\n", "0\n", "")] {
        let p = panel
            .post(
                &format!("{base}/tests"),
                &[("stdin", stdin), ("expected", expected), ("hidden", hidden)],
            )
            .await;
        assert_eq!(p.status, 303, "{}", p.body);
    }
    let huge = "9".repeat(64 * 1024 + 1);
    let p = panel
        .post(&format!("{base}/tests"), &[("stdin", "1 1"), ("expected", &huge)])
        .await;
    assert_eq!(p.status, 422);
    let tests = |panel: &Panel| {
        panel.env.psql(&format!(
            "SELECT string_agg(position || ':' || btrim(expected, E'\\n') || ':' || CASE WHEN hidden THEN 't' ELSE 'f' END, ',' ORDER BY position) FROM task_tests WHERE task_id = {id}"
        ))
    };
    assert_eq!(tests(&panel), "1:3:f,2:42:t,3:0:f");
    // Reorder, hide, delete.
    let t3 = panel.env.psql(&format!(
        "SELECT id FROM task_tests WHERE task_id = {id} AND position = 3"
    ));
    assert_eq!(panel.post(&format!("{base}/tests/{t3}/up"), &[]).await.status, 303);
    assert_eq!(tests(&panel), "1:3:f,2:0:f,3:42:t");
    assert_eq!(panel.post(&format!("{base}/tests/{t3}/hide"), &[]).await.status, 303);
    let t1 = panel.env.psql(&format!(
        "SELECT id FROM task_tests WHERE task_id = {id} AND position = 1"
    ));
    assert_eq!(panel.post(&format!("{base}/tests/{t1}/delete"), &[]).await.status, 303);
    assert_eq!(tests(&panel), "1:0:t,2:42:t");
    // Edit a test: a too-long expected output is refused, a good one saved.
    let t = panel.env.psql(&format!(
        "SELECT id FROM task_tests WHERE task_id = {id} AND position = 2"
    ));
    let p = panel
        .post(
            &format!("{base}/tests/{t}/save"),
            &[("stdin", "40 2"), ("expected", &huge)],
        )
        .await;
    assert_eq!(p.status, 422);
    let p = panel
        .post(
            &format!("{base}/tests/{t}/save"),
            &[("stdin", "40 3\n"), ("expected", "43\n")],
        )
        .await;
    assert_eq!(p.status, 303);
    assert_eq!(tests(&panel), "1:0:t,2:43:t");

    // Not validated yet: not published.
    let p = panel.post(&format!("{base}/publish"), &[]).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("ещё не прошли"), "{}", p.body);

    // Validation in the real sandbox: both references pass every test.
    let p = panel.post(&format!("{base}/validate"), &[]).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("ref-python") && p.body.contains("ref-cpp"),
        "{}",
        p.body
    );
    // Verdicts in the admin's words, not the stored codes.
    assert!(p.body.contains("принято (2/2)"), "{}", p.body);
    assert!(p.body.contains("#1 пройдено</span>"), "{}", p.body);
    assert!(
        !p.body.contains("accepted (") && !p.body.contains(" passed<"),
        "{}",
        p.body
    );
    assert_eq!(
        panel
            .env
            .psql(&format!("SELECT validated_at IS NOT NULL FROM tasks WHERE id = {id}")),
        "t"
    );
    assert_eq!(panel.post(&format!("{base}/publish"), &[]).await.status, 303);
    assert_eq!(
        panel.env.psql(&format!("SELECT published FROM tasks WHERE id = {id}")),
        "t"
    );

    // A wrong reference: saving it clears the validation; checking it fails; it cannot be
    // published again once unpublished.
    let wrong = "a, b = map(int, input().split())\nprint(a - b)\n";
    let p = panel
        .post(&base, &task_form("sum-ab", "Выведите <b>a + b</b>.", wrong))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        panel.env.psql(&format!(
            "SELECT validated_at IS NULL, from_catalogue FROM tasks WHERE id = {id}"
        )),
        "t|f"
    );
    let p = panel.post(&format!("{base}/validate"), &[]).await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("неверный ответ ("), "{}", p.body);
    assert!(!p.body.contains("wrong_answer ("), "{}", p.body);
    assert_eq!(
        panel
            .env
            .psql(&format!("SELECT validated_at IS NULL FROM tasks WHERE id = {id}")),
        "t"
    );
    assert_eq!(panel.post(&format!("{base}/unpublish"), &[]).await.status, 303);
    assert_eq!(panel.post(&format!("{base}/publish"), &[]).await.status, 422);

    // Duplicate: a new unpublished task with the same tests.
    let p = panel.post(&format!("{base}/duplicate"), &[]).await;
    assert_eq!(p.status, 303);
    assert_eq!(
        panel.env.psql("SELECT published, (SELECT count(*) FROM task_tests x WHERE x.task_id = t.id) FROM tasks t WHERE slug = 'sum-ab-copy'"),
        "f|2"
    );

    // Every change is in the audit log.
    let actions = panel
        .env
        .psql("SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit_log WHERE action LIKE 'task.%'");
    assert_eq!(
        actions,
        "task.create,task.duplicate,task.publish,task.test_add,task.test_delete,task.test_hide,task.test_save,task.test_up,task.unpublish,task.update,task.validate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_listed_counted_and_exported() {
    let mut panel = Panel::start("adm_subs").await;
    let id = panel.env.psql("SELECT id FROM tasks WHERE slug = 'sum-of-two'");
    let wrong = r#"{"verdict": "wrong_answer", "passed": 1, "total": 3, "tests": [{"n": 1, "verdict": "passed"}, {"n": 2, "verdict": "wrong_answer", "hidden": true}]}"#;
    let ok = r#"{"verdict": "accepted", "passed": 3, "total": 3, "tests": [{"n": 1, "verdict": "passed"}, {"n": 2, "verdict": "passed"}, {"n": 3, "verdict": "passed"}]}"#;
    panel.env.psql(&format!(
        "INSERT INTO submissions (task_id, status, user_id, language, code, verdict, passed, total, result, created_at) VALUES
           ({id}, 'done', 501, 'python', '<script>alert(1)</script>', 'wrong_answer', 1, 3, '{wrong}', '2026-05-01 10:00'),
           ({id}, 'done', 501, 'python', 'print(3)', 'wrong_answer', 1, 3, '{wrong}', '2026-05-01 10:01'),
           ({id}, 'done', 501, 'python', 'print(a+b)', 'accepted', 3, 3, '{ok}', '2026-05-01 10:02'),
           ({id}, 'done', 502, 'cpp', 'int main(){{}}', 'wrong_answer', 1, 3, '{wrong}', '2026-05-02 09:00')"
    ));
    let p = panel
        .b
        .get("/admin/submissions?task=sum-of-two&verdict=wrong_answer")
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_eq!(p.body.matches("/admin/submissions/").count(), 3, "{}", p.body);
    assert_eq!(p.body.matches("<td>неверный ответ</td>").count(), 3, "{}", p.body);
    assert!(p.body.contains("selected>неверный ответ</option>"), "{}", p.body);
    assert!(!p.body.contains(">wrong_answer<"), "{}", p.body);
    let p = panel
        .b
        .get("/admin/submissions?user=502&from=2026-05-02&to=2026-05-02")
        .await;
    assert_eq!(p.body.matches("/admin/submissions/").count(), 1, "{}", p.body);
    let first = panel.env.psql("SELECT min(id) FROM submissions");
    let p = panel.b.get(&format!("/admin/submissions/{first}")).await;
    assert!(
        p.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !p.body.contains("<script>alert"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("<dd>неверный ответ (1/3) · проверено</dd>"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("<td>пройдено</td>") && p.body.contains("<td>неверный ответ</td>"),
        "{}",
        p.body
    );
    assert!(
        !p.body.contains(">wrong_answer") && !p.body.contains("· done<"),
        "{}",
        p.body
    );

    // The task's statistics: 4 attempts, 1 of 2 students solved (50%), in 3 attempts; test 2
    // fails most.
    let p = panel.b.get(&format!("/admin/tasks/{id}")).await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<dd>4</dd>"), "{}", p.body);
    assert!(p.body.contains("1 / 2 (50%)"), "{}", p.body);
    assert!(p.body.contains("<dd>3.0</dd>"), "{}", p.body);
    assert!(p.body.contains("#2 (3)"), "{}", p.body);
    assert!(p.body.contains("неверный ответ: 3; принято: 1;"), "{}", p.body);
    // The topic and the output comparison in words too (the codes stay the options' values).
    assert!(
        p.body.contains("<option value=\"io\" selected>Ввод и вывод</option>"),
        "{}",
        p.body
    );
    assert!(
        p.body
            .contains("<option value=\"lines\" selected>построчно, без пробелов в концах строк</option>"),
        "{}",
        p.body
    );
    let list = panel.b.get("/admin/tasks").await;
    assert!(
        list.body.contains("<td>Ввод и вывод</td>") && !list.body.contains("<td>io</td>"),
        "{}",
        list.body
    );

    let p = panel.b.get("/admin/progress").await;
    assert!(p.body.contains("alice_a"), "{}", p.body);

    let p = panel.b.get("/admin/submissions.csv").await;
    assert!(p.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = p.body.lines().collect();
    assert_eq!(lines[0], "id,created,task,user_id,language,verdict,passed,total");
    assert_eq!(lines.len(), 5);
    assert!(
        lines[4].ends_with(",2026-05-02 09:00:00,\"sum-of-two\",502,\"cpp\",\"wrong_answer\",1,3"),
        "{}",
        lines[4]
    );
}

/// A multipart form with the CSRF token, `hidden`, and the archive.
fn upload(csrf: &str, archive: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in [("csrf_token", csrf), ("hidden", "1")] {
        b.extend_from_slice(format!("--XyZ\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    b.extend_from_slice(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"zip\"; filename=\"tests.zip\"\r\nContent-Type: application/zip\r\n\r\n",
    );
    b.extend_from_slice(archive);
    b.extend_from_slice(b"\r\n--XyZ--\r\n");
    b
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tests_are_imported_from_a_zip_all_or_none() {
    let mut panel = Panel::start("adm_tzip").await;
    let p = panel
        .post("/admin/tasks/new", &task_form("zip-sum", "Выведите <b>a + b</b>.", PY))
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let id = panel.env.psql("SELECT id FROM tasks WHERE slug = 'zip-sum'");
    let url = format!("/admin/tasks/{id}/import");
    let ct = "multipart/form-data; boundary=XyZ";
    let count = |panel: &Panel| {
        panel
            .env
            .psql(&format!("SELECT count(*) FROM task_tests WHERE task_id = {id}"))
    };
    let csrf = panel.csrf.clone();

    // Stored entries, out of order, with what a Mac adds beside them.
    let good = zip(&[
        ("tests/2.out", b"10\r\n"),
        ("tests/1.in", b"2 2\n"),
        ("tests/1.out", b"4\n"),
        ("tests/2.in", b"5 5\n"),
        ("__MACOSX/tests/._1.in", b"\x00\x05\x16\x07"),
    ]);
    let p = panel.b.post_body(&url, ct, upload(&csrf, &good)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(
        panel.env.psql(&format!(
            "SELECT string_agg(position || '=' || stdin || expected || hidden, '|' ORDER BY position) FROM task_tests WHERE task_id = {id}"
        )),
        "1=2 2\n4\ntrue|2=5 5\n10\ntrue"
    );
    // Deflated entries (written by Python's zipfile).
    let deflated = include_bytes!("../../tests/data/tests-deflate.zip");
    let p = panel.b.post_body(&url, ct, upload(&csrf, deflated)).await;
    assert_eq!(p.status, 303, "{}", p.body);
    assert_eq!(count(&panel), "4");

    // Refused, with nothing saved: an unpaired file, a binary one, a misnamed one, not a zip.
    let unpaired = zip(&[("1.in", b"1"), ("1.out", b"1"), ("3.in", b"7")]);
    let p = panel.b.post_body(&url, ct, upload(&csrf, &unpaired)).await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("3.in / 3.out"), "{}", p.body);
    let binary = zip(&[("1.in", b"\xff\xfe\x00"), ("1.out", b"1"), ("notes.txt", b"hi")]);
    let p = panel.b.post_body(&url, ct, upload(&csrf, &binary)).await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("не текстовый") && p.body.contains("notes.txt"),
        "{}",
        p.body
    );
    let p = panel
        .b
        .post_body(&url, ct, upload(&csrf, b"PK but not really a zip file"))
        .await;
    assert_eq!(p.status, 422);
    assert!(p.body.contains("не читается как zip"), "{}", p.body);
    assert_eq!(count(&panel), "4");
    // Without the CSRF token: 403.
    let p = panel
        .b
        .post_body(&url, ct, upload("0".repeat(64).as_str(), &good))
        .await;
    assert_eq!(p.status, 403);
    assert_eq!(count(&panel), "4");
    assert_eq!(
        panel
            .env
            .psql("SELECT count(*) FROM audit_log WHERE action = 'task.test_import'"),
        "2"
    );
}
