//! Does the mentoring work: each explained check or submission linked to the same student's
//! next attempt at the same thing, and the figures read from it (fix rate with its Wilson
//! interval, median attempts and time to fix, 👍/👎) per source, entry, variant, task and
//! language.
//!
//! **The lineage.** When an attempt is finished, [`record`] looks for the student's previous
//! explained attempt that is still waiting for its "next try", links the two and says whether
//! the error was fixed; then, when this attempt got an explanation itself, it becomes a link
//! row waiting for its own next try.
//! * A submission's next try is the same student's next submission of the same task.
//! * A free check's next try is the same student's next check in the same language within
//!   [`CHECK_WINDOW`] that is an edit of it (the student edited the Telegram message), a re-run
//!   of it (the same code: the ↻ button, a run with input), or mostly the same program:
//!   [`similarity`] ≥ [`SIMILAR_AT_LEAST`].
//! * The student is the Telegram user (`u:<id>`), or for the API the token, with the front
//!   end's optional `"user"` string (`t:<token>` / `t:<token>:<user>`).
//! * **Fixed** = the next try succeeded (verdict `ok`, submission `accepted`) or no longer shows
//!   the same error: the same type and message as printed ([`error_key`]; the analyzer's
//!   fingerprint also holds the failing source line, and a student who rewrites that line into
//!   the same error has not fixed it), or the same fingerprint when there is no message (a
//!   submission without an explanation, a wrong answer say, is fingerprinted by its verdict and
//!   failing test).
//! * **Pending**: an explained attempt without a next try is not counted either way until its
//!   window closes ([`CHECK_WINDOW`] for checks, [`SUBMISSION_WINDOW`] for submissions); after
//!   that it counts as *not fixed* (the student gave up, which is what an explanation should
//!   prevent). A submission linked after its window still becomes fixed or not.
//! * Attempts to fix: how many tries in a row showed the error before the one that fixed it;
//!   time to fix: from the first of them to the fix. Both come from PostgreSQL's `now()` (each
//!   row's `created_at`), never from a worker's clock, so skewed workers change nothing.
//!
//! **The figures** come from daily counters (`efficacy_daily`, `efficacy_hist`) that triggers
//! keep in step with `attempt_links` (see `V9__efficacy.sql`): reading them costs the same at a
//! thousand checks and at ten million. Medians are read from the histograms: exact for attempts
//! (1…9, then "10 or more"), linear within a [`SECONDS_EDGES`] bucket for seconds.

use super::{Client, StoreError};
use crate::check::CheckResult;
use crate::sandbox::Verdict;
use crate::store::checks::CheckRow;
use crate::store::tasks::SubmissionRow;
use crate::tasks::{Graded, SubmissionVerdict};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

/// How long a free check waits for its next try.
pub const CHECK_WINDOW: Duration = Duration::from_secs(30 * 60);
/// How long a submission waits before an unanswered one counts as not fixed.
pub const SUBMISSION_WINDOW: Duration = Duration::from_secs(24 * 3600);
/// Two programs are "mostly the same" from this [`similarity`] on.
pub const SIMILAR_AT_LEAST: f64 = 0.5;
/// Free checks of the window looked at for a next try (the most recent first).
const CANDIDATES: i64 = 8;
/// Bucket `i` of the seconds histogram holds `SECONDS_EDGES[i] <= s < SECONDS_EDGES[i + 1]`.
pub const SECONDS_EDGES: [f64; 25] = [
    0.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 450.0, 600.0, 900.0, 1200.0, 1800.0,
    2700.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 259200.0, 604800.0,
];

/// The student an attempt belongs to: the Telegram user, or the API token (with the front
/// end's `"user"`). `None` for checks nobody owns (the CLI).
pub fn student_key(user_id: Option<i64>, token_id: Option<i64>, api_user: Option<&str>) -> Option<String> {
    match (user_id, token_id, api_user) {
        (Some(u), _, _) => Some(format!("u:{u}")),
        (None, Some(t), Some(user)) => Some(format!("t:{t}:{user}")),
        (None, Some(t), None) => Some(format!("t:{t}")),
        (None, None, _) => None,
    }
}

/// How alike two programs are, 0 to 1: the Sørensen–Dice coefficient of their character
/// bigrams, with runs of whitespace collapsed to one space (so re-indenting changes nothing).
/// Bigrams rather than lines because students' programs are short: changing the one line of
/// a one-line program keeps most of its bigrams, while a different program shares few.
pub fn similarity(a: &str, b: &str) -> f64 {
    fn bigrams(s: &str) -> HashMap<(char, char), u32> {
        let mut out = HashMap::new();
        let chars: Vec<char> = s.split_whitespace().collect::<Vec<_>>().join(" ").chars().collect();
        for w in chars.windows(2) {
            *out.entry((w[0], w[1])).or_insert(0) += 1;
        }
        out
    }
    let (x, y) = (bigrams(a), bigrams(b));
    let total: u32 = x.values().sum::<u32>() + y.values().sum::<u32>();
    if total == 0 {
        return if a.trim() == b.trim() { 1.0 } else { 0.0 };
    }
    let common: u32 = x.iter().map(|(k, n)| (*n).min(*y.get(k).unwrap_or(&0))).sum();
    f64::from(2 * common) / f64::from(total)
}

