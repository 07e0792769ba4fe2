//! The Docker side: everything that talks to the daemon, through bollard.
//! Nothing here knows about brands or patches; it moves files and images.
//!
//! - [`base`]: find (or pull) the base image and describe it;
//! - [`extract`]: read paths out of an image through a never-started container;
//! - [`import`]: an extracted app tree as a base image (`--base-dir`);
//! - [`build`]: a Dockerfile build from a context tar;
//! - [`images`]: images by label (a brand's last build);
//! - [`load`]: load an assembled image archive;
//! - [`push`]: registry credentials, the pre-flight check and the push;
//! - [`secrets`]: Docker secrets on a swarm manager;
//! - [`entrypoint`]: the wrapper script the image runs (exports secrets from files).
//!
//! The daemon is reached as the docker CLI does it: `DOCKER_HOST`
//! (`unix://` or `tcp://`), else `/var/run/docker.sock`.

pub mod base;
pub mod build;
pub mod entrypoint;
pub mod extract;
pub mod images;
pub mod import;
pub mod load;
pub mod push;
pub mod secrets;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{RemoveContainerOptionsBuilder, TagImageOptionsBuilder};

use crate::error::{Error, Result};
use crate::image_ref::ImageRef;

/// Long enough for a push of a large layer over a slow link.
const TIMEOUT: Duration = Duration::from_secs(3600);
const PING_TIMEOUT: Duration = Duration::from_secs(15);

pub struct Daemon {
    pub docker: Docker,
}

impl Daemon {
    /// Connects and pings, so an unreachable daemon is one clear error now
    /// rather than a confusing one later.
    pub async fn connect() -> Result<Daemon> {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
        let unreachable = |why: String| Error::Docker {
            action: format!("cannot reach the Docker daemon at {host}"),
            message: why,
            fix: "start it (`dockerd`, or `systemctl start docker`) or point DOCKER_HOST at a running one".into(),
        };
        // A hung daemon should fail the ping in seconds, not in an hour.
        let mut docker =
            Docker::connect_with_host(&host).map_err(|e| unreachable(e.to_string()))?.with_timeout(PING_TIMEOUT);
        docker.ping().await.map_err(|e| unreachable(short(&e)))?;
        docker.set_timeout(TIMEOUT);
        Ok(Daemon { docker })
    }

    /// Points `reference` (`repo:tag`) at `image_id`.
    pub async fn tag(&self, image_id: &str, reference: &ImageRef) -> Result<()> {
        let opts =
            TagImageOptionsBuilder::default().repo(reference.repository()).tag(reference.tag_or_latest()).build();
        self.docker.tag_image(image_id, Some(opts)).await.map_err(|e| fail(&format!("tagging {reference}"), e))
    }

    /// The ID of the newest local image carrying `label=value`, if any.
    /// The newest image carrying `label=value`: its ID and labels.
    pub async fn find_labelled(
        &self,
        label: &str,
        value: &str,
    ) -> Result<Option<(String, std::collections::HashMap<String, String>)>> {
        let filters = std::collections::HashMap::from([("label".to_string(), vec![format!("{label}={value}")])]);
        let opts = bollard::query_parameters::ListImagesOptionsBuilder::default().filters(&filters).build();
        let mut images = self.docker.list_images(Some(opts)).await.map_err(|e| fail("listing images", e))?;
        images.sort_by_key(|i| std::cmp::Reverse(i.created));
        Ok(images.into_iter().next().map(|i| (i.id, i.labels)))
    }
}

/// A bollard error as the daemon said it, without the wrapper text.
pub fn short(e: &BollardError) -> String {
    match e {
        BollardError::DockerResponseServerError { message, .. } => message.trim().to_string(),
        BollardError::DockerStreamError { error } => error.trim().to_string(),
        BollardError::SocketNotFoundError(path) => format!("no socket at {path}"),
        BollardError::RequestTimeoutError => "the daemon did not answer in time".into(),
        other => {
            // hyper wraps the interesting part (connection refused, …) in sources.
            let mut msg = other.to_string();
            let mut src = std::error::Error::source(other);
            while let Some(s) = src {
                msg = format!("{msg}: {s}");
                src = s.source();
            }
            msg
        }
    }
}

/// HTTP status of a daemon answer, when it was one.
pub fn status(e: &BollardError) -> Option<u16> {
    match e {
        BollardError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// A daemon failure while doing `action`, with the generic fix.
pub fn fail(action: &str, e: BollardError) -> Error {
    let fix = match &e {
        BollardError::SocketNotFoundError(_)
        | BollardError::HyperResponseError { .. }
        | BollardError::IOError { .. } => "check that the Docker daemon is running (DOCKER_HOST)",
        _ => "see the daemon's message; `docker info` and the daemon log tell more",
    };
    Error::Docker { action: action.to_string(), message: short(&e), fix: fix.into() }
}

/// What this run created and must not leave behind: containers (removed
/// whatever happens: after success, after an error and after Ctrl-C) and
/// images being made (removed if they exist but never got a tag). The CLI
/// calls [`Cleanup::run`] last.
#[derive(Clone, Default)]
pub struct Cleanup {
    containers: Arc<Mutex<Vec<String>>>,
    images: Arc<Mutex<Vec<String>>>,
}

impl Cleanup {
    pub fn container(&self, id: &str) {
        self.containers.lock().expect("cleanup lock").push(id.to_string());
    }

    pub fn forget(&self, id: &str) {
        self.containers.lock().expect("cleanup lock").retain(|c| c != id);
    }

    /// Removes a container now (the normal path) and forgets it; left for
    /// [`Cleanup::run`] if that fails.
    pub async fn remove_container(&self, daemon: &Daemon, id: &str) {
        if remove_container(daemon, id).await.is_ok() {
            self.forget(id);
        }
    }

    /// An image about to be loaded or built: removed at the end unless tagged.
    pub fn image(&self, id: &str) {
        self.images.lock().expect("cleanup lock").push(id.to_string());
    }

    /// Removes what is left; returns what could not be removed.
    pub async fn run(&self, daemon: &Daemon) -> Vec<String> {
        let ids: Vec<String> = std::mem::take(&mut *self.containers.lock().expect("cleanup lock"));
        let mut left = Vec::new();
        for id in ids {
            if let Err(e) = remove_container(daemon, &id).await {
                left.push(format!("container {id}: {e}"));
            }
        }
        let images: Vec<String> = std::mem::take(&mut *self.images.lock().expect("cleanup lock"));
        for id in images {
            let untagged = match daemon.docker.inspect_image(&id).await {
                Ok(i) => i.repo_tags.unwrap_or_default().is_empty(),
                Err(_) => false,
            };
            if untagged
                && let Err(e) =
                    daemon.docker.remove_image(&id, None::<bollard::query_parameters::RemoveImageOptions>, None).await
            {
                left.push(format!("image {id}: {}", short(&e)));
            }
        }
        left
    }
}

/// Force-removes a container (and its volumes); one already gone is fine.
pub(crate) async fn remove_container(daemon: &Daemon, id: &str) -> std::result::Result<(), String> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).v(true).build();
    match daemon.docker.remove_container(id, Some(opts)).await {
        Ok(()) => Ok(()),
        Err(e) if status(&e) == Some(404) => Ok(()),
        Err(e) => Err(short(&e)),
    }
}
