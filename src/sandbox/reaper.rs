//! The reaper: removes sandbox containers nobody will use any more.
//!
//! Every container carries the `devmentor.sandbox` label and an expiry time (`devmentor.expires`)
//! past its longest possible wait and run. A container still there after that is an orphan of a
//! crashed process, whichever worker made it, so any worker may remove it safely, also while
//! other workers share the Docker host. Sooner than that, a container whose owner ran on this
//! host in a process that no longer exists is an orphan too (a worker killed with SIGKILL).

use super::spec::{LABEL, LABEL_EXPIRES, LABEL_OWNER};
use super::SandboxError;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use bollard::Docker;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

/// Removes expired sandbox containers; returns how many were removed.
pub async fn reap_orphans(docker: &Docker) -> Result<usize, SandboxError> {
    reap(docker, false).await
}

/// Removes every sandbox container, expired or not. For tests and `devmentor sandbox reap --all`
/// on a host where no worker runs.
pub async fn reap_all(docker: &Docker) -> Result<usize, SandboxError> {
    reap(docker, true).await
}

async fn reap(docker: &Docker, all: bool) -> Result<usize, SandboxError> {
    let filters = HashMap::from([("label".to_string(), vec![LABEL.to_string()])]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut removed = 0;
    for c in docker.list_containers(Some(opts)).await? {
        let expires = c
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_EXPIRES))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let owner = c
            .labels
            .as_ref()
            .and_then(|l| l.get(LABEL_OWNER))
            .map(String::as_str)
            .unwrap_or("");
        if !all && expires > now && !owner_is_dead(owner) {
            continue;
        }
        let Some(id) = c.id else { continue };
        let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
        match docker.remove_container(&id, Some(opts)).await {
            Ok(()) => removed += 1,
            Err(e) if super::container::is_not_found(&e) => {}
            Err(e) => {
                tracing::warn!(container = %id, error = %e, "reaper could not remove a container")
            }
        }
    }
    if removed > 0 {
        tracing::info!(removed, "reaped orphaned sandbox containers");
    }
    Ok(removed)
}

/// Owners are `host-pid-n` (see `Sandbox::connect`): dead when the host is this one and the
/// process is gone. A container of another host is never judged here.
fn owner_is_dead(owner: &str) -> bool {
    let mut parts = owner.rsplitn(3, '-');
    let (Some(_n), Some(pid), Some(host)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<u32>() else { return false };
    let this_host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    host == this_host.trim() && pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::owner_is_dead;

    #[test]
    fn only_dead_local_owners_are_orphans() {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host = host.trim();
        assert!(
            !owner_is_dead(&format!("{host}-{}-0", std::process::id())),
            "this process is alive"
        );
        assert!(owner_is_dead(&format!("{host}-{}-3", u32::MAX - 7)), "no such process");
        assert!(
            !owner_is_dead(&format!("other-host-{}-0", u32::MAX - 7)),
            "another host's is not ours to judge"
        );
        assert!(!owner_is_dead("garbage"));
    }
}