/// The Wilson score interval at 95 % for `k` successes out of `n` (`(0, 1)` when `n` is 0).
pub fn wilson(k: i64, n: i64) -> (f64, f64) {
    if n <= 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, k as f64 / n as f64);
    let z2 = z * z;
    let centre = p + z2 / (2.0 * n);
    let margin = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let denom = 1.0 + z2 / n;
    (
        ((centre - margin) / denom).clamp(0.0, 1.0),
        ((centre + margin) / denom).clamp(0.0, 1.0),
    )
}

/// The histogram bucket of `seconds` (see [`SECONDS_EDGES`]).
pub fn seconds_bucket(seconds: f64) -> i32 {
    SECONDS_EDGES.iter().rposition(|e| seconds >= *e).unwrap_or(0) as i32
}

/// The median of a seconds histogram (`bucket → n`): linear within its bucket.
pub fn median_seconds(hist: &BTreeMap<i32, i64>) -> Option<f64> {
    let total: i64 = hist.values().sum();
    if total <= 0 {
        return None;
    }
    let half = total as f64 / 2.0;
    let mut below = 0.0;
    for (b, n) in hist {
        let n = *n as f64;
        if n > 0.0 && below + n >= half {
            let i = (*b).clamp(0, SECONDS_EDGES.len() as i32 - 1) as usize;
            let lo = SECONDS_EDGES[i];
            let hi = SECONDS_EDGES.get(i + 1).copied().unwrap_or(lo * 2.0);
            return Some(lo + (hi - lo) * ((half - below) / n));
        }
        below += n;
    }
    None
}

/// The median of an attempts histogram (`attempts → n`, 10 = ten or more): the lower median.
pub fn median_attempts(hist: &BTreeMap<i32, i64>) -> Option<f64> {
    let total: i64 = hist.values().sum();
    let mut seen = 0;
    for (a, n) in hist {
        seen += n;
        if *n > 0 && 2 * seen >= total {
            return Some(f64::from(*a));
        }
    }
    None
}

/// Explanation variant for `student` and an entry: `true` = the second text (B). A stable
/// hash (SHA-256, not Rust's per-process random one), so a student sees the same text in
/// every process and every restart, and about half of the students see each.
pub fn variant_b(student: &str, slug: &str) -> bool {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(student.as_bytes());
    h.update([0u8]);
    h.update(slug.as_bytes());
    h.finalize()[0] & 1 == 1
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Check,
    Submission,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Check => "check",
            Kind::Submission => "submission",
        }
    }
}

/// What the student was told about an attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Explained {
    /// `registry`, `ai`, `cache`, `hint` or `none`.
    pub source: String,
    pub entry_slug: Option<String>,
    pub variant: Option<String>,
    pub fingerprint: String,
    /// The error without the line it failed on ([`error_key`]): the lineage's "the same error".
    pub error_key: Option<String>,
}

/// "The same error" for the lineage: the error's type and its message as printed (digits
/// collapsed: a line or column number in a compiler's message is not another error), without
/// the failing source line the analyzer's fingerprint also holds — a student who changes the
/// failing line and gets the same error again has not fixed it. `None` when the explanation
/// carries no error line (then the fingerprint decides).
pub fn error_key(e: &crate::analyzer::Explanation) -> Option<String> {
    let line = e.error_line.as_deref()?.trim();
    if line.is_empty() {
        return None;
    }
    let mut out = format!("{}\u{0}", e.error_type);
    let mut digits = false;
    for ch in line.split_whitespace().collect::<Vec<_>>().join(" ").chars() {
        if ch.is_ascii_digit() {
            if !digits {
                out.push('0');
            }
            digits = true;
        } else {
            digits = false;
            out.push(ch);
        }
    }
    Some(out)
}

/// One finished attempt, as the lineage needs it.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub kind: Kind,
    pub id: i64,
    pub student: String,
    pub language: String,
    pub task_slug: Option<String>,
    pub code: String,
    /// Free checks: the student's Telegram message the code came from (an edit re-runs it).
    pub chat_message: Option<(i64, i32)>,
    /// PostgreSQL's time of the attempt.
    pub created_at: SystemTime,
    pub succeeded: bool,
    /// `None`: nothing to explain (it succeeded).
    pub explained: Option<Explained>,
}

impl Attempt {
    /// A finished check; `None` when it belongs to nobody or the service failed (an
    /// `internal_error` says nothing about the student's program).
    pub fn of_check(row: &CheckRow, result: &CheckResult) -> Option<Attempt> {
        let student = student_key(row.user_id, row.token_id, row.api_user.as_deref())?;
        if result.verdict == Verdict::InternalError {
            return None;
        }
        let explained = (result.verdict != Verdict::Ok).then(|| match &result.explanation {
            Some(e) => Explained {
                source: e.source.clone(),
                entry_slug: e.slug.clone(),
                variant: e.variant.clone(),
                fingerprint: e
                    .fingerprint
                    .clone()
                    .unwrap_or_else(|| format!("{}:{}", result.verdict.as_str(), e.error_type)),
                error_key: error_key(e),
            },
            None => Explained {
                source: "none".into(),
                entry_slug: None,
                variant: None,
                fingerprint: result.verdict.as_str().to_string(),
                error_key: None,
            },
        });
        Some(Attempt {
            kind: Kind::Check,
            id: row.id,
            student,
            language: row.language.clone(),
            task_slug: None,
            code: row.code.clone(),
            chat_message: row.chat_id.zip(row.source_message_id),
            created_at: row.created_at,
            succeeded: result.verdict == Verdict::Ok,
            explained,
        })
    }

