//! One sandbox container: created, attached and started ahead of use, then used exactly once.
//!
//! A [`Prepared`] container is already running its launcher, blocked on reading the header
//! from stdin, with the attach connection open. Running a program is then only: write the
//! payload, read the output, inspect the exit state. Creation stays out of the student's latency.

use super::launcher::{parse_trailer, Ending, RunKey, Step, Stream as Channel, TRAILER_MAX};
use super::verdict::StepOutcome;
use super::SandboxError;
use bollard::container::LogOutput;
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, KillContainerOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::task::TaskTracker;

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// Counts programs running right now, so housekeeping (removing used containers, creating
/// warm ones) can step aside while a student waits: on a small machine, Docker's bookkeeping
/// competes with the program for the same cores.
#[derive(Default)]
pub struct Activity {
    busy: std::sync::atomic::AtomicUsize,
    quiet: tokio::sync::Notify,
}

/// Held while a program runs.
pub struct Busy<'a>(&'a Activity);

impl Activity {
    pub fn enter(&self) -> Busy<'_> {
        self.busy.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Busy(self)
    }

    /// Waits until no program runs, or `max` passes (so housekeeping is never starved).
    pub async fn quiet(&self, max: Duration) {
        let until = tokio::time::Instant::now() + max;
        while self.busy.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            if tokio::time::timeout_at(until, self.quiet.notified()).await.is_err() {
                return;
            }
        }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            self.0.quiet.notify_waiters();
        }
    }
}

/// How long a used container is left to exit by itself before it is removed.
const EXIT_GRACE: Duration = Duration::from_millis(300);

/// How long housekeeping waits for a quiet moment before it goes ahead anyway.
pub const HOUSEKEEPING_PATIENCE: Duration = Duration::from_secs(2);

/// Removes used containers in the background, off the student's latency, and lets shutdown
/// wait until every removal is done. Before removing a container whose outcome dm-init
/// reported, it compares that outcome with Docker's record of dm-init's exit code (see
/// [`Prepared::execute`]) and counts any disagreement.
#[derive(Clone)]
pub struct Remover {
    docker: Docker,
    tracker: TaskTracker,
    pub activity: std::sync::Arc<Activity>,
    mismatches: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Remover {
    pub fn new(docker: Docker) -> Self {
        Remover {
            docker,
            tracker: TaskTracker::new(),
            activity: std::sync::Arc::new(Activity::default()),
            mismatches: Default::default(),
        }
    }

    /// Runs whose reported outcome Docker's record contradicted (0 unless something is very
    /// wrong: every one is logged as an error).
    pub fn outcome_mismatches(&self) -> u64 {
        self.mismatches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Removes container `id`; `expected` is the exit code Docker must have recorded for it.
    pub fn remove(&self, id: String, expected: Option<i64>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(container = %id, "no runtime to remove the container; the reaper will");
            return;
        };
        let docker = self.docker.clone();
        let activity = self.activity.clone();
        let mismatches = self.mismatches.clone();
        self.tracker.spawn_on(
            async move {
                // dm-init has written its trailers and is exiting: give it a moment, so the
                // removal finds a stopped container (forcing a running one costs Docker a kill).
                tokio::time::sleep(EXIT_GRACE).await;
                if let Some(expected) = expected {
                    match stopped_state(&docker, &id).await {
                        Ok(state) if state.running != Some(true) && state.exit_code == Some(expected) => {}
                        Ok(state) => {
                            mismatches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            tracing::error!(
                                container = %id,
                                expected,
                                recorded = ?state.exit_code,
                                running = ?state.running,
                                "SECURITY: a run's reported outcome disagrees with Docker's record of it"
                            );
                        }
                        Err(e) => {
                            tracing::warn!(container = %id, error = %e, "could not read Docker's record of a run")
                        }
                    }
                }
                // Removing it can then wait for a moment when no student's program is running.
                activity.quiet(HOUSEKEEPING_PATIENCE).await;
                let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
                if let Err(e) = docker.remove_container(&id, Some(opts)).await {
                    if !is_not_found(&e) {
                        tracing::warn!(container = %id, error = %e, "could not remove a sandbox container");
                    }
                }
            },
            &handle,
        );
    }

    /// Waits for every removal started so far.
    pub async fn wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
        self.tracker.reopen();
    }
}

pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError { status_code: 404, .. }
    )
}

