//! Publishing: registry credentials, a pre-flight question to the registry
//! (does it have this tag? do the credentials work?) before anything is
//! built, and the push itself, whose manifest digest is read from the
//! daemon's status line.
//!
//! Credentials come from `WHITELABEL_REGISTRY_USER`/`_PASSWORD`, else from
//! the docker CLI's `config.json` (`auths`, `credsStore`, `credHelpers`,
//! through the helper binaries). They go to the daemon in its auth header
//! and nowhere else: never printed, never in a label or the context.

use std::fmt;

use bollard::auth::DockerCredentials;
use futures_util::StreamExt;

use super::{Daemon, short, status};
use crate::error::{Error, Result};
use crate::image_ref::ImageRef;
use crate::progress::Stage;

#[derive(Clone)]
pub struct Credentials {
    host: String,
    auth: Option<DockerCredentials>,
    /// Where they came from, for messages.
    pub source: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({} from {}, redacted)", self.host, self.source)
    }
}

/// The credentials for the registry of `repository`.
pub fn credentials(repository: &ImageRef) -> Result<Credentials> {
    let host = repository.registry().to_string();
    let user = std::env::var("WHITELABEL_REGISTRY_USER").ok().filter(|v| !v.is_empty());
    let password = std::env::var("WHITELABEL_REGISTRY_PASSWORD").ok().filter(|v| !v.is_empty());
    let with = |username: String, password: String| DockerCredentials {
        username: Some(username),
        password: Some(password),
        serveraddress: Some(host.clone()),
        ..Default::default()
    };
    match (user, password) {
        (Some(u), Some(p)) => {
            return Ok(Credentials {
                auth: Some(with(u, p)),
                source: "WHITELABEL_REGISTRY_USER/PASSWORD".into(),
                host,
            });
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::usage(
                "only one of WHITELABEL_REGISTRY_USER and WHITELABEL_REGISTRY_PASSWORD is set",
                "set both, or neither to use the docker login of this machine",
            ));
        }
        (None, None) => {}
    }
    let server = if host == "docker.io" { "https://index.docker.io/v1/".to_string() } else { host.clone() };
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    match docker_credential::get_credential(&server) {
        Ok(DockerCredential::UsernamePassword(u, p)) => {
            Ok(Credentials { auth: Some(with(u, p)), source: "docker config.json".into(), host })
        }
        Ok(DockerCredential::IdentityToken(t)) => Ok(Credentials {
            auth: Some(DockerCredentials {
                identitytoken: Some(t),
                serveraddress: Some(host.clone()),
                ..Default::default()
            }),
            source: "docker config.json (identity token)".into(),
            host,
        }),
        Err(E::NoCredentialConfigured | E::ConfigNotFound | E::ConfigReadError) => {
            Ok(Credentials { auth: None, source: "no credentials".into(), host })
        }
        // The helper's output is not repeated: it may hold a secret.
        Err(E::HelperFailure { helper, .. }) => Err(Error::Docker {
            action: format!("credential helper docker-credential-{helper} failed for {host}"),
            message: "it exited non-zero".into(),
            fix: format!("run `docker login {host}`, or set WHITELABEL_REGISTRY_USER/PASSWORD"),
        }),
        Err(e) => Err(Error::Docker {
            action: format!("reading the docker credentials for {host}"),
            message: e.to_string(),
            fix: "fix ~/.docker/config.json (or $DOCKER_CONFIG), or set WHITELABEL_REGISTRY_USER/PASSWORD".into(),
        }),
    }
}

/// Asks the registry (through the daemon) for `reference`: its manifest
/// digest when it exists, `None` when it does not. Wrong credentials and an
/// unreachable registry are errors, found before anything is built.
pub async fn preflight(daemon: &Daemon, reference: &str, creds: &Credentials) -> Result<Option<String>> {
    match daemon.docker.inspect_registry_image(reference, creds.auth.clone()).await {
        Ok(d) => Ok(d.descriptor.digest),
        Err(e) => {
            let msg = short(&e).to_ascii_lowercase();
            if status(&e) == Some(404) || msg.contains("manifest unknown") || msg.contains("not found") {
                Ok(None)
            } else {
                Err(registry_error(creds, &e))
            }
        }
    }
}

/// Pushes `reference`; returns the manifest digest the registry stored.
pub async fn push(daemon: &Daemon, reference: &ImageRef, creds: &Credentials, stage: &Stage<'_>) -> Result<String> {
    let opts = bollard::query_parameters::PushImageOptionsBuilder::default().tag(reference.tag_or_latest()).build();
    let mut stream = daemon.docker.push_image(reference.repository(), Some(opts), creds.auth.clone());
    let tag = reference.tag_or_latest();
    let mut digest = None;
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| registry_error(creds, &e))?;
        let Some(status) = info.status else { continue };
        if let Some(d) = status.split("digest: ").nth(1).and_then(|r| r.split_whitespace().next()) {
            digest = Some(d.to_string());
        }
        match info.progress_detail.and_then(|p| p.current.zip(p.total)) {
            Some((cur, total)) if total > 0 => stage.bytes(&format!("{tag}: {status}"), cur as u64, Some(total as u64)),
            _ => stage.message(format!("{tag}: {status}")),
        }
    }
    digest.ok_or_else(|| Error::Docker {
        action: format!("pushing {reference}"),
        message: "the daemon reported no manifest digest".into(),
        fix: "check the registry; `docker push` the tag by hand to see its answer".into(),
    })
}

/// A registry failure, told apart: refused credentials or no registry.
fn registry_error(creds: &Credentials, e: &bollard::errors::Error) -> Error {
    let message = short(e);
    let lower = message.to_ascii_lowercase();
    let host = &creds.host;
    if ["unauthorized", "authentication required", "denied", "no basic auth credentials", "401", "403"]
        .iter()
        .any(|w| lower.contains(w))
    {
        let action = match creds.auth {
            Some(_) => format!("registry {host} refused the credentials from {}", creds.source),
            None => format!("registry {host} wants credentials and none are configured"),
        };
        Error::Docker {
            action,
            message,
            fix: format!(
                "set WHITELABEL_REGISTRY_USER and WHITELABEL_REGISTRY_PASSWORD, or `docker login {host}`; nothing was pushed"
            ),
        }
    } else {
        Error::Docker {
            action: format!("cannot reach registry {host}"),
            message,
            fix: "check that the registry is up and that [image].repository (or --repository) names it; nothing was pushed"
                .into(),
        }
    }
}
