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

mod entries;
mod figures;
pub use entries::*;
pub use figures::*;

#[cfg(test)]
mod tests;