    /// A graded submission; `None` when it belongs to nobody or the service failed.
    pub fn of_submission(row: &SubmissionRow, graded: &Graded) -> Option<Attempt> {
        let student = student_key(row.user_id, row.token_id, row.api_user.as_deref())?;
        if graded.verdict == SubmissionVerdict::InternalError {
            return None;
        }
        let accepted = graded.verdict == SubmissionVerdict::Accepted;
        let by_verdict = || {
            let test = graded.first_failure().map(|t| t.n).unwrap_or(0);
            format!("{}:{test}", graded.verdict.as_str())
        };
        let explained = (!accepted).then(|| match &graded.explanation {
            Some(e) => Explained {
                source: e.source.clone(),
                entry_slug: e.slug.clone(),
                variant: e.variant.clone(),
                fingerprint: e.fingerprint.clone().unwrap_or_else(by_verdict),
                error_key: error_key(e),
            },
            None => Explained {
                source: "none".into(),
                entry_slug: None,
                variant: None,
                fingerprint: by_verdict(),
                error_key: None,
            },
        });
        Some(Attempt {
            kind: Kind::Submission,
            id: row.id,
            student,
            language: row.language.clone(),
            task_slug: Some(row.task_slug.clone()),
            code: row.code.clone(),
            chat_message: None,
            created_at: row.created_at,
            succeeded: accepted,
            explained,
        })
    }
}

/// What [`record`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorded {
    /// The earlier attempt this one answered, how (`submission`, `edit`, `rerun`, `similar`),
    /// and whether it fixed that attempt's error.
    pub answered: Option<(i64, String, bool)>,
    /// This attempt waits for its own next try.
    pub waiting: bool,
}

struct Open {
    id: i64,
    fingerprint: String,
    /// [`error_key`] of its stored explanation.
    error_key: Option<String>,
    code: String,
    chain_n: i32,
    chain_started: SystemTime,
    chat_message: Option<(i64, i32)>,
}

/// The lineage's one write: links `a` to the attempt it answers and, when `a` was explained,
/// adds it as waiting for its own next try. Idempotent: a second call for the same attempt (a
/// redelivered job) records nothing — without this guard it would link `a` to another, older
/// open attempt too. The worker calls it before the attempt's result is readable as done, so
/// whoever reads "done" sees its link.
pub async fn record(client: &Client, a: &Attempt) -> Result<Recorded, StoreError> {
    let mut out = Recorded::default();
    let seen: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM attempt_links WHERE kind = $1 AND attempt_id = $2)
                 OR EXISTS (SELECT 1 FROM attempt_links WHERE student = $3 AND next_kind = $1 AND next_id = $2)",
            &[&a.kind.as_str(), &a.id, &a.student],
        )
        .await?
        .get(0);
    if seen {
        return Ok(out);
    }
    let previous = match a.kind {
        Kind::Submission => {
            let rows = client
                .query(
                    "SELECT l.attempt_id, l.fingerprint, l.code, l.chain_n, l.chain_started,
                            s.result->'explanation'
                       FROM attempt_links l LEFT JOIN submissions s ON s.id = l.attempt_id
                      WHERE l.kind = 'submission' AND l.next_id IS NULL AND l.student = $1 AND l.task_slug = $2
                        AND (l.created_at, l.attempt_id) < ($3, $4)
                      ORDER BY l.created_at DESC, l.attempt_id DESC LIMIT 1",
                    &[&a.student, &a.task_slug, &a.created_at, &a.id],
                )
                .await?;
            rows.first().map(|r| (open_of(r, None), "submission".to_string()))
        }
        Kind::Check => {
            let since = a.created_at - CHECK_WINDOW;
            let rows = client
                .query(
                    "SELECT l.attempt_id, l.fingerprint, l.code, l.chain_n, l.chain_started,
                            c.result->'explanation', c.chat_id, c.source_message_id
                       FROM attempt_links l LEFT JOIN checks c ON c.id = l.attempt_id
                      WHERE l.kind = 'check' AND l.next_id IS NULL AND l.student = $1 AND l.language = $2
                        AND l.created_at >= $3 AND (l.created_at, l.attempt_id) < ($4, $5)
                      ORDER BY l.created_at DESC, l.attempt_id DESC LIMIT $6",
                    &[&a.student, &a.language, &since, &a.created_at, &a.id, &CANDIDATES],
                )
                .await?;
            let open: Vec<Open> = rows
                .iter()
                .map(|r| {
                    let chat: Option<i64> = r.get(6);
                    let message: Option<i32> = r.get(7);
                    open_of(r, chat.zip(message))
                })
                .collect();
            pick_previous(a, open)
        }
    };
    if let Some((p, link)) = &previous {
        let fixed = a.succeeded || a.explained.as_ref().is_some_and(|e| !same_error(p, e));
        let seconds = a
            .created_at
            .duration_since(p.chain_started)
            .unwrap_or_default()
            .as_secs_f64();
        let n = client
            .execute(
                "UPDATE attempt_links SET next_kind = $3, next_id = $4, link = $5, fixed = $6,
                        attempts_to_fix = CASE WHEN $6 THEN chain_n END,
                        seconds_to_fix = CASE WHEN $6 THEN $7::float8 END,
                        seconds_bucket = CASE WHEN $6 THEN $8::int END, linked_at = now()
                  WHERE kind = $1 AND attempt_id = $2 AND next_id IS NULL",
                &[
                    &a.kind.as_str(),
                    &p.id,
                    &a.kind.as_str(),
                    &a.id,
                    link,
                    &fixed,
                    &seconds,
                    &seconds_bucket(seconds),
                ],
            )
            .await?;
        if n == 1 {
            out.answered = Some((p.id, link.clone(), fixed));
        }
    }
    let Some(e) = &a.explained else {
        return Ok(out);
    };
    // The same error again continues the previous attempt's chain.
    let (chain_n, chain_started) = match (&previous, &out.answered) {
        (Some((p, _)), Some((_, _, false))) => (p.chain_n + 1, p.chain_started),
        _ => (1, a.created_at),
    };
    let window = match a.kind {
        Kind::Check => CHECK_WINDOW,
        Kind::Submission => SUBMISSION_WINDOW,
    };
    let code = if a.kind == Kind::Check { a.code.as_str() } else { "" };
    let n = client
        .execute(
            "INSERT INTO attempt_links (kind, attempt_id, student, language, task_slug, source, entry_id, entry_slug,
                                        variant, fingerprint, code, created_at, window_ends, chain_n, chain_started)
             VALUES ($1, $2, $3, $4, $5, $6, (SELECT id FROM registry_entries WHERE slug = $7), $7, $8, $9, $10,
                     $11::timestamptz, $11::timestamptz + make_interval(secs => $12::float8), $13, $14)
             ON CONFLICT (kind, attempt_id) DO NOTHING",
            &[
                &a.kind.as_str(),
                &a.id,
                &a.student,
                &a.language,
                &a.task_slug,
                &e.source,
                &e.entry_slug,
                &e.variant,
                &e.fingerprint,
                &code,
                &a.created_at,
                &window.as_secs_f64(),
                &chain_n,
                &chain_started,
            ],
        )
        .await?;
    out.waiting = n == 1;
    Ok(out)
}

