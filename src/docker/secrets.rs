//! Docker secrets in a swarm: is the daemon a manager, which names are
//! taken, create a set of secrets all or none. Values go to the daemon's
//! request body only.

use std::collections::HashMap;

use base64::Engine as _;
use bollard::models::{LocalNodeState, SecretSpec};
use bollard::query_parameters::ListSecretsOptionsBuilder;

use super::{Daemon, fail, short, status};
use crate::error::{Error, Result};

/// Refuses unless the daemon is an active swarm manager (only managers
/// hold secrets).
pub async fn require_manager(daemon: &Daemon) -> Result<()> {
    let info = daemon.docker.info().await.map_err(|e| fail("asking the daemon whether it is a swarm manager", e))?;
    let swarm = info.swarm.unwrap_or_default();
    let state = swarm.local_node_state.map(|s| s.to_string()).unwrap_or_default();
    if swarm.local_node_state == Some(LocalNodeState::ACTIVE) && swarm.control_available == Some(true) {
        return Ok(());
    }
    let why = match state.as_str() {
        "active" => "this node is a swarm worker; secrets are created on a manager".to_string(),
        "" | "inactive" => "this daemon is not part of a swarm".to_string(),
        other => format!("this daemon's swarm state is `{other}`"),
    };
    Err(Error::Docker {
        action: "creating Docker secrets".into(),
        message: why,
        fix: "point DOCKER_HOST at a swarm manager (`docker node ls` works there), or run `docker swarm init` \
              on the machine meant to be one"
            .into(),
    })
}

/// The names in `names` that are already secrets in the swarm.
pub async fn existing(daemon: &Daemon, names: &[String]) -> Result<Vec<String>> {
    // The daemon's `name` filter matches prefixes too: compare exactly here.
    let filters = HashMap::from([("name".to_string(), names.to_vec())]);
    let opts = ListSecretsOptionsBuilder::default().filters(&filters).build();
    let secrets = daemon.docker.list_secrets(Some(opts)).await.map_err(|e| fail("listing Docker secrets", e))?;
    let mut taken: Vec<String> =
        secrets.into_iter().filter_map(|s| s.spec.and_then(|spec| spec.name)).filter(|n| names.contains(n)).collect();
    taken.sort();
    taken.dedup();
    Ok(taken)
}

/// Creates one secret; returns its ID.
pub async fn create(daemon: &Daemon, name: &str, value: &[u8], labels: HashMap<String, String>) -> Result<String> {
    let spec = SecretSpec {
        name: Some(name.to_string()),
        labels: Some(labels),
        data: Some(base64::engine::general_purpose::STANDARD.encode(value)),
        ..Default::default()
    };
    match daemon.docker.create_secret(spec).await {
        Ok(r) => Ok(r.id),
        Err(e) if status(&e) == Some(409) => Err(Error::Docker {
            action: format!("creating Docker secret {name}"),
            message: "a secret with that name exists (secrets are immutable in a swarm)".into(),
            fix: "see README: rotating a Docker secret".into(),
        }),
        Err(e) => Err(Error::Docker {
            action: format!("creating Docker secret {name}"),
            message: short(&e),
            fix: "see the daemon's message; `docker secret ls` shows what exists".into(),
        }),
    }
}

/// Removes a secret by ID or name; one already gone (or never made) is fine.
pub async fn remove(daemon: &Daemon, id_or_name: &str) -> std::result::Result<(), String> {
    match daemon.docker.delete_secret(id_or_name).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) => Err(short(&e)),
    }
}
