//! The panel at a desktop's and a phone's width (1280 and 390 px) in headless Chromium: on a
//! phone the menu is folded (content starts near the top) and its button opens it; the
//! analytics charts' labels never overlap. Screenshots of the dashboard, the check list, a
//! registry entry's form, the audit log and analytics (and its top-errors chart) at both
//! widths go to target/test-artifacts/admin-w<width>-<page>.png.

mod common;
mod panel;

use common::Driver;
use panel::{Panel, ROOT};
use serde_json::json;

/// The page's chart labels that overlap another label of the same chart, as text pairs.
const OVERLAPS: &str = "
  const out = [];
  document.querySelectorAll('svg.chart').forEach(svg => {
    const boxes = [...svg.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
    for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
      const [a, p] = boxes[i], [b, q] = boxes[j];
      if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5)
        out.push(a + ' / ' + b);
    }
  });
  return out;";

/// The outermost elements that reach past the window's right edge outside any scrolling box
/// (what makes the page scroll sideways), as `tag.class right-edge`.
const WIDE: &str = "
  const clipped = e => { for (let p = e.parentElement; p && p !== document.body; p = p.parentElement)
    if (getComputedStyle(p).overflowX !== 'visible') return true; return false; };
  const out = [];
  document.querySelectorAll('body *').forEach(e => {
    if (e.getBoundingClientRect().right > window.innerWidth + 1 && !clipped(e) && !out.some(o => o.contains(e))) out.push(e);
  });
  return out.map(e => e.tagName.toLowerCase() + '.' + (e.getAttribute('class') || '') + ' ' + Math.round(e.getBoundingClientRect().right));";

