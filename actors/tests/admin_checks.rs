//! The check log in the panel: hostile code and output shown as text, filters, the CSV export.

mod common;
mod panel;

use panel::Panel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_show_hostile_code_and_output_as_text() {
    let mut panel = Panel::start("adm_checks").await;
    let p = panel.b.get("/admin/checks?verdict=ok").await;
    assert!(p.body.contains("python"));
    let cid = panel.env.psql("SELECT id FROM checks LIMIT 1");
    let p = panel.b.get(&format!("/admin/checks/{cid}")).await;
    assert!(p.body.contains("&lt;script&gt;document.cookie&lt;/script&gt;") && !p.body.contains("<script>document"));
    assert!(p.body.contains("&lt;b&gt;hi&lt;/b&gt;"));
    let p = panel.b.get("/admin/checks.csv").await;
    assert!(p.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_csv_has_one_line_per_check() {
    let mut panel = Panel::start("adm_ccsv").await;
    panel.env.psql(
        "INSERT INTO checks (language, code, source, status, verdict, result, created_at)
         SELECT 'go', 'x', 'api', 'done', 'runtime_error', '{\"duration_ms\": 7, \"explanation\": {\"source\": \"registry\"}}',
                '2026-03-04 05:06:07' FROM generate_series(1, 1200)",
    );
    let p = panel.b.get("/admin/checks.csv").await;
    let lines: Vec<&str> = p.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,created,source,user_id,language,verdict,explanation_source,duration_ms"
    );
    assert_eq!(lines.len(), 1 + 1 + 1200);
    assert!(
        lines[1].ends_with(",\"bot\",502,\"python\",\"ok\",\"\",12"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].ends_with(",2026-03-04 05:06:07,\"api\",,\"go\",\"runtime_error\",\"registry\",7"),
        "{}",
        lines[2]
    );
    // Filters narrow the list; the count of a filtered list is shown.
    let p = panel.b.get("/admin/checks?language=go&source=registry").await;
    assert_eq!(p.status, 200);
    assert!(p.body.contains("1200"), "{}", p.body);
}
