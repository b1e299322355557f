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
use bollard::query_parameters::{AttachContainerOptionsBuilder, KillContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio_util::task::TaskTracker;

type Output = Pin<Box<dyn Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>>;
type Input = Pin<Box<dyn AsyncWrite + Send>>;

/// Removes used containers in the background, off the student's latency, and lets shutdown
/// wait until every removal is done.
#[derive(Clone)]
pub struct Remover {
    docker: Docker,
    tracker: TaskTracker,
}

impl Remover {
    pub fn new(docker: Docker) -> Self {
        Remover { docker, tracker: TaskTracker::new() }
    }

    pub fn remove(&self, id: String) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(container = %id, "no runtime to remove the container; the reaper will");
            return;
        };
        let docker = self.docker.clone();
        self.tracker.spawn_on(
            async move {
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
    matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 404, .. })
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
    pub async fn execute(mut self, payload: Vec<u8>, caps: Caps) -> Result<StepOutcome, SandboxError> {
        let (Some(mut output), Some(mut input)) = (self.output.take(), self.input.take()) else {
            return Err(SandboxError::Internal("container used twice".into()));
        };
        let started = Instant::now();
        // Written from its own task: a program that prints before reading its whole stdin must
        // not deadlock against us.
        let writer = tokio::spawn(async move {
            // A program that exits without reading its stdin closes the pipe: not an error.
            let _ = input.write_all(&payload).await;
            let _ = input.shutdown().await;
        });

        let mut out = StepOutcome::default();
        let mut deadline = tokio::time::Instant::now() + caps.timeout;
        let mut killed = false;
        let mut ended_at = None;
        loop {
            tokio::select! {
                item = output.next() => match item {
                    Some(Ok(LogOutput::StdOut { message })) => {
                        out.truncated |= push_capped(&mut out.stdout, &message, caps.stdout);
                    }
                    Some(Ok(LogOutput::StdErr { message })) => {
                        out.truncated |= push_capped(&mut out.stderr, &message, caps.stderr);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(container = %self.id, error = %e, "attach stream failed");
                        break;
                    }
                    None => break,
                },
                _ = tokio::time::sleep_until(deadline) => {
                    if killed {
                        // Killed and still not closed: give up on the stream, inspect anyway.
                        break;
                    }
                    out.timed_out = true;
                    ended_at = Some(started.elapsed());
                    self.kill().await;
                    killed = true;
                    deadline = tokio::time::Instant::now() + Duration::from_secs(5);
                }
            }
            if out.truncated && !killed {
                // Past the cap: stop the program now instead of carrying megabytes we drop.
                out.output_limit_hit = true;
                ended_at = Some(started.elapsed());
                self.kill().await;
                killed = true;
                deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            }
        }
        out.duration = ended_at.unwrap_or_else(|| started.elapsed());
        writer.abort();

        let state = self.docker.inspect_container(&self.id, None).await?.state.unwrap_or_default();
        if state.running == Some(true) {
            // The stream broke while the program still runs: stop it before judging.
            self.kill().await;
            out.exit_code = None;
        } else {
            out.exit_code = state.exit_code;
        }
        out.oom_killed = state.oom_killed.unwrap_or(false);
        Ok(out)
    }

    async fn kill(&self) {
        let opts = KillContainerOptionsBuilder::default().signal("SIGKILL").build();
        if let Err(e) = self.docker.kill_container(&self.id, Some(opts)).await {
            // 409: it already stopped by itself, which is what we wanted.
            if !matches!(e, bollard::errors::Error::DockerResponseServerError { status_code: 409, .. }) && !is_not_found(&e) {
                tracing::warn!(container = %self.id, error = %e, "could not kill a sandbox container");
            }
        }
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        // Used or not, a container is never reused: it always goes.
        self.remover.remove(std::mem::take(&mut self.id));
    }
}

/// Appends up to `cap` bytes in total; true when something was cut.
fn push_capped(buf: &mut Vec<u8>, data: &[u8], cap: usize) -> bool {
    let room = cap.saturating_sub(buf.len());
    if data.len() <= room {
        buf.extend_from_slice(data);
        false
    } else {
        buf.extend_from_slice(&data[..room]);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::push_capped;

    #[test]
    fn capping_keeps_exactly_the_limit() {
        let mut b = Vec::new();
        assert!(!push_capped(&mut b, b"hello", 8));
        assert!(push_capped(&mut b, b"world", 8));
        assert_eq!(b, b"hellowor");
        assert!(push_capped(&mut b, b"x", 8));
        assert_eq!(b.len(), 8);
    }
}
