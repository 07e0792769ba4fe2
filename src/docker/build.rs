//! A Dockerfile build through the daemon's classic builder. The image is
//! built untagged and tagged by the caller only once the build succeeded,
//! so a failed or interrupted build leaves no tag on a half-built image.

use std::collections::HashMap;

use bollard::query_parameters::BuildImageOptionsBuilder;
use futures_util::StreamExt;

use super::{Daemon, short};
use crate::error::{Error, Result};
use crate::progress::Stage;

pub struct Build<'a> {
    pub context: Vec<u8>,
    pub build_args: HashMap<String, String>,
    pub platform: Option<&'a str>,
    pub no_cache: bool,
}

/// Builds the context; returns the new image ID.
pub async fn build(daemon: &Daemon, b: Build<'_>, stage: &Stage<'_>) -> Result<String> {
    let mut opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .rm(true)
        .forcerm(true)
        // Nothing in the build needs a network (and the base has no shell).
        .networkmode("none")
        .nocache(b.no_cache)
        .buildargs(&b.build_args);
    if let Some(p) = b.platform {
        opts = opts.platform(p);
    }
    let body = bollard::body_full(b.context.into());
    let mut stream = daemon.docker.build_image(opts.build(), None, Some(body));
    let mut id = None;
    let mut last = String::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(aux_id) = info.aux.as_ref().and_then(|a| a.id.clone()) {
                    id = Some(aux_id);
                }
                if let Some(line) = info.stream.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
                    stage.message(line.to_string());
                    last = line.to_string();
                }
            }
            Err(e) => {
                return Err(Error::Docker {
                    action: "the Docker build failed".into(),
                    message: short(&e),
                    fix: "nothing was tagged; fix the Dockerfile template (no RUN: the base has no shell) or the base image"
                        .into(),
                });
            }
        }
    }
    id.ok_or_else(|| Error::Docker {
        action: "the Docker build ended without an image".into(),
        message: if last.is_empty() { "no output".into() } else { last },
        fix: "see the daemon log; nothing was tagged".into(),
    })
}