/// Whether `now` shows the error `before` showed: the same [`error_key`] when both have one
/// (the failing line may have changed), else the same fingerprint.
fn same_error(before: &Open, now: &Explained) -> bool {
    match (&before.error_key, &now.error_key) {
        (Some(a), Some(b)) => a == b,
        _ => before.fingerprint == now.fingerprint,
    }
}

fn open_of(r: &tokio_postgres::Row, chat_message: Option<(i64, i32)>) -> Open {
    let explanation: Option<serde_json::Value> = r.get(5);
    let error_key = explanation
        .and_then(|v| serde_json::from_value::<crate::analyzer::Explanation>(v).ok())
        .as_ref()
        .and_then(error_key);
    Open {
        id: r.get(0),
        fingerprint: r.get(1),
        error_key,
        code: r.get(2),
        chain_n: r.get(3),
        chain_started: r.get(4),
        chat_message,
    }
}

/// The check a free check answers, most recent first: an edit of the same message, then the
/// same code (a re-run), then a mostly-same program.
fn pick_previous(a: &Attempt, open: Vec<Open>) -> Option<(Open, String)> {
    let mut best: Option<(Open, String, u8)> = None;
    for o in open {
        let rank = if a.chat_message.is_some() && o.chat_message == a.chat_message {
            3
        } else if o.code == a.code {
            2
        } else if similarity(&o.code, &a.code) >= SIMILAR_AT_LEAST {
            1
        } else {
            continue;
        };
        // Candidates come newest first: a later one wins only with a stronger link.
        if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
            let link = ["", "similar", "rerun", "edit"][rank as usize].to_string();
            best = Some((o, link, rank));
        }
    }
    best.map(|(o, l, _)| (o, l))
}

/// A 💡 hint was shown for a submission: its next try is now credited to the hint.
pub async fn hint_shown(client: &Client, submission_id: i64) -> Result<(), StoreError> {
    client
        .execute(
            "WITH s AS (UPDATE submissions SET hints_shown = hints_shown + 1 WHERE id = $1)
             UPDATE attempt_links SET source = 'hint'
              WHERE kind = 'submission' AND attempt_id = $1 AND next_id IS NULL AND source <> 'hint'",
            &[&submission_id],
        )
        .await?;
    Ok(())
}

// ---- the figures ----

/// One line of figures: a source, an entry, a variant, a task or a language.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Figures {
    /// The source, the entry's slug, the task's slug or the language.
    pub key: String,
    pub language: Option<String>,
    pub explained: i64,
    /// Explanations still waiting for a next try (counted neither way).
    pub pending: i64,
    pub fixed: i64,
    /// `fixed / (explained − pending)`; `None` while nothing is decided.
    pub fix_rate: Option<f64>,
    pub ci95: (f64, f64),
    pub median_attempts: Option<f64>,
    pub median_seconds_to_fix: Option<f64>,
    pub up: i64,
    pub down: i64,
    /// Entries: deleted since (its history stays under the slug it had).
    pub deleted: bool,
}

impl Figures {
    pub fn decided(&self) -> i64 {
        (self.explained - self.pending).max(0)
    }

    fn finish(&mut self) {
        let n = self.decided();
        self.fix_rate = (n > 0).then(|| self.fixed as f64 / n as f64);
        self.ci95 = wilson(self.fixed, n);
    }
}

/// What to count.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub language: Option<String>,
    /// Explanations from this day (UTC, `YYYY-MM-DD`, see [`parse_day`]) on.
    pub since: Option<String>,
}

/// A day from `YYYY-MM-DD` or an RFC 3339 instant (`2025-03-01T10:00:00Z`: its UTC day);
/// `None` when it is neither or names no real day (2025-02-30).
pub fn parse_day(s: &str) -> Option<String> {
    let s = s.trim();
    let day = s.get(..10)?;
    let rest = &s[10..];
    if !(rest.is_empty() || rest.starts_with('T') || rest.starts_with('t') || rest.starts_with(' ')) {
        return None;
    }
    let b = day.as_bytes();
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        day.get(r)
            .filter(|x| x.bytes().all(|c| c.is_ascii_digit()))?
            .parse::<u32>()
            .ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (y >= 1970 && (1..=days).contains(&d)).then(|| day.to_string())
}