/// Caps for what one step may print.
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub stdout: usize,
    pub stderr: usize,
    pub timeout: Duration,
}

pub struct Prepared {
    pub id: String,
    pub language: String,
    pub step: Step,
    pub created: Instant,
    docker: Docker,
    remover: Remover,
    output: Option<Output>,
    input: Option<Input>,
    /// The exit code Docker must record, once dm-init has reported the outcome.
    expected_exit: Option<i64>,
}

impl Prepared {
    /// Creates, attaches and starts a container; it then waits for its payload.
    pub async fn create(
        docker: &Docker,
        remover: &Remover,
        body: ContainerCreateBody,
        language: &str,
        step: Step,
    ) -> Result<Prepared, SandboxError> {
        let image = body.image.clone().unwrap_or_default();
        let created = docker.create_container(None, body).await.map_err(|e| match e {
            bollard::errors::Error::DockerResponseServerError { status_code: 404, .. } => SandboxError::ImageMissing {
                image: image.clone(),
                language: language.to_string(),
            },
            e => SandboxError::Docker(e),
        })?;
        // From here on, dropping `prepared` removes the container, also on the error paths below.
        let mut prepared = Prepared {
            id: created.id,
            language: language.to_string(),
            step,
            created: Instant::now(),
            docker: docker.clone(),
            remover: remover.clone(),
            output: None,
            input: None,
            expected_exit: None,
        };
        let opts = AttachContainerOptionsBuilder::default()
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .stream(true)
            .logs(false)
            .build();
        let attached = docker.attach_container(&prepared.id, Some(opts)).await?;
        prepared.output = Some(attached.output);
        prepared.input = Some(attached.input);
        docker.start_container(&prepared.id, None).await?;
        Ok(prepared)
    }

    /// Sends the payload and collects the outcome. The container is removed afterwards.
    ///
    /// The step is over when both streams carried dm-init's authenticated trailer (see
    /// `launcher`); the outcome is cross-checked against Docker's record of dm-init's exit code
    /// (at once for a SIGKILL, else when the container is removed). Without a valid pair of
    /// trailers (a kill, a crash) Docker's record is all there is, and it never counts as
    /// success on its own.
    pub async fn execute(self, key: &RunKey, payload: Vec<u8>, caps: Caps) -> Result<StepOutcome, SandboxError> {
        self.execute_until(key, payload, caps, None).await
    }

    /// [`Prepared::execute`], and `stop` (when given) kills the program at once when it is
    /// cancelled: the student pressed ⏹. The outcome then says `stopped`.
    pub async fn execute_until(
        mut self,
        key: &RunKey,
        payload: Vec<u8>,
        caps: Caps,
        stop: Option<&tokio_util::sync::CancellationToken>,
    ) -> Result<StepOutcome, SandboxError> {
        let never = tokio_util::sync::CancellationToken::new();
        let stop = stop.unwrap_or(&never);
        let (Some(mut output), Some(mut input)) = (self.output.take(), self.input.take()) else {
            return Err(SandboxError::Internal("container used twice".into()));
        };
        // Owned copies: nothing borrowed from `self` lives across an await (the attach halves
        // are not `Sync`).
        let docker = self.docker.clone();
        let id = self.id.clone();
        let activity = self.remover.activity.clone();
        let busy = activity.enter();
        let started = Instant::now();
        // Written from its own task: a program that prints before reading its whole stdin must
        // not deadlock against us.
        let writer = tokio::spawn(async move {
            // A program that exits without reading its stdin closes the pipe: not an error.
            let _ = input.write_all(&payload).await;
            let _ = input.shutdown().await;
        });

        let mut stdout = Captured::new(caps.stdout, Channel::Stdout);
        let mut stderr = Captured::new(caps.stderr, Channel::Stderr);
        let mut out = StepOutcome::default();
        let mut deadline = tokio::time::Instant::now() + caps.timeout;
        let mut killed = false;
        let mut ended_at = None;
        let mut stream_closed = false;
        while stdout.ending.is_none() || stderr.ending.is_none() {
            tokio::select! {
                item = output.next() => match item {
                    Some(Ok(LogOutput::StdOut { message })) => stdout.push(&message, key),
                    Some(Ok(LogOutput::StdErr { message })) => stderr.push(&message, key),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(container = %id, error = %e, "attach stream failed");
                        stream_closed = true;
                        break;
                    }
                    None => {
                        stream_closed = true;
                        break;
                    }
                },
                _ = tokio::time::sleep_until(deadline) => {
                    if killed {
                        // Killed and still not closed: give up on the stream, inspect anyway.
                        break;
                    }
                    out.timed_out = true;
                    ended_at = Some(started.elapsed());
                    spawn_kill(&docker, &id);
                    killed = true;
                    deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                }
                _ = stop.cancelled(), if !killed => {
                    out.stopped = true;
                    ended_at = Some(started.elapsed());
                    spawn_kill(&docker, &id);
                    killed = true;
                    deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                }
            }
            if (stdout.overflowed() || stderr.overflowed()) && !killed {
                // Past the cap: stop the program now instead of carrying megabytes we drop.
                out.output_limit_hit = true;
                ended_at = Some(started.elapsed());
                spawn_kill(&docker, &id);
                killed = true;
                deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            }
        }
        out.duration = ended_at.unwrap_or_else(|| started.elapsed());
        writer.abort();
        drop(busy);

