//! One job, start to finish: what a sandbox actor does with each job it claims.
//!
//! Idempotent by construction: the `checks` row is finished with a guarded `UPDATE`, only the
//! call that finished it publishes the "done" event, and the job is acknowledged only after
//! the result is stored. A re-delivered job therefore never yields two results or two messages.

use crate::analyzer::Analyzer;
use crate::check::{run_check_until, CheckError, CheckRequest, CheckResult, InputLimits};
use crate::metrics::Metrics;
use crate::queue::{Job, JobKind, Queue};
use crate::sandbox::{Sandbox, Verdict};
use crate::store::{checks, efficacy, tasks as task_store, Store, StoreError};
use crate::tasks::grade::{grade, Submission};
use crate::tasks::{Graded, SubmissionVerdict};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueError),
}

/// What happened to a job.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Ran and stored; `published` is false for a duplicate that lost the race to finish.
    Done {
        check_id: i64,
        verdict: Verdict,
        published: bool,
    },
    /// The check was already finished (a re-delivered job): acknowledged, nothing else.
    Duplicate { check_id: i64 },
    /// Delivered too many times: failed with `internal_error`.
    GaveUp { check_id: i64 },
    /// The row does not exist (deleted): acknowledged and dropped.
    Missing { check_id: i64 },
    /// A task submission graded and stored.
    Graded {
        submission_id: i64,
        verdict: SubmissionVerdict,
        published: bool,
    },
}

/// Everything a sandbox actor needs; shared by the actors of one process.
pub struct Worker {
    pub name: String,
    pub store: Store,
    pub queue: Queue,
    pub sandbox: Arc<Sandbox>,
    pub analyzer: Arc<Analyzer>,
    pub limits: InputLimits,
    pub metrics: Arc<Metrics>,
    pub max_deliveries: u64,
    /// Containers a task submission may use at once (its tests run in parallel).
    pub task_parallelism: usize,
}

impl Worker {
    pub async fn process(&self, job: &Job) -> Result<Outcome, WorkerError> {
        if job.kind == JobKind::Submission {
            return self.process_submission(job).await;
        }
        let client = self.store.client().await?;
        if job.deliveries > self.max_deliveries {
            let result = CheckResult::internal_error(
                &checks::get(&client, job.check_id)
                    .await?
                    .map(|c| c.language)
                    .unwrap_or_default(),
                &format!(
                    "the check failed {} times inside the service; it was stopped",
                    job.deliveries - 1
                ),
            );
            let first = checks::finish(&client, job.check_id, &result).await?;
            if first {
                self.queue.publish_done(job.check_id).await?;
                self.metrics.check_finished("internal_error", 0.0);
            }
            self.queue.ack(job).await?;
            return Ok(Outcome::GaveUp { check_id: job.check_id });
        }
        let Some(row) = checks::start(&client, job.check_id, &self.name).await? else {
            self.queue.ack(job).await?;
            return Ok(match checks::get(&client, job.check_id).await? {
                Some(_) => Outcome::Duplicate { check_id: job.check_id },
                None => Outcome::Missing { check_id: job.check_id },
            });
        };
        drop(client);
        let request = CheckRequest {
            language: row.language.clone(),
            code: row.code.clone().into_bytes(),
            stdin: row.stdin.clone(),
            locale: row.locale,
            check_id: Some(row.id),
        };
        let started = Instant::now();
        // ⏹ from the student, wherever the bot runs: a key in Redis this run watches.
        let stop = tokio_util::sync::CancellationToken::new();
        let watch = self.watch_stop(row.id, stop.clone());
        let run = run_check_until(&self.sandbox, Some(&self.analyzer), &request, &self.limits, Some(&stop));
        // The student the explanation is for picks a registry entry's text variant (efficacy).
        let student = efficacy::student_key(row.user_id, row.token_id, row.api_user.as_deref());
        let run = async move {
            match student {
                Some(s) => crate::analyzer::STUDENT.scope(s, run).await,
                None => run.await,
            }
        };
        let result = tokio::select! {
            r = run => r,
            never = watch => match never {},
        };
        let result = match result {
            Ok(r) => r,
            // The input was validated when the check was accepted; anything here is ours.
            Err(e @ CheckError::Sandbox(_)) => CheckResult::internal_error(&row.language, &e.to_string()),
            Err(e) => CheckResult::internal_error(&row.language, &format!("the check could not run: {e}")),
        };
        let seconds = started.elapsed().as_secs_f64();
        let client = self.store.client().await?;
        // The lineage before the check reads as done, so whoever reads the result sees its link
        // (`record` is idempotent: a redelivered job records nothing twice).
        if let Some(a) = efficacy::Attempt::of_check(&row, &result) {
            if let Err(e) = efficacy::record(&client, &a).await {
                tracing::warn!(check = row.id, error = %e, "the check's lineage could not be stored");
            }
        }
        let first = checks::finish(&client, row.id, &result).await?;
        if first {
            self.queue.publish_done(row.id).await?;
            self.metrics.check_finished(result.verdict.as_str(), seconds);
        }
        self.queue.ack(job).await?;
        Ok(Outcome::Done {
            check_id: row.id,
            verdict: result.verdict,
            published: first,
        })
    }
}