/// Figures of one dimension (`source`, `entry`, `variant`, `task`; `language` is the sources
/// summed per language), keyed by the counters' key.
pub async fn figures(client: &Client, dim: &str, filter: &Filter) -> Result<Vec<Figures>, StoreError> {
    let mut out = counts(client, dim, filter).await?;
    medians(client, dim, filter, &mut out).await?;
    name(client, dim, out).await
}

/// Entry keys (ids) to names, for `dim` = `entry`.
async fn name(client: &Client, dim: &str, mut out: Vec<Figures>) -> Result<Vec<Figures>, StoreError> {
    if dim == "entry" {
        name_entries(client, &mut out).await?;
    }
    Ok(out)
}

fn read_dim(dim: &str) -> (&str, bool) {
    match dim {
        "language" => ("source", true),
        d => (d, false),
    }
}

/// The figures of [`figures`] without the medians (and, for entries, still keyed by id): the
/// counters alone, which is all a list of rates needs.
async fn counts(client: &Client, dim: &str, filter: &Filter) -> Result<Vec<Figures>, StoreError> {
    let (read_dim, by_language) = read_dim(dim);
    let since = filter.since.clone().unwrap_or_else(|| "1970-01-01".into());
    let language = filter.language.clone().unwrap_or_default();
    let rows = client
        .query(
            "SELECT CASE WHEN $4 THEN language ELSE key END, sum(explained)::bigint, sum(fixed)::bigint,
                    sum(up)::bigint, sum(down)::bigint
               FROM efficacy_daily
              WHERE dim = $1 AND day >= $2::text::date AND ($3 = '' OR language = $3)
              GROUP BY 1",
            &[&read_dim, &since, &language, &by_language],
        )
        .await?;
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    for r in &rows {
        let key: String = r.get(0);
        out.insert(
            key.clone(),
            Figures {
                key,
                explained: r.get(1),
                fixed: r.get(2),
                up: r.get(3),
                down: r.get(4),
                ..Default::default()
            },
        );
    }
    // Explanations still inside their window: few (the last half hour's checks, the last
    // day's submissions), read through the partial index on open rows.
    let pending = client
        .query(
            "SELECT d.key, l.language, count(*) FROM attempt_links l, devmentor_efficacy_dims(l) d
              WHERE l.next_id IS NULL AND l.window_ends > now() AND d.dim = $1
                AND (l.created_at AT TIME ZONE 'UTC')::date >= $2::text::date AND ($3 = '' OR l.language = $3)
              GROUP BY 1, 2",
            &[&read_dim, &since, &language],
        )
        .await?;
    for r in &pending {
        let key: String = if by_language { r.get(1) } else { r.get(0) };
        if let Some(f) = out.get_mut(&key) {
            f.pending += r.get::<_, i64>(2);
        }
    }
    let mut out: Vec<Figures> = out.into_values().collect();
    for f in &mut out {
        f.finish();
    }
    Ok(out)
}

/// Fills in the medians of `out` (lines of [`counts`] of the same `dim` and `filter`) from the
/// histograms, reading only those lines' keys.
async fn medians(client: &Client, dim: &str, filter: &Filter, out: &mut [Figures]) -> Result<(), StoreError> {
    if out.is_empty() {
        return Ok(());
    }
    let (read_dim, by_language) = read_dim(dim);
    let since = filter.since.clone().unwrap_or_else(|| "1970-01-01".into());
    let language = filter.language.clone().unwrap_or_default();
    let keys: Vec<String> = out.iter().map(|f| f.key.clone()).collect();
    // By language the keys are languages, not the sources the rows are keyed by.
    let hist = client
        .query(
            "SELECT CASE WHEN $4 THEN language ELSE key END, measure, bucket, sum(n)::bigint
               FROM efficacy_hist
              WHERE dim = $1 AND day >= $2::text::date AND ($3 = '' OR language = $3)
                AND ($4 OR key = ANY($5))
              GROUP BY 1, 2, 3",
            &[&read_dim, &since, &language, &by_language, &keys],
        )
        .await?;
    let mut attempts: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
    let mut seconds: HashMap<String, BTreeMap<i32, i64>> = HashMap::new();
    for r in &hist {
        let (key, measure, bucket, n): (String, &str, i32, i64) = (r.get(0), r.get(1), r.get(2), r.get(3));
        let h = if measure == "attempts" {
            &mut attempts
        } else {
            &mut seconds
        };
        *h.entry(key).or_default().entry(bucket).or_insert(0) += n;
    }
    for f in out.iter_mut() {
        f.median_attempts = attempts.get(&f.key).and_then(median_attempts);
        f.median_seconds_to_fix = seconds.get(&f.key).and_then(median_seconds);
    }
    Ok(())
}