        // Both trailers verified and telling the same story, or nothing to go on.
        let reported = match (stdout.ending, stderr.ending) {
            (Some(a), Some(b)) if a == b => Some(a),
            (Some(a), Some(b)) => {
                tracing::error!(container = %id, stdout = ?a, stderr = ?b, "the two trailers disagree");
                None
            }
            _ => None,
        };
        match reported {
            Some(Ending::InitFailed(n)) => {
                return Err(SandboxError::Internal(format!(
                    "the sandbox could not start the program (dm-init step {n}): {}",
                    String::from_utf8_lossy(&stderr.kept).trim()
                )))
            }
            // The authenticated outcome is the result, at once: waiting here for Docker's
            // record would put Docker's teardown (tens of ms) back into every student's wait.
            // The record is compared when the container is removed (`Remover`), and any
            // disagreement is logged and counted. Only a SIGKILL needs Docker now: the kernel's
            // OOM killer sends it, and Docker knows whether it did.
            Some(ending) if !killed && ending != Ending::Signaled(9) => {
                let (code, signal) = match ending {
                    Ending::Signaled(n) => (128 + n, Some(n)),
                    Ending::Exited(n) | Ending::InitFailed(n) => (n, None),
                };
                out.exit_code = Some(code);
                out.signal = signal;
                self.expected_exit = Some(ending.container_exit_code());
            }
            _ => {
                // A kill (ours, or the OOM killer's), or no trustworthy trailer at all (dm-init
                // died): Docker's record, read once the container has stopped.
                if !stream_closed {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(5), async { while output.next().await.is_some() {} })
                            .await;
                }
                let state = stopped_state(&self.docker, &self.id).await?;
                out.oom_killed = state.oom_killed.unwrap_or(false);
                let recorded = if state.running == Some(true) {
                    None
                } else {
                    state.exit_code
                };
                match reported {
                    Some(ending) if !killed && recorded == Some(ending.container_exit_code()) => {
                        out.exit_code = Some(128 + 9);
                        out.signal = Some(9);
                    }
                    Some(ending) if !killed => {
                        tracing::error!(container = %id, ?ending, ?recorded, "SECURITY: the trailer and Docker's exit code disagree");
                        return Err(SandboxError::Internal(
                            "the run's outcome could not be verified (the sandbox's report and Docker's record disagree)".into(),
                        ));
                    }
                    _ => {
                        // Never a success on Docker's word alone: a run that ended well always
                        // has its trailers.
                        out.exit_code = recorded.filter(|c| *c != 0);
                        out.signal = out.exit_code.filter(|c| (129..=128 + 64).contains(c)).map(|c| c - 128);
                        if !killed && !out.oom_killed {
                            tracing::warn!(container = %id, ?recorded, "a run ended without a valid trailer");
                        }
                    }
                }
            }
        }
        out.truncated = stdout.truncated() || stderr.truncated();
        out.stdout = stdout.into_kept();
        out.stderr = stderr.into_kept();
        tracing::debug!(container = %id, ms = out.duration.as_millis() as u64, "step finished");
        Ok(out)
    }
}

