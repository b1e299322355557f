//! What an admin sees (issue 15, items 16–20): a message after every change, confirmation on
//! destructive and mass actions, a bulk form that says what is missing, codes and validation
//! in the admin's language, errors inside the layout, the audit log's filters and field-level
//! changes (logins hidden unless asked for), human timestamps, links from the check page, the
//! dashboard's cards and the check list, and the backlog grouped by the kind of error.

mod common;
mod panel;

use panel::Panel;

fn rows_with(body: &str, cell: &str) -> usize {
    body.matches(&format!("<td>{cell}</td>")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_say_what_happened_and_dangerous_ones_ask_first() {
    let mut panel = Panel::start("adm_see_flash").await;
    // The bulk form: no default action, and it says what is missing.
    let list = panel.b.get("/admin/users").await;
    assert!(list
        .body
        .contains("<option value=\"\" selected>— выберите действие —</option>"));
    assert!(list
        .body
        .contains("data-confirm=\"Применить действие к отмеченным пользователям ({n})?\""));
    let p = panel.post("/admin/users/bulk", &[("action", "block")]).await;
    assert_eq!((p.status, p.location.as_str()), (303, "/admin/users"));
    let list = panel.b.get("/admin/users").await;
    assert!(
        list.body.contains("class=\"flash error\">Никто не отмечен"),
        "{}",
        list.body
    );
    assert!(
        !panel.b.get("/admin/users").await.body.contains("Никто не отмечен"),
        "shown once"
    );
    panel.post("/admin/users/bulk", &[("ids", "501"), ("action", "")]).await;
    assert!(panel.b.get("/admin/users").await.body.contains("Выберите, что сделать"));
    assert_eq!(panel.env.psql("SELECT blocked FROM users WHERE id = 501"), "f");
    let p = panel
        .post(
            "/admin/users/bulk",
            &[
                ("ids", "501"),
                ("ids", "503"),
                ("action", "block"),
                ("back", "/admin/users?q=a"),
            ],
        )
        .await;
    assert_eq!(p.location, "/admin/users?q=a", "back to the list as it was");
    assert!(panel
        .b
        .get("/admin/users?q=a")
        .await
        .body
        .contains("Изменено пользователей: 2."));
    assert_eq!(panel.env.psql("SELECT count(*) FROM users WHERE blocked"), "2");

    // A save says so.
    let edit = panel.b.get("/admin/registry/python-zero-division").await;
    assert!(
        edit.body
            .contains("class=\"inline\" data-confirm=\"Удалить насовсем? Отменить это будет нельзя.\""),
        "delete asks first"
    );
    let p = panel.post("/admin/users/501/unblock", &[]).await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = panel.b.get(&p.location).await;
    assert!(
        page.body.contains("<p class=\"flash \">Сохранено.</p>"),
        "{}",
        page.body
    );

    // A broadcast's start asks first, naming how many people it reaches.
    let p = panel
        .post(
            "/admin/broadcasts/new",
            &[("text", "<b>Привет</b>"), ("audience", "all")],
        )
        .await;
    assert_eq!(p.status, 303, "{}", p.body);
    let page = panel.b.get(&p.location).await;
    let reach = panel
        .env
        .psql("SELECT count(*) FROM users WHERE NOT blocked AND NOT bot_blocked");
    assert!(
        page.body.contains(&format!(
            "data-confirm=\"Начать рассылку? Сообщение получат {reach} чел."
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains("<h1>Рассылка №"), "a grammatical title");
    assert!(page.body.contains(">черновик</b>"), "the status in Russian");
    let start = format!("{}/start", p.location);
    let p = panel.post(&start, &[]).await;
    assert!(panel.b.get(&p.location).await.body.contains("Рассылка запущена."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_and_validation_speak_the_admins_language_and_errors_keep_the_menu() {
    let mut panel = Panel::start("adm_see_lang").await;
    let check = panel.env.psql("SELECT max(id) FROM checks");
    let page = panel.b.get(&format!("/admin/checks/{check}")).await;
    assert!(page.body.contains("<dd>успешно"), "{}", page.body);
    assert!(page.body.contains("<h1>Проверка №"));
    assert!(page.body.contains(" UTC"), "a human timestamp");
    assert!(
        !regex_like_micro(&page.body),
        "no ISO timestamps with microseconds: {}",
        page.body
    );
    // A regex that does not compile, in Russian.
    let p = panel
        .post(
            "/admin/registry/new",
            &[
                ("slug", "py-broken"),
                ("language", "python"),
                ("error_type", "RecursionError"),
                ("pattern", "maximum (recursion"),
                ("sample_error", "maximum recursion depth exceeded"),
                ("priority", "50"),
                ("ru_title", "Рекурсия"),
            ],
        )
        .await;
    assert_eq!(p.status, 422);
    assert!(
        p.body.contains("Шаблон не разбирается как регулярное выражение"),
        "{}",
        p.body
    );
    assert!(!p.body.contains("regex parse error"));
    assert!(
        p.body.contains("value=\"maximum (recursion\""),
        "the form comes back filled in"
    );
    // 404 and a bad id: inside the layout, with the menu.
    for path in [
        "/admin/no-such-page",
        "/admin/checks/not-a-number",
        "/admin/registry/nope",
    ] {
        let p = panel.b.get(path).await;
        assert_eq!(p.status, 404, "{path}");
        assert!(p.body.contains("<nav id=\"menu\">"), "{path}: {}", p.body);
        assert!(p.body.contains("Такой страницы или объекта нет."));
        assert!(p.body.contains("<h1>Не найдено</h1>"));
    }
    // The dashboard's cards lead somewhere.
    let d = panel.b.get("/admin/").await;
    for href in ["/admin/users", "/admin/access", "/admin/checks"] {
        assert!(d.body.contains(&format!("<a class=\"stat\" href=\"{href}")), "{href}");
    }
}

/// `2026-12-01T15:33:19.123456Z`-like text anywhere in `body`.
fn regex_like_micro(body: &str) -> bool {
    body.as_bytes()
        .windows(8)
        .any(|w| w[0] == b'.' && w[1..7].iter().all(u8::is_ascii_digit) && w[7] == b'Z')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_filters_and_shows_only_what_changed() {
    let mut panel = Panel::start("adm_see_audit").await;
    panel.post("/admin/users/501/block", &[]).await;
    let audit = panel.b.get("/admin/audit").await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    assert_eq!(
        rows_with(&audit.body, "вход в админку"),
        0,
        "logins are hidden by default"
    );
    assert_eq!(rows_with(&audit.body, "пользователь заблокирован"), 1);
    // The field by its name in Russian, the values as yes/no: no stored names or JSON literals.
    assert!(
        audit
            .body
            .contains("<b>заблокирован</b>: <del>нет</del> → <ins>да</ins>"),
        "{}",
        audit.body
    );
    assert!(!audit.body.contains("<b>blocked</b>") && !audit.body.contains("<del>false</del>"));
    assert!(
        !audit.body.contains("в белом списке</b>"),
        "unchanged fields are left out"
    );
    assert!(!audit.body.contains("{&quot;blocked"), "no JSON dumps");
    let with_logins = panel.b.get("/admin/audit?logins=1").await;
    assert_eq!(rows_with(&with_logins.body, "вход в админку"), 1);
    let by_action = panel.b.get("/admin/audit?action=admin.login").await;
    assert_eq!(rows_with(&by_action.body, "вход в админку"), 1);
    assert_eq!(rows_with(&by_action.body, "пользователь заблокирован"), 0);
    let by_other = panel.b.get("/admin/audit?admin=staff_member").await;
    assert!(by_other.body.contains("class=\"muted\">Пусто."), "{}", by_other.body);
    let long_ago = panel.b.get("/admin/audit?from=2001-01-01&to=2001-01-02&logins=1").await;
    assert_eq!(rows_with(&long_ago.body, "вход в админку"), 0);
    let object = panel.b.get("/admin/audit?object_type=user&object_id=501").await;
    assert_eq!(rows_with(&object.body, "пользователь заблокирован"), 1);
    assert!(
        object.body.contains("<h1>История изменений · пользователь 501</h1>"),
        "{}",
        object.body
    );

    // Codes in the values by their words, free text as typed: a FAQ item moved to English and
    // published, a whitelisted user, a task's reference runs.
    let faq = [
        ("question", "Как запустить?"),
        ("answer", "status: done"),
        ("position", "1"),
    ];
    assert_eq!(
        panel
            .post("/admin/faq/new", &[&faq[..], &[("locale", "ru")]].concat())
            .await
            .status,
        303
    );
    let fid = panel.env.psql("SELECT id FROM faq");
    let edit = [&faq[..], &[("locale", "en"), ("published", "1")]].concat();
    assert_eq!(panel.post(&format!("/admin/faq/{fid}"), &edit).await.status, 303);
    panel.post("/admin/users/501/whitelist", &[]).await;
    let task = panel.env.psql("SELECT id FROM tasks WHERE slug = 'sum-of-two'");
    panel.env.psql(&format!(
        "INSERT INTO audit_log (admin_name, action, object_type, object_id, after) VALUES ('a', 'task.validate', 'task', '{task}',
           '{{\"validated\": false, \"references\": [{{\"language\": \"cpp\", \"verdict\": \"wrong_answer\", \"passed\": 1, \"total\": 3}}]}}')"
    ));
    let audit = panel.b.get("/admin/audit").await;
    for words in [
        "<b>язык</b>: <del>русский</del> → <ins>английский</ins>",
        "<b>опубликовано</b>: <del>нет</del> → <ins>да</ins>",
        "<b>в белом списке</b>: <del>нет</del> → <ins>да</ins>",
        "<b>эталонные решения</b>: <span class=\"muted\">—</span> → <ins>язык: cpp, пройдено тестов: 1, всего тестов: 3, результат: неверный ответ</ins>",
        "<b>проверена эталонами</b>: <span class=\"muted\">—</span> → <ins>нет</ins>",
        "<td>задача проверена эталонами</td>",
        "<b>ответ</b>: <span class=\"muted\">—</span> → <ins>status: done</ins>",
    ] {
        assert!(audit.body.contains(words), "{words}: {}", audit.body);
    }
    for code in [
        "<b>locale</b>",
        "<del>ru</del>",
        "<b>published</b>",
        "<b>whitelisted</b>",
        "wrong_answer",
        "&quot;verdict",
        "<ins>false</ins>",
    ] {
        assert!(!audit.body.contains(code), "{code}: {}", audit.body);
    }
    let list = panel.b.get("/admin/faq").await;
    assert!(list.body.contains("<td>английский</td>"), "{}", list.body);

    // The same log in English: English words, still no codes.
    assert_eq!(panel.post("/admin/locale", &[("locale", "en")]).await.status, 303);
    let audit = panel.b.get("/admin/audit").await;
    assert!(
        audit.body.contains("<b>blocked</b>: <del>no</del> → <ins>yes</ins>")
            && audit
                .body
                .contains("<b>language</b>: <del>Russian</del> → <ins>English</ins>")
            && audit.body.contains("result: wrong answer"),
        "{}",
        audit.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backlog_groups_one_kind_and_the_check_list_names_the_explanation() {
    let mut panel = Panel::start("adm_see_kinds").await;
    // Events recorded before kinds existed: `devmentor migrate` gives them theirs.
    panel.env.psql(
        "INSERT INTO explanation_events (language, error_type, message, source_line, fingerprint, source, locale)
         VALUES ('python', 'KeyError', '''a''', 'd[\"a\"]', 'old1', 'none', 'ru'),
                ('python', 'KeyError', '''b''', 'print(d[\"b\"])', 'old2', 'none', 'ru'),
                ('python', 'KeyError', '''c''', NULL, 'old3', 'none', 'ru');
         INSERT INTO checks (language, code, source, user_id, status, verdict, result) VALUES
           ('python', '1/0', 'bot', 501, 'done', 'runtime_error',
            '{\"explanation\": {\"source\": \"registry\", \"slug\": \"python-zero-division\", \"title\": \"Деление на ноль\"}}')",
    );
    let before = panel.b.get("/admin/unmatched").await;
    assert_eq!(
        before.body.matches("<code>KeyError</code>").count(),
        3,
        "not yet grouped"
    );
    let out = panel.env.command(&["migrate"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("backlog: 3 earlier explanation events"));
    let after = panel.b.get("/admin/unmatched").await;
    assert_eq!(after.body.matches("<code>KeyError</code>").count(), 1, "{}", after.body);
    assert!(after.body.contains("<td>3</td><td>python</td>"), "{}", after.body);
    assert!(after.body.contains("вариантов сообщения: 3"));
    let list = panel.b.get("/admin/checks").await;
    assert!(
        list.body
            .contains("<a href=\"/admin/registry/python-zero-division\">Деление на ноль</a>"),
        "{}",
        list.body
    );
    assert!(list.body.contains("ошибка при выполнении"));
    assert!(list.body.contains("· справочник"));
}