/// Entry keys are ids (an entry may be re-slugged: its history follows it); shows them as the
/// entry's slug now, or the slug it had when it was deleted.
async fn name_entries(client: &Client, out: &mut [Figures]) -> Result<(), StoreError> {
    let ids: Vec<i64> = out.iter().filter_map(|f| f.key.parse().ok()).collect();
    let rows = client
        .query(
            "SELECT i.id, e.slug, COALESCE(e.language, last.language), last.entry_slug
               FROM unnest($1::bigint[]) i (id) LEFT JOIN registry_entries e ON e.id = i.id
               LEFT JOIN LATERAL (SELECT l.entry_slug, l.language FROM attempt_links l WHERE l.entry_id = i.id
                                   ORDER BY l.created_at DESC LIMIT 1) last ON TRUE",
            &[&ids],
        )
        .await?;
    // id → (its slug now, its language (a deleted one's from its history), the slug it explained under).
    type Names = HashMap<i64, (Option<String>, Option<String>, Option<String>)>;
    let names: Names = rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3))))
        .collect();
    for f in out.iter_mut() {
        let Ok(id) = f.key.parse::<i64>() else { continue };
        if let Some((now, language, then)) = names.get(&id) {
            f.deleted = now.is_none();
            f.key = now.clone().or_else(|| then.clone()).unwrap_or_else(|| format!("#{id}"));
            f.language = language.clone();
        }
    }
    Ok(())
}

/// Figures of one entry by slug, and of its current experiment's two variants (`a`, `b`).
pub async fn entry_figures(
    client: &Client,
    slug: &str,
) -> Result<(Option<Figures>, Option<(Figures, Figures)>), StoreError> {
    let row = client
        .query_opt(
            "SELECT id, variant_round, variant_texts IS NOT NULL FROM registry_entries WHERE slug = $1",
            &[&slug],
        )
        .await?;
    let Some(row) = row else { return Ok((None, None)) };
    let (id, round, has_variant): (i64, i32, bool) = (row.get(0), row.get(1), row.get(2));
    // The counters of every entry (one indexed read), the histograms of this one only.
    let filter = Filter::default();
    let mut own: Vec<Figures> = counts(client, "entry", &filter)
        .await?
        .into_iter()
        .filter(|f| f.key == id.to_string())
        .collect();
    medians(client, "entry", &filter, &mut own).await?;
    let own = name(client, "entry", own).await?.into_iter().next();
    if !has_variant {
        return Ok((own, None));
    }
    let variants = figures_of_keys(client, &[format!("{id}:{round}a"), format!("{id}:{round}b")]).await?;
    let mut a = variants.first().cloned().unwrap_or_default();
    let mut b = variants.get(1).cloned().unwrap_or_default();
    a.key = format!("{round}a");
    b.key = format!("{round}b");
    Ok((own, Some((a, b))))
}

/// Variant figures for exactly these keys (in this order; missing ones are zero).
async fn figures_of_keys(client: &Client, keys: &[String]) -> Result<Vec<Figures>, StoreError> {
    let filter = Filter::default();
    let mut all: Vec<Figures> = counts(client, "variant", &filter)
        .await?
        .into_iter()
        .filter(|f| keys.contains(&f.key))
        .collect();
    medians(client, "variant", &filter, &mut all).await?;
    Ok(keys
        .iter()
        .map(|k| {
            all.iter().find(|f| &f.key == k).cloned().unwrap_or_else(|| {
                let mut f = Figures {
                    key: k.clone(),
                    ..Default::default()
                };
                f.finish();
                f
            })
        })
        .collect())
}

/// Explanations per entry for the registry list: `(explained decided, fix rate)` by slug.
/// No medians: the list shows the rate and n (the interval on hover), not the times.
pub async fn entry_rates(client: &Client) -> Result<HashMap<String, Figures>, StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    Ok(name(client, "entry", all)
        .await?
        .into_iter()
        .map(|f| (f.key.clone(), f))
        .collect())
}

/// The entries to rewrite first: the lowest fix rate among those with at least `min_n`
/// decided explanations.
pub async fn lowest_entries(client: &Client, min_n: i64, limit: usize) -> Result<Vec<Figures>, StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    lowest_of(client, all, min_n, limit).await
}

/// The analytics page's two lists of entries from one pass over the counters: the ones to
/// rewrite first ([`lowest_entries`]) and the deleted ones' history.
pub async fn entry_lists(
    client: &Client,
    min_n: i64,
    limit: usize,
    deleted_limit: usize,
) -> Result<(Vec<Figures>, Vec<Figures>), StoreError> {
    let all = counts(client, "entry", &Filter::default()).await?;
    let deleted = deleted_of(client, all.clone(), deleted_limit).await?;
    Ok((lowest_of(client, all, min_n, limit).await?, deleted))
}

async fn lowest_of(
    client: &Client,
    mut all: Vec<Figures>,
    min_n: i64,
    limit: usize,
) -> Result<Vec<Figures>, StoreError> {
    let filter = Filter::default();
    all.retain(|f| f.decided() >= min_n);
    let ids: Vec<String> = all.iter().map(|f| f.key.clone()).collect();
    let all = name(client, "entry", all).await?;
    let mut all: Vec<(String, Figures)> = ids.into_iter().zip(all).filter(|(_, f)| !f.deleted).collect();
    all.sort_by(|(_, a), (_, b)| {
        a.fix_rate
            .partial_cmp(&b.fix_rate)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(b.decided().cmp(&a.decided()))
    });
    all.truncate(limit);
    // The histograms of the ones shown only (keyed by id, as the counters are).
    let mut by_id: Vec<Figures> = all
        .iter()
        .map(|(id, _)| Figures {
            key: id.clone(),
            ..Default::default()
        })
        .collect();
    medians(client, "entry", &filter, &mut by_id).await?;
    Ok(all
        .into_iter()
        .zip(by_id)
        .map(|((_, f), m)| Figures {
            median_attempts: m.median_attempts,
            median_seconds_to_fix: m.median_seconds_to_fix,
            ..f
        })
        .collect())
}

