//! The sandbox: runs a student's program in a fresh, locked-down Docker container.
//!
//! `language` reads the packs, `spec` holds every isolation rule, `launcher` is how code gets
//! into a read-only container, `container` runs one step, `pool` keeps containers warm and
//! `reaper` removes orphans. [`Sandbox::run`] ties them together: compile (compiled languages,
//! own limits, own container), then run.

pub mod container;
pub mod language;
pub mod launcher;
pub mod pool;
pub mod reaper;
pub mod seccomp;
pub mod spec;
pub mod verdict;

pub use language::{LanguagePack, Languages, Limits, LimitsOverride};
pub use verdict::{StepOutcome, Verdict};

use crate::config::SandboxConfig;
use bollard::Docker;
use container::{Caps, Prepared, Remover};
use launcher::{payload, PayloadKind, RunKey, Step};
use pool::{PoolStats, WarmPool};
use spec::{container_body, limits_for, SpecSettings};
use std::sync::Arc;
use std::time::Duration;

/// Largest compiled artifact carried from the compile container to the run container.
const MAX_ARTIFACT_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the Docker engine is not reachable at {endpoint}: {reason}\n\
         Start it (as root: `dockerd &`, or `systemctl start docker`), or set DOCKER_HOST."
    )]
    DockerUnavailable { endpoint: String, reason: String },
    #[error("the sandbox image {image} for {language} is missing: build it with `make images`")]
    ImageMissing { image: String, language: String },
    #[error(
        "the sandbox image {image} for {language} was built for an older sandbox (no dm-init {protocol}): rebuild it with `make images` (it rebuilds outdated images) or, in production, `make images-prod`",
        protocol = launcher::INIT_PROTOCOL
    )]
    ImageOutdated { image: String, language: String },
    #[error("Docker error: {0}")]
    Docker(#[from] bollard::errors::Error),
    #[error("sandbox failure: {0}")]
    Internal(String),
    #[error(transparent)]
    Languages(#[from] language::LanguageError),
}

/// What a check's steps produced.
#[derive(Debug, Clone)]
pub struct SandboxRun {
    pub verdict: Verdict,
    /// The compile step, for compiled languages.
    pub compile: Option<StepOutcome>,
    /// The run step; absent when compilation failed.
    pub run: Option<StepOutcome>,
}

/// A program ready to run: the source of an interpreted language, or a compiled artifact.
#[derive(Debug, Clone)]
pub struct Program {
    file_name: String,
    bytes: Vec<u8>,
    kind: PayloadKind,
}

/// The outcome of [`Sandbox::build`].
#[derive(Debug, Clone)]
pub enum Build {
    Ready {
        program: Program,
        /// The compiler's step (warnings), for compiled languages.
        compile: Option<StepOutcome>,
    },
    Failed(SandboxRun),
}

/// A step the student stopped before it began (⏹ pressed while compiling, or while queued).
fn stopped_before_start() -> StepOutcome {
    StepOutcome {
        stopped: true,
        ..Default::default()
    }
}

/// A compile step that stopped the check: timeout, memory, or a compiler that failed (or
/// printed, or produced, more than we carry).
fn compile_verdict(compiled: &StepOutcome) -> Option<Verdict> {
    if compiled.stopped {
        Some(Verdict::Stopped)
    } else if compiled.timed_out {
        Some(Verdict::Timeout)
    } else if compiled.oom_killed {
        Some(Verdict::MemoryLimit)
    } else if compiled.exit_code != Some(0) || compiled.output_limit_hit {
        Some(Verdict::CompileError)
    } else {
        None
    }
}

pub struct Sandbox {
    docker: Docker,
    languages: Arc<Languages>,
    settings: SpecSettings,
    remover: Remover,
    pool: Option<WarmPool>,
    /// Images already found present and of the current dm-init protocol (checked once each).
    verified: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Sandbox {
    /// Connects to Docker and loads the language packs. No pool yet: see [`Sandbox::start_pool`].
    pub async fn connect(config: &SandboxConfig) -> Result<Sandbox, SandboxError> {
        let languages = Languages::from_config(config)?;
        let docker = connect_docker(&config.docker_host).await?;
        let settings = SpecSettings {
            user: config.user.clone(),
            runtime: config.runtime.clone(),
            max_idle: Duration::from_secs(config.warm_max_age_seconds.max(1)),
            owner: new_owner_id(),
        };
        Ok(Sandbox {
            remover: Remover::new(docker.clone()),
            docker,
            languages: Arc::new(languages),
            settings,
            pool: None,
            verified: Default::default(),
        })
    }

    pub fn languages(&self) -> &Languages {
        &self.languages
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    /// Starts the warm pool, sized per language (0 leaves a language cold).
    pub fn start_pool(&mut self, sizes: &std::collections::HashMap<String, usize>) {
        if sizes.values().all(|n| *n == 0) {
            return;
        }
        self.pool = Some(WarmPool::start(
            self.docker.clone(),
            self.remover.clone(),
            self.languages.clone(),
            self.settings.clone(),
            sizes,
        ));
    }

    /// Runs whose reported outcome Docker's record later contradicted (each is logged as an
    /// error; anything but 0 means the sandbox's reporting channel was subverted).
    pub fn outcome_mismatches(&self) -> u64 {
        self.remover.outcome_mismatches()
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.as_ref().map(WarmPool::stats).unwrap_or_default()
    }

    /// Waits until the warm pool is full (or `timeout`); true when it is.
    pub async fn wait_pool_full(&self, timeout: Duration) -> bool {
        match &self.pool {
            Some(p) => p.wait_full(timeout).await,
            None => true,
        }
    }

    /// Checks that the language's image exists and carries the current dm-init, with a clear
    /// message when it does not.
    pub async fn ensure_image(&self, pack: &LanguagePack) -> Result<(), SandboxError> {
        check_image(&self.docker, pack).await
    }

    /// [`Sandbox::ensure_image`], remembered: a missing or outdated image is a clear error
    /// before any container is made, and a good one costs one inspection per process.
    async fn ensure_image_once(&self, pack: &LanguagePack) -> Result<(), SandboxError> {
        let known = |v: &std::sync::Mutex<std::collections::HashSet<String>>| {
            v.lock().map(|set| set.contains(&pack.image)).unwrap_or(false)
        };
        if known(&self.verified) {
            return Ok(());
        }
        self.ensure_image(pack).await?;
        if let Ok(mut set) = self.verified.lock() {
            set.insert(pack.image.clone());
        }
        Ok(())
    }

    /// This instance's owner label value.
    pub fn owner(&self) -> &str {
        &self.settings.owner
    }

    /// Ids of the containers this instance made that still exist (used, waiting or orphaned).
    pub async fn own_containers(&self) -> Result<Vec<String>, SandboxError> {
        let filter = format!("{}={}", spec::LABEL_OWNER, self.settings.owner);
        let filters = std::collections::HashMap::from([("label".to_string(), vec![filter])]);
        let opts = bollard::query_parameters::ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        Ok(self
            .docker
            .list_containers(Some(opts))
            .await?
            .into_iter()
            .filter_map(|c| c.id)
            .collect())
    }

    /// Removes orphaned sandbox containers (expired ones, from any process).
    pub async fn reap_orphans(&self) -> Result<usize, SandboxError> {
        reaper::reap_orphans(&self.docker).await
    }

    /// Runs `code` with `stdin`: compile step first for compiled languages, then the run.
    pub async fn run(&self, pack: &LanguagePack, code: &str, stdin: &[u8]) -> Result<SandboxRun, SandboxError> {
        self.run_until(pack, code, stdin, None).await
    }

    /// [`Sandbox::run`] that ends early when `stop` is cancelled (the student pressed ⏹): the
    /// running step's container is killed at once and the verdict is `stopped`.
    pub async fn run_until(
        &self,
        pack: &LanguagePack,
        code: &str,
        stdin: &[u8],
        stop: Option<&tokio_util::sync::CancellationToken>,
    ) -> Result<SandboxRun, SandboxError> {
        self.ensure_image_once(pack).await?;
        let file_name = pack.file_name_for(code);
        if !pack.is_compiled() {
            let outcome = self
                .execute(
                    pack,
                    Step::Run,
                    PayloadKind::File,
                    &file_name,
                    code.as_bytes(),
                    stdin,
                    None,
                    stop,
                )
                .await?;
            return Ok(SandboxRun {
                verdict: outcome.run_verdict(&pack.memory_error_patterns),
                compile: None,
                run: Some(outcome),
            });
        }

        // Get the run container ready while the compiler works, in case the pool is cold.
        let run_container = self.take(pack, Step::Run);
        let compile = self.execute(
            pack,
            Step::Compile,
            PayloadKind::File,
            &file_name,
            code.as_bytes(),
            b"",
            Some(MAX_ARTIFACT_BYTES),
            stop,
        );
        let (run_container, compiled) = tokio::join!(run_container, compile);
        let compiled = compiled?;
        if let Some(verdict) = compile_verdict(&compiled) {
            return Ok(SandboxRun {
                verdict,
                compile: Some(compiled),
                run: None,
            });
        }
        let mut compile = compiled;
        let artifact = std::mem::take(&mut compile.stdout);
        let outcome = match run_container {
            Ok(c) => self.execute_in(pack, c, &file_name, &artifact, stdin, stop).await?,
            Err(_) => {
                self.execute(
                    pack,
                    Step::Run,
                    PayloadKind::Tar,
                    &file_name,
                    &artifact,
                    stdin,
                    None,
                    stop,
                )
                .await?
            }
        };
        Ok(SandboxRun {
            verdict: outcome.run_verdict(&pack.memory_error_patterns),
            compile: Some(compile),
            run: Some(outcome),
        })
    }

    /// Builds a program once, to run it many times (a task's tests): compiled languages compile
    /// now; interpreted ones are ready as they are. A failed compilation is returned as the run
    /// it is (verdict and compiler output).
    pub async fn build(&self, pack: &LanguagePack, code: &str) -> Result<Build, SandboxError> {
        self.ensure_image_once(pack).await?;
        let file_name = pack.file_name_for(code);
        if !pack.is_compiled() {
            return Ok(Build::Ready {
                program: Program {
                    file_name,
                    bytes: code.as_bytes().to_vec(),
                    kind: PayloadKind::File,
                },
                compile: None,
            });
        }
        let mut compiled = self
            .execute(
                pack,
                Step::Compile,
                PayloadKind::File,
                &file_name,
                code.as_bytes(),
                b"",
                Some(MAX_ARTIFACT_BYTES),
                None,
            )
            .await?;
        if let Some(verdict) = compile_verdict(&compiled) {
            return Ok(Build::Failed(SandboxRun {
                verdict,
                compile: Some(compiled),
                run: None,
            }));
        }
        let artifact = std::mem::take(&mut compiled.stdout);
        Ok(Build::Ready {
            program: Program {
                file_name,
                bytes: artifact,
                kind: PayloadKind::Tar,
            },
            compile: Some(compiled),
        })
    }

    /// Runs a built program with `stdin` in a fresh container (the sandbox contract holds per run).
    pub async fn run_built(
        &self,
        pack: &LanguagePack,
        program: &Program,
        stdin: &[u8],
    ) -> Result<StepOutcome, SandboxError> {
        self.execute(
            pack,
            Step::Run,
            program.kind,
            &program.file_name,
            &program.bytes,
            stdin,
            None,
            None,
        )
        .await
    }

    /// A container for `pack`/`step`: warm from the pool when one waits, else created now.
    async fn take(&self, pack: &LanguagePack, step: Step) -> Result<Prepared, SandboxError> {
        // The pool's containers have the language's own limits; a task may set others.
        let pooled = self
            .languages
            .find(&pack.name)
            .is_some_and(|p| p.run_limits == pack.run_limits && p.compile_limits == pack.compile_limits);
        if let Some(p) = self
            .pool
            .as_ref()
            .filter(|_| pooled)
            .and_then(|pool| pool.try_take(&pack.name, step))
        {
            return Ok(p);
        }
        self.create(pack, step).await
    }

    async fn create(&self, pack: &LanguagePack, step: Step) -> Result<Prepared, SandboxError> {
        let body = container_body(pack, step, &self.settings);
        Prepared::create(&self.docker, &self.remover, body, &pack.name, step).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute(
        &self,
        pack: &LanguagePack,
        step: Step,
        kind: PayloadKind,
        file_name: &str,
        code: &[u8],
        stdin: &[u8],
        stdout_cap: Option<usize>,
        stop: Option<&tokio_util::sync::CancellationToken>,
    ) -> Result<StepOutcome, SandboxError> {
        if stop.is_some_and(|s| s.is_cancelled()) {
            return Ok(stopped_before_start());
        }
        let container = self.take(pack, step).await?;
        let caps = self.caps(pack, step, stdout_cap);
        let from_pool = self.pool.is_some();
        let key = run_key()?;
        match container
            .execute_until(&key, payload(&key, kind, file_name, code, stdin), caps, stop)
            .await
        {
            // A warm container may have died while it waited (Docker restarted, say): retry
            // once in a fresh one before calling it an internal error.
            Err(SandboxError::Docker(e)) if from_pool => {
                tracing::warn!(language = %pack.name, error = %e, "warm container failed; retrying in a fresh one");
                let key = run_key()?;
                self.create(pack, step)
                    .await?
                    .execute_until(&key, payload(&key, kind, file_name, code, stdin), caps, stop)
                    .await
            }
            other => other,
        }
    }

    /// Runs compiled artifacts in a container already taken for them (the run step).
    async fn execute_in(
        &self,
        pack: &LanguagePack,
        container: Prepared,
        file_name: &str,
        artifact: &[u8],
        stdin: &[u8],
        stop: Option<&tokio_util::sync::CancellationToken>,
    ) -> Result<StepOutcome, SandboxError> {
        let step = Step::Run;
        if stop.is_some_and(|s| s.is_cancelled()) {
            // Dropping the container removes it.
            drop(container);
            return Ok(stopped_before_start());
        }
        let caps = self.caps(pack, step, None);
        let key = run_key()?;
        match container
            .execute_until(
                &key,
                payload(&key, PayloadKind::Tar, file_name, artifact, stdin),
                caps,
                stop,
            )
            .await
        {
            Err(SandboxError::Docker(e)) => {
                tracing::warn!(language = %pack.name, error = %e, "container failed; retrying in a fresh one");
                let key = run_key()?;
                let p = payload(&key, PayloadKind::Tar, file_name, artifact, stdin);
                self.create(pack, step).await?.execute_until(&key, p, caps, stop).await
            }
            other => other,
        }
    }

    fn caps(&self, pack: &LanguagePack, step: Step, stdout_cap: Option<usize>) -> Caps {
        let limits = limits_for(pack, step);
        let cap = limits.output_kb * 1024;
        Caps {
            stdout: stdout_cap.unwrap_or(cap),
            stderr: cap,
            timeout: Duration::from_secs_f64(limits.timeout_s),
        }
    }

    /// Stops the pool and waits until every container this sandbox made is removed.
    /// Waits until every container this sandbox finished with is removed (they are removed in
    /// the background). A process that grades now and then (the admin panel's validation) calls
    /// it before answering, so stopping that process right after leaves nothing behind.
    pub async fn settle(&self) {
        self.remover.wait().await;
    }

    pub async fn shutdown(&self) {
        if let Some(pool) = &self.pool {
            pool.shutdown().await;
        }
        self.remover.wait().await;
    }
}

/// The image label naming the toolchain's version ("Python 3.13.5", "rustc 1.85.0"), set by both
/// image builders from the `# version:` command of the language's packages.txt.
pub const TOOLCHAIN_LABEL: &str = "devmentor.toolchain";

/// What an image says about itself (its labels).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// The toolchain's version ([`TOOLCHAIN_LABEL`]); `None` for an image built without it
    /// (a production Dockerfile built by hand instead of `make images-prod`).
    pub toolchain: Option<String>,
}

/// Checks that `pack`'s image exists and carries the dm-init protocol this sandbox speaks.
pub async fn check_image(docker: &Docker, pack: &LanguagePack) -> Result<(), SandboxError> {
    inspect_image(docker, pack).await.map(|_| ())
}

/// [`check_image`], and what the image's labels say (its toolchain's version).
pub async fn inspect_image(docker: &Docker, pack: &LanguagePack) -> Result<ImageInfo, SandboxError> {
    match docker.inspect_image(&pack.image).await {
        Ok(image) => {
            let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
            // An image from before dm-init (or of another protocol) would fail every run.
            if labels.get(launcher::INIT_LABEL).map(String::as_str) == Some(launcher::INIT_PROTOCOL) {
                Ok(ImageInfo {
                    toolchain: labels
                        .get(TOOLCHAIN_LABEL)
                        .map(|v| v.trim().to_string())
                        .filter(|v| !v.is_empty()),
                })
            } else {
                Err(SandboxError::ImageOutdated {
                    image: pack.image.clone(),
                    language: pack.name.clone(),
                })
            }
        }
        Err(e) if container::is_not_found(&e) => Err(SandboxError::ImageMissing {
            image: pack.image.clone(),
            language: pack.name.clone(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// A fresh key for one run's trailers.
fn run_key() -> Result<RunKey, SandboxError> {
    RunKey::new().map_err(|e| SandboxError::Internal(format!("no random key for the run: {e}")))
}

fn new_owner_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!(
        "{}-{}-{}",
        host.trim(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Longest a single Docker API request may take, whatever the transport.
const DOCKER_TIMEOUT_S: u64 = 120;

/// The client certificate folder of the Docker CLI: `DOCKER_CERT_PATH`, else `~/.docker`.
fn docker_cert_path() -> Option<std::path::PathBuf> {
    match std::env::var_os("DOCKER_CERT_PATH").filter(|v| !v.is_empty()) {
        Some(p) => Some(p.into()),
        None => std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".docker")),
    }
}

/// Connects to `host` (or `DOCKER_HOST`, or the local socket) and agrees on an API version,
/// so older engines (Debian's Docker 20.10 speaks API 1.41) work too.
pub async fn connect_docker(host: &str) -> Result<Docker, SandboxError> {
    let endpoint = if host.is_empty() {
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
    } else {
        host.to_string()
    };
    let unavailable = |reason: String| SandboxError::DockerUnavailable {
        endpoint: endpoint.clone(),
        reason,
    };
    let docker = if endpoint.starts_with("unix://") || endpoint.starts_with('/') {
        let path = endpoint.trim_start_matches("unix://");
        Docker::connect_with_unix(path, DOCKER_TIMEOUT_S, bollard::API_DEFAULT_VERSION)
    } else if let Some((scheme, addr)) = ["tcp://", "http://", "https://"]
        .iter()
        .find_map(|s| endpoint.strip_prefix(s).map(|r| (*s, r)))
    {
        // The Docker CLI's conventions: DOCKER_TLS_VERIFY (any non-empty value) turns on TLS with
        // a client certificate, read from DOCKER_CERT_PATH (default ~/.docker) as ca.pem,
        // cert.pem and key.pem; an https:// endpoint implies it.
        let tls = std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) || scheme == "https://";
        if tls {
            let dir = docker_cert_path().ok_or_else(|| unavailable("DOCKER_CERT_PATH is not set and there is no home folder".into()))?;
            for f in ["ca.pem", "cert.pem", "key.pem"] {
                if !dir.join(f).is_file() {
                    return Err(unavailable(format!(
                        "TLS is on (DOCKER_TLS_VERIFY) but {} is missing: put the CA, the client certificate and its key in DOCKER_CERT_PATH as ca.pem, cert.pem, key.pem",
                        dir.join(f).display()
                    )));
                }
            }
            Docker::connect_with_ssl(
                &format!("tcp://{addr}"),
                &dir.join("key.pem"),
                &dir.join("cert.pem"),
                &dir.join("ca.pem"),
                DOCKER_TIMEOUT_S,
                bollard::API_DEFAULT_VERSION,
            )
        } else {
            Docker::connect_with_http(&format!("tcp://{addr}"), DOCKER_TIMEOUT_S, bollard::API_DEFAULT_VERSION)
        }
    } else {
        return Err(unavailable(
            "unsupported DOCKER_HOST: use unix:///path/to/docker.sock, tcp://host:port (with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH for TLS) or https://host:port".into(),
        ));
    }
    .map_err(|e| unavailable(e.to_string()))?;
    let docker = tokio::time::timeout(Duration::from_secs(10), docker.negotiate_version())
        .await
        .map_err(|_| unavailable("no answer within 10 s".into()))?
        .map_err(|e| unavailable(e.to_string()))?;
    docker.ping().await.map_err(|e| unavailable(e.to_string()))?;
    Ok(docker)
}
