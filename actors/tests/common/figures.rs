//! The figures of issue 18 as a test reads them: the API client for checks, submissions and
//! `GET /api/v1/stats/explanations`, the Wilson interval written out from the formula (never
//! the product's code), what a line of figures must say, and the panel's table cells.

use super::wait_done;

/// How long a check or submission may take to finish.
const WAIT_DONE: Duration = Duration::from_secs(90);
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The Wilson score interval at 95 %, written out from the formula (not the product's code):
/// (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n).
pub fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let centre = p + z * z / (2.0 * n);
    let half = z * ((p * (1.0 - p) + z * z / (4.0 * n)) / n).sqrt();
    let d = 1.0 + z * z / n;
    (((centre - half) / d).max(0.0), ((centre + half) / d).min(1.0))
}

pub fn pct(x: f64) -> String {
    format!("{:.0}", x * 100.0)
}

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// A check, run to the end; `user` is the front end's student, if any.
    pub async fn check(&self, language: &str, code: &str, user: Option<&str>) -> Value {
        self.check_in(language, code, user, None).await
    }

    /// The same, with the explanation in `locale` (the API's default is Russian).
    pub async fn check_in(&self, language: &str, code: &str, user: Option<&str>, locale: Option<&str>) -> Value {
        let mut body = json!({"language": language, "code": code});
        if let Some(u) = user {
            body["user"] = json!(u);
        }
        if let Some(l) = locale {
            body["locale"] = json!(l);
        }
        let (status, v) = self.post("/api/v1/checks", body).await;
        assert_eq!(status, 202, "{v}");
        let id = v["id"].as_i64().unwrap();
        let done = wait_done(&self.http, &self.base, &self.token, id, WAIT_DONE).await;
        assert_eq!(done["status"], "done", "{done}");
        done
    }

    pub async fn submission(&self, slug: &str, code: &str, user: Option<&str>) -> Value {
        let mut body = json!({"language": "python", "code": code});
        if let Some(u) = user {
            body["user"] = json!(u);
        }
        let (status, v) = self.post(&format!("/api/v1/tasks/{slug}/submissions"), body).await;
        assert_eq!(status, 202, "{v}");
        let id = v["id"].as_i64().unwrap();
        let until = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, v) = self.get(&format!("/api/v1/submissions/{id}?wait=10")).await;
            assert_eq!(status, 200, "{v}");
            if v["status"] == "done" {
                return v;
            }
            assert!(Instant::now() < until, "submission {id} never finished: {v}");
        }
    }

    pub async fn stats(&self, query: &str) -> Value {
        let (status, v) = self.get(&format!("/api/v1/stats/explanations{query}")).await;
        assert_eq!(status, 200, "{v}");
        v
    }
}

/// What a line of figures must say: explained, pending, fixed, and the rest derived here.
#[derive(Clone, Copy, Debug)]
pub struct Want {
    pub explained: i64,
    pub pending: i64,
    pub fixed: i64,
}

impl Want {
    pub fn decided(&self) -> i64 {
        self.explained - self.pending
    }
    pub fn rate(&self) -> f64 {
        self.fixed as f64 / self.decided() as f64
    }
    pub fn ci(&self) -> (f64, f64) {
        wilson(self.fixed as f64, self.decided() as f64)
    }
    /// The panel's "60 %" and "23–88 %".
    pub fn shown(&self) -> (String, String) {
        let (lo, hi) = self.ci();
        (format!("{} %", pct(self.rate())), format!("{}–{} %", pct(lo), pct(hi)))
    }
}

pub fn assert_line(l: &Value, want: Want) {
    assert_eq!(l["explained"], want.explained, "explained: {l}");
    assert_eq!(l["pending"], want.pending, "pending: {l}");
    assert_eq!(l["fixed"], want.fixed, "fixed: {l}");
    let rate = l["fix_rate"].as_f64().unwrap_or_else(|| panic!("fix_rate: {l}"));
    assert!(
        (rate - want.rate()).abs() < 1e-12,
        "fix_rate {rate} ≠ {}: {l}",
        want.rate()
    );
    let ci = l["ci95"].as_array().unwrap_or_else(|| panic!("ci95: {l}"));
    assert_eq!(ci.len(), 2, "{l}");
    let (lo, hi) = want.ci();
    assert!((ci[0].as_f64().unwrap() - lo).abs() < 1e-9, "ci95 lo ≠ {lo}: {l}");
    assert!((ci[1].as_f64().unwrap() - hi).abs() < 1e-9, "ci95 hi ≠ {hi}: {l}");
    for k in ["median_attempts", "median_seconds_to_fix"] {
        assert!(l.get(k).is_some(), "{k} is part of the shape: {l}");
    }
}

/// The text of each cell of the first `<tr` of `html` whose opening tag contains `marker`
/// (tags stripped, entities left as they are).
pub fn row_cells(html: &str, marker: &str) -> Vec<String> {
    let start = html
        .match_indices("<tr")
        .map(|(i, _)| i)
        .find(|&i| html[i..].split('>').next().unwrap().contains(marker))
        .unwrap_or_else(|| panic!("no <tr {marker}> in {html}"));
    cells_of(&html[start..start + html[start..].find("</tr>").unwrap()])
}

/// The cells of the `<tr>` that holds `needle`.
pub fn row_containing(html: &str, needle: &str) -> Vec<String> {
    let at = html.find(needle).unwrap_or_else(|| panic!("no {needle} in {html}"));
    let start = html[..at].rfind("<tr").unwrap();
    cells_of(&html[start..at + html[at..].find("</tr>").unwrap()])
}

/// The cells of the row of the table with `class` whose first cell is `first`, if any.
pub fn find_table_row(html: &str, class: &str, first: &str) -> Option<Vec<String>> {
    let at = html
        .find(&format!("class=\"{class}\""))
        .unwrap_or_else(|| panic!("no table {class} in {html}"));
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    table
        .split("<tr")
        .skip(1)
        .map(cells_of)
        .find(|c| c.first().map(String::as_str) == Some(first))
}

/// The same row, which must be there.
pub fn table_row(html: &str, class: &str, first: &str) -> Vec<String> {
    find_table_row(html, class, first).unwrap_or_else(|| panic!("no row {first} in table {class}: {html}"))
}

pub fn cells_of(row: &str) -> Vec<String> {
    row.split("<td")
        .skip(1)
        .map(|c| {
            let c = &c[c.find('>').unwrap() + 1..];
            let c = &c[..c.find("</td>").unwrap_or(c.len())];
            let mut out = String::new();
            let mut tag = false;
            for ch in c.chars() {
                match ch {
                    '<' => tag = true,
                    '>' => tag = false,
                    _ if !tag => out.push(ch),
                    _ => {}
                }
            }
            out.trim().to_string()
        })
        .collect()
}