/// Entries deleted after they explained errors, with their figures under the slug they had
/// (most explanations first): their history stays on the analytics page, though there is
/// nothing left to rewrite.
async fn deleted_of(client: &Client, all: Vec<Figures>, limit: usize) -> Result<Vec<Figures>, StoreError> {
    let ids: Vec<i64> = all.iter().filter_map(|f| f.key.parse().ok()).collect();
    // Only the ids no entry has now are named (one cheap query for the live ones).
    let gone: std::collections::HashSet<i64> = client
        .query(
            "SELECT i.id FROM unnest($1::bigint[]) i (id)
              WHERE NOT EXISTS (SELECT 1 FROM registry_entries e WHERE e.id = i.id)",
            &[&ids],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut out: Vec<Figures> = all
        .into_iter()
        .filter(|f| f.key.parse().is_ok_and(|id: i64| gone.contains(&id)))
        .collect();
    name_entries(client, &mut out).await?;
    out.sort_by(|a, b| b.explained.cmp(&a.explained).then(a.key.cmp(&b.key)));
    out.truncate(limit);
    Ok(out)
}

// ---- variants ----

/// Sets (or with `None` removes) an entry's second text; a new round starts, so the split's
/// figures count from here. Returns the entry's variant before, `None` when there is no entry.
pub async fn set_variant(
    client: &Client,
    slug: &str,
    texts: Option<&crate::registry::catalogue::EntryVariant>,
) -> Result<Option<Option<serde_json::Value>>, StoreError> {
    let value = texts
        .map(serde_json::to_value)
        .transpose()
        .map_err(|e| StoreError::Invalid(format!("encoding a variant: {e}")))?;
    let row = client
        .query_opt(
            "WITH old AS (SELECT id, variant_texts FROM registry_entries WHERE slug = $1 FOR UPDATE)
             UPDATE registry_entries e SET variant_texts = $2, variant_round = e.variant_round + 1, updated_at = now()
               FROM old WHERE e.id = old.id RETURNING old.variant_texts",
            &[&slug, &value],
        )
        .await?;
    Ok(row.map(|r| r.get(0)))
}

/// Promotes the second text: it becomes the entry's text (each field it fills replaces the
/// main one), the variant is removed and a new round starts. The explanations already given
/// stay attributed to the variant they showed. Returns the texts before and after, `None`
/// when the entry has no variant.
pub async fn promote_variant(
    client: &mut Client,
    slug: &str,
) -> Result<Option<(crate::registry::Entry, crate::registry::Entry)>, StoreError> {
    let entries = crate::registry::store::load(client).await?;
    let Some(before) = entries.into_iter().find(|e| e.slug == slug) else {
        return Ok(None);
    };
    let Some(v) = before.variant.clone() else {
        return Ok(None);
    };
    let tx = client.transaction().await?;
    // The variant read is still the entry's (no one changed it meanwhile).
    let row = tx
        .query_opt(
            "SELECT id FROM registry_entries WHERE slug = $1 AND variant_round = $2 AND variant_texts IS NOT NULL
                FOR UPDATE",
            &[&slug, &v.round],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    let id: i64 = row.get(0);
    let after = v.apply(&before);
    for (locale, t) in [("ru", &after.ru), ("en", &after.en)] {
        tx.execute(
            "INSERT INTO registry_texts (entry_id, locale, title, what, why, hint, example_bad, example_good)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (entry_id, locale) DO UPDATE SET title = $3, what = $4, why = $5, hint = $6,
                    example_bad = $7, example_good = $8",
            &[
                &id,
                &locale,
                &t.title,
                &t.what,
                &t.why,
                &t.hint,
                &t.example_bad,
                &t.example_good,
            ],
        )
        .await?;
    }
    tx.execute(
        "UPDATE registry_entries SET variant_texts = NULL, variant_round = variant_round + 1, edited_by_admin = TRUE,
                updated_at = now() WHERE id = $1",
        &[&id],
    )
    .await?;
    tx.commit().await?;
    Ok(Some((before, after)))
}

// ---- the backlog ----

/// One kind of error no entry explained (`analyzer::kind`: the same mistake with another name
/// or number is one row), with how many students it held back.
#[derive(Debug, Clone, Serialize)]
pub struct Backlog {
    /// The kind (or, for an event recorded before kinds existed, its own fingerprint).
    pub fingerprint: String,
    /// Different messages of the kind.
    pub variants: i64,
    pub language: String,
    pub error_type: String,
    pub message: String,
    pub count: i64,
    pub last: String,
    /// Explanations of it whose next try did not fix it (decided ones).
    pub not_fixed: i64,
    /// `count × (1 − fix rate)`: the ranking (an error with no decided next try counts whole).
    pub held_back: i64,
    pub fix_rate: Option<f64>,
    /// The AI's latest answer to it, and the students' votes on its explanations.
    pub ai: Option<String>,
    pub up: i64,
    pub down: i64,
}

/// The unmatched backlog ranked by how many students each error held back: how often it came,
/// times the share of its explanations the next try did not fix, grouped by kind. One query.
pub async fn backlog(client: &Client, offset: i64, limit: i64) -> Result<Vec<Backlog>, StoreError> {
    let rows = client
        .query(
            "WITH g AS (
                 SELECT COALESCE(kind_fingerprint, fingerprint) AS kind, min(language) AS language,
                        min(error_type) AS error_type, (array_agg(message ORDER BY id DESC))[1] AS message,
                        count(*) AS n, count(DISTINCT message) AS variants, max(created_at) AS last,
                        array_agg(DISTINCT fingerprint) AS fps,
                        array_agg(check_id) FILTER (WHERE check_id IS NOT NULL) AS checks
                   FROM explanation_events WHERE entry_slug IS NULL GROUP BY 1),
             r AS (
                 SELECT g.*, h.explained, h.fixed,
                        (h.explained - (SELECT count(*) FROM attempt_links a
                                         WHERE a.next_id IS NULL AND a.window_ends > now() AND a.entry_slug IS NULL
                                           AND a.kind = 'check' AND a.fingerprint = ANY(g.fps)))::bigint AS decided
                   FROM g, LATERAL (
                        SELECT COALESCE(sum(d.explained), 0)::bigint AS explained, COALESCE(sum(d.fixed), 0)::bigint AS fixed
                          FROM efficacy_daily d WHERE d.dim = 'unmatched' AND d.key = ANY(g.fps)) h)
             SELECT kind, language, error_type, message, n, to_char(last AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                    greatest(decided - fixed, 0)::bigint, decided, fixed,
                    round(n * CASE WHEN decided > 0 THEN 1 - fixed::float8 / decided ELSE 1 END)::bigint AS held,
                    (SELECT c.result->'explanation'->>'text' FROM checks c
                      WHERE c.id = ANY(r.checks) AND c.result->'explanation'->>'source' IN ('ai', 'cache')
                      ORDER BY c.id DESC LIMIT 1),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(r.checks) AND f.vote > 0),
                    (SELECT count(*) FROM feedback f WHERE f.check_id = ANY(r.checks) AND f.vote < 0),
                    variants
               FROM r ORDER BY held DESC, n DESC, last DESC OFFSET $1 LIMIT $2",
            &[&offset, &limit],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let (decided, fixed): (i64, i64) = (r.get(7), r.get(8));
            Backlog {
                fingerprint: r.get(0),
                language: r.get(1),
                error_type: r.get(2),
                message: r.get(3),
                count: r.get(4),
                last: r.get(5),
                not_fixed: r.get(6),
                held_back: r.get(9),
                fix_rate: (decided > 0).then(|| fixed as f64 / decided as f64),
                ai: r.get(10),
                up: r.get(11),
                down: r.get(12),
                variants: r.get(13),
            }
        })
        .collect())
}

