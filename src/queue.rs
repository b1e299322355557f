//! The job transport: Redis Streams with a consumer group.
//!
//! Only check ids travel through Redis; PostgreSQL holds the checks. Workers claim new jobs with
//! `XREADGROUP`, take over jobs of a dead consumer with `XAUTOCLAIM` once they have been idle
//! longer than the visibility timeout, and `XACK` a job only after its result is stored. A
//! second stream carries "done" events to the bot role.

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand};
use std::time::Duration;

pub const GROUP: &str = "workers";
/// The consumer group of the bot role on the results stream.
pub const RESULTS_GROUP: &str = "delivery";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("Redis is not reachable ({0}); start it (`make services`) or set REDIS_URL")]
    Unavailable(String),
    #[error("Redis: {0}")]
    Redis(#[from] fred::error::Error),
    #[error("unexpected Redis reply: {0}")]
    Protocol(String),
}

/// A claimed job.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub entry_id: String,
    /// What the job is: a check, or a task submission (same stream, same recovery).
    pub kind: JobKind,
    /// The row's id in `checks` or, for a submission, in `submissions`.
    pub check_id: i64,
    /// On the results stream: a submission's progress (tests done, total), not its end.
    pub progress: Option<(u32, u32)>,
    /// How many times the job has been handed to a consumer, this time included.
    pub deliveries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Check,
    Submission,
}

