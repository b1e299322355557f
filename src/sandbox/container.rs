//! One sandbox container: created, attached and started ahead of use, then used exactly once.
//!
//! A [`Prepared`] container is already running its launcher, blocked on reading the header
//! from stdin, with the attach connection open. Running a program is then only: write the
//! payload, read the output, inspect the exit state. Creation stays out of the student's latency.

use super::launcher::Step;
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
/// wait until every removal is done.
#[derive(Clone)]
pub struct Remover {
    docker: Docker,
    tracker: TaskTracker,
    pub activity: std::sync::Arc<Activity>,
}

impl Remover {
    pub fn new(docker: Docker) -> Self {
        Remover {
            docker,
            tracker: TaskTracker::new(),
            activity: std::sync::Arc::new(Activity::default()),
        }
    }

    pub fn remove(&self, id: String) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(container = %id, "no runtime to remove the container; the reaper will");
            return;
        };
        let docker = self.docker.clone();
        let activity = self.activity.clone();
        self.tracker.spawn_on(
            async move {
                // The launcher has written its trailer and is exiting: give it a moment, so the
                // removal finds a stopped container (forcing a running one costs Docker a kill).
                tokio::time::sleep(EXIT_GRACE).await;
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
    /// The step is over when both streams carried the launcher's trailer (see `launcher`):
    /// from then on nothing waits for Docker, except to learn whether a killed program was
    /// killed for memory.
    pub async fn execute(mut self, nonce: &str, payload: Vec<u8>, caps: Caps) -> Result<StepOutcome, SandboxError> {
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

        let mut stdout = Captured::new(caps.stdout);
        let mut stderr = Captured::new(caps.stderr);
        let mut out = StepOutcome::default();
        let mut deadline = tokio::time::Instant::now() + caps.timeout;
        let mut killed = false;
        let mut ended_at = None;
        let mut stream_closed = false;
        while stdout.status.is_none() || stderr.status.is_none() {
            tokio::select! {
                item = output.next() => match item {
                    Some(Ok(LogOutput::StdOut { message })) => stdout.push(&message, nonce),
                    Some(Ok(LogOutput::StdErr { message })) => stderr.push(&message, nonce),
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

        let reported = stdout.status.zip(stderr.status).map(|(a, _)| a);
        out.exit_code = reported;
        // SIGKILL from inside the container means the kernel's OOM killer: ask Docker, once the
        // container has stopped. Any other reported status is final.
        let must_inspect = !matches!(reported, Some(s) if s != 137) || killed;
        if must_inspect {
            if !stream_closed {
                let _ = tokio::time::timeout(Duration::from_secs(5), async { while output.next().await.is_some() {} })
                    .await;
            }
            let state = self
                .docker
                .inspect_container(&self.id, None)
                .await?
                .state
                .unwrap_or_default();
            if reported.is_none() {
                out.exit_code = if state.running == Some(true) {
                    None
                } else {
                    state.exit_code
                };
            }
            out.oom_killed = state.oom_killed.unwrap_or(false);
        }
        out.truncated = stdout.truncated() || stderr.truncated();
        out.stdout = stdout.into_kept();
        out.stderr = stderr.into_kept();
        tracing::debug!(container = %id, ms = out.duration.as_millis() as u64, inspected = must_inspect, "step finished");
        Ok(out)
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
        self.remover.remove(std::mem::take(&mut self.id));
    }
}

/// Longest trailer the launcher writes (marker, nonce, status, newline), with room to spare.
const TRAILER_MAX: usize = 64;

/// One output stream: the bytes kept (up to the cap), how many were seen, and the last few
/// bytes, where the launcher's trailer shows up.
struct Captured {
    kept: Vec<u8>,
    cap: usize,
    seen: usize,
    tail: Vec<u8>,
    status: Option<i64>,
    /// Bytes the program itself printed (known once the trailer is in).
    program_bytes: Option<usize>,
}

impl Captured {
    fn new(cap: usize) -> Self {
        Captured {
            kept: Vec::new(),
            cap,
            seen: 0,
            tail: Vec::new(),
            status: None,
            program_bytes: None,
        }
    }

    fn push(&mut self, data: &[u8], nonce: &str) {
        if self.status.is_some() {
            return; // a leftover background process printing after the end: not the program's
        }
        self.seen += data.len();
        let room = self.cap.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&data[..data.len().min(room)]);
        self.tail.extend_from_slice(data);
        if self.tail.len() > 4 * TRAILER_MAX {
            self.tail.drain(..self.tail.len() - 2 * TRAILER_MAX);
        }
        if let Some((status, len)) = super::launcher::parse_trailer(&self.tail, nonce) {
            let program = self.seen - len;
            self.kept.truncate(program.min(self.kept.len()));
            self.program_bytes = Some(program);
            self.status = Some(status);
        }
    }

    /// More than the cap plus any trailer: the program is printing past the limit.
    fn overflowed(&self) -> bool {
        self.status.is_none() && self.seen > self.cap + TRAILER_MAX
    }

    fn truncated(&self) -> bool {
        self.program_bytes.unwrap_or(self.seen) > self.cap
    }

    fn into_kept(self) -> Vec<u8> {
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use super::Captured;
    use crate::sandbox::launcher::trailer;

    #[test]
    fn capping_keeps_exactly_the_limit_and_strips_the_trailer() {
        let mut c = Captured::new(8);
        c.push(b"hello", "n");
        c.push(b"world", "n");
        assert!(!c.overflowed());
        c.push(&trailer("n", 0), "n");
        assert_eq!(c.status, Some(0));
        assert!(c.truncated());
        assert_eq!(c.into_kept(), b"hellowor");

        let mut c = Captured::new(100);
        c.push(b"short", "n");
        let t = trailer("n", 42);
        c.push(&t[..3], "n");
        assert_eq!(c.status, None);
        c.push(&t[3..], "n");
        assert_eq!(c.status, Some(42));
        assert!(!c.truncated());
        assert_eq!(c.into_kept(), b"short");
    }

    #[test]
    fn a_forged_trailer_with_another_nonce_is_output() {
        let mut c = Captured::new(100);
        c.push(&trailer("guess", 0), "real");
        assert_eq!(c.status, None);
        assert_eq!(c.kept.len(), trailer("guess", 0).len());
    }
}
