//! The container specification: every isolation rule of the sandbox contract in one place.
//!
//! Kept a pure function of (language, step, settings) so the security options can be read in
//! one sitting and checked by a unit test without Docker.

use super::language::{LanguagePack, Limits};
use super::launcher::{command, Step};
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, ResourcesUlimits};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Label carried by every sandbox container, so a reaper can find orphans.
pub const LABEL: &str = "devmentor.sandbox";
/// Unix time after which a container is an orphan that any reaper may remove.
pub const LABEL_EXPIRES: &str = "devmentor.expires";
pub const LABEL_LANGUAGE: &str = "devmentor.language";
pub const LABEL_STEP: &str = "devmentor.step";
/// The `Sandbox` instance that made the container, so it can account for its own.
pub const LABEL_OWNER: &str = "devmentor.owner";

/// Settings shared by every container, from the configuration.
#[derive(Debug, Clone)]
pub struct SpecSettings {
    pub user: String,
    /// `runc` is Docker's default and is left unset; anything else (`runsc`) is asked for.
    pub runtime: String,
    /// How long a created container may wait in the warm pool before it is recycled.
    pub max_idle: std::time::Duration,
    /// Unique per `Sandbox` instance: host name, process id and a counter.
    pub owner: String,
}

/// The environment of a sandbox: built here from nothing but the language pack, never copied
/// from the host, so no secret of the worker can reach a student's program.
pub fn environment(pack: &LanguagePack) -> Vec<String> {
    let mut env = vec![
        "HOME=/sandbox".to_string(),
        "TMPDIR=/tmp".to_string(),
        "LANG=C.UTF-8".to_string(),
        "LC_ALL=C.UTF-8".to_string(),
    ];
    env.extend(pack.env.iter().map(|(k, v)| format!("{k}={v}")));
    env
}

pub fn limits_for(pack: &LanguagePack, step: Step) -> Limits {
    match step {
        Step::Compile => pack.compile_limits,
        Step::Run => pack.run_limits,
    }
}

pub fn container_body(pack: &LanguagePack, step: Step, settings: &SpecSettings) -> ContainerCreateBody {
    let limits = limits_for(pack, step);
    let memory = (limits.memory_mb * 1024 * 1024) as i64;
    let scratch = format!("rw,exec,nosuid,nodev,size={}m,mode=1777", limits.scratch_mb);
    let tmpfs = HashMap::from([("/sandbox".to_string(), scratch.clone()), ("/tmp".to_string(), scratch)]);
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + settings.max_idle.as_secs()
        + limits.timeout_s.ceil() as u64
        + 120;
    let labels = HashMap::from([
        (LABEL.to_string(), "1".to_string()),
        (LABEL_EXPIRES.to_string(), expires.to_string()),
        (LABEL_LANGUAGE.to_string(), pack.name.clone()),
        (LABEL_STEP.to_string(), step.as_str().to_string()),
        (LABEL_OWNER.to_string(), settings.owner.clone()),
    ]);
    let file_size = (limits.scratch_mb * 1024 * 1024) as i64;
    let host_config = HostConfig {
        network_mode: Some("none".into()),
        memory: Some(memory),
        memory_swap: Some(memory),
        memory_swappiness: Some(0),
        nano_cpus: Some((limits.cpus * 1e9) as i64),
        pids_limit: Some(limits.pids),
        cap_drop: Some(vec!["ALL".into()]),
        // Compile and run steps alike: Docker's default profile narrowed further (seccomp.rs).
        security_opt: Some(vec!["no-new-privileges".into(), super::seccomp::security_opt()]),
        readonly_rootfs: Some(true),
        tmpfs: Some(tmpfs),
        privileged: Some(false),
        ipc_mode: Some("private".into()),
        // No host paths, no volumes: nothing of the host is mounted.
        binds: Some(vec![]),
        ulimits: Some(vec![
            ResourcesUlimits {
                name: Some("core".into()),
                soft: Some(0),
                hard: Some(0),
            },
            ResourcesUlimits {
                name: Some("nofile".into()),
                soft: Some(256),
                hard: Some(256),
            },
            ResourcesUlimits {
                name: Some("fsize".into()),
                soft: Some(file_size),
                hard: Some(file_size),
            },
        ]),
        // Output is streamed over the attach connection; a log driver would copy every byte a
        // runaway program prints onto the host's disk.
        log_config: Some(HostConfigLogConfig {
            typ: Some("none".into()),
            config: None,
        }),
        runtime: (settings.runtime != "runc" && !settings.runtime.is_empty()).then(|| settings.runtime.clone()),
        auto_remove: Some(false),
        oom_kill_disable: Some(false),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(pack.image.clone()),
        cmd: Some(command(pack, step)),
        entrypoint: Some(vec![]),
        user: Some(settings.user.clone()),
        working_dir: Some("/sandbox".into()),
        hostname: Some("sandbox".into()),
        env: Some(environment(pack)),
        labels: Some(labels),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        open_stdin: Some(true),
        stdin_once: Some(true),
        tty: Some(false),
        network_disabled: Some(true),
        stop_timeout: Some(1),
        host_config: Some(host_config),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::language::{default_limits, Languages};

    #[test]
    fn the_contract_is_in_the_spec() {
        let langs = Languages::builtin(default_limits(10, 65536));
        let settings = SpecSettings {
            user: "10001:10001".into(),
            runtime: "runc".into(),
            max_idle: std::time::Duration::from_secs(600),
            owner: "test".into(),
        };
        let body = container_body(langs.find("python").unwrap(), Step::Run, &settings);
        let hc = body.host_config.as_ref().unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.memory, hc.memory_swap, "swap must equal memory");
        assert_eq!(hc.memory, Some(256 * 1024 * 1024));
        assert_eq!(hc.cap_drop.as_deref(), Some(&["ALL".to_string()][..]));
        assert!(hc
            .security_opt
            .as_ref()
            .unwrap()
            .contains(&"no-new-privileges".to_string()));
        // Our own seccomp profile, on the run and (below) the compile step.
        assert!(hc
            .security_opt
            .as_ref()
            .unwrap()
            .contains(&crate::sandbox::seccomp::security_opt()));
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.pids_limit, Some(64));
        assert!(hc.runtime.is_none());
        assert_eq!(body.user.as_deref(), Some("10001:10001"));
        assert!(body.labels.as_ref().unwrap().contains_key(LABEL));
        let env = body.env.unwrap();
        assert!(env.iter().all(|e| !e.starts_with("PATH=") && !e.contains("SECRET")));

        let gvisor = SpecSettings {
            runtime: "runsc".into(),
            ..settings
        };
        let body = container_body(langs.find("c").unwrap(), Step::Compile, &gvisor);
        let hc = body.host_config.unwrap();
        assert_eq!(hc.runtime.as_deref(), Some("runsc"));
        assert!(hc
            .security_opt
            .unwrap()
            .contains(&crate::sandbox::seccomp::security_opt()));
        assert_eq!(hc.memory, Some(512 * 1024 * 1024));
    }
}