async fn set_width(d: &Driver, width: i64) {
    d.cmd("window/rect", json!({"width": width, "height": 900})).await;
    // The window's frame, if any, is not the page's: widen until the page itself is `width`.
    let inner = d.eval("return window.innerWidth").await.as_i64().unwrap_or(width);
    if inner != width {
        d.cmd("window/rect", json!({"width": 2 * width - inner, "height": 900}))
            .await;
    }
    assert_eq!(d.eval("return window.innerWidth").await, json!(width));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_fits_a_phone_and_its_charts_labels_never_collide() {
    let mut panel = Panel::start("adm_screens").await;
    // Thirty days of checks (labels every week and on the last day), a few checks to list (one
    // explained by the registry, one not, one from the API), errors with long names, a change
    // or two for the audit log.
    // The panel's own seed already counted a check today: add to its row, not beside it.
    let seeded = common::harness::psql(
        &common::harness::url_for(&panel.env.db),
        "INSERT INTO checks_daily (day, verdict, language, n)
           SELECT (now() AT TIME ZONE 'UTC')::date - g, v, 'python', 1 + (g * 7 + length(v)) % 9
             FROM generate_series(0, 29) g, unnest(ARRAY['ok', 'runtime_error', 'compile_error', 'timeout']) v
           ON CONFLICT (day, verdict, language) DO UPDATE SET n = checks_daily.n + EXCLUDED.n;
         INSERT INTO user_days (day, user_id) SELECT (now() AT TIME ZONE 'UTC')::date - g, 501 FROM generate_series(0, 29, 2) g
           ON CONFLICT DO NOTHING;
         INSERT INTO checks (language, code, source, user_id, status, verdict, result) VALUES
           ('python', 'print(1 / 0)', 'bot', 501, 'done', 'runtime_error',
            '{\"stdout\": \"\", \"stderr\": \"ZeroDivisionError: division by zero\", \"duration_ms\": 31,
              \"explanation\": {\"source\": \"registry\", \"slug\": \"python-zero-division\", \"title\": \"Деление на ноль\"}}'),
           ('python', 'import requests_with_a_long_name', 'bot', 503, 'done', 'runtime_error',
            '{\"stdout\": \"\", \"stderr\": \"ModuleNotFoundError\", \"duration_ms\": 44,
              \"explanation\": {\"source\": \"none\"}}'),
           ('c', 'int main() { return 0 }', 'api', NULL, 'done', 'compile_error',
            '{\"stdout\": \"\", \"stderr\": \"error: expected ;\", \"duration_ms\": 120,
              \"explanation\": {\"source\": \"registry\", \"slug\": \"c-missing-semicolon\", \"title\": \"Пропущена точка с запятой\"}}');
         INSERT INTO explanation_events (language, error_type, message, fingerprint, source, locale)
           SELECT 'python', e, 'm', 'f' || e, 'none', 'ru'
             FROM unnest(ARRAY['ModuleNotFoundError_with_a_very_long_name_that_used_to_be_cut_off_in_the_chart',
                               'ZeroDivisionError', 'KeyError']) e, generate_series(1, 3);",
    );
    assert!(
        seeded.status.success() && !String::from_utf8_lossy(&seeded.stderr).contains("ERROR"),
        "the seed: {}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    panel.post("/admin/users/501/block", &[]).await;
    panel.post("/admin/users/502/whitelist", &[]).await;

    let base = panel.env.base();
    let d = Driver::start().await;
    d.open(&format!("{base}/admin/login")).await;
    d.type_into("input[name=username]", ROOT.0).await;
    d.type_into("input[name=password]", ROOT.1).await;
    d.click("form button").await;
    d.wait_for("the dashboard", "return document.querySelector('.cards') !== null")
        .await;

    for width in [1280, 390] {
        set_width(&d, width).await;
        for (name, path) in [
            ("dashboard", "/admin/"),
            ("checks", "/admin/checks"),
            ("registry-edit", "/admin/registry/python-zero-division"),
            ("audit", "/admin/audit"),
            ("analytics", "/admin/analytics"),
        ] {
            d.open(&format!("{base}{path}")).await;
            d.wait_for(name, "return document.querySelector('main h1') !== null")
                .await;
            let top = d
                .eval("return document.querySelector('main h1').getBoundingClientRect().top")
                .await;
            let menu_shown = d
                .eval("return document.getElementById('menu').offsetParent !== null")
                .await;
            if width == 390 {
                assert!(
                    top.as_f64().unwrap() < 120.0,
                    "{name} at 390 px: content starts at {top}"
                );
                assert_eq!(menu_shown, json!(false), "{name}: the menu is folded on a phone");
                if name == "checks" || name == "audit" {
                    // Each row a card: no column is cut off or scrolled out of sight.
                    let cut = d
                        .eval("return [...document.querySelectorAll('main table')].filter(t => t.scrollWidth > t.clientWidth + 1).length")
                        .await;
                    assert_eq!(cut, json!(0), "{name} at 390 px: a table scrolls sideways");
                }
            } else {
                assert_eq!(menu_shown, json!(true), "{name}: the menu is open on a desktop");
            }
            d.screenshot(&format!("admin-w{width}-{name}")).await;
            let scroll = d
                .eval("return document.documentElement.scrollWidth - window.innerWidth")
                .await;
            assert!(
                scroll.as_f64().unwrap() <= 1.0,
                "{name} at {width} px scrolls sideways by {scroll}: {}",
                d.eval(WIDE).await
            );
        }
        // Still on analytics: no two labels of a chart overlap, and the long name is whole.
        assert_eq!(d.eval(OVERLAPS).await, json!([]), "at {width} px");
        // Whole: all its text, drawn inside the chart's frame and the window (not scrolled away).
        let long = d
            .eval("const t = [...document.querySelectorAll('svg.chart text')].find(t => t.textContent.endsWith('cut_off_in_the_chart'));
                   if (!t) return 'missing';
                   t.scrollIntoView({block: 'center'});
                   const r = t.getBoundingClientRect();
                   return r.right <= t.ownerSVGElement.getBoundingClientRect().right + 0.5 && r.right <= window.innerWidth && r.left >= 0")
            .await;
        assert_eq!(long, json!(true), "a long error name is shown whole at {width} px");
        d.screenshot(&format!("admin-w{width}-analytics-top-errors")).await;
    }

    // The phone's menu opens with its button, and closes again.
    d.click("#menu-toggle").await;
    d.wait_for(
        "the menu opened",
        "return document.getElementById('menu').offsetParent !== null",
    )
    .await;
    d.screenshot("admin-w390-menu-open").await;
    let link = d
        .eval("return document.querySelector('#menu a[href=\"/admin/audit\"]').getBoundingClientRect().height > 0")
        .await;
    assert_eq!(link, json!(true));
    d.click("#menu-toggle").await;
    d.wait_for(
        "the menu folded",
        "return document.getElementById('menu').offsetParent === null",
    )
    .await;
    drop(d);
}