/// How often a running check looks whether its student pressed ⏹ (one `EXISTS` each time).
const STOP_POLL: std::time::Duration = std::time::Duration::from_millis(300);

impl Worker {
    /// Cancels `stop` once the student asked to stop check `id`; runs until dropped. A Redis
    /// hiccup only delays the stop: the program still has its own time limit.
    async fn watch_stop(&self, id: i64, stop: tokio_util::sync::CancellationToken) -> std::convert::Infallible {
        loop {
            if !stop.is_cancelled() && self.queue.stop_requested(id).await.unwrap_or(false) {
                tracing::info!(check = id, "the student stopped the check");
                stop.cancel();
            }
            tokio::time::sleep(STOP_POLL).await;
        }
    }

    /// A task submission: the same guarded start, idempotent finish and ack-after-store as a
    /// check; the grading compiles once and runs each test in a fresh container.
    async fn process_submission(&self, job: &Job) -> Result<Outcome, WorkerError> {
        let id = job.check_id;
        let client = self.store.client().await?;
        if job.deliveries > self.max_deliveries {
            let total = task_store::submission(&client, id).await?.map(|s| s.total).unwrap_or(0);
            let graded = Graded::internal_error(
                total,
                &format!(
                    "the submission failed {} times inside the service; it was stopped",
                    job.deliveries - 1
                ),
            );
            if task_store::finish_submission(&client, id, &graded).await? {
                self.queue.publish_submission_done(id).await?;
            }
            self.queue.ack(job).await?;
            return Ok(Outcome::GaveUp { check_id: id });
        }
        let Some(row) = task_store::start_submission(&client, id, &self.name).await? else {
            self.queue.ack(job).await?;
            return Ok(match task_store::submission(&client, id).await? {
                Some(_) => Outcome::Duplicate { check_id: id },
                None => Outcome::Missing { check_id: id },
            });
        };
        let (task, tests) = match task_store::by_id(&client, row.task_id).await? {
            Some(t) => {
                let tests = task_store::tests(&client, t.id).await?;
                (t, tests)
            }
            None => {
                self.queue.ack(job).await?;
                return Ok(Outcome::Missing { check_id: id });
            }
        };
        drop(client);
        let sub = Submission {
            task: &task,
            tests: &tests,
            language: &row.language,
            code: &row.code,
            locale: row.locale,
            id: None,
        };
        // Progress for the student's living message (bot submissions only): forwarded to the
        // results stream as it comes, best effort.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, usize)>();
        let forward = (row.source == "bot").then(|| {
            let queue = self.queue.clone();
            tokio::spawn(async move {
                // At most one update per second (Telegram limits edits per chat): the latest.
                while let Some(mut last) = rx.recv().await {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    while let Ok(newer) = rx.try_recv() {
                        last = newer;
                    }
                    let (done, total) = last;
                    if done < total {
                        let _ = queue.publish_progress(id, done as u32, total as u32).await;
                    }
                }
            })
        });
        let report = move |done: usize, total: usize| {
            let _ = tx.send((done, total));
        };
        let grading = grade(&self.sandbox, Some(&self.analyzer), &sub, self.task_parallelism, report);
        let graded = match efficacy::student_key(row.user_id, row.token_id, row.api_user.as_deref()) {
            Some(s) => crate::analyzer::STUDENT.scope(s, grading).await,
            None => grading.await,
        };
        let graded = match graded {
            Ok(g) => g,
            Err(e) => Graded::internal_error(tests.len() as i32, &e.to_string()),
        };
        if let Some(f) = forward {
            let _ = f.await;
        }
        let client = self.store.client().await?;
        // The lineage before the submission reads as done (see the check's above).
        if let Some(a) = efficacy::Attempt::of_submission(&row, &graded) {
            if let Err(e) = efficacy::record(&client, &a).await {
                tracing::warn!(submission = id, error = %e, "the submission's lineage could not be stored");
            }
        }
        let first = task_store::finish_submission(&client, id, &graded).await?;
        if first {
            self.queue.publish_submission_done(id).await?;
        }
        self.queue.ack(job).await?;
        Ok(Outcome::Graded {
            submission_id: id,
            verdict: graded.verdict,
            published: first,
        })
    }
}
