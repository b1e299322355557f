//! The reaper: removes sandbox containers nobody will use any more.
//!
//! Every container carries the `devmentor.sandbox` label and an expiry time (`devmentor.expires`)
//! past its longest possible wait and run. A container still there after that is an orphan of a
//! crashed process, whichever worker made it, so any worker may remove it safely, also while
//! other workers share the Docker host.

use super::spec::{LABEL, LABEL_EXPIRES};
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
        if !all && expires > now {
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