/// The container's state once it has stopped: dm-init has exited, but Docker may take a moment
/// to record it.
async fn stopped_state(docker: &Docker, id: &str) -> Result<bollard::models::ContainerState, SandboxError> {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let state = docker.inspect_container(id, None).await?.state.unwrap_or_default();
        if state.running != Some(true) || Instant::now() >= until {
            return Ok(state);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Kills from another task: Docker answers a kill only once the container has stopped, and it
/// cannot stop while its output waits for us to read it. So we keep reading meanwhile.
fn spawn_kill(docker: &Docker, id: &str) {
    let (docker, id) = (docker.clone(), id.to_string());
    tokio::spawn(async move { kill(&docker, &id).await });
}

/// SIGKILLs a container; one that already stopped by itself is what we wanted anyway.
async fn kill(docker: &Docker, id: &str) {
    let opts = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
    if let Err(e) = docker.kill_container(id, Some(opts)).await {
        let stopped = matches!(
            e,
            bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }
        );
        if !stopped && !is_not_found(&e) {
            tracing::warn!(container = %id, error = %e, "could not kill a sandbox container");
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // Used or not, a container is never reused: it always goes.
        self.remover.remove(std::mem::take(&mut self.id), self.expected_exit);
    }
}

/// One output stream: the bytes kept (up to the cap), how many were seen, and the last few
/// bytes, where dm-init's trailer shows up.
struct Captured {
    kept: Vec<u8>,
    cap: usize,
    seen: u64,
    tail: Vec<u8>,
    stream: Channel,
    ending: Option<Ending>,
    /// Bytes the program itself printed (known once the trailer is in).
    program_bytes: Option<u64>,
}

impl Captured {
    fn new(cap: usize, stream: Channel) -> Self {
        Captured {
            kept: Vec::new(),
            cap,
            seen: 0,
            tail: Vec::new(),
            stream,
            ending: None,
            program_bytes: None,
        }
    }

    fn push(&mut self, data: &[u8], key: &RunKey) {
        if self.ending.is_some() {
            return; // dm-init writes nothing after its trailer
        }
        self.seen += data.len() as u64;
        let room = self.cap.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&data[..data.len().min(room)]);
        self.tail.extend_from_slice(data);
        if self.tail.len() > 4 * TRAILER_MAX {
            self.tail.drain(..self.tail.len() - 2 * TRAILER_MAX);
        }
        if let Some(t) = parse_trailer(&self.tail, self.seen, key, self.stream) {
            self.kept.truncate((t.program_bytes as usize).min(self.kept.len()));
            self.program_bytes = Some(t.program_bytes);
            self.ending = Some(t.ending);
        }
    }

    /// More than the cap plus any trailer: the program is printing past the limit.
    fn overflowed(&self) -> bool {
        self.ending.is_none() && self.seen > (self.cap + TRAILER_MAX) as u64
    }

    fn truncated(&self) -> bool {
        self.program_bytes.unwrap_or(self.seen) > self.cap as u64
    }

    fn into_kept(self) -> Vec<u8> {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::Captured;
    use crate::sandbox::launcher::{trailer, Ending, RunKey, Stream as Channel};

    #[test]
    fn capping_keeps_exactly_the_limit_and_strips_the_trailer() {
        let key = RunKey::new().unwrap();
        let mut c = Captured::new(8, Channel::Stdout);
        c.push(b"hello", &key);
        c.push(b"world", &key);
        assert!(!c.overflowed());
        c.push(&trailer(&key, Channel::Stdout, Ending::Exited(0), 10), &key);
        assert_eq!(c.ending, Some(Ending::Exited(0)));
        assert!(c.truncated());
        assert_eq!(c.into_kept(), b"hellowor");

        let mut c = Captured::new(100, Channel::Stderr);
        c.push(b"short", &key);
        let t = trailer(&key, Channel::Stderr, Ending::Exited(42), 5);
        c.push(&t[..3], &key);
        assert_eq!(c.ending, None);
        c.push(&t[3..], &key);
        assert_eq!(c.ending, Some(Ending::Exited(42)));
        assert!(!c.truncated());
        assert_eq!(c.into_kept(), b"short");
    }

    #[test]
    fn a_trailer_under_another_key_or_for_the_other_stream_is_output() {
        let key = RunKey::new().unwrap();
        let mut c = Captured::new(1000, Channel::Stdout);
        let guess = trailer(&RunKey::new().unwrap(), Channel::Stdout, Ending::Exited(0), 0);
        c.push(&guess, &key);
        let other = trailer(&key, Channel::Stderr, Ending::Exited(0), guess.len() as u64);
        c.push(&other, &key);
        assert_eq!(c.ending, None);
        assert_eq!(c.kept.len(), guess.len() + other.len());
    }
}