impl JobKind {
    fn field(self) -> &'static str {
        match self {
            JobKind::Check => "check_id",
            JobKind::Submission => "submission_id",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Depth {
    /// Entries in the stream not yet delivered to any worker.
    pub waiting: u64,
    /// Delivered, not yet acknowledged.
    pub pending: u64,
}

#[derive(Clone)]
pub struct Queue {
    client: Client,
    checks: String,
    results: String,
    /// The consumer group `claim`/`reclaim`/`ack` work in (on the `checks` stream).
    group: &'static str,
    url: String,
}

fn cmd(name: &'static str, blocking: bool) -> CustomCommand {
    CustomCommand::new_static(name, ClusterHash::FirstKey, blocking)
}

async fn connect_client(url: &str, timeout: Duration) -> Result<Client, QueueError> {
    let config = Config::from_url(url).map_err(|e| QueueError::Unavailable(e.to_string()))?;
    let client = Builder::from_config(config)
        .with_connection_config(|c| {
            c.connection_timeout = timeout;
            c.internal_command_timeout = timeout;
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2))
        .build()
        .map_err(|e| QueueError::Unavailable(e.to_string()))?;
    match tokio::time::timeout(timeout, client.init()).await {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(QueueError::Unavailable(e.to_string())),
        Err(_) => Err(QueueError::Unavailable(format!("no answer within {timeout:?}"))),
    }
}

impl Queue {
    /// Connects; `prefix` namespaces the keys (tests use one per test).
    pub async fn connect(url: &str, prefix: &str) -> Result<Queue, QueueError> {
        let client = connect_client(url, Duration::from_secs(5)).await?;
        let q = Queue {
            client,
            checks: format!("{prefix}checks"),
            results: format!("{prefix}results"),
            group: GROUP,
            url: url.to_string(),
        };
        q.ensure_group().await?;
        Ok(q)
    }

    /// A second connection for blocking reads, which would stall every other command on a
    /// shared one.
    pub async fn for_consumer(&self) -> Result<Queue, QueueError> {
        Ok(Queue {
            client: connect_client(&self.url, Duration::from_secs(5)).await?,
            ..self.clone()
        })
    }

    /// The same queue seen from the bot role: `claim`, `reclaim` and `ack` work on the
    /// results stream in the `delivery` group (a new connection, for blocking reads).
    pub async fn results_consumer(&self) -> Result<Queue, QueueError> {
        let q = Queue {
            client: connect_client(&self.url, Duration::from_secs(5)).await?,
            checks: self.results.clone(),
            group: RESULTS_GROUP,
            ..self.clone()
        };
        q.ensure_group().await?;
        Ok(q)
    }

    /// Creates the consumer group (and the stream) unless it exists. Called again after Redis
    /// lost its data.
    pub async fn ensure_group(&self) -> Result<(), QueueError> {
        let r: Result<Value, _> = self
            .client
            .custom(
                cmd("XGROUP", false),
                vec![
                    Value::from("CREATE"),
                    self.checks.as_str().into(),
                    self.group.into(),
                    "0".into(),
                    "MKSTREAM".into(),
                ],
            )
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("BUSYGROUP") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn ping(&self) -> Result<(), QueueError> {
        let _: Value = self.client.custom(cmd("PING", false), Vec::<Value>::new()).await?;
        Ok(())
    }

    /// Adds a job. Fails fast while Redis is away (instead of being replayed on reconnect),
    /// so a caller that reports the failure never sees the job appear later.
    pub async fn enqueue(&self, check_id: i64) -> Result<String, QueueError> {
        self.enqueue_job(JobKind::Check, check_id).await
    }

    /// Adds a task submission's job (fails fast like [`Queue::enqueue`]).
    pub async fn enqueue_submission(&self, submission_id: i64) -> Result<String, QueueError> {
        self.enqueue_job(JobKind::Submission, submission_id).await
    }

    async fn enqueue_job(&self, kind: JobKind, id: i64) -> Result<String, QueueError> {
        let options = Options {
            fail_fast: true,
            timeout: Some(Duration::from_secs(3)),
            max_attempts: Some(1),
            ..Default::default()
        };
        let id: Value = self
            .client
            .with_options(&options)
            .custom(
                cmd("XADD", false),
                vec![
                    Value::from(self.checks.as_str()),
                    "*".into(),
                    kind.field().into(),
                    id.into(),
                ],
            )
            .await?;
        id.as_string()
            .ok_or_else(|| QueueError::Protocol(format!("XADD returned {id:?}")))
    }

    /// Claims up to `count` new jobs, waiting up to `block` for one.
    pub async fn claim(&self, consumer: &str, count: u64, block: Duration) -> Result<Vec<Job>, QueueError> {
        let args: Vec<Value> = vec![
            "GROUP".into(),
            self.group.into(),
            consumer.into(),
            "COUNT".into(),
            (count as i64).into(),
            "BLOCK".into(),
            (block.as_millis() as i64).into(),
            "STREAMS".into(),
            self.checks.as_str().into(),
            ">".into(),
        ];
        let reply: Result<Value, _> = self.client.custom(cmd("XREADGROUP", true), args).await;
        let reply = match reply {
            Ok(v) => v,
            // The group vanished (Redis restarted empty): make it again, nothing to claim now.
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group().await?;
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        let mut jobs = Vec::new();
        for stream in array(reply) {
            let mut parts = array(stream).into_iter();
            let _name = parts.next();
            for entry in parts.next().map(array).unwrap_or_default() {
                if let Some(job) = parse_entry(entry) {
                    jobs.push(job);
                }
            }
        }
        Ok(jobs)
    }

    /// Takes over jobs idle longer than `min_idle` (their consumer died), with their delivery
    /// counts.
    pub async fn reclaim(&self, consumer: &str, min_idle: Duration, count: u64) -> Result<Vec<Job>, QueueError> {
        let args: Vec<Value> = vec![
            self.checks.as_str().into(),
            self.group.into(),
            consumer.into(),
            (min_idle.as_millis() as i64).into(),
            "0-0".into(),
            "COUNT".into(),
            (count as i64).into(),
        ];
        let reply: Value = match self.client.custom(cmd("XAUTOCLAIM", false), args).await {
            Ok(v) => v,
            Err(e) if e.to_string().contains("NOGROUP") => {
                self.ensure_group().await?;
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        };
        let mut parts = array(reply).into_iter();
        let _cursor = parts.next();
        let entries: Vec<Job> = parts
            .next()
            .map(array)
            .unwrap_or_default()
            .into_iter()
            .filter_map(parse_entry)
            .collect();
        let mut jobs = Vec::new();
        for mut job in entries {
            job.deliveries = self.deliveries(&job.entry_id).await.unwrap_or(1);
            jobs.push(job);
        }
        Ok(jobs)
    }

    async fn deliveries(&self, entry_id: &str) -> Result<u64, QueueError> {
        let args: Vec<Value> = vec![
            self.checks.as_str().into(),
            self.group.into(),
            entry_id.into(),
            entry_id.into(),
            1.into(),
        ];
        let reply: Value = self.client.custom(cmd("XPENDING", false), args).await?;
        Ok(array(reply)
            .into_iter()
            .next()
            .map(array)
            .and_then(|row| row.get(3).and_then(|v| v.as_i64()))
            .unwrap_or(1) as u64)
    }

    pub async fn ack(&self, job: &Job) -> Result<(), QueueError> {
        let _: Value = self
            .client
            .custom(
                cmd("XACK", false),
                vec![
                    Value::from(self.checks.as_str()),
                    self.group.into(),
                    job.entry_id.as_str().into(),
                ],
            )
            .await?;
        Ok(())
    }

    /// The key that says "the student pressed ⏹ on check `check_id`". A key, not a pub/sub
    /// message: the worker that runs the check (on whatever machine) sees it however late it
    /// looks, also when the press came while the check still waited in the queue.
    fn stop_key(&self, check_id: i64) -> String {
        format!("{}:stop:{check_id}", self.checks)
    }

    /// Asks whichever worker runs check `check_id` to stop it (the key expires after an hour).
    pub async fn request_stop(&self, check_id: i64) -> Result<(), QueueError> {
        let args: Vec<Value> = vec![self.stop_key(check_id).into(), "1".into(), "EX".into(), 3600.into()];
        let _: Value = self.client.custom(cmd("SET", false), args).await?;
        Ok(())
    }

    /// Whether the student asked to stop check `check_id`.
    pub async fn stop_requested(&self, check_id: i64) -> Result<bool, QueueError> {
        let n: Value = self
            .client
            .custom(cmd("EXISTS", false), vec![Value::from(self.stop_key(check_id))])
            .await?;
        Ok(n.as_i64().unwrap_or(0) > 0)
    }

    /// Tells the bot role a check is done.
    pub async fn publish_done(&self, check_id: i64) -> Result<(), QueueError> {
        self.publish(JobKind::Check, check_id).await
    }

    /// Tells the bot role how far a submission's grading is (`done` of `total` tests).
    pub async fn publish_progress(&self, submission_id: i64, done: u32, total: u32) -> Result<(), QueueError> {
        self.publish_with(JobKind::Submission, submission_id, Some(format!("{done}/{total}")))
            .await
    }

    /// Tells the bot role a submission is graded.
    pub async fn publish_submission_done(&self, submission_id: i64) -> Result<(), QueueError> {
        self.publish(JobKind::Submission, submission_id).await
    }

    async fn publish(&self, kind: JobKind, id: i64) -> Result<(), QueueError> {
        self.publish_with(kind, id, None).await
    }

    /// An event on the results stream (capped at about 100,000 entries).
    async fn publish_with(&self, kind: JobKind, id: i64, progress: Option<String>) -> Result<(), QueueError> {
        let mut args = vec![
            Value::from(self.results.as_str()),
            "MAXLEN".into(),
            "~".into(),
            100_000.into(),
            "*".into(),
            kind.field().into(),
            id.into(),
        ];
        if let Some(p) = progress {
            args.push("progress".into());
            args.push(p.into());
        }
        let _: Value = self.client.custom(cmd("XADD", false), args).await?;
        Ok(())
    }

    pub async fn depth(&self) -> Result<Depth, QueueError> {
        let groups: Value = match self
            .client
            .custom(
                cmd("XINFO", false),
                vec![Value::from("GROUPS"), self.checks.as_str().into()],
            )
            .await
        {
            Ok(v) => v,
            Err(e) if e.to_string().contains("no such key") => return Ok(Depth::default()),
            Err(e) => return Err(e.into()),
        };
        let mut depth = Depth::default();
        for g in array(groups) {
            let fields = pairs(g);
            if fields.get("name").and_then(|v| v.as_string()).as_deref() != Some(self.group) {
                continue;
            }
            depth.pending = fields.get("pending").and_then(|v| v.as_i64()).unwrap_or(0) as u64;
            // `lag` (Redis 7): entries not yet delivered to the group.
            depth.waiting = fields.get("lag").and_then(|v| v.as_i64()).unwrap_or(0).max(0) as u64;
        }
        Ok(depth)
    }

    /// Deletes both streams (a benchmark's own prefix, when it is done).
    pub async fn destroy(&self) -> Result<(), QueueError> {
        let _: Value = self
            .client
            .custom(
                cmd("DEL", false),
                vec![Value::from(self.checks.as_str()), self.results.as_str().into()],
            )
            .await?;
        Ok(())
    }

    pub async fn quit(&self) {
        let _ = self.client.quit().await;
    }
}

fn array(v: Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a,
        Value::Null => Vec::new(),
        Value::Map(m) => m.inner().into_iter().flat_map(|(k, v)| [Value::from(k), v]).collect(),
        other => vec![other],
    }
}

fn pairs(v: Value) -> std::collections::HashMap<String, Value> {
    let mut out = std::collections::HashMap::new();
    let mut it = array(v).into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        if let Some(k) = k.as_string() {
            out.insert(k, v);
        }
    }
    out
}

/// `[id, [field, value, …]]` → the job (delivered once, as far as it says).
fn parse_entry(entry: Value) -> Option<Job> {
    let mut parts = array(entry).into_iter();
    let id = parts.next()?.as_string()?;
    let fields = pairs(parts.next()?);
    let progress = fields.get("progress").and_then(|v| v.as_string()).and_then(|p| {
        let (done, total) = p.split_once('/')?;
        Some((done.parse().ok()?, total.parse().ok()?))
    });
    for kind in [JobKind::Check, JobKind::Submission] {
        if let Some(v) = fields.get(kind.field()) {
            return Some(Job {
                entry_id: id,
                kind,
                check_id: v.as_string()?.parse().ok()?,
                progress,
                deliveries: 1,
            });
        }
    }
    None
}