/// Rebuilds the lineage from the history of checks and submissions (`devmentor efficacy
/// rebuild`): every finished attempt in the order it was made, through [`record`], then the
/// votes and the counters. Returns `(attempts read, link rows)`.
pub async fn rebuild(client: &mut Client) -> Result<(i64, i64), StoreError> {
    // The entry that explained each attempt, as the links said: a check's stored result names
    // the entry by the slug it had, and an entry deleted or re-slugged since would otherwise
    // lose its history (looked up by slug, it is no entry or another one).
    client
        .batch_execute(
            "DROP TABLE IF EXISTS pg_temp.efficacy_kept_entries;
             CREATE TEMP TABLE efficacy_kept_entries AS
               SELECT kind, attempt_id, entry_id FROM attempt_links WHERE entry_id IS NOT NULL;
             TRUNCATE attempt_links",
        )
        .await?;
    let mut read = 0i64;
    let mut after: (SystemTime, i64) = (SystemTime::UNIX_EPOCH, 0);
    loop {
        let batch = crate::store::checks::done_after(client, after.0, after.1, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = (last.0.created_at, last.0.id);
        for (row, fingerprint) in &batch {
            let Some(mut result) = row.result.clone() else { continue };
            if let (Some(e), Some(fp)) = (result.explanation.as_mut(), fingerprint) {
                e.fingerprint.get_or_insert_with(|| fp.clone());
            }
            if let Some(a) = Attempt::of_check(row, &result) {
                record(client, &a).await?;
                read += 1;
            }
        }
    }
    let mut after: (SystemTime, i64) = (SystemTime::UNIX_EPOCH, 0);
    loop {
        let batch = crate::store::tasks::done_submissions_after(client, after.0, after.1, 1000).await?;
        let Some(last) = batch.last() else { break };
        after = (last.0.created_at, last.0.id);
        for (row, hints) in &batch {
            let Some(graded) = row.result.as_ref() else { continue };
            if let Some(a) = Attempt::of_submission(row, graded) {
                // A hint opened after this result credits the next try to the hint.
                let a = Attempt {
                    explained: a.explained.map(|e| Explained {
                        source: if *hints > 0 { "hint".into() } else { e.source },
                        ..e
                    }),
                    ..a
                };
                record(client, &a).await?;
                read += 1;
            }
        }
    }
    let tx = client.transaction().await?;
    tx.execute(
        "UPDATE attempt_links l SET entry_id = k.entry_id FROM efficacy_kept_entries k
          WHERE l.kind = k.kind AND l.attempt_id = k.attempt_id AND l.entry_id IS DISTINCT FROM k.entry_id",
        &[],
    )
    .await?;
    tx.execute(
        "UPDATE attempt_links l SET up = (f.vote > 0)::int, down = (f.vote < 0)::int
           FROM feedback f WHERE l.kind = 'check' AND l.attempt_id = f.check_id",
        &[],
    )
    .await?;
    tx.execute("SELECT devmentor_efficacy_recount()", &[]).await?;
    let rows: i64 = tx.query_one("SELECT count(*) FROM attempt_links", &[]).await?.get(0);
    tx.execute("DROP TABLE efficacy_kept_entries", &[]).await?;
    tx.commit().await?;
    Ok((read, rows))
}

#[cfg(test)]
mod tests;
